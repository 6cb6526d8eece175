"""`/watch` in Slack and the sources on the App Home (issue 23), dispatched in-process
into the bolt App that `bot.app.create_bot` builds (tests/test_bot_listeners.py's
style), over a real SQLite store and the fake Slack Web API on loopback: each
workspace keeps its own watchlist (the team id of the request), a bad handle is one
line that adds nothing, and the Home shows per source the last sync, creators due,
calls and quota, errors by kind and the token's state after a sync against the Graph
fake whose token expired."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import replace

import pytest

from bot.app import create_bot
from engine.bootstrap import assemble
from tests.bot_fakes import make
from tests.fake_graph import IG_USER_ID, TOKEN, FakeGraph
from tests.fake_slack import BOT_TOKEN
from tests.test_bot_listeners import SECRET, Slack, _text


class WatchSlack(Slack):
    def watch(self, text: str, key: str, team: str = "T0001") -> str:
        form = {
            "token": "legacy",
            "team_id": team,
            "channel_id": "C0001",
            "user_id": "U0001",
            "command": "/watch",
            "text": text,
            "response_url": self.fake.response_url(key),
            "trigger_id": "1.2.3",
            "api_app_id": "A0001",
        }
        resp = self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")
        assert resp.status == 200, resp.body
        return self.answer(key)


@pytest.fixture
def graph():
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def slack(fake_slack, migrated_sqlite, monkeypatch, graph):
    env = {
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SCOUT_IG_GRAPH_URL": graph.url + "/v21.0",
        "SCOUT_IG_USER_ID": IG_USER_ID,
        "SCOUT_IG_ACCESS_TOKEN": TOKEN,
        "SCOUT_SOURCE_TIMEOUT_S": "2",
        "SCOUT_DISCOVERY_PER_DAY": "0",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SCOUT_RECOMMENDER"):
        monkeypatch.delenv(name, raising=False)
    real = assemble(migrated_sqlite)
    bot = create_bot(parts=replace(real, recommender=make(real.recommender)))
    client = WatchSlack(bot, fake_slack, None)
    client.real = real
    yield client
    bot.pool.shutdown(wait=True)
    real.close()


def watched(slack, team: str) -> set[tuple[str, str, str | None]]:
    return {(e.platform, e.handle, e.added_by) for e in slack.real.admin.watchlist(team)}


def test_watch_adds_lists_and_removes_per_workspace(slack):
    assert "Watching @ana on instagram" in slack.watch("@Ana", "add1")
    assert "Watching @cooktube on youtube" in slack.watch("@cooktube youtube", "add2")
    assert "Already watching @ana" in slack.watch("add @ana", "add3")
    assert "Watching @ana on instagram" in slack.watch("@ana", "other", team="T0002")
    assert watched(slack, "T0001") == {
        ("instagram", "ana", "U0001"),
        ("youtube", "cooktube", "U0001"),
    }
    assert watched(slack, "T0002") == {("instagram", "ana", "U0001")}
    assert watched(slack, None) == set()  # the CLI's own list is untouched

    listing = slack.watch("list", "list1")
    assert "Watching 2" in listing and "@cooktube (youtube, not yet)" in listing

    assert "Stopped watching @ana" in slack.watch("remove @ana", "rm1")
    assert "I wasn't watching @ana" in slack.watch("remove @ana", "rm2")
    assert watched(slack, "T0001") == {("youtube", "cooktube", "U0001")}
    assert watched(slack, "T0002") == {("instagram", "ana", "U0001")}  # another team's


def test_a_bad_watch_is_one_line_and_adds_nothing(slack):
    bad = slack.watch("not a handle at all", "bad1")
    assert "Write it like `/watch @handle" in bad and "Traceback" not in bad
    assert "unknown platform" in slack.watch("@ana myspace", "bad2")
    assert "is not a handle" in slack.watch("@", "bad3")
    assert watched(slack, "T0001") == set()
    assert "No creators watched yet" in slack.watch("list", "empty")


def test_the_home_shows_each_source_after_a_sync(slack, graph):
    graph.add_account("ana", 4)
    graph.add_account("bo", 4)
    graph.expire_token_after(1)  # ana's call passes, then 190
    slack.watch("@ana", "h1")
    slack.watch("@bo", "h2")
    slack.watch("@cooktube youtube", "h3")
    slack.real.admin.sync()

    event = {"type": "app_home_opened", "user": "UHOME", "channel": "D0002", "tab": "home"}
    assert slack.event(event, "EvWatchHome").status == 200
    call = slack.fake.wait_for("views.publish", lambda c: c.params.get("user_id") == "UHOME")[0]
    view = call.params["view"]
    home = _text({"blocks": json.loads(view) if isinstance(view, str) else view})
    assert "Data sources" in home
    # the Home as JSON text: its line breaks are written as a backslash and n
    graph_line = next(line for line in home.split("\\n") if "*instagram_graph*" in line)
    assert "last sync never" not in graph_line and "1 of 2 due" in graph_line
    assert "token_invalid 1" in graph_line and "token invalid" in graph_line
    youtube_line = next(line for line in home.split("\\n") if "*youtube*" in line)
    assert "token missing (SCOUT_YT_API_KEY unset)" in youtube_line
    assert "quota 0/10000" in youtube_line


def test_watch_is_registered_where_slack_and_the_router_look():
    import re
    from pathlib import Path

    from bot.app import COMMANDS
    from bot.router import Scout

    manifest = (Path(__file__).resolve().parent.parent / "bot" / "manifest.yml").read_text()
    declared = re.findall(r"- command: (/\w+)", manifest)
    assert "/watch" in declared and "/watch" in COMMANDS
    assert set(declared) == set(COMMANDS)
    assert "watch" in Scout(make()).commands
