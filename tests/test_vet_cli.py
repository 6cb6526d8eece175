"""The trust card in the product (issue 25): follower samples imported like every file,
`python -m engine vet` and its JSON, the quality/sponsored/safe filters on lookalike and
topic, the CSV export's columns, the quality badge and `/vet` in the bot, all on the
trained small demo (a real SQLite file) and the real InstaFake accounts (../shared)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bot.router import Scout
from engine.bootstrap import assemble
from engine.cli import main
from engine.core.errors import BadQuery, ImportRejected
from engine.core.filters import CLI, parse_filters
from models.followers import sample_count, sample_rows
from models.store import Store

HEADER = ["handle", "follower", "followers", "following", "posts", "has_profile_pic"]
HEADER += ["is_private", "bio_length"]
pytestmark = pytest.mark.timeout(300)


def _accounts(shared_dir: Path) -> list[dict[str, str]]:
    with open(shared_dir / "data" / "instafake" / "accounts.csv", newline="") as f:
        return list(csv.DictReader(f))


def write_sample(path: Path, creator: str, accounts: list[dict[str, str]]) -> float:
    """A follower sample of `creator` made of real labelled InstaFake accounts (the name
    rebuilt with the account's length and digit count); returns the true real share."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i, a in enumerate(accounts):
            n, digits = int(a["username_length"]), int(a["username_digits"])
            name = ("f" + "x" * max(0, n - digits - 1) + "7" * digits)[: max(n, 1)] + f"_{i}"
            w.writerow(
                [f"@{creator}", name, a["followers"], a["following"], a["posts"]]
                + [a["has_profile_pic"], a["is_private"], a["bio_length"]]
            )
    return 1.0 - sum(int(a["is_fake"]) for a in accounts) / len(accounts)


def _creator(url: str) -> str:
    parts = assemble(url, must_exist=True)
    try:
        return str(parts.admin.dataset().influencers["handle"].iloc[0])
    finally:
        parts.recommender.close()


def _samples(url: str) -> list[dict]:
    store = Store(url)  # the test reads the table itself; product code goes through the parts
    try:
        with store.session() as s:
            return sample_rows(s)
    finally:
        store.dispose()


def _vet_json(url: str, handle: str, capsys) -> dict:
    capsys.readouterr()
    assert main(["vet", f"@{handle}", "--json", "--db", url]) == 0
    return json.loads(capsys.readouterr().out)


def test_import_followers_validates_writes_once_and_feeds_the_card(
    copy_db, shared_dir, tmp_path, capsys
):
    creator = _creator(copy_db)
    accounts = _accounts(shared_dir)[:300]
    good = tmp_path / "followers.csv"
    truth = write_sample(good, creator, accounts)

    without = _vet_json(copy_db, creator, capsys)
    assert set(without["results"][0]) == {"id", "label", "score", "why"}
    assert without["results"][0]["id"] == creator
    item = without["details"]["items"][0]
    assert item["audience_real_share"] is None  # no sample: no made-up number
    assert "no follower sample" in without["results"][0]["why"]
    for key in ("engagement_rate", "tier_percentile", "flagged_posts", "sponsored_share"):
        assert key in item
    assert 0 <= without["results"][0]["score"] <= 100

    assert main(["import", "followers", str(good), "--db", copy_db, "--quiet"]) == 0
    assert "300 followers imported (300 new, 0 updated)" in capsys.readouterr().out
    assert main(["import", "followers", str(good), "--db", copy_db, "--quiet"]) == 0
    assert "(0 new, 300 updated)" in capsys.readouterr().out  # idempotent
    assert len(_samples(copy_db)) == 300

    with_sample = _vet_json(copy_db, creator, capsys)
    item = with_sample["details"]["items"][0]
    assert item["audience"]["sampled"] == 300
    assert abs(item["audience_real_share"] - truth) < 0.12, (item, truth)
    assert item["confidence"] > without["details"]["items"][0]["confidence"]

    assert main(["vet", creator, "--db", copy_db]) == 0  # the table form
    text = capsys.readouterr().out
    assert "audience" in text and "300 sampled" in text and "confidence" in text


def test_a_bad_follower_line_is_refused_with_its_place_and_nothing_is_written(
    copy_db, shared_dir, tmp_path
):
    creator = _creator(copy_db)
    path = tmp_path / "bad.csv"
    write_sample(path, creator, _accounts(shared_dir)[:20])
    lines = path.read_text().splitlines()
    cells = lines[3].split(",")
    cells[5] = "maybe"  # has_profile_pic on file line 4
    lines[3] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    parts = assemble(copy_db, must_exist=True)
    try:
        with pytest.raises(ImportRejected) as err:
            parts.admin.import_file(path, "followers")
        assert f"{path}:4: has_profile_pic: expected yes/no" in str(err.value)
    finally:
        parts.recommender.close()
    assert _samples(copy_db) == []


def test_a_bio_column_stands_in_for_bio_length_and_neither_is_refused(copy_db, tmp_path):
    creator = _creator(copy_db)
    with_bio = tmp_path / "bio.csv"
    with_bio.write_text(
        "creator,follower,followers,following,posts,has_profile_pic,is_private,bio\n"
        f"{creator},anna_k,310,290,41,yes,no,coffee and cameras\n"
        f"{creator},bot_99812,3,7400,0,no,no,\n"
    )
    neither = tmp_path / "neither.csv"
    neither.write_text(
        f"handle,follower,followers,following,posts,has_profile_pic,is_private\n"
        f"{creator},anna_k,310,290,41,1,0\n"
    )
    parts = assemble(copy_db, must_exist=True)
    try:
        report = parts.admin.import_file(with_bio, "followers")
        assert report.rows == 2
        with pytest.raises(ImportRejected) as err:
            parts.admin.import_file(neither, "followers")
        assert f"{neither}:2: bio_length: required (or a bio column)" in str(err.value)
    finally:
        parts.recommender.close()
    rows = {r["follower"]: r for r in _samples(copy_db)}
    assert rows["anna_k"]["bio_length"] == len("coffee and cameras")
    assert rows["bot_99812"]["bio_length"] == 0 and rows["bot_99812"]["has_profile_pic"] is False
    assert "bio" not in rows["anna_k"]  # only the length is kept


def test_trust_filters_narrow_lookalike_and_topic_and_badge_each_creator(copy_db):
    rec = assemble(copy_db, must_exist=True).recommender
    try:
        handle = _creator(copy_db)
        plain = rec.lookalike(handle, k=10)
        qualities = [r.extra["quality"] for r in plain.results]
        assert all(r.extra["quality_badge"] == f"Q {r.extra['quality']:.0f}" for r in plain.results)
        cut = sorted(qualities)[len(qualities) // 2]  # the median: some pass, some do not
        narrowed = rec.lookalike(handle, k=10, filters=parse_filters({"quality": f">{cut}"}))
        assert narrowed.results and all(r.extra["quality"] >= cut for r in narrowed.results)
        assert {r.id for r in plain.results if r.extra["quality"] < cut}.isdisjoint(
            r.id for r in narrowed.results
        )
        safe = rec.lookalike(
            handle, k=5, filters=parse_filters({"safe": "yes", "sponsored": "<20%"})
        )
        assert all(r.extra["safe"] is True for r in safe.results)
        assert all(r.extra["sponsored_percent"] <= 20 for r in safe.results)

        topic = rec.topic("#gadgets", k=10)
        cut = sorted(r.extra["quality"] for r in topic.results)[len(topic.results) // 2]
        only = rec.topic("#gadgets", k=10, filters=parse_filters({"quality": f">{cut}"}))
        assert only.results and all(r.extra["quality"] >= cut for r in only.results)
        dropped = {r.id for r in topic.results if r.extra["quality"] < cut}
        assert dropped and dropped.isdisjoint(r.id for r in only.results)
        none = rec.topic("#gadgets", k=10, filters=parse_filters({"quality": "100-100"}))
        if not none.results:
            assert any("quality/sponsored/safe" in n for n in none.notes)
    finally:
        rec.close()


def test_the_cli_takes_the_trust_filters_and_shows_the_badge(copy_db, capsys):
    handle = _creator(copy_db)
    capsys.readouterr()
    assert main(["lookalike", handle, "-k", "5", "--quality", "80", "--safe", "--db", copy_db]) == 0
    out = capsys.readouterr().out
    assert "trust" in out.splitlines()[0]
    badges = [int(line.split("Q ")[1].split()[0]) for line in out.splitlines()[1:] if "Q " in line]
    assert badges and all(b >= 80 for b in badges)
    with pytest.raises(BadQuery) as err:
        parse_filters({"quality": "high"}, CLI)
    assert "--quality" in str(err.value)


def test_export_csv_has_the_trust_columns_and_vet_answers_in_the_bot(copy_db):
    rec = assemble(copy_db, must_exist=True).recommender
    try:
        handle = _creator(copy_db)
        scout = Scout(rec)
        name, content = scout.export_csv("lookalike", f"@{handle} 5")
        rows = list(csv.DictReader(content.splitlines()))
        assert {"quality", "sponsored_percent", "safe"} <= set(rows[0])
        assert all(0 <= float(r["quality"]) <= 100 and r["safe"] in ("yes", "no") for r in rows)

        reply = scout.command("vet", f"@{handle}")
        text = json.dumps(reply.blocks)
        assert f"Can I trust @{handle}?" in text and "Quality" in text
        for part in ("engagement", "authenticity", "audience", "sponsored", "brand safety"):
            assert f"*{part}*" in text
        assert "confidence" in text and "weight" in text
        assert "fake" not in text.lower()  # anomalies, not verdicts
        assert "no follower sample imported" in text

        listed = scout.command("lookalike", f"@{handle} 3 safe")
        assert "Q " in json.dumps(listed.blocks)
        unknown = scout.command("vet", f"@{handle}zz")
        assert "Did you mean" in unknown.text and "ref" not in unknown.text
        empty = scout.command("vet", "")
        assert "/vet @some_creator" in empty.text
    finally:
        rec.close()


def test_a_serving_recommender_sees_a_new_sample_and_the_daily_retrain_trains_vet(
    copy_db, shared_dir, tmp_path, monkeypatch
):
    """The card's data is read once per data state, and the state moves with what the day
    brings: an import (row counts) or the daily retrain (the published versions; the
    clock's train_if_due trains every kind, `vet` included)."""
    from engine.core.kinds import all_kinds

    assert "vet" in [k.kind for k in all_kinds()]  # what run_training trains by default
    monkeypatch.setenv("SCOUT_RELOAD_SECONDS", "0")
    parts = assemble(copy_db, must_exist=True)
    rec = parts.recommender
    try:
        handle = _creator(copy_db)
        before = rec.vet(handle)
        assert before.audience is None
        sample = tmp_path / "sample.csv"
        write_sample(sample, handle, _accounts(shared_dir)[:120])
        parts.admin.import_file(sample, "followers")
        after = rec.vet(handle)
        assert after.audience is not None and after.audience.sampled == 120
        assert rec.lookalike(handle, k=3).results[0].extra["quality_badge"].startswith("Q ")
    finally:
        rec.close()


def test_follower_samples_upsert_on_both_stores(any_db_url, tmp_path):
    """The same file twice on SQLite and Postgres: one row per (creator, follower), the
    second import updates in place (a changed count is the newer one)."""
    from models.migrate import upgrade

    upgrade(any_db_url)
    path = tmp_path / "s.csv"
    rows = [f"c{i % 3},f{i},{10 * i},{i},{i % 7},1,0,{i % 40}" for i in range(900)]
    path.write_text(",".join(HEADER) + "\n" + "\n".join(rows) + "\n")
    parts = assemble(any_db_url, must_exist=True)
    try:
        assert parts.admin.import_file(path, "followers").new_rows == 900
        path.write_text(",".join(HEADER) + "\n" + "c0,f0,0,5,0,1,0,0" + "\n")
        report = parts.admin.import_file(path, "followers")
        assert (report.rows, report.new_rows) == (1, 0)
        store = Store(any_db_url)
        try:
            with store.session() as s:
                stored = sample_rows(s, ["c0"])
                assert sample_count(s) == 900
        finally:
            store.dispose()
    finally:
        parts.recommender.close()
    assert len(stored) == 300 and stored[0]["follower"] == "f0"
    assert stored[0]["following"] == 5
