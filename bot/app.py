"""The slack_bolt App shared by every mode (HTTP, Socket Mode; the console drives the
same Scout core).

Slack wants an answer within 3 seconds. Every listener acks at once and hands the
work to its own thread pool, so a slow engine or a model still loading never delays
an ack, even when bolt's listener threads are all busy. Nothing on the ack path waits
on the database: retried deliveries are recognised by their `event_id` after the ack,
in the background work, by a claim in the database (shared by every worker and
process) that records an answer under way, not a receipt: it is marked done once
answered, released when the work fails and lapses when the worker dies, so a retry
whose first delivery never arrived, failed or crashed is still answered, and a
duplicate never twice. Answers to a response_url go through bot.outbox.Outbox (kept
until delivered, retried through rate limits and restarts, owned by one process at a
time); messages in threads through bot.outbox.PostResolver (never re-sent blindly).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import blocks as bk
from bot import unfurl
from bot.blocks import Reply
from bot.config import SCOPES, BotConfig, redact, web_client
from bot.files import UnsafeDownload, allowed_hosts, download
from bot.outbox import Outbox, PostResolver
from bot.router import CHOICE, Caller, Scout, polite_error
from bot.shortlists import button_reply, posts_to_channel
from bot.threads import is_thread_reply, on_reply, remember
from engine.bootstrap import ScoutParts
from engine.service import ScoutError

log = logging.getLogger(__name__)

COMMANDS = [
    "/lookalike",
    "/vet",
    "/topic",
    "/hashtags",
    "/songs",
    "/trending",
    "/digest",
    "/watch",
    "/list",
    "/topics",
    "/map",
    "/scout",
]


TOKEN_PROBLEMS = {
    "invalid_auth": "is not a valid token (a typo, or a token of another app)",
    "not_authed": "is empty",
    "token_revoked": "was revoked (the app was uninstalled or the token regenerated)",
    "account_inactive": "belongs to a deactivated app or workspace",
    "token_expired": "has expired (token rotation is on; turn it off or use OAuth)",
}


def token_problem(config: BotConfig) -> str | None:
    """Why Slack refuses SLACK_BOT_TOKEN, in one line, or None when it accepts it (or
    there is no single token to check: OAuth, the console). Asked once with auth.test
    before anything starts, because bolt's own check at start-up is a 50-line BoltError
    (and under gunicorn a booting worker's traceback and `Worker failed to boot`)."""
    if config.oauth or not config.bot_token:
        return None
    from slack_sdk.errors import SlackApiError

    sdk_log = logging.getLogger("slack_sdk")  # its retries' lines would bury the one line
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)
    try:
        web_client(config, config.bot_token).auth_test()
    except SlackApiError as err:
        code = (err.response.get("error") if err.response is not None else None) or "error"
        why = TOKEN_PROBLEMS.get(code, f"was refused ({code})")
        return (
            f"Slack refused SLACK_BOT_TOKEN: it {why} [{code}]. Copy the Bot User OAuth "
            "Token (xoxb-...) from the app's OAuth & Permissions page."
        )
    except Exception as err:  # noqa: BLE001 - a network failure is one line too
        return (
            f"Could not reach Slack at {config.api_url} to check SLACK_BOT_TOKEN: "
            f"{redact(f'{type(err).__name__}: {err}')}"
        )
    finally:
        sdk_log.setLevel(level)
    return None


PRIVATE_COMMANDS = ("scout", "digest", "watch", "list")  # answers only the asker needs: no share
NOT_IN_CHANNEL = ("not_in_channel", "channel_not_found")


def upload_error(err: Exception) -> Reply:
    """A file (map, CSV) Slack would not post: when the bot is not in the channel, how to
    invite it; anything else as every error is worded."""
    from slack_sdk.errors import SlackApiError

    refused = isinstance(err, SlackApiError) and err.response is not None
    if refused and err.response.get("error") in NOT_IN_CHANNEL:
        return bk.error_reply(
            "I can't post files here because I'm not in this channel. Invite me with "
            "`/invite @Scout`, then ask again (or ask me in a DM)."
        )
    return polite_error(err)


