"""The Spark training backend (issue 18): the same models as the local backend on the
small demo, the Parquet export, and the one-line reasons when Spark cannot run. One
SparkSession (local[2]) for the whole module: starting one costs 10-40 s."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from benchmarks.agreement import agreement, overlap
from engine.bootstrap import assemble, scratch
from engine.core.errors import ScoutError
from engine.core.kinds import kind_by_name

KINDS = ["lookalike", "tags", "songs"]
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None:
        pytest.fail(
            "the Spark tests need Java 17+ on PATH (apt-get install openjdk-17-jre-headless)"
        )
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("scout-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _models(admin) -> dict:
    return {k: kind_by_name(k).load(admin.artifact_bytes(k)) for k in KINDS}


@pytest.fixture(scope="module")
def both(tmp_path_factory, demo_small_dir, spark):
    """The small demo trained twice, local and Spark: per backend its models, its run's
    report and the admin part over its store."""
    out = {}
    for backend in ("local", "spark"):
        db = tmp_path_factory.mktemp(backend) / "scout.db"
        scratch(f"sqlite:///{db}", demo_small_dir).close()
        admin = assemble(f"sqlite:///{db}").admin
        report = admin.train(kinds=KINDS, backend=backend, log=lambda m: None)
        assert report.ok, report.table()
        out[backend] = (_models(admin), report, admin)
    yield out
    for _, _, admin in out.values():
        admin.close()


@pytest.mark.slow
def test_both_backends_give_the_same_top10_lists(both):
    got = agreement(both["local"][0], both["spark"][0], k=10)
    assert set(got) == {*KINDS, "trending"}  # trending: the songs model's weekly/monthly top 10
    for kind, share in got.items():
        assert share >= 0.9, f"{kind}: top-10 overlap {share:.3f} between backends"


@pytest.mark.slow
def test_the_spark_run_counts_every_post_and_publishes_every_kind(both):
    _, report, _ = both["spark"]
    assert {o.kind: o.status for o in report.outcomes} == dict.fromkeys(KINDS, "published")
    params = {}
    for backend in ("local", "spark"):
        admin = both[backend][2]
        latest = admin.latest_versions()["lookalike"]
        params[backend] = admin.artifact_info("lookalike", latest)["params"]
    assert (params["local"]["backend"], params["spark"]["backend"]) == ("local", "spark")
    # every post (row per author) was counted, though the driver held only a sample
    assert params["spark"]["data_posts"] == params["local"]["data_posts"] > 1000
    lookalike = both["spark"][0]["lookalike"]
    assert len(lookalike.handles) == len(both["local"][0]["lookalike"].handles)


def test_overlap_counts_shared_items():
    assert overlap(["a", "b"], ["b", "c"]) == 0.5
    assert overlap([], []) == 1.0


@pytest.mark.slow
def test_export_writes_every_table_in_chunks(tmp_path, demo_small_dir):
    url = f"sqlite:///{tmp_path / 's.db'}"
    scratch(url, demo_small_dir).close()
    admin = assemble(url).admin
    snap = admin.export_parquet(tmp_path / "snap", chunk_rows=500)
    counts = admin.counts()
    posts = pq.ParquetFile(snap.path("posts"))
    assert posts.metadata.num_rows == counts["posts"] == snap.rows["posts"]
    assert posts.num_row_groups == -(-counts["posts"] // 500)  # one row group per chunk
    authors = pq.read_table(snap.path("post_authors"))
    assert authors.num_rows == snap.rows["post_authors"] >= counts["posts"]
    assert set(authors.column_names) == {"post_pk", "influencer_id", "handle"}
    tags = pq.read_table(snap.path("post_hashtags"))
    assert tags.num_rows > counts["posts"]
    admin.close()


@pytest.mark.slow
def test_export_command_from_postgres(pg_url, tmp_path, demo_small_dir):
    scratch(pg_url, demo_small_dir).close()
    admin = assemble(pg_url).admin
    n_posts = admin.counts()["posts"]
    admin.close()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "export",
            "--db",
            pg_url,
            "--parquet",
            str(tmp_path / "p"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert pq.ParquetFile(tmp_path / "p" / "posts.parquet").metadata.num_rows == n_posts


def test_an_unknown_backend_is_one_line(tmp_path, demo_small_dir):
    rec = scratch(f"sqlite:///{tmp_path / 'u.db'}", demo_small_dir)
    with pytest.raises(ScoutError, match="unknown training backend 'hadoop'"):
        rec.train(backend="hadoop", log=lambda m: None)
    rec.close()


def test_missing_pyspark_says_how_to_install(monkeypatch):
    import builtins

    from engine.training.spark import session

    real = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name == "pyspark":
            raise ImportError("No module named 'pyspark'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(ScoutError, match=r"pip install -r requirements-spark.txt"):
        session.require_pyspark()


def test_settings_read_the_backend(monkeypatch):
    from engine.core.settings import Settings

    monkeypatch.setenv("SCOUT_TRAIN_BACKEND", "Spark")
    monkeypatch.setenv("SCOUT_SPARK_MASTER", "spark://h:7077")
    s = Settings.from_env("sqlite:///x.db")
    assert (s.train_backend, s.spark_master, s.spark_jdbc_jar) == ("spark", "spark://h:7077", None)
