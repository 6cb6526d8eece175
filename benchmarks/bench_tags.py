"""Tags (TopicTensor) benchmark.

1. Related-tag quality (TopicTensor's metric on 10% held-out posts, seed 42) on HARRISON
   (../shared/data/harrison, 57k real Instagram posts) and on the demo data, on the
   same vocabulary, for every method in one run: Ochiai scores, the plain sparse PPMI
   cosine baseline (no SVD), PPMI-SVD, and (opt-in in the engine) skip-gram, CBOW and
   their blend; `shipped default` is what the default config ships, and its ratio to
   the sparse PPMI baseline is printed (issue 13: >= 1.05 on HARRISON).
2. Topic search on the demo data: precision@20 of creators from the planted topic for
   single-tag, multi-tag and negative-weight queries, against an exact-tag-count
   baseline, over a grid of λ, φ, τ (the defaults are the grid's best).
3. gensim training throughput (effective words/s) at ~60k and 1M posts, full training
   time on the demo, model load time and query latency.

    .venv/bin/python -m benchmarks.bench_tags [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import print_table, write_results
from engine.core.dataset import Dataset
from engine.core.evaluation import precision_at_k
from engine.core.settings import Settings
from engine.core.text import post_tags
from engine.demo.generate import demo_dir, generate, is_complete, load_truth
from engine.tags import model as tags_model
from engine.tags.embeddings import fit_sparse_ppmi, fit_word2vec, topic_quality
from engine.tags.model import TagModel, choose_embedding, split_posts
from engine.tags.prepare import TagConfig, clean_post_tags, prepare_sentences
from engine.tags.query import parse_topic

SEED = 42


# ------------------------------------------------------------------ data
def load_harrison(shared: Path) -> list[list[str]] | None:
    folder = shared / "data" / "harrison"
    tag_file = folder / "tag_list.txt"
    if not tag_file.is_file():
        return None
    lines = tag_file.read_text(encoding="utf-8").splitlines()
    data = (folder / "data_list.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(data), "tag_list.txt and data_list.txt must align line by line"
    return [line.split() for line in lines]


def load_demo(size: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    settings = Settings.from_env()
    d = demo_dir(settings.data_dir, size, SEED)
    if not is_complete(d):
        print(f"generating the {size} demo data set in {d} ...", flush=True)
        generate(d, size=size, seed=SEED)
    posts = pd.read_csv(d / "posts.csv", keep_default_na=False)
    posts["hashtags"] = [
        post_tags(c, h) for c, h in zip(posts.caption, posts.hashtags, strict=True)
    ]
    posts["likes"] = pd.to_numeric(posts["likes"])
    posts["comments"] = pd.to_numeric(posts["comments"])
    influencers = pd.read_csv(d / "influencers.csv", keep_default_na=False)
    return posts, influencers, load_truth(d)


# ------------------------------------------------------------------ 1. quality
def quality_rows(
    name: str, posts: list[list[str]], owners: list[str], cfg: TagConfig
) -> list[dict]:
    """Every method on the same split and vocabulary: the default config's fit (what
    ships), an opt-in Word2Vec fit for the other rows, and the sparse PPMI baseline."""
    t0 = time.perf_counter()
    _, shipped = choose_embedding(posts, owners, replace_cfg(cfg, refit=False), SEED)
    default_s = time.perf_counter() - t0
    _, report = choose_embedding(posts, owners, replace_cfg(cfg, refit=False, word2vec=True), SEED)
    train_i, test_i = split_posts(len(posts), cfg.holdout, SEED)
    sentences, _ = prepare_sentences(
        [posts[i] for i in train_i], [owners[i] for i in train_i], cfg, SEED
    )
    base = fit_sparse_ppmi(sentences, cfg.related_top)
    base_q = topic_quality(base, [posts[i] for i in test_i])["quality"]
    rows = [
        {
            "data": name,
            "method": m,
            "quality": q,
            "heldout_posts": report.heldout_posts,
            "fit_s": report.seconds.get(m, 0.0),
        }
        for m, q in report.quality.items()
    ]
    rows.append(
        {
            "data": name,
            "method": "ppmi_sparse (plain PPMI cosine, no SVD: baseline)",
            "quality": base_q,
            "heldout_posts": report.heldout_posts,
            "fit_s": base.seconds,
        }
    )
    ships = shipped.related if shipped.related != "vectors" else shipped.chosen
    rows.append(
        {
            "data": name,
            "method": f"shipped default (vectors {shipped.chosen}, related {ships})",
            "quality": shipped.shipped_quality,
            "heldout_posts": shipped.heldout_posts,
            "fit_s": default_s,
            "vs baseline": shipped.shipped_quality / base_q if base_q else float("nan"),
        }
    )
    return rows


def replace_cfg(cfg: TagConfig, **kw) -> TagConfig:
    from dataclasses import replace

    return replace(cfg, **kw)


# ------------------------------------------------------------------ 2. topic search
def topic_queries(truth: dict) -> list[tuple[str, str, str]]:
    """(kind, query, planted topic)."""
    out = []
    for topic, tags in truth["topic_tags"].items():
        tags = [t for t in tags if t not in truth["ambiguous_tags"]]
        out.append(("single", f"#{tags[0]}", topic))
        out.append(("multi", " ".join(f"#{t}" for t in tags[:3]), topic))
    out += [
        ("negative", "#apple #iphone:-1", "food"),
        ("negative", "#apple #macbook:-1 #iphone:-1", "food"),
        ("negative", "#jaguar #porsche:-1 #bmw:-1", "wildlife"),
        ("negative", "#jaguar #wildlife:-1", "cars"),
    ]
    return out


def tag_count_ranking(posts: pd.DataFrame, query: str, k: int) -> list[str]:
    """Baseline: creators by the weighted number of their posts carrying the query tags."""
    terms = dict(parse_topic(query).terms)
    score: dict[str, float] = {}
    for handle, tags in zip(posts["handle"], posts["hashtags"], strict=True):
        s = sum(terms.get(t, 0.0) for t in tags)
        if s:
            score[handle] = score.get(handle, 0.0) + s
    return [h for h, _ in sorted(score.items(), key=lambda kv: -kv[1])[:k]]


def precision_table(model: TagModel, truth: dict, queries, lam, phi, tau, k=20) -> dict[str, float]:
    topic_of = truth["influencer_topic"]
    by_kind: dict[str, list[float]] = {}
    for kind, q, topic in queries:
        relevant = [h for h, t in topic_of.items() if t == topic]
        vec, _, _ = model.resolve(q)
        scores = model.scores(vec, lam, phi, tau)
        top = [model.handles[i] for i in np.argsort(-scores, kind="stable")[:k]]
        by_kind.setdefault(kind, []).append(precision_at_k(top, relevant, k))
    return {kind: float(np.mean(v)) for kind, v in by_kind.items()}


def topic_search(model: TagModel, posts: pd.DataFrame, truth: dict, quick: bool):
    queries = topic_queries(truth)
    grid = [0.0, 0.5, 1.0] if quick else [0.0, 0.25, 0.5, 0.75, 1.0]
    results = []
    for lam, phi, tau in itertools.product(grid, grid, grid):
        p = precision_table(model, truth, queries, lam, phi, tau)
        results.append(((lam, phi, tau), p, float(np.mean(list(p.values())))))
    best = max(results, key=lambda r: (round(r[2], 6), -sum(r[0])))
    zero = next(r for r in results if r[0] == (0.0, 0.0, 0.0))
    topic_of = truth["influencer_topic"]
    base: dict[str, list[float]] = {}
    for kind, q, topic in queries:
        relevant = [h for h, t in topic_of.items() if t == topic]
        base.setdefault(kind, []).append(
            precision_at_k(tag_count_ranking(posts, q, 20), relevant, 20)
        )
    rows = []
    for kind in ("single", "multi", "negative"):
        rows.append(
            {
                "queries": kind,
                "n": sum(1 for q in queries if q[0] == kind),
                "tag-count baseline p@20": float(np.mean(base[kind])),
                "embedding λφτ=0 p@20": zero[1][kind],
                f"embedding λφτ={best[0]} p@20": best[1][kind],
            }
        )
    return rows, best, results


def negative_example(model: TagModel, truth: dict, lam, phi, tau) -> list[dict]:
    topic_of = truth["influencer_topic"]
    rows = []
    for q in ("#apple", "#apple #iphone:-1", "#apple #iphone"):
        answer = model.bloggers_for_topic(q, k=20, lam=lam, phi=phi, tau=tau)
        topics = [topic_of.get(r.id) for r in answer.results]
        tags = [r.label for r in model.related_tags(q, k=6).results]
        rows.append(
            {
                "query": q,
                "food share of top 20": topics.count("food") / 20,
                "tech share of top 20": topics.count("tech") / 20,
                "related tags": " ".join(tags),
            }
        )
    return rows


# ------------------------------------------------------------------ 3. speed
def throughput(sentences: list[list[str]], cfg: TagConfig, n_posts: int) -> list[dict]:
    rng = np.random.default_rng(SEED)
    pick = rng.integers(0, len(sentences), size=n_posts)
    corpus = [sentences[i] for i in pick]
    words = sum(len(s) for s in corpus)
    rows = []
    for sg in (True, False):
        emb = fit_word2vec(corpus, cfg, sg=sg, seed=SEED, epochs=1)
        rows.append(
            {
                "posts": n_posts,
                "words/epoch": words,
                "method": emb.method,
                "words/s": emb.words_per_sec,
                "epoch_s": emb.seconds,
            }
        )
    return rows


def latency(model: TagModel, queries, repeats: int) -> list[dict]:
    rows = []
    for name, call in (
        ("related_tags k=20", lambda q: model.related_tags(q, k=20)),
        ("bloggers_for_topic k=10", lambda q: model.bloggers_for_topic(q, k=10)),
    ):
        times = []
        for _ in range(repeats):
            for _, q, _ in queries:
                t0 = time.perf_counter()
                call(q)
                times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        rows.append(
            {
                "query": name,
                "n": len(times),
                "p50_ms": statistics.median(times),
                "p95_ms": times[int(0.95 * (len(times) - 1))],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small demo, 200k-post throughput")
    args = parser.parse_args()
    cfg = TagConfig()
    out: dict = {
        "quick": args.quick,
        "config": {
            "vector_size": cfg.vector_size,
            "epochs": cfg.epochs,
            "min_bloggers": cfg.min_bloggers,
            "favourite_cap": cfg.favourite_cap,
        },
    }
    shared = Settings.from_env().shared_dir

    # 1. quality -----------------------------------------------------------
    quality: list[dict] = []
    harrison = load_harrison(shared)
    if harrison is None:
        print(
            f"HARRISON NOT MEASURED: {shared}/data/harrison/tag_list.txt is missing "
            "(set SCOUT_SHARED_DIR to the shared data folder)"
        )
        out["harrison"] = "missing"
    else:
        if args.quick:
            harrison = harrison[:15000]
        # HARRISON has no blogger ids: each post is its own "blogger", so min_bloggers
        # means "used on at least N posts" and the favourite cap never applies.
        owners = [str(i) for i in range(len(harrison))]
        cleaned = [clean_post_tags(t, cfg.stop) for t in harrison]
        quality += quality_rows(f"HARRISON ({len(harrison)} posts)", cleaned, owners, cfg)

    size = "small" if args.quick else "default"
    posts, influencers, truth = load_demo(size)
    cleaned = [clean_post_tags(t, cfg.stop) for t in posts["hashtags"]]
    quality += quality_rows(
        f"demo {size} ({len(posts)} posts)", cleaned, posts["handle"].tolist(), cfg
    )
    print_table("1. Held-out quality (TopicTensor metric, 10% of posts, seed 42)", quality)
    out["quality"] = quality

    # full training as the pipeline does it (measure + refit), on the demo ---------
    t0 = time.perf_counter()
    model = tags_model.fit(Dataset(influencers, posts, pd.DataFrame()), cfg, seed=SEED)
    report = model.report
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    payload = model.to_bytes()
    TagModel.from_bytes(payload)
    load_s = time.perf_counter() - t0

    # 2. topic search ----------------------------------------------------------
    rows, best, grid = topic_search(model, posts, truth, args.quick)
    print_table(f"2. Topic search on demo {size}: precision@20 of planted-topic creators", rows)
    lam, phi, tau = best[0]
    neg = negative_example(model, truth, lam, phi, tau)
    print_table("Negative weight removes a sense (#apple: tech and food)", neg)
    out["topic_search"] = rows
    out["best_lam_phi_tau"] = best[0]
    out["grid"] = [{"lam_phi_tau": g[0], **g[1], "mean": g[2]} for g in grid]
    out["negative_example"] = neg

    # 3. speed -------------------------------------------------------------------
    sentences, _ = prepare_sentences(cleaned, posts["handle"].tolist(), cfg, SEED)
    speed = throughput(sentences, cfg, len(posts))
    speed += throughput(sentences, cfg, 200_000 if args.quick else 1_000_000)
    print_table("3. gensim training throughput (1 epoch, all cores)", speed)
    lat = latency(model, topic_queries(truth), 3 if args.quick else 10)
    lat.append(
        {"query": "model from_bytes", "n": 1, "p50_ms": load_s * 1000, "p95_ms": load_s * 1000}
    )
    print_table("Query latency", lat)
    summary = [
        {
            "demo posts": len(posts),
            "full train s (default config, measure + refit)": train_s,
            "shipped method": report.chosen,
            "payload MB": len(payload) / 1e6,
            "tags": len(model.tags),
            "creators": len(model.handles),
        }
    ]
    print_table("Training on the demo as the pipeline does it", summary)
    out.update(throughput=speed, latency=lat, training=summary)
    write_results("tags_quick" if args.quick else "tags", out)


if __name__ == "__main__":
    main()
