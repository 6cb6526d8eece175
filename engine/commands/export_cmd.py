"""`python -m engine export --parquet DIR`: a streaming snapshot of the store to Parquet
(bounded memory, SQLite or Postgres), the input of the Spark training backend."""

from __future__ import annotations

import argparse
import json

from engine.bootstrap import assemble
from engine.core.errors import ScoutError

HELP = "write a Parquet snapshot of the store (for training on Spark)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parquet", required=True, metavar="DIR", help="folder to write")
    parser.add_argument(
        "--chunk-rows", type=int, default=50_000, help="rows read and written at a time"
    )


def run(args: argparse.Namespace) -> int:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ScoutError(
            "the Parquet export needs pyarrow: pip install -r requirements-spark.txt"
        ) from None
    admin = assemble(args.db, must_exist=True).admin
    snap = admin.export_parquet(args.parquet, args.chunk_rows)
    if args.json:
        print(json.dumps({"folder": str(snap.folder), "rows": snap.rows}))
    else:
        for table, n in snap.rows.items():
            print(f"{table:<14} {n:>12,} rows -> {snap.path(table)}")
    return 0
