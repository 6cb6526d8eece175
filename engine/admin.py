"""The operator's part of Scout (`engine models`, `demo`, `export`, `import`, `train`):
what is in the store, what is published, and the writes that change them.

It is the one place besides the Recommender that may hold the store, so the CLI's
admin commands need no side door into `rec.store`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.core.errors import ScoutError


class Admin:
    """Built by engine.bootstrap.assemble over the same facade the queries use (one
    store, one connection pool per process)."""

    def __init__(self, recommender: Any) -> None:
        self._rec = recommender

    @property
    def _store(self) -> Any:
        return self._rec.store

    # ------------------------------------------------------------- the data
    def counts(self) -> dict[str, int]:
        """Rows per table (influencers, posts, songs, ...)."""
        return self._store.counts()

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

    def rollback(self, kind: str, version: int) -> int:
        return self._rec.rollback(kind, version)

    def close(self) -> None:
        self._rec.close()
