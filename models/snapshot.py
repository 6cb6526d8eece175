"""A streaming snapshot of the store to Parquet: what a Spark job reads instead of the
database, so that the driver never holds the posts (issue 18).

One Parquet file per table, written a chunk of rows at a time (one row group each), so
memory stays at one chunk whatever the store's size; SQLite and Postgres alike (a
server-side cursor on Postgres). The queries are models.queries, shared with the store's
frames and Spark's JDBC reads; posts keep their primary key (post_pk) so the jobs join
them to their authors (a collab post has several) and to their ordered hashtags."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from models.queries import snapshot_selects

CHUNK_ROWS = 50_000


def _schemas() -> dict[str, Any]:
    import pyarrow as pa

    s, i64, i32, ts = pa.string(), pa.int64(), pa.int32(), pa.timestamp("us")
    return {
        "influencers": pa.schema(
            [
                ("influencer_id", i64),
                ("handle", s),
                ("platform", s),
                ("name", s),
                ("followers", i64),
                ("following", i64),
                ("posts_count", i64),
                ("bio", s),
                ("language", s),
                ("country", s),
            ]
        ),
        "posts": pa.schema(
            [
                ("post_pk", i64),
                ("post_id", s),
                ("platform", s),
                ("posted_at", ts),
                ("caption", s),
                ("likes", i64),
                ("comments", i64),
                ("image", s),
                ("song_id", s),
                ("views", i64),
            ]
        ),
        "post_authors": pa.schema([("post_pk", i64), ("influencer_id", i64), ("handle", s)]),
        "post_hashtags": pa.schema([("post_pk", i64), ("position", i32), ("tag", s)]),
        "songs": pa.schema(
            [("song_id", s), ("title", s), ("artist", s), ("release", s), ("year", i64)]
        ),
    }


@dataclass
class Snapshot:
    """Where the snapshot is and how many rows each table has."""

    folder: Path
    rows: dict[str, int]

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"


def export_parquet(engine: Engine, folder: str | Path, chunk_rows: int = CHUNK_ROWS) -> Snapshot:
    """Write every table the training reads to `folder/<table>.parquet`, streaming."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    schemas = _schemas()
    for table, query in snapshot_selects().items():
        schema = schemas[table]
        names = [c.name for c in query.selected_columns]  # each must be a schema field
        tmp = out / f".{table}.parquet.part"
        n = 0
        with engine.connect() as conn, pq.ParquetWriter(tmp, schema) as writer:
            result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(
                query
            )
            for part in result.partitions(chunk_rows):
                cols = list(zip(*part, strict=True)) if part else [[] for _ in names]
                batch = pa.table(
                    {
                        name: pa.array(list(col), type=schema.field(name).type)
                        for name, col in zip(names, cols, strict=True)
                    },
                    schema=schema,
                )
                writer.write_table(batch)
                n += len(part)
        tmp.replace(out / f"{table}.parquet")  # a reader never sees a half-written table
        rows[table] = n
    return Snapshot(out, rows)
