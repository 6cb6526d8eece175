"""`python -m engine ask "who is similar to @ana.reception with under 50k followers?"`:
a request in plain words, read as the command it means (engine.chat) and run as that
command, so the answer is the one the command gives. Text output starts with
`Read as: /lookalike @ana.reception followers:<50k`; `--json` prints exactly the
command's JSON with `details.meta.command` added. An unclear request runs nothing:
`results` is empty and `details.meta.question` holds the question (exit 0)."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from dataclasses import replace
from typing import Any

from engine.core.errors import BadQuery
from engine.core.recommendation import Answer

HELP = "a request in plain words, e.g. 'creators like @ana with under 50k followers'"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", nargs="+", help="the request, e.g. 'hashtags for coffee'")


def _question(reading: Any, as_json: bool) -> Answer | int:
    meta = {"question": reading.question, "choices": list(reading.choices)}
    if as_json:
        return Answer([], meta=meta)
    print(f"Question: {reading.question}")
    for choice in reading.choices:
        print(f"  maybe: {choice}")
    return 0


def _command_args(reading: Any, args: argparse.Namespace) -> argparse.Namespace:
    """The understood command's own parsed arguments, as if typed after `engine`."""
    from engine.cli import build_parser

    argv = reading.argv() + (["--json"] if args.json else [])
    argv += ["--db", args.db] if args.db else []
    with contextlib.redirect_stderr(io.StringIO()):  # argparse's usage text is not our error
        try:
            return build_parser().parse_args(argv)
        except SystemExit:
            raise BadQuery(
                f"I read that as `{reading.line}`, which is not a command I can run; "
                "write it as a command, e.g. `lookalike @handle 10`."
            ) from None


def run(args: argparse.Namespace) -> Answer | int:
    from engine.bootstrap import assemble

    rec = assemble(args.db, must_exist=True).recommender
    try:
        reading = rec.understand(" ".join(args.text))
    finally:
        rec.close()
    if not reading.clear:
        return _question(reading, args.json)
    sub = _command_args(reading, args)
    extra: dict[str, Any] = {"command": reading.line}
    if reading.ignored:
        extra["ignored"] = list(reading.ignored)
    if not args.json:
        left_out = ", ".join(reading.ignored)
        why = f" (left out {left_out}: no hashtag in the data matches it)" if left_out else ""
        print(f"Read as: {reading.line}{why}", flush=True)
        result = sub._run(sub)
    else:
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            result = sub._run(sub)
        if not isinstance(result, Answer):  # a command that prints its own JSON (vet)
            doc = json.loads(printed.getvalue())
            doc.setdefault("details", {}).setdefault("meta", {}).update(extra)
            json.dump(doc, sys.stdout, ensure_ascii=False, default=str)
            sys.stdout.write("\n")
            return int(result or 0)
    if isinstance(result, Answer):
        return replace(result, meta={**result.meta, **extra})
    return int(result or 0)
