"""`python -m engine songs HANDLE`: songs that would suit a creator's next reel."""

from __future__ import annotations

import argparse

from engine.core.recommendation import Answer
from engine.songs.recommenders import DEFAULT_METHODS

HELP = "songs for a creator's next reel (none they already used), each with a reason"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("handle", help="the creator, e.g. @some_creator")
    parser.add_argument("-k", type=int, default=10, help="how many songs (default 10)")
    parser.add_argument(
        "--method",
        default="auto",
        choices=["auto", *DEFAULT_METHODS],
        help="recommender; auto = the best on the last held-out evaluation",
    )


def run(args: argparse.Namespace) -> Answer:
    from engine.bootstrap import assemble

    return assemble(args.db, must_exist=True).recommender.songs_for(
        args.handle, k=args.k, method=args.method
    )
