import math

import numpy as np
import pytest

from engine.core.evaluation import (
    average_precision_at_k,
    holdout_mask,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    rmse,
)


def test_ranking_metrics_on_a_hand_checked_list():
    recs, rel = ["a", "x", "b", "y"], {"a", "b", "c"}
    assert precision_at_k(recs, rel, 4) == pytest.approx(2 / 4)
    assert recall_at_k(recs, rel, 4) == pytest.approx(2 / 3)
    # hits at ranks 1 and 3: (1/1 + 2/3) / min(3, 4)
    assert average_precision_at_k(recs, rel, 4) == pytest.approx((1 + 2 / 3) / 3)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(recs, rel, 4) == pytest.approx((1 + 1 / math.log2(4)) / ideal)


def test_short_list_is_not_rewarded_and_perfect_list_scores_one():
    assert precision_at_k(["a"], {"a"}, 10) == pytest.approx(0.1)
    assert average_precision_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert recall_at_k(["a"], set(), 10) == 0.0


def test_ranking_metrics_averages_users_and_counts_missing_as_zero():
    m = ranking_metrics({1: ["a"], 2: ["z"]}, {1: {"a"}, 2: {"b"}, 3: {"c"}, 4: set()}, k=1)
    assert m.users == 3
    assert m.precision == pytest.approx(1 / 3)
    assert m.as_dict()["map@1"] == pytest.approx(1 / 3)


def test_rmse():
    assert rmse([1.0, 3.0], [1.0, 1.0]) == pytest.approx(math.sqrt(2))
    with pytest.raises(ValueError):
        rmse([1.0], [1.0, 2.0])


def test_holdout_takes_a_fifth_of_each_user_reproducibly_and_keeps_a_history():
    users = np.repeat(np.arange(50), np.arange(1, 51))
    a = holdout_mask(users, fraction=0.2, seed=7)
    b = holdout_mask(users, fraction=0.2, seed=7)
    c = holdout_mask(users, fraction=0.2, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    for u in range(50):
        n = u + 1
        held = int(a[users == u].sum())
        assert held <= n - 1  # at least one training row
        if n >= 10:
            assert held == round(n * 0.2)
        if n >= 2:
            assert held >= 1
