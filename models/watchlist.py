"""The watchlist and each data source's standing between syncs. The sync fetches each
(platform, handle) once, however many workspaces watch it, so the per-creator times
(`last_synced_at`, `next_due_at`, status) are written to every workspace's row of that
creator together. Times are naive UTC, as every other table here keeps them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from models.schema import SourceState, WatchedCreator

ACTIVE = "active"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class WatchEntry:
    team_id: str
    platform: str
    handle: str
    origin: str
    status: str
    reason: str | None
    added_by: str | None
    added_at: datetime
    last_synced_at: datetime | None
    next_due_at: datetime | None


def add(
    session: Session,
    team_id: str,
    platform: str,
    handle: str,
    *,
    now: datetime,
    added_by: str | None = None,
    origin: str = "manual",
) -> bool:
    """Watch `handle`; False (and nothing changed) when this team already watches it.
    A creator another team already syncs starts with that team's times, so adding it
    does not make it due again."""
    key = (WatchedCreator.platform == platform, WatchedCreator.handle == handle)
    if session.scalar(select(WatchedCreator.id).where(WatchedCreator.team_id == team_id, *key)):
        return False
    known = session.execute(
        select(WatchedCreator.last_synced_at, WatchedCreator.next_due_at).where(*key).limit(1)
    ).first()
    session.add(
        WatchedCreator(
            team_id=team_id,
            platform=platform,
            handle=handle,
            added_by=added_by,
            origin=origin,
            status=ACTIVE,
            added_at=now,
            last_synced_at=known[0] if known else None,
            next_due_at=known[1] if known else None,
        )
    )
    session.flush()
    return True


def remove(session: Session, team_id: str, handle: str, platform: str | None = None) -> int:
    """How many rows went (one per platform the team watched `handle` on)."""
    stmt = delete(WatchedCreator).where(
        WatchedCreator.team_id == team_id, WatchedCreator.handle == handle
    )
    if platform:
        stmt = stmt.where(WatchedCreator.platform == platform)
    return session.execute(stmt).rowcount or 0


def entries(session: Session, team_id: str | None = None) -> list[WatchEntry]:
    """A team's watchlist (every team's when None), oldest first."""
    stmt = select(WatchedCreator).order_by(WatchedCreator.added_at, WatchedCreator.id)
    if team_id is not None:
        stmt = stmt.where(WatchedCreator.team_id == team_id)
    return [_entry(row) for row in session.scalars(stmt)]


def _entry(row: WatchedCreator) -> WatchEntry:
    return WatchEntry(
        row.team_id,
        row.platform,
        row.handle,
        row.origin,
        row.status,
        row.reason,
        row.added_by,
        row.added_at,
        row.last_synced_at,
        row.next_due_at,
    )


def due(session: Session, platform: str, now: datetime, *, everything: bool = False) -> list[str]:
    """The handles of `platform` due at `now`, never synced first, then the longest
    waiting (what "oldest first" means for a daily refresh)."""
    due_at = func.min(func.coalesce(WatchedCreator.next_due_at, datetime(1970, 1, 1)))
    stmt = (
        select(WatchedCreator.handle)
        .where(WatchedCreator.platform == platform)
        .group_by(WatchedCreator.handle)
        .order_by(due_at, func.min(WatchedCreator.id))
    )
    if not everything:
        stmt = stmt.having(due_at <= now)
    return list(session.scalars(stmt))


def count_due(session: Session, platform: str, now: datetime) -> int:
    stmt = select(func.count(func.distinct(WatchedCreator.handle))).where(
        WatchedCreator.platform == platform,
        or_(WatchedCreator.next_due_at.is_(None), WatchedCreator.next_due_at <= now),
    )
    return session.scalar(stmt) or 0


def watched(session: Session, platform: str, handles: Iterable[str]) -> set[str]:
    """Which of `handles` some team already watches on `platform`."""
    wanted = sorted(set(handles))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        found.update(
            session.scalars(
                select(WatchedCreator.handle).where(
                    WatchedCreator.platform == platform,
                    WatchedCreator.handle.in_(wanted[i : i + 500]),
                )
            )
        )
    return found


def teams_watching(session: Session, platform: str, handle: str) -> list[str]:
    stmt = select(WatchedCreator.team_id).where(
        WatchedCreator.platform == platform, WatchedCreator.handle == handle
    )
    return sorted(set(session.scalars(stmt)))


def mark(
    session: Session,
    platform: str,
    handle: str,
    *,
    next_due_at: datetime,
    synced_at: datetime | None = None,
    status: str = ACTIVE,
    reason: str | None = None,
) -> None:
    """Record one sync of a creator on every team's row of it."""
    values: dict[str, Any] = {"next_due_at": next_due_at, "status": status, "reason": reason}
    if synced_at is not None:
        values["last_synced_at"] = synced_at
    session.execute(
        update(WatchedCreator)
        .where(WatchedCreator.platform == platform, WatchedCreator.handle == handle)
        .values(**values)
    )


def discovered_since(session: Session, since: datetime) -> int:
    """Candidates discovery added since `since` (the daily budget counts these)."""
    stmt = select(func.count()).where(
        WatchedCreator.origin != "manual", WatchedCreator.added_at >= since
    )
    return session.scalar(stmt) or 0


# --------------------------------------------------------------- source state
@dataclass
class SourceStanding:
    """A source's row as the sync reads and rewrites it."""

    source: str
    token_state: str = "unknown"  # ok | invalid | missing | unknown
    token_message: str | None = None
    day: date | None = None
    calls_today: int = 0
    quota_used: int = 0
    errors: dict[str, int] | None = None
    counters: dict[str, Any] | None = None
    last_sync_started_at: datetime | None = None
    last_sync_finished_at: datetime | None = None


_STATE_FIELDS = tuple(f for f in SourceStanding.__dataclass_fields__ if f != "source")


def load_state(session: Session, source: str) -> SourceStanding:
    row = session.get(SourceState, source)
    if row is None:
        return SourceStanding(source)
    return SourceStanding(source, **{f: getattr(row, f) for f in _STATE_FIELDS})


def save_state(session: Session, state: SourceStanding) -> None:
    row = session.get(SourceState, state.source)
    if row is None:
        row = SourceState(source=state.source)
        session.add(row)
    for f in _STATE_FIELDS:
        value = getattr(state, f)
        setattr(row, f, dict(value) if isinstance(value, dict) else value)
    session.flush()


def all_states(session: Session) -> list[SourceStanding]:
    names = session.scalars(select(SourceState.source).order_by(SourceState.source))
    return [load_state(session, n) for n in list(names)]
