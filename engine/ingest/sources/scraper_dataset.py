"""Scraper datasets read where they are: export files, or a dataset on the scraping
platform read through its items endpoint (`GET {base}/datasets/{id}/items?format=json`
with `offset`/`limit` paging and the token as a query parameter). The whole dataset is
read before anything is mapped, so a dataset that fails half-way is a problem and not a
half import."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta
from pathlib import Path

from engine.ingest.sources.clock import Clock, SystemClock
from engine.ingest.sources.config import SourceSettings
from engine.ingest.sources.records import SyncProblem
from engine.ingest.sources.scraper_files import Item, read_export
from engine.ingest.sources.scraper_items import ScrapedBatch, map_items
from engine.ingest.sources.transport import NetworkFailure, get_json

PAGE = 1000


def dataset_ref(ref: str, base_url: str) -> tuple[str, str]:
    """(the API's base URL, the dataset id) from what a person pastes: a bare dataset
    id (read from `base_url`, SCOUT_DATASET_URL) or a dataset URL as the scraping
    platform shows it (`https://api.apify.com/v2/datasets/ID/items?format=json`),
    whose own base wins. Raises ValueError for a URL that names no dataset."""
    text = ref.strip()
    if not text.lower().startswith(("http://", "https://")):
        if not text or "/" in text:
            raise ValueError(f"{ref!r} is neither a dataset id nor a dataset URL")
        return base_url.rstrip("/"), text
    parts = urllib.parse.urlsplit(text)
    segments = [s for s in parts.path.split("/") if s]
    if "datasets" not in segments or segments.index("datasets") + 1 >= len(segments):
        raise ValueError(f"{ref!r} names no dataset (expected .../datasets/ID/items)")
    at = segments.index("datasets")
    base_path = "/".join(segments[:at])
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + base_path, "", ""))
    return base.rstrip("/"), urllib.parse.unquote(segments[at + 1])


def read_files(paths: list[Path], clock: Clock | None = None) -> ScrapedBatch:
    """Every item of every export file; raises ExportError for a file that is no export."""
    items = [item for path in paths for item in read_export(Path(path))]
    return map_items(items, (clock or SystemClock()).now())


class DatasetSource:
    name = "scraper_dataset"

    def __init__(
        self,
        settings: SourceSettings,
        *,
        clock: Clock | None = None,
        page: int = PAGE,
        max_retries: int = 3,
    ) -> None:
        if not settings.dataset_token:
            raise ValueError("scraper datasets need SCOUT_DATASET_TOKEN")
        self.settings = settings
        self.clock = clock or SystemClock()
        self.page = page
        self.max_retries = max_retries
        self.calls = 0

    def read(self, dataset_id: str) -> ScrapedBatch:
        items = self._items(dataset_id)
        if isinstance(items, SyncProblem):
            return ScrapedBatch(problems=[items])
        return map_items(items, self.clock.now())

    def _items(self, dataset_id: str) -> list[Item] | SyncProblem:
        items: list[Item] = []
        quoted = urllib.parse.quote(dataset_id, safe="")
        offset, retries = 0, 0
        while True:
            query = urllib.parse.urlencode(
                {
                    "format": "json",
                    "clean": "true",
                    "offset": offset,
                    "limit": self.page,
                    "token": self.settings.dataset_token,
                }
            )
            url = f"{self.settings.dataset_url}/datasets/{quoted}/items?{query}"
            try:
                response = get_json(url, timeout_s=self.settings.timeout_s, clock=self.clock)
            except NetworkFailure as err:
                return SyncProblem("network", str(err))
            self.calls += 1
            if response.status == 429 and retries < self.max_retries:
                retries += 1
                self.clock.sleep(10.0 * 2 ** (retries - 1))
                continue
            if response.status >= 400 or not isinstance(response.body, list):
                return self._problem(dataset_id, response.status)
            page = [d for d in response.body if isinstance(d, dict)]
            items += [
                Item(f"dataset {dataset_id}:item {offset + i + 1}", d) for i, d in enumerate(page)
            ]
            if len(response.body) < self.page:
                return items
            offset += len(response.body)

    def _problem(self, dataset_id: str, status: int) -> SyncProblem:
        where = f"dataset {dataset_id}: HTTP {status}"
        if status in (401, 403):
            return SyncProblem("token_invalid", f"{where} (check SCOUT_DATASET_TOKEN)")
        if status == 404:
            return SyncProblem("handle_unavailable", f"{where}: no such dataset", handle=dataset_id)
        if status == 429:
            return SyncProblem("rate_limited", where, self.clock.now() + timedelta(minutes=5))
        return SyncProblem("network", f"{where}: not a list of items")
