"""gunicorn's gthread worker, except that a request is read into memory by the worker's
event loop before any thread sees it.

Stock gthread hands a connection to a thread as soon as its first byte arrives, and the
thread then blocks reading the rest: eight clients sending two bytes a second held all
eight threads and every ack timed out. Here the poller reads each connection without
blocking, and only a complete request (headers and a body of its Content-Length) is
given to a thread, so a slow client costs a buffer, not a thread. Every request must be
complete within `read_timeout_s` of its first byte (else 408) and its body may not
exceed `max_body_bytes` (else 413, answered as soon as the headers say so, before any
body is read). Nothing of a refused request's body is logged.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import time
from dataclasses import dataclass, field
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

from bot.config import BotConfig

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 32 * 1024
REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
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


class BufferedThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        config = BotConfig.from_env()
        self.max_body = config.max_body_bytes
        self.read_timeout = config.read_timeout_s
        self.reading: dict[TConn, _Reading] = {}
        super().init_process()

    # connections start (or restart, after keep-alive) in the poller, not a thread
    def accept(self, listener) -> None:
        try:
            sock, addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._read(TConn(self.cfg, sock, addr, listener.getsockname()))

    def on_client_socket_readable(self, conn, client) -> None:
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read(conn)

    def _read(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        state = _Reading(time.monotonic() + self.read_timeout)
        if conn.parser is not None:  # read-ahead left by the previous request
            state.buf += conn.parser.unreader.take_buffered()
        self.reading[conn] = state
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        if state.buf:
            self._progress(conn)

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
        self.reading[conn].buf += chunk
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
            del self.reading[conn]
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(bytes(state.buf))
            conn.data_ready = True
            self.enqueue_req(conn)

    def _refuse(self, conn: TConn, status: int) -> None:
        log.warning(
            "refused a request from %s: HTTP %d %s", conn.client[0], status, REASONS[status]
        )
        with contextlib.suppress(OSError):
            conn.sock.send(
                f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )
        self._close(conn)

    def _close(self, conn: TConn) -> None:
        self.reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self) -> None:
        """Also drop the requests still incomplete after `read_timeout_s` (408)."""
        super().murder_pending()
        now = time.monotonic()
        for conn, state in list(self.reading.items()):
            if state.deadline <= now:
                self._refuse(conn, 408)
