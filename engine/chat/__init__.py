"""Plain-language requests (issue 26): "who is similar to @ana.reception with under 50k
followers?" read as the command it means, `/lookalike @ana.reception followers:<50k`.

The public API is small on purpose (engine/chat/followups.py, thread replies, is
written beside it and may use it):

- `understand(text, vocabulary) -> Reading`: pure, no model and no store. `vocabulary`
  is the tag model's set of hashtags (`Recommender.tag_vocabulary()`); words become
  hashtags only through it. An unclear request is a Reading with a `question` and the
  likely readings in `choices`, never a guess.
- `Reading`: the command (`command`, `args`, `line`), or the question; `argv()` is the
  same request as `python -m engine` arguments.
- `PHRASINGS` (engine/chat/phrasings.py): the table of phrasings, the place to extend.

Nothing here imports `bot` or `models`."""

from engine.chat.phrasings import PHRASINGS, Phrasing
from engine.chat.reading import Reading
from engine.chat.understand import understand
from engine.chat.words import to_hashtags

__all__ = ["PHRASINGS", "Phrasing", "Reading", "to_hashtags", "understand"]
