"""Bought engagement, told apart from a post that really went viral.

Bought likes arrive alone: a post's likes jump far above the creator's own robust
baseline (the median of their posts) while its comments (and views, where the export
has them) stay where they always are. A post that went viral moves them together. The
peers' top complaint about fraud tools is the second case flagged as the first (a TV
appearance called fraud), so every spike is judged by both signals and the reason says
which way it went and why. Account-wide bought likes (every post) show instead as a
like-to-comment ratio far outside the creator's follower tier; follower jumps in a
synced history that no post explains are the third signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from engine.vet.engagement import (
    HIDDEN,
    MISSING,
    OUTLIER_Z,
    VIRAL,
    leave_out_reasons,
    robust_z,
    tier_of,
)

# Likes at least twice the creator's median: a spike to judge (by its comments). A multiple of
# the median, not a z-score: three bought posts in ten widen the spread enough to hide
# themselves from a z-score, never from the median.
SPIKE = 2.0
# A spike is "followed" when comments (views) rose at least this share of the likes'
# rise on a log scale: likes 8x with comments 3x is followed (0.53), with 1.2x it is not.
FOLLOW_SHARE = 0.4
MIN_PEERS = 10  # creators in a tier before their like-to-comment spread means anything
JUMP_SHARE = 0.05  # a follower jump smaller than 5% of the audience is ordinary growth
EXPLAIN_DAYS = 3  # a spiked post this close to a follower jump explains it


@dataclass(frozen=True)
class JudgedSpike:
    post_id: str
    likes_x: float  # likes / the creator's median likes
    comments_x: float
    views_x: float | None
    inflated: bool
    reason: str


@dataclass(frozen=True)
class FollowerJump:
    day: str
    gained: int
    explained: bool
    reason: str


@dataclass
class InflationReport:
    """`spikes` holds every judged spike, inflated or legitimate, each with its reason."""

    handle: str
    posts: int
    spikes: list[JudgedSpike] = field(default_factory=list)
    like_comment_ratio: float | None = None
    tier_ratio: float | None = None  # the tier's median creator like-to-comment ratio
    ratio_anomaly: str = ""  # '' or why the creator's ratio is out of its tier
    follower_jumps: list[FollowerJump] = field(default_factory=list)

    @property
    def flagged_posts(self) -> list[str]:
        return [s.post_id for s in self.spikes if s.inflated]

    @property
    def unexplained_jumps(self) -> list[FollowerJump]:
        return [j for j in self.follower_jumps if not j.explained]

    @property
    def reason(self) -> str:
        parts = []
        for s in self.spikes:
            parts.append(f"{s.post_id}: {s.reason}")
        if self.ratio_anomaly:
            parts.append(self.ratio_anomaly)
        parts += [f"{j.day}: {j.reason}" for j in self.unexplained_jumps]
        return "; ".join(parts) if parts else f"no anomaly in {self.posts} posts"


def judge_spikes(own: pd.DataFrame) -> list[JudgedSpike]:
    """Each post of one creator whose likes are a spike over the creator's median,
    judged inflated (comments/views did not follow) or legitimate (they did)."""
    usable = own[leave_out_reasons(own).isin(["", VIRAL])]
    if len(usable) < 3:
        return []
    likes = usable["likes"].astype("float64").to_numpy()
    comments = usable["comments"].astype("float64").to_numpy()
    views = _column(usable, "views")
    med_likes, med_comments = np.median(likes), np.median(comments)
    judged = []
    for i in range(len(usable)):
        likes_x = likes[i] / max(med_likes, 1.0)
        if likes_x < SPIKE:
            continue
        comments_x = (comments[i] + 1) / (med_comments + 1)
        views_x = None
        if views is not None and np.isfinite(views[i]):
            med_views = np.nanmedian(views)
            views_x = (views[i] + 1) / (med_views + 1)
        judged.append(_judge(str(usable["post_id"].iloc[i]), likes_x, comments_x, views_x))
    return judged


def _judge(post_id: str, likes_x: float, comments_x: float, views_x: float | None) -> JudgedSpike:
    rise = np.log(likes_x)
    followed = {"comments": np.log(max(comments_x, 1e-9)) >= FOLLOW_SHARE * rise}
    if views_x is not None:
        followed["views"] = np.log(max(views_x, 1e-9)) >= FOLLOW_SHARE * rise
    seen = f"likes {likes_x:.1f}x the creator's median, comments {comments_x:.1f}x"
    if views_x is not None:
        seen += f", views {views_x:.1f}x"
    lagging = [k for k, ok in followed.items() if not ok]
    if lagging:
        reason = f"anomaly: {seen}; {' and '.join(lagging)} did not follow the likes"
        return JudgedSpike(post_id, likes_x, comments_x, views_x, True, reason)
    reason = f"legitimate viral post: {seen}, rising together"
    return JudgedSpike(post_id, likes_x, comments_x, views_x, False, reason)


def like_comment_ratios(posts: pd.DataFrame) -> pd.Series:
    """Each creator's median per-post likes / (comments + 1), over posts with visible likes."""
    kept = posts[~leave_out_reasons(posts).isin([MISSING, HIDDEN])]
    ratio = kept["likes"].astype("float64") / (kept["comments"].astype("float64") + 1)
    return ratio.groupby(kept["handle"]).median()


