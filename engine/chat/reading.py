"""What a plain-language request was read as: one command with its slots, or a question.

The slots are kept apart (not only the command line) so the same reading can be shown
to a person in Slack's syntax (`line`) and run as `python -m engine` arguments (`argv`)
without parsing the line a second time."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = ("lookalike", "topic", "hashtags", "songs", "trending", "vet")


@dataclass(frozen=True)
class Reading:
    """`command` is None when the request was unclear: then `question` says what is
    missing and `choices` holds the likely readings as command lines (each one runs as
    it is typed), possibly none. `direct` is True when the text was already a command
    line (`lookalike @ana 5`), so the caller can answer without saying how it read it.
    `ignored` lists the words no hashtag in the data matched (they were left out)."""

    command: str | None
    handle: str | None = None
    query: str | None = None  # weighted hashtags: "#coffee #espresso:-1"
    k: int | None = None
    filters: tuple[tuple[str, str], ...] = ()  # (("followers", "<50k"), ("lang", "fr"))
    days: int | None = None  # /trending's window
    topic: str | None = None  # /trending's hashtag, without '#'
    question: str | None = None
    choices: tuple[str, ...] = ()
    direct: bool = False
    raw_args: str | None = None  # a direct command's own text, passed on untouched
    ignored: tuple[str, ...] = ()

    @property
    def clear(self) -> bool:
        return self.command is not None

    @property
    def args(self) -> str:
        """The command's text as typed after the slash, in Slack's syntax."""
        if self.raw_args is not None:
            return self.raw_args
        parts: list[str] = []
        if self.command in ("lookalike", "songs", "vet") and self.handle:
            parts.append(f"@{self.handle}")
        if self.command in ("topic", "hashtags") and self.query:
            parts.append(self.query)
        if self.command == "trending" and (self.days is not None or self.k is not None):
            parts.append(str(7 if self.days is None else self.days))
        if self.k is not None and self.command != "vet":
            parts.append(str(self.k))
        if self.command == "trending" and self.topic:
            parts.append(f"#{self.topic}")
        parts += [f"{key}:{value}" for key, value in self.filters]
        return " ".join(parts)

    @property
    def line(self) -> str:
        """`/lookalike @ana.reception followers:<50k`; empty for a question."""
        if self.command is None:
            return ""
        return f"/{self.command} {self.args}".strip()

    def argv(self) -> list[str]:
        """The same request as `python -m engine` arguments (without --json/--db)."""
        if self.command is None:
            raise ValueError("a question has no command to run")
        if self.raw_args is not None:
            return _direct_argv(self.command, self.raw_args)
        out = [self.command]
        if self.command in ("lookalike", "songs", "vet"):
            out.append(self.handle or "")
        elif self.command in ("topic", "hashtags"):
            out.append(self.query or "")
        elif self.command == "trending":
            out += ["--days", str(7 if self.days is None else self.days)]
            if self.topic:
                out += ["--topic", self.topic]
        if self.k is not None and self.command != "vet":
            out += ["-k", str(self.k)]
        for key, value in self.filters:
            out += ["--safe"] if key == "safe" else [f"--{key}", value]
        return out


def _direct_argv(command: str, text: str) -> list[str]:
    """A command line typed as such (`lookalike @ana 5 er:>2`) as engine arguments."""
    words = text.split()
    opts = [w for w in words if ":" in w and w.split(":", 1)[0] in _FILTER_WORDS]
    rest = [w for w in words if w not in opts]
    out = [command]
    if command == "trending":
        nums = [w.rstrip("d") for w in rest if w.rstrip("d").isdigit()]
        tags = [w.lstrip("#") for w in rest if w.startswith("#")]
        out += ["--days", nums[0] if nums else "7"]
        out += ["-k", nums[1]] if len(nums) > 1 else []
        return out + (["--topic", tags[0]] if tags else [])
    if command in ("topic", "hashtags"):
        if rest and rest[-1].isdigit() and len(rest) > 1:
            out += [" ".join(rest[:-1]), "-k", rest[-1]]
        else:
            out.append(" ".join(rest))
    else:
        out.append(rest[0] if rest else "")
        if len(rest) > 1 and command != "vet":
            out += ["-k", rest[1]]
    for w in opts:
        key, value = w.split(":", 1)
        out += ["--safe"] if key == "safe" else [f"--{key}", value]
    return out


_FILTER_WORDS = ("followers", "er", "lang", "growth", "quality", "sponsored", "safe")
