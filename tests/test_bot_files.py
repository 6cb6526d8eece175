"""The bot token only goes to Slack's file hosts, never to a URL an event names on another
host and never across a redirect to another host (issue 15, item 9); never over plain
http except to a loopback SLACK_API_URL's own origin, and never to a URL that parses two
ways (issue 29, item 9). Real HTTP against the fake Slack: `localhost` or a second fake
on another port plays the foreign host, `127.0.0.1` the Slack one."""

from __future__ import annotations

import urllib.parse

import pytest

from bot.app import SlackBot
from bot.config import BotConfig
from bot.files import Origin, UnsafeDownload, allowed_hosts, download, origin
from engine.service import BadImage
from tests.bot_fakes import make
from tests.fake_slack import BOT_TOKEN, FakeSlack


@pytest.fixture
def fake(fake_slack):
    return fake_slack


@pytest.fixture
def other():
    """A second server on the Slack host's address but another port: another origin."""
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def bot(fake):
    config = BotConfig(
        api_url=fake.api_url,
        bot_token=BOT_TOKEN,
        signing_secret="s",
        app_token=None,
        client_id=None,
        client_secret=None,
        max_upload_bytes=2 * 1024 * 1024,
        workers=2,
        recommender_factory=None,
    )
    return SlackBot(config, make())


def _file(fake: FakeSlack, url: str) -> dict:
    return {"id": "F1", "mimetype": "image/png", "size": 10, "url_private_download": url}


def test_slack_host_gets_the_token(bot, fake):
    fake.add_file("F1", "a.png", b"\x89PNG....", "image/png")
    data = bot.fetch_image(bot.app.client, fake.files["F1"])
    assert data == b"\x89PNG...."
    assert [c.token for c in fake.of("download")] == [BOT_TOKEN]


def test_foreign_host_never_sees_the_token(bot, fake):
    fake.add_file("F1", "a.png", b"\x89PNG....", "image/png")
    foreign = fake.files["F1"]["url_private_download"].replace("127.0.0.1", "localhost")
    with pytest.raises(BadImage, match="Slack's own file servers"):
        bot.fetch_image(bot.app.client, _file(fake, foreign))
    assert not [c for c in fake.of("download") if c.token]


def test_redirect_to_another_host_is_not_followed_with_the_token(bot, fake):
    fake.add_file("F1", "a.png", b"\x89PNG....", "image/png")
    foreign = fake.files["F1"]["url_private_download"].replace("127.0.0.1", "localhost")
    hop = f"{fake.url}/redirect/{urllib.parse.quote(foreign, safe='')}"
    with pytest.raises(BadImage):
        bot.fetch_image(bot.app.client, _file(fake, hop))
    assert fake.of("redirect")  # the Slack host was asked, with the token ...
    assert not [c for c in fake.of("download") if c.token]  # ... the foreign one never


def _port(fake: FakeSlack) -> int:
    return fake.server.server_address[1]


@pytest.mark.parametrize(
    "spelling",
    [
        "http://localhost:{p}\\@127.0.0.1:{p}/files-pri/F1/a.png",  # urlsplit: 127.0.0.1
        "http://127.0.0.1:{p}\\@localhost:{p}/files-pri/F1/a.png",
        "http://127.0.0.1:{p}\\files-pri/F1/a.png",
        "http://localhost:{p}@127.0.0.1:{p}/files-pri/F1/a.png",  # user info
        "http://127.0.0.1:{p}/files-pri/F1/a.png\r\nX: y",
        "http://127.0.0.1:{p}/files-pri/F1/a%20b.png\t",
        "http://127.0.0.1%3A{p}/files-pri/F1/a.png",  # urllib unquotes the host
    ],
)
def test_a_url_that_parses_two_ways_is_refused(bot, fake, spelling):
    fake.add_file("F1", "a.png", b"\x89PNG....", "image/png")
    url = spelling.format(p=_port(fake))
    with pytest.raises(BadImage, match="Slack's own file servers"):
        bot.fetch_image(bot.app.client, _file(fake, url))
    assert not fake.of("download")  # nothing asked, with or without the token


def test_another_port_on_the_slack_host_never_sees_the_token(bot, fake, other):
    other.add_file("F1", "a.png", b"\x89PNG....", "image/png")
    with pytest.raises(BadImage, match="Slack's own file servers"):
        bot.fetch_image(bot.app.client, _file(fake, other.files["F1"]["url_private_download"]))
    assert not other.calls and not fake.of("download")


def test_redirect_to_another_port_is_not_followed(bot, fake, other):
    other.add_file("F1", "a.png", b"\x89PNG....", "image/png")
    hop = f"{fake.url}/redirect/{urllib.parse.quote(other.files['F1']['url_private_download'], safe='')}"
    with pytest.raises(BadImage):
        bot.fetch_image(bot.app.client, _file(fake, hop))
    assert fake.of("redirect") and not other.calls


def test_plain_http_is_only_for_a_loopback_api_host():
    # Refused before any connection: none of these hosts exists, so an attempt to
    # connect would end in URLError, not UnsafeDownload.
    for api, url in [
        ("https://slack.com/api/", "http://files.slack.com/files-pri/T1-F1/a.png"),
        ("http://slack.example.com/api/", "http://slack.example.com/files-pri/F1/a.png"),
        ("http://10.1.2.3:8080/api/", "http://10.1.2.3:8080/files-pri/F1/a.png"),
        ("http://127.0.0.1:9/api/", "http://127.0.0.2:9/files-pri/F1/a.png"),
        ("http://127.0.0.1:9/api/", "https://127.0.0.1:9/files-pri/F1/a.png"),
    ]:
        with pytest.raises(UnsafeDownload):
            download(url, BOT_TOKEN, 100, allowed_hosts(api))
    assert Origin("https", "files.slack.com", 443) in allowed_hosts("https://slack.com/api/")
    assert Origin("https", "slack.corp.example", 8443) in allowed_hosts(
        "https://slack.corp.example:8443/api/"
    )
    assert Origin("http", "127.0.0.1", 9) in allowed_hosts("http://127.0.0.1:9/api/")
    assert Origin("http", "::1", 9) in allowed_hosts("http://[::1]:9/api/")
    assert not any(o.scheme == "http" for o in allowed_hosts("http://slack.example.com/api/"))


def test_the_same_file_on_https_default_port_is_one_origin():
    assert origin("https://FILES.slack.com:443/x") == origin("https://files.slack.com/x")
