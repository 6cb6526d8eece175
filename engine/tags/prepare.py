"""How TopicTensor prepared tags before learning from them: normalised, without
non-topical tags, only tags used by enough different creators, each creator's favourite
tags down-weighted, and the tags of a post shuffled (a post's tags are a set)."""

from __future__ import annotations

import os
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.core.blacklist import NON_TOPICAL
from engine.core.text import normalize_tag

if TYPE_CHECKING:
    pass

METHODS = ("skipgram", "cbow", "ppmi")
# related-tag scores: "vectors" = cosine of the shipped embedding
RELATED = ("auto", "ochiai", "ppmi_sparse", "vectors")


@dataclass(frozen=True)
class TagConfig:
    """Everything configurable (the pipeline's `tags` config section)."""

    min_bloggers: int = (
        5  # 3 keeps personal brand tags (#rosafood) of namesakes; quality 0.4297 vs 0.4276
    )
    favourite_cap: int = 6  # a blogger contributes at most this many posts per tag
    blacklist: frozenset[str] = NON_TOPICAL
    extra_blacklist: frozenset[str] = frozenset()
    vector_size: int = 128  # PPMI-SVD measured best at 128 of 32/64/128/200 on both corpora
    window: int = 30  # larger than any post: a shuffled post is one bag of tags
    epochs: int = 10
    negative: int = 5
    method: str = "auto"  # auto | skipgram | cbow | ppmi | blend
    # Word2Vec never won at any measured size (HARRISON 0.061/0.067 against 0.136 for
    # PPMI+SVD, demo likewise) and cost most of the fit, so `auto` fits it only on request
    word2vec: bool = False
    related: str = "auto"  # what `hashtags "#tag"` ranks by; auto = best held-out
    related_top: int = 100  # related tags kept per tag
    holdout: float = 0.1
    refit: bool = True  # refit the chosen method on all posts after measuring
    cds_alpha: float = 0.75  # PPMI context-distribution smoothing (Levy et al.)
    # blogger score = sim / (log(likes)^lam * log(followers)^phi * log(tags)^tau)
    lam: float = 0.0
    phi: float = 0.0
    tau: float = 0.0  # λ = φ = τ = 0 measured best on demo p@20 (τ 0.5: 0.985 single-tag)
    workers: int = 0  # 0 = all cores

    @classmethod
    def from_dict(cls, cfg: dict[str, Any] | None) -> TagConfig:
        cfg = dict(cfg or {})
        for key in ("blacklist", "extra_blacklist"):
            if key in cfg:
                cfg[key] = frozenset(normalize_tag(t) for t in cfg[key])
        unknown = set(cfg) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown tags config keys: {', '.join(sorted(unknown))}")
        out = cls(**cfg)
        for name in ("lam", "phi", "tau"):
            if not 0.0 <= getattr(out, name) <= 1.0:
                raise ValueError(f"tags config {name} must be in [0, 1]")
        if out.method not in (*METHODS, "blend", "auto"):
            raise ValueError(f"tags config method must be auto, blend or one of {METHODS}")
        if out.related not in RELATED:
            raise ValueError(f"tags config related must be one of {', '.join(RELATED)}")
        return out

    @property
    def stop(self) -> frozenset[str]:
        return self.blacklist | self.extra_blacklist

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


# ------------------------------------------------------------------ preparation
def clean_post_tags(tags: Sequence[str], stop: frozenset[str]) -> list[str]:
    """Normalised, de-duplicated, without blacklisted tags, numerals and one-letter tags."""
    seen: dict[str, None] = {}
    for raw in tags:
        tag = normalize_tag(raw)
        if len(tag) < 2 or tag in stop or tag.isdigit():
            continue
        seen.setdefault(tag, None)
    return list(seen)


def tag_bloggers(posts: list[list[str]], owners: Sequence[str]) -> Counter:
    """How many different bloggers used each tag."""
    pairs = {(o, t) for o, tags in zip(owners, posts, strict=True) for t in tags}
    return Counter(t for _, t in pairs)


def favourite_key(seed: int, post_key: str, tag: str) -> int:
    """The order in which a creator's posts keep a capped favourite tag (smallest
    first): a hash of the post and tag, so any machine (the Spark backend's executors
    too) makes the same choice without a shared random stream."""
    return zlib.crc32(f"{seed}:{post_key}:{tag}".encode())


def prepare_sentences(
    posts: list[list[str]],
    owners: Sequence[str],
    cfg: TagConfig,
    seed: int,
    keys: Sequence[str] | None = None,
) -> tuple[list[list[str]], dict[str, int]]:
    """Training sentences and the vocabulary (tag -> number of bloggers using it).

    `posts` are cleaned tag lists. A blogger's favourite tag is kept on only
    `favourite_cap` of their posts, chosen at random, so that a blogger who tags
    every one of 500 posts #mybrand adds as much co-occurrence as one who did it 6 times.
    With `keys` (one per post: post id and handle) the kept posts are those with the
    smallest `favourite_key`, as the Spark backend chooses them.
    """
    rng = np.random.default_rng(seed)
    bloggers = tag_bloggers(posts, owners)
    vocab = {t: n for t, n in bloggers.items() if n >= cfg.min_bloggers}
    kept = [[t for t in tags if t in vocab] for tags in posts]
    by_blogger_tag: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, (owner, tags) in enumerate(zip(owners, kept, strict=True)):
        for t in tags:
            by_blogger_tag[(owner, t)].append(i)
    drop: set[tuple[int, str]] = set()
    for (_, t), rows in by_blogger_tag.items():
        if len(rows) > cfg.favourite_cap:
            if keys is not None:
                order = sorted(rows, key=lambda i, t=t: favourite_key(seed, keys[i], t))
                drop.update((i, t) for i in order[cfg.favourite_cap :])
                continue
            chosen = rng.choice(len(rows), size=len(rows) - cfg.favourite_cap, replace=False)
            drop.update((rows[j], t) for j in chosen)
    sentences = []
    for i, tags in enumerate(kept):
        tags = [t for t in tags if (i, t) not in drop] if drop else list(tags)
        if len(tags) >= 2:
            rng.shuffle(tags)
            sentences.append(tags)
    return sentences, vocab
