"""Thread contexts (issue 26): what Scout last answered in a Slack thread, keyed by
(team, channel, thread), so a reply in that thread can act on it. A context lives until
its `expires_at`; an expired one reads as none and is deleted as new ones are written
(no separate job). Times are naive UTC."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete

from models.schema import ThreadContext
from models.store import Store


@dataclass(frozen=True)
class Context:
    team_id: str
    channel_id: str
    thread_ts: str
    command: str
    text: str
    result_ids: list[str] = field(default_factory=list)
    result_whys: list[str] = field(default_factory=list)
    updated_at: datetime | None = None
    expires_at: datetime | None = None


class Threads:
    """The SQL of thread contexts; engine.workspace_ops.WorkspaceOps is its only caller."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def remember(self, ctx: Context, now: datetime) -> None:
        """Write (or replace) the thread's context and drop every expired one."""
        with self.store.session() as s:
            s.execute(delete(ThreadContext).where(ThreadContext.expires_at <= now))
            key = (ctx.team_id, ctx.channel_id, ctx.thread_ts)
            row = s.get(ThreadContext, key)
            if row is None:
                row = ThreadContext(
                    team_id=ctx.team_id, channel_id=ctx.channel_id, thread_ts=ctx.thread_ts
                )
                s.add(row)
            row.command = ctx.command
            row.text = ctx.text
            row.result_ids = list(ctx.result_ids)
            row.result_whys = list(ctx.result_whys)
            row.updated_at = now
            row.expires_at = ctx.expires_at or now
            s.flush()

    def recall(
        self, team_id: str, channel_id: str, thread_ts: str, now: datetime
    ) -> Context | None:
        """The thread's context, or None when there is none or it has expired."""
        with self.store.session() as s:
            row = s.get(ThreadContext, (team_id, channel_id, thread_ts))
            if row is None or row.expires_at <= now:
                return None
            return Context(
                row.team_id,
                row.channel_id,
                row.thread_ts,
                row.command,
                row.text,
                list(row.result_ids or []),
                list(row.result_whys or []),
                row.updated_at,
                row.expires_at,
            )
