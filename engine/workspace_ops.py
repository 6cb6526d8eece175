"""The workspace operations a Slack process needs (digest subscriptions and deliveries,
event dedupe, the response_url outbox, feedback, a workspace's watchlist and the
sources' standing), named one by one.

The bot reaches workspace state only through this object, never through the store's
models.workspace.Workspace, so what the bot may do to the database is this list and
nothing more; the store behind it stays private to the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any


class WorkspaceOps:
    """Thin by design: each method is one models.workspace.Workspace call (the store
    does the SQL); `workspace` may be a fake with the same methods in tests."""

    def __init__(self, workspace: Any, sources: Any = None) -> None:
        """`sources`: the engine.admin.Admin over the same store, whose watchlist and
        sync methods the watch methods below call (one way to watch, from the CLI or
        Slack); None (a fake engine) turns /watch and the clock's sync off."""
        self._workspace = workspace
        self._sources = sources

    # ------------------------------------------------------------ digests
    def subscribe(
        self,
        team_id: str,
        channel_id: str,
        local_time: str,
        timezone: str,
        user_id: str | None,
        window_days: int = 7,
    ) -> Any:
        return self._workspace.subscribe(
            team_id, channel_id, local_time, timezone, user_id, window_days
        )

    def unsubscribe(self, team_id: str, channel_id: str, reason: str = "turned off") -> bool:
        return self._workspace.unsubscribe(team_id, channel_id, reason)

    def disable(self, subscription_id: int, reason: str) -> None:
        self._workspace.disable(subscription_id, reason)

    def subscription(self, team_id: str, channel_id: str) -> Any:
        return self._workspace.subscription(team_id, channel_id)

    def subscriptions(self, team_id: str | None = None, enabled_only: bool = False) -> list:
        return self._workspace.subscriptions(team_id, enabled_only=enabled_only)

    def claim_delivery(
        self,
        subscription_id: int,
        local_date: date,
        now: datetime,
        stale_after: timedelta = timedelta(minutes=10),
    ) -> bool:
        return self._workspace.claim_delivery(subscription_id, local_date, now, stale_after)

    def finish_delivery(
        self,
        subscription_id: int,
        local_date: date,
        status: str,
        message_ts: str | None = None,
        error: str | None = None,
    ) -> None:
        self._workspace.finish_delivery(
            subscription_id, local_date, status, message_ts=message_ts, error=error
        )

    def deliveries(self, subscription_id: int) -> list[tuple[date, str, str | None]]:
        return self._workspace.deliveries(subscription_id)

    def delivery_status(self, subscription_id: int, local_date: date) -> str | None:
        return self._workspace.delivery_status(subscription_id, local_date)

    # ------------------------------------------------- events and the outbox
    def claim_event(
        self, key: str, now: datetime, lease: timedelta, keep: timedelta = timedelta(days=1)
    ) -> bool:
        return self._workspace.claim_event(key, now, lease, keep)

    def event_done(self, key: str) -> None:
        self._workspace.event_done(key)

    def release_event(self, key: str) -> None:
        self._workspace.release_event(key)

    def take_call_slot(self, key: str, now: datetime, interval: timedelta) -> bool:
        return self._workspace.take_call_slot(key, now, interval)

    def save_answer(
        self,
        response_url: str,
        payload: dict,
        now: datetime,
        lease: timedelta,
        owner: str | None = None,
    ) -> int:
        return self._workspace.save_answer(response_url, payload, now, lease, owner)

    def hold_answer(
        self, answer_id: int, owner: str | None, now: datetime, hold: timedelta
    ) -> bool:
        return self._workspace.hold_answer(answer_id, owner, now, hold)

    def answer_attempted(
        self,
        answer_id: int,
        now: datetime,
        lease: timedelta,
        error: str,
        owner: str | None = None,
    ) -> None:
        self._workspace.answer_attempted(answer_id, now, lease, error, owner)

    def answer_done(self, answer_id: int) -> None:
        self._workspace.answer_done(answer_id)

    def take_orphaned_answers(
        self, now: datetime, lease: timedelta, limit: int = 50, owner: str | None = None
    ) -> list[tuple[int, str, dict, datetime]]:
        return self._workspace.take_orphaned_answers(now, lease, limit, owner)

    # ----------------------------------------------------------- feedback
    def record_feedback(
        self,
        team_id: str | None,
        user_id: str | None,
        kind: str,
        query: str | None,
        item_id: str,
        vote: int,
    ) -> None:
        self._workspace.record_feedback(team_id, user_id, kind, query, item_id, vote)

    def feedback(self, kind: str | None = None) -> list[tuple[str, str, int]]:
        return self._workspace.feedback(kind)

    # ------------------------------------------- the watchlist and the sources
    def _need_sources(self) -> Any:
        if self._sources is None:
            from engine.core.errors import ScoutError

            raise ScoutError("watching creators needs Scout's database; this bot has none")
        return self._sources

    def watch_add(
        self, team_id: str, handle: str, platform: str = "instagram", user_id: str | None = None
    ) -> tuple[str, bool]:
        return self._need_sources().watch_add(handle, platform, team_id=team_id, added_by=user_id)

    def watch_remove(
        self, team_id: str, handle: str, platform: str | None = None
    ) -> tuple[str, int]:
        return self._need_sources().watch_remove(handle, platform, team_id=team_id)

    def watchlist(self, team_id: str) -> list:
        return self._need_sources().watchlist(team_id)

    def sync_status(self) -> list:
        """Per source (engine.ingest.sync.SourceStatus); [] without sources."""
        return [] if self._sources is None else self._sources.sync_status()

    def sync(self) -> Any:
        """The clock's daily pull (engine.ingest.sync.SyncReport); None without sources."""
        return None if self._sources is None else self._sources.sync()

    # -------------------------------------------------- shortlists (issue 26)
    def _store_part(self, attr: str, make: Any) -> Any:
        """The shortlist or thread SQL over the workspace's own store, made once; a
        fake workspace without a store has none, and says so."""
        part = getattr(self, attr, None)
        if part is None:
            store = getattr(self._workspace, "store", None)
            if store is None:
                from engine.core.errors import ScoutError

                raise ScoutError("Shortlists need Scout's database; this bot has none.")
            part = make(store)
            setattr(self, attr, part)
        return part

    def _shortlists(self) -> Any:
        from models.shortlists import Shortlists

        return self._store_part("_lists_sql", Shortlists)

    def list_new(self, team_id: str, name: str, user_id: str | None) -> tuple[Any, bool]:
        """(the list, made now) - `name` is the team's, and the maker's current list."""
        return self._shortlists().create(_team(team_id), _list_name(name), user_id, _now())

    def list_get(self, team_id: str, name: str, user_id: str | None = None) -> Any:
        """The team's list `name` (models.shortlists.ListInfo) or None; with `user_id`
        it becomes that person's current list."""
        return self._shortlists().get(_team(team_id), _list_name(name), user_id)

    def list_current(self, team_id: str, user_id: str | None) -> Any:
        """The list 'Add to list' adds to for this person, or None."""
        if not user_id:
            return None
        return self._shortlists().current(_team(team_id), user_id)

    def lists(self, team_id: str) -> list:
        """The team's lists with their members, newest first."""
        return self._shortlists().lists(_team(team_id))

    def list_add(
        self,
        team_id: str,
        name: str,
        handle: str,
        user_id: str | None,
        reason: str | None = None,
        platform: str | None = None,
        facts: dict | None = None,
    ) -> bool | None:
        """True added, False already on it, None no such list."""
        return self._shortlists().add(
            _team(team_id),
            _list_name(name),
            _handle(handle),
            now=_now(),
            added_by=user_id,
            reason=(reason or "")[:500] or None,
            platform=platform,
            facts=facts,
        )

    def list_remove(self, team_id: str, name: str, handle: str) -> bool | None:
        """True removed, False not on it, None no such list."""
        return self._shortlists().remove(_team(team_id), _list_name(name), _handle(handle))

    # --------------------------------------------- thread contexts (issue 26)
    def _threads(self) -> Any:
        from models.threads import Threads

        return self._store_part("_threads_sql", Threads)

    def remember_thread(
        self,
        team_id: str,
        channel_id: str,
        thread_ts: str,
        command: str,
        text: str,
        result_ids: list[str],
        result_whys: list[str],
        ttl: timedelta,
    ) -> None:
        """Keep what was answered in this thread for `ttl` (SCOUT_THREAD_TTL_DAYS)."""
        from models.threads import Context

        now = _now()
        self._threads().remember(
            Context(
                _team(team_id),
                channel_id,
                thread_ts,
                command[:32],
                text,
                list(result_ids)[:50],
                [w[:300] for w in result_whys][:50],
                now,
                now + ttl,
            ),
            now,
        )

    def thread_context(self, team_id: str, channel_id: str, thread_ts: str) -> Any:
        """The thread's unexpired context (models.threads.Context) or None."""
        return self._threads().recall(_team(team_id), channel_id, thread_ts, _now())

    def follow_up(self, team_id: str, channel_id: str, thread_ts: str, text: str) -> Any:
        """What a reply in a thread asks of the answer there (engine.chat.followups.
        FollowUp: a command line to run, a result's why, an export), or None when the
        thread has no live context or the words are not a follow-up."""
        from engine.chat.followups import Said, read_follow_up

        ctx = self.thread_context(team_id, channel_id, thread_ts)
        if ctx is None:
            return None
        said = Said(ctx.command, ctx.text, tuple(ctx.result_ids), tuple(ctx.result_whys))
        return read_follow_up(text, said)


def _now() -> datetime:
    """Naive UTC, as the store keeps times."""
    return datetime.now(UTC).replace(tzinfo=None)


def _team(team_id: str | None) -> str:
    if not team_id:
        from engine.core.errors import ScoutError

        raise ScoutError("Slack did not say which workspace this is, so I can't find its lists.")
    return team_id


def _list_name(name: str) -> str:
    clean = " ".join((name or "").split())
    if not clean or clean.startswith("@") or len(clean) > 80:
        from engine.core.errors import ScoutError

        raise ScoutError("Give the list a name of 1-80 characters, e.g. `/list new summer-launch`.")
    return clean


def _handle(handle: str) -> str:
    clean = (handle or "").strip().lstrip("@").strip()
    if not clean or " " in clean:
        from engine.core.errors import ScoutError

        raise ScoutError("Give a creator handle, e.g. `@some_creator`.")
    return clean[:100]
