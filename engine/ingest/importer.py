"""`python -m engine import KIND FILE`: validate the whole file first (streaming, bounded
memory), then write it in one transaction. Any bad row rejects the file with every
problem listed as file:line: column: reason, and nothing of it is written; with
--skip-invalid the valid rows are written and each bad line is listed instead."""

from __future__ import annotations

import gc
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from engine.core.errors import ImportRejected, ScoutError
from engine.ingest.columns import ColumnMap, parse_map, resolve
from engine.ingest.readers import HeaderError, RawRow, Source, csv_row, open_source
from engine.ingest.rows import (
    KINDS,
    Column,
    Columns,
    Problem,
    check_header,
    columns_of,
    natural_key,
    records_of,
    schema,
    validate,
    validate_columns,
)

MAX_PROBLEMS = 50
SKIP_HINT = (
    "to import the valid rows and list each line skipped, run the import again with --skip-invalid"
)
BATCH = 2000
# CSV rows are validated a column at a time in chunks of this many rows (a chunk with
# any bad cell is validated again row by row, for the exact problems).
CHUNK = 20_000
# Files up to this many rows keep their validated records from pass 1 for the write
# (no second parse: most of an import's time); longer files are read again, so memory
# stays bounded whatever the file's size.
KEEP_ROWS = 250_000
KEY_COLUMN = {
    "influencers": "handle",
    "posts": "post_id",
    "songs": "song_id",
    "followers": "follower",
}


@dataclass(frozen=True)
class ImportReport:
    kind: str
    path: str
    rows: int
    new_rows: int
    seconds: float
    ignored_columns: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # `file:line: column: reason` of each line left out
    skipped_lines: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        ignored = (
            f"; ignored unknown columns: {', '.join(self.ignored_columns)}"
            if self.ignored_columns
            else ""
        )
        notes = "".join(f"\nnote: {n}" for n in self.notices)
        if self.skipped:
            notes += f"\nskipped {self.skipped_lines} invalid line(s) (--skip-invalid)"
        return (
            f"{self.path}: {self.rows} {self.kind} imported ({self.new_rows} new, "
            f"{self.rows - self.new_rows} updated) in {self.seconds:.1f}s "
            f"({self.rows_per_second:,.0f} rows/s){ignored}{notes}"
        )


def _progress(enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" rows", disable=not enabled, file=sys.stderr, mininterval=0.5)


@dataclass
class _Chunk:
    """Validated rows: their lines; `columns` when every row is valid; `records` (None
    for a refused row) and each row's `problems` when they were validated row by row."""

    lines: list[int]
    columns: Columns | None
    records: list[dict | None] | None = None
    problems: list[list[Problem]] | None = None

    @classmethod
    def of(cls, rows: list[tuple[int, dict | None, list[Problem]]]) -> _Chunk:
        lines, records, problems = (list(col) for col in zip(*rows, strict=True))
        if any(problems):
            return cls(lines, None, records, problems)
        return cls(lines, columns_of(records), records)

    def rows(self) -> list[dict | None]:
        return self.records if self.records is not None else records_of(self.columns or {})


def _refuse_repeated(header: list[str], cmap: ColumnMap) -> None:
    """A column name that feeds a field and appears twice is ambiguous: which of the
    two holds the captions? Reading one silently lost the other. Repeated columns that
    feed nothing (blank names from Excel) are harmless and kept."""
    for col in cmap.targets:
        where = [i + 1 for i, h in enumerate(header) if h == col]
        if len(where) > 1:
            shown = col or "(unnamed)"
            raise HeaderError(
                f"column {shown!r} appears {len(where)} times in the header (columns "
                f"{', '.join(map(str, where))}); rename or remove all but one"
            )


