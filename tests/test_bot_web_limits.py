"""What an unsigned client can cost the served bot is bounded (issue 15, item 2): slow
connections hold no thread, big bodies are refused before they are read, no body reaches
the log, a malformed timestamp is a 401, and `serve` without a signing secret refuses to
start. Real gunicorn server, real sockets."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from tests.bot_harness import MARKER, REPO, BotServer, big_body, connect, http, slow_client
from tests.fake_slack import FakeSlack

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]  # served bot subprocesses


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One served bot (and its fake Slack) for the module: each test attacks it."""
    from models.migrate import upgrade

    folder = tmp_path_factory.mktemp("web")
    upgrade(url := f"sqlite:///{folder / 'bot.db'}")
    fake = FakeSlack().start()
    server = BotServer(
        fake, url, folder / "bot.log", SCOUT_RECOMMENDER="tests.bot_fakes:make"
    ).start()
    yield server, fake
    server.stop()
    fake.stop()


@pytest.fixture
def bot(served):
    return served[0]


@pytest.fixture
def fake(served):
    return served[1]


def test_slow_and_huge_unsigned_requests_do_not_block_acks(bot, fake):
    stop = threading.Event()
    attackers = [
        threading.Thread(target=slow_client, args=(bot, stop, i % 2 == 0), daemon=True)
        for i in range(16)
    ]
    big: list[str] = []
    attackers += [threading.Thread(target=big_body, args=(bot, big), daemon=True) for _ in range(8)]
    for t in attackers:
        t.start()
    try:
        time.sleep(2.0)  # every attacker connected and trickling
        for i in range(10):
            resp = bot.command("/songs", "@bob", fake.response_url(f"under-attack{i}"))
            assert resp.status == 200 and resp.seconds < 1.0, resp
        for i in range(10):
            fake.wait_for("response_url", lambda c, i=i: c.params["key"] == f"under-attack{i}")
    finally:
        stop.set()
    for t in attackers[16:]:
        t.join(30)
    assert len(big) == 8 and all("413" in r or "closed" in r for r in big), big
    assert "413" in " ".join(big)


def test_slow_request_is_cut_after_the_read_timeout(bot):
    with connect(bot) as s:
        s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        s.settimeout(20)
        started = time.monotonic()
        answer = s.recv(200)
    assert b"408" in answer and time.monotonic() - started < 15


def test_no_request_body_reaches_the_log(bot):
    body = b"command=%2Fscout&text=" + MARKER
    resp = bot.post(body, "application/x-www-form-urlencoded", signed=False)
    forged = bot.post(
        body,
        "application/x-www-form-urlencoded",
        headers={"X-Slack-Signature": "v0=" + "0" * 64},
    )
    assert (resp.status, forged.status) == (401, 401)
    big: list[str] = []
    big_body(bot, big, size=2 * 1024 * 1024)
    assert "413" in big[0], big
    time.sleep(0.5)
    log = bot.log()
    assert "Invalid request signature detected" in log  # the event is still logged ...
    assert MARKER.decode() not in log  # ... without the body


def test_non_integer_timestamp_is_401(bot):
    body = b"command=%2Fscout&text=help"
    for ts in ("abc", "1e9", "", "12.5"):
        resp = http(
            bot.url + "/slack/events",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": "v0=" + "0" * 64,
            },
        )
        assert resp.status == 401, (ts, resp)


def test_serve_without_signing_secret_refuses_to_start(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLACK_SIGNING_SECRET": ""}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve started without SLACK_SIGNING_SECRET")
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SLACK_SIGNING_SECRET" in lines[0], proc.stderr
