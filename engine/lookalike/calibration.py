"""The match people read for a lookalike, from the raw similarity the search ranks by.

Why: a raw cosine says little on its own. On the 599 real accounts of instagram-600 the
best sparse neighbour has a median cosine of 0.10 and a creator's own other half (their
posts split in two) 0.21, so `match 10` was a good pick and `match 21` the same person;
the SVD's cosines sit four times higher for the same picks. A marketer needs a good
pick to read like one and a non-match to read like a non-match, whatever the method.

So every model carries, from its training, two facts about its own similarities: where
random pairs of its creators sit (the median and the 99th percentile) and where a
creator's own other half sits (the median of the split-half self-match). A similarity
is placed between those anchors, piecewise linearly:

    typical random pair -> 0,  top 1% of random pairs -> 40,
    as alike as a creator's own other half -> 90,  identical -> 100.

Serving is one np.interp per result. A match under FLOOR is not a match: lookalike
answers leave such creators out and say why the list is short."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

NULL_MEDIAN_MATCH = 0.0
NULL_P99_MATCH = 0.4
TWIN_MATCH = 0.9
FLOOR = 0.2  # matches below read as non-matches and are left out of creator answers
MIN_PAIRS = 100  # random pairs needed to place the anchors
MIN_TWINS = 5  # split halves needed for the self-match anchor
SAMPLE = 1500  # creators whose pairwise similarities make the random-pair anchors


@dataclass(frozen=True)
class Calibration:
    """Anchor points (raw similarity -> match in [0, 1]), raw strictly increasing."""

    raw: tuple[float, ...]
    match: tuple[float, ...]

    def __call__(self, similarity: float) -> float:
        return float(np.interp(similarity, self.raw, self.match))

    def to_dict(self) -> dict[str, list[float]]:
        return {"raw": list(self.raw), "match": list(self.match)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        return cls(tuple(float(x) for x in d["raw"]), tuple(float(x) for x in d["match"]))


def calibrate(null_sims: np.ndarray, twin_sims: np.ndarray) -> Calibration | None:
    """The anchors from random-pair similarities and split-half self-matches; None when
    too few pairs were measured or random pairs do not spread (nothing to place on).
    Without a usable self-match (too few halves, or halves no closer than the top 1% of
    random pairs: data that says nothing about its creators) the scale runs from the
    top 1% of random pairs straight to identical."""
    null_sims = np.asarray(null_sims, dtype=np.float64)
    null_sims = null_sims[np.isfinite(null_sims)]
    if len(null_sims) < MIN_PAIRS:
        return None
    median, p99 = (float(x) for x in np.percentile(null_sims, [50, 99]))
    if not p99 > median + 1e-6 or p99 >= 1.0:
        return None
    raw, match = [median, p99], [NULL_MEDIAN_MATCH, NULL_P99_MATCH]
    twins = np.asarray(twin_sims, dtype=np.float64)
    twins = twins[np.isfinite(twins)]
    if len(twins) >= MIN_TWINS:
        twin = float(np.median(twins))
        if p99 + 1e-6 < twin < 1.0 - 1e-6:
            raw.append(twin)
            match.append(TWIN_MATCH)
    raw.append(1.0)
    match.append(1.0)
    return Calibration(tuple(raw), tuple(match))


def pair_sample(n: int, seed: int, size: int = SAMPLE) -> np.ndarray:
    """Rows whose pairwise similarities stand for random pairs (all when few)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=min(size, n), replace=False))


def off_diagonal(sims: np.ndarray) -> np.ndarray:
    """The upper triangle of a square similarity matrix, diagonal excluded."""
    return sims[np.triu_indices(sims.shape[0], k=1)]


def calibrations_dict(cals: dict[str, Calibration]) -> dict[str, dict[str, list[float]]]:
    return {name: c.to_dict() for name, c in cals.items()}


def calibrations_from(d: dict[str, Any] | None) -> dict[str, Calibration]:
    """Stored anchors back; a model trained before calibration has none (its answers
    show the raw similarity, as they always did)."""
    return {name: Calibration.from_dict(v) for name, v in (d or {}).items()}
