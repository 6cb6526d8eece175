"""`python -m engine lookalike HANDLE [-k 10] [--followers 10k-100k] [--min-er 2]
[--language en] [--method auto|sparse|ppmi|tags|blend]`."""

from __future__ import annotations

import argparse

from engine.bootstrap import bootstrap_existing
from engine.core.filters import Filters, parse_count, parse_range
from engine.core.recommendation import Answer
from engine.lookalike.query import METHODS

HELP = "creators most like HANDLE (PPMI+SVD over captions and hashtags, or thematic tag vectors)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("handle")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--followers", default=None, help="range such as 10k-100k, >50k, <1m")
    parser.add_argument(
        "--min-er", type=float, default=None, help="minimum engagement rate, percent"
    )
    parser.add_argument("--language", default=None, help="e.g. en")
    parser.add_argument("--method", choices=METHODS, default="auto")


def run(args: argparse.Namespace) -> Answer:
    lo = hi = None
    if args.followers:
        lo, hi = parse_range(args.followers, parse_count, "followers", "--followers 10k-100k")
    filters = Filters(lo, hi, args.min_er, args.language)
    return bootstrap_existing(args.db).lookalike(
        args.handle, args.k, filters=filters, method=args.method
    )
