"""How far the tags model beats a model that learned nothing: its held-out figures
divided by what plain tag popularity scores on the same held-out posts.

Why: TopicTensor's quality is relative to the model's own vocabulary, so data scrambled
on purpose can keep it (hashtag lists shuffled across posts keep every co-occurrence but
spread each tag over more creators, which admits more tags: 386 -> 827 on the probe's
data). Against a popularity baseline the two ways of scrambling fall to chance or
below: tags shuffled across posts leave related tags no better than the most used
ones (`lift.related`), and hashtag lists shuffled across creators leave a creator's
own history no better than the most used tags at predicting their next post
(`lift.creators`). Each lift is about 1 for a model that learned nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from engine.tags.embeddings import Cooc, Related, topic_quality


def post_counts(sentences: list[list[str]] | Cooc, tags: list[str]) -> np.ndarray:
    """Training posts carrying each of `tags` (the popularity that baseline ranks by)."""
    if isinstance(sentences, Cooc):
        pos = {t: i for i, t in enumerate(sentences.tags)}
        return np.array(
            [sentences.posts[pos[t]] if t in pos else 0 for t in tags], dtype=np.float64
        )
    counts = Counter(t for s in sentences for t in set(s))
    return np.array([counts.get(t, 0) for t in tags], dtype=np.float64)


def popularity_scores(tags: list[str], counts: np.ndarray, width: int) -> Related:
    """Every tag's related tags are just the `width` most used other tags: scored by
    the very metric the real scores are, it is the chance level of TopicTensor's
    quality on these posts."""
    order = np.argsort(-counts, kind="stable")[: width + 1]
    n = len(tags)
    rows = np.repeat(np.arange(n), len(order))
    cols = np.tile(order, n)
    keep = rows != cols
    data = counts[cols[keep]].astype(np.float32) + 1.0  # >0 so no candidate is dropped
    scores = sparse.csr_matrix((data, (rows[keep], cols[keep])), shape=(n, n))
    return Related("popularity", list(tags), scores)


def related_lift(
    scorer_tags: list[str], quality: float, counts: np.ndarray, held: list[list[str]]
) -> float | None:
    """The shipped related-tag quality over the popularity baseline's on `held`; None
    when popularity hits nothing there (no held-out post to measure on)."""
    width = max((len(p) for p in held), default=1)
    base = topic_quality(popularity_scores(scorer_tags, counts, min(width, 30)), held)["quality"]
    return quality / base if base > 0 else None


def creator_lift(
    train: Sequence[list[str]],
    train_owners: Sequence[str],
    held: Sequence[list[str]],
    held_owners: Sequence[str],
    tags: list[str],
    max_tags: int = 30,
) -> float | None:
    """Hits of a creator's n most used training tags among each held-out post's n known
    tags, over the hits of the n most used tags overall; None when no held-out post has
    a creator with training posts (nothing to measure)."""
    vocab = set(tags)
    profile: dict[str, Counter] = {}
    overall: Counter = Counter()
    for post, owner in zip(train, train_owners, strict=True):
        known = [t for t in post if t in vocab]
        profile.setdefault(owner, Counter()).update(known)
        overall.update(known)
    popular = [t for t, _ in overall.most_common(max_tags)]
    own_hits = pop_hits = 0
    for post, owner in zip(held, held_owners, strict=True):
        known = set([t for t in post if t in vocab][:max_tags])
        if not known or owner not in profile:
            continue
        n = len(known)
        own_hits += len(known.intersection(t for t, _ in profile[owner].most_common(n)))
        pop_hits += len(known.intersection(popular[:n]))
    if pop_hits == 0:
        return None
    return own_hits / pop_hits
