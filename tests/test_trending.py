import numpy as np
import pandas as pd
import pytest

from engine.core.errors import BadQuery
from engine.songs.trending import TrendingIndex

AS_OF = pd.Timestamp("2026-03-31")


def _reels(plan: dict[str, tuple[int, int, float, float, str]], seed: int = 0) -> pd.DataFrame:
    """plan: song -> (reels in the last 7 days, reels in the 7 before, Delta now, Delta
    before, hashtag)."""
    rng = np.random.default_rng(seed)
    rows = []
    for song, (now, before, d_now, d_before, tag) in plan.items():
        for n, lo, d in ((now, 0, d_now), (before, 7, d_before)):
            for _ in range(n):
                day = int(rng.integers(lo, lo + 7))
                rows.append(
                    {
                        "song_id": song,
                        "posted_at": AS_OF - pd.Timedelta(days=day),
                        "delta": d,
                        "hashtags": [tag, "reels"],
                    }
                )
        # old history outside both windows must not count
        rows.append(
            {
                "song_id": song,
                "posted_at": AS_OF - pd.Timedelta(days=40),
                "delta": 0.0,
                "hashtags": [tag],
            }
        )
    return pd.DataFrame(rows)


PLAN = {
    "rising": (20, 5, 1.0, 1.0, "fitness"),
    "rising_better": (20, 5, 3.0, 0.0, "food"),
    "steady": (20, 20, 1.0, 1.0, "fitness"),
    "falling": (5, 20, 1.0, 1.0, "food"),
    "new_but_rare": (2, 0, 5.0, 0.0, "food"),
    "new": (10, 0, 0.5, 0.0, "travel"),
}


def test_rising_songs_rank_first_and_delta_breaks_ties():
    idx = TrendingIndex.build(_reels(PLAN))
    assert idx.as_of == "2026-03-31"
    ranked = [t.song_id for t in idx.rank(7)]
    assert ranked[:3] == ["new", "rising_better", "rising"]
    assert ranked.index("steady") < ranked.index("falling")
    assert "new_but_rare" not in ranked  # below the minimum support of 3 reels
    rising = next(t for t in idx.rank(7) if t.song_id == "rising")
    assert (rising.uses_now, rising.uses_before) == (20, 5)


def test_why_gives_counts_and_change_and_labels_are_used():
    idx = TrendingIndex.build(_reels(PLAN))
    idx.set_labels(np.array([f"Title {s}" for s in idx.song_ids]))
    top = idx.top(7, k=3)
    by_id = {r.id: r for r in top}
    assert by_id["rising"].label == "Title rising"
    assert by_id["rising"].why.startswith("20 reels in these 7 days vs 5 the 7 before (+300%)")
    assert "engagement 3.0 points above the creators' average (was at the creators' average)" in (
        by_id["rising_better"].why
    )
    assert "(new)" in by_id["new"].why


def test_topic_filter_and_shrinking_the_market():
    idx = TrendingIndex.build(_reels(PLAN))
    assert [r.id for r in idx.top(7, 10, topic="#Fitness")] == ["rising", "steady"]
    # Every song's use doubles: growth is relative to all reels, so nothing is trending.
    doubled = {s: (2 * b, b, 1.0, 1.0, t) for s, (_, b, _, _, t) in PLAN.items() if b >= 5}
    scores = [t.score for t in TrendingIndex.build(_reels(doubled)).rank(7)]
    assert len(scores) == 4 and max(abs(x) for x in scores) < 0.1


def test_any_window_and_bad_queries():
    reels = _reels(PLAN)
    idx = TrendingIndex.build(reels)
    # A one-day window counts the latest day against the day before it, and only songs
    # with min_support (3) reels on the latest day are ranked.
    back = (AS_OF - reels["posted_at"]).dt.days
    today, yesterday = (reels[back == d]["song_id"].value_counts() for d in (0, 1))
    one_day = idx.rank(1)
    assert {t.song_id for t in one_day} == set(today[today >= 3].index)
    # seed 0 puts 8 of rising_better's reels and 3 of rising's on the latest day
    assert [t.song_id for t in one_day] == ["rising_better", "rising"]
    for t in one_day:
        assert (t.uses_now, t.uses_before) == (today[t.song_id], yesterday.get(t.song_id, 0))
    assert one_day != idx.rank(7)
    with pytest.raises(BadQuery):
        idx.rank(0)
    with pytest.raises(BadQuery):
        idx.rank(31)
    with pytest.raises(BadQuery):
        idx.top(7, k=0)
    with pytest.raises(BadQuery):
        idx.rank(7, topic="###")


def test_round_trip_and_empty():
    idx = TrendingIndex.build(_reels(PLAN))
    again = TrendingIndex.from_arrays(idx.to_arrays(), idx.meta())
    assert again.top(7, 5) == idx.top(7, 5)
    empty = TrendingIndex.build(pd.DataFrame(columns=["song_id", "posted_at", "delta", "hashtags"]))
    assert empty.rank(7) == []
