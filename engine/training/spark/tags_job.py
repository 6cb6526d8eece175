"""Tags counting on Spark, with TopicTensor's preparation rules: tags cleaned per post
(the same function, in the executors' Python workers), a held-out share of posts, tags
used by at least `min_bloggers` creators, each creator's favourite tag kept on at most
`favourite_cap` of their posts, then tag co-occurrence within posts. The driver collects
tags x tags counts and per-creator sums; engine.tags builds PPMI + SVD and the Ochiai
related-tag rows from them as it does locally.

One choice differs from the local run by design: the held-out posts are chosen by a hash
of the post (not a permutation of row positions), which moves the held-out quality a
little but not the shipped model (refitted on all posts), ; the favourite-tag cap keeps the posts with
the smallest engine.tags.prepare.favourite_key, as the local run does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from engine.tags.embeddings import Cooc
from engine.tags.model import TagCounts
from engine.tags.prepare import TagConfig
from engine.training.spark.lookalike_job import engagement_rows

HELD_SAMPLE = 20_000  # held-out posts collected for the quality measure


def _cleaner(stop: frozenset[str]):
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("array<string>")
    def clean(hashtags: pd.Series) -> pd.Series:
        from engine.tags.prepare import clean_post_tags

        return pd.Series([clean_post_tags(list(h), stop) for h in hashtags])

    return clean


def _favourite_key(seed: int):
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("long")
    def key(post_key: pd.Series, tag: pd.Series) -> pd.Series:
        from engine.tags.prepare import favourite_key

        return pd.Series([favourite_key(seed, k, t) for k, t in zip(post_key, tag, strict=True)])

    return key


def prepared_cooc(posts: Any, cfg: TagConfig, seed: int) -> Cooc:
    """engine.tags.prepare.prepare_sentences then engine.tags.embeddings.cooccurrence.
    `posts`: rid, handle, tags (cleaned)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    uses = posts.select("rid", "pkey", "handle", F.explode("tags").alias("tag"))
    bloggers = uses.groupBy("tag").agg(F.countDistinct("handle").alias("nb"))
    kept = uses.join(bloggers.where(F.col("nb") >= cfg.min_bloggers).select("tag"), "tag")
    kept = kept.withColumn("fk", _favourite_key(seed)("pkey", "tag"))
    pick = Window.partitionBy("handle", "tag").orderBy("fk", "rid")
    capped = kept.withColumn("k", F.row_number().over(pick)).where(F.col("k") <= cfg.favourite_cap)
    sizes = capped.groupBy("rid").agg(F.count("*").alias("len")).where(F.col("len") >= 2)
    sent = capped.join(sizes.select("rid"), "rid").select("rid", "tag").cache()
    per_tag = sent.groupBy("tag").agg(F.count("*").alias("posts")).toPandas()
    tags = sorted(per_tag["tag"].astype(str))
    pos = {t: i for i, t in enumerate(tags)}
    a, b = sent.alias("a"), sent.alias("b")
    pairs = (
        a.join(b, (F.col("a.rid") == F.col("b.rid")) & (F.col("a.tag") != F.col("b.tag")))
        .groupBy(F.col("a.tag").alias("i"), F.col("b.tag").alias("j"))
        .agg(F.count("*").alias("n"))
        .toPandas()
    )
    sent.unpersist()
    co = sparse.csr_matrix(
        (
            pairs["n"].to_numpy(np.float32),
            (pairs["i"].map(pos).to_numpy(np.int64), pairs["j"].map(pos).to_numpy(np.int64)),
        ),
        shape=(len(tags), len(tags)),
    )
    posts_per_tag = per_tag.set_index("tag")["posts"].reindex(tags).to_numpy(np.float32)
    return Cooc(tags, co, posts_per_tag)


def tag_counts(tables: Any, cfg: TagConfig, seed: int) -> TagCounts:
    from pyspark.sql import functions as F

    rows = tables.rows.select(
        F.concat_ws(":", F.col("post_pk").cast("string"), "handle").alias("rid"),
        F.concat_ws(":", "post_id", "handle").alias("pkey"),
        "handle",
        "likes",
        "comments",
        F.size("hashtags").alias("raw"),
        _cleaner(cfg.stop)("hashtags").alias("tags"),
    ).cache()
    n = rows.count()
    bucket = F.abs(F.xxhash64("rid", F.lit(seed))) % 10_000
    is_held = (bucket < int(round(cfg.holdout * 10_000))) if n >= 10 else F.lit(False)
    rows = rows.withColumn("held", is_held)
    train = prepared_cooc(rows.where(~F.col("held")), cfg, seed)
    full = prepared_cooc(rows, cfg, seed) if cfg.refit else train
    held = [
        list(r[0])
        for r in rows.where("held").select("tags").orderBy("rid").limit(HELD_SAMPLE).collect()
    ]
    uses = rows.select("handle", "likes", "raw", F.explode("tags").alias("tag"))
    bloggers = uses.groupBy("tag").agg(F.countDistinct("handle").alias("nb")).toPandas()
    creator_tags = uses.groupBy("handle", "tag").agg(F.count("*").alias("n")).toPandas()
    creators = (
        rows.groupBy("handle")
        .agg(
            F.count("*").alias("posts"),
            F.sum(F.col("likes").cast("double")).alias("likes"),
            F.sum(F.col("comments").cast("double")).alias("comments"),
        )
        .toPandas()
    )
    adj = F.col("likes").cast("double") / F.greatest(F.col("raw").cast("double"), F.lit(1.0))
    tag_likes = (
        uses.groupBy("tag").agg(F.count("*").alias("count"), F.sum(adj).alias("adj_sum")).toPandas()
    )
    rows.unpersist()
    return TagCounts(
        train,
        full,
        held,
        dict(zip(bloggers["tag"], bloggers["nb"].astype(int), strict=True)),
        creator_tags,
        creators,
        tag_likes,
        engagement_rows(tables.rows),  # the driver computes the one robust ER from them
    )
