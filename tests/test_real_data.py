"""The real-data regression (issue 12): instagram-600 imported as it is published (599
accounts, one post with an empty caption), plus HARRISON hashtags and Last.fm usage as
reels of the same creators; `engine train` exits 0 and every query command answers.
Then a songs-only store and a posts-only store each train what they can."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli import main
from tests.real_data import instagram_handles, write_harrison_posts, write_lastfm_reels

pytestmark = pytest.mark.slow  # trains every kind on the real data sets, three times


def cli(capsys, *args: str) -> dict:
    code = main([*args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    return json.loads(out.out)


def train(capsys, db: str) -> dict[str, dict]:
    report = cli(capsys, "train", "--db", db)
    assert report["ok"]
    return {k["kind"]: k for k in report["kinds"]}


@pytest.fixture(scope="module")
def files(tmp_path_factory, shared_dir) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("real")
    handles = instagram_handles(shared_dir)
    songs, reels = write_lastfm_reels(shared_dir, out, handles)
    ig = shared_dir / "data/instagram-600"
    return {
        "influencers": ig / "influencers.csv",
        "posts": ig / "posts.csv",
        "harrison": write_harrison_posts(shared_dir, out, handles),
        "songs": songs,
        "reels": reels,
    }


def test_everything_trains_and_every_query_answers(tmp_path, files, capsys, shared_dir):
    db = f"sqlite:///{tmp_path / 'real.db'}"
    for kind, name in [
        ("influencers", "influencers"),
        ("posts", "posts"),
        ("posts", "harrison"),
        ("songs", "songs"),
        ("posts", "reels"),
    ]:
        cli(capsys, "import", kind, str(files[name]), "--db", db, "--quiet")
    kinds = train(capsys, db)
    for name in ("lookalike", "tags", "topics", "songs"):
        assert kinds[name]["status"] == "published", kinds[name]
    # no post has an image: the photos kind is skipped with the reason, not published empty
    assert kinds["photos"]["status"] == "skipped", kinds["photos"]
    assert "no post has an image" in kinds["photos"]["message"]
    assert kinds["lookalike"]["metrics"]["creators"] == 599
    handle = "elisabeth.rioux"
    assert cli(capsys, "lookalike", handle, "--db", db)["results"]
    reel_creator = instagram_handles(shared_dir)[0]  # Last.fm user 1 of the reels
    assert cli(capsys, "songs", reel_creator, "--db", db)["results"]
    # The Last.fm reels are dated 2026-03-01..23, each creator's 9th-12th artists in the
    # last 7 days: trending counts back from the last reel day and finds rising songs.
    trending = cli(capsys, "trending", "--db", db)
    assert trending["details"]["meta"]["as_of"] == "2026-03-23"
    rising = trending["results"]
    assert len(rising) == 10 and all(r["id"].startswith("lfm_") for r in rising)
    assert all(r["label"] and r["label"] != r["id"] for r in rising)  # song titles, not ids
    assert [r["score"] for r in rising] == sorted((r["score"] for r in rising), reverse=True)
    assert all("reels in these 7 days vs" in r["why"] for r in rising)
    counts = trending["details"]["items"]
    assert all(c["uses_now"] >= 3 and c["uses_now"] > c["uses_before"] for c in counts)
    assert cli(capsys, "hashtags", "beach", "--db", db)["results"]
    assert cli(capsys, "topic", "#beach #sea", "--db", db)["results"]
    assert cli(capsys, "topics", "--db", db)["results"]
    photo = sorted((shared_dir / "photos").glob("*.jpg"))[0]
    assert main(["hashtags", "--photo", str(photo), "--db", db, "--json"]) != 0
    assert "photos" in capsys.readouterr().err  # no photos model, and it says so
    assert main(["map", handle, "--db", db, "--out", str(tmp_path / "map.png")]) == 0
    assert (tmp_path / "map.png").stat().st_size > 1000


def test_songs_only_store_trains_songs(tmp_path, files, capsys):
    db = f"sqlite:///{tmp_path / 'songs.db'}"
    cli(capsys, "import", "influencers", str(files["influencers"]), "--db", db, "--quiet")
    cli(capsys, "import", "songs", str(files["songs"]), "--db", db, "--quiet")
    cli(capsys, "import", "posts", str(files["reels"]), "--db", db, "--quiet")
    kinds = train(capsys, db)
    assert kinds["songs"]["status"] == "published"
    assert kinds["lookalike"]["status"] == "skipped"
    assert kinds["lookalike"]["message"] == "no captions or hashtags on any post"
    assert kinds["tags"]["status"] == "skipped"
    assert kinds["topics"]["status"] == "skipped" and "needs tags" in kinds["topics"]["message"]


def test_posts_only_store_trains_lookalike(tmp_path, files, capsys):
    db = f"sqlite:///{tmp_path / 'posts.db'}"
    cli(capsys, "import", "posts", str(files["posts"]), "--db", db, "--quiet")
    kinds = train(capsys, db)
    assert kinds["lookalike"]["status"] == "published"
    assert kinds["songs"]["status"] == "skipped"
    assert "fewer than 2 creators with songs" in kinds["songs"]["message"]
    assert kinds["photos"]["status"] == "skipped"  # no images: nothing published
