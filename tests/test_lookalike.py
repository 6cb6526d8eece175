"""Lookalikes: the PPMI weighting, the planted topics recovered on the demo data, fold-in
of creators imported after training, filters, reasons and clear errors."""

import io
import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from engine.bootstrap import bootstrap
from engine.core.artifact_io import PayloadRefused, pack, unpack
from engine.core.errors import BadQuery, UnknownHandle
from engine.core.filters import Filters
from engine.core.index import l2_normalise
from engine.core.text import caption_words
from engine.lookalike.model import TOP_TOKENS, LookalikeModel, ppmi
from engine.lookalike.query import lookalike
from engine.lookalike.search import SparseSearch
from engine.lookalike.sparse import COLUMNS, SparseRows, prune_rows
from models.store import Store


def test_ppmi_matches_the_formula_and_stays_sparse():
    counts = sp.csr_matrix(np.array([[4, 0, 1], [0, 3, 1], [2, 2, 0]], dtype=float))
    got = ppmi(counts)
    assert sp.issparse(got)
    n, n_i, n_w = counts.sum(), counts.sum(axis=1).A1, counts.sum(axis=0).A1
    dense = counts.toarray()
    with np.errstate(divide="ignore"):
        expected = np.maximum(0, np.log(dense * n / np.outer(n_i, n_w)))
    assert np.allclose(got.toarray(), np.nan_to_num(expected, neginf=0))


def test_caption_words_drop_noise_in_several_languages():
    words = caption_words(
        "Hoy paëlla con @ana.c https://x.co/a #Comida 2024 🔥 — сегодня Борщ and the oven!"
    )
    assert words == ["paella", "борщ", "oven"]


@pytest.fixture(scope="module")
def rec(trained_demo_db):
    return bootstrap(f"sqlite:///{trained_demo_db}")


@pytest.fixture(scope="module")
def store(trained_demo_db):
    """The same database read directly (tests set up and inspect; the product asks rec)."""
    store = Store(f"sqlite:///{trained_demo_db}")
    yield store
    store.dispose()


def test_lookalikes_share_the_planted_topic(rec, demo_small_dir):
    truth = pd.read_json(demo_small_dir / "truth.json", typ="series")["influencer_topic"]
    handles = list(truth)[:40]
    precision = []
    for h in handles:
        answer = rec.lookalike(h, k=5, method="ppmi")
        assert len(answer.results) == 5 and all(r.id != h for r in answer.results)
        assert all(r.why.startswith("shares") for r in answer.results)
        precision.append(np.mean([truth[r.id] == truth[h] for r in answer.results]))
    assert np.mean(precision) >= 0.8


def test_filters_reasons_and_errors(rec, store):
    h = store.influencers_frame()["handle"].iloc[0]
    f = Filters(followers_min=10_000, followers_max=100_000, min_er=1.0)
    for r in rec.lookalike(h, k=5, filters=f).results:
        assert 10_000 <= r.extra["followers"] <= 100_000 and r.extra["er"] >= 1.0
    with pytest.raises(UnknownHandle) as exc:
        rec.lookalike(h[:-1] + "q")
    assert h in exc.value.suggestions
    with pytest.raises(BadQuery):
        rec.lookalike(h, k=0)
    assert rec.lookalike(h, k=3, method="blend").meta["method"] == "blend"


def test_creator_imported_after_training_is_folded_in(copy_db, demo_small_dir, tmp_path):
    posts = pd.read_csv(demo_small_dir / "posts.csv", keep_default_na=False)
    first = posts["handle"].iloc[0]
    clone = posts[posts["handle"] == first].copy()
    clone["handle"] = "brand_new_creator"
    clone["post_id"] = "new_" + clone["post_id"]
    clone["image"] = ""
    path = tmp_path / "new.csv"
    clone.to_csv(path, index=False)
    bootstrap(copy_db).import_file(path, "posts")
    answer = bootstrap(copy_db).lookalike("brand_new_creator", k=5)
    assert any("joined after the last training" in n for n in answer.notes)
    assert first in [r.id for r in answer.results]  # its twin is its nearest creator


def test_sparse_default_ranks_topic_mates_and_filters(rec, demo_small_dir):
    truth = pd.read_json(demo_small_dir / "truth.json", typ="series")["influencer_topic"]
    precision = []
    for h in list(truth)[:40]:
        answer = rec.lookalike(h, k=5)
        assert answer.meta["method"] == "sparse" and h not in [r.id for r in answer.results]
        scores = [r.score for r in answer.results]
        assert scores == sorted(scores, reverse=True) and len(scores) == 5
        precision.append(np.mean([truth[r.id] == truth[h] for r in answer.results]))
    assert np.mean(precision) >= 0.8
    h = list(truth)[0]
    f = Filters(followers_min=10_000, followers_max=100_000)
    for r in rec.lookalike(h, k=5, method="sparse", filters=f).results:
        assert 10_000 <= r.extra["followers"] <= 100_000


