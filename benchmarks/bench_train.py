"""Training time and peak memory per model kind: on the demo data (default size) and on
a large synthetic set (1M posts; --quick: 100k). Each kind's peak RSS is measured by
resetting the kernel's high-water mark before it fits (Linux). Baseline in the same
run: reading the store into the Dataset, which every kind pays before fitting.

`--tags-split` times only the tags fit on the synthetic posts, twice in one run: with
the default config and with `word2vec: true` (the pre-issue-13 behaviour: skip-gram,
CBOW, PPMI-SVD and blend all fitted and measured), with each method's seconds, so the
share spent on methods that are not shipped is visible."""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from benchmarks.report import print_table, write_results
from engine.bootstrap import assemble, scratch
from engine.core.settings import Settings

TOPICS = {
    "food": [
        "food",
        "foodie",
        "recipe",
        "cooking",
        "comida",
        "pasta",
        "dinner",
        "vegan",
        "baking",
        "kitchen",
    ],
    "travel": [
        "travel",
        "wanderlust",
        "beach",
        "mountains",
        "viaje",
        "roadtrip",
        "hotel",
        "sunset",
        "city",
        "explore",
    ],
    "fitness": [
        "fitness",
        "gym",
        "workout",
        "run",
        "yoga",
        "training",
        "health",
        "fitfam",
        "cardio",
        "muscle",
    ],
    "tech": [
        "tech",
        "gadgets",
        "iphone",
        "android",
        "coding",
        "laptop",
        "setup",
        "apple",
        "review",
        "ai",
    ],
    "pets": [
        "dog",
        "cat",
        "puppy",
        "pets",
        "kitten",
        "dogsofinstagram",
        "catlover",
        "perro",
        "gato",
        "paws",
    ],
}
SPAM = ["love", "instagood", "photooftheday", "follow", "like4like"]


SONGS_PER_TOPIC = 400
REEL_SHARE = 0.3


def synthetic_posts(dir_: Path, n_posts: int, seed: int = 3, songs: bool = False) -> Path:
    """Posts of topic-coherent creators (no images): enough structure for every
    content model to do real work at the size asked. `songs`: REEL_SHARE of the posts
    are reels with a song from their creator's topic (a Zipf-like pick among
    SONGS_PER_TOPIC), and songs.csv lists them, so the songs and trending kinds train."""
    rnd = random.Random(seed)
    n_creators = max(50, n_posts // 30)
    topics = list(TOPICS)
    creator_topic = [topics[i % len(topics)] for i in range(n_creators)]
    path = dir_ / "posts.csv"
    header = ["handle", "post_id", "posted_at", "caption", "hashtags", "likes", "comments"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header + (["song_id"] if songs else []))
        for i in range(n_posts):
            c = rnd.randrange(n_creators)
            words = rnd.sample(TOPICS[creator_topic[c]], 4)
            tags = rnd.sample(TOPICS[creator_topic[c]], 3) + rnd.sample(SPAM, 1)
            row = [
                f"c{c}",
                f"s{i}",
                f"2026-{rnd.randint(5, 10):02d}-{rnd.randint(1, 28):02d}",
                "today " + " ".join(words),
                " ".join(tags),
                rnd.randrange(5000),
                rnd.randrange(200),
            ]
            if songs:
                pick = int(SONGS_PER_TOPIC * rnd.random() ** 3)  # a few hits, a long tail
                row.append(f"{creator_topic[c]}-{pick}" if rnd.random() < REEL_SHARE else "")
            w.writerow(row)
    if songs:
        with (dir_ / "songs.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["song_id", "title", "artist"])
            for topic in topics:
                for k in range(SONGS_PER_TOPIC):
                    w.writerow([f"{topic}-{k}", f"{topic.title()} Song {k}", f"Artist {k % 50}"])
    inf = dir_ / "influencers.csv"
    with inf.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["handle", "followers", "language"])
        for c in range(n_creators):
            w.writerow([f"c{c}", int(rnd.lognormvariate(9.5, 1.3)) + 100, "en"])
    return dir_


def measure(label: str, url: str) -> list[dict]:
    parts = assemble(url)
    rec = parts.recommender
    t0 = time.perf_counter()
    data = parts.admin.dataset()
    read_s = time.perf_counter() - t0
    rows = [
        {
            "data": label,
            "kind": "(read store)",
            "status": "-",
            "seconds": read_s,
            "peak MB": None,
            "posts": len(data.posts),
            "influencers": len(data.influencers),
        }
    ]
    del data
    report = rec.train(force=True, log=lambda m: None)
    for o in report.outcomes:
        rows.append(
            {
                "data": label,
                "kind": o.kind,
                "status": o.status,
                "seconds": o.seconds,
                "peak MB": o.peak_rss_mb,
                "posts": "",
                "influencers": "",
            }
        )
    parts.close()
    return rows


def tags_split(url: str, label: str) -> list[dict]:
    from engine.tags.model import fit
    from engine.tags.prepare import TagConfig

    parts = assemble(url)
    data = parts.admin.dataset()
    rows = []
    for name, cfg in (
        ("before: word2vec on (skip-gram, CBOW, PPMI-SVD, blend)", TagConfig(word2vec=True)),
        ("after: default (PPMI-SVD + Ochiai)", TagConfig()),
    ):
        t0 = time.perf_counter()
        model = fit(data, cfg, seed=42)
        report = model.report
        total = time.perf_counter() - t0
        shipped = {report.chosen, report.related}
        # blend's seconds are its parts' (skip-gram + PPMI), so it is not counted again
        unshipped = sum(s for m, s in report.seconds.items() if m not in shipped and m != "blend")
        rows.append(
            {
                "data": label,
                "config": name,
                "tags fit s": total,
                **{f"{m} s": s for m, s in report.seconds.items()},
                "not shipped s": unshipped,
                "not shipped share": unshipped / total,
                "shipped": f"vectors {report.chosen}, related {report.related}",
                "quality": report.shipped_quality,
            }
        )
    parts.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tags-split", action="store_true", help="only the tags fit, before/after")
    args = ap.parse_args()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        from engine.demo.generate import demo_dir, generate

        size = "small" if args.quick else "default"
        if not args.tags_split:
            ddir = demo_dir(Settings.from_env().data_dir, size, 42)
            if not (ddir / "truth.json").exists():
                generate(ddir, size=size, seed=42)
            url = f"sqlite:///{tmp}/demo.db"
            scratch(url, ddir).close()
            rows += measure(f"demo {size}", url)
        n = 100_000 if args.quick else 1_000_000
        sdir = synthetic_posts(Path(tmp), n)
        url2 = f"sqlite:///{tmp}/synthetic.db"
        rec2 = scratch(url2, sdir, kinds=["influencers"])
        t0 = time.perf_counter()
        rec2.import_file(sdir / "posts.csv", "posts")
        rows.append(
            {
                "data": f"synthetic {n:,}",
                "kind": "(import)",
                "status": "-",
                "seconds": time.perf_counter() - t0,
                "peak MB": None,
                "posts": n,
                "influencers": "",
            }
        )
        if args.tags_split:
            split = tags_split(url2, f"synthetic {n:,}")
            print_table("Tags fit: where the time goes, before and after", split)
            name = "train_tags_split" + ("_quick" if args.quick else "")
            write_results(name, {"import": rows, "tags_split": split})
            return
        rows += measure(f"synthetic {n:,}", url2)
    print_table("Training time and peak memory per model kind", rows)
    write_results("train" + ("_quick" if args.quick else ""), {"results": rows})


if __name__ == "__main__":
    main()
