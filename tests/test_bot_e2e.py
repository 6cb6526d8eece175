"""End to end over real HTTP on loopback: the real bot (`python -m bot serve`, gunicorn)
talks to a fake Slack Web API; we send it signed requests the way Slack does. The
engine is tests.bot_fakes (canned answers, a slow handle, a crashing one) so these
tests check Slack behaviour; test_bot_real_engine.py runs the real engine."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, text

from tests.bot_harness import REPO, BotServer, http
from tests.fake_slack import BOT_TOKEN, CLIENT_ID, CLIENT_SECRET, FakeSlack

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # served bot subprocesses


@pytest.fixture(scope="module")
def fake():
    f = FakeSlack().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def db_url(tmp_path_factory) -> str:
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('bot') / 'bot.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def bot(fake, db_url, tmp_path_factory):
    server = BotServer(
        fake,
        db_url,
        tmp_path_factory.mktemp("log") / "bot.log",
        SCOUT_RECOMMENDER="tests.bot_fakes:make",
        SCOUT_MAX_UPLOAD_MB="2",
    ).start()
    yield server
    server.stop()


def _blocks_text(params: dict) -> str:
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return params.get("text", "") + json.dumps(blocks or [], ensure_ascii=False)


def _answer(fake: FakeSlack, key: str, timeout: float = 10) -> str:
    call = fake.wait_for("response_url", lambda c: c.params["key"] == key, timeout)[0]
    return _blocks_text(call.params)


def _update_of(fake: FakeSlack, post):
    """The chat.update that replaced a 'working…' chat.postMessage."""
    ts = post.result["ts"]
    return fake.wait_for("chat.update", lambda c: c.params.get("ts") == ts)[0]


COMMANDS = [
    (
        "/lookalike",
        "@ana 3 followers:10k-100k er:>2",
        ["Creators like @ana", "@bob", "More like #1", "shares #food"],
    ),
    ("/topic", "#cats #dogs:-1", ["#kitten", "hashtag model is not trained yet"]),
    ("/hashtags", "#cats", ["#kitten #pets #meow"]),
    ("/songs", "@bob", ["Song One", "used by 3 creators like @bob"]),
    ("/trending", "7d", ["Rising Song", "+12 reels in 7 days"]),
    ("/digest", "on 07:15 Europe/Paris", ["07:15 Europe/Paris"]),
    ("/digest", "status", ["Daily digest here at *07:15 Europe/Paris*"]),
    ("/digest", "off", ["turned off"]),
    ("/scout", "help", ["/lookalike @handle"]),
    ("/scout", "frobnicate", ["I don't know `frobnicate`", "/songs @handle"]),
    ("/lookalike", "@nobody", ["I don't know @nobody. Did you mean @ana?"]),
    ("/lookalike", "@ana followers:lots", ["is not a range"]),
]


@pytest.mark.parametrize(
    ("command", "text", "expected"), COMMANDS, ids=[f"{c} {t}" for c, t, _ in COMMANDS]
)
def test_every_command_acks_then_answers(bot, fake, command, text, expected):
    key = re.sub(r"\W", "_", f"{command}-{text}")
    resp = bot.command(command, text, fake.response_url(key))
    assert resp.status == 200, resp.body
    assert resp.seconds < 3
    assert "Working on" in resp.body
    answer = _answer(fake, key)
    for piece in expected:
        assert piece in answer, answer


def test_engine_crash_is_a_short_message_and_tokens_stay_out_of_logs(bot, fake):
    bot.command("/lookalike", "@boom", fake.response_url("boom"))
    answer = _answer(fake, "boom")
    assert "Something went wrong on my side" in answer
    assert "Traceback" not in answer and "xoxb" not in answer
    time.sleep(0.3)
    log = bot.log()
    assert "engine exploded" in log  # the error is logged ...
    assert "xoxb-secret-should-not-leak" not in log  # ... without the token
    assert BOT_TOKEN not in log


def test_slow_engine_still_acks_under_3s(bot, fake):
    slow = bot.command("/lookalike", "@slowpoke", fake.response_url("slow"))
    fast = bot.command("/songs", "@bob", fake.response_url("fast-during-slow"))
    assert slow.status == 200 and slow.seconds < 3, slow
    assert fast.status == 200 and fast.seconds < 3
    assert "Song One" in _answer(
        fake, "fast-during-slow", timeout=3
    )  # not queued behind the slow one
    assert "Creators like @slowpoke" in _answer(fake, "slow", timeout=15)


def test_real_jpeg_upload_in_dm_answers_in_thread(bot, fake, shared_dir):
    data = (shared_dir / "photos" / "parrot.jpg").read_bytes()
    fake.add_file("FJPEG", "parrot.jpg", data, "image/jpeg")
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "D0001",
        "channel_type": "im",
        "user": "U0001",
        "text": "",
        "ts": "1700000100.000100",
        "files": [{"id": "FJPEG"}],
    }
    assert bot.event(event, "EvPhoto1").status == 200
    post = fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000100.000100"
    )[0]
    assert "Looking at your photo" in post.params["text"]
    answer = _update_of(fake, post)
    body = _blocks_text(answer.params)
    assert "#cat #cute #pets" in body and "JPEG" in body  # the real bytes reached the engine
    assert "Switch to optimised for likes" in body
    downloads = [c for c in fake.of("download") if c.params["file"] == "FJPEG"]
    assert downloads and all(c.token == BOT_TOKEN for c in downloads)
    assert any(c.params.get("file") == "FJPEG" for c in fake.of("files.info"))

    # the mode button re-renders the same message, optimised for likes
    value = json.dumps({"f": "FJPEG", "m": "likes"})
    assert (
        bot.action(
            "photo_mode",
            value,
            fake.response_url("pm"),
            message_ts=answer.params["ts"],
            channel_id="D0001",
        ).status
        == 200
    )
    upd = fake.wait_for(
        "chat.update", lambda c: "photo (optimised for likes)" in _blocks_text(c.params)
    )[0]
    assert "#likeme #cat #viral" in _blocks_text(upd.params)


def test_mention_with_non_image_or_big_file_is_refused_politely(bot, fake):
    fake.add_file("FPDF", "deck.pdf", b"%PDF-1.4", "application/pdf")
    info = fake.add_file("FBIG", "huge.jpg", b"\xff\xd8" + b"0" * 100, "image/jpeg")
    info["size"] = 50 * 1024 * 1024
    for fid, ts in (("FPDF", "1700000200.000001"), ("FBIG", "1700000200.000002")):
        event = {
            "type": "app_mention",
            "channel": "C0001",
            "user": "U0001",
            "text": "<@UBOT> tags?",
            "ts": ts,
            "files": [{"id": fid}],
        }
        assert bot.event(event, f"Ev{fid}").status == 200
    pdf = fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000200.000001"
    )[0]
    big = fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000200.000002"
    )[0]
    pdf, big = _update_of(fake, pdf), _update_of(fake, big)
    assert "is not a photo" in _blocks_text(pdf.params)
    assert "52.4 MB" in _blocks_text(big.params) and "up to 2 MB" in _blocks_text(big.params)
    assert not [c for c in fake.of("download") if c.params["file"] in ("FPDF", "FBIG")]


def test_channel_photo_mentioning_the_bot_is_answered_once(bot, fake, shared_dir):
    """Slack may deliver the same message as app_mention and as message.channels."""
    fake.add_file("FOWL", "owl.jpg", (shared_dir / "photos" / "owl.jpg").read_bytes(), "image/jpeg")
    base = {
        "channel": "CPHOTO",
        "user": "U0001",
        "text": "<@UBOT> tags please",
        "ts": "1700000250.000001",
        "files": [{"id": "FOWL"}],
    }
    bot.event({**base, "type": "app_mention"}, "EvOwlMention")
    bot.event(
        {**base, "type": "message", "subtype": "file_share", "channel_type": "channel"}, "EvOwlMsg"
    )
    bot.event(
        {
            **base,
            "type": "message",
            "channel_type": "channel",
            "ts": "1700000250.000002",
            "text": "no mention here",
        },
        "EvOwlOther",
    )
    post = fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "CPHOTO")[0]
    assert "#cat #cute #pets" in _blocks_text(_update_of(fake, post).params)
    time.sleep(1.0)
    assert len([c for c in fake.of("chat.postMessage") if c.params.get("channel") == "CPHOTO"]) == 1


def test_buttons_more_like_and_votes(bot, fake, db_url):
    assert bot.action("more_like", "cat", fake.response_url("more")).status == 200
    assert "Creators like @cat" in _answer(fake, "more")
    vote = json.dumps({"k": "lookalike", "q": "@ana 3", "i": "bob"})
    bot.action("vote_down", vote, fake.response_url("vote"))
    assert "noted 👎 for bob" in _answer(fake, "vote")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("select kind, item_id, vote, user_id from feedback")).all()
    engine.dispose()
    assert ("lookalike", "bob", -1, "U0001") in [tuple(r) for r in rows]


def test_csv_button_uploads_the_results_as_a_file(bot, fake):
    value = json.dumps({"k": "lookalike", "q": "@ana 2"})
    assert (
        bot.action("export_csv", value, fake.response_url("csv"), channel_id="CCSV").status == 200
    )
    done = fake.wait_for(
        "files.completeUploadExternal", lambda c: c.params.get("channel_id") == "CCSV"
    )[0]
    files = done.params["files"]
    file_id = (json.loads(files) if isinstance(files, str) else files)[0]["id"]
    assert done.token == BOT_TOKEN
    content = fake.uploads[file_id].decode()
    assert "rank,handle,score,followers,er_percent,why" in content
    assert "1,bob,0.9000,12000,2.5,shares #food #travel with @ana" in content
    assert fake.of("files.getUploadURLExternal")[-1].params["filename"] == "lookalike-ana.csv"


def test_map_uploads_a_png_and_topics_lists(bot, fake):
    assert bot.command("/map", "@ana 50", fake.response_url("map"), channel_id="CMAP").status == 200
    done = fake.wait_for(
        "files.completeUploadExternal", lambda c: c.params.get("channel_id") == "CMAP"
    )[0]
    files = done.params["files"]
    file_id = (json.loads(files) if isinstance(files, str) else files)[0]["id"]
    assert fake.uploads[file_id][:8] == b"\x89PNG\r\n\x1a\n"
    assert fake.of("files.getUploadURLExternal")[-1].params["filename"] == "map-ana.png"
    assert "Map of @ana and its 50 nearest creators" in _answer(fake, "map")
    bot.command("/map", "@nobody", fake.response_url("map-unknown"))
    assert "Did you mean @ana" in _answer(fake, "map-unknown")
    bot.command("/topics", "", fake.response_url("topics"))
    assert "food · recipe" in _answer(fake, "topics")


def test_app_home_shows_subscriptions_and_model_freshness(bot, fake):
    bot.command("/digest", "on 06:00 Asia/Tokyo", fake.response_url("home-sub"), channel_id="CHOME")
    _answer(fake, "home-sub")
    event = {"type": "app_home_opened", "user": "UHOME", "channel": "D0002", "tab": "home"}
    assert bot.event(event, "EvHome1").status == 200
    call = fake.wait_for("views.publish", lambda c: c.params.get("user_id") == "UHOME")[0]
    view = call.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    body = json.dumps(view)
    assert view["type"] == "home"
    assert "<#CHOME> at 06:00 Asia/Tokyo" in body
    assert "*songs* v2, trained 2026-11-22 04:00 UTC on 300 influencers, 4,000 posts" in body


def test_bad_signature_and_stale_timestamp_are_401(bot, fake):
    body = b"command=%2Fscout&text=help&team_id=T0001&response_url=http%3A%2F%2Fx"
    forged = bot.post(
        body, "application/x-www-form-urlencoded", headers={"X-Slack-Signature": "v0=" + "0" * 64}
    )
    stale = bot.post(body, "application/x-www-form-urlencoded", ts=int(time.time()) - 6 * 60)
    unsigned = bot.post(body, "application/x-www-form-urlencoded", signed=False)
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)


def test_retried_event_is_answered_once(bot, fake):
    event = {
        "type": "message",
        "channel": "D0003",
        "channel_type": "im",
        "user": "U0001",
        "text": "/songs @ana",
        "ts": "1700000300.000001",
    }
    first = bot.event(event, "EvRetry1")
    again = bot.event(event, "EvRetry1")  # same event_id
    retry = bot.event(  # Slack retries with the same event_id
        event,
        "EvRetry1",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert (first.status, again.status, retry.status) == (200, 200, 200)
    fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0003")
    time.sleep(1.0)
    assert len([c for c in fake.of("chat.postMessage") if c.params.get("channel") == "D0003"]) == 1


def test_web_api_429_is_retried_after_retry_after(bot, fake):
    fake.rate_limit("chat.postMessage", 1)
    event = {
        "type": "message",
        "channel": "D0004",
        "channel_type": "im",
        "user": "U0001",
        "text": "trending 7d",
        "ts": "1700000400.000001",
    }
    bot.event(event, "EvRate1")
    calls = fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == "D0004", count=2, timeout=15
    )
    assert len(calls) == 2
    assert calls[1].at - calls[0].at >= 0.9  # waited for Retry-After: 1
    assert "Rising Song" in _blocks_text(calls[1].params)


# ------------------------------------------------------------------- digests
def _clock(fake: FakeSlack, db_url: str, now: str) -> subprocess.Popen:
    env = {
        "SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "DATABASE_URL": db_url,
        "SCOUT_RECOMMENDER": "tests.bot_fakes:make",
        "PYTHONPATH": str(REPO),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "clock", "--once", "--no-train", "--now", now],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_digest_is_sent_once_across_reruns_restarts_and_overlapping_clocks(bot, fake, db_url):
    bot.command(
        "/digest", "on 09:30 Europe/Paris", fake.response_url("dig-on"), channel_id="CDIGEST"
    )
    assert "09:30 Europe/Paris" in _answer(fake, "dig-on")
    # 08:00 UTC is 09:00 in Paris (winter): not due yet
    early = _clock(fake, db_url, "2026-11-23T08:00")
    assert early.wait(60) == 0, early.stdout.read()
    assert not [c for c in fake.of("chat.postMessage") if c.params.get("channel") == "CDIGEST"]
    # 08:45 UTC: due. Two clocks at once, then the same minute again, then a "restart" later that day
    procs = [_clock(fake, db_url, "2026-11-23T08:45") for _ in range(2)]
    assert [p.wait(60) for p in procs] == [0, 0], [p.stdout.read() for p in procs]
    for now in ("2026-11-23T08:45", "2026-11-23T15:00"):
        p = _clock(fake, db_url, now)
        assert p.wait(60) == 0, p.stdout.read()
    posts = [c for c in fake.of("chat.postMessage") if c.params.get("channel") == "CDIGEST"]
    assert len(posts) == 1, posts
    assert "Daily digest: trending songs" in _blocks_text(posts[0].params)
    # the next local day sends again
    p = _clock(fake, db_url, "2026-11-24T09:00")
    assert p.wait(60) == 0
    assert (
        len([c for c in fake.of("chat.postMessage") if c.params.get("channel") == "CDIGEST"]) == 2
    )


def test_digest_to_a_channel_that_removed_the_bot_disables_it(bot, fake, db_url):
    bot.command("/digest", "on 00:00 UTC", fake.response_url("gone-on"), channel_id="CGONE")
    _answer(fake, "gone-on")
    fake.gone_channels.add("CGONE")
    p = _clock(fake, db_url, "2026-11-23T12:00")
    out, _ = p.communicate(timeout=60)
    assert "not_in_channel" in out
    bot.command("/digest", "status", fake.response_url("gone-status"), channel_id="CGONE")
    assert "is off (Slack said not_in_channel" in _answer(fake, "gone-status")


# --------------------------------------------------------------------- OAuth
def test_oauth_install_then_commands_use_the_installed_token(fake, db_url, tmp_path):
    server = BotServer(
        fake,
        db_url,
        tmp_path / "oauth.log",
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SCOUT_RECOMMENDER="tests.bot_fakes:make",
    ).start()
    try:
        page = http(server.url + "/slack/install")
        assert page.status == 200 and "slack.com/oauth/v2/authorize" in page.body
        state = page.body.split("state=")[1].split("&")[0].split('"')[0]
        cookie = {k.lower(): v for k, v in page.headers.items()}["set-cookie"].split(";")[0]
        done = http(
            f"{server.url}/slack/oauth_redirect?code=abc&state={state}", headers={"Cookie": cookie}
        )
        assert done.status == 200, done.body
        access = fake.of("oauth.v2.access")
        assert access and access[-1].params["code"] == "abc"
        engine = create_engine(db_url)
        with engine.connect() as conn:
            bots = conn.execute(text("select team_id, bot_token from slack_bots")).all()
        engine.dispose()
        assert ("T0002", "xoxb-installed-abc") in [tuple(b) for b in bots]

        bad_state = http(
            f"{server.url}/slack/oauth_redirect?code=abc&state=forged", headers={"Cookie": cookie}
        )
        assert bad_state.status >= 400

        event = {
            "type": "message",
            "channel": "D0900",
            "channel_type": "im",
            "user": "U0002",
            "text": "help",
            "ts": "1700000900.000001",
        }
        assert server.event(event, "EvOauth1", team_id="T0002").status == 200
        post = fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "D0900")[0]
        assert post.token == "xoxb-installed-abc"
    finally:
        server.stop()
    assert "xoxb-installed-abc" not in (tmp_path / "oauth.log").read_text()


def test_socket_mode_opens_its_connection_through_slack_api_url(fake, db_url):
    """`python -m bot socket` asks apps.connections.open (at SLACK_API_URL, with the app
    token); the fake refuses the app token, so the process stops with the reason logged."""
    env = {
        "SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-fake-app-token",
        "DATABASE_URL": db_url,
        "SCOUT_RECOMMENDER": "tests.bot_fakes:make",
        "PYTHONPATH": str(REPO),
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "socket"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    opened = fake.of("apps.connections.open")
    assert opened and opened[-1].token == "xapp-1-fake-app-token"
    assert proc.returncode != 0 and "invalid_auth" in proc.stderr
    assert "xapp-1-fake-app-token" not in proc.stdout + proc.stderr
