"""What an unsigned client can cost the served bot is bounded (issue 15, item 2): slow
connections hold no thread, big bodies are refused before they are read, no body reaches
the log, a malformed timestamp is a 401, and `serve` without a signing secret refuses to
start. Real gunicorn server, real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.bot_harness import REPO, BotServer, http
from tests.fake_slack import FakeSlack

pytestmark = pytest.mark.timeout(180)
MARKER = b"SECRET-BODY-MARKER"


@pytest.fixture(scope="module")
def fake():
    f = FakeSlack().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def bot(fake, tmp_path_factory):
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'bot.db'}"
    upgrade(url)
    server = BotServer(
        fake,
        url,
        tmp_path_factory.mktemp("log") / "bot.log",
        SCOUT_RECOMMENDER="tests.bot_fakes:make",
    ).start()
    yield server
    server.stop()


def _connect(bot: BotServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", bot.port), timeout=30)


def _slow_client(bot: BotServer, stop: threading.Event, body_slow: bool) -> None:
    """Sends a request two bytes a second (headers, or a body after fast headers)."""
    body = b"x" * 200
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    data, fast = (head + body, len(head)) if body_slow else (head + body, 0)
    while not stop.is_set():
        try:
            with _connect(bot) as s:
                s.sendall(data[:fast])
                for i in range(fast, len(data), 2):
                    if stop.is_set():
                        return
                    s.sendall(data[i : i + 2])
                    time.sleep(1.0)
        except OSError:
            time.sleep(0.1)


def _big_body(bot: BotServer, results: list, size: int = 10 * 1024 * 1024) -> None:
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    try:
        with _connect(bot) as s:
            s.sendall(head)
            chunk = MARKER * (1024 * 1024 // len(MARKER))
            try:
                for _ in range(size // len(chunk)):
                    s.sendall(chunk)
            except OSError:
                pass  # refused and closed before the body was read: what we want
            results.append(s.recv(200).decode(errors="replace"))
    except OSError as err:
        results.append(f"closed: {err}")


def test_slow_and_huge_unsigned_requests_do_not_block_acks(bot, fake):
    stop = threading.Event()
    attackers = [
        threading.Thread(target=_slow_client, args=(bot, stop, i % 2 == 0), daemon=True)
        for i in range(16)
    ]
    big: list[str] = []
    attackers += [
        threading.Thread(target=_big_body, args=(bot, big), daemon=True) for _ in range(8)
    ]
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
    with _connect(bot) as s:
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
    _big_body(bot, big, size=2 * 1024 * 1024)
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
