"""The Instagram Graph API adapter against the loopback fake (tests/fake_graph.py):
Business Discovery paging to the sync window, throttling waited out on an injected clock,
a token that expires mid-run, handles that are gone, Hashtag Search within its weekly
budget, and slow or dropped connections."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.ingest.sources import GraphSource, HashtagBudget, ManualClock, SourceSettings
from engine.ingest.sources.graph_limits import read_usage
from tests.fake_graph import IG_USER_ID, TOKEN, FakeGraph, media_series


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def graph(clock):
    with FakeGraph(clock) as fake:
        yield fake


def source(graph: FakeGraph, clock: ManualClock, **kw) -> GraphSource:
    settings = SourceSettings.from_env(
        {
            "SCOUT_IG_GRAPH_URL": graph.url + "/v21.0",
            "SCOUT_IG_USER_ID": IG_USER_ID,
            "SCOUT_IG_ACCESS_TOKEN": TOKEN,
            "SCOUT_SOURCE_TIMEOUT_S": "0.5",
        }
    )
    return GraphSource(settings, clock=clock, **kw)


def test_pages_until_the_newest_50_posts_are_in(graph, clock):
    graph.add_account("daily_chef", 200, every=timedelta(days=1), followers=12_345)
    fetch = source(graph, clock).fetch_creator("@Daily_Chef")
    assert fetch.ok and fetch.handle == "daily_chef"
    assert fetch.creator.followers == 12_345 and fetch.creator.following == 321
    assert fetch.creator.media_count == 200
    # 90 days of daily posts: more than 50, so the window is the 90 days (4 pages of 25)
    assert len(fetch.posts) == 90
    assert fetch.calls == 4 == len(graph.calls)
    fields = [c.params["fields"] for c in graph.calls]
    assert "followers_count" in fields[0] and "media{" in fields[0]
    assert all("media.after(" in f and "followers_count" not in f for f in fields[1:])
    post = fetch.posts[0]
    assert post.hashtags == ("food", "day0") and post.mentions == ("friend_0",)
    assert post.media_type == "VIDEO" and post.image_url.endswith("0_t.jpg")
    assert post.posted_at is not None and post.posted_at.tzinfo is not None


def test_a_slow_poster_gets_its_newest_50_whatever_their_age(graph, clock):
    graph.add_account("rare", 80, every=timedelta(days=10))
    fetch = source(graph, clock).fetch_creator("rare")
    assert len(fetch.posts) == 50  # 9 posts fall in 90 days; the newest 50 are kept
    assert fetch.calls == 2


def test_a_small_account_stops_at_its_last_page(graph, clock):
    graph.add_account("tiny", 7)
    fetch = source(graph, clock).fetch_creator("tiny")
    assert len(fetch.posts) == 7 and fetch.calls == 1


def test_throttle_error_waits_as_the_header_says_and_resumes(graph, clock):
    graph.add_account("busy", 30)
    graph.throttle_next = [4, 613]
    src = source(graph, clock)
    fetch = src.fetch_creator("busy")
    assert fetch.ok and len(fetch.posts) == 30
    # no estimate in the header (budget not spent): back-off of 1 then 2 minutes
    assert clock.sleeps == [60.0, 120.0]
    assert len(graph.calls) == 4


def test_throttled_past_the_retries_is_rate_limited_with_when_to_retry(graph, clock):
    graph.add_account("busy", 3)
    graph.add_account("later", 3)
    graph.throttle_next = [17] * 3
    src = source(graph, clock, max_throttled=2)
    fetch = src.fetch_creator("busy")
    assert fetch.problem.kind == "rate_limited" and fetch.problem.handle == "busy"
    assert clock.sleeps == [60.0, 120.0] and len(graph.calls) == 3
    assert fetch.problem.retry_at == clock.now() + timedelta(minutes=4)  # the next back-off
    assert src.fetch_creator("later").ok and clock.sleeps[-1] == 240.0


def test_both_usage_headers_are_read():
    buc = '{"1784": [{"type": "instagram", "call_count": 40, "total_time": 97, '
    buc += '"total_cputime": 5, "estimated_time_to_regain_access": 12}]}'
    usage = read_usage({"x-business-use-case-usage": buc, "x-app-usage": '{"call_count": 50}'})
    assert usage.percent == 97 and usage.regain_minutes == 12
    assert read_usage({"x-app-usage": '{"call_count": 99}'}).percent == 99
    assert read_usage({"x-app-usage": "not json"}).percent == 0


def test_usage_near_100_percent_waits_the_estimated_minutes(clock):
    with FakeGraph(clock, calls_per_hour=3) as graph:
        for name in ("a1", "a2", "a3", "a4"):
            graph.add_account(name, 5)
        src = source(graph, clock)
        fetches = [src.fetch_creator(name) for name in ("a1", "a2", "a3", "a4")]
    assert all(f.ok for f in fetches)
    # the third call reports 100% and a regain estimate of 60 min: the fourth waits it
    assert clock.sleeps == [3600.0]
    assert src.waited_s == 3600.0
    assert [c.status for c in graph.calls] == [200, 200, 200, 200]


def test_a_wait_longer_than_allowed_is_returned_not_slept(clock):
    with FakeGraph(clock, calls_per_hour=1) as graph:
        graph.add_account("a1", 3)
        graph.add_account("a2", 3)
        src = source(graph, clock, max_wait_s=600)
        first, second = src.fetch_creator("a1"), src.fetch_creator("a2")
    assert first.ok
    assert second.problem.kind == "rate_limited" and second.problem.handle == "a2"
    assert second.problem.retry_at == clock.now() + timedelta(minutes=60)
    assert clock.sleeps == [] and len(graph.calls) == 1


def test_expired_token_stops_the_source_and_keeps_what_was_fetched(graph, clock):
    graph.add_account("first", 10)
    graph.add_account("second", 100)
    graph.add_account("third", 10)
    graph.expire_token_after(2)
    src = source(graph, clock)
    first, second, third = (src.fetch_creator(h) for h in ("first", "second", "third"))
    assert first.ok and len(first.posts) == 10
    assert (
        second.problem.kind == "token_invalid" and "SCOUT_IG_ACCESS_TOKEN" in second.problem.message
    )
    assert second.creator is not None and len(second.posts) == 25  # page 1 kept
    assert third.problem.kind == "token_invalid" and third.calls == 0
    assert src.stopped is not None and len(graph.calls) == 3
    assert TOKEN not in second.problem.message


def test_unavailable_handle_is_marked_and_the_next_one_fetched(graph, clock):
    graph.gone["was_business"] = (100, "(#100) The user is not an Instagram Business")
    graph.add_account("fine", 3)
    src = source(graph, clock)
    missing, renamed, fine = (src.fetch_creator(h) for h in ("nobody", "was_business", "fine"))
    assert missing.problem.kind == "handle_unavailable" and missing.problem.handle == "nobody"
    assert "110" in missing.problem.message
    assert renamed.problem.kind == "handle_unavailable" and "Business" in renamed.problem.message
    assert fine.ok and len(fine.posts) == 3 and src.stopped is None


def test_dropped_connection_is_retried(graph, clock):
    graph.add_account("flaky", 3)
    graph.drops = 2
    fetch = source(graph, clock).fetch_creator("flaky")
    assert fetch.ok and len(fetch.posts) == 3
    assert clock.sleeps == [2.0, 4.0]  # the transport's back-off, on the injected clock


def test_a_connection_that_never_answers_is_a_network_problem(graph, clock):
    graph.add_account("slow", 3)
    graph.delay_s = 1.0  # past the 0.5 s timeout, every try
    fetch = source(graph, clock).fetch_creator("slow")
    graph.delay_s = 0
    assert fetch.problem.kind == "network" and fetch.creator is None
    assert "failed after 3 tries" in fetch.problem.message and TOKEN not in fetch.problem.message


def test_hashtag_search_finds_candidates_and_counts_the_weekly_budget(graph, clock):
    graph.add_hashtag("streetfood", media_series("x", 5, clock.now(), timedelta(hours=3)))
    budget = HashtagBudget()
    src = source(graph, clock, hashtags=budget)
    found = src.search_hashtag("#StreetFood")
    assert found.problem is None and len(found.posts) == 5
    assert set(found.candidates) == {"friend_0", "friend_1", "friend_2", "friend_3"}
    assert all(p.handle == "" for p in found.posts)  # top_media does not say whose
    again = src.search_hashtag("streetfood")  # the same tag this week costs nothing more
    assert again.problem is None and budget.used(clock.now()) == 1
    assert graph.hashtag_queries == ["streetfood"]


def test_hashtag_budget_never_passes_30_a_week_and_survives_a_restart(graph, clock):
    src = source(graph, clock)
    for i in range(30):
        assert src.search_hashtag(f"tag{i}").problem.kind == "handle_unavailable"  # unknown tag
    refused = src.search_hashtag("tag30")
    assert refused.problem.kind == "quota_exhausted"
    assert refused.problem.retry_at == clock.now() + timedelta(days=7)
    assert len(graph.hashtag_queries) == 30
    restored = HashtagBudget.from_dict(src.hashtags.to_dict())
    assert not restored.allows("tag31", clock.now()) and restored.allows("tag3", clock.now())
    clock.sleep(7 * 86400)
    assert restored.allows("tag31", clock.now()) and restored.used(clock.now()) == 0


def test_settings_need_an_account_and_a_token():
    with pytest.raises(ValueError, match="SCOUT_IG_USER_ID"):
        GraphSource(SourceSettings())
    assert SourceSettings.from_env({}).ig_graph_url == "https://graph.facebook.com/v21.0"
    with pytest.raises(ValueError, match="SCOUT_YT_QUOTA"):
        SourceSettings.from_env({"SCOUT_YT_QUOTA": "lots"})
