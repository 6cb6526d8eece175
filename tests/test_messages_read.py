"""Messages that say what happened (issue 24): `/songs` on a store whose training ran and
skipped songs for lack of reels says that (not "run engine train"); `/trending 7` on data
whose last week ended long ago names the days ("the 7 days to 2026-05-28"). Asked as a
person would: the console's Scout core and the CLI."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.blocks import to_text
from bot.router import Caller, Scout
from engine.bootstrap import scratch
from models.store import Store

REPO = Path(__file__).resolve().parents[1]
CONSOLE = Caller(in_slack=False)


@pytest.fixture(scope="module")
def no_reels_db(demo_small_dir, tmp_path_factory) -> str:
    """The small demo with every post's song removed, trained: songs is skipped."""
    folder = tmp_path_factory.mktemp("no_reels")
    shutil.copy(demo_small_dir / "influencers.csv", folder / "influencers.csv")
    with (demo_small_dir / "posts.csv").open() as src, (folder / "posts.csv").open("w") as dst:
        rows = csv.DictReader(src)
        out = csv.DictWriter(dst, [f for f in rows.fieldnames if f not in ("song_id", "image")])
        out.writeheader()
        for row in rows:
            out.writerow({k: v for k, v in row.items() if k in out.fieldnames})
    url = f"sqlite:///{folder / 'scout.db'}"
    rec = scratch(url, folder, kinds=("influencers", "posts"))
    report = rec.train(kinds=["songs"], log=lambda m: None)
    rec.close()
    assert [o.status for o in report.outcomes] == ["skipped"]
    return url


@pytest.mark.slow  # imports and trains the small demo
def test_songs_says_training_skipped_it_for_lack_of_reels(no_reels_db):
    rec = scratch(no_reels_db)
    try:
        text = to_text(Scout(rec).command("songs", "@yuki.oven", CONSOLE).blocks)
        assert "training ran and skipped it" in text and "creators with songs" in text
        assert "not trained yet" not in text
        # a second run on the same data records no second row
        rec.train(kinds=["songs"], log=lambda m: None)
        store = Store(no_reels_db)  # the test reads the registry itself
        assert [(r.status, r.version) for r in store.registry.list("songs")] == [("skipped", 1)]
        store.dispose()
    finally:
        rec.close()
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "songs", "@yuki.oven", "--db", no_reels_db, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and proc.stdout == ""
    assert "training ran and skipped it" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # the trained demo store
def test_trending_names_the_days_it_covers(copy_db):
    rec = scratch(copy_db)
    try:
        reply = Scout(rec).command("trending", "7", CONSOLE)
        as_of = rec.trending(7, 10).meta["as_of"]
    finally:
        rec.close()
    day = str(as_of)[:10]
    assert f"the 7 days to {day}" in to_text(reply.blocks)
    assert "last 7 days" not in reply.text
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "trending", "--db", copy_db, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["results"]
