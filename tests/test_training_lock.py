"""The training lock lost with its connection (issue 29 point 6): a run whose Postgres
backend is terminated mid-training must not publish once a second run has taken the
lock; the second run publishes, the first says in one line that it lost the lock.
Before, both published and the first then exited 2 with a traceback from the unlock."""

from __future__ import annotations

import threading
import zlib
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.bootstrap import scratch
from engine.cli import main
from engine.training.pipeline import TRAIN_LOCK
from models import locks
from models.registry import NewArtifact
from models.store import Store
from tests.fakes import CountKind


class GateKind(CountKind):
    """CountKind whose first fit waits until the test says go, so the test decides
    what happens while a run is mid-training."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.started, self.go, self.calls = threading.Event(), threading.Event(), 0

    def train(self, data, ctx):
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            assert self.go.wait(120), "the test never let the first run go on"
        return super().train(data, ctx)


def _store_with_posts(url: str, tmp_path: Path) -> None:
    rec = scratch(url)
    (tmp_path / "p.csv").write_text(
        "handle,post_id,caption\n" + "".join(f"u{i % 4},p{i},sun sea {i}\n" for i in range(40))
    )
    rec.import_file(tmp_path / "p.csv", "posts")
    rec.close()


def _lock_backends(store: Store) -> list[int]:
    key = zlib.crc32(f"scout:{TRAIN_LOCK}".encode())
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 "
                    "AND objid::bigint = :k AND granted"
                ),
                {"k": key},
            ).scalars()
        )


def _terminate_lock_backend(store: Store) -> None:
    pids = _lock_backends(store)
    assert len(pids) == 1, pids
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pids[0]}).scalar()
    for _ in range(100):  # the lock goes when the backend has exited
        if not _lock_backends(store):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the terminated backend still holds the lock")


@pytest.mark.postgres
@pytest.mark.slow
def test_a_run_whose_lock_backend_was_killed_never_publishes(pg_url, tmp_path, fake_kinds, capsys):
    _store_with_posts(pg_url, tmp_path)
    gate = GateKind("gate")
    fake_kinds(gate)
    codes: dict[str, int] = {}
    first = threading.Thread(target=lambda: codes.update(first=main(["train", "--db", pg_url])))
    first.start()
    store = Store(pg_url)
    try:
        assert gate.started.wait(60), "the first run never started fitting"
        _terminate_lock_backend(store)
        codes["second"] = main(["train", "--db", pg_url])  # the lock is free: it runs
        gate.go.set()
        first.join(120)
        assert not first.is_alive()
        assert codes == {"first": 2, "second": 0}
        rows = store.registry.list("gate")
        assert [(a.version, a.status) for a in rows] == [(1, "published")]  # once, not twice
        err = capsys.readouterr().err
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert errors == [
            "error: this run lost the train lock (its database connection ended) and another "
            "run may hold it now; nothing was published by this run"
        ]
        assert "Traceback" not in err
    finally:
        gate.go.set()
        store.dispose()


@pytest.mark.postgres
def test_still_held_is_asked_on_the_locks_own_connection(pg_url):
    from models.migrate import upgrade

    upgrade(pg_url)
    store = Store(pg_url)
    other = Store(pg_url)
    try:
        with locks.exclusive(store, TRAIN_LOCK) as held:
            assert held and held.still_held()
            with locks.exclusive(other, TRAIN_LOCK) as second:
                assert not second and not second.still_held()
            _terminate_lock_backend(other)
            assert not held.still_held()
            with locks.exclusive(other, TRAIN_LOCK) as second:  # free: taken by another
                assert second and second.still_held()
                with pytest.raises(locks.LockLost):
                    store.registry.publish([_artifact()], guard=held)
                assert store.registry.publish([_artifact()], guard=second) == {"gate": 1}
        # the killed holder's exit released nothing it no longer had, and raised nothing
        assert [a.version for a in store.registry.list("gate")] == [1]
    finally:
        store.dispose()
        other.dispose()


def test_a_replaced_sqlite_lock_file_is_a_lost_lock(migrated_sqlite):
    store = Store(migrated_sqlite)
    try:
        with locks.exclusive(store, TRAIN_LOCK) as held:
            assert held.still_held()
            assert store.registry.publish([_artifact()], guard=held) == {"gate": 1}
            path = Path(f"{migrated_sqlite.removeprefix('sqlite:///')}.{TRAIN_LOCK}.lock")
            path.unlink()  # a second run would now flock a new file and run
            with locks.exclusive(store, TRAIN_LOCK) as second:
                assert second
                assert not held.still_held()
                with pytest.raises(locks.LockLost, match="lost the train lock .its lock file was"):
                    store.registry.publish([_artifact()], guard=held)
        assert [a.version for a in store.registry.list("gate")] == [1]
    finally:
        store.dispose()


def _artifact() -> NewArtifact:
    return NewArtifact("gate", b"payload", {}, {}, "fp")
