"""The trust card's engine (engine.vet): each part on small real-ish frames (a store of
creators of one tier whose per-post likes scatter around the tier's ER), the classifier
on the real InstaFake accounts (../shared), and the card that combines them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine.core.contract import TrainContext
from engine.core.dataset import Dataset
from engine.core.errors import BadQuery, NotEnoughData, UnknownHandle
from engine.vet import vet
from engine.vet.engagement import HIDDEN, VIRAL, robust_engagement, tier_of
from engine.vet.followers import (
    FollowerConfig,
    audience_estimate,
    features,
    fit,
    read_accounts,
    sample_accounts,
    wilson,
)
from engine.vet.inflation import bought_engagement
from engine.vet.kind import VET
from engine.vet.safety import brand_safety
from engine.vet.sponsored import is_sponsored, sponsored_share

FOLLOWERS = 50_000  # the 20-100k tier


def store(creators: int = 12, posts: int = 10, seed: int = 0) -> Dataset:
    """Creators of one tier, each with an own ER (1-5%) and lognormal per-post likes,
    comments about 2% of likes: the shape of real accounts' posts."""
    rng = np.random.default_rng(seed)
    infl, rows = [], []
    for c in range(creators):
        handle = f"creator{c}"
        followers = int(FOLLOWERS * rng.uniform(0.6, 1.6))
        infl.append({"handle": handle, "followers": followers})
        er = rng.uniform(0.01, 0.05)
        for p in range(posts):
            likes = int(followers * er * rng.lognormal(0, 0.25))
            comments = max(1, int(likes * 0.02 * rng.lognormal(0, 0.25)))
            rows.append(
                {
                    "post_id": f"{handle}_{p}",
                    "handle": handle,
                    "posted_at": pd.Timestamp("2026-01-01") + pd.Timedelta(days=3 * p),
                    "caption": "morning run by the lake",
                    "likes": likes,
                    "comments": comments,
                    "hashtags": ["running"],
                }
            )
    return Dataset(pd.DataFrame(infl), pd.DataFrame(rows), pd.DataFrame())


def edit(data: Dataset, post_id: str, **values) -> None:
    idx = data.posts.index[data.posts["post_id"] == post_id]
    for col, value in values.items():
        data.posts.loc[idx, col] = value


def scale(data: Dataset, post_id: str, likes: float = 1.0, comments: float = 1.0) -> None:
    row = data.posts[data.posts["post_id"] == post_id].iloc[0]
    edit(data, post_id, likes=int(row.likes * likes), comments=int(row.comments * comments))


# ------------------------------------------------------------------ engagement
def test_tiers_follow_the_published_bounds():
    assert [tier_of(f) for f in (999, 1000, 4999, 19_999, 99_999, 999_999, 5e6)] == [
        "<1k", "1-5k", "1-5k", "5-20k", "20-100k", "100k-1M", ">1M",
    ]  # fmt: skip
    assert tier_of(None) is None


def test_a_viral_post_and_hidden_likes_do_not_move_the_robust_er():
    data = store()
    before = robust_engagement("creator3", data.posts, data.influencers)
    scale(data, "creator3_2", likes=20, comments=20)
    edit(data, "creator3_5", likes=3, comments=40)
    edit(data, "creator3_7", likes=0, comments=12)
    after = robust_engagement("creator3", data.posts, data.influencers)
    left = {lo.post_id: lo.reason for lo in after.left_out}
    assert left == {"creator3_2": VIRAL, "creator3_5": HIDDEN, "creator3_7": HIDDEN}
    assert after.posts_used == 7
    assert after.er == pytest.approx(before.er, rel=0.15)
    assert "left out: 2 hidden likes, 1 viral outlier" in after.reason


