"""The like-based tag rating from the photo-hashtag write-up, in one place for every
model that shows it (related hashtags, photo hashtags):

    adj_likes(post) = likes / number_of_hashtags on the post   (many tags share credit)
    adj_likes(tag)  = mean over the tag's posts, min-max normalised 0..1 over tags
    rating(tag)     = log(1 + count) · adj_likes(tag)

log(1 + count) rather than log(count), so a tag seen on one post is not zeroed.
"""

from __future__ import annotations

import numpy as np


def like_rating(
    tag_ids: np.ndarray,
    post_of_entry: np.ndarray,
    likes: np.ndarray,
    hashtags_per_post: np.ndarray,
    n_tags: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(count, rating) per tag. One entry per (post, tag): `tag_ids[j]` was used on
    post `post_of_entry[j]`; `hashtags_per_post` is each post's own number of tags."""
    likes = np.asarray(likes, dtype=np.float64)
    adj = likes / np.maximum(np.asarray(hashtags_per_post, dtype=np.float64), 1.0)
    count = np.bincount(tag_ids, minlength=n_tags).astype(np.int64)
    adj_sum = np.bincount(tag_ids, weights=adj[post_of_entry], minlength=n_tags)
    return count, rating_from_sums(count, adj_sum)


def rating_from_sums(count: np.ndarray, adj_sum: np.ndarray) -> np.ndarray:
    """The rating from each tag's post count and sum of adj_likes (counted anywhere:
    here, or by the Spark backend)."""
    count = np.asarray(count, dtype=np.int64)
    n_tags = len(count)
    adj_mean = adj_sum / np.maximum(count, 1)
    used = count > 0
    lo, hi = (adj_mean[used].min(), adj_mean[used].max()) if used.any() else (0.0, 0.0)
    norm = (adj_mean - lo) / (hi - lo) if hi > lo else np.ones(n_tags)
    return np.log1p(count) * np.where(used, norm, 0.0)
