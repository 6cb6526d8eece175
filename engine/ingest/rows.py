"""Row-by-row validation of import files (CSV or JSONL). Pure: it turns raw rows into
typed records or `file:line: column: reason` problems, and never touches the store, so
a bad file is fully diagnosed before anything is written."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.core.errors import BadQuery
from engine.core.filters import parse_count as parse_human_count
from engine.core.remote import FetchPolicy, host_text_problem
from engine.core.text import _CAPTION_TAG, normalize_tag, post_tags, split_tag_field
from engine.ingest.readers import HeaderError, RawRow

__all__ = [
    "KINDS",
    "HeaderError",
    "Problem",
    "RawRow",
    "check_header",
    "schema",
    "validate",
    "validate_columns",
    "Columns",
    "columns_of",
    "records_of",
]

KINDS = ("influencers", "posts", "songs", "followers")
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
        s = str(v).replace("\x00", "").strip()
        if len(s) > max_len:
            raise FieldError(f"longer than {max_len} characters")
        return s or None

    def parse_many(values: Sequence[Any]) -> list[str | None]:
        """`parse` of each value, for a column of text cells (a CSV's): stripped at C
        speed, with `parse` itself for any column holding a NUL, a non-text cell or a
        cell too long (its error, or its exact value)."""
        try:
            if "\x00" not in "".join(values):
                stripped = [v.strip() for v in values]
                if max(map(len, stripped), default=0) <= max_len:
                    return [v or None for v in stripped] if "" in stripped else stripped
        except (TypeError, AttributeError):  # None or a number among the cells
            pass
        return [None if v is None else parse(v) for v in values]

    parse.many = parse_many  # type: ignore[attr-defined]
    return parse


def parse_count(v: Any) -> int | None:
    """A non-negative whole number as exports write it (12,345 / 12 345 / 1.2k / 3.4M);
    a blank cell is unknown (None); fractions, negatives and words are refused."""
    if v is None:
        return None
    if isinstance(v, str):
        if v.isdigit() and v.isascii():  # the common case, without the general parser
            return int(v) if len(v) < 16 else parse_count(int(v))
        if not v.strip():
            return None
    try:
        n = parse_human_count(v)
    except BadQuery as err:
        raise FieldError(str(err)) from None
    if n > 10**15:
        raise FieldError(f"implausibly large: {n}")
    return n


def _parse_counts(values: Sequence[Any]) -> list[int | None]:
    """`parse_count` of each value: a column of plain ASCII digits (the usual export)
    is read by one check of all its cells and int(); any other, cell by cell."""
    try:
        joined = "".join(values)
    except TypeError:  # None or a number among the cells
        joined = ""
    if joined.isdigit() and joined.isascii() and all(values) and max(map(len, values)) < 16:
        return list(map(int, values))
    return [parse_count(v) for v in values]


parse_count.many = _parse_counts  # type: ignore[attr-defined]


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


_HANDLE_LINES = re.compile(r"[\w.\-]{1,100}(?:\n[\w.\-]{1,100})*", re.UNICODE)


def _parse_handles(values: Sequence[Any]) -> list[str | None]:
    """`parse_handle` of each value: the cells cleaned as it cleans them, and checked
    by one match of them all joined by newlines (which no handle holds: a cell with
    one inside changes the count and goes cell by cell, as does any refused cell)."""
    try:
        cleaned = [v.strip().lstrip("@").strip().lower() for v in values]
    except AttributeError:  # None or a number among the cells
        cleaned = None
    if cleaned:
        joined = "\n".join(cleaned)
        if joined.count("\n") == len(cleaned) - 1 and _HANDLE_LINES.fullmatch(joined):
            return cleaned
    return [parse_handle(v) for v in values]


parse_handle.many = _parse_handles  # type: ignore[attr-defined]


EARLIEST_POST = datetime(2004, 1, 1)  # before any social platform Scout reads
FUTURE_SLACK = timedelta(days=2)  # time zones and clock skew


_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


def parse_bool(v: Any) -> bool | None:
    """A yes/no cell as exports write it (1/0, true/false, yes/no, y/n); blank is
    unknown (None); anything else is refused rather than read as either."""
    if v is None or isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if not s:
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise FieldError(f"expected yes/no (1/0, true/false), got {str(v)[:40]!r}")


def parse_when(v: Any) -> datetime | None:
    """ISO 8601 date or datetime; aware times are converted to UTC and stored naive.
    A date in the future or before 2004 is a typo, and refused: one reel dated 2999
    emptied trending for every workspace."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    s = str(v).strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            dt = datetime(d.year, d.month, d.day)
        else:
            dt = datetime.fromisoformat(s)
    except ValueError:
        raise FieldError(f"not an ISO 8601 date or datetime: {s[:40]!r}") from None
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:  # year 1 or 9999 moved past the calendar's edge
            raise FieldError(f"not a post date: {s[:40]!r}") from None
    latest = datetime.now(UTC).replace(tzinfo=None) + FUTURE_SLACK
    if dt > latest:
        raise FieldError(f"{s[:40]} is in the future (after {latest:%Y-%m-%d})")
    if dt < EARLIEST_POST:
        raise FieldError(f"{s[:40]} is before {EARLIEST_POST:%Y}; not a post date")
    return dt


def parse_platform(v: Any) -> str:
    s = (str(v).strip().lower() if v is not None else "") or "instagram"
    if not re.match(r"^[a-z0-9_]{1,32}$", s):
        raise FieldError(f"not a platform name: {s[:40]!r}")
    return s


def check_image_url(url: str, policy: FetchPolicy | None = None) -> str:
    """An http(s) URL whose host is a public name or address: training fetches these,
    so an import must not point it at the server's own network. The address rules, and
    every numeric spelling of an address, are engine.core.remote's, which checks the
    resolved address again when training fetches the image."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        raise FieldError("not a valid URL") from None
    why = host_text_problem(host, policy)
    if why:
        raise FieldError(why)
    return url


def _image(base: Path) -> Callable[[Any], str | None]:
    """An image is an http(s) URL to a public host, or a file under the import file's
    folder: no absolute path elsewhere, no `..` or symlink out of it (an import must
    not make training read /dev/zero or another user's files)."""
    root = os.path.realpath(base)
    real_dirs: dict[str, str] = {}
    policy = FetchPolicy.from_settings()

    def resolve(s: str) -> str:
        """realpath, with each folder resolved once (a real export names thousands of
        images in a few folders): only the file itself, if a link, is resolved again."""
        folder, name = os.path.split(os.path.join(root, s))
        real = real_dirs.get(folder)
        if real is None:
            real = real_dirs[folder] = os.path.realpath(folder)
        full = os.path.join(real, name)
        return os.path.realpath(full) if os.path.islink(full) or name in ("", ".", "..") else full

    def parse(v: Any) -> str | None:
        if v is None or not str(v).strip():
            return None
        s = str(v).replace("\x00", "").strip()
        if len(s) > 2000:
            raise FieldError("longer than 2000 characters")
        if s.lower().startswith(("http://", "https://")):
            return check_image_url(s, policy)
        if "://" in s or s.lower().startswith(("file:", "data:")):
            raise FieldError(
                "image must be a path under the import file's folder or an http(s) URL"
            )
        full = resolve(s)
        if not (full == root or full.startswith(root.rstrip(os.sep) + os.sep)):
            raise FieldError(f"image path is outside the import file's folder: {s[:80]!r}")
        return full

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
            "views": Column(parse_count),
        }
    if kind == "songs":
        return {
            "song_id": Column(_text(100), True),
            "title": Column(_text(300)),
            "artist": Column(_text(300)),
            "release": Column(_text(300)),
            "year": Column(parse_year),
        }
    if kind == "followers":
        return _follower_schema()
    raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")


def _follower_schema() -> dict[str, Column]:
    """A sample of a creator's followers (`handle` = the creator): the profile counts
    the trust card's fake-follower classifier reads. Counts and flags are required (an
    unknown count is not a zero); `bio_length` may be given as the `bio` text."""
    return {
        "handle": Column(parse_handle, True),
        "follower": Column(parse_handle, True),
        "followers": Column(parse_count, True),
        "following": Column(parse_count, True),
        "posts": Column(parse_count, True),
        "has_profile_pic": Column(parse_bool, True),
        "is_private": Column(parse_bool, True),
        "bio_length": Column(parse_count),
        "bio": Column(_text(5000)),
    }


def natural_key(kind: str, rec: dict[str, Any]) -> tuple:
    if kind == "influencers":
        return (rec["platform"], rec["handle"])
    if kind == "posts":
        return (rec["platform"], rec["post_id"])
    if kind == "followers":
        return (rec["handle"], rec["follower"])
    return (rec["song_id"],)


def check_header(fields: set[str], cols: dict[str, Column], header: list[str]) -> None:
    """Every required field has a column (after aliases and --map), or the message says
    exactly what to map."""
    missing = [c for c, spec in cols.items() if spec.required and c not in fields]
    if missing:
        shown = ", ".join(repr(h) for h in header[:30]) + (" ..." if len(header) > 30 else "")
        hint = " ".join(f"--map SOURCE={m}" for m in missing)
        raise HeaderError(
            f"missing required column(s): {', '.join(missing)}; name the column(s) holding "
            f"them with {hint} (SOURCE may be empty for an unnamed column; FIELD@folder takes "
            f"the folder name of a path). Columns in this file: {shown}"
        )


def validate(
    kind: str, raw: RawRow, cols: dict[str, Column], path: str
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse one raw row into a record, or say everything wrong with it."""
    if "__error__" in raw.values:
        return None, [Problem(path, raw.line, "", raw.values["__error__"])]
    rec: dict[str, Any] = {}
    problems: list[Problem] = []
    values = raw.values
    for name, spec in cols.items():
        value = values.get(name)
        if value is None and not spec.required:
            rec[name] = None
            continue
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
    if kind == "followers" and not problems:
        rec = _bio_length(rec, "bio" in values)
        if rec is None:
            problems.append(Problem(path, raw.line, "bio_length", BIO_MISSING))
    if kind == "posts" and not problems:
        field = rec.pop("hashtags", None)
        # None when both cells are blank: the post's stored hashtags stay as they are
        rec["tags"] = (
            None
            if field is None and rec.get("caption") is None
            else post_tags(rec.get("caption"), field)
        )
    return (None if problems else rec), problems


# Validated rows column by column: field -> one value per row (the keys of the
# records `validate` makes). Imports keep and write rows in this form: building a
# dict per row, and reading it back field by field, cost more than the checks.
Columns = dict[str, list[Any]]


def columns_of(records: list[dict[str, Any]]) -> Columns:
    """Records (all with the same keys, as `validate` makes them) as columns."""
    if not records:
        return {}
    return {k: [r[k] for r in records] for k in records[0]}


def records_of(columns: Columns) -> list[dict[str, Any]]:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(names, values, strict=True)) for values in rows]


SAMPLE = 2000  # the cells of a column that say whether its values repeat


def validate_columns(
    kind: str, columns: dict[str, Sequence[Any]], n: int, cols: dict[str, Column]
) -> Columns | None:
    """The records of `n` rows given column by column (field -> its n cells; a field
    without a column is absent), as columns, or None if any cell is refused: the
    caller then runs `validate` row by row, which words each problem. It applies the
    very parsers `validate` does, once per distinct cell value (dates, handles,
    platforms, image folders and tag lists repeat across a file; a column of mostly
    distinct cells, such as ids and captions, is parsed cell by cell with no memo
    to fill and look up), so it accepts
    exactly what `validate` accepts and gives the same records, at a fraction of the
    per-row cost."""
    out: Columns = {}
    for name, spec in cols.items():
        col = columns.get(name)
        if col is None:
            if spec.required:
                return None
            out[name] = [None] * n
            continue
        try:
            # mostly unique (ids, captions), as its first cells say: no memo to fill
            unique = n > SAMPLE and len(set(col[:SAMPLE])) * 2 > SAMPLE
            if not unique:
                distinct = set(col)
                unique = len(distinct) * 2 > n
            if unique:
                many = getattr(spec.parse, "many", None)  # the parser for a whole column
                parsed = many(col) if many else [None if v is None else spec.parse(v) for v in col]
                if spec.required and None in parsed:
                    return None
                out[name] = parsed
                continue
        except (FieldError, TypeError):  # TypeError: an unhashable cell (a JSON object)
            return None
        memo: dict[Any, Any] = {}
        many = getattr(spec.parse, "many", None)
        if many is not None:  # the distinct cells parsed as one column
            values = list(distinct)
            try:
                parsed = many(values)
            except (FieldError, TypeError):
                return None
            if spec.required and None in parsed:
                return None
            out[name] = list(map(dict(zip(values, parsed, strict=True)).__getitem__, col))
            continue
        try:
            for value in distinct:
                if value is None and not spec.required:
                    memo[value] = None
                    continue
                parsed = spec.parse(value)
                if spec.required and parsed is None:
                    return None
                memo[value] = parsed
        except (FieldError, TypeError):  # TypeError: an unhashable cell (a JSON object)
            return None
        out[name] = list(map(memo.__getitem__, col))
    platforms = out.get("platform")
    if platforms is not None and None in platforms:
        out["platform"] = (
            ["instagram"] * n
            if platforms.count(None) == n
            else [p if p is not None else "instagram" for p in platforms]
        )
    if kind == "posts":
        field = out.pop("hashtags")
        out["tags"] = _tags_column(out["caption"], field)
    if kind == "followers":
        bios = out.pop("bio")
        bios = bios if "bio" in columns else None
        lengths = [
            n if n is not None or bios is None else len(b or "")
            for n, b in zip(out["bio_length"], bios or out["bio_length"], strict=True)
        ]
        if any(n is None for n in lengths):
            return None
        out["bio_length"] = lengths
    return out


BIO_MISSING = "required (or a bio column), but empty"


def _bio_length(rec: dict[str, Any], has_bio: bool) -> dict[str, Any] | None:
    """A follower's record with `bio_length` from the bio text where only the text was
    given (a blank bio is 0; the text itself is not kept); None when the file has
    neither for this row."""
    bio = rec.pop("bio", None)
    if rec.get("bio_length") is None:
        if not has_bio:
            return None
        rec["bio_length"] = len(bio or "")
    return rec


def _tags_column(captions: Sequence[str | None], fields: Sequence[str | None]) -> list:
    """`post_tags` per row (None where both cells are blank), with each distinct
    hashtags cell split once and captions without a '#' skipped; a caption with one
    '#' word (the usual) adds its tag with a set lookup, not a merge of two lists."""
    split: dict[str | None, tuple[list[str], set[str]]] = {}  # a cell's tags, deduplicated
    findall = _CAPTION_TAG.findall
    tags: list[list[str] | None] = []
    append = tags.append
    for caption, field in zip(captions, fields, strict=True):
        if field is None and caption is None:
            append(None)
            continue
        cell = split.get(field)
        if cell is None:
            listed = list(dict.fromkeys(split_tag_field(field)))
            cell = split[field] = (listed, set(listed))
        listed, known = cell
        found = findall(caption) if caption and "#" in caption else ()
        if len(found) == 1:  # = caption_tags(caption), one tag
            tag = normalize_tag(found[0])
            append(listed + [tag] if tag and tag not in known else listed[:])
        elif found:
            written = [t for t in map(normalize_tag, found) if t]
            append(list(dict.fromkeys(listed + written)) if written else listed[:])
        else:
            append(listed[:])
    return tags
