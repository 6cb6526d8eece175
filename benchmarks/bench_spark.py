"""Local backend vs Spark local[2] for the heavy kinds (lookalike, tags, songs), issue 18:
wall time per kind, peak RSS of the Python driver, and top-10 agreement between the two
where the local backend still fits, on the default demo and on synthetic posts
(benchmarks/bench_train.py's generator; default sizes 1M and 5M). Each training runs in
its own process so its peak RSS (ru_maxrss: the Python driver, not Spark's JVM) is its
own; both backends train copies of the same SQLite store. Ends with a projection to 1B
posts on a cluster, with its assumptions.

    python -m benchmarks.bench_spark                      # demo + 1M + 5M
    python -m benchmarks.bench_spark --sizes 100000,1000000 --local-max 1000000
    python -m benchmarks.bench_spark --jdbc /usr/share/java/postgresql.jar

`--jdbc JAR` instead trains the small demo from a Postgres store with Spark reading it
over JDBC (SCOUT_SPARK_JDBC_JAR; Debian's libpostgresql-jdbc-java installs the jar),
beside the local backend on the same data, and reports the agreement.
"""

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

from benchmarks.bench_train import synthetic_posts
from benchmarks.report import print_table, write_results

KINDS = ["lookalike", "tags", "songs"]
AGREE_SAMPLE = 20_000  # creators whose top-10 lists are compared (every creator below that)
REPO = Path(__file__).resolve().parent.parent


def child(url: str, backend: str, master: str) -> None:
    """One training run; prints one JSON line (per-kind seconds, driver peak RSS)."""
    from engine.bootstrap import bootstrap
    from engine.training.pipeline import process_peak_rss_mb

    rec = bootstrap(url)
    lines: list[str] = []
    t0 = time.perf_counter()
    report = rec.train(
        kinds=KINDS, force=True, backend=backend, spark_master=master, log=lines.append
    )
    total = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "ok": report.ok,
                "total_s": total,
                "kinds": {o.kind: {"status": o.status, "s": o.seconds} for o in report.outcomes},
                # the pipeline resets VmHWM (and so ru_maxrss) before each kind
                "peak_rss_mb": max(
                    process_peak_rss_mb() or 0.0,
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                ),
                "jdbc": any("over JDBC" in line for line in lines),
            }
        )
    )


def run_backend(url: str, backend: str, master: str, env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_spark", "--child", url, backend, master],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=None if env is None else {**os.environ, **env},
    )
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{backend} run failed: {out.stderr[-2000:]}")
    return json.loads(lines[-1])


def models(url: str) -> dict:
    from engine.bootstrap import assemble
    from engine.core.kinds import kind_by_name

    admin = assemble(url).admin
    published = admin.latest_versions()  # a kind skipped (no songs in synthetic posts) is absent
    found = {
        k: kind_by_name(k).load(admin.artifact_bytes(k, published[k]))
        for k in KINDS
        if k in published
    }
    admin.close()
    return found


def measure(label: str, db: Path, n_posts: int, run_local: bool, master: str) -> list[dict]:
    from benchmarks.agreement import agreement

    rows: list[dict] = []
    urls = {}
    for backend in ("local", "spark") if run_local else ("spark",):
        copy = db.with_name(f"{db.stem}-{backend}.db")
        shutil.copy(db, copy)
        urls[backend] = f"sqlite:///{copy}"
        got = run_backend(urls[backend], backend, master)
        row = {
            "data": label,
            "posts": n_posts,
            "backend": backend if backend == "local" else f"spark {master}",
            "total s": got["total_s"],
            "driver peak MB": got["peak_rss_mb"],
        }
        for k in KINDS:
            row[f"{k} s"] = got["kinds"][k]["s"]
            if got["kinds"][k]["status"] != "published":
                row[f"{k} s"] = f"{got['kinds'][k]['status']}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    if run_local:
        agree = agreement(models(urls["local"]), models(urls["spark"]), k=10, sample=AGREE_SAMPLE)
        rows[-1].update({f"agree {k}": v for k, v in agree.items()})
        print(json.dumps({"data": label, "agreement": agree}), flush=True)
    return rows


def jdbc_check(jar: str, master: str) -> dict:
    """The small demo in a fresh Postgres database, trained by Spark over JDBC, against
    the local backend on the same demo in SQLite."""
    from benchmarks.agreement import agreement
    from benchmarks.bench_import import pg_database
    from engine.bootstrap import scratch
    from engine.core.settings import Settings
    from engine.demo.generate import demo_dir, generate

    ddir = demo_dir(Settings.from_env().data_dir, "small", 42)
    if not (ddir / "truth.json").exists():
        generate(ddir, size="small", seed=42)
    url, drop = pg_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local_url = f"sqlite:///{tmp}/local.db"
            scratch(local_url, ddir).close()
            scratch(url, ddir).close()
            local = run_backend(local_url, "local", master)
            spark = run_backend(url, "spark", master, env={"SCOUT_SPARK_JDBC_JAR": jar})
            agree = agreement(models(local_url), models(url), k=10)
    finally:
        drop()
    return {
        "data": "demo small, Postgres store",
        "jar": jar,
        "read over JDBC": spark["jdbc"],
        "local total s": local["total_s"],
        "spark total s": spark["total_s"],
        **{f"agree {k}": v for k, v in agree.items()},
    }