def test_the_percentile_ranks_the_creator_among_its_tier_with_the_outside_reference():
    data = store()
    ers = {
        h: robust_engagement(h, data.posts, data.influencers).er for h in data.influencers.handle
    }
    best, worst = max(ers, key=ers.get), min(ers, key=ers.get)
    top = robust_engagement(best, data.posts, data.influencers)
    bottom = robust_engagement(worst, data.posts, data.influencers)
    assert (top.tier, top.peers) == ("20-100k", 11)
    assert top.tier_percentile == 100.0 and bottom.tier_percentile == 0.0
    assert top.reference_er == 2.63 and "HypeAuditor 20-100k median 2.63%" in top.reason


# ------------------------------------------------------------ bought engagement
def test_likes_bought_on_three_posts_are_flagged_with_the_reason():
    data = store()
    for p in (1, 4, 8):
        scale(data, f"creator5_{p}", likes=8)
    report = bought_engagement("creator5", data.posts, data.influencers)
    assert sorted(report.flagged_posts) == ["creator5_1", "creator5_4", "creator5_8"]
    assert all("comments did not follow" in s.reason for s in report.spikes)


def test_a_legitimately_viral_post_is_not_flagged_and_says_why():
    data = store()
    scale(data, "creator6_3", likes=8, comments=8)
    report = bought_engagement("creator6", data.posts, data.influencers)
    assert report.flagged_posts == []
    (spike,) = report.spikes
    assert spike.post_id == "creator6_3" and not spike.inflated
    assert spike.reason.startswith("legitimate viral post") and "rising together" in spike.reason


def test_views_that_do_not_follow_flag_a_spike_whose_comments_did():
    data = store()
    data.posts["views"] = data.posts["likes"] * 10
    scale(data, "creator2_3", likes=8, comments=8)
    assert bought_engagement("creator2", data.posts, data.influencers).flagged_posts == [
        "creator2_3"
    ]
    edit(
        data,
        "creator2_3",
        views=int(data.posts.loc[data.posts.post_id == "creator2_3", "likes"].iloc[0] * 10),
    )
    report = bought_engagement("creator2", data.posts, data.influencers)
    assert report.flagged_posts == [] and "views" in report.spikes[0].reason


def test_a_like_to_comment_ratio_far_outside_the_tier_is_an_anomaly():
    data = store()
    mask = data.posts.handle == "creator7"
    data.posts.loc[mask, "comments"] = 1  # every post: thousands of likes, one comment
    report = bought_engagement("creator7", data.posts, data.influencers)
    assert report.ratio_anomaly.startswith("anomaly:") and "20-100k" in report.ratio_anomaly
    assert bought_engagement("creator8", data.posts, data.influencers).ratio_anomaly == ""


def test_follower_jumps_no_post_explains_are_flagged_and_a_viral_post_explains_one():
    data = store()
    days = pd.date_range("2026-01-01", periods=30, freq="D")
    followers = 50_000 + 40 * np.arange(30)
    followers[20:] += 15_000  # a jump on day 20
    history = pd.DataFrame({"handle": "creator1", "day": days, "followers": followers})
    (jump,) = bought_engagement("creator1", data.posts, data.influencers, history).follower_jumps
    assert not jump.explained and jump.day == "2026-01-21" and "no post explains" in jump.reason
    edit(data, "creator1_6", posted_at=pd.Timestamp("2026-01-20"))
    scale(data, "creator1_6", likes=8, comments=8)
    report = bought_engagement("creator1", data.posts, data.influencers, history)
    assert report.follower_jumps[0].explained and report.unexplained_jumps == []
    assert "followers followed" in report.spikes[0].reason


def test_no_history_means_no_follower_signal():
    data = store()
    assert bought_engagement("creator1", data.posts, data.influencers, None).follower_jumps == []


# ------------------------------------------------------- sponsored and safety
def test_disclosures_in_several_languages_count_as_sponsored():
    assert is_sponsored("Neue Schuhe #Anzeige")
    assert is_sponsored("Paid partnership with @brand — love it")
    assert is_sponsored("", ["werbung"])
    assert is_sponsored("promo #publi") and is_sponsored("#reklama") and is_sponsored("#spon")
    assert not is_sponsored("adorable puppy #adventure #pubquiz")


