"""Songs for reels (issue 6), four measurements, each against a baseline in the same run:

1. Last.fm 2K (users = creators, artists = songs, plays = usage; 20% of each user's
   artists held out, seed 42): precision/recall/MAP/NDCG@10 of every recommender
   against popularity. Last.fm has no followers and no Delta, so the celebrity and
   performing recommenders use stand-ins: a user's total plays for followers (top 20% =
   "celebrities") and log plays minus the user's mean log plays for Delta (> 1 =
   "performing"). An implicit-feedback ALS row is added when the `implicit` package is
   importable (it is not a dependency; see the note it prints).
2. RMSE of the predicted Delta on held-out (creator, song) rows of the demo data for
   user-CF, item-CF and SVD, next to predict-the-mean.
3. Trending on the demo data: precision@10 against the planted truly-trending songs,
   next to "most reels in the last window".
4. Fit time of every method at the Last.fm size and on a synthetic 100k creators x 20k
   songs usage matrix (`--quick`: 20k x 5k), plus query time per creator.

Run: python -m benchmarks.bench_songs [--quick]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import print_table, write_results
from engine.core.evaluation import holdout_mask, ranking_metrics
from engine.core.settings import Settings
from engine.songs.model import evaluate_methods, recommend_rows, usage_matrix
from engine.songs.recommenders import DEFAULT_METHODS, UsageMatrix, make_recommender, top_items

K = 10


# ------------------------------------------------------------------- Last.fm
def lastfm_usage(shared: Path) -> tuple[UsageMatrix, dict]:
    path = shared / "data" / "lastfm-2k" / "user_artists.dat"
    if not path.exists():
        raise SystemExit(
            f"Last.fm 2K not found at {path}: the Last.fm part needs ../shared "
            "(set SCOUT_SHARED_DIR to the shared folder)."
        )
    df = pd.read_csv(path, sep="\t")
    logp = np.log1p(df["weight"])
    df["delta"] = logp - logp.groupby(df["userID"]).transform("mean")
    df["followers"] = df.groupby("userID")["weight"].transform("sum")
    config = {
        "celebrity_followers": float(np.quantile(df.groupby("userID")["followers"].first(), 0.8)),
        "performing_delta": 1.0,
    }
    return usage_matrix(df, "userID", "artistID", "weight", "delta", "followers"), config


def als_row(usage: UsageMatrix, seed: int = 42) -> dict | None:
    """implicit's ALS on the same split, if the package is importable."""
    try:
        from implicit.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    users = usage.entry_users()
    test = holdout_mask(users, fraction=0.2, seed=seed)
    train = usage.select(~test)
    truth: dict[int, set[int]] = {}
    for u, i in zip(users[test].tolist(), usage.uses.indices[test].tolist(), strict=True):
        truth.setdefault(u, set()).add(i)
    rows = np.array(sorted(truth))
    best = None
    for factors, alpha in ((64, 20.0), (64, 40.0), (32, 40.0)):
        model = AlternatingLeastSquares(
            factors=factors, regularization=0.1, iterations=15, random_state=seed
        )
        started = time.perf_counter()
        with threadpool_limits(1, "blas"):
            model.fit((train.binary() * alpha).astype(np.float32).tocsr(), show_progress=False)
        fit_s = time.perf_counter() - started
        scores = model.user_factors[rows] @ model.item_factors.T
        top = top_items(scores, train.binary()[rows], K)
        recs = {int(u): [int(i) for i in t] for u, t in zip(rows, top, strict=True)}
        m = ranking_metrics(recs, truth, K).as_dict()
        row = {"method": f"als(implicit, f={factors}, a={alpha:g})", **m, "fit_s": fit_s}
        if best is None or row[f"map@{K}"] > best[f"map@{K}"]:
            best = row
    return best


