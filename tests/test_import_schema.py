"""Migrations 0010 and 0011 change how the post tables are stored for import speed
(issue 27 point 5): the rows already stored must come through upgrade and downgrade
unchanged, on both stores, and each direction must leave the layout it promises."""

from sqlalchemy import inspect, text

from models.migrate import downgrade, upgrade
from models.store import make_engine

ROWS = {
    "influencers": [(1, "instagram", "ana"), (2, "instagram", "bob")],
    "songs": [("s1",)],
    "posts": [
        (1, "instagram", "p1", 1, "2026-01-02 00:00:00.000000", "s1"),
        (2, "instagram", "p2", 2, None, None),
    ],
    "post_authors": [(1, 1), (1, 2), (2, 2)],
    "post_hashtags": [(1, "cats", 0), (1, "dogs", 1), (2, "cats", 0)],
}


def _fill(engine) -> None:
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO influencers (id, platform, handle, updated_at) VALUES (:i, :p, :h, '2026-01-01')"
            ),
            [dict(i=i, p=p, h=h) for i, p, h in ROWS["influencers"]],
        )
        c.execute(text("INSERT INTO songs (song_id) VALUES ('s1')"))
        c.execute(
            text(
                "INSERT INTO posts (id, platform, post_id, influencer_id, posted_at, likes, "
                "comments, song_id) VALUES (:i, :p, :pid, :a, :t, 0, 0, :s)"
            ),
            [dict(i=i, p=p, pid=pid, a=a, t=t, s=s) for i, p, pid, a, t, s in ROWS["posts"]],
        )
        c.execute(
            text("INSERT INTO post_authors (post_pk, influencer_id) VALUES (:p, :i)"),
            [dict(p=p, i=i) for p, i in ROWS["post_authors"]],
        )
        c.execute(
            text("INSERT INTO post_hashtags (post_pk, tag, position) VALUES (:p, :t, :n)"),
            [dict(p=p, t=t, n=n) for p, t, n in ROWS["post_hashtags"]],
        )


def _stored(engine) -> dict:
    with engine.connect() as c:
        return {
            "post_authors": c.execute(
                text("SELECT post_pk, influencer_id FROM post_authors ORDER BY 1, 2")
            ).all(),
            "post_hashtags": c.execute(
                text("SELECT post_pk, tag, position FROM post_hashtags ORDER BY 1, 2")
            ).all(),
            "posts": c.execute(text("SELECT id, post_id, song_id FROM posts ORDER BY id")).all(),
        }


def _indexes(engine, table: str) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes(table)}


def _without_rowid(engine, table: str) -> bool:
    with engine.connect() as c:
        sql = c.execute(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table})
        return "WITHOUT ROWID" in sql.scalar_one().upper()


def test_post_tables_survive_upgrade_and_downgrade(any_db_url):
    upgrade(any_db_url, "0009")
    engine = make_engine(any_db_url)
    _fill(engine)
    before = _stored(engine)
    assert len(before["post_hashtags"]) == 3
    sqlite = engine.dialect.name == "sqlite"
    assert "ix_post_hashtags_tag" in _indexes(engine, "post_hashtags")
    assert "ix_posts_posted_at" in _indexes(engine, "posts")

    upgrade(any_db_url)
    engine.dispose()
    assert _stored(engine) == before
    assert "ix_post_hashtags_tag" not in _indexes(engine, "post_hashtags")
    assert "ix_posts_posted_at" not in _indexes(engine, "posts")
    assert {"ix_posts_song_id", "ix_posts_influencer_posted"} <= _indexes(engine, "posts")
    if sqlite:
        assert _without_rowid(engine, "post_hashtags")
        assert _without_rowid(engine, "post_authors")
        with engine.connect() as c:  # the partial song index still serves a song's posts
            plan = c.execute(
                text("EXPLAIN QUERY PLAN SELECT id FROM posts WHERE song_id = 's1'")
            ).all()
        assert "ix_posts_song_id" in str(plan)

    downgrade(any_db_url, "0009")
    engine.dispose()
    assert _stored(engine) == before
    assert "ix_post_hashtags_tag" in _indexes(engine, "post_hashtags")
    assert {"ix_posts_posted_at", "ix_posts_song_id"} <= _indexes(engine, "posts")
    if sqlite:
        assert not _without_rowid(engine, "post_hashtags")
        assert not _without_rowid(engine, "post_authors")
    engine.dispose()
