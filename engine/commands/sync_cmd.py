"""`python -m engine sync [--source NAME] [--all]`: pull what is due from each data
source. Each handle is committed on its own, so an interrupted sync resumes where it
stopped. `--file PATH` writes scraper exports, `--url URL` a scraper dataset read from the
scraping platform with SCOUT_DATASET_TOKEN. `--json` prints one result per source,
id = the source's name."""

from __future__ import annotations

import argparse

from engine.bootstrap import assemble
from engine.core.recommendation import Answer, Recommendation
from engine.ingest.sync import SOURCES, SyncReport

HELP = "pull what is due from the data sources (Instagram Graph API, YouTube)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", choices=sorted(SOURCES), default=None)
    parser.add_argument(
        "--file",
        dest="files",
        action="append",
        metavar="PATH",
        help="a scraper export (Instagram/TikTok items as JSON, JSONL or CSV) to write as synced",
    )
    parser.add_argument(
        "--url",
        "--dataset",
        dest="dataset",
        metavar="URL_OR_ID",
        help="a scraper dataset on the scraping platform (its items URL or id; token from"
        " SCOUT_DATASET_TOKEN) to write as synced",
    )
    parser.add_argument(
        "--all", dest="everything", action="store_true", help="every watched handle, due or not"
    )


def run(args: argparse.Namespace) -> Answer:
    admin = assemble(args.db, migrate=True).admin
    try:
        if args.dataset:
            run = admin.sync_dataset(args.dataset)
            report = SyncReport([run], discovered=run.discovered)
        elif args.files:
            run = admin.sync_files(args.files)
            report = SyncReport([run], discovered=run.discovered)
        else:
            report = admin.sync(args.source, everything=args.everything)
    finally:
        admin.close()
    rows = []
    for r in report.runs:
        if r.skipped:
            why = f"skipped: {r.skipped}"
        else:
            why = f"{r.synced} synced, {r.new_posts} new posts, {r.calls} calls"
            if r.unavailable:
                why += f", {r.unavailable} unavailable"
            if r.errors:
                why += ", errors " + ", ".join(f"{k} {v}" for k, v in sorted(r.errors.items()))
            if r.stopped:
                why += f"; stopped: {r.stopped}"
        rows.append(Recommendation(r.source, r.source, float(r.synced), why, extra=r.__dict__))
    notes = []
    if report.discovered:
        notes.append(f"discovery added {report.discovered} candidates to the watchlist")
    if any(report.pruned):
        notes.append(f"pruned {report.pruned[0]} creator and {report.pruned[1]} post snapshots")
    return Answer(rows, notes)
