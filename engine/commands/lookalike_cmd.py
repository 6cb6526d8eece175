"""`python -m engine lookalike HANDLE [-k 10] [--followers 10k-100k] [--er 2]
[--lang en] [--method auto|sparse|ppmi|tags|blend]`."""

from __future__ import annotations

import argparse

from engine.bootstrap import assemble
from engine.commands.filter_args import add_filter_arguments, filters_from_args
from engine.core.recommendation import Answer
from engine.lookalike.query import METHODS

HELP = "creators most like HANDLE (PPMI+SVD over captions and hashtags, or thematic tag vectors)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("handle")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--method", choices=METHODS, default="auto")
    add_filter_arguments(parser)


def run(args: argparse.Namespace) -> Answer:
    filters = filters_from_args(args)
    return assemble(args.db, must_exist=True).recommender.lookalike(
        args.handle, args.k, filters=filters, method=args.method
    )
