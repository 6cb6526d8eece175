"""Bot state that is not a model: digest subscriptions, digest deliveries and feedback
votes. bot/ reads and writes these through this facade only, so that it never writes SQL.

A digest goes out at most once per (subscription, local date): the unique row in
`digest_deliveries` is the lock. The insert that wins sends; a claim left behind by a
clock that died before it could send (still 'claimed' after `stale_after`) or a send
that failed may be claimed again the same day, so a crash does not skip a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from models import claims
from models.schema import (
    DigestDelivery,
    DigestSubscription,
    Feedback,
    PendingAnswer,
    SlackCallSlot,
    SlackDelivery,
)
from models.store import Store


@dataclass(frozen=True)
class Subscription:
    id: int
    team_id: str
    channel_id: str
    local_time: str
    timezone: str
    window_days: int
    enabled: bool
    created_by: str | None
    disabled_reason: str | None


def _snapshot(row: DigestSubscription) -> Subscription:
    return Subscription(
        row.id,
        row.team_id,
        row.channel_id,
        row.local_time,
        row.timezone,
        row.window_days,
        row.enabled,
        row.created_by,
        row.disabled_reason,
    )


def _owned_by(owner: str | None):
    """The WHERE that only the answer's owner passes (any row when no owner is named)."""
    return PendingAnswer.owner == owner if owner is not None else PendingAnswer.id.is_not(None)


def _find(s, team_id: str, channel_id: str) -> DigestSubscription | None:
    return s.scalars(
        select(DigestSubscription).where(
            DigestSubscription.team_id == team_id,
            DigestSubscription.channel_id == channel_id,
        )
    ).first()