@dataclass
class _Opened:
    """A source with its columns resolved to fields (per distinct key set for JSONL)."""

    source: Source
    kind: str
    cols: dict[str, Column]
    user_map: dict[str, list[str]]
    fixed: ColumnMap | None = None
    ignored: set[str] | None = None

    def __post_init__(self) -> None:
        self._maps: dict[tuple[str, ...], ColumnMap] = {}
        self.ignored = set()
        if self.source.header is not None:
            self.fixed = resolve(self.kind, self.source.header, self.cols, self.user_map)
            self.ignored.update(self.fixed.ignored)
            _refuse_repeated(self.source.header, self.fixed)

    def rows(self):
        for raw in self.source.rows:
            yield self._mapped(raw)

    def _mapped(self, raw: RawRow) -> RawRow:
        if "__error__" in raw.values:
            return raw
        cmap = self.fixed
        if cmap is None:
            keys = tuple(raw.values)
            cmap = self._maps.get(keys)
            if cmap is None:
                cmap = self._maps[keys] = resolve(self.kind, list(keys), self.cols, self.user_map)
                self.ignored.update(cmap.ignored)
        return RawRow(raw.line, cmap.apply(raw.values))

    def chunks(self, shown: str) -> Iterator[_Chunk]:
        """The rows validated, in file order, CHUNK at a time; `present` collects the
        fields the rows had a column for."""
        self.present: set[str] = set()
        if self.source.cells is None or self.fixed is None:
            rows = self.rows()
            while True:
                part: list[tuple[int, dict | None, list[Problem]]] = []
                broken: UnicodeDecodeError | None = None
                try:
                    part.extend(self._checked(raw, shown) for raw in islice(rows, CHUNK))
                except UnicodeDecodeError as err:  # the rows before it still count
                    broken = err
                if part:
                    yield _Chunk.of(part)
                if broken is not None:
                    raise broken
                if len(part) < CHUNK:
                    return
        header = self.source.header or []
        where = {h: i for i, h in enumerate(header)}  # a repeated name: the last one
        fields = [
            (where[src], name, fn)
            for src, targets in self.fixed.targets.items()
            for name, fn in targets
            if name in self.cols
        ]
        pieces = self._pieces()
        while True:
            broken: UnicodeDecodeError | None = None
            try:
                lines, rows = next(pieces, ((), ()))
            except UnicodeDecodeError as err:  # the file changed since its encoding was checked
                broken, lines, rows = err, (), ()
            records = None
            if rows and str not in set(map(type, rows)):  # (a str: a row's error text)
                by_source = list(zip(*rows, strict=True))
                columns = {
                    name: by_source[i] if fn is None else [fn(v) for v in by_source[i]]
                    for i, name, fn in fields
                }
                records = validate_columns(self.kind, columns, len(rows), self.cols)
            if records is None:
                part = [
                    self._checked(self._mapped(csv_row(header, ln, c)), shown)
                    for ln, c in zip(lines, rows, strict=True)
                ]
                if part:
                    yield _Chunk.of(part)
            else:
                self.present.update(name for _, name, _ in fields)
                yield _Chunk(list(lines), records)
            if broken is not None:
                raise broken
            if not rows:
                return

    def _pieces(self) -> Iterator[tuple[Sequence[int], Sequence[list[str] | str]]]:
        """The CSV's (lines, cells) at most CHUNK rows at a time, by the source's blocks
        where it has them; a UnicodeDecodeError comes after the rows before it."""
        if self.source.blocks is not None:
            yield from self.source.blocks(CHUNK)
            return
        stream = self.source.cells
        while True:
            chunk: list[tuple[int, list[str] | str]] = []
            try:
                chunk.extend(islice(stream, CHUNK))
            except UnicodeDecodeError:
                if chunk:
                    yield tuple(zip(*chunk, strict=True))  # type: ignore[misc]
                raise
            if chunk:
                yield tuple(zip(*chunk, strict=True))  # type: ignore[misc]
            if len(chunk) < CHUNK:
                return

    def _checked(self, raw: RawRow, shown: str) -> tuple[int, dict | None, list[Problem]]:
        self.present.update(k for k in raw.values if k in self.cols)
        rec, errs = validate(self.kind, raw, self.cols, shown)
        return raw.line, rec, errs


def _open(
    path: Path, kind: str, cols: dict[str, Column], user_map: dict[str, list[str]]
) -> _Opened:
    shown = str(path)
    opened = None
    try:
        opened = _Opened(open_source(path), kind, cols, user_map)
        if opened.fixed is not None:
            check_header(
                {f for targets in opened.fixed.targets.values() for f, _ in targets},
                cols,
                opened.source.header or [],
            )
    except HeaderError as err:
        hint = _folder_hint(opened) if "handle" in str(err).partition(";")[0] else ""
        raise ImportRejected(shown, [f"{shown}:1: {err}{hint}"]) from None
    except UnicodeDecodeError as err:
        raise ImportRejected(shown, [f"{shown}:1: cannot be decoded ({err.reason})"]) from None
    except OSError as err:
        raise ImportRejected(shown, [f"{shown}: cannot be read: {err.strerror or err}"]) from None
    return opened


