"""The one way Scout fetches a post's image: from a file, or from an http(s) URL whose
host is public *when it is fetched*. An import file's `image` column is untrusted text,
and training fetches it later from the server's own network, so the address is vetted
at connect time (after DNS, whatever spelling the URL used), the socket connects to that
very address (no second lookup an attacker's DNS could answer differently), and every
redirect hop is vetted again. The import-time check uses the same address rules."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from engine.core.settings import Settings

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FetchPolicy",
    "RefusedURL",
    "RemoteError",
    "address_problem",
    "fetch_url",
    "host_text_problem",
    "literal_address",
    "read_image_bytes",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (as text); injectable so that tests can
# make a name "public" or "private" without a DNS server
Resolver = Callable[[str, int], Sequence[str]]

DEFAULT_MAX_BYTES = 25 * 1024 * 1024  # the same cap as an uploaded photo
_REDIRECTS = (301, 302, 303, 307, 308)
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
# IPv6 prefixes that carry an IPv4 address in their low 32 bits: IPv4-compatible
# (deprecated), NAT64 and its local-use prefix
_EMBEDS_V4 = tuple(ipaddress.ip_network(n) for n in ("::/96", "64:ff9b::/96", "64:ff9b:1::/48"))


class RefusedURL(ValueError):
    """A URL Scout will not fetch; the message says why in one line."""


class RemoteError(OSError):
    """A fetch that failed on the way (bad status, broken HTTP, too slow, too large)."""


def system_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo, which also reads the numeric spellings libc accepts (127.1, 0x7f.1)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise RemoteError(f"cannot resolve {host}: {err}") from None
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class FetchPolicy:
    """How a fetch is bounded. `allow_private` is the opt-in for tests and development
    (SCOUT_ALLOW_PRIVATE_IMAGE_HOSTS); `exempt` lists networks treated as public, so a
    test can stand up a "public" server on a loopback address while every other private
    address stays refused."""

    allow_private: bool = False
    timeout: float = 10.0  # per socket operation
    deadline: float = 30.0  # for the whole fetch, redirects included
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    resolver: Resolver = system_resolver
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: object) -> FetchPolicy:
        settings = settings or Settings.from_env()
        return cls(allow_private=settings.allow_private_image_hosts, **overrides)  # type: ignore[arg-type]

    def refuses(self, addr: IPAddress) -> str | None:
        if self.allow_private or any(addr in net for net in self.exempt):
            return None
        return address_problem(addr)


# ------------------------------------------------------------------ address rules
def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any spelling libc's inet_aton takes: 1 to 4 parts, each
    decimal, 0x-hex or 0-octal, the last filling the remaining bytes (2130706433,
    0177.0.0.1, 0x7f.1, 127.1)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    nums: list[int] = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                nums.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                nums.append(int(part, 8))
            elif part.isdigit() and part.isascii():
                nums.append(int(part))
            else:
                return None
        except ValueError:
            return None
    *head, last = nums
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address(value * 256 ** (4 - len(head)) + last)


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number means, or None for a name."""
    host = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _inet_aton(host)


def address_problem(addr: IPAddress) -> str | None:
    """Why an address is not public (loopback, private, link-local such as cloud
    metadata at 169.254.169.254, multicast, reserved, unspecified — also when wrapped in
    an IPv4-mapped or -compatible IPv6 address), or None for a public one."""
    if isinstance(addr, ipaddress.IPv6Address):
        inner = addr.ipv4_mapped or addr.sixtofour
        if inner is None and any(addr in net for net in _EMBEDS_V4) and int(addr) > 1:
            inner = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if inner is not None:
            why = address_problem(inner)
            return f"{why} (inside {addr})" if why else None
    for flag, why in (
        (addr.is_unspecified, "unspecified"),
        (addr.is_loopback, "loopback"),
        (addr.is_link_local, "link-local"),
        (addr.is_multicast, "multicast"),
        (addr.is_private, "private"),
        (addr.is_reserved, "reserved"),
        (not addr.is_global, "not public"),
    ):
        if flag:
            return f"{why} address {addr}"
    return None


