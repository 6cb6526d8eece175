"""`/slack/install` writes an OAuth state row per unsigned GET: expired rows are purged,
so the table cannot grow without bound (issue 15, item 9)."""

from __future__ import annotations

from sqlalchemy import func, select

from engine.bootstrap import bootstrap
from models.migrate import upgrade


def test_expired_oauth_states_are_purged(any_db_url):
    upgrade(any_db_url)
    rec = bootstrap(any_db_url)
    try:
        expired = rec.slack_state_store(expiration_seconds=-60)
        for _ in range(50):
            expired.issue()
        live = rec.slack_state_store(expiration_seconds=600)
        state = live.issue()
        table = live.oauth_states
        with live.engine.connect() as conn:  # the state store's own engine
            rows = conn.execute(select(func.count()).select_from(table)).scalar_one()
        assert rows == 1
        assert live.consume(state)
        assert not live.consume(state)
    finally:
        rec.close()
