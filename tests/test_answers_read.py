"""Answers that read right (issue 24a), asked the way a person asks: the CLI on the 599
real accounts of instagram-600, and the CLI and the console on the small demo.

- a good lookalike reads like one (the top match of real accounts sits between 40 and
  90, as `/scout help` promises) and a non-match like a non-match (left out);
- a reason names what two creators share, never "similar overall vocabulary";
- a list is short, with a note saying why, rather than padded with non-matches;
- `/hashtags #wedding 5` asks for 5 hashtags, and one creator's own tag is not
  suggested as if many used it."""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

import pytest

from engine.cli import main
from tests.bot_harness import console_session


def cli_json(capsys, *args: str) -> dict:
    code = main([*args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    return json.loads(out.out)


def cli_text(capsys, *args: str) -> str:
    code = main(list(args))
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    return out.out


@pytest.fixture(scope="module")
def real_db(tmp_path_factory, shared_dir) -> str:
    """instagram-600 imported as published and its lookalike model trained, once."""
    ig = shared_dir / "data/instagram-600"
    db = f"sqlite:///{tmp_path_factory.mktemp('real') / 'real.db'}"
    for kind in ("influencers", "posts"):
        assert main(["import", kind, str(ig / f"{kind}.csv"), "--db", db, "--quiet"]) == 0
    assert main(["train", "--kinds", "lookalike", "--db", db, "--json"]) == 0
    return db


def real_handles(shared_dir: Path, n: int = 40) -> list[str]:
    with (shared_dir / "data/instagram-600/influencers.csv").open(encoding="utf-8") as fh:
        return sorted(row["handle"] for row in csv.DictReader(fh))[:n]


@pytest.mark.slow
def test_real_lookalikes_score_reason_and_stop_like_a_person_expects(real_db, shared_dir, capsys):
    tops, whys = [], []
    for handle in real_handles(shared_dir):
        answer = cli_json(capsys, "lookalike", handle, "--db", real_db)
        results = answer["results"]
        if not results:  # a creator nobody resembles gets no list, and is told why
            assert "close enough" in answer["details"]["notes"][0], answer
            continue
        assert all(set(r) == {"id", "label", "score", "why"} for r in results)
        scores = [r["score"] for r in results]
        assert scores == sorted(scores, reverse=True)
        assert min(scores) >= 20  # under the floor nothing is shown
        if len(results) < 10:  # a short list says why
            assert any("close enough" in n for n in answer["details"]["notes"]), answer
        tops.append(scores[0])
        whys += [r["why"] for r in results]
    assert len(tops) >= 0.9 * len(real_handles(shared_dir))
    # before issue 24: median top-1 match 10 of 100 on these accounts
    assert 40 <= statistics.median(tops) <= 90, tops
    # before: 87% of the reasons were "similar overall vocabulary"
    assert "similar overall vocabulary" not in whys
    named = sum(w.startswith("shares ") for w in whys) / len(whys)
    assert named >= 0.8, named
    assert all(w.count("'") % 2 == 0 for w in whys)  # quoted words are whole


@pytest.mark.slow
def test_real_lookalikes_leave_non_matches_out_and_say_so(real_db, shared_dir, capsys):
    handle = real_handles(shared_dir, 1)[0]
    answer = cli_json(capsys, "lookalike", handle, "-k", "100", "--db", real_db)
    results = answer["results"]
    # 598 candidates: most of them are not alike, and are not shown as if they were
    assert 1 <= len(results) < 100
    assert answer["details"]["meta"]["short"] == {
        "shown": len(results),
        "asked": 100,
        "floor": 20,
    }
    text = cli_text(capsys, "lookalike", handle, "-k", "100", "--db", real_db)
    assert f"Only {len(results)} creators are close enough to @{handle}" in text
    assert "rather than padding the list" in text


@pytest.mark.slow
def test_demo_filtered_lookalike_is_short_not_padded(copy_db, capsys):
    # the small demo has 3 creators with a million followers or more, of 26 topics
    answer = cli_json(capsys, "lookalike", "yuki.oven", "--followers", "1m+", "--db", copy_db)
    assert answer["results"] == []  # a cook has no millionaire lookalike here
    (note,) = [n for n in answer["details"]["notes"] if "close enough" in n]
    assert note.startswith("No creator within these filters is close enough to @yuki.oven")
    answer = cli_json(capsys, "lookalike", "femi.training", "--followers", "1m+", "--db", copy_db)
    assert [r["id"] for r in answer["results"]] == ["gio.stretch"]  # the fitness one
    assert answer["results"][0]["score"] >= 20
    text = cli_text(capsys, "lookalike", "femi.training", "--followers", "1m+", "--db", copy_db)
    assert "Only 1 creator within these filters is close enough to @femi.training" in text


@pytest.mark.slow
def test_demo_hashtags_count_is_a_count_everywhere(copy_db, capsys):
    answer = cli_json(capsys, "hashtags", "#wedding 5", "--db", copy_db)
    assert len(answer["results"]) == 5
    assert all(r["id"] != "5" for r in answer["results"])
    assert not any("#5" in n for n in answer.get("details", {}).get("notes", []))
    code = main(["hashtags", "5 #wedding", "--db", copy_db])
    err = capsys.readouterr().err
    assert code != 0 and "`5` is a number, not a hashtag" in err
    topic = cli_json(capsys, "topic", "#wedding 3", "--db", copy_db)  # creators, as in Slack
    assert len(topic["results"]) == 3
    out = console_session(copy_db, ["/hashtags #wedding 5"], timeout=120)
    assert "#5 is not a known hashtag" not in out
    listed = [line for line in out.splitlines() if line.lstrip().startswith("`#")]
    assert len(listed) == 5, out


@pytest.mark.slow
def test_demo_related_tags_stop_at_the_floor(copy_db, capsys):
    answer = cli_json(capsys, "hashtags", "#wedding", "--db", copy_db)
    results = answer["results"]
    assert results and len(results) < 20  # the small demo's wedding tags, then noise
    assert min(r["score"] for r in results) >= 5
    assert any("left out" in n for n in answer["details"]["notes"])


def brand_tag_posts(out: Path) -> Path:
    """Three topics of 12 creators, 10 posts each with 4 of their topic's 6 tags; one
    wedding creator tags every post #leowedding, four others once: a tag 5 creators
    use, but one creator's own."""
    import random

    rng = random.Random(7)
    topics = {
        "wedding": ["wedding", "bride", "weddingday", "bridal", "engagement", "lovestory"],
        "food": ["food", "dinner", "homemade", "recipe", "cooking", "yummy"],
        "travel": ["travel", "wanderlust", "travelgram", "beach", "adventure", "explore"],
    }
    path = out / "posts.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["handle", "post_id", "posted_at", "caption", "hashtags", "likes"])
        for topic, tags in topics.items():
            for c in range(12):
                handle = f"{topic}_{c}"
                for p in range(10):
                    chosen = rng.sample(tags, 4)
                    if topic == "wedding" and (c == 0 or (c <= 4 and p == 0)):
                        chosen.append("leowedding")
                    tagged = " ".join("#" + t for t in chosen)
                    w.writerow(
                        [handle, f"{handle}_{p}", f"2026-03-{1 + p:02d}", topic, tagged, 100]
                    )
    return path


@pytest.mark.slow
def test_one_creators_brand_tag_is_not_suggested_as_a_common_one(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'brand.db'}"
    assert main(["import", "posts", str(brand_tag_posts(tmp_path)), "--db", db, "--quiet"]) == 0
    assert main(["train", "--kinds", "tags", "--db", db, "--json"]) == 0
    capsys.readouterr()
    results = cli_json(capsys, "hashtags", "#wedding", "--db", db)["results"]
    ids = [r["id"] for r in results]
    common = {"bride", "weddingday", "bridal", "engagement", "lovestory"}
    assert common <= set(ids[:5]), ids  # the tags every wedding creator uses come first
    if "leowedding" in ids:  # discounted, and said to be mostly one creator's
        brand = results[ids.index("leowedding")]
        assert brand["why"].startswith("used by 5 creators, mostly by one of them")
        assert brand["score"] < min(r["score"] for r in results if r["id"] in common) / 2


def test_the_match_scale_places_similarities_between_the_models_own_anchors():
    import numpy as np

    from engine.lookalike.calibration import Calibration, calibrate

    rng = np.random.default_rng(0)
    null = rng.normal(0.01, 0.01, 5000)  # random pairs: cosines near 0.01
    cal = calibrate(null, np.full(50, 0.2))  # a creator's own other half: 0.2
    assert cal is not None
    p50, p99 = np.percentile(null, [50, 99])
    assert cal(p50) == 0 and abs(cal(p99) - 0.4) < 1e-9 and abs(cal(0.2) - 0.9) < 1e-9
    assert cal(1.0) == 1.0 and cal(-0.3) == 0.0
    grid = np.linspace(-1, 1, 201)
    assert np.all(np.diff([cal(x) for x in grid]) >= 0)  # a better similarity never reads worse
    assert Calibration.from_dict(cal.to_dict()) == cal
    # halves no closer than the top 1% of random pairs say nothing: no self-match anchor
    assert 0.9 not in calibrate(null, np.full(50, p99 - 0.001)).match
    assert calibrate(null[:10], np.full(50, 0.2)) is None  # too few pairs to place anything
    assert calibrate(np.zeros(500), np.full(50, 0.2)) is None  # random pairs do not spread


def test_a_tags_spread_counts_creators_not_uses():
    import numpy as np

    from engine.tags.spread import effective_creators, reach_factor, spread_factor, used_by

    # creators x tags CSR: tag 0 used 5 times by each of 4 creators; tag 1 40 times by one
    # creator and once by four others; tag 2 by nobody
    indptr = np.array([0, 2, 4, 6, 8, 9])
    indices = np.array([0, 1, 0, 1, 0, 1, 0, 1, 1])
    counts = np.array([5, 40, 5, 1, 5, 1, 5, 1, 1])
    eff = effective_creators(indptr, indices, counts, 3)
    assert eff[0] == 4.0 and 1.0 < eff[1] < 1.3 and eff[2] == 0.0
    assert spread_factor(eff)[0] == 1.0 and spread_factor(eff)[1] < 0.5
    assert used_by(5, eff[1]) == "used by 5 creators, mostly by one of them"
    assert used_by(4, eff[0]) == "used by 4 creators"
    assert list(reach_factor(np.array([5, 13, 130]), 130)) == [5 / 13, 1.0, 1.0]
