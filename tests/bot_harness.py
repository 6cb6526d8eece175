"""Start the real bot (`python -m bot serve`) on a free port against the fake Slack, and
send it correctly (or incorrectly) signed requests. Shared by the end-to-end tests and
the ack benchmark."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.fake_slack import BOT_TOKEN, FakeSlack

REPO = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "fake-signing-secret"
MARKER = b"SECRET-BODY-MARKER"  # in attack bodies: must never reach a log


def console_session(url: str, lines: list[str], timeout: float = 240) -> str:
    """What `python -m bot console` prints for `lines` typed on stdin, on the real engine
    (no injected recommender), with the store at `url`."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}
    env.pop("SCOUT_RECOMMENDER", None)
    out = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=timeout,
    )
    return out.stdout + ("\n[stderr]\n" + out.stderr if "Traceback" in out.stderr else "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: bytes, ts: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    base = f"v0:{ts}:".encode() + body
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sig}


@dataclass
class Response:
    status: int
    body: str
    seconds: float
    headers: dict[str, str]


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> Response:
    req = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
            return Response(
                resp.status, resp.read().decode(), time.perf_counter() - t0, dict(resp.headers)
            )
    except urllib.error.HTTPError as err:
        return Response(err.code, err.read().decode(), time.perf_counter() - t0, dict(err.headers))


class BotServer:
    """`python -m bot serve` in a subprocess, its stderr kept for log assertions."""

    def __init__(self, fake: FakeSlack, database_url: str, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "SLACK_API_URL": fake.api_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(REPO),
            "LOG_LEVEL": "DEBUG",
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> BotServer:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited {self.proc.returncode}:\n{self.log()}")
            try:
                if http(self.url + "/healthz", timeout=2).status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"bot did not start in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "_log", None):
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ---------------------------------------------------------- requests
    def post(
        self,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        ts: int | None = None,
        signed: bool = True,
    ) -> Response:
        h = {"Content-Type": content_type, **(sign(body, ts) if signed else {}), **(headers or {})}
        return http(self.url + "/slack/events", body, h)

    def command(
        self,
        command: str,
        text: str,
        response_url: str,
        *,
        team_id: str = "T0001",
        channel_id: str = "C0001",
        user_id: str = "U0001",
        **kw,
    ) -> Response:
        form = {
            "token": "legacy",
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": "1.2.3",
            "api_app_id": "A0001",
        }
        return self.post(
            urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded", **kw
        )

    def event(self, event: dict, event_id: str, *, team_id: str = "T0001", **kw) -> Response:
        body = {
            "token": "legacy",
            "team_id": team_id,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": "UBOT", "is_bot": True}],
        }
        return self.post(json.dumps(body).encode(), "application/json", **kw)

    def action(
        self,
        action_id: str,
        value: str,
        response_url: str,
        *,
        message_ts: str = "1.1",
        channel_id: str = "C0001",
        **kw,
    ) -> Response:
        payload = {
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": "U0001"},
            "api_app_id": "A0001",
            "channel": {"id": channel_id},
            "trigger_id": "1.2.3",
            "message": {"ts": message_ts, "text": "x"},
            "container": {"type": "message"},
            "response_url": response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "type": "button",
                    "action_ts": "1.2",
                }
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded", **kw)


# ------------------------------------------------- unsigned attackers
def connect(bot: BotServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", bot.port), timeout=30)


def slow_client(bot: BotServer, stop: threading.Event, body_slow: bool) -> None:
    """Sends a request two bytes a second (headers, or a body after fast headers)."""
    body = b"x" * 200
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    data, fast = (head + body, len(head)) if body_slow else (head + body, 0)
    while not stop.is_set():
        try:
            with connect(bot) as s:
                s.sendall(data[:fast])
                for i in range(fast, len(data), 2):
                    if stop.is_set():
                        return
                    s.sendall(data[i : i + 2])
                    time.sleep(1.0)
        except OSError:
            time.sleep(0.1)


def big_body(bot: BotServer, results: list, size: int = 10 * 1024 * 1024) -> None:
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    try:
        with connect(bot) as s:
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
