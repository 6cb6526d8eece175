"""Reading export files as they come: CSV with any of `,` `;` or tab, in UTF-8 (with or
without BOM), UTF-16 (with BOM) or, failing those, Windows-1252 (with a notice, since
the guess could be wrong); Excel `.xlsx`; and JSON Lines. Every reader yields raw rows
keyed by the file's own column names, with NUL characters removed, so that the
validation never sees an encoding, a delimiter or a binary zero."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import accumulate, chain, islice
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO, TextIO

# The largest CSV field read at all; the schema's own caps (a caption's 20,000
# characters ...) give each too-long cell its per-line error well below this.
MAX_FIELD = 4 * 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD))
DELIMITERS = (",", ";", "\t")
_PROBE = 1 << 20


class HeaderError(ValueError):
    """The file cannot be read as a table at all; the message is shown as line 1."""


@dataclass
class RawRow:
    line: int
    values: dict[str, Any]


@dataclass
class Source:
    """An opened export: its header (None for JSONL, whose rows carry their keys), its
    rows, and notices for the user (the encoding guessed, ...)."""

    header: list[str] | None
    rows: Iterator[RawRow]
    notices: list[str] = field(default_factory=list)
    # CSV only: the same rows as (line, cells in header order) or (line, error text),
    # for the column-at-a-time validation; `rows` is built on it, so both agree.
    cells: Iterator[tuple[int, list[str] | str]] | None = None
    # CSV files whose every line decodes: the items of `cells` read a block at a time,
    # `blocks(n)` giving (lines, items) of at most n rows each. A reader uses `cells`,
    # `rows` or `blocks`, one of them.
    blocks: Callable[[int], Iterator[tuple[list[int], list[list[str] | str]]]] | None = None


def clean(value: Any) -> Any:
    """NUL characters are dropped from text on every database alike (Postgres refuses
    them, SQLite would keep them)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    return value


def open_source(path: Path) -> Source:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _jsonl(path)
    if suffix == ".xlsx":
        return _xlsx(path)
    return _csv(path)


# ------------------------------------------------------------------ encodings
def _undecodable_at(path: Path, encoding: str) -> int | None:
    """The offset of the first byte `encoding` cannot decode, or None; read in chunks so
    memory stays bounded."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as fh:
        try:
            while chunk := fh.read(_PROBE):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:
            return offset + err.start
    return None


# UTF-8 with a few lines that do not decode: read line by line, those lines refused
UTF8_BAD_LINES = "utf-8, line by line"
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _mostly_utf8(path: Path) -> bool:
    """Whether a file that is not wholly UTF-8 still holds more well-formed UTF-8
    sequences than broken bytes: then it is UTF-8 with a damaged line, and reading it
    all as Windows-1252 would turn every accent in it into mojibake. A real cp1252 or
    latin-1 export has (almost) no valid multi-byte sequence."""
    valid = broken = 0
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with path.open("rb") as fh:
        while chunk := fh.read(_PROBE):
            valid += len(_UTF8_MULTIBYTE.findall(chunk))
            broken += decoder.decode(chunk).count("\ufffd")
    broken += decoder.decode(b"", final=True).count("\ufffd")
    return valid > broken


class Utf8Lines:
    """A UTF-8 file decoded line by line (lines split as text mode with newline=''
    splits them): a line that does not decode is kept with U+FFFD and its number and
    reason remembered, so the row holding it is refused by number while the rest of
    the file reads as the UTF-8 it is."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.bad: dict[int, str] = {}
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        for raw in self.fh:
            for piece in raw.splitlines(keepends=True) if b"\r" in raw else (raw,):
                self.count += 1
                try:
                    text = piece.decode("utf-8")
                except UnicodeDecodeError as err:
                    column = len(piece[: err.start].decode("utf-8", errors="replace")) + 1
                    self.bad[self.count] = (
                        f"byte 0x{piece[err.start]:02x} at column {column} is not valid UTF-8 "
                        "(the rest of the file is UTF-8); fix it or save the file as UTF-8 again"
                    )
                    text = piece.decode("utf-8", errors="replace")
                yield text.replace("\x00", "") if "\x00" in text else text

    def problem(self, first: int, last: int) -> str | None:
        """The reason a row spanning lines first..last cannot be read, or None."""
        for n in range(first, last + 1):
            if n in self.bad:
                return self.bad[n]
        return None


