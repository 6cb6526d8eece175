"""Answering `/lookalike`: the sparse text neighbours (exact cosine of sparse word PPMI +
character n-gram rows over an inverted index), the PPMI+SVD neighbours alone
(AnyTag), the thematic neighbours from the tags model (sum of a creator's tag vectors),
or a blend of PPMI+SVD and tags, with filters and a reason per result. Pure: models and
a posts frame in, an Answer out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.core.errors import BadQuery, ScoutError
from engine.core.filters import Filters, check_k
from engine.core.recommendation import Answer, Recommendation
from engine.lookalike.calibration import FLOOR
from engine.lookalike.model import LookalikeModel

METHODS = ("auto", "sparse", "ppmi", "tags", "blend")
# Chosen by benchmarks/bench_lookalike.py on real accounts (--real, instagram-600) and on
# the default demo, figures in benchmarks/results/lookalike*.json. Falls back to ppmi when
# the model has no sparse rows (fitted with sparse_keep = 0).
AUTO_METHOD = "sparse"
BLEND_POOL = 5  # candidates per method, as a multiple of k, before re-scoring


def lookalike(
    model: LookalikeModel,
    handle: str,
    k: int = 10,
    *,
    filters: Filters | None = None,
    method: str = "auto",
    exclude: tuple[str, ...] = (),
    tags_model: Any = None,
    posts: pd.DataFrame | None = None,
    shown: int | None = None,
) -> Answer:
    """Up to k creators most like `handle`, best first, each scored by its calibrated
    match in [0, 1] (engine.lookalike.calibration; the raw similarity is in
    extra["similarity"]). Creators under the match FLOOR are left out and a note says
    why the list is short; `shown`: how many the person will see when the caller asks
    for more to filter further (the note counts against that)."""
    if method not in METHODS:
        raise BadQuery(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    k = check_k(k, "lookalikes")
    notes: list[str] = []
    if handle in model:
        row = model.row(handle)
        vec, mine, srow = model.vectors[row], model.top_tokens[row], model.sparse_row(row)
    else:
        if posts is None or posts.empty:
            raise ScoutError(f"@{handle} has no posts in the store yet; import their posts first.")
        placed = model.place(posts)
        vec, mine, srow = placed.vector, placed.top, placed.sparse
        row = None
        notes.append(
            f"@{handle} joined after the last training; placed from their {len(posts)} posts."
        )
    excluded = {model.row(h) for h in exclude if h in model}
    if row is not None:
        excluded.add(row)
    followers = float(model.followers[row]) if row is not None else float("nan")
    mask = model.filter_mask(filters)
    allow = (lambda rows: mask[rows]) if mask is not None else None
    chosen = AUTO_METHOD if method == "auto" else method
    if chosen in ("tags", "blend") and tags_model is None:
        chosen = "ppmi"
    if chosen == "sparse" and srow is None:
        if method != "auto":
            raise ScoutError("this lookalike model has no sparse rows; try method=ppmi.")
        chosen = "ppmi"
    how = chosen  # which similarity each hit's score is (for its calibration)
    if chosen == "sparse":
        hits = model.sparse_neighbours(srow, k, exclude=excluded, allow=allow)
        how = ["sparse"] * len(hits)
        if len(hits) < k:  # too few creators share a token with them: top up by ppmi
            more = model.neighbours(vec, k, exclude=excluded | {r for r, _ in hits}, allow=allow)
            hits += more[: k - len(hits)]
            how += ["ppmi"] * (len(hits) - len(how))
    elif chosen == "ppmi":
        hits = model.neighbours(vec, k, exclude=excluded, allow=allow)
    else:
        tag_vec = _tag_vector(tags_model, handle)
        if tag_vec is None:
            if method != "auto":
                raise ScoutError(
                    f"@{handle} has no hashtags the tags model knows; try method=ppmi."
                )
            chosen, hits = "ppmi", model.neighbours(vec, k, exclude=excluded, allow=allow)
        elif chosen == "tags":
            hits = _tag_neighbours(model, tags_model, tag_vec, k, excluded, allow)
        else:
            hits = _blend(model, tags_model, vec, tag_vec, k, excluded, allow)
    methods = how if isinstance(how, list) else [how] * len(hits)
    results, below = _scored(model, hits, methods, mine, followers)
    meta: dict[str, Any] = {"method": chosen}
    wanted = min(k, shown) if shown is not None else k
    if not results and not below:
        no_lang = filters.language_note(model.language) if filters else None
        notes.append(no_lang or "No creator passes those filters; widen them.")
    elif len(results) < wanted and below:
        notes.append(_short_note(handle, len(results), below, filters))
        meta["short"] = {"shown": len(results), "asked": wanted, "floor": round(100 * FLOOR)}
    hidden = filters.hidden_er_note(model.hidden_left_out(filters)) if filters else None
    if hidden:  # an `er:` filter cannot judge creators whose likes are hidden: say so
        notes.append(hidden)
    return Answer(results, notes, meta)


def _scored(
    model: LookalikeModel,
    hits: list[tuple[int, float]],
    methods: list[str],
    mine: np.ndarray,
    followers: float,
) -> tuple[list[Recommendation], list[float]]:
    """Results at their calibrated match (raw similarity where the model has no
    calibration for the method), and the matches of the candidates under the FLOOR."""
    results, below = [], []
    for (r, sim), how in zip(hits, methods, strict=True):
        match = model.match(sim, how)
        if match is not None and match < FLOOR:
            below.append(match)
            continue
        rec = model.result(r, sim if match is None else match, model.why(mine, r, 4, followers))
        results.append(
            Recommendation(rec.id, rec.label, rec.score, rec.why, {**rec.extra, "similarity": sim})
        )
    # a ppmi top-up may out-match the last sparse hits once both are calibrated
    results.sort(key=lambda x: -x.score)
    return results, below


def _short_note(handle: str, n: int, below: list[float], filters: Filters | None) -> str:
    """Why a lookalike list is shorter than asked: the rest would not be matches."""
    within = " within these filters" if filters else ""
    best = 100 * max(below)
    if n == 0:
        return (
            f"No creator{within} is close enough to @{handle} to call a match (the best "
            f"scored {best:.0f}, under {100 * FLOOR:.0f}); widen the filters or try another creator."
        )
    return (
        f"Only {n} creator{'s' if n != 1 else ''}{within} {'are' if n != 1 else 'is'} close "
        f"enough to @{handle}; the next best scored {best:.0f} (under {100 * FLOOR:.0f}), "
        "so they are left out rather than padding the list."
    )


def _tag_vector(tags_model: Any, handle: str) -> np.ndarray | None:
    space = tags_model.creator_space()
    i = space.row.get(handle)
    return None if i is None else space.vectors[i]


def _tag_neighbours(
    model: LookalikeModel, tags_model: Any, tag_vec: np.ndarray, k: int, excluded: set[int], allow
) -> list[tuple[int, float]]:
    """Thematic neighbours, mapped onto the lookalike model's rows (for filters and
    display); creators the lookalike model does not know are skipped."""
    space = tags_model.creator_space()
    tag_to_row = np.array([model.row(h) if h in model else -1 for h in space.handles])

    def ok(rows: np.ndarray) -> np.ndarray:
        mapped = tag_to_row[rows]
        keep = (mapped >= 0) & ~np.isin(mapped, list(excluded))
        if allow is not None:
            keep[keep] &= allow(mapped[keep])
        return keep

    return [(int(tag_to_row[r]), s) for r, s in space.index.query(tag_vec, k, allow=ok)]


def _blend(
    model: LookalikeModel,
    tags_model: Any,
    vec: np.ndarray,
    tag_vec: np.ndarray,
    k: int,
    excluded: set[int],
    allow,
) -> list[tuple[int, float]]:
    """Average of the two cosine similarities over the union of both methods' top
    candidates, each re-scored exactly in both spaces."""
    pool = k * BLEND_POOL
    rows = {r for r, _ in model.neighbours(vec, pool, exclude=excluded, allow=allow)}
    rows |= {r for r, _ in _tag_neighbours(model, tags_model, tag_vec, pool, excluded, allow)}
    if not rows:
        return []
    space = tags_model.creator_space()
    cand = np.array(sorted(rows))
    ppmi_sim = model.vectors[cand] @ vec
    tag_rows = np.array([space.row.get(str(model.handles[r]), -1) for r in cand])
    tag_sim = np.where(tag_rows >= 0, space.vectors[np.maximum(tag_rows, 0)] @ tag_vec, 0.0)
    score = 0.5 * ppmi_sim + 0.5 * tag_sim
    order = np.argsort(-score, kind="stable")[:k]
    return [(int(cand[i]), float(score[i])) for i in order]
