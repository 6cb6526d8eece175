"""Photo -> hashtags (the "Instagram hashtag recommender" write-up): find the post images
most like an uploaded photo and pool the hashtags those posts used.

Three rules keep the answer trustworthy (issue 14):
- Pictures are compared in the space of the network's own ImageNet classifier layer
  (its 1001 logits, `projection`), centred on the corpus mean: the pooled features mix
  what a picture shows with how it looks (colour, texture, framing), the classifier
  layer keeps what the network learned to tell apart, so a dog breed the data has never
  seen lands near the data's dogs and noise lands near nothing (benchmarks/bench_photos:
  held-out topic precision@10 0.53 -> 0.70 in the same run). Centring matters too: raw
  features are all non-negative, so any two pictures look 0.5-0.7 alike.
- Know when you don't know: a photo whose nearest post pictures are no closer than
  pictures with unrelated hashtags usually are (`min_similarity`, measured on the
  trained data at fit time) gets "nothing in the data looks like this photo".
- A tag must be used by enough distinct creators (`min_creators`) to be suggested, so a
  creator's personal brand tag never reaches someone else's photo.

The index holds one row per distinct image (posts that reuse a picture share a row), so
the k nearest rows are k different pictures. Two rankings of the pooled tags:

- "similar": the match, 0-100: the geometric mean of how much of the similar pictures'
  weight is behind the tag (each picture weighted by its similarity ** SIM_POWER, the
  closest counting most, and split over its posts: a picture posted 20 times is one
  picture, not 20 votes) and the share of the k nearest pictures that used it;
- "likes": the match times the tag's like rating relative to the best candidate's, where a post's
  `adj_likes = likes / number_of_hashtags` (a post with 30 tags gives each less credit),
  a tag's adj_likes is the mean over its posts, min-max normalised to 0..1 over all tags,
  and `rating = log(1 + count) · adj_likes` with count = the tag's posts in the corpus
  (1 + count so a tag seen once is not zeroed outright).

Only tags the nearest pictures agree on are suggested (issue 24): used by at least
MIN_TAG_PICTURES of the k nearest and with a match of MIN_TAG_MATCH or more. The rest
(a close picture's stray tag, a books creator's #bookworm on a hike) are left out and
counted in a note; when none is left, the answer says so instead of padding.

Pure: feature arrays and plain lists in, an Answer out; no TensorFlow, no store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.core.artifact_io import pack_model, unpack_model
from engine.core.blacklist import NON_TOPICAL
from engine.core.errors import BadQuery
from engine.core.index import VectorIndex, l2_normalise
from engine.core.like_rating import like_rating
from engine.core.recommendation import Answer, Recommendation

KIND = "photos"
# The layout of its payload; raise it (and the kind's model_version) when it changes.
FORMAT_VERSION = 3
MODES = ("similar", "likes")
MAX_TAGS = 30  # Instagram's limit per post
# Similar images pooled per query; more gives "likes" mode more to choose from.
DEFAULT_K_SIMILAR = 10
# A neighbour's vote is similarity ** SIM_POWER, so the really close pictures outvote
# ten loosely similar ones (bench_photos compares power 1 and the shipped power).
SIM_POWER = 8.0
# A tag is suggested only when at least this share of the creators (and at least
# MIN_CREATORS_FLOOR of them) used it: topical tags are used by hundreds of creators,
# a personal brand tag (#yukipets, #<name>photography) by one to a handful.
MIN_CREATORS_SHARE = 0.01
MIN_CREATORS_FLOOR = 5
# The abstention threshold is this percentile of "how close does the nearest picture
# with unrelated hashtags come" over the trained images (see `similarity_floor`).
FLOOR_PERCENTILE = 50.0
# Two pictures are "unrelated" when the cosine of their hashtag profiles is below this.
UNRELATED_TAG_COSINE = 0.2
# ... and at least this many of the nearest pictures, about related things (hashtag
# profiles that are not unrelated), must clear it: one picture that happens to come
# close is a coincidence, and so are close pictures about different things (what noise
# finds); two that agree are evidence.
MIN_SUPPORT = 2
# ... unless one picture alone is as close as the data's own pictures typically are to
# their nearest neighbour (this percentile of those similarities, measured at fit time):
# then the photo is (a crop or copy of) a picture in the data.
SINGLE_MATCH_PERCENTILE = 5.0
FLOOR_SAMPLE = 1000


# A tag is suggested (and so lands in the "Copy all" line) only when the nearest pictures
# agree on it: at least this many of the k nearest used it, and its match is at least
# MIN_TAG_MATCH (issue 24: one close picture's stray #dog, a mountain's #bookworm from a
# books creator's hike, were pasted at match 1). Fewer tags, or none and why, beat padding.
MIN_TAG_PICTURES = 2
MIN_TAG_MATCH = 30


@dataclass
class _Pool:
    """Similarity-weighted tag votes of the close pictures (`total`: their weight), the
    likes of the posts behind each tag, and per tag how many of the k nearest used it."""

    votes: dict[int, float] = field(default_factory=dict)
    likes_of: dict[int, list[int]] = field(default_factory=dict)
    pictures: dict[int, int] = field(default_factory=dict)
    total: float = 0.0
    posts_seen: int = 0


def _tags(n: int) -> str:
    return f"{n} tag" if n == 1 else f"{n} tags"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def match(similarity: float) -> int:
    """A cosine in [-1, 1] as the 0-100 number people see ("a 43/100 match")."""
    return int(round(100 * max(0.0, min(1.0, float(similarity)))))


def min_creators_for(n_creators: int) -> int:
    return max(MIN_CREATORS_FLOOR, math.ceil(MIN_CREATORS_SHARE * n_creators))


@dataclass
class PhotoTagModel:
    """`index` holds the centred, L2-normalised features of the distinct images
    (`centre` is the corpus mean subtracted first); per post: its image row, likes, tag
    ids (CSR: `tag_ptr`, `tag_ids` into `vocab`); per tag: corpus count, like rating and
    distinct creators. `min_similarity` is the abstention threshold (cosine)."""

    extractor_id: str
    index: VectorIndex | None
    post_image: np.ndarray  # (n_posts,) int32 row of the post's image
    post_likes: np.ndarray  # (n_posts,) int64
    tag_ptr: np.ndarray  # (n_posts + 1,) int64
    tag_ids: np.ndarray  # (nnz,) int32
    vocab: np.ndarray  # (n_tags,) str
    tag_count: np.ndarray  # (n_tags,) int64 posts using the tag
    tag_rating: np.ndarray  # (n_tags,) float64 log(1+count) * normalised adj_likes
    image_posts_ptr: np.ndarray  # (n_images + 1,) int64: posts of each image, CSR
    image_posts: np.ndarray  # (n_posts,) int32
    tag_creators: np.ndarray | None = None  # (n_tags,) int64 distinct creators using it
    min_creators: int = 1
    centre: np.ndarray | None = None  # (d,) float32 mean feature, subtracted before cosine
    min_similarity: float = -1.0
    # (d, FEATURE_DIM) float32 and (d,): the classifier layer features pass through before
    # centring (None: compare the pooled features themselves, as Keras weights do)
    projection: np.ndarray | None = None
    projection_bias: np.ndarray | None = None
    single_match: float = 1.0  # one picture this close is enough (see SINGLE_MATCH_PERCENTILE)

    @property
    def n_images(self) -> int:
        return 0 if self.index is None else len(self.index)

    def suggestible(self) -> np.ndarray:
        """(n_tags,) bool: used by enough distinct creators and not spam or a colour."""
        creators = self.tag_creators if self.tag_creators is not None else self.tag_count
        ok = creators >= self.min_creators
        return ok & ~np.isin(self.vocab.astype(str), list(NON_TOPICAL))

    def embed(self, feature: np.ndarray) -> np.ndarray:
        """A raw extractor feature in the index's space (centred, unit length)."""
        f = np.asarray(feature, np.float32).reshape(-1)
        if self.projection is not None:
            f = self.projection @ f + self.projection_bias
        if self.centre is not None and self.centre.size:
            f = f - self.centre
        return l2_normalise(f)

    # ----------------------------------------------------------------- query
    def photo_hashtags(
        self,
        feature: np.ndarray | None,
        *,
        n: int = MAX_TAGS,
        mode: str = "similar",
        k_similar: int = DEFAULT_K_SIMILAR,
        exclude_images: Sequence[int] = (),
    ) -> Answer:
        """Hashtags for one photo's raw feature vector. `exclude_images` drops rows (a
        held-out photo must not find itself)."""
        vector = None if feature is None else self.embed(feature)
        return self.hashtags_for_vector(
            vector, n=n, mode=mode, k_similar=k_similar, exclude_images=exclude_images
        )

    def hashtags_for_row(self, row: int, **kwargs) -> Answer:
        """Leave-one-out: hashtags for indexed image `row` from the other images."""
        return self.hashtags_for_vector(
            self.index.vectors[row], exclude_images=[int(row)], **kwargs
        )

    def hashtags_for_vector(
        self,
        vector: np.ndarray | None,
        *,
        n: int = MAX_TAGS,
        mode: str = "similar",
        k_similar: int = DEFAULT_K_SIMILAR,
        exclude_images: Sequence[int] = (),
    ) -> Answer:
        if mode not in MODES:
            raise BadQuery(f"mode must be one of {', '.join(MODES)}, not {mode!r}.")
        n = max(1, min(int(n), MAX_TAGS))
        meta = {"mode": mode, "k_similar": k_similar, "images": self.n_images}
        if self.index is None or self.n_images == 0 or vector is None:
            return Answer(
                [],
                [
                    "No post images have been featurised yet, so there are no similar "
                    "posts to take hashtags from. Import posts with images and retrain."
                ],
                meta,
            )
        hits = self.index.query(vector, k_similar, exclude=exclude_images)
        top = hits[0][1] if hits else -1.0
        meta.update(
            {
                "top_similarity": top,
                "top_match": match(top),
                "min_match": match(self.min_similarity),
            }
        )
        close = [(row, sim) for row, sim in hits if sim >= self.min_similarity]
        support = MIN_SUPPORT if self.min_similarity > -1.0 else 1
        if top >= max(self.single_match, self.min_similarity):
            support = 1
        if support > 1 and close:
            close = self._agreeing(close)
        if len(close) < min(support, len(hits)) or not close:
            meta["abstained"] = True
            return Answer([], [self._nothing_similar(hits, top)], meta)
        pool = self._pool(close, hits)
        if not pool.votes:
            return Answer([], ["The most similar posts carried no hashtags to suggest."], meta)
        # Closeness and agreement both: the geometric mean of the tag's share of the close
        # pictures' weight and the share of the k nearest pictures that used it, so one
        # very close picture cannot carry a tag to 99 that most neighbours never used.
        match_of = {
            t: 100.0 * math.sqrt(v / pool.total * pool.pictures[t] / len(hits))
            for t, v in pool.votes.items()
        }
        need = min(MIN_TAG_PICTURES, len(hits))
        sure = [t for t, m in match_of.items() if m >= MIN_TAG_MATCH and pool.pictures[t] >= need]
        meta.update(
            {
                "similar_posts": pool.posts_seen,
                "similar_images": len(close),
                "nearest_images": len(hits),
                "tags_left_out": len(match_of) - len(sure),
            }
        )
        if not sure:
            meta["no_agreement"] = True
            return Answer([], [self._no_agreement(pool, match_of, need)], meta)
        scores = {t: match_of[t] for t in sure}
        if mode == "likes":
            best = max(float(self.tag_rating[t]) for t in scores) or 1.0
            scores = {t: s * float(self.tag_rating[t]) / best for t, s in scores.items()}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.vocab[kv[0]]))[:n]
        results = [self._result(t, score, match_of[t], pool, len(hits)) for t, score in ranked]
        notes = []
        left = len(match_of) - len(sure)
        if left and len(ranked) < n:
            notes.append(
                f"Only {_tags(len(ranked))} {_are(len(ranked))} sure: the other "
                f"{_tags(left)} on similar posts {_are(left)} on fewer than {need} of the "
                f"{len(hits)} nearest pictures or under a {MIN_TAG_MATCH}/100 match, so "
                + ("it would be a guess." if left == 1 else "they would be guesses.")
            )
        return Answer(results, notes, meta)

    def _result(
        self, t: int, score: float, tag_match: float, pool: _Pool, nearest: int
    ) -> Recommendation:
        likes = pool.likes_of[t]
        return Recommendation(
            id=str(self.vocab[t]),
            label="#" + str(self.vocab[t]),
            score=round(float(score), 1),
            why=f"on {pool.pictures[t]} of the {nearest} nearest pictures "
            f"({len(likes)} of {pool.posts_seen} similar posts), "
            f"median {int(np.median(likes)):,} likes",
            extra={
                "similar_posts": len(likes),
                "pictures": pool.pictures[t],
                "match": float(tag_match),
                "median_likes": float(np.median(likes)),
                "rating": float(self.tag_rating[t]),
            },
        )

    def _no_agreement(self, pool: _Pool, match_of: dict[int, float], need: int) -> str:
        """Why a photo that does look like some pictures gets no tags: they disagree."""
        best = sorted(match_of, key=lambda t: (-match_of[t], self.vocab[t]))[:3]
        return (
            f"The pictures most like this photo do not agree on any hashtag: none is on "
            f"{need} or more of them with a {MIN_TAG_MATCH}/100 match, so any tags would be "
            "guesses. The closest came were "
            + ", ".join(f"#{self.vocab[t]} ({match_of[t]:.0f})" for t in best)
            + "."
        )

    def _agreeing(self, close: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """The closest picture and those whose hashtags are related to its own (profile
        cosine >= UNRELATED_TAG_COSINE): close pictures about different things (what
        noise finds) are no evidence for either."""
        if getattr(self, "_profiles", None) is None:
            self._profiles = image_tag_profiles(self)
        if self._profiles is None:
            return close
        rows = np.array([r for r, _ in close])
        agree = (self._profiles[rows[:1]] @ self._profiles[rows].T).toarray()[0]
        return [c for c, a in zip(close, agree, strict=True) if a >= UNRELATED_TAG_COSINE]

    def _pool(
        self, close: list[tuple[int, float]], hits: list[tuple[int, float]] | None = None
    ) -> _Pool:
        """Votes of the pictures in `close` for suggestible tags. A picture votes with
        its similarity ** SIM_POWER, split by the share of its posts that used the tag
        (a picture posted 20 times is still one picture: agreement is between pictures,
        not reposts). Also counts, per tag, how many of `hits` (the k nearest) used it."""
        ok = self._ok if getattr(self, "_ok", None) is not None else self.suggestible()
        self._ok = ok
        pool = _Pool()
        for row, sim in close:
            posts = self.image_posts[self.image_posts_ptr[row] : self.image_posts_ptr[row + 1]]
            if not len(posts):
                continue
            weight = max(float(sim), 1e-6) ** SIM_POWER
            share = weight / len(posts)
            pool.total += weight
            for p in posts:
                pool.posts_seen += 1
                likes = int(self.post_likes[p])
                for t in self._post_tags(p, ok):
                    pool.votes[t] = pool.votes.get(t, 0.0) + share
                    pool.likes_of.setdefault(t, []).append(likes)
        for row, _ in hits if hits is not None else close:
            posts = self.image_posts[self.image_posts_ptr[row] : self.image_posts_ptr[row + 1]]
            for t in {t for p in posts for t in self._post_tags(p, ok)}:
                pool.pictures[t] = pool.pictures.get(t, 0) + 1
        return pool

    def _post_tags(self, p: int, ok: np.ndarray) -> list[int]:
        return [int(t) for t in self.tag_ids[self.tag_ptr[p] : self.tag_ptr[p + 1]] if ok[t]]

    def _nothing_similar(self, hits: list[tuple[int, float]], top: float) -> str:
        text = (
            "Nothing in the data looks like this photo: its closest post picture is a "
            f"{match(top)}/100 match, and I suggest hashtags only when at least {MIN_SUPPORT} "
            f"pictures reach {match(self.min_similarity)}/100, so any tags would be guesses."
        )
        votes = self._pool(hits[:3]).votes
        nearest = sorted(votes, key=lambda t: (-votes[t], self.vocab[t]))[:3]
        if nearest:
            text += (
                " The nearest pictures were about "
                + " ".join("#" + str(self.vocab[t]) for t in nearest)
                + "."
            )
        return text

    # ----------------------------------------------------------- serialise
    def to_bytes(self) -> bytes:
        arrays = {
            "post_image": self.post_image,
            "post_likes": self.post_likes,
            "tag_ptr": self.tag_ptr,
            "tag_ids": self.tag_ids,
            "vocab": self.vocab.astype(str),
            "tag_count": self.tag_count,
            "tag_rating": self.tag_rating,
            "image_posts_ptr": self.image_posts_ptr,
            "image_posts": self.image_posts,
            "tag_creators": self.tag_creators if self.tag_creators is not None else self.tag_count,
            "centre": self.centre if self.centre is not None else np.zeros(0, np.float32),
        }
        if self.index is not None:
            arrays["index"] = np.frombuffer(self.index.to_bytes(), dtype=np.uint8)
        if self.projection is not None:
            arrays["projection"] = self.projection.astype(np.float32)
            arrays["projection_bias"] = self.projection_bias.astype(np.float32)
        meta = {
            "extractor_id": self.extractor_id,
            "min_creators": self.min_creators,
            "min_similarity": self.min_similarity,
            "single_match": self.single_match,
        }
        return pack_model(KIND, FORMAT_VERSION, arrays, meta)

    @classmethod
    def from_bytes(cls, payload: bytes) -> PhotoTagModel:
        arrays, meta = unpack_model(payload, KIND, FORMAT_VERSION)
        index = VectorIndex.from_bytes(arrays["index"].tobytes()) if "index" in arrays else None
        return cls(
            extractor_id=meta["extractor_id"],
            index=index,
            post_image=arrays["post_image"],
            post_likes=arrays["post_likes"],
            tag_ptr=arrays["tag_ptr"],
            tag_ids=arrays["tag_ids"],
            vocab=arrays["vocab"],
            tag_count=arrays["tag_count"],
            tag_rating=arrays["tag_rating"],
            image_posts_ptr=arrays["image_posts_ptr"],
            image_posts=arrays["image_posts"],
            tag_creators=arrays["tag_creators"],
            min_creators=int(meta["min_creators"]),
            centre=arrays["centre"],
            min_similarity=float(meta["min_similarity"]),
            single_match=float(meta["single_match"]),
            projection=arrays.get("projection"),
            projection_bias=arrays.get("projection_bias"),
        )


def image_tag_profiles(model: PhotoTagModel) -> np.ndarray | None:
    """(n_images, n_tags) sparse L2-normalised counts of each picture's suggestible
    tags over its posts: what people say a picture is about."""
    import scipy.sparse as sp

    n_posts = len(model.post_image)
    if not n_posts or not len(model.vocab):
        return None
    ok = model.suggestible()
    post_of = np.repeat(np.arange(n_posts), np.diff(model.tag_ptr))
    keep = ok[model.tag_ids]
    rows = model.post_image[post_of[keep]]
    prof = sp.csr_matrix(
        (np.ones(int(keep.sum()), np.float32), (rows, model.tag_ids[keep])),
        shape=(model.n_images, len(model.vocab)),
    )
    norms = np.sqrt(np.asarray(prof.multiply(prof).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv) @ prof)


def similarity_floor(
    model: PhotoTagModel, *, percentile: float = FLOOR_PERCENTILE, seed: int = 42
) -> tuple[float, dict[str, float]]:
    """The abstention threshold, from the trained data: for (a sample of) the indexed
    pictures, the similarity of the closest picture whose hashtags are unrelated
    (profile cosine < UNRELATED_TAG_COSINE); the threshold is the `percentile` of those.
    A query must come closer to some post picture than an unrelated picture typically
    does, or nothing in the data is really like it. -1 (never abstain) when the data
    cannot tell (too few pictures, or no unrelated pairs). Also sets the model's
    `single_match` from the pictures' own nearest-neighbour similarities."""
    profiles = image_tag_profiles(model)
    n = model.n_images
    if profiles is None or n < 10:
        return -1.0, {"floor_sample": 0.0}
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(FLOOR_SAMPLE, n), replace=False))
    has_tags = np.asarray(profiles.getnnz(axis=1) > 0)
    rows = rows[has_tags[rows]]
    vectors = model.index.vectors
    bests, nearest = [], []
    for start in range(0, len(rows), 256):
        block = rows[start : start + 256]
        sims = vectors[block] @ vectors.T
        sims[np.arange(len(block)), block] = -np.inf
        nearest.extend(sims.max(axis=1).tolist())
        related = (profiles[block] @ profiles.T).toarray() >= UNRELATED_TAG_COSINE
        sims[related | ~has_tags[None, :]] = -np.inf
        best = sims.max(axis=1)
        bests.extend(best[np.isfinite(best)].tolist())
    if not bests:
        return -1.0, {"floor_sample": 0.0}
    floor = float(np.percentile(bests, percentile))
    model.single_match = float(np.percentile(nearest, SINGLE_MATCH_PERCENTILE))
    return floor, {
        "floor_sample": float(len(bests)),
        "floor_unrelated_p50": float(np.percentile(bests, 50)),
        "floor_unrelated_p90": float(np.percentile(bests, 90)),
    }


