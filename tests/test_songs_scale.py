"""Issue 27 point 3 (songs at scale): the shortcuts of the new path give the old
path's answers where they should (benchmarks/bench_songs_scale.py measures the speed)."""

import numpy as np

from engine.core.index import VectorIndex
from engine.songs.model import evaluate_methods, usage_matrix, usage_table
from engine.songs.niche import NicheTable, _graph_neighbours
from engine.songs.recommenders import make_recommender
from tests.song_data import song_dataset


def _usage():
    _, usage, _ = usage_table(song_dataset())
    return usage_matrix(usage)


def test_the_evaluation_scores_at_most_max_users_creators():
    usage = _usage()
    full = {e.method: e for e in evaluate_methods(usage, ("popularity", "item_cosine"), seed=1)}
    capped = {
        e.method: e
        for e in evaluate_methods(usage, ("popularity", "item_cosine"), seed=1, max_users=20)
    }
    assert full["item_cosine"].ranking["users"] > 20
    assert capped["item_cosine"].ranking["users"] == 20
    assert capped["popularity"].ranking["users"] == 20
    # a cap above the count changes nothing
    same = evaluate_methods(usage, ("item_cosine",), seed=1, max_users=10_000)
    assert same[0].ranking == full["item_cosine"].ranking


def test_user_cf_gives_the_same_neighbours_when_asked_again():
    usage = _usage()
    fresh = make_recommender("user_cosine").fit(usage)
    rows = np.array([3, 0, 3, 7])
    first = fresh.neighbour_weights(rows).toarray()
    again = fresh.neighbour_weights(rows[::-1]).toarray()
    other = make_recommender("user_cosine").fit(usage).neighbour_weights(rows).toarray()
    np.testing.assert_allclose(first, other)
    np.testing.assert_allclose(again, first[::-1])
    assert (first[0] > 0).sum() > 0


def test_the_niche_table_from_a_content_index_finds_the_exact_neighbours():
    rng = np.random.default_rng(0)
    n, with_reels = 3000, 2400
    centres = rng.normal(size=(20, 16))
    vec = centres[np.arange(n) % 20] + rng.normal(0, 0.5, (n, 16))
    vec = (vec / np.linalg.norm(vec, axis=1, keepdims=True)).astype(np.float32)
    handles = [f"c{i}" for i in range(n)]
    users = np.array(handles[:with_reels])
    exact = NicheTable.build(handles, vec, users, n=10)
    cand = np.arange(with_reels)
    rows, sims = _graph_neighbours(vec, cand, cand, 10, VectorIndex.build(vec))
    own = rows == np.arange(n)[:, None]
    assert not own.any()
    assert (rows >= 0).mean() > 0.99  # a row may come back short, never wrong
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, exact.rows, strict=True)])
    assert recall > 0.9, recall
    assert np.all(np.diff(sims, axis=1) <= 1e-6)  # best first