_PICTURE_PATH = re.compile(r"^([^/\\]+[/\\])+[^/\\]+\.(jpe?g|png|webp|gif|heic|mp4)$", re.I)


def _folder_hint(opened: _Opened | None) -> str:
    """A file with no handle column whose first row has an image path such as
    pictures/<account>/3.jpg (the raw instagram-600 export): the --map that reads the
    account from it, so the person need not work out FIELD@folder alone. Reads one row
    of a file that is being refused anyway."""
    if opened is None or opened.source.header is None:
        return ""
    try:
        first = next(iter(opened.source.rows), None)
    except (UnicodeDecodeError, ValueError):
        return ""
    for col, value in (first.values if first else {}).items():
        if col and isinstance(value, str) and _PICTURE_PATH.match(value.strip()):
            return (
                f". Column {col!r} holds image paths such as {value.strip()[:60]!r}: "
                f"--map {col}=handle@folder takes the account from the folder"
            )
    return ""


class _Tally:
    """Pass 1's bookkeeping: the problems (or, with `skip_invalid`, the lines skipped),
    the keys seen, and the valid rows kept for the write. Influencers are merged by
    key: an export that repeats a creator's profile on every post row is one creator
    (the latest non-blank value of each field wins; differing values are reported)."""

    def __init__(self, kind: str, shown: str, known_songs: set[str] | None, skip: bool) -> None:
        self.kind, self.shown, self.known_songs, self.skip = kind, shown, known_songs, skip
        self.problems: list[Problem] = []
        self.skipped: list[Problem] = []
        self.extra = 0
        self.seen: dict[tuple, int] = {}
        self.kept: list[Columns] | None = []  # the chunks, while at most KEEP_ROWS rows
        self.held = 0
        self.n = 0
        self.merge = kind == "influencers"
        self.profiles: dict[tuple, dict] = {}
        self.lines: dict[tuple, int] = {}  # each profile's latest line
        self.repeats = 0
        self.conflicts: dict[tuple, list[str]] = {}
        self.key_of = _key(kind)

    def report(self, p: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(p)
        else:
            self.extra += 1

    def keep(self, columns: Columns, rows: int) -> None:
        self.held += rows
        if self.kept is None or not columns:
            return
        if self.held <= KEEP_ROWS or self.skip:  # skipped rows are not read again
            self.kept.append(columns)
        else:
            self.kept = None

    def add(self, chunk: _Chunk) -> None:
        if (
            not self.merge
            and chunk.columns is not None
            and _clean(self.kind, chunk.columns, chunk.lines, self.seen, self.known_songs)
        ):
            self.n += len(chunk.lines)
            self.keep(chunk.columns, len(chunk.lines))
            return
        if self.merge and chunk.columns is not None and self._merge_new(chunk):
            return
        good: list[dict] = []
        for line, rec, errs in zip(
            chunk.lines, chunk.rows(), chunk.problems or repeat([]), strict=False
        ):
            self.n += 1
            errs = list(errs) if rec is None or errs else self._row_problems(line, rec)
            if errs:
                if self.skip:
                    self.skipped.extend(errs)
                else:
                    for p in errs:
                        self.report(p)
            elif self.merge:
                self._merge(line, rec)
            else:
                good.append(rec)
        self.keep(columns_of(good), len(chunk.lines))

    def _row_problems(self, line: int, rec: dict) -> list[Problem]:
        song = rec.get("song_id")
        unknown = self.known_songs is not None and song and song not in self.known_songs
        if self.kind == "posts" and unknown:
            why = f"unknown song {song!r} (import songs first)"
            return [Problem(self.shown, line, "song_id", why)]
        if self.merge:
            return []
        key = self.key_of(rec)
        first = self.seen.setdefault(key, line)
        if first == line:
            return []
        shown_key = key[1] if self.kind == "posts" else key[-1]
        why = f"duplicate of line {first} ({shown_key!r})"
        return [Problem(self.shown, line, KEY_COLUMN[self.kind], why)]

    def _merge_new(self, chunk: _Chunk) -> bool:
        """A chunk of valid creators none of which came before (the usual file, one row
        per creator): its records join the profiles at once, with no per-row merge."""
        columns = chunk.columns or {}
        keys = list(zip(columns["platform"], columns["handle"], strict=True))
        fresh = dict(zip(keys, chunk.lines, strict=True))
        if len(fresh) != len(keys) or not self.profiles.keys().isdisjoint(fresh):
            return False
        self.n += len(keys)
        self.profiles.update(zip(keys, records_of(columns), strict=True))
        self.lines.update(fresh)
        return True

    def _merge(self, line: int, rec: dict) -> None:
        key = self.key_of(rec)
        old = self.profiles.get(key)
        if old is None:
            self.profiles[key] = rec  # a fresh dict of this row's own
            self.lines[key] = line
            return
        self.repeats += 1
        for name, value in rec.items():
            if value is None or value == "":
                continue
            was = old.get(name)
            if was not in (None, "") and was != value:
                self.conflicts.setdefault(key, []).append(
                    f"{name} {was!r} (line {self.lines[key]}) then {value!r} (line {line})"
                )
            old[name] = value
        self.lines[key] = line

    def merged_notice(self) -> list[str]:
        if not self.repeats:
            return []
        text = (
            f"{self.repeats} rows repeated a creator already in the file: merged into "
            f"{len(self.profiles)} creators"
        )
        if self.conflicts:
            shown = "; ".join(
                f"@{key[-1]}: {', '.join(c[:2])}" for key, c in list(self.conflicts.items())[:5]
            )
            more = len(self.conflicts) - 5
            text += (
                f"; {len(self.conflicts)} had differing values, the latest row's kept "
                f"({shown}{f'; and {more} more' if more > 0 else ''})"
            )
        return [text]

    def written(self) -> int:
        """The rows the write gets: one per creator when merged, less the skipped lines."""
        if self.merge:
            return len(self.profiles)
        return self.n - len({p.line for p in self.skipped})

    def finish(self) -> None:
        if self.merge:
            records = list(self.profiles.values())
            self.kept = [columns_of(records)] if records else []


@dataclass
class _Scanned:
    """Pass 1's verdict on a file the write may go ahead with."""

    rows: int
    present: set[str]
    ignored: list[str]
    notices: list[str]
    kept: list[Columns] | None
    skipped: list[str]
    skipped_at: set[int]  # the lines of `skipped`
    header: list[str] | None = None


def _scan(
    path: Path,
    kind: str,
    known_songs: set[str] | None,
    progress: bool,
    user_map: dict[str, list[str]],
    skip_invalid: bool = False,
    only: tuple[str, ...] = (),
) -> _Scanned:
    """Pass 1: validate every row; the rows, fields present, ignored columns, notices,
    the records when at most KEEP_ROWS (always with `skip_invalid` or for influencers)
    and the lines skipped. `only`: read just these fields of the kind."""
    shown = str(path)
    cols = schema(kind, path.parent)
    if only:
        cols = {name: col for name, col in cols.items() if name in only}
    opened = _open(path, kind, cols, user_map)
    tally = _Tally(kind, shown, known_songs, skip_invalid)
    bar = _progress(progress, f"checking {path.name}")
    try:
        for chunk in opened.chunks(shown):
            tally.add(chunk)
            bar.update(len(chunk.lines))
    except HeaderError as err:  # JSONL: a line whose keys name a field twice
        raise ImportRejected(shown, [f"{shown}: {err}"]) from None
    except UnicodeDecodeError as err:  # the rest of the file is unreadable: never skipped
        tally.report(Problem(shown, tally.n + 1, "", f"cannot be decoded ({err.reason})"))
    finally:
        bar.close()
    tally.finish()
    present = opened.present
    n, problems = tally.n, tally.problems
    if opened.fixed is None and n and not problems:
        try:
            check_header(present, cols, sorted(present))
        except HeaderError as err:
            raise ImportRejected(shown, [f"{shown}: {err}"]) from None
    if problems:
        hint = "" if skip_invalid else SKIP_HINT  # a file that cannot be decoded is never skipped
        raise ImportRejected(shown, [str(p) for p in problems], tally.extra, hint)
    if tally.written() == 0:
        raise ImportRejected(shown, [f"{shown}: no data rows"] + [str(p) for p in tally.skipped])
    notices = list(opened.source.notices) + tally.merged_notice()
    return _Scanned(
        tally.written(),
        present & set(cols),
        sorted(opened.ignored or ()),
        notices,
        tally.kept,
        [str(p) for p in tally.skipped],
        {p.line for p in tally.skipped},
        opened.source.header,
    )


PROFILE_FIELDS = ("followers", "following", "posts_count")


def _profile_scan(
    path: Path,
    header: list[str] | None,
    progress: bool,
    user_map: dict[str, list[str]],
    skip_invalid: bool,
) -> _Scanned | None:
    """A posts export that repeats its creator's profile counts on every row (the raw
    instagram-600 export's numberFollowers beside each post): those counts, one record
    per creator, for the influencers the posts belong to. They were dropped with the
    ignored columns, and follower counts are what a marketer filters on."""
    if header is None:
        return None
    only = ("handle", "platform", *PROFILE_FIELDS)
    cols = {k: v for k, v in schema("influencers", path.parent).items() if k in only}
    mapped = {
        src: [t for t in targets if t.partition("@")[0] in only]
        for src, targets in user_map.items()
    }
    try:
        cmap = resolve("influencers", header, cols, mapped)
    except HeaderError:
        return None
    fed = {f for targets in cmap.targets.values() for f, _ in targets}
    if "handle" not in fed or not fed & set(PROFILE_FIELDS):
        return None
    return _scan(path, "influencers", None, progress, mapped, skip_invalid, only)


def _key(kind: str) -> Callable[[dict], tuple]:
    """The key a row must not repeat: a post's id may repeat under another handle (a
    collab post appears once per author), never under the same one."""
    if kind == "posts":
        return itemgetter("platform", "post_id", "handle")
    return lambda rec: natural_key(kind, rec)


def _clean(
    kind: str, columns: Columns, lines: list[int], seen: dict, known_songs: set[str] | None
) -> bool:
    """Whether a chunk of valid rows repeats no key and names no unknown song, checked
    set-wise; its keys then join `seen`. False leaves `seen` as it was, for the
    row-by-row check that words each problem."""
    if kind == "posts":
        keys = zip(columns["platform"], columns["post_id"], columns["handle"], strict=True)
    elif kind == "influencers":
        keys = zip(columns["platform"], columns["handle"], strict=True)
    elif kind == "followers":
        keys = zip(columns["handle"], columns["follower"], strict=True)
    else:
        keys = zip(columns["song_id"])
    fresh = dict(zip(keys, lines, strict=True))
    if len(fresh) != len(lines) or not seen.keys().isdisjoint(fresh):
        return False
    songs = set(columns["song_id"]) if kind == "posts" and known_songs is not None else ()
    if any(s and s not in known_songs for s in songs):
        return False
    seen.update(fresh)
    return True


def _chunks(path: Path, kind: str, cols: dict[str, Column], user_map: dict[str, list[str]]):
    """Pass 2 for long files: the same rows again, validated again."""
    for chunk in _open(path, kind, cols, user_map).chunks(str(path)):
        assert chunk.columns is not None  # pass 1 proved every row valid
        yield chunk.columns


def _batches(chunks, size: int):
    """Column chunks re-cut into batches of `size` rows, wherever the chunks end (a
    collab post's rows in one batch merge; in two, the second updates the first)."""
    pending: Columns = {}
    for columns in chunks:
        pending = {k: pending.get(k, []) + v for k, v in columns.items()} if pending else columns
        n = len(next(iter(pending.values()), ()))
        whole = n - n % size
        for i in range(0, whole, size):
            yield {k: v[i : i + size] for k, v in pending.items()}
        pending = {k: v[whole:] for k, v in pending.items()} if whole < n else {}
    if pending:
        yield pending


_gc_lock = threading.Lock()
_gc_paused = 0  # imports running with the collector paused
_gc_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector walks every live container each time enough
    new ones were made; an import makes millions (cells, records, rows) and keeps
    them, so the collector took ~40% of validation's CPU (1.39 s vs 0.82 s on 100k
    posts). Nothing an import makes is cyclic: the collector waits until the last
    import running is done (memory is still freed by reference counting)."""
    global _gc_paused, _gc_was_enabled
    with _gc_lock:
        if _gc_paused == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_paused += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_paused -= 1
            if _gc_paused == 0 and _gc_was_enabled:
                gc.enable()


def import_file(
    path: Path | str,
    kind: str,
    store: Any,
    progress: bool = False,
    column_map: list[str] | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Validate then write `path` as `kind` into `store` (a models.store.Store).
    `column_map` holds `SOURCE=FIELD` specs for columns the aliases do not know.
    All rows or none, unless `skip_invalid`: then the valid rows are written and each
    invalid line is listed in the report (real exports carry junk rows a person should
    not have to delete by hand)."""
    with _collector_paused():
        return _import_file(path, kind, store, progress, column_map, skip_invalid)


