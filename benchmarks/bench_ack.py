"""Ack latency of the served bot (`python -m bot serve`, gunicorn gthread) under bursts of
20 concurrent, correctly signed slash commands, against the fake Slack on loopback.

Scenarios, all in one run on the same server:
- baseline: GET /healthz at the same concurrency (HTTP + gunicorn + Flask, no Slack
  signature check, no bolt), the floor an ack cannot beat;
- commands on a fast engine (tests.bot_fakes: canned answers);
- commands on an engine made slow on purpose (4 s per query): the ack must not move.

Slack's limit is 3 s. Usage: python -m benchmarks.bench_ack [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.report import print_table, write_results
from tests.bot_harness import BotServer, http
from tests.fake_slack import FakeSlack

CONCURRENCY = 20


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _burst(fn, n: int) -> list[float]:
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda i: fn(i), range(n)))
    bad = [r for r in results if r.status != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} requests failed: {bad[0]}")
    return [r.seconds * 1000 for r in results]


def _row(name: str, ms: list[float]) -> dict:
    return {
        "scenario": name,
        "requests": len(ms),
        "p50 ms": statistics.median(ms),
        "p99 ms": _pct(ms, 0.99),
        "max ms": max(ms),
        "under 3 s": f"{sum(m < 3000 for m in ms)}/{len(ms)}",
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 2 if args.quick else 10
    tmp = Path(tempfile.mkdtemp(prefix="bench_ack_"))
    from models.migrate import upgrade

    url = f"sqlite:///{tmp / 'bot.db'}"
    upgrade(url)
    fake = FakeSlack().start()
    server = BotServer(
        fake, url, tmp / "bot.log", SCOUT_RECOMMENDER="tests.bot_fakes:make", LOG_LEVEL="WARNING"
    ).start()
    rows, raw = [], {}
    try:
        # warm up (first request imports and JITs paths)
        server.command("/scout", "help", fake.response_url("warm"))
        scenarios = {
            "baseline GET /healthz": lambda i: http(server.url + "/healthz"),
            "/songs @bob (fast engine)": lambda i: server.command(
                "/songs", "@bob", fake.response_url(f"fast{time.monotonic_ns()}-{i}")
            ),
            "/lookalike @slowpoke (engine 4 s)": lambda i: server.command(
                "/lookalike", "@slowpoke", fake.response_url(f"slow{time.monotonic_ns()}-{i}")
            ),
        }
        for name, fn in scenarios.items():
            ms: list[float] = []
            for _ in range(rounds):
                ms += _burst(fn, CONCURRENCY)
                time.sleep(0.2)
            raw[name] = ms
            rows.append(_row(name, ms))
        answered = len(fake.of("response_url"))
    finally:
        server.stop()
        fake.stop()
    print_table(
        f"Ack latency, bursts of {CONCURRENCY} concurrent requests x {rounds} rounds "
        "(python -m bot serve, gunicorn gthread 8 threads, loopback)",
        rows,
    )
    print(f"answers delivered to response_url during the run: {answered}")
    write_results(
        "ack_quick" if args.quick else "ack",
        {"concurrency": CONCURRENCY, "rounds": rounds, "rows": rows},
    )
    worst = max(r["p99 ms"] for r in rows[1:])
    return 0 if worst < 3000 else 1


if __name__ == "__main__":
    sys.exit(main())
