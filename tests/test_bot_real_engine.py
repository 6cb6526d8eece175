"""The bot on the real engine: the small demo data set, imported and trained, answered
through the console (`python -m bot console`) and through the served bot. Commands whose
model is not trained yet must answer politely, never with an error id."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.bot_harness import BotServer, console_session
from tests.fake_slack import FakeSlack

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]  # served bot subprocesses


def _a_handle(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        handle = conn.execute(
            text(
                "select i.handle from influencers i join posts p on p.influencer_id = i.id "
                "where p.song_id is not null group by i.handle order by count(*) desc limit 1"
            )
        ).scalar_one()
    engine.dispose()
    return handle


def test_console_answers_every_command_on_the_demo(copy_db, shared_dir):
    handle = _a_handle(copy_db)
    lines = [
        "/scout help",
        f"/lookalike @{handle} 5 followers:1k-10m",
        "more 1",
        "/topic #food #travel:-1",
        "/hashtags #food",
        f"/songs @{handle} 5",
        "/trending 30d",
        "/digest on 08:30 Europe/Paris",
        "/digest status",
        "/digest off",
        f"upload {shared_dir / 'photos' / 'parrot.jpg'}",
        "switch",
        "upload README.md",
        "/lookalike @no_such_creator_x",
        "/nonsense",
    ]
    out = console_session(copy_db, lines, timeout=150)
    assert "Something went wrong" not in out, out
    assert f"Songs for @{handle}'s next reel\n" in out and "\n1. " in out
    assert "Trending songs, the 30 days to " in out
    assert "the console has none" in out  # a console digest is refused, not faked
    assert "is not a photo" in out
    assert "I don't know `/nonsense`" in out
    answers = out.split("scout> ")
    assert len(answers) == len(lines) + 1
    for line, answer in zip(lines, answers[1:], strict=True):
        # each command either answered or said politely what is missing
        assert answer.strip() != line, answer


def test_served_bot_on_the_real_engine(copy_db, tmp_path):
    fake = FakeSlack().start()
    server = BotServer(fake, copy_db, tmp_path / "bot.log").start()
    try:
        handle = _a_handle(copy_db)
        server.command("/songs", f"@{handle} 3", fake.response_url("songs"))
        server.command("/lookalike", f"@{handle}", fake.response_url("look"))
        songs = fake.wait_for("response_url", lambda c: c.params["key"] == "songs", 30)[0].params
        look = fake.wait_for("response_url", lambda c: c.params["key"] == "look", 30)[0].params
        assert f"Songs for @{handle}" in songs["text"] and "*1. " in json.dumps(songs["blocks"])
        assert "Something went wrong" not in look["text"]
        assert f"Creators like @{handle}" in look["text"] or "not trained yet" in look["text"]
        server.event({"type": "app_home_opened", "user": "U9", "tab": "home"}, "EvRealHome")
        view = fake.wait_for("views.publish", timeout=30)[0].params["view"]
        assert "*songs* v1, trained" in json.dumps(view)
    finally:
        server.stop()
        fake.stop()
