"""Slack details (issue 24), dispatched in-process into the bolt App against the loopback
fake Slack (tests/test_bot_listeners.py's harness): creator handles link to their
profile; slash answers are ephemeral with a 'Share in channel' button that posts the
same answer to the channel once; a map or CSV to a channel the bot is not in says how
to invite it; `/scout help` lists every command of bot/manifest.yml."""

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


def test_a_slash_answer_is_ephemeral_and_shared_once_to_the_channel(slack):  # noqa: F811
    slack.command("/lookalike", "@ana 3", "explore", channel="CSHARE")
    slack.answer("explore")
    first = _payloads(slack.fake, "explore")[-1]
    assert first["response_type"] == "ephemeral" and _has_action(first, "share_answer")
    blocks = first["blocks"] if isinstance(first["blocks"], list) else json.loads(first["blocks"])
    value = next(e["value"] for b in blocks if b.get("block_id") == "share" for e in b["elements"])
    for _ in range(2):  # a double click
        assert slack.action("share_answer", value, "share", channel="CSHARE").status == 200
    slack.fake.wait_for("response_url", lambda c: c.params["key"] == "share", 10)
    time.sleep(1.0)  # room for a second post, which must not come
    shared = _payloads(slack.fake, "share")
    assert len(shared) == 1, shared
    assert shared[0]["response_type"] == "in_channel" and shared[0]["replace_original"] is False
    text = shared[0]["text"] + json.dumps(shared[0]["blocks"])
    assert "@bob" in text and "Shared by <@U0001>" in text
    assert not _has_action(shared[0], "share_answer")


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
