"""Answers to a response_url that survive rate limiting and restarts.

Slack gives a slash command or a button five answers through its response_url for 30
minutes. Each answer is kept in the database (models.workspace pending answers) before
the first try and deleted once Slack took it, and is retried honouring 429 Retry-After
(or with backoff on 5xx and network errors) until it is delivered or the response_url
has expired; every failure is logged. The process sending an answer holds a lease on it
for each wait plus `lease_seconds`; when a process dies, another one (or the restarted one) takes
over the answers whose lease ran out, so none is lost and none goes out twice.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import redact

log = logging.getLogger(__name__)

VALID_FOR = timedelta(minutes=30)  # how long Slack accepts posts to a response_url


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Outbox:
    """Delivers response_url answers on its own threads (a rate-limited answer never
    holds a thread that computes answers). An answer waiting out a Retry-After holds no
    thread either: its next attempt is scheduled, so 100 rate-limited answers go out
    as soon as Slack takes them again, not 16 at a time."""

    def __init__(self, workspace: Any, lease_seconds: float = 30.0, threads: int = 16) -> None:
        self.workspace = workspace
        self.lease = timedelta(seconds=lease_seconds)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scout-answer")
        self._stop = threading.Event()
        self._due: list[tuple[float, int, _Pending]] = []  # heap of (monotonic time, seq, job)
        self._seq = 0
        self._wake = threading.Condition()
        threading.Thread(target=self._schedule_loop, name="scout-answer-due", daemon=True).start()

    # ------------------------------------------------------------- sending
    def send(self, response_url: str, payload: dict[str, Any]) -> None:
        """Keep the answer, then deliver it in the background."""
        created = _now()
        answer_id = None
        if self.workspace is not None:
            try:
                answer_id = self.workspace.save_answer(response_url, payload, created, self.lease)
            except Exception as err:  # noqa: BLE001 - deliver anyway, just not durably
                log.error("could not keep an answer durably: %s", redact(str(err)))
        self.pool.submit(self._attempt, _Pending(answer_id, response_url, payload, created))

    def _attempt(self, job: _Pending) -> None:
        job.attempts += 1
        status, wait, why = _post(job.url, json.dumps(job.payload).encode())
        if status is not None and 200 <= status < 300:
            self._done(job.answer_id)
            if job.attempts > 1:
                log.info("answer delivered after %d attempts", job.attempts)
            return
        if status is not None and 400 <= status < 500 and status != 429:
            log.error("answer refused by Slack (HTTP %s: %s); not retried", status, why)
            self._done(job.answer_id)
            return
        if _now() + timedelta(seconds=wait) > job.created + VALID_FOR:
            log.error(
                "answer not delivered: response_url expired after %d attempts (%s)",
                job.attempts,
                why,
            )
            self._done(job.answer_id)
            return
        log.warning("answer attempt %d failed (%s); retrying in %.1fs", job.attempts, why, wait)
        if job.answer_id is not None and self.workspace is not None:
            try:  # hold the answer for the wait and one lease more
                hold = self.lease + timedelta(seconds=wait)
                self.workspace.answer_attempted(job.answer_id, _now(), hold, why)
            except Exception as err:  # noqa: BLE001
                log.warning("could not renew an answer's lease: %s", redact(str(err)))
        with self._wake:
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + wait, self._seq, job))
            self._wake.notify()

    def _schedule_loop(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                if not self._due:
                    self._wake.wait(1.0)
                    continue
                left = self._due[0][0] - time.monotonic()
                if left > 0:
                    self._wake.wait(min(left, 1.0))
                    continue
                _, _, job = heapq.heappop(self._due)
            self.pool.submit(self._attempt, job)

    def _done(self, answer_id: int | None) -> None:
        if answer_id is not None and self.workspace is not None:
            try:
                self.workspace.answer_done(answer_id)
            except Exception as err:  # noqa: BLE001 - may be sent again after a restart
                log.error("could not forget a delivered answer: %s", redact(str(err)))

    # ------------------------------------------------------------ resuming
    def resume_orphans(self) -> int:
        """Take over answers whose sender died; returns how many were taken."""
        if self.workspace is None:
            return 0
        taken = self.workspace.take_orphaned_answers(_now(), self.lease)
        for answer_id, url, payload, created in taken:
            log.info("resuming answer %s left by a stopped process", answer_id)
            self.pool.submit(self._attempt, _Pending(answer_id, url, payload, created))
        return len(taken)

    def start_resuming(self, every: float = 5.0) -> None:
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.resume_orphans()
                except Exception as err:  # noqa: BLE001 - the loop keeps going
                    log.warning("resuming answers failed: %s", redact(str(err)))

        threading.Thread(target=loop, name="scout-answer-resume", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()


@dataclass
class _Pending:
    answer_id: int | None
    url: str
    payload: dict[str, Any]
    created: datetime
    attempts: int = 0


def _post(url: str, body: bytes) -> tuple[int | None, float, str]:
    """(HTTP status or None, seconds to wait before retrying, why)."""
    req = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:  # noqa: S310 - Slack's URL
            resp.read()
            return resp.status, 0.0, "ok"
    except urllib.error.HTTPError as err:
        retry_after = err.headers.get("Retry-After") if err.headers else None
        try:
            wait = max(1.0, float(retry_after)) if retry_after else 2.0
        except ValueError:
            wait = 2.0
        return err.code, wait, f"HTTP {err.code}"
    except (OSError, ValueError) as err:
        return None, 2.0, f"{type(err).__name__}: {err}"
