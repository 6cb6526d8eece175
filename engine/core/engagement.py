"""The engagement rate, written once: every answer, filter, cleaning rule and export
that shows or compares an ER reads it from here, so the number a marketer filters on is
the number they were shown.

Two bases, one formula: per follower (the Instagram reading, the report's) and per view.
On TikTok and YouTube a video reaches people who do not follow its creator (a viral
TikTok reel has 100x its creator's followers in plays), so there engagement follows
views, and a per-follower ER of 300% says nothing about the reel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PERCENT = 100.0
# Platforms whose reach is counted in views: their ER is per view where the views are known.
PER_VIEW_PLATFORMS = frozenset({"tiktok", "youtube"})


def engagement_rate(likes: Any, comments: Any, followers: Any) -> Any:
    """ER in percent, (likes + comments) / followers * 100, element-wise for numpy arrays
    and pandas Series (a Series keeps its index) and plain numbers alike. Unknown where the
    follower count is missing, zero or negative: NaN, never a division warning or inf."""
    return _rate(likes, comments, followers)


def engagement_rate_per_view(likes: Any, comments: Any, views: Any) -> Any:
    """ER per view in percent, (likes + comments) / views * 100; NaN where the views are
    missing or zero (shaped as engagement_rate)."""
    return _rate(likes, comments, views)


def platform_engagement_rate(
    likes: Any, comments: Any, followers: Any, views: Any, platform: Any
) -> tuple[Any, Any]:
    """(ER in percent, True where it is per view): per view on PER_VIEW_PLATFORMS where
    the views are known (> 0), per follower everywhere else. Shaped as engagement_rate;
    `platform` may be one name or one per row."""
    views_f, followers_f = _floats(views), _floats(followers)
    names = np.char.lower(np.asarray(platform, dtype=str))
    on_views = np.isin(names, list(PER_VIEW_PLATFORMS))
    per_view = np.broadcast_to(on_views, np.shape(views_f)) & (np.nan_to_num(views_f) > 0)
    base = np.where(per_view, views_f, followers_f)
    er = _rate(likes, comments, base)
    series = _series_of(likes, comments, followers, views)
    if series is not None:
        er = pd.Series(np.asarray(er), index=series.index)
        return er, pd.Series(per_view, index=series.index)
    return er, (bool(per_view) if per_view.ndim == 0 else per_view)


def _rate(likes: Any, comments: Any, base: Any) -> Any:
    likes_f, comments_f, base_f = (_floats(x) for x in (likes, comments, base))
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.where(base_f > 0, (likes_f + comments_f) / base_f * PERCENT, np.nan)
    er = np.where(np.isfinite(er), er, np.nan)
    series = _series_of(base, likes, comments)
    if series is not None:
        return pd.Series(er, index=series.index)
    return float(er) if er.ndim == 0 else er


def _series_of(*values: Any) -> pd.Series | None:
    return next((x for x in values if isinstance(x, pd.Series)), None)


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def engagement_rate_or_none(likes: Any, comments: Any, followers: Any) -> float | None:
    """One creator's ER for display: None when it cannot be known."""
    er = engagement_rate(likes or 0, comments or 0, followers or 0)
    return None if np.isnan(er) else float(er)


# ------------------------------------------------------------ a creator's robust ER
# A creator's ER is the median per-post ER of its RECENT_POSTS newest posts, leaving out
# posts whose likes are hidden or missing and viral outliers: a plain mean over every
# post is what misled marketers (one viral post gave an account with 4% median posts an
# ER of 90%; a scraper's hidden likes, written as 3, gave a 100.9k account 0.0%). /vet,
# every answer's `ER`, the `er:` filter and the exports all read creator_engagement.
RECENT_POSTS = 12  # a creator's ER describes what its audience does now
HIDDEN_LIKES_MAX = 3  # scrapers' stand-in for hidden likes: 0..3 (or -1, or none at all)
HIDDEN_LIKES_FOLLOWERS = 10_000  # at this size 3 likes is a hidden count, not a flop
# Iglewicz & Hoaglin's modified z-score cut: |z| > 3.5 is an outlier.
OUTLIER_Z = 3.5
MIN_POSTS_FOR_OUTLIERS = 5  # below this a median and MAD say nothing about outliers

HIDDEN = "hidden likes"
MISSING = "likes missing"
VIRAL = "viral outlier"
HIDDEN_ER_TEXT = "ER unknown — likes hidden"


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


