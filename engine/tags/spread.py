"""How widely a hashtag is used: a tag one creator owns (`#leowedding`, a studio's brand
tag that four clients repeat once each) is not a hashtag to suggest to anyone else.

The effective number of creators behind a tag is the inverse Simpson index of its uses,
(sum n_i)^2 / sum n_i^2 over the creators i using it n_i times: 5 creators using it
equally give 5; one creator's 40 uses and four others' single use give about 1.2.
A brand tag that a few namesakes share (`#leowedding`, 5 creators next to `#wedding`'s
130) is spread evenly but reaches few: it is discounted by min(1, creators / (REACH x
creators of the query's widest tag)). Related-tag answers discount a tag's score by
both and leave out what falls under the FLOOR, saying why the list is short."""

from __future__ import annotations

import numpy as np

SPREAD = 3.0  # effective creators a tag needs to be suggested at its full score
FLOOR = 0.05  # related-tag scores (0-1) below this are noise, not suggestions
REACH = 0.1  # a tag used by fewer creators than this share of the query tag's is discounted


def effective_creators(
    indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray, n_tags: int
) -> np.ndarray:
    """Per tag, the inverse Simpson index of its uses over creators, from the model's
    creator -> (tag, uses) CSR arrays; 0 for a tag nobody uses."""
    tags = np.asarray(indices, dtype=np.int64)
    uses = np.asarray(counts, dtype=np.float64)
    total = np.bincount(tags, weights=uses, minlength=n_tags)
    squares = np.bincount(tags, weights=uses * uses, minlength=n_tags)
    with np.errstate(divide="ignore", invalid="ignore"):
        eff = np.where(squares > 0, total * total / squares, 0.0)
    return eff


def spread_factor(effective: np.ndarray) -> np.ndarray:
    """The score multiplier: 1 from SPREAD effective creators up, less below."""
    return np.minimum(1.0, np.asarray(effective, dtype=np.float64) / SPREAD)


def short_note(shown: int, asked: int) -> str:
    """Why a related-tags list is shorter than asked."""
    if shown == 0:
        return (
            "No hashtag is used together with these often enough, across enough creators, "
            "to suggest."
        )
    return (
        f"Only {shown} of the {asked} hashtags asked for are used together with these "
        "often enough, across enough creators; the rest would be noise or one creator's "
        "own tags, so they are left out."
    )


def reach_factor(creators: np.ndarray, query_creators: int) -> np.ndarray:
    """The score multiplier for a tag used by few creators next to the query's tags:
    1 from REACH x the creators of the query's widest tag up, proportionally less
    below. On the default demo `#leowedding` (5 namesakes' brand tag) sits beside
    `#wedding` (130 creators) and related tags used by 120+."""
    need = max(REACH * float(query_creators), 1.0)
    return np.minimum(1.0, np.asarray(creators, dtype=np.float64) / need)


def spread_ranked(
    hits: list[tuple[int, float]],
    effective: np.ndarray,
    k: int,
    floor: bool,
    creators: np.ndarray | None = None,
    query_creators: int = 0,
) -> tuple[list[tuple[int, float]], bool]:
    """The best k of `hits` (tag row, score) after each score is discounted by its tag's
    spread (and, given `creators` per tag, its reach next to the query's tags), and
    (with `floor`) those under FLOOR left out; also whether any was left out for it."""
    if not hits:
        return [], False
    rows = np.array([i for i, _ in hits], dtype=np.int64)
    scores = np.array([s for _, s in hits], dtype=np.float64) * spread_factor(effective[rows])
    if creators is not None:
        scores *= reach_factor(creators[rows], query_creators)
    order = np.argsort(-scores, kind="stable")
    kept = [(int(rows[j]), float(scores[j])) for j in order if not floor or scores[j] >= FLOOR]
    return kept[:k], len(kept) < min(k, len(hits))


def used_by(n: int, effective: float) -> str:
    """`used by 5 creators`, or, for a tag mostly one creator's, says so."""
    if effective < SPREAD and n > 1:
        return f"used by {n} creators, mostly by one of them"
    return f"used by {n} creator{'s' if n != 1 else ''}"
