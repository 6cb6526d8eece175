"""Image URLs cannot make Scout fetch from its own network (issue 29 point 1). A real
HTTP server on loopback records every request; the fetcher must refuse it under every
spelling of the address, after DNS, and on every redirect hop, and training must never
reach it. Each refusal has a positive control: with loopback allowed, the same URL is
fetched, so a refusal is the fetcher's doing, not an unreachable server."""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.bootstrap import bootstrap
from engine.cli import main
from engine.core.errors import ImportRejected
from engine.core.remote import (
    FetchPolicy,
    RefusedURL,
    RemoteError,
    address_problem,
    fetch_url,
    literal_address,
    read_image_bytes,
)
from engine.core.settings import Settings

BODY = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes"
ALLOW = "SCOUT_ALLOW_PRIVATE_IMAGE_HOSTS"


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.redirect_to: str | None = None
        self.body = BODY
        super().__init__((host, 0), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.requests.append((self.path, self.headers.get("Host", "")))
        if self.path.startswith("/redirect") and self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        if self.path.startswith("/slow"):  # a byte every 0.1 s: each read is quick
            for byte in self.server.body:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
            return
        self.wfile.write(self.server.body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(host: str) -> Iterator[Recorder]:
    server = Recorder(host)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def loopback() -> Iterator[Recorder]:
    yield from _serve("127.0.0.1")


@pytest.fixture
def public() -> Iterator[Recorder]:
    """A stand-in for a public CDN: on 127.0.0.2, which the tests' policy exempts."""
    yield from _serve("127.0.0.2")


@pytest.fixture(autouse=True)
def _private_hosts_refused(monkeypatch):
    monkeypatch.delenv(ALLOW, raising=False)


def resolver(table: dict[str, list[str]]):
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


SPELLINGS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",  # hex per part
    "0x7f000001",  # hex whole
    "127.1",  # short form
    "0x7f.1",
    "017700000001",  # octal whole
    "127.0.0.1.",  # trailing dot
    "localhost",  # a name the system resolves to loopback (/etc/hosts)
    "0.0.0.0",  # reaches the local host on Linux
]
V6_SPELLINGS = ["[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[::]"]


@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_loopback_is_refused_and_really_is_loopback(loopback, host):
    url = f"http://{host}:{loopback.port}/a.jpg"
    with pytest.raises(RefusedURL):
        fetch_url(url)
    with pytest.raises(RefusedURL):
        read_image_bytes(url)
    assert loopback.requests == []
    # the positive control: allowed, the very same spelling reaches the recorder
    assert fetch_url(url, FetchPolicy(allow_private=True)) == BODY
    assert len(loopback.requests) == 1


@pytest.mark.parametrize("host", V6_SPELLINGS)
def test_ipv6_spellings_of_loopback_and_unspecified_are_refused(loopback, host):
    with pytest.raises(RefusedURL, match="address"):
        fetch_url(f"http://{host}:{loopback.port}/a.jpg")
    assert loopback.requests == []


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "0.0.0.0",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::10.0.0.1",  # IPv4-compatible
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_non_public_addresses_are_named(address):
    assert address_problem(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


def test_numeric_spellings_are_read_as_libc_reads_them():
    for text in ("2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "127.0.1"):
        assert literal_address(text) == ipaddress.ip_address("127.0.0.1"), text
    assert literal_address("10.1") == ipaddress.ip_address("10.0.0.1")
    assert literal_address("cdn.example.com") is None
    assert literal_address("1.2.3.4.5") is None
    assert literal_address("256.1.1.1") is None


@pytest.mark.parametrize(
    "answer", [["10.1.2.3"], ["169.254.169.254"], ["93.184.216.34", "127.0.0.1"], ["fd00::7"]]
)
def test_a_name_resolving_to_any_private_address_is_refused(answer):
    resolve = resolver({"intranet.example": answer})
    with pytest.raises(RefusedURL, match="intranet.example resolves to"):
        fetch_url("https://intranet.example/a.jpg", FetchPolicy(resolver=resolve))
    assert resolve.calls == ["intranet.example"]


def _cdn_policy(resolve, **kw) -> FetchPolicy:
    return FetchPolicy(resolver=resolve, exempt=(ipaddress.ip_network("127.0.0.2/32"),), **kw)


def test_connection_goes_to_the_vetted_address_with_one_lookup(public):
    resolve = resolver({"cdn.example": ["127.0.0.2"]})
    url = f"http://cdn.example:{public.port}/a.jpg"
    assert fetch_url(url, _cdn_policy(resolve)) == BODY
    assert resolve.calls == ["cdn.example"]  # no second lookup that DNS could answer otherwise
    assert public.requests == [("/a.jpg", f"cdn.example:{public.port}")]


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/a.jpg",
        "http://2130706433:{port}/a.jpg",
        "http://localhost:{port}/a.jpg",
        "http://[::ffff:127.0.0.1]:{port}/a.jpg",
        "http://intranet.example:{port}/a.jpg",
    ],
)
def test_a_public_url_redirecting_to_loopback_is_refused(public, loopback, target):
    resolve = resolver({"cdn.example": ["127.0.0.2"], "intranet.example": ["127.0.0.1"]})
    public.redirect_to = target.format(port=loopback.port)
    url = f"http://cdn.example:{public.port}/redirect"
    with pytest.raises(RefusedURL):
        fetch_url(url, _cdn_policy(resolve))
    assert [p for p, _ in public.requests] == ["/redirect"]  # the first hop was fetched
    assert loopback.requests == []  # the second never was


def test_redirects_within_public_hosts_are_followed_and_bounded(public):
    resolve = resolver({"cdn.example": ["127.0.0.2"]})
    public.redirect_to = "/a.jpg"  # relative, on the same host
    assert fetch_url(f"http://cdn.example:{public.port}/redirect", _cdn_policy(resolve)) == BODY
    public.redirect_to = "/redirect-again"  # a loop
    public.requests.clear()
    with pytest.raises(RemoteError, match="more than 3 redirects"):
        fetch_url(
            f"http://cdn.example:{public.port}/redirect", _cdn_policy(resolve, max_redirects=3)
        )
    assert len(public.requests) == 4


def test_only_http_and_https_and_a_size_cap(public):
    for url in ("ftp://cdn.example/a.jpg", "file:///etc/passwd", "gopher://cdn.example/"):
        with pytest.raises(RefusedURL, match="only http and https"):
            fetch_url(url)
    resolve = resolver({"cdn.example": ["127.0.0.2"]})
    public.body = b"x" * 5000
    with pytest.raises(RemoteError, match="larger than"):
        fetch_url(f"http://cdn.example:{public.port}/big", _cdn_policy(resolve, max_bytes=4096))


def test_the_opt_in_is_a_setting_off_by_default(monkeypatch):
    assert Settings.from_env().allow_private_image_hosts is False
    assert FetchPolicy.from_settings().allow_private is False
    monkeypatch.setenv(ALLOW, "1")
    assert Settings.from_env().allow_private_image_hosts is True
    assert FetchPolicy.from_settings().allow_private is True


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f000001", "127.1", "[::1]"])
def test_import_refuses_the_same_spellings(migrated_sqlite, tmp_path, host):
    path = tmp_path / "p.csv"
    path.write_text(f"handle,post_id,image\nann,p1,http://{host}:8000/a.jpg\n")
    rec = bootstrap(migrated_sqlite)
    try:
        with pytest.raises(ImportRejected, match="p.csv:2: image: URL points at a loopback"):
            rec.import_file(path, "posts")
    finally:
        rec.close()


def test_training_never_fetches_refused_urls(migrated_sqlite, tmp_path, loopback, monkeypatch):
    """Rows written while loopback was allowed (as an old import, before the rules, could
    have written them), then trained with the default rules: nothing reaches the server."""
    port = loopback.port
    hosts = ["127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "localhost"]
    rows = "".join(
        f"ann,p{i},sunny day #sun #beach,10,http://{h}:{port}/{i}.jpg\n"
        for i, h in enumerate(hosts)
    )
    (tmp_path / "p.csv").write_text("handle,post_id,caption,likes,image\n" + rows)
    monkeypatch.setenv(ALLOW, "1")
    assert main(["import", "posts", str(tmp_path / "p.csv"), "--db", migrated_sqlite]) == 0
    monkeypatch.delenv(ALLOW)
    assert main(["train", "--db", migrated_sqlite, "--kinds", "photos", "--json"]) == 0
    assert loopback.requests == []


def test_training_with_the_opt_in_does_fetch(
    migrated_sqlite, tmp_path, loopback, monkeypatch, capsys
):
    """The control for the test above: the same rows, loopback allowed, are fetched."""
    (tmp_path / "p.csv").write_text(
        "handle,post_id,caption,likes,image\n"
        f"ann,p1,sunny day #sun,10,http://127.1:{loopback.port}/1.jpg\n"
    )
    monkeypatch.setenv(ALLOW, "1")
    assert main(["import", "posts", str(tmp_path / "p.csv"), "--db", migrated_sqlite]) == 0
    capsys.readouterr()
    assert main(["train", "--db", migrated_sqlite, "--kinds", "photos", "--json"]) == 0
    json.loads(capsys.readouterr().out)
    paths = [p for p, _ in loopback.requests]
    assert paths and set(paths) == {"/1.jpg"}  # read to hash it (and again, to featurise)


def test_a_trickling_server_meets_the_deadline(public):
    resolve = resolver({"cdn.example": ["127.0.0.2"]})
    started = time.monotonic()
    with pytest.raises(RemoteError, match="longer than"):
        fetch_url(f"http://cdn.example:{public.port}/slow", _cdn_policy(resolve, deadline=0.5))
    assert time.monotonic() - started < 2.5  # the body alone would take 4 s
