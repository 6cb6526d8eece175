"""The engagement rate Scout shows against each creator's median post (issue 24), before
and after the robust formula, in one run on ../shared/data/instagram-600.

posts.csv has no likes: benchmarks.bench_vet.real_accounts builds them from the raw
export's like buckets (followers x the bucket's median likes-per-follower x
lognormal(0, 0.15); comments Poisson around 1.5% of likes) -- the same assumption as the
trust card's benchmark. Every creator has at most 12 posts, so the recent window holds
them all.

- "before": the old formula, kept here only: mean (likes + comments) over every post /
  followers (what the lookalike and tags models stored and the `er:` filter read).
- "after": what Scout shows now, engine.lookalike.model.creator_stats (the robust
  engine.core.engagement.creator_engagement the models store).
- reference: the ER of the creator's median post (median per-post ER, all its posts).

Two data sets: the export as built, and the same with the issue's two failures planted
(seed 42): one post of 10% of creators (>= 3 posts) made viral (likes and comments x100),
and every like of 5% of creators with >= 10k followers written as 3 (a scraper's hidden
likes); a planted creator's reference stays its median post before planting. Reported
per formula: median |shown - reference| in ER points, the share of creators whose shown
ER is more than 2x off (or under half) the reference, and how many are shown unknown."""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.bench_vet import real_accounts
from benchmarks.report import print_table, write_results
from engine.core.dataset import Dataset
from engine.core.engagement import engagement_rate
from engine.core.settings import Settings
from engine.lookalike.model import creator_stats

VIRAL_SHARE, VIRAL_X = 0.10, 100
HIDDEN_SHARE = 0.05


def old_er(data: Dataset, handles: list[str]) -> np.ndarray:
    """The formula before issue 24 (a copy, for the comparison only): mean likes +
    comments over every post, per follower."""
    posts = data.posts
    mean = (posts["likes"].astype(float) + posts["comments"].astype(float)).groupby(posts["handle"])
    followers = data.influencers.set_index("handle")["followers"].astype(float)
    return engagement_rate(
        mean.mean().reindex(handles).to_numpy(), 0.0, followers.reindex(handles).to_numpy()
    )


def median_post_er(data: Dataset, handles: list[str]) -> np.ndarray:
    posts = data.posts
    followers = posts["handle"].map(data.influencers.set_index("handle")["followers"])
    per_post = engagement_rate(posts["likes"], posts["comments"], followers.astype(float))
    return per_post.groupby(posts["handle"]).median().reindex(handles).to_numpy()


def plant(data: Dataset, seed: int) -> tuple[Dataset, dict[str, int], set[str]]:
    """The issue's failures on a copy: viral posts on some creators, hidden likes on others."""
    rng = np.random.default_rng(seed)
    posts = data.posts.copy()
    followers = data.influencers.set_index("handle")["followers"]
    sizes = posts.groupby("handle").size()
    eligible = sizes.index[sizes >= 3].to_numpy()
    viral = rng.choice(eligible, size=int(VIRAL_SHARE * len(eligible)), replace=False)
    for h in viral:
        i = rng.choice(posts.index[posts["handle"] == h])
        posts.loc[i, ["likes", "comments"]] *= VIRAL_X
    big = np.setdiff1d(followers.index[followers >= 10_000].to_numpy(), viral)
    hidden = rng.choice(big, size=int(HIDDEN_SHARE * len(big)), replace=False)
    posts.loc[posts["handle"].isin(hidden), "likes"] = 3
    planted = Dataset(data.influencers, posts, data.songs)
    return planted, {"viral_creators": len(viral), "hidden_creators": len(hidden)}, set(hidden)


def figures(shown: np.ndarray, reference: np.ndarray, hidden: np.ndarray) -> dict:
    known = np.isfinite(shown) & np.isfinite(reference) & (reference > 0)
    ratio = shown[known] / reference[known]
    return {
        "creators": int(np.isfinite(reference).sum()),
        "median_reference_er": round(float(np.nanmedian(reference)), 4),
        "median_abs_error_points": round(float(np.median(np.abs(shown - reference)[known])), 4),
        "share_over_2x_off": round(float(np.mean((ratio > 2) | (ratio < 0.5))), 4),
        "shown_unknown": int((~np.isfinite(shown) & np.isfinite(reference)).sum()),
        "hidden_shown_unknown": int((~np.isfinite(shown) & hidden).sum()),
        "hidden_shown_as_a_number": int((np.isfinite(shown) & hidden).sum()),
    }


def measure(name: str, data: Dataset, reference_data: Dataset, hidden: set[str]) -> list[dict]:
    handles = sorted(data.posts["handle"].unique())
    reference = median_post_er(reference_data, handles)
    is_hidden = np.array([h in hidden for h in handles])
    shown_by = Dataset(data.influencers.assign(language=""), data.posts, data.songs)
    _, after, _, _ = creator_stats(shown_by, handles)
    rows = []
    for formula, shown in (("before: mean of all posts", old_er(data, handles)), ("after", after)):
        rows.append({"data": name, "formula": formula, **figures(shown, reference, is_hidden)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(same run: it takes seconds)")
    parser.parse_args()
    shared = Settings.from_env().shared_dir
    data = real_accounts(shared, seed=42)
    planted, counts, hidden = plant(data, seed=42)
    rows = measure("instagram-600 as built", data, data, set())
    rows += measure("instagram-600, failures planted", planted, data, hidden)
    print_table("shown ER vs the creator's median post (ER points)", rows)
    write_results(
        "engagement",
        {
            "rows": rows,
            "planted": {
                **counts,
                "viral_x": VIRAL_X,
                "viral_share": VIRAL_SHARE,
                "hidden_share": HIDDEN_SHARE,
            },
            "assumptions": {
                "likes": "followers x median(moving_avg/followers) of the post's like bucket"
                " x lognormal(0, 0.15) (benchmarks.bench_vet.real_accounts, seed 42)",
                "comments": "Poisson(likes x account rate), rate 1.5% x lognormal(0, 0.5)",
                "reference": "median per-post ER over all of the creator's posts (<= 12)",
            },
        },
    )


if __name__ == "__main__":
    main()
