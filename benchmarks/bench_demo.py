"""Demo data set: wall time of `generate` per size (pictures vs tables), and whether the
planted truth can be recovered from the files by naive baselines — the signal the other
benchmarks score against must be there, and not trivially perfect everywhere.

Signals (each against chance measured in the same run):
- creator topic from the creator's most used core tag (chance: 1/20);
- trending songs as the top-k songs by reel uses in the last 7 days (chance: k/songs);
- Delta (reel ER - creator's mean ER) of reels whose song fits the creator's topic vs not.

    python -m benchmarks.bench_demo [--quick]   # quick: small only
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np

import engine.demo.generate as demo
from benchmarks.report import print_table, write_results


def timed_generate(out: Path, size: str, seed: int) -> dict:
    """Total wall time, and the share spent composing pictures (timed by wrapping the
    picture step, which `generate` looks up at call time)."""
    spent = {"images": 0.0}
    make_images = demo._make_images

    def wrapped(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return make_images(*args, **kwargs)
        finally:
            spent["images"] += time.perf_counter() - t0

    demo._make_images = wrapped
    try:
        t0 = time.perf_counter()
        demo.generate(out, size=size, seed=seed)
        total = time.perf_counter() - t0
    finally:
        demo._make_images = make_images
    return {"total_s": total, "images_s": spent["images"], "tables_s": total - spent["images"]}


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def recoverability(out: Path) -> dict:
    truth = demo.load_truth(out)
    posts = read(out / "posts.csv")
    followers = {r["handle"]: int(r["followers"]) for r in read(out / "influencers.csv")}
    n_songs = len(read(out / "songs.csv"))
    tag_topic = {}
    for topic, tags in truth["topic_tags"].items():
        for t in tags:
            tag_topic.setdefault(t, topic)  # ambiguous tags count for their first topic
    used = defaultdict(Counter)
    for p in posts:
        tags = (p["hashtags"] + " " + p["caption"]).replace("#", " #").split()
        used[p["handle"]].update(t[1:].lower() for t in tags if t[1:].lower() in tag_topic)
    guess = {h: tag_topic[c.most_common(1)[0][0]] for h, c in used.items() if c}
    topic_acc = np.mean([guess.get(h) == t for h, t in truth["influencer_topic"].items()])

    as_of = date.fromisoformat(truth["as_of"])
    er = defaultdict(list)
    for p in posts:
        er[p["handle"]].append((int(p["likes"]) + int(p["comments"])) / followers[p["handle"]])
    mean_er = {h: float(np.mean(v)) for h, v in er.items()}
    last_week: Counter = Counter()
    fit, misfit = [], []
    for p in posts:
        if not p["song_id"]:
            continue
        if (as_of - date.fromisoformat(p["posted_at"][:10])).days < 7:
            last_week[p["song_id"]] += 1
        delta = (int(p["likes"]) + int(p["comments"])) / followers[p["handle"]]
        delta -= mean_er[p["handle"]]
        good = truth["song_topic"][p["song_id"]] == truth["influencer_topic"][p["handle"]]
        (fit if good else misfit).append(delta)
    trending = set(truth["trending_songs"])
    k = len(trending)
    top = {s for s, _ in last_week.most_common(k)}
    return {
        "topic_accuracy_top_tag": float(topic_acc),
        "topic_accuracy_chance": 1 / len(truth["topics"]),
        "trending_precision_last_week_uses": len(top & trending) / k,
        "trending_precision_chance": k / n_songs,
        "delta_fit_mean": float(np.mean(fit)),
        "delta_misfit_mean": float(np.mean(misfit)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size only")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    sizes = ["small"] if args.quick else ["small", "default"]
    timing, signal = [], []
    with TemporaryDirectory() as tmp:
        for size in sizes:
            out = Path(tmp) / size
            t = timed_generate(out, size, args.seed)
            n_posts = sum(1 for _ in (out / "posts.csv").open(encoding="utf-8")) - 1
            n_images = len(list((out / "images").rglob("*.jpg")))
            timing.append(
                {
                    "size": size,
                    "posts": n_posts,
                    "images": n_images,
                    "total s": t["total_s"],
                    "pictures s": t["images_s"],
                    "tables+csv s": t["tables_s"],
                    "posts/s": n_posts / t["tables_s"],
                    "ms/picture": 1000 * t["images_s"] / n_images,
                }
            )
            signal.append({"size": size, **recoverability(out)})
    print_table("generate() wall time", timing)
    print_table("planted truth vs naive recovery (and chance)", signal)
    write_results("demo_quick" if args.quick else "demo", {"timing": timing, "signal": signal})


if __name__ == "__main__":
    main()