def bench_lastfm(shared: Path) -> dict:
    usage, config = lastfm_usage(shared)
    print(
        f"Last.fm 2K: {usage.shape[0]} users x {usage.shape[1]} artists, {usage.uses.nnz} plays rows"
    )
    rows = []
    for e in evaluate_methods(usage, DEFAULT_METHODS, config, fraction=0.2, seed=42, k=K):
        if e.ranking:
            rows.append({"method": e.method, **e.ranking, "fit_s": e.fit_seconds})
    als = als_row(usage)
    if als is not None:
        rows.append(als)
    pop = next(r for r in rows if r["method"] == "popularity")[f"map@{K}"]
    ours = [r for r in rows if not r["method"].startswith("als")]
    auto = max(ours, key=lambda r: r[f"map@{K}"])
    for r in rows:
        r["map_vs_popularity"] = r[f"map@{K}"] / pop if pop else float("nan")
    print_table("Last.fm 2K, 20% of each user's artists held out (seed 42), @10", rows)
    print(
        f"\nauto would ship {auto['method']}: MAP@10 {auto[f'map@{K}']:.4f} = "
        f"{auto['map_vs_popularity']:.2f}x popularity ({pop:.4f})"
    )
    if als is None:
        print("ALS: the `implicit` package is not installed here, so no ALS row.")
    return {
        "rows": rows,
        "auto": auto["method"],
        "auto_vs_popularity": auto["map_vs_popularity"],
        "config": config,
    }


# ---------------------------------------------------------------------- demo
def demo_dataset(size: str, seed: int):
    """The demo data set (engine.demo.generate), generated under data/demo/ if not there yet,
    read from its CSVs the way the import normalises them (tags: engine.core.text)."""
    try:
        from engine.demo import generate as demo
    except ImportError:
        return None, None
    from engine.core.dataset import Dataset
    from engine.core.text import post_tags

    folder = demo.demo_dir(Settings.from_env().data_dir, size, seed)
    if not demo.is_complete(folder):
        demo.generate(folder, size=size, seed=seed)
    posts = pd.read_csv(folder / "posts.csv", dtype={"song_id": str, "post_id": str})
    posts["posted_at"] = pd.to_datetime(posts["posted_at"])
    posts["hashtags"] = [
        post_tags(c if isinstance(c, str) else None, h if isinstance(h, str) else None)
        for c, h in zip(posts["caption"], posts["hashtags"], strict=True)
    ]
    posts["song_id"] = posts["song_id"].where(posts["song_id"].notna(), None)
    data = Dataset(
        pd.read_csv(folder / "influencers.csv"),
        posts,
        pd.read_csv(folder / "songs.csv", dtype={"song_id": str}),
    )
    return data, demo.load_truth(folder)


def bench_demo(size: str, seed: int) -> dict:
    from engine.songs.model import usage_table
    from engine.songs.trending import TrendingIndex

    data, truth = demo_dataset(size, seed)
    if data is None:
        print("\nDemo parts skipped: engine.demo.generate is not available in this checkout.")
        return {"skipped": "engine.demo.generate missing"}
    reels, usage_df, report = usage_table(data)
    print("\ndemo cleaning: " + "; ".join(report.lines()))
    usage = usage_matrix(usage_df)
    rows = []
    for e in evaluate_methods(
        usage,
        ("user_cosine", "user_pearson", "item_cosine", "item_pearson", "svd"),
        {"svd_k": 16},
        seed=42,
        k=K,
    ):
        if e.rmse is not None:
            rows.append(
                {
                    "method": e.method,
                    "rmse_delta": e.rmse,
                    f"map@{K}": e.ranking.get(f"map@{K}", ""),
                }
            )
    print_table(
        f"Demo {size}-{seed}: RMSE of Delta (pp) on 20% held-out (creator, song) rows", rows
    )

    planted = set(map(str, truth.get("trending_songs", [])))
    idx = TrendingIndex.build(reels)
    ours = [t.song_id for t in idx.rank(7)][:K]
    now_u, _ = idx._window(0, 7)
    by_count = [str(idx.song_ids[i]) for i in np.argsort(-now_u, kind="stable")[:K]]
    trend_rows = [
        {
            "method": "trending (share growth + Delta rise)",
            f"precision@{K}": len(set(ours) & planted) / K,
        },
        {
            "method": "baseline: most reels in the last 7 days",
            f"precision@{K}": len(set(by_count) & planted) / K,
        },
    ]
    print_table(
        f"Demo trending, as of {idx.as_of}, {len(planted)} planted trending songs", trend_rows
    )
    return {
        "cleaning": report.lines(),
        "rmse": rows,
        "trending": trend_rows,
        "planted": sorted(planted),
        "ours": ours,
    }


