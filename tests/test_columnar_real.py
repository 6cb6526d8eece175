"""The streaming local backend on real data (issue 27): instagram-600 as published,
HARRISON's hashtags and Last.fm's usage as posts and reels of the same creators. It must
publish the same models as the frame path (every post in one DataFrame)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from tests.real_data import instagram_handles, write_harrison_posts, write_lastfm_reels
from tests.test_columnar_backend import train_both_ways


def real_store(shared: Path, folder: Path) -> Path:
    ig = shared / "data/instagram-600"
    handles = instagram_handles(shared)
    songs, reels = write_lastfm_reels(shared, folder, handles)
    db = folder / "real.db"
    files = [
        ("influencers", ig / "influencers.csv"),
        ("posts", ig / "posts.csv"),
        ("posts", write_harrison_posts(shared, folder, handles)),
        ("songs", songs),
        ("posts", reels),
    ]
    for kind, path in files:
        assert main(["import", kind, str(path), "--db", f"sqlite:///{db}", "--quiet"]) == 0
    return db


@pytest.mark.slow
def test_real_data_gets_the_same_models_from_both_paths(shared_dir, tmp_path):
    agree = train_both_ways(real_store(shared_dir, tmp_path), tmp_path)
    assert set(agree) >= {"lookalike", "tags", "songs"}
    assert min(agree.values()) == 1.0, agree
