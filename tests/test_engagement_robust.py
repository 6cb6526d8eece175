"""Engagement rates that read right (issue 24): one viral post does not move a creator's
ER, a scraper's hidden likes (written as 3) make it unknown and say so, an `er:` filter
says how many hidden-likes creators it left out, and `lang:` refuses codes that are no
language and says when the data has no languages at all.

The engine's one formula is checked on synthetic posts; what a person reads is checked
through the CLI and the console on a copy of the trained demo where one creator of
100.9k followers has every like hidden and no creator has a language."""

from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pandas as pd
import pytest

from engine.cli import main
from engine.core.engagement import (
    HIDDEN,
    HIDDEN_ER_TEXT,
    VIRAL,
    creator_engagement,
    describe_er,
    engagement_rate,
)
from engine.core.errors import BadQuery
from engine.core.filters import Filters, parse_filters, parse_language
from tests.bot_harness import console_session


def posts_of(handle: str, likes: list[int], comments: list[int] | None = None) -> pd.DataFrame:
    comments = comments if comments is not None else [max(1, x // 50) for x in likes]
    return pd.DataFrame(
        {
            "handle": handle,
            "post_id": [f"{handle}_{i}" for i in range(len(likes))],
            "posted_at": pd.date_range("2026-01-01", periods=len(likes), freq="3D"),
            "likes": likes,
            "comments": comments,
        }
    )


def old_mean_er(posts: pd.DataFrame, followers: float) -> float:
    """The formula answers used before: mean likes + comments over every post."""
    return float(engagement_rate((posts["likes"] + posts["comments"]).mean(), 0.0, followers))


# ------------------------------------------------------------------ the one formula
def test_one_viral_post_100x_keeps_the_er_within_ten_percent():
    rng = np.random.default_rng(1)
    likes = [int(1_000 * rng.lognormal(0, 0.2)) for _ in range(12)]
    calm = posts_of("calm", likes)
    viral = posts_of("calm", [likes[0] * 100, *likes[1:]])
    followers = pd.Series({"calm": 25_000.0})
    before = creator_engagement(calm, followers).er["calm"]
    after = creator_engagement(viral, followers)
    assert after.er["calm"] == pytest.approx(before, rel=0.10)
    assert after.reasons.tolist().count(VIRAL) == 1
    # the old mean is what misled marketers: the same post multiplies it
    assert old_mean_er(viral, 25_000) > 5 * old_mean_er(calm, 25_000)


def test_only_the_twelve_newest_posts_count():
    old_glory = [20_000] * 20  # two years ago the account took off; now it does not
    now = [500] * 12
    posts = posts_of("faded", old_glory + now)
    eng = creator_engagement(posts, pd.Series({"faded": 50_000.0}))
    assert eng.posts_used["faded"] == 12
    assert eng.er["faded"] == pytest.approx(100 * (500 + 10) / 50_000)


def test_likes_all_three_on_a_100_9k_account_is_unknown_not_zero():
    posts = posts_of("ronald", [3] * 12, [2] * 12)  # fewer comments than likes, still hidden
    eng = creator_engagement(posts, pd.Series({"ronald": 100_900.0}))
    assert np.isnan(eng.er["ronald"]) and bool(eng.hidden["ronald"])
    assert set(eng.reasons) == {HIDDEN}
    assert describe_er(None, hidden=True) == HIDDEN_ER_TEXT == "ER unknown — likes hidden"
    # a small account's 3 likes are real (a flop, not a hidden count)
    small = creator_engagement(posts_of("tiny", [3] * 12, [0] * 12), pd.Series({"tiny": 800.0}))
    assert small.er["tiny"] == pytest.approx(100 * 3 / 800) and not small.hidden["tiny"]


def test_some_hidden_posts_leave_the_rest_to_the_median():
    likes = [400, 410, 390, 3, 3, -1, 405, 395, 420, 380, 400, 3]
    eng = creator_engagement(posts_of("mixed", likes, [8] * 12), pd.Series({"mixed": 20_000.0}))
    assert eng.posts_used["mixed"] == 8 and not eng.hidden["mixed"]
    assert eng.er["mixed"] == pytest.approx(100 * 408 / 20_000, rel=0.02)


def test_er_filter_counts_the_hidden_creators_it_left_out():
    f = parse_filters({"er": ">2", "followers": "10k+"})
    followers = np.array([50_000, 120_000, 5_000, 30_000.0])
    hidden = np.array([True, True, True, False])
    assert f.hidden_er_left_out(followers, ["", "", "", ""], hidden) == 2  # 5k fails followers
    assert f.hidden_er_note(2) == "2 creators with hidden likes left out of er:>2"
    assert Filters().hidden_er_note(3) is None and f.hidden_er_note(0) is None


def test_unknown_language_codes_are_refused_with_close_codes():
    assert parse_language("EN") == "en" and parse_language("xh") == "xh"
    with pytest.raises(BadQuery) as err:
        parse_language("ex")
    assert "`ex` is not a language code" in str(err.value) and "`en`" in str(err.value)
    with pytest.raises(BadQuery, match="`xh`"):
        parse_filters({"lang": "xx"})


# ------------------------------------------------------------ what a person reads
@pytest.fixture(scope="module")
def hidden_db(trained_demo_db, tmp_path_factory) -> tuple[str, str, str]:
    """The trained demo with one big creator's likes all hidden (3) at 100.9k followers
    and every language unknown, retrained; returns (url, handle, one of its hashtags)."""
    path = tmp_path_factory.mktemp("hidden") / "scout.db"
    shutil.copy(trained_demo_db, path)
    with sqlite3.connect(path) as conn:
        inf_id, handle = conn.execute(
            "SELECT i.id, i.handle FROM influencers i JOIN post_authors a "
            "ON a.influencer_id = i.id WHERE i.followers >= 10000 "
            "GROUP BY i.id ORDER BY count(*) DESC, i.handle LIMIT 1"
        ).fetchone()
        (tag,) = conn.execute(
            "SELECT h.tag FROM post_hashtags h JOIN post_authors a ON a.post_pk = h.post_pk "
            "WHERE a.influencer_id = ? GROUP BY h.tag ORDER BY count(*) DESC, h.tag LIMIT 1",
            (inf_id,),
        ).fetchone()
        conn.execute("UPDATE influencers SET followers = 100900 WHERE id = ?", (inf_id,))
        conn.execute(
            "UPDATE posts SET likes = 3 WHERE id IN "
            "(SELECT post_pk FROM post_authors WHERE influencer_id = ?)",
            (inf_id,),
        )
        conn.execute("UPDATE influencers SET language = NULL")
    url = f"sqlite:///{path}"
    assert main(["train", "--kinds", "tags,lookalike", "--db", url, "--json"]) == 0
    return url, handle, tag


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
def test_cli_and_console_say_hidden_likes_instead_of_zero(hidden_db, capsys):
    url, handle, tag = hidden_db
    code, out, err = run_cli(capsys, "vet", handle, "--db", url)
    assert code == 0, err
    assert "ER unknown — likes hidden" in out and "ER 0.0" not in out
    code, out, err = run_cli(capsys, "topic", f"#{tag}", "-k", "30", "--er", "0.5", "--db", url)
    assert code == 0, err
    assert "note: 1 creator with hidden likes left out of er:>0.5" in out
    assert f"@{handle} " not in out
    text = console_session(
        url, [f"/topic #{tag} 30", f"/topic #{tag} 30 er:>0.5", f"/topic #{tag} lang:en"]
    )
    assert "Traceback" not in text
    lines = [x for x in text.splitlines() if f"@{handle}" in x]
    assert len(lines) == 1, text[-3000:]  # in the plain answer, left out of the filtered one
    line = lines[0]
    assert "ER unknown — likes hidden" in line and "ER 0.0%" not in line
    assert "1 creator with hidden likes left out of er:>0.5" in text
    # lang: on data without languages says so, not "loosen the filters"
    assert "this data has no languages, so lang: cannot filter it" in text
    assert "Loosen the filters" not in text


@pytest.mark.slow
def test_lang_on_data_without_languages_and_an_unknown_code(hidden_db, capsys):
    url, handle, tag = hidden_db
    code, out, err = run_cli(capsys, "topic", f"#{tag}", "--lang", "en", "--db", url)
    assert code == 0, err
    assert "this data has no languages, so lang: cannot filter it" in out
    assert "widen" not in out and "No creator passes" not in out
    code, out, err = run_cli(capsys, "lookalike", handle, "--lang", "en", "--db", url)
    assert code == 0, err
    assert "this data has no languages, so lang: cannot filter it" in out
    code, out, err = run_cli(capsys, "topic", f"#{tag}", "--lang", "xx", "--db", url)
    assert code != 0 and out == ""
    assert "`xx` is not a language code" in err and "`xh`" in err
    assert len(err.strip().splitlines()) == 1