def detect_encoding(path: Path) -> tuple[str, str | None]:
    """(encoding, notice or None). A BOM decides; else the whole file must decode as
    UTF-8 (checked in chunks, so memory stays bounded); else a file that is mostly
    UTF-8 is read line by line (UTF8_BAD_LINES), its broken lines refused; else
    Windows-1252."""
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        declared = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        declared = "utf-16"
    else:
        declared = None
    where = _undecodable_at(path, declared or "utf-8")
    if where is None:
        return declared or "utf-8", None
    if not declared and _mostly_utf8(path):
        return UTF8_BAD_LINES, None
    if declared:  # a BOM promises an encoding; broken text after it is not guessed at
        raise HeaderError(
            f"starts with a {declared.upper().replace('-SIG', '')} byte-order mark but byte "
            f"{where} is not valid {declared.replace('-sig', '').upper()}; save the file again"
        )
    try:
        with path.open("r", encoding="cp1252", newline="") as fh:
            while fh.read(_PROBE):
                pass
    except UnicodeDecodeError as err:
        raise HeaderError(
            f"not text in UTF-8, UTF-16 (with BOM) or Windows-1252: byte 0x{err.object[err.start]:02x} "
            f"cannot be read; save the file as UTF-8"
        ) from None
    return "cp1252", (
        f"{path.name} is not UTF-8 (byte {where}); read it as Windows-1252 (cp1252). "
        "If accents look wrong, save the file as UTF-8 and import it again."
    )


def _lines(fh: TextIO) -> Iterator[str]:
    for line in fh:
        yield line.replace("\x00", "") if "\x00" in line else line


def _has_nul(path: Path, encoding: str) -> bool:
    """Whether the text may hold a NUL character: in UTF-8 and cp1252 only a zero byte
    is one, so a file without one needs no per-line cleaning (UTF-16 is assumed to)."""
    if encoding == "utf-16":
        return True
    with path.open("rb") as fh:
        return any(b"\x00" in chunk for chunk in iter(lambda: fh.read(_PROBE), b""))


def sniff_delimiter(header_line: str) -> str:
    """The delimiter is the one of `,` `;` tab that splits the header most often
    (outside quotes); a one-column file stays comma-separated."""
    best, most = ",", 0
    for d in DELIMITERS:
        n = len(next(csv.reader([header_line], delimiter=d), []))
        if n > most:
            best, most = d, n
    return best


# ------------------------------------------------------------------------ csv
def csv_row(header: list[str], line: int, cells: list[str] | str) -> RawRow:
    """One item of `Source.cells` as a raw row (an error text becomes `__error__`)."""
    if isinstance(cells, str):
        return RawRow(line, {"__error__": cells})
    return RawRow(line, dict(zip(header, cells, strict=True)))


def _csv(path: Path) -> Source:
    encoding, notice = detect_encoding(path)
    per_line: Utf8Lines | None = None
    if encoding == UTF8_BAD_LINES:
        fh: Any = path.open("rb")
        per_line = Utf8Lines(fh)
        lines = iter(per_line)
    else:
        fh = path.open("r", encoding=encoding, newline="")
        lines = _lines(fh) if _has_nul(path, encoding) else iter(fh)
    first = next(lines, None)
    while first is not None and not first.strip():
        first = next(lines, None)
    if first is None:
        fh.close()
        raise HeaderError("the file is empty (no header row)")
    delimiter = sniff_delimiter(first)

    reader = csv.reader(chain((first,), lines), delimiter=delimiter)  # (C: no frame a line)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as err:
        fh.close()
        raise HeaderError(f"the header row cannot be read: {err}") from None
    broken = per_line.problem(1, reader.line_num) if per_line else None
    if broken:
        fh.close()
        raise HeaderError(f"the header row cannot be read: {broken}")

    def cells() -> Iterator[tuple[int, list[str] | str]]:
        """(line, cells) per data row, or (line, error text) for a row that cannot be
        used; blank rows are skipped."""
        width = len(header)
        last = reader.line_num
        with fh:
            try:
                if per_line is None:  # the usual file: the loop below, less its checks
                    for row in reader:
                        if len(row) != width:
                            if "".join(row).strip():
                                yield reader.line_num, f"expected {width} columns, found {len(row)}"
                        elif row[0].strip() or "".join(row).strip():  # else a blank row
                            yield reader.line_num, row
                    return
                for row in reader:
                    start, last = last + 1, reader.line_num
                    broken = per_line.problem(start, last) if per_line else None
                    if broken:
                        yield last, broken
                    elif len(row) == width:
                        if "".join(row).strip():  # else a blank row
                            yield reader.line_num, row
                    elif "".join(row).strip():
                        yield reader.line_num, f"expected {width} columns, found {len(row)}"
            except csv.Error as err:
                reason = str(err)
                if "field larger" in reason:
                    reason = f"a field is longer than {MAX_FIELD:,} characters"
                yield reader.line_num, f"{reason}; reading stopped here"

    stream = cells()

    def rows() -> Iterator[RawRow]:
        for line, row in stream:
            yield csv_row(header, line, row)

    blocks = partial(_csv_blocks, reader, fh, len(header)) if per_line is None else None
    return Source(header, rows(), [notice] if notice else [], stream, blocks)


