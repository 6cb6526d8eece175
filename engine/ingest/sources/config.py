"""The data sources' settings. engine/core/settings.py parses them (the one parser, and
the one module that reads the process environment) into `Settings`; `from_settings`
takes them from there, `from_env` has the same parser read a mapping (the adapters'
tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.settings import source_settings

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
        """From an environment mapping, parsed by engine/core/settings.py's one parser."""
        return cls._from(source_settings(env).get)

    @classmethod
    def from_settings(cls, settings: Any) -> SourceSettings:
        """From engine.core.settings.Settings, which parsed them from the environment."""
        return cls._from(lambda name: getattr(settings, name))

    @classmethod
    def _from(cls, get: Callable[[str], Any]) -> SourceSettings:
        return cls(
            ig_graph_url=get("ig_graph_url"),
            ig_user_id=get("ig_user_id"),
            ig_access_token=get("ig_access_token"),
            yt_api_url=get("yt_api_url"),
            yt_api_key=get("yt_api_key"),
            yt_quota=get("yt_quota"),
            dataset_url=get("dataset_url"),
            dataset_token=get("dataset_token"),
            timeout_s=get("source_timeout_s"),
        )
