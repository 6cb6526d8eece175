"""Batch upserts for import: insert new rows and update existing ones in place on their
natural keys, so re-importing the same file changes nothing and duplicates nothing.
Callers pass one session for a whole file; the transaction is theirs (run it through
models.retry.in_transaction: a transaction the database aborted as a deadlock is
rolled back whole and can simply run again).

Concurrent imports take the tables they write in one global order (`lock_tables`)
before their first write. Sorting each batch's keys is not enough on Postgres: an
import holds the rows of its earlier batches until it commits, so two imports of
overlapping files still waited on each other's rows (8 concurrent post imports of
overlapping files: 4 deadlocked). Whole-table write locks in a fixed order make the
second import wait for the first instead; SQLite has one write lock anyway."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from itertools import chain, filterfalse, repeat
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.schema import Influencer, PostHashtag, Song

INFLUENCER_FIELDS = ("name", "followers", "following", "posts_count", "bio", "language", "country")
POST_FIELDS = ("posted_at", "caption", "likes", "comments", "image", "song_id", "views")

# Every table an import writes, in the one order imports lock them (see the module).
WRITE_ORDER = ("songs", "influencers", "posts", "post_authors", "post_hashtags")
POST_TABLES = ("influencers", "posts", "post_authors", "post_hashtags")


def table_lock_key(table: str) -> int:
    """The Postgres advisory lock key standing for writes to `table` by an import."""
    return zlib.crc32(f"scout:import:{table}".encode())


def lock_tables(session: Session, tables: tuple[str, ...]) -> None:
    """Hold the right to write `tables` until this transaction ends, taken in
    WRITE_ORDER whatever order `tables` names them (one order for every import is what
    rules out a deadlock between two). Postgres: transaction-level advisory locks,
    released by commit or rollback, so a killed import frees them. SQLite: the
    database's write lock, taken now (BEGIN IMMEDIATE, waiting out the busy timeout)
    rather than at the first INSERT, so what the import reads before writing (which
    keys exist) cannot change under it."""
    conn = session.connection()
    held = session.info.setdefault("scout_table_locks", {})
    transaction = session.get_transaction()
    if held.get("transaction") is not transaction:
        held.clear()
        held.update(transaction=transaction, tables=set())
    wanted = [t for t in WRITE_ORDER if t in tables and t not in held["tables"]]
    if not wanted:
        return
    missing = set(tables) - set(WRITE_ORDER)
    if missing:
        raise ValueError(f"no lock order for tables {sorted(missing)}")
    if conn.dialect.name == "postgresql":
        if held["tables"] and WRITE_ORDER.index(wanted[0]) < max(
            WRITE_ORDER.index(t) for t in held["tables"]
        ):
            raise RuntimeError(f"{wanted[0]} locked after a table later in WRITE_ORDER")
        for table in wanted:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": table_lock_key(table)})
    elif conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if not raw.in_transaction:
            raw.execute("BEGIN IMMEDIATE")
    held["tables"].update(wanted)


def _insert(session: Session, table):
    """A dialect INSERT on the Core table (not the ORM entity: the ORM's bulk path
    costs more per row than SQLite itself)."""
    dialect = session.get_bind().dialect.name
    table = getattr(table, "__table__", table)
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"import supports SQLite and PostgreSQL, not {dialect}")


def _known_groups(
    batch: dict[str, list[Any]], n: int, fields: tuple[str, ...], columns: set[str]
) -> dict[tuple[str, ...], list[int]]:
    """Group rows (by index; `batch` column by column) by which of the file's update
    columns they have a value for: a blank cell means "unknown" and must leave the
    stored value as it is, so each group gets an upsert that updates exactly its known
    columns (few groups in practice). Only columns with a blank decide a row's group."""
    present = [c for c in fields if c in columns]
    gappy = [c for c in present if None in batch[c]]
    if not gappy:
        return {tuple(present): list(range(n))} if n else {}
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, blanks in enumerate(zip(*(batch[c] for c in gappy), strict=True)):
        gaps = {c for c, v in zip(gappy, blanks, strict=True) if v is None}
        groups.setdefault(tuple(c for c in present if c not in gaps), []).append(i)
    return groups


