"""What each command does, independent of how it arrived (Slack HTTP, Socket Mode, a DM,
the console): parse the text, call the Recommender facade, render blocks. Slack
listeners and the console both call `Scout.command`, so they give the same answers.

Every method returns a Reply and never raises: a ScoutError becomes its own message,
anything else a short "try again" with an error id that matches the log line.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import blocks as bk
from bot import parsing
from bot import shortlists as lists
from bot.blocks import Reply
from engine.bootstrap import database_error
from engine.service import Answer, ModelNotTrained, ScoutError

log = logging.getLogger(__name__)

FRIENDLY_KIND = {
    "lookalike": "lookalike",
    "tags": "hashtag",
    "photos": "photo",
    "songs": "songs",
}


@dataclass(frozen=True)
class Caller:
    team_id: str | None = None
    channel_id: str | None = None
    user_id: str | None = None
    in_slack: bool = True  # False in the console: nothing can be posted to a channel later


HELP = """*Scout* finds creators, hashtags and songs. Examples:
• `/lookalike @handle [k] [followers:10k-100k] [er:>2] [lang:en]` — similar creators
• `/topic #apple #iphone:-1` — hashtags and creators for a theme (`:-1` pushes a sense away)
• `/hashtags #cats` — related hashtags
• Send me a photo (DM, or mention me with a file) — hashtags to post it with. Each tag \
has a 0–100 match: the share of the most similar posts that used it, the closest posts \
counting most ("optimised for likes" also weighs how well the tag's posts were liked). \
If nothing in the data looks like your photo, I say so instead of guessing.
• `/vet @handle` — can I trust this creator? quality 0–100 from engagement against peers, \
anomalies (likes the comments did not follow), audience sample, sponsored share and brand \
safety, each with its reason; filter answers with `quality:>70 sponsored:<20% safe`
• `/songs @handle` — songs for the creator's next reel
• `/trending [days] [count] [#topic]` — songs whose use and engagement are rising (`/trending 7` = the 7 days up to the newest reel)
• `/topics` — the topics Scout found in the hashtags · `/map @handle` — a creator's neighbourhood as a picture
• `/digest on 09:00 Europe/Paris` · `/digest off` · `/digest status` — a daily trending digest here
• `/watch @handle [instagram|youtube|tiktok]` · `/watch list` · `/watch remove @handle` — creators this \
workspace keeps fresh (synced daily)
• `/list new NAME` · `/list show NAME` · `/list remove NAME @handle` · `/list share NAME` · \
`/list export NAME` — shortlists of creators for a campaign (*➕ Add to list* under any creator)
• `/scout help` — this message

*Match* (0–100, on every answer): for creators and hashtags, how alike the content is (100 = the same captions and hashtags; an answer's top results usually sit between 40 and 90); for a photo's hashtags, the share of the most similar posts that used the tag; for songs, how strong each pick is against the best one (the top pick is 100)."""


def window_words(answer: Answer, days: int) -> str:
    """'the 7 days to 2025-05-28': the window ends where the data ends, which may be a
    month ago, so 'last 7 days' would mislead; without a date, 'the last 7 days'."""
    as_of = str(answer.meta.get("as_of") or "")[:10]
    return f"the {days} days to {as_of}" if as_of else f"the last {days} days"


def help_reply(prefix: str | None = None) -> Reply:
    text = (prefix + "\n\n" if prefix else "") + HELP
    return Reply(text, [bk.section(text)], ephemeral=True)


# The commands a request in plain words may mean (engine/chat reads them); the others
# (digest, watch, map, ...) keep their own syntax when typed without the slash.
PLAIN_COMMANDS = ("lookalike", "topic", "hashtags", "songs", "trending", "vet")
CHOICE = "ask_choice"  # a question's buttons: action ids ask_choice_0, ask_choice_1, ...


def question_reply(question: str, choices: tuple[str, ...] | list[str] = ()) -> Reply:
    """What Scout asks when a request is unclear: the question, and a button per likely
    reading that runs that command (bot.app's ask_choice listener); never an answer."""
    blocks = [bk.section(f":thinking_face: {bk.esc(question)}")]
    if choices:
        buttons = [bk.button(c[:75], f"{CHOICE}_{i}", c) for i, c in enumerate(choices[:5])]
        blocks.append(bk.actions(*buttons, block_id="ask_choices"))
    return Reply(question, blocks)


def polite_error(err: Exception) -> Reply:
    if isinstance(err, ModelNotTrained):
        name = FRIENDLY_KIND.get(err.kind, err.kind)
        if getattr(err, "skipped", None):  # training ran and had nothing to learn from
            return bk.error_reply(
                f"There is no {name} model: training ran and skipped it "
                f"({bk.esc(err.skipped)}). Training again won't help until the data has "
                "what it needs; an admin can import it and run `python -m engine train`."
            )
        return bk.error_reply(
            f"The {name} model is not trained yet, so I can't answer that one today. "
            "It is trained daily; an admin can run `python -m engine train` now."
        )
    if isinstance(err, ScoutError):
        return bk.error_reply(bk.esc(str(err)))  # messages quote what the user typed
    problem = database_error(err)
    if problem is not None:
        log.error("database error: %s", problem)
        return bk.error_reply(f"I can't read my database right now: {bk.esc(problem)}.")
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error (ref %s): %s: %s", ref, type(err).__name__, err, exc_info=err)
    return bk.error_reply(
        f"Something went wrong on my side (ref `{ref}`). Try again in a minute; "
        "if it keeps happening, tell whoever runs Scout."
    )


def _failure_line(f: Any) -> str:
    """A kind whose last training crashed, and what is served meanwhile."""
    serving = f"still serving v{f.serving}" if f.serving else "nothing served yet"
    return (
        f":warning: *{f.kind}*: training failed {f.failed_at:%Y-%m-%d %H:%M} UTC "
        f"({bk.esc(f.reason)}); {serving}"
    )


def _data_size(info: Any) -> str:
    """'300 influencers, 4000 posts' from whichever of the artifact's params or metrics
    carry the training data's size (`data_influencers`/`data_posts` or `n_...`)."""
    found = {}
    for what in ("influencers", "posts"):
        for source in (info.params or {}, info.metrics or {}):
            for key in (f"data_{what}", f"n_{what}", f"data.{what}"):
                if isinstance(source.get(key), int | float) and what not in found:
                    found[what] = f"{int(source[key]):,} {what}"
    return ", ".join(found.values())


WATCH_ACTIONS = ("add", "list", "remove")


def _watchlist_reply(entries: list) -> Reply:
    if not entries:
        return bk.message("No creators watched yet. `/watch @handle` adds one.")
    lines = []
    for e in entries[:50]:
        synced = f"synced {e.last_synced_at:%Y-%m-%d %H:%M} UTC" if e.last_synced_at else "not yet"
        why = f" — {bk.esc(e.reason)}" if e.reason else ""
        lines.append(f"@{bk.esc(e.handle)} ({bk.esc(e.platform)}, {synced}){why}")
    more = f"\n…and {len(entries) - 50} more" if len(entries) > 50 else ""
    return bk.message(f"*Watching {len(entries)}:*\n" + "\n".join(lines) + more)


def _source_line(s: Any) -> str:
    """One source's standing on the App Home (engine.ingest.sync.SourceStatus)."""
    last = s.last_sync_finished_at or s.last_sync_started_at
    token = s.token_state + (f" ({bk.esc(s.token_message)})" if s.token_message else "")
    quota = f", quota {s.quota_used}/{s.quota_limit}" if s.quota_limit else ""
    errors = ", ".join(f"{k} {v}" for k, v in sorted(s.errors.items())) or "none"
    return (
        f"*{bk.esc(s.source)}* — last sync "
        + (f"{last:%Y-%m-%d %H:%M} UTC" if last else "never")
        + f" · {s.due} of {s.watched} due · {s.calls_today} calls today{quota}"
        + f" · errors: {errors} · token {token}"
    )


def _blank(value: Any) -> Any:
    """A CSV cell: unknown is empty, not 'None'."""
    return "" if value is None else value


class Scout:
    def __init__(self, recommender: Any, workspace_ops: Any = None) -> None:
        """`workspace_ops`: the digest and feedback part (ScoutParts.workspace_ops), handed
        in by the bot's assembly; None (a fake engine, no store) turns digests off."""
        self.rec = recommender
        self.workspace = workspace_ops
        # New commands register here and in bot/manifest.yml.
        self.commands: dict[str, Callable[[str, Caller], Reply]] = {
            "lookalike": self.lookalike,
            "vet": self.vet,
            "map": self.map,
            "topics": self.topics,
            "topic": self.topic,
            "hashtags": self.hashtags,
            "songs": self.songs,
            "trending": self.trending,
            "digest": self.digest,
            "watch": self.watch,
            "list": self.shortlist,
            "scout": self.scout,
            "help": self.scout,
        }

    # ---------------------------------------------------------------- entry
    def command(self, name: str, text: str, caller: Caller = Caller()) -> Reply:
        handler = self.commands.get(name.lstrip("/").lower())
        if handler is None:
            return help_reply(f"I don't know {bk.code('/' + name.lstrip('/'))}.")
        try:
            return handler(text or "", caller)
        except Exception as err:  # noqa: BLE001 - every failure becomes a message
            return polite_error(err)

    def line(self, line: str, caller: Caller = Caller()) -> Reply:
        """'/lookalike @x' or 'lookalike @x' typed in a DM or the console; any other text
        is a request in plain words (`plain`)."""
        name, _, rest = line.strip().partition(" ")
        if not name:
            return help_reply()
        key = name.lstrip("/").lower()
        if name.startswith("/") or (key in self.commands and key not in PLAIN_COMMANDS):
            return self.command(key, rest, caller)
        return self.plain(line.strip(), caller)

    def plain(self, text: str, caller: Caller = Caller()) -> Reply:
        """A request in plain words, read by the engine (Recommender.understand) and
        answered by the command it means, the answer saying how it was read; an unclear
        one is the engine's question with a button per likely reading. The bot reads
        nothing itself: the parser lives in engine/chat."""
        try:
            reading = self.rec.understand(text)
        except Exception as err:  # noqa: BLE001 - every failure becomes a message
            return polite_error(err)
        if not reading.clear:
            return question_reply(reading.question, reading.choices)
        reply = self.command(reading.command, reading.args, caller)
        if reading.direct:  # typed as a command already: nothing to explain
            return reply
        left_out = ", ".join(f"“{bk.esc(w)}”" for w in reading.ignored)
        why = f" (left out {left_out}: no hashtag in the data matches it)" if left_out else ""
        read_as = bk.context(f"Read as: {bk.code(reading.line)}{why}")
        return Reply(reply.text, [read_as, *reply.blocks], reply.ephemeral, reply.file)

    # ------------------------------------------------------------- commands
    def lookalike(self, text: str, caller: Caller) -> Reply:
        req = parsing.parse_lookalike(text)
        answer = self.rec.lookalike(req.handle, req.k, filters=req.filters)
        handle = answer.meta.get("handle", req.handle)
        return bk.influencers(f"Creators like @{handle}", answer, "lookalike", text)

    def vet(self, text: str, caller: Caller) -> Reply:
        """`/vet @handle`: the trust card, every number with its reason and confidence."""
        words = text.split()
        if not words:
            raise ScoutError("Give a creator handle, e.g. `/vet @some_creator`.")
        card = self.rec.vet(parsing.clean_handle(words[0]))
        return bk.vet_card(card.to_details(), card.label)

    def map(self, text: str, caller: Caller) -> Reply:
        """`/map @handle [n]`: the creator's neighbourhood as a PNG (t-SNE, topic colours)."""
        words = text.split()
        if not words:
            raise ScoutError("Give a creator handle, e.g. `/map @some_creator 300`.")
        handle = parsing.clean_handle(words[0])
        n = parsing.parse_count(words[1]) if len(words) > 1 else 300
        png = self.rec.influencer_map(handle, n)
        title = f"Map of @{handle.lower()} and its {n} nearest creators"
        return Reply(
            bk.esc(title),
            [bk.section(f"*{bk.esc(title)}*, coloured by topic.")],
            file=(f"map-{handle}.png", png),
        )

    def topics(self, text: str, caller: Caller) -> Reply:
        """`/topics`: the fixed topics found in the hashtags, largest first."""
        k = parsing.parse_count_only(text, "/topics", 50)
        return bk.ranked("Topics in the data", self.rec.topics(k))

    def more_like(self, handle: str) -> Reply:
        try:
            return self.lookalike(handle, Caller())
        except Exception as err:  # noqa: BLE001
            return polite_error(err)

    def export_csv(self, kind: str, query: str) -> tuple[str, str]:
        """The creators of a lookalike or topic answer as CSV (filename, text), for the
        results' download button."""
        import csv
        import io

        if kind == "lookalike":
            req = parsing.parse_lookalike(query)
            answer = self.rec.lookalike(req.handle, req.k, filters=req.filters)
            name = f"lookalike-{req.handle}.csv"
        elif kind == "topic":
            treq = parsing.parse_topic(query)
            answer = self.rec.topic(treq.query, treq.k, filters=treq.filters)
            name = "topic.csv"
        else:
            raise ScoutError(f"Nothing to export for {kind}.")
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "rank",
                "handle",
                "score",
                "followers",
                "er_percent",
                "why",
                "quality",  # the trust card's, after the older columns scripts read by place
                "sponsored_percent",
                "safe",
            ]
        )
        for rank, r in enumerate(answer.results, 1):
            safe = r.extra.get("safe")
            writer.writerow(
                [
                    rank,
                    r.id,
                    f"{r.score:.4f}",
                    r.extra.get("followers", ""),
                    r.extra.get("er", ""),
                    r.why,
                    _blank(r.extra.get("quality")),
                    _blank(r.extra.get("sponsored_percent")),
                    "" if safe is None else ("yes" if safe else "no"),
                ]
            )
        return name, out.getvalue()

    def topic(self, text: str, caller: Caller) -> Reply:
        req = parsing.parse_topic(text)
        blocks: list[dict] = []
        parts: list[str] = []
        failures: list[Exception] = []
        try:
            tags = self.rec.related_tags(req.query, k=15)
            blocks += bk.hashtags(f"Hashtags for {req.query}", tags)
            parts.append(bk.tags_line(tags))
        except ScoutError as err:
            failures.append(err)
            blocks += polite_error(err).blocks
        try:
            creators = self.rec.topic(req.query, req.k, filters=req.filters)
            reply = bk.influencers(f"Creators for {req.query}", creators, "topic", text)
            blocks += [bk.divider(), *reply.blocks]
            parts.append(reply.text)
        except ScoutError as err:
            if not (failures and str(failures[0]) == str(err)):
                blocks += [bk.divider(), *polite_error(err).blocks]
            failures.append(err)
        if len(failures) == 2:
            return polite_error(failures[0])
        return Reply(" | ".join(parts) or f"Topic {bk.esc(req.query)}", blocks)

    def hashtags(self, text: str, caller: Caller) -> Reply:
        req = parsing.parse_tags(text)
        query, answer = req.query, self.rec.related_tags(req.query, k=req.k)
        return Reply(
            f"Hashtags related to {bk.esc(query)}: {bk.tags_line(answer)}",
            bk.hashtags(f"Hashtags related to {query}", answer),
        )

    def photo(self, image: bytes, mode: str, file_id: str) -> Reply:
        try:
            answer = self.rec.photo_hashtags(image, mode=mode)
            return bk.photo(answer, mode, file_id)
        except Exception as err:  # noqa: BLE001
            return polite_error(err)

    def songs(self, text: str, caller: Caller) -> Reply:
        req = parsing.parse_songs(text)
        answer = self.rec.songs_for(req.handle, req.k)
        handle = answer.meta.get("handle", req.handle)
        return bk.songs(f"Songs for @{handle}'s next reel", answer)

    def trending(self, text: str, caller: Caller) -> Reply:
        req = parsing.parse_trending(text)
        answer = self.rec.trending(req.days, req.k, topic=req.topic)
        topic = f" among #{req.topic} creators" if req.topic else ""
        return bk.songs(f"Trending songs, {window_words(answer, req.days)}{topic}", answer)

    def digest_reply(self, days: int = 7) -> Reply:
        """The daily digest message (what the clock posts)."""
        try:
            answer = self.rec.trending(days, 10)
        except ModelNotTrained:
            answer = Answer(
                [], ["The songs model is not trained yet; the digest will fill in once it is."]
            )
        return bk.songs(f"🎵 Daily digest: trending songs, {window_words(answer, days)}", answer)

    def digest(self, text: str, caller: Caller) -> Reply:
        req = parsing.parse_digest(text)
        if not caller.in_slack:
            raise ScoutError(
                "A daily digest is posted to a Slack channel, and the console has none, so I "
                "won't pretend to schedule one. `/trending 7` shows what today's digest would "
                "say; in Slack, `/digest on 09:00 Europe/Paris` in a channel starts it."
            )
        if self.workspace is None or not caller.channel_id:
            raise ScoutError("Digests need a Slack channel; use `/digest` in Slack.")
        team, channel = caller.team_id or "", caller.channel_id
        if req.action == "on":
            tz = req.timezone or "UTC"
            sub = self.workspace.subscribe(team, channel, req.local_time, tz, caller.user_id)
            note = (
                "" if req.timezone else " (add an Area/City like `Europe/Paris` for your time zone)"
            )
            return bk.message(
                f":white_check_mark: This channel gets trending songs every day at "
                f"*{bk.esc(sub.local_time)} {bk.esc(sub.timezone)}*{note}. `/digest off` stops it."
            )
        if req.action == "off":
            done = self.workspace.unsubscribe(team, channel)
            return bk.message(
                "Daily digest turned off for this channel."
                if done
                else "This channel had no daily digest."
            )
        sub = self.workspace.subscription(team, channel)
        if sub is None:
            return bk.message("No daily digest here. `/digest on 09:00 Europe/Paris` starts one.")
        if not sub.enabled:
            why = f" ({bk.esc(sub.disabled_reason)})" if sub.disabled_reason else ""
            return bk.message(f"The daily digest here is off{why}. `/digest on` restarts it.")
        return bk.message(
            f"Daily digest here at *{bk.esc(sub.local_time)} {bk.esc(sub.timezone)}*, "
            f"songs of the last {sub.window_days} days."
        )

    def watch(self, text: str, caller: Caller) -> Reply:
        """This workspace's watchlist (the console's is the CLI's `engine watch`)."""
        if self.workspace is None:
            raise ScoutError("Watching creators needs Scout's database; this bot has none.")
        words = text.split()
        action = words[0].lower() if words and words[0].lower() in WATCH_ACTIONS else "add"
        args = words[1:] if words and words[0].lower() in WATCH_ACTIONS else words
        team = caller.team_id
        if action == "list":
            return _watchlist_reply(self.workspace.watchlist(team))
        if not args or len(args) > 2:
            raise ScoutError("Write it like `/watch @handle [instagram|youtube|tiktok]`.")
        handle, platform = args[0], (args[1].lower() if len(args) > 1 else None)
        if action == "remove":
            key, gone = self.workspace.watch_remove(team, handle, platform)
            return bk.message(
                f"Stopped watching @{bk.esc(key)}."
                if gone
                else f"I wasn't watching @{bk.esc(key)}."
            )
        key, added = self.workspace.watch_add(team, handle, platform or "instagram", caller.user_id)
        where = bk.esc(platform or "instagram")
        return bk.message(
            f":eyes: Watching @{bk.esc(key)} on {where}: synced with the next daily sync."
            if added
            else f"Already watching @{bk.esc(key)} on {where}."
        )

    def shortlist(self, text: str, caller: Caller) -> Reply:
        """`/list ...`: this workspace's shortlists (bot/shortlists.py)."""
        return lists.list_reply(self, text, caller)

    def scout(self, text: str, caller: Caller) -> Reply:
        word = text.strip().split(" ", 1)[0].lower()
        if word in ("", "help"):
            return help_reply()
        if word.lstrip("/") in self.commands and word.lstrip("/") not in ("scout", "help"):
            return self.line(text, caller)
        return help_reply(f"I don't know {bk.code(text.strip())}.")

    # -------------------------------------------------------------- App Home
    def home_view(self, team_id: str | None) -> dict[str, Any]:
        blocks: list[dict] = [
            bk.header("Scout"),
            bk.section(HELP),
            bk.divider(),
            bk.header("Daily digests in this workspace"),
        ]
        # Without a team id there is no workspace to show: never every team's digests.
        subs = self.workspace.subscriptions(team_id) if self.workspace and team_id else []
        if not team_id:
            blocks.append(bk.section("Slack did not say which workspace this is, so no digests."))
        elif subs:
            lines = [
                f"<#{bk.esc(s.channel_id)}> at {bk.esc(s.local_time)} {bk.esc(s.timezone)}"
                + ("" if s.enabled else f" — off ({bk.esc(s.disabled_reason or 'turned off')})")
                for s in subs
            ]
            blocks.append(bk.section("\n".join(lines)))
        else:
            blocks.append(bk.section("None yet. `/digest on 09:00 Europe/Paris` in a channel."))
        blocks += lists.home_blocks(self.workspace, team_id)
        blocks += [bk.divider(), bk.header("Data sources")]
        try:
            sources = self.workspace.sync_status() if self.workspace else []
        except Exception as err:  # noqa: BLE001 - the Home still shows the rest
            sources = []
            log.warning("source status unavailable: %s", err)
        blocks.append(
            bk.section("\n".join(_source_line(s) for s in sources))
            if sources
            else bk.section("No source status: `/watch @handle`, then the daily sync runs.")
        )
        blocks += [bk.divider(), bk.header("Model freshness")]
        try:
            status = self.rec.model_status()
        except Exception as err:  # noqa: BLE001
            status = []
            log.warning("model status unavailable: %s", err)
        if status:
            lines = []
            for m in status:
                size = _data_size(m)
                lines.append(
                    f"*{m.kind}* v{m.version}, trained {m.created_at:%Y-%m-%d %H:%M} UTC"
                    + (f" on {size}" if size else "")
                    + (f" — {bk.esc(m.summary)}" if m.summary else "")
                )
            blocks.append(bk.section("\n".join(lines)))
        else:
            blocks.append(bk.section("No model trained yet: run `python -m engine train`."))
        try:
            failures = self.rec.training_failures()
        except Exception as err:  # noqa: BLE001
            failures = []
            log.warning("training failures unavailable: %s", err)
        if failures:
            blocks.append(bk.section("\n".join(_failure_line(f) for f in failures)))
        return {"type": "home", "blocks": blocks}
