"""The operator's part of Scout (`engine models`, `demo`, `export`, `import`, `train`):
what is in the store, what is published, and the writes that change them.

It is the one place besides the Recommender that may hold the store, so the CLI's
admin commands need no side door into the recommender's store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.core.errors import ScoutError


class Admin:
    """Built by engine.bootstrap.assemble over the same facade the queries use and the
    same store, handed in (one store, one connection pool per process)."""

    def __init__(self, recommender: Any, store: Any) -> None:
        self._rec = recommender
        self._store = store

    # ------------------------------------------------------------- the data
    def counts(self) -> dict[str, int]:
        """Rows per table (influencers, posts, songs, ...)."""
        return self._store.counts()

    def dataset(self) -> Any:
        """The whole store as training reads it (engine.core.dataset.Dataset), for
        benchmarks that fit or time a kind outside the pipeline."""
        from engine.core.dataset import Dataset

        return Dataset.read(self._store)

    def export_parquet(self, folder: str | Path, chunk_rows: int) -> Any:
        """A streaming Parquet snapshot of the store (the Spark backend's input)."""
        return self._store.export_parquet(folder, chunk_rows)

    def import_file(self, path: str | Path, kind: str, **options: Any) -> Any:
        return self._rec.import_file(path, kind, **options)

    # --------------------------------------------------------- the models
    def train(self, **options: Any) -> Any:
        return self._rec.train(**options)

    def versions(self, kind: str | None = None) -> list:
        """Every published (or refused) version, newest last, of `kind` or of all."""
        return self._store.registry.list(kind)

    def latest_versions(self) -> dict[str, int]:
        """The version each kind serves now."""
        return {i.kind: i.version for i in self._store.registry.latest_all()}

    def artifact_info(self, kind: str, version: int) -> dict[str, Any]:
        """One version's metadata (metrics, params, fingerprint; not its bytes)."""
        try:
            artifact = self._store.registry.get(kind, version)
        except LookupError as err:
            raise ScoutError(str(err)) from None
        return {k: v for k, v in artifact.__dict__.items() if k != "payload"}

    def artifact_bytes(self, kind: str, version: int | None = None) -> bytes:
        """One version's payload (the newest published when `version` is None), for
        benchmarks and tests that load a model without serving it."""
        registry = self._store.registry
        if version is None:
            info = registry.latest_info(kind)
            if info is None:
                raise ScoutError(f"no published version of {kind}")
            version = info.version
        try:
            return registry.get(kind, version).payload
        except LookupError as err:
            raise ScoutError(str(err)) from None

    def rollback(self, kind: str, version: int) -> int:
        return self._rec.rollback(kind, version)

    # ------------------------------------------ the watchlist, sync and history
    def watch_add(
        self,
        handle: str,
        platform: str = "instagram",
        *,
        team_id: str | None = None,
        added_by: str | None = None,
    ) -> tuple[str, bool]:
        """Watch `handle` (the key kept, and whether it was new to this team)."""
        from engine.ingest.sync import CLI_TEAM, watch_key
        from models import watchlist

        key = watch_key(handle, platform)
        with self._store.session() as s:
            added = watchlist.add(
                s, team_id or CLI_TEAM, platform, key, now=_utcnow(), added_by=added_by
            )
        return key, added

    def watch_remove(
        self, handle: str, platform: str | None = None, *, team_id: str | None = None
    ) -> tuple[str, int]:
        """Stop watching `handle` (on `platform`, or on every platform): the key and
        how many rows went."""
        from engine.ingest.sync import CLI_TEAM, watch_key
        from models import watchlist

        key = watch_key(handle, platform or "instagram")
        with self._store.session() as s:
            return key, watchlist.remove(s, team_id or CLI_TEAM, key, platform)

    def watchlist(self, team_id: str | None = None, *, every_team: bool = False) -> list:
        """The team's watchlist (models.watchlist.WatchEntry rows), oldest first."""
        from engine.ingest.sync import CLI_TEAM
        from models import watchlist

        with self._store.session() as s:
            return watchlist.entries(s, None if every_team else team_id or CLI_TEAM)

    def sync(self, source: str | None = None, *, everything: bool = False, clock: Any = None):
        """Pull what is due from each source (engine.ingest.sync); a SyncReport."""
        from engine.ingest.sync import Sync

        return Sync(self._store, self._rec.settings, clock=clock).run(source, everything=everything)

    def sync_files(self, paths: list[str | Path]) -> Any:
        """Scraper export files (Instagram/TikTok items; songs inline) written as a sync
        writes a creator, with snapshots (engine.ingest.sync.store_scraped)."""
        from engine.ingest.sources import ExportError, read_files
        from engine.ingest.sync import Sync

        try:
            batch = read_files([Path(p) for p in paths])
        except (ExportError, OSError) as err:
            raise ScoutError(str(err).splitlines()[0]) from None
        return Sync(self._store, self._rec.settings).store_scraped(batch)

    def sync_dataset(self, ref: str, clock: Any = None) -> Any:
        """A scraping platform's dataset (id or URL, SCOUT_DATASET_TOKEN) written as a
        sync writes a creator (engine.ingest.sync.Sync.store_dataset); a SourceRun."""
        from engine.ingest.sync import Sync

        return Sync(self._store, self._rec.settings, clock=clock).store_dataset(ref)

    def sync_status(self, now: Any = None) -> list:
        """Per source: token, due creators, calls and quota, errors (SourceStatus)."""
        from engine.ingest.sync import source_status

        return source_status(self._store, self._rec.settings, now or _utcnow())

    def growth(self, handles: list[str]) -> dict[str, dict[str, float | None]]:
        return self._rec.growth(handles)

    def close(self) -> None:
        self._rec.close()


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
