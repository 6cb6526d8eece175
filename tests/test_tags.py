"""Hashtag embeddings and topic search on a small planted corpus: three topics, one
ambiguous tag (`apple`: tech and food, `iphone` only in tech), spam everywhere and a
prolific blogger who puts their brand tag on every post."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.core.dataset import Dataset
from engine.core.errors import BadQuery
from engine.core.filters import Filters
from engine.tags import model as tags_model
from engine.tags.embeddings import Embedding, fit_ppmi_svd, topic_quality
from engine.tags.model import TagModel, choose_embedding
from engine.tags.prepare import TagConfig, clean_post_tags, prepare_sentences
from engine.tags.query import TopicQuery

TOPICS = {
    "cars": "bmw audi mercedes porsche engine turbo supercar garage",
    "tech": "apple iphone macbook laptop coding gadgets setup android",
    "food": "apple pie recipe baking fruit dinner homemade orchard",
}
LANGS = {"cars": "de", "tech": "en", "food": "es"}


def _corpus(seed: int = 0, bloggers_per_topic: int = 12, posts_each: int = 20):
    rng = np.random.default_rng(seed)
    posts, influencers = [], []
    for topic, words in TOPICS.items():
        vocab = words.split()
        for b in range(bloggers_per_topic):
            handle = f"{topic}{b}"
            followers = int(1000 * (b + 1))
            influencers.append((handle, followers, LANGS[topic]))
            for p in range(posts_each):
                tags = list(rng.choice(vocab, size=4, replace=False))
                tags += ["#Love", "instagood", "2024"]  # spam, numeral: blacklisted
                tags.append(f"{handle}brand")  # personal tag: one blogger only
                posts.append((handle, f"{handle}-{p}", tags, int(rng.integers(50, 500)), 5))
    frame = pd.DataFrame(posts, columns=["handle", "post_id", "hashtags", "likes", "comments"])
    inf = pd.DataFrame(influencers, columns=["handle", "followers", "language"])
    return frame, inf


FAST = TagConfig(vector_size=16, epochs=5, workers=1)


@pytest.fixture(scope="module")
def fitted():
    posts, inf = _corpus()
    model = tags_model.fit(Dataset(inf, posts, pd.DataFrame()), FAST, seed=1)
    return model, model.report


def test_cleaning_normalises_and_drops_non_topical_tags():
    assert clean_post_tags(["#Café", "cafe", "LOVE", "2024", "x", "#BMW"], TagConfig().stop) == [
        "cafe",
        "bmw",
    ]
    cfg = TagConfig.from_dict({"extra_blacklist": ["#BMW"]})
    assert clean_post_tags(["bmw", "audi"], cfg.stop) == ["audi"]
    with pytest.raises(ValueError, match="unknown tags config"):
        TagConfig.from_dict({"lamda": 0.5})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        TagConfig.from_dict({"tau": 2})


def test_min_bloggers_and_favourite_cap_and_shuffle():
    posts = [["a", "b", "mine"]] * 50 + [["a", "b"], ["a", "b"]]
    owners = ["prolific"] * 50 + ["x", "y"]
    cfg = TagConfig(min_bloggers=2, favourite_cap=5)
    sentences, vocab = prepare_sentences(posts, owners, cfg, seed=3)
    assert vocab == {"a": 3, "b": 3}  # 'mine' is one blogger's tag
    # the prolific blogger keeps 'a' and 'b' on at most 5 posts each
    assert sum(s.count("a") for s in sentences) <= 5 + 2
    assert all(sorted(s) == ["a", "b"] for s in sentences)
    orders = {
        tuple(s)
        for s in prepare_sentences(
            [["a", "b", "c"]] * 40,
            list("xyz") * 13 + ["x"],
            TagConfig(min_bloggers=1, favourite_cap=100),
            0,
        )[0]
    }
    assert len(orders) > 1  # tag order is shuffled within posts


def test_quality_metric_counts_hits_among_a_posts_other_tags():
    # a,b close; c,d close; the two pairs orthogonal
    vecs = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    emb = Embedding("hand", ["a", "b", "c", "d"], vecs)
    assert topic_quality(emb, [["a", "b"]])["quality"] == pytest.approx(0.5)  # 2 hits of 4
    assert topic_quality(emb, [["a", "c"]])["quality"] == 0.0
    assert topic_quality(emb, [["a", "zzz"]])["posts"] == 0  # one known tag says nothing


def test_ppmi_embedding_separates_topics():
    posts, _ = _corpus()
    cleaned = [clean_post_tags(t, FAST.stop) for t in posts["hashtags"]]
    sentences, _ = prepare_sentences(cleaned, posts["handle"].tolist(), FAST, seed=0)
    emb = fit_ppmi_svd(sentences, FAST, seed=0)
    v = dict(zip(emb.tags, emb.vectors, strict=True))
    assert v["bmw"] @ v["audi"] > v["bmw"] @ v["recipe"] + 0.3


def test_fit_measures_every_method_and_ships_the_best(fitted):
    model, report = fitted
    assert set(report.quality) == {"ppmi", "ochiai"}  # Word2Vec only on request
    best = max(report.quality, key=report.quality.get)
    assert best in (report.chosen, report.related)
    assert model.related_method == report.related
    assert model.metrics["quality"] == pytest.approx(report.shipped_quality, abs=1e-5)
    assert model.metrics["quality.ppmi"] > 0.3  # random would be about 7/23
    assert "love" not in model.tags and "2024" not in model.tags
    assert not any(t.endswith("brand") for t in model.tags)


def test_related_tags_stay_in_topic_and_explain(fitted):
    model, _ = fitted
    answer = model.related_tags("#bmw", k=5)
    assert {r.id for r in answer.results} <= set(TOPICS["cars"].split())
    top = answer.results[0]
    assert "used by" in top.why and top.extra["rating"] >= 0
    assert top.extra["bloggers"] == 12


def test_negative_weight_removes_a_sense(fitted):
    model, _ = fitted
    food = set(TOPICS["food"].split()) - {"apple"}
    without_iphone = {r.id for r in model.related_tags("#apple #iphone:-1", k=5).results}
    assert without_iphone <= food
    bloggers = model.bloggers_for_topic("#apple #iphone:-1", k=10).results
    assert all(r.id.startswith("food") for r in bloggers)


def test_bloggers_for_topic_precision_filters_and_why(fitted):
    model, _ = fitted
    answer = model.bloggers_for_topic("#bmw #audi #mercedes", k=12)
    assert [r.id.startswith("cars") for r in answer.results] == [True] * 12
    assert answer.results[0].why.startswith("posts with #")
    filtered = model.bloggers_for_topic(
        "#bmw", k=20, filters=Filters(followers_min=5000, language="de")
    )
    assert filtered.results and all(r.extra["followers"] >= 5000 for r in filtered.results)
    assert all(r.extra["language"] == "de" for r in filtered.results)
    none = model.bloggers_for_topic("#bmw", k=5, filters=Filters(language="ru"))
    assert none.results == [] and "No creator passes" in none.notes[0]


def test_unknown_tags_are_reported_with_close_known_ones(fitted):
    model, _ = fitted
    answer = model.related_tags("#bmw #porche", k=3)
    assert answer.results and "#porche is not a known hashtag" in answer.notes[0]
    assert "#porsche" in answer.notes[0]
    with pytest.raises(BadQuery, match="None of these hashtags is known"):
        model.related_tags("#zzzz")
    with pytest.raises(BadQuery, match="Every weight is zero"):
        model.related_tags("#bmw #bmw:-1")  # the parser sums repeats to 0
    with pytest.raises(BadQuery, match="cancel out"):
        model.related_tags(TopicQuery([("bmw", 1.0), ("bmw", -1.0)]))
    with pytest.raises(BadQuery, match="Ask for between 1 and 100"):
        model.related_tags("#bmw", k=0)


def test_blogger_vectors_contract_and_round_trip(fitted):
    model, _ = fitted
    handles, vecs = model.creator_vectors()
    assert len(handles) == 36 and vecs.shape == (36, model.vectors.shape[1])
    assert vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    again = TagModel.from_bytes(model.to_bytes())
    a = model.bloggers_for_topic("#apple #iphone:-1", k=5).to_json()
    b = again.bloggers_for_topic("#apple #iphone:-1", k=5).to_json()
    assert a == b
    assert again.related_tags("#pie", 4).to_json() == model.related_tags("#pie", 4).to_json()


def test_cli_end_to_end_on_a_real_sqlite_store(copy_db, capsys):
    from engine.cli import main

    assert main(["topic", "#apple #iphone:-1", "-k", "5", "--json", "--db", copy_db]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["results"]) == 5 and all(r["id"] and r["why"] for r in out["results"])
    assert main(["topic", "#cars", "--tags-only", "-k", "3", "--json", "--db", copy_db]) == 0
    assert [r["label"][0] for r in json.loads(capsys.readouterr().out)["results"]] == ["#"] * 3
    assert main(["hashtags", "#dog", "-k", "4", "--db", copy_db]) == 0
    assert "used by" in capsys.readouterr().out
    assert main(["hashtags", "#dog:x", "--db", copy_db]) == 2
    assert "must be a number" in capsys.readouterr().err
    assert main(["hashtags", "--db", copy_db]) == 2
    assert "one of the two" in capsys.readouterr().err


def test_word2vec_is_fitted_only_on_request():
    posts, _ = _corpus()
    cleaned = [clean_post_tags(t, FAST.stop) for t in posts["hashtags"]]
    owners = posts["handle"].tolist()
    _, report = choose_embedding(cleaned, owners, replace(FAST, word2vec=True, refit=False), 0)
    assert set(report.quality) == {"skipgram", "cbow", "ppmi", "blend", "ochiai"}


def test_related_scores_take_weights_and_survive_bytes(fitted):
    model, _ = fitted
    again = TagModel.from_bytes(model.to_bytes())
    assert again.related_method == model.related_method
    assert again.related is not None and again.related.nnz == model.related.nnz
    plain = [r.id for r in again.related_tags("#bmw", k=5).results]
    assert plain == [r.id for r in model.related_tags("#bmw", k=5).results]
    # a negative weight subtracts the other tag's row: only tags closer to bmw remain
    rel = again.related.toarray()
    pos = {t: i for i, t in enumerate(again.tags)}
    minus = again.related_tags("#bmw #audi:-1", k=5).results
    for r in minus:
        diff = rel[pos["bmw"], pos[r.id]] - rel[pos["audi"], pos[r.id]]
        assert r.score == pytest.approx(diff, abs=1e-5) and diff > 0
    assert "audi" not in {r.id for r in minus}
