"""The rooms and their doors (../shared/ARCHITECTURE.md): which package may import which,
where the environment is read, and a facade that runs on any store it is handed."""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.core.dataset import Dataset
from engine.core.errors import ModelNotTrained, UnknownHandle
from engine.core.filters import Filters
from engine.core.settings import Settings
from engine.lookalike import model as lookalike_model
from engine.lookalike.model import LookalikeConfig
from engine.service import Recommender

REPO = Path(__file__).resolve().parent.parent
CAPABILITIES = ("lookalike", "tags", "topics", "photos", "songs")


def imports_of(path: Path) -> list[str]:
    """Every module a file imports, top-level or inside a function."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def files(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def crossings() -> list[str]:
    """Each import that crosses a forbidden boundary, as 'file -> module (rule)'."""
    bad: list[str] = []

    def check(path: Path, allowed, rule: str) -> None:
        for module in imports_of(path):
            top = module.split(".")[0]
            if top in ("engine", "models", "bot") and not allowed(module):
                bad.append(f"{path.relative_to(REPO)} -> {module} ({rule})")

    def under(module: str, *prefixes: str) -> bool:
        return any(module == p or module.startswith(p + ".") for p in prefixes)

    for path in files("engine/core"):
        check(path, lambda m: under(m, "engine.core"), "core imports only core")
    for cap in CAPABILITIES:
        for path in files(f"engine/{cap}"):
            check(
                path,
                lambda m, cap=cap: under(m, "engine.core", f"engine.{cap}"),
                "a capability imports core (the kind contract lives there) and its own package",
            )
    for path in files("engine"):
        check(path, lambda m: not under(m, "bot"), "the engine never imports the bot")
    for path in files("models"):
        if path.name == "__main__.py":  # `python -m models`: an entry point, reads settings
            check(path, lambda m: under(m, "models", "engine.core.settings"), "entry point")
        else:
            check(path, lambda m: under(m, "models"), "models imports nothing from engine or bot")
    check(
        REPO / "migrations/env.py",
        lambda m: under(m, "models", "engine.core.settings"),
        "entry point",
    )
    for path in files("bot"):
        check(
            path,
            lambda m: under(m, "bot", "engine.service", "engine.bootstrap"),
            "bot imports only the facade and the assembly function",
        )
    return bad


def test_no_import_crosses_a_forbidden_boundary():
    assert crossings() == []


def test_the_boundary_check_catches_a_crossing(tmp_path, monkeypatch):
    """The check itself can fail: a models module that imports the engine is reported."""
    fake = tmp_path / "repo"
    for folder in ("engine/core", "models", "bot", "migrations"):
        (fake / folder).mkdir(parents=True)
    (fake / "migrations/env.py").write_text("")
    (fake / "models/store.py").write_text("from engine.core.dataset import Dataset\n")
    (fake / "bot/app.py").write_text("def f():\n    from models.store import Store\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", fake)
    assert crossings() == [
        "models/store.py -> engine.core.dataset (models imports nothing from engine or bot)",
        "bot/app.py -> models.store (bot imports only the facade and the assembly function)",
    ]


def test_no_capability_imports_training():
    """The kind contract and the registry live in engine/core: a capability stands on
    core, never on the pipeline that trains it."""
    bad = [
        f"{path.relative_to(REPO)} -> {module}"
        for cap in CAPABILITIES
        for path in files(f"engine/{cap}")
        for module in imports_of(path)
        if module == "engine.training" or module.startswith("engine.training.")
    ]
    assert bad == []


MAX_FUNCTION_LINES = 100


def test_no_function_is_longer_than_100_lines():
    """A function that long does more than one job; split it where the jobs part."""
    long = []
    for folder in ("bot", "engine", "models"):
        for path in files(folder):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_every_registered_kind_goes_through_the_contract_test():
    """tests/test_kind_contract.py is parametrised from the registry and has a probe
    (the answers compared through bytes) for each kind."""
    from engine.core.kinds import KIND_OBJECTS
    from tests import test_kind_contract as contract

    assert [p.values[0] for p in contract.KINDS] == list(KIND_OBJECTS)
    assert set(contract.PROBES) == set(KIND_OBJECTS)


def test_only_the_settings_modules_read_the_environment():
    readers = []
    for folder in ("engine", "models", "bot", "migrations"):
        for path in files(folder):
            text = path.read_text()
            if "os.environ" in text or "getenv(" in text:
                readers.append(str(path.relative_to(REPO)))
    assert sorted(readers) == ["bot/config.py", "engine/core/settings.py"]


def test_the_extractor_setting_is_part_of_the_photo_models_fingerprint(tmp_path):
    from engine.training.pipeline import kind_fingerprint

    base = Settings.from_env(f"sqlite:///{tmp_path / 'x.db'}")
    other = Settings(**{**base.__dict__, "mobilenet": "imagenet"})
    a = kind_fingerprint("data", "photos", base.training_config()["photos"])
    b = kind_fingerprint("data", "photos", other.training_config()["photos"])
    assert a != b  # so changing SCOUT_MOBILENET retrains photos without --force


def test_a_kinds_model_version_and_the_seed_are_part_of_its_fingerprint():
    """Raising a kind's model_version (a code change that makes its published models
    stale) or training with another seed retrains it without --force."""
    from engine.photos.kind import PHOTOS
    from engine.training.pipeline import kind_fingerprint

    config = {"mobilenet": "m.tflite"}
    v1 = kind_fingerprint("data", "photos", config)
    assert kind_fingerprint("data", "photos", config, 1, 42) == v1
    assert kind_fingerprint("data", "photos", config, PHOTOS.model_version) != v1
    assert kind_fingerprint("data", "photos", config, 1, 7) != v1
    assert kind_fingerprint("data", "photos", {"mobilenet": "other"}) != v1
    assert PHOTOS.model_version >= 2  # photos compared in the classifier layer's space


# ------------------------------------------------------------- a fake store
@dataclass(frozen=True)
class _Artifact:
    kind: str
    version: int
    created_at: datetime
    payload: bytes
    metrics: dict
    params: dict
    summary: str


class MemoryRegistry:
    def __init__(self) -> None:
        self.rows: dict[str, list[_Artifact]] = {}

    def put(self, kind: str, payload: bytes) -> None:
        versions = self.rows.setdefault(kind, [])
        versions.append(
            _Artifact(kind, len(versions) + 1, datetime(2026, 11, 30), payload, {}, {}, "fake")
        )

    def latest_version(self, kind: str) -> int | None:
        return self.rows[kind][-1].version if self.rows.get(kind) else None

    def get(self, kind: str, version: int) -> _Artifact:
        return self.rows[kind][version - 1]

    def latest_all(self) -> list[_Artifact]:
        return [v[-1] for v in self.rows.values() if v]


class MemoryStore:
    """Just the reads the facade makes, over frames held in memory."""

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.registry = MemoryRegistry()

    def find_handle(self, handle: str) -> str | None:
        hits = [h for h in self.data.influencers["handle"] if h.lower() == handle.lower()]
        return hits[0] if hits else None

    def handles_like(self, handle: str, limit: int = 5000) -> list[str]:
        return list(self.data.influencers["handle"])[:limit]

    def posts_frame(self, handles: list[str] | None = None) -> pd.DataFrame:
        posts = self.data.posts
        return posts if handles is None else posts[posts["handle"].isin(handles)]

    def dispose(self) -> None:
        pass


def tiny_dataset() -> Dataset:
    themes = {
        "food": "pasta recipe kitchen dinner",
        "cars": "engine turbo garage racing",
        "pets": "puppy kitten vet leash",
    }
    influencers, posts = [], []
    for theme, words in themes.items():
        for n in range(4):
            handle = f"{theme}_{n}"
            influencers.append({"handle": handle, "followers": 1000 * (n + 1), "language": "en"})
            for p in range(5):
                posts.append(
                    {
                        "post_id": f"{handle}-{p}",
                        "handle": handle,
                        "posted_at": pd.Timestamp("2026-11-01") + pd.Timedelta(days=p),
                        "caption": f"{words} day {p}",
                        "likes": 10,
                        "comments": 1,
                        "hashtags": [theme, words.split()[p % 4]],
                    }
                )
    inf = pd.DataFrame(influencers).assign(
        platform="instagram", name=None, following=None, posts_count=None, bio=None, country=None
    )
    frame = pd.DataFrame(posts).assign(platform="instagram", image=None, song_id=None)
    return Dataset(
        inf, frame, pd.DataFrame(columns=["song_id", "title", "artist", "release", "year"])
    )


def test_the_facade_answers_from_a_fake_in_memory_store_without_training(tmp_path):
    data = tiny_dataset()
    store = MemoryStore(data)
    model = lookalike_model.fit(data, LookalikeConfig(dims=8))
    store.registry.put("lookalike", model.to_bytes())
    rec = Recommender(store, Settings.from_env(f"sqlite:///{tmp_path / 'unused.db'}"))

    answer = rec.lookalike("@Food_1", k=3, method="ppmi")
    assert [r.id for r in answer.results] and all(r.id.startswith("food_") for r in answer.results)
    assert answer.meta["model_version"] == 1
    narrowed = rec.lookalike("food_1", k=3, method="ppmi", filters=Filters(followers_min=3500))
    assert narrowed.results[0].id == "food_3"  # the only food creator with 3,500+ followers
    assert {r.id for r in narrowed.results} <= {"food_3", "cars_3", "pets_3"}
    with pytest.raises(UnknownHandle) as err:
        rec.lookalike("fod_1")
    assert "food_1" in str(err.value)
    with pytest.raises(ModelNotTrained):
        rec.songs_for("food_1")
    assert [i.kind for i in rec.model_status()] == ["lookalike"]
    assert not (tmp_path / "unused.db").exists()  # no database was touched
    assert np.isfinite([r.score for r in answer.results]).all()
