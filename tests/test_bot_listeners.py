"""The bot's listeners in-process: Slack requests dispatched straight into the bolt App
that `bot.app.create_bot` builds (`app.dispatch(BoltRequest(...))`), signed with the
secret it was built with, against a real SQLite store and the local fake Slack Web API
over real HTTP (answers, posts, uploads). What needs no server is checked here in a
second or two: command answers, ack content, signature rejection, retry dedupe, the
buttons and photo listeners. test_bot_e2e.py and test_bot_resilience.py keep running
the real served bot (gunicorn) for what only a real server shows."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import time
import urllib.parse
from dataclasses import replace
from typing import Any

import pytest
from slack_bolt.request import BoltRequest
from sqlalchemy import create_engine, text

from bot.app import create_bot
from engine.bootstrap import assemble
from tests.bot_fakes import make
from tests.fake_slack import BOT_TOKEN, FakeSlack

SECRET = "in-process-signing-secret"


def _sign(body: str, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 request signature over `v0:{timestamp}:{body}`."""
    ts = int(time.time()) if ts is None else ts
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": str(ts), "x-slack-signature": f"v0={digest}"}


class Slack:
    """Sends what Slack sends, as bolt receives it, to one in-process bot."""

    def __init__(self, bot, fake: FakeSlack, engine) -> None:
        self.bot, self.fake, self.engine = bot, fake, engine

    def post(self, body: str, content_type: str, headers: dict[str, str] | None = None):
        all_headers = {"content-type": content_type, **_sign(body), **(headers or {})}
        started = time.perf_counter()
        resp = self.bot.app.dispatch(BoltRequest(body=body, headers=all_headers))
        resp.seconds = time.perf_counter() - started
        return resp

    def command(self, command: str, text: str, key: str, channel: str = "C0001", **kw):
        form = {
            "token": "legacy",
            "team_id": "T0001",
            "channel_id": channel,
            "user_id": "U0001",
            "command": command,
            "text": text,
            "response_url": self.fake.response_url(key),
            "trigger_id": "1.2.3",
            "api_app_id": "A0001",
        }
        return self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded", **kw)

    def event(self, event: dict[str, Any], event_id: str, **kw):
        body = {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event": event,
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        }
        return self.post(json.dumps(body), "application/json", **kw)

    def action(self, action_id: str, value: str, key: str, channel: str = "C0001", **kw):
        payload = {
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": "U0001"},
            "api_app_id": "A0001",
            "channel": {"id": channel},
            "trigger_id": "1.2.3",
            "message": {"ts": kw.pop("message_ts", "1.1"), "text": "x"},
            "container": {"type": "message"},
            "response_url": self.fake.response_url(key),
            "actions": [
                {"action_id": action_id, "block_id": "b", "value": value, "type": "button"}
            ],
        }
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    # ------------------------------------------------------------ answers
    def answer(self, key: str, timeout: float = 10) -> str:
        call = self.fake.wait_for("response_url", lambda c: c.params["key"] == key, timeout)[0]
        return _text(call.params)

    def posts(self, channel: str) -> list:
        return [c for c in self.fake.of("chat.postMessage") if c.params.get("channel") == channel]


def _text(params: dict[str, Any]) -> str:
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return params.get("text", "") + json.dumps(blocks or [], ensure_ascii=False)


@pytest.fixture
def slack(fake_slack, migrated_sqlite, monkeypatch):
    """A bot built by create_bot as every mode builds it (settings from the environment),
    its engine the canned tests.bot_fakes over the real store (digests, feedback, event
    dedupe, the answer outbox)."""
    for name, value in {
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SCOUT_MAX_UPLOAD_MB": "2",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SCOUT_RECOMMENDER"):
        monkeypatch.delenv(name, raising=False)
    real = assemble(migrated_sqlite)
    engine = make(real.recommender)
    bot = create_bot(parts=replace(real, recommender=engine))
    yield Slack(bot, fake_slack, engine)
    bot.pool.shutdown(wait=True)
    real.close()


COMMANDS = [
    ("/lookalike", "@ana 3 followers:10k-100k er:>2", ["Creators like @ana", "@bob"]),
    ("/topic", "#cats #dogs:-1", ["hashtag model is not trained yet"]),
    ("/hashtags", "#cats", ["#kitten #pets #meow"]),
    ("/songs", "@bob", ["Song One", "used by 3 creators like @bob"]),
    ("/trending", "7d", ["Rising Song", "+12 reels in 7 days"]),
    ("/scout", "help", ["/lookalike @handle"]),
    ("/scout", "frobnicate", ["I don't know `frobnicate`"]),
    ("/lookalike", "@nobody", ["I don't know @nobody. Did you mean @ana?"]),
    ("/lookalike", "@ana followers:lots", ["is not a range"]),
]


