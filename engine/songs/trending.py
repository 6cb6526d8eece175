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
                f"{t.uses_now} reels in the last {window_days} days vs {t.uses_before} "
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
