"""engine.songs' counted inputs (engine.songs.model.SongTables) from integer columns:
engine.songs.model.reel_table's cleaning rules over every row, in the same order and
with the same drop counts, each creator's top tags by counting (creator, tag) ids, then
the usage table (engine.songs.model.usage_from_reels) and the trending index
(engine.songs.trending.TrendingIndex.build) from the surviving reels, as the frame path
builds them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.core.engagement import platform_engagement_rate
from engine.songs.model import CleaningReport, CleaningRules, SongTables, usage_from_reels
from engine.songs.trending import TrendingIndex
from engine.training.columnar.columns import PostColumns
from engine.training.columnar.lookalike_counts import string_ranks

TOP_CREATOR_TAGS = 10  # engine.songs.model.creator_top_tags' n


def posts_per_creator(cols: PostColumns, influencers: pd.DataFrame) -> np.ndarray:
    """Per handle id: the profile's posts_count where known, else the rows held
    (engine.songs.model._posts_per_creator)."""
    held = np.bincount(cols.handle, minlength=len(cols.handles)).astype(float)
    declared = pd.to_numeric(
        influencers.drop_duplicates("handle").set_index("handle")["posts_count"], errors="coerce"
    )
    known = declared.reindex(cols.handles).to_numpy(dtype=float)
    return np.where(np.isnan(known), held, known)


def creator_top_tags(cols: PostColumns, rows: np.ndarray) -> dict[int, list[str]]:
    """Per handle id: its TOP_CREATOR_TAGS most used hashtags over `rows`, most used
    first, ties by tag name."""
    part = cols.tags.take(rows)
    if not len(part.ids):
        return {}
    n_tags = len(cols.tag_vocab)
    who = cols.handle[rows].astype(np.int64)[part.owners()]
    pair, n = np.unique(who * n_tags + part.ids, return_counts=True)
    h, t = pair // n_tags, pair % n_tags
    order = np.lexsort((string_ranks(cols.tag_vocab)[t], -n, h))
    h, t = h[order], t[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    rank = np.arange(len(h)) - np.repeat(starts, np.diff(np.r_[starts, len(h)]))
    top = rank < TOP_CREATOR_TAGS
    names = np.asarray(cols.tag_vocab, dtype=object)
    out: dict[int, list[str]] = {}
    for hid, tag in zip(h[top].tolist(), names[t[top]].tolist(), strict=True):
        out.setdefault(hid, []).append(tag)
    return out


def song_tables(
    cols: PostColumns, influencers: pd.DataFrame, rules: CleaningRules, config: dict[str, Any]
) -> SongTables:
    report = CleaningReport()
    inf = influencers.drop_duplicates("handle").set_index("handle")
    followers = pd.to_numeric(inf["followers"], errors="coerce").reindex(cols.handles)
    row_followers = followers.to_numpy(dtype=float)[cols.handle]
    platform = np.asarray(cols.platforms, dtype=str)[cols.platform]
    er, per_view = platform_engagement_rate(
        cols.likes.astype(float), cols.comments.astype(float), row_followers, cols.views, platform
    )
    er, per_view = np.asarray(er, dtype=float), np.asarray(per_view, dtype=bool)
    is_reel = cols.song >= 0
    report.reels_in = int(is_reel.sum())
    alive = np.ones(len(cols), dtype=bool)

    def drop(mask: np.ndarray, rule: str) -> None:
        mask = mask & alive
        report.dropped[rule] = int((mask & is_reel).sum())
        alive[mask] = False

    drop(np.isnan(er), "no_followers")
    n_posts = posts_per_creator(cols, influencers)
    if rules.max_posts is not None:
        drop(n_posts[cols.handle] > rules.max_posts, f"posts>{rules.max_posts}")
    with np.errstate(invalid="ignore"):
        if rules.max_er is not None:
            drop(~per_view & (er > rules.max_er), f"er>{rules.max_er:g}%")
        if rules.max_er_per_view is not None:
            drop(per_view & (er > rules.max_er_per_view), f"er_per_view>{rules.max_er_per_view:g}%")
    kept = np.flatnonzero(alive)
    h = cols.handle[kept]
    sums = np.bincount(h, weights=er[kept], minlength=len(cols.handles))
    counts = np.bincount(h, minlength=len(cols.handles))
    with np.errstate(invalid="ignore", divide="ignore"):
        creator_er = sums / counts
    reel_rows = kept[is_reel[kept]]
    top = creator_top_tags(cols, kept)
    handles = np.asarray(cols.handles, dtype=object)
    rh = cols.handle[reel_rows]
    reels = pd.DataFrame(
        {
            "handle": handles[rh],
            "song_id": np.asarray(cols.songs, dtype=object)[cols.song[reel_rows]],
            "posted_at": cols.posted_at[reel_rows],
            "followers": np.nan_to_num(row_followers[reel_rows], nan=0.0),
            "er": er[reel_rows],
            "delta": er[reel_rows] - creator_er[rh],
            "creator_tags": [top.get(x) for x in rh.tolist()],
        }
    )
    per_creator = pd.Series(n_posts, index=cols.handles)
    usage = usage_from_reels(reels, rules, per_creator, report)
    trending = TrendingIndex.build(
        reels,
        horizon_days=int(config.get("trending_horizon_days", 60)),
        min_support=int(config.get("trending_min_support", 3)),
    )
    with_songs = int(len(np.unique(cols.handle[is_reel])))
    return SongTables(usage, report, trending, with_songs)
