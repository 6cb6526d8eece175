"""The training pipeline and registry: one transaction per run, a crashing kind keeps its
version while the others publish, unchanged data skipped, worse models rejected by the
gate, rollback works."""

import io

import numpy as np
import pytest

from engine.core import kinds as kinds_module
from engine.core.artifact_io import pack, unpack
from engine.training.pipeline import run_training
from tests.fakes import CountKind, load_all


def test_publish_skip_gate_rollback(any_db_url, tmp_path, fake_kinds):
    store = load_all(any_db_url, tmp_path)
    fake_kinds(CountKind("alpha", 0.5), CountKind("beta", 0.8))
    report = run_training(store, log=lambda m: None)
    assert report.ok and [o.status for o in report.outcomes] == ["published", "published"]
    assert store.registry.latest_version("alpha") == 1
    assert report.outcomes[0].peak_rss_mb is None or report.outcomes[0].peak_rss_mb > 0
    # Unchanged data: nothing retrained.
    again = run_training(store, log=lambda m: None)
    assert [o.status for o in again.outcomes] == ["skipped", "skipped"]
    # A worse model is rejected by the gate (kept, with the reason), a better one published.
    fake_kinds(CountKind("alpha", 0.2), CountKind("beta", 0.9))
    gated = run_training(
        store, force=False, log=lambda m: None, config={"alpha": {"v": 2}, "beta": {"v": 2}}
    )
    status = {o.kind: o.status for o in gated.outcomes}
    assert status == {"alpha": "rejected", "beta": "published"}
    assert store.registry.latest_version("alpha") == 1
    rejected = [a for a in store.registry.list("alpha") if a.status == "rejected"]
    assert rejected and "fell from 0.5 to 0.2" in rejected[0].reason
    # Rollback republishes an old payload as the newest version.
    new = store.registry.rollback("beta", 1)
    assert new == 3 and store.registry.latest_version("beta") == 3
    model = kinds_module.kind_by_name("beta").load(store.registry.get("beta", 3).payload)
    assert model == {"chef.ana": 2, "new_person": 1}
    store.dispose()


def test_a_failing_kind_keeps_its_version_and_the_others_publish(
    migrated_sqlite, tmp_path, fake_kinds, caplog
):
    """A kind that crashes is `failed` with a one-line reason and keeps serving what it
    served; a kind depending on it is skipped with that reason; the rest publish, and the
    failure is recorded in the registry (engine models list, the App Home)."""
    from engine.core.settings import Settings
    from engine.service import Recommender

    store = load_all(migrated_sqlite, tmp_path)
    fake_kinds(CountKind("alpha"), CountKind("broken"))
    assert run_training(store, log=lambda m: None).ok
    assert store.registry.latest_version("broken") == 1
    child = CountKind("child")
    child.depends_on = ("broken",)
    fake_kinds(CountKind("alpha"), CountKind("broken", fail=True), child)
    lines: list[str] = []
    report = run_training(store, force=True, log=lines.append)
    assert not report.ok and [o.kind for o in report.failed] == ["broken"]
    outcome = {o.kind: o for o in report.outcomes}
    assert outcome["alpha"].status == "published" and outcome["alpha"].version == 2
    assert outcome["child"].status == "skipped"
    assert outcome["child"].message.startswith("needs broken: failed (RuntimeError: boom")
    reason = outcome["broken"].message
    assert reason.startswith("RuntimeError: boom at ") and "\n" not in reason
    assert "in train" in reason  # where it was raised, not only the exception's name
    # serving: alpha moved on, broken still serves the version it had
    assert {a.kind: a.version for a in store.registry.latest_all()} == {"alpha": 2, "broken": 1}
    failed = [a for a in store.registry.list("broken") if a.status == "failed"]
    assert len(failed) == 1 and failed[0].reason == reason and failed[0].size_bytes == 0
    # the traceback went to the log, the progress lines carry the one-line reason
    assert "Traceback" in caplog.text and not any("Traceback" in line for line in lines)
    assert any(f"broken failed: {reason}" in line for line in lines)
    assert "Traceback" not in report.table() and reason in report.table()
    # the App Home reads the failure from the registry; a failed row cannot be rolled back to
    rec = Recommender(store, Settings.from_env(migrated_sqlite))
    (failure,) = rec.training_failures()
    assert (failure.kind, failure.serving, failure.reason) == ("broken", 1, reason)
    with pytest.raises(ValueError, match="failed training"):
        store.registry.rollback("broken", failed[0].version)
    # a later successful training clears it
    fake_kinds(CountKind("alpha"), CountKind("broken"), child)
    assert run_training(store, force=True, log=lambda m: None).ok
    assert rec.training_failures() == []


def test_retention_keeps_last_n(migrated_sqlite, tmp_path, fake_kinds):
    store = load_all(migrated_sqlite, tmp_path)
    fake_kinds(CountKind("alpha"))
    for _ in range(4):
        run_training(store, force=True, keep=2, log=lambda m: None)
    assert [a.version for a in store.registry.list("alpha")] == [4, 3]


def test_artifact_io_refuses_objects_and_round_trips():
    payload = pack({"v": np.arange(3, dtype=np.float32), "s": np.array(["a", "bé"])}, {"k": 1})
    arrays, meta = unpack(payload)
    assert meta == {"k": 1} and arrays["s"].tolist() == ["a", "bé"]
    with pytest.raises(TypeError):
        pack({"o": np.array([{"x": 1}], dtype=object)})


def test_artifact_io_loads_views_legacy_npz_and_empty_arrays():
    big = np.arange(10_000, dtype=np.float32).reshape(100, 100)
    payload = pack({"big": big, "none": np.zeros((0, 4), dtype=np.int32), "b": np.array([True])})
    arrays, meta = unpack(payload)
    assert meta == {} and np.array_equal(arrays["big"], big) and arrays["b"].tolist() == [True]
    assert arrays["none"].shape == (0, 4) and arrays["none"].dtype == np.int32
    # Loaded arrays share the payload's memory (no copy) and cannot be changed by accident.
    assert not arrays["big"].flags.writeable
    with pytest.raises(ValueError):
        arrays["big"][0, 0] = 1
    # Artifacts stored before this format (npz archives) still load.
    buf = io.BytesIO()
    np.savez(buf, __meta__=np.frombuffer(b'{"k": 2}', dtype=np.uint8), v=big[:2])
    arrays, meta = unpack(buf.getvalue())
    assert meta == {"k": 2} and np.array_equal(arrays["v"], big[:2])


def test_large_payloads_come_back_whole_from_parallel_slices(any_db_url, monkeypatch):
    """Postgres reads big payloads as slices over several connections; every byte must
    come back in order, whatever the size's remainder."""
    from models import registry as registry_module
    from models.migrate import upgrade
    from models.registry import NewArtifact
    from models.store import Store

    monkeypatch.setattr(registry_module, "_PARALLEL_BYTES", 1000)
    upgrade(any_db_url)
    store = Store(any_db_url)
    payload = np.random.default_rng(0).bytes(1_000_003)
    version = store.registry.publish([NewArtifact("blob", payload, {}, {}, "f")])["blob"]
    assert store.registry.get("blob", version).payload == payload
    store.dispose()
