"""Errors a user can act on. Each message is written for the person who typed the query;
the CLI prints it to stderr and the bot shows it in Slack, never a stack trace."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ScoutError(Exception):
    """Base class: `str(err)` is a complete, user-facing sentence."""


class UnknownHandle(ScoutError):
    def __init__(self, handle: str, suggestions: list[str] | None = None) -> None:
        self.handle = handle
        self.suggestions = suggestions or []
        hint = (
            f" Did you mean {', '.join('@' + s for s in self.suggestions)}?"
            if self.suggestions
            else ""
        )
        super().__init__(f"I don't know @{handle}.{hint}")


class ModelNotTrained(ScoutError):
    """No published model of `kind`; `skipped` is the last training's reason when it ran
    and skipped the kind for lack of data (then training again does not help)."""

    def __init__(self, kind: str, skipped: str | None = None) -> None:
        self.kind = kind
        self.skipped = skipped
        if skipped:
            super().__init__(
                f"There is no {kind} model: training ran and skipped it ({skipped}). "
                "Training again won't help until the data has what it needs; import it, "
                "then run `python -m engine train`."
            )
            return
        super().__init__(
            f"The {kind} model has not been trained yet. Run `python -m engine train` "
            "(the daily clock does it too) and try again."
        )


class BadQuery(ScoutError):
    """Malformed user input (a topic query, a filter, an option)."""


class NotEnoughData(ScoutError):
    """A model kind cannot learn from the data the store has (no captions, fewer than
    two creators with songs ...). The pipeline reports the kind `skipped` with this
    message as the reason and publishes every kind that could learn."""


class BadImage(ScoutError):
    """An upload that is not a usable image (broken, empty, too large, not an image)."""


class ImportRejected(ScoutError):
    """An import file with bad rows; `problems` holds one `file:line: column: reason` each."""

    def __init__(self, path: str, problems: list[str], truncated: int = 0, hint: str = "") -> None:
        self.path = path
        self.problems = problems
        self.truncated = truncated
        more = f"\n... and {truncated} more problems" if truncated else ""
        super().__init__(
            f"{path}: rejected, nothing was written ({len(problems) + truncated} problems):\n"
            + "\n".join(problems)
            + more
            + (f"\n{hint}" if hint else "")
        )


def close_matches(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The closest known spellings, for 'did you mean' hints on handles and tags."""
    return difflib.get_close_matches(word, list(known), n=n, cutoff=0.6)