def test_sponsored_share_and_engagement_against_organic():
    data = store()
    own = data.posts[data.posts.handle == "creator0"].copy()
    own.loc[own.index[:3], "caption"] = "new drop #ad"
    own.loc[own.index[:3], "likes"] = 10
    report = sponsored_share(own, 50_000)
    assert report.share == pytest.approx(0.3) and len(report.sponsored_posts) == 3
    assert report.sponsored_er < report.organic_er
    assert "3 of 10 posts sponsored (30%)" in report.reason


def test_brand_safety_names_each_category_with_its_posts_and_a_workspace_extends_it():
    data = store()
    own = data.posts[data.posts.handle == "creator0"].copy()
    own.loc[own.index[0], "caption"] = "Friday: poker night and tequila shots"
    own.loc[own.index[1], "hashtags"] = ["casino", "fun"]
    own.loc[own.index[2], "caption"] = "Ran past the Glühwein stand"
    report = brand_safety(own)
    assert report.to_json() == {
        "alcohol": {"posts": ["creator0_0"], "words": ["shots", "tequila"]},
        "gambling": {"posts": ["creator0_0", "creator0_1"], "words": ["casino", "poker"]},
    }
    extended = brand_safety(own, {"alcohol": ["Glühwein"], "competitors": ["nike"]})
    assert extended.to_json()["alcohol"]["posts"] == ["creator0_0", "creator0_2"]
    assert brand_safety(own.iloc[3:]).safe


# ------------------------------------------------------------------- the card
def test_without_a_follower_sample_the_audience_is_none_and_the_score_still_adds_up():
    data = store()
    card = vet(data, "creator4")
    details = card.to_details()
    assert card.audience is None and details["audience_real_share"] is None
    audience = next(p for p in card.parts if p.name == "audience")
    assert (
        audience.value is None and audience.weight == 0 and "no follower sample" in audience.reason
    )
    assert sum(p.weight for p in card.parts) == pytest.approx(1.0)
    assert card.score == pytest.approx(sum(p.contribution for p in card.parts))
    assert 0 <= card.score <= 100 and card.confidence <= 0.75
    assert set(details) >= {
        "engagement_rate", "tier_percentile", "flagged_posts", "sponsored_share", "brand_safety",
        "parts",
    }  # fmt: skip
    assert card.to_result()["id"] == "creator4" and "no follower sample" in card.to_result()["why"]


def test_inflated_posts_cost_quality_that_a_viral_post_does_not():
    data = store()
    clean = vet(data, "creator9").score
    scale(data, "creator9_5", likes=8, comments=8)
    viral = vet(data, "creator9")
    for p in (1, 4, 8):
        scale(data, f"creator10_{p}", likes=8)
    bought = vet(data, "creator10")
    assert viral.to_details()["flagged_posts"] == []
    assert sorted(bought.to_details()["flagged_posts"]) == [
        "creator10_1",
        "creator10_4",
        "creator10_8",
    ]
    authenticity = {
        c.handle: next(p for p in c.parts if p.name == "authenticity") for c in (viral, bought)
    }
    assert authenticity["creator9"].value == 100 and authenticity["creator10"].value < 20
    assert viral.score == pytest.approx(clean, abs=10)


def test_an_unknown_handle_is_a_one_line_error():
    with pytest.raises(UnknownHandle, match="creator1"):
        vet(store(), "creator1x")


# ------------------------------------------------- the classifier (../shared)
@pytest.fixture(scope="module")
def accounts(shared_dir) -> pd.DataFrame:
    return read_accounts(str(shared_dir / "data" / "instafake" / "accounts.csv"))


@pytest.fixture(scope="module")
def classifier(accounts):
    return fit(accounts, FollowerConfig(), seed=42)


