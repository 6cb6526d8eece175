"""`python -m bot console`: the same Scout core driven from a terminal, answers rendered
from the same blocks Slack would get. `upload PATH` stands in for sharing a photo."""

from __future__ import annotations

import mimetypes
import sys
from pathlib import Path
from typing import Any, TextIO

from bot import blocks as bk
from bot.scout import Caller, Scout, polite_error

PROMPT = "scout> "
CONSOLE = Caller(team_id="TCONSOLE", channel_id="CCONSOLE", user_id="UCONSOLE")


def handle(scout: Scout, line: str, state: dict[str, Any]) -> str:
    """One console line to the text of its answer."""
    line = line.strip()
    word, _, rest = line.partition(" ")
    if word == "upload":
        path = Path(rest.strip()).expanduser()
        kind = mimetypes.guess_type(path.name)[0] or "unknown type"
        if not kind.startswith("image/"):
            return f"⚠ `{path.name}` is not a photo ({kind}); upload a JPEG or PNG."
        try:
            image = path.read_bytes()
        except OSError as err:
            return f"Cannot read {path}: {err.strerror}"
        state["image"] = image
        return bk.to_text(scout.photo(image, "similar", str(path)).blocks)
    if word == "switch" and state.get("image") is not None:
        state["mode"] = "likes" if state.get("mode", "similar") == "similar" else "similar"
        return bk.to_text(scout.photo(state["image"], state["mode"], "console").blocks)
    if word == "more" and rest.strip().isdigit():
        handles = state.get("last_handles", [])
        n = int(rest)
        if not 1 <= n <= len(handles):
            return "No such result; run /lookalike first."
        reply = scout.more_like(handles[n - 1])
    else:
        reply = scout.line(line, CONSOLE)
    handles = [
        e["value"]
        for b in reply.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == "more_like"
    ]
    if handles:
        state["last_handles"] = handles
    text = bk.to_text(reply.blocks)
    if reply.file is not None:
        name, content = reply.file
        Path(name).write_bytes(content)
        text += f"\n(saved {name}, {len(content) // 1024} KB)"
    return text


def run(scout: Scout, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    interactive = stdin.isatty()
    print(
        "Scout console. Type `help`, a command like `/lookalike @handle`, "
        "`upload PATH`, `switch` (photo mode), `more N`, or `quit`.",
        file=stdout,
    )
    state: dict[str, Any] = {}
    while True:
        if interactive:
            print(PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            break
        line = line.strip()
        if not line or line.startswith("#!"):
            continue
        if line in ("quit", "exit"):
            break
        if not interactive:
            print(f"{PROMPT}{line}", file=stdout)
        try:
            print(handle(scout, line, state), file=stdout, flush=True)
        except Exception as err:  # noqa: BLE001 - the console survives everything
            print(bk.to_text(polite_error(err).blocks), file=stdout)
        print(file=stdout)
