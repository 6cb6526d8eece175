"""Slack details (issue 24), dispatched in-process into the bolt App against the loopback
fake Slack (tests/test_bot_listeners.py's harness): creator handles link to their
profile; slash answers and 'More like' clicks are ephemeral with a 'Share in channel'
button that posts the same answer to the channel once (chat.postMessage, or the
response_url where the bot may not post); a map or CSV to a channel the bot is not in
says how to invite it; `/scout help` lists every command of bot/manifest.yml."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from bot.app import COMMANDS
from bot.blocks import profile_link, to_text
from bot.router import Scout
from tests.bot_fakes import make
from tests.test_bot_listeners import slack  # noqa: F401 - the in-process bot fixture

MANIFEST = Path(__file__).resolve().parents[1] / "bot" / "manifest.yml"


def _payloads(fake, key: str) -> list[dict]:
    return [c.params for c in fake.of("response_url") if c.params["key"] == key]


def _has_action(params: dict, action_id: str) -> bool:
    blocks = params.get("blocks") or []
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return any(
        e.get("action_id") == action_id
        for b in blocks
        if b.get("type") == "actions"
        for e in b["elements"]
    )


def test_creator_handles_link_to_their_profile(slack):  # noqa: F811
    slack.command("/lookalike", "@ana 3", "links")
    answer = slack.answer("links")
    assert "<https://www.instagram.com/bob/|@bob>" in answer, answer


def test_profile_links_follow_the_platform_and_cannot_break_out():
    assert profile_link("@kai", "tiktok") == "<https://www.tiktok.com/@kai|@kai>"
    assert profile_link("kai", "YouTube") == "<https://www.youtube.com/@kai|@kai>"
    assert profile_link("kai") == "<https://www.instagram.com/kai/|@kai>"
    odd = profile_link("a|b>c", "instagram")
    assert odd == "<https://www.instagram.com/a%7Cb%3Ec/|@a|b&gt;c>"
    assert to_text([{"type": "section", "text": {"text": profile_link("kai")}}]) == "@kai"


def _share_value(params: dict) -> str:
    blocks = (
        params["blocks"] if isinstance(params["blocks"], list) else json.loads(params["blocks"])
    )
    return next(e["value"] for b in blocks if b.get("block_id") == "share" for e in b["elements"])


def test_a_slash_answer_is_ephemeral_and_shared_once_to_the_channel(slack):  # noqa: F811
    slack.command("/lookalike", "@ana 3", "explore", channel="CSHARE")
    slack.answer("explore")
    first = _payloads(slack.fake, "explore")[-1]
    assert first["response_type"] == "ephemeral" and _has_action(first, "share_answer")
    value = _share_value(first)
    for _ in range(2):  # a double click
        assert slack.action("share_answer", value, "share", channel="CSHARE").status == 200
    # the bot posts it itself (a ts, so its thread remembers it: tests/test_threads.py)
    slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "CSHARE", 10)
    time.sleep(1.0)  # room for a second post, which must not come
    shared = [c.params for c in slack.posts("CSHARE")]
    assert len(shared) == 1, shared
    assert "thread_ts" not in shared[0]  # a message of its own in the channel
    text = shared[0]["text"] + json.dumps(shared[0]["blocks"])
    assert "@bob" in text and "Shared by <@U0001>" in text
    assert not _has_action(shared[0], "share_answer")
    assert _payloads(slack.fake, "share") == []  # nothing through the response_url


def test_a_share_where_the_bot_may_not_post_goes_through_the_response_url(slack):  # noqa: F811
    slack.fake.gone_channels.add("CPRIVATE")  # chat.postMessage: not_in_channel
    slack.command("/lookalike", "@ana 2", "private-explore", channel="CPRIVATE")
    slack.answer("private-explore")
    value = _share_value(_payloads(slack.fake, "private-explore")[-1])
    slack.action("share_answer", value, "private-share", channel="CPRIVATE")
    said = slack.answer("private-share")
    shared = _payloads(slack.fake, "private-share")[-1]
    assert shared["response_type"] == "in_channel" and shared["replace_original"] is False
    assert "@bob" in said and "Shared by <@U0001>" in said


def test_more_like_answers_the_clicker_privately_with_a_share_button(slack):  # noqa: F811
    slack.action("more_like", "cat", "more-private", channel="CMORE")
    assert "Creators like @cat" in slack.answer("more-private")
    said = _payloads(slack.fake, "more-private")[-1]
    assert said["response_type"] == "ephemeral" and said["replace_original"] is False
    assert json.loads(_share_value(said)) == {"c": "lookalike", "t": "@cat"}
    slack.action("share_answer", _share_value(said), "more-share", channel="CMORE")
    post = slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("channel") == "CMORE")
    assert "Creators like @cat" in post[0].params["text"]
    slack.action("more_like", "nobody", "more-unknown")  # an error: private, no share
    assert "I don't know @nobody" in slack.answer("more-unknown")
    unknown = _payloads(slack.fake, "more-unknown")[-1]
    assert unknown["response_type"] == "ephemeral" and not _has_action(unknown, "share_answer")


def test_errors_and_help_stay_private_without_a_share_button(slack):  # noqa: F811
    slack.command("/lookalike", "@nobody", "private-error")
    slack.command("/scout", "help", "private-help")
    for key in ("private-error", "private-help"):
        slack.answer(key)
        params = _payloads(slack.fake, key)[-1]
        assert params["response_type"] == "ephemeral" and not _has_action(params, "share_answer")


@pytest.mark.parametrize("refusal", ["gone_channels", "missing_channels"])
def test_a_file_to_a_channel_without_the_bot_says_how_to_invite_it(slack, refusal):  # noqa: F811
    getattr(slack.fake, refusal).add("COUT")
    value = json.dumps({"k": "lookalike", "q": "@ana 2"})
    slack.action("export_csv", value, f"csv-{refusal}", channel="COUT")
    assert "/invite @Scout" in slack.answer(f"csv-{refusal}")
    slack.command("/map", "@ana", f"map-{refusal}", channel="COUT")
    answer = slack.answer(f"map-{refusal}")
    assert "/invite @Scout" in answer and "not in this channel" in answer


def test_help_lists_every_command_of_the_manifest():
    listed = re.findall(r"^\s*- command: (/\w+)\s*$", MANIFEST.read_text(), re.M)
    assert len(listed) >= 10
    assert sorted(listed) == sorted(COMMANDS)  # the bot listens to exactly those
    help_text = Scout(make()).command("scout", "help").text
    missing = [c for c in listed if f"`{c}" not in help_text]
    assert not missing, missing
