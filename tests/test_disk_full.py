"""A full disk during train or import is one line, not a 60-line traceback, and leaves
the store as it was (issue 29 point 9). Two ways to fill it: SQLite's own page limit
(`PRAGMA max_page_count`: the real SQLite reports SQLITE_FULL, "database or disk is
full", as it does on a full disk; runs everywhere) and, where this user may mount one,
a real 3 MB tmpfs that runs out of space (ENOSPC under SQLite)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text

import models.store
from engine.bootstrap import scratch
from engine.cli import main
from models.store import Store, database_problem
from tests.fakes import CountKind


class BulkyKind(CountKind):
    """CountKind with `size` incompressible bytes more in its payload."""

    def __init__(self, kind: str, size: int) -> None:
        super().__init__(kind)
        self.size = size

    def train(self, data, ctx):
        result = super().train(data, ctx)
        return dataclasses.replace(result, payload=result.payload + os.urandom(self.size))


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


def _posts_csv(path: Path, n: int, start: int = 0) -> Path:
    path.write_text(
        "handle,post_id,caption\n"
        + "".join(f"u{i % 7},p{i},sun sea sand word{i % 13}\n" for i in range(start, start + n))
    )
    return path


def _limit_pages(monkeypatch, url: str, headroom: int) -> None:
    """Every connection the commands open to `url` may grow the file by `headroom`
    pages only (SQLite's own limit, per connection)."""
    store = Store(url)
    with store.engine.connect() as conn:
        limit = conn.execute(text("PRAGMA page_count")).scalar() + headroom
    store.dispose()
    real = models.store.make_engine

    def make_engine(u: str):
        engine = real(u)

        @event.listens_for(engine, "connect")
        def _limit(dbapi_conn, _record) -> None:
            dbapi_conn.execute(f"PRAGMA max_page_count = {limit}")

        return engine

    monkeypatch.setattr(models.store, "make_engine", make_engine)


def test_a_full_database_while_publishing_is_one_line_and_publishes_nothing(
    sqlite_url, tmp_path, fake_kinds, monkeypatch, capsys
):
    rec = scratch(sqlite_url)
    rec.import_file(_posts_csv(tmp_path / "p.csv", 200), "posts")
    rec.close()
    fake_kinds(BulkyKind("bulky", 1000))
    assert main(["train", "--db", sqlite_url]) == 0  # v1, small
    capsys.readouterr()
    fake_kinds(BulkyKind("bulky", 4_000_000))
    _limit_pages(monkeypatch, sqlite_url, headroom=50)
    assert main(["train", "--force", "--db", sqlite_url]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: the disk is full while writing sqlite:///")
    assert "(free space and retry)" in line
    monkeypatch.undo()
    store = Store(sqlite_url)
    assert [(a.version, a.status) for a in store.registry.list("bulky")] == [(1, "published")]
    store.dispose()


def test_a_full_database_while_importing_is_one_line_and_imports_nothing(
    sqlite_url, tmp_path, monkeypatch, capsys
):
    rec = scratch(sqlite_url)
    rec.import_file(_posts_csv(tmp_path / "first.csv", 50), "posts")
    rec.close()
    _limit_pages(monkeypatch, sqlite_url, headroom=20)
    big = _posts_csv(tmp_path / "big.csv", 20_000, start=50)
    assert main(["import", "posts", str(big), "--db", sqlite_url, "--quiet"]) == 2
    assert "the disk is full while writing" in one_error_line(capsys)
    monkeypatch.undo()
    store = Store(sqlite_url)
    assert store.counts()["posts"] == 50  # the one transaction rolled back whole
    store.dispose()


def test_the_os_saying_no_space_left_is_one_line():
    err = OSError(28, "No space left on device", "/data/scout.db-wal")
    assert database_problem(err) == (
        "the disk is full while writing /data/scout.db-wal (free space and retry); "
        "the write in progress was rolled back, nothing half-written was kept"
    )
    assert database_problem(OSError(2, "No such file or directory", "x")) is None


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Path]:
    """A real 3 MB filesystem (tmpfs), where this user may mount one."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        why = f"this test mounts a 3 MB tmpfs and needs root: {done.stderr.strip()}"
        if os.environ.get("CI", "").lower() == "true":  # CI runs as root: a refusal is a fault
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_during_train_is_one_line(tiny_disk, fake_kinds, tmp_path, capsys):
    url = f"sqlite:///{tiny_disk / 'scout.db'}"
    rec = scratch(url)
    rec.import_file(_posts_csv(tmp_path / "p.csv", 200), "posts")
    rec.close()
    fake_kinds(BulkyKind("bulky", 6_000_000))  # twice what the disk holds
    assert main(["train", "--db", url]) == 2
    line = one_error_line(capsys)
    assert line.startswith("error: the disk is full while writing")
    store = Store(url)
    assert store.registry.list("bulky") == []
    assert store.counts()["posts"] == 200
    store.dispose()


def test_a_full_disk_behind_pandas_own_error_is_recognised(sqlite_url):
    """pandas wraps what the database raised in its own DatabaseError (train reads the
    store through pd.read_sql): the line must come from what is underneath."""
    import pandas as pd

    store = Store(sqlite_url)
    with store.engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x BLOB)"))
        pages = conn.execute(text("PRAGMA page_count")).scalar()
        conn.execute(text(f"PRAGMA max_page_count = {pages + 2}"))
        with pytest.raises(pd.errors.DatabaseError) as caught:
            pd.read_sql(text("INSERT INTO t VALUES (randomblob(100000)) RETURNING 1"), conn)
    store.dispose()
    line = database_problem(caught.value, sqlite_url)
    assert line is not None and line.startswith("the disk is full while writing sqlite:///")
