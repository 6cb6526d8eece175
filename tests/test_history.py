"""History: dated snapshots kept within SCOUT_HISTORY_DAYS, follower growth over 7 and
30 days from them, and the `growth:>5%` / `--growth 5` filter on a real lookalike
answer from a real SQLite store."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.bootstrap import assemble
from engine.cli import main
from engine.core.errors import BadQuery
from engine.core.filters import CLI, parse_filters
from engine.core.settings import Settings
from engine.ingest.sources import ManualClock
from engine.lookalike import model as lookalike_model
from engine.lookalike.model import LookalikeConfig
from engine.service import growth_percent
from models import history
from models.registry import NewArtifact
from models.schema import CreatorSnapshot, PostSnapshot
from models.store import Store
from tests.test_architecture import tiny_dataset

TODAY = datetime.now(UTC).date()


def snapshot(store: Store, handle: str, day: date, followers: int) -> None:
    with store.session() as s:
        history.record_creator(
            s, "instagram", handle, day, followers=followers, following=1, media_count=5
        )


def test_post_snapshots_are_written_only_when_counts_change(any_db_url):
    parts = assemble(any_db_url, migrate=True)
    parts.close()
    store = Store(any_db_url)
    day = date(2026, 6, 1)
    counts = [history.PostCounts("p1", 10, 1, None), history.PostCounts("p2", 5, 0, 100)]
    with store.session() as s:
        assert history.record_posts(s, "instagram", day, counts) == 2
    with store.session() as s:  # the same counts, the next day: nothing
        assert history.record_posts(s, "instagram", day + timedelta(days=1), counts) == 0
    moved = [counts[0], history.PostCounts("p2", 6, 0, 120)]
    with store.session() as s:
        assert history.record_posts(s, "instagram", day + timedelta(days=2), moved) == 1
    with store.session() as s:
        assert history.counts(s)["post_snapshots"] == 3
        # a creator's day is one row, overwritten by a later sync the same day
        assert history.record_creator(
            s, "instagram", "a", day, followers=1, following=None, media_count=None
        )
        assert not history.record_creator(
            s, "instagram", "a", day, followers=1, following=None, media_count=None
        )
        assert history.record_creator(
            s, "instagram", "a", day, followers=2, following=None, media_count=None
        )
        assert history.counts(s)["creator_snapshots"] == 1
    store.dispose()


def test_a_sync_prunes_snapshots_past_the_retention_setting(sqlite_url):
    base = Settings.from_env(sqlite_url)
    parts = assemble(settings=replace(base, history_days=30), migrate=True)
    clock = ManualClock(datetime(2026, 6, 1, 12, tzinfo=UTC))
    today = clock.now().date()
    store = Store(sqlite_url)
    snapshot(store, "old", today - timedelta(days=40), 100)
    snapshot(store, "old", today - timedelta(days=10), 110)
    with store.session() as s:
        for post, ago, likes in (("p1", 40, 1), ("p1", 35, 2), ("p2", 40, 1), ("p2", 5, 3)):
            s.add(PostSnapshot(platform="instagram", post_id=post, day=today - timedelta(ago),
                               likes=likes, comments=0, views=None))  # fmt: skip
    report = parts.admin.sync(clock=clock)  # no source configured: only the pruning runs
    assert all(r.skipped for r in report.runs)
    assert report.pruned == (1, 2)
    with store.session() as s:
        days = sorted((r.handle, (today - r.day).days) for r in s.query(CreatorSnapshot))
        posts = sorted((r.post_id, (today - r.day).days) for r in s.query(PostSnapshot))
    assert days == [("old", 10)]
    # p1's newest row is old but kept: it is what the next "changed?" compares with
    assert posts == [("p1", 35), ("p2", 5)]
    store.dispose()
    parts.close()


def test_growth_over_7_and_30_days():
    series = [(TODAY - timedelta(days=30), 1000), (TODAY - timedelta(days=7), 1100), (TODAY, 1210)]
    assert growth_percent(series, 7) == 10.0 and growth_percent(series, 30) == 21.0
    assert growth_percent(series[1:], 30) is None  # not 30 days of history yet
    assert growth_percent([], 7) is None
    assert growth_percent([(TODAY - timedelta(days=8), 0), (TODAY, 10)], 7) is None


def test_growth_filter_parses_like_the_other_ranges():
    assert parse_filters({"growth": ">5%"}).growth_min == 5.0
    f = parse_filters({"growth": "0-10"}, CLI)
    assert (f.growth_min, f.growth_max) == (0.0, 10.0) and f and f.has_growth
    assert parse_filters({"growth": "<-1%"}).growth_max == -1.0
    with pytest.raises(BadQuery, match="growth"):
        parse_filters({"growth": "fast"})
    assert not parse_filters({"followers": "10k+"}).has_growth


@pytest.fixture
def lookalike_db(sqlite_url, tmp_path):
    """The tiny three-theme data set imported into a real SQLite file, with a lookalike
    model fitted on it and published, and 30 days of follower history."""
    data = tiny_dataset()
    inf, posts = tmp_path / "influencers.csv", tmp_path / "posts.csv"
    data.influencers[["handle", "followers", "language", "platform"]].to_csv(inf, index=False)
    frame = data.posts.assign(hashtags=data.posts["hashtags"].map(" ".join))
    frame[["post_id", "handle", "posted_at", "caption", "likes", "comments", "hashtags"]].to_csv(
        posts, index=False
    )
    parts = assemble(sqlite_url, migrate=True)
    parts.admin.import_file(inf, "influencers")
    parts.admin.import_file(posts, "posts")
    parts.close()
    model = lookalike_model.fit(data, LookalikeConfig(dims=8))
    store = Store(sqlite_url)
    store.registry.publish([NewArtifact("lookalike", model.to_bytes(), {}, {}, "f")])
    start = TODAY - timedelta(days=30)
    for handle, then, now in (("food_2", 1000, 1200), ("food_3", 1000, 1010)):
        snapshot(store, handle, start, then)
        snapshot(store, handle, TODAY, now)
    store.dispose()
    return sqlite_url


def test_growth_is_a_field_of_creator_answers_and_a_filter(lookalike_db, capsys):
    rec = assemble(lookalike_db).recommender
    plain = rec.lookalike("food_1", k=3, method="ppmi")
    by_id = {r.id: r for r in plain.results}
    assert "food_2" in by_id and by_id["food_2"].extra["growth_30d"] == 20.0
    growing = rec.lookalike("food_1", k=3, method="ppmi", filters=parse_filters({"growth": ">5%"}))
    assert [r.id for r in growing.results] == ["food_2"]  # food_3 grew 1%, others unknown
    assert rec.growth(["food_3", "cars_1"]) == {
        "food_3": {"7d": 1.0, "30d": 1.0},
        "cars_1": {"7d": None, "30d": None},
    }
    none = rec.lookalike("food_1", k=3, method="ppmi", filters=parse_filters({"growth": ">50"}))
    assert none.results == [] and any("growth" in n for n in none.notes)
    rec.close()
    argv = ["lookalike", "food_1", "--method", "ppmi", "--growth", "0-5", "--json"]
    assert main([*argv, "--db", lookalike_db]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["results"]] == ["food_3"]
