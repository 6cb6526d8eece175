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
from engine.ingest.rows import (
    KINDS,
    HeaderError,
    Problem,
    check_header,
    natural_key,
    read_rows,
    schema,
    validate,
)

MAX_PROBLEMS = 50
BATCH = 2000


@dataclass(frozen=True)
class ImportReport:
    kind: str
    path: str
    rows: int
    new_rows: int
    seconds: float
    ignored_columns: tuple[str, ...] = ()

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        ignored = (
            f"; ignored unknown columns: {', '.join(self.ignored_columns)}"
            if self.ignored_columns
            else ""
        )
        return (
            f"{self.path}: {self.rows} {self.kind} imported ({self.new_rows} new, "
            f"{self.rows - self.new_rows} updated) in {self.seconds:.1f}s "
            f"({self.rows_per_second:,.0f} rows/s){ignored}"
        )


def _progress(enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(desc=desc, unit=" rows", disable=not enabled, file=sys.stderr, mininterval=0.5)


def _scan(
    path: Path, kind: str, known_songs: set[str] | None, progress: bool
) -> tuple[int, set[str], list[str]]:
    """Pass 1: validate every row; returns (rows, columns present, ignored columns)."""
    shown = str(path)
    try:
        header, rows = read_rows(path)
    except HeaderError as err:
        raise ImportRejected(shown, [f"{shown}:1: {err}"]) from None
    cols = schema(kind, path.parent)
    problems: list[Problem] = []
    extra = 0
    ignored: list[str] = []
    present: set[str] = set(header or [])
    if header is not None:
        try:
            ignored = check_header(kind, header, cols)
        except HeaderError as err:
            raise ImportRejected(shown, [f"{shown}:1: {err}"]) from None
    seen: dict[tuple, int] = {}
    n = 0

    def report(p: Problem) -> None:
        nonlocal extra
        if len(problems) < MAX_PROBLEMS:
            problems.append(p)
        else:
            extra += 1

    bar = _progress(progress, f"checking {path.name}")
    try:
        for raw in rows:
            n += 1
            bar.update(1)
            if header is None:
                present.update(k for k in raw.values if k in cols)
            rec, errs = validate(kind, raw, cols, shown)
            for p in errs:
                report(p)
            if rec is None:
                continue
            key = natural_key(kind, rec)
            first = seen.setdefault(key, raw.line)
            if first != raw.line:
                col = {"influencers": "handle", "posts": "post_id", "songs": "song_id"}[kind]
                report(Problem(shown, raw.line, col, f"duplicate of line {first} ({key[-1]!r})"))
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
        report(
            Problem(
                shown, n + 1, "", f"not UTF-8 text ({err.reason} at byte {err.start} of a chunk)"
            )
        )
    finally:
        bar.close()
    if problems:
        raise ImportRejected(shown, [str(p) for p in problems], extra)
    if n == 0:
        raise ImportRejected(shown, [f"{shown}: no data rows"])
    return n, present & set(cols), ignored


def import_file(path: Path | str, kind: str, store: Any, progress: bool = False) -> ImportReport:
    """Validate then write `path` as `kind` into `store` (a models.store.Store)."""
    from models import writer

    path = Path(path)
    if kind not in KINDS:
        raise ScoutError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not path.is_file():
        raise ScoutError(f"{path}: no such file")
    started = time.perf_counter()
    known_songs = None
    if kind == "posts":
        with store.sessions() as s:
            known_songs = writer.known_song_ids(s)
    n, present, ignored = _scan(path, kind, known_songs, progress)
    before = store.counts()[kind]
    cols = schema(kind, path.parent)
    _, rows = read_rows(path)
    bar = _progress(progress, f"writing {path.name}")
    id_cache: dict[tuple[str, str], int] = {}
    with store.session() as session:  # one transaction for the whole file
        batch: list[dict] = []
        for raw in rows:
            rec, _ = validate(kind, raw, cols, str(path))
            assert rec is not None  # pass 1 proved every row valid
            batch.append(rec)
            if len(batch) >= BATCH:
                _write(writer, session, kind, batch, present, id_cache)
                bar.update(len(batch))
                batch = []
        if batch:
            _write(writer, session, kind, batch, present, id_cache)
            bar.update(len(batch))
    bar.close()
    after = store.counts()[kind]
    return ImportReport(
        kind, str(path), n, after - before, time.perf_counter() - started, tuple(ignored)
    )


def _write(
    writer, session, kind: str, batch: list[dict], present: set[str], id_cache: dict
) -> None:
    if kind == "songs":
        writer.upsert_songs(session, batch, present)
    elif kind == "influencers":
        writer.upsert_influencers(session, batch, present)
    else:
        writer.upsert_posts(session, batch, present, id_cache)
