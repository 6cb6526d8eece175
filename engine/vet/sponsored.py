"""Sponsored share: how much of a creator's feed is paid, and whether the paid posts
engage like the rest (a feed of ads that nobody answers is a different buy).

A post counts as sponsored when it carries a disclosure tag in one of the languages
creators use (#ad, #anzeige, #werbung, #publi, #reklama ...) or Instagram's "paid
partnership with" line, which exports copy into the caption.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.core.engagement import engagement_rate

DISCLOSURE_TAGS = frozenset(
    {
        "ad",
        "ads",
        "advert",
        "sponsored",
        "anzeige",
        "werbung",
        "publi",
        "publicidad",
        "pub",
        "reklama",
        "spon",
        "sponsor",
        "paidpartnership",
    }
)
_CAPTION_TAG = re.compile(r"#(\w+)", re.UNICODE)
_PARTNERSHIP = re.compile(r"paid\s+partnership\s+with", re.IGNORECASE)


@dataclass
class SponsoredReport:
    posts: int
    sponsored_posts: list[str] = field(default_factory=list)
    sponsored_er: float | None = None  # median per-post ER, percent
    organic_er: float | None = None

    @property
    def share(self) -> float | None:
        return len(self.sponsored_posts) / self.posts if self.posts else None

    @property
    def reason(self) -> str:
        if not self.posts:
            return "no posts"
        text = f"{len(self.sponsored_posts)} of {self.posts} posts sponsored ({self.share:.0%})"
        if self.sponsored_er is not None and self.organic_er is not None:
            text += f"; ER sponsored {self.sponsored_er:.2f}% vs organic {self.organic_er:.2f}%"
        return text


def is_sponsored(caption: str | None, hashtags: object = None) -> bool:
    """A disclosure tag (in the hashtag list or the caption) or the partnership line."""
    text = caption if isinstance(caption, str) else ""
    tags = {t.lower().lstrip("#") for t in _tags(hashtags)}
    tags |= {t.lower() for t in _CAPTION_TAG.findall(text)}
    return bool(tags & DISCLOSURE_TAGS) or bool(_PARTNERSHIP.search(text))


def sponsored_share(own: pd.DataFrame, followers: float | None) -> SponsoredReport:
    """One creator's posts (the posts frame's columns) and follower count."""
    hashtags = own["hashtags"] if "hashtags" in own.columns else pd.Series(None, index=own.index)
    flags = np.array(
        [is_sponsored(c, h) for c, h in zip(own["caption"], hashtags, strict=True)], dtype=bool
    )
    report = SponsoredReport(len(own), own.loc[flags, "post_id"].astype(str).tolist())
    if followers and followers > 0 and len(own):
        er = engagement_rate(own["likes"], own["comments"], followers).to_numpy()
        report.sponsored_er = _median(er[flags])
        report.organic_er = _median(er[~flags])
    return report


def _median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else None


def _tags(hashtags: object) -> list[str]:
    if hashtags is None or isinstance(hashtags, float):
        return []
    if isinstance(hashtags, str):
        return hashtags.replace(",", " ").split()
    return [str(t) for t in hashtags]
