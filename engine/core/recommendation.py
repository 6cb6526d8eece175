"""The one answer shape every recommender returns, so that the CLI, the bot and the
benchmarks can render and score any of them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Recommendation:
    """One recommended item.

    `id` is the stable key (a handle, a hashtag, a song id); `label` is what a person
    reads; `why` is a short human reason, because an unexplained score is not trusted.
    `extra` carries display facts (followers, ER, median likes ...) that renderers may
    show but that are not part of the stable JSON contract.
    """

    id: str
    label: str
    score: float
    why: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Exactly the contract's four keys; display facts go in Answer.to_json's details."""
        return {
            "id": self.id,
            "label": self.label,
            "score": round(float(self.score), 6),
            "why": self.why,
        }


@dataclass(frozen=True)
class Answer:
    """A list of recommendations plus notes worth telling the user (unknown tags
    skipped, a cold-start fallback, the model version that answered)."""

    results: list[Recommendation]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """`{"results": [{id, label, score, why}, ...], "details": {...}}`: `results` is the
        stable contract other tools read; `details` carries what is worth knowing but may
        grow: `notes` (sentences for a person), `meta` (model version, method ...) and
        `items` (each result's display facts, in the order of `results`)."""
        details: dict[str, Any] = {}
        if self.notes:
            details["notes"] = list(self.notes)
        if self.meta:
            details["meta"] = dict(self.meta)
        if any(r.extra for r in self.results):
            details["items"] = [dict(r.extra) for r in self.results]
        out: dict[str, Any] = {"results": [r.to_json() for r in self.results]}
        if details:
            out["details"] = details
        return out


SCALES = ("similarity", "relative")


def as_match(results: list[Recommendation], scale: str) -> list[Recommendation]:
    """Scores on the one 0-100 scale people see everywhere. `similarity`: a cosine-like
    score in [0, 1] times 100 (100 = the same content); `relative`: the strength of each
    pick against the best one (the top pick is 100), for scores with no natural maximum
    (songs, trending). The raw score stays in `extra["raw_score"]`."""
    if scale not in SCALES:
        raise ValueError(f"unknown score scale {scale!r}")
    top = max((r.score for r in results), default=0.0)

    def match(score: float) -> float:
        if scale == "similarity":
            return round(100.0 * min(max(score, 0.0), 1.0), 1)
        return round(100.0 * max(score, 0.0) / top, 1) if top > 0 else 0.0

    return [
        replace(r, score=match(r.score), extra={**r.extra, "raw_score": float(r.score)})
        for r in results
    ]
