"""A creator's engagement rate that one viral post or a run of hidden likes cannot move,
and where it stands among creators of the same size.

A plain mean ER is what every fraud complaint starts from: one viral post doubles it,
and scrapers write hidden likes as a tiny constant (0 or 3, with more comments than
likes), which halves it. So each post is first judged (kept, or left out with the reason),
and the ER is the median of the kept posts' per-post ERs (engine.core.engagement's one
formula). The same judgement runs vectorised over every creator of the store, so the
creator is ranked against peers measured the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.engagement import (  # noqa: F401  (re-exported: /vet's names)
    HIDDEN,
    HIDDEN_ER_TEXT,
    HIDDEN_LIKES_MAX,
    MIN_POSTS_FOR_OUTLIERS,
    MISSING,
    OUTLIER_Z,
    VIRAL,
    creator_engagement,
    leave_out_reasons,
    robust_z,
)

# Follower tiers (upper bounds, exclusive) and HypeAuditor's published median ERs (%),
# the outside reference line shown beside the store's own peers.
TIERS: tuple[tuple[str, float], ...] = (
    ("<1k", 1_000),
    ("1-5k", 5_000),
    ("5-20k", 20_000),
    ("20-100k", 100_000),
    ("100k-1M", 1_000_000),
    (">1M", float("inf")),
)
HYPEAUDITOR_MEDIAN_ER: dict[str, float] = {
    "<1k": 16.99,
    "1-5k": 6.45,
    "5-20k": 3.76,
    "20-100k": 2.63,
    "100k-1M": 2.57,
    ">1M": 2.56,
}
MIN_PEERS = 5  # fewer creators in a tier: no percentile, only the outside reference


def tier_of(followers: float | None) -> str | None:
    """The follower tier's name; None when the follower count is unknown."""
    if followers is None or not np.isfinite(followers) or followers < 0:
        return None
    return next(name for name, upper in TIERS if followers < upper)


@dataclass(frozen=True)
class LeftOut:
    post_id: str
    reason: str


@dataclass
class RobustEngagement:
    """`er` is in percent (None when no post can be used or followers are unknown);
    `tier_percentile` 0-100 among store peers of the tier (None below MIN_PEERS)."""

    handle: str
    er: float | None
    posts_used: int
    left_out: list[LeftOut] = field(default_factory=list)
    tier: str | None = None
    tier_percentile: float | None = None
    peers: int = 0
    reference_er: float | None = None  # HypeAuditor's median for the tier
    hidden: bool = False  # every recent post hides its likes: the ER is unknown for that

    @property
    def reason(self) -> str:
        if self.hidden:
            return f"{HIDDEN_ER_TEXT} on all {len(self.left_out)} recent posts"
        if self.er is None:
            return "no engagement rate: no usable posts or unknown followers"
        parts = [f"ER {self.er:.2f}% (median of {self.posts_used} posts)"]
        if self.left_out:
            counts = pd.Series([lo.reason for lo in self.left_out]).value_counts()
            parts.append("left out: " + ", ".join(f"{n} {r}" for r, n in counts.items()))
        if self.tier_percentile is not None:
            parts.append(f"{self.tier_percentile:.0f}th percentile of {self.peers} {self.tier}")
        elif self.tier:
            parts.append(f"too few {self.tier} peers in the store ({self.peers})")
        if self.reference_er is not None:
            parts.append(f"HypeAuditor {self.tier} median {self.reference_er:.2f}%")
        return "; ".join(parts)


def creator_ers(posts: pd.DataFrame, followers: pd.Series) -> pd.Series:
    """Every creator's robust ER (percent) by handle, engine.core.engagement's one rule
    (the median per-post ER of its recent posts that are kept); unknown ones dropped.
    `followers` is indexed by handle."""
    return creator_engagement(posts, followers).er.dropna()


def robust_engagement(
    handle: str, posts: pd.DataFrame, influencers: pd.DataFrame
) -> RobustEngagement:
    """The creator's robust ER and its percentile among the store's creators of the same
    tier (each measured the same way). `posts`/`influencers` are the store's frames."""
    followers = _followers_by_handle(influencers)
    own_followers = followers.get(handle)
    own = creator_engagement(posts[posts["handle"] == handle], followers)
    left = [LeftOut(str(posts.at[i, "post_id"]), r) for i, r in own.reasons.items() if r]
    er = own.er.get(handle)
    er = None if er is None or np.isnan(er) else float(er)
    hidden = bool(own.hidden.get(handle, False))
    used = int(own.posts_used.get(handle, 0))
    tier = tier_of(own_followers)
    result = RobustEngagement(handle, er, used, left, tier, hidden=hidden)
    if tier is None:
        return result
    result.reference_er = HYPEAUDITOR_MEDIAN_ER[tier]
    tiers = followers.map(tier_of)
    peer_handles = tiers.index[(tiers == tier) & (tiers.index != handle)]
    peer_posts = posts[posts["handle"].isin(peer_handles)]
    peer_ers = creator_ers(peer_posts, followers).to_numpy()
    result.peers = len(peer_ers)
    if er is not None and len(peer_ers) >= MIN_PEERS:
        below = (peer_ers < er).sum() + 0.5 * (peer_ers == er).sum()
        result.tier_percentile = float(100.0 * below / len(peer_ers))
    return result


def _followers_by_handle(influencers: pd.DataFrame) -> pd.Series:
    values = pd.to_numeric(influencers["followers"], errors="coerce").astype("float64")
    return pd.Series(values.to_numpy(), index=influencers["handle"].astype(str)).dropna()
