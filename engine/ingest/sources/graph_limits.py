"""The Graph API's throttling signals, read from what it sends: the usage headers
(`X-App-Usage` for platform limits, `X-Business-Use-Case-Usage` for the Instagram
Business Use Case limit, both JSON with percentages and, for BUC, the minutes until
access returns) and the error codes that say "throttled". Also the Hashtag Search budget:
at most 30 unique hashtags per rolling 7 days per account, counted here and persisted by
whoever owns the store (`to_dict` / `from_dict`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

THROTTLE_CODES = frozenset({4, 17, 32, 613, 80002})  # app, user, page, custom, IG BUC
TOKEN_CODES = frozenset({190})
HANDLE_CODES = frozenset({100, 110})
NEAR_LIMIT_PCT = 95.0
HASHTAGS_PER_WEEK = 30
HASHTAG_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Usage:
    percent: float  # the highest of call_count / total_time / total_cputime seen
    regain_minutes: float  # 0 when the header does not say


def read_usage(headers: dict[str, str]) -> Usage:
    """The worst usage any header reports; a header that is not JSON counts as 0%."""
    percent, regain = 0.0, 0.0
    for entry in _entries(headers.get("x-app-usage")) + _buc_entries(
        headers.get("x-business-use-case-usage")
    ):
        for key in ("call_count", "total_time", "total_cputime"):
            percent = max(percent, _number(entry.get(key)))
        regain = max(regain, _number(entry.get("estimated_time_to_regain_access")))
    return Usage(percent, regain)


def _entries(raw: str | None) -> list[dict[str, Any]]:
    doc = _json(raw)
    return [doc] if isinstance(doc, dict) else []


def _buc_entries(raw: str | None) -> list[dict[str, Any]]:
    """BUC's header maps a business id to a list of usage objects, one per use-case type."""
    doc = _json(raw)
    if not isinstance(doc, dict):
        return []
    return [e for v in doc.values() if isinstance(v, list) for e in v if isinstance(e, dict)]


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


@dataclass
class HashtagBudget:
    """Unique hashtags searched, with when each was first searched in the current window.
    Searching a tag again inside its 7 days costs nothing, as the API counts it."""

    searched: dict[str, datetime] = field(default_factory=dict)
    limit: int = HASHTAGS_PER_WEEK

    def _live(self, now: datetime) -> dict[str, datetime]:
        return {t: at for t, at in self.searched.items() if now - at < HASHTAG_WINDOW}

    def allows(self, tag: str, now: datetime) -> bool:
        live = self._live(now)
        return tag in live or len(live) < self.limit

    def record(self, tag: str, now: datetime) -> None:
        self.searched = self._live(now)
        self.searched.setdefault(tag, now)

    def used(self, now: datetime) -> int:
        return len(self._live(now))

    def frees_at(self, now: datetime) -> datetime:
        live = self._live(now)
        return min(live.values()) + HASHTAG_WINDOW if live else now

    def to_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "searched": {t: a.isoformat() for t, a in self.searched.items()},
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> HashtagBudget:
        searched = {t: datetime.fromisoformat(a) for t, a in doc.get("searched", {}).items()}
        return cls(searched=searched, limit=int(doc.get("limit", HASHTAGS_PER_WEEK)))
