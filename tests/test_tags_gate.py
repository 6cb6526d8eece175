"""The tags quality gate rejects data scrambled on purpose and lets an honest retrain
through (issue 29 point 9). Real HARRISON posts, each kept with the creators of the
hashtag it was collected under (HARRISON's folders: `sea`, `nike`, ...), so creators
have the topics real creators have. Scrambled = hashtag lists shuffled across posts (the
probe's scramble: every co-occurrence kept, creators' topics lost) or single hashtags
shuffled across posts (co-occurrence lost too)."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from engine.core.contract import TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.tags.kind import TAGS
from engine.training.pipeline import gate

POSTS = 3000
PER_THEME = 8  # creators per HARRISON collection hashtag


def harrison(shared: Path, n: int) -> tuple[list[list[str]], list[str]]:
    """`n` HARRISON posts (a fixed sample; the first `POSTS` of it are the same for any
    larger `n`) and their creators: post i of collection `sea` goes to `sea_{i % 8}`."""
    lines = (shared / "data/harrison/tag_list.txt").read_text(encoding="utf-8").splitlines()
    images = (shared / "data/harrison/data_list.txt").read_text(encoding="utf-8").splitlines()
    order = list(range(len(lines)))
    random.Random(0).shuffle(order)
    seen: Counter = Counter()
    tags, owners = [], []
    for i in order[:n]:
        theme = images[i].split("/")[1]
        owners.append(f"{theme}_{seen[theme] % PER_THEME}")
        seen[theme] += 1
        tags.append(lines[i].split())
    return tags, owners


def train(tags: list[list[str]], owners: list[str], seed: int = 42) -> TrainResult:
    posts = pd.DataFrame(
        {
            "handle": owners,
            "post_id": [f"h{i}" for i in range(len(tags))],
            "hashtags": tags,
            "likes": 0,
            "comments": 0,
        }
    )
    people = pd.DataFrame({"handle": sorted(set(owners)), "followers": 1000, "language": "en"})
    return TAGS.train(Dataset(people, posts, pd.DataFrame()), TrainContext(seed=seed))


def lists_shuffled(tags: list[list[str]], seed: int) -> list[list[str]]:
    out = list(tags)
    random.Random(seed).shuffle(out)
    return out


def tags_shuffled(tags: list[list[str]], seed: int) -> list[list[str]]:
    pool = [t for post in tags for t in post]
    random.Random(seed).shuffle(pool)
    out, at = [], 0
    for post in tags:
        out.append(pool[at : at + len(post)])
        at += len(post)
    return out


@pytest.fixture(scope="module")
def current(shared_dir) -> TrainResult:
    tags, owners = harrison(shared_dir, POSTS)
    return train(tags, owners)


@pytest.mark.slow
def test_scrambled_hashtags_are_rejected_every_time(shared_dir, current):
    tags, owners = harrison(shared_dir, POSTS)
    assert current.metrics["lift.creators"] > 2 and current.metrics["lift.related"] > 1.5
    for seed in (1, 2, 3):
        new = train(lists_shuffled(tags, seed), owners)
        # what the old gate watched barely moves, so it alone let scrambled data through
        assert new.metrics["quality"] > 0.8 * current.metrics["quality"]
        reason = gate("tags", new, current.metrics, 0.05)
        assert reason and "lift.creators" in reason and "scrambled" in reason, new.metrics
    for seed in (1, 2):
        new = train(tags_shuffled(tags, seed), owners)
        assert new.metrics["lift.related"] < 1.2
        assert gate("tags", new, current.metrics, 0.05), new.metrics


@pytest.mark.slow
def test_an_honest_retrain_passes(shared_dir, current):
    tags, owners = harrison(shared_dir, POSTS)
    for seed in (7, 3):
        new = train(tags, owners, seed)
        assert gate("tags", new, current.metrics, 0.05) is None, new.metrics
    more_tags, more_owners = harrison(shared_dir, POSTS + POSTS // 10)
    assert more_tags[:POSTS] == tags
    assert gate("tags", train(more_tags, more_owners), current.metrics, 0.05) is None


def test_gate_widens_by_standard_errors_and_keeps_the_margin_without_them():
    old = {"quality": 0.13, "quality_se": 0.01}
    noisy = TrainResult(b"", {"quality": 0.107, "quality_se": 0.008}, {}, "quality")
    assert gate("tags", noisy, old, 0.05) is None  # 3 SE of the difference = 0.038
    worse = TrainResult(b"", {"quality": 0.08, "quality_se": 0.008}, {}, "quality")
    assert "fell from" in gate("tags", worse, old, 0.05)
    bare = TrainResult(b"", {"quality": 0.12}, {}, "quality")
    assert "fell from" in gate("tags", bare, {"quality": 0.13}, 0.05)


def test_gate_lift_floor_only_guards_a_lift_the_current_version_had():
    chance = TrainResult(b"", {"quality": 0.2, "lift.creators": 0.5}, {}, "quality")
    assert "lift.creators" in gate("tags", chance, {"quality": 0.2, "lift.creators": 4.0}, 0.05)
    # data whose creators never had topics (a round-robin deal) is not "scrambled"
    assert gate("tags", chance, {"quality": 0.2, "lift.creators": 0.6}, 0.05) is None