def bought_engagement(
    handle: str,
    posts: pd.DataFrame,
    influencers: pd.DataFrame,
    history: pd.DataFrame | None = None,
) -> InflationReport:
    """Every signal for one creator. `history` is optional (handle, day, followers) rows of
    a synced follower history; None where there is none yet."""
    own = posts[posts["handle"] == handle]
    report = InflationReport(handle, len(own), judge_spikes(own))
    _tier_ratio(report, posts, influencers)
    if history is not None and len(history):
        report.follower_jumps = follower_jumps(own, history[history["handle"] == handle])
        report.spikes = [_with_followers(s, report.follower_jumps, own) for s in report.spikes]
    return report


def _tier_ratio(report: InflationReport, posts: pd.DataFrame, influencers: pd.DataFrame) -> None:
    ratios = like_comment_ratios(posts)
    if report.handle not in ratios.index:
        return
    report.like_comment_ratio = float(ratios[report.handle])
    followers = pd.to_numeric(influencers["followers"], errors="coerce")
    tiers = pd.Series(followers.to_numpy(), index=influencers["handle"].astype(str)).map(tier_of)
    tier = tiers.get(report.handle)
    peers = ratios[ratios.index.isin(tiers.index[tiers == tier])]
    if tier is None or len(peers) < MIN_PEERS:
        return
    logs = np.log(peers.to_numpy())
    report.tier_ratio = float(np.median(peers))
    z = robust_z(logs)[list(peers.index).index(report.handle)]
    if z > OUTLIER_Z:
        report.ratio_anomaly = (
            f"anomaly: {report.like_comment_ratio:.0f} likes per comment, the {tier} tier's "
            f"median is {report.tier_ratio:.0f} (robust z {z:.1f})"
        )


def follower_jumps(own: pd.DataFrame, history: pd.DataFrame) -> list[FollowerJump]:
    """Day-over-day follower gains far above the creator's usual growth, each explained
    or not by a spiked post within EXPLAIN_DAYS."""
    h = history.assign(day=pd.to_datetime(history["day"])).sort_values("day")
    gains = h["followers"].astype("float64").diff().to_numpy()[1:]
    if len(gains) < 3:
        return []
    z = robust_z(gains)
    base = h["followers"].astype("float64").to_numpy()[:-1]
    days = h["day"].to_numpy()[1:]
    spikes = {s.post_id for s in judge_spikes(own)}
    spike_days = pd.to_datetime(own.loc[own["post_id"].astype(str).isin(spikes), "posted_at"])
    jumps = []
    for gain, zi, prev, day in zip(gains, z, base, days, strict=True):
        if zi <= OUTLIER_Z or gain < JUMP_SHARE * max(prev, 1.0):
            continue
        near = (abs(spike_days - pd.Timestamp(day)) <= pd.Timedelta(days=EXPLAIN_DAYS)).any()
        when = pd.Timestamp(day).strftime("%Y-%m-%d")
        if near:
            why = f"+{gain:,.0f} followers, explained by a spiked post within {EXPLAIN_DAYS} days"
        else:
            share = f"{gain / prev:.0%}" if prev > 0 else "from 0"  # 0 followers: no ratio
            why = f"anomaly: +{gain:,.0f} followers ({share}) that no post explains"
        jumps.append(FollowerJump(when, int(gain), bool(near), why))
    return jumps


def _with_followers(
    spike: JudgedSpike, jumps: list[FollowerJump], own: pd.DataFrame
) -> JudgedSpike:
    """A legitimate spike's reason says so when the synced followers followed it too."""
    if spike.inflated:
        return spike
    posted = pd.to_datetime(own.loc[own["post_id"].astype(str) == spike.post_id, "posted_at"])
    for jump in jumps:
        if len(posted) and abs(pd.Timestamp(jump.day) - posted.iloc[0]) <= pd.Timedelta(
            days=EXPLAIN_DAYS
        ):
            return replace(spike, reason=f"{spike.reason}; followers followed (+{jump.gained:,})")
    return spike


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in frame.columns:
        return None
    values = pd.to_numeric(frame[name], errors="coerce").astype("float64").to_numpy()
    return values if np.isfinite(values).any() else None