def _import_file(
    path: Path | str,
    kind: str,
    store: Any,
    progress: bool,
    column_map: list[str] | None,
    skip_invalid: bool = False,
) -> ImportReport:
    from models import retry, writer

    path = Path(path)
    if kind not in KINDS:
        raise ScoutError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not path.is_file():
        raise ScoutError(f"{path}: no such file")
    cols = schema(kind, path.parent)
    user_map = parse_map(column_map or [], cols)
    started = time.perf_counter()
    known_songs = None
    if kind == "posts":
        with store.sessions() as s:
            known_songs = writer.known_song_ids(s)
    scan = _scan(path, kind, known_songs, progress, user_map, skip_invalid)
    kept, present = scan.kept, scan.present
    profiles = None
    if kind == "posts":
        profiles = _profile_scan(path, scan.header, progress, user_map, skip_invalid)

    def write(session) -> int:
        """One transaction for the whole file; models.retry runs it again, from the
        file's first row, when the database aborts it as a deadlock."""
        new_rows, id_cache = 0, {}
        chunks = kept if kept is not None else _chunks(path, kind, cols, user_map)
        bar = _progress(progress, f"writing {path.name}")
        with writer.import_cache(session, kind, scan.rows):
            if known_songs and not known_songs <= writer.known_song_ids(session):
                # (the write runs without foreign-key checks on SQLite: see import_cache)
                raise ScoutError("songs were removed while this file was checked; import again")
            for batch in _batches(chunks, BATCH):
                new_rows += _write(writer, session, kind, batch, present, id_cache)
                bar.update(len(batch[KEY_COLUMN[kind]]))
            for batch in _batches(profiles.kept or [] if profiles else [], BATCH):
                _write(writer, session, "influencers", batch, profiles.present, id_cache)
        bar.close()
        return new_rows

    new = retry.in_transaction(store, write, what=f"import of {path.name}")
    if profiles is not None:
        _fold_profiles(scan, profiles)
    return ImportReport(
        kind,
        str(path),
        scan.rows,
        new,
        time.perf_counter() - started,
        tuple(scan.ignored),
        tuple(scan.notices),
        tuple(scan.skipped),
        len(scan.skipped_at),
    )


def _fold_profiles(scan: _Scanned, profiles: _Scanned) -> None:
    """The posts report says what the profile pass kept: its columns are no longer
    ignored, its differing values and its skipped lines are told."""
    scan.ignored = [c for c in scan.ignored if c in profiles.ignored]
    kept = [f for f in PROFILE_FIELDS if f in profiles.present]
    scan.notices.append(
        f"kept the creators' {', '.join(kept)} from the post rows ({profiles.rows} creators)"
    )
    scan.notices.extend(n for n in profiles.notices if "differing values" in n)
    scan.skipped.extend(p for p in profiles.skipped if p not in scan.skipped)
    scan.skipped_at |= profiles.skipped_at


def _write(writer, session, kind: str, batch: Columns, present: set[str], id_cache: dict) -> int:
    """Write one batch; the number of its rows that were new."""
    if kind == "songs":
        return writer.upsert_songs(session, records_of(batch), present)
    if kind == "influencers":
        return writer.upsert_influencer_columns(session, batch, present)
    if kind == "followers":
        from models.followers import upsert_samples

        return upsert_samples(session, records_of(batch))
    return writer.upsert_posts(session, batch, present, id_cache)
