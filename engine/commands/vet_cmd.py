"""`python -m engine vet HANDLE [--json]`: the trust card of one creator (issue 25).

`--json` prints the contract's shape, `{"results": [{id, label, score, why}],
"details": {"items": [...]}}`: `score` is the 0-100 quality and `details.items[0]` every
part (`audience_real_share` is null without an imported follower sample)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.bootstrap import assemble

HELP = "can I trust this creator? quality 0-100 from engagement, anomalies, audience, ads, safety"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("handle")


def run(args: argparse.Namespace) -> int:
    rec = assemble(args.db, must_exist=True).recommender
    try:
        card = rec.vet(args.handle)
    finally:
        rec.close()
    if args.json:
        out = {"results": [card.to_result()], "details": {"items": [card.to_details()]}}
        json.dump(out, sys.stdout, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        print(card_text(card.to_details(), card.label))
    return 0


def card_text(d: dict[str, Any], label: str) -> str:
    """The card as a terminal table: each part's value, weight, points, confidence and
    reason, then the posts behind the anomalies and the safety flags."""
    lines = [
        label,
        "",
        f"{'part':<13} {'value':>5} {'weight':>6} {'points':>6} {'conf':>5}  reason",
    ]
    for p in d["parts"]:
        value = "-" if p["value"] is None else f"{p['value']:.0f}"
        lines.append(
            f"{p['name']:<13} {value:>5} {p['weight']:>6.2f} {p['contribution']:>6.1f} "
            f"{p['confidence']:>5.0%}  {p['reason']}"
        )
    if d["flagged_posts"]:
        lines.append("")
        lines.append("anomalies (likes the comments did not follow):")
        lines += [f"  {s['post_id']}: {s['reason']}" for s in d["spikes"] if s["inflated"]]
    legit = [s for s in d["spikes"] if not s["inflated"]]
    if legit:
        lines.append("judged legitimate:")
        lines += [f"  {s['post_id']}: {s['reason']}" for s in legit]
    for category, flags in d["brand_safety"].items():
        lines.append(f"brand safety, {category}: {_flag_text(flags)}")
    return "\n".join(lines)


def _flag_text(flag: dict[str, list[str]]) -> str:
    return f"{', '.join(flag['words'])} in post(s) {', '.join(flag['posts'])}"
