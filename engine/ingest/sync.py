"""`python -m engine sync`: pull what is due from each per-creator source (the Graph
API for Instagram, the Data API for YouTube), oldest first and within each source's
limits, and write it through the import's upserts (models/writer.py) plus the dated
snapshots (models/history.py).

Each handle is one transaction holding its creator, posts, songs, snapshots, its
watchlist times, the discovered candidates and the source's counters, so a sync killed
at any point resumes with the next handle and loses nothing; and every write is an
upsert or a "changed?" check, so a second sync with nothing new adds no posts and no
snapshot rows. A source that fails is recorded and skipped; the others go on.

Post images are only recorded as URLs: the photos kind featurises new images at train
time through its content-addressed feature cache (engine/photos/kind.py), so nothing is
fetched here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from engine.core.errors import ScoutError
from engine.core.settings import Settings
from engine.ingest.sources import (
    Clock,
    CreatorFetch,
    GraphSource,
    HashtagBudget,
    PostRecord,
    QuotaMeter,
    SourceSettings,
    SystemClock,
    YouTubeSource,
)

log = logging.getLogger(__name__)

SOURCES = {"instagram_graph": "instagram", "youtube": "youtube"}  # name -> platform
PLATFORMS = ("instagram", "youtube", "tiktok")  # tiktok arrives by scraper datasets only
SYNC_EVERY = timedelta(days=1)
UNAVAILABLE_RETRY = timedelta(days=7)  # a gone or private handle is tried again weekly
PROBLEM_RETRY = timedelta(hours=1)
STOPPING = ("token_invalid", "quota_exhausted", "rate_limited")  # the source goes no further


@dataclass
class SourceRun:
    """One source's part of a sync: what it did and why it stopped, if it did."""

    source: str
    synced: int = 0
    unavailable: int = 0
    new_posts: int = 0
    calls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    stopped: str | None = None  # one line: why the source went no further
    skipped: str | None = None  # one line: why it did not run at all
    discovered: int = 0  # candidates it added to the watchlist


@dataclass
class SyncReport:
    runs: list[SourceRun]
    discovered: int = 0
    pruned: tuple[int, int] = (0, 0)  # creator and post snapshot rows