def _csv_blocks(
    reader: Any, fh: Any, width: int, size: int
) -> Iterator[tuple[list[int], list[list[str] | str]]]:
    """`cells` (its per_line-free loop), up to `size` rows at a time read by the csv
    module alone: a row's line is the next one when no cell of the block holds a
    line break, else counted from the breaks its cells hold (each break ended a
    line of the file). A decoding error comes after the block of the rows before it.
    `reader` is the file's csv reader past its header, `width` the header's."""
    with fh:
        while True:
            start, rows, failed, undecodable = reader.line_num, [], None, None
            try:
                rows.extend(islice(reader, size))  # (keeps the rows before an error)
            except csv.Error as err:
                failed = err
            except UnicodeDecodeError as err:
                undecodable = err
            if not rows and failed is None:
                if undecodable is not None:
                    raise undecodable
                return
            if failed is None and undecodable is None and reader.line_num - start == len(rows):
                lines = list(range(start + 1, reader.line_num + 1))
            else:
                lines = list(accumulate(map(_row_span, rows), initial=start))[1:]
            items: list[list[str] | str] = rows
            if set(map(len, rows)) != {width} or "" in map(str.strip, map(_FIRST, rows)):
                lines, items = _kept_rows(lines, rows, width)
            if failed is not None:
                reason = str(failed)
                if "field larger" in reason:
                    reason = f"a field is longer than {MAX_FIELD:,} characters"
                lines.append(reader.line_num)
                items.append(f"{reason}; reading stopped here")
            if lines:
                yield lines, items
            if undecodable is not None:
                raise undecodable
            if failed is not None or len(rows) < size:
                return


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line of a file read with newline=""


def _row_span(row: list[str]) -> int:
    """How many lines of the file a parsed CSV row took: one, and one per line break
    inside its (quoted) cells."""
    return 1 + sum(len(_LINE_BREAK.findall(cell)) for cell in row if "\n" in cell or "\r" in cell)


_FIRST = itemgetter(0)  # (on rows of the header's width, never empty)


def _kept_rows(
    lines: list[int], rows: list[list[str]], width: int
) -> tuple[list[int], list[list[str] | str]]:
    """`cells`' rule row by row: a row of the wrong width is an error text, unless
    blank; a blank row is left out."""
    kept_lines: list[int] = []
    items: list[list[str] | str] = []
    for line, row in zip(lines, rows, strict=True):
        if len(row) != width:
            if "".join(row).strip():
                kept_lines.append(line)
                items.append(f"expected {width} columns, found {len(row)}")
        elif row[0].strip() or "".join(row).strip():
            kept_lines.append(line)
            items.append(row)
    return kept_lines, items


# ---------------------------------------------------------------------- jsonl
def _json_value(v: Any) -> Any:
    if isinstance(v, list):  # hashtags as a JSON list
        return " ".join(str(x) for x in v if x is not None)
    return clean(v)


def _jsonl(path: Path) -> Source:
    encoding, notice = detect_encoding(path)

    def rows() -> Iterator[RawRow]:
        if encoding == UTF8_BAD_LINES:
            fh: Any = path.open("rb")
            per_line: Utf8Lines | None = Utf8Lines(fh)
            lines: Any = per_line
        else:
            fh = lines = path.open("r", encoding=encoding)
            per_line = None
        with fh:
            for i, line in enumerate(lines, 1):
                broken = per_line.bad.get(i) if per_line else None
                if broken:
                    yield RawRow(i, {"__error__": broken})
                    continue
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    yield RawRow(i, {"__error__": f"invalid JSON: {err.msg}"})
                    continue
                except RecursionError:
                    yield RawRow(i, {"__error__": "invalid JSON: nested too deeply"})
                    continue
                if not isinstance(obj, dict):
                    yield RawRow(i, {"__error__": "each line must be a JSON object"})
                    continue
                yield RawRow(i, {str(k).strip(): _json_value(v) for k, v in obj.items()})

    return Source(None, rows(), [notice] if notice else [])


# ----------------------------------------------------------------------- xlsx
def _cell(v: Any) -> Any:
    """Excel cells: whole-number floats become ints (a post id 123 is not '123.0'),
    dates become ISO text, text loses NULs."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return clean(v)


def _xlsx(path: Path) -> Source:
    """The first worksheet; its first non-empty row is the header."""
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - a broken workbook is a user error
        raise HeaderError(f"not a readable .xlsx workbook ({type(err).__name__})") from None
    sheet = book.worksheets[0]
    it = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    line = 0
    for cells in it:
        line += 1
        if any(c is not None and str(c).strip() for c in cells):
            header = [str(c).strip() if c is not None else "" for c in cells]
            break
    if header is None:
        book.close()
        raise HeaderError("the workbook's first sheet is empty (no header row)")
    width = len(header)

    def rows() -> Iterator[RawRow]:
        n = line
        try:
            for cells in it:
                n += 1
                values = [_cell(c) for c in cells]
                if not any(v is not None and str(v).strip() for v in values):
                    continue
                values = (values + [None] * width)[:width]
                yield RawRow(n, dict(zip(header, values, strict=True)))
        finally:
            book.close()

    return Source(header, rows(), [])
