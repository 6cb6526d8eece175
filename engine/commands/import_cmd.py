"""`python -m engine import influencers|posts|songs FILE [--db URL]`."""

from __future__ import annotations

import argparse
import json
import sys

from engine.core.settings import Settings
from engine.ingest.importer import import_file

HELP = "import a CSV or JSONL file of influencers, posts or songs (all rows or none)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["influencers", "posts", "songs"])
    parser.add_argument("file", help="CSV (UTF-8, BOM tolerated) or .jsonl")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(args.db)
    ensure_schema(settings.database_url)
    report = import_file(
        args.file,
        args.kind,
        settings.database_url,
        progress=not args.quiet and not args.json and sys.stderr.isatty(),
    )
    if args.json:
        print(
            json.dumps(
                {
                    "kind": report.kind,
                    "file": report.path,
                    "rows": report.rows,
                    "new": report.new_rows,
                    "seconds": round(report.seconds, 3),
                }
            )
        )
    else:
        print(report)
    return 0


def ensure_schema(database_url: str) -> None:
    """Bring a fresh database to the newest migration before the first write, so the
    first command a new user types just works."""
    from models.migrate import is_current, upgrade

    if not is_current(database_url):
        upgrade(database_url)
