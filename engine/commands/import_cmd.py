"""`python -m engine import influencers|posts|songs|followers FILE [--db URL]`."""

from __future__ import annotations

import argparse
import json
import sys

from engine.bootstrap import assemble

HELP = (
    "import a CSV, .xlsx or JSONL file of influencers, posts, songs or a creator's "
    "follower sample (all rows or none, unless --skip-invalid)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["influencers", "posts", "songs", "followers"])
    parser.add_argument(
        "file",
        help="CSV (, ; or tab; UTF-8, UTF-16 with BOM, or Windows-1252), .xlsx or .jsonl",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SOURCE=FIELD",
        help="read column SOURCE as FIELD (repeatable); FIELD@folder takes a path's folder name",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and list each invalid line skipped (default: all or none)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    admin = assemble(args.db, migrate=True).admin
    bars = not args.quiet and not args.json and sys.stderr.isatty()
    if not bars and not args.quiet:  # a pipe or a log: one line instead of bars
        print(f"importing {args.file} as {args.kind} (validate, then write) ...", file=sys.stderr)
    try:
        report = admin.import_file(
            args.file,
            args.kind,
            progress=bars,
            column_map=args.map,
            skip_invalid=args.skip_invalid,
        )
    finally:
        admin.close()
    if args.json:  # the CLI contract: results (none for an import) and details
        details = {
            "kind": report.kind,
            "file": report.path,
            "rows": report.rows,
            "new": report.new_rows,
            "seconds": round(report.seconds, 3),
            "notices": list(report.notices),
            "skipped": list(report.skipped),
            "skipped_lines": report.skipped_lines,
        }
        print(json.dumps({"results": [], "details": details}))
    else:
        print(report)
    for line in report.skipped:  # stdout stays the summary (or the JSON) alone
        print(f"skipped {line}", file=sys.stderr)
    return 0
