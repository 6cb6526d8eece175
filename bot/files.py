"""Downloading a Slack file with the bot token without leaking the token.

An event names its own `url_private_download`, and urllib forwards every header across
redirects, so a forged or odd URL would hand the bot token to whoever serves it. The
token therefore goes only to an allowed origin (scheme, host and port together): Slack's
file hosts over https, and the origin of SLACK_API_URL, which is where a test or an
enterprise proxy serves files - over https, or over plain http only when that host is
this machine's loopback (the fake Slack of the tests), so the token never crosses a
network in clear text. A redirect to any other origin is refused rather than followed.

A URL is parsed once, strictly: a backslash (which browsers read as `/` and urlsplit
does not), user info (`a@b`), whitespace, control or non-ASCII characters are refused,
and the host urllib will connect to must be the host that was checked.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from typing import NamedTuple
from urllib.parse import urlsplit

SLACK_FILE_HOSTS = frozenset({"files.slack.com", "files-origin.slack.com"})
DEFAULT_PORTS = {"https": 443, "http": 80}


class UnsafeDownload(Exception):
    """The URL (or a redirect) points outside the allowed origins, or is malformed."""


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def origin(url: str) -> Origin:
    """The one parse of `url`; UnsafeDownload for anything that could parse two ways."""
    if not url.isascii() or any(c <= " " or c in "\\\x7f" for c in url):
        raise UnsafeDownload("the file URL has a backslash, a space or a control character")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeDownload(f"not an http(s) URL ({scheme or 'no scheme'})")
    if "@" in parts.netloc or not parts.hostname:
        raise UnsafeDownload("the file URL has user info or no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise UnsafeDownload("the file URL has a malformed port") from None
    return Origin(scheme, parts.hostname.lower(), port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(api_url: str) -> frozenset[Origin]:
    """Slack's file hosts over https, plus the origin of the configured Web API URL when
    it is https or a plain-http loopback one."""
    allowed = {Origin("https", host, 443) for host in SLACK_FILE_HOSTS}
    try:
        api = origin(api_url)
    except UnsafeDownload:
        return frozenset(allowed)
    if api.scheme == "https" or _is_loopback(api.host):
        allowed.add(api)
    return frozenset(allowed)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if origin(newurl) != origin(req.full_url):
            raise UnsafeDownload(f"the file URL redirected to another origin ({newurl[:80]})")
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            _same_host(new, origin(newurl))
        return new


def _same_host(req: urllib.request.Request, checked: Origin) -> None:
    """urllib parses the URL again to connect: refuse it when it reads another host."""
    host = req.host.lower()
    expected = {checked.host, f"{checked.host}:{checked.port}"}
    if ":" in checked.host:  # IPv6, written in brackets in a URL
        expected |= {f"[{checked.host}]", f"[{checked.host}]:{checked.port}"}
    if host not in expected:
        raise UnsafeDownload(f"the file URL's host reads two ways ({host})")


def download(url: str, token: str, limit: int, hosts: frozenset[Origin]) -> tuple[bytes, str]:
    """(up to `limit` + 1 bytes, Content-Type) of a Slack file, fetched with the token;
    UnsafeDownload when `url` or a redirect leaves `hosts` or could be read two ways."""
    checked = origin(url)
    if checked not in hosts:
        raise UnsafeDownload(f"not a Slack file URL ({checked.scheme}://{checked.host})")
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    _same_host(req, checked)
    opener = urllib.request.build_opener(_SameOriginRedirects())
    with opener.open(req, timeout=30) as resp:
        return resp.read(limit + 1), resp.headers.get("Content-Type", "")
