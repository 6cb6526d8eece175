"""Claims for once-a-day jobs. The unique (job, run_date) row is the lock: the insert
that wins runs the job; a run that died (its row still 'running' after `stale_after`)
or failed may be claimed again the same day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update

from models import claims
from models.schema import JobRun
from models.store import Store


def claim(store: Store, job: str, run_date: date, now: datetime, stale_after: timedelta) -> bool:
    stale_or_failed = or_(
        JobRun.status == "failed",
        (JobRun.status == "running") & (JobRun.started_at < now - stale_after),
    )
    return claims.claim(
        store,
        JobRun(job=job, run_date=run_date, status="running", started_at=now),
        update(JobRun)
        .where(JobRun.job == job, JobRun.run_date == run_date, stale_or_failed)
        .values(status="running", started_at=now, finished_at=None, message=None),
    )


def finish(
    store: Store, job: str, run_date: date, status: str, message: str, now: datetime
) -> None:
    with store.session() as s:
        s.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.run_date == run_date)
            .values(status=status, message=message[:2000], finished_at=now)
        )


def last_run(store: Store, job: str) -> JobRun | None:
    with store.sessions() as s:
        return s.scalars(
            select(JobRun).where(JobRun.job == job).order_by(JobRun.run_date.desc()).limit(1)
        ).first()


# A lock row: one job_runs row on a fixed date, 'running' while held. The unique
# (job, run_date) constraint makes taking it atomic on SQLite and Postgres alike.
LOCK_DATE = date(1970, 1, 1)


def acquire_lock(store: Store, name: str, now: datetime, stale_after: timedelta) -> bool:
    """True when this caller now holds `name`: no one held it, the holder released it,
    or the holder died (still 'running' after `stale_after`)."""
    free_or_stale = or_(
        JobRun.status != "running",
        JobRun.started_at < now - stale_after,
    )
    return claims.claim(
        store,
        JobRun(job=name, run_date=LOCK_DATE, status="running", started_at=now),
        update(JobRun)
        .where(JobRun.job == name, JobRun.run_date == LOCK_DATE, free_or_stale)
        .values(status="running", started_at=now, finished_at=None, message=None),
    )


def release_lock(store: Store, name: str, now: datetime) -> None:
    finish(store, name, LOCK_DATE, "done", "", now)


def lock_holder_since(store: Store, name: str) -> datetime | None:
    with store.sessions() as s:
        return s.scalar(
            select(JobRun.started_at).where(
                JobRun.job == name, JobRun.run_date == LOCK_DATE, JobRun.status == "running"
            )
        )
