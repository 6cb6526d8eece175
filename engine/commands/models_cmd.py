"""`python -m engine models list|show|rollback`: what is published, and going back."""

from __future__ import annotations

import argparse
import json

from engine.bootstrap import assemble
from engine.core.errors import ScoutError

HELP = "list, show or roll back published model versions"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "show", "rollback"])
    parser.add_argument("kind", nargs="?")
    parser.add_argument("version", nargs="?", type=int)


def run(args: argparse.Namespace) -> int:
    admin = assemble(args.db, migrate=True).admin
    if args.action == "list":
        rows = admin.versions(args.kind)
        if args.json:
            print(
                json.dumps(
                    [{**r.__dict__, "created_at": r.created_at.isoformat()} for r in rows],
                    default=str,
                )
            )
            return 0
        if not rows:
            print("no models yet: run `python -m engine train`")
        latest = admin.latest_versions()
        print(
            f"{'kind':<12} {'version':>7}  {'status':<10} {'created (UTC)':<19} {'size':>9}  summary"
        )
        for r in rows:
            mark = "*" if latest.get(r.kind) == r.version else " "
            print(
                f"{r.kind:<12} {r.version:>6}{mark}  {r.status:<10} {r.created_at:%Y-%m-%d %H:%M:%S} "
                f"{r.size_bytes / 1e6:>7.1f}MB  {r.summary or r.reason or ''}"
            )
        return 0
    if args.action == "show" and args.kind and args.version is None:
        args.version = admin.latest_versions().get(args.kind)  # the version served now
        if args.version is None:
            raise ScoutError(f"no published {args.kind} model yet: run `python -m engine train`")
    if not args.kind or args.version is None:
        raise ScoutError(
            f"`models {args.action}` needs KIND and VERSION, e.g. `models {args.action} lookalike 3`"
        )
    if args.action == "show":
        info = admin.artifact_info(args.kind, args.version)
        info["created_at"] = info["created_at"].isoformat()
        print(json.dumps(info, indent=None if args.json else 2, default=str))
        return 0
    new = admin.rollback(args.kind, args.version)
    print(
        f"{args.kind}: v{args.version} republished as v{new} and pinned: serving processes "
        "switch within their reload interval, and `engine train` keeps it until new data "
        "arrives (or --force)"
    )
    return 0
