"""Running a whole write transaction again when the database aborted it only because
another writer was in the way: a Postgres deadlock or serialization failure, or SQLite
still locked after its busy timeout. Such a transaction was rolled back whole, so running
it again from the start is safe, and it usually succeeds once the other writer is done.
Any other error (bad data, a full disk, a missing table) is raised at once: repeating
it would only repeat the failure."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 6  # 1 run and 5 retries; the pauses add up to ~3 s at most
FIRST_PAUSE_S = 0.1

# SQLSTATEs: deadlock_detected, serialization_failure
_PG_TRANSIENT = {"40P01", "40001"}
_SQLITE_TRANSIENT = ("database is locked", "database table is locked")


def driver_error(err: BaseException) -> BaseException:
    """The DB-API driver's own exception behind `err` (SQLAlchemy wraps it in `orig`;
    statements sent on the raw driver connection, such as COPY, raise it bare)."""
    orig = getattr(err, "orig", None)
    return orig if isinstance(orig, BaseException) else err


def is_transient(err: BaseException) -> bool:
    """Whether `err` only says another transaction was in the way (see the module)."""
    orig = driver_error(err)
    if getattr(orig, "sqlstate", None) in _PG_TRANSIENT:
        return True
    name = getattr(orig, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    return type(orig).__module__ == "sqlite3" and str(orig).lower().startswith(_SQLITE_TRANSIENT)


def in_transaction(
    store,
    work: Callable[[Session], T],
    *,
    what: str = "write",
    attempts: int = ATTEMPTS,
    first_pause_s: float = FIRST_PAUSE_S,
) -> T:
    """`work(session)` in one transaction of `store` (a models.store.Store), committed
    when it returns; run again from the start, after a growing pause with jitter (so
    writers that collided do not collide again in step), while the database aborts it
    as transient, at most `attempts` times in all. `work` must be safe to repeat: it
    must not keep anything from an attempt that was rolled back."""
    for attempt in range(1, attempts + 1):
        try:
            with store.session() as session:
                return work(session)
        except Exception as err:
            if attempt == attempts or not is_transient(err):
                raise
            pause = first_pause_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.5)
            first = str(driver_error(err)).strip().splitlines()[0:1] or [type(err).__name__]
            log.warning(
                "%s aborted by the database (%s); retry %d of %d in %.2f s",
                what,
                first[0],
                attempt,
                attempts - 1,
                pause,
            )
            time.sleep(pause)
    raise AssertionError("unreachable")  # the loop returns or raises
