"""The engagement rate, written once: every answer, filter, cleaning rule and export
that shows or compares an ER reads it from here, so the number a marketer filters on is
the number they were shown."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PERCENT = 100.0


def engagement_rate(likes: Any, comments: Any, followers: Any) -> Any:
    """ER in percent, (likes + comments) / followers * 100, element-wise for numpy arrays
    and pandas Series (a Series keeps its index) and plain numbers alike. Unknown where the
    follower count is missing, zero or negative: NaN, never a division warning or inf."""
    likes_f, comments_f, followers_f = (_floats(x) for x in (likes, comments, followers))
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.where(followers_f > 0, (likes_f + comments_f) / followers_f * PERCENT, np.nan)
    er = np.where(np.isfinite(er), er, np.nan)
    series = next((x for x in (followers, likes, comments) if isinstance(x, pd.Series)), None)
    if series is not None:
        return pd.Series(er, index=series.index)
    return float(er) if er.ndim == 0 else er


def _floats(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(values, dtype="float64")


def engagement_rate_or_none(likes: Any, comments: Any, followers: Any) -> float | None:
    """One creator's ER for display: None when it cannot be known."""
    er = engagement_rate(likes or 0, comments or 0, followers or 0)
    return None if np.isnan(er) else float(er)
