"""The filter flags of every command that filters creators, spelled as in Slack:
`--followers 10k-100k --er 2 --lang en` is `followers:10k-100k er:2 lang:en`, parsed by
the same function (engine.core.filters.parse_filters). The old per-bound flags keep
working, so scripts written for them do not break, with one note on stderr saying what
to write instead (stderr, because `--json` stdout must stay pure JSON)."""

from __future__ import annotations

import argparse
import sys

from engine.core.errors import BadQuery
from engine.core.filters import CLI, Filters, parse_filters

# old flag -> (its dest, the filter key it sets)
DEPRECATED = {
    "--followers-min": ("followers_min", "followers"),
    "--followers-max": ("followers_max", "followers"),
    "--min-er": ("min_er", "er"),
    "--language": ("language", "lang"),
}


def add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (the same as Slack's followers:… er:… lang:…)")
    group.add_argument(
        "--followers",
        metavar="RANGE",
        help="10k-100k, 10k+ (at least), 0-1m; quote '>50k' and '<1m' in a shell",
    )
    group.add_argument("--er", metavar="MIN", help="minimum engagement rate in percent, e.g. 2")
    group.add_argument("--lang", metavar="LANG", help="language code or name, e.g. en, english")
    group.add_argument(
        "--growth", metavar="RANGE", help="follower growth in percent over 30 days, e.g. 5 or 0-10"
    )
    group.add_argument(
        "--quality",
        metavar="RANGE",
        help="trust card quality 0-100 (engine vet), e.g. 70 or 70-100",
    )
    group.add_argument(
        "--sponsored", metavar="RANGE", help="share of sponsored posts in percent, e.g. 0-20"
    )
    group.add_argument(
        "--safe", action="store_true", default=None, help="only creators with no brand-safety flag"
    )
    for flag, (dest, _key) in DEPRECATED.items():
        group.add_argument(flag, dest=dest, default=None, help=argparse.SUPPRESS)


def filters_from_args(args: argparse.Namespace) -> Filters:
    """The command line's filters; old flags are translated to the new form (and the
    note prints it), and giving both forms of one filter is refused, not merged."""
    options = {"followers": args.followers, "er": args.er, "lang": args.lang}
    options["growth"] = args.growth
    options.update(
        quality=args.quality, sponsored=args.sponsored, safe="yes" if args.safe else None
    )
    old = {"followers": _old_followers(args), "er": args.min_er, "lang": args.language}
    notes = []
    for key, value in old.items():
        if value is None:
            continue
        used = [f for f, (d, k) in DEPRECATED.items() if k == key and getattr(args, d) is not None]
        if options[key] is not None:
            raise BadQuery(f"Give --{key} or {' '.join(used)}, not both.")
        options[key] = value
        verb = "is" if len(used) == 1 else "are"
        notes.append(f"{' '.join(used)} {verb} deprecated, write {CLI.spell(key, value)}")
    if notes:
        print(f"note: {'; '.join(notes)}", file=sys.stderr)
    return parse_filters(options, CLI)


def _old_followers(args: argparse.Namespace) -> str | None:
    low, high = args.followers_min, args.followers_max
    if low is None and high is None:
        return None
    if high is None:
        return f"{low}+"
    return f"{0 if low is None else low}-{high}"
