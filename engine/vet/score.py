"""The trust card: one 0-100 quality score made of parts that each show their value,
reason, confidence, weight and contribution, so a marketer can see why a creator scores
what they do (the peers' complaint: "scores with no reason").

Weights are fixed and shown. A part that cannot be known (no follower sample) gets no
weight; its share goes to the other parts and the card's confidence drops, because a
score without the audience part is a score on less evidence, not a worse creator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.core.dataset import Dataset
from engine.core.errors import UnknownHandle, close_matches
from engine.vet.engagement import HYPEAUDITOR_MEDIAN_ER, RobustEngagement, robust_engagement
from engine.vet.followers import AudienceEstimate, FollowerClassifier, audience_estimate
from engine.vet.inflation import InflationReport, bought_engagement
from engine.vet.safety import SafetyReport, brand_safety
from engine.vet.sponsored import SponsoredReport, sponsored_share

WEIGHTS = {
    "engagement": 0.25,
    "authenticity": 0.30,
    "audience": 0.25,
    "sponsored": 0.10,
    "brand_safety": 0.10,
}
FULL_CONFIDENCE_POSTS = 12  # posts for a part judged from posts to be fully confident
SPONSORED_OK = 0.2  # up to this share of paid posts costs nothing
SAFETY_PENALTY = 25.0  # points off the safety part per flagged category


@dataclass(frozen=True)
class Part:
    """`value` 0-100 (None: unknown); `contribution` = value x weight, in score points."""

    name: str
    value: float | None
    reason: str
    confidence: float
    weight: float = 0.0
    contribution: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": None if self.value is None else round(self.value, 1),
            "reason": self.reason,
            "confidence": round(self.confidence, 2),
            "weight": round(self.weight, 3),
            "contribution": round(self.contribution, 1),
        }


@dataclass
class VetCard:
    handle: str
    score: float
    confidence: float
    parts: list[Part]
    engagement: RobustEngagement
    inflation: InflationReport
    audience: AudienceEstimate | None
    sponsored: SponsoredReport
    safety: SafetyReport
    audience_reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"@{self.handle}: quality {self.score:.0f}/100 (confidence {self.confidence:.0%})"

    @property
    def why(self) -> str:
        known = [p for p in self.parts if p.value is not None]
        lowest = min(known, key=lambda p: p.value or 0.0) if known else None
        audience = self.audience.reason if self.audience else self.audience_reason
        text = f"audience: {audience}; anomalies: {len(self.inflation.flagged_posts)} post(s)"
        if lowest is not None:
            text += f"; weakest part {lowest.name} ({lowest.value:.0f}): {lowest.reason}"
        return text

    def to_result(self) -> dict[str, Any]:
        """`results[0]` of `engine vet --json`."""
        return {
            "id": self.handle,
            "label": self.label,
            "score": round(self.score, 1),
            "why": self.why,
        }

    def to_details(self) -> dict[str, Any]:
        """`details.items[0]` of `engine vet --json`: every part, filterable numbers first."""
        eng = self.engagement
        return {
            "handle": self.handle,
            "quality": round(self.score, 1),
            "confidence": round(self.confidence, 2),
            "audience_real_share": None
            if self.audience is None
            else round(self.audience.real_share, 4),
            "audience": None
            if self.audience is None
            else {
                "sampled": self.audience.sampled,
                "low": round(self.audience.low, 4),
                "high": round(self.audience.high, 4),
                "classified_real": round(self.audience.classified_real, 4),
                "reason": self.audience.reason,
            },
            "engagement_rate": None if eng.er is None else round(eng.er, 4),
            "tier": eng.tier,
            "tier_percentile": None
            if eng.tier_percentile is None
            else round(eng.tier_percentile, 1),
            "tier_reference_er": eng.reference_er,
            "left_out_posts": [{"post_id": lo.post_id, "reason": lo.reason} for lo in eng.left_out],
            "flagged_posts": self.inflation.flagged_posts,
            "spikes": [
                {"post_id": s.post_id, "inflated": s.inflated, "reason": s.reason}
                for s in self.inflation.spikes
            ],
            "follower_jumps": [j.__dict__ for j in self.inflation.follower_jumps],
            "sponsored_share": self.sponsored.share,
            "sponsored_posts": self.sponsored.sponsored_posts,
            "brand_safety": self.safety.to_json(),
            "safe": self.safety.safe,
            "parts": [p.to_json() for p in self.parts],
        }


def vet(
    data: Dataset,
    handle: str,
    sample: pd.DataFrame | None = None,
    classifier: FollowerClassifier | None = None,
    history: pd.DataFrame | None = None,
    extra_safety: dict[str, list[str]] | None = None,
) -> VetCard:
    """The card for one creator. `data` is the store's Dataset (its other creators are the
    tier peers); `sample` the follower-sample rows (any creators'; this one's are used),
    `classifier` the published `vet` model, `history` optional (handle, day, followers)."""
    handles = data.influencers["handle"].astype(str)
    if handle not in set(handles) and handle not in set(data.posts["handle"].astype(str)):
        raise UnknownHandle(handle, close_matches(handle, handles.tolist()))
    posts, influencers = data.posts, data.influencers
    own = posts[posts["handle"] == handle]
    followers = pd.to_numeric(influencers.loc[handles == handle, "followers"], errors="coerce")
    own_followers = (
        float(followers.iloc[0]) if len(followers) and followers.notna().iloc[0] else None
    )
    engagement = robust_engagement(handle, posts, influencers)
    inflation = bought_engagement(handle, posts, influencers, history)
    audience, audience_reason = _audience(handle, sample, classifier)
    sponsored = sponsored_share(own, own_followers)
    safety = brand_safety(own, extra_safety)
    parts = _parts(engagement, inflation, audience, audience_reason, sponsored, safety, len(own))
    score, confidence, parts = combine(parts)
    return VetCard(
        handle,
        score,
        confidence,
        parts,
        engagement,
        inflation,
        audience,
        sponsored,
        safety,
        audience_reason,
    )


def _audience(
    handle: str, sample: pd.DataFrame | None, classifier: FollowerClassifier | None
) -> tuple[AudienceEstimate | None, str]:
    if sample is None or not (sample["handle"].astype(str) == handle).any():
        return None, "no follower sample imported (python -m engine import followers FILE)"
    if classifier is None:
        return None, "the follower classifier is not trained yet (python -m engine train)"
    return audience_estimate(classifier, sample, handle), ""


def _parts(
    eng: RobustEngagement,
    infl: InflationReport,
    aud: AudienceEstimate | None,
    aud_reason: str,
    spon: SponsoredReport,
    safety: SafetyReport,
    n_posts: int,
) -> list[Part]:
    post_conf = min(1.0, n_posts / FULL_CONFIDENCE_POSTS)
    return [
        Part(
            "engagement",
            _engagement_value(eng),
            eng.reason,
            min(1.0, eng.posts_used / FULL_CONFIDENCE_POSTS),
        ),
        Part("authenticity", _authenticity_value(infl), infl.reason, post_conf),
        Part(
            "audience",
            None if aud is None else 100.0 * aud.real_share,
            aud.reason if aud else aud_reason,
            0.0 if aud is None else float(max(0.0, 1.0 - (aud.high - aud.low))),
        ),
        Part("sponsored", _sponsored_value(spon), spon.reason, post_conf),
        Part(
            "brand_safety",
            max(0.0, 100.0 - SAFETY_PENALTY * len(safety.flags)),
            safety.reason,
            post_conf,
        ),
    ]


def combine(parts: list[Part]) -> tuple[float, float, list[Part]]:
    """The score (known parts, weights renormalised over them) and the confidence (every
    part's confidence by its nominal weight: an unknown part counts as 0)."""
    known = sum(WEIGHTS[p.name] for p in parts if p.value is not None)
    out = []
    for p in parts:
        weight = WEIGHTS[p.name] / known if p.value is not None and known else 0.0
        out.append(Part(p.name, p.value, p.reason, p.confidence, weight, (p.value or 0.0) * weight))
    score = float(sum(p.contribution for p in out))
    confidence = float(sum(WEIGHTS[p.name] * p.confidence for p in out) / sum(WEIGHTS.values()))
    return score, confidence, out


def _engagement_value(eng: RobustEngagement) -> float | None:
    if eng.er is None:
        return None
    if eng.tier_percentile is not None:
        return eng.tier_percentile
    # Too few peers in the store: half marks at the outside reference median.
    reference = HYPEAUDITOR_MEDIAN_ER.get(eng.tier or "", 0.0)
    return float(np.clip(50.0 * eng.er / reference, 0.0, 100.0)) if reference else None


def _authenticity_value(infl: InflationReport) -> float:
    """100 less 3 points per percent of posts judged inflated, 20 per unexplained
    follower jump and 20 for a like-to-comment ratio out of the tier."""
    share = len(infl.flagged_posts) / infl.posts if infl.posts else 0.0
    penalty = (
        300.0 * share + 20.0 * len(infl.unexplained_jumps) + (20.0 if infl.ratio_anomaly else 0.0)
    )
    return float(max(0.0, 100.0 - penalty))


def _sponsored_value(spon: SponsoredReport) -> float | None:
    if spon.share is None:
        return None
    over = max(0.0, spon.share - SPONSORED_OK) / (1 - SPONSORED_OK)
    return 100.0 * (1 - over)
