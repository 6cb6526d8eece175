"""Bot settings from the environment, the WebClient every mode uses, and log redaction."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from urllib.error import HTTPError, URLError

from slack_sdk.http_retry.handler import RetryHandler

DEFAULT_API_URL = "https://slack.com/api/"
SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "files:read",
    "files:write",
    "im:history",
    "channels:history",
    "app_mentions:read",
    "links:read",
    "links:write",
]


@dataclass(frozen=True)
class BotConfig:
    api_url: str
    bot_token: str | None
    signing_secret: str | None
    app_token: str | None
    client_id: str | None
    client_secret: str | None
    max_upload_bytes: int
    workers: int
    recommender_factory: str | None
    port: int = 3000
    web_concurrency: int = 1
    slack_timeout: float = 15.0  # seconds a Web API call may take (SCOUT_SLACK_TIMEOUT)
    answer_lease_s: float = 30.0  # a sender's hold past each post's timeout (SCOUT_ANSWER_LEASE_S)
    event_lease_s: float = 120.0  # how long an event's answer may take (SCOUT_EVENT_LEASE_S)
    lookup_interval_s: float = 60.0  # conversations.history/replies spacing (SCOUT_LOOKUP_S)
    max_body_bytes: int = 1024 * 1024  # HTTP request bodies (SCOUT_MAX_BODY_KB)
    read_timeout_s: float = 10.0  # a request's headers and body (SCOUT_READ_TIMEOUT)
    max_connections: int = 1000  # incomplete requests a web worker holds (SCOUT_MAX_CONNECTIONS)
    max_buffered_bytes: int = 64 * 1024 * 1024  # all of them together (SCOUT_MAX_BUFFERED_MB)
    thread_ttl_days: float = 7.0  # how long a thread remembers its answer (SCOUT_THREAD_TTL_DAYS)

    @classmethod
    def from_env(cls) -> BotConfig:
        env = os.environ
        api = env.get("SLACK_API_URL") or DEFAULT_API_URL
        return cls(
            api_url=api if api.endswith("/") else api + "/",
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            app_token=env.get("SLACK_APP_TOKEN") or None,
            client_id=env.get("SLACK_CLIENT_ID") or None,
            client_secret=env.get("SLACK_CLIENT_SECRET") or None,
            max_upload_bytes=int(float(env.get("SCOUT_MAX_UPLOAD_MB", "10")) * 1024 * 1024),
            workers=int(env.get("SCOUT_BOT_WORKERS", "8")),
            recommender_factory=env.get("SCOUT_RECOMMENDER") or None,
            port=int(env.get("PORT") or 3000),
            web_concurrency=int(env.get("WEB_CONCURRENCY") or 1),
            slack_timeout=float(env.get("SCOUT_SLACK_TIMEOUT") or 15),
            answer_lease_s=float(env.get("SCOUT_ANSWER_LEASE_S") or 30),
            event_lease_s=float(env.get("SCOUT_EVENT_LEASE_S") or 120),
            lookup_interval_s=float(env.get("SCOUT_LOOKUP_S") or 60),
            max_body_bytes=int(float(env.get("SCOUT_MAX_BODY_KB") or 1024) * 1024),
            read_timeout_s=float(env.get("SCOUT_READ_TIMEOUT") or 10),
            max_connections=int(env.get("SCOUT_MAX_CONNECTIONS") or 1000),
            max_buffered_bytes=int(float(env.get("SCOUT_MAX_BUFFERED_MB") or 64) * 1024 * 1024),
            thread_ttl_days=float(env.get("SCOUT_THREAD_TTL_DAYS") or 7),
        )

    @property
    def oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)


def web_client(config: BotConfig, token: str | None = None):
    """A WebClient pointed at SLACK_API_URL that waits out 429s (Retry-After) for as long
    as Slack asks, up to about 30 minutes: three retries lost 8 of 10 messages under a
    6-second rate limit.

    A call is retried only when Slack cannot have acted on it: a 429 (Slack refused it)
    or a connection that failed before the request was sent. slack_sdk's
    ConnectionErrorRetryHandler also re-sends after a reset or a timeout *after* the
    request went out, which posted 9 of 10 DMs twice; such an outcome is unknown and
    the caller resolves it (bot.outbox.PostResolver, the clock's history check)."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    return WebClient(
        token=token,
        base_url=config.api_url,
        timeout=config.slack_timeout,
        retry_handlers=[
            NotSentRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


class NotSentRetryHandler(RetryHandler):
    """Retries a call whose request never left: urllib raises URLError only while
    connecting or sending (a reset or timeout while waiting for the answer comes back
    as the bare OSError), and an HTTP error response is no such failure."""

    def __init__(self, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is None and isinstance(error, URLError) and not isinstance(error, HTTPError)


RATE_LIMIT_RETRIES = 1800  # Retry-After is at least 1 s: at least 30 minutes of waiting

_TOKEN = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]+")


class RedactTokens(logging.Filter):
    """Slack tokens never reach a log line, whoever logged them (slack_sdk debug logs
    request headers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg = redact(message)
            record.args = ()
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class NoRequestBodies(logging.Filter):
    """bolt logs the whole body of a request that fails signature verification at INFO:
    an unsigned client could write 100 MB to the log per request, and a body may carry
    anything. The line keeps its reason, never the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "body:" in message and message.startswith("Invalid request signature"):
            record.msg = message.split(", body:", 1)[0].rstrip(")") + ", body not logged)"
            record.args = ()
        return True


def redact(text: str) -> str:
    return _TOKEN.sub(lambda m: m.group(1) + "-[redacted]", text)


def setup_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    root = logging.getLogger()
    for handler in root.handlers:
        for kind in (NoRequestBodies, RedactTokens):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
