"""`python -m engine watch add|list|remove`: the creators (and Instagram hashtags) the
daily sync keeps fresh. The CLI edits the 'cli' watchlist; each Slack workspace has
its own. `--json` prints the contract's results, id = the watched handle."""

from __future__ import annotations

import argparse

from engine.bootstrap import assemble
from engine.core.errors import ScoutError
from engine.core.recommendation import Answer, Recommendation

HELP = "watch creators for the daily sync: add @handle, list, remove @handle"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["add", "list", "remove"])
    parser.add_argument("handle", nargs="?", help="@handle, a profile URL, or '#hashtag'")
    parser.add_argument(
        "--platform",
        choices=["instagram", "youtube", "tiktok"],
        default=None,
        help="the handle's platform (add: default instagram; remove: default every one)",
    )
    parser.add_argument("--all-teams", action="store_true", help="list: every workspace's")


def run(args: argparse.Namespace) -> Answer | int:
    admin = assemble(args.db, migrate=True).admin
    try:
        if args.action == "list":
            return _listing(admin.watchlist(every_team=args.all_teams))
        if not args.handle:
            raise ScoutError(f"`watch {args.action}` needs a handle, e.g. `watch add @chef`")
        if args.action == "add":
            key, added = admin.watch_add(args.handle, args.platform or "instagram")
            said = "now watched" if added else "already watched"
            return Answer([Recommendation(key, _label(key), 1.0 if added else 0.0, said)])
        key, removed = admin.watch_remove(args.handle, args.platform)
        if not removed:
            raise ScoutError(f"{args.handle} is not on the watchlist (`watch list` shows it)")
        return Answer([Recommendation(key, _label(key), 0.0, "removed")])
    finally:
        admin.close()


def _listing(entries: list) -> Answer:
    rows = []
    for e in entries:
        synced = f"synced {e.last_synced_at:%Y-%m-%d %H:%M}" if e.last_synced_at else "not synced"
        why = f"{e.platform}, {e.origin}, {synced}"
        if e.status != "active":
            why += f"; {e.status}: {e.reason}"
        rows.append(
            Recommendation(
                e.handle,
                _label(e.handle),
                1.0 if e.status == "active" else 0.0,
                why,
                extra={"team_id": e.team_id, "platform": e.platform, "origin": e.origin},
            )
        )
    notes = [] if rows else ["the watchlist is empty: `python -m engine watch add @handle`"]
    return Answer(rows, notes)


def _label(key: str) -> str:
    return key if key.startswith(("#", "UC")) else "@" + key
