"""Links that unfurl (issue 26): which pasted URLs are creator profiles (a table of good
and bad links), and the link_shared event dispatched in-process into the bolt App that
`bot.app.create_bot` builds (tests/test_bot_listeners.py's signed BoltRequests) over
the trained demo store and the fake Slack Web API on loopback: a known creator's card
carries their followers and the lookalike/songs/vet/'Add to list' buttons (Lookalikes
answered only to whoever clicks, a card's creator listed 'from a pasted link'; those two
on the fast canned bot), an unknown one says Scout
does not know them and its button watches them, one chat.unfurl per event with all
its links, and a retried delivery is not unfurled twice."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.app import create_bot
from bot.blocks import LIST_ADD, fmt_count, fmt_er
from bot.unfurl import PASTED, SONGS, VET, WATCH, ProfileLink, creator_card, parse_profile_url
from engine.bootstrap import assemble
from engine.service import CreatorCard
from tests.fake_slack import BOT_TOKEN, unfurl_answer
from tests.test_bot_listeners import SECRET, Slack
from tests.test_bot_listeners import slack as fast_slack  # noqa: F401 - the fast bot

GOOD = [
    ("https://www.instagram.com/ana.reception/", "instagram", "ana.reception"),
    ("https://instagram.com/Ana.Reception", "instagram", "ana.reception"),
    ("http://m.instagram.com/ana_r/?igsh=abc123&utm_source=qr", "instagram", "ana_r"),
    ("instagram.com/ana#top", "instagram", "ana"),
    ("https://www.tiktok.com/@chef.ana", "tiktok", "chef.ana"),
    ("https://tiktok.com/@Chef.Ana/?lang=en", "tiktok", "chef.ana"),
    ("https://www.youtube.com/@CookingWithAna", "youtube", "cookingwithana"),
    ("https://m.youtube.com/@cooking-ana/videos", "youtube", "cooking-ana"),
    (
        "https://www.youtube.com/channel/UCBR8-60-B28hp2BmDPdntcQ",
        "youtube",
        "UCBR8-60-B28hp2BmDPdntcQ",
    ),
]
BAD = [
    "https://www.instagram.com/p/C3xYz12AbCd/",  # a post
    "https://www.instagram.com/reel/C3xYz12AbCd/",  # a reel
    "https://www.instagram.com/reels/audio/123/",
    "https://www.instagram.com/explore/tags/coffee/",
    "https://www.instagram.com/stories/ana/3123/",
    "https://www.instagram.com/ana/p/C3xYz12AbCd/",
    "https://www.instagram.com/",
    "https://www.tiktok.com/@chef.ana/video/7301234567890",  # a video
    "https://www.tiktok.com/chef.ana",  # no @: not a profile path
    "https://vm.tiktok.com/ZMabc123/",  # a short link
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://www.youtube.com/shorts/abc123",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://www.youtube.com/channel/not-a-channel-id",
    "https://www.youtube.com/@ana/videos/extra",
    "https://evilinstagram.com/ana",
    "https://instagram.com.evil.example/ana",
    "ftp://instagram.com/ana",
    "https://x.com/ana",
    "not a url at all",
]


@pytest.mark.parametrize(("url", "platform", "handle"), GOOD)
def test_a_profile_url_gives_its_platform_and_handle(url, platform, handle):
    assert parse_profile_url(url) == ProfileLink(url, platform, handle)


@pytest.mark.parametrize("url", BAD)
def test_posts_reels_videos_and_other_sites_are_not_profiles(url):
    assert parse_profile_url(url) is None


def test_the_fake_refuses_a_bad_unfurl_payload():
    card = {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    good = {"channel": "C1", "ts": "1.2", "unfurls": {"https://instagram.com/a": card}}
    assert unfurl_answer(good) == {"ok": True}
    assert unfurl_answer({**good, "unfurls": json.dumps(good["unfurls"])}) == {"ok": True}
    for bad, error in (
        ({**good, "channel": None}, "missing_channel"),
        ({**good, "ts": None}, "missing_ts"),
        ({**good, "unfurls": "{not json"}, "invalid_unfurls_format"),
        ({**good, "unfurls": ["https://instagram.com/a"]}, "invalid_unfurls_format"),
        ({**good, "unfurls": {"https://instagram.com/a": {}}}, "cannot_parse_attachment"),
        (
            {**good, "unfurls": {"https://instagram.com/a": {"blocks": [{"x": 1}]}}},
            "invalid_blocks",
        ),
    ):
        assert unfurl_answer(bad) == {"ok": False, "error": error}


def test_a_card_says_what_is_known_and_what_is_not():
    link = ProfileLink("https://www.tiktok.com/@ana", "tiktok", "ana")
    card = CreatorCard("ana", "instagram", "Ana <b>", 12_300, None, 40, [("cafe", 9)], 71.6, 0.8)
    shown = json.dumps(creator_card(card, link), ensure_ascii=False)
    assert "*12.3k followers*" in shown and "ER ?" in shown
    assert "quality 72/100" in shown and "Top hashtags: #cafe" in shown
    assert "Ana &lt;b&gt;" in shown  # data is escaped, never markup
    assert "not on tiktok" in shown  # Scout's numbers are the Instagram account's
    hidden = CreatorCard("ana", "tiktok", None, 5000, None, 3, [], None, None, er_hidden=True)
    shown = json.dumps(creator_card(hidden, link), ensure_ascii=False)
    assert "ER unknown — likes hidden" in shown and "quality" not in shown
    assert "No hashtags in the stored posts" in shown


def test_the_cards_add_to_list_puts_the_creator_on_the_list_from_a_pasted_link(fast_slack):  # noqa: F811
    slack = fast_slack
    link = ProfileLink("https://www.tiktok.com/@bob", "tiktok", "bob")
    card = CreatorCard("bob", "instagram", None, 12_300, 2.5, 40, [("cafe", 9)], 71.6, 0.8)
    value = _buttons(creator_card(card, link))[LIST_ADD]["value"]
    slack.command("/list", "new pasted", "card-new")
    slack.answer("card-new")
    slack.action(LIST_ADD, value, "card-add", channel="CLINK")
    assert "Added @bob to *pasted*" in slack.answer("card-add")
    slack.command("/list", "show pasted", "card-show")
    shown = slack.answer("card-show")
    assert "<https://www.instagram.com/bob/|@bob>" in shown  # Scout's data is Instagram
    assert f"_{PASTED}_" in shown and "from /" not in shown


def test_the_cards_lookalikes_answer_only_the_person_who_clicked(fast_slack):  # noqa: F811
    slack = fast_slack
    link = ProfileLink("https://www.instagram.com/cat/", "instagram", "cat")
    card = CreatorCard("cat", "instagram", None, 5000, 3.0, 12, [], None, None)
    value = _buttons(creator_card(card, link))["more_like"]["value"]
    slack.action("more_like", value, "card-like", channel="CLINK")
    assert "Creators like @cat" in slack.answer("card-like")
    said = [c.params for c in slack.fake.of("response_url") if c.params["key"] == "card-like"]
    assert said[-1]["response_type"] == "ephemeral" and said[-1]["replace_original"] is False
    assert "share_answer" in json.dumps(said[-1]["blocks"])
    assert slack.posts("CLINK") == []  # nothing to the channel until it is shared


# ------------------------------------------------------------------ the event
def _known(url: str) -> dict[str, Any]:
    """The stored creator with the most posts: handle, platform and followers."""
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "select i.handle, i.platform, i.followers from influencers i "
                "join posts p on p.influencer_id = i.id group by i.id "
                "order by count(*) desc, i.handle limit 1"
            )
        ).one()
    engine.dispose()
    return {"handle": row[0], "platform": row[1] or "instagram", "followers": row[2]}


@pytest.fixture
def demo_slack(fake_slack, copy_db, monkeypatch):
    """A bot built by create_bot over the trained demo store (the real engine)."""
    for name, value in {
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SCOUT_RECOMMENDER"):
        monkeypatch.delenv(name, raising=False)
    parts = assemble(copy_db)
    bot = create_bot(parts=parts)
    yield Slack(bot, fake_slack, parts.recommender), copy_db
    bot.pool.shutdown(wait=True)
    parts.close()


PROFILE = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "youtube": "https://www.youtube.com/@{}",
}


def _link_shared(channel: str, ts: str, urls: list[str]) -> dict[str, Any]:
    return {
        "type": "link_shared",
        "channel": channel,
        "is_bot_user_member": True,
        "user": "U0001",
        "message_ts": ts,
        "source": "conversations_history",
        "unfurl_id": f"{channel}-{ts}",
        "links": [{"domain": u.split("/")[2].removeprefix("www."), "url": u} for u in urls],
        "event_ts": ts,
    }


def _unfurls(call) -> dict[str, Any]:
    unfurls = call.params["unfurls"]
    return json.loads(unfurls) if isinstance(unfurls, str) else unfurls


def _buttons(attachment: dict[str, Any]) -> dict[str, dict]:
    return {
        e["action_id"]: e
        for b in attachment["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    }


@pytest.mark.slow
def test_a_pasted_profile_link_becomes_a_creator_card(demo_slack):
    slack, _ = demo_slack
    known = _known(_)
    url = PROFILE[known["platform"]].format(known["handle"])
    post = "https://www.instagram.com/p/C3xYz12AbCd/"  # a post: Slack sends it, no card
    resp = slack.event(_link_shared("CLINK", "1700000900.000100", [url, post]), "EvLink1")
    assert resp.status == 200 and resp.seconds < 3.0, resp.seconds
    call = slack.fake.wait_for("chat.unfurl", timeout=30)[0]
    assert call.token == BOT_TOKEN and call.result == {"ok": True}, call.result
    assert (call.params["channel"], call.params["ts"]) == ("CLINK", "1700000900.000100")
    unfurls = _unfurls(call)
    assert list(unfurls) == [url]  # the post URL is left as Slack shows it
    card = json.dumps(unfurls[url], ensure_ascii=False)
    followers = slack.engine.influencer_profile(known["handle"])["followers"]
    assert followers == known["followers"]
    assert f"{fmt_count(followers)} followers" in card
    profile = slack.engine.influencer_profile(known["handle"])
    assert fmt_er(profile["er"], profile.get("er_hidden")) in card  # the engine's own ER
    assert "Top hashtags: #" in card
    buttons = _buttons(unfurls[url])
    assert set(buttons) == {"more_like", SONGS, VET, LIST_ADD}
    assert buttons["more_like"]["value"] == known["handle"]
    assert json.loads(buttons[VET]["value"])["h"] == known["handle"]
    listed = json.loads(buttons[LIST_ADD]["value"])
    assert (listed["h"], listed["w"], listed["f"]["followers"]) == (
        known["handle"],
        PASTED,
        followers,
    )


@pytest.mark.slow
def test_an_unknown_creator_gets_a_card_with_a_watch_button_that_watches(demo_slack):
    slack, _ = demo_slack
    url = "https://www.tiktok.com/@nobody.scout.knows"
    slack.event(_link_shared("CNEW", "1700000901.000100", [url]), "EvLinkNew")
    call = slack.fake.wait_for("chat.unfurl", timeout=30)[0]
    attachment = _unfurls(call)[url]
    assert "Scout does not know @nobody.scout.knows yet" in json.dumps(attachment)
    watch = _buttons(attachment)[WATCH]
    assert json.loads(watch["value"]) == {"h": "nobody.scout.knows", "p": "tiktok"}
    slack.action(WATCH, watch["value"], "watch-new", channel="CNEW")
    said = slack.answer("watch-new", timeout=20)
    assert "Watching @nobody.scout.knows on tiktok" in said, said
    listed = slack.bot.scout.workspace.watchlist("T0001")
    assert [(e.handle, e.platform) for e in listed] == [("nobody.scout.knows", "tiktok")]
    channel = "UCBR8-60-B28hp2BmDPdntcQ"  # a /channel/ link's id is watched case and all
    slack.action(WATCH, json.dumps({"h": channel, "p": "youtube"}), "watch-yt", channel="CNEW")
    assert f"Watching @{channel} on youtube" in slack.answer("watch-yt", timeout=20)
    listed = slack.bot.scout.workspace.watchlist("T0001")
    assert ("UCBR8-60-B28hp2BmDPdntcQ", "youtube") in [(e.handle, e.platform) for e in listed]


@pytest.mark.slow
def test_a_retried_link_shared_is_unfurled_once_with_all_its_links(demo_slack):
    slack, db = demo_slack
    known = _known(db)
    urls = [
        PROFILE[known["platform"]].format(known["handle"]),
        "https://www.instagram.com/someone_unknown_here/",
    ]
    event = _link_shared("CRETRY", "1700000902.000100", urls)
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    for headers in (None, retry):
        assert slack.event(event, "EvLinkRetry", headers=headers).status == 200
    slack.fake.wait_for("chat.unfurl", timeout=30)
    time.sleep(1.0)
    calls = slack.fake.of("chat.unfurl")
    assert len(calls) == 1
    assert sorted(_unfurls(calls[0])) == sorted(urls)


@pytest.mark.slow
def test_the_card_buttons_answer_privately(demo_slack):
    slack, db = demo_slack
    known = _known(db)
    value = json.dumps({"h": known["handle"], "p": known["platform"]})
    slack.action(VET, value, "card-vet")
    said = slack.answer("card-vet", timeout=30)
    assert f"Can I trust @{known['handle']}?" in said and "Quality" in said, said
    calls = [c for c in slack.fake.of("response_url") if c.params["key"] == "card-vet"]
    assert calls[0].params["response_type"] == "ephemeral"
    assert calls[0].params["replace_original"] is False
    blocks = calls[0].params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    share = [e["value"] for b in blocks if b.get("block_id") == "share" for e in b["elements"]]
    assert [json.loads(v) for v in share] == [{"c": "vet", "t": f"@{known['handle']}"}]


@pytest.mark.slow
def test_a_link_in_the_composer_is_unfurled_by_its_unfurl_id(demo_slack):
    slack, db = demo_slack
    known = _known(db)
    url = PROFILE[known["platform"]].format(known["handle"])
    event = {**_link_shared("COMPOSER", "1700000903.000100", [url]), "source": "composer"}
    slack.event(event, "EvLinkComposer")
    call = slack.fake.wait_for("chat.unfurl", timeout=30)[0]
    assert call.result == {"ok": True}
    assert call.params["source"] == "composer"
    assert call.params["unfurl_id"] == "COMPOSER-1700000903.000100"
    assert "channel" not in call.params and list(_unfurls(call)) == [url]
