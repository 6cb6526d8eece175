"""Links that unfurl (issue 26): a pasted Instagram, TikTok or YouTube profile link
becomes a creator card under the message (Slack's `link_shared` event answered with
`chat.unfurl`).

Slack sends every link of the manifest's `unfurl_domains`, posts and reels included, so
the URL parsing here decides which links are profiles (pure, no I/O, table-tested). The
card's facts come from the facade (`Recommender.creator_card`); the bot renders them
and never scores. Events are acked by bolt at once; the card is built after the ack in
the bot's background pool, once per event across workers and retries (the `event_key`
claim), and all of an event's links go out in one chat.unfurl call. The card is seen
by the whole channel, a click on it is one person's question: its buttons answer only
whoever clicks, with 'Share in channel' as a slash answer has. A creator Scout
does not know gets a card that says so with a button that watches it (the workspace's
watchlist, as `/watch @handle` does).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from bot import blocks as bk
from bot.router import Caller, polite_error
from engine.service import Recommendation, UnknownHandle

if TYPE_CHECKING:  # the app imports this module; only the type comes back
    from bot.app import SlackBot

log = logging.getLogger(__name__)

MAX_LINKS = 10  # a message pasting more profiles than this unfurls the first ten
SONGS, VET, WATCH = "card_songs", "card_vet", "card_watch"  # this card's own buttons
PLATFORM_NAMES = {"instagram": "Instagram", "tiktok": "TikTok", "youtube": "YouTube"}
PASTED = "from a pasted link"  # the shortlist reason of a creator added from a card

# Instagram paths that are pages, not accounts: posts, reels, stories, explore, ...
INSTAGRAM_RESERVED = frozenset(
    [
        "p",
        "reel",
        "reels",
        "tv",
        "stories",
        "explore",
        "accounts",
        "direct",
        "about",
        "developer",
        "legal",
        "privacy",
        "terms",
        "web",
        "api",
        "challenge",
        "emails",
        "session",
        "oauth",
        "graphql",
        "static",
    ]
)
YOUTUBE_TABS = frozenset(
    [
        "featured",
        "videos",
        "shorts",
        "streams",
        "playlists",
        "community",
        "about",
        "channels",
        "podcasts",
    ]
)
_IG_HANDLE = re.compile(r"[a-z0-9._]{1,30}")
_TT_HANDLE = re.compile(r"[a-z0-9._]{2,24}")
_YT_HANDLE = re.compile(r"[a-z0-9._-]{3,30}")
_YT_CHANNEL = re.compile(r"UC[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class ProfileLink:
    """A profile URL read: the platform, the handle (a YouTube channel id for
    /channel/ links, case kept) and the URL as Slack sent it (chat.unfurl's key)."""

    url: str
    platform: str
    handle: str


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    for prefix in ("www.", "m."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


def parse_profile_url(url: str) -> ProfileLink | None:
    """The creator a profile URL points to, or None for anything else (a post, a reel,
    a video, explore, a short link, another site). Query strings, fragments, `www.`/`m.`
    and a trailing slash are ignored; handles are lower-cased as the platforms read
    them, a YouTube channel id is kept as it is."""
    text = url.strip().strip("<>")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = _host(parts.netloc)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if host == "instagram.com":
        return _instagram(url, segments)
    if host == "tiktok.com":
        return _tiktok(url, segments)
    if host == "youtube.com":
        return _youtube(url, segments)
    return None


def _instagram(url: str, segments: list[str]) -> ProfileLink | None:
    if len(segments) != 1:  # instagram.com/ana/p/…, /ana/reels/, /explore/tags/…
        return None
    handle = segments[0].lstrip("@").lower()
    if handle in INSTAGRAM_RESERVED or not _IG_HANDLE.fullmatch(handle):
        return None
    return ProfileLink(url, "instagram", handle)


def _tiktok(url: str, segments: list[str]) -> ProfileLink | None:
    if len(segments) != 1 or not segments[0].startswith("@"):  # /@ana/video/1, /discover
        return None
    handle = segments[0][1:].lower()
    return ProfileLink(url, "tiktok", handle) if _TT_HANDLE.fullmatch(handle) else None


def _youtube(url: str, segments: list[str]) -> ProfileLink | None:
    if segments[:1] == ["channel"] and len(segments) >= 2:
        name, tabs, platform_id = segments[1], segments[2:], True
    elif segments and segments[0].startswith("@"):
        name, tabs, platform_id = segments[0][1:].lower(), segments[1:], False
    else:
        return None  # /watch?v=, /shorts/…, /results, a bare youtube.com
    if len(tabs) > 1 or (tabs and tabs[0].lower() not in YOUTUBE_TABS):
        return None  # a channel's tab is still the channel; anything deeper is not
    pattern = _YT_CHANNEL if platform_id else _YT_HANDLE
    return ProfileLink(url, "youtube", name) if pattern.fullmatch(name) else None


def profile_links(links: list[dict[str, Any]]) -> list[ProfileLink]:
    """The profile links of a link_shared event's `links`, each URL once, in order."""
    found: dict[str, ProfileLink] = {}
    for link in links:
        parsed = parse_profile_url(str(link.get("url") or ""))
        if parsed is not None and parsed.url not in found:
            found[parsed.url] = parsed
    return list(found.values())[:MAX_LINKS]


# ------------------------------------------------------------------ the cards
def _value(link: ProfileLink) -> dict[str, str]:
    return {"h": link.handle, "p": link.platform}


def list_button(card: Any, platform: str) -> dict[str, Any]:
    """The card's 'Add to list', the same button (and value) as under every creator in
    an answer (bot.blocks.list_button), so bot/shortlists.py adds it the same way: the
    reason is that it came from a pasted link, the facts are the card's."""
    facts = {
        "followers": card.followers,
        "er": card.er,
        "quality": card.quality,
        "platform": platform,
    }
    return bk.list_button(Recommendation(card.handle, card.handle, 0.0, PASTED, facts), "")


def creator_card(card: Any, link: ProfileLink) -> dict[str, Any]:
    """The unfurl attachment of a creator Scout knows (engine.service.CreatorCard):
    followers, engagement, quality when known, top hashtags, and buttons for
    lookalikes (the results' own `more_like`, answered to the person who clicks),
    songs, the trust card and 'Add to list'."""
    platform = card.platform or link.platform
    facts = [f"*{bk.fmt_count(card.followers)} followers*", bk.fmt_er(card.er, card.er_hidden)]
    if card.quality is not None:
        facts.append(f"quality {card.quality:.0f}/100 (`/vet`)")
    title = bk.profile_link(card.handle, platform)
    name = f" — {bk.esc(card.name)}" if card.name else ""
    where = PLATFORM_NAMES.get(str(platform).lower(), bk.esc(platform))
    tags = " ".join(f"#{bk.esc(t)}" for t, _ in card.top_hashtags)
    notes = [f"{where} · {card.posts} posts in Scout's data"]
    if card.platform and card.platform.lower() != link.platform:
        notes.append(f"Scout's data is this handle on {where}, not on {link.platform}")
    blocks = [
        bk.section(f"*{title}*{name}\n" + " · ".join(facts)),
        bk.section(f"Top hashtags: {tags}" if tags else "No hashtags in the stored posts."),
        bk.context(*notes),
        bk.actions(
            bk.button("Lookalikes", "more_like", card.handle),
            bk.button("Songs", SONGS, _value(link)),
            bk.button("Vet", VET, _value(link)),
            list_button(card, platform),
            block_id=f"card_{card.handle}"[:255],
        ),
    ]
    text = f"@{bk.esc(card.handle)}: {bk.fmt_count(card.followers)} followers"
    return {"color": "#2c2d30", "fallback": text, "blocks": blocks}


def unknown_card(link: ProfileLink) -> dict[str, Any]:
    """The unfurl of a creator Scout has no data on: says so, and offers to watch it
    (synced with the next daily sync, then it answers like any other)."""
    where = PLATFORM_NAMES[link.platform]
    text = f"Scout does not know @{bk.esc(link.handle)} yet."
    blocks = [
        bk.section(
            f"*{text}*\nWatch this {where} creator and the daily sync brings in their "
            "posts; then lookalikes, songs and `/vet` answer for them."
        ),
        bk.actions(
            bk.button(f"Watch @{link.handle}"[:75], WATCH, _value(link), style="primary"),
            block_id="card_watch",
        ),
    ]
    return {"fallback": text, "blocks": blocks}


def unfurls_for(rec: Any, links: list[ProfileLink]) -> dict[str, dict[str, Any]]:
    """chat.unfurl's `unfurls` map for the links: a card each, the unknown card for a
    creator Scout does not know. A link whose card fails otherwise (a database down)
    is left as Slack shows it: an unfurl is seen by the whole channel, so no error."""
    out: dict[str, dict[str, Any]] = {}
    for link in links:
        try:
            out[link.url] = creator_card(rec.creator_card(link.handle), link)
        except UnknownHandle:
            out[link.url] = unknown_card(link)
        except Exception as err:  # noqa: BLE001 - logged, that link stays plain
            log.warning("no card for %s: %s", link.url, polite_error(err).text)
    return out


# ---------------------------------------------------------------- listeners
def register(bot: SlackBot) -> None:
    """The link_shared event and the card's buttons on the bot's bolt App."""
    app = bot.app

    def on_link_shared(event, client, context) -> None:
        links = profile_links(event.get("links") or [])
        if not links:
            return
        target = (
            {"source": event["source"], "unfurl_id": event["unfurl_id"]}
            if event.get("source") == "composer" and event.get("unfurl_id")
            else {"channel": event.get("channel"), "ts": event.get("message_ts")}
        )

        def work() -> None:
            unfurls = unfurls_for(bot.scout.rec, links)
            if unfurls:
                client.chat_unfurl(unfurls=unfurls, **target)

        bot.once([context.get("event_key")], work)

    def on_card_button(ack, body, action) -> None:
        ack()
        data = json.loads(action["value"])
        handle, platform = str(data["h"]), str(data.get("p") or "instagram")
        command = {SONGS: "songs", VET: "vet", WATCH: "watch"}[action["action_id"]]
        # a YouTube channel id is watched as it is written (no @, case kept)
        text = f"{handle} {platform}" if command == "watch" else f"@{handle}"
        caller = Caller(
            (body.get("team") or {}).get("id"),
            (body.get("channel") or {}).get("id"),
            (body.get("user") or {}).get("id"),
        )

        def work() -> None:
            reply = bot.scout.command(command, text, caller)
            if command != "watch" and not reply.ephemeral:  # as a slash answer: then share
                reply = bk.with_share_button(reply, command, text)
            bot.respond(
                body.get("response_url"),
                text=reply.text,
                blocks=reply.blocks,
                response_type="ephemeral",
                replace_original=False,
            )

        bot.submit(work)

    app.event("link_shared")(on_link_shared)
    for action_id in (SONGS, VET, WATCH):
        app.action(action_id)(on_card_button)
