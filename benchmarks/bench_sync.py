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
third weekly).

- The daily cycle end to end (`--cycle N`, 10,000 by default, 1,000 with --quick): N
  watched Instagram creators with 20 posts each are synced once into a fresh SQLite
  store through `engine sync`'s code (Admin.sync: the Graph fake, the upserts, the
  snapshots, one transaction per creator); then a day later, with 1% of them having
  posted once more, the daily sync (every creator due), a second sync the same day
  (it must find nothing new), and the retrain of the text kinds (lookalike, tags,
  topics). It measures this machine's wall seconds for each step, the posts and post
  snapshots written, and the calls made. NOT measured: the API budget (the fake's BUC
  budget is lifted for this part; the rows above give what 200 calls/h allow), the
  photo kind (the fake's image URLs point nowhere: featurising new images is the photos
  kind's feature cache at train time) and the digest (trending needs songs, which the
  Graph API does not give; the digest path lives in the bot's clock).

Every run writes the daily cycle to `results/sync_cycle_N.json`; a run with the capacity
rows also writes `results/sync.json` (`sync_quick.json` with --quick).

Usage: python -m benchmarks.bench_sync [--quick] [--cycle N] [--no-capacity]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

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


def bench_daily_cycle(n: int, folder: Path) -> dict:
    from engine.bootstrap import assemble
    from engine.core.settings import Settings

    clock = ManualClock()
    url = f"sqlite:///{folder / 'cycle.db'}"
    with FakeGraph(clock, calls_per_hour=10**9) as graph:
        for i in range(n):
            graph.add_account(f"creator{i}", 20, every=RATES[i % 3])
        settings = replace(
            Settings.from_env(url),
            ig_graph_url=graph.url + "/v21.0",
            ig_user_id=IG_USER_ID,
            ig_access_token=TOKEN,
            discovery_per_day=0,
        )
        parts = assemble(settings=settings, migrate=True)
        admin = parts.admin
        for i in range(n):
            admin.watch_add(f"creator{i}")
        row: dict = {"creators": n}
        t0 = time.perf_counter()
        first = admin.sync(clock=clock).runs[0]
        row["first sync s"] = time.perf_counter() - t0
        row["first sync posts"] = first.new_posts
        clock.current += timedelta(days=1)
        posted = list(range(0, n, 100))  # 1% post once more
        for i in posted:
            media = graph.accounts[f"creator{i}"].media
            fresh = dict(media[0], id=f"new{i:07d}", caption=f"new post {i} #food")
            media.insert(0, fresh)
        snapshots = _post_snapshots(url)
        t0 = time.perf_counter()
        daily = admin.sync(clock=clock).runs[0]
        row["daily sync s"] = time.perf_counter() - t0
        row["daily calls"] = daily.calls
        row["daily new posts"] = daily.new_posts
        row["daily post snapshots"] = _post_snapshots(url) - snapshots
        t0 = time.perf_counter()
        again = admin.sync(clock=clock, everything=True).runs[0]
        row["re-sync s"] = time.perf_counter() - t0
        row["re-sync new posts"] = again.new_posts
        t0 = time.perf_counter()
        report = admin.train(kinds=["lookalike", "tags", "topics"])
        row["train s"] = time.perf_counter() - t0
        row["kinds"] = ", ".join(f"{o.kind} {o.status}" for o in report.outcomes)
        row["cycle s"] = row["daily sync s"] + row["train s"]
        parts.close()
    return row


def _post_snapshots(url: str) -> int:
    from models import history
    from models.store import Store

    store = Store(url)
    try:
        with store.session() as s:
            return history.counts(s)["post_snapshots"]
    finally:
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="150 creators instead of 600 / 1,000")
    parser.add_argument("--cycle", type=int, default=None, help="creators in the daily cycle")
    parser.add_argument("--no-capacity", action="store_true", help="only the daily cycle")
    args = parser.parse_args()
    n_ig, n_yt = (150, 150) if args.quick else (1000, 1000)
    rows = []
    if not args.no_capacity:
        rows = [
            bench_instagram(n_ig, Window(), "first (50 posts + 90 days)"),
            bench_instagram(n_ig, REFRESH, "daily refresh (1 page)"),
            bench_youtube(n_yt, Window(), "first (50 videos + 90 days)"),
            bench_youtube(n_yt, REFRESH, "daily refresh (1 page)"),
        ]
        print_table("Sync capacity within the API budgets (simulated clock)", rows)
    n_cycle = args.cycle or (1000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as folder:
        cycle = bench_daily_cycle(n_cycle, Path(folder))
    print_table("Daily cycle: sync -> train, 1% new posts (this machine's seconds)", [cycle])
    # the daily cycle in its own file too (`--cycle 10000` -> results/sync_cycle_10000.json),
    # so a run at another size never overwrites the capacity figures' file
    write_results(f"sync_cycle_{n_cycle}", {"daily_cycle": cycle})
    if not rows:  # the daily cycle alone: the capacity figures stay as they were
        return
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
            "daily_cycle": cycle,
        },
    )


if __name__ == "__main__":
    main()
