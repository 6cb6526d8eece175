"""`python -m engine topic "#apple #iphone:-1"`: creators (or, with --tags-only, related
hashtags) for a topic described by weighted hashtags."""

from __future__ import annotations

import argparse

from engine.commands.filter_args import add_filter_arguments, filters_from_args
from engine.core.recommendation import Answer

HELP = "creators whose content fits a topic of weighted hashtags, e.g. '#apple #iphone:-1'"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", help="hashtags with optional weights: '#bmw #audi' or '#apple #iphone:-1'"
    )
    parser.add_argument("-k", type=int, default=None, help="how many results (default 10, 20 tags)")
    parser.add_argument("--tags-only", action="store_true", help="related hashtags, no creators")
    add_filter_arguments(parser)


def run(args: argparse.Namespace) -> Answer:
    from engine.bootstrap import assemble
    from engine.tags.query import split_count

    rec = assemble(args.db, must_exist=True).recommender
    query, count = split_count(args.query)  # `topic "#wedding 5"`: 5 results, as in Slack
    wanted = args.k if args.k is not None else count
    if args.tags_only:
        return rec.related_tags(query, k=20 if wanted is None else wanted)
    filters = filters_from_args(args)
    k = 10 if wanted is None else wanted
    return rec.topic(query, k=k, filters=filters or None)
