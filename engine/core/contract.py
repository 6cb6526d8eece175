"""The contract between the daily pipeline and each model kind.

A model kind (lookalike, tags, photos, songs ...) is an object with a `kind` name, a
`train(data, ctx)` that fits and evaluates on a held-out split, and a `load(payload)`
that turns published bytes back into a queryable model. The pipeline publishes every
kind's bytes in one transaction; the Recommender loads them. Kinds never see the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from engine.core.dataset import Dataset

T = TypeVar("T")


class FeatureCache(Protocol):
    """Content-addressed cache of per-item feature vectors (image features by the sha256
    of the image bytes), so that a daily retrain only computes what is new."""

    def get_many(self, keys: list[str], extractor: str) -> dict[str, np.ndarray]: ...

    def put_many(self, items: dict[str, np.ndarray], extractor: str) -> None: ...


class NullFeatureCache:
    def get_many(self, keys: list[str], extractor: str) -> dict[str, np.ndarray]:
        return {}

    def put_many(self, items: dict[str, np.ndarray], extractor: str) -> None:
        return None


class CountingBackend(Protocol):
    """Where a kind's heavy counting runs. Each method returns the counts a kind builds its
    model from (plain numpy / scipy / pandas objects, the types the kind's own counting
    function returns), or None: "count in this process from the Dataset, as always". The
    local backend always answers None; engine.training.spark answers from Spark jobs over
    every post while the Dataset holds only a bounded sample."""

    name: str

    def lookalike_counts(self, config: Any) -> Any | None: ...

    def tag_counts(self, config: Any, seed: int) -> Any | None: ...

    def song_tables(self, rules: Any, config: dict[str, Any]) -> Any | None: ...


class LocalBackend:
    """Everything counted in-process from the Dataset's frames (the default)."""

    name = "local"

    def lookalike_counts(self, config: Any) -> None:
        return None

    def tag_counts(self, config: Any, seed: int) -> None:
        return None

    def song_tables(self, rules: Any, config: dict[str, Any]) -> None:
        return None


def _no_progress(items: Iterable[T], desc: str = "", total: int | None = None) -> Iterable[T]:
    return items


@dataclass
class TrainContext:
    """What a kind may use besides the data: its config section, a progress-bar factory
    (tqdm on a terminal, silent in tests), the feature cache, the other kinds'
    freshly trained (not yet published) models, for kinds that build on another, and the
    counting backend (local, or Spark for data past one machine)."""

    config: dict[str, Any] = field(default_factory=dict)
    progress: Callable[..., Iterable[Any]] = _no_progress
    feature_cache: FeatureCache = field(default_factory=NullFeatureCache)
    trained: dict[str, Any] = field(default_factory=dict)
    seed: int = 42
    log: Callable[[str], None] = lambda _msg: None
    backend: CountingBackend = field(default_factory=LocalBackend)


@dataclass
class TrainResult:
    """`metrics` are held-out figures; `quality_metric` names the one (higher is better)
    that the quality gate compares between versions. `model` is the in-memory model,
    offered to later kinds through `TrainContext.trained`."""

    payload: bytes
    metrics: dict[str, float]
    params: dict[str, Any]
    quality_metric: str | None = None
    model: Any = None
    summary: str = ""


class ModelKind(Protocol):
    """`depends_on`: kinds this one cannot train without (skipped when they are
    missing). An optional `uses` tuple names kinds whose models it takes when they
    exist (trained first in the same run, else the published version; never required).
    An optional `model_version` int (default 1) is raised when a code change makes the
    kind's published models stale: it is part of the fingerprint, so the next training
    retrains the kind without --force. A loaded model may offer `warm()`: the server calls it before serving the model, to
    build what its first query would otherwise build."""

    kind: str
    depends_on: tuple[str, ...]

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult: ...

    def load(self, payload: bytes) -> Any: ...
