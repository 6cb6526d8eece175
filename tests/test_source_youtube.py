"""The YouTube Data API adapter against the loopback fake (tests/fake_youtube.py):
channels by handle or id, uploads paging to the sync window, videos in batches of 50,
quota units counted so a day never passes SCOUT_YT_QUOTA, and the error objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.ingest.sources import ManualClock, QuotaMeter, SourceSettings, YouTubeSource
from tests.fake_youtube import API_KEY, FakeYouTube, yt_error


@pytest.fixture
def clock():
    return ManualClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def yt(clock):
    with FakeYouTube(clock) as fake:
        yield fake


def source(
    yt: FakeYouTube, clock: ManualClock, units: int = 10_000, key: str = API_KEY, **kw
) -> YouTubeSource:
    settings = SourceSettings.from_env(
        {
            "SCOUT_YT_API_URL": yt.url + "/youtube/v3",
            "SCOUT_YT_API_KEY": key,
            "SCOUT_YT_QUOTA": str(units),
        }
    )
    return YouTubeSource(settings, clock=clock, **kw)


def test_a_channel_by_handle_pages_its_uploads_to_the_window(yt, clock):
    yt.add_channel("BakeBar", 300, every=timedelta(hours=12), subscribers=98_000)
    fetch = source(yt, clock).fetch_creator("@BakeBar")
    assert fetch.ok and fetch.handle == "bakebar"
    assert fetch.creator.followers == 98_000 and fetch.creator.media_count == 300
    assert len(fetch.posts) == 180  # two a day for 90 days: more than the newest 50
    # 1 channels + 4 playlistItems pages (50 each) + 4 videos batches
    assert fetch.calls == 9 == yt.units
    assert [len(c.params["id"].split(",")) for c in yt.of("videos")] == [50, 50, 50, 30]
    assert yt.of("channels")[0].params["forHandle"] == "@bakebar"
    assert [c.params.get("pageToken") for c in yt.of("playlistItems")] == [None, "50", "100", "150"]
    video = fetch.posts[0]
    assert video.views == 1500 and video.likes == 120 and video.comments == 7
    assert video.duration_s == 91.0 and video.permalink.endswith(video.post_id)
    assert {"shorts", "streetfood", "cooking"} <= set(video.hashtags)
    assert video.mentions == ("bakebar_friend",)


def test_a_channel_by_id_and_a_hidden_subscriber_count(yt, clock):
    channel = yt.add_channel("quiet", 3, hidden=True)
    fetch = source(yt, clock).fetch_creator(channel.channel_id)
    assert fetch.ok and fetch.creator.followers is None and len(fetch.posts) == 3
    assert yt.of("channels")[0].params["id"] == channel.channel_id and fetch.calls == 3


def test_the_daily_quota_is_never_passed_and_the_rest_waits_for_tomorrow(yt, clock):
    for i in range(10):
        yt.add_channel(f"chan{i}", 60)  # 1 + 2 + 2 = 5 units each
    src = source(yt, clock, units=23)
    fetches = [src.fetch_creator(f"chan{i}") for i in range(10)]
    assert [f.ok for f in fetches] == [True] * 4 + [False] * 6
    assert src.quota.used == yt.units == 23  # 4 channels, then 3 units of the fifth
    assert fetches[4].problem.kind == "quota_exhausted" and fetches[4].creator is not None
    # midnight Pacific (07:00 UTC in June)
    assert fetches[5].problem.retry_at == datetime(2026, 6, 2, 7, 0, tzinfo=UTC)
    assert all(f.calls == 0 for f in fetches[5:])
    clock.sleep(19 * 3600 + 1)  # past the reset: a fresh day
    assert src.fetch_creator("chan9").ok and src.quota.used == 5


def test_a_second_sync_the_same_day_resumes_the_persisted_meter(yt, clock):
    yt.add_channel("once", 10)
    first = source(yt, clock, units=5)
    assert first.fetch_creator("once").ok and first.quota.used == 3
    meter = QuotaMeter.from_dict(first.quota.to_dict())
    second = source(yt, clock, units=5, quota=meter)
    assert second.fetch_creator("once").problem.kind == "quota_exhausted"
    assert yt.units == 5


def test_quota_exceeded_from_the_api_is_a_problem_and_stops_spending(clock):
    with FakeYouTube(clock, quota=2) as yt:  # someone else spent the project's quota
        yt.add_channel("c1", 10)
        yt.add_channel("c2", 10)
        src = source(yt, clock)
        first, second = src.fetch_creator("c1"), src.fetch_creator("c2")
    assert first.problem.kind == "quota_exhausted" and "quotaExceeded" in first.problem.message
    assert first.creator is not None and first.posts == []
    assert second.problem.kind == "quota_exhausted" and len(yt.calls) == 3


def test_an_invalid_key_stops_the_source(yt, clock):
    yt.add_channel("c1", 3)
    src = source(yt, clock, key="wrong-key")
    first, second = src.fetch_creator("c1"), src.fetch_creator("c1")
    assert first.problem.kind == "token_invalid" and "SCOUT_YT_API_KEY" in first.problem.message
    assert second.problem.kind == "token_invalid" and len(yt.calls) == 1
    assert "wrong-key" not in first.problem.message


def test_a_missing_channel_is_marked_and_the_next_one_fetched(yt, clock):
    yt.add_channel("here", 3)
    src = source(yt, clock)
    gone, here = src.fetch_creator("@gone"), src.fetch_creator("here")
    assert gone.problem.kind == "handle_unavailable" and gone.problem.handle == "gone"
    assert here.ok and len(here.posts) == 3


def test_a_404_playlist_and_a_rate_limit_are_data(yt, clock):
    yt.add_channel("c1", 3).uploads_gone = True
    fetch = source(yt, clock).fetch_creator("c1")
    assert fetch.problem.kind == "handle_unavailable" and fetch.creator is not None
    assert "playlistNotFound" in fetch.problem.message
    yt.add_channel("c2", 3)
    yt.errors_next = [(403, yt_error(403, "rateLimitExceeded", "slow down"))]
    assert source(yt, clock).fetch_creator("c2").ok and clock.sleeps == [30.0]


def test_search_costs_100_units(yt, clock):
    yt.add_channel("pasta_lab", 1)
    src = source(yt, clock, units=150)
    assert src.search_channels("pasta") == [next(iter(yt.channels))]
    assert src.quota.used == 100
    assert src.search_channels("pasta").kind == "quota_exhausted" and yt.units == 100
