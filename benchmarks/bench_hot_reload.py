"""Issue 8's proof on PostgreSQL: the demo data trained and served, then new posts
imported and `python -m engine train` run (a separate process) while a load generator
sends lookalike queries continuously. Reports failed queries (must be 0), the versions
answers came from, how soon after publishing answers switched, and that the old version
can be rolled back to while serving continues."""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from benchmarks.report import print_table, write_results
from engine.bootstrap import bootstrap, scratch
from engine.core.settings import REPO_ROOT, Settings
from engine.service import Recommender
from models.store import Store

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Sample:
    t: float
    version: int | None
    ok: bool
    error: str = ""


def load_generator(
    rec: Recommender, handles: list[str], stop: threading.Event, out: list[Sample]
) -> None:
    i = 0
    while not stop.is_set():
        handle = handles[i % len(handles)]
        i += 1
        try:
            answer = rec.lookalike(handle, k=10)
            out.append(
                Sample(time.perf_counter(), answer.meta.get("model_version"), bool(answer.results))
            )
        except Exception as err:  # noqa: BLE001 - every failure is counted
            out.append(Sample(time.perf_counter(), None, False, f"{type(err).__name__}: {err}"))


def new_posts(demo: Path, out: Path, n: int) -> Path:
    """Copies of existing posts under new ids and new handles: new content to learn."""
    rows = list(csv.DictReader((demo / "posts.csv").open(encoding="utf-8")))[:n]
    path = demo / out.name  # beside the demo CSV so relative image paths still resolve
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({**r, "post_id": f"new{i}", "handle": f"{r['handle']}_new"})
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    from engine.demo.generate import demo_dir, generate

    size = "small" if args.quick else "default"
    ddir = demo_dir(Settings.from_env().data_dir, size, 42)
    if not (ddir / "truth.json").exists():
        generate(ddir, size=size, seed=42)
    name = f"scout_reload_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        scratch(url, ddir).close()
        train = [sys.executable, "-m", "engine", "train", "--db", url]
        subprocess.run(train, cwd=REPO_ROOT, check=True, capture_output=True)
        store = Store(url)
        v1 = store.registry.latest_version("lookalike")
        settings = Settings.from_env(url)
        rec = bootstrap(settings=type(settings)(**{**settings.__dict__, "reload_seconds": 0.5}))
        handles = store.influencers_frame()["handle"].tolist()[:200]
        samples: list[Sample] = []
        stop = threading.Event()
        workers = [
            threading.Thread(target=load_generator, args=(rec, handles, stop, samples))
            for _ in range(args.threads)
        ]
        for w in workers:
            w.start()
        time.sleep(2)
        with tempfile.TemporaryDirectory() as tmp:
            extra = new_posts(ddir, Path(tmp) / "new_posts.csv", 300 if args.quick else 2000)
            bootstrap(url).import_file(extra, "posts")
            extra.unlink()
        t_train = time.perf_counter()
        proc = subprocess.run(train, cwd=REPO_ROOT, capture_output=True, text=True)
        t_published = time.perf_counter()
        v2 = store.registry.latest_version("lookalike")
        deadline = time.time() + 30
        while time.time() < deadline and not any(
            s.version == v2 and s.t > t_published for s in samples
        ):
            time.sleep(0.1)
        first_v2 = min((s.t for s in samples if s.version == v2), default=None)
        rollback = subprocess.run(
            [
                sys.executable,
                "-m",
                "engine",
                "models",
                "rollback",
                "lookalike",
                str(v1),
                "--db",
                url,
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
        v3 = store.registry.latest_version("lookalike")
        t_rb = time.perf_counter()
        while time.time() < deadline + 30 and not any(
            s.version == v3 and s.t > t_rb for s in samples
        ):
            time.sleep(0.1)
        stop.set()
        for w in workers:
            w.join()
        store.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    failed = [s for s in samples if not s.ok]
    versions = sorted({s.version for s in samples if s.version is not None})
    row = {
        "store": "postgres",
        "demo": size,
        "queries": len(samples),
        "failed": len(failed),
        "train exit": proc.returncode,
        "train s": t_published - t_train,
        "versions seen": " ".join(map(str, versions)),
        "v_before": v1,
        "v_after_train": v2,
        "first new-version answer vs train exit s": (first_v2 - t_published) if first_v2 else None,
        "rollback to": f"v{v1} as v{v3}",
        "rollback exit": rollback.returncode,
        "answers from rollback": sum(1 for s in samples if s.version == v3),
    }
    print_table(
        "Hot reload under load on PostgreSQL (lookalike queries during import + train + rollback)",
        [row],
    )
    if failed:
        print("failures:", {s.error for s in failed})
    write_results(
        "hot_reload" + ("_quick" if args.quick else ""),
        {"result": row, "errors": sorted({s.error for s in failed})},
    )
    sys.exit(0 if not failed and proc.returncode == 0 and v3 in versions else 1)


if __name__ == "__main__":
    main()
