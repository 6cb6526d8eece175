"""Shared fixtures: a real SQLite file per test, a real PostgreSQL database per test
session (created on the server at 127.0.0.1:5432 and dropped afterwards), and the
../shared folder. Missing ../shared fails the tests that need it, saying what is missing.
Missing Postgres fails them under CI=true (CI has Postgres, so its absence is a broken
run); on a developer's machine without it they are skipped with the reason and the
command that starts it. Tests that use the Postgres or ../shared fixtures are marked
`postgres`/`shared` here; `slow` is written on the tests themselves."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.core.settings import Settings

PG_ADMIN_URL = os.environ.get("SCOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# Fixtures that decide a test's markers: whoever uses one (directly or through another
# fixture) needs what the marker names. The demo data set is cut from ../shared's photos
# and its models are trained with ../shared's MobileNet weights. Training it is what
# makes a test slow (about 15 s, once per run), so its users stay out of `make test-fast`.
MARKER_FIXTURES = {
    "pg_url": "postgres",
    "shared_dir": "shared",
    "demo_small_dir": "shared",
    "trained_demo_db": "slow",
}
INVENTORY = pytest.StashKey[dict]()
REPO = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)  # before -m/-k deselect, so they see these markers
def pytest_collection_modifyitems(config, items) -> None:
    """Mark tests by the fixtures they use, so `-m "not postgres"` or `-m "not shared"`
    can never run a test that needs what it deselects (an explicit marker is kept), and
    keep what was collected for tests/test_suite_shape.py (written to the file named by
    SCOUT_TEST_INVENTORY when a subprocess collects for it)."""
    for item in items:
        for fixture, marker in MARKER_FIXTURES.items():
            if fixture in getattr(item, "fixturenames", ()) and not item.get_closest_marker(marker):
                item.add_marker(marker)
    inventory = {
        item.nodeid: {
            "markers": sorted({m.name for m in item.iter_markers()}),
            "fixtures": sorted(getattr(item, "fixturenames", ())),
            "function": getattr(getattr(item, "function", None), "__name__", item.name),
            "params": {
                k: str(v) for k, v in getattr(getattr(item, "callspec", None), "params", {}).items()
            },
        }
        for item in items
    }
    config.stash[INVENTORY] = inventory
    if os.environ.get("SCOUT_TEST_INVENTORY"):
        Path(os.environ["SCOUT_TEST_INVENTORY"]).write_text(json.dumps(inventory))


@pytest.fixture(scope="session")
def suite_inventory(request, tmp_path_factory) -> dict[str, dict]:
    """Every test of the suite (node id -> markers, fixtures, function, params), as
    collected before any -m/-k deselection. A run of the whole suite has it already; a
    run of a few files collects the whole suite once more in a subprocess."""
    inventory = request.config.stash.get(INVENTORY, {})
    have = {nodeid.split("::")[0] for nodeid in inventory}
    every = {f"tests/{p.name}" for p in (REPO / "tests").glob("test_*.py")}
    if every <= have:
        return inventory
    out = tmp_path_factory.mktemp("inventory") / "tests.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=REPO,
        env={**os.environ, "SCOUT_TEST_INVENTORY": str(out)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scout.db'}"


@pytest.fixture
def migrated_sqlite(sqlite_url: str) -> str:
    from models.migrate import upgrade

    upgrade(sqlite_url)
    return sqlite_url


@functools.cache
def _pg_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {str(err).splitlines()[0]}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards, so test runs
    (and engineers running tests side by side) never see each other's rows."""
    from sqlalchemy import create_engine, text

    problem = _pg_available()
    if problem:
        why = (
            f"this test needs PostgreSQL at {PG_ADMIN_URL}: {problem}. Start it (Debian: "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or "
            "point SCOUT_TEST_PG at a server, then `make test` runs these tests too"
        )
        if os.environ.get("CI", "").lower() == "true":  # CI has Postgres: its absence fails
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    name = f"scout_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request) -> str:
    """Run a test on both stores."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Settings.from_env().shared_dir
    if not (path / "README.md").is_file():
        pytest.fail(
            f"this test needs the shared data folder at {path} (set SCOUT_SHARED_DIR)",
            pytrace=False,
        )
    return path


@pytest.fixture
def fake_kinds(monkeypatch):
    """Replace the registered model kinds with the given fake ones for one test."""
    from engine.core import kinds as kinds_module

    registry = {}
    module = types.ModuleType("fake_kinds")
    monkeypatch.setitem(sys.modules, "fake_kinds", module)

    def use(*objs):
        registry.clear()
        for obj in objs:
            setattr(module, obj.kind, obj)
            registry[obj.kind] = f"fake_kinds:{obj.kind}"
        monkeypatch.setattr(kinds_module, "KIND_OBJECTS", dict(registry))

    return use


def _built_once(tmp_path_factory, name: str, build) -> Path:
    """`build(folder)` run once per test run, not once per xdist worker: the workers of
    one run share the parent of their base temp folders, and the first to take the lock
    builds there while the others wait and reuse it (a lone process builds in its own)."""
    import fcntl

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / f"built-{name}"
    with open(root / f"built-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".done").exists():
            folder.mkdir(exist_ok=True)
            build(folder)
            (folder / ".done").touch()
    return folder


@pytest.fixture(scope="session")
def demo_small_dir(tmp_path_factory) -> Path:
    """The small demo data set's files, generated once per test run."""
    from engine.demo.generate import generate

    folder = _built_once(
        tmp_path_factory, "demo", lambda f: generate(f / "small-42", size="small", seed=42)
    )
    return folder / "small-42"


def _train_demo(folder: Path, demo_dir: Path) -> None:
    import sqlite3

    from engine.bootstrap import scratch

    path = folder / "scout.db"
    rec = scratch(f"sqlite:///{path}", demo_dir)
    report = rec.train(log=lambda m: None)
    rec.close()
    assert report.ok, report.table()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="session")
def trained_demo_db(tmp_path_factory, demo_small_dir) -> Path:
    """A SQLite file with the small demo imported and every model trained, built once
    per test run (training it is the suite's costliest setup, ~25 s). Tests that write
    must copy it (`copy_db`)."""
    folder = _built_once(tmp_path_factory, "trained", lambda f: _train_demo(f, demo_small_dir))
    return folder / "scout.db"


@pytest.fixture
def copy_db(trained_demo_db, tmp_path) -> str:
    """A private, writable copy of the trained demo store; returns its URL."""
    import shutil

    target = tmp_path / "copy.db"
    shutil.copy(trained_demo_db, target)
    return f"sqlite:///{target}"


@pytest.fixture
def fake_slack():
    """A local fake of Slack's Web API over real HTTP (tests/fake_slack.py), per test."""
    from tests.fake_slack import FakeSlack

    fake = FakeSlack().start()
    yield fake
    fake.stop()