def _by_known_columns(
    records: list[dict[str, Any]], fields: tuple[str, ...], columns: set[str]
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """`_known_groups` for records (songs, influencers: short files, one dict a row)."""
    batch = {c: [r.get(c) for r in records] for c in fields if c in columns}
    groups = _known_groups(batch, len(records), fields, columns)
    return {known: [records[i] for i in group] for known, group in groups.items()}


def upsert_songs(session: Session, records: list[dict[str, Any]], columns: set[str]) -> int:
    """Returns how many of the songs were new."""
    fields = ("title", "artist", "release", "year")
    lock_tables(session, ("songs",))
    ids = sorted(r["song_id"] for r in records)
    stored = sum(
        session.scalar(select(func.count()).where(Song.song_id.in_(ids[i : i + 900]))) or 0
        for i in range(0, len(ids), 900)
    )
    for known, group in _by_known_columns(records, fields, columns).items():
        stmt = _insert(session, Song)
        update = {c: stmt.excluded[c] for c in known}
        stmt = (
            stmt.on_conflict_do_update(index_elements=["song_id"], set_=update)
            if update
            else stmt.on_conflict_do_nothing(index_elements=["song_id"])
        )
        session.connection().execute(
            stmt,
            [{k: r.get(k) for k in ("song_id", *fields)} for r in sorted(group, key=_song_key)],
        )
    return len(ids) - stored


def _song_key(record: dict[str, Any]) -> str:
    return record["song_id"]


def _influencer_key(record: dict[str, Any]) -> tuple[str, str]:
    return record["platform"], record["handle"]


def upsert_influencers(session: Session, records: list[dict[str, Any]], columns: set[str]) -> int:
    """Only the columns present in the file, and in them only the non-blank cells, are
    updated: an export without `bio` (or with an empty one) must not erase stored bios.
    Returns how many of the influencers were new (counted under the table's write lock:
    a count of the table before and after would include other imports' rows)."""
    lock_tables(session, ("influencers",))
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        batch = {c: [r.get(c) for r in records] for c in _INFLUENCER_COLUMNS}
        return _sqlite_upsert_influencers(conn, batch, len(records), columns)
    stored = _stored_influencers(session, {_influencer_key(r) for r in records})
    for known, group in _by_known_columns(records, INFLUENCER_FIELDS, columns).items():
        stmt = _insert(session, Influencer)
        update = {c: stmt.excluded[c] for c in known}
        update["updated_at"] = func.now()
        stmt = stmt.on_conflict_do_update(index_elements=["platform", "handle"], set_=update)
        session.connection().execute(
            stmt,
            [
                {
                    "platform": r["platform"],
                    "handle": r["handle"],
                    **{c: r.get(c) for c in INFLUENCER_FIELDS},
                }
                for r in sorted(group, key=_influencer_key)
            ],
        )
    return len(records) - stored


_INFLUENCER_COLUMNS = ("platform", "handle", *INFLUENCER_FIELDS)


def upsert_influencer_columns(
    session: Session, batch: dict[str, list[Any]], columns: set[str]
) -> int:
    """`upsert_influencers` for validated rows column by column (field -> one value per
    row), as the importer keeps them: on SQLite no dict is built per row."""
    conn = session.connection()
    lock_tables(session, ("influencers",))
    n = len(batch["handle"])
    full = {c: batch.get(c) or [None] * n for c in _INFLUENCER_COLUMNS}
    if conn.dialect.name == "sqlite":
        return _sqlite_upsert_influencers(conn, full, n, columns)
    return _pg_upsert_influencers(conn, full, n, columns)


def _pg_upsert_influencers(conn, batch: dict[str, list[Any]], n: int, columns: set[str]) -> int:
    """Postgres: each group's rows by COPY into a temporary table, then one INSERT ...
    SELECT ... ON CONFLICT ... RETURNING (xmax = 0) that counts the new. The executemany
    and a SELECT ... IN per 900 keys to count the stored ones ran at 480 rows/s on 200k
    creators (the IN query planned from stale statistics in the long transaction). The
    importer's batches hold each creator once (it merges repeats), as ON CONFLICT needs."""
    names = ", ".join(_INFLUENCER_COLUMNS)
    rows = list(zip(*(batch[c] for c in _INFLUENCER_COLUMNS), strict=True))
    new = 0
    with conn.connection.driver_connection.cursor() as cur:
        for known, group in _known_groups(batch, n, INFLUENCER_FIELDS, columns).items():
            sets = [f"{c} = excluded.{c}" for c in known] + ["updated_at = now()"]
            part = rows if len(group) == n else [rows[i] for i in group]
            _pg_stage(cur, "scout_import_influencers", _INFLUENCER_COLUMNS, part)
            cur.execute(
                f"INSERT INTO influencers ({names}) SELECT {names} FROM scout_import_influencers "
                "ORDER BY platform, handle ON CONFLICT (platform, handle) DO UPDATE SET "
                f"{', '.join(sets)} RETURNING (xmax = 0)"
            )
            new += sum(1 for (fresh,) in cur.fetchall() if fresh)
    return new


def _sqlite_upsert_influencers(conn, batch: dict[str, list[Any]], n: int, columns: set[str]) -> int:
    """SQLite: the upsert through the driver's executemany, rows as tuples (SQLAlchemy's
    per-row parameter handling, and a SELECT ... IN per 900 keys to count the stored
    ones, cost 3x SQLite's own work on 200k creators). A new row takes max(id) + 1
    (this transaction holds the write lock), so the growth of max(id) counts the new."""
    raw = conn.connection.driver_connection
    names = ", ".join(_INFLUENCER_COLUMNS)
    rows = list(zip(*(batch[c] for c in _INFLUENCER_COLUMNS), strict=True))
    before = raw.execute("SELECT coalesce(max(id), 0) FROM influencers").fetchone()[0]
    for known, group in _known_groups(batch, n, INFLUENCER_FIELDS, columns).items():
        sets = [f"{c} = excluded.{c}" for c in known] + ["updated_at = CURRENT_TIMESTAMP"]
        part = rows if len(group) == n else [rows[i] for i in group]
        _sqlite_insert_rows(
            raw,
            f"INSERT INTO influencers ({names})",
            sorted(part, key=_row_key),  # in key order (see influencer_ids)
            f"ON CONFLICT (platform, handle) DO UPDATE SET {', '.join(sets)}",
        )
    return raw.execute("SELECT coalesce(max(id), 0) FROM influencers").fetchone()[0] - before


def _row_key(row: tuple) -> tuple:
    return row[0], row[1]


def _stored_influencers(session: Session, keys: set[tuple[str, str]]) -> int:
    """How many of the (platform, handle) keys are already stored."""
    by_platform: dict[str, list[str]] = {}
    for p, h in sorted(keys):
        by_platform.setdefault(p, []).append(h)
    return sum(
        session.scalar(
            select(func.count()).where(
                Influencer.platform == platform, Influencer.handle.in_(handles[i : i + 900])
            )
        )
        or 0
        for platform, handles in by_platform.items()
        for i in range(0, len(handles), 900)
    )


def influencer_ids(
    session: Session, keys: set[tuple[str, str]], cache: dict[tuple[str, str], int]
) -> None:
    """Fill `cache` with ids for (platform, handle); unknown handles get a minimal row.
    New handles are inserted in sorted order, the order every batch writes its rows in
    (the table locks of `lock_tables` are what keeps two imports apart; the order keeps
    a writer outside them from deadlocking with an import within one batch)."""
    missing = list(filterfalse(cache.__contains__, keys))
    if not missing:
        return
    conn = session.connection()
    if conn.dialect.name == "sqlite":  # one writer at a time: no order to keep
        _sqlite_influencer_ids(conn.connection.driver_connection, missing, cache)
        return
    missing.sort()
    stmt = _insert(session, Influencer).on_conflict_do_nothing(
        index_elements=["platform", "handle"]
    )
    session.connection().execute(stmt, [{"platform": p, "handle": h} for p, h in missing])
    by_platform: dict[str, list[str]] = {}
    for p, h in missing:
        by_platform.setdefault(p, []).append(h)
    for platform, handles in by_platform.items():
        for i in range(0, len(handles), 900):
            rows = (
                session.connection()
                .execute(
                    select(Influencer.handle, Influencer.id).where(
                        Influencer.platform == platform, Influencer.handle.in_(handles[i : i + 900])
                    )
                )
                .all()
            )
            cache.update({(platform, h): pk for h, pk in rows})


def _sqlite_influencer_ids(raw, missing: list[tuple[str, str]], cache: dict) -> None:
    """`influencer_ids` through the driver: the minimal rows, then every id by one
    SELECT ... IN per 500 handles (SQLAlchemy's statement building cost 15 us a handle,
    more than SQLite's work)."""
    _sqlite_insert_rows(
        raw, "INSERT INTO influencers (platform, handle)", missing, "ON CONFLICT DO NOTHING"
    )
    by_platform: dict[str, list[str]] = {}
    for p, h in missing:
        by_platform.setdefault(p, []).append(h)
    for platform, handles in by_platform.items():
        for i in range(0, len(handles), 500):
            part = handles[i : i + 500]
            found = raw.execute(
                "SELECT handle, id FROM influencers WHERE platform = ? AND handle IN ("
                + ", ".join("?" * len(part))
                + ")",
                [platform, *part],
            )
            cache.update({(platform, h): pk for h, pk in found})


def merge_collabs(
    records: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], dict[tuple[str, str], list[str]]]:
    """One record per post: a collab post appears once per author with one post id.
    The first row's values win, later rows fill its blanks (in a copy: the caller's
    records are left as they were). Returns the records and, for collab posts only,
    (platform, post_id) -> the further authors' handles in order of appearance."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    extra: dict[tuple[str, str], list[str]] = {}
    for r in records:
        key = (r["platform"], r["post_id"])
        first = merged.setdefault(key, r)
        if first is r:
            continue
        if key not in extra:
            first = merged[key] = dict(first)
            extra[key] = []
        if r["handle"] != first["handle"] and r["handle"] not in extra[key]:
            extra[key].append(r["handle"])
        for k, v in r.items():
            if first.get(k) is None and v is not None:
                first[k] = v
    return list(merged.values()), extra


def _columns(records: list[dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    return {k: [r.get(k) for r in records] for k in names}


def upsert_posts(
    session: Session,
    batch: dict[str, list[Any]],
    columns: set[str],
    id_cache: dict[tuple[str, str], int],
) -> int:
    """Insert or update posts on (platform, post_id), then add every author; returns
    how many posts were new (counted by the statements themselves, so two imports at
    once each get their own count). `batch` holds the validated rows column by column
    (field -> one value per row), as the importer keeps them. The primary author
    (posts.influencer_id) is whoever imported the post first and never moves;
    importing never removes an author an earlier file gave."""
    lock_tables(session, POST_TABLES)
    extra: dict[tuple[str, str], list[str]] = {}
    platforms, n = batch["platform"], len(batch["post_id"])
    one_platform = platforms.count(platforms[0]) == n if n else True
    keys = None if one_platform else list(zip(platforms, batch["post_id"], strict=True))
    if len(set(batch["post_id"] if keys is None else keys)) < n:  # a collab post, under
        names = list(batch)  # each author: one row per post
        merged, extra = merge_collabs(_records(batch))
        batch = _columns(merged, names)
        n = len(batch["post_id"])
        keys = None
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    if keys is None and (extra or not sqlite):
        keys = list(zip(batch["platform"], batch["post_id"], strict=True))
    if not sqlite:  # in key order (see influencer_ids); SQLite has one writer at a time
        order = sorted(range(n), key=keys.__getitem__)
        batch = {k: list(map(v.__getitem__, order)) for k, v in batch.items()}
        keys = list(map(keys.__getitem__, order))
    handles = list(zip(batch["platform"], batch["handle"], strict=True))
    influencer_ids(
        session, set(handles) | {(p, h) for (p, _), hs in extra.items() for h in hs}, id_cache
    )
    author = list(map(id_cache.__getitem__, handles))
    zeroed = {
        c: [v or 0 for v in batch[c]] if None in batch[c] else batch[c]
        for c in ("likes", "comments")
    }
    table = [  # the columns of _ROW_COLUMNS
        batch["platform"],
        batch["post_id"],
        author,
        batch["posted_at"],
        batch["caption"],
        zeroed["likes"],
        zeroed["comments"],
        batch["image"],
        batch["song_id"],
        batch.get("views") or [None] * n,
    ]
    rows = None if sqlite else list(zip(*table, strict=True))
    pks: dict[tuple[str, str], int] = {}
    fresh: set[int] = set()  # the new posts' ids: they have no authors or tags to keep
    post_pk: list[int] | None = None
    for known, group in _known_groups(batch, n, POST_FIELDS, columns).items():
        whole = len(group) == n
        if sqlite:
            part = table if whole else [list(map(col.__getitem__, group)) for col in table]
            ids = _sqlite_upsert_posts(conn, part, known, pks, fresh)
            if ids is not None and whole and not extra:
                post_pk = list(ids)  # every row new: its ids in row order, no lookup
            elif ids is not None:
                pks.update(zip(zip(part[0], part[1], strict=True), ids, strict=True))
        else:
            _pg_upsert_posts(conn, rows if whole else [rows[i] for i in group], known, pks, fresh)
    if post_pk is None:
        if keys is None:
            keys = list(zip(batch["platform"], batch["post_id"], strict=True))
        post_pk = list(map(pks.__getitem__, keys))
    if extra:
        authors = set(zip(post_pk, author, strict=True))
        for (p, post_id), more in extra.items():
            authors.update((pks[(p, post_id)], id_cache[(p, h)]) for h in more)
        _insert_authors(conn, sorted(authors), fresh)
    elif sqlite:  # one author a post, so no pair twice; any order (one writer at a time)
        _sqlite_insert_columns(
            conn.connection.driver_connection, _AUTHORS_INSERT, [post_pk, author], _KEEP
        )
    else:
        _insert_authors(conn, sorted(zip(post_pk, author, strict=True)), fresh)
    _replace_hashtags(session, post_pk, batch["tags"], fresh)
    return len(fresh)


def _replace_hashtags(
    session: Session, post_pk: list[int], tags: list[list[str] | None], fresh: set[int]
) -> None:
    """Each post's tag rows (`tags[i]` for post `post_pk[i]`), replacing the stored ones.
    Hashtags are replaced only for posts whose caption or hashtags cell had a value
    (`tags` is None when both were blank: the stored tags stay); a new post has none."""
    every_post_new = len(fresh) == len(post_pk)  # (`fresh`: the new ones among them)
    if None in tags:
        kept = [i for i, t in enumerate(tags) if t is not None]
        post_pk, tags = list(map(post_pk.__getitem__, kept)), list(map(tags.__getitem__, kept))
    replaced = [] if every_post_new else [pk for pk in post_pk if pk not in fresh]
    if replaced:
        _delete_hashtags(session.connection(), replaced)
    # (pk, tag, position) column by column, each built in one pass
    sizes = list(map(len, tags))
    tag_columns = [
        list(chain.from_iterable(map(repeat, post_pk, sizes))),
        list(chain.from_iterable(tags)),
        list(chain.from_iterable(map(range, sizes))),
    ]
    if tag_columns[0]:
        _insert_hashtags(session, tag_columns)


def _records(batch: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(batch)
    return [dict(zip(names, row, strict=True)) for row in zip(*batch.values(), strict=True)]


# the columns of the rows upsert_posts builds, in that order
_ROW_COLUMNS = ("platform", "post_id", "influencer_id", "posted_at", "caption", "likes")
_ROW_COLUMNS += ("comments", "image", "song_id", "views")


def _sqlite_upsert_posts(
    conn, table: list[list[Any]], known: tuple[str, ...], pks: dict, fresh: set[int]
) -> range | None:
    """SQLite: the upsert through the driver's executemany (SQLAlchemy's per-row
    parameter handling cost more than SQLite's own work), `table` column by column
    (those of _ROW_COLUMNS). New rows take the next rowids in order (SQLite gives a new
    row max(rowid) + 1, and this transaction holds the write lock), so when every row
    is new their ids need no query: they are returned, in row order (`pks` is left to
    the caller); else `pks` gets every row's id and None is returned."""
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in known)
        if known
        else "DO NOTHING"
    )
    raw = conn.connection.driver_connection
    before = raw.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()[0]
    when = table[3]  # posted_at, as the text SQLAlchemy's DateTime type reads back
    stamps = {w: _sqlite_time(w) for w in set(when)}
    table = [*table[:3], list(map(stamps.__getitem__, when)), *table[4:]]
    _sqlite_insert_columns(
        raw,
        f"INSERT INTO posts ({', '.join(_ROW_COLUMNS)})",
        table,
        f"ON CONFLICT (platform, post_id) {action}",
    )
    after = raw.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()[0]
    n = len(when)
    if after - before == n:  # all new, numbered in row order
        ids = range(before + 1, after + 1)
        fresh.update(ids)
        return ids
    stored = _sqlite_post_ids(raw, list(zip(table[0], table[1], strict=True)))
    pks.update(stored)
    fresh.update(pk for pk in stored.values() if pk > before)
    return None


