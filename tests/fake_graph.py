"""A local fake of the Instagram Graph API (Business Discovery and Hashtag Search): a
real threaded HTTP server on 127.0.0.1 with the documented answer shapes, cursor paging
of `media` / `media.after(CURSOR)`, error objects `{"error": {"message", "type", "code",
"error_subcode", "fbtrace_id"}}`, an `X-Business-Use-Case-Usage` header that models the
Business Use Case budget (by default 200 calls per rolling hour per account, counted on
the clock the client is handed, so waiting it out takes no real time), token expiry after
N calls, and slow or dropped connections. Also the loopback base the other source fakes
(tests/fake_youtube.py, the dataset fake) stand on."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.parse
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.ingest.sources.clock import ManualClock

IG_USER_ID = "17841400000000001"
TOKEN = "EAAG-fake-graph-token"
PAGE_SIZE = 25  # the Graph API's default page of media
_DISCOVERY = re.compile(r"^business_discovery\.username\(([^)]*)\)\{(.*)\}$")
_AFTER = re.compile(r"media\.after\(([^)]*)\)")


@dataclass
class Call:
    path: str
    params: dict[str, str]
    at: datetime  # on the fake's clock
    status: int = 200


class LoopbackJSON:
    """A ThreadingHTTPServer on 127.0.0.1 answering GETs with JSON from `answer`; can be
    slowed (`delay_s`) or made to drop the next connections without an answer."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.delay_s = 0.0
        self.drops = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with fake.lock:
                    drop, fake.drops = fake.drops > 0, max(0, fake.drops - 1)
                if drop:
                    self.close_connection = True
                    return
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                parts = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                with fake.lock:
                    status, headers, body = fake.answer(parts.path, params)
                raw = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up waiting (timeout)

        return Handler


def graph_error(code: int, message: str, subcode: int | None = None) -> dict[str, Any]:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def media_series(handle: str, n: int, newest: datetime, every: timedelta) -> list[dict[str, Any]]:
    """`n` posts, newest first, one every `every`, as Business Discovery returns media."""
    out = []
    for i in range(n):
        at = newest - i * every
        video = i % 3 == 0
        out.append(
            {
                "id": f"{zlib.crc32(handle.encode()) % 10**8}{i:05d}",
                "caption": f"post {i} by {handle} #food #day{i % 7} with @friend_{i % 4}",
                "like_count": 100 + i,
                "comments_count": i,
                "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "media_type": "VIDEO" if video else "IMAGE",
                "media_product_type": "REELS" if video else "FEED",
                "permalink": f"https://www.instagram.com/p/{handle}{i}/",
                "media_url": f"https://cdn.example/{handle}/{i}.jpg",
                **({"thumbnail_url": f"https://cdn.example/{handle}/{i}_t.jpg"} if video else {}),
            }
        )
    return out


