"""Threads that remember (issue 26): each answer Scout posts in a thread (a DM, a
mention) is kept with its command and results, per workspace and thread, for
SCOUT_THREAD_TTL_DAYS; a reply in that thread ("more like the second one", "only the
ones under 10k", "why #3?", "songs for her", "export this", "vet #1") acts on it.

The words are read by the engine (engine/chat/followups.py, through the workspace
operations, which also keep the contexts in the store): this module only finds the
answer's results in its blocks, asks, and posts. A thread reply that is no follow-up is
answered as any message in a DM; in a channel it is left alone (people talk in
threads), unless it mentions Scout."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from bot import blocks as bk
from bot.blocks import Reply
from bot.config import redact

log = logging.getLogger(__name__)

# Answers a thread remembers even without creators in them (a reply can name their
# creator: "songs for her" after `/vet @x`).
REMEMBERED = ("lookalike", "topic", "songs", "vet", "map")


def results_of(reply: Reply) -> tuple[list[str], list[str], str | None]:
    """(ids, reasons, the command line they answer) of the creators in `reply`, read
    from its 'Add to list' buttons, in rank order."""
    ids: list[str] = []
    whys: list[str] = []
    asked = None
    for b in reply.blocks:
        for e in b.get("elements", []) if b.get("type") == "actions" else []:
            if e.get("action_id") != bk.LIST_ADD:
                continue
            try:
                data = json.loads(e["value"])
            except (ValueError, KeyError):
                continue
            ids.append(str(data.get("h", "")))
            whys.append(str(data.get("w") or ""))
            asked = asked or data.get("c")
    return ids, whys, asked


def is_thread_reply(event: dict, bot_user: str | None) -> bool:
    """A message in an existing thread that this listener should look at: not a file,
    and in a channel not one that mentions Scout (app_mention answers those)."""
    if not event.get("thread_ts") or event.get("thread_ts") == event.get("ts"):
        return False
    if event.get("files"):
        return False
    mentioned = bool(bot_user) and f"<@{bot_user}>" in (event.get("text") or "")
    return event.get("channel_type") == "im" or not mentioned


def remember(bot: Any, team_id: str | None, event: dict, reply: Reply, line: str | None) -> None:
    """Keep what `reply` answered in its thread (best effort: an answer is never lost
    because its context could not be written)."""
    ops = bot.scout.workspace
    ids, whys, asked = results_of(reply)
    name, _, rest = (asked or line or "").strip().partition(" ")
    name = name.lstrip("/").lower()
    if ops is None or not team_id or name not in REMEMBERED:
        return
    try:
        ops.remember_thread(
            team_id,
            event["channel"],
            event.get("thread_ts") or event["ts"],
            name,
            rest.strip(),
            ids,
            whys,
            timedelta(days=bot.config.thread_ttl_days),
        )
    except Exception as err:  # noqa: BLE001 - the answer is posted either way
        log.warning("thread context not kept: %s", redact(f"{type(err).__name__}: {err}"))


def follow_up(bot: Any, team_id: str | None, event: dict) -> Any:
    """The engine's reading of a thread reply (engine.chat.followups.FollowUp) or None."""
    ops = bot.scout.workspace
    if ops is None or not team_id:
        return None
    try:
        return ops.follow_up(team_id, event["channel"], event["thread_ts"], event.get("text", ""))
    except Exception as err:  # noqa: BLE001 - then it is answered as a plain message
        log.warning("thread context unreadable: %s", redact(f"{type(err).__name__}: {err}"))
        return None


def _why(fu: Any) -> Reply:
    text = f"Why #{fu.rank}: {fu.why or 'the answer gave no reason beyond its match score.'}"
    return Reply(
        bk.esc(text),
        [bk.section(f"*{bk.esc(fu.read_as)}*\n_{bk.esc(fu.why or 'no reason beyond the match')}_")],
    )


def _read_as(fu: Any, reply: Reply) -> Reply:
    note = bk.context(f"Read as: {bk.code(fu.line)} ({bk.esc(fu.read_as)})")
    return Reply(reply.text, [note, *reply.blocks], reply.ephemeral, reply.file)


def answer(bot: Any, client: Any, event: dict, fu: Any, caller: Any) -> None:
    """Post the answer to the follow-up `fu` in the thread; a command it runs becomes
    the thread's new context, so follow-ups chain."""
    if fu.action == "why":
        bot._say(client, event, _why(fu), caller.team_id)
        return
    if fu.action == "export":
        command, _, query = fu.line.lstrip("/").partition(" ")
        try:
            name, content = bot.scout.export_csv(command, query)
            client.files_upload_v2(
                channel=event["channel"],
                thread_ts=event["thread_ts"],
                content=content,
                filename=name,
                title=name,
                initial_comment="Results of " + bk.code(fu.line),
            )
            return
        except Exception as err:  # noqa: BLE001 - becomes a message in the thread
            from bot.app import upload_error

            bot._say(client, event, upload_error(err), caller.team_id)
            return
    reply = bot.scout.line(fu.line, caller)
    bot._say(client, event, _read_as(fu, reply), caller.team_id)
    remember(bot, caller.team_id, event, reply, fu.line)


def on_reply(bot: Any, event: dict, client: Any, caller: Any, addressed: bool) -> None:
    """A thread reply, after the ack: a follow-up of the thread's answer, else, when it
    was `addressed` to Scout (a DM, a mention), an ordinary message; else nothing."""
    fu = follow_up(bot, caller.team_id, event)
    if fu is not None:
        answer(bot, client, event, fu, caller)
    elif addressed:
        bot.answer_text(client, event, event.get("text", ""), caller)
