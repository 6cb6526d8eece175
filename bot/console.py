"""`python -m bot console`: the same Scout core driven from a terminal, answers rendered
from the same blocks Slack would get. `upload PATH` stands in for sharing a photo."""

from __future__ import annotations

import mimetypes
import shlex
import sys
from pathlib import Path
from typing import Any, TextIO

from bot import blocks as bk
from bot.router import CHOICE, Caller, Scout, polite_error

PROMPT = "scout> "
MAX_UPLOAD_BYTES = 10 * 2**20  # Slack's own upload cap for the bot (SCOUT_MAX_UPLOAD_MB)
CONSOLE = Caller(team_id="TCONSOLE", channel_id="CCONSOLE", user_id="UCONSOLE", in_slack=False)


def _upload_path(rest: str) -> Path:
    """The path as a terminal pastes it: quoted (`'/x/my owl.jpg'`), with escaped spaces
    (`/x/my\\ owl.jpg`), or bare with spaces."""
    try:
        parts = shlex.split(rest)
    except ValueError:  # an unbalanced quote: take the text as it is
        parts = [rest.strip().strip("'\"")]
    return Path(" ".join(parts) if len(parts) > 1 else (parts[0] if parts else "")).expanduser()


def _read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than `limit`: a size from stat is
    not enough, as `/dev/zero` or a pipe has none and never ends."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return None if len(data) > limit else data


def _choices(reply: Any) -> list[str]:
    """The likely readings under Scout's question (its buttons), in order."""
    return [
        e["value"]
        for b in reply.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if str(e.get("action_id", "")).startswith(CHOICE)
    ]


def handle(scout: Scout, line: str, state: dict[str, Any]) -> str:
    """One console line to the text of its answer."""
    line = line.strip()
    word, _, rest = line.partition(" ")
    if word == "upload":
        if not rest.strip():
            return "Give the photo's path, e.g. `upload ../shared/photos/cat.bmp`."
        path = _upload_path(rest)
        kind = mimetypes.guess_type(path.name)[0] or "unknown type"
        if not kind.startswith("image/"):
            return f"⚠ `{path.name}` is not a photo ({kind}); upload a JPEG or PNG."
        limit = state.get("max_upload_bytes", MAX_UPLOAD_BYTES)
        try:
            size = path.stat().st_size  # 0 for /dev/zero or a pipe: the read bounds those
            if size > limit:
                return (
                    f"⚠ `{path.name}` is {size / 2**20:.1f} MB; photos up to "
                    f"{limit / 2**20:.0f} MB, as in Slack."
                )
            image = _read_at_most(path, limit)
        except OSError as err:
            return f"Cannot read {path}: {err.strerror}"
        if image is None:
            return (
                f"⚠ `{path.name}` is over {limit / 2**20:.0f} MB; photos up to "
                f"{limit / 2**20:.0f} MB, as in Slack."
            )
        state["image"] = image
        state["mode"] = "similar"
        return bk.to_text(scout.photo(image, "similar", str(path)).blocks)
    if word == "switch":
        if state.get("image") is None:
            return (
                "Nothing to switch yet: `upload PATH` a photo first, then `switch` toggles "
                "between the most similar posts' tags and the tags optimised for likes."
            )
        state["mode"] = "likes" if state.get("mode", "similar") == "similar" else "similar"
        return bk.to_text(scout.photo(state["image"], state["mode"], "console").blocks)
    if word == "more" and rest.strip().isdigit():
        handles = state.get("last_handles", [])
        n = int(rest)
        if not 1 <= n <= len(handles):
            return "No such result; run /lookalike first."
        reply = scout.more_like(handles[n - 1])
    elif line.isdigit() and state.get("choices"):  # a pick among the question's readings
        choices = state.pop("choices")
        n = int(line)
        if not 1 <= n <= len(choices):
            return f"Pick 1 to {len(choices)}."
        reply = scout.line(choices[n - 1], CONSOLE)
    else:
        reply = scout.line(line, CONSOLE)  # a command, or plain words (Scout.plain)
    choices = _choices(reply)
    if choices:
        state["choices"] = choices
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
    if choices:
        text += "\n" + "\n".join(f"  {i}. {c}" for i, c in enumerate(choices, 1))
        text += "\n(type the number to run one)"
    if reply.file is not None:
        name, content = reply.file
        Path(name).write_bytes(content)
        text += f"\n(saved {name}, {len(content) // 1024} KB)"
    return text


def run(
    scout: Scout,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
) -> None:
    interactive = stdin.isatty()
    print(
        "Scout console. Type `help`, a command like `/lookalike @handle`, a request in "
        "plain words (`creators like @handle with under 50k followers`), "
        "`upload PATH`, `switch` (photo mode), `more N`, or `quit`.",
        file=stdout,
    )
    state: dict[str, Any] = {"max_upload_bytes": max_upload_bytes}
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