def test_a_creators_posts_are_placed_like_fit_and_rows_survive_bytes(rec, store):
    model = rec.model("lookalike")
    again = LookalikeModel.from_bytes(model.to_bytes())
    assert again.has_sparse and again.sparse.nnz == model.sparse.nnz
    assert abs(again.sparse_matrix() - model.sparse_matrix()).max() == 0  # stored as is
    assert np.array_equal(again.char_idf, model.char_idf)
    posts = store.posts_frame()
    h = model.handles[3]
    placed = again.place(posts[posts["handle"] == h])
    diff = (placed.sparse - model.sparse_row(3)).toarray()
    assert np.abs(diff).max() < 1e-6  # fold-in reproduces the stored row
    assert set(placed.sparse.indices) == set(model.sparse_row(3).indices)


def test_stored_rows_are_small_and_close_to_the_exact_weights():
    """3 bytes a weight (16-bit column, 7-bit level + the 17th column bit), strongest
    first, and within 1% of each row's largest weight; columns past 2^16 survive."""
    rng = np.random.default_rng(0)
    dense = np.where(rng.random((40, COLUMNS)) < 0.003, rng.random((40, COLUMNS)), 0.0)
    dense[:, COLUMNS - 1] = 0.9  # the highest column id
    exact = prune_rows(sp.csr_matrix(dense), 300)
    rows = SparseRows.quantise(exact)
    assert rows.columns.dtype == np.uint16 and rows.levels.dtype == np.uint8
    back = rows.to_csr()
    assert np.abs((back - exact).toarray()).max() <= exact.max() / 127 + 1e-6
    assert set(back[0].indices) == set(exact[0].indices) and COLUMNS - 1 in back[0].indices
    for i in range(len(rows)):
        s, e = rows.indptr[i], rows.indptr[i + 1]
        assert np.all(np.diff((rows.levels[s:e] >> 1).astype(int)) <= 0)  # strongest first
    assert np.allclose(np.asarray(back.multiply(back).sum(axis=1)).ravel(), 1, atol=0.02)


def test_fast_search_finds_the_exact_neighbours_and_applies_filters_and_exclusions():
    """Candidates from the strongest columns, then an exact re-rank: on clustered rows
    the top 10 is the exact top 10; excluded and filtered rows never come back."""
    rng = np.random.default_rng(1)
    n, per = 3000, 120
    centres = rng.integers(0, COLUMNS, size=(30, 200))
    topic = rng.integers(0, 30, size=n)
    cols = np.take_along_axis(centres[topic], rng.integers(0, 200, (n, per)), axis=1)
    x = sp.csr_matrix(
        (rng.random(n * per) + 0.05, cols.ravel(), np.arange(0, n * per + 1, per)),
        shape=(n, COLUMNS),
    )
    x.sum_duplicates()
    exact = prune_rows(x, 400)
    rows = SparseRows.quantise(exact)
    search, ref = SparseSearch(rows), rows.to_csr()
    for i in (0, 17, 2999):
        sims = (ref @ ref[i].T).toarray().ravel()
        sims[i] = -1
        want = set(np.argsort(-sims)[:10].tolist())
        got = search.query(rows.row(i), 10, exclude={i})
        assert {r for r, _ in got} == want and i not in {r for r, _ in got}
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
        assert np.allclose([s for _, s in got], sims[[r for r, _ in got]], atol=1e-5)
        odd = search.query(rows.row(i), 10, exclude={i}, allow=lambda r: r % 2 == 1)
        assert odd and all(r % 2 == 1 for r, _ in odd)
    assert search.query(sp.csr_matrix((1, COLUMNS), dtype=np.float32), 10) == []


def test_a_loaded_model_builds_its_sparse_postings_when_warmed(rec):
    """The server warms a model before swapping it in (engine.service), so the first
    lookalike after a reload does not build the postings."""
    model = LookalikeModel.from_bytes(rec.model("lookalike").to_bytes())
    assert model.has_sparse and model._search._postings is None
    model.warm()
    assert model._search._postings is not None
    assert [r.id for r in lookalike(model, model.handles[0], 5).results]


def test_payload_of_the_first_sparse_layout_answers_by_ppmi(rec):
    """Issue 13's unhashed rows (int32 columns) cannot be searched with the hashed
    columns; such a model loads and answers with ppmi until the next training."""
    model = rec.model("lookalike")
    arrays, meta = unpack(model.to_bytes())
    old = {k: v for k, v in arrays.items() if not k.startswith("sparse_")}
    old |= {"sparse_indices": np.zeros(3, np.int32), "sparse_data": np.ones(3, np.float16)}
    loaded = LookalikeModel.from_bytes(pack(old, meta))
    assert not loaded.has_sparse
    h = str(model.handles[0])
    answer = lookalike(loaded, h, 5)
    assert answer.meta["method"] == "ppmi" and len(answer.results) == 5


