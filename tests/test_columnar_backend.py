"""The local backend streams the store by columns (issue 27): what it counts equals what
the frame path (every post in one DataFrame, `backend="frames"`) counts from the same
store, chunk boundaries change nothing, and both publish the same models."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmarks.agreement import agreement
from benchmarks.bench_train import synthetic_posts
from engine.bootstrap import assemble, scratch
from engine.core.dataset import Dataset
from engine.core.kinds import kind_by_name
from engine.core.text import caption_words
from engine.lookalike.model import LookalikeConfig
from engine.lookalike.model import lookalike_counts as frame_lookalike_counts
from engine.songs.model import CleaningRules, usage_table
from engine.training.columnar.backend import ColumnarBackend, needs_frames
from engine.training.columnar.columns import PostColumns
from engine.training.columnar.lookalike_counts import lookalike_counts
from engine.training.columnar.song_counts import song_tables
from models.store import Store

KINDS = ["lookalike", "tags", "songs", "topics"]

# Rows the generator never writes: a collab post (one post id under two handles), no
# caption, no hashtags, URLs, @mentions, diacritics, a no-break space, emoji, upper
# case tags, a TikTok reel with views, and a song on a creator's busiest day.
MESSY = [
    ["c1", "collab1", "2026-10-01", "Café au lait with @c2 https://x.co/a", "#Coffee #cafe", 50, 3, "t-1"],
    ["c2", "collab1", "2026-10-01", "Café au lait with @c2 https://x.co/a", "#Coffee #cafe", 50, 3, "t-1"],
    ["c3", "nocap", "2026-10-02", "", "#solo", 10, 0, ""],
    ["c3", "notags", "2026-10-03", "naïve\u00a0words—and more 🎉🎉 www.site.org", "", 12, 1, "t-2"],
    ["c4", "dup-words", "2026-10-04", "beach beach BEACH #beach", "#beach #Beach", 7, 0, ""],
]  # fmt: skip


@pytest.fixture(scope="module")
def messy_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("columnar")
    synthetic_posts(folder, 3000, songs=True)
    with (folder / "posts.csv").open("a", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        for row in MESSY:
            w.writerow(row)
    with (folder / "songs.csv").open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["t-1", "Song One", "A"], ["t-2", "Song Two", "B"]])
    return folder


def load(url: str, folder: Path) -> str:
    rec = scratch(url, folder, kinds=["influencers"])
    rec.import_file(folder / "songs.csv", "songs")
    rec.import_file(folder / "posts.csv", "posts")
    rec.close()
    return url


@pytest.fixture(scope="module")
def messy_store(messy_dir) -> str:
    return load(f"sqlite:///{messy_dir / 'store.db'}", messy_dir)


@pytest.fixture(scope="module")
def read(messy_store):
    store = Store(messy_store)
    data = Dataset.read(store)
    cols = PostColumns.read(store.post_chunks(1000))
    yield store, data, cols
    store.dispose()


def test_columns_hold_every_rows_tags_and_caption_tokens_as_the_frame_does(read):
    _, data, cols = read
    assert len(cols) == len(data.posts) == 3005
    assert [cols.handles[h] for h in cols.handle] == data.posts["handle"].tolist()
    assert cols.tags.lists(cols.tag_vocab) == [list(t) for t in data.posts["hashtags"]]
    captions = data.posts["caption"].tolist()
    words = [caption_words(c if isinstance(c, str) else None) for c in captions]
    assert cols.words.lists(cols.word_vocab) == words
    chars = [c.lower().split() if isinstance(c, str) else [] for c in captions]
    assert cols.chars.lists(cols.char_vocab) == chars
    notags = data.posts.index[data.posts["post_id"] == "notags"][0]
    assert words[notags] == ["naive", "words"]  # split at the NBSP and the dash; stop words out


def test_chunk_boundaries_change_nothing(read):
    store, _, cols = read
    small = PostColumns.read(store.post_chunks(97))  # 31 chunks instead of 3
    assert small.fingerprint != ""
    for name in ("tags", "words", "chars"):
        vocab = {"tags": "tag_vocab", "words": "word_vocab", "chars": "char_vocab"}[name]
        a = getattr(cols, name).lists(getattr(cols, vocab))
        b = getattr(small, name).lists(getattr(small, vocab))
        assert a == b, name
    assert np.array_equal(small.posted_at, cols.posted_at)
    assert np.array_equal(small.views, cols.views, equal_nan=True)


def test_lookalike_counts_equal_the_frame_paths(read):
    _, data, cols = read
    cfg = LookalikeConfig()
    a, b = frame_lookalike_counts(data, cfg), lookalike_counts(cols, cfg)
    assert a.handles == b.handles
    assert a.vocab == b.vocab
    assert (a.counts != b.counts).nnz == 0
    # char tokens: the same counts once the columns are matched by token
    pos = {t: j for j, t in enumerate(b.char_tokens)}
    assert set(pos) == set(a.char_tokens)
    order = [pos[t] for t in a.char_tokens]
    assert (a.char_counts != b.char_counts[:, order]).nnz == 0
    pd.testing.assert_frame_equal(
        a.engagement.reset_index(drop=True)[["handle", "likes", "comments"]],
        b.engagement.reset_index(drop=True)[["handle", "likes", "comments"]],
        check_dtype=False,
    )


def test_song_tables_equal_the_frame_paths(read):
    _, data, cols = read
    rules = CleaningRules()
    reels, usage, report = usage_table(data, rules)
    got = song_tables(cols, data.influencers, rules, {})
    assert got.report.lines() == report.lines()
    pd.testing.assert_frame_equal(
        got.usage.reset_index(drop=True), usage.reset_index(drop=True), check_dtype=False
    )
    assert (
        got.creators_with_songs == data.posts.loc[data.posts["song_id"].notna(), "handle"].nunique()
    )
    assert "t-1" in set(got.usage["song_id"])


def test_word2vec_tags_train_from_the_frames():
    assert needs_frames(None) is None
    assert needs_frames({"tags": {"method": "skipgram"}})
    assert needs_frames({"tags": {"method": "ppmi"}}) is None


def test_the_dataset_holds_a_sample_and_the_columns_are_released(messy_store):
    store = Store(messy_store)
    try:
        backend = ColumnarBackend(store, chunk_posts=500, sample_creators=20)
        data = backend.dataset(store)
        assert data.meta["posts_total"] == 3005
        assert data.posts["handle"].nunique() == 20  # no post of the synthetic set has an image
        backend.song_tables(CleaningRules(), {})
        assert backend.columns is None
        with pytest.raises(RuntimeError, match="released"):
            backend.tag_counts(None, 42)
    finally:
        store.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("source", ["messy", pytest.param("demo", marks=pytest.mark.shared)])
def test_both_paths_publish_the_same_models(source, messy_store, request, tmp_path):
    """Every kind trained by the streaming local backend and by the frame path from
    copies of one store: top-10 lists agree on every creator and tag (1.0)."""
    if source == "demo":
        src = Path(request.getfixturevalue("trained_demo_db"))
    else:
        src = Path(messy_store.removeprefix("sqlite:///"))
    agree = train_both_ways(src, tmp_path)
    assert min(agree.values()) == 1.0, agree


def train_both_ways(src: Path, tmp_path: Path) -> dict[str, float]:
    """Top-10 agreement of the models `local` and `frames` publish from copies of `src`."""
    found = {}
    for backend in ("local", "frames"):
        db = tmp_path / f"{backend}.db"
        shutil.copy(src, db)
        admin = assemble(f"sqlite:///{db}").admin
        report = admin.train(kinds=KINDS, force=True, backend=backend, log=lambda _m: None)
        assert report.ok, report.table()
        published = admin.latest_versions()
        assert {"lookalike", "tags", "songs"} <= set(published), report.table()
        found[backend] = {
            k: kind_by_name(k).load(admin.artifact_bytes(k, published[k]))
            for k in ("lookalike", "tags", "songs")
        }
        admin.close()
    return agreement(found["local"], found["frames"], k=10)


def test_the_fingerprint_follows_the_data_not_the_chunks(read, messy_store, tmp_path):
    store, _, cols = read
    assert PostColumns.read(store.post_chunks(97)).fingerprint == cols.fingerprint
    db = tmp_path / "edited.db"
    shutil.copy(messy_store.removeprefix("sqlite:///"), db)
    edited = Store(f"sqlite:///{db}")
    try:
        with edited.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE posts SET caption = 'a new caption' WHERE post_id = 'nocap'"
            )
        assert PostColumns.read(edited.post_chunks(1000)).fingerprint != cols.fingerprint
    finally:
        edited.dispose()


def test_favourite_keys_are_zlibs_crc_of_each_entry():
    """The vectorised CRC-32 equals engine.tags.prepare.favourite_key, non-ASCII too."""
    from types import SimpleNamespace

    from engine.tags.prepare import favourite_key
    from engine.training.columnar.columns import PackedStrings
    from engine.training.columnar.tag_counts import favourite_keys

    ids = ["s1", "p-ü-42", "", "x" * 40]
    encoded = [i.encode() for i in ids]
    post = PackedStrings.join([(b"".join(encoded), np.array([len(e) for e in encoded]))])
    cols = SimpleNamespace(post_id=post, handles=["ana", "bö.b"], handle=np.array([0, 1, 1, 0]))
    names = ["travel", "café", "a", "日本"]
    rows, tags = np.array([0, 0, 1, 2, 3, 3, 1]), np.array([0, 1, 2, 3, 0, 3, 1])
    want = [
        favourite_key(7, f"{ids[r]}:{cols.handles[cols.handle[r]]}", names[t])
        for r, t in zip(rows, tags, strict=True)
    ]
    assert favourite_keys(7, cols, rows, tags, names).tolist() == want


def _by_post(cols: PostColumns) -> dict[tuple[str, str], tuple]:
    """Each (post id, handle) row's values (a store numbers its posts in its own order)."""
    buf, ptr = cols.post_id.buf, cols.post_id.ptr
    tags, words = cols.tags.lists(cols.tag_vocab), cols.words.lists(cols.word_vocab)
    songs = [None, *cols.songs]
    views = np.nan_to_num(cols.views, nan=-1.0)
    return {
        (buf[ptr[r] : ptr[r + 1]].decode(), cols.handles[cols.handle[r]]): (
            str(cols.posted_at[r]),
            views[r],
            cols.likes[r],
            tags[r],
            words[r],
            songs[cols.song[r] + 1],
        )
        for r in range(len(cols))
    }


def test_postgres_gives_the_same_columns(read, messy_dir, pg_url):
    """Read through psycopg's cursor (datetimes, not strings; its own paramstyle)."""
    _, _, cols = read
    store = Store(load(pg_url, messy_dir))
    try:
        pg = PostColumns.read(store.post_chunks(1000))
    finally:
        store.dispose()
    assert len(pg) == len(cols) == 3005
    assert _by_post(pg) == _by_post(cols)