def projection(rows: list[dict], cores: int, efficiency: float) -> dict:
    """Spark's seconds per post from the two largest synthetic sizes (the slope, so the
    fixed start-up cost drops out), scaled to 1B posts on `cores` executor cores."""
    spark = sorted(
        (r for r in rows if r["backend"].startswith("spark") and r["data"].startswith("synthetic")),
        key=lambda r: r["posts"],
    )
    if len(spark) < 2:
        return {}
    a, b = spark[-2], spark[-1]
    slope = (b["total s"] - a["total s"]) / (b["posts"] - a["posts"])  # s per post on 2 cores
    core_s_per_post = slope * 2
    secs = core_s_per_post * 1e9 / (cores * efficiency)
    return {
        "measured_on": f"local[2], {a['posts']:,} -> {b['posts']:,} posts",
        "spark_core_seconds_per_post": core_s_per_post,
        "cluster_cores": cores,
        "parallel_efficiency": efficiency,
        "projected_hours_1B_posts": secs / 3600,
        "assumptions": [
            "time grows linearly in posts (the jobs are group-bys and joins on hashed keys; "
            "the measured slope between the two sizes is used, start-up excluded)",
            f"{cores} executor cores at {efficiency:.0%} of the per-core rate measured here "
            "(shuffle over a network instead of local disk)",
            "the posts are already in Parquet on object storage (s3a:// or gs://); the "
            "export from the database is not included",
            "the driver still collects counts (creators x vocabulary and n-grams, tags x "
            "tags, creator x song) and runs PPMI/SVD/Ochiai/ALS on them: at 200k creators "
            "that is minutes and a few GB, not hours; not included",
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3, metavar=("URL", "BACKEND", "MASTER"))
    ap.add_argument("--sizes", default="1000000,5000000")
    ap.add_argument("--local-max", type=int, default=1_000_000, help="largest size run locally")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--cores", type=int, default=800, help="cluster cores for the projection")
    ap.add_argument("--efficiency", type=float, default=0.5)
    ap.add_argument("--name", default="spark")
    ap.add_argument("--quick", action="store_true", help="100k and 300k posts, small demo")
    ap.add_argument(
        "--no-songs", action="store_true", help="synthetic posts without reels (before stop 12)"
    )
    ap.add_argument("--jdbc", metavar="JAR", help="only the JDBC check, with this driver jar")
    args = ap.parse_args()
    if args.jdbc:
        row = jdbc_check(args.jdbc, args.master)
        print_table("Spark over JDBC from Postgres vs the local backend", [row])
        write_results("spark_jdbc", row)
        return
    if args.quick:
        args.sizes, args.name = "100000,300000", "spark_quick"
    if args.child:
        child(*args.child)
        return
    from engine.bootstrap import assemble, scratch
    from engine.core.settings import Settings
    from engine.demo.generate import demo_dir, generate

    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_demo:
            ddir = demo_dir(Settings.from_env().data_dir, "default", 42)
            if not (ddir / "truth.json").exists():
                generate(ddir, size="default", seed=42)
            db = Path(tmp) / "demo.db"
            scratch(f"sqlite:///{db}", ddir).close()
            admin = assemble(f"sqlite:///{db}").admin
            n = len(admin.dataset().posts)  # rows per (post, author), as training counts them
            admin.close()
            rows += measure("demo default", db, n, True, args.master)
        for n in [int(x) for x in args.sizes.split(",")]:
            sdir = Path(tmp) / f"syn{n}"
            sdir.mkdir()
            synthetic_posts(sdir, n, songs=not args.no_songs)
            db = Path(tmp) / f"syn{n}.db"
            rec = scratch(f"sqlite:///{db}", sdir, kinds=["influencers"])
            t0 = time.perf_counter()
            if not args.no_songs:
                rec.import_file(sdir / "songs.csv", "songs")
            rec.import_file(sdir / "posts.csv", "posts")
            print(f"imported {n:,} posts in {time.perf_counter() - t0:.0f}s", flush=True)
            rec.close()
            rows += measure(f"synthetic {n:,}", db, n, n <= args.local_max, args.master)
            write_results(
                args.name, {"results": rows, "partial": True}
            )  # a long run keeps what it has
            for f in Path(tmp).glob(f"syn{n}*"):  # free the disk for the next size
                shutil.rmtree(f) if f.is_dir() else f.unlink()
    print_table("Local vs Spark training: seconds per kind, driver peak RSS, agreement", rows)
    proj = projection(rows, args.cores, args.efficiency)
    if proj:
        print_table(
            "Projection to 1B posts", [{k: v for k, v in proj.items() if k != "assumptions"}]
        )
        for a in proj["assumptions"]:
            print(f"- {a}")
    write_results(args.name, {"results": rows, "projection": proj})


if __name__ == "__main__":
    main()
