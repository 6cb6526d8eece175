"""Answers go out exactly once, never twice and never none (issue 29 points 3, 4 and the
ack part of 8), over real HTTP against the fake Slack made slow, dropping the line after
a post took effect, and rate limiting conversations.replies/history to one call a
minute; with a worker SIGKILLed mid-answer and a SQLite file locked by another writer.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError

from bot.config import BotConfig, web_client
from bot.outbox import Outbox, PostResolver
from models.migrate import upgrade
from models.store import Store
from models.workspace import Workspace
from tests.bot_harness import BotServer
from tests.fake_slack import BOT_TOKEN, FakeSlack
from tests.test_bot_resilience import _clock, _crash, _dm, _posts, _status, _subscribe

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def fake(fake_slack):
    return fake_slack


@pytest.fixture
def workspace(tmp_path):
    url = f"sqlite:///{tmp_path / 'scout.db'}"
    upgrade(url)
    store = Store(url)
    yield Workspace(store)
    store.dispose()


def _client(fake: FakeSlack, timeout: float = 5.0):
    config = BotConfig.from_env()
    config = BotConfig(**{**config.__dict__, "api_url": fake.api_url, "slack_timeout": timeout})
    return web_client(config, BOT_TOKEN)


def _answers(fake: FakeSlack, key: str) -> int:
    return len([c for c in fake.of("response_url") if c.params["key"] == key])


def _until(pred, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _now() -> datetime:
    return datetime.utcnow()


# ------------------------------------------------------- the store's claims
def test_an_event_claim_is_released_on_failure_lapses_on_crash_and_holds_once_done(workspace):
    now, lease = _now(), timedelta(seconds=30)
    assert workspace.claim_event("event:E1", now, lease)
    assert not workspace.claim_event("event:E1", now, lease)  # answer under way
    workspace.release_event("event:E1")  # the work failed
    assert workspace.claim_event("event:E1", now, lease)
    assert workspace.claim_event("event:E1", now + timedelta(seconds=31), lease)  # worker died
    workspace.event_done("event:E1")
    assert not workspace.claim_event("event:E1", now + timedelta(days=0.5), lease)
    workspace.release_event("event:E1")  # a late failure does not undo an answer
    assert not workspace.claim_event("event:E1", now + timedelta(days=0.5), lease)


def test_a_call_slot_is_won_once_per_interval_across_stores(workspace):
    other = Workspace(Store(str(workspace.store.engine.url)))
    now, minute = _now(), timedelta(minutes=1)
    wins = [w.take_call_slot("T1:conversations.replies", now, minute) for w in (workspace, other)]
    assert wins == [True, False]
    assert other.take_call_slot("T2:conversations.replies", now, minute)  # per workspace
    later = now + timedelta(seconds=61)
    assert other.take_call_slot("T1:conversations.replies", later, minute)
    assert not workspace.take_call_slot("T1:conversations.replies", later, minute)
    other.store.dispose()


def test_an_answer_is_posted_only_by_its_owner_and_never_retaken_by_it(workspace):
    now = _now()
    answer = workspace.save_answer("http://x/response/a", {"text": "hi"}, now, timedelta(0), "p1")
    later = now + timedelta(seconds=1)
    assert workspace.take_orphaned_answers(later, timedelta(seconds=60), owner="p1") == []
    assert [a[0] for a in workspace.take_orphaned_answers(later, timedelta(60), owner="p2")] == [
        answer
    ]
    assert not workspace.hold_answer(answer, "p1", later, timedelta(seconds=60))
    assert workspace.hold_answer(answer, "p2", later, timedelta(seconds=60))


# ------------------------------------------------------------ response_url
@pytest.mark.slow  # waits out real send timeouts (3-4 s)
def test_a_slow_response_url_is_answered_once(fake, workspace):
    """Slack answering after 3 s while the lease is 0.5 s: the sender's lease covers the
    whole post, so neither its own resumer nor another process's takes it over."""
    fake.delays["response_url"] = 3.0
    mine = Outbox(workspace, lease_seconds=0.5, post_timeout=10)
    other = Outbox(Workspace(workspace.store), lease_seconds=0.5, post_timeout=10)
    for box in (mine, other):
        box.start_resuming(every=0.2)
    try:
        for i in range(6):
            mine.send(fake.response_url(f"slow{i}"), {"text": f"answer {i}"})
        _until(lambda: all(_answers(fake, f"slow{i}") for i in range(6)))
        time.sleep(4.0)  # a second post would land now
        assert [_answers(fake, f"slow{i}") for i in range(6)] == [1] * 6
        assert workspace.take_orphaned_answers(_now(), timedelta(0)) == []  # all forgotten
    finally:
        mine.stop()
        other.stop()