@pytest.mark.parametrize(("command", "query", "expected"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_command_acks_what_it_works_on_then_answers(slack, command, query, expected):
    key = re.sub(r"\W", "_", f"{command}-{query}")
    resp = slack.command(command, query, key)
    assert resp.status == 200, resp.body
    ack = json.loads(resp.body)
    assert ack["response_type"] == "ephemeral"
    # what the user typed is echoed as text, escaped as Slack needs (`>` shows as >)
    assert ack["text"] == f"Working on `{command} {query}`…".replace(">", "&gt;")
    answer = slack.answer(key)
    for piece in expected:
        assert piece in answer, answer


def test_the_lookalike_filters_reach_the_engine_parsed(slack):
    slack.command("/lookalike", "@ana 3 followers:10k-100k", "filters")
    slack.answer("filters")
    calls = [c for c in slack.engine.calls if c[0] == "lookalike"]
    assert calls and calls[-1][1:3] == ("ana", 3)
    assert calls[-1][3] is not None  # the range became a filter, not part of the handle


@pytest.mark.slow  # waits out real send timeouts (3-4 s)
def test_a_slow_engine_never_delays_the_ack(slack):
    resp = slack.command("/lookalike", "@slowpoke", "slow")
    assert resp.status == 200 and resp.seconds < 1.0, resp.seconds
    assert "Working on `/lookalike @slowpoke`" in resp.body
    fast = slack.command("/songs", "@bob", "fast")
    assert "Song One" in slack.answer("fast", timeout=3)  # not queued behind the slow one
    assert fast.seconds < 1.0
    assert "Creators like @slowpoke" in slack.answer("slow", timeout=15)


def test_an_engine_crash_is_a_short_message(slack):
    slack.command("/lookalike", "@boom", "boom")
    answer = slack.answer("boom")
    assert "Something went wrong on my side" in answer
    assert "Traceback" not in answer and "xoxb" not in answer


def test_forged_stale_and_unsigned_requests_are_refused_and_run_nothing(slack):
    body = urllib.parse.urlencode(
        {"command": "/scout", "text": "help", "team_id": "T0001", "response_url": "http://x"}
    )
    ctype = {"content-type": "application/x-www-form-urlencoded"}
    forged = {**ctype, **_sign(body, secret="someone-else")}
    stale = {**ctype, **_sign(body, ts=int(time.time()) - 6 * 60)}
    for headers in (forged, stale, ctype):
        resp = slack.bot.app.dispatch(BoltRequest(body=body, headers=headers))
        assert resp.status == 401, (headers, resp.body)
    good = slack.command("/scout", "help", "signed")
    assert good.status == 200 and "Working on" in good.body
    slack.answer("signed")
    assert [c.params["key"] for c in slack.fake.of("response_url")] == ["signed"]


def _dm(channel: str, ts: str, text: str = "/songs @ana") -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": "U0001",
        "text": text,
        "ts": ts,
    }


def test_a_retried_event_is_answered_once(slack):
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    for headers in (None, None, retry):
        assert (
            slack.event(_dm("D0003", "1700000300.000001"), "EvRetry1", headers=headers).status
            == 200
        )
    slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0003")
    time.sleep(0.5)
    posts = slack.posts("D0003")
    assert len(posts) == 1
    assert posts[0].params["thread_ts"] == "1700000300.000001"
    assert "Song One" in _text(posts[0].params)


def test_a_retry_whose_first_delivery_was_lost_is_answered(slack):
    retry = {"x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout"}
    assert slack.event(_dm("DLOST", "1.000001"), "EvLost", headers=retry).status == 200
    slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "DLOST")
    assert slack.event(_dm("DLOST", "1.000001"), "EvLost", headers=retry).status == 200
    time.sleep(0.5)
    assert len(slack.posts("DLOST")) == 1


def test_a_direct_message_is_answered_in_its_thread_and_bots_are_ignored(slack):
    slack.event(_dm("DHELP", "1700000500.000001", "help"), "EvHelp")
    slack.event({**_dm("DBOT", "1700000500.000002", "help"), "bot_id": "B1"}, "EvBot")
    post = slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "DHELP")[0]
    assert post.params["thread_ts"] == "1700000500.000001" and post.token == BOT_TOKEN
    assert "/lookalike @handle" in _text(post.params)
    time.sleep(0.5)
    assert slack.posts("DBOT") == []


def test_more_like_and_votes_are_answered_and_votes_are_stored(slack, migrated_sqlite):
    assert slack.action("more_like", "cat", "more").status == 200
    assert "Creators like @cat" in slack.answer("more")
    vote = json.dumps({"k": "lookalike", "q": "@ana 3", "i": "bob"})
    slack.action("vote_down", vote, "vote")
    assert "noted 👎 for bob" in slack.answer("vote")
    slack.action("vote_up", "{not json", "bad-vote")
    assert "noted" not in slack.answer("bad-vote")
    engine = create_engine(migrated_sqlite)
    with engine.connect() as conn:
        rows = conn.execute(text("select kind, item_id, vote, user_id from feedback")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("lookalike", "bob", -1, "U0001")]


