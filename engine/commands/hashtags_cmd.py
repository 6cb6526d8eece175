"""`python -m engine hashtags "#cats"`: related hashtags for a tag query, or
`python -m engine hashtags --photo PATH`: hashtags for a photo (the photo model)."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.core.errors import BadImage, BadQuery
from engine.core.recommendation import Answer

HELP = "related hashtags for '#cats', or hashtags for a photo with --photo PATH"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "query", nargs="?", default=None, help="hashtags, e.g. '#cats' or '#apple #iphone:-1'"
    )
    parser.add_argument("--photo", default=None, help="a photo file to suggest hashtags for")
    parser.add_argument(
        "-k",
        type=int,
        default=20,
        help="how many tags for a tag query (default 20; `'#wedding 5'` asks for 5 too)",
    )
    parser.add_argument("-n", type=int, default=30, help="how many tags for a photo (default 30)")
    parser.add_argument(
        "--mode",
        default="similar",
        choices=["similar", "likes"],
        help="photo: most similar posts' tags, or optimised for likes",
    )


def run(args: argparse.Namespace) -> Answer:
    from engine.bootstrap import assemble

    if (args.query is None) == (args.photo is None):
        raise BadQuery(
            "Give either hashtags (`hashtags '#cats'`) or a photo (`hashtags --photo PATH`): one of the two."
        )
    if args.photo is not None:
        path = Path(args.photo)
        try:
            found = path.is_file()
        except OSError as err:  # ENAMETOOLONG: a hashtag (or any text) where a path goes
            raise BadImage(
                f"{args.photo[:60]}...: not a usable file name ({err.strerror})."
            ) from None
        if not found:
            raise BadImage(f"{args.photo[:200]}: no such file.")
        return assemble(args.db, must_exist=True).recommender.photo_hashtags(
            path.read_bytes(), n=args.n, mode=args.mode
        )
    from engine.tags.query import split_count

    query, count = split_count(args.query)  # `hashtags "#wedding 5"`: 5 hashtags
    k = args.k if count is None else count
    return assemble(args.db, must_exist=True).recommender.related_tags(query, k=k)
