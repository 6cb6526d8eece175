"""Threads that remember (issue 26): a reply in the thread of one of Scout's answers acts
on that answer ("more like the second one", "only the ones under 10k", "why #3?",
"songs for her", "export this", "vet #1"). The phrasing table is a pure function
(engine/chat/followups.py); the contexts are in the store per workspace and thread with
a time-to-live; the whole path runs through the in-process bolt App against the
loopback fake Slack (tests/test_bot_listeners.py's harness)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from bot.config import BotConfig
from engine.bootstrap import assemble
from engine.chat.followups import Said, read_follow_up
from tests.test_bot_listeners import _text, slack  # noqa: F401 - the in-process bot fixture

SAID = Said(
    "lookalike",
    "@ana 3 followers:10k-100k",
    ("bob", "cat", "dan"),
    ("shares #food", "shares #travel", "similar audience"),
)
PHRASINGS = [
    ("more like the second one", "run", "/lookalike @cat"),
    ("More like #2", "run", "/lookalike @cat"),
    ("similar to the last one", "run", "/lookalike @dan"),
    ("only the ones under 10k", "run", "/lookalike @ana 3 followers:<10k"),
    ("just those with more than 1m followers", "run", "/lookalike @ana 3 followers:>1m"),
    ("between 5k and 20k followers", "run", "/lookalike @ana 3 followers:5k-20k"),
    ("why #3?", "why", "/lookalike @ana 3 followers:10k-100k"),
    ("Why is the third one there", "why", "/lookalike @ana 3 followers:10k-100k"),
    ("songs for her", "run", "/songs @bob"),
    ("songs for #2", "run", "/songs @cat"),
    ("export this", "export", "/lookalike @ana 3 followers:10k-100k"),
    ("vet #1", "run", "/vet @bob"),
    ("is the first one legit?", "run", "/vet @bob"),
]


@pytest.mark.parametrize(("text", "action", "line"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_the_phrasing_table_reads_each_follow_up(text, action, line):
    fu = read_follow_up(text, SAID)
    assert fu is not None and (fu.action, fu.line) == (action, line), fu


def test_it_reads_nothing_it_is_not_sure_of():
    for text in ("thanks!", "why #9?", "more like the fifth one", "songs", "export the moon"):
        assert read_follow_up(text, SAID) is None, text
    songs = Said("songs", "@zoe", (), ())
    assert read_follow_up("only the ones under 10k", songs) is None  # songs take no filter
    assert read_follow_up("export this", songs) is None
    assert read_follow_up("songs for her", Said("vet", "@zoe")).line == "/songs @zoe"
    assert read_follow_up("why #3", SAID).why == "similar audience"


def test_a_context_lives_per_workspace_and_thread_until_it_expires(migrated_sqlite):
    parts = assemble(migrated_sqlite)
    ops = parts.workspace_ops
    try:
        ops.remember_thread("T1", "C1", "1.1", "lookalike", "@ana", ["bob"], ["w"], timedelta(1))
        ops.remember_thread("T1", "C1", "2.2", "lookalike", "@eve", ["fay"], ["w"], timedelta(-1))
        ctx = ops.thread_context("T1", "C1", "1.1")
        assert (ctx.command, ctx.text, ctx.result_ids) == ("lookalike", "@ana", ["bob"])
        assert ops.thread_context("T2", "C1", "1.1") is None  # another workspace
        assert ops.thread_context("T1", "C1", "2.2") is None  # expired
        assert ops.follow_up("T2", "C1", "1.1", "more like #1") is None
        assert ops.follow_up("T1", "C1", "1.1", "more like #1").line == "/lookalike @bob"
    finally:
        parts.close()


def test_the_time_to_live_is_a_setting(monkeypatch):
    monkeypatch.setenv("SCOUT_THREAD_TTL_DAYS", "2.5")
    assert BotConfig.from_env().thread_ttl_days == 2.5
    monkeypatch.delenv("SCOUT_THREAD_TTL_DAYS")
    assert BotConfig.from_env().thread_ttl_days == 7


# ---------------------------------------------------------- through the bot
def _message(channel: str, ts: str, text: str, thread: str | None = None, kind="im") -> dict:
    event = {"type": "message", "channel": channel, "channel_type": kind, "user": "U0001"}
    return {**event, "text": text, "ts": ts, **({"thread_ts": thread} if thread else {})}


def _posted(bot, channel: str, count: int, timeout: float = 10) -> str:
    """The text of the `count`-th post in `channel`, once it is there."""
    posts = bot.fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("channel") == channel, timeout, count
    )
    return _text(posts[count - 1].params)


def test_replies_in_a_dm_thread_act_on_the_answer_above(slack):  # noqa: F811
    root = "1700001000.000100"
    slack.event(_message("DTHR", root, "/lookalike @ana 3"), "EvRoot")
    assert "Creators like @ana" in _posted(slack, "DTHR", 1)
    slack.event(_message("DTHR", "1700001000.000200", "more like the second one", root), "Ev2")
    second = _posted(slack, "DTHR", 2)
    assert "Creators like @cat" in second and "Read as: `/lookalike @cat`" in second
    post = slack.fake.of("chat.postMessage")[-1].params
    assert post["thread_ts"] == root
    slack.event(_message("DTHR", "1700001000.000300", "only the ones under 10k", root), "Ev3")
    third = _posted(slack, "DTHR", 3)
    assert "/lookalike @cat followers:&lt;10k" in third, third  # chained on the new answer
    assert slack.engine.calls[-1][0:2] == ("lookalike", "cat")
    assert slack.engine.calls[-1][3].followers_max == 10000
    slack.event(_message("DTHR", "1700001000.000400", "why #3?", root), "Ev4")
    assert "shares #food #travel with @cat" in _posted(slack, "DTHR", 4)
    slack.event(_message("DTHR", "1700001000.000500", "songs for her", root), "Ev5")
    assert "Songs for @ana" in _posted(slack, "DTHR", 5)  # result 1 of the @cat answer


def test_export_this_uploads_the_answers_csv_into_the_thread(slack):  # noqa: F811
    root = "1700002000.000100"
    slack.event(_message("DEXP", root, "/lookalike @ana 2"), "EvExpRoot")
    _posted(slack, "DEXP", 1)
    slack.event(_message("DEXP", "1700002000.000200", "export this", root), "EvExp")
    done = slack.fake.wait_for(
        "files.completeUploadExternal", lambda c: c.params.get("channel_id") == "DEXP"
    )[0]
    assert done.params.get("thread_ts") == root
    files = done.params["files"]
    file_id = (json.loads(files) if isinstance(files, str) else files)[0]["id"]
    content = slack.fake.uploads[file_id].decode()
    assert content.startswith("rank,handle,score") and "\n1,bob," in content


def test_a_channel_thread_follows_up_without_a_mention_and_ignores_chatter(slack):  # noqa: F811
    root = "1700003000.000100"
    mention = {"type": "app_mention", "channel": "CTHR", "user": "U0001", "ts": root}
    slack.event({**mention, "text": "<@UBOT> /lookalike @ana 2"}, "EvMention")
    assert "Creators like @ana" in _posted(slack, "CTHR", 1)
    reply = _message("CTHR", "1700003000.000200", "vet #1", root, kind="channel")
    slack.event(reply, "EvVet")
    assert "/vet @bob" in _posted(slack, "CTHR", 2)
    chatter = _message("CTHR", "1700003000.000300", "lol nice one", root, kind="channel")
    slack.event(chatter, "EvChat")
    elsewhere = _message("CTHR", "1700003000.000400", "why #1?", "1600000000.1", kind="channel")
    slack.event(elsewhere, "EvNoContext")  # a thread Scout never answered in
    time.sleep(1.0)  # room for a post, which must not come
    assert len(slack.posts("CTHR")) == 2


def test_a_retried_follow_up_is_answered_once(slack):  # noqa: F811
    root = "1700004000.000100"
    slack.event(_message("DRETRY", root, "/lookalike @ana 3"), "EvRetryRoot")
    _posted(slack, "DRETRY", 1)
    reply = _message("DRETRY", "1700004000.000200", "why #2", root)
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    slack.event(reply, "EvWhy")
    slack.event(reply, "EvWhy", headers=retry)
    _posted(slack, "DRETRY", 2)
    time.sleep(1.0)
    assert len(slack.posts("DRETRY")) == 2


def test_a_reply_under_a_shared_answer_acts_on_it(slack):  # noqa: F811
    share = json.dumps({"c": "lookalike", "t": "@ana 3"})
    slack.action("share_answer", share, "thr-share", channel="CSHR", message_ts="1.5")
    _posted(slack, "CSHR", 1)
    root = slack.posts("CSHR")[0].params  # the shared answer: the bot posted it, so a ts
    ts = next(m["ts"] for m in slack.fake.messages["CSHR"] if "thread_ts" not in m)
    assert "Shared by <@U0001>" in _text(root)
    reply = _message("CSHR", "1700005000.000200", "more like the second one", ts, kind="channel")
    slack.event(reply, "EvShared2")
    second = _posted(slack, "CSHR", 2)
    assert "Creators like @cat" in second and "Read as: `/lookalike @cat`" in second
    assert slack.posts("CSHR")[1].params["thread_ts"] == ts
