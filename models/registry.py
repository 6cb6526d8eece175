"""The artifact registry: versioned model payloads in the database, so every process
(web, socket, console, clock) reads the same model. Publishing several kinds is one
transaction, and readers only ever see rows of status 'published'."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from models.schema import Artifact

PUBLISHED = "published"
REJECTED = "rejected"
FAILED = "failed"  # a training that crashed: no payload, the reason; never served
SKIPPED = "skipped"  # a kind the data cannot train (no reels...): no payload, the reason


@dataclass
class NewArtifact:
    kind: str
    payload: bytes
    params: dict[str, Any]
    metrics: dict[str, Any]
    fingerprint: str
    summary: str = ""


@dataclass(frozen=True)
class ArtifactInfo:
    """A registry row without its payload (listing must not read megabytes)."""

    kind: str
    version: int
    status: str
    created_at: datetime
    params: dict[str, Any] | None
    metrics: dict[str, Any] | None
    fingerprint: str | None
    summary: str | None
    reason: str | None
    size_bytes: int


@dataclass(frozen=True)
class StoredArtifact(ArtifactInfo):
    payload: bytes = b""


def _info(row: Artifact) -> ArtifactInfo:
    return ArtifactInfo(
        row.kind,
        row.version,
        row.status,
        row.created_at,
        row.params,
        row.metrics,
        row.fingerprint,
        row.summary,
        row.reason,
        row.size_bytes,
    )


class PublishGuard(Protocol):
    """What must still hold when a publish commits (models.locks.HeldLock: the
    training lock). Its transaction raises, and nothing is written, when it no longer
    holds."""

    def transaction(self, sessions: sessionmaker[Session]) -> AbstractContextManager[Session]: ...


_PARALLEL_BYTES = 32 * 2**20  # payloads above this are fetched in parallel slices
_SLICES = 4


def _payload(session: Session, artifact_id: int) -> bytes:
    """Postgres sends bytea as hex text unless asked for binary (2.6x slower), and one
    backend reassembles a large value from its TOAST chunks alone: a 200k-creator
    lookalike model (~220 MB) took 1.2-1.6 s to fetch that way, most of the 2 s that
    hot reload may spend. Large payloads are therefore read as slices over several
    connections at once; artifact rows never change after publishing, so the slices
    always belong to the same value."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return session.scalar(select(Artifact.payload).where(Artifact.id == artifact_id))
    size = session.scalar(
        select(func.octet_length(Artifact.payload)).where(Artifact.id == artifact_id)
    )
    if size is None:
        raise LookupError(f"artifact {artifact_id} has no payload")
    if size < _PARALLEL_BYTES:
        return _pg_slice(conn, artifact_id, 0, size)
    step = -(-size // _SLICES)
    engine = conn.engine

    def fetch(start: int) -> bytes:
        with engine.connect() as c:
            return _pg_slice(c, artifact_id, start, min(step, size - start))

    with ThreadPoolExecutor(_SLICES) as pool:
        parts = list(pool.map(fetch, range(0, size, step)))
    return b"".join(parts)


def _pg_slice(conn, artifact_id: int, start: int, length: int) -> bytes:
    with conn.connection.driver_connection.cursor(binary=True) as cur:
        cur.execute(
            "SELECT substring(payload FROM %s FOR %s) FROM artifacts WHERE id = %s",
            [start + 1, length, artifact_id],
        )
        row = cur.fetchone()
    if row is None or len(row[0]) != length:
        raise LookupError(f"artifact {artifact_id} changed or vanished while being read")
    return bytes(row[0])


class Registry:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # ------------------------------------------------------------- reading
    def latest_version(self, kind: str) -> int | None:
        with self._sessions() as s:
            return s.scalar(
                select(func.max(Artifact.version)).where(
                    Artifact.kind == kind, Artifact.status == PUBLISHED
                )
            )

    def latest_info(self, kind: str) -> ArtifactInfo | None:
        with self._sessions() as s:
            row = s.scalars(
                select(Artifact)
                .where(Artifact.kind == kind, Artifact.status == PUBLISHED)
                .order_by(Artifact.version.desc())
                .limit(1)
            ).first()
            return _info(row) if row else None

    def latest_all(self) -> list[ArtifactInfo]:
        with self._sessions() as s:
            newest = (
                select(Artifact.kind, func.max(Artifact.version).label("v"))
                .where(Artifact.status == PUBLISHED)
                .group_by(Artifact.kind)
                .subquery()
            )
            rows = s.scalars(
                select(Artifact)
                .join(newest, (Artifact.kind == newest.c.kind) & (Artifact.version == newest.c.v))
                .order_by(Artifact.kind)
            ).all()
            return [_info(r) for r in rows]

    def list(self, kind: str | None = None) -> list[ArtifactInfo]:
        with self._sessions() as s:
            q = select(Artifact).order_by(Artifact.kind, Artifact.version.desc())
            if kind:
                q = q.where(Artifact.kind == kind)
            return [_info(r) for r in s.scalars(q).all()]

    def get(self, kind: str, version: int) -> StoredArtifact:
        with self._sessions() as s:
            row = s.scalars(
                select(Artifact).where(Artifact.kind == kind, Artifact.version == version)
            ).first()
            if row is None:
                raise LookupError(f"no artifact {kind} v{version}")
            info = _info(row)
            return StoredArtifact(**info.__dict__, payload=_payload(s, row.id))

    # ------------------------------------------------------------- writing
    def publish(
        self,
        items: list[NewArtifact],
        *,
        run_id: str | None = None,
        status: str = PUBLISHED,
        reasons: dict[str, str] | None = None,
        guard: PublishGuard | None = None,
    ) -> dict[str, int]:
        """Write all items in ONE transaction; returns kind -> new version. A crash
        before commit leaves every reader on the previous complete set. With `guard`
        the transaction is the guard's, which commits only while it holds."""
        versions: dict[str, int] = {}
        begin = guard.transaction(self._sessions) if guard else self._sessions.begin()
        with begin as s:
            for item in items:
                current = (
                    s.scalar(select(func.max(Artifact.version)).where(Artifact.kind == item.kind))
                    or 0
                )
                version = current + 1
                s.add(
                    Artifact(
                        kind=item.kind,
                        version=version,
                        status=status,
                        params=item.params,
                        metrics=item.metrics,
                        fingerprint=item.fingerprint,
                        summary=item.summary,
                        reason=(reasons or {}).get(item.kind),
                        run_id=run_id,
                        size_bytes=len(item.payload),
                        payload=item.payload,
                    )
                )
                versions[item.kind] = version
                s.flush()
        return versions

    def rollback(self, kind: str, version: int, pin: str | None = None) -> int:
        """Make an older version current again by republishing its payload as a new
        version: versions only grow, so every serving process notices the change the
        same way it notices a retrain, and history stays auditable. `pin` (the training
        fingerprint of the data as it is now) makes the next training on unchanged data
        keep this version instead of replacing it; new data or --force retrains."""
        old = self.get(kind, version)
        if old.status in (FAILED, SKIPPED):
            raise ValueError(
                f"{kind} v{version} is a {old.status} training (no model); nothing to serve"
            )
        current = self.latest_info(kind)
        if current is not None and version in (
            current.version,
            (current.params or {}).get("rollback_of"),
        ):
            raise ValueError(
                f"{kind} v{version} is already the model being served (v{current.version}); "
                "nothing to roll back"
            )
        params = dict(old.params or {})
        params["rollback_of"] = version
        return self.publish(
            [
                NewArtifact(
                    kind,
                    old.payload,
                    params,
                    dict(old.metrics or {}),
                    pin or old.fingerprint or "",
                    f"rollback to v{version}",
                )
            ]
        )[kind]

    def prune(self, keep: int) -> int:
        """Keep the newest `keep` published versions of each kind and, counted apart, the
        newest `keep` rejected ones. Rejected runs must not push published versions out:
        five rejected trainings in a row would otherwise delete the model being served
        and leave rollback nothing to go back to. The current (newest published) version
        is never removed, whatever `keep` says."""
        removed = 0
        with self._sessions.begin() as s:
            for kind in s.scalars(select(Artifact.kind).distinct()).all():
                rows = s.execute(
                    select(Artifact.version, Artifact.status)
                    .where(Artifact.kind == kind)
                    .order_by(Artifact.version.desc())
                ).all()
                published = [v for v, status in rows if status == PUBLISHED]
                kept = set(published[: max(keep, 1)])  # the current version always stays
                kept |= set([v for v, status in rows if status != PUBLISHED][: max(keep, 0)])
                stale = [v for v, _ in rows if v not in kept]
                if stale:
                    removed += s.execute(
                        delete(Artifact).where(Artifact.kind == kind, Artifact.version.in_(stale))
                    ).rowcount
        return removed
