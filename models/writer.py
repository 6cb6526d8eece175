"""Batch upserts for import: insert new rows and update existing ones in place on their
natural keys, so re-importing the same file changes nothing and duplicates nothing.
Callers pass one session for a whole file; the transaction is theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.schema import Influencer, Post, PostAuthor, PostHashtag, Song

INFLUENCER_FIELDS = ("name", "followers", "following", "posts_count", "bio", "language", "country")
POST_FIELDS = ("posted_at", "caption", "likes", "comments", "image", "song_id")


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


def _by_known_columns(
    records: list[dict[str, Any]], fields: tuple[str, ...], columns: set[str]
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Group records by which of the file's update columns they have a value for: a
    blank cell means "unknown" and must leave the stored value as it is, so each group
    gets an upsert that updates exactly its known columns (few groups in practice)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in records:
        known = tuple(c for c in fields if c in columns and r.get(c) is not None)
        groups.setdefault(known, []).append(r)
    return groups


def upsert_songs(session: Session, records: list[dict[str, Any]], columns: set[str]) -> None:
    fields = ("title", "artist", "release", "year")
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
            [{k: r.get(k) for k in ("song_id", *fields)} for r in group],
        )


def upsert_influencers(session: Session, records: list[dict[str, Any]], columns: set[str]) -> None:
    """Only the columns present in the file, and in them only the non-blank cells, are
    updated: an export without `bio` (or with an empty one) must not erase stored bios."""
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
                for r in sorted(group, key=lambda r: (r["platform"], r["handle"]))
            ],
        )


def influencer_ids(
    session: Session, keys: set[tuple[str, str]], cache: dict[tuple[str, str], int]
) -> None:
    """Fill `cache` with ids for (platform, handle); unknown handles get a minimal row.
    New handles are inserted in sorted order: two imports inserting overlapping new
    handles in different orders would each wait on a row the other holds (a deadlock
    on Postgres); in one order, the second simply waits for the first."""
    missing = sorted(k for k in keys if k not in cache)
    if not missing:
        return
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


def merge_collabs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per post: a collab post appears once per author with one post id.
    The first row's values win, later rows fill its blanks; `authors` lists every
    handle in order of appearance."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for r in records:
        key = (r["platform"], r["post_id"])
        first = merged.get(key)
        if first is None:
            merged[key] = {**r, "authors": [r["handle"]]}
            continue
        if r["handle"] not in first["authors"]:
            first["authors"].append(r["handle"])
        for k, v in r.items():
            if first.get(k) is None and v is not None:
                first[k] = v
    return list(merged.values())


def upsert_posts(
    session: Session,
    records: list[dict[str, Any]],
    columns: set[str],
    id_cache: dict[tuple[str, str], int],
) -> int:
    """Insert or update posts on (platform, post_id), then add every author; returns
    how many posts were new (counted by the statements themselves, so two imports at
    once each get their own count). The primary author (posts.influencer_id) is
    whoever imported the post first and never moves; importing never removes an
    author an earlier file gave."""
    records = sorted(merge_collabs(records), key=lambda r: (r["platform"], r["post_id"]))
    influencer_ids(session, {(r["platform"], h) for r in records for h in r["authors"]}, id_cache)
    conn = session.connection()
    sqlite_db = conn.dialect.name == "sqlite"
    pks: dict[tuple[str, str], int] = {}
    new = 0
    posts = Post.__table__
    for known, group in _by_known_columns(records, POST_FIELDS, columns).items():
        rows = [
            {
                "platform": r["platform"],
                "post_id": r["post_id"],
                "influencer_id": id_cache[(r["platform"], r["handle"])],
                "posted_at": r.get("posted_at"),
                "caption": r.get("caption"),
                "likes": r.get("likes") or 0,
                "comments": r.get("comments") or 0,
                "image": r.get("image"),
                "song_id": r.get("song_id"),
            }
            for r in group
        ]
        if sqlite_db:
            ids, fresh = _sqlite_upsert_posts(conn, rows, known)
            pks.update(ids)
            new += fresh
            continue
        stmt = _insert(session, Post)
        update = {c: stmt.excluded[c] for c in known}
        stmt = (
            stmt.on_conflict_do_update(index_elements=["platform", "post_id"], set_=update)
            if update
            # a no-op update, not DO NOTHING: RETURNING must give every row's key
            else stmt.on_conflict_do_update(
                index_elements=["platform", "post_id"], set_={"post_id": stmt.excluded.post_id}
            )
        )
        # Postgres: RETURNING maps natural keys to primary keys in the same statement
        # (in any row order: each row carries its key). A separate SELECT ... IN per
        # batch degraded to a scan of the growing table inside the one long import
        # transaction (Postgres plans it from stale statistics): 1.6 s a batch by 30k
        # posts, and 313 rows/s overall at 100k.
        inserted = literal_column("(xmax = 0)").label("inserted")  # a new row, not updated
        returned = conn.execute(
            stmt.returning(posts.c.platform, posts.c.post_id, posts.c.id, inserted), rows
        ).all()
        pks.update({(platform, post_id): pk for platform, post_id, pk, _ in returned})
        new += sum(1 for *_, fresh in returned if fresh)
    author_rows = sorted(
        {
            (pks[(r["platform"], r["post_id"])], id_cache[(r["platform"], h)])
            for r in records
            for h in r["authors"]
        }
    )
    if sqlite_db:
        conn.connection.driver_connection.executemany(
            "INSERT INTO post_authors (post_pk, influencer_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            author_rows,
        )
    else:
        conn.execute(
            _insert(session, PostAuthor).on_conflict_do_nothing(
                index_elements=["post_pk", "influencer_id"]
            ),
            [{"post_pk": p, "influencer_id": i} for p, i in author_rows],
        )
    # Hashtags are replaced only for posts whose caption or hashtags cell had a value
    # (`tags` is None when both were blank: the stored tags stay).
    tagged = [r for r in records if r.get("tags") is not None]
    replaced = [pks[(r["platform"], r["post_id"])] for r in tagged]
    for i in range(0, len(replaced), 900):
        conn.execute(delete(PostHashtag).where(PostHashtag.post_pk.in_(replaced[i : i + 900])))
    tag_rows = [
        (pks[(r["platform"], r["post_id"])], tag, pos)
        for r in tagged
        for pos, tag in enumerate(r["tags"])
    ]
    if tag_rows:
        _insert_hashtags(session, tag_rows)
    return new


# every column but the key, in table order
_POST_COLUMNS = tuple(c.name for c in Post.__table__.columns if c.name != "id")


def _sqlite_time(value: Any) -> Any:
    # the text SQLAlchemy's SQLite DateTime type writes and parses back
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if value is not None else None


def _sqlite_upsert_posts(
    conn, rows: list[dict[str, Any]], known: tuple[str, ...]
) -> tuple[dict[tuple[str, str], int], int]:
    """SQLite: the upsert through the driver's executemany (SQLAlchemy's per-row
    parameter handling cost more than SQLite's own work), then the keys' ids by the
    unique index. 6,609 -> 20k+ posts/s on 100k posts (benchmarks/bench_import.py)."""
    cols = ", ".join(_POST_COLUMNS)
    marks = ", ".join("?" for _ in _POST_COLUMNS)
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in known)
        if known
        else "DO NOTHING"
    )
    sql = f"INSERT INTO posts ({cols}) VALUES ({marks}) ON CONFLICT (platform, post_id) {action}"
    raw = conn.connection.driver_connection
    # The handles' insert before this took SQLite's write lock: what exists now is
    # what this import updates; the rest it inserts.
    before = _sqlite_post_ids(raw, rows)
    raw.executemany(
        sql,
        [
            tuple(_sqlite_time(r[c]) if c == "posted_at" else r[c] for c in _POST_COLUMNS)
            for r in rows
        ],
    )
    missing = [r for r in rows if (r["platform"], r["post_id"]) not in before]
    return {**before, **_sqlite_post_ids(raw, missing)}, len(missing)


def _sqlite_post_ids(raw, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for r in rows:
        by_platform.setdefault(r["platform"], []).append(r["post_id"])
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


def _insert_hashtags(session: Session, rows: list[tuple[int, str, int]]) -> None:
    """Postgres takes the hashtag rows (several per post) through COPY, in the import's
    own transaction; it is several times faster than a batched INSERT there."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        sql = "COPY post_hashtags (post_pk, tag, position) FROM STDIN"
        with conn.connection.driver_connection.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.executemany(
            "INSERT INTO post_hashtags (post_pk, tag, position) VALUES (?, ?, ?)", rows
        )
        return
    conn.execute(
        insert(PostHashtag.__table__),
        [{"post_pk": pk, "tag": tag, "position": pos} for pk, tag, pos in rows],
    )


def known_song_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Song.song_id)).all())