def _naive(moment: datetime) -> datetime:
    """Naive UTC, as the store keeps times."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def day_start(moment: datetime) -> datetime:
    return datetime.combine(_naive(moment).date(), datetime.min.time())


class Sync:
    """One sync over `store` (a models.store.Store). `clock` is the sources' clock
    (tests and benchmarks hand in a ManualClock)."""

    def __init__(
        self,
        store: Any,
        settings: Settings,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock or SystemClock()

    def run(self, only: str | None = None, *, everything: bool = False) -> SyncReport:
        if only is not None and only not in SOURCES:
            raise ScoutError(f"unknown source {only!r}; expected one of {', '.join(SOURCES)}")
        report = SyncReport([])
        for name in SOURCES:
            if only is None or only == name:
                try:
                    report.runs.append(self._run_source(name, everything, report))
                except Exception as err:  # noqa: BLE001 - one failing source never stops the rest
                    log.exception("sync of %s failed", name)
                    report.runs.append(SourceRun(name, stopped=f"failed: {_line(err)}"))
        report.pruned = self._prune()
        return report

    # ------------------------------------------------------------ one source
    def _run_source(self, name: str, everything: bool, report: SyncReport) -> SourceRun:
        from models import watchlist

        run = SourceRun(name)
        now = _naive(self.clock.now())
        with self.store.session() as s:
            state = watchlist.load_state(s, name)
            _roll_day(state, now.date())
            state.last_sync_started_at = now
            adapter, missing = self._adapter(name, state.counters or {})
            if adapter is None:
                state.token_state, state.token_message = "missing", missing
            watchlist.save_state(s, state)
            handles = watchlist.due(s, SOURCES[name], now, everything=everything)
        if adapter is None:
            run.skipped = missing
            return run
        for handle in handles:
            if adapter.stopped or run.stopped:
                break
            if handle.startswith("#"):
                self._hashtag(adapter, handle, run, report)
            else:
                self._creator(adapter, handle, run, report)
        self._finish(name, adapter, run)
        return run

    def _adapter(self, name: str, counters: dict[str, Any]) -> tuple[Any, str | None]:
        settings = SourceSettings.from_settings(self.settings)
        if name == "instagram_graph":
            if not settings.ig_user_id or not settings.ig_access_token:
                return None, "not configured: set SCOUT_IG_USER_ID and SCOUT_IG_ACCESS_TOKEN"
            budget = HashtagBudget.from_dict(counters.get("hashtags") or {})
            return GraphSource(settings, clock=self.clock, hashtags=budget), None
        if not settings.yt_api_key:
            return None, "not configured: set SCOUT_YT_API_KEY"
        meter = QuotaMeter.from_dict(counters.get("quota") or {})
        meter.limit = settings.yt_quota
        return YouTubeSource(settings, clock=self.clock, quota=meter), None

    def _finish(self, name: str, adapter: Any, run: SourceRun) -> None:
        from models import watchlist

        with self.store.session() as s:
            state = watchlist.load_state(s, name)
            state.last_sync_finished_at = _naive(self.clock.now())
            if adapter.stopped is None and state.token_state != "invalid":
                state.token_state = "ok" if run.calls or state.token_state == "ok" else "unknown"
            watchlist.save_state(s, state)

    # ------------------------------------------------------------ one handle
    def _creator(self, adapter: Any, handle: str, run: SourceRun, report: SyncReport) -> None:
        from models import retry

        fetch = adapter.fetch_creator(handle)
        run.calls += fetch.calls

        def write(session) -> int:
            return self._write_fetch(session, adapter, handle, fetch, run)

        new = retry.in_transaction(self.store, write, what=f"sync of {handle}")
        run.new_posts += new[0]
        report.discovered += new[1]
        _tally(run, fetch.problem)

    def _write_fetch(
        self, session, adapter: Any, handle: str, fetch: CreatorFetch, run: SourceRun
    ) -> tuple[int, int]:
        from models import watchlist

        now = _naive(self.clock.now())
        platform = adapter.platform
        new_posts = _write_records(session, fetch, now.date()) if fetch.creator else 0
        problem = fetch.problem
        if problem is None:
            watchlist.mark(session, platform, handle, next_due_at=now + SYNC_EVERY, synced_at=now)
        elif problem.kind == "handle_unavailable":
            watchlist.mark(
                session,
                platform,
                handle,
                next_due_at=now + UNAVAILABLE_RETRY,
                status=watchlist.UNAVAILABLE,
                reason=problem.message,
            )
        elif problem.kind != "token_invalid":  # that one is due as soon as a token is back
            retry_at = _naive(problem.retry_at) if problem.retry_at else now + PROBLEM_RETRY
            watchlist.mark(session, platform, handle, next_due_at=max(retry_at, now))
        found = self._discover(session, platform, handle, fetch.posts, now)
        self._save_counters(session, adapter, fetch.calls, problem)
        return new_posts, found

    def _hashtag(self, adapter: Any, tag: str, run: SourceRun, report: SyncReport) -> None:
        from models import retry, watchlist

        result = adapter.search_hashtag(tag)

        def write(session) -> int:
            now = _naive(self.clock.now())
            candidates = [(h, f"hashtag:#{result.tag}") for h in result.candidates]
            found = self._add_candidates(session, "instagram", tag, candidates, now)
            due = now + SYNC_EVERY
            if result.problem and result.problem.retry_at:
                due = max(due, _naive(result.problem.retry_at))
            watchlist.mark(session, "instagram", tag, next_due_at=due, synced_at=now)
            self._save_counters(session, adapter, 0, result.problem)
            return found

        report.discovered += retry.in_transaction(self.store, write, what=f"sync of {tag}")
        _tally(run, result.problem)

    def _save_counters(self, session, adapter: Any, calls: int, problem: Any) -> None:
        from models import watchlist

        state = watchlist.load_state(session, adapter.name)
        _roll_day(state, _naive(self.clock.now()).date())
        state.calls_today += calls
        counters = dict(state.counters or {})
        if isinstance(adapter, GraphSource):
            counters["hashtags"] = adapter.hashtags.to_dict()
            state.quota_used = adapter.hashtags.used(self.clock.now())
        else:
            counters["quota"] = adapter.quota.to_dict()
            state.quota_used = adapter.quota.used
        state.counters = counters
        if problem is not None:
            errors = dict(state.errors or {})
            errors[problem.kind] = errors.get(problem.kind, 0) + 1
            state.errors = errors
        if problem is not None and problem.kind == "token_invalid":
            state.token_state, state.token_message = "invalid", problem.message
        elif calls and (problem is None or problem.kind == "handle_unavailable"):
            state.token_state, state.token_message = "ok", None
        watchlist.save_state(session, state)

    # ------------------------------------------------------------ discovery
    def _discover(
        self, session, platform: str, handle: str, posts: list[PostRecord], now: datetime
    ) -> int:
        candidates: list[tuple[str, str]] = []
        for post in posts:
            candidates += [(h, "coauthor") for h in post.coauthors]
            candidates += [(h, "mention") for h in post.mentions]
        return self._add_candidates(session, platform, handle, candidates, now)

    def _add_candidates(
        self, session, platform: str, source: str, candidates: list[tuple[str, str]], now: datetime
    ) -> int:
        """Watch new candidates for each team watching `source`, while today's
        discovery budget lasts; a handle already watched anywhere is not a candidate."""
        from models import watchlist

        if not candidates or self.settings.discovery_per_day <= 0:
            return 0
        left = self.settings.discovery_per_day - watchlist.discovered_since(session, day_start(now))
        if left <= 0:
            return 0
        teams = watchlist.teams_watching(session, platform, source) or ["cli"]
        names = {h.lower().lstrip("@") for h, _ in candidates}
        watched = watchlist.watched(session, platform, names)
        added = 0
        first: dict[str, str] = {}  # a co-author who is also @mentioned is a co-author
        for handle, origin in candidates:
            first.setdefault(handle, origin)
        for handle, origin in first.items():
            handle = handle.lower().lstrip("@")
            if not handle or handle == source or handle in watched:
                continue
            for team in teams:
                if added >= left:
                    return added
                added += watchlist.add(
                    session, team, platform, handle, now=now, added_by=source, origin=origin
                )
            watched.add(handle)
        return added

    def store_scraped(self, batch: Any) -> SourceRun:
        """A scraper dataset (engine.ingest.sources.ScrapedBatch: TikTok and Instagram
        items, songs inline) through the same per-creator writes, snapshots and
        discovery (co-authors, @mentions) as a sync, one transaction per creator;
        watched creators in it count as synced today."""
        from models import retry, watchlist

        now = _naive(self.clock.now())
        run = SourceRun("scraper_dataset")
        for p in batch.problems:
            run.errors[p.kind] = run.errors.get(p.kind, 0) + 1
        by_creator: dict[tuple[str, str], list[PostRecord]] = {}
        for post in batch.posts:
            by_creator.setdefault((post.platform, post.handle), []).append(post)
        for key, creator in sorted(batch.creators.items()):
            fetch = CreatorFetch(creator.handle, creator, by_creator.get(key, []))

            def write(session, fetch=fetch) -> tuple[int, int]:
                platform, handle = fetch.creator.platform, fetch.handle
                new = _write_records(session, fetch, now.date())
                watchlist.mark(
                    session, platform, handle, next_due_at=now + SYNC_EVERY, synced_at=now
                )
                return new, self._discover(session, platform, handle, fetch.posts, now)

            new, found = retry.in_transaction(self.store, write, what=f"import of {key[1]}")
            run.new_posts += new
            run.synced += 1
            run.discovered += found
        return run

    def store_dataset(self, ref: str) -> SourceRun:
        """A dataset on the scraping platform (an id, or its URL as the platform shows
        it) read whole with SCOUT_DATASET_TOKEN, then written as `store_scraped` writes
        a file. A bad token or a missing dataset is the run's `stopped` line and writes
        nothing (the dataset is read before anything is mapped)."""
        from dataclasses import replace as _replace

        from engine.ingest.sources import DatasetSource, dataset_ref

        settings = SourceSettings.from_settings(self.settings)
        try:
            base, dataset_id = dataset_ref(ref, settings.dataset_url)
            source = DatasetSource(_replace(settings, dataset_url=base), clock=self.clock)
        except ValueError as err:
            raise ScoutError(str(err)) from None
        batch = source.read(dataset_id)
        run = self.store_scraped(batch)
        run.calls = source.calls
        if not batch.posts and batch.problems:
            run.stopped = batch.problems[0].message
        return run

    def _prune(self) -> tuple[int, int]:
        from models import history

        before = _naive(self.clock.now()).date() - timedelta(days=self.settings.history_days)
        with self.store.session() as s:
            return history.prune(s, before)


def _write_records(session, fetch: CreatorFetch, day: date) -> int:
    """The creator, their posts and songs through the import's upserts, and the day's
    snapshots; how many posts were new."""
    from models import history, writer

    creator = fetch.creator
    songs = {p.song.song_id: p.song for p in fetch.posts if p.song and p.song.song_id}
    if songs:
        writer.upsert_songs(
            session,
            [{"song_id": k, "title": v.title, "artist": v.artist} for k, v in songs.items()],
            {"title", "artist"},
        )
    record = {
        "platform": creator.platform,
        "handle": creator.handle,
        "name": creator.name,
        "followers": creator.followers,
        "following": creator.following,
        "posts_count": creator.media_count,
        "bio": creator.bio,
    }
    writer.upsert_influencers(session, [record], set(record))
    posts = [p for p in fetch.posts if p.post_id]
    new = 0
    if posts:
        batch = _post_columns(posts, creator.handle)
        new = writer.upsert_posts(session, batch, set(batch) - {"tags"}, {})
    history.record_creator(
        session,
        creator.platform,
        creator.handle,
        day,
        followers=creator.followers,
        following=creator.following,
        media_count=creator.media_count,
    )
    history.record_posts(
        session,
        creator.platform,
        day,
        [history.PostCounts(p.post_id, p.likes, p.comments, p.views) for p in posts],
    )
    return new


def _post_columns(posts: list[PostRecord], handle: str) -> dict[str, list[Any]]:
    """The posts column by column, as the importer hands them to writer.upsert_posts."""
    return {
        "platform": [p.platform for p in posts],
        "post_id": [p.post_id for p in posts],
        "handle": [handle for _ in posts],
        "posted_at": [_naive(p.posted_at) if p.posted_at else None for p in posts],
        "caption": [p.caption for p in posts],
        "likes": [p.likes for p in posts],
        "comments": [p.comments for p in posts],
        "views": [p.views for p in posts],  # engagement per view on TikTok and YouTube
        "image": [p.image_url for p in posts],
        "song_id": [p.song.song_id if p.song else None for p in posts],
        "tags": [list(p.hashtags) for p in posts],
    }


def _roll_day(state: Any, today: date) -> None:
    if state.day != today:
        state.day, state.calls_today, state.errors = today, 0, {}


def _tally(run: SourceRun, problem: Any) -> None:
    if problem is None:
        run.synced += 1
        return
    run.errors[problem.kind] = run.errors.get(problem.kind, 0) + 1
    if problem.kind == "handle_unavailable":
        run.unavailable += 1
    elif problem.kind in STOPPING:
        run.stopped = problem.message


def _line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]


# ------------------------------------------------------------ watchlist and status
CLI_TEAM = "cli"  # the watchlist `python -m engine watch` edits


def watch_key(text: str, platform: str) -> str:
    """A handle as typed (`@Chef`, a profile URL, a YouTube `UC…` id) or, on Instagram,
    a `#hashtag` whose top media discovery reads, to the key the watchlist keeps."""
    from engine.core.text import normalize_tag
    from engine.ingest.sources.values import handle_of

    if platform not in PLATFORMS:
        raise ScoutError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    raw = str(text or "").strip()
    if raw.startswith("#"):
        tag = normalize_tag(raw)
        if platform != "instagram" or not tag:
            raise ScoutError(f"{raw!r}: only Instagram hashtags can be watched, like '#food'")
        return "#" + tag
    if platform == "youtube" and raw.startswith("UC") and len(raw) == 24:
        return raw
    handle = handle_of(raw) or ""
    if not handle or len(handle) > 100 or any(c.isspace() for c in handle):
        raise ScoutError(f"{raw[:60]!r} is not a handle; write it like @some_creator")
    return handle


@dataclass(frozen=True)
class SourceStatus:
    source: str
    platform: str
    token_state: str  # ok | invalid | missing | unknown
    token_message: str | None
    watched: int
    due: int
    calls_today: int
    quota_used: int  # YouTube: units today; Graph: hashtags searched this week
    quota_limit: int
    errors: dict[str, int]
    last_sync_started_at: datetime | None
    last_sync_finished_at: datetime | None


def source_status(store: Any, settings: Settings, now: datetime) -> list[SourceStatus]:
    """Per source: its token, what is due, what it spent today and its errors by kind
    (today's: they reset with the day's counters)."""
    from models import watchlist

    now = _naive(now)
    out = []
    with store.session() as s:
        counts = {p: len(watchlist.due(s, p, now, everything=True)) for p in SOURCES.values()}
        for name, platform in SOURCES.items():
            state = watchlist.load_state(s, name)
            today = state.day == now.date()
            limit = settings.yt_quota if name == "youtube" else HashtagBudget().limit
            if name == "instagram_graph" and not settings.ig_access_token:
                state.token_state, state.token_message = "missing", "SCOUT_IG_ACCESS_TOKEN unset"
            if name == "youtube" and not settings.yt_api_key:
                state.token_state, state.token_message = "missing", "SCOUT_YT_API_KEY unset"
            out.append(
                SourceStatus(
                    source=name,
                    platform=platform,
                    token_state=state.token_state,
                    token_message=state.token_message,
                    watched=counts[platform],
                    due=watchlist.count_due(s, platform, now),
                    calls_today=state.calls_today if today else 0,
                    quota_used=state.quota_used if today or name != "youtube" else 0,
                    quota_limit=limit,
                    errors=dict(state.errors or {}) if today else {},
                    last_sync_started_at=state.last_sync_started_at,
                    last_sync_finished_at=state.last_sync_finished_at,
                )
            )
    return out
