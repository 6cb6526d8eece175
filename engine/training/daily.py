"""The daily retrain, as the clock process runs it: once per UTC day at `at` (HH:MM,
Settings.train_at, env SCOUT_TRAIN_AT, default 04:00), claimed in the database so overlapping or
restarted clocks train exactly once; a run that crashed is retried."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from engine.core.errors import BadQuery
from engine.training.pipeline import TrainReport, run_training

JOB = "train"


def parse_hhmm(text: str) -> time:
    try:
        hh, mm = text.strip().split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise BadQuery(f"expected a time as HH:MM (24-hour), got {text!r}") from None


def train_if_due(
    store,
    now: datetime | None = None,
    at: str = "04:00",
    stale_after: timedelta = timedelta(hours=3),
    log=None,
    before=None,
    **train_kwargs,
) -> TrainReport | None:
    """Run today's training if its time has come and no other clock has it; returns
    the report, or None when nothing was due. `before` (the clock's data sync) runs
    once the day is claimed, so overlapping clocks sync once too; it must not raise."""
    from models import jobs

    now = now or datetime.now(UTC).replace(tzinfo=None)
    due = parse_hhmm(at)
    if now.time() < due:
        return None
    if not jobs.claim(store, JOB, now.date(), now, stale_after):
        return None
    if before is not None:
        before()
    try:
        report = run_training(store, log=log, **train_kwargs)
    except Exception as err:
        jobs.finish(
            store,
            JOB,
            now.date(),
            "failed",
            f"{type(err).__name__}: {err}",
            datetime.now(UTC).replace(tzinfo=None),
        )
        raise
    jobs.finish(
        store,
        JOB,
        now.date(),
        "done" if report.ok else "failed",
        report.table(),
        datetime.now(UTC).replace(tzinfo=None),
    )
    return report
