"""A lock held for as long as a process runs something that must not run twice at once
on one database (training). It dies with its holder: a Postgres session advisory lock
(released when the connection closes) or, on SQLite, an flock on a file beside the
database (released when the process exits), so a killed run never blocks the next.

Dying with its holder cuts both ways: a Postgres lock also dies when only its
connection does (a terminated backend, a restarted server, a dropped network), while
the process runs on and a second run takes the lock. So holding it at the start proves
nothing at the end: what must not happen twice (publishing) runs in a transaction that
first proves the lock is still held (`HeldLock.transaction`), and a run that lost it
publishes nothing and says so (LockLost)."""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from models.store import Store, sqlite_file

log = logging.getLogger(__name__)


class LockLost(RuntimeError):
    """The lock ended while its holder still ran; the message is one line for users."""


# The advisory lock of one bigint key shows in pg_locks as classid = the key's high 32
# bits (0 for a crc32), objid = its low 32 bits, objsubid = 1.
_PG_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 "
    "AND objid::bigint = :k AND objsubid = 1 AND pid = pg_backend_pid() AND granted"
)


class HeldLock:
    """What `exclusive` yields: true while this caller holds the lock. `transaction`
    is the way to do what needs the lock still held at its end."""

    def __init__(
        self,
        name: str,
        held: bool,
        *,
        conn: Connection | None = None,
        key: int = 0,
        path: str | None = None,
        fh: IO[bytes] | None = None,
    ) -> None:
        self.name, self.held = name, held
        self._conn, self._key, self._path, self._fh = conn, key, path, fh

    def __bool__(self) -> bool:
        return self.held

    def still_held(self) -> bool:
        """Whether the lock is still this holder's. Postgres: asked on the lock's own
        connection (a dead one, or a new one after a reconnect, does not hold it).
        SQLite: the lock file is still the one flocked (not deleted or replaced)."""
        if not self.held:
            return False
        if self._conn is not None:
            try:
                n = self._conn.execute(_PG_HELD, {"k": self._key}).scalar()
                self._conn.commit()
            except DBAPIError:
                return False
            return bool(n)
        if self._fh is not None and self._path is not None:
            try:
                return os.fstat(self._fh.fileno()).st_ino == os.stat(self._path).st_ino
            except OSError:
                return False
        return True  # in-memory SQLite: one process only

    def lost(self) -> LockLost:
        how = (
            "its database connection ended"
            if self._conn is not None
            else "its lock file was removed or replaced"
        )
        return LockLost(
            f"this run lost the {self.name} lock ({how}) and another run may hold it "
            "now; nothing was published by this run"
        )

    @contextmanager
    def transaction(self, sessions: sessionmaker[Session]) -> Iterator[Session]:
        """A session in one transaction that commits only while this lock is held:
        LockLost (nothing written) otherwise. On Postgres it runs on the lock's own
        connection, so the check and the commit share the connection whose end would
        release the lock: if that connection dies before the commit, nothing commits."""
        if self._conn is None:
            if not self.still_held():
                raise self.lost()
            with sessions.begin() as session:
                yield session
            return
        if self._conn.in_transaction():  # the session must own (and commit) its transaction
            self._conn.rollback()
        try:
            with Session(bind=self._conn, expire_on_commit=False) as session, session.begin():
                n = session.execute(_PG_HELD, {"k": self._key}).scalar()
                if not n:
                    raise self.lost()
                yield session
        except DBAPIError as err:
            if err.connection_invalidated or self._conn.invalidated:
                raise self.lost() from err
            raise


@contextmanager
def exclusive(store: Store, name: str) -> Iterator[HeldLock]:
    """Yields a HeldLock, true while this caller holds `name` on the store's database,
    false (at once, without waiting) when someone else holds it."""
    if store.engine.dialect.name == "postgresql":
        key = zlib.crc32(f"scout:{name}".encode())
        with store.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield HeldLock(name, got, conn=conn, key=key)
            finally:
                if got:
                    _pg_unlock(conn, key)
        return
    path = sqlite_file(store.url)
    if path is None:  # in-memory: one process only
        yield HeldLock(name, True)
        return
    lock_path = f"{path}.{name}.lock"
    with open(lock_path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield HeldLock(name, False)
            return
        try:
            yield HeldLock(name, True, path=lock_path, fh=fh)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pg_unlock(conn: Connection, key: int) -> None:
    """Release the advisory lock; a connection that died took it along already, and
    failing here must not hide what the holder raised or returned."""
    try:
        if conn.in_transaction():
            conn.rollback()
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        conn.commit()
    except DBAPIError as err:
        log.warning("the lock's connection had already ended (%s)", str(err).splitlines()[0])
