"""The one interface the sync step drives for per-creator sources (the Graph API and
YouTube): fetch one creator's profile and window of posts, with problems as data and
the calls spent. Scraper datasets are read whole (`DatasetSource.read`, `read_files`)
because their unit is a run of the scraper, not a handle."""

from __future__ import annotations

from typing import Protocol

from engine.ingest.sources.records import CreatorFetch, SyncProblem


class Source(Protocol):
    name: str
    platform: str
    calls: int  # API calls made so far
    stopped: SyncProblem | None  # set once the source can go no further (token_invalid)

    def fetch_creator(self, handle: str) -> CreatorFetch: ...
