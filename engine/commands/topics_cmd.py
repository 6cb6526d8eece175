"""`python -m engine topics`: the fixed topics (clustered tag vectors), largest first."""

from __future__ import annotations

import argparse

from engine.core.recommendation import Answer

HELP = "list the topics found by clustering the hashtag vectors, named by their top tags"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-k", type=int, default=50, help="how many topics (default 50)")


def run(args: argparse.Namespace) -> Answer:
    from engine.bootstrap import assemble

    return assemble(args.db, must_exist=True).recommender.topics(k=args.k)
