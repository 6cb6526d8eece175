"""The store's tables as Spark DataFrames: from a Parquet snapshot (models.snapshot), or
read straight from Postgres over JDBC when a driver jar is configured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TABLES = ("influencers", "posts", "post_authors", "post_hashtags", "songs")


@dataclass
class SparkTables:
    """`rows`: one row per (post, author) as the Dataset's posts frame has them
    (post_pk, handle, posted_at, caption, likes, comments, song_id, platform, views (null
    when unknown), hashtags ordered by position, [] when none); `influencers` and `songs`
    as stored."""

    rows: Any
    influencers: Any
    songs: Any


def from_parquet(spark: Any, folder: str) -> SparkTables:
    frames = {t: spark.read.parquet(f"{folder.rstrip('/')}/{t}.parquet") for t in TABLES}
    return assemble(frames)


def jdbc_url(database_url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy Postgres URL as Spark's JDBC URL and connection properties."""
    from sqlalchemy.engine import make_url

    u = make_url(database_url)
    if not u.drivername.startswith("postgresql"):
        raise ValueError(f"JDBC reads need a PostgreSQL database, not {u.drivername}")
    props = {"user": u.username or "", "driver": "org.postgresql.Driver"}
    if u.password:
        props["password"] = str(u.password)
    return f"jdbc:postgresql://{u.host or 'localhost'}:{u.port or 5432}/{u.database}", props


# The post tables are read in ranges of post_pk, one JDBC connection per range, so the
# executors share the read (one connection would stream a billion posts alone).
PARTITIONED = ("posts", "post_authors", "post_hashtags")


def from_jdbc(spark: Any, database_url: str, partitions: int | None = None) -> SparkTables:
    """`partitions`: ranges per post table (default: Spark's default parallelism)."""
    from models.queries import jdbc_queries  # the store's own SELECTs, as Postgres text

    url, props = jdbc_url(database_url)

    def reader(**options: Any) -> Any:
        r = spark.read.format("jdbc").option("url", url)
        for k, v in {**props, **options}.items():
            r = r.option(k, v)
        return r

    bounds = reader(query="select min(id) as lo, max(id) as hi from posts").load().first()
    parts = partitions or spark.sparkContext.defaultParallelism
    frames = {}
    for table, query in jdbc_queries().items():
        if table in PARTITIONED and bounds["lo"] is not None and parts > 1:
            frames[table] = reader(
                dbtable=f"({query}) as t",
                partitionColumn="post_pk",
                lowerBound=int(bounds["lo"]),
                upperBound=int(bounds["hi"]) + 1,
                numPartitions=parts,
            ).load()
        else:
            frames[table] = reader(query=query).load()
    return assemble(frames)


def assemble(frames: dict[str, Any]) -> SparkTables:
    from pyspark.sql import functions as F

    tags = (
        frames["post_hashtags"]
        .groupBy("post_pk")
        .agg(F.sort_array(F.collect_list(F.struct("position", "tag"))).alias("s"))
        .select("post_pk", F.col("s.tag").alias("hashtags"))
    )
    posts = frames["posts"].select(
        "post_pk",
        "post_id",
        "posted_at",
        "caption",
        F.coalesce(F.col("likes"), F.lit(0)).cast("long").alias("likes"),
        F.coalesce(F.col("comments"), F.lit(0)).cast("long").alias("comments"),
        "song_id",
        F.coalesce(F.col("platform"), F.lit("instagram")).alias("platform"),
        F.col("views").cast("double").alias("views"),
    )
    rows = (
        frames["post_authors"]
        .select("post_pk", "handle")
        .join(posts, "post_pk")
        .join(tags, "post_pk", "left")
        .withColumn("hashtags", F.coalesce(F.col("hashtags"), F.array().cast("array<string>")))
    )
    return SparkTables(rows, frames["influencers"], frames["songs"])
