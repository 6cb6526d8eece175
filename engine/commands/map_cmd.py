"""`python -m engine map HANDLE --out map.png`: a creator's neighbourhood drawn in 2-D
(t-SNE), coloured by topic, as a PNG file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.core.errors import ScoutError

HELP = "draw a creator and its nearest creators in 2-D, coloured by topic, as a PNG"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("handle", help="the creator at the centre, e.g. @some_creator")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument("-n", type=int, default=300, help="neighbours on the map (default 300)")


def run(args: argparse.Namespace) -> int:
    from engine.bootstrap import assemble

    if args.out.suffix.lower() != ".png":
        raise ScoutError(f"{args.out}: the map is a PNG; give a file name ending in .png.")
    print(
        f"drawing {args.handle} and its {args.n} nearest creators (t-SNE, ~10-20 s) ...",
        file=sys.stderr,
    )
    png = assemble(args.db, must_exist=True).recommender.influencer_map(args.handle, n=args.n)
    try:
        args.out.write_bytes(png)
    except OSError as err:
        raise ScoutError(f"{args.out}: cannot write the map ({err.strerror}).") from None
    if args.json:
        json.dump({"path": str(args.out), "bytes": len(png)}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"wrote {args.out} ({len(png) // 1024} KB)")
    return 0
