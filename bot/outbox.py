"""Answers that go out exactly once: to a response_url through rate limiting, slow
Slack and restarts (Outbox), and chat.postMessage answers whose outcome is unknown
(PostResolver).

Slack gives a slash command or a button five answers through its response_url for 30
minutes. Each answer is kept in the database (models.workspace pending answers) before
the first try and deleted once Slack took it, and is retried honouring 429 Retry-After
(or with backoff on 5xx and on connections that failed before the request was sent)
until it is delivered or the response_url has expired; every failure is logged.

Exactly once, not at least once: the process sending an answer is its owner (host, pid
and a nonce). Before every attempt the owner extends its lease past the whole HTTP
timeout plus `lease_seconds` with a conditional UPDATE that only the owner wins, so a
post slower than the lease is never taken over mid-flight, and an answer someone else
took over is not posted. The orphan resumer takes only answers whose lease ran out and
never its own. A post whose outcome is unknown after the request was fully sent (a
timeout waiting for the answer, a reset) is treated as delivered and logged: a
response_url post cannot be looked up afterwards, and sending it again would risk the
duplicate this module exists to prevent.
"""

from __future__ import annotations

import heapq
import http.client
import json
import logging
import os
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
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

    def __init__(
        self,
        workspace: Any,
        lease_seconds: float = 30.0,
        threads: int = 16,
        post_timeout: float = 15.0,
    ) -> None:
        self.workspace = workspace
        self.lease = timedelta(seconds=lease_seconds)
        self.post_timeout = post_timeout
        self._nonce = uuid.uuid4().hex[:8]
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scout-answer")
        self._stop = threading.Event()
        self._due: list[tuple[float, int, _Pending]] = []  # heap of (monotonic time, seq, job)
        self._seq = 0
        self._wake = threading.Condition()
        threading.Thread(target=self._schedule_loop, name="scout-answer-due", daemon=True).start()

    @property
    def owner(self) -> str:
        """This process's name on the answers it sends (the pid read now, so a forked
        worker is never taken for its parent)."""
        return f"{socket.gethostname()[:40]}:{os.getpid()}:{self._nonce}"

    @property
    def _hold(self) -> timedelta:
        """How long one attempt may keep an answer: the whole HTTP timeout and the lease."""
        return self.lease + timedelta(seconds=self.post_timeout)

    # ------------------------------------------------------------- sending
    def send(self, response_url: str, payload: dict[str, Any]) -> None:
        """Keep the answer, then deliver it in the background."""
        created = _now()
        answer_id = None
        if self.workspace is not None:
            try:
                answer_id = self.workspace.save_answer(
                    response_url, payload, created, self._hold, self.owner
                )
            except Exception as err:  # noqa: BLE001 - deliver anyway, just not durably
                log.error("could not keep an answer durably: %s", redact(str(err)))
        self.pool.submit(self._attempt, _Pending(answer_id, response_url, payload, created))

    def _still_mine(self, job: _Pending) -> bool:
        """Extend the lease over this attempt; False when the answer was delivered or
        another process owns it now (then this one must not post)."""
        if job.answer_id is None or self.workspace is None:
            return True
        try:
            return self.workspace.hold_answer(job.answer_id, self.owner, _now(), self._hold)
        except Exception as err:  # noqa: BLE001 - our own answer: better sent than lost
            log.warning("could not renew an answer's lease: %s", redact(str(err)))
            return True

    def _attempt(self, job: _Pending) -> None:
        if not self._still_mine(job):
            log.info("answer %s is no longer this process's to send; not posted", job.answer_id)
            return
        job.attempts += 1
        status, wait, why = _post(job.url, json.dumps(job.payload).encode(), self.post_timeout)
        if status == UNKNOWN:
            log.warning(
                "answer %s: outcome unknown after it was sent (%s); counted as delivered, "
                "since a response_url cannot be checked and re-sending could answer twice",
                job.answer_id,
                why,
            )
            self._done(job.answer_id)
            return
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
            try:  # hold the answer for the wait and one attempt more
                hold = self._hold + timedelta(seconds=wait)
                self.workspace.answer_attempted(job.answer_id, _now(), hold, why, self.owner)
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
        taken = self.workspace.take_orphaned_answers(_now(), self._hold, owner=self.owner)
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


UNKNOWN = -1  # _post's status when the request went out and no answer came back


def _post(url: str, body: bytes, timeout: float = 15.0) -> tuple[int | None, float, str]:
    """(HTTP status, UNKNOWN or None, seconds to wait before retrying, why). None: the
    request was not sent (urllib raises URLError only while connecting or sending), so
    it is safe to retry; UNKNOWN: it was sent and then the answer timed out or the
    connection broke, so Slack may have taken it."""
    req = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - Slack's URL
            resp.read()
            return resp.status, 0.0, "ok"
    except urllib.error.HTTPError as err:
        retry_after = err.headers.get("Retry-After") if err.headers else None
        try:
            wait = max(1.0, float(retry_after)) if retry_after else 2.0
        except ValueError:
            wait = 2.0
        return err.code, wait, f"HTTP {err.code}"
    except (urllib.error.URLError, ValueError) as err:
        return None, 2.0, f"{type(err).__name__}: {err}"
    except (OSError, http.client.HTTPException) as err:
        return UNKNOWN, 0.0, f"{type(err).__name__}: {err}"


