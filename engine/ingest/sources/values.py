"""Field values as the sources write them: ISO times with `Z` or `+0000`, epoch seconds,
counts as numbers, numeric strings, spreadsheet floats (`12.0`) or abbreviations
(`304.9K`, `1.4M`), durations `00:31`, ids turned into floats by a spreadsheet. Each
reader returns None for an empty or unreadable value, so one odd cell never loses a row."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.core.text import caption_tags, normalize_tag, parse_handle

_SUFFIX = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kmb])?$", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w.])@([A-Za-z0-9_.]+)")


def to_count(value: Any) -> int | None:
    """A non-negative count: 1234, "1,234", "12.0", "304.9K" (304,900), "1.4M"."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value >= 0 else None
    text = str(value).strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    m = _COUNT.match(text)
    if not m:
        return None
    number = Decimal(m.group(1)) * _SUFFIX.get((m.group(2) or "").lower(), 1)
    return int(number)


def to_seconds(value: Any) -> float | None:
    """A duration: seconds as a number, or `mm:ss` / `hh:mm:ss` (`00:31` is 31 s)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    text = str(value).strip()
    if not text:
        return None
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        return None
    if len(parts) > 3 or any(p < 0 for p in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def to_id(value: Any) -> str | None:
    """An id as text. A spreadsheet that saw a long id as a number wrote it as a float
    (`7.506832745952218e+18`): its last digits were already lost there, so the digits
    are kept exactly as given (7506832745952218000) rather than guessed; the same video
    imported from the API or a JSON export has its true id and is a different key."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if not text:
        return None
    if re.fullmatch(r"[0-9]+\.0+", text):
        return text.split(".")[0]
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?[eE]\+?[0-9]+", text):
        try:
            return str(int(Decimal(text)))
        except (InvalidOperation, ValueError):
            return text
    return text


def to_time(value: Any) -> datetime | None:
    """ISO 8601 (`Z`, `+0000`, `+00:00`) or epoch seconds, as an aware UTC datetime."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    if isinstance(value, int | float) or re.fullmatch(r"[0-9]{9,11}(\.[0-9]+)?", str(value)):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, ValueError, OSError):
            return None
    text = str(value).strip().replace("Z", "+00:00")
    text = re.sub(r"([+-][0-9]{2})([0-9]{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def handle_of(value: Any) -> str:
    """A bare lower-case handle ('' for nothing): `@Chef.Ana` and a profile URL alike."""
    text = to_text(value)
    return parse_handle(text).lower() if text else ""


def mentions_in(caption: str | None) -> tuple[str, ...]:
    if not caption:
        return ()
    return tuple(dict.fromkeys(m.rstrip(".").lower() for m in _MENTION.findall(caption)))


def hashtags_of(caption: str | None, listed: Any = ()) -> tuple[str, ...]:
    """A post's tags: those the source lists (strings or {"name": ...}), then the
    caption's, each once, normalised as the importer normalises them."""
    names = []
    for item in listed or ():
        names.append(item.get("name") if isinstance(item, dict) else item)
    tags = [normalize_tag(str(n)) for n in names if n] + caption_tags(caption)
    return tuple(dict.fromkeys(t for t in tags if t))
