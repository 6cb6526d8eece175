"""`engine sync` against the loopback fakes of the Graph API and the YouTube Data API
(tests/fake_graph.py, tests/fake_youtube.py) on a real SQLite file and the real
Postgres: what it writes (creators, posts, snapshots; songs from scraper items), that a
second sync changes nothing, that a killed sync resumes and loses nothing, that an
expired token stops only its source and `engine status` says so, that a gone handle is
marked with its reason, and that discovery keeps to its budget and says where each
candidate came from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.bootstrap import assemble
from engine.cli import main
from engine.core.settings import Settings
from engine.ingest.sources import ManualClock
from models import history
from models.schema import Post
from models.store import Store
from tests.fake_graph import IG_USER_ID, TOKEN, FakeGraph, media_series
from tests.fake_youtube import API_KEY, FakeYouTube

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def graph(clock):
    with FakeGraph(clock) as fake:
        yield fake


@pytest.fixture
def youtube(clock):
    with FakeYouTube(clock) as fake:
        yield fake


def source_env(graph: FakeGraph | None, youtube: FakeYouTube | None) -> dict[str, str]:
    env = {"SCOUT_SOURCE_TIMEOUT_S": "2"}
    if graph is not None:
        env.update(
            SCOUT_IG_GRAPH_URL=graph.url + "/v21.0",
            SCOUT_IG_USER_ID=IG_USER_ID,
            SCOUT_IG_ACCESS_TOKEN=TOKEN,
        )
    if youtube is not None:
        env.update(SCOUT_YT_API_URL=youtube.url, SCOUT_YT_API_KEY=API_KEY)
    return env


def parts(url: str, graph=None, youtube=None, **overrides):
    base = Settings.from_env(url)
    fields = {
        "ig_graph_url": graph.url + "/v21.0" if graph else base.ig_graph_url,
        "ig_user_id": IG_USER_ID if graph else None,
        "ig_access_token": TOKEN if graph else None,
        "yt_api_url": youtube.url if youtube else base.yt_api_url,
        "yt_api_key": API_KEY if youtube else None,
        "source_timeout_s": 2.0,
        "discovery_per_day": 0,
        **overrides,
    }
    return assemble(settings=replace(base, **fields), migrate=True)


def table_counts(p) -> dict[str, int]:
    store = Store(p.recommender.settings.database_url)
    try:
        with store.session() as s:
            return {**p.admin.counts(), **history.counts(s)}
    finally:
        store.dispose()


def post_column(url: str, column):
    store = Store(url)
    try:
        with store.session() as s:
            return list(s.scalars(select(column)))
    finally:
        store.dispose()


def test_sync_writes_creators_posts_and_snapshots_and_a_second_sync_changes_nothing(
    any_db_url, graph, youtube, clock
):
    graph.add_account("ana", 30, followers=1200)
    graph.add_account("bo", 10, followers=800)
    youtube.add_channel("cooktube", 12, subscribers=5000)
    p = parts(any_db_url, graph, youtube)
    p.admin.watch_add("@Ana")
    p.admin.watch_add("bo")
    p.admin.watch_add("@cooktube", "youtube")

    report = p.admin.sync(clock=clock)
    runs = {r.source: r for r in report.runs}
    assert runs["instagram_graph"].synced == 2 and runs["youtube"].synced == 1
    assert runs["instagram_graph"].new_posts == 40 and runs["youtube"].new_posts == 12
    counts = table_counts(p)
    assert counts["influencers"] == 3 and counts["posts"] == 52
    assert counts["creator_snapshots"] == 3 and counts["post_snapshots"] == 52
    images = post_column(any_db_url, Post.image)
    assert "https://cdn.example/ana/1.jpg" in images  # only the URL is kept
    assert 1500 in post_column(any_db_url, Post.views)  # YouTube's viewCount
    assert all(e.last_synced_at is not None for e in p.admin.watchlist())

    # nothing is due a minute later, and a forced re-sync of everything finds nothing new
    clock.current += timedelta(minutes=1)
    assert sum(r.synced for r in p.admin.sync(clock=clock).runs) == 0
    again = p.admin.sync(clock=clock, everything=True)
    assert sum(r.synced for r in again.runs) == 3 and sum(r.new_posts for r in again.runs) == 0
    assert table_counts(p) == counts

    # a day later one post gained likes: one post snapshot and the day's creator rows
    clock.current += timedelta(days=1)
    graph.accounts["ana"].media[0]["like_count"] += 50
    graph.accounts["ana"].followers = 1300
    p.admin.sync(clock=clock)
    later = table_counts(p)
    assert later["posts"] == 52 and later["post_snapshots"] == 53
    assert later["creator_snapshots"] == 6
    p.close()


def test_scraper_items_write_their_songs_and_snapshots(sqlite_url, tmp_path, monkeypatch):
    from tests.test_source_scrapers import IG_ITEM, TT_ITEM

    monkeypatch.setenv("SCOUT_DISCOVERY_PER_DAY", "50")
    export, collab = tmp_path / "tiktok.jsonl", tmp_path / "instagram.json"
    items = [TT_ITEM, {**TT_ITEM, "id": "7506832745952218114", "musicMeta": {}}]
    export.write_text("\n".join(json.dumps(i) for i in items) + "\n")
    collab.write_text(json.dumps([IG_ITEM]))
    assert main(["sync", "--db", sqlite_url, "--file", str(export), "--json"]) == 0
    assert main(["sync", "--db", sqlite_url, "--file", str(collab)]) == 0
    p = parts(sqlite_url)
    found = {(e.platform, e.handle): (e.origin, e.added_by) for e in p.admin.watchlist()}
    assert found == {
        ("tiktok", "bestfriend"): ("mention", "nomnomtom"),
        ("instagram", "chef.luigi"): ("coauthor", "ana.cooks"),  # also @mentioned
    }
    counts = table_counts(p)
    assert counts["songs"] == 2 and counts["posts"] == 3 and counts["influencers"] == 2
    assert counts["creator_snapshots"] == 2 and counts["post_snapshots"] == 3
    songs = set(post_column(sqlite_url, Post.song_id))
    assert songs == {"7300000000000000001", "1234567890", None}
    assert set(post_column(sqlite_url, Post.views)) == {9_800_000, 56_789}
    p.close()
    assert main(["sync", "--db", sqlite_url, "--file", str(export)]) == 0
    assert table_counts(parts(sqlite_url)) == counts  # the same export again: nothing new


def test_an_expired_token_stops_only_its_source_and_status_says_so(
    sqlite_url, graph, youtube, monkeypatch, capsys
):
    for name in ("h1", "h2", "h3"):
        graph.add_account(name, 10)
    youtube.add_channel("yt_one", 5)
    graph.expire_token_after(1)  # h1's one call passes, then 190
    for key, value in source_env(graph, youtube).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SCOUT_DISCOVERY_PER_DAY", "0")
    for name in ("h1", "h2", "h3"):
        assert main(["watch", "add", "@" + name, "--db", sqlite_url]) == 0
    assert main(["watch", "add", "@yt_one", "--platform", "youtube", "--db", sqlite_url]) == 0
    capsys.readouterr()

    assert main(["sync", "--db", sqlite_url, "--json"]) == 0
    runs = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert runs["instagram_graph"]["score"] == 1  # h1 only
    assert (
        "stopped" in runs["instagram_graph"]["why"]
        and "SCOUT_IG_ACCESS_TOKEN" in (runs["instagram_graph"]["why"])
    )
    assert runs["youtube"]["score"] == 1
    assert len(graph.of("/" + IG_USER_ID)) == 2  # h3 was never asked for

    assert main(["status", "--db", sqlite_url, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in status["results"]}
    items = dict(zip(rows, status["details"]["items"], strict=True))
    assert items["instagram_graph"]["token_state"] == "invalid"
    assert items["instagram_graph"]["errors"] == {"token_invalid": 1}
    assert items["instagram_graph"]["due"] == 2  # h2 and h3 wait for a new token
    assert "token invalid" in rows["instagram_graph"]["why"]
    assert items["youtube"]["token_state"] == "ok" and items["youtube"]["due"] == 0
    assert items["youtube"]["quota_used"] == items["youtube"]["calls_today"] > 0
    p = parts(sqlite_url)
    assert p.admin.counts()["posts"] == 15  # what arrived before the token went is kept


def test_an_unavailable_handle_is_marked_with_its_reason_and_the_rest_go_on(
    sqlite_url, graph, clock
):
    graph.add_account("fine", 3)
    graph.gone["personal_acct"] = (110, "Invalid user id")
    p = parts(sqlite_url, graph)
    p.admin.watch_add("personal_acct")
    p.admin.watch_add("fine")
    run = p.admin.sync(clock=clock).runs[0]
    assert run.synced == 1 and run.unavailable == 1
    entry = {e.handle: e for e in p.admin.watchlist()}["personal_acct"]
    assert entry.status == "unavailable" and "110" in entry.reason
    assert entry.next_due_at - clock.now().replace(tzinfo=None) >= timedelta(days=6)
    (status,) = [s for s in p.admin.sync_status(clock.now()) if s.source == "instagram_graph"]
    assert status.errors == {"handle_unavailable": 1} and status.token_state == "ok"


def test_discovery_keeps_its_daily_budget_and_records_origins(sqlite_url, graph, clock):
    graph.add_account("ana", 8)  # captions mention @friend_0 .. @friend_3
    top = media_series("unknown", 2, clock.now(), timedelta(hours=1))
    top[0]["caption"], top[1]["caption"] = "yum @tagged_one", "#food by @tagged_two"
    graph.add_hashtag("food", top)
    p = parts(sqlite_url, graph, discovery_per_day=5)
    p.admin.watch_add("ana")
    p.admin.watch_add("#Food")
    report = p.admin.sync(clock=clock)
    assert report.discovered == 5
    found = {e.handle: e for e in p.admin.watchlist() if e.origin != "manual"}
    assert {h for h, e in found.items() if e.origin == "mention"} == {
        f"friend_{i}" for i in range(4)
    }
    assert len([e for e in found.values() if e.origin == "hashtag:#food"]) == 1
    assert all(e.added_by in ("ana", "#food") for e in found.values())
    # the budget is spent for today: the next sync the same day adds nothing
    graph.accounts["ana"].media[0]["caption"] = "hi @someone_new"
    assert p.admin.sync(clock=clock, everything=True).discovered == 0
    clock.current += timedelta(days=1)
    assert p.admin.sync(clock=clock, everything=True).discovered >= 1


class SlowGraph(FakeGraph):
    """Holds the answer for one handle until released, and says when it was asked."""

    def __init__(self, slow: str, **kw) -> None:
        super().__init__(**kw)
        self.slow, self.asked, self.release = slow, threading.Event(), threading.Event()

    def answer(self, path, params):
        if f"username({self.slow})" in params.get("fields", ""):
            self.asked.set()
            self.lock.release()  # let other requests through while this one waits
            try:
                self.release.wait(60)
            finally:
                self.lock.acquire()
        return super().answer(path, params)


@pytest.mark.slow
def test_a_killed_sync_resumes_where_it_stopped_and_loses_nothing(sqlite_url, clock):
    names = [f"h{i}" for i in range(6)]
    with SlowGraph("h3", clock=clock) as graph:
        for name in names:
            graph.add_account(name, 5)
        p = parts(sqlite_url, graph)
        for name in names:
            p.admin.watch_add(name)
        p.close()
        env = {**os.environ, **source_env(graph, None), "DATABASE_URL": sqlite_url}
        env["SCOUT_DISCOVERY_PER_DAY"] = "0"
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "sync"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert graph.asked.wait(60), proc.stderr.read() if proc.poll() is not None else ""
            time.sleep(0.2)
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stderr.close()
        p = parts(sqlite_url, graph)
        synced = {e.handle for e in p.admin.watchlist() if e.last_synced_at}
        assert synced == {"h0", "h1", "h2"} and p.admin.counts()["posts"] == 15
        graph.release.set()
        run = p.admin.sync(clock=clock).runs[0]
        assert run.synced == 3  # h3 .. h5, not the three already done
        counts = table_counts(p)
        assert counts["posts"] == 30 and counts["post_snapshots"] == 30
        assert counts["creator_snapshots"] == 6
        p.close()
