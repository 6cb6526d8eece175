"""Serving processes pick up newly published versions without a restart; a query in
flight keeps the model object it started with; a version that fails to load leaves the
previous one serving."""

import logging

from engine.bootstrap import bootstrap
from engine.core.settings import Settings
from engine.training.pipeline import run_training
from tests.fakes import CountKind, load_all


class BrokenLoadKind(CountKind):
    def load(self, payload):
        raise ValueError("corrupt payload")


def test_recommender_swaps_to_new_versions_and_survives_a_bad_one(
    migrated_sqlite,
    tmp_path,
    fake_kinds,
    caplog,
):
    store = load_all(migrated_sqlite, tmp_path)
    fake_kinds(CountKind("alpha"))
    run_training(store, log=lambda m: None)
    settings = Settings.from_env(migrated_sqlite)
    rec = bootstrap(settings=type(settings)(**{**settings.__dict__, "reload_seconds": 0.0}))
    held = rec.model("alpha")
    assert rec.model_version("alpha") == 1 and held == {"chef.ana": 2, "new_person": 1}

    run_training(store, force=True, log=lambda m: None)
    assert rec.model_version("alpha") == 2
    assert held == {"chef.ana": 2, "new_person": 1}  # the old object is untouched

    fake_kinds(BrokenLoadKind("alpha"))
    run_training(store, force=True, log=lambda m: None)  # publishes v3, which cannot load
    with caplog.at_level(logging.ERROR):
        assert rec.model_version("alpha") == 2
    assert "loading alpha v3 failed; keeping v2" in caplog.text
    assert [m.version for m in rec.model_status()] == [3]


class WarmCounts(dict):
    """A loaded model that needs a slow warm-up before it can answer quickly."""

    warmed = False

    def warm(self):
        import time

        time.sleep(0.5)
        self.warmed = True


class SlowWarmKind(CountKind):
    def load(self, payload):
        return WarmCounts(super().load(payload))


def test_a_server_keeps_answering_from_the_old_version_while_the_new_one_warms(
    migrated_sqlite, tmp_path, fake_kinds
):
    import time

    store = load_all(migrated_sqlite, tmp_path)
    fake_kinds(SlowWarmKind("alpha"))
    run_training(store, log=lambda m: None)
    settings = Settings.from_env(migrated_sqlite)
    settings = type(settings)(**{**settings.__dict__, "reload_seconds": 0.0})
    rec = bootstrap(settings=settings, background_reload=True)
    first = rec.model("alpha")  # nothing loaded yet: this query loads (and warms) v1
    assert first.warmed and rec.model_version("alpha") == 1

    run_training(store, force=True, log=lambda m: None)  # publishes v2
    t0 = time.perf_counter()
    assert rec.model_version("alpha") == 1  # noticed v2, still answers from v1 ...
    assert time.perf_counter() - t0 < 0.4  # ... without waiting for v2's warm-up
    rec.wait_for_reloads(timeout=10)
    assert rec.model_version("alpha") == 2 and rec.model("alpha").warmed

    fake_kinds(BrokenLoadKind("alpha"))
    run_training(store, force=True, log=lambda m: None)  # v3 cannot load
    assert rec.model_version("alpha") == 2
    rec.wait_for_reloads(timeout=10)
    assert rec.model_version("alpha") == 2  # the failed load left v2 serving
