"""A lock held for as long as a process runs something that must not run twice at once
on one database (training). It dies with its holder: a Postgres session advisory lock
(released when the connection closes) or, on SQLite, an flock on a file beside the
database (released when the process exits), so a killed run never blocks the next."""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from models.store import Store, sqlite_file


@contextmanager
def exclusive(store: Store, name: str) -> Iterator[bool]:
    """Yields True while this caller holds `name` on the store's database, False (at
    once, without waiting) when someone else holds it."""
    if store.engine.dialect.name == "postgresql":
        key = zlib.crc32(f"scout:{name}".encode())
        with store.engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    path = sqlite_file(store.url)
    if path is None:  # in-memory: one process only
        yield True
        return
    with open(f"{path}.{name}.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
