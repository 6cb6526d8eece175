"""Sync capacity of the source adapters against the loopback fakes (tests/fake_graph.py,
tests/fake_youtube.py), on a simulated clock: every wait the adapters ask for moves the
clock and costs no real time, so the figures are what the call budgets allow, not what
this machine's loopback does (the real seconds spent are printed beside them).

- Instagram: creators fetched per hour within the Graph API's call budget, for a first
  sync (the newest 50 posts and the last 90 days) and a daily refresh (the first page of
  media). ASSUMPTION: the fake models the Business Use Case budget as 200 calls per
  rolling hour for the app's account, reported in `X-Business-Use-Case-Usage` with
  `estimated_time_to_regain_access`, and code 80002 past it. Meta documents the
  Instagram BUC budget as 4,800 × the account's impressions per 24 h, so a real token's
  figure scales with its account; 200/h is the platform rate limit per user and a
  conservative stand-in.
- YouTube: quota units one day's sync uses per 1,000 channels (first sync and daily
  refresh), and how many channels the default 10,000 units keep fresh.

Creators follow a mix of posting rates (a third post daily, a third every 3 days, a
third weekly). The daily cycle at 10,000 watched creators (sync -> train -> digest)
needs the sync command and the history tables (issue 23, later) and is not measured here.

Usage: python -m benchmarks.bench_sync [--quick]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from benchmarks.report import print_table, write_results
from engine.ingest.sources import (
    GraphSource,
    ManualClock,
    SourceSettings,
    Window,
    YouTubeSource,
)
from tests.fake_graph import IG_USER_ID, TOKEN, FakeGraph
from tests.fake_youtube import API_KEY, FakeYouTube

CALLS_PER_HOUR = 200
RATES = (timedelta(days=1), timedelta(days=3), timedelta(days=7))
REFRESH = Window(newest=1, days=1)  # a daily sync: what is new since yesterday


def bench_instagram(n: int, window: Window, label: str) -> dict:
    clock = ManualClock()
    with FakeGraph(clock, calls_per_hour=CALLS_PER_HOUR) as graph:
        for i in range(n):
            graph.add_account(f"creator{i}", 120, every=RATES[i % 3])
        settings = SourceSettings(
            ig_graph_url=graph.url + "/v21.0", ig_user_id=IG_USER_ID, ig_access_token=TOKEN
        )
        source = GraphSource(settings, clock=clock, window=window, max_wait_s=2 * 3600)
        start, t0 = clock.now(), time.perf_counter()
        fetches = [source.fetch_creator(f"creator{i}") for i in range(n)]
        wall = time.perf_counter() - t0
        hours = (clock.now() - start).total_seconds() / 3600
        refused = sum(1 for c in graph.calls if c.status != 200)
    ok = sum(f.ok for f in fetches)
    # what the budget allows at the calls a creator really took; the simulated run shows
    # the adapter kept to it (no refused call) and how long the run took on the clock
    per_hour = CALLS_PER_HOUR * ok / source.calls
    return {
        "source": "instagram",
        "sync": label,
        "creators": n,
        "fetched": ok,
        "calls": source.calls,
        "calls/creator": source.calls / n,
        "refused calls": refused,
        "simulated h": hours,
        "simulated creators/h": ok / hours if hours >= 1 else None,
        "creators/h": per_hour,
        "fresh daily": per_hour * 24,
        "real s": wall,
    }


def bench_youtube(n: int, window: Window, label: str) -> dict:
    clock = ManualClock()
    with FakeYouTube(clock, quota=10**9) as yt:
        for i in range(n):
            yt.add_channel(f"channel{i}", 120, every=RATES[i % 3])
        settings = SourceSettings(
            yt_api_url=yt.url + "/youtube/v3", yt_api_key=API_KEY, yt_quota=10**9
        )
        source = YouTubeSource(settings, clock=clock, window=window)
        t0 = time.perf_counter()
        fetches = [source.fetch_creator(f"channel{i}") for i in range(n)]
        wall = time.perf_counter() - t0
    per_channel = yt.units / n
    return {
        "source": "youtube",
        "sync": label,
        "creators": n,
        "fetched": sum(f.ok for f in fetches),
        "calls": source.calls,
        "calls/creator": source.calls / n,
        "units per 1,000": per_channel * 1000,
        "fresh daily": 10_000 / per_channel,
        "real s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 creators instead of 600 / 1,000")
    args = parser.parse_args()
    n_ig, n_yt = (150, 150) if args.quick else (1000, 1000)
    rows = [
        bench_instagram(n_ig, Window(), "first (50 posts + 90 days)"),
        bench_instagram(n_ig, REFRESH, "daily refresh (1 page)"),
        bench_youtube(n_yt, Window(), "first (50 videos + 90 days)"),
        bench_youtube(n_yt, REFRESH, "daily refresh (1 page)"),
    ]
    print_table("Sync capacity within the API budgets (simulated clock)", rows)
    write_results(
        "sync" + ("_quick" if args.quick else ""),
        {
            "quick": args.quick,
            "assumptions": {
                "graph_calls_per_hour": CALLS_PER_HOUR,
                "graph_page_size": 25,
                "youtube_daily_quota": 10_000,
                "posting_rates_days": [r.days for r in RATES],
            },
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
