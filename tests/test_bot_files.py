"""The bot token only goes to Slack's file hosts, never to a URL an event names on another
host and never across a redirect to another host (issue 15, item 9). Real HTTP against
the fake Slack: `localhost` plays the foreign host, `127.0.0.1` the Slack one."""

from __future__ import annotations

import urllib.parse

import pytest

from bot.app import SlackBot
from bot.config import BotConfig
from engine.service import BadImage
from tests.bot_fakes import make
from tests.fake_slack import BOT_TOKEN, FakeSlack


@pytest.fixture
def fake(fake_slack):
    return fake_slack


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
