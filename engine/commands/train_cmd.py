"""`python -m engine train`: fit, evaluate, gate and publish every model kind."""

from __future__ import annotations

import argparse
import json
import sys

from engine.bootstrap import assemble

HELP = "train every model on the store's data and publish new versions (one transaction)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kinds", default=None, help="comma-separated kinds to train (default all)"
    )
    parser.add_argument(
        "--force", action="store_true", help="retrain unchanged data; skip the quality gate"
    )
    parser.add_argument(
        "--gate-margin",
        type=float,
        default=0.05,
        help="reject a version whose quality falls more than this share below the current (0.05)",
    )
    parser.add_argument("--keep", type=int, default=5, help="versions kept per kind (5)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--backend",
        choices=["local", "spark", "frames"],
        default=None,
        help="where the heavy counting runs (default SCOUT_TRAIN_BACKEND, else local; "
        "frames: every post in one DataFrame, the path before the local backend streamed)",
    )


def run(args: argparse.Namespace) -> int:
    """Exit 0 when every kind published, was skipped or rejected; 1 when any kind failed
    (a crash: named with its reason), though every other kind was still published."""
    admin = assemble(args.db, migrate=True).admin
    kinds = [k.strip() for k in args.kinds.split(",")] if args.kinds else None
    report = admin.train(
        kinds=kinds,
        force=args.force,
        gate_margin=args.gate_margin,
        keep=args.keep,
        progress=sys.stderr.isatty() and not args.json,
        seed=args.seed,
        backend=args.backend,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "run_id": report.run_id,
                    "ok": report.ok,
                    "seconds": round(report.seconds, 2),
                    "kinds": [o.__dict__ for o in report.outcomes],
                },
                default=str,
            )
        )
    else:
        print(report.table())
        failed = ", ".join(o.kind for o in report.failed)
        verdict = "ok" if report.ok else f"FAILED: {failed} (kept current model; others published)"
        print(f"run {report.run_id}: {verdict} in {report.seconds:.1f}s")
    return 0 if report.ok else 1
