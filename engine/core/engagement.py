"""The engagement rate, written once: every answer, filter, cleaning rule and export
that shows or compares an ER reads it from here, so the number a marketer filters on is
the number they were shown.

Two bases, one formula: per follower (the Instagram reading, the report's) and per view.
On TikTok and YouTube a video reaches people who do not follow its creator (a viral
TikTok reel has 100x its creator's followers in plays), so there engagement follows
views, and a per-follower ER of 300% says nothing about the reel."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PERCENT = 100.0
# Platforms whose reach is counted in views: their ER is per view where the views are known.
PER_VIEW_PLATFORMS = frozenset({"tiktok", "youtube"})


def engagement_rate(likes: Any, comments: Any, followers: Any) -> Any:
    """ER in percent, (likes + comments) / followers * 100, element-wise for numpy arrays
    and pandas Series (a Series keeps its index) and plain numbers alike. Unknown where the
    follower count is missing, zero or negative: NaN, never a division warning or inf."""
    return _rate(likes, comments, followers)


def engagement_rate_per_view(likes: Any, comments: Any, views: Any) -> Any:
    """ER per view in percent, (likes + comments) / views * 100; NaN where the views are
    missing or zero (shaped as engagement_rate)."""
    return _rate(likes, comments, views)


def platform_engagement_rate(
    likes: Any, comments: Any, followers: Any, views: Any, platform: Any
) -> tuple[Any, Any]:
    """(ER in percent, True where it is per view): per view on PER_VIEW_PLATFORMS where
    the views are known (> 0), per follower everywhere else. Shaped as engagement_rate;
    `platform` may be one name or one per row."""
    views_f, followers_f = _floats(views), _floats(followers)
    names = np.char.lower(np.asarray(platform, dtype=str))
    on_views = np.isin(names, list(PER_VIEW_PLATFORMS))
    per_view = np.broadcast_to(on_views, np.shape(views_f)) & (np.nan_to_num(views_f) > 0)
    base = np.where(per_view, views_f, followers_f)
    er = _rate(likes, comments, base)
    series = _series_of(likes, comments, followers, views)
    if series is not None:
        er = pd.Series(np.asarray(er), index=series.index)
        return er, pd.Series(per_view, index=series.index)
    return er, (bool(per_view) if per_view.ndim == 0 else per_view)


def _rate(likes: Any, comments: Any, base: Any) -> Any:
    likes_f, comments_f, base_f = (_floats(x) for x in (likes, comments, base))
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.where(base_f > 0, (likes_f + comments_f) / base_f * PERCENT, np.nan)
    er = np.where(np.isfinite(er), er, np.nan)
    series = _series_of(base, likes, comments)
    if series is not None:
        return pd.Series(er, index=series.index)
    return float(er) if er.ndim == 0 else er


def _series_of(*values: Any) -> pd.Series | None:
    return next((x for x in values if isinstance(x, pd.Series)), None)


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def engagement_rate_or_none(likes: Any, comments: Any, followers: Any) -> float | None:
    """One creator's ER for display: None when it cannot be known."""
    er = engagement_rate(likes or 0, comments or 0, followers or 0)
    return None if np.isnan(er) else float(er)
