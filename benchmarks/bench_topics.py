"""Fixed topics and the influencer map (issue 8), measured on the demo data's planted topics.

1. Clustering methods on the trained tags model's vectors, each scored against the demo's
   planted `topic_tags` (adjusted Rand index and purity over the planted tags in the
   vocabulary, coverage = share of them in a kept topic), by the cosine silhouette of the
   kept topics, by how many topics they keep, and by creator accuracy (share of creators
   whose topic's majority planted topic is their own): creators assigned by the nearest
   topic centroid (what the model ships) and by the majority of their tags' topics.
   Baselines in the same run: random labels with the planted number of topics, and
   k-means told the planted number (an oracle no production run has).
2. The influencer map of one demo creator through the real path (store -> trained
   models -> Recommender.influencer_map), written to benchmarks/results/map_<handle>.png,
   with its render time and the share of the centre's k nearest creators (k = 20, or
   fewer when the topic has fewer creators) that share its planted topic.

Run: python -m benchmarks.bench_topics [--quick]   (quick: the small demo, 150 creators)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.report import RESULTS, print_table, write_results
from engine.core.settings import Settings
from engine.topics.kind import tag_uses
from engine.topics.model import (
    NOISE,
    TagSpace,
    TopicConfig,
    creator_accuracy,
    fit,
    score_against_truth,
)

MAP_NEIGHBOURS = 300


def trained_demo(size: str, seed: int, db: Path):
    """Generate (once) and import the demo into a fresh SQLite file, train every kind,
    and return (Recommender, truth)."""
    from engine.bootstrap import scratch
    from engine.demo import generate as demo

    folder = demo.demo_dir(Settings.from_env().data_dir, size, seed)
    if not demo.is_complete(folder):
        demo.generate(folder, size=size, seed=seed)
    rec = scratch(f"sqlite:///{db}", folder)
    t0 = time.perf_counter()
    from engine.core.kinds import KIND_OBJECTS

    kinds = [k for k in ("tags", "lookalike", "topics") if k in KIND_OBJECTS]
    report = rec.train(kinds=kinds, log=lambda m: None)
    if not report.ok:
        raise SystemExit(report.table())
    print(f"trained {', '.join(kinds)} on the {size} demo in {time.perf_counter() - t0:.1f}s")
    return rec, demo.load_truth(folder)


def majority_of_tags(tag_model, tag_topic: np.ndarray) -> np.ndarray:
    """Each creator's topic as the one most of its tag uses fall in (the alternative to
    the nearest centroid)."""
    out = np.full(len(tag_model.handles), NOISE, dtype=np.int64)
    k = int(tag_topic.max()) + 1 if len(tag_topic) and tag_topic.max() >= 0 else 0
    for b in range(len(tag_model.handles)):
        lo, hi = tag_model.bt_indptr[b], tag_model.bt_indptr[b + 1]
        topics = tag_topic[tag_model.bt_indices[lo:hi]]
        keep = topics >= 0
        if k and keep.any():
            out[b] = int(
                np.bincount(
                    topics[keep], weights=tag_model.bt_counts[lo:hi][keep], minlength=k
                ).argmax()
            )
    return out


def compare_methods(tag_model, truth: dict, seed: int) -> list[dict]:
    planted = len(truth["topic_tags"])
    handles, bvecs = tag_model.creator_vectors()
    usage = tag_uses(tag_model)
    base = TopicConfig()
    configs = [
        ("kmeans, k by silhouette", replace(base, method="kmeans")),
        ("agglomerative cosine, k by silhouette", replace(base, method="agglomerative")),
        ("hdbscan on PCA-10", replace(base, method="hdbscan", pca_dims=10)),
        ("hdbscan on PCA-5", replace(base, method="hdbscan", pca_dims=5)),
        ("hdbscan on t-SNE 2-D", replace(base, method="hdbscan", reduce="tsne")),
        ("baseline: kmeans told k=planted", replace(base, method="kmeans", k=planted)),
    ]
    rows = []
    for name, cfg in configs:
        t0 = time.perf_counter()
        model = fit(
            TagSpace(tag_model.tags, tag_model.vectors, usage, handles, bvecs), cfg, seed=seed
        )
        seconds = time.perf_counter() - t0
        score = score_against_truth(model.tags, model.tag_topic, truth["topic_tags"])
        rows.append(
            {
                "method": name,
                "topics": len(model.topics),
                "dropped": len(model.dropped),
                "ari": score["ari"],
                "purity": score["purity"],
                "coverage": score["coverage"],
                "silhouette": model.metrics["silhouette"],
                "creators_centroid": creator_accuracy(
                    handles, model.handle_topic, truth["influencer_topic"]
                ),
                "creators_tag_majority": creator_accuracy(
                    handles, majority_of_tags(tag_model, model.tag_topic), truth["influencer_topic"]
                ),
                "fit_s": round(seconds, 2),
            }
        )
    rng = np.random.default_rng(seed)
    random_tags = rng.integers(0, planted, size=len(tag_model.tags))
    score = score_against_truth(tag_model.tags, random_tags, truth["topic_tags"])
    rows.append(
        {
            "method": f"baseline: random labels, k={planted}",
            "topics": planted,
            "dropped": 0,
            "ari": score["ari"],
            "purity": score["purity"],
            "coverage": score["coverage"],
            "silhouette": "",
            "creators_centroid": creator_accuracy(
                handles, rng.integers(0, planted, size=len(handles)), truth["influencer_topic"]
            ),
            "creators_tag_majority": "",
            "fit_s": 0.0,
        }
    )
    return rows


def demo_map(rec, truth: dict, n: int) -> dict:
    """The map of the first food creator (sorted handles), through the facade."""
    tag_model = rec.model("tags")
    known = set(tag_model.handles)
    handle = sorted(h for h, t in truth["influencer_topic"].items() if t == "food" and h in known)[
        0
    ]
    t0 = time.perf_counter()
    png = rec.influencer_map(handle, n=n)
    seconds = time.perf_counter() - t0
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"map_{handle.replace('.', '_')}.png"
    path.write_bytes(png)
    from engine.topics.map_data import vectors_knowing

    handles, vectors, source = vectors_knowing(handle, rec._trained("lookalike", "tags"))
    from engine.topics.map import nearest_rows

    # Precision of the nearest creators: how many share the centre's planted topic, out of
    # as many as could (the small demo has only ~7 creators per topic).
    peers = sum(1 for h in handles if truth["influencer_topic"].get(h) == "food") - 1
    k = max(1, min(20, peers))
    rows, _ = nearest_rows(vectors, handles.index(handle), k)
    same = np.mean([truth["influencer_topic"].get(handles[i]) == "food" for i in rows[1:]])
    centre_topic = rec.model("topics").name(rec.model("topics").topic_of(handle))
    return {
        "handle": handle,
        "planted_topic": "food",
        "map_topic": centre_topic,
        "vectors": source,
        "neighbours": min(n, len(handles) - 1),
        "nearest_k": k,
        "nearest_k_same_planted_topic": round(float(same), 3),
        "render_s": round(seconds, 2),
        "png_kb": round(len(png) / 1024, 1),
        "file": str(path.relative_to(RESULTS.parent.parent)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small demo (150 creators)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    size = "small" if args.quick else "default"
    with tempfile.TemporaryDirectory() as tmp:
        rec, truth = trained_demo(size, args.seed, Path(tmp) / "bench_topics.db")
        tag_model = rec.model("tags")
        print(
            f"{len(tag_model.tags)} tags x {tag_model.vectors.shape[1]} dims "
            f"({tag_model.method}), {len(tag_model.handles)} creators, "
            f"{len(truth['topic_tags'])} planted topics"
        )
        rows = compare_methods(tag_model, truth, args.seed)
        print_table(f"Topic clustering on the {size} demo (planted topics as truth)", rows)
        shipped = rec.model("topics")
        print(
            "\nshipped topics ("
            + shipped.method
            + "): "
            + "; ".join(f"{t.name} [{t.creators}]" for t in shipped.topics)
        )
        map_row = demo_map(rec, truth, MAP_NEIGHBOURS)
        print_table("Influencer map", [map_row])
        rec.close()
    write_results(
        "topics_quick" if args.quick else "topics",
        {
            "size": size,
            "seed": args.seed,
            "methods": rows,
            "map": map_row,
            "shipped_topics": [t.name for t in shipped.topics],
        },
    )


if __name__ == "__main__":
    main()
