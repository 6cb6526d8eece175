"""Signed commands acknowledged within Slack's 3 s while slow sockets are held open on the
served bot (`python -m bot serve`, bot.gworker, loopback), issue 29 point 8.

For each count of slow sockets (headers never finished, the newest 200 trickling a byte),
30 signed `/songs` commands are sent one after another and timed; the row says how many
were acknowledged within 3 s, the ack p50/p99, and how many slow sockets the worker
dropped (503) to make room past SCOUT_MAX_CONNECTIONS (1,000 by default). Before the cap
1,100 slow sockets let 20 of 30 through in time.

Usage: python -m benchmarks.bench_http_edge [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.report import print_table, write_results
from tests.bot_harness import BotServer
from tests.fake_slack import FakeSlack
from tests.test_http_edge import answers, close_all, open_slow

COMMANDS = 30


def one_round(server: BotServer, fake: FakeSlack, slow: int) -> dict:
    socks = open_slow(server.port, slow) if slow else []
    try:
        time.sleep(1.0)
        for s in socks[-200:]:
            with contextlib.suppress(OSError):
                s.send(b"X")
        ms = []
        for i in range(COMMANDS):
            key = f"edge{slow}-{time.monotonic_ns()}-{i}"
            resp = server.command("/songs", "@bob", fake.response_url(key))
            ms.append(resp.seconds * 1000 if resp.status == 200 else float("inf"))
        dropped = sum(a.startswith(b"HTTP/1.1 503") for a in answers(socks, 1.0))
    finally:
        close_all(socks)
    ordered = sorted(ms)
    return {
        "slow sockets": slow,
        "acked < 3 s": f"{sum(m < 3000 for m in ms)}/{COMMANDS}",
        "ack p50 ms": statistics.median(ms),
        "ack p99 ms": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
        "slow dropped (503)": dropped,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    counts = [0, 1100] if args.quick else [0, 500, 1100, 2000]
    tmp = Path(tempfile.mkdtemp(prefix="bench_http_edge_"))
    from models.migrate import upgrade

    url = f"sqlite:///{tmp / 'bot.db'}"
    upgrade(url)
    fake = FakeSlack().start()
    server = BotServer(
        fake, url, tmp / "bot.log", SCOUT_RECOMMENDER="tests.bot_fakes:make", LOG_LEVEL="WARNING"
    ).start()
    try:
        server.command("/scout", "help", fake.response_url("warm"))
        rows = []
        for i, n in enumerate(counts):
            if i:
                time.sleep(11)  # the previous round's sockets are gone (10 s read timeout)
            rows.append(one_round(server, fake, n))
        log_lines = server.log().count("refused")
    finally:
        server.stop()
        fake.stop()
    print_table(
        f"{COMMANDS} signed commands while slow sockets are held open "
        "(python -m bot serve, bot.gworker, loopback)",
        rows,
    )
    print(f"log lines about refused requests during the run: {log_lines}")
    write_results(
        "http_edge_quick" if args.quick else "http_edge",
        {"commands": COMMANDS, "rows": rows, "refusal_log_lines": log_lines},
    )
    return 0 if all(r["acked < 3 s"] == f"{COMMANDS}/{COMMANDS}" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