def test_the_csv_button_uploads_the_results(slack):
    value = json.dumps({"k": "lookalike", "q": "@ana 2"})
    assert slack.action("export_csv", value, "csv", channel="CCSV").status == 200
    done = slack.fake.wait_for(
        "files.completeUploadExternal", lambda c: c.params.get("channel_id") == "CCSV"
    )[0]
    files = done.params["files"]
    file_id = (json.loads(files) if isinstance(files, str) else files)[0]["id"]
    content = slack.fake.uploads[file_id].decode()
    assert content.startswith("rank,handle,score,followers,er_percent,why")
    assert "1,bob,0.9000,12000,2.5,shares #food #travel with @ana" in content


def test_digest_subscription_round_trip_in_the_store(slack):
    slack.command("/digest", "on 07:15 Europe/Paris", "on", channel="CDIG")
    assert "07:15 Europe/Paris" in slack.answer("on")
    slack.command("/digest", "status", "status", channel="CDIG")
    assert "Daily digest here at *07:15 Europe/Paris*" in slack.answer("status")
    slack.command("/digest", "off", "off", channel="CDIG")
    assert "turned off" in slack.answer("off")
    slack.command("/digest", "status", "status-after", channel="CDIG")
    assert "07:15" not in slack.answer("status-after")


def _jpeg(size: tuple[int, int] = (24, 16)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def test_a_photo_in_a_dm_is_downloaded_with_the_token_and_answered_in_place(slack):
    slack.fake.add_file("FJPEG", "blue.jpg", _jpeg(), "image/jpeg")
    event = {**_dm("D0001", "1700000100.000100", ""), "subtype": "file_share"}
    assert slack.event({**event, "files": [{"id": "FJPEG"}]}, "EvPhoto1").status == 200
    post = slack.fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000100.000100"
    )[0]
    assert "Looking at your photo" in post.params["text"]
    ts = post.result["ts"]
    update = slack.fake.wait_for("chat.update", lambda c: c.params.get("ts") == ts)[0]
    assert "#cat #cute #pets" in _text(update.params) and "24x16 JPEG" in _text(update.params)
    downloads = [c for c in slack.fake.of("download") if c.params["file"] == "FJPEG"]
    assert downloads and all(c.token == BOT_TOKEN for c in downloads)


def test_a_channel_photo_mentioning_the_bot_is_answered_once(slack):
    slack.fake.add_file("FOWL", "owl.jpg", _jpeg(), "image/jpeg")
    base = {
        "channel": "CPHOTO",
        "user": "U0001",
        "text": "<@UBOT> tags please",
        "ts": "1700000250.000001",
        "files": [{"id": "FOWL"}],
    }
    slack.event({**base, "type": "app_mention"}, "EvOwlMention")
    slack.event(
        {**base, "type": "message", "subtype": "file_share", "channel_type": "channel"}, "EvOwlMsg"
    )
    unmentioned = {**base, "type": "message", "channel_type": "channel", "text": "no mention"}
    slack.event({**unmentioned, "ts": "1700000250.000002"}, "EvOwlOther")
    slack.fake.wait_for("chat.update", lambda c: c.params.get("channel") == "CPHOTO")
    time.sleep(0.5)
    assert len(slack.posts("CPHOTO")) == 1


def test_a_file_that_is_no_photo_or_too_big_is_refused_without_downloading(slack):
    slack.fake.add_file("FPDF", "deck.pdf", b"%PDF-1.4", "application/pdf")
    big = slack.fake.add_file("FBIG", "huge.jpg", b"\xff\xd8" + b"0" * 100, "image/jpeg")
    big["size"] = 50 * 1024 * 1024
    for fid, ts in (("FPDF", "1700000200.000001"), ("FBIG", "1700000200.000002")):
        event = {"type": "app_mention", "channel": "C0001", "user": "U0001", "ts": ts}
        slack.event({**event, "text": "<@UBOT> tags?", "files": [{"id": fid}]}, f"Ev{fid}")
    updates = slack.fake.wait_for(
        "chat.update", lambda c: c.params.get("channel") == "C0001", count=2
    )
    said = " ".join(_text(c.params) for c in updates)
    assert "`deck.pdf` is not a photo" in said
    assert "52.4 MB" in said and "up to 2 MB" in said
    assert not [c for c in slack.fake.of("download") if c.params["file"] in ("FPDF", "FBIG")]


def test_app_home_lists_model_freshness(slack):
    event = {"type": "app_home_opened", "user": "UHOME", "channel": "D0002", "tab": "home"}
    assert slack.event(event, "EvHome1").status == 200
    call = slack.fake.wait_for("views.publish", lambda c: c.params.get("user_id") == "UHOME")[0]
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    assert "*songs* v2, trained 2026-11-22 04:00 UTC" in json.dumps(view, ensure_ascii=False)