@pytest.mark.shared
def test_the_classifier_is_measured_on_held_out_accounts_beside_a_logistic_regression(
    accounts, classifier
):
    m = classifier.metrics
    assert m["heldout_accounts"] == 209 and m["train_accounts"] == 627
    assert m["accuracy"] >= 0.93 and m["auc"] >= 0.97
    assert m["logreg_accuracy"] >= 0.85 and 0.5 < m["logreg_auc"] <= 1
    assert m["paper_accuracy"] == 0.96


@pytest.mark.shared
def test_the_forest_as_arrays_scores_exactly_like_scikit_learn(accounts, classifier):
    from sklearn.ensemble import RandomForestClassifier

    x, y = features(accounts), accounts["is_fake"].to_numpy()
    train = np.setdiff1d(np.arange(len(y)), classifier.heldout)
    forest = RandomForestClassifier(n_estimators=200, random_state=42).fit(x[train], y[train])
    np.testing.assert_allclose(classifier.fake_probability(x), forest.predict_proba(x)[:, 1])


@pytest.mark.shared
def test_a_sample_with_a_known_fake_share_is_estimated_within_its_interval(accounts, classifier):
    held = accounts.iloc[classifier.heldout]
    rng = np.random.default_rng(3)
    real = held[held.is_fake == 0].sample(60, random_state=1)
    fake = held[held.is_fake == 1].sample(30, random_state=1)  # one third fake
    rows = pd.concat([real, fake]).iloc[rng.permutation(90)]
    sample = rows.assign(
        handle="creator0",
        follower=[
            "u" + "7" * int(d) + "x" * max(0, int(n) - int(d) - 1)
            for d, n in zip(rows.username_digits, rows.username_length, strict=True)
        ],
    )
    est = audience_estimate(classifier, sample, "creator0")
    assert est.sampled == 90 and est.corrected
    assert abs(est.real_share - 2 / 3) < 0.12 and est.low <= est.real_share <= est.high
    assert est.reason.startswith(f"≈ {est.real_share:.0%} real (90 sampled, ± ")
    card = vet(store(), "creator0", sample=sample, classifier=classifier)
    assert json.loads(json.dumps(card.to_details()))["audience"]["sampled"] == 90
    assert card.to_details()["audience_real_share"] == pytest.approx(est.real_share, abs=1e-4)
    assert card.confidence > vet(store(), "creator0").confidence
    assert audience_estimate(classifier, sample, "nobody") is None


def test_a_sample_without_the_needed_columns_is_refused_in_one_line():
    with pytest.raises(BadQuery) as err:
        sample_accounts(pd.DataFrame({"handle": ["a"], "follower": ["b"]}))
    assert "\n" not in str(err.value) and "followers" in str(err.value)
    bio = sample_accounts(
        pd.DataFrame(
            {"handle": ["a"], "follower": ["bo99"], "followers": [1], "following": [2],
             "posts": [0], "has_profile_pic": [1], "is_private": [0], "bio": ["hello"]}
        )
    )  # fmt: skip
    assert bio.iloc[0][["bio_length", "username_length", "username_digits"]].tolist() == [5, 4, 2]


def test_the_wilson_interval_holds_its_proportion():
    low, high = wilson(0.8, 400)
    assert low < 0.8 < high and (high - low) / 2 == pytest.approx(0.039, abs=0.002)


@pytest.mark.shared
def test_the_kind_trains_gated_on_held_out_auc_and_is_skipped_without_its_file(
    shared_dir, tmp_path
):
    path = shared_dir / "data" / "instafake" / "accounts.csv"
    result = VET.train(Dataset.empty(), TrainContext(config={"accounts": str(path)}))
    assert result.quality_metric == "auc" and result.metrics["auc"] >= 0.97
    assert "paper 96%" in result.summary
    with pytest.raises(NotEnoughData, match="no labelled follower accounts"):
        VET.train(Dataset.empty(), TrainContext(config={"accounts": str(tmp_path / "none.csv")}))
