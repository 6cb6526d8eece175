"""Time as the sources see it. Waiting out a rate limit can take an hour; tests hand in a
clock whose sleep only records the wait asked for and moves its own time on."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class ManualClock:
    """A clock for tests and benchmarks: `sleep` advances `now` and records the seconds."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
