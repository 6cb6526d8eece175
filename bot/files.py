"""Downloading a Slack file with the bot token without leaking the token.

An event names its own `url_private_download`, and urllib forwards every header across
redirects, so a forged or odd URL would hand the bot token to whoever serves it. The
token is therefore only sent to Slack's file hosts (and to the host of SLACK_API_URL,
which is where a test or an enterprise proxy serves files), and a redirect to any other
host is refused rather than followed.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

SLACK_FILE_HOSTS = frozenset({"files.slack.com", "files-origin.slack.com"})


class UnsafeDownload(Exception):
    """The URL (or a redirect) points outside Slack's file hosts."""


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or ''}".lower()


def allowed_hosts(api_url: str) -> frozenset[str]:
    """Slack's file hosts plus the host of the configured Web API URL."""
    return frozenset({f"{h}:" for h in SLACK_FILE_HOSTS} | {_host(api_url)})


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if (
            _host(newurl) != _host(req.full_url)
            or urlsplit(newurl).scheme != urlsplit(req.full_url).scheme
        ):
            raise UnsafeDownload(f"the file URL redirected to another host ({_host(newurl)})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(url: str, token: str, limit: int, hosts: frozenset[str]) -> tuple[bytes, str]:
    """(up to `limit` + 1 bytes, Content-Type) of a Slack file, fetched with the token;
    UnsafeDownload when `url` or a redirect leaves `hosts`."""
    if _host(url) not in hosts or urlsplit(url).scheme not in ("https", "http"):
        raise UnsafeDownload(f"not a Slack file URL ({_host(url)})")
    opener = urllib.request.build_opener(_SameHostRedirects())
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with opener.open(req, timeout=30) as resp:
        return resp.read(limit + 1), resp.headers.get("Content-Type", "")
