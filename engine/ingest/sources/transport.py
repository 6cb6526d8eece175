"""One JSON GET for every source adapter: error bodies are read as data (the APIs put
their error objects in 4xx bodies), a slow or dropped connection is retried a few times
with backoff on the injected clock, and no message ever carries the query string, which
holds the token or key."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from engine.ingest.sources.clock import Clock

# Direct connections only: an HTTP(S)_PROXY meant for package registries must not carry
# API tokens (or the loopback fakes) elsewhere. A deployment that needs a proxy for the
# APIs wants a setting for it here.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NetworkFailure(OSError):
    """The call failed on the way every time it was tried; the message is one line."""


@dataclass(frozen=True)
class JsonResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON (an error object for most 4xx)


def redact(url: str) -> str:
    """The URL without its query: safe to log and show."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def get_json(
    url: str, *, timeout_s: float, clock: Clock, attempts: int = 3, backoff_s: float = 2.0
) -> JsonResponse:
    last = ""
    for attempt in range(attempts):
        if attempt:
            clock.sleep(backoff_s * 2 ** (attempt - 1))
        try:
            return _get_once(url, timeout_s)
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
            ValueError,
        ) as err:
            reason = getattr(err, "reason", None) or err
            last = f"{type(err).__name__}: {reason}".splitlines()[0][:200]
    raise NetworkFailure(f"GET {redact(url)} failed after {attempts} tries ({last})")


def _get_once(url: str, timeout_s: float) -> JsonResponse:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            return _parse(response.status, response.headers, response.read())
    except urllib.error.HTTPError as err:
        with err:
            raw = err.read()
        if err.code >= 500:
            raise ConnectionError(f"HTTP {err.code}") from None
        return _parse(err.code, err.headers, raw)


def _parse(status: int, headers, raw: bytes) -> JsonResponse:
    """A body cut short (a dropped connection mid-answer) fails here as ValueError and is
    retried like any other broken call."""
    body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    return JsonResponse(status, {k.lower(): v for k, v in headers.items()}, body)