def load_parts(config: BotConfig, database_url: str | None = None) -> ScoutParts:
    """The engine's parts (engine.bootstrap.assemble), the recommender replaced by the
    object that SCOUT_RECOMMENDER ('module:callable') makes from it: tests inject a slow
    or failing engine into a real served bot this way, keeping the real workspace
    operations for digests, feedback and the outbox."""
    from dataclasses import replace

    from engine.bootstrap import assemble

    parts = assemble(database_url, background_reload=True)
    if config.recommender_factory:
        import importlib

        module, _, name = config.recommender_factory.partition(":")
        make = getattr(importlib.import_module(module), name)
        return replace(parts, recommender=make(parts.recommender))
    return parts


class _Seen:
    """A bounded set of recently seen keys (event ids), thread-safe."""

    def __init__(self, size: int = 5000) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """True if the key is new."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


class _Images:
    """Uploaded photos kept for a while so the mode button does not download again."""

    def __init__(self, size: int = 32) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._items[key] = data
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _payload(reply: Reply, *, in_channel: bool = True) -> dict[str, Any]:
    out = {"text": reply.text, "blocks": reply.blocks}
    out["response_type"] = "ephemeral" if reply.ephemeral or not in_channel else "in_channel"
    return out


class SlackBot:
    """Builds the bolt App and holds the pieces its listeners share."""

    def __init__(self, config: BotConfig, recommender: Any, workspace_ops: Any = None) -> None:
        self.config = config
        self.scout = Scout(recommender, workspace_ops)
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="scout-work")
        self.seen = _Seen()
        self.images = _Images()
        self.outbox = Outbox(
            self.scout.workspace, config.answer_lease_s, post_timeout=config.slack_timeout
        )
        self.resolver = PostResolver(self.scout.workspace, config.lookup_interval_s)
        self.file_hosts = allowed_hosts(config.api_url)
        self.app = self._build_app()
        self._register()

    # ------------------------------------------------------------------ app
    def _build_app(self):
        from slack_bolt import App

        client = web_client(self.config, self.config.bot_token)
        common = dict(
            client=client,
            process_before_response=False,
            signing_secret=self.config.signing_secret or "",
            listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="scout-bolt"),
        )
        if self.config.oauth:
            return App(oauth_settings=self.oauth_settings(), **common)
        return App(token=self.config.bot_token, **common)

    def oauth_settings(self):
        from slack_bolt.oauth.oauth_settings import OAuthSettings

        rec = self.scout.rec
        return OAuthSettings(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scopes=SCOPES,
            installation_store=rec.slack_installation_store(self.config.client_id),
            state_store=rec.slack_state_store(expiration_seconds=600),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )

    def submit(self, fn, *args) -> None:
        """Run slow work after the ack; failures are logged, never raised into bolt."""

        def run() -> None:
            try:
                fn(*args)
            except Exception as err:  # noqa: BLE001
                log.error("background work failed: %s", redact(f"{type(err).__name__}: {err}"))

        self.pool.submit(run)

    # ------------------------------------------------------------ listeners
    def _register(self) -> None:
        app = self.app

        @app.middleware
        def event_key(req, resp, next):  # noqa: A002 - bolt's signature
            """Names the event for the dedupe that runs after the ack (no database here)."""
            event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
            if event_id:
                req.context["event_key"] = f"event:{event_id}"
            return next()

        for name in COMMANDS:
            app.command(name)(self.on_command)
        app.action("more_like")(self.on_more_like)
        app.action("vote_up")(self.on_vote)
        app.action("vote_down")(self.on_vote)
        app.action("photo_mode")(self.on_photo_mode)
        app.action("export_csv")(self.on_export)
        app.action(bk.SHARE)(self.on_share)
        for i in range(5):  # a question's buttons (bot.router.question_reply)
            app.action(f"{CHOICE}_{i}")(self.on_choice)
        app.action(bk.LIST_ADD)(self.on_list_add)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home)
        unfurl.register(self)  # link_shared: profile links become creator cards

        @app.error
        def on_error(error, body, logger):  # pragma: no cover - last resort
            logger.error("listener error: %s", redact(f"{type(error).__name__}: {error}"))

    def once(self, keys: list[str | None], fn, *args) -> None:
        """Run `fn` after the ack, once per key across every worker and process. Each key
        is claimed in the background (a locked database delays the answer, never the
        ack), marked done when `fn` returns, released when it raises, and left to lapse
        (SCOUT_EVENT_LEASE_S) when the worker dies, so Slack's retry is then answered.
        A key some other worker holds or answered drops the work."""
        keys = [k for k in keys if k]

        def run() -> None:
            taken: list[str] = []
            try:
                for key in keys:
                    if not self._claim(key):
                        break
                    taken.append(key)
                else:
                    fn(*args)
            except Exception as err:  # noqa: BLE001 - release: Slack's retry gets a turn
                for key in taken:
                    self._settle(key, done=False)
                log.error("background work failed: %s", redact(f"{type(err).__name__}: {err}"))
                return
            for key in taken:
                self._settle(key, done=True)

        self.pool.submit(run)

    def _claim(self, key: str) -> bool:
        """True once per key while its answer is under way or done (the database
        decides); without a workspace store, once per process."""
        workspace = self.scout.workspace
        if workspace is not None:
            try:
                now = datetime.now(UTC).replace(tzinfo=None)
                return workspace.claim_event(key, now, timedelta(seconds=self.config.event_lease_s))
            except Exception as err:  # noqa: BLE001 - better answered twice than never
                log.error("event dedupe unavailable: %s", redact(str(err)))
        return self.seen.add(key)

    def _settle(self, key: str, *, done: bool) -> None:
        workspace = self.scout.workspace
        if workspace is None:
            return
        try:
            workspace.event_done(key) if done else workspace.release_event(key)
        except Exception as err:  # noqa: BLE001 - the lease lapses by itself
            log.warning("could not settle event %s: %s", key, redact(str(err)))

    def respond(self, response_url: str | None, **payload: Any) -> None:
        """Answer through the response_url, durably and with retries (bot.outbox)."""
        if not response_url:
            log.error("no response_url to answer on; answer dropped")
            return
        self.outbox.send(response_url, payload)

    def on_command(self, ack, command, client) -> None:
        ack(
            response_type="ephemeral",
            text=f"Working on {bk.code(command['command'] + ' ' + command.get('text', ''))}…",
        )
        caller = Caller(command.get("team_id"), command.get("channel_id"), command.get("user_id"))
        name = command["command"].lstrip("/")

        def work() -> None:
            reply = self.scout.command(name, command.get("text", ""), caller)
            if reply.file is not None:
                reply = self._upload(client, command.get("channel_id"), reply)
            elif name not in PRIVATE_COMMANDS and not reply.ephemeral:
                reply = bk.with_share_button(reply, name, command.get("text", ""))
            public = posts_to_channel(name, command.get("text", ""))
            self.respond(command.get("response_url"), **_payload(reply, in_channel=public))

        self.submit(work)

    def _upload(self, client, channel: str | None, reply: Reply) -> Reply:
        """Post a reply's file (a map) to the channel with files_upload_v2; what the user
        then sees is a short confirmation, or why the upload failed."""
        name, content = reply.file
        try:
            client.files_upload_v2(
                channel=channel,
                content=content,
                filename=name,
                title=reply.text,
                initial_comment=reply.text,
            )
        except Exception as err:  # noqa: BLE001 - becomes a message
            return upload_error(err)
        return Reply(reply.text, reply.blocks)

    def on_share(self, ack, body, action, client) -> None:
        """'Share in channel' under an ephemeral answer: the same command asked again
        and its answer posted to the channel, once per answer (a double click, or two
        people's clicks on one answer, post it once). The bot posts it itself
        (`_post_shared`), so the post has a ts and its thread remembers the answer."""
        ack()
        data = json.loads(action["value"])
        channel = (body.get("channel") or {}).get("id")
        user = (body.get("user") or {}).get("id")
        shown = (body.get("container") or {}).get("message_ts") or ""
        digest = hashlib.sha1(f"{data['c']} {data['t']}".encode()).hexdigest()[:16]  # noqa: S324
        key = f"share:{channel}:{shown}:{digest}"

        def work() -> None:
            caller = Caller((body.get("team") or {}).get("id"), channel, user)
            reply = self.scout.command(data["c"], data["t"], caller)
            if reply.ephemeral:  # it no longer answers (a model went away): say so, privately
                self.respond(body.get("response_url"), **_payload(reply), replace_original=False)
                return
            line = f"{data['c']} {data['t']}"
            shared = bk.context(f"Shared by <@{bk.esc(user)}> · {bk.code('/' + line)}")
            reply = Reply(reply.text, [*reply.blocks, shared])
            self._post_shared(client, body.get("response_url"), reply, line, caller, key)

        self.once([key], work)

    def _post_shared(
        self, client, response_url: str | None, reply: Reply, line: str, caller: Caller, key: str
    ) -> None:
        """Post a shared answer with chat.postMessage and keep its thread's context, so
        a reply there ("more like the second one") acts on it, as under any answer the
        bot posts (bot/threads.py). Where Slack will not let the bot post (a private
        channel it is not in, a DM between two people) the response_url still can:
        the answer is shared that way, without a thread that remembers."""
        from slack_sdk.errors import SlackApiError

        try:
            posted = self.resolver.post(
                client, caller.team_id, key, channel=caller.channel_id, text=reply.text,
                blocks=reply.blocks,
            )  # fmt: skip
        except SlackApiError as err:  # Slack said no: nothing was posted
            code = err.response.get("error") if err.response is not None else "error"
            log.info("share posted through the response_url (chat.postMessage: %s)", code)
            self.respond(response_url, **_payload(reply), replace_original=False)
            return
        if posted is not None:  # None: in doubt, resolved by the PostResolver, not remembered
            event = {"channel": caller.channel_id, "ts": posted["ts"]}
            remember(self, caller.team_id, event, reply, line)

    def on_list_add(self, ack, body, action) -> None:
        """'Add to list' under a creator (bot/shortlists.py), answered privately."""
        ack()
        team, user = (body.get("team") or {}).get("id"), (body.get("user") or {}).get("id")
        self.submit(
            lambda: self.respond(
                body.get("response_url"),
                **_payload(button_reply(self.scout, team, user, action["value"])),
                replace_original=False,
            )
        )

    def on_choice(self, ack, body, action) -> None:
        """A button under Scout's question (an unclear plain-language request): the
        reading it names runs as that command, answered where the question was."""
        ack()
        caller = Caller(
            (body.get("team") or {}).get("id"),
            (body.get("channel") or {}).get("id"),
            (body.get("user") or {}).get("id"),
        )
        self.submit(
            lambda: self.respond(
                body.get("response_url"),
                **_payload(self.scout.line(action["value"], caller)),
                replace_original=False,
            )
        )

    def on_more_like(self, ack, body, action) -> None:
        """'More like #N' under results and 'Lookalikes' on a creator card: a click is
        one person's question, so it is answered as a slash command is, to that person
        (ephemeral) with 'Share in channel', never to the whole channel at once (a card
        in a channel, or a shared answer, is seen by everyone)."""
        ack()
        handle = str(action["value"])

        def work() -> None:
            reply = self.scout.more_like(handle)
            if not reply.ephemeral:
                reply = bk.with_share_button(reply, "lookalike", "@" + handle.lstrip("@"))
            self.respond(
                body.get("response_url"),
                **_payload(reply, in_channel=False),
                replace_original=False,
            )

        self.submit(work)

    def on_vote(self, ack, body, action) -> None:
        ack()
        vote = 1 if action["action_id"] == "vote_up" else -1

        def work() -> None:
            try:
                data = json.loads(action["value"])
                if self.scout.workspace is None:
                    raise ScoutError("This Scout has no workspace store, so feedback is off.")
                self.scout.workspace.record_feedback(
                    (body.get("team") or {}).get("id"),
                    (body.get("user") or {}).get("id"),
                    data["k"],
                    data.get("q"),
                    data["i"],
                    vote,
                )
                text = f"Thanks — noted {'👍' if vote > 0 else '👎'} for {bk.esc(data['i'])}."
            except Exception as err:  # noqa: BLE001
                text = polite_error(err).text
            self.respond(
                body.get("response_url"),
                text=text,
                response_type="ephemeral",
                replace_original=False,
            )

        self.submit(work)

    def on_export(self, ack, body, action, client) -> None:
        ack()

        def work() -> None:
            try:
                data = json.loads(action["value"])
                name, content = self.scout.export_csv(data["k"], data["q"])
                client.files_upload_v2(
                    channel=body["channel"]["id"],
                    content=content,
                    filename=name,
                    title=name,
                    initial_comment="Results of " + bk.code(f"/{data['k']} {data['q']}"),
                )
            except Exception as err:  # noqa: BLE001
                self.respond(
                    body.get("response_url"),
                    **_payload(upload_error(err), in_channel=False),
                    replace_original=False,
                )

        self.submit(work)

    # --------------------------------------------------------------- photos
    def on_mention(self, event, client, say, context) -> None:
        if event.get("files"):
            self._photo_once(event, client, context)
            return
        text = " ".join(w for w in event.get("text", "").split() if not w.startswith("<@"))
        caller = Caller(context.get("team_id"), event.get("channel"), event.get("user"))
        if is_thread_reply(event, None):  # a follow-up of the thread's answer, or a request
            args = (self, {**event, "text": text}, client, caller, True)
            self.once([context.get("event_key")], on_reply, *args)
            return
        self.once([context.get("event_key")], self.answer_text, client, event, text, caller)

    def on_message(self, event, client, context) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return
        if is_thread_reply(event, context.get("bot_user_id")):  # bot/threads.py
            caller = Caller(context.get("team_id"), event.get("channel"), event.get("user"))
            addressed = event.get("channel_type") == "im"
            self.once([context.get("event_key")], on_reply, self, event, client, caller, addressed)
            return
        if event.get("channel_type") != "im":
            # a channel photo that mentions the bot (message.channels); app_mention may
            # bring the same message, so both paths go through _photo_once
            bot_user = context.get("bot_user_id")
            if event.get("files") and bot_user and f"<@{bot_user}>" in event.get("text", ""):
                self._photo_once(event, client, context)
            return
        if event.get("files"):
            self._photo_once(event, client, context)
            return
        caller = Caller(context.get("team_id"), event.get("channel"), event.get("user"))
        text = event.get("text", "")
        self.once([context.get("event_key")], self.answer_text, client, event, text, caller)

    def answer_text(self, client, event, text: str, caller: Caller) -> None:
        """A message's answer, in its thread, remembered there for follow-ups."""
        reply = self.scout.line(text, caller)
        self._say(client, event, reply, caller.team_id)
        remember(self, caller.team_id, event, reply, text)

    def _photo_once(self, event, client, context) -> None:
        photo = f"photo:{event.get('channel')}:{event.get('ts')}"
        self.once([context.get("event_key"), photo], self.answer_photo, event, client, context)

    def _say(self, client, event, reply: Reply, team_id: str | None, suffix: str = "") -> None:
        """Answer in the message's thread; the answer's id (the channel and ts it
        answers) rides in the metadata so a post in doubt is found, not re-sent."""
        self.resolver.post(
            client,
            team_id,
            f"{event['channel']}:{event['ts']}{suffix}",
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event["ts"],
            text=reply.text,
            blocks=reply.blocks,
        )

    def answer_photo(self, event, client, context) -> None:
        """'Looking at your photo…' in the thread at once, replaced by the hashtags."""
        from slack_sdk.errors import SlackApiError

        file = event["files"][0]
        try:  # never re-sent: a placeholder in doubt is skipped, the answer is posted
            working = client.chat_postMessage(
                channel=event["channel"],
                thread_ts=event.get("thread_ts") or event["ts"],
                text=":mag: Looking at your photo…",
            )
        except SlackApiError:
            raise
        except Exception as err:  # noqa: BLE001
            log.warning("photo placeholder in doubt: %s", redact(f"{type(err).__name__}: {err}"))
            working = None
        try:
            image = self.fetch_image(client, file)
            self.images.put(file["id"], image)
            reply = self.scout.photo(image, "similar", file["id"])
        except Exception as err:  # noqa: BLE001
            reply = polite_error(err)
        if working is None:
            self._say(client, event, reply, context.get("team_id"), ":photo")
            return
        for attempt in range(2):  # an update is idempotent: one more try is safe
            try:
                client.chat_update(
                    channel=event["channel"], ts=working["ts"], text=reply.text, blocks=reply.blocks
                )
                return
            except SlackApiError:
                raise
            except Exception:  # noqa: BLE001
                if attempt:
                    raise

    def fetch_image(self, client, file: dict) -> bytes:
        """The file's bytes, downloaded with the bot token; non-images and big files are
        refused before downloading."""
        from engine.service import BadImage

        if not file.get("url_private_download") or "size" not in file or "mimetype" not in file:
            file = client.files_info(file=file["id"])["file"]
        mimetype = file.get("mimetype") or ""
        if not mimetype.startswith("image/"):
            raise BadImage(
                f"`{file.get('name', 'that file')}` is not a photo ({mimetype or 'unknown type'}); "
                "send a JPEG or PNG."
            )
        limit = self.config.max_upload_bytes
        if int(file.get("size") or 0) > limit:
            raise BadImage(
                f"That photo is {int(file['size']) / 1e6:.1f} MB; I take photos up to "
                f"{limit / 1e6:.0f} MB. Send a smaller one."
            )
        try:
            data, ctype = download(
                file["url_private_download"], client.token, limit, self.file_hosts
            )
        except UnsafeDownload as err:
            log.warning("photo %s not downloaded: %s", file.get("id"), err)
            raise BadImage("I only download photos from Slack's own file servers.") from None
        if len(data) > limit:
            raise BadImage(f"That photo is over {limit / 1e6:.0f} MB; send a smaller one.")
        if ctype.startswith("text/html"):
            raise BadImage("I could not download that photo (Slack refused the file). Try again.")
        return data

    def on_photo_mode(self, ack, body, action, client) -> None:
        ack()

        def work() -> None:
            data = json.loads(action["value"])
            file_id, mode = data["f"], data["m"]
            try:
                image = self.images.get(file_id) or self.fetch_image(client, {"id": file_id})
                self.images.put(file_id, image)
                reply = self.scout.photo(image, mode, file_id)
            except Exception as err:  # noqa: BLE001
                reply = polite_error(err)
            client.chat_update(
                channel=body["channel"]["id"],
                ts=body["message"]["ts"],
                text=reply.text,
                blocks=reply.blocks,
            )

        self.submit(work)

    # ------------------------------------------------------------- App Home
    def on_home(self, event, client, context) -> None:
        if event.get("tab", "home") != "home":
            return
        self.once(
            [context.get("event_key")],
            lambda: client.views_publish(
                user_id=event["user"], view=self.scout.home_view(context.get("team_id"))
            ),
        )


def create_bot(
    config: BotConfig | None = None,
    *,
    parts: ScoutParts | None = None,
    database_url: str | None = None,
) -> SlackBot:
    """The app factory: every mode builds its bot here, over the parts of `load_parts`
    (tests pass their own)."""
    config = config or BotConfig.from_env()
    parts = parts or load_parts(config, database_url)
    bot = SlackBot(config, parts.recommender, parts.workspace_ops)
    bot.outbox.start_resuming()
    threading.Thread(
        target=warm_up, args=(parts.recommender,), name="scout-warm", daemon=True
    ).start()
    return bot


def warm_up(recommender: Any) -> None:
    """Load every published model in the background at start-up, so the first person to
    ask does not wait for it (their ack never waits either way)."""
    try:
        for info in recommender.model_status():
            recommender.model(info.kind)
    except Exception as err:  # noqa: BLE001 - a model that fails to load answers politely later
        log.warning("warm-up stopped: %s", redact(f"{type(err).__name__}: {err}"))
