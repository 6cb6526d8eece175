"""The data sources' settings. engine/core/settings.py reads them from the process
environment (the one module that touches it) into `Settings`; `from_settings` takes them
from there, and `from_env` parses an environment mapping handed in (the adapters' tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
DEFAULT_YT_URL = "https://www.googleapis.com/youtube/v3"
DEFAULT_DATASET_URL = "https://api.apify.com/v2"


@dataclass(frozen=True)
class SourceSettings:
    ig_graph_url: str = DEFAULT_GRAPH_URL
    ig_user_id: str | None = None  # the app's own professional account, which asks
    ig_access_token: str | None = None
    yt_api_url: str = DEFAULT_YT_URL
    yt_api_key: str | None = None
    yt_quota: int = 10_000  # units a day (the default YouTube project quota)
    dataset_url: str = DEFAULT_DATASET_URL
    dataset_token: str | None = None
    timeout_s: float = 20.0  # one HTTP call, connect + read

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SourceSettings:
        """`env` is the process environment as engine/core/settings.py reads it."""
        return cls(
            ig_graph_url=(env.get("SCOUT_IG_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/"),
            ig_user_id=env.get("SCOUT_IG_USER_ID") or None,
            ig_access_token=env.get("SCOUT_IG_ACCESS_TOKEN") or None,
            yt_api_url=(env.get("SCOUT_YT_API_URL") or DEFAULT_YT_URL).rstrip("/"),
            yt_api_key=env.get("SCOUT_YT_API_KEY") or None,
            yt_quota=_positive_int(env, "SCOUT_YT_QUOTA", 10_000),
            dataset_url=(env.get("SCOUT_DATASET_URL") or DEFAULT_DATASET_URL).rstrip("/"),
            dataset_token=env.get("SCOUT_DATASET_TOKEN") or None,
            timeout_s=float(env.get("SCOUT_SOURCE_TIMEOUT_S") or 20.0),
        )

    @classmethod
    def from_settings(cls, settings: Any) -> SourceSettings:
        """From engine.core.settings.Settings (its `source_env()`)."""
        return cls.from_env(settings.source_env())


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name}: expected a positive number, got {value}")
    return value