@dataclass
class Account:
    username: str
    media: list[dict[str, Any]]
    followers: int = 1000
    name: str = ""
    biography: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class FakeGraph(LoopbackJSON):
    def __init__(self, clock: ManualClock | None = None, calls_per_hour: int = 200) -> None:
        super().__init__()
        self.clock = clock or ManualClock()
        self.accounts: dict[str, Account] = {}
        self.gone: dict[str, tuple[int, str]] = {}  # handle -> (code, message)
        self.tokens = {TOKEN}
        self.token_calls_left: int | None = None  # then 190: expired mid-run
        self.throttle_next: list[int] = []  # error codes for the next calls
        self.calls_per_hour = calls_per_hour  # the BUC budget the header reports against
        self.window: deque[datetime] = deque()
        self.hashtags: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # tag -> (id, media)
        self.hashtag_queries: list[str] = []
        self.page_size = PAGE_SIZE

    # ------------------------------------------------------------ set-up
    def add_account(
        self, handle: str, n_posts: int, every: timedelta = timedelta(days=1), **kw
    ) -> Account:
        media = media_series(handle, n_posts, self.clock.now() - timedelta(hours=1), every)
        account = Account(handle, media, **kw)
        self.accounts[handle.lower()] = account
        return account

    def add_hashtag(self, tag: str, media: list[dict[str, Any]]) -> None:
        self.hashtags[tag] = (f"1784{len(self.hashtags):011d}", media)

    def expire_token_after(self, calls: int) -> None:
        self.token_calls_left = calls

    def of(self, path_part: str) -> list[Call]:
        return [c for c in self.calls if path_part in c.path]

    # ------------------------------------------------------------ budget
    def _usage(self, now: datetime) -> tuple[float, float]:
        """Percent of the hourly budget used and minutes until a call frees up at 100%."""
        while self.window and now - self.window[0] >= timedelta(hours=1):
            self.window.popleft()
        percent = 100.0 * len(self.window) / self.calls_per_hour
        regain = 0.0
        if percent >= 100 and self.window:
            regain = max(1.0, (self.window[0] + timedelta(hours=1) - now).total_seconds() / 60)
        return percent, regain

    def _headers(self, now: datetime) -> dict[str, str]:
        percent, regain = self._usage(now)
        usage = {
            "type": "instagram",
            "call_count": round(percent),
            "total_cputime": round(percent / 4),
            "total_time": round(percent / 3),
            "estimated_time_to_regain_access": round(regain),
        }
        return {"X-Business-Use-Case-Usage": json.dumps({IG_USER_ID: [usage]})}

    # ------------------------------------------------------------ the API
    def answer(self, path: str, params: dict[str, str]):
        now = self.clock.now()
        call = Call(path, params, now)
        self.calls.append(call)
        status, body = self._answer(path.removeprefix("/v21.0"), params, now)
        call.status = status
        return status, self._headers(now), body

    def _answer(self, path: str, params: dict[str, str], now: datetime) -> tuple[int, Any]:
        if params.get("access_token") not in self.tokens:
            return 400, graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if self.token_calls_left is not None:
            if self.token_calls_left <= 0:
                return 400, graph_error(
                    190, "Error validating access token: Session has expired", 463
                )
            self.token_calls_left -= 1
        if self.throttle_next:
            code = self.throttle_next.pop(0)
            return 400, graph_error(code, "Application request limit reached")
        percent, _ = self._usage(now)
        if percent >= 100:
            return 400, graph_error(
                80002, "There have been too many calls to this Instagram account"
            )
        self.window.append(now)
        if path == f"/{IG_USER_ID}":
            return self._discovery(params.get("fields", ""))
        if path == "/ig_hashtag_search":
            return self._hashtag_search(params)
        m = re.fullmatch(r"/(\d+)/top_media", path)
        if m:
            return self._top_media(m.group(1))
        return 400, graph_error(100, "Unsupported get request.", 33)

    def _discovery(self, fields: str) -> tuple[int, Any]:
        m = _DISCOVERY.match(fields)
        if not m:
            return 400, graph_error(100, "(#100) Syntax error in fields")
        handle, inner = m.group(1).lower(), m.group(2)
        if handle in self.gone:
            code, message = self.gone[handle]
            return 400, graph_error(code, message, 2207013)
        account = self.accounts.get(handle)
        if account is None:
            return 400, graph_error(110, "Invalid user id", 2207013)
        after = _AFTER.search(inner)
        start = int(base64.b64decode(after.group(1)).decode()) if after else 0
        page = account.media[start : start + self.page_size]
        media: dict[str, Any] = {"data": page}
        end = start + len(page)
        cursors = {"before": base64.b64encode(str(start).encode()).decode()}
        if end < len(account.media):
            cursors["after"] = base64.b64encode(str(end).encode()).decode()
        media["paging"] = {"cursors": cursors}
        found: dict[str, Any] = {"id": f"178414{zlib.crc32(handle.encode()):011d}", "media": media}
        if "followers_count" in inner:
            found.update(
                username=account.username,
                name=account.name or account.username.title(),
                biography=account.biography,
                followers_count=account.followers,
                follows_count=321,
                media_count=len(account.media),
                **account.extra,
            )
        return 200, {"business_discovery": found, "id": IG_USER_ID}

    def _hashtag_search(self, params: dict[str, str]) -> tuple[int, Any]:
        tag = params.get("q", "").lower()
        if tag not in self.hashtag_queries:
            self.hashtag_queries.append(tag)
        if len(self.hashtag_queries) > 30:
            return 400, graph_error(
                24, "You have reached the maximum of 30 unique hashtags", 2207024
            )
        if tag not in self.hashtags:
            return 200, {"data": []}
        return 200, {"data": [{"id": self.hashtags[tag][0]}]}

    def _top_media(self, hashtag_id: str) -> tuple[int, Any]:
        for tag_id, media in self.hashtags.values():
            if tag_id == hashtag_id:
                return 200, {"data": media}
        return 400, graph_error(100, "Unsupported get request.", 33)