class Workspace:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------ digests
    def subscribe(
        self,
        team_id: str,
        channel_id: str,
        local_time: str,
        timezone: str,
        user_id: str | None,
        window_days: int = 7,
    ) -> Subscription:
        """Create the channel's subscription, or re-enable and move an existing one."""
        for _attempt in range(2):  # a concurrent insert of the same channel: update it
            try:
                with self.store.session() as s:
                    row = _find(s, team_id, channel_id)
                    if row is None:
                        row = DigestSubscription(team_id=team_id, channel_id=channel_id)
                        s.add(row)
                    row.local_time = local_time
                    row.timezone = timezone
                    row.window_days = window_days
                    row.enabled = True
                    row.disabled_reason = None
                    row.created_by = user_id
                    s.flush()
                    return _snapshot(row)
            except IntegrityError:
                continue
        raise RuntimeError("could not save the subscription")  # pragma: no cover

    def unsubscribe(self, team_id: str, channel_id: str, reason: str = "turned off") -> bool:
        with self.store.session() as s:
            n = s.execute(
                update(DigestSubscription)
                .where(
                    DigestSubscription.team_id == team_id,
                    DigestSubscription.channel_id == channel_id,
                    DigestSubscription.enabled.is_(True),
                )
                .values(enabled=False, disabled_reason=reason)
            ).rowcount
        return n > 0

    def disable(self, subscription_id: int, reason: str) -> None:
        with self.store.session() as s:
            s.execute(
                update(DigestSubscription)
                .where(DigestSubscription.id == subscription_id)
                .values(enabled=False, disabled_reason=reason[:500])
            )

    def subscription(self, team_id: str, channel_id: str) -> Subscription | None:
        with self.store.sessions() as s:
            row = _find(s, team_id, channel_id)
            return _snapshot(row) if row else None

    def subscriptions(
        self, team_id: str | None = None, enabled_only: bool = False
    ) -> list[Subscription]:
        q = select(DigestSubscription).order_by(DigestSubscription.id)
        if team_id is not None:
            q = q.where(DigestSubscription.team_id == team_id)
        if enabled_only:
            q = q.where(DigestSubscription.enabled.is_(True))
        with self.store.sessions() as s:
            return [_snapshot(r) for r in s.scalars(q)]

    def claim_delivery(
        self,
        subscription_id: int,
        local_date: date,
        now: datetime,
        stale_after: timedelta = timedelta(minutes=10),
    ) -> bool:
        """True for exactly one caller per (subscription, local date) at a time. A
        'failed' or 'unknown' row (a post that may have gone out: the caller checks the
        channel before posting again) may be claimed again at once, a 'claimed' one
        once it is stale."""
        stale_or_failed = or_(
            DigestDelivery.status.in_(("failed", "unknown")),
            DigestDelivery.status.in_(("claimed", "posting"))
            & (DigestDelivery.created_at < now - stale_after),
        )
        return claims.claim(
            self.store,
            DigestDelivery(
                subscription_id=subscription_id,
                local_date=local_date,
                status="claimed",
                created_at=now,
            ),
            update(DigestDelivery)
            .where(
                DigestDelivery.subscription_id == subscription_id,
                DigestDelivery.local_date == local_date,
                stale_or_failed,
            )
            .values(status="claimed", created_at=now, error=None),
        )

    def finish_delivery(
        self,
        subscription_id: int,
        local_date: date,
        status: str,
        message_ts: str | None = None,
        error: str | None = None,
    ) -> None:
        with self.store.session() as s:
            s.execute(
                update(DigestDelivery)
                .where(
                    DigestDelivery.subscription_id == subscription_id,
                    DigestDelivery.local_date == local_date,
                )
                .values(
                    status=status, message_ts=message_ts, error=(error or None) and error[:2000]
                )
            )

    def deliveries(self, subscription_id: int) -> list[tuple[date, str, str | None]]:
        with self.store.sessions() as s:
            rows = s.execute(
                select(DigestDelivery.local_date, DigestDelivery.status, DigestDelivery.message_ts)
                .where(DigestDelivery.subscription_id == subscription_id)
                .order_by(DigestDelivery.local_date)
            ).all()
        return [tuple(r) for r in rows]

    def delivery_status(self, subscription_id: int, local_date: date) -> str | None:
        """The status of the day's delivery row ('claimed', 'posting', 'sent', 'failed',
        'unknown'), None when there is none yet."""
        with self.store.sessions() as s:
            return s.scalar(
                select(DigestDelivery.status).where(
                    DigestDelivery.subscription_id == subscription_id,
                    DigestDelivery.local_date == local_date,
                )
            )

    # ------------------------------------------------- Slack deliveries
    def claim_event(
        self, key: str, now: datetime, lease: timedelta, keep: timedelta = timedelta(days=1)
    ) -> bool:
        """True for exactly one caller per key (an event_id, a message) at a time across
        every worker and process. The claim records that an answer is under way, not
        that the event arrived: it lapses after `lease` unless `event_done` says it was
        answered, and `release_event` gives it up at once when the work failed, so
        Slack's retry of an event whose worker crashed or failed is processed. Keys older
        than `keep` are purged now and then (Slack retries within minutes)."""
        key = key[:200]
        won = claims.claim(
            self.store,
            SlackDelivery(key=key, received_at=now, lease_until=now + lease),
            update(SlackDelivery)
            .where(SlackDelivery.key == key, SlackDelivery.lease_until < now)
            .values(received_at=now, lease_until=now + lease),
        )
        if won and hash(key) % 50 == 0:
            with self.store.session() as s:
                s.execute(delete(SlackDelivery).where(SlackDelivery.received_at < now - keep))
        return won

    def event_done(self, key: str) -> None:
        """The event was answered: its key now refuses every retry until purged."""
        with self.store.session() as s:
            s.execute(
                update(SlackDelivery).where(SlackDelivery.key == key[:200]).values(lease_until=None)
            )

    def release_event(self, key: str) -> None:
        """The work failed before answering: forget the claim so a retry is processed."""
        with self.store.session() as s:
            s.execute(
                delete(SlackDelivery).where(
                    SlackDelivery.key == key[:200], SlackDelivery.lease_until.is_not(None)
                )
            )

    def take_call_slot(self, key: str, now: datetime, interval: timedelta) -> bool:
        """True when the caller may make one call of a rate-limited Slack method now
        (`key` names the workspace and method); the next caller, in any process, waits
        `interval`. The conditional UPDATE lets exactly one caller win each slot."""
        key = key[:200]
        return claims.claim(
            self.store,
            SlackCallSlot(key=key, next_at=now + interval),
            update(SlackCallSlot)
            .where(SlackCallSlot.key == key, SlackCallSlot.next_at <= now)
            .values(next_at=now + interval),
        )

    # -------------------------------------------------- pending answers
    def save_answer(
        self,
        response_url: str,
        payload: dict,
        now: datetime,
        lease: timedelta,
        owner: str | None = None,
    ) -> int:
        """Keep an answer owed to a response_url until it is delivered; `owner` (the
        sending process) holds it for `lease`."""
        with self.store.session() as s:
            row = PendingAnswer(
                response_url=response_url,
                payload=payload,
                created_at=now,
                lease_until=now + lease,
                attempts=0,
                owner=owner,
            )
            s.add(row)
            s.flush()
            return row.id

    def hold_answer(
        self, answer_id: int, owner: str | None, now: datetime, hold: timedelta
    ) -> bool:
        """Extend `owner`'s lease before a post starts; False when the answer is gone
        (delivered) or another process took it over, and the caller must not post. The
        conditional UPDATE is the ownership check: only the owner's wins."""
        with self.store.session() as s:
            return (
                s.execute(
                    update(PendingAnswer)
                    .where(PendingAnswer.id == answer_id, _owned_by(owner))
                    .values(lease_until=now + hold)
                ).rowcount
                == 1
            )

    def answer_attempted(
        self,
        answer_id: int,
        now: datetime,
        lease: timedelta,
        error: str,
        owner: str | None = None,
    ) -> None:
        """A failed attempt: count it, say why, and extend the owner's lease."""
        with self.store.session() as s:
            s.execute(
                update(PendingAnswer)
                .where(PendingAnswer.id == answer_id, _owned_by(owner))
                .values(
                    attempts=PendingAnswer.attempts + 1,
                    last_error=error[:2000],
                    lease_until=now + lease,
                )
            )

    def answer_done(self, answer_id: int) -> None:
        """Delivered, or given up (the response_url expired): forget it."""
        with self.store.session() as s:
            s.execute(delete(PendingAnswer).where(PendingAnswer.id == answer_id))

    def take_orphaned_answers(
        self, now: datetime, lease: timedelta, limit: int = 50, owner: str | None = None
    ) -> list[tuple[int, str, dict, datetime]]:
        """Answers whose sender's lease ran out (it died or restarted): each is taken by
        exactly one caller, which becomes its owner with a lease from now. An answer the
        caller itself owns is never taken back: it is still in that process's hands.
        (id, url, payload, created_at)."""
        q = select(PendingAnswer.id, PendingAnswer.lease_until).where(
            PendingAnswer.lease_until < now
        )
        if owner is not None:
            q = q.where(or_(PendingAnswer.owner.is_(None), PendingAnswer.owner != owner))
        with self.store.sessions() as s:
            rows = s.execute(q.order_by(PendingAnswer.id).limit(limit)).all()
        taken = []
        for answer_id, lease_until in rows:
            with self.store.session() as s:
                won = s.execute(
                    update(PendingAnswer)
                    .where(PendingAnswer.id == answer_id, PendingAnswer.lease_until == lease_until)
                    .values(lease_until=now + lease, owner=owner)
                ).rowcount
                if won == 1:
                    row = s.get(PendingAnswer, answer_id)
                    taken.append((row.id, row.response_url, row.payload, row.created_at))
        return taken

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
        with self.store.session() as s:
            s.add(
                Feedback(
                    team_id=team_id,
                    user_id=user_id,
                    kind=kind,
                    query=query,
                    item_id=item_id,
                    vote=1 if vote > 0 else -1,
                )
            )

    def feedback(self, kind: str | None = None) -> list[tuple[str, str, int]]:
        q = select(Feedback.kind, Feedback.item_id, Feedback.vote).order_by(Feedback.id)
        if kind:
            q = q.where(Feedback.kind == kind)
        with self.store.sessions() as s:
            return [tuple(r) for r in s.execute(q).all()]
