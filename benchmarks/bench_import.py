"""Import throughput (rows/s) for posts and influencers on SQLite and Postgres, against
a baseline in the same run: pandas `to_sql` of the same rows (already parsed into a
DataFrame) into a bare table (no validation, no upsert, no hashtag rows) — the floor
any importer pays for the database itself. Prints each ratio and writes
benchmarks/results/import.json; `python -m benchmarks.bench_import --rows 200000`."""

from __future__ import annotations

import argparse
import csv
import os
import random
import time
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd
from sqlalchemy import create_engine, text

from benchmarks.report import print_table, write_results
from engine.bootstrap import bootstrap
from models.migrate import upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WORDS = [
    "sunset",
    "beach",
    "coffee",
    "morning",
    "run",
    "pasta",
    "travel",
    "city",
    "street",
    "dog",
    "cat",
    "code",
    "game",
    "song",
]


def make_posts(path: Path, n: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["handle", "post_id", "posted_at", "caption", "hashtags", "likes", "comments", "image"]
        )
        for i in range(n):
            words = rnd.sample(WORDS, 5)
            w.writerow(
                [
                    f"user{rnd.randrange(n // 30 + 1)}",
                    f"p{i}",
                    f"2026-{rnd.randint(1, 10):02d}-{rnd.randint(1, 28):02d}",
                    " ".join(words) + f" #{words[0]}",
                    " ".join(rnd.sample(WORDS, 3)),
                    rnd.randrange(10000),
                    rnd.randrange(300),
                    f"img/{i % 500}.jpg",
                ]
            )


def make_influencers(path: Path, n: int, seed: int = 3) -> None:
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "handle",
                "name",
                "followers",
                "following",
                "posts_count",
                "bio",
                "language",
                "country",
            ]
        )
        for i in range(n):
            w.writerow(
                [
                    f"user{i}",
                    f"User {i}",
                    rnd.randrange(10**6),
                    rnd.randrange(5000),
                    rnd.randrange(3000),
                    " ".join(rnd.sample(WORDS, 4)),
                    rnd.choice(["en", "fr", "de"]),
                    rnd.choice(["US", "FR", "DE"]),
                ]
            )


def pg_database() -> tuple[str, callable]:
    name = f"scout_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop


def measure(store: str, kind: str, csv_path: Path, frame: pd.DataFrame, tmp: str) -> dict:
    """One store and kind: import, re-import (all updates), then to_sql of the same rows."""
    if store == "sqlite":
        url, cleanup = f"sqlite:///{tmp}/bench_{kind}.db", (lambda: None)
    else:
        url, cleanup = pg_database()
    try:
        upgrade(url)
        first = bootstrap(url).import_file(csv_path, kind)
        again = bootstrap(url).import_file(csv_path, kind)  # idempotent re-import = all updates
        engine = create_engine(url)
        t0 = time.perf_counter()
        frame.to_sql(
            f"baseline_{kind}",
            engine,
            index=False,
            chunksize=5000,
            method="multi" if store == "postgres" else None,
        )
        base = time.perf_counter() - t0
        engine.dispose()
    finally:
        cleanup()
    n = len(frame)
    return {
        "store": store,
        "kind": kind,
        "rows": n,
        "import rows/s": first.rows_per_second,
        "re-import rows/s": again.rows_per_second,
        "baseline to_sql rows/s": n / base,
        "import / baseline": first.rows_per_second / (n / base),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--kinds", default="posts,influencers")
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--name", default="import", help="results/NAME.json")
    args = ap.parse_args()
    n = args.rows or (20_000 if args.quick else 200_000)
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    rows = []
    with TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            csv_path = Path(tmp) / f"{kind}.csv"
            (make_posts if kind == "posts" else make_influencers)(csv_path, n)
            frame = pd.read_csv(csv_path)
            for store in args.stores.split(","):
                rows.append(measure(store, kind, csv_path, frame, tmp))
                print(
                    f"{store} {kind}: import / to_sql = {rows[-1]['import / baseline']:.2f}x",
                    flush=True,
                )
    print_table(f"Import throughput, {n:,} rows (validate + upsert, one transaction)", rows)
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    print(f"1-minute load average: {load['before']} before, {load['after']} after")
    write_results(args.name, {"rows": n, "load_1min": load, "results": rows})


if __name__ == "__main__":
    main()
