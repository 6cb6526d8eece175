"""The store: one engine per database URL, sessions, the registry, and the reads the
engine needs (the training Dataset, handle lookups, fold-in posts). SQLite by default,
Postgres in production; the same code runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import queries
from models.registry import Registry
from models.schema import FeatureCacheEntry, Influencer, Post, PostAuthor, PostHashtag, Song

# The columns of the frames the store hands out (engine.core.dataset documents them).
INFLUENCER_FIELDS = ("handle", "platform", "name", "followers", "following", "posts_count")
INFLUENCER_FIELDS += ("bio", "language", "country")
POST_FIELDS = ("post_id", "platform", "handle", "posted_at", "caption", "likes", "comments")
POST_FIELDS += ("image", "song_id", "hashtags", "views")
SONG_FIELDS = ("song_id", "title", "artist", "release", "year")


def normalize_database_url(url: str) -> str:
    """Heroku hands out `postgres://` URLs; SQLAlchemy 2 wants a driver name."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers keep answering during a retrain
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    def __init__(self, url: str) -> None:
        self.url = normalize_database_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.registry = Registry(self.sessions)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions.begin() as s:
            yield s

    def dispose(self) -> None:
        self.engine.dispose()

    # -------------------------------------------------------------- counts
    def counts(self) -> dict[str, int]:
        with self.sessions() as s:
            return {
                "influencers": s.scalar(select(func.count()).select_from(Influencer)) or 0,
                "posts": s.scalar(select(func.count()).select_from(Post)) or 0,
                "songs": s.scalar(select(func.count()).select_from(Song)) or 0,
            }

    # ------------------------------------------------------------- handles
    def find_handle(self, handle: str) -> str | None:
        with self.sessions() as s:
            return s.scalar(
                select(Influencer.handle)
                .where(func.lower(Influencer.handle) == handle.lower())
                .limit(1)
            )

    def handles_like(self, handle: str, limit: int = 5000) -> list[str]:
        """Candidate handles for 'did you mean': the ones sharing a prefix first, then
        a bounded sample, so a typo check never reads a million rows."""
        with self.sessions() as s:
            prefix = handle[:2].lower()
            near = s.scalars(
                select(Influencer.handle)
                .where(func.lower(Influencer.handle).like(f"{prefix}%"))
                .limit(limit)
            ).all()
            more = s.scalars(select(Influencer.handle).limit(limit)).all()
        return list(dict.fromkeys([*near, *more]))

    def influencer_profile(self, handle: str) -> dict[str, Any]:
        """A creator's stored facts and raw post averages (None without posts); the
        engagement rate is the engine's formula (engine.core.engagement), not the store's."""
        with self.sessions() as s:
            inf = s.scalars(select(Influencer).where(Influencer.handle == handle)).first()
            if inf is None:
                return {}
            n, likes, comments = s.execute(
                select(func.count(Post.id), func.avg(Post.likes), func.avg(Post.comments))
                .join(PostAuthor, PostAuthor.post_pk == Post.id)
                .where(PostAuthor.influencer_id == inf.id)
            ).one()
        return {
            "handle": inf.handle,
            "name": inf.name,
            "platform": inf.platform,
            "followers": inf.followers,
            "language": inf.language,
            "country": inf.country,
            "posts": int(n or 0),
            "avg_likes": None if likes is None else float(likes),
            "avg_comments": None if comments is None else float(comments),
        }

    # ------------------------------------------------------------- frames
    def influencers_frame(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            df = pd.read_sql(
                select(*[getattr(Influencer, c) for c in INFLUENCER_FIELDS]).order_by(
                    Influencer.id
                ),
                conn,
            )
        for col in ("followers", "following", "posts_count"):
            df[col] = df[col].astype("Int64")
        return df

    def posts_frame(self, handles: list[str] | None = None) -> pd.DataFrame:
        """Posts in the Dataset shape, hashtags as lists; `handles` limits it (fold-in).
        One row per (post, author): a collab post counts for each of its authors, so
        post_id repeats across those rows."""
        q, tq = queries.posts_by_author(handles), queries.hashtags_of(handles)
        with self.engine.connect() as conn:
            posts = pd.read_sql(q, conn)
            tags = pd.read_sql(tq, conn)
        return _shape_posts(posts, tags)

    def images_frame(self) -> pd.DataFrame:
        """The posts that carry an image, in the posts_frame shape: what the photos kind
        learns from when training streams every other post (engine.training.columnar)."""
        q = queries.posts_by_author().where(Post.image.is_not(None))
        tq = queries.post_hashtags().where(
            PostHashtag.post_pk.in_(select(Post.id).where(Post.image.is_not(None)))
        )
        with self.engine.connect() as conn:
            posts = pd.read_sql(q, conn)
            tags = pd.read_sql(tq.order_by(PostHashtag.post_pk, PostHashtag.position), conn)
        return _shape_posts(posts, tags)

    def post_chunks(
        self, chunk_posts: int = 200_000
    ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
        """Every (post, author) row (the posts_frame columns and `post_pk`, raw: dates
        as the driver returns them) and the posts' hashtags (`post_pk`, `tag`, in
        position order), `chunk_posts` posts at a time by post id. Read through the
        driver's own cursor: at a million posts SQLAlchemy's row objects and pandas'
        object frames cost more than the counting (engine.training.columnar)."""
        with self.engine.connect() as conn:
            lo, hi = conn.execute(select(func.min(Post.id), func.max(Post.id))).one()
            if lo is None:
                return
            for start in range(int(lo), int(hi) + 1, chunk_posts):
                end = start + chunk_posts
                rows_q = queries.posts_by_author().where(Post.id >= start, Post.id < end)
                tags_q = (
                    select(PostHashtag.post_pk, PostHashtag.tag)
                    .where(PostHashtag.post_pk >= start, PostHashtag.post_pk < end)
                    .order_by(PostHashtag.post_pk, PostHashtag.position)
                )
                yield _raw_frame(conn, rows_q), _raw_frame(conn, tags_q)

    def songs_frame(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            df = pd.read_sql(
                select(*[getattr(Song, c) for c in SONG_FIELDS]).order_by(Song.song_id), conn
            )
        df["year"] = df["year"].astype("Int64")
        return df

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(influencers, posts, songs): everything training reads, in one call."""
        return self.influencers_frame(), self.posts_frame(), self.songs_frame()

    def export_parquet(self, folder: Any, chunk_rows: int = 50_000) -> Any:
        """Stream every table training reads to Parquet files in `folder` (bounded
        memory; models.snapshot), for the Spark training backend."""
        from models.snapshot import export_parquet

        return export_parquet(self.engine, folder, chunk_rows)

    def describe(self) -> str:
        """The database URL without its password, for logs and reports."""
        return self.engine.url.render_as_string(hide_password=True)

    # -------------------------------------------------------- feature cache
    def feature_cache(self) -> DbFeatureCache:
        return DbFeatureCache(self)


def _shape_posts(posts: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    posts["posted_at"] = pd.to_datetime(posts["posted_at"])
    posts["likes"] = posts["likes"].fillna(0).astype("int64")
    posts["comments"] = posts["comments"].fillna(0).astype("int64")
    posts["views"] = posts["views"].astype("Int64")  # unknown stays unknown (NA)
    posts["hashtags"] = _group_tags(posts["post_pk"].to_numpy(), tags)
    return posts[list(POST_FIELDS)].reset_index(drop=True)


def _raw_frame(conn: Any, stmt: Any) -> pd.DataFrame:
    """`stmt`'s rows through the DBAPI cursor, as a frame named by its columns."""
    compiled = stmt.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[k] for k in compiled.positiontup)
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(str(compiled), params)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        cur.close()
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    # object columns: the driver's values as they are (no copy into Arrow strings)
    return pd.DataFrame(np.array(rows, dtype=object), columns=names, dtype=object)


def _group_tags(post_pks: np.ndarray, tags: pd.DataFrame) -> list[list[str]]:
    """Attach each post's ordered tag list without a Python loop per tag row. A collab
    post has one row per author (adjacent, the frame is ordered by post): each row
    gets the list."""
    out: list[list[str]] = [[] for _ in range(len(post_pks))]
    if tags.empty or len(post_pks) == 0:
        return out
    pos: dict[int, list[int]] = {}
    for i, pk in enumerate(post_pks.tolist()):
        pos.setdefault(int(pk), []).append(i)
    pks = tags["post_pk"].to_numpy()
    values = tags["tag"].to_numpy()
    bounds = np.flatnonzero(np.diff(pks)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(pks)]))
    for a, b in zip(starts, ends, strict=True):
        rows = pos.get(int(pks[a]))
        if rows is not None:
            tag_list = values[a:b].tolist()
            for i in rows:
                out[i] = tag_list
    return out


