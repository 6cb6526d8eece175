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
STORE_HOLDERS = {"engine/service.py", "engine/admin.py", "engine/bootstrap.py"}


def _loaded(url: str, tmp_path: Path) -> ScoutParts:
    parts = assemble(url, migrate=True)
    for kind, text in (("songs", SONGS), ("influencers", INFLUENCERS), ("posts", POSTS)):
        parts.admin.import_file(write(tmp_path, f"{kind}.csv", text), kind)
    return parts


def test_assemble_gives_named_parts_over_one_store(sqlite_url, tmp_path):
    parts = _loaded(sqlite_url, tmp_path)
    assert isinstance(parts.admin, Admin)
    assert isinstance(parts.workspace_ops, WorkspaceOps)
    assert parts.recommender.digests is parts.workspace_ops
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
