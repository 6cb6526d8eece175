"""Songs for reels (issue 6), five measurements, each against a baseline in the same run:

0. The product path (issue 28, results/songs_product.json): Last.fm usage imported as
   reels through the CSV importer, `engine train`, and the served `Recommender.songs_for`
   answers for 200 users whose held-out songs never reached the store, beside popularity
   and item/user-kNN fitted in the same run on the same training rows; then why ALS lost
   there (its input) and EASE on every song vs songs used by 2+ creators.
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

Run: python -m benchmarks.bench_songs [--quick] [--only product|lastfm|demo|niche|fit]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.report import print_table, write_results
from engine.core.evaluation import ranking_metrics
from engine.core.settings import Settings
from engine.songs.model import evaluate_methods, recommend_rows, usage_matrix
from engine.songs.recommenders import (
    DEFAULT_METHODS,
    SongRecommender,
    UsageMatrix,
    make_recommender,
    top_items,
)

K = 10
KNN = ("item_cosine", "user_cosine", "item_pearson", "user_pearson")


class EaseDual(SongRecommender):
    """EASE (Steck 2019) on log(1 + plays), lambda 2000 (issue-14 research, chosen on a
    validation split), fitted exactly in creator space (Woodbury): measured here, not
    shipped (its songs x songs weights do not scale to Scout's catalogue)."""

    name = "ease"

    def __init__(self, lam: float = 2000.0) -> None:
        self.lam = lam

    def fit(self, usage: UsageMatrix) -> EaseDual:
        import scipy.sparse as sp

        x = sp.csr_matrix(usage.uses, dtype=np.float64)
        x.data = np.log1p(x.data)
        gram = (x @ x.T).toarray()
        gram[np.diag_indices_from(gram)] += self.lam
        kinv_x = np.linalg.solve(gram, x.toarray())  # K^-1 X
        diag_p = (1.0 - np.asarray(x.multiply(kinv_x).sum(axis=0)).ravel()) / self.lam
        self._x, self._kinv_x, self._diag_p = x, kinv_x, np.maximum(diag_p, 1e-12)
        return self

    def scores(self, user_rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(user_rows)
        return (self._x[rows].toarray() - self._kinv_x[rows] / self._diag_p).astype(np.float32)


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


def bench_lastfm(shared: Path) -> dict:
    usage, config = lastfm_usage(shared)
    print(
        f"Last.fm 2K: {usage.shape[0]} users x {usage.shape[1]} artists, {usage.uses.nnz} plays rows"
    )
    rows = []
    evals = evaluate_methods(
        usage, DEFAULT_METHODS, config, fraction=0.2, seed=42, k=K, extra={"ease": EaseDual}
    )
    for e in evals:
        if e.ranking:
            rows.append({"method": e.method, **e.ranking, "fit_s": e.fit_seconds})
    by = {r["method"]: r[f"map@{K}"] for r in rows}
    pop = by["popularity"]
    best_knn = max(KNN, key=lambda m: by[m])
    shipped = max((m for m in by if m != "ease"), key=by.get)  # what `auto` picks
    for r in rows:
        r["x_popularity"] = r[f"map@{K}"] / pop
        r["x_best_knn"] = r[f"map@{K}"] / by[best_knn]
    print_table("Last.fm 2K, 20% of each user's artists held out (seed 42), @10", rows)
    print(
        f"\nshipped (auto) = {shipped}: MAP@10 {by[shipped]:.4f} = "
        f"{by[shipped] / by[best_knn]:.3f}x the best kNN ({best_knn} {by[best_knn]:.4f}), "
        f"{by[shipped] / by['ease']:.3f}x EASE ({by['ease']:.4f}), "
        f"{by[shipped] / pop:.2f}x popularity.\n"
        "The hybrid needs creators' content vectors (captions, hashtags), which Last.fm does "
        "not have; on it the hybrid would be its CF part (ALS). Its own rows are on the demo."
    )
    return {
        "rows": rows,
        "shipped": shipped,
        "best_knn": best_knn,
        "shipped_vs_best_knn": by[shipped] / by[best_knn],
        "shipped_vs_ease": by[shipped] / by["ease"],
        "config": config,
    }


# -------------------------------------------------------- the product path
PRODUCT_USERS = 200
PRODUCT_FOLLOWERS = 10_000
PRODUCT_DAYS = 60


def lastfm_reel_files(shared: Path, out: Path, seed: int = 42) -> dict:
    """Last.fm usage written as a customer's export: one reel per (user, artist) with
    likes growing with the play count (20·ln(1 + plays), so ER stays well under the 12%
    rule at 10k followers), dates over 60 days, no captions. For `PRODUCT_USERS` users
    (seed) 20% of their artists are held out before anything is written: those are the
    truth the served answers are scored against. Returns the held-out truth and the
    training rows (what popularity and item-kNN are fitted from)."""
    from engine.core.evaluation import holdout_mask

    path = shared / "data" / "lastfm-2k" / "user_artists.dat"
    if not path.exists():
        raise SystemExit(f"Last.fm 2K not found at {path}: the product path needs ../shared.")
    df = pd.read_csv(path, sep="\t").rename(columns={"weight": "plays"})
    df = df[df["userID"] % 2 == 0].reset_index(drop=True)  # the even users
    rng = np.random.default_rng(seed)
    sizes = df.groupby("userID").size()
    eligible = sizes.index[sizes >= 5].to_numpy()
    chosen = set(rng.choice(eligible, size=min(PRODUCT_USERS, eligible.size), replace=False))
    in_eval = df["userID"].isin(chosen).to_numpy()
    held = np.zeros(len(df), dtype=bool)
    held[in_eval] = holdout_mask(df.loc[in_eval, "userID"].to_numpy(), fraction=0.2, seed=seed)
    df["handle"] = "lfm_u" + df["userID"].astype(str)
    df["song_id"] = "lfm_" + df["artistID"].astype(str)
    train = df[~held].reset_index(drop=True)
    names = pd.read_csv(
        shared / "data" / "lastfm-2k" / "artists.dat", sep="\t", quoting=3, usecols=[0, 1]
    )
    names = dict(zip("lfm_" + names["id"].astype(str), names["name"].astype(str), strict=True))
    out.mkdir(parents=True, exist_ok=True)
    songs = sorted(df["song_id"].unique())
    pd.DataFrame(
        {"song_id": songs, "title": [names.get(s, s) for s in songs], "artist": ""}
    ).to_csv(out / "songs.csv", index=False)
    pd.DataFrame({"handle": sorted(df["handle"].unique()), "followers": PRODUCT_FOLLOWERS}).to_csv(
        out / "influencers.csv", index=False
    )
    day = rng.integers(0, PRODUCT_DAYS, len(train))
    pd.DataFrame(
        {
            "handle": train["handle"],
            "post_id": "r_" + train["handle"] + "_" + train["song_id"],
            "posted_at": (pd.Timestamp("2026-01-01") + pd.to_timedelta(day, "D")).strftime(
                "%Y-%m-%d"
            ),
            "song_id": train["song_id"],
            "likes": np.rint(20 * np.log1p(train["plays"])).astype(int),
            "comments": 0,
        }
    ).to_csv(out / "posts.csv", index=False)
    truth = df[held].groupby("handle")["song_id"].agg(set).to_dict()
    return {"truth": truth, "train": train, "reels": len(train), "held_out": int(held.sum())}


def _map_of(recs: dict[str, list[str]], truth: dict[str, set[str]]) -> dict[str, float]:
    return ranking_metrics(recs, truth, K).as_dict()


def baseline_answers(train: pd.DataFrame, handles: list[str], methods: tuple[str, ...]) -> dict:
    """Top-10 of plain recommenders fitted directly on the imported training rows
    (binary use: one reel per creator and song), used songs excluded."""
    train = train.assign(use_count=1, delta=0.0)
    usage = usage_matrix(train, weight_col=None)
    rows = np.array([int(np.flatnonzero(usage.users == h)[0]) for h in handles])
    out = {}
    for name in methods:
        rec = make_recommender(name).fit(usage)
        top = recommend_rows(rec, usage, rows, K)
        out[name] = {
            h: [str(usage.items[i]) for i in r if i >= 0] for h, r in zip(handles, top, strict=True)
        }
    return out


def product_ablation(usage: UsageMatrix, handles: list[str], truth: dict) -> list[dict]:
    """Why ALS lost on the product path and what fixed it, on the served model's own
    training rows and the same held-out users: the pre-issue-28 input (log(1 + uses) =
    0.69 for every one-reel entry, 128 factors, regularization 30, alpha 1), the new
    parameters without the engagement lift, and the shipped confidence; EASE on every
    song against EASE on songs used by 2+ creators (fit seconds, float32)."""
    from engine.songs.recommenders import EASE, ImplicitALS

    rows_of = np.array([int(np.flatnonzero(usage.users == h)[0]) for h in handles])
    old_input = usage.uses.astype(np.float32, copy=True)
    old_input.data = np.log1p(old_input.data)
    no_lift = UsageMatrix(usage.users, usage.items, usage.uses, usage.rating, usage.user_weight)
    old = dict(factors=128, regularization=30.0, alpha=1.0, iterations=30)
    variants = [
        ("ALS before: log(1+uses), 128 f, reg 30, alpha 1", lambda: ImplicitALS(**old), old_input),
        ("ALS: scale-free log(1+uses), old parameters", lambda: ImplicitALS(**old), no_lift),
        ("ALS: scale-free log(1+uses), 32 f, reg 10, alpha 5", ImplicitALS, no_lift),
        ("ALS shipped: x engagement lift, 32 f, reg 10, alpha 5", ImplicitALS, usage),
        ("EASE lambda 50, every song", lambda: EASE(min_creators=1), usage),
        ("EASE shipped: lambda 50, songs used by 2+", EASE, usage),
    ]
    out = []
    for label, make, data in variants:
        rec = make()
        started = time.perf_counter()
        if isinstance(data, UsageMatrix):
            rec.fit(data)
        else:
            rec.fit_confidence(data)
        fit_s = time.perf_counter() - started
        top = recommend_rows(rec, usage, rows_of, K)
        recs = {
            h: [str(usage.items[i]) for i in r if i >= 0] for h, r in zip(handles, top, strict=True)
        }
        m = _map_of(recs, truth)
        kept = getattr(rec, "_kept", None)
        out.append(
            {
                "variant": label,
                f"map@{K}": m[f"map@{K}"],
                "songs_fitted": int(kept.size) if kept is not None else usage.shape[1],
                "fit_s": fit_s,
            }
        )
    return out


def bench_product(shared: Path, config: dict | None = None, label: str = "now") -> dict:
    """Last.fm through the product path: CSV import -> `engine train` (songs) -> the
    served model's answers (`Recommender.songs_for`) for the held-out users, beside
    popularity and item/user-kNN fitted in the same run on the same training rows."""
    import tempfile

    from engine.bootstrap import scratch

    with tempfile.TemporaryDirectory(prefix="bench_songs_") as tmp:
        folder = Path(tmp)
        files = lastfm_reel_files(shared, folder)
        rec = scratch(f"sqlite:///{folder / 'scout.db'}", folder, kinds=PRODUCT_FILES)
        try:
            started = time.perf_counter()
            report = rec.train(kinds=["songs"], config={"songs": dict(config or {})})
            train_s = time.perf_counter() - started
            if not report.ok:
                raise SystemExit(report.table())
            handles = sorted(files["truth"])
            answers = {h: rec.songs_for(h, k=K) for h in handles}
            model = rec.model("songs")
            inside = dict(model.metrics)
        finally:
            rec.close()
    served = {h: [r.id for r in a.results] for h, a in answers.items()}
    truth = files["truth"]
    rows = [{"method": f"Scout served ({model.auto})", **_map_of(served, truth)}]
    base = baseline_answers(files["train"], handles, ("popularity", "item_cosine", "user_cosine"))
    rows += [{"method": f"{n} (direct)", **_map_of(r, truth)} for n, r in base.items()]
    by = {r["method"]: r[f"map@{K}"] for r in rows}
    knn, pop = by["item_cosine (direct)"], by["popularity (direct)"]
    for r in rows:
        r["x_item_knn"] = r[f"map@{K}"] / knn
        r["x_popularity"] = r[f"map@{K}"] / pop
    print_table(
        f"Product path ({label}): Last.fm even users imported as reels, "
        f"{len(handles)} users with 20% of their songs held out before import, @10",
        rows,
    )
    trained = sorted(
        (
            {"method": m.removesuffix(".map@10"), f"map@{K}": v}
            for m, v in inside.items()
            if m.endswith(".map@10") and not m.startswith("auto.")
        ),
        key=lambda r: -r[f"map@{K}"],
    )
    print_table(f"Inside `engine train` ({label}): the held-out split that chose auto", trained)
    notes = answers[handles[0]].notes
    print(f"train {train_s:.0f}s; auto = {model.auto}; a served answer's notes: {notes}")
    ablation = product_ablation(model.usage, handles, truth)
    knn_row = {"variant": "item_cosine (direct)", f"map@{K}": knn}
    for r in [*ablation, knn_row]:
        r["x_item_knn"] = r[f"map@{K}"] / knn
    print_table(
        f"Product path ({label}): ALS's input and EASE's catalogue, same rows and users",
        [*ablation, knn_row],
    )
    return {
        "label": label,
        "config": config or {},
        "rows": rows,
        "inside_train": trained,
        "auto": model.auto,
        "train_s": train_s,
        "reels": files["reels"],
        "held_out": files["held_out"],
        "served_vs_item_knn": by[rows[0]["method"]] / knn,
        "served_vs_popularity": by[rows[0]["method"]] / pop,
        "notes": notes,
        "ablation": ablation,
    }


PRODUCT_FILES = ("songs", "influencers", "posts")


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


# ------------------------------------------------------------ niche (demo)
def bench_niche(size: str, seed: int) -> dict:
    """The hybrid on the demo: (1) creators without reels: 20% of the creators with 3+
    songs lose all their reels from training; their suggestions' share of songs mostly
    used in their own topic (the topic of most training creators who used the song) and
    MAP@10 against their real songs, hybrid (niche only) vs popularity; (2) the whole
    song model as `train` fits it (20% of each creator's songs held out), shipped auto
    vs popularity MAP@10."""
    from engine.core.contract import TrainContext
    from engine.lookalike.kind import LOOKALIKE
    from engine.songs.kind import creator_content
    from engine.songs.model import creator_average_er, fit, usage_table
    from engine.songs.niche import HybridRecommender, NicheTable

    data, truth = demo_dataset(size, seed)
    if data is None:
        return {"skipped": "engine.demo.generate missing"}
    ctx = TrainContext(seed=seed)
    started = time.perf_counter()
    ctx.trained["lookalike"] = LOOKALIKE.train(data, ctx).model
    content = creator_content(ctx)
    print(
        f"\nlookalike vectors for {len(content[0])} creators ({time.perf_counter() - started:.0f}s)"
    )
    _, usage_df, _ = usage_table(data)
    usage = usage_matrix(usage_df)
    topic = truth["influencer_topic"]
    n_songs = np.diff(usage.uses.indptr)
    rng = np.random.default_rng(seed)
    eligible = np.flatnonzero(n_songs >= 3)
    cold = np.sort(rng.choice(eligible, size=len(eligible) // 5, replace=False))
    users = usage.entry_users()
    train = usage.select(~np.isin(users, cold))
    # the topic most of a song's training users belong to
    tr_users = train.entry_users()
    song_topic = (
        pd.DataFrame({"song": train.uses.indices, "t": [topic[h] for h in train.users[tr_users]]})
        .groupby("song")["t"]
        .agg(lambda t: t.value_counts().index[0])
    )
    table = NicheTable.build(content[0], content[1], train.users)
    hybrid = HybridRecommender(cf=None, table=table, creator_er=creator_average_er(usage, usage_df))
    hybrid._prepare(train)
    pop = make_recommender("popularity").fit(train)
    truth_sets = {int(u): set(usage.uses[u].indices.tolist()) for u in cold}
    out_rows = []
    for name in ("popularity", "hybrid (niche only)"):
        recs, shares = {}, []
        for u in cold:
            handle = str(usage.users[u])
            scores = (
                pop.scores(np.array([0])) if name == "popularity" else hybrid.cold_scores(handle)
            )
            top = [int(i) for i in top_items(scores, None, K)[0] if i >= 0]
            recs[int(u)] = top
            shares.append(np.mean([song_topic.get(i) == topic[handle] for i in top]))
        m = ranking_metrics(recs, truth_sets, K).as_dict()
        out_rows.append(
            {
                "method": name,
                "creators": len(cold),
                "own_topic_share": float(np.mean(shares)),
                f"map@{K}": m[f"map@{K}"],
                f"recall@{K}": m[f"recall@{K}"],
            }
        )
    base = out_rows[0]
    for r in out_rows:
        r["share_x_pop"] = r["own_topic_share"] / base["own_topic_share"]
        r["map_x_pop"] = r[f"map@{K}"] / base[f"map@{K}"]
    print_table(
        f"Demo {size}-{seed}: creators without reels (20% of those with 3+ songs)", out_rows
    )

    started = time.perf_counter()
    model = fit(data, {}, seed=42, content=content)
    evals = model.evaluations
    warm = [
        {"method": e.method, f"map@{K}": e.ranking[f"map@{K}"], "fit_s": e.fit_seconds}
        for e in evals
        if e.ranking
    ]
    pop_map = next(r for r in warm if r["method"] == "popularity")[f"map@{K}"]
    for r in warm:
        r["x_popularity"] = r[f"map@{K}"] / pop_map
    print_table(f"Demo {size}-{seed}: the song model as trained (20% of songs held out)", warm)
    auto_map = model.metrics[f"auto.map@{K}"]
    print(
        f"shipped auto = {model.auto}: MAP@10 {auto_map:.4f} = {auto_map / pop_map:.2f}x "
        f"popularity ({pop_map:.4f}); songs fit {time.perf_counter() - started:.0f}s"
    )
    return {
        "cold": out_rows,
        "warm": warm,
        "auto": model.auto,
        "auto_vs_popularity": auto_map / pop_map,
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
    parser.add_argument(
        "--only", choices=["product", "lastfm", "demo", "niche", "fit"], default=None
    )
    args = parser.parse_args()
    shared = Settings.from_env().shared_dir
    if args.only in (None, "product"):
        write_results("songs_product", bench_product(shared))
        if args.only == "product":
            return
    result: dict = {"quick": args.quick}
    if args.only in (None, "lastfm"):
        result["lastfm"] = bench_lastfm(shared)
    if args.only in (None, "demo"):
        result["demo"] = bench_demo("small" if args.quick else "default", 42)
    if args.only in (None, "niche"):
        result["niche"] = bench_niche("small" if args.quick else "default", 42)
    if args.only in (None, "fit"):
        result["fit_times"] = bench_fit_times(shared, args.quick)
    write_results("songs" + ("_quick" if args.quick else ""), result)


if __name__ == "__main__":
    main()
