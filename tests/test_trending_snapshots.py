"""Trending from the real daily counts (issue 23): when the sync has written dated post
snapshots, a song's momentum is what its reels' likes, comments and views gained between
them, not how many reels were posted; a store without snapshots still counts reels by post
date, and the answer says which it used."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from engine.bootstrap import assemble
from engine.cli import main
from engine.core.errors import BadQuery
from engine.songs.trending import has_daily_counts, rank_by_counts
from models import history
from models.schema import Influencer, Post, Song
from models.store import Store

TODAY = datetime.now(UTC).date()


def _row(song: str, post: str, day: date, likes: int, before: int | None, posted: date) -> dict:
    return {
        "song_id": song,
        "post_id": post,
        "day": day,
        "likes": likes,
        "comments": 0,
        "views": None,
        "likes_before": before,
        "comments_before": 0 if before is not None else None,
        "views_before": None,
        "day_before": day - timedelta(days=1) if before is not None else None,
        "posted_at": datetime.combine(posted, datetime.min.time()),
    }


def test_gains_count_new_reels_whole_and_old_first_snapshots_not_at_all():
    d = date(2026, 6, 30)
    old = d - timedelta(days=300)
    rows = [
        # "old": first seen today with 1M likes (history starts): a baseline, no gain
        *(_row("old", f"o{i}", d, 1_000_000, None, old) for i in range(3)),
        # "new": three reels posted this week, first snapshot = all they gained
        *(_row("new", f"n{i}", d, 500, None, d - timedelta(days=2)) for i in range(3)),
        # "moved": three old reels, +100 likes each between two snapshots
        *(_row("moved", f"m{i}", d, 1100, 1000, old) for i in range(3)),
        # "fell": counts that went down gain nothing (a deleted like is not momentum)
        *(_row("fell", f"f{i}", d, 900, 1000, old) for i in range(3)),
    ]
    deltas = pd.DataFrame(rows)
    assert has_daily_counts(deltas, 7)
    ranked = rank_by_counts(deltas, 7)
    assert [t.song_id for t in ranked] == ["new", "moved"]
    new, moved = ranked
    assert (new.likes, new.new_reels, new.reels_now) == (1500, 3, 3)
    assert (moved.likes, moved.new_reels) == (300, 0)
    assert rank_by_counts(deltas, 7, min_support=4) == []
    assert [t.song_id for t in rank_by_counts(deltas, 7, topic_songs={"moved"})] == ["moved"]
    with pytest.raises(BadQuery):
        rank_by_counts(deltas, 31)
    # one sync's baseline alone cannot answer: trending keeps counting by post date
    assert not has_daily_counts(deltas[deltas["day_before"].isna()], 7)
    assert not has_daily_counts(pd.DataFrame(), 7)


def _song_reels(store: Store) -> dict[str, list[tuple[str, str, int]]]:
    """song -> [(platform, post_id, likes)] of the demo's reels."""
    out: dict[str, list[tuple[str, str, int]]] = {}
    with store.session() as s:
        for song, platform, post_id, likes in s.execute(
            select(Post.song_id, Post.platform, Post.post_id, Post.likes).where(
                Post.song_id.is_not(None)
            )
        ):
            out.setdefault(song, []).append((platform, post_id, int(likes or 0)))
    return out


def _sync_days(store: Store, reels: dict, gains: dict[str, int], first: date, n: int) -> None:
    """What n daily syncs write: every reel's counts on day `first`, then each day the
    reels of `gains`' songs gain that many likes each (the others stay quiet)."""
    likes = {(p, i): n0 for posts in reels.values() for p, i, n0 in posts}
    for step in range(n):
        day = first + timedelta(days=step)
        for song, posts in reels.items():
            moved = []
            for platform, post_id, _ in posts:
                if step:
                    likes[(platform, post_id)] += gains.get(song, 0)
                moved.append(history.PostCounts(post_id, likes[(platform, post_id)], 3, None))
            with store.session() as s:
                history.record_posts(s, posts[0][0], day, moved)


@pytest.mark.slow
def test_a_song_whose_reels_gained_most_ranks_first_with_fewer_reels(copy_db, capsys):
    store = Store(copy_db)
    reels = _song_reels(store)
    by_size = sorted(reels, key=lambda s: len(reels[s]))
    few = next(s for s in by_size if len(reels[s]) >= 4)  # a song with few reels
    many = by_size[-1]  # the one with the most reels
    assert len(reels[few]) < len(reels[many])
    parts = assemble(copy_db)
    before = parts.recommender.trending(7, 10)
    assert before.meta["method"] == "from post dates"
    assert before.meta["trending_source"] == "post_dates"

    # 20 daily syncs up to today: `few`'s reels gain 400 likes a day each, `many`'s 5
    _sync_days(store, reels, {few: 400, many: 5}, TODAY - timedelta(days=19), 20)
    parts.close()
    parts = assemble(copy_db)
    answer = parts.recommender.trending(7, 10)
    assert answer.meta["method"] == "from daily counts"
    assert answer.meta["trending_source"] == "daily_counts"
    assert answer.meta["as_of"] == str(TODAY)
    ids = [r.id for r in answer.results]
    assert ids[:2] == [few, many]  # quiet songs (no reel gained) are not trending at all
    top = answer.results[0]
    assert top.extra["likes_gained"] == 7 * 400 * len(reels[few])
    assert f"on {len(reels[few])} reels in these 7 days" in top.why
    assert answer.results[0].score > answer.results[1].score
    parts.close()

    assert main(["trending", "--db", copy_db, "--days", "7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["details"]["meta"]["method"] == "from daily counts"
    assert out["results"][0]["id"] == few
    store.dispose()


def test_the_snapshot_delta_query_pairs_each_snapshot_with_the_one_before(any_db_url):
    """models.queries.song_post_deltas on SQLite and PostgreSQL: the previous snapshot
    comes along even when it is older than the window, posts without a song are left out,
    and a store without snapshots gives an empty frame (trending then counts post dates)."""
    parts = assemble(any_db_url, migrate=True)
    parts.close()
    store = Store(any_db_url)
    day = date(2026, 6, 30)
    with store.session() as s:
        assert history.song_post_deltas(s, 14).empty
        s.add(Song(song_id="s1", title="One"))
        s.add(Influencer(id=1, platform="instagram", handle="a"))
        s.flush()
        for pk, song in ((1, "s1"), (2, None)):
            s.add(Post(id=pk, platform="instagram", post_id=f"p{pk}", influencer_id=1,
                       posted_at=datetime(2026, 1, 1), song_id=song, likes=0, comments=0))  # fmt: skip
        s.flush()
        for ago, likes in ((40, 10), (3, 50), (0, 80)):
            counts = [history.PostCounts(f"p{pk}", likes, 1, None) for pk in (1, 2)]
            history.record_posts(s, "instagram", day - timedelta(days=ago), counts)
    with store.session() as s:
        deltas = history.song_post_deltas(s, 14)
    assert set(deltas["post_id"]) == {"p1"}
    assert [str(d)[:10] for d in deltas["day"]] == ["2026-06-27", "2026-06-30"]
    assert deltas["likes"].tolist() == [50, 80]
    assert deltas["likes_before"].tolist() == [10, 50]  # the 40-day-old row is the baseline
    ranked = rank_by_counts(deltas, 7, min_support=1)
    assert [(t.song_id, t.likes) for t in ranked] == [("s1", 70)]
    store.dispose()
