"""Row-by-row validation of import files (CSV or JSONL). Pure: it turns raw rows into
typed records or `file:line: column: reason` problems, and never touches the store, so
a bad file is fully diagnosed before anything is written."""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from engine.core.errors import BadQuery
from engine.core.filters import parse_count as parse_human_count
from engine.core.text import post_tags

KINDS = ("influencers", "posts", "songs")
_HANDLE = re.compile(r"^[\w.\-]{1,100}$", re.UNICODE)


class FieldError(ValueError):
    """A cell that cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        col = f" {self.column}:" if self.column else ""
        return f"{self.path}:{self.line}:{col} {self.reason}"


# ---------------------------------------------------------------- field parsers
def _text(max_len: int) -> Callable[[Any], str | None]:
    def parse(v: Any) -> str | None:
        if v is None:
            return None
        s = str(v).strip()
        if len(s) > max_len:
            raise FieldError(f"longer than {max_len} characters")
        return s or None

    return parse


def parse_count(v: Any) -> int | None:
    """A non-negative whole number as exports write it (12,345 / 12 345 / 1.2k / 3.4M);
    a blank cell is unknown (None); fractions, negatives and words are refused."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        n = parse_human_count(v)
    except BadQuery as err:
        raise FieldError(str(err)) from None
    if n > 10**15:
        raise FieldError(f"implausibly large: {n}")
    return n


def parse_year(v: Any) -> int | None:
    n = parse_count(v)
    if n is not None and not 1000 <= n <= 2200:
        raise FieldError(f"not a plausible year: {n}")
    return n


def parse_handle(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip().lstrip("@").strip().lower()
    if not s:
        return None
    if not _HANDLE.match(s):
        raise FieldError(
            f"not a handle (letters, digits, '.', '_', '-'; at most 100): {str(v)[:40]!r}"
        )
    return s


def parse_when(v: Any) -> datetime | None:
    """ISO 8601 date or datetime; aware times are converted to UTC and stored naive."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    s = str(v).strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            return datetime(d.year, d.month, d.day)
        dt = datetime.fromisoformat(s)
    except ValueError:
        raise FieldError(f"not an ISO 8601 date or datetime: {s[:40]!r}") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt


def parse_platform(v: Any) -> str:
    s = (str(v).strip().lower() if v is not None else "") or "instagram"
    if not re.match(r"^[a-z0-9_]{1,32}$", s):
        raise FieldError(f"not a platform name: {s[:40]!r}")
    return s


def _image(base: Path) -> Callable[[Any], str | None]:
    root = os.path.abspath(base)

    def parse(v: Any) -> str | None:
        if v is None or not str(v).strip():
            return None
        s = str(v).strip()
        if s.startswith(("http://", "https://")):
            return s
        if "://" in s:
            raise FieldError("image must be a path relative to the file or an http(s) URL")
        return os.path.normpath(os.path.join(root, s))

    return parse


# ------------------------------------------------------------------- schemas
@dataclass(frozen=True)
class Column:
    parse: Callable[[Any], Any]
    required: bool = False


def schema(kind: str, base: Path) -> dict[str, Column]:
    if kind == "influencers":
        return {
            "handle": Column(parse_handle, True),
            "name": Column(_text(200)),
            "followers": Column(parse_count),
            "following": Column(parse_count),
            "posts_count": Column(parse_count),
            "bio": Column(_text(5000)),
            "language": Column(_text(16)),
            "country": Column(_text(64)),
            "platform": Column(parse_platform),
        }
    if kind == "posts":
        return {
            "handle": Column(parse_handle, True),
            "post_id": Column(_text(100), True),
            "posted_at": Column(parse_when),
            "caption": Column(_text(20000)),
            "hashtags": Column(_text(5000)),
            "likes": Column(parse_count),
            "comments": Column(parse_count),
            "image": Column(_image(base)),
            "song_id": Column(_text(100)),
            "platform": Column(parse_platform),
        }
    if kind == "songs":
        return {
            "song_id": Column(_text(100), True),
            "title": Column(_text(300)),
            "artist": Column(_text(300)),
            "release": Column(_text(300)),
            "year": Column(parse_year),
        }
    raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")


def natural_key(kind: str, rec: dict[str, Any]) -> tuple:
    if kind == "influencers":
        return (rec["platform"], rec["handle"])
    if kind == "posts":
        return (rec["platform"], rec["post_id"])
    return (rec["song_id"],)


# ------------------------------------------------------------------- reading
@dataclass
class RawRow:
    line: int
    values: dict[str, Any]


class HeaderError(ValueError):
    pass


def read_rows(path: Path) -> tuple[list[str] | None, Iterator[RawRow]]:
    """Stream raw rows with their line numbers. CSV gives its header up front; JSONL
    rows carry their own keys (header None)."""
    if path.suffix.lower() == ".jsonl":
        return None, _jsonl_rows(path)
    fh = path.open("r", encoding="utf-8-sig", newline="")
    reader = csv.reader(fh)
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise HeaderError("the file is empty (no header row)") from None
    header = [h.strip().lower() for h in header]

    def rows() -> Iterator[RawRow]:
        with fh:
            for cells in reader:
                if not any(c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    yield RawRow(
                        reader.line_num,
                        {"__error__": f"expected {len(header)} columns, found {len(cells)}"},
                    )
                    continue
                yield RawRow(reader.line_num, dict(zip(header, cells, strict=True)))

    return header, rows()


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    with path.open("r", encoding="utf-8-sig") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                yield RawRow(i, {"__error__": f"invalid JSON: {err.msg}"})
                continue
            if not isinstance(obj, dict):
                yield RawRow(i, {"__error__": "each line must be a JSON object"})
                continue
            yield RawRow(i, {str(k).strip().lower(): v for k, v in obj.items()})


def check_header(kind: str, header: list[str], cols: dict[str, Column]) -> list[str]:
    missing = [c for c, spec in cols.items() if spec.required and c not in header]
    if missing:
        raise HeaderError(
            f"missing required column(s): {', '.join(missing)} "
            f"(expected columns: {', '.join(cols)})"
        )
    return [h for h in header if h not in cols]


def validate(
    kind: str, raw: RawRow, cols: dict[str, Column], path: str
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse one raw row into a record, or say everything wrong with it."""
    if "__error__" in raw.values:
        return None, [Problem(path, raw.line, "", raw.values["__error__"])]
    rec: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, spec in cols.items():
        value = raw.values.get(name)
        try:
            parsed = spec.parse(value)
        except FieldError as err:
            problems.append(Problem(path, raw.line, name, str(err)))
            continue
        if spec.required and parsed is None:
            problems.append(Problem(path, raw.line, name, "required, but empty"))
        rec[name] = parsed
    if "platform" in cols and rec.get("platform") is None:
        rec["platform"] = "instagram"
    if kind == "posts" and not problems:
        rec["tags"] = post_tags(rec.get("caption"), rec.pop("hashtags", None))
    return (None if problems else rec), problems
