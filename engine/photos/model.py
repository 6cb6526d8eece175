"""Photo -> hashtags (the "Instagram hashtag recommender" write-up): find the post images
most like an uploaded photo and pool the hashtags those posts used.

The index holds one row per distinct image (posts that reuse a picture share a row), so
the k nearest rows are k different pictures. Two rankings of the pooled tags:

- "similar": summed similarity (cosine ** SIM_POWER) of the similar posts that used it;
- "likes": the same sum times the tag's like rating, where a post's
  `adj_likes = likes / number_of_hashtags` (a post with 30 tags gives each less credit),
  a tag's adj_likes is the mean over its posts, min-max normalised to 0..1 over all tags,
  and `rating = log(1 + count) · adj_likes` with count = the tag's posts in the corpus
  (1 + count so a tag seen once is not zeroed outright).

Pure: feature arrays and plain lists in, an Answer out; no TensorFlow, no store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.core.artifact_io import pack, unpack
from engine.core.blacklist import NON_TOPICAL
from engine.core.index import VectorIndex
from engine.core.like_rating import like_rating
from engine.core.recommendation import Answer, Recommendation

MODES = ("similar", "likes")
MAX_TAGS = 30  # Instagram's limit per post
# Similar images pooled per query; more gives "likes" mode more to choose from.
DEFAULT_K_SIMILAR = 10
# A neighbour's vote is similarity ** SIM_POWER. MobileNet cosines of unrelated photos
# are still 0.5-0.7, so plain sums let ten loosely similar pictures outvote the two
# really close ones (bench_photos, demo on-topic share@10 at k=10: 0.41 with power 1,
# 0.66 with 4, 0.70 with 8).
SIM_POWER = 8.0


@dataclass
class PhotoTagModel:
    """`features` (n_images, 1280) float32; per post: its image row, likes, tag ids
    (CSR: `tag_ptr`, `tag_ids` into `vocab`); per tag: corpus count and like rating."""

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

    @property
    def n_images(self) -> int:
        return 0 if self.index is None else len(self.index)

    # ----------------------------------------------------------------- query
    def photo_hashtags(
        self,
        feature: np.ndarray,
        *,
        n: int = MAX_TAGS,
        mode: str = "similar",
        k_similar: int = DEFAULT_K_SIMILAR,
        exclude_images: Sequence[int] = (),
    ) -> Answer:
        """Hashtags for one photo's feature vector. `exclude_images` drops rows (a
        held-out photo must not find itself)."""
        if mode not in MODES:
            from engine.core.errors import BadQuery

            raise BadQuery(f"mode must be one of {', '.join(MODES)}, not {mode!r}.")
        n = max(1, min(int(n), MAX_TAGS))
        meta = {"mode": mode, "k_similar": k_similar, "images": self.n_images}
        if self.index is None or self.n_images == 0:
            return Answer(
                [],
                [
                    "No post images have been featurised yet, so there are no similar "
                    "posts to take hashtags from. Import posts with images and retrain."
                ],
                meta,
            )
        hits = self.index.query(np.asarray(feature, np.float32), k_similar, exclude=exclude_images)
        scores: dict[int, float] = {}
        likes_of: dict[int, list[int]] = {}
        posts_seen = 0
        for row, sim in hits:
            weight = max(float(sim), 0.0) ** SIM_POWER
            for p in self.image_posts[self.image_posts_ptr[row] : self.image_posts_ptr[row + 1]]:
                posts_seen += 1
                likes = int(self.post_likes[p])
                for t in self.tag_ids[self.tag_ptr[p] : self.tag_ptr[p + 1]]:
                    t = int(t)
                    scores[t] = scores.get(t, 0.0) + weight
                    likes_of.setdefault(t, []).append(likes)
        # Spam and other non-topical tags (#follow, #like4like, colours) are what every
        # picture carries; the same blacklist as the tags model keeps them out of the answer.
        scores = {t: s for t, s in scores.items() if str(self.vocab[t]) not in NON_TOPICAL}
        if mode == "likes":
            scores = {t: s * float(self.tag_rating[t]) for t, s in scores.items()}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.vocab[kv[0]]))[:n]
        results = [
            Recommendation(
                id=str(self.vocab[t]),
                label="#" + str(self.vocab[t]),
                score=float(score),
                why=f"used by {len(likes_of[t])} of {posts_seen} similar posts, "
                f"median {int(np.median(likes_of[t])):,} likes",
                extra={
                    "similar_posts": len(likes_of[t]),
                    "median_likes": float(np.median(likes_of[t])),
                    "rating": float(self.tag_rating[t]),
                },
            )
            for t, score in ranked
        ]
        notes = [] if results else ["The most similar posts carried no hashtags."]
        meta.update(
            {"similar_posts": posts_seen, "top_similarity": float(hits[0][1]) if hits else None}
        )
        return Answer(results, notes, meta)

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
        }
        if self.index is not None:
            arrays["index"] = np.frombuffer(self.index.to_bytes(), dtype=np.uint8)
        return pack(arrays, {"extractor_id": self.extractor_id, "format": 1})

    @classmethod
    def from_bytes(cls, payload: bytes) -> PhotoTagModel:
        arrays, meta = unpack(payload)
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
        )


def fit_photo_tags(
    features: np.ndarray,
    post_image: Sequence[int],
    post_tags: Sequence[Sequence[str]],
    post_likes: Sequence[int],
    extractor_id: str,
) -> PhotoTagModel:
    """`features[i]` is image i's vector; post j shows image `post_image[j]`, carries
    `post_tags[j]` and got `post_likes[j]` likes."""
    features = np.asarray(features, np.float32)
    post_image = np.asarray(post_image, dtype=np.int32)
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
    n_images = len(features) if features.size else 0
    order = np.argsort(post_image, kind="stable").astype(np.int32)
    image_posts_ptr = np.concatenate(
        [[0], np.cumsum(np.bincount(post_image, minlength=n_images))]
    ).astype(np.int64)
    index = VectorIndex.build(features) if n_images else None
    return PhotoTagModel(
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
    )
