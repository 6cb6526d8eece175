"""Shortlists in Slack and the console (issue 26): `/list new|show|use|add|remove|share|
export NAME`, the 'Add to list' button on every creator, and the lists on the App Home.

The lists live in the store behind the workspace operations (engine.workspace_ops), per
workspace: this module parses, calls those operations and renders, and writes no SQL.
'Add to list' adds to the person's current list, the one they last made or opened;
with none it says to start one (`/list new NAME`) rather than guess a name."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bot import blocks as bk
from bot import parsing
from bot.blocks import Reply
from engine.service import ScoutError

ACTIONS = ("new", "show", "use", "add", "remove", "share", "export")
USAGE = (
    "`/list new NAME` · `/list show NAME` · `/list remove NAME @handle` · "
    "`/list share NAME` · `/list export NAME` · `/list` (this workspace's lists)"
)
SHOW_AT_MOST = 50
CSV_COLUMNS = [
    "handle",
    "profile_url",
    "platform",
    "followers",
    "er_percent",
    "quality",
    "reason",
    "added_by",
    "added_at",
]


def posts_to_channel(command: str, text: str) -> bool:
    """`/list share NAME` is the one list answer the whole channel sees."""
    words = text.split()
    return command.lstrip("/") == "list" and bool(words) and words[0].lower() == "share"


def _ops(scout: Any) -> Any:
    if scout.workspace is None:
        raise ScoutError("Shortlists need Scout's database; this bot has none.")
    return scout.workspace


def _name_and_handle(args: list[str], action: str) -> tuple[str, str, str]:
    """`NAME @handle [reason...]` (the name may have spaces; the handle as typed, as
    Slack's member mention of it, or a profile link): (name, handle, reason)."""
    at = next((i for i, w in enumerate(args) if w.startswith(("@", "<@", "http"))), None)
    if not at:
        raise ScoutError(f"Write it like `/list {action} NAME @handle`.")
    return " ".join(args[:at]), parsing.clean_handle(args[at]), " ".join(args[at + 1 :])


def _member_line(i: int, m: Any) -> str:
    by = f"<@{bk.esc(m.added_by)}>" if m.added_by else "someone"
    why = f" — _{bk.esc(m.reason)}_" if m.reason else ""
    return (
        f"{i}. {bk.profile_link(m.handle, m.platform)} · added by {by} {m.added_at:%Y-%m-%d}{why}"
    )


def _show(info: Any, *, shared_by: str | None = None) -> Reply:
    title = f"List {info.name} ({len(info.members)} creator{'s' * (len(info.members) != 1)})"
    if not info.members:
        body = "Nothing on it yet: press *➕ Add to list* under any creator in an answer."
    else:
        lines = [_member_line(i, m) for i, m in enumerate(info.members[:SHOW_AT_MOST], 1)]
        more = len(info.members) - SHOW_AT_MOST
        body = "\n".join(lines) + (f"\n…and {more} more (`/list export`)" if more > 0 else "")
    blocks = [bk.header(title), bk.section(body)]
    if shared_by:
        blocks.append(bk.context(f"Shared by <@{bk.esc(shared_by)}>"))
    text = f"{bk.esc(title)}: " + ", ".join("@" + bk.esc(m.handle) for m in info.members[:10])
    return Reply(text, blocks, ephemeral=shared_by is None)


def _overview(lists: list) -> Reply:
    if not lists:
        return bk.message("No lists in this workspace yet. " + USAGE)
    lines = [
        f"*{bk.esc(x.name)}* — {len(x.members)} creator{'s' * (len(x.members) != 1)}"
        for x in lists[:SHOW_AT_MOST]
    ]
    return Reply("Lists: " + ", ".join(bk.esc(x.name) for x in lists), [
        bk.section("*Lists in this workspace*\n" + "\n".join(lines)),
        bk.context(USAGE),
    ], ephemeral=True)  # fmt: skip


def _need(info: Any, name: str) -> Any:
    if info is None:
        raise ScoutError(f"There is no list called `{name}` here. `/list new {name}` starts it.")
    return info


def list_reply(scout: Any, text: str, caller: Any) -> Reply:
    """One `/list ...` (or console `list ...`) to its answer."""
    ops, words = _ops(scout), text.split()
    team, user = caller.team_id, caller.user_id
    action = words[0].lower() if words else ""
    args = words[1:]
    if action not in ACTIONS:
        if words:
            raise ScoutError(f"I don't know `/list {text.strip()}`. {USAGE}")
        return _overview(ops.lists(team))
    if action in ("add", "remove"):
        name, handle, reason = _name_and_handle(args, action)
        if action == "remove":
            done = ops.list_remove(team, name, handle)
            _need(done, name)
            what = "Removed" if done else "Not on the list:"
            return bk.message(f"{what} @{bk.esc(handle.lstrip('@'))} ({bk.esc(name)}).")
        done = ops.list_add(team, name, handle, user, reason or "added by hand")
        _need(done, name)
        what = "Added" if done else "Already on the list:"
        return bk.message(f"{what} @{bk.esc(handle.lstrip('@'))} ({bk.esc(name)}).")
    name = " ".join(args)
    if not name:
        raise ScoutError(f"Which list? `/list {action} NAME`.")
    if action == "new":
        info, created = ops.list_new(team, name, user)
        start = "Started list" if created else "List already there:"
        return bk.message(
            f":white_check_mark: {start} *{bk.esc(info.name)}*. It is your current list: "
            "*➕ Add to list* under any creator puts them on it."
        )
    info = _need(ops.list_get(team, name, user if action in ("show", "use") else None), name)
    if action == "use":
        return bk.message(f"*{bk.esc(info.name)}* is now your current list.")
    if action == "export":
        filename, content = export_csv(scout, info)
        note = f"List {bk.esc(info.name)}: {len(info.members)} creators as CSV"
        return Reply(note, [bk.section(note)], file=(filename, content))
    return _show(info, shared_by=(user or "console") if action == "share" else None)


def _number(value: Any) -> Any:
    return "" if value is None else round(float(value), 2)


def _fresh(scout: Any, handle: str) -> dict[str, Any]:
    """A creator's facts as the engine knows them now (its creator card: followers,
    ER, the /vet quality); {} for one it does not know (then the facts shown when the
    creator was added stand)."""
    try:
        card = scout.rec.creator_card(handle)
    except Exception:  # noqa: BLE001 - unknown today, or no store behind a fake engine
        return {}
    facts = {"platform": card.platform, "followers": card.followers, "er": card.er}
    return {**facts, "quality": card.quality}


def export_csv(scout: Any, info: Any) -> tuple[str, bytes]:
    """The list as CSV: profile link, followers, ER and quality as the engine knows them
    now (as shown when added, for a creator it does not know), the reason and who added
    each."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for m in info.members:
        profile = {k: v for k, v in _fresh(scout, m.handle).items() if v is not None}
        platform = profile.get("platform") or m.platform or "instagram"
        url = bk.PROFILE_URLS.get(platform, bk.PROFILE_URLS["instagram"]).format(m.handle)
        followers = profile.get("followers", m.facts.get("followers"))
        er = profile.get("er", m.facts.get("er"))
        quality = profile.get("quality", m.facts.get("quality"))
        writer.writerow(
            [
                m.handle,
                url,
                platform,
                "" if followers is None else int(followers),
                _number(er),
                _number(quality),
                m.reason or "",
                m.added_by or "",
                f"{m.added_at:%Y-%m-%d %H:%M}",
            ]
        )
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in info.name)[:60]
    return f"list-{safe}.csv", out.getvalue().encode()


def button_reply(scout: Any, team_id: str | None, user_id: str | None, value: str) -> Reply:
    """'➕ Add to list' under a creator: onto the person's current list, with the
    answer's reason and the command it answered."""
    try:
        ops = _ops(scout)
        data = json.loads(value)
        current = ops.list_current(team_id, user_id)
        if current is None:
            return bk.error_reply(
                "You have no list yet. Start one with `/list new NAME` (e.g. "
                "`/list new summer-launch`), then press *Add to list* again."
            )
        asked = data.get("c") or ""
        reason = " — ".join(x for x in (data.get("w"), f"from /{asked}" if asked else "") if x)
        done = ops.list_add(
            team_id, current.name, data["h"], user_id, reason, data.get("p"), data.get("f")
        )
        who, name = bk.esc(str(data["h"]).lstrip("@")), bk.esc(current.name)
        text = (
            f":white_check_mark: Added @{who} to *{name}*."
            if done
            else f"@{who} is already on *{name}*."
        )
        return Reply(text, [bk.section(text), bk.context(f"`/list show {name}` shows it")], True)
    except Exception as err:  # noqa: BLE001 - every failure becomes a message
        from bot.router import polite_error

        return polite_error(err)


def home_blocks(workspace: Any, team_id: str | None) -> list[dict[str, Any]]:
    """The App Home's section: this workspace's lists (never another's)."""
    blocks = [bk.divider(), bk.header("Shortlists in this workspace")]
    try:
        lists = workspace.lists(team_id) if workspace is not None and team_id else []
    except Exception:  # noqa: BLE001 - the Home still shows the rest
        lists = []
    if not lists:
        return blocks + [bk.section("None yet. `/list new NAME`, then *➕ Add to list*.")]
    lines = [
        f"*{bk.esc(x.name)}* — {len(x.members)} creator{'s' * (len(x.members) != 1)}"
        + (": " + ", ".join("@" + bk.esc(m.handle) for m in x.members[:5]) if x.members else "")
        for x in lists[:20]
    ]
    return blocks + [bk.section("\n".join(lines))]
