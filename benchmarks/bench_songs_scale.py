"""Songs at scale (issue 27 point 3): the songs kind's fit on a synthetic store of
`n` posts by n/30 creators (5M posts: 166k creators, as bench_spark's synthetic
stores), 30% of them reels whose song follows a Zipf law within the creator's topic,
with topic-coherent content vectors standing in for the lookalike model's. Runs the old
path (engine.songs.model.fit with `legacy=True`) and the new one in the same process on
the same frames and prints the ratio, the phases of the new path and the top-10
agreement of the two models' answers; writes benchmarks/results/songs_scale.json with
the load average (the machine is shared).

    python -m benchmarks.bench_songs_scale [--demo small] [--sizes 1000000,5000000]
        [--old-max 1000000] [--no-old]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.agreement import mean_overlap, song_lists
from benchmarks.report import print_table, write_results
from engine.core.dataset import Dataset

TOPICS = 5  # as bench_spark's synthetic stores (benchmarks.bench_train): 2,000 songs
SONGS_PER_TOPIC = 400
REEL_SHARE = 0.3
DIM = 64
ZIPF_S = 1.1  # song popularity within a topic: the k-th most used song ~ 1 / k^1.1


def synthetic(n_posts: int, seed: int = 3) -> tuple[Dataset, tuple[list[str], np.ndarray]]:
    """(dataset, content): posts with reels (Zipf song popularity inside each of TOPICS
    topics, 5% of reels from anywhere), influencers with followers, the song catalogue,
    and per creator an L2-normalised vector near their topic's centre."""
    rng = np.random.default_rng(seed)
    n_creators = max(50, n_posts // 30)
    handles = np.array([f"c{i}" for i in range(n_creators)])
    topic = np.arange(n_creators) % TOPICS
    author = rng.integers(0, n_creators, n_posts)
    p = 1.0 / np.arange(1, SONGS_PER_TOPIC + 1) ** ZIPF_S
    rank = rng.choice(SONGS_PER_TOPIC, n_posts, p=p / p.sum())
    song_topic = np.where(
        rng.random(n_posts) < 0.05, rng.integers(0, TOPICS, n_posts), topic[author]
    )
    song = np.char.add(np.char.add("t", song_topic.astype(str)), np.char.add("-", rank.astype(str)))
    is_reel = rng.random(n_posts) < REEL_SHARE
    followers = (rng.lognormal(9.5, 1.3, n_creators) + 100).astype(np.int64)
    quality = rng.normal(0, 0.3, (TOPICS, SONGS_PER_TOPIC))
    er_base = rng.uniform(1.0, 6.0, n_creators)
    er = er_base[author] * np.exp(rng.normal(0, 0.3, n_posts) + quality[song_topic, rank] * is_reel)
    likes = np.round(er / 100.0 * followers[author] * 0.95).astype(np.int64)
    posts = pd.DataFrame(
        {
            "post_id": np.char.add("p", np.arange(n_posts).astype(str)),
            "platform": "instagram",
            "handle": handles[author],
            "posted_at": pd.Timestamp("2026-05-01")
            + pd.to_timedelta(rng.integers(0, 180 * 86400, n_posts), unit="s"),
            "caption": "",
            "hashtags": [[] for _ in range(n_posts)],
            "likes": likes,
            "comments": (likes * 0.05).astype(np.int64),
            "song_id": np.where(is_reel, song, None),
        }
    )
    influencers = pd.DataFrame(
        {"handle": handles, "followers": followers, "posts_count": np.nan, "platform": "instagram"}
    )
    ids = [f"t{t}-{k}" for t in range(TOPICS) for k in range(SONGS_PER_TOPIC)]
    songs = pd.DataFrame({"song_id": ids, "title": ids, "artist": "a"})
    centres = rng.normal(size=(TOPICS, DIM))
    vec = centres[topic] + rng.normal(0, 0.8, (n_creators, DIM))
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    return Dataset(influencers, posts, songs), (handles.tolist(), vec.astype(np.float32))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed_fit(data: Dataset, content: Any, legacy: bool) -> tuple[Any, float, list[str]]:
    from engine.songs.model import fit

    lines: list[str] = []
    t0 = time.perf_counter()
    model = fit(
        data,
        {},
        log=lambda m: lines.append(f"{time.perf_counter() - t0:7.1f}s {m}"),
        content=content,
        legacy=legacy,
    )
    return model, time.perf_counter() - t0, lines


def run(n_posts: int, old: bool, sample: int) -> dict[str, Any]:
    from engine.core.index import VectorIndex

    t0 = time.perf_counter()
    data, content = synthetic(n_posts)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = VectorIndex.build(content[1])  # the lookalike model's, built by its kind
    row: dict[str, Any] = {
        "posts": n_posts,
        "creators": len(data.influencers),
        "gen_s": gen_s,
        "lookalike_index_s": time.perf_counter() - t0,
    }
    content = (*content, index)
    new, new_s, lines = timed_fit(data, content, legacy=False)
    print("\n".join(lines), flush=True)
    row.update(
        new_s=new_s,
        auto_new=new.auto,
        map_new=new.metrics.get("auto.map@10"),
        creators_with_reels=new.usage.shape[0],
        songs=new.usage.shape[1],
        uses=int(new.usage.uses.nnz),
        load_after_new=os.getloadavg()[0],
    )
    if old:
        legacy, old_s, lines = timed_fit(data, content, legacy=True)
        print("\n".join(lines), flush=True)
        a, b = song_lists(legacy, 10, sample), song_lists(new, 10, sample)
        row.update(
            old_s=old_s,
            ratio=old_s / new_s,
            auto_old=legacy.auto,
            map_old=legacy.metrics.get("auto.map@10"),
            top10_agreement=mean_overlap(a, b),
        )
    row.update(peak_rss_mb=peak_rss_mb(), load_avg=os.getloadavg())
    return row


def demo_agreement(size: str) -> dict[str, Any]:
    """Old vs new path on a demo data set with the lookalike model's vectors and index
    (as `engine train` hands them over): seconds, auto and top-10 agreement."""
    from benchmarks.bench_songs import demo_dataset
    from engine.core.contract import TrainContext
    from engine.lookalike.kind import LOOKALIKE
    from engine.songs.kind import creator_content

    data, _ = demo_dataset(size, 42)
    ctx = TrainContext(seed=42)
    ctx.trained["lookalike"] = LOOKALIKE.train(data, ctx).model
    content = creator_content(ctx)
    timed_fit(data, content, legacy=True)  # warm-up: imports and first-call costs
    new, new_s, _ = timed_fit(data, content, legacy=False)
    old, old_s, _ = timed_fit(data, content, legacy=True)
    return {
        "posts": f"demo {size} ({len(data.posts)})",
        "creators": len(data.influencers),
        "new_s": new_s,
        "old_s": old_s,
        "ratio": old_s / new_s,
        "auto_new": new.auto,
        "auto_old": old.auto,
        "map_new": new.metrics.get("auto.map@10"),
        "map_old": old.metrics.get("auto.map@10"),
        "top10_agreement": mean_overlap(song_lists(old, 10), song_lists(new, 10)),
        "load_avg": os.getloadavg(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,5000000")
    ap.add_argument("--no-old", action="store_true", help="only the new path")
    ap.add_argument(
        "--old-max", type=int, default=1_000_000, help="largest size the old path runs at"
    )
    ap.add_argument("--demo", default="small", help="demo sizes to compare on ('' for none)")
    ap.add_argument("--sample", type=int, default=2000, help="creators compared for agreement")
    args = ap.parse_args()
    rows = [demo_agreement(d) for d in args.demo.split(",") if d]
    for n in [int(x) for x in args.sizes.split(",") if x]:
        rows.append(run(n, not args.no_old and n <= args.old_max, args.sample))
        write_results("songs_scale", {"results": rows, "partial": True})  # keeps what it has
    print_table("Songs fit at scale: old path vs new, seconds", rows)
    write_results("songs_scale", {"results": rows, "cpus": os.cpu_count()})


if __name__ == "__main__":
    main()
