"""`python -m engine import KIND FILE`: validate the whole file first (streaming, bounded
memory), then write it in one transaction. Any bad row rejects the file with every
problem listed as file:line: column: reason, and nothing of it is written."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import ImportRejected, ScoutError
from engine.ingest.columns import ColumnMap, parse_map, resolve
from engine.ingest.readers import HeaderError, RawRow, Source, open_source
from engine.ingest.rows import KINDS, Column, Problem, check_header, natural_key, schema, validate

MAX_PROBLEMS = 50
BATCH = 2000
# Files up to this many rows keep their validated records from pass 1 for the write
# (no second parse: most of an import's time); longer files are read again, so memory
# stays bounded whatever the file's size.
KEEP_ROWS = 250_000
KEY_COLUMN = {"influencers": "handle", "posts": "post_id", "songs": "song_id"}


@dataclass(frozen=True)
class ImportReport:
    kind: str
    path: str
    rows: int
    new_rows: int
    seconds: float
    ignored_columns: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()

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
        return (
            f"{self.path}: {self.rows} {self.kind} imported ({self.new_rows} new, "
            f"{self.rows - self.new_rows} updated) in {self.seconds:.1f}s "
            f"({self.rows_per_second:,.0f} rows/s){ignored}{notes}"
        )


def _progress(enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" rows", disable=not enabled, file=sys.stderr, mininterval=0.5)


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

    def rows(self):
        for raw in self.source.rows:
            if "__error__" in raw.values:
                yield raw
                continue
            cmap = self.fixed
            if cmap is None:
                keys = tuple(raw.values)
                cmap = self._maps.get(keys)
                if cmap is None:
                    cmap = self._maps[keys] = resolve(
                        self.kind, list(keys), self.cols, self.user_map
                    )
                    self.ignored.update(cmap.ignored)
            yield RawRow(raw.line, cmap.apply(raw.values))


def _open(
    path: Path, kind: str, cols: dict[str, Column], user_map: dict[str, list[str]]
) -> _Opened:
    shown = str(path)
    try:
        opened = _Opened(open_source(path), kind, cols, user_map)
        if opened.fixed is not None:
            check_header(
                {f for targets in opened.fixed.targets.values() for f, _ in targets},
                cols,
                opened.source.header or [],
            )
    except HeaderError as err:
        raise ImportRejected(shown, [f"{shown}:1: {err}"]) from None
    except UnicodeDecodeError as err:
        raise ImportRejected(shown, [f"{shown}:1: cannot be decoded ({err.reason})"]) from None
    except OSError as err:
        raise ImportRejected(shown, [f"{shown}: cannot be read: {err.strerror or err}"]) from None
    return opened


def _scan(
    path: Path,
    kind: str,
    known_songs: set[str] | None,
    progress: bool,
    user_map: dict[str, list[str]],
) -> tuple[int, set[str], list[str], list[str], list[dict] | None]:
    """Pass 1: validate every row; returns (rows, fields present, ignored columns,
    notices, the records when at most KEEP_ROWS)."""
    shown = str(path)
    cols = schema(kind, path.parent)
    opened = _open(path, kind, cols, user_map)
    problems: list[Problem] = []
    extra = 0
    present: set[str] = set()
    seen: dict[tuple, int] = {}
    kept: list[dict] | None = []
    n = 0

    def report(p: Problem) -> None:
        nonlocal extra
        if len(problems) < MAX_PROBLEMS:
            problems.append(p)
        else:
            extra += 1

    bar = _progress(progress, f"checking {path.name}")
    try:
        for raw in opened.rows():
            n += 1
            bar.update(1)
            present.update(k for k, v in raw.values.items() if k in cols)
            rec, errs = validate(kind, raw, cols, shown)
            for p in errs:
                report(p)
            if rec is None:
                continue
            if kept is not None:
                kept.append(rec)
                if len(kept) > KEEP_ROWS:
                    kept = None
            key = natural_key(kind, rec)
            if kind == "posts":  # a collab post: one post id under each of its authors
                key = (*key, rec["handle"])
            first = seen.setdefault(key, raw.line)
            if first != raw.line:
                col = KEY_COLUMN[kind]
                shown_key = key[-2] if kind == "posts" else key[-1]
                report(Problem(shown, raw.line, col, f"duplicate of line {first} ({shown_key!r})"))
            if (
                kind == "posts"
                and rec.get("song_id")
                and known_songs is not None
                and rec["song_id"] not in known_songs
            ):
                report(
                    Problem(
                        shown,
                        raw.line,
                        "song_id",
                        f"unknown song {rec['song_id']!r} (import songs first)",
                    )
                )
    except UnicodeDecodeError as err:
        report(Problem(shown, n + 1, "", f"cannot be decoded ({err.reason})"))
    finally:
        bar.close()
    if opened.fixed is None and n and not problems:
        try:
            check_header(present, cols, sorted(present))
        except HeaderError as err:
            raise ImportRejected(shown, [f"{shown}: {err}"]) from None
    if problems:
        raise ImportRejected(shown, [str(p) for p in problems], extra)
    if n == 0:
        raise ImportRejected(shown, [f"{shown}: no data rows"])
    return n, present & set(cols), sorted(opened.ignored or ()), opened.source.notices, kept


def _records(path: Path, kind: str, cols: dict[str, Column], user_map: dict[str, list[str]]):
    """Pass 2 for long files: the same rows again, validated again."""
    for raw in _open(path, kind, cols, user_map).rows():
        rec, _ = validate(kind, raw, cols, str(path))
        assert rec is not None  # pass 1 proved every row valid
        yield rec


def import_file(
    path: Path | str,
    kind: str,
    store: Any,
    progress: bool = False,
    column_map: list[str] | None = None,
) -> ImportReport:
    """Validate then write `path` as `kind` into `store` (a models.store.Store).
    `column_map` holds `SOURCE=FIELD` specs for columns the aliases do not know."""
    from models import writer

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
    n, present, ignored, notices, kept = _scan(path, kind, known_songs, progress, user_map)
    before = store.counts()[kind] if kind != "posts" else 0
    new_posts = 0
    records = kept if kept is not None else _records(path, kind, cols, user_map)
    bar = _progress(progress, f"writing {path.name}")
    id_cache: dict[tuple[str, str], int] = {}
    with store.session() as session:  # one transaction for the whole file
        batch: list[dict] = []
        for rec in records:
            batch.append(rec)
            if len(batch) >= BATCH:
                new_posts += _write(writer, session, kind, batch, present, id_cache)
                bar.update(len(batch))
                batch = []
        if batch:
            new_posts += _write(writer, session, kind, batch, present, id_cache)
            bar.update(len(batch))
    bar.close()
    new = new_posts if kind == "posts" else store.counts()[kind] - before
    return ImportReport(
        kind,
        str(path),
        n,
        new,
        time.perf_counter() - started,
        tuple(ignored),
        tuple(notices),
    )


def _write(writer, session, kind: str, batch: list[dict], present: set[str], id_cache: dict) -> int:
    """Write one batch; the number of new posts (0 for the other kinds)."""
    if kind == "songs":
        writer.upsert_songs(session, batch, present)
        return 0
    if kind == "influencers":
        writer.upsert_influencers(session, batch, present)
        return 0
    return writer.upsert_posts(session, batch, present, id_cache)
