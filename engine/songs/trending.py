"""Trending songs: songs whose use and Delta rose most in the last window against the
window before it. Per-song daily counts (and Delta sums) over a horizon are computed at
train time relative to the latest reel date (`as_of`), so any window up to half the
horizon is answered at query time without the posts.

Use growth is measured as a share of all reels in the window, so that a platform-wide
rise in reels does not make every song look like it is trending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.core.errors import BadQuery
from engine.core.recommendation import Recommendation
from engine.core.text import normalize_tag

TOP_TAGS = 20
FUTURE_SLACK_DAYS = 2  # time zones and clock skew: "tomorrow" is still a real date
OUTLIER_SHARE = 0.01  # the newest 1% of reels (at least one) may be mistyped dates


def trend_anchor(
    reels_per_day: pd.Series, horizon_days: int, now: pd.Timestamp | None = None
) -> pd.Timestamp | None:
    """The day trending counts back from: the latest day with reels that is neither in
    the future nor an isolated outlier. A plain maximum let one reel dated 2999 (stored
    before imports bounded dates) push every real reel out of the window and empty
    trending for everyone. `reels_per_day`: day -> number of reels, so the local build
    and the Spark job share this rule. Data wholly in the future keeps its own latest
    day (a planted data set); None when there are no days."""
    if not len(reels_per_day):
        return None
    counts = reels_per_day.groupby(level=0).sum().sort_index()  # undated rows dropped
    if not len(counts):
        return None
    days = pd.DatetimeIndex(counts.index)
    now = pd.Timestamp.now(tz="UTC").tz_localize(None) if now is None else pd.Timestamp(now)
    not_future = days <= now.floor("D") + pd.Timedelta(days=FUTURE_SLACK_DAYS)
    if not_future.any():
        counts, days = counts[not_future], days[not_future]
    cum = counts.to_numpy().cumsum()
    # the bulk ends where all but the newest 1% of reels (at least one) are counted
    bulk = days[int(np.searchsorted(cum, cum[-1] - max(1.0, OUTLIER_SHARE * cum[-1])))]
    return days[days <= bulk + pd.Timedelta(days=horizon_days)].max()


@dataclass
class TrendingSong:
    song_id: str
    score: float
    uses_now: int
    uses_before: int
    delta_now: float
    delta_before: float | None


@dataclass
class TrendingIndex:
    """`song`, `day`, `uses`, `delta_sum`: one entry per (song, day) with at least one
    reel, `day` counted back from `as_of` (0 = the latest day). `tags` holds each song's
    most common hashtags among the creators (or else the reels) that used it ('' pads)."""

    as_of: str
    song_ids: np.ndarray
    song: np.ndarray
    day: np.ndarray
    uses: np.ndarray
    delta_sum: np.ndarray
    tags: np.ndarray
    horizon_days: int
    min_support: int = 3
    delta_weight: float = 0.1
    labels: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        reels: pd.DataFrame,
        *,
        horizon_days: int = 60,
        min_support: int = 3,
        delta_weight: float = 0.1,
        now: pd.Timestamp | None = None,
    ) -> TrendingIndex:
        """From a reel table (song_id, posted_at, delta, hashtags); `now` bounds the
        anchor day (trend_anchor), the wall clock if not given."""
        if not len(reels):
            empty = np.zeros(0, dtype=np.int32)
            return cls(
                "",
                np.zeros(0, dtype=str),
                empty,
                empty,
                empty,
                np.zeros(0, np.float32),
                np.zeros((0, TOP_TAGS), dtype=str),
                horizon_days,
                min_support,
                delta_weight,
            )
        days = pd.to_datetime(reels["posted_at"]).dt.floor("D")
        as_of = trend_anchor(days.value_counts(), horizon_days, now)
        if as_of is None:  # no reel has a date
            as_of = days.max()
        back = (as_of - days).dt.days.to_numpy()
        codes, song_ids = pd.factorize(reels["song_id"].astype(str), sort=True)
        recent = (back >= 0) & (back < horizon_days)  # NaN dates compare False
        frame = pd.DataFrame(
            {
                "song": codes[recent],
                "day": back[recent],
                "delta": reels["delta"].to_numpy(dtype=float)[recent],
            }
        )
        agg = frame.groupby(["song", "day"]).agg(uses=("delta", "size"), delta_sum=("delta", "sum"))
        agg = agg.reset_index()
        tags = np.full((len(song_ids), TOP_TAGS), "", dtype=object)
        # Prefer the using creators' usual tags (a song "for #food" is one food creators
        # use); fall back to the reels' own tags.
        tag_col = "creator_tags" if "creator_tags" in reels else "hashtags"
        if tag_col in reels:
            exploded = pd.DataFrame({"song": codes, "tag": reels[tag_col].to_numpy()}).explode(
                "tag"
            )
            exploded = exploded.dropna()
            counts = exploded.groupby(["song", "tag"]).size().rename("n").reset_index()
            counts = counts.sort_values(["song", "n", "tag"], ascending=[True, False, True])
            counts["rank"] = counts.groupby("song").cumcount()
            counts = counts[counts["rank"] < TOP_TAGS]
            tags[counts["song"].to_numpy(), counts["rank"].to_numpy()] = counts["tag"].to_numpy()
        return cls.from_counts(
            str(as_of.date()), song_ids, agg, tags, horizon_days, min_support, delta_weight
        )

    @classmethod
    def from_counts(
        cls,
        as_of: str,
        song_ids: Any,
        daily: pd.DataFrame,
        tags: np.ndarray,
        horizon_days: int,
        min_support: int = 3,
        delta_weight: float = 0.1,
    ) -> TrendingIndex:
        """From counts made anywhere (here, or by the Spark backend): `daily` has one row
        per (song, day) with song (code into `song_ids`), day (days back), uses and
        delta_sum; `tags` is (songs, TOP_TAGS)."""
        return cls(
            as_of,
            np.asarray(song_ids).astype(str),
            daily["song"].to_numpy(np.int32),
            daily["day"].to_numpy(np.int32),
            daily["uses"].to_numpy(np.int32),
            daily["delta_sum"].to_numpy(np.float32),
            np.asarray(tags).astype(str),
            horizon_days,
            min_support,
            delta_weight,
        )

    def set_labels(self, labels: np.ndarray) -> None:
        self.labels = np.asarray(labels).astype(str)

    def _window(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-song uses and Delta sums over days back in [lo, hi)."""
        n = len(self.song_ids)
        keep = (self.day >= lo) & (self.day < hi)
        uses = np.bincount(self.song[keep], weights=self.uses[keep], minlength=n)
        delta = np.bincount(self.song[keep], weights=self.delta_sum[keep], minlength=n)
        return uses.astype(np.float64), delta.astype(np.float64)

    def rank(self, window_days: int = 7, topic: str | None = None) -> list[TrendingSong]:
        """All songs with at least `min_support` uses in the last window, best first.
        Score = log growth of the song's share of reels (last window vs the one before,
        add-one smoothed) + `delta_weight` x the rise in mean Delta."""
        max_window = self.horizon_days // 2
        if not 1 <= window_days <= max_window:
            raise BadQuery(f"The trending window must be between 1 and {max_window} days.")
        now_u, now_d = self._window(0, window_days)
        before_u, before_d = self._window(window_days, 2 * window_days)
        total_now, total_before = now_u.sum() + 1.0, before_u.sum() + 1.0
        growth = np.log((now_u + 1.0) / total_now) - np.log((before_u + 1.0) / total_before)
        mean_now = np.divide(now_d, now_u, out=np.zeros_like(now_d), where=now_u > 0)
        mean_before = np.divide(before_d, before_u, out=np.zeros_like(before_d), where=before_u > 0)
        score = growth + self.delta_weight * (mean_now - mean_before)
        ok = now_u >= self.min_support
        if topic:
            tag = normalize_tag(topic)
            if not tag:
                raise BadQuery(f"{topic!r} is not a usable hashtag.")
            ok &= (self.tags == tag).any(axis=1)
        idx = np.flatnonzero(ok)
        idx = idx[np.lexsort((-now_u[idx], -score[idx]))]
        return [
            TrendingSong(
                str(self.song_ids[i]),
                float(score[i]),
                int(now_u[i]),
                int(before_u[i]),
                float(mean_now[i]),
                float(mean_before[i]) if before_u[i] else None,
            )
            for i in idx
        ]

    def top(
        self, window_days: int = 7, k: int = 10, topic: str | None = None
    ) -> list[Recommendation]:
        if k <= 0:
            raise BadQuery("k must be at least 1.")
        label_of = dict(
            zip(
                self.song_ids.tolist(),
                (self.labels if self.labels is not None else self.song_ids).tolist(),
                strict=True,
            )
        )
        out = []
        for t in self.rank(window_days, topic)[:k]:
            change = (
                f"{(t.uses_now - t.uses_before) / t.uses_before:+.0%}" if t.uses_before else "new"
            )
            delta = (
                "engagement "
                + _points(t.delta_now)
                + (f" (was {_points(t.delta_before)})" if t.delta_before is not None else "")
            )
            why = (
                f"{t.uses_now} reels in these {window_days} days vs {t.uses_before} "
                f"the {window_days} before ({change}), {delta}"
            )
            out.append(
                Recommendation(
                    id=t.song_id,
                    label=label_of.get(t.song_id, t.song_id),
                    score=t.score,
                    why=why,
                    extra={"uses_now": t.uses_now, "uses_before": t.uses_before},
                )
            )
        return out

    # ------------------------------------------------------------ payload
    def meta(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "horizon_days": self.horizon_days,
            "min_support": self.min_support,
            "delta_weight": self.delta_weight,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {
            "song_ids": self.song_ids,
            "song": self.song,
            "day": self.day,
            "uses": self.uses,
            "delta_sum": self.delta_sum,
            "tags": self.tags,
        }
        if self.labels is not None:
            out["labels"] = self.labels
        return out

    @classmethod
    def from_arrays(cls, a: dict[str, np.ndarray], meta: dict[str, Any]) -> TrendingIndex:
        return cls(
            meta["as_of"],
            a["song_ids"].astype(str),
            a["song"],
            a["day"],
            a["uses"],
            a["delta_sum"],
            a["tags"].astype(str),
            int(meta["horizon_days"]),
            int(meta["min_support"]),
            float(meta["delta_weight"]),
            a["labels"].astype(str) if "labels" in a else None,
        )


def _points(delta: float) -> str:
    """A reel's engagement against its creator's average, in words a marketer reads."""
    if abs(delta) < 0.05:
        return "at the creators' average"
    side = "above" if delta > 0 else "below"
    return f"{abs(delta):.1f} points {side} the creators' average"


# ------------------------------------------------------- from daily counts (issue 23)
VIEW_WEIGHT = 0.1  # a view is worth a tenth of a like or comment in a song's momentum
METRICS = ("likes", "comments", "views")


@dataclass
class CountedTrend:
    """One song's momentum from its reels' dated snapshots: interactions (likes +
    comments + VIEW_WEIGHT x views) gained in the window and in the window before,
    the raw gains in the window, how many of its reels gained and how many were new."""

    song_id: str
    score: float
    gained_now: float
    gained_before: float
    likes: int
    comments: int
    views: int
    reels_now: int
    new_reels: int


def has_daily_counts(deltas: pd.DataFrame, window_days: int) -> bool:
    """Whether the snapshots can answer for the window: at least one reel's counts moved
    between two dated snapshots in it. A single sync (the first) only gives the baseline,
    and trending then keeps counting reels by post date."""
    if not len(deltas) or "likes_before" not in deltas:
        return False
    day = pd.to_datetime(deltas["day"])
    back = (day.max() - day).dt.days.to_numpy()
    moved = deltas["day_before"].notna().to_numpy() & (back < window_days)
    return bool(moved.any())


def _gains(deltas: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Per snapshot row: its window (0 = the last `window_days`, 1 = the ones before),
    what each count gained since the post's previous snapshot, and whether it is a new
    reel's first snapshot. A post's first snapshot counts whole only when the post was
    posted within the two windows (a new reel); an older post first seen then is the
    baseline history starts from, not a gain. Counts that fell (a deleted comment) gain 0."""
    day = pd.to_datetime(deltas["day"])
    as_of = day.max()
    back = (as_of - day).dt.days.to_numpy()
    posted = pd.to_datetime(deltas["posted_at"], errors="coerce").dt.floor("D")
    first = deltas["day_before"].isna().to_numpy()
    fresh = first & (posted >= as_of - pd.Timedelta(days=2 * window_days - 1)).to_numpy()
    post = deltas["post_id"].astype(str)
    if "platform" in deltas:  # a post id is unique within its platform
        post = deltas["platform"].astype(str) + ":" + post
    out = pd.DataFrame(
        {
            "song_id": deltas["song_id"].astype(str).to_numpy(),
            "post": post.to_numpy(),
            "window": np.where(back < window_days, 0, np.where(back < 2 * window_days, 1, -1)),
            "new": fresh,
        }
    )
    for m in METRICS:
        now = pd.to_numeric(deltas[m], errors="coerce").fillna(0.0).to_numpy(float)
        before = pd.to_numeric(deltas[f"{m}_before"], errors="coerce").fillna(0.0).to_numpy(float)
        gain = np.where(first, np.where(fresh, now, 0.0), np.clip(now - before, 0.0, None))
        out[m] = gain
    out["gained"] = out["likes"] + out["comments"] + VIEW_WEIGHT * out["views"]
    return out[out["window"] >= 0]


def rank_by_counts(
    deltas: pd.DataFrame,
    window_days: int = 7,
    *,
    min_support: int = 3,
    max_window: int = 30,
    topic_songs: set[str] | None = None,
) -> list[CountedTrend]:
    """Songs whose reels gained at least `min_support` reels' worth of movement (reels
    with a gain in the window), best first. Score = log(1 + interactions gained in the
    window) + the log growth of the song's share of all interactions gained (window vs
    the one before, add-one smoothed): volume first, so a song whose few reels gained
    most beats one with many quiet reels, and a rise lifts it. `deltas`: the store's
    snapshot rows (models.queries.song_post_deltas); `topic_songs` keeps only those."""
    if not 1 <= window_days <= max_window:
        raise BadQuery(f"The trending window must be between 1 and {max_window} days.")
    if not len(deltas):
        return []
    g = _gains(deltas, window_days)
    g["moved"] = (g["window"] == 0) & (g["gained"] > 0)
    g["is_new"] = (g["window"] == 0) & g["new"]
    now = g[g["window"] == 0].groupby("song_id")[[*METRICS, "gained"]].sum()
    per = pd.DataFrame(index=pd.Index(sorted(set(g["song_id"])), name="song_id"))
    per = per.join(now).fillna(0.0)
    per["before"] = g[g["window"] == 1].groupby("song_id")["gained"].sum()
    per["reels"] = g[g["moved"]].groupby("song_id")["post"].nunique()
    per["new_reels"] = g[g["is_new"]].groupby("song_id")["post"].nunique()
    per = per.fillna(0.0)
    total_now, total_before = per["gained"].sum() + 1.0, per["before"].sum() + 1.0
    share = np.log((per["gained"] + 1.0) / total_now) - np.log((per["before"] + 1.0) / total_before)
    per["score"] = np.log1p(per["gained"]) + share
    keep = per["reels"] >= min_support
    if topic_songs is not None:
        keep &= per.index.isin(list(topic_songs))
    per = per[keep].sort_values(["score", "gained"], ascending=False, kind="stable")
    return [
        CountedTrend(
            str(song),
            float(r.score),
            float(r.gained),
            float(r.before),
            int(r.likes),
            int(r.comments),
            int(r.views),
            int(r.reels),
            int(r.new_reels),
        )
        for song, r in per.iterrows()
    ]


def top_by_counts(
    index: TrendingIndex | None,
    deltas: pd.DataFrame,
    window_days: int = 7,
    k: int = 10,
    topic: str | None = None,
) -> list[Recommendation]:
    """`rank_by_counts` as answers: labels and the topic's songs from the trained index
    (a song it does not know yet shows its id and is left out of a topic's list)."""
    if k <= 0:
        raise BadQuery("k must be at least 1.")
    topic_songs = None
    if topic:
        tag = normalize_tag(topic)
        if not tag:
            raise BadQuery(f"{topic!r} is not a usable hashtag.")
        known = index.song_ids if index is not None else np.zeros(0, dtype=str)
        tags = index.tags if index is not None else np.zeros((0, TOP_TAGS), dtype=str)
        topic_songs = set(known[(tags == tag).any(axis=1)].tolist()) if len(known) else set()
    labels: dict[str, str] = {}
    if index is not None:
        shown = index.labels if index.labels is not None else index.song_ids
        labels = dict(zip(index.song_ids.tolist(), shown.tolist(), strict=True))
    ranked = rank_by_counts(
        deltas,
        window_days,
        min_support=index.min_support if index is not None else 3,
        max_window=index.horizon_days // 2 if index is not None else 30,
        topic_songs=topic_songs,
    )
    return [
        Recommendation(
            id=t.song_id,
            label=labels.get(t.song_id, t.song_id),
            score=t.score,
            why=_counted_why(t, window_days),
            extra={
                "reels_now": t.reels_now,
                "new_reels": t.new_reels,
                "likes_gained": t.likes,
                "comments_gained": t.comments,
                "views_gained": t.views,
            },
        )
        for t in ranked[:k]
    ]


def _counted_why(t: CountedTrend, window_days: int) -> str:
    """'+5.2k likes, +310 comments, +41k views on 3 reels (1 new) in these 7 days;
    interactions +370% on the 7 days before'."""
    gains = [f"+{_count(t.likes)} likes"]
    if t.comments:
        gains.append(f"+{_count(t.comments)} comments")
    if t.views:
        gains.append(f"+{_count(t.views)} views")
    new = f" ({t.new_reels} new)" if t.new_reels else ""
    change = (
        f"interactions {(t.gained_now - t.gained_before) / t.gained_before:+.0%} on the "
        f"{window_days} days before"
        if t.gained_before
        else f"none gained the {window_days} days before"
    )
    return f"{', '.join(gains)} on {t.reels_now} reels{new} in these {window_days} days; {change}"


def _count(n: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{n:.0f}"