@pytest.mark.slow  # waits out real send timeouts (3-4 s)
def test_a_response_url_whose_line_drops_after_the_post_is_not_sent_again(fake, workspace, caplog):
    fake.drop("response_url", 3)
    box = Outbox(workspace, lease_seconds=0.5, post_timeout=5)
    box.start_resuming(every=0.2)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.outbox"):
            for i in range(3):
                box.send(fake.response_url(f"drop{i}"), {"text": "hi"})
            _until(lambda: all(_answers(fake, f"drop{i}") for i in range(3)))
            time.sleep(3.0)
        assert [_answers(fake, f"drop{i}") for i in range(3)] == [1, 1, 1]
        assert "counted as delivered" in caplog.text
    finally:
        box.stop()


@pytest.mark.slow  # waits out real send timeouts (3-4 s)
def test_a_response_url_refused_before_sending_is_retried(fake, workspace):
    fake.rate_limit_for("response_url", 1.5)
    box = Outbox(workspace, lease_seconds=0.5, post_timeout=5)
    try:
        box.send(fake.response_url("later"), {"text": "hi"})
        _until(lambda: _answers(fake, "later") == 1)
        time.sleep(1.5)
        assert _answers(fake, "later") == 1
        assert fake.of("response_url_429")
    finally:
        box.stop()


# ------------------------------------------------------------ chat.postMessage
def test_the_web_client_never_re_sends_a_post_that_took_effect(fake):
    fake.drop("chat.postMessage")
    with pytest.raises(Exception) as err:  # noqa: PT011 - urllib's reset or disconnect
        _client(fake).chat_postMessage(channel="CRESET", text="hello")
    assert not isinstance(err.value, SlackApiError)
    time.sleep(0.5)
    assert len(fake.posted("CRESET")) == 1
    assert len(fake.of("chat.postMessage")) == 1


def test_a_post_in_doubt_is_looked_up_and_only_a_missing_one_is_posted_again(fake, workspace):
    fake.lookup_interval = 1.0
    client = _client(fake)
    resolver = PostResolver(workspace, interval=1.0, every=0.1)
    fake.drop("chat.postMessage", 3)
    for ts in ("1.1", "1.2"):  # both reach Slack; the line drops
        assert (
            resolver.post(
                client, "T0001", f"CDOUBT:{ts}", channel="CDOUBT", thread_ts="1.0", text="answer"
            )
            is None
        )
    assert (
        resolver.post(client, "T0001", "CLOST:2.1", channel="CLOST", thread_ts="2.0", text="answer")
        is None
    )
    fake.messages["CLOST"].clear()  # this one never arrived after all
    _until(lambda: resolver.pending() == 0)
    time.sleep(0.5)
    assert [len(fake.posted("CDOUBT", f"CDOUBT:{ts}")) for ts in ("1.1", "1.2")] == [1, 1]
    assert len(fake.posted("CLOST", "CLOST:2.1")) == 1  # posted again, once
    replies = fake.of("conversations.replies")
    served = [c for c in replies if c.result and c.result.get("ok")]
    assert len(served) == 2  # one lookup per thread, both answers of CDOUBT in one
    assert all(str(c.params.get("include_all_metadata")).lower() in ("1", "true") for c in served)


# ---------------------------------------------------------------- served bot
def _server(fake: FakeSlack, db: str, log: Path, **env: str) -> BotServer:
    return BotServer(
        fake,
        db,
        log,
        SCOUT_RECOMMENDER="tests.bot_fakes:make",
        SCOUT_ANSWER_LEASE_S="1",
        SCOUT_LOOKUP_S="1",
        **env,
    ).start()


@pytest.fixture
def db(sqlite_url):
    upgrade(sqlite_url)
    return sqlite_url


