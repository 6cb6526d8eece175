"""Shortlists (issue 26): named lists of creators per workspace, their members with who
added each and why, and each person's current list (where 'Add to list' adds).

Every read and write names the team: a list is found by (team, name) or by an id read
back under that team, so a request from another workspace never sees a list, even one
of the same name. Names match case-insensitively as typed (`Summer` finds `summer`).
Times are naive UTC, as every other table keeps them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.schema import Shortlist, ShortlistCurrent, ShortlistMember
from models.store import Store

MAX_NAME = 80


@dataclass(frozen=True)
class Member:
    handle: str
    platform: str | None
    added_by: str | None
    reason: str | None
    added_at: datetime
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ListInfo:
    """A list as `/list` and the App Home show it (members oldest first)."""

    id: int
    team_id: str
    name: str
    created_by: str | None
    created_at: datetime
    members: list[Member] = field(default_factory=list)


def _find(s: Session, team_id: str, name: str) -> Shortlist | None:
    return s.scalars(
        select(Shortlist).where(
            Shortlist.team_id == team_id, func.lower(Shortlist.name) == name.strip().lower()
        )
    ).first()


def _info(s: Session, row: Shortlist) -> ListInfo:
    members = s.scalars(
        select(ShortlistMember)
        .where(ShortlistMember.list_id == row.id)
        .order_by(ShortlistMember.added_at, ShortlistMember.id)
    )
    return ListInfo(
        row.id,
        row.team_id,
        row.name,
        row.created_by,
        row.created_at,
        [
            Member(m.handle, m.platform, m.added_by, m.reason, m.added_at, dict(m.facts or {}))
            for m in members
        ],
    )


def _make_current(s: Session, team_id: str, user_id: str | None, list_id: int) -> None:
    if not user_id:
        return
    row = s.get(ShortlistCurrent, (team_id, user_id))
    if row is None:
        s.add(ShortlistCurrent(team_id=team_id, user_id=user_id, list_id=list_id))
    else:
        row.list_id = list_id
    s.flush()


class Shortlists:
    """The SQL of shortlists; engine.workspace_ops.WorkspaceOps is its only caller."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self, team_id: str, name: str, user_id: str | None, now: datetime
    ) -> tuple[ListInfo, bool]:
        """The team's list `name` (made now if it did not exist: True), which becomes the
        creator's current list either way."""
        with self.store.session() as s:
            row = _find(s, team_id, name)
            created = row is None
            if row is None:
                row = Shortlist(
                    team_id=team_id,
                    name=name.strip()[:MAX_NAME],
                    created_by=user_id,
                    created_at=now,
                )
                s.add(row)
                s.flush()
            _make_current(s, team_id, user_id, row.id)
            return _info(s, row), created

    def get(self, team_id: str, name: str, user_id: str | None = None) -> ListInfo | None:
        """The team's list `name` with its members (and, with `user_id`, now that
        person's current list), or None."""
        with self.store.session() as s:
            row = _find(s, team_id, name)
            if row is None:
                return None
            _make_current(s, team_id, user_id, row.id)
            return _info(s, row)

    def current(self, team_id: str, user_id: str) -> ListInfo | None:
        with self.store.session() as s:
            cur = s.get(ShortlistCurrent, (team_id, user_id))
            row = s.get(Shortlist, cur.list_id) if cur is not None else None
            if row is None or row.team_id != team_id:
                return None
            return _info(s, row)

    def lists(self, team_id: str) -> list[ListInfo]:
        """The team's lists, newest first."""
        with self.store.session() as s:
            rows = s.scalars(
                select(Shortlist)
                .where(Shortlist.team_id == team_id)
                .order_by(Shortlist.created_at.desc(), Shortlist.id.desc())
            )
            return [_info(s, r) for r in list(rows)]

    def add(
        self,
        team_id: str,
        name: str,
        handle: str,
        *,
        now: datetime,
        added_by: str | None = None,
        reason: str | None = None,
        platform: str | None = None,
        facts: dict[str, Any] | None = None,
    ) -> bool | None:
        """Put `handle` on the team's list `name`: True added, False already there
        (nothing changed), None no such list."""
        with self.store.session() as s:
            row = _find(s, team_id, name)
            if row is None:
                return None
            taken = s.scalar(
                select(ShortlistMember.id).where(
                    ShortlistMember.list_id == row.id, ShortlistMember.handle == handle
                )
            )
            if taken:
                return False
            s.add(
                ShortlistMember(
                    list_id=row.id,
                    handle=handle,
                    platform=platform,
                    added_by=added_by,
                    reason=reason,
                    facts=dict(facts or {}) or None,
                    added_at=now,
                )
            )
            s.flush()
            return True

    def remove(self, team_id: str, name: str, handle: str) -> bool | None:
        """Take `handle` off the list: True removed, False it was not on it, None no
        such list."""
        with self.store.session() as s:
            row = _find(s, team_id, name)
            if row is None:
                return None
            gone = s.execute(
                delete(ShortlistMember).where(
                    ShortlistMember.list_id == row.id,
                    func.lower(ShortlistMember.handle) == handle.lower(),
                )
            ).rowcount
            return bool(gone)
