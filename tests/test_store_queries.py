"""The posts query has one home (models.queries): the store's frames, the Parquet
snapshot and the text Spark's JDBC reader sends all read the same rows with the same
column names; the creator profile hands out raw averages, not a second ER formula."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from engine.bootstrap import scratch
from engine.core.engagement import engagement_rate_or_none
from models.queries import TABLES, jdbc_queries
from models.store import Store

KEYS = {
    "influencers": ["influencer_id"],
    "posts": ["post_pk"],
    "post_authors": ["post_pk", "influencer_id"],
    "post_hashtags": ["post_pk", "position"],
    "songs": ["song_id"],
}


def _sorted(df: pd.DataFrame, table: str) -> pd.DataFrame:
    return df.sort_values(KEYS[table]).reset_index(drop=True)


@pytest.fixture
def demo_pg(pg_url, demo_small_dir) -> Store:
    scratch(pg_url, demo_small_dir).close()
    store = Store(pg_url)
    yield store
    store.dispose()


def test_the_jdbc_text_reads_what_the_snapshot_writes(demo_pg, tmp_path):
    """Run on Postgres exactly the SQL Spark's JDBC reader is given (there is no JDBC
    jar here, so the database answers it directly), and in the post_pk ranges the
    partitioned reads wrap it in. A few posts get views (a TikTok export's playCount),
    so the nullable column carries numbers and blanks both ways."""
    from engine.ingest.importer import import_file

    some = demo_pg.posts_frame().drop_duplicates("post_id").iloc[:3]
    plays = tmp_path / "plays.csv"
    plays.write_text(
        "handle,post_id,playCount\n"
        + "".join(
            f"{r.handle},{r.post_id},{1000 * (i + 1)}\n" for i, r in enumerate(some.itertuples())
        )
    )
    import_file(plays, "posts", demo_pg)
    assert demo_pg.posts_frame()["views"].notna().sum() >= 3
    snap = demo_pg.export_parquet(tmp_path / "snap", chunk_rows=700)
    queries = jdbc_queries()
    assert set(queries) == set(TABLES) == set(snap.rows)
    with demo_pg.engine.connect() as conn:
        for table, sql in queries.items():
            got = _sorted(pd.read_sql(text(sql), conn), table)
            want = _sorted(pq.read_table(snap.path(table)).to_pandas(), table)
            assert list(got.columns) == list(want.columns), table
            assert len(got) == snap.rows[table] > 0, table
            pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=table)
        for table in ("posts", "post_authors", "post_hashtags"):
            ranged = f"select * from ({queries[table]}) as t where post_pk >= 1 and post_pk < 50"
            rows = conn.execute(text(ranged)).all()
            assert rows and all(1 <= r.post_pk < 50 for r in rows)


def test_the_frames_and_the_snapshot_agree(tmp_path, demo_small_dir):
    url = f"sqlite:///{tmp_path / 's.db'}"
    rec = scratch(url, demo_small_dir)
    store = Store(url)
    first = store.posts_frame().iloc[0]
    other = store.influencers_frame()["handle"].iloc[-1]
    collab = tmp_path / "collab.csv"  # the same post under a second author
    collab.write_text(f"handle,post_id,caption,likes\n{other},{first.post_id},x,{first.likes}\n")
    rec.import_file(collab, "posts")
    rec.close()
    frame = store.posts_frame()
    snap = store.export_parquet(tmp_path / "snap")
    posts = pq.read_table(snap.path("posts")).to_pandas()
    authors = pq.read_table(snap.path("post_authors")).to_pandas()
    tags = pq.read_table(snap.path("post_hashtags")).to_pandas()
    tag_lists = tags.sort_values(["post_pk", "position"]).groupby("post_pk")["tag"].agg(list)
    joined = authors.merge(posts, on="post_pk").sort_values(["post_pk", "influencer_id"])
    assert len(frame) == len(joined) > len(posts)  # collab posts: one row per author
    assert frame["post_id"].tolist() == joined["post_id"].tolist()
    assert frame["handle"].tolist() == joined["handle"].tolist()
    assert frame["likes"].tolist() == joined["likes"].fillna(0).astype(int).tolist()
    want_tags = [tag_lists.get(pk, []) for pk in joined["post_pk"]]
    assert frame["hashtags"].tolist() == want_tags
    one = frame["handle"].iloc[0]
    only = store.posts_frame([one])
    assert set(only["handle"]) == {one} and len(only) == (frame["handle"] == one).sum()
    assert only["hashtags"].tolist() == frame.loc[frame["handle"] == one, "hashtags"].tolist()
    store.dispose()


def test_the_profile_hands_out_raw_averages(sqlite_url, tmp_path):
    (tmp_path / "i.csv").write_text("handle,followers\nana,1000\nbob,500\n")
    (tmp_path / "p.csv").write_text(
        "handle,post_id,posted_at,caption,likes,comments\n"
        "ana,p1,2026-10-01,a,10,2\nana,p2,2026-10-02,b,30,4\n"
    )
    rec = scratch(sqlite_url)
    rec.import_file(tmp_path / "i.csv", "influencers")
    rec.import_file(tmp_path / "p.csv", "posts")
    rec.close()
    store = Store(sqlite_url)
    ana = store.influencer_profile("ana")
    assert "er" not in ana  # the formula lives in engine.core.engagement only
    assert (ana["posts"], ana["avg_likes"], ana["avg_comments"]) == (2, 20.0, 3.0)
    assert engagement_rate_or_none(ana["avg_likes"], ana["avg_comments"], 1000) == 2.3
    bob = store.influencer_profile("bob")
    assert (bob["posts"], bob["avg_likes"], bob["avg_comments"]) == (0, None, None)
    assert store.influencer_profile("nobody") == {}
    store.dispose()
