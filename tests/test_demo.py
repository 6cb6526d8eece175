"""The demo data set is deterministic, consistent with its planted truth, and has the
structure the benchmarks score against."""

import csv
import hashlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.demo.generate import AS_OF, generate, load_truth
from engine.demo.topics import TOPICS

PHOTO_TOPICS = sum(1 for t in TOPICS if t.photos)  # wedding has no photo subject

REPO = Path(__file__).resolve().parent.parent


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_deterministic_by_seed(demo_small_dir, tmp_path):
    again = generate(tmp_path / "a", size="small", seed=42)
    other = generate(tmp_path / "b", size="small", seed=7, pool=2)
    for name in ("posts.csv", "influencers.csv", "songs.csv"):
        assert digest(again.dir / name) == digest(demo_small_dir / name)
    assert digest(other.posts) != digest(demo_small_dir / "posts.csv")
    # A smaller picture pool per topic is honoured (and recorded in the truth).
    pictures = Counter(load_truth(other.dir)["image_topic"].values())
    assert set(pictures.values()) == {2} and len(pictures) == PHOTO_TOPICS


def test_truth_matches_files_and_structure(demo_small_dir):
    truth = load_truth(demo_small_dir)
    influencers = rows(demo_small_dir / "influencers.csv")
    posts = rows(demo_small_dir / "posts.csv")
    songs = {r["song_id"] for r in rows(demo_small_dir / "songs.csv")}
    handles = {r["handle"] for r in influencers}
    assert handles == set(truth["influencer_topic"])
    assert len(set(truth["influencer_topic"].values())) == 20
    assert set(truth["trending_songs"]) <= songs and truth["trending_songs"]
    # wedding has no photo subject in the sample: its posts carry no picture
    assert "wedding" not in set(truth["image_topic"].values())
    for rel in {p["image"] for p in posts if p["image"]}:
        with Image.open(demo_small_dir / rel) as im:
            assert im.size == (224, 224) and im.format == "JPEG"
    followers = np.array([int(r["followers"]) for r in influencers])
    assert followers.min() < 5_000 and followers.max() > 80_000
    tags_by_topic = defaultdict(Counter)
    per_creator = defaultdict(Counter)
    for p in posts:
        tags = (p["hashtags"] + " " + p["caption"]).replace("#", " #").split()
        tags = {t[1:].lower() for t in tags if t.startswith("#")}
        tags_by_topic[truth["influencer_topic"][p["handle"]]].update(tags)
        per_creator[p["handle"]].update(tags)
    # Spam tags appear across most topics; the ambiguous tag in both of its senses.
    assert sum(1 for c in tags_by_topic.values() if c["instagood"]) >= 15
    assert tags_by_topic["tech"]["apple"] > 0 and tags_by_topic["food"]["apple"] > 0
    assert tags_by_topic["food"]["iphone"] == 0
    # Topic tags are synonyms in several languages, and creators write in several.
    assert {"comida", "cuisine", "essen", "cibo"} <= set(truth["topic_tags"]["food"])
    assert len({r["language"] for r in influencers}) >= 5
    # Each creator repeats a favourite tag on most posts.
    n_posts = Counter(p["handle"] for p in posts)
    repeaters = sum(1 for h, c in per_creator.items() if c.most_common(1)[0][1] >= 0.6 * n_posts[h])
    assert repeaters >= 0.9 * len(per_creator)


def test_songs_fit_and_trending_are_planted(demo_small_dir):
    truth = load_truth(demo_small_dir)
    followers = {r["handle"]: int(r["followers"]) for r in rows(demo_small_dir / "influencers.csv")}
    posts = rows(demo_small_dir / "posts.csv")
    er = defaultdict(list)
    for p in posts:
        er[p["handle"]].append((int(p["likes"]) + int(p["comments"])) / followers[p["handle"]])
    mean = {h: np.mean(v) for h, v in er.items()}
    fit, misfit = [], []
    last_week = defaultdict(int)
    week_before = defaultdict(int)
    for p in posts:
        if not p["song_id"]:
            continue
        delta = (int(p["likes"]) + int(p["comments"])) / followers[p["handle"]] - mean[p["handle"]]
        good = truth["song_topic"][p["song_id"]] == truth["influencer_topic"][p["handle"]]
        (fit if good else misfit).append(delta / mean[p["handle"]])
        age = (AS_OF - date.fromisoformat(p["posted_at"][:10])).days
        if age < 7:
            last_week[p["song_id"]] += 1
        elif age < 14:
            week_before[p["song_id"]] += 1
    assert np.mean(fit) > np.mean(misfit) + 0.2
    rising = [s for s in truth["trending_songs"] if last_week[s] > week_before[s]]
    assert len(rising) >= 0.8 * len(truth["trending_songs"])


