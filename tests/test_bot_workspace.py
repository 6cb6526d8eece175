"""Digest subscriptions, delivery claims and feedback on SQLite and PostgreSQL: the claim
is what keeps a digest to one message per channel per local day."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

from bot.clock import is_due
from models.migrate import upgrade
from models.store import Store
from models.workspace import Workspace


def _workspace(url: str) -> Workspace:
    upgrade(url)
    return Workspace(Store(url))


def test_subscribe_is_one_row_per_channel(any_db_url):
    ws = _workspace(any_db_url)
    a = ws.subscribe("T1", "C1", "09:00", "Europe/Paris", "U1")
    b = ws.subscribe("T1", "C1", "10:30", "UTC", "U2")
    assert a.id == b.id and (b.local_time, b.timezone) == ("10:30", "UTC")
    assert ws.unsubscribe("T1", "C1") and not ws.unsubscribe("T1", "C1")
    assert ws.subscription("T1", "C1").enabled is False
    assert ws.subscribe("T1", "C1", "08:00", "UTC", "U1").enabled is True
    assert [s.channel_id for s in ws.subscriptions("T1", enabled_only=True)] == ["C1"]
    ws.store.dispose()


def test_exactly_one_concurrent_claim_wins(any_db_url):
    ws = _workspace(any_db_url)
    sub = ws.subscribe("T1", "C1", "09:00", "UTC", "U1")
    now = datetime(2026, 11, 23, 9, 0)
    with ThreadPoolExecutor(8) as pool:
        wins = list(
            pool.map(lambda _: ws.claim_delivery(sub.id, date(2026, 11, 23), now), range(8))
        )
    assert wins.count(True) == 1
    # a claim whose clock died is taken over after stale_after, a sent one never
    assert not ws.claim_delivery(sub.id, date(2026, 11, 23), now + timedelta(minutes=5))
    assert ws.claim_delivery(sub.id, date(2026, 11, 23), now + timedelta(minutes=11))
    ws.finish_delivery(sub.id, date(2026, 11, 23), "sent", message_ts="1.2")
    assert not ws.claim_delivery(sub.id, date(2026, 11, 23), now + timedelta(hours=5))
    # a failed send is retried; another day is its own claim
    assert ws.claim_delivery(sub.id, date(2026, 11, 24), now)
    ws.finish_delivery(sub.id, date(2026, 11, 24), "failed", error="ratelimited")
    assert ws.claim_delivery(sub.id, date(2026, 11, 24), now)
    assert [d[:2] for d in ws.deliveries(sub.id)] == [
        (date(2026, 11, 23), "sent"),
        (date(2026, 11, 24), "claimed"),
    ]
    ws.store.dispose()


def test_feedback_rows(any_db_url):
    ws = _workspace(any_db_url)
    ws.record_feedback("T1", "U1", "lookalike", "@ana", "bob", 1)
    ws.record_feedback("T1", "U1", "lookalike", "@ana", "cat", -5)
    assert ws.feedback("lookalike") == [("lookalike", "bob", 1), ("lookalike", "cat", -1)]
    ws.store.dispose()


def test_due_in_the_subscriptions_own_time_zone():
    # 23:30 UTC on Nov 22 is 08:30 on Nov 23 in Tokyo
    assert is_due("08:00", "Asia/Tokyo", datetime(2026, 11, 22, 23, 30)) == date(2026, 11, 23)
    assert is_due("09:00", "Asia/Tokyo", datetime(2026, 11, 22, 23, 30)) is None
    assert is_due("09:00", "America/New_York", datetime(2026, 11, 23, 14, 0)) == date(2026, 11, 23)
