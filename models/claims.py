"""Claim-or-steal: a unique row is the lock for work that must happen once (a day's
retrain, a channel's digest for a local date). The insert that wins does the work; a row
left behind by a process that died (still claimed after `stale_after`) or by a failure
may be taken over by exactly one later caller."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from models.store import Store


def claim(store: Store, new_row: Any, retake: Any) -> bool:
    """True for exactly one caller: the one whose `new_row` insert wins, or, when the row
    exists, the one whose `retake` (an UPDATE whose WHERE picks only a stale or failed
    claim) changes exactly one row."""
    try:
        with store.session() as s:
            s.add(new_row)
        return True
    except IntegrityError:
        pass
    with store.session() as s:
        return s.execute(retake).rowcount == 1