def post_tags(p: dict) -> set[str]:
    words = (p["hashtags"] + " " + p["caption"]).replace("#", " #").split()
    return {w[1:].lower() for w in words if w.startswith("#")}


def test_audience_captions_and_like_earning_tags(demo_small_dir):
    truth = load_truth(demo_small_dir)
    influencers = rows(demo_small_dir / "influencers.csv")
    posts = rows(demo_small_dir / "posts.csv")
    followers = {r["handle"]: int(r["followers"]) for r in influencers}
    counts = np.array(list(followers.values()))
    # Nano to celebrity, with roughly a tenth above the 80k "celebrity" line of the songs report.
    assert counts.min() < 2_000 and counts.max() > 1_000_000
    assert 0.05 <= np.mean(counts > 80_000) <= 0.25
    # Engagement rate declines with audience size.
    er = {h: [] for h in followers}
    for p in posts:
        er[p["handle"]].append((int(p["likes"]) + int(p["comments"])) / followers[p["handle"]])
    small = np.median([np.mean(v) for h, v in er.items() if followers[h] < 10_000])
    large = np.median([np.mean(v) for h, v in er.items() if followers[h] > 100_000])
    assert small > 1.5 * large
    # Captions: several languages, @mentions, links and emojis, some inline hashtags.
    captions = [p["caption"] for p in posts]
    assert len({r["language"] for r in influencers}) == 7
    assert any("@" in c for c in captions) and any("https://" in c for c in captions)
    assert sum("#" in c for c in captions) > 0.3 * len(captions)
    assert any(ch in c for c in captions for ch in ("✨", "🔥", "📸"))
    # Secondary topics: some creators' posts show another topic's pictures, a minority of theirs.
    secondary = truth["influencer_secondary_topic"]
    assert secondary and set(secondary.values()) <= set(truth["topics"])
    off = [
        truth["image_topic"][p["image"]] != truth["influencer_topic"][p["handle"]]
        for p in posts
        if p["image"]
    ]
    assert 0.01 < np.mean(off) < 0.15
    # Accidental off-topic tags: a few posts carry another topic's core tag.
    tag_topics = defaultdict(set)
    for topic, tags in truth["topic_tags"].items():
        for t in tags:
            tag_topics[t].add(topic)
    stray = [
        bool(
            {
                t
                for t in post_tags(p)
                if tag_topics[t] and truth["image_topic"][p["image"]] not in tag_topics[t]
            }
        )
        for p in posts
        if p["image"]
    ]
    assert 0.01 < np.mean(stray) < 0.15
    # Posts with a topic's like-earning tags earn more, relative to the creator's average.
    with_good, without = [], []
    for p in posts:
        if not p["image"]:
            continue
        topic = truth["image_topic"][p["image"]]
        mean = np.mean(er[p["handle"]])
        ratio = (int(p["likes"]) + int(p["comments"])) / followers[p["handle"]] / mean
        (with_good if post_tags(p) & set(truth["good_tags"][topic]) else without).append(ratio)
    assert np.mean(with_good) > np.mean(without) + 0.05


@pytest.mark.slow
@pytest.mark.shared
def test_demo_command_imports_then_if_empty_is_a_no_op(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    env = {**os.environ, "SCOUT_DATA_DIR": str(tmp_path / "data")}
    cmd = [sys.executable, "-m", "engine", "demo", "--size", "small", "--db", url]
    first = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "posts imported" in first.stdout
    second = subprocess.run([*cmd, "--if-empty"], cwd=REPO, env=env, capture_output=True, text=True)
    assert second.returncode == 0 and "already has" in second.stdout
    from models.store import Store

    counts = Store(url).counts()
    n_posts = len(rows(tmp_path / "data" / "demo" / "small-42" / "posts.csv"))
    assert counts["posts"] == n_posts and counts["influencers"] == 150


@pytest.mark.shared
def test_pool_sets_pictures_per_topic_and_bad_arguments_are_refused(tmp_path):
    files = generate(tmp_path / "p", size="small", seed=1, pool=2)
    truth = load_truth(files.dir)
    per_topic = Counter(truth["image_topic"].values())
    assert set(per_topic.values()) == {2} and len(per_topic) == PHOTO_TOPICS
    used = {p["image"] for p in rows(files.posts)} - {""}
    assert used <= set(truth["image_topic"]) and len(used) > 20
    with pytest.raises(ValueError, match="pool"):
        generate(tmp_path / "q", size="small", pool=0)
    with pytest.raises(ValueError, match="unknown demo size"):
        generate(tmp_path / "q", size="huge")
