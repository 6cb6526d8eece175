"""`python -m engine ...`: argument parsing, output (table or --json) and error handling
shared by every subcommand, so each command module only says what it does."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence

from engine.core.errors import ScoutError
from engine.core.recommendation import Answer

COMMANDS = [
    "import",
    "demo",
    "train",
    "export",
    "models",
    "lookalike",
    "songs",
    "trending",
    "topic",
    "hashtags",
    "topics",
    "map",
    "watch",
    "sync",
    "status",
    "vet",
    "ask",
]


def _module(name: str):
    return importlib.import_module(f"engine.commands.{name.replace('-', '_')}_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Scout's engine")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        mod = _module(name)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        p.add_argument("--db", default=None, help="database URL (overrides DATABASE_URL)")
        p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
        mod.configure(p)
        p.set_defaults(_run=mod.run)
    return parser


def render_table(answer: Answer, out=None) -> None:
    out = out or sys.stdout  # looked up per call: callers (and pytest) may swap stdout
    rows = answer.results
    if not rows:
        print("(no results)", file=out)
    else:
        label_w = min(max(len(r.label) for r in rows), 40)
        # creators carry the trust card's quality badge (`Q 82`; `engine vet` says why)
        badged = any(r.extra.get("quality_badge") for r in rows)
        head = f"  {'trust':>5}" if badged else ""
        print(f"{'#':>3}  {'label':<{label_w}}  {'match':>5}{head}  why", file=out)
        for i, r in enumerate(rows, 1):
            badge = f"  {r.extra.get('quality_badge') or '':>5}" if badged else ""
            print(
                f"{i:>3}  {r.label[:label_w]:<{label_w}}  {r.score:>5.0f}{badge}  {r.why}",
                file=out,
            )
    for note in answer.notes:
        print(f"note: {note}", file=out)
    from engine.service import data_age_line  # the CLI's start stays light

    age = data_age_line(answer.meta)
    if age:
        print(age, file=out)


def _database_error(err: Exception, db: str | None) -> str | None:
    from engine.bootstrap import database_error
    from engine.core.settings import Settings

    try:
        url = Settings.from_env(db).database_url
    except Exception:  # noqa: BLE001 - the settings' own error is not what went wrong
        url = db
    return database_error(err, url)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    args = build_parser().parse_args(argv)
    try:
        result = args._run(args)
        if isinstance(result, Answer):
            if args.json:
                json.dump(result.to_json(), sys.stdout, ensure_ascii=False, default=str)
                sys.stdout.write("\n")
            else:
                render_table(result)
            result = 0
        sys.stdout.flush()
    except ScoutError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:
        line = _database_error(err, args.db)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2
    return int(result or 0)
