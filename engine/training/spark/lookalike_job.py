"""Lookalike counting on Spark: the recent-posts window per creator, the tokens of each
post (the same tokeniser, run in the executors' Python workers), (creator, token) counts
with the vocabulary rule, (creator, char token) counts, and each creator's newest posts'
likes, comments and views (the ER is then computed on the driver by the one formula,
engine.core.engagement.creator_engagement: no second ER in Spark columns).
The driver collects counts (creators x vocabulary, creators x char tokens), never posts, and
engine.lookalike builds PPMI, SVD and the sparse rows from them as it does locally."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.lookalike.model import LookalikeConfig, LookalikeCounts


def recent_rows(rows: Any, cfg: LookalikeConfig) -> Any:
    """engine.lookalike.model.recent_posts: the last `window_days` before the newest
    post, topped up to each creator's `min_posts_window` newest posts."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    newest = rows.agg(F.max("posted_at")).first()[0]
    order = Window.partitionBy("handle").orderBy(F.col("posted_at").desc_nulls_last(), "post_pk")
    ranked = rows.withColumn("_rank", F.row_number().over(order) - 1)
    keep = F.col("_rank") < cfg.min_posts_window
    if newest is not None:
        since = pd.Timestamp(newest) - pd.Timedelta(days=cfg.window_days)
        keep = keep | (F.col("posted_at") >= F.lit(since.to_pydatetime()))
    return ranked.where(keep).drop("_rank")


def _tokens_udf() -> Any:
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("array<string>")
    def tokens(caption: pd.Series, hashtags: pd.Series) -> pd.Series:
        from engine.lookalike.model import post_tokens

        return pd.Series([post_tokens(c, list(h)) for c, h in zip(caption, hashtags, strict=True)])

    return tokens


def _char_tokens_udf() -> Any:
    from pyspark.sql.functions import pandas_udf

    @pandas_udf("array<string>")
    def tokens(caption: pd.Series, hashtags: pd.Series) -> pd.Series:
        from engine.lookalike.model import char_tokens

        return pd.Series([char_tokens(c, list(h)) for c, h in zip(caption, hashtags, strict=True)])

    return tokens


def engagement_rows(rows: Any) -> pd.DataFrame:
    """engine.core.engagement.recent_posts on Spark: each creator's RECENT_POSTS newest
    posts' handle, posted_at, likes, comments, views and platform, collected (12 small
    rows a creator, not every post) for the driver's robust ER."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from engine.core.engagement import ENGAGEMENT_COLUMNS, RECENT_POSTS

    order = Window.partitionBy("handle").orderBy(F.col("posted_at").desc_nulls_last(), "post_pk")
    newest = rows.withColumn("_rank", F.row_number().over(order)).where(
        F.col("_rank") <= RECENT_POSTS
    )
    return newest.select(*ENGAGEMENT_COLUMNS).toPandas()


def lookalike_counts(tables: Any, cfg: LookalikeConfig) -> LookalikeCounts | None:
    from pyspark.sql import functions as F

    rows = tables.rows
    recent = recent_rows(rows, cfg).cache()
    handles = sorted(r[0] for r in recent.select("handle").distinct().collect())
    if not handles:
        recent.unpersist()
        return None
    hpos = {h: i for i, h in enumerate(handles)}
    tokens = recent.select(
        "handle", F.explode(_tokens_udf()("caption", "hashtags")).alias("token")
    ).withColumn(
        "w", F.when(F.col("token").startswith("#"), F.lit(cfg.tag_weight)).otherwise(F.lit(1.0))
    )
    tokens = tokens.cache()
    vocab_rows = (
        tokens.groupBy("token")
        .agg(F.countDistinct("handle").alias("n"))
        .where(F.col("n") >= cfg.min_creators)
        .orderBy(F.desc("n"), "token")
        .limit(cfg.max_vocab)
        .select("token")
        .collect()
    )
    vocab = {r[0]: i for i, r in enumerate(vocab_rows)}
    spark = rows.sparkSession
    vocab_df = spark.createDataFrame(
        pd.DataFrame({"token": list(vocab), "col": np.arange(len(vocab), dtype=np.int32)})
        if vocab
        else pd.DataFrame({"token": pd.Series([], dtype=str), "col": pd.Series([], dtype="int32")}),
        "token string, col int",
    )
    cells = (
        tokens.groupBy("handle", "token")
        .agg(F.sum("w").alias("n"))
        .join(F.broadcast(vocab_df), "token")
        .select("handle", "col", "n")
        .toPandas()
    )
    counts = _csr(cells, hpos, len(vocab), np.float64)
    chars, char_vocab = None, []
    if cfg.sparse_keep > 0:  # (creator, char token) counts; n-grams per distinct token later
        char_cells = (
            recent.select(
                "handle", F.explode(_char_tokens_udf()("caption", "hashtags")).alias("token")
            )
            .groupBy("handle", "token")
            .agg(F.count(F.lit(1)).alias("n"))
            .toPandas()
        )
        codes, uniques = pd.factorize(char_cells["token"])
        char_vocab = [str(t) for t in uniques]
        char_cells = char_cells.assign(col=codes)
        chars = _csr(char_cells, hpos, len(char_vocab), np.float32)
    engagement = engagement_rows(rows)
    tokens.unpersist()
    recent.unpersist()
    return LookalikeCounts(handles, counts, vocab, chars, engagement, char_vocab)


def _csr(cells: pd.DataFrame, hpos: dict[str, int], n_cols: int, dtype) -> sp.csr_matrix:
    rows = cells["handle"].map(hpos).to_numpy(dtype=np.int64)
    m = sp.csr_matrix(
        (cells["n"].to_numpy(dtype=dtype), (rows, cells["col"].to_numpy(dtype=np.int64))),
        shape=(len(hpos), n_cols),
    )
    m.sum_duplicates()
    m.sort_indices()
    return m