class DbFeatureCache:
    """engine.core.contract.FeatureCache backed by the feature_cache table."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get_many(self, keys: list[str], extractor: str) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._store.sessions() as s:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                rows = s.execute(
                    select(FeatureCacheEntry.key, FeatureCacheEntry.vector).where(
                        FeatureCacheEntry.extractor == extractor, FeatureCacheEntry.key.in_(chunk)
                    )
                ).all()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put_many(self, items: dict[str, np.ndarray], extractor: str) -> None:
        if not items:
            return
        with self._store.session() as s:
            existing = set(self.get_many(list(items), extractor))
            s.add_all(
                FeatureCacheEntry(
                    key=k, extractor=extractor, vector=np.asarray(v, dtype=np.float32).tobytes()
                )
                for k, v in items.items()
                if k not in existing
            )


def sqlite_file(url: str) -> str | None:
    """The file path of a SQLite URL (None for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(normalize_database_url(url))
    except Exception:  # noqa: BLE001 - a malformed URL is reported when it is opened
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def database_problem(err: BaseException, url: str | None = None) -> str | None:
    """One line that says what is wrong with the database behind `err` (a SQLAlchemy
    error, or the driver's own: statements sent on the raw connection, such as COPY,
    raise psycopg's errors unwrapped), or None when `err` is not a database error. No
    schema, an unreachable server, a refused login, a missing database, a full disk,
    writers in each other's way and a lost training lock each get their own."""
    from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

    from models.locks import LockLost
    from models.retry import driver_error, is_transient

    if isinstance(err, LockLost):
        return str(err)
    shown = _shown_url(url)
    if _disk_full(err):
        where = getattr(err, "filename", None) or shown
        return (
            f"the disk is full while writing {where} (free space and retry); "
            "the write in progress was rolled back, nothing half-written was kept"
        )
    err = next((e for e in _chain(err) if isinstance(e, SQLAlchemyError) or _driver_error(e)), None)
    if err is None:  # (pandas wraps what the database raised in its own DatabaseError)
        return None
    if isinstance(err, NoSuchModuleError):
        return f"unsupported database URL {shown}: use sqlite:///PATH or postgresql://..."
    orig = driver_error(err)
    text = str(orig).strip()
    first = text.splitlines()[0] if text else type(orig).__name__
    low = text.lower()
    if is_transient(err):
        return (
            f"other writers kept the database busy ({first}) through every retry; "
            "the write was rolled back, try again"
        )
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return f"this database has no Scout tables; run `python -m models migrate --db {shown}`"
    if "authentication failed" in low or ("role" in low and "does not exist" in low):
        return f"the database server refused the login ({first})"
    if "database" in low and "does not exist" in low:
        return f"{first}; create it, then run `python -m models migrate --db {shown}`"
    if "connection refused" in low or "could not connect" in low or "timeout" in low:
        return f"cannot reach the database server ({first})"
    if "terminating connection" in low or "server closed the connection" in low:
        return (
            f"the database server ended the connection ({first}); "
            "its transaction in progress was rolled back"
        )
    if "unable to open database file" in low:
        return f"cannot open the SQLite file of {shown} (does its folder exist?)"
    if "file is not a database" in low:
        return f"{shown} is not a SQLite database file"
    return f"database error: {first}"


def _shown_url(url: str | None) -> str:
    """`url` without its password, for messages."""
    if not url:
        return "URL"
    try:
        from sqlalchemy.engine import make_url

        return make_url(normalize_database_url(url)).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "URL"


def _driver_error(err: BaseException) -> bool:
    """Whether `err` is a DB-API driver's own exception (sqlite3 or psycopg)."""
    module = type(err).__module__
    return module == "sqlite3" or module.startswith("psycopg")


def _chain(err: BaseException) -> Iterator[BaseException]:
    """`err`, then what caused it, and so on."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _disk_full(err: BaseException) -> bool:
    """Whether `err` says the disk (or the quota) is full: the OS's ENOSPC/EDQUOT
    (pyarrow words it without the errno), SQLite's SQLITE_FULL, Postgres' disk_full
    (SQLSTATE 53100), wrapped or not."""
    import errno

    from models.retry import driver_error

    for e in _chain(err):
        orig = driver_error(e)
        if isinstance(orig, OSError) and (
            orig.errno in (errno.ENOSPC, errno.EDQUOT)
            or "no space left on device" in str(orig).lower()
        ):
            return True
        if getattr(orig, "sqlite_errorname", None) == "SQLITE_FULL":
            return True
        if getattr(orig, "sqlstate", None) == "53100":
            return True
        if _driver_error(orig) and "database or disk is full" in str(orig).lower():
            return True
    return False
