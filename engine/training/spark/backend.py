"""The Spark counting backend: a snapshot of the store is read by Spark, each kind asks
for its counts (engine.core.contract.CountingBackend), and the Dataset the kinds see
holds every influencer and song but only a bounded sample of creators' posts (for the
held-out evaluations and the kinds that still count locally: photos, topics)."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.core.dataset import Dataset
from engine.training.spark.session import spark_session
from engine.training.spark.tables import SparkTables, from_jdbc, from_parquet

SAMPLE_CREATORS = 2000  # creators whose posts the driver holds for evaluation


class SparkBackend:
    name = "spark"

    def __init__(
        self,
        spark: Any,
        tables: SparkTables,
        *,
        owned_session: bool = False,
        scratch: Path | None = None,
        log=lambda _m: None,
        sample_creators: int = SAMPLE_CREATORS,
    ) -> None:
        self.spark = spark
        self.tables = tables
        self.owned_session = owned_session
        self.scratch = scratch
        self.log = log
        self.sample_creators = sample_creators
        self.seconds: dict[str, float] = {}

    # ------------------------------------------------------------ counting
    def lookalike_counts(self, config: Any) -> Any:
        from engine.training.spark.lookalike_job import lookalike_counts

        return self._timed("lookalike", lambda: lookalike_counts(self.tables, config))

    def tag_counts(self, config: Any, seed: int) -> Any:
        from engine.training.spark.tags_job import tag_counts

        return self._timed("tags", lambda: tag_counts(self.tables, config, seed))

    def song_tables(self, rules: Any, config: dict[str, Any]) -> Any:
        from engine.training.spark.songs_job import song_tables

        return self._timed("songs", lambda: song_tables(self.tables, rules, config))

    def _timed(self, name: str, job):
        t0 = time.perf_counter()
        out = job()
        self.seconds[name] = time.perf_counter() - t0
        self.log(f"spark: {name} counts in {self.seconds[name]:.1f}s")
        return out

    # ------------------------------------------------------------ the data
    def posts_total(self) -> int:
        return int(self.tables.rows.count())

    def sample_handles(self) -> list[str]:
        """Up to `sample_creators` creators, chosen by a hash of the handle (stable
        from run to run); all creators when there are fewer."""
        from pyspark.sql import functions as F

        return [
            r[0]
            for r in self.tables.rows.select("handle")
            .distinct()
            .orderBy(F.xxhash64("handle"), "handle")
            .limit(self.sample_creators)
            .collect()
        ]

    def fingerprint(self) -> str:
        """A content hash of every table, computed by Spark (a sum of row hashes, so
        the order rows are read in does not matter)."""
        from pyspark.sql import functions as F

        h = hashlib.sha256()
        for name, df in (
            ("rows", self.tables.rows),
            ("influencers", self.tables.influencers),
            ("songs", self.tables.songs),
        ):
            cols = [F.coalesce(F.col(c).cast("string"), F.lit("\0")) for c in df.columns]
            row = df.agg(
                F.count("*").alias("n"),
                F.sum((F.xxhash64(*cols) % (1 << 40)).cast("decimal(38,0)")).alias("s"),
            ).first()
            h.update(f"{name}:{row['n']}:{row['s']}".encode())
        return h.hexdigest()[:32]

    def dataset(self, store: Any) -> Dataset:
        """Every influencer and song (per creator / per song: small next to posts) and
        the posts of the sampled creators, in the store's own frame shapes."""
        posts = store.posts_frame(self.sample_handles())
        total = self.posts_total()
        meta = {"database": store.describe(), "posts_total": total, "backend": "spark"}
        return Dataset(store.influencers_frame(), posts, store.songs_frame(), meta=meta)

    def close(self) -> None:
        if self.owned_session:
            self.spark.stop()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def open_spark_backend(
    store: Any,
    *,
    master: str = "local[*]",
    jdbc_jar: str | None = None,
    parquet_dir: str | None = None,
    log=lambda _m: None,
) -> SparkBackend:
    """Start (or reuse) Spark and point it at the store's data: JDBC when a jar is
    configured and the store is Postgres, else a fresh Parquet snapshot (`parquet_dir`,
    or a temporary folder removed afterwards)."""
    from pyspark.sql import SparkSession

    owned = SparkSession.getActiveSession() is None
    spark = spark_session(master, jdbc_jar)
    if jdbc_jar and store.url.startswith("postgresql"):
        log("spark: reading the store over JDBC")
        return SparkBackend(spark, from_jdbc(spark, store.url), owned_session=owned, log=log)
    scratch = None
    if parquet_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="scout-snapshot-"))
        parquet_dir = str(scratch)
    t0 = time.perf_counter()
    snap = store.export_parquet(parquet_dir)
    log(f"spark: snapshot {snap.rows} in {time.perf_counter() - t0:.1f}s -> {parquet_dir}")
    return SparkBackend(
        spark, from_parquet(spark, parquet_dir), owned_session=owned, scratch=scratch, log=log
    )