@pytest.mark.slow
def test_served_bot_answers_slow_and_dropped_lines_once(fake, db, tmp_path):
    fake.lookup_interval = 1.0
    server = _server(fake, db, tmp_path / "bot.log")
    try:
        fake.delays["response_url"] = 7.0  # past the lease and the resumer's 5 s tick
        for i in range(3):
            assert server.command("/songs", "@bob", fake.response_url(f"s{i}")).status == 200
        _until(lambda: all(_answers(fake, f"s{i}") for i in range(3)), 30)
        fake.delays.clear()
        fake.drop("chat.postMessage", 2)
        for i in range(2):
            assert server.event(_dm(f"DDROP{i}", f"3.00000{i}"), f"EvDrop{i}").status == 200
        _until(lambda: all(fake.posted(f"DDROP{i}") for i in range(2)), 30)
        _until(lambda: server.log().count("had reached Slack") >= 2, 30)
        time.sleep(8.0)  # the slow answers' resumer ticks, a re-post would land now
        assert [_answers(fake, f"s{i}") for i in range(3)] == [1, 1, 1]
        assert [len(fake.posted(f"DDROP{i}")) for i in range(2)] == [1, 1]
    finally:
        server.stop()


def _claimed(db: str, key: str) -> bool:
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as con:
        return con.execute("SELECT 1 FROM slack_deliveries WHERE key = ?", (key,)).fetchone()


@pytest.mark.slow
def test_a_worker_killed_mid_answer_leaves_the_retry_answered(fake, db, tmp_path):
    first = _server(fake, db, tmp_path / "first.log", SCOUT_EVENT_LEASE_S="3")
    event = {**_dm("DCRASH", "4.000001"), "text": "/lookalike @slowpoke"}  # 4 s of engine
    try:
        assert first.event(event, "EvCrash").status == 200
        _until(lambda: _claimed(db, "event:EvCrash"), 10)
        time.sleep(0.5)
    finally:
        _crash(first)
    assert _posts(fake, "DCRASH") == 0
    second = _server(fake, db, tmp_path / "second.log", SCOUT_EVENT_LEASE_S="3")
    try:
        time.sleep(3.0)  # the dead worker's claim lapses
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert second.event(event, "EvCrash", headers=retry).status == 200
        _until(lambda: _posts(fake, "DCRASH") >= 1, 20)
        again = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
        assert second.event(event, "EvCrash", headers=again).status == 200
        time.sleep(6.0)
        assert _posts(fake, "DCRASH") == 1
    finally:
        second.stop()


@pytest.mark.slow
def test_events_are_acked_while_another_writer_locks_the_sqlite_file(fake, db, tmp_path):
    server = _server(fake, db, tmp_path / "bot.log")
    lock = sqlite3.connect(db.removeprefix("sqlite:///"), timeout=1, isolation_level=None)
    try:
        server.event(_dm("DWARM", "5.000000"), "EvWarm")
        _until(lambda: _posts(fake, "DWARM") == 1, 20)
        lock.execute("BEGIN EXCLUSIVE")
        acks = [server.event(_dm(f"DLOCK{i}", f"5.00000{i + 1}"), f"EvLock{i}") for i in range(4)]
        time.sleep(1.0)
        lock.execute("COMMIT")
        assert [a.status for a in acks] == [200] * 4
        assert max(a.seconds for a in acks) < 3.0, [a.seconds for a in acks]
        _until(lambda: all(_posts(fake, f"DLOCK{i}") for i in range(4)), 40)
        time.sleep(1.0)
        assert [_posts(fake, f"DLOCK{i}") for i in range(4)] == [1] * 4
    finally:
        lock.close()
        server.stop()


@pytest.mark.slow
def test_a_digest_whose_line_dropped_after_posting_is_not_posted_again(fake, db):
    sub = _subscribe(db, "CDROP")
    fake.drop("chat.postMessage")
    first = _clock(fake, db, "2026-11-23T09:05", SCOUT_LOOKUP_S="1")
    out, _ = first.communicate(timeout=60)
    assert _posts(fake, "CDROP") == 1, out
    assert _status(db, sub, date(2026, 11, 23)) == "unknown", out
    time.sleep(1.1)
    again = _clock(fake, db, "2026-11-23T09:06", SCOUT_LOOKUP_S="1")
    out, _ = again.communicate(timeout=60)
    assert _posts(fake, "CDROP") == 1, out
    assert _status(db, sub, date(2026, 11, 23)) == "sent", out
