"""A local fake of Slack's Web API: a real threaded HTTP server on 127.0.0.1 that checks
bearer tokens, answers the methods Scout uses, serves file downloads only with the
Authorization header, takes response_url posts, and records every call, so the bot is
tested over real HTTP exactly as it talks to Slack.

Faults it can play (issue 29): a slow Slack (`delays`: a method, or "response_url",
takes effect at once and answers after N seconds), a line that drops after the post
took effect (`drop_after_effect`: the connection is reset instead of answered), and
Slack's limit on conversations.history/replies for apps outside the Marketplace (one
call a minute per method and workspace, `lookup_interval`; past it 429 + Retry-After).
Posted messages keep their metadata and thread, and history/replies return them."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT_TOKEN = "xoxb-fake-bot-token-123"
CLIENT_ID = "111.222"
CLIENT_SECRET = "fake-client-secret"


@dataclass
class Call:
    method: str  # "chat.postMessage", "response_url", "download", "upload"
    params: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    result: dict[str, Any] | None = None  # what the fake answered


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.tokens = {BOT_TOKEN: "T0001"}
        self.revoked: set[str] = set()  # tokens Slack answers `token_revoked` for
        self.files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.uploads: dict[str, bytes] = {}
        self.gone_channels: set[str] = set()
        self.missing_channels: set[str] = set()  # files uploads answer channel_not_found
        self.rate_limits: dict[str, int] = {}
        self.limited_until: dict[str, float] = {}  # method -> monotonic time: 429 until then
        self.delays: dict[str, float] = {}  # method -> seconds to wait before answering
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> posted messages
        self.drop_after_effect: dict[str, int] = {}  # method -> next N calls reset after effect
        self.lookup_interval = 60.0  # conversations.history/replies: one call a minute
        self._looked_up: dict[tuple[str, str], float] = {}  # (team, method) -> last served
        self._ts = itertools.count(1)
        self.retry_after = 1
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # ------------------------------------------------------------ control
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_file(self, file_id: str, name: str, data: bytes, mimetype: str) -> dict[str, Any]:
        info = {
            "id": file_id,
            "name": name,
            "mimetype": mimetype,
            "size": len(data),
            "url_private_download": f"{self.url}/files-pri/{file_id}/{name}",
        }
        self.files[file_id] = info
        self.file_bytes[file_id] = data
        return info

    def rate_limit(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` get HTTP 429 with Retry-After: 1."""
        self.rate_limits[method] = times

    def rate_limit_for(self, method: str, seconds: float, retry_after: int = 1) -> None:
        """Every call of `method` (an API method or "response_url") gets HTTP 429 with
        Retry-After for the next `seconds`."""
        self.limited_until[method] = time.monotonic() + seconds
        self.retry_after = retry_after

    def _limited(self, method: str) -> bool:
        left = self.rate_limits.get(method, 0)
        if left:
            self.rate_limits[method] = left - 1
            return True
        return time.monotonic() < self.limited_until.get(method, 0.0)

    def drop(self, method: str, times: int = 1) -> None:
        """The next `times` calls of `method` (or "response_url") take effect, then the
        connection is reset before any answer: the caller cannot know it worked."""
        self.drop_after_effect[method] = times

    def _dropping(self, method: str) -> bool:
        with self._lock:
            left = self.drop_after_effect.get(method, 0)
            if left:
                self.drop_after_effect[method] = left - 1
            return bool(left)

    def _lookup_wait(self, team: str, method: str) -> float:
        """Seconds until `method` may be called again for `team` (0: served now)."""
        if method not in ("conversations.history", "conversations.replies"):
            return 0.0
        with self._lock:
            now = time.monotonic()
            last = self._looked_up.get((team, method))
            if last is not None and now - last < self.lookup_interval:
                return self.lookup_interval - (now - last)
            self._looked_up[(team, method)] = now
            return 0.0

    def posted(self, channel: str, answer_id: str | None = None) -> list[dict[str, Any]]:
        """Messages that reached `channel` (those carrying Scout's answer id, if given)."""
        with self._lock:
            found = list(self.messages.get(channel, []))
        if answer_id is None:
            return found
        return [
            m
            for m in found
            if ((m.get("metadata") or {}).get("event_payload") or {}).get("answer_id") == answer_id
        ]

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, pred=lambda c: True, timeout: float = 10.0, count: int = 1
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [c for c in self.of(method) if pred(c)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(
            f"no {count}x {method} matching within {timeout}s; calls: "
            + ", ".join(c.method for c in self.calls)
        )

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    # ------------------------------------------------------------ the API
    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _api(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict]:
        if method == "oauth.v2.access":
            ok = (
                params.get("client_id") == CLIENT_ID
                and params.get("client_secret") == CLIENT_SECRET
            )
            if not ok or not params.get("code"):
                return 200, {"ok": False, "error": "invalid_client"}
            new = f"xoxb-installed-{params['code']}"
            self.tokens[new] = "T0002"
            return 200, {
                "ok": True,
                "app_id": "A0001",
                "authed_user": {"id": "U0002"},
                "scope": "commands,chat:write",
                "token_type": "bot",
                "access_token": new,
                "bot_user_id": "B0002",
                "team": {"id": "T0002", "name": "Installed Team"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        if token in self.revoked:
            return 200, {"ok": False, "error": "token_revoked"}
        if token not in self.tokens:
            return 200, {"ok": False, "error": "invalid_auth" if token else "not_authed"}
        team = self.tokens[token]
        if method == "auth.test":
            return 200, {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "scout",
                "team_id": team,
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            channel = params.get("channel")
            if channel in self.gone_channels:
                return 200, {"ok": False, "error": "not_in_channel"}
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            if method == "chat.postMessage":
                metadata = params.get("metadata")
                metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
                message = {"type": "message", "ts": ts, "text": params.get("text", "")}
                if params.get("thread_ts"):
                    message["thread_ts"] = params["thread_ts"]
                if metadata:
                    message["metadata"] = metadata
                with self._lock:
                    self.messages.setdefault(channel, []).append(message)
            return 200, {"ok": True, "channel": channel, "ts": ts, "message_ts": ts}
        if method in ("conversations.history", "conversations.replies"):
            with self._lock:
                found = list(reversed(self.messages.get(params.get("channel"), [])))
            if method == "conversations.replies":
                ts = params.get("ts")
                found = [m for m in reversed(found) if ts in (m["ts"], m.get("thread_ts"))]
            if str(params.get("include_all_metadata")).lower() not in ("1", "true"):
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            return 200, {"ok": True, "messages": found, "has_more": False}
        if method == "files.info":
            info = self.files.get(params.get("file", ""))
            if info is None:
                return 200, {"ok": False, "error": "file_not_found"}
            return 200, {"ok": True, "file": info}
        if method == "files.getUploadURLExternal":
            file_id = f"FUP{next(self._ts)}"
            return 200, {
                "ok": True,
                "upload_url": f"{self.url}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            if params.get("channel_id") in self.gone_channels:
                return 200, {"ok": False, "error": "not_in_channel"}
            if params.get("channel_id") in self.missing_channels:
                return 200, {"ok": False, "error": "channel_not_found"}
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return 200, {
                "ok": True,
                "files": [{"id": f["id"], "title": f.get("title")} for f in files],
            }
        if method == "views.publish":
            return 200, {"ok": True, "view": {"id": "V1"}}
        if method == "chat.unfurl":
            return 200, unfurl_answer(params)
        return 200, {"ok": False, "error": "unknown_method"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _token(self, params: dict[str, Any]) -> str | None:
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Bearer "):
                    return auth[7:]
                if auth.startswith("Basic "):
                    import base64

                    cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                    params.setdefault("client_id", cid)
                    params.setdefault("client_secret", secret)
                return params.get("token")

            def _send(
                self, status: int, body: bytes, ctype: str, headers: dict | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _reset(self) -> None:
                """Break the line with a TCP reset, no answer written."""
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()

            def _json(self, status: int, data: dict, headers: dict | None = None) -> None:
                self._send(
                    status, json.dumps(data).encode(), "application/json; charset=utf-8", headers
                )

            def _params(self) -> tuple[dict[str, Any], bytes]:
                parsed = urllib.parse.urlparse(self.path)
                params: dict[str, Any] = {
                    k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()
                }
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                if parsed.path.startswith("/upload/"):  # raw file bytes, whatever the header says
                    return params, raw
                if raw and ctype.startswith("application/json"):
                    params.update(json.loads(raw))
                elif raw and ctype.startswith("application/x-www-form-urlencoded"):
                    params.update(
                        {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                    )
                return params, raw

            def _route(self) -> None:
                path = urllib.parse.urlparse(self.path).path
                params, raw = self._params()
                token = self._token(params)
                if path.startswith("/api/"):
                    method = path[len("/api/") :]
                    call = Call(method, params, token)
                    fake._record(call)
                    if fake._limited(method):
                        call.result = {"ok": False, "error": "ratelimited"}
                        self._json(429, call.result, {"Retry-After": str(fake.retry_after)})
                        return
                    wait = fake._lookup_wait(fake.tokens.get(token, "-"), method)
                    if wait > 0:
                        call.result = {"ok": False, "error": "ratelimited"}
                        self._json(429, call.result, {"Retry-After": str(math.ceil(wait))})
                        return
                    status, body = fake._api(method, params, token)
                    call.result = body
                    time.sleep(fake.delays.get(method, 0.0))
                    if fake._dropping(method):
                        self._reset()
                        return
                    self._json(status, body)
                elif path.startswith("/response/"):
                    call = Call("response_url", {"key": path.split("/")[2], **params}, token)
                    if fake._limited("response_url"):
                        call.method = "response_url_429"
                        fake._record(call)
                        self._send(429, b"rate limited", "text/plain", {"Retry-After": "1"})
                        return
                    fake._record(call)
                    time.sleep(fake.delays.get("response_url", 0.0))
                    if fake._dropping("response_url"):
                        self._reset()
                        return
                    self._send(200, b"ok", "text/plain")
                elif path.startswith("/redirect/"):  # a 302 to another URL, as a CDN might
                    target = urllib.parse.unquote(path[len("/redirect/") :])
                    fake._record(Call("redirect", {"to": target}, token))
                    self._send(302, b"", "text/plain", {"Location": target})
                elif path.startswith("/files-pri/"):
                    file_id = path.split("/")[2]
                    host = self.headers.get("Host", "")
                    fake._record(Call("download", {"file": file_id, "host": host}, token))
                    if token not in fake.tokens:  # Slack answers a login page, not the file
                        self._send(200, b"<html>sign in</html>", "text/html")
                        return
                    info = fake.files[file_id]
                    self._send(200, fake.file_bytes[file_id], info["mimetype"])
                elif path.startswith("/upload/"):
                    fake.uploads[path.split("/")[2]] = raw
                    fake._record(
                        Call("upload", {"file_id": path.split("/")[2], "size": len(raw)}, token)
                    )
                    self._send(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                else:
                    self._send(404, b"not found", "text/plain")

            do_GET = _route
            do_POST = _route

        return Handler


# ------------------------------------------------------------------ chat.unfurl
UNFURL_SOURCES = ("composer", "conversations_history")
ATTACHMENT_FIELDS = ("blocks", "text", "title", "fallback", "pretext", "fields")


def unfurl_answer(params: dict[str, Any]) -> dict[str, Any]:
    """chat.unfurl as Slack documents it (issue 26): `channel` and `ts` (or `source` and
    `unfurl_id`) name the message, `unfurls` is a JSON map (an object, or a string of
    one) of the message's URLs to attachments, each with `blocks` or attachment text.
    A bad payload gets Slack's error object, not a silent success."""
    if params.get("source") or params.get("unfurl_id"):
        if not params.get("unfurl_id"):
            return {"ok": False, "error": "missing_unfurl_id"}
        if params.get("source") not in UNFURL_SOURCES:
            return {"ok": False, "error": "missing_source"}
    else:
        if not params.get("channel"):
            return {"ok": False, "error": "missing_channel"}
        if not params.get("ts"):
            return {"ok": False, "error": "missing_ts"}
        if not re.fullmatch(r"\d+\.\d+", str(params["ts"])):
            return {"ok": False, "error": "cannot_find_message"}
    unfurls = params.get("unfurls")
    if unfurls is None:
        return {"ok": False, "error": "missing_unfurls"}
    if isinstance(unfurls, str):
        try:
            unfurls = json.loads(unfurls)
        except ValueError:
            return {"ok": False, "error": "invalid_unfurls_format"}
    if not isinstance(unfurls, dict) or not unfurls:
        return {"ok": False, "error": "invalid_unfurls_format"}
    for url, attachment in unfurls.items():
        if not re.match(r"https?://", str(url)) or not isinstance(attachment, dict):
            return {"ok": False, "error": "invalid_unfurls_format"}
        if not any(attachment.get(k) for k in ATTACHMENT_FIELDS):
            return {"ok": False, "error": "cannot_parse_attachment"}
        if not _blocks_ok(attachment.get("blocks", [])):
            return {"ok": False, "error": "invalid_blocks"}
    return {"ok": True}


def _blocks_ok(blocks: Any) -> bool:
    """Block Kit as Slack checks it, as far as Scout's cards use it: typed blocks,
    section text up to 3000 characters, buttons with an action id, text and value."""
    if not isinstance(blocks, list) or len(blocks) > 50:
        return False
    for b in blocks:
        if not isinstance(b, dict) or b.get("type") not in (
            "section",
            "context",
            "actions",
            "divider",
            "header",
            "image",
        ):
            return False
        text = (b.get("text") or {}).get("text", "")
        if len(text) > 3000:
            return False
        for e in b.get("elements", []) if b["type"] == "actions" else []:
            ok = e.get("type") == "button" and e.get("action_id") and e.get("text", {}).get("text")
            if not ok or len(str(e.get("value", ""))) > 2000:
                return False
    return True
