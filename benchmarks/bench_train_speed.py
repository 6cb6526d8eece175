"""Full training on one machine, issue 27 point 1: the local backend (the store streamed
by columns, engine.training.columnar) against the path before it (`frames`: every post
in one DataFrame) on copies of the same synthetic store, each training in its own
process (peak RSS: the kernel's VmHWM, kept across the pipeline's per-kind resets), with per-kind seconds, the ratio, and top-10
agreement between the two on every kind that learns from posts.

    python -m benchmarks.bench_train_speed                       # 1M and 5M posts
    python -m benchmarks.bench_train_speed --sizes 1000000 --old-max 1000000

Targets: 1M posts under 60 s and 1.5 GB; 5M under 300 s and 4 GB; agreement >= 0.99."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_spark import models  # the published lookalike, tags and songs
from benchmarks.bench_train import synthetic_posts
from benchmarks.report import print_table, write_results

KINDS = ["lookalike", "tags", "songs", "topics"]  # every kind that reads the posts
AGREE_SAMPLE = 20_000
REPO = Path(__file__).resolve().parent.parent


def child(url: str, backend: str) -> None:
    from engine.bootstrap import bootstrap
    from engine.training.pipeline import process_peak_rss_mb

    rec = bootstrap(url)
    t0 = time.perf_counter()
    report = rec.train(kinds=KINDS, force=True, backend=backend, log=lambda _m: None)
    total = time.perf_counter() - t0
    kinds = {o.kind: {"status": o.status, "s": o.seconds} for o in report.outcomes}
    # the pipeline resets VmHWM before each kind (and getrusage's maxrss with it)
    peak = max(
        process_peak_rss_mb() or 0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    print(json.dumps({"ok": report.ok, "total_s": total, "kinds": kinds, "peak_mb": peak}))


def run(url: str, backend: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_train_speed", "--child", url, backend],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{backend} training failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def build_store(tmp: Path, n: int) -> Path:
    from engine.bootstrap import scratch

    sdir = tmp / f"syn{n}"
    sdir.mkdir()
    synthetic_posts(sdir, n, songs=True)
    db = tmp / f"syn{n}.db"
    rec = scratch(f"sqlite:///{db}", sdir, kinds=["influencers"])
    rec.import_file(sdir / "songs.csv", "songs")
    rec.import_file(sdir / "posts.csv", "posts")
    rec.close()
    shutil.rmtree(sdir)
    return db


def measure(db: Path, n: int, run_old: bool) -> dict:
    from benchmarks.agreement import agreement

    row: dict = {"posts": n}
    urls = {}
    for backend in ("frames", "local") if run_old else ("local",):
        copy = db.with_name(f"{db.stem}-{backend}.db")
        shutil.copy(db, copy)
        urls[backend] = f"sqlite:///{copy}"
        load = os.getloadavg()[0]
        got = run(urls[backend], backend)
        name = "old" if backend == "frames" else "new"
        row[f"{name} s"] = got["total_s"]
        row[f"{name} peak MB"] = got["peak_mb"]
        row[f"{name} load"] = load
        for k in KINDS:
            row[f"{name} {k} s"] = got["kinds"][k]["s"]
        print(json.dumps({"backend": backend, **got}), flush=True)
    if run_old:
        row["old / new"] = row["old s"] / row["new s"]
        agree = agreement(models(urls["frames"]), models(urls["local"]), k=10, sample=AGREE_SAMPLE)
        row.update({f"agree {k}": v for k, v in agree.items()})
    for url in urls.values():
        Path(url.removeprefix("sqlite:///")).unlink()
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=2, metavar=("URL", "BACKEND"))
    ap.add_argument("--sizes", default="1000000,5000000")
    ap.add_argument("--old-max", type=int, default=5_000_000, help="largest size the old path runs")
    ap.add_argument("--name", default="train_speed")
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.sizes.split(",")]:
            t0 = time.perf_counter()
            db = build_store(Path(tmp), n)
            print(f"built {n:,} posts in {time.perf_counter() - t0:.0f}s", flush=True)
            rows.append(measure(db, n, n <= args.old_max))
            db.unlink()
            write_results(args.name, {"results": rows, "partial": True})
    print_table("Full training: streaming local backend (new) vs every-post frames (old)", rows)
    write_results(args.name, {"results": rows})


if __name__ == "__main__":
    main()