# ----------------------------------------------------------- chat.postMessage
ANSWER_EVENT = "scout_answer"  # the metadata event_type on every answer Scout posts


def answer_marker(answer_id: str) -> dict[str, Any]:
    """The message metadata that names one answer, so a post in doubt can be found."""
    return {"event_type": ANSWER_EVENT, "event_payload": {"answer_id": answer_id}}


@dataclass
class _InDoubt:
    client: Any
    team_id: str
    answer_id: str
    message: dict[str, Any]  # chat.postMessage arguments, metadata included


class PostResolver:
    """Posts an answer with chat.postMessage at most once. A post whose outcome is
    unknown (a timeout or a reset after the request went out: the WebClient no longer
    re-sends those) is not sent again blindly: the thread's replies
    (conversations.replies, or the channel's history for a post outside a thread) are
    searched for the answer's metadata, and only a missing answer is posted again.

    Slack allows apps outside the Marketplace one conversations.history/replies call a
    minute per workspace: every process takes its turn from the store's call slot
    (`interval` apart), and one call resolves every answer in doubt in the same thread.
    The answers in doubt live in this process: one that crashes while resolving leaves
    them unanswered rather than answered twice."""

    def __init__(self, workspace: Any, interval: float = 60.0, every: float = 1.0) -> None:
        self.workspace = workspace
        self.interval = timedelta(seconds=interval)
        self._local_slots: dict[str, datetime] = {}
        self._doubts: list[_InDoubt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._every = every
        self._thread: threading.Thread | None = None

    def post(self, client: Any, team_id: str | None, answer_id: str, **message: Any) -> Any:
        """Slack's response, or None when the outcome is unknown (resolved later).
        A SlackApiError (Slack answered no) is raised to the caller."""
        from slack_sdk.errors import SlackApiError

        message["metadata"] = answer_marker(answer_id)
        try:
            return client.chat_postMessage(**message)
        except SlackApiError:
            raise
        except Exception as err:  # noqa: BLE001 - sent, then no answer: in doubt
            log.warning(
                "answer %s: post outcome unknown (%s); checking the thread before any re-post",
                answer_id,
                redact(f"{type(err).__name__}: {err}"),
            )
            self._add(_InDoubt(client, team_id or "-", answer_id, message))
            return None

    def _add(self, doubt: _InDoubt) -> None:
        with self._lock:
            self._doubts.append(doubt)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="scout-resolve", daemon=True
                )
                self._thread.start()

    def pending(self) -> int:
        with self._lock:
            return len(self._doubts)

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                self.resolve_once()
            except Exception as err:  # noqa: BLE001 - keep resolving
                log.warning("resolving posts in doubt failed: %s", redact(str(err)))
            if not self.pending():
                return

    def resolve_once(self) -> int:
        """One lookup per thread whose workspace has a call slot now; returns how many
        answers were settled (found, or posted again)."""
        with self._lock:
            groups: dict[tuple, list[_InDoubt]] = {}
            for d in self._doubts:
                key = (d.team_id, d.message["channel"], d.message.get("thread_ts"))
                groups.setdefault(key, []).append(d)
        settled = 0
        for (team, channel, thread_ts), doubts in groups.items():
            method = "conversations.replies" if thread_ts else "conversations.history"
            if not self._slot(f"{team}:{method}"):
                continue
            try:
                found = _answer_ids(doubts[0].client, channel, thread_ts)
            except Exception as err:  # noqa: BLE001 - asked again at the next slot
                log.warning("cannot look up %s in %s yet: %s", method, channel, redact(str(err)))
                continue
            with self._lock:
                for d in doubts:
                    self._doubts.remove(d)
            for d in doubts:
                settled += 1
                if d.answer_id in found:
                    log.info("answer %s had reached Slack; not posted again", d.answer_id)
                    continue
                log.info("answer %s had not reached Slack; posting it again", d.answer_id)
                try:
                    self.post(d.client, d.team_id, d.answer_id, **d.message)
                except Exception as err:  # noqa: BLE001 - Slack said no: nothing more to do
                    log.error("answer %s refused: %s", d.answer_id, redact(str(err)))
        return settled

    def _slot(self, key: str) -> bool:
        now = _now()
        if self.workspace is not None:
            try:
                return self.workspace.take_call_slot(key, now, self.interval)
            except Exception as err:  # noqa: BLE001 - fall back to this process's limit
                log.warning("shared call slot unavailable: %s", redact(str(err)))
        with self._lock:
            if self._local_slots.get(key, now) > now:
                return False
            self._local_slots[key] = now + self.interval
            return True

    def stop(self) -> None:
        self._stop.set()


def _answer_ids(client: Any, channel: str, thread_ts: str | None) -> set[str]:
    """The answer ids in the metadata of a thread's replies (or the channel's recent
    history): one Web API call."""
    if thread_ts:
        resp = client.conversations_replies(
            channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
        )
    else:
        resp = client.conversations_history(channel=channel, limit=200, include_all_metadata=True)
    out = set()
    for message in resp.get("messages") or []:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == ANSWER_EVENT:
            out.add(str((meta.get("event_payload") or {}).get("answer_id")))
    return out
