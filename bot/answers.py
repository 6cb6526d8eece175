"""Answers to a response_url that survive rate limiting and restarts.

Slack gives a slash command or a button five answers through its response_url for 30
minutes. Each answer is kept in the database (models.workspace pending answers) before
the first try and deleted once Slack took it, and is retried honouring 429 Retry-After
(or with backoff on 5xx and network errors) until it is delivered or the response_url
has expired; every failure is logged. The process sending an answer holds a lease on it,
renewed while it waits; when a process dies, another one (or the restarted one) takes
over the answers whose lease ran out, so none is lost and none goes out twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import redact

log = logging.getLogger(__name__)

VALID_FOR = timedelta(minutes=30)  # how long Slack accepts posts to a response_url


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Answers:
    """Delivers response_url answers on its own threads (a rate-limited answer never
    holds a thread that computes answers)."""

    def __init__(self, workspace: Any, lease_seconds: float = 30.0, threads: int = 16) -> None:
        self.workspace = workspace
        self.lease = timedelta(seconds=lease_seconds)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scout-answer")
        self._stop = threading.Event()

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
        self.pool.submit(self._deliver, answer_id, response_url, payload, created)

    def _deliver(
        self, answer_id: int | None, url: str, payload: dict[str, Any], created: datetime
    ) -> bool:
        body = json.dumps(payload).encode()
        attempt = 0
        while True:
            attempt += 1
            status, wait, why = _post(url, body)
            if status is not None and 200 <= status < 300:
                self._done(answer_id)
                if attempt > 1:
                    log.info("answer delivered after %d attempts", attempt)
                return True
            if status is not None and 400 <= status < 500 and status != 429:
                log.error("answer refused by Slack (HTTP %s: %s); not retried", status, why)
                self._done(answer_id)
                return False
            if _now() + timedelta(seconds=wait) > created + VALID_FOR:
                log.error(
                    "answer not delivered: response_url expired after %d attempts (%s)",
                    attempt,
                    why,
                )
                self._done(answer_id)
                return False
            log.warning("answer attempt %d failed (%s); retrying in %.1fs", attempt, why, wait)
            if not self._wait(answer_id, wait, why):
                return False

    def _wait(self, answer_id: int | None, seconds: float, why: str) -> bool:
        """Sleep, renewing the lease so no other process takes the answer meanwhile."""
        deadline = time.monotonic() + seconds
        while True:
            if answer_id is not None and self.workspace is not None:
                try:
                    self.workspace.answer_attempted(answer_id, _now(), self.lease, why)
                except Exception as err:  # noqa: BLE001
                    log.warning("could not renew an answer's lease: %s", redact(str(err)))
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self._stop.wait(min(left, self.lease.total_seconds() / 3)):
                return False

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
            self.pool.submit(self._deliver, answer_id, url, payload, created)
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
