"""Data never becomes Slack markup: `<!channel>` or a disguised link in an imported song
title, a handle, a reason or a language is shown as text in blocks and fallback text
(issue 15, item 6)."""

from __future__ import annotations

import json

import pytest

from bot import blocks as bk
from bot.router import Caller, Scout
from engine.core.recommendation import Answer, Recommendation

EVIL = "<!channel> free money <https://evil.example|Verify> & co"


def _shown(node) -> list[str]:
    """Every text Slack renders (not button values, which are never shown)."""
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        return out + [t for k, v in node.items() if k != "value" for t in _shown(v)]
    if isinstance(node, list):
        return [t for v in node for t in _shown(v)]
    return []


def _all_text(reply: bk.Reply) -> str:
    return "\n".join([reply.text, *_shown(reply.blocks)])


def _assert_inert(reply: bk.Reply) -> None:
    text = _all_text(reply)
    assert "<!channel>" not in text and "<https://evil" not in text, text
    assert "&lt;!channel&gt; free money &lt;https://evil.example|Verify&gt; &amp; co" in text


class _Rec:
    digests = None

    def songs_for(self, handle, k=10, method="auto"):
        return Answer([Recommendation("s1", EVIL, 0.5, f"used by {EVIL}")], [EVIL])

    trending = lambda self, days=7, k=10, topic=None: self.songs_for("x")  # noqa: E731

    def lookalike(self, handle, k=10, *, filters=None, method="auto", exclude=()):
        r = Recommendation(EVIL, EVIL, 0.5, EVIL, {"followers": 10, "er": 1, "language": EVIL})
        return Answer([r], [], {"handle": "ana", "method": EVIL})

    def related_tags(self, query, k=20):
        return Answer([Recommendation(EVIL, EVIL, 0.5, EVIL)], [])

    topic = lookalike

    def topics(self, k=50):
        return Answer([Recommendation("1", EVIL, 3.0, EVIL)], [])


def test_songs_trending_digest_lookalike_topics_escape_data():
    scout = Scout(_Rec())
    for name, text in (
        ("songs", "@ana"),
        ("trending", "7d"),
        ("lookalike", "@ana"),
        ("topics", ""),
        ("hashtags", "#cats"),
    ):
        _assert_inert(scout.command(name, text, Caller("T", "C", "U")))
    _assert_inert(scout.digest_reply(7))
    answer = Answer([Recommendation(EVIL, EVIL, 0.5, EVIL)], [])
    _assert_inert(bk.photo(answer, "similar", "F1"))


def test_console_shows_the_text_as_typed():
    reply = bk.songs("Songs", Answer([Recommendation("s1", EVIL, 0.5, "why")], []))
    assert EVIL in bk.to_text(reply.blocks)


def test_digest_status_app_home_and_errors_escape_reasons_names_and_echoes(tmp_path):
    """A disabled digest's reason, an upload's file name in its refusal and an unknown
    word echoed back are text; App Home without a team id shows no team's digests."""
    from bot.router import polite_error
    from engine.bootstrap import assemble
    from engine.core.errors import BadImage

    parts = assemble(f"sqlite:///{tmp_path / 'scout.db'}", migrate=True)
    scout = Scout(parts.recommender, parts.workspace_ops)
    ours, theirs = Caller("T1", "C1", "U1"), Caller("T2", "C2", "U2")
    for caller in (ours, theirs):
        assert ":white_check_mark:" in scout.command("digest", "on 09:00 UTC", caller).text
    sub = scout.workspace.subscription("T1", "C1")
    scout.workspace.disable(sub.id, EVIL)
    _assert_inert(scout.command("digest", "", ours))

    _assert_inert(polite_error(BadImage(f"`{EVIL}.exe` is not a photo; send a JPEG or PNG.")))
    unknown = scout.command("scout", "frobnicate`*<!here>*", ours)
    assert "<!here>" not in _all_text(unknown)
    assert "`frobnicate\u02cb*&lt;!here&gt;*`" in unknown.text

    home = _shown(scout.home_view("T1")["blocks"])
    assert any("<#C1>" in t and "&lt;!channel&gt;" in t for t in home), home
    assert not any("C2" in t for t in home) and not any("<!channel>" in t for t in home)
    blind = _shown(scout.home_view(None)["blocks"])
    assert not any("<#C" in t for t in blind), blind
    assert any("did not say which workspace" in t for t in blind), blind


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_served_bot_shows_an_uploaded_files_name_as_text(tmp_path):
    """A person mentions the served bot with a non-photo named like a channel mention:
    the refusal in the thread names the file, escaped, and pings nobody."""
    from models.migrate import upgrade
    from tests.bot_harness import BotServer
    from tests.fake_slack import FakeSlack

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    fake = FakeSlack().start()
    server = BotServer(fake, url, tmp_path / "bot.log", SCOUT_RECOMMENDER="tests.bot_fakes:make")
    try:
        server.start()
        fake.add_file("FEVIL", f"{EVIL}.pdf", b"%PDF-1.4", "application/pdf")
        event = {
            "type": "app_mention",
            "channel": "C0001",
            "user": "U0001",
            "text": "<@UBOT> tags?",
            "ts": "1700000300.000001",
            "files": [{"id": "FEVIL"}],
        }
        assert server.event(event, "EvEVIL").status == 200
        post = fake.wait_for(
            "chat.postMessage", lambda c: c.params.get("thread_ts") == "1700000300.000001"
        )[0]
        ts = post.result["ts"]
        update = fake.wait_for("chat.update", lambda c: c.params.get("ts") == ts)[0]
        blocks = update.params.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        reply = bk.Reply(update.params.get("text", ""), blocks or [])
        assert "is not a photo" in reply.text
        _assert_inert(reply)
    finally:
        server.stop()
        fake.stop()
