"""Concurrent imports of overlapping files into one Postgres database: real
`python -m engine import` processes at once. Before the global table lock order 4 of 8
post imports died of `deadlock detected` (raw tracebacks); now every one succeeds, the
store holds each row once, and the imports' own `new` counts add up to what is stored.
Also the retry itself, on a deadlock Postgres really detects."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from models.migrate import upgrade
from models.store import Store

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

IMPORTS = 8
ROOT = Path(__file__).resolve().parents[1]


def _post(i: int) -> list:
    """Post i of the pool, the same in every file that has it."""
    return [f"user{i % 300:03d}", f"p{i:06d}", "2026-05-01T10:00:00", f"caption {i}",
            f"#t{i % 50} #x{i % 7}", i % 900, 3]  # fmt: skip


def _write_posts(folder: Path, rng: random.Random) -> tuple[list[Path], set[int]]:
    files, union = [], set()
    for f in range(IMPORTS):
        rows = rng.sample(range(6000), 3000)  # overlapping, in a different order each
        union.update(rows)
        path = folder / f"posts_{f}.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                ["handle", "post_id", "posted_at", "caption", "hashtags", "likes", "comments"]
            )
            w.writerows(_post(i) for i in rows)
        files.append(path)
    return files, union


def _write_influencers(folder: Path, rng: random.Random) -> tuple[list[Path], set[int]]:
    files, union = [], set()
    for f in range(IMPORTS):
        rows = rng.sample(range(8000), 3000)
        union.update(rows)
        path = folder / f"influencers_{f}.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["handle", "name", "followers", "platform"])
            w.writerows([f"inf{i:05d}", f"Inf {i}", i * 10, "instagram"] for i in rows)
        files.append(path)
    return files, union


def _import_all(kind: str, files: list[Path], url: str) -> list[dict]:
    """Every file imported by its own process, all started at once; their --json."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "engine", "import", kind, str(p), "--db", url, "--json"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in files
    ]
    outs = [(p, *p.communicate(timeout=600)) for p in procs]
    for proc, _out, err in outs:
        assert proc.returncode == 0, err[-2000:]
        assert "Traceback" not in err
    return [json.loads(out)["details"] for _proc, out, _err in outs]


def _count(store: Store, sql: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar())


def test_concurrent_post_imports_all_succeed_with_the_right_counts(pg_url, tmp_path):
    upgrade(pg_url)
    files, union = _write_posts(tmp_path, random.Random(5))
    reports = _import_all("posts", files, pg_url)
    store = Store(pg_url)
    try:
        assert _count(store, "SELECT count(*) FROM posts") == len(union)
        assert _count(store, "SELECT count(*) FROM post_authors") == len(union)
        assert _count(store, "SELECT count(*) FROM post_hashtags") == 2 * len(union)
        assert _count(store, "SELECT count(*) FROM influencers") == len({i % 300 for i in union})
        assert _count(store, "SELECT sum(likes) FROM posts") == sum(i % 900 for i in union)
        assert sum(r["new"] for r in reports) == len(union)  # each new post counted once
        assert all(r["rows"] == 3000 for r in reports)
    finally:
        store.dispose()


def test_concurrent_influencer_imports_all_succeed_with_the_right_counts(pg_url, tmp_path):
    upgrade(pg_url)
    files, union = _write_influencers(tmp_path, random.Random(6))
    reports = _import_all("influencers", files, pg_url)
    store = Store(pg_url)
    try:
        assert _count(store, "SELECT count(*) FROM influencers") == len(union)
        assert _count(store, "SELECT sum(followers) FROM influencers") == 10 * sum(union)
        # counted under the table's lock: no import counts another's new rows
        assert sum(r["new"] for r in reports) == len(union)
    finally:
        store.dispose()


def test_a_real_deadlock_is_retried_until_both_transactions_commit(pg_url, caplog):
    """Two transactions lock two rows in opposite orders: Postgres aborts one as a
    deadlock; models.retry runs it again and both end committed."""
    from models import retry

    upgrade(pg_url)
    setup = Store(pg_url)
    with setup.engine.begin() as conn:
        conn.execute(text("INSERT INTO songs (song_id, title) VALUES ('a', '0'), ('b', '0')"))
    both_hold_one = threading.Barrier(2, timeout=30)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def run(first: str, second: str) -> None:
        store = Store(pg_url)

        def work(session) -> None:
            attempts.append(first)
            for i, song in enumerate((first, second)):
                session.execute(
                    text("UPDATE songs SET title = (title::int + 1)::text WHERE song_id = :s"),
                    {"s": song},
                )
                if i == 0 and len(attempts) <= 2:  # only the first try of each waits
                    both_hold_one.wait()

        try:
            retry.in_transaction(store, work, what="test", first_pause_s=0.05)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
        finally:
            store.dispose()

    threads = [threading.Thread(target=run, args=p) for p in (("a", "b"), ("b", "a"))]
    with caplog.at_level("WARNING", logger="models.retry"):
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    assert len(attempts) == 3  # two first tries, one of them aborted and run again
    assert "deadlock detected" in caplog.text
    with setup.engine.connect() as conn:  # each transaction added 1 to both rows, once
        titles = conn.execute(text("SELECT title FROM songs ORDER BY song_id")).scalars().all()
    assert titles == ["2", "2"]
    setup.dispose()


def test_an_error_that_is_not_transient_is_raised_at_once(pg_url):
    from sqlalchemy.exc import IntegrityError

    from models import retry

    upgrade(pg_url)
    store = Store(pg_url)
    calls: list[int] = []

    def work(session) -> None:
        calls.append(1)
        session.execute(text("INSERT INTO songs (song_id) VALUES ('x'), ('x')"))

    with pytest.raises(IntegrityError):
        retry.in_transaction(store, work)
    assert calls == [1]
    store.dispose()


def test_a_deadlock_that_escapes_is_one_line_even_raw_from_the_driver(pg_url):
    """Statements on the raw driver connection (COPY) raise psycopg's own errors,
    unwrapped: once the retries are spent, the CLI's line must still come out."""
    import psycopg

    from models.store import database_problem

    upgrade(pg_url)
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO songs (song_id) VALUES ('a'), ('b')")
    both_hold_one = threading.Barrier(2, timeout=30)
    raised: list[BaseException] = []

    def run(first: str, second: str) -> None:
        with psycopg.connect(dsn) as conn:
            try:
                conn.execute("UPDATE songs SET title = 'x' WHERE song_id = %s", (first,))
                both_hold_one.wait()
                conn.execute("UPDATE songs SET title = 'x' WHERE song_id = %s", (second,))
            except psycopg.Error as err:
                raised.append(err)

    threads = [threading.Thread(target=run, args=p) for p in (("a", "b"), ("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(raised) == 1 and isinstance(raised[0], psycopg.errors.DeadlockDetected)
    line = database_problem(raised[0], pg_url)
    assert line == (
        "other writers kept the database busy (deadlock detected) through every retry; "
        "the write was rolled back, try again"
    )
