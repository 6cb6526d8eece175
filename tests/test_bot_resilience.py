"""Nothing lost, nothing twice (issue 15, items 4, 5 and 8), over real HTTP against the
real served bot (`python -m bot serve`, gunicorn) and the real clock, on SQLite and on
PostgreSQL: answers survive rate limiting and a crashed process, events are deduplicated
in the database across processes, and a digest whose post is in doubt is not sent twice.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from models.migrate import upgrade
from models.store import Store
from models.workspace import Workspace
from tests.bot_harness import REPO, BotServer
from tests.fake_slack import BOT_TOKEN, FakeSlack

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]  # served bot subprocesses


@pytest.fixture
def fake(fake_slack):
    return fake_slack


@pytest.fixture
def db(any_db_url):
    upgrade(any_db_url)
    return any_db_url


def _server(fake: FakeSlack, db: str, log: Path, **env: str) -> BotServer:
    return BotServer(
        fake, db, log, SCOUT_RECOMMENDER="tests.bot_fakes:make", SCOUT_ANSWER_LEASE_S="3", **env
    ).start()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _crash(server: BotServer) -> None:
    """SIGKILL the gunicorn master and its workers at once: a crash, nothing graceful."""
    for pid in [*_children(server.proc.pid), server.proc.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.proc.wait(10)
    server.stop()


def _answers(fake: FakeSlack, key: str) -> list:
    return [c for c in fake.of("response_url") if c.params["key"] == key]


# ---------------------------------------------------------------- item 4
def test_answers_wait_out_rate_limiting(fake, db, tmp_path):
    server = _server(fake, db, tmp_path / "bot.log")
    try:
        fake.rate_limit_for("response_url", 4.0)
        for i in range(5):
            assert server.command("/songs", "@bob", fake.response_url(f"rl{i}")).status == 200
        for i in range(5):
            fake.wait_for("response_url", lambda c, i=i: c.params["key"] == f"rl{i}", timeout=20)
        time.sleep(1.5)
        assert [len(_answers(fake, f"rl{i}")) for i in range(5)] == [1] * 5
        assert "Song One" in _answers(fake, "rl0")[0].params["text"]
        assert "answer attempt 1 failed (HTTP 429)" in server.log()
    finally:
        server.stop()


def test_an_answer_in_flight_survives_a_crash(fake, db, tmp_path):
    first = _server(fake, db, tmp_path / "first.log")
    fake.rate_limit_for("response_url", 5.0)
    try:
        assert first.command("/songs", "@bob", fake.response_url("crash")).status == 200
        fake.wait_for("response_url_429", lambda c: c.params["key"] == "crash", timeout=10)
    finally:
        _crash(first)
    second = _server(fake, db, tmp_path / "second.log")
    try:
        fake.wait_for("response_url", lambda c: c.params["key"] == "crash", timeout=30)
        time.sleep(2.0)
        assert len(_answers(fake, "crash")) == 1
        assert "resuming answer" in second.log()
    finally:
        second.stop()


# ---------------------------------------------------------------- item 5
def _dm(channel: str, ts: str) -> dict:
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": "U0001",
        "text": "/songs @ana",
        "ts": ts,
    }


def _posts(fake: FakeSlack, channel: str) -> int:
    return len([c for c in fake.of("chat.postMessage") if c.params.get("channel") == channel])


def test_retry_whose_first_delivery_was_lost_is_answered(fake, db, tmp_path):
    server = _server(fake, db, tmp_path / "bot.log")
    try:
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert server.event(_dm("DLOST", "1.000001"), "EvLost", headers=retry).status == 200
        fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "DLOST")
        second = {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
        assert server.event(_dm("DLOST", "1.000001"), "EvLost", headers=second).status == 200
        time.sleep(1.0)
        assert _posts(fake, "DLOST") == 1
    finally:
        server.stop()


def test_duplicates_across_processes_are_answered_once(fake, db, tmp_path):
    a = _server(fake, db, tmp_path / "a.log")
    b = _server(fake, db, tmp_path / "b.log")
    try:
        for i in range(4):
            channel = f"DDUP{i}"
            for server in (a, b):
                assert server.event(_dm(channel, f"2.00000{i}"), f"EvDup{i}").status == 200
        for i in range(4):
            fake.wait_for("chat.postMessage", lambda c, i=i: c.params.get("channel") == f"DDUP{i}")
        time.sleep(1.0)
        assert [_posts(fake, f"DDUP{i}") for i in range(4)] == [1, 1, 1, 1]
    finally:
        a.stop()
        b.stop()


# ---------------------------------------------------------------- item 8
def _clock(fake: FakeSlack, db: str, now: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "clock", "--once", "--no-train", "--now", now],
        cwd=REPO,
        env={
            "SLACK_API_URL": fake.api_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "DATABASE_URL": db,
            "SCOUT_RECOMMENDER": "tests.bot_fakes:make",
            "PYTHONPATH": str(REPO),
            "PATH": "/usr/bin:/bin",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _subscribe(db: str, channel: str) -> int:
    store = Store(db)
    try:
        return Workspace(store).subscribe("T0001", channel, "09:00", "UTC", "U1").id
    finally:
        store.dispose()


def _status(db: str, sub: int, day: date) -> str | None:
    store = Store(db)
    try:
        return Workspace(store).delivery_status(sub, day)
    finally:
        store.dispose()


def test_digest_is_not_sent_twice_when_the_clock_dies_after_posting(fake, db):
    sub = _subscribe(db, "CDIE")
    fake.delays["chat.postMessage"] = 30.0  # Slack posts, then the clock dies waiting
    clock = _clock(fake, db, "2026-11-23T09:05")
    try:
        fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "CDIE", timeout=60)
    finally:
        clock.kill()
        clock.wait(10)
    fake.delays.clear()
    later = _clock(fake, db, "2026-11-23T09:30")  # the claim is stale by now
    out, _ = later.communicate(timeout=60)
    assert later.returncode == 0, out
    assert _posts(fake, "CDIE") == 1, out
    assert _status(db, sub, date(2026, 11, 23)) == "sent"
    nextday = _clock(fake, db, "2026-11-24T09:01")
    nextday.communicate(timeout=60)
    assert _posts(fake, "CDIE") == 2


def test_digest_is_not_sent_twice_when_slack_answers_too_late(fake, db):
    sub = _subscribe(db, "CLATE")
    fake.delays["chat.postMessage"] = 2.5
    first = _clock(fake, db, "2026-11-23T09:05", SCOUT_SLACK_TIMEOUT="1")
    out, _ = first.communicate(timeout=60)
    assert _status(db, sub, date(2026, 11, 23)) == "unknown", out
    fake.delays.clear()
    again = _clock(fake, db, "2026-11-23T09:06", SCOUT_SLACK_TIMEOUT="1")
    out, _ = again.communicate(timeout=60)
    assert _posts(fake, "CLATE") == 1, out
    assert _status(db, sub, date(2026, 11, 23)) == "sent"