@dataclass
class PhotoCorpus:
    """What the photo model is fitted from. `features[i]` is image i's raw vector; post j
    shows image `post_image[j]`, carries `post_tags[j]`, got `post_likes[j]` likes and
    was posted by `post_creators[j]` (None: every post counts as its own creator).
    `head`: (weights, bias) of the extractor's classifier layer, the space pictures are
    compared in."""

    features: np.ndarray
    post_image: Sequence[int]
    post_tags: Sequence[Sequence[str]]
    post_likes: Sequence[int]
    extractor_id: str
    post_creators: Sequence[str] | None = None
    head: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class PhotoConfig:
    """`min_creators`: creators a tag needs to be suggested (None: by corpus size);
    `abstain=False` keeps the similarity floor off (tiny hand-made models in tests)."""

    min_creators: int | None = None
    abstain: bool = True


def fit(data: PhotoCorpus, config: PhotoConfig | None = None) -> PhotoTagModel:
    """The photo -> hashtags model: images indexed, tags pooled and rated by likes."""
    cfg = config or PhotoConfig()
    min_creators, abstain, head = cfg.min_creators, cfg.abstain, data.head
    post_tags, post_likes, post_creators = data.post_tags, data.post_likes, data.post_creators
    extractor_id = data.extractor_id
    features = np.asarray(data.features, np.float32)
    projection = bias = None
    if head is not None:
        projection = np.asarray(head[0], np.float32)
        bias = np.asarray(head[1], np.float32)
        if len(features):
            features = features @ projection.T + bias
    post_image = np.asarray(data.post_image, dtype=np.int32)
    likes = np.asarray(post_likes, dtype=np.int64)
    vocab_index: dict[str, int] = {}
    ptr = [0]
    ids: list[int] = []
    for tags in post_tags:
        for tag in dict.fromkeys(tags):  # a tag counts once per post
            ids.append(vocab_index.setdefault(tag, len(vocab_index)))
        ptr.append(len(ids))
    tag_ptr = np.asarray(ptr, dtype=np.int64)
    tag_ids = np.asarray(ids, dtype=np.int32)
    n_tags = len(vocab_index)
    n_per_post = np.diff(tag_ptr)
    post_of_entry = np.repeat(np.arange(len(likes)), n_per_post)
    count, rating = like_rating(tag_ids, post_of_entry, likes, n_per_post, n_tags)
    if post_creators is None:
        creator_codes = np.arange(len(likes))
        default_min = 1
    else:
        creator_codes = np.unique(np.asarray(post_creators, dtype=str), return_inverse=True)[1]
        default_min = min_creators_for(int(creator_codes.max()) + 1 if len(likes) else 0)
    pairs = np.unique(np.c_[tag_ids, creator_codes[post_of_entry]], axis=0)
    tag_creators = np.bincount(pairs[:, 0], minlength=n_tags).astype(np.int64)
    n_images = len(features) if features.size else 0
    order = np.argsort(post_image, kind="stable").astype(np.int32)
    image_posts_ptr = np.concatenate(
        [[0], np.cumsum(np.bincount(post_image, minlength=n_images))]
    ).astype(np.int64)
    centre = features.mean(axis=0).astype(np.float32) if n_images else None
    index = VectorIndex.build(features - centre) if n_images else None
    model = PhotoTagModel(
        extractor_id=extractor_id,
        index=index,
        post_image=post_image,
        post_likes=likes,
        tag_ptr=tag_ptr,
        tag_ids=tag_ids,
        vocab=np.asarray(list(vocab_index), dtype=str) if n_tags else np.zeros(0, dtype="<U1"),
        tag_count=count,
        tag_rating=rating.astype(np.float64),
        image_posts_ptr=image_posts_ptr,
        image_posts=order,
        tag_creators=tag_creators,
        min_creators=default_min if min_creators is None else int(min_creators),
        centre=centre,
        projection=projection,
        projection_bias=bias,
    )
    if abstain and n_images:
        model.min_similarity, _ = similarity_floor(model)
    return model
