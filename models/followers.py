"""The follower samples behind the trust card's audience part: written by
`python -m engine import followers FILE`, read whole by the facade when it builds a card.

The store keeps what the file said (counts, flags, the bio's length, never the bio
itself: only its length is read, and a follower's words are not Scout's to keep)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.schema import FollowerSample

SAMPLE_FIELDS = (
    "followers",
    "following",
    "posts",
    "has_profile_pic",
    "is_private",
    "bio_length",
)
_KEYS_PER_QUERY = 400  # (handle, follower) pairs per IN: SQLite's bound-parameter limit


def upsert_samples(session: Session, records: list[dict[str, Any]]) -> int:
    """Insert new (creator, follower) rows and update known ones in place; returns how
    many were new. The caller owns the transaction (one per file)."""
    if not records:
        return 0
    keys = sorted({(r["handle"], r["follower"]) for r in records})
    stored = 0
    for i in range(0, len(keys), _KEYS_PER_QUERY):
        part = keys[i : i + _KEYS_PER_QUERY]
        stored += (
            session.scalar(
                select(func.count()).where(
                    tuple_(FollowerSample.handle, FollowerSample.follower).in_(part)
                )
            )
            or 0
        )
    stmt = _insert(session)
    stmt = stmt.on_conflict_do_update(
        index_elements=["handle", "follower"],
        set_={**{c: stmt.excluded[c] for c in SAMPLE_FIELDS}, "imported_at": func.now()},
    )
    rows = [
        {"handle": r["handle"], "follower": r["follower"], **{c: r[c] for c in SAMPLE_FIELDS}}
        for r in sorted(records, key=lambda r: (r["handle"], r["follower"]))
    ]
    session.connection().execute(stmt, rows)
    return len(keys) - stored


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    table = FollowerSample.__table__
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"follower samples support SQLite and PostgreSQL, not {dialect}")


def sample_rows(session: Session, handles: list[str] | None = None) -> list[dict[str, Any]]:
    """Every sampled follower (of `handles`, or of everyone) as plain dicts with the
    import columns (`handle` = the creator)."""
    query = select(FollowerSample).order_by(FollowerSample.handle, FollowerSample.follower)
    if handles is not None:
        query = query.where(FollowerSample.handle.in_(handles))
    return [
        {
            "handle": s.handle,
            "follower": s.follower,
            **{c: getattr(s, c) for c in SAMPLE_FIELDS},
        }
        for s in session.scalars(query)
    ]


def sample_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FollowerSample)) or 0
