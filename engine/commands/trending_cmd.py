"""`python -m engine trending`: songs whose use and Delta rose most lately."""

from __future__ import annotations

import argparse

from engine.core.recommendation import Answer

HELP = "songs whose use and engagement rose most in the last window vs the one before"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=7, help="window length in days (default 7)")
    parser.add_argument("-k", type=int, default=10, help="how many songs (default 10)")
    parser.add_argument("--topic", default=None, help="only songs used mostly with this hashtag")


def run(args: argparse.Namespace) -> Answer:
    from engine.bootstrap import assemble

    return assemble(args.db, must_exist=True).recommender.trending(
        days=args.days, k=args.k, topic=args.topic
    )
