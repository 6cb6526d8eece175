"""One reel dated 2999 must not empty trending and the digest for everyone (issue 29
point 7): imports refuse dates in the future or before 2004, and trending anchors on
the data's real recent days, so a bad row stored before the bound does no harm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from engine.bootstrap import bootstrap
from engine.cli import main
from engine.core.errors import ImportRejected
from engine.songs.trending import TrendingIndex, trend_anchor
from models.store import Store

AS_OF = pd.Timestamp("2026-03-31")


def _import(url: str, path) -> object:
    rec = bootstrap(url)
    try:
        return rec.import_file(path, "posts")
    finally:
        rec.close()


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2999-01-01", "2999-01-01 is in the future"),
        ("2999-01-01T10:00:00+02:00", "is in the future"),
        ((datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%d"), "is in the future"),
        ("1999-12-31", "1999-12-31 is before 2004"),
        ("0001-01-01T00:00:00+05:00", "not a post date"),
    ],
)
def test_import_refuses_a_date_out_of_bounds_and_writes_nothing(
    migrated_sqlite, tmp_path, cell, reason
):
    path = tmp_path / "p.csv"
    path.write_text(
        f"handle,post_id,posted_at,caption\nann,p1,2026-01-02,ok\nann,p2,{cell},bad date\n"
    )
    with pytest.raises(ImportRejected, match=f"p.csv:3: posted_at: .*{reason}"):
        _import(migrated_sqlite, path)
    assert len(Store(migrated_sqlite).posts_frame()) == 0  # all or nothing


def test_today_and_tomorrow_are_real_dates(migrated_sqlite, tmp_path):
    """Time zones ahead of UTC post 'tomorrow': a day's slack is kept."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    path = tmp_path / "p.csv"
    path.write_text(f"handle,post_id,posted_at\nann,p1,{tomorrow}\nann,p2,2004-01-01\n")
    _import(migrated_sqlite, path)
    assert len(Store(migrated_sqlite).posts_frame()) == 2


def _reels(extra: list[pd.Timestamp] = ()) -> pd.DataFrame:
    rows = [
        {"song_id": song, "posted_at": AS_OF - pd.Timedelta(days=day), "delta": 1.0}
        for song, days in (("hit", range(0, 7)), ("old", range(7, 14)))
        for day in days
        for _ in range(3)
    ]
    rows += [{"song_id": "typo", "posted_at": when, "delta": 0.0} for when in extra]
    return pd.DataFrame(rows)


def test_a_stored_reel_dated_2999_does_not_empty_trending():
    clean = TrendingIndex.build(_reels())
    poisoned = TrendingIndex.build(_reels([pd.Timestamp("2999-01-01")]))
    assert poisoned.as_of == clean.as_of == "2026-03-31"
    assert [t.song_id for t in poisoned.rank(7)] == [t.song_id for t in clean.rank(7)]
    assert poisoned.rank(7)[0].song_id == "hit"


def test_an_isolated_outlier_is_ignored_even_when_the_clock_is_wrong():
    """A far-off day (here not 'future', the clock being set to 3000) among many real
    reels is an outlier; the bulk of the data keeps its window."""
    reels = _reels([pd.Timestamp("2999-01-01")])
    idx = TrendingIndex.build(reels, now=pd.Timestamp("3000-01-01"))
    assert idx.as_of == "2026-03-31"
    assert idx.rank(7)


def test_anchor_rules():
    day = pd.Timestamp
    per_day = pd.Series([5, 5, 1], index=[day("2026-03-30"), day("2026-03-31"), day("2999-01-01")])
    assert trend_anchor(per_day, 60, now=day("2026-04-01")) == day("2026-03-31")
    # a planted data set wholly in the future keeps its own latest day
    assert trend_anchor(per_day[:2], 60, now=day("2020-01-01")) == day("2026-03-31")
    # a real newest day within the horizon of the bulk is kept, not treated as an outlier
    recent = pd.Series([50, 1], index=[day("2026-03-01"), day("2026-03-20")])
    assert trend_anchor(recent, 60, now=day("2026-04-01")) == day("2026-03-20")
    assert trend_anchor(pd.Series([], dtype=int), 60) is None


def test_trained_trending_survives_a_bad_row_already_in_the_store(copy_db, capsys):
    before = bootstrap(copy_db)
    try:
        answer = before.trending(7)
        as_of, expected = answer.meta["as_of"], [r.id for r in answer.results]
    finally:
        before.close()
    assert expected  # the demo has trending songs
    engine = create_engine(copy_db)
    with engine.begin() as conn:  # a reel stored before imports bounded dates
        conn.execute(
            text(
                "UPDATE posts SET posted_at = '2999-06-01 00:00:00.000000' WHERE id = "
                "(SELECT id FROM posts WHERE song_id IS NOT NULL AND posted_at IS NOT NULL"
                " ORDER BY posted_at LIMIT 1)"
            )
        )
    engine.dispose()
    assert main(["train", "--db", copy_db, "--kinds", "songs", "--force"]) == 0
    after = bootstrap(copy_db)
    try:
        answer = after.trending(7)
    finally:
        after.close()
    assert answer.meta["as_of"] == as_of
    assert [r.id for r in answer.results] == expected  # the oldest reel moved: same answer
