"""gunicorn's gthread worker, except that a request is read into memory by the worker's
event loop before any thread sees it, and what incomplete requests may hold is capped.

Stock gthread hands a connection to a thread as soon as its first byte arrives, and the
thread then blocks reading the rest: eight clients sending two bytes a second held all
eight threads and every ack timed out. Here the poller reads each connection without
blocking, and only a complete request (headers and a body of its Content-Length) is
given to a thread, so a slow client costs a buffer, not a thread. Every request must be
complete within `read_timeout_s` of its first byte (else 408) and its body may not
exceed `max_body_bytes` (else 413, answered as soon as the headers say so, before any
body is read). Nothing of a refused request's body is logged.

Caps, because 1,100 slow sockets filled gunicorn's 1,000 connections and a signed
command then waited in the listen backlog until a slow one timed out: at most
`max_connections` incomplete requests are held and at most `max_buffered_bytes` in all;
past either cap the oldest incomplete request is dropped (503) to make room. A real
Slack delivery arrives in one burst, so it is never the oldest for long; a trickling
client is. Refusals are logged once per kind per minute plus a summary line, because a
408 flood wrote 720 KB of log a minute.

gunicorn has no public hook for "read the request before a thread takes it", so this
overrides four ThreadWorker methods (`accept`, `on_client_socket_readable`,
`murder_pending`, and calls `enqueue_req`) and hands the buffered bytes to the parser
through its `unreader`; everything else is public settings (bot.web). They are pinned
with gunicorn in requirements.txt, and tests/test_http_edge.py and
tests/test_bot_web_limits.py run this worker for real, so an upgrade that moves them
fails there. In production nginx (deploy/nginx.conf) buffers requests in front of it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

from bot.config import BotConfig

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 32 * 1024
ACCEPT_BURST = 64  # connections taken from the backlog per readable listener
LOG_INTERVAL_S = 60.0
REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


@dataclass
class _Reading:
    deadline: float
    buf: bytearray = field(default_factory=bytearray)
    continued: bool = False


def request_state(buf: bytes, max_body: int) -> tuple[str, int]:
    """('more', 0) while the request is incomplete, ('done', 0) once the headers and the
    whole body are in `buf`, ('continue', 0) when the client waits for a 100 Continue,
    or ('refuse', HTTP status)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return ("refuse", 431) if len(buf) > MAX_HEADER_BYTES else ("more", 0)
    if end > MAX_HEADER_BYTES:
        return "refuse", 431
    length = 0
    expect = False
    for line in bytes(buf[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return "refuse", 411  # Slack always sends a Content-Length
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return "refuse", 400
            if length < 0:
                return "refuse", 400
        if name == b"expect" and value.strip().lower() == b"100-continue":
            expect = True
    if length > max_body:
        return "refuse", 413
    have = len(buf) - (end + 4)
    if have > length:
        return "refuse", 400  # pipelined requests: Slack never sends them
    if have == length:
        return "done", 0
    return ("continue", 0) if expect else ("more", 0)


class RefusalLog:
    """Logs the first refusal of each status per interval with its client, and counts
    the rest into one summary line per interval, so a flood costs a line a minute."""

    def __init__(
        self,
        interval_s: float = LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.logger = logger
        self.window_start = clock()
        self.counts: Counter[int] = Counter()
        self.clients: set[str] = set()

    def note(self, status: int, client: str) -> None:
        if not self.counts[status]:
            self.logger.warning(
                "refused a request from %s: HTTP %d %s (more are counted, not logged, for %.0f s)",
                client,
                status,
                REASONS[status],
                self.interval_s,
            )
        self.counts[status] += 1
        if len(self.clients) < 10_000:
            self.clients.add(client)
        self.flush()

    def flush(self, force: bool = False) -> None:
        """Write the summary once the interval is over (called from the event loop)."""
        now = self.clock()
        if not force and now - self.window_start < self.interval_s:
            return
        repeats = sum(self.counts.values()) - len(self.counts)
        if repeats > 0:
            kinds = ", ".join(f"{n}x{s}" for s, n in sorted(self.counts.items()))
            self.logger.warning(
                "refused %d requests in the last %.0f s (%s) from %d clients",
                sum(self.counts.values()),
                now - self.window_start,
                kinds,
                len(self.clients),
            )
        self.window_start = now
        self.counts.clear()
        self.clients.clear()


class BufferedThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        config = BotConfig.from_env()
        self.max_body = config.max_body_bytes
        self.read_timeout = config.read_timeout_s
        self.max_reading = max(1, config.max_connections)
        self.max_buffered = max(MAX_HEADER_BYTES, config.max_buffered_bytes)
        self.buffered = 0
        self.reading: OrderedDict[TConn, _Reading] = OrderedDict()  # oldest first
        self.refusals = RefusalLog()
        super().init_process()

    # connections start (or restart, after keep-alive) in the poller, not a thread
    def accept(self, listener) -> None:
        for _ in range(ACCEPT_BURST):
            try:
                sock, addr = listener.accept()
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE) and self.reading:
                    self._refuse(next(iter(self.reading)), 503)  # free a descriptor
                elif e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                    raise
                return
            self.nr_conns += 1
            self._read(TConn(self.cfg, sock, addr, listener.getsockname()))

    def on_client_socket_readable(self, conn, client) -> None:
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read(conn)

    def _read(self, conn: TConn) -> None:
        while len(self.reading) >= self.max_reading:
            self._refuse(next(iter(self.reading)), 503)
        conn.sock.setblocking(False)
        state = _Reading(time.monotonic() + self.read_timeout)
        self.reading[conn] = state
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        if conn.parser is not None:  # read-ahead left by the previous request
            self._buffer(conn, conn.parser.unreader.take_buffered())

    def _on_readable(self, conn: TConn, _client) -> None:
        try:
            chunk = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._close(conn)
            return
        self._buffer(conn, chunk)

    def _buffer(self, conn: TConn, chunk: bytes) -> None:
        if not chunk:
            return
        self.reading[conn].buf += chunk
        self.buffered += len(chunk)
        while self.buffered > self.max_buffered and conn in self.reading:
            self._refuse(next(iter(self.reading)), 503)
        if conn in self.reading:
            self._progress(conn)

    def _progress(self, conn: TConn) -> None:
        state = self.reading[conn]
        verdict, status = request_state(state.buf, self.max_body)
        if verdict == "refuse":
            self._refuse(conn, status)
        elif verdict == "continue" and not state.continued:
            state.continued = True
            try:
                conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            except OSError:
                self._close(conn)
        elif verdict == "done":
            self.poller.unregister(conn.sock)
            self._forget(conn)
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(state.buf))
            conn.data_ready = True
            self.enqueue_req(conn)

    def _refuse(self, conn: TConn, status: int) -> None:
        self.refusals.note(status, str(conn.client[0] if conn.client else "?"))
        with contextlib.suppress(OSError):
            conn.sock.send(
                f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
        self._close(conn)

    def _forget(self, conn: TConn) -> None:
        state = self.reading.pop(conn, None)
        if state is not None:
            self.buffered -= len(state.buf)

    def _close(self, conn: TConn) -> None:
        self._forget(conn)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also drop the requests still incomplete after `read_timeout_s` (408); the
        reading map is oldest first, so the scan stops at the first live one."""
        super().murder_pending()
        now = time.monotonic()
        while self.reading:
            conn, state = next(iter(self.reading.items()))
            if state.deadline > now:
                break
            self._refuse(conn, 408)
        self.refusals.flush()
