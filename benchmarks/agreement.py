"""How far two trainings of the same data agree (issue 18: the local and the Spark
backends must produce the same models up to numerical noise): for each creator its
top-k lookalikes, for each tag its top-k related tags, for each creator its top-k songs,
the share of one list found in the other, averaged."""

from __future__ import annotations

from typing import Any

import numpy as np


def overlap(a: list[str], b: list[str]) -> float:
    if not a and not b:
        return 1.0
    return len(set(a) & set(b)) / max(len(a), len(b))


def mean_overlap(left: dict[str, list[str]], right: dict[str, list[str]]) -> float:
    keys = set(left) | set(right)
    if not keys:
        return float("nan")
    return float(np.mean([overlap(left.get(k, []), right.get(k, [])) for k in keys]))


def every(n: int, sample: int | None) -> range:
    """Every creator, or about `sample` of them evenly spaced (the same on both sides:
    both backends order creators by handle)."""
    step = 1 if not sample or n <= sample else -(-n // sample)
    return range(0, n, step)


def lookalike_lists(model: Any, k: int = 10, sample: int | None = None) -> dict[str, list[str]]:
    """Each creator's k nearest others by the ranking the model serves (sparse rows
    where it has them, else the dense vectors)."""
    out: dict[str, list[str]] = {}
    handles = model.handles.tolist()
    for i in every(len(handles), sample):
        h = handles[i]
        if model.has_sparse:
            hits = model.sparse_neighbours(model.sparse_row(i), k, exclude={i})
        else:
            hits = model.neighbours(model.vectors[i], k, exclude={i})
        out[h] = [str(model.handles[j]) for j, _ in hits]
    return out


def related_lists(model: Any, k: int = 10, sample: int | None = None) -> dict[str, list[str]]:
    """Each tag's k best related tags by the shipped related-tag rows (or cosine)."""
    out: dict[str, list[str]] = {}
    if model.related is not None:
        rel = model.related
        for i, tag in enumerate(model.tags):
            lo, hi = rel.indptr[i], rel.indptr[i + 1]
            best = rel.indices[lo:hi][np.argsort(-rel.data[lo:hi], kind="stable")[:k]]
            out[tag] = [model.tags[j] for j in best]
        return out
    sims = model.vectors @ model.vectors.T
    np.fill_diagonal(sims, -np.inf)
    for i, tag in enumerate(model.tags):
        out[tag] = [model.tags[j] for j in np.argsort(-sims[i], kind="stable")[:k]]
    return out


def song_lists(model: Any, k: int = 10, sample: int | None = None) -> dict[str, list[str]]:
    users = [str(h) for h in model.usage.users]
    return {
        users[i]: [r.id for r in model.songs_for(users[i], k).results]
        for i in every(len(users), sample)
    }


def trending_lists(model: Any, k: int = 10, sample: int | None = None) -> dict[str, list[str]]:
    """The songs model's k trending songs over the last week and the last 30 days."""
    if model.trending is None:
        return {}
    return {
        f"{days}d": [s.song_id for s in model.trending.rank(window_days=days)[:k]]
        for days in (7, 30)
    }


# measure -> (the kind whose model it reads, its lists)
LISTS = {
    "lookalike": ("lookalike", lookalike_lists),
    "tags": ("tags", related_lists),
    "songs": ("songs", song_lists),
    "trending": ("songs", trending_lists),
}


def agreement(
    left: dict[str, Any], right: dict[str, Any], k: int = 10, sample: int | None = None
) -> dict[str, float]:
    """Mean top-k overlap per measure whose kind is in both model dicts (kind -> model);
    `sample`: about that many creators per measure (at millions of posts)."""
    out = {}
    for measure, (kind, lists) in LISTS.items():
        if kind in left and kind in right:
            a, b = lists(left[kind], k, sample), lists(right[kind], k, sample)
            if a or b:
                out[measure] = mean_overlap(a, b)
    return out
