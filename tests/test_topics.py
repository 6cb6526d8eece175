"""Fixed topics on synthetic clustered tag vectors: planted clusters are recovered,
spam and tiny clusters dropped, names come from common central tags, creators get the
right topic, and the payload round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from engine.topics.model import (
    NOISE,
    TagSpace,
    TopicConfig,
    TopicModel,
    creator_accuracy,
    fit,
    score_against_truth,
)


def planted(n_topics: int = 6, per_topic: int = 12, d: int = 32, noise: float = 0.6, seed: int = 0):
    """Tags around `n_topics` random directions, plus a spam cluster of blacklisted tags
    and two lone tags; creators are noisy sums of one topic's tags."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_topics + 1, d))
    tags, vecs, usage, truth = [], [], [], {}
    for t in range(n_topics):
        names = [f"t{t}tag{i}" for i in range(per_topic)]
        truth[f"topic{t}"] = names
        for i, name in enumerate(names):
            tags.append(name)
            # Popular tags sit near the topic's centre (they co-occur with everything in it).
            vecs.append(centres[t] + noise * (0.5 + i / per_topic) * rng.normal(size=d))
            usage.append(200 // (i + 1))  # Zipf: tag 0 is the most used
    for name in ["love", "instagood", "photooftheday", "follow", "like4like"]:
        tags.append(name)
        vecs.append(centres[n_topics] + 0.1 * rng.normal(size=d))
        usage.append(500)
    for name in ["lonely1", "lonely2"]:
        tags.append(name)
        vecs.append(rng.normal(size=d))
        usage.append(2)
    x = np.asarray(vecs, dtype=np.float32)
    handles, bvecs, htruth = [], [], {}
    for h in range(60):
        t = h % n_topics
        rows = [tags.index(n) for n in rng.choice(truth[f"topic{t}"], size=5, replace=False)]
        handles.append(f"creator{h}")
        bvecs.append(x[rows].sum(axis=0) + 0.5 * x[tags.index("love")])
        htruth[f"creator{h}"] = f"topic{t}"
    return tags, x, np.asarray(usage), truth, handles, np.asarray(bvecs, np.float32), htruth


def fitted(method: str = "kmeans"):
    tags, x, usage, truth, handles, bvecs, htruth = planted()
    name, _, reduce = method.partition("-")
    config = TopicConfig(method=name, k_range=(3, 12), reduce=reduce or "pca")
    model = fit(TagSpace(tags, x, usage, handles, bvecs), config)
    return model, tags, truth, handles, bvecs, htruth


@pytest.mark.parametrize("method", ["kmeans", "agglomerative", "hdbscan"])
def test_recovers_planted_topics(method: str) -> None:
    model, tags, truth, handles, _, htruth = fitted(method)
    score = score_against_truth(tags, model.tag_topic, truth)
    assert score["ari"] > 0.9, score
    assert score["purity"] > 0.95, score
    assert len(model.topics) == 6, [t.name for t in model.topics]
    assert creator_accuracy(handles, model.handle_topic, htruth) > 0.95


@pytest.mark.slow
def test_hdbscan_on_tsne_keeps_clusters_pure() -> None:
    """2-D t-SNE may split a topic in two (lower ARI) but must not mix topics."""
    model, tags, truth, *_ = fitted("hdbscan-tsne")
    score = score_against_truth(tags, model.tag_topic, truth)
    assert score["purity"] > 0.95 and score["coverage"] > 0.9, score


def test_spam_cluster_dropped_and_names_from_common_tags() -> None:
    tags, x, usage, truth, handles, bvecs, _ = planted()
    model = fit(TagSpace(tags, x, usage), TopicConfig(method="kmeans", k=8))
    names = " ".join(t.name for t in model.topics)
    assert "love" not in names and "instagood" not in names
    assert any("blacklisted" in d.reason for d in model.dropped), model.dropped
    assert model.tag_topic[tags.index("love")] == NOISE
    # The most used tag of each planted topic is the first word of its topic's name.
    firsts = {t.top_tags[0] for t in model.topics}
    assert firsts == {f"t{t}tag0" for t in range(6)}


def test_too_small_cluster_dropped() -> None:
    tags, x, usage, *_ = planted()
    model = fit(TagSpace(tags, x, usage), TopicConfig(method="kmeans", k=7, min_cluster_size=20))
    assert model.topics == []
    assert [d.reason for d in model.dropped] == ["too small"] * 7, model.dropped
    assert np.all(model.tag_topic == NOISE)


def test_payload_round_trip_and_assign() -> None:
    model, _, _, _, bvecs, _ = fitted()
    again = TopicModel.from_bytes(model.to_bytes())
    assert [t.name for t in again.topics] == [t.name for t in model.topics]
    assert np.array_equal(again.handle_topic, model.handle_topic)
    assert again.topic_of("creator0") == model.topic_of("creator0") != NOISE
    assert again.topic_of("nobody") == NOISE
    labels, sims = again.assign(np.vstack([bvecs[:2], np.zeros((1, bvecs.shape[1]))]))
    assert labels[2] == NOISE and sims[2] == 0.0
    assert list(labels[:2]) == list(model.handle_topic[:2])


def test_unknown_method_is_an_error() -> None:
    tags, x, usage, *_ = planted()
    with pytest.raises(ValueError, match="unknown topic clustering method"):
        fit(TagSpace(tags, x, usage), TopicConfig(method="bogus"))


def test_cluster_nobody_is_nearest_to_is_dropped() -> None:
    """Personal brand tags (`annafood`, `annatravel` ... shared by a few namesakes) form a
    tight cluster that describes no creator; it must not become a topic."""
    tags, x, usage, truth, handles, bvecs, _ = planted()
    rng = np.random.default_rng(5)
    brand = rng.normal(size=x.shape[1])
    brand_tags = [f"anna{i}" for i in range(6)]
    x2 = np.vstack([x, brand + 0.3 * rng.normal(size=(6, x.shape[1]))]).astype(np.float32)
    config = TopicConfig(method="kmeans", k=8)
    model = fit(TagSpace(tags + brand_tags, x2, np.r_[usage, [5] * 6], handles, bvecs), config)
    assert len(model.topics) == 6
    assert any(
        d.reason == "only 0 creators" and "anna0" in " ".join(d.top_tags) for d in model.dropped
    ), model.dropped
    assert all(model.tag_topic[len(tags) :] == NOISE)
    assert sum(t.creators for t in model.topics) == len(handles)
