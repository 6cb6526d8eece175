"""The contract every model kind in the registry keeps: it fits on a small real data set
(the small demo), its model goes through bytes and back answering exactly as before, and
its `load` refuses what it was not written to read (another format version, another
kind's payload, bytes from before the envelope) with a one-line ScoutError instead of
misreading them. The parametrisation is the registry itself, so a new kind is covered
(or fails here) the day it is registered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine.bootstrap import bootstrap
from engine.core.artifact_io import PayloadRefused, pack, unpack
from engine.core.contract import TrainContext
from engine.core.dataset import Dataset
from engine.core.errors import ModelNotTrained, ScoutError
from engine.core.kinds import KIND_OBJECTS, kind_by_name
from engine.core.settings import Settings
from models.registry import NewArtifact
from models.store import Store


def _lookalike(model: Any) -> Any:
    from engine.lookalike.query import lookalike

    return [lookalike(model, str(h), k=5).to_json() for h in model.handles[:3]]


def _tags(model: Any) -> Any:
    tags = [str(t) for t in model.tags[:3]]
    return [model.related_tags(t, k=5).to_json() for t in tags] + [
        model.bloggers_for_topic(t, k=5).to_json() for t in tags
    ]


def _topics(model: Any) -> Any:
    labels, sims = model.assign(model.centroids)
    return {
        "names": [model.name(t.id) for t in model.topics],
        "of": model.topics_of([str(h) for h in model.handles]).tolist(),
        "assign": (labels.tolist(), [round(float(s), 6) for s in sims]),
    }


def _songs(model: Any) -> Any:
    return [model.songs_for(str(h), k=5).to_json() for h in model.usage.users[:3]]


def _photos(model: Any) -> Any:
    rows = range(min(3, model.n_images))
    return [model.hashtags_for_row(r, n=5).to_json() for r in rows]


def _vet(model: Any) -> Any:
    import numpy as np

    rows = np.linspace(0.0, 8.0, 4 * 11, dtype=np.float32).reshape(4, 11)  # feature rows
    return {"p_fake": model.fake_probability(rows).tolist(), "metrics": model.metrics}


# kind -> the answers that must not change through bytes. A kind missing here fails.
PROBES: dict[str, Callable[[Any], Any]] = {
    "lookalike": _lookalike,
    "tags": _tags,
    "topics": _topics,
    "songs": _songs,
    "photos": _photos,
    "vet": _vet,
}
NEEDS_SHARED = {"photos", "vet"}  # the MobileNet weights, the InstaFake accounts
KINDS = [
    pytest.param(name, marks=[pytest.mark.shared] if name in NEEDS_SHARED else [])
    for name in KIND_OBJECTS
]


def _context(store: Store, name: str, db: str) -> TrainContext:
    """The context the pipeline gives `name`: its configured section, the store's feature
    cache and, for kinds it depends on or uses, their published models."""
    kind = kind_by_name(name)
    ctx = TrainContext(
        config=Settings.from_env(db).training_config().get(name, {}),
        feature_cache=store.feature_cache(),
    )
    for dep in (*getattr(kind, "depends_on", ()), *getattr(kind, "uses", ())):
        info = store.registry.latest_info(dep)
        if info is not None:
            ctx.trained[dep] = kind_by_name(dep).load(store.registry.get(dep, info.version).payload)
    return ctx


@pytest.fixture
def fitted(request, copy_db):
    """(kind name, TrainResult, store) for one kind fitted on the small demo."""
    name = request.param
    store = Store(copy_db)
    result = kind_by_name(name).train(Dataset.read(store), _context(store, name, copy_db))
    yield name, result, store
    store.dispose()


def _reenvelope(payload: bytes, **header: Any) -> bytes:
    """The same arrays under another envelope header (or none, as before the envelope)."""
    arrays, meta = unpack(payload)
    envelope = meta.pop("__model__")
    if header:
        meta["__model__"] = {**envelope, **header}
    return pack(dict(arrays), meta)


def test_every_registered_kind_has_a_probe():
    assert set(PROBES) == set(KIND_OBJECTS)


@pytest.mark.slow
@pytest.mark.parametrize("fitted", KINDS, indirect=True)
def test_a_kind_fits_and_answers_the_same_after_bytes(fitted):
    name, result, _store = fitted
    kind = kind_by_name(name)
    assert result.payload and result.model is not None
    loaded = kind.load(result.payload)
    assert type(loaded) is type(result.model)
    before, after = PROBES[name](result.model), PROBES[name](loaded)
    assert before == after
    assert any(after if isinstance(after, list) else after.values())  # it answered something
    assert loaded.to_bytes() == result.payload  # nothing lost or changed on the way


@pytest.mark.slow
@pytest.mark.parametrize("fitted", KINDS, indirect=True)
def test_a_kind_refuses_what_it_was_not_written_to_read(fitted):
    name, result, store = fitted
    kind = kind_by_name(name)
    arrays, meta = unpack(result.payload)
    version = meta["__model__"]["format"]
    refusals = {
        "a newer format": _reenvelope(result.payload, format=version + 1),
        "an older format": _reenvelope(result.payload, format=version - 1),
        "another kind's name": _reenvelope(result.payload, kind=f"not-{name}"),
        "no envelope (before it existed)": _reenvelope(result.payload),
        "not a payload at all": b"definitely not a model",
    }
    others = [k for k in KIND_OBJECTS if k != name and store.registry.latest_info(k)]
    assert others, "the trained demo store should hold other kinds' models"
    other = store.registry.latest_info(others[0])
    refusals["another kind's payload"] = store.registry.get(other.kind, other.version).payload
    for what, payload in refusals.items():
        with pytest.raises(PayloadRefused) as err:
            kind.load(payload)
        assert isinstance(err.value, ScoutError), what
        message = str(err.value)
        assert "\n" not in message and name in message, (what, message)


@pytest.mark.slow
def test_a_published_payload_from_before_the_envelope_needs_a_retrain_not_a_crash(copy_db):
    """Serving a store whose newest lookalike model this code refuses: the query says the
    model needs training (ModelNotTrained, one line), and `engine train` retrains it."""
    store = Store(copy_db)
    info = store.registry.latest_info("lookalike")
    old = _reenvelope(store.registry.get("lookalike", info.version).payload)
    store.registry.publish([NewArtifact("lookalike", old, {}, {}, "old-fingerprint")])
    rec = bootstrap(copy_db)
    served = kind_by_name("lookalike").load(store.registry.get("lookalike", info.version).payload)
    handle = str(served.handles[0])
    with pytest.raises(ModelNotTrained):
        rec.lookalike(handle, k=3)
    report = rec.train(kinds=["lookalike"], log=lambda m: None)
    assert [o.status for o in report.outcomes] == ["published"]
    assert rec.lookalike(handle, k=3).results
    rec.close()
    store.dispose()