def leave_out_reasons(posts: pd.DataFrame, followers: pd.Series | None = None) -> pd.Series:
    """Per post (same index): why it is left out of the robust ER ('' = kept). Missing
    likes (none, or negative) first; then hidden likes: 0..HIDDEN_LIKES_MAX likes with
    more comments than likes, or on a creator with HIDDEN_LIKES_FOLLOWERS or more
    (`followers` by handle, when known); then, per creator with enough posts, a viral
    outlier by the robust z-score of log likes among that creator's remaining posts."""
    likes = pd.to_numeric(posts["likes"], errors="coerce")
    comments = pd.to_numeric(posts["comments"], errors="coerce").fillna(0)
    reasons = pd.Series("", index=posts.index, dtype=object)
    tiny = likes.notna() & (likes >= 0) & (likes <= HIDDEN_LIKES_MAX)
    big = pd.Series(False, index=posts.index)
    if followers is not None:
        size = posts["handle"].map(followers)
        big = pd.to_numeric(size, errors="coerce").fillna(0) >= HIDDEN_LIKES_FOLLOWERS
    reasons[tiny & ((comments > likes) | big)] = HIDDEN
    reasons[likes.isna() | (likes < 0)] = MISSING
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


ENGAGEMENT_COLUMNS = ("handle", "posted_at", "likes", "comments", "views", "platform")


def recent_posts(posts: pd.DataFrame, n: int = RECENT_POSTS) -> pd.DataFrame:
    """Each creator's `n` newest posts (by posted_at when the frame has it), with the
    columns the ER reads: what the Spark backend collects instead of every post."""
    cols = [c for c in ENGAGEMENT_COLUMNS if c in posts.columns]
    frame = posts[cols]
    if "posted_at" in frame.columns:
        order = pd.to_datetime(frame["posted_at"], errors="coerce")
        frame = frame.assign(_t=order).sort_values("_t", ascending=False, kind="stable")
        frame = frame.drop(columns="_t")
    return frame.groupby("handle", sort=False).head(n)


@dataclass
class CreatorEngagement:
    """Per handle: `er` the robust ER in percent (NaN where unknown), `hidden` True where
    every recent post hides its likes (the ER is unknown for that reason, and said so),
    `posts_used` how many posts the median is over, `reasons` each post's leave-out."""

    er: pd.Series
    hidden: pd.Series
    posts_used: pd.Series
    reasons: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))

    def at(self, handles: Any) -> tuple[np.ndarray, np.ndarray]:
        """(ER, hidden) aligned to `handles`: NaN and False for creators without posts."""
        er = self.er.reindex(handles).to_numpy(dtype="float64", na_value=np.nan)
        hidden = self.hidden.reindex(handles).fillna(False).to_numpy(dtype=bool)
        return er, hidden


def creator_engagement(
    posts: pd.DataFrame, followers: pd.Series, recent: int | None = RECENT_POSTS
) -> CreatorEngagement:
    """Every creator's robust ER: the median per-post ER (per view on TikTok/YouTube where
    the views are known, per follower elsewhere: platform_engagement_rate) over its
    `recent` newest posts (all posts with None), hidden and missing likes and viral
    outliers left out. `followers` is indexed by handle."""
    if posts.empty or "likes" not in posts:
        empty = pd.Series(dtype="float64")
        return CreatorEngagement(empty, pd.Series(dtype=bool), pd.Series(dtype="int64"))
    if "comments" not in posts:
        posts = posts.assign(comments=0)
    window = recent_posts(posts, recent) if recent else posts
    followers = pd.to_numeric(followers, errors="coerce").astype("float64")
    reasons = leave_out_reasons(window, followers)
    kept = window[reasons == ""]
    views = kept["views"] if "views" in kept else pd.Series(np.nan, index=kept.index)
    platform = kept["platform"] if "platform" in kept else pd.Series("", index=kept.index)
    per_post, _ = platform_engagement_rate(
        kept["likes"],
        kept["comments"],
        kept["handle"].map(followers).astype("float64"),
        pd.to_numeric(views, errors="coerce").astype("float64"),
        platform.fillna("").astype(str).to_numpy(),
    )
    handles = window["handle"]
    er = per_post.groupby(kept["handle"]).median().reindex(handles.unique())
    hidden_posts = reasons.isin([HIDDEN, MISSING])
    hidden = hidden_posts.groupby(handles).all()
    used = (reasons == "").groupby(handles).sum().astype("int64")
    return CreatorEngagement(er, hidden.reindex(er.index), used.reindex(er.index), reasons)


def describe_er(er: float | None, hidden: bool = False) -> str:
    """An ER as a person reads it: `ER 2.4%`, `ER unknown — likes hidden`, `ER ?`."""
    if hidden:
        return HIDDEN_ER_TEXT
    if er is None or (isinstance(er, float) and np.isnan(er)):
        return "ER ?"
    return f"ER {float(er):.1f}%"