# SQLite: rows per INSERT statement (`VALUES (...), (...), ...`). One statement a row
# paid SQLite's per-statement cost (reset, bind, step) for every row: 800k tag rows
# took 0.62 s one a statement, 0.32 s 200 a statement.
ROWS_PER_STATEMENT = 200


def _sqlite_insert_rows(raw, head: str, rows: list[tuple], tail: str = "") -> None:
    """`_sqlite_insert_columns` for rows (tuples of one width)."""
    if rows:
        _sqlite_insert_columns(raw, head, [list(col) for col in zip(*rows, strict=True)], tail)


def _sqlite_insert_columns(raw, head: str, table: list[list[Any]], tail: str = "") -> None:
    """`head VALUES (?, ...), (?, ...) ... tail` for the rows of `table` (columns of one
    length), in order, ROWS_PER_STATEMENT rows a statement (fewer where SQLite allows
    fewer parameters); an upsert's `tail` acts on each row as it would one a statement.
    The parameters are laid out once, a column at a time by slice assignment (building
    them row by row cost as much as SQLite's own work for a posts table). A column that
    is NULL throughout is written NULL in the statement and one text throughout (the
    platform) is bound once a statement: binding a parameter costs more than SQLite
    storing it, and 200k posts went in at 0.39 s with all ten bound, 0.25 s with 7."""
    n = len(table[0]) if table else 0
    if not n:
        return
    shape: list[str | None] = []  # per column: "NULL", "const" or None (bound a row)
    for col in table:
        first = col[0]
        same = col[-1] == first and col[n // 2] == first and col.count(first) == n
        if same and first is None:
            shape.append("NULL")
        elif same and type(first) is str:
            shape.append("const")
        else:
            shape.append(None)
    if None not in shape:  # every row the same: still one column bound a row
        shape[-1] = None
    consts = [col[0] for col, kind in zip(table, shape, strict=True) if kind == "const"]
    varying = [col for col, kind in zip(table, shape, strict=True) if kind is None]
    width = len(varying)
    try:
        limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # pragma: no cover - Python < 3.11
        limit = 999
    per = max(1, min(ROWS_PER_STATEMENT, (limit - len(consts)) // width))
    flat: list[Any] = [None] * (n * width)
    for j, col in enumerate(varying):
        flat[j::width] = col
    full = (n - n % per) * width
    step = per * width
    if full:
        raw.executemany(
            _values_sql(head, tail, tuple(shape), per),
            [consts + flat[i : i + step] for i in range(0, full, step)],
        )
    if full < len(flat):
        raw.execute(_values_sql(head, tail, tuple(shape), n % per), consts + flat[full:])


@lru_cache(maxsize=256)
def _values_sql(head: str, tail: str, shape: tuple[str | None, ...], rows: int) -> str:
    """The INSERT of `_sqlite_insert_columns` for `rows` rows of `shape`: parameters
    numbered, the constants first (?1, ?2 ... in every row), then each row's own."""
    consts = iter(range(1, shape.count("const") + 1))
    fixed = [f"?{next(consts)}" if k == "const" else k for k in shape]
    marks = iter(range(shape.count("const") + 1, shape.count("const") + rows * len(shape) + 1))
    values = ("(" + ", ".join(f or f"?{next(marks)}" for f in fixed) + ")" for _ in range(rows))
    return f"{head} VALUES {', '.join(values)} {tail}"


@lru_cache(maxsize=1 << 16)  # a file's posts share few days: each formatted once
def _sqlite_time(value: Any) -> Any:
    # the text SQLAlchemy's SQLite DateTime type writes and parses back
    return value.isoformat(" ", "microseconds") if value is not None else None


def _sqlite_post_ids(raw, rows: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for r in rows:
        by_platform.setdefault(r[0], []).append(r[1])
    for platform, ids in by_platform.items():
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            q = (
                "SELECT post_id, id FROM posts WHERE platform = ? AND post_id IN ("
                + ", ".join("?" for _ in chunk)
                + ")"
            )
            out.update({(platform, pid): pk for pid, pk in raw.execute(q, [platform, *chunk])})
    return out


# Postgres: rows go to a temporary table by COPY, then into their table by one
# INSERT ... SELECT ... ON CONFLICT (an executemany of the upsert cost 0.78x a bare
# to_sql of the same rows; COPY is what to_sql cannot use).
_PG_STAGE = {
    "scout_import_posts": "platform varchar(32), post_id varchar(100), influencer_id integer, "
    "posted_at timestamp, caption text, likes bigint, comments bigint, image text, "
    "song_id varchar(100), views bigint",
    "scout_import_authors": "post_pk integer, influencer_id integer",
    "scout_import_influencers": "platform varchar(32), handle varchar(100), name varchar(200), "
    "followers bigint, following bigint, posts_count integer, bio text, language varchar(16), "
    "country varchar(64)",
}


def _pg_copy(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _pg_stage(cur, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """`rows` into the (emptied) temporary table `table`, dropped at commit."""
    cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({_PG_STAGE[table]}) ON COMMIT DROP")
    cur.execute(f"TRUNCATE {table}")
    _pg_copy(cur, table, columns, rows)


def _pg_upsert_posts(
    conn, rows: list[tuple], known: tuple[str, ...], pks: dict, fresh: set[int]
) -> None:
    """Postgres: RETURNING maps natural keys to primary keys in the same statement (in
    any row order: each row carries its key). A separate SELECT ... IN per batch
    degraded to a scan of the growing table inside the one long import transaction
    (Postgres plans it from stale statistics): 313 rows/s overall at 100k."""
    cols = ", ".join(_ROW_COLUMNS)
    # a no-op update, not DO NOTHING, when no column is known: RETURNING must give
    # every row's key
    update = ", ".join(f"{c} = excluded.{c}" for c in known) or "post_id = excluded.post_id"
    with conn.connection.driver_connection.cursor() as cur:
        _pg_stage(cur, "scout_import_posts", _ROW_COLUMNS, rows)
        cur.execute(
            f"INSERT INTO posts ({cols}) SELECT {cols} FROM scout_import_posts "
            f"ORDER BY platform, post_id ON CONFLICT (platform, post_id) DO UPDATE SET {update} "
            "RETURNING platform, post_id, id, (xmax = 0)"  # xmax = 0: a new row
        )
        for platform, post_id, pk, new in cur.fetchall():
            pks[(platform, post_id)] = pk
            if new:
                fresh.add(pk)


_AUTHORS_INSERT = "INSERT INTO post_authors (post_pk, influencer_id)"
_KEEP = "ON CONFLICT DO NOTHING"


def _insert_authors(conn, rows: list[tuple[int, int]], fresh: set[int]) -> None:
    """(post_pk, influencer_id) rows, kept if already there. On Postgres a new post's
    rows go straight in by COPY (nothing can be there yet), the others by COPY into a
    temporary table and one INSERT ... ON CONFLICT DO NOTHING."""
    if conn.dialect.name == "sqlite":
        _sqlite_insert_rows(conn.connection.driver_connection, _AUTHORS_INSERT, rows, _KEEP)
        return
    new = [r for r in rows if r[0] in fresh]
    old = [r for r in rows if r[0] not in fresh] if len(new) < len(rows) else []
    with conn.connection.driver_connection.cursor() as cur:
        if new:
            _pg_copy(cur, "post_authors", ("post_pk", "influencer_id"), new)
        if old:
            _pg_stage(cur, "scout_import_authors", ("post_pk", "influencer_id"), old)
            cur.execute(
                "INSERT INTO post_authors (post_pk, influencer_id) SELECT post_pk, influencer_id "
                "FROM scout_import_authors ORDER BY post_pk, influencer_id ON CONFLICT DO NOTHING"
            )


def _delete_hashtags(conn, post_pks: list[int]) -> None:
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.executemany(
            "DELETE FROM post_hashtags WHERE post_pk = ?", [(pk,) for pk in post_pks]
        )
    elif conn.dialect.name == "postgresql":  # one statement, the keys as one array
        with conn.connection.driver_connection.cursor() as cur:
            cur.execute("DELETE FROM post_hashtags WHERE post_pk = ANY(%s)", (post_pks,))
    else:
        for i in range(0, len(post_pks), 900):
            conn.execute(delete(PostHashtag).where(PostHashtag.post_pk.in_(post_pks[i : i + 900])))


def _insert_hashtags(session: Session, table: list[list[Any]]) -> None:
    """The (post_pk, tag, position) rows, column by column. Postgres takes them (several
    per post) through COPY, in the import's own transaction; it is several times faster
    than a batched INSERT there."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        _sqlite_insert_columns(
            conn.connection.driver_connection,
            "INSERT INTO post_hashtags (post_pk, tag, position)",
            table,
        )
        return
    rows = zip(*table, strict=True)
    if conn.dialect.name == "postgresql":
        sql = "COPY post_hashtags (post_pk, tag, position) FROM STDIN"
        with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    conn.execute(
        insert(PostHashtag.__table__),
        [{"post_pk": pk, "tag": tag, "position": pos} for pk, tag, pos in rows],
    )


# SQLite's page cache while an import writes (KiB; PRAGMA cache_size takes it
# negative): the default 2 MB cannot hold the posts' four indexes, and inserting 100k
# posts cost SQLite 1.6x the CPU (0.98 s vs 0.60 s; ~15% of all its import work), and
# 200k posts with their tag rows (~65 MB) still spilled pages at 64 MB (0.05 s more).
# Pages are taken as used; the connection gets its own size back after.
IMPORT_CACHE_KIB = 262144


@contextmanager
def import_cache(session: Session, kind: str = "", rows: int = 0) -> Iterator[None]:
    """The SQLite settings of one bulk import, for its transaction only: a larger page
    cache; and for posts (`rows` of them) the foreign-key checks off (the import makes
    every parent row it points at in this transaction, and the importer checks the songs
    again under the write lock) and, when the file is at least as long as the table,
    the tables' secondary indexes dropped and built again after the rows (sorting once
    is cheaper than inserting a million tag rows into a B-tree one at a time). A failed
    import's rollback restores the indexes; the checks come back when it ends."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    before = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    raw.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    dropped: list[str] = []
    try:
        if kind == "posts":
            _foreign_keys_off_until_end(session, raw)
            lock_tables(session, POST_TABLES)
            dropped = _drop_secondary_indexes(raw, ("posts", "post_authors", "post_hashtags"), rows)
        yield
        for sql in dropped:
            raw.execute(sql)
    finally:
        raw.execute(f"PRAGMA cache_size = {before}")


def _foreign_keys_off_until_end(session: Session, raw) -> None:
    """PRAGMA foreign_keys only takes effect outside a transaction: off now (before the
    import's BEGIN), on again once its transaction has committed or rolled back."""
    if raw.in_transaction or not raw.execute("PRAGMA foreign_keys").fetchone()[0]:
        return
    raw.execute("PRAGMA foreign_keys = OFF")

    def restore(*_args: Any) -> None:
        with suppress(sqlite3.Error):  # a connection the pool discards anyway
            raw.execute("PRAGMA foreign_keys = ON")

    event.listen(session, "after_commit", restore)
    event.listen(session, "after_rollback", restore)


def _drop_secondary_indexes(raw, tables: tuple[str, ...], rows: int) -> list[str]:
    """Drop the non-unique indexes of `tables` when `rows` new rows are at least as many
    as the posts stored (max(id): at least their count); their CREATE statements, to
    run once the rows are in. Unique indexes stay: the upserts' ON CONFLICT needs them."""
    stored = raw.execute("SELECT coalesce(max(id), 0) FROM posts").fetchone()[0]
    if rows < max(stored, 1):
        return []
    marks = ", ".join("?" for _ in tables)
    found = raw.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ({marks}) "
        "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'",
        tables,
    ).fetchall()
    for name, _ in found:
        raw.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in found]


def known_song_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Song.song_id)).all())
