"""The YouTube Data API's daily quota, counted before each call so one day's sync never
passes `SCOUT_YT_QUOTA`. Units are the documented costs of the methods Scout calls; the
day is Pacific time, when Google resets the quota. Persist it with `to_dict` so a second
sync the same day knows what the first one spent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
UNITS = {"channels": 1, "playlistItems": 1, "videos": 1, "search": 100}


@dataclass
class QuotaMeter:
    limit: int = 10_000
    used: int = 0
    day: date | None = None  # the Pacific day `used` belongs to

    def _roll(self, now: datetime) -> None:
        today = now.astimezone(PACIFIC).date()
        if self.day != today:
            self.day, self.used = today, 0

    def left(self, now: datetime) -> int:
        self._roll(now)
        return max(0, self.limit - self.used)

    def spend(self, method: str, now: datetime) -> bool:
        """Charge one call of `method`; False (and nothing charged) past the limit."""
        units = UNITS[method]
        if self.left(now) < units:
            return False
        self.used += units
        return True

    def exhaust(self, now: datetime) -> None:
        """The API said quotaExceeded (another client shares the project): trust it."""
        self._roll(now)
        self.used = max(self.used, self.limit)

    def resets_at(self, now: datetime) -> datetime:
        tomorrow = now.astimezone(PACIFIC).date() + timedelta(days=1)
        return datetime.combine(tomorrow, time(0), PACIFIC).astimezone(UTC)

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "used": self.used,
            "day": self.day.isoformat() if self.day else None,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> QuotaMeter:
        day = date.fromisoformat(doc["day"]) if doc.get("day") else None
        return cls(limit=int(doc.get("limit", 10_000)), used=int(doc.get("used", 0)), day=day)