def test_posts_without_caption_do_not_break_training():
    from engine.core.dataset import Dataset
    from engine.lookalike import model as lookalike_model
    from engine.lookalike.model import LookalikeConfig

    posts = pd.DataFrame(
        {
            "handle": ["a", "a", "b", "b", "c"],
            "posted_at": pd.NaT,
            "caption": ["surf waves", np.nan, "surf board", "waves", np.nan],
            "hashtags": [["surf"], ["beach"], ["surf"], [], ["beach"]],
            "likes": 1,
            "comments": 0,
        }
    )
    infl = pd.DataFrame({"handle": ["a", "b", "c"], "followers": 10, "language": "en"})
    model = lookalike_model.fit(Dataset(infl, posts, pd.DataFrame()), LookalikeConfig())
    assert len(model.sparse) == 3 and model.sparse_row(0).nnz > 0


def _synthetic_model(n: int = 2500, d: int = 128, vocab: int = 50) -> LookalikeModel:
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, d))
    vectors = centres[rng.integers(12, size=n)] + 0.3 * rng.normal(size=(n, d))
    return LookalikeModel(
        handles=np.array([f"c{i}" for i in range(n)]),
        vectors=l2_normalise(vectors),
        components=rng.normal(size=(d, vocab)).astype(np.float32),
        vocab=np.array([f"w{i}" for i in range(vocab)]),
        col_totals=rng.random(vocab) * 10,
        grand_total=1e4,
        top_tokens=rng.integers(0, vocab, size=(n, TOP_TOKENS)).astype(np.int32),
        followers=rng.random(n) * 1e5,
        er=rng.random(n) * 5,
        language=np.array(["en"] * n),
    )


def test_model_round_trip_stores_vectors_once_and_refuses_older_payloads():
    model = _synthetic_model()
    assert not model._index.exact  # above the exact threshold: a real HNSW graph
    payload = model.to_bytes()
    arrays, _ = unpack(payload)
    assert "vectors" in arrays and "index" not in arrays  # the graph only, no second copy
    loaded = LookalikeModel.from_bytes(payload)
    for row in (0, 99, 2400):
        v = model.vectors[row]
        assert loaded.neighbours(v, 5, exclude=set()) == model.neighbours(v, 5, exclude=set())
    # A payload from before the vectors were stored once: the whole index nested inside.
    legacy = {k: v for k, v in arrays.items() if k != "index_graph"}
    legacy["index"] = np.frombuffer(model._index.to_bytes(), dtype=np.uint8)
    buf = io.BytesIO()
    meta = np.frombuffer(json.dumps({"grand_total": 1e4}).encode(), np.uint8)
    np.savez(buf, __meta__=meta, **legacy)
    assert len(payload) < buf.tell() - 0.9 * model.vectors.nbytes
    with pytest.raises(PayloadRefused, match="retrain"):  # never misread: retrained
        LookalikeModel.from_bytes(buf.getvalue())


def test_char_ngrams_per_distinct_token_equal_char_wb_over_the_whole_text():
    """The fit takes each distinct token's n-grams once and sums them through the token
    counts: the same counts as sklearn's char_wb over every creator's whole text."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from engine.lookalike.model import char_tokens, token_counts
    from engine.lookalike.sparse import token_ngrams

    posts = [("ana", "Surf at Hoaka beach, https://x.co/ana"), ("ana", "surf"), ("bo", "Kale kale")]
    docs = [char_tokens(c, []) for _, c in posts]
    counts, tokens = token_counts([h for h, _ in posts], docs)
    got = (counts @ token_ngrams(tokens, (3, 5))).toarray()
    texts = ["Surf at Hoaka beach, https://x.co/ana surf", "Kale kale"]
    vec = HashingVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), n_features=COLUMNS, alternate_sign=False, norm=None
    )
    assert np.array_equal(got, vec.transform(texts).toarray())


def test_pruned_rows_do_not_depend_on_the_order_counts_arrived_in():
    """Equal weights at the `keep` boundary are cut by column, so the Spark backend's
    counts (another order) give the same rows as the local ones."""
    data = np.array([3, 1, 1, 1, 1, 2], dtype=np.float32)  # four ties for the last 2 slots
    cols = np.array([7, 1, 5, 3, 9, 2])
    a = sp.csr_matrix((data, cols, [0, 6]), shape=(1, 10))
    order = [4, 2, 0, 5, 3, 1]
    b = sp.csr_matrix((data[order], cols[order], [0, 6]), shape=(1, 10))
    pa, pb = prune_rows(a, 4), prune_rows(b, 4)
    assert pa.indices.tolist() == pb.indices.tolist() == [7, 2, 1, 3]
    assert np.array_equal(pa.data, pb.data)