# ----------------------------------------------------------------- fit times
def synthetic_usage(n_users: int, n_items: int, per_user: int = 20, seed: int = 0) -> UsageMatrix:
    """Clustered, Zipf-popular usage: each creator takes ~70% of their songs from one of
    50 taste clusters and the rest from the whole catalogue, popular songs more often.
    Sampled in bulk (with replacement, then de-duplicated) and built sparse."""
    rng = np.random.default_rng(seed)
    clusters = 50
    item_cluster = rng.integers(0, clusters, n_items)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    rng.shuffle(pop)
    user_cluster = rng.integers(0, clusters, n_users)
    counts = rng.poisson(per_user, n_users).clip(2, None)
    n_own = (counts * 0.7).astype(int)
    users, items = [], []
    for c in range(clusters):
        members = np.flatnonzero(item_cluster == c)
        in_c = np.flatnonzero(user_cluster == c)
        take = n_own[in_c]
        users.append(np.repeat(in_c, take))
        items.append(rng.choice(members, size=int(take.sum()), p=pop[members] / pop[members].sum()))
    rest = counts - n_own
    users.append(np.repeat(np.arange(n_users), rest))
    items.append(rng.choice(n_items, size=int(rest.sum()), p=pop / pop.sum()))
    pairs = np.unique(np.c_[np.concatenate(users), np.concatenate(items)], axis=0)
    r, c = pairs[:, 0], pairs[:, 1]
    return UsageMatrix.from_triples(
        np.array([f"u{i}" for i in range(n_users)]),
        np.array([f"s{i}" for i in range(n_items)]),
        r,
        c,
        np.ones(r.size),
        rng.normal(0, 2, r.size),
        rng.lognormal(10, 1.5, n_users),
    )


def time_methods(usage: UsageMatrix, label: str, config: dict | None = None) -> list[dict]:
    out = []
    probe = np.random.default_rng(1).choice(
        usage.shape[0], size=min(100, usage.shape[0]), replace=False
    )
    for name in DEFAULT_METHODS:
        rec = make_recommender(name, config)
        started = time.perf_counter()
        rec.fit(usage)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        recommend_rows(rec, usage, probe, K, batch=1)
        query_ms = (time.perf_counter() - started) / len(probe) * 1000
        out.append(
            {"data": label, "method": name, "fit_s": fit_s, "query_ms_per_creator": query_ms}
        )
        print(f"  {label} {name}: fit {fit_s:.2f}s, query {query_ms:.1f} ms", flush=True)
    return out


def bench_fit_times(shared: Path, quick: bool) -> list[dict]:
    rows = []
    if (shared / "data" / "lastfm-2k" / "user_artists.dat").exists():
        usage, config = lastfm_usage(shared)
        rows += time_methods(usage, f"Last.fm {usage.shape[0]}x{usage.shape[1]}", config)
    n_users, n_items = (20_000, 5_000) if quick else (100_000, 20_000)
    started = time.perf_counter()
    usage = synthetic_usage(n_users, n_items)
    print(
        f"synthetic {n_users}x{n_items}: {usage.uses.nnz} uses, built in {time.perf_counter() - started:.1f}s"
    )
    rows += time_methods(usage, f"synthetic {n_users}x{n_items} ({usage.uses.nnz} uses)")
    print_table("Fit time and query time per creator (top-10, used songs excluded)", rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller synthetic matrix and demo")
    parser.add_argument("--only", choices=["lastfm", "demo", "fit"], default=None)
    args = parser.parse_args()
    shared = Settings.from_env().shared_dir
    result: dict = {"quick": args.quick}
    if args.only in (None, "lastfm"):
        result["lastfm"] = bench_lastfm(shared)
    if args.only in (None, "demo"):
        result["demo"] = bench_demo("small" if args.quick else "default", 42)
    if args.only in (None, "fit"):
        result["fit_times"] = bench_fit_times(shared, args.quick)
    write_results("songs" + ("_quick" if args.quick else ""), result)


if __name__ == "__main__":
    main()
