"""The HTTP edge under slow-socket pressure (issue 29 point 8): with more slow sockets
than gunicorn's default 1,000 connections, signed commands are still acknowledged within
3 s; an over-cap body and an over-cap total of buffered bytes are refused; a 408 flood
writes a bounded log. Real `python -m bot serve` subprocesses on loopback; every attack
loop is bounded in count and time."""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import time

import pytest

from bot.config import BotConfig
from bot.gworker import RefusalLog
from bot.web import server_options
from tests.bot_harness import BotServer, big_body
from tests.fake_slack import FakeSlack

PARTIAL = b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"  # headers never finished


def _serve(tmp_path_factory, name: str, **env: str):
    from models.migrate import upgrade

    folder = tmp_path_factory.mktemp(name)
    upgrade(url := f"sqlite:///{folder / 'bot.db'}")
    fake = FakeSlack().start()
    server = BotServer(
        fake, url, folder / "bot.log", SCOUT_RECOMMENDER="tests.bot_fakes:make", **env
    ).start()
    return server, fake


@pytest.fixture(scope="module")
def default_edge(tmp_path_factory):
    """The served bot with the default caps (1,000 incomplete requests, 10 s reads)."""
    server, fake = _serve(tmp_path_factory, "edge")
    yield server, fake
    server.stop()
    fake.stop()


@pytest.fixture(scope="module")
def tight_edge(tmp_path_factory):
    """Short reads and a 1 MB total buffer, so floods and caps show in seconds."""
    server, fake = _serve(
        tmp_path_factory, "tight", SCOUT_READ_TIMEOUT="1", SCOUT_MAX_BUFFERED_MB="1"
    )
    yield server, fake
    server.stop()
    fake.stop()


def open_slow(port: int, n: int, first: bytes = PARTIAL) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(first)
        s.setblocking(False)
        socks.append(s)
    return socks


def answers(socks: list[socket.socket], wait_s: float) -> list[bytes]:
    """What each socket was answered within `wait_s` (b'' if nothing, or reset)."""
    got = {s: b"" for s in socks}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + wait_s
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            with contextlib.suppress(OSError):
                got[key.fileobj] = key.fileobj.recv(200)
            sel.unregister(key.fileobj)
    sel.close()
    return list(got.values())


def close_all(socks: list[socket.socket]) -> None:
    for s in socks:
        s.close()


def _acks_within_3s(bot, fake, prefix: str, n: int) -> None:
    for i in range(n):
        resp = bot.command("/songs", "@bob", fake.response_url(f"{prefix}{i}"))
        assert resp.status == 200 and resp.seconds < 3.0, (i, resp)
    for i in range(n):
        fake.wait_for("response_url", lambda c, i=i: c.params["key"] == f"{prefix}{i}")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_commands_are_acked_within_3s_past_1100_slow_sockets(default_edge):
    bot, fake = default_edge
    socks = open_slow(bot.port, 1100)
    try:
        time.sleep(1.0)  # all accepted (or the oldest dropped for room)
        for s in socks[-200:]:  # the newest keep trickling, as slow clients do
            with contextlib.suppress(OSError):
                s.send(b"X")
        _acks_within_3s(bot, fake, "slow-sockets", 30)
        dropped = [a for a in answers(socks, 2.0) if a.startswith(b"HTTP/1.1 503")]
        assert len(dropped) >= 100, len(dropped)  # past the 1,000 cap the oldest go
    finally:
        close_all(socks)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_over_cap_body_is_refused_before_it_is_read(default_edge):
    bot, _ = default_edge
    got: list[str] = []
    started = time.monotonic()
    big_body(bot, got, size=1024 * 1024 + 1)
    assert "413" in got[0], got
    assert time.monotonic() - started < 5


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_total_buffered_bytes_are_capped(tight_edge):
    bot, fake = tight_edge
    body = 900 * 1024  # each under the 1 MB body cap; four of them over the 1 MB total
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body}\r\n\r\n"
    ).encode()
    socks = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", bot.port), timeout=10)
        s.sendall(head + b"x" * (400 * 1024))
        socks.append(s)
        time.sleep(0.05)
    try:
        got = answers(socks, 0.8)  # before the 1 s read timeout
        assert sum(a.startswith(b"HTTP/1.1 503") for a in got) >= 1, got
        assert not got[-1].startswith(b"HTTP/1.1 503"), got  # the newest is kept
        _acks_within_3s(bot, fake, "buffered", 3)
    finally:
        close_all(socks)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_408_flood_writes_a_bounded_log(tight_edge):
    bot, fake = tight_edge
    before = bot.log().count("refused")
    timed_out = 0
    for _ in range(3):
        socks = open_slow(bot.port, 300)
        try:
            timed_out += sum(a.startswith(b"HTTP/1.1 408") for a in answers(socks, 5.0))
        finally:
            close_all(socks)
    assert timed_out >= 800, timed_out
    time.sleep(0.5)
    lines = [line for line in bot.log().splitlines() if "refused" in line]
    assert len(lines) - before <= 3, lines[-10:]  # was one line per 408
    _acks_within_3s(bot, fake, "after-flood", 3)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _records_of(caplog, logger: logging.Logger) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger.name]


def test_refusal_log_writes_first_of_each_kind_and_one_summary(caplog):
    clock = FakeClock()
    logger = logging.getLogger("test.refusals")
    refusals = RefusalLog(interval_s=60, clock=clock, logger=logger)
    with caplog.at_level(logging.WARNING, logger="test.refusals"):
        for i in range(5000):
            clock.now = i * 0.01  # 50 s of 408s and a few 413s
            refusals.note(413 if i % 1000 == 0 else 408, f"10.0.0.{i % 7}")
        # only this logger's records: a thread left by an earlier test may log too
        assert len(_records_of(caplog, logger)) == 2  # the first 408 and the first 413
        clock.now = 61.0
        refusals.flush()
        refusals.flush()
    lines = [r.getMessage() for r in _records_of(caplog, logger)]
    assert len(lines) == 3, lines
    assert "5000 requests" in lines[2] and "4995x408" in lines[2] and "5x413" in lines[2]
    assert "from 7 clients" in lines[2]


def test_gunicorn_gate_sits_above_the_workers_own_cap():
    config = BotConfig.from_env()
    options = server_options(config, "127.0.0.1:0", workers=1, threads=16)
    assert options["worker_connections"] > config.max_connections + 16
    assert options["worker_class"] == "bot.gworker.BufferedThreadWorker"