def host_text_problem(host: str, policy: FetchPolicy | None = None) -> str | None:
    """What the import can tell from the URL's text alone (no DNS at import): a local
    name, or a number in any spelling that is not a public address. The fetch checks
    the resolved addresses again."""
    policy = policy or FetchPolicy.from_settings()
    if not host:
        return "URL has no host"
    if policy.allow_private:
        return None
    addr = literal_address(host)
    if addr is not None:
        why = policy.refuses(addr)
        return f"URL points at a {why}" if why else None
    name = host.lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
        return f"URL points at a local host ({host})"
    return None


# ------------------------------------------------------------------ the fetch
class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the vetted address; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """TLS to the vetted address, with SNI and certificate checked for the URL's host."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _vetted(url: str, policy: FetchPolicy) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for a URL every address of which is
    allowed; refused otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedURL(f"not a valid URL: {url[:80]!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedURL(f"only http and https URLs are fetched, not {scheme or 'no scheme'}")
    host = parts.hostname or ""
    why = host_text_problem(host, policy)
    if why:
        raise RefusedURL(why)
    port = port or (443 if scheme == "https" else 80)
    literal = literal_address(host)
    found = [str(literal)] if literal is not None else list(policy.resolver(host, port))
    if not found:
        raise RemoteError(f"{host} resolves to no address")
    for text in found:
        addr = ipaddress.ip_address(text.split("%")[0])
        why = policy.refuses(addr)
        if why:
            raise RefusedURL(f"{host} resolves to a {why}")
    return scheme, host, port, found[0]


def _read_capped(resp: http.client.HTTPResponse, policy: FetchPolicy, ends: float) -> bytes:
    length = resp.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > policy.max_bytes:
        raise RemoteError(f"image is larger than {policy.max_bytes / 1e6:.0f} MB")
    chunks: list[bytes] = []
    size = 0
    while chunk := resp.read1(64 * 1024):  # what has arrived: a trickle meets the deadline
        size += len(chunk)
        if size > policy.max_bytes:
            raise RemoteError(f"image is larger than {policy.max_bytes / 1e6:.0f} MB")
        if time.monotonic() > ends:
            raise RemoteError(f"fetch took longer than {policy.deadline:.0f} s")
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_url(url: str, policy: FetchPolicy | None = None) -> bytes:
    """The body of an http(s) URL, following at most `max_redirects` redirects, each hop
    vetted and pinned like the first. Raises RefusedURL or RemoteError (an OSError)."""
    policy = policy or FetchPolicy.from_settings()
    ends = time.monotonic() + policy.deadline
    for _ in range(policy.max_redirects + 1):
        scheme, host, port, ip = _vetted(url, policy)
        conn_type = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
        conn = conn_type(host, port, ip, policy.timeout)
        try:
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.request("GET", target, headers={"User-Agent": "scout-trainer/1"})
            resp = conn.getresponse()
            if resp.status in _REDIRECTS and resp.getheader("Location"):
                url = urljoin(url, resp.getheader("Location", ""))
                continue
            if resp.status != 200:
                raise RemoteError(f"HTTP {resp.status} from {host}")
            return _read_capped(resp, policy, ends)
        except http.client.HTTPException as err:
            raise RemoteError(f"bad HTTP answer from {host}: {type(err).__name__}") from None
        finally:
            conn.close()
    raise RemoteError(f"more than {policy.max_redirects} redirects")


def read_image_bytes(
    location: str,
    *,
    timeout: float = 10.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    policy: FetchPolicy | None = None,
) -> bytes:
    """A post's image from a local path or an http(s) URL, with a timeout and size cap."""
    if location.lower().startswith(("http://", "https://")):
        policy = policy or FetchPolicy.from_settings(timeout=timeout, max_bytes=max_bytes)
        return fetch_url(location, policy)
    path = Path(location)
    if path.stat().st_size > max_bytes:
        raise RemoteError(f"{location} is larger than {max_bytes / 1e6:.0f} MB")
    with path.open("rb") as fh:  # read at most the cap: a special file may not end
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise RemoteError(f"{location} is larger than {max_bytes / 1e6:.0f} MB")
    return data
