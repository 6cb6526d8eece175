"""The trust card behind the facade (issue 25): the store's Dataset, follower samples and
history read once per data state and reused for every card, and every creator's
quality, sponsored share and safety computed at most once per state (when an answer
first shows or filters that creator) for the `quality:`, `sponsored:` and `safe` filters
and the quality badge.

A card reads the whole store (its tier peers), about 0.1-0.3 s, so the facts are made
per creator on demand, not for the whole store up front: an answer of 10 creators costs
10 cards once, and nothing the next time.

The state is the published versions of the models plus the row counts: the daily
retrain (after the day's imports and syncs) moves it, and an import between retrains
changes the counts. It is checked at most every `recheck_seconds`, like the models.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

HISTORY_DAYS = 400  # follower history the card's jump check reads


@dataclass(frozen=True)
class TrustFacts:
    """One creator's filterable trust numbers: quality 0-100, the share of sponsored
    posts in percent (None: no posts), and whether no brand-safety category fired."""

    quality: float
    confidence: float
    sponsored_percent: float | None
    safe: bool

    @property
    def badge(self) -> str:
        return f"Q {self.quality:.0f}"


@dataclass
class _State:
    key: tuple
    data: Any  # engine.core.dataset.Dataset
    sample: pd.DataFrame | None
    history: pd.DataFrame | None
    facts: dict[str, TrustFacts] | None = None


class TrustCache:
    """`store`: a models.store.Store (or a fake with `frames`); `classifier`: returns the
    published `vet` model or None; `versions`: the published version of each kind."""

    def __init__(
        self,
        store: Any,
        classifier: Callable[[], Any],
        versions: Callable[[], tuple],
        recheck_seconds: float = 60.0,
    ) -> None:
        self._store = store
        self._classifier = classifier
        self._versions = versions
        self._recheck = recheck_seconds
        self._state: _State | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def card(self, handle: str, extra_safety: dict[str, list[str]] | None = None) -> Any:
        """The VetCard of a stored `handle` (already resolved by the facade)."""
        from engine.vet import vet

        state = self._current()
        return vet(
            state.data,
            handle,
            sample=state.sample,
            classifier=self._classifier(),
            history=state.history,
            extra_safety=extra_safety,
        )

    def facts(self, handles: list[str]) -> dict[str, TrustFacts]:
        """The trust numbers of `handles` (those the store knows), each computed once per
        data state. A store that cannot give its frames (an in-memory fake) knows none, so
        every trust filter fails, as for any unknown value."""
        if not hasattr(self._store, "frames"):
            return {}
        state = self._current()
        with self._lock:
            known = state.facts if state.facts is not None else {}
            state.facts = known
            missing = [h for h in dict.fromkeys(handles) if h not in known]
            if missing:
                known.update(self._table(state, missing))
        return {h: known[h] for h in handles if h in known}

    # ------------------------------------------------------------ internals
    def _current(self) -> _State:
        now = time.monotonic()
        state = self._state
        if state is not None and now - self._checked_at < self._recheck:
            return state
        with self._lock:
            key = self._key()
            self._checked_at = now
            if self._state is None or self._state.key != key:
                self._state = self._read(key)
            return self._state

    def _key(self) -> tuple:
        counts = self._store.counts() if hasattr(self._store, "counts") else {}
        return (self._versions(), tuple(sorted(counts.items())), self._sample_count())

    def _sample_count(self) -> int:
        if not hasattr(self._store, "session"):
            return 0
        from models.followers import sample_count

        with self._store.session() as s:
            return sample_count(s)

    def _read(self, key: tuple) -> _State:
        from engine.core.dataset import Dataset

        started = time.perf_counter()
        data = Dataset.read(self._store)
        sample, history = None, None
        if hasattr(self._store, "session"):
            from models import history as snapshots
            from models.followers import sample_rows

            since = date.today() - timedelta(days=HISTORY_DAYS)
            handles = data.influencers["handle"].astype(str).tolist()
            with self._store.session() as s:
                rows = sample_rows(s)
                series = snapshots.followers_by_day(s, handles, since)
            sample = pd.DataFrame(rows) if rows else None
            history = _history_frame(series)
        log.info("trust data read in %.2fs", time.perf_counter() - started)
        return _State(key, data, sample, history)

    def _table(self, state: _State, handles: list[str]) -> dict[str, TrustFacts]:
        from engine.vet import vet

        started = time.perf_counter()
        classifier = self._classifier()
        stored = set(state.data.influencers["handle"].astype(str))
        out: dict[str, TrustFacts] = {}
        for handle in (h for h in handles if h in stored):
            card = vet(state.data, handle, state.sample, classifier, state.history)
            share = card.sponsored.share
            out[handle] = TrustFacts(
                quality=round(card.score, 1),
                confidence=round(card.confidence, 2),
                sponsored_percent=None if share is None else round(100.0 * share, 1),
                safe=card.safety.safe,
            )
        log.info("trust table of %d creators in %.2fs", len(out), time.perf_counter() - started)
        return out


def _history_frame(series: dict[str, list[tuple[date, int]]]) -> pd.DataFrame | None:
    """(handle, day, followers) rows, the shape engine.vet reads; None without history."""
    rows = [(h, day, n) for h, points in series.items() for day, n in points]
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["handle", "day", "followers"])
