"""`python -m engine demo [--size small|default|large] [--seed N] [--force] [--if-empty]`:
generate the demo data set (once) and import it through the ordinary import path."""

from __future__ import annotations

import argparse
import sys
import time

from engine.bootstrap import DEMO_FILES, assemble
from engine.demo.generate import SIZES, demo_dir, generate, is_complete

HELP = "generate and import the demo data set (deterministic, with its planted truth)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=list(SIZES), default="default")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--force", action="store_true", help="regenerate the files even if present")
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when the store already has posts"
    )


def run(args: argparse.Namespace) -> int:
    parts = assemble(args.db, migrate=True)
    admin, settings = parts.admin, parts.recommender.settings
    if args.if_empty:
        posts = admin.counts()["posts"]
        if posts:
            print(f"the store already has {posts:,} posts; demo data not loaded")
            return 0
    out = demo_dir(settings.data_dir, args.size, args.seed)
    if args.force or not is_complete(out):
        t0 = time.perf_counter()
        print(f"generating the {args.size} demo data set in {out} ...", file=sys.stderr)
        generate(out, size=args.size, seed=args.seed, shared_dir=settings.shared_dir)
        print(f"generated in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    else:
        print(f"using the demo files already in {out} (--force regenerates)", file=sys.stderr)
    for kind in DEMO_FILES:
        print(f"importing {kind} ...", file=sys.stderr)
        print(admin.import_file(out / f"{kind}.csv", kind, progress=sys.stderr.isatty()))
    counts = admin.counts()
    admin.close()
    print(
        f"demo {args.size}-{args.seed} loaded: the store now has {counts['influencers']:,} "
        f"influencers, {counts['posts']:,} posts, {counts['songs']:,} songs; "
        f"planted truth in {out / 'truth.json'}"
    )
    return 0
