"""What the influencer map shows: a creator's nearest creators, their vectors and topic
labels, picked from the richest trained model that knows the creator. Drawing is
engine.topics.map's job; this module only decides the points."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.errors import ScoutError
from engine.topics.map import nearest_rows

MAX_NEIGHBOURS = 2000


@dataclass(frozen=True)
class MapData:
    """The centre first, then its neighbours nearest first (`sims`: cosine to it)."""

    handles: list[str]
    vectors: np.ndarray
    labels: np.ndarray
    names: dict[int, str]
    sims: np.ndarray
    title: str


def map_data(handle: str, n: int, vector_models: Iterable[tuple[str, Any]], topics: Any) -> MapData:
    """`handle` and its `n` nearest creators. `vector_models`: (source name, model with
    creator_vectors()) in order of preference (lookalike, then tags); the first that
    knows `handle` gives the vectors. Creators the topic model has not seen get the
    nearest topic centroid when the vectors are the tag model's (the same space)."""
    if not 1 <= n <= MAX_NEIGHBOURS:
        raise ScoutError(f"A map shows between 1 and {MAX_NEIGHBOURS} neighbours.")
    handles, vectors, source = vectors_knowing(handle, vector_models)
    rows, sims = nearest_rows(vectors, handles.index(handle), n)
    picked = [handles[i] for i in rows]
    labels = topics.topics_of(picked)
    missing = labels < 0
    if missing.any() and source == "tags":
        labels[missing] = topics.assign(vectors[rows][missing])[0]
    names = {t.id: t.name for t in topics.topics}
    title = (
        f"@{handle} and its {len(picked) - 1} nearest creators ({source} vectors) — "
        f"@{handle}: {names.get(int(labels[0]), 'other')}"
    )
    return MapData(picked, vectors[rows], labels, names, sims, title)


def vectors_knowing(
    handle: str, vector_models: Iterable[tuple[str, Any]]
) -> tuple[list[str], Any, str]:
    """(every creator's handle, their vectors, source name) of the first model that
    knows `handle`."""
    for source, model in vector_models:
        handles, vectors = model.creator_vectors()
        handles = list(handles)
        if handle in handles:
            return handles, vectors, source
    raise ScoutError(
        f"@{handle} has no posts with known tags in the trained models yet, "
        "so there is nothing to place on a map."
    )
