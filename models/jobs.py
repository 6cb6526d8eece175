"""Claims for once-a-day jobs. The unique (job, run_date) row is the lock: the insert
that wins runs the job; a run that died (its row still 'running' after `stale_after`)
or failed may be claimed again the same day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, update

from models import claims
from models.schema import JobRun
from models.store import Store


def _claim_row(store: Store, job: str, run_date: date, now: datetime, retakable) -> bool:
    """Insert the (job, run_date) row as 'running', or take over the existing one
    where `retakable` holds."""
    return claims.claim(
        store,
        JobRun(job=job, run_date=run_date, status="running", started_at=now),
        update(JobRun)
        .where(JobRun.job == job, JobRun.run_date == run_date, retakable)
        .values(status="running", started_at=now, finished_at=None, message=None),
    )


def claim(store: Store, job: str, run_date: date, now: datetime, stale_after: timedelta) -> bool:
    stale_or_failed = or_(
        JobRun.status == "failed",
        (JobRun.status == "running") & (JobRun.started_at < now - stale_after),
    )
    return _claim_row(store, job, run_date, now, stale_or_failed)


def finish(
    store: Store, job: str, run_date: date, status: str, message: str, now: datetime
) -> None:
    with store.session() as s:
        s.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.run_date == run_date)
            .values(status=status, message=message[:2000], finished_at=now)
        )
