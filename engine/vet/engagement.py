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

from engine.core.engagement import engagement_rate

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
# Iglewicz & Hoaglin's modified z-score cut: |z| > 3.5 is an outlier.
OUTLIER_Z = 3.5
MIN_POSTS_FOR_OUTLIERS = 5  # below this a median and MAD say nothing about outliers
HIDDEN_LIKES_MAX = 3  # scrapers' stand-in for hidden likes: 0..3 likes, more comments
MIN_PEERS = 5  # fewer creators in a tier: no percentile, only the outside reference

HIDDEN = "hidden likes"
MISSING = "likes missing"
VIRAL = "viral outlier"


def tier_of(followers: float | None) -> str | None:
    """The follower tier's name; None when the follower count is unknown."""
    if followers is None or not np.isfinite(followers) or followers < 0:
        return None
    return next(name for name, upper in TIERS if followers < upper)


def robust_z(values: np.ndarray) -> np.ndarray:
    """Modified z-scores 0.6745 (x - median) / MAD. Where more than half the values are
    equal (MAD 0: steady daily growth) the mean absolute deviation stands in, scaled to
    match (x - median) / (1.2533 MeanAD); zeros when every value is the same."""
    values = np.asarray(values, dtype="float64")
    if len(values) == 0:
        return values
    med = np.median(values)
    mad = np.median(np.abs(values - med))
    if mad > 0:
        return 0.6745 * (values - med) / mad
    mean_ad = np.mean(np.abs(values - med))
    if mean_ad <= 0:
        return np.zeros_like(values)
    return (values - med) / (1.253314 * mean_ad)


def leave_out_reasons(posts: pd.DataFrame) -> pd.Series:
    """Per post (same index): why it is left out of the robust ER ('' = kept). Hidden or
    missing likes first; then, per creator with enough posts, a viral outlier by the
    robust z-score of log likes among that creator's remaining posts."""
    likes = pd.to_numeric(posts["likes"], errors="coerce")
    comments = pd.to_numeric(posts["comments"], errors="coerce").fillna(0)
    reasons = pd.Series("", index=posts.index, dtype=object)
    reasons[likes.isna()] = MISSING
    reasons[likes.notna() & (likes <= HIDDEN_LIKES_MAX) & (comments > likes)] = HIDDEN
    open_ = reasons == ""
    logs = np.log1p(likes[open_])
    z = _grouped_robust_z(logs, posts.loc[open_, "handle"])
    counts = logs.groupby(posts.loc[open_, "handle"]).transform("count")
    reasons.loc[z.index[(z > OUTLIER_Z) & (counts >= MIN_POSTS_FOR_OUTLIERS)]] = VIRAL
    return reasons


def _grouped_robust_z(values: pd.Series, groups: pd.Series) -> pd.Series:
    """`robust_z` within each group, vectorised (a /vet reads every creator's posts)."""
    centred = values - values.groupby(groups).transform("median")
    dev = centred.abs()
    mad = dev.groupby(groups).transform("median")
    mean_ad = dev.groupby(groups).transform("mean")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(mad > 0, 0.6745 * centred / mad, centred / (1.253314 * mean_ad))
    return pd.Series(np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0), index=values.index)


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

    @property
    def reason(self) -> str:
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
    """Every creator's robust ER (percent) by handle: median per-post ER of kept posts.
    `followers` is indexed by handle."""
    if posts.empty:
        return pd.Series(dtype="float64")
    kept = posts[leave_out_reasons(posts) == ""]
    per_post = engagement_rate(
        kept["likes"], kept["comments"], kept["handle"].map(followers).astype("float64")
    )
    return per_post.groupby(kept["handle"]).median().dropna()


def robust_engagement(
    handle: str, posts: pd.DataFrame, influencers: pd.DataFrame
) -> RobustEngagement:
    """The creator's robust ER and its percentile among the store's creators of the same
    tier (each measured the same way). `posts`/`influencers` are the store's frames."""
    followers = _followers_by_handle(influencers)
    own_followers = followers.get(handle)
    own = posts[posts["handle"] == handle]
    reasons = leave_out_reasons(own)
    left = [LeftOut(str(own.at[i, "post_id"]), r) for i, r in reasons.items() if r]
    kept = own[reasons == ""]
    er = None
    if len(kept) and own_followers is not None and own_followers > 0:
        er = float(np.median(engagement_rate(kept["likes"], kept["comments"], own_followers)))
    tier = tier_of(own_followers)
    result = RobustEngagement(handle, er, len(kept), left, tier)
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
