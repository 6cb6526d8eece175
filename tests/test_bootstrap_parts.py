"""The facade has no side doors: `assemble` hands a process its named parts over one
private store, and the product code reaches the store through none of them."""

import re
from pathlib import Path

import pytest

from engine.admin import Admin
from engine.bootstrap import ScoutParts, assemble
from engine.core.errors import ScoutError
from engine.workspace_ops import WorkspaceOps
from tests.fakes import INFLUENCERS, POSTS, SONGS, write

REPO = Path(__file__).resolve().parents[1]
STORE_HOLDERS = {
    "engine/service.py",
    "engine/admin.py",
    "engine/workspace_ops.py",
    "engine/bootstrap.py",
}
# `rec.store`, `self.rec._store`, `recommender.store`, `bootstrap(url).store`, ...
RECOMMENDERS_STORE = re.compile(r"(?:\b\w*rec\w*|\))\._?store\b")


def _loaded(url: str, tmp_path: Path) -> ScoutParts:
    parts = assemble(url, migrate=True)
    for kind, text in (("songs", SONGS), ("influencers", INFLUENCERS), ("posts", POSTS)):
        parts.admin.import_file(write(tmp_path, f"{kind}.csv", text), kind)
    return parts


def test_assemble_gives_named_parts_over_one_store(sqlite_url, tmp_path):
    parts = _loaded(sqlite_url, tmp_path)
    assert isinstance(parts.admin, Admin)
    assert isinstance(parts.workspace_ops, WorkspaceOps)
    assert not hasattr(parts.recommender, "digests")  # no side door to the workspace
    assert parts.admin.counts() == {"influencers": 3, "posts": 3, "songs": 2}
    assert parts.admin.versions() == [] and parts.admin.latest_versions() == {}
    sub = parts.workspace_ops.subscribe("T1", "C1", "09:00", "UTC", "U1")
    assert parts.workspace_ops.subscription("T1", "C1").id == sub.id
    parts.close()


def test_profile_er_is_the_engine_formula(sqlite_url, tmp_path):
    rec = _loaded(sqlite_url, tmp_path).recommender
    # chef.ana: two posts, (400 + 12.5) / 12,000 followers
    assert rec.influencer_profile("@Chef.Ana")["er"] == pytest.approx(3.4375)
    assert rec.influencer_profile("runner_bo")["er"] is None  # no posts
    assert rec.influencer_profile("new_person")["er"] is None  # no follower count
    rec.close()


def test_read_only_commands_refuse_a_missing_sqlite_file(tmp_path):
    missing = tmp_path / "typo.db"
    with pytest.raises(ScoutError, match="no database file"):
        assemble(f"sqlite:///{missing}", must_exist=True)
    assert not missing.exists()


def test_no_product_code_reaches_into_the_store():
    """bot/, the CLI and its commands use the facade's methods, never `.store`."""
    found = []
    paths = [*REPO.glob("bot/**/*.py"), *REPO.glob("engine/commands/*.py"), REPO / "engine/cli.py"]
    for path in paths:
        rel = str(path.relative_to(REPO))
        if rel in STORE_HOLDERS:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.store\b", line.split("#")[0]):
                found.append(f"{rel}:{n}: {line.strip()}")
    assert found == []


def _lines(*patterns: str):
    """(relative path, line number, code without its comment) of every .py file under
    `patterns`, the store holders left out."""
    for pattern in patterns:
        for path in sorted(REPO.glob(pattern)):
            rel = str(path.relative_to(REPO))
            if rel in STORE_HOLDERS or rel == "tests/test_bootstrap_parts.py":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                yield rel, n, line.split("#")[0]


def test_nothing_reads_the_recommenders_store():
    """Benchmarks and tests reach the store through the parts (`admin`), or open their
    own models.store.Store on the same URL; none through the recommender."""
    found = [
        f"{rel}:{n}: {code.strip()}"
        for rel, n, code in _lines("bot/**/*.py", "engine/**/*.py", "benchmarks/*.py", "tests/*.py")
        if RECOMMENDERS_STORE.search(code)
    ]
    assert found == []
    benchmarks = [
        f"{rel}:{n}: {code.strip()}"
        for rel, n, code in _lines("benchmarks/*.py")
        if re.search(r"(?<!models)\._?store\b", code)
    ]
    assert benchmarks == []  # benchmarks, like the product, go through the parts


def test_the_recommender_has_no_public_store(sqlite_url, tmp_path):
    parts = _loaded(sqlite_url, tmp_path)
    rec = parts.recommender
    assert not hasattr(rec, "store")
    assert [name for name in vars(rec) if "store" in name and not name.startswith("_")] == []
    handles = parts.admin.dataset().influencers["handle"]
    assert sorted(handles) == ["chef.ana", "new_person", "runner_bo"]
    with pytest.raises(ScoutError, match="no published version of tags"):
        parts.admin.artifact_bytes("tags")
    parts.close()


def test_the_bot_hands_its_router_the_workspace_part(sqlite_url, tmp_path, monkeypatch):
    """bot.app.load_parts: the parts of `assemble`, the recommender swapped for the one
    SCOUT_RECOMMENDER makes; the router's digests go to the real workspace part."""
    from bot.app import load_parts
    from bot.config import BotConfig
    from bot.router import Caller, Scout
    from tests.bot_fakes import FakeRecommender

    _loaded(sqlite_url, tmp_path).close()
    monkeypatch.setenv("SCOUT_RECOMMENDER", "tests.bot_fakes:make")
    parts = load_parts(BotConfig.from_env(), sqlite_url)
    assert isinstance(parts.recommender, FakeRecommender)
    assert isinstance(parts.workspace_ops, WorkspaceOps)
    scout = Scout(parts.recommender, parts.workspace_ops)
    assert scout.workspace is parts.workspace_ops
    reply = scout.command("digest", "on 09:00 UTC", Caller("T1", "C1", "U1"))
    assert ":white_check_mark:" in reply.text
    assert parts.workspace_ops.subscription("T1", "C1").local_time == "09:00"
    parts.close()


def test_nothing_reaches_the_workspace_through_the_recommender():
    found = [
        f"{rel}:{n}: {code.strip()}"
        for rel, n, code in _lines("bot/**/*.py", "engine/**/*.py", "benchmarks/*.py", "tests/*.py")
        if re.search(r"\.digests\b", code)
    ]
    assert found == []
