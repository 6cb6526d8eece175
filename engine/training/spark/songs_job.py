"""Songs counting on Spark: the report's cleaning rules over every post, the cleaned
(creator, song) usage table and the trending index's daily per-song counts. The driver
collects one row per (creator, song) and per (song, day); the recommenders (item-item
similarity, user CF, SVD, ALS via `implicit`) then fit on the collected usage matrix, as
locally: its size is creators x songs used, not posts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.core.engagement import PER_VIEW_PLATFORMS
from engine.songs.model import CleaningReport, CleaningRules, SongTables
from engine.songs.trending import TOP_TAGS, TrendingIndex, trend_anchor


def song_tables(tables: Any, rules: CleaningRules, config: dict[str, Any]) -> SongTables:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    report = CleaningReport()
    rows = tables.rows
    inf = tables.influencers.groupBy("handle").agg(
        F.first("followers").cast("double").alias("followers"),
        F.first("posts_count").cast("double").alias("declared"),
    )
    held = rows.groupBy("handle").agg(F.count("*").cast("double").alias("held"))
    per_creator = held.join(inf, "handle", "full").select(
        "handle",
        F.coalesce("declared", "held", F.lit(0.0)).alias("n_posts"),
        "followers",
    )
    is_reel = F.col("song_id").isNotNull() & (F.col("song_id") != "")
    # engine.core.engagement.platform_engagement_rate as columns (Spark cannot call numpy):
    # percent, per view on PER_VIEW_PLATFORMS where views are known, else per follower;
    # null where the basis is unknown, zero or negative.
    per_view = F.lower(F.col("platform")).isin(*sorted(PER_VIEW_PLATFORMS)) & (
        F.coalesce(F.col("views"), F.lit(0.0)) > 0
    )
    base = F.when(F.col("per_view"), F.col("views")).otherwise(F.col("followers"))
    frame = (
        rows.join(per_creator, "handle", "left")
        .withColumn("is_reel", is_reel)
        .withColumn("per_view", per_view)
        .withColumn("er", F.when(base > 0, 100.0 * (F.col("likes") + F.col("comments")) / base))
    ).cache()
    creators_with_songs = frame.where(F.col("song_id").isNotNull()).select("handle").distinct()
    n_with_songs = creators_with_songs.count()
    drops = [(F.col("er").isNull(), "no_followers")]
    if rules.max_posts is not None:
        drops.append((F.col("n_posts") > rules.max_posts, f"posts>{rules.max_posts}"))
    if rules.max_er is not None:
        drops.append((~F.col("per_view") & (F.col("er") > rules.max_er), f"er>{rules.max_er:g}%"))
    if rules.max_er_per_view is not None:
        over = F.col("per_view") & (F.col("er") > rules.max_er_per_view)
        drops.append((over, f"er_per_view>{rules.max_er_per_view:g}%"))
    names = [name for _, name in drops]
    stats = frame.agg(
        F.sum(F.col("is_reel").cast("long")).alias("reels_in"),
        *[
            F.sum(
                (F.col("is_reel") & F.coalesce(mask, F.lit(False)) & ~_any(drops[:i])).cast("long")
            ).alias(f"d{i}")
            for i, (mask, _) in enumerate(drops)
        ],
    ).first()
    report.reels_in = int(stats["reels_in"] or 0)
    for i, name in enumerate(names):
        report.dropped[name] = int(stats[f"d{i}"] or 0)
    kept = frame.where(~_any(drops))
    kept = kept.withColumn(
        "delta", F.col("er") - F.avg("er").over(Window.partitionBy("handle"))
    ).cache()
    reels = kept.where("is_reel").select(
        "handle",
        "song_id",
        "posted_at",
        F.coalesce(F.col("followers"), F.lit(0.0)).alias("followers"),  # per view: not needed
        "er",
        "delta",
        "n_posts",
    )
    usage = (
        reels.groupBy("handle", "song_id")
        .agg(
            F.count("*").alias("use_count"),
            F.avg("delta").alias("delta"),
            F.avg("er").alias("er"),
            F.first("followers").alias("followers"),
            F.max("posted_at").alias("last_used"),
            F.first("n_posts").alias("n_posts"),
        )
        .orderBy("handle", "song_id")
        .toPandas()
    )
    n_reels = reels.count()
    report.dropped["merged_duplicates"] = n_reels - len(usage)
    if rules.use_count_within_posts:
        over = usage["use_count"].astype(float) > usage["n_posts"].astype(float)
        report.dropped["use_count>posts"] = int(over.sum())
        usage = usage[~over].reset_index(drop=True)
    usage = usage.drop(columns=["n_posts"])
    report.rows_out = len(usage)
    trending = _trending(kept, reels, config)
    frame.unpersist()
    kept.unpersist()
    return SongTables(usage, report, trending, n_with_songs)


def _any(drops: list[tuple[Any, str]]) -> Any:
    from pyspark.sql import functions as F

    out = F.lit(False)
    for mask, _ in drops:
        out = out | F.coalesce(mask, F.lit(False))
    return out


def _trending(kept: Any, reels: Any, config: dict[str, Any]) -> TrendingIndex:
    """engine.songs.trending.TrendingIndex.build, counted per (song, day) on Spark; a
    song's tags are the top tags of the creators who used it (their top 10 over all
    their posts), as the local build does."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    horizon = int(config.get("trending_horizon_days", 60))
    min_support = int(config.get("trending_min_support", 3))
    reels = reels.withColumn("day", F.to_date("posted_at"))
    per_day = reels.groupBy("day").count().toPandas()  # one row a day: small
    anchor = trend_anchor(
        pd.Series(per_day["count"].to_numpy(), index=pd.to_datetime(per_day["day"])), horizon
    )
    as_of = None if anchor is None else anchor.date()
    if as_of is None:
        return TrendingIndex.build(pd.DataFrame(), horizon_days=horizon, min_support=min_support)
    song_ids = sorted(r[0] for r in reels.select("song_id").distinct().collect())
    pos = {s: i for i, s in enumerate(song_ids)}
    daily = (
        reels.withColumn("back", F.datediff(F.lit(as_of), F.col("day")))
        .where((F.col("back") >= 0) & (F.col("back") < horizon))
        .groupBy("song_id", "back")
        .agg(F.count("*").alias("uses"), F.sum("delta").alias("delta_sum"))
        .toPandas()
    )
    daily["song"] = daily["song_id"].map(pos)
    daily = daily.sort_values(["song", "back"]).reset_index(drop=True)
    tag_counts = (
        kept.select("handle", F.explode("hashtags").alias("tag"))
        .groupBy("handle", "tag")
        .agg(F.count("*").alias("n"))
    )
    creator_top = tag_counts.withColumn(
        "r",
        F.row_number().over(Window.partitionBy("handle").orderBy(F.desc("n"), "tag")),
    ).where(F.col("r") <= 10)
    song_tags = (
        reels.select("song_id", "handle")
        .join(creator_top.select("handle", "tag"), "handle")
        .groupBy("song_id", "tag")
        .agg(F.count("*").alias("n"))
    )
    top = (
        song_tags.withColumn(
            "rank",
            F.row_number().over(Window.partitionBy("song_id").orderBy(F.desc("n"), "tag")) - 1,
        )
        .where(F.col("rank") < TOP_TAGS)
        .toPandas()
    )
    tags = np.full((len(song_ids), TOP_TAGS), "", dtype=object)
    if len(top):
        tags[top["song_id"].map(pos).to_numpy(), top["rank"].to_numpy()] = top["tag"].to_numpy()
    daily = daily.rename(columns={"back": "day"})
    return TrendingIndex.from_counts(str(as_of), song_ids, daily, tags, horizon, min_support)
