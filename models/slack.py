"""slack_sdk's own SQLAlchemy stores for OAuth installations and state, on Scout's
database, so a multi-workspace install needs no second service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.store import Store


def installation_store(store: Store, client_id: str | None) -> Any:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    return SQLAlchemyInstallationStore(client_id=client_id, engine=store.engine)


def state_store(store: Store, expiration_seconds: int = 600) -> Any:
    """The OAuth state (CSRF) store. `/slack/install` is an unsigned GET that writes a
    row each time and slack_sdk only deletes the rows it consumes, so every issue also
    deletes the expired ones: the table stays as big as the last `expiration_seconds`
    of install clicks instead of growing forever."""
    from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    class PurgingStateStore(SQLAlchemyOAuthStateStore):
        def purge_expired(self) -> int:
            now = normalize_datetime_for_db(datetime.now(tz=UTC))
            with self.engine.begin() as conn:
                table = self.oauth_states
                return conn.execute(table.delete().where(table.c.expire_at <= now)).rowcount

        def issue(self, *args: Any, **kwargs: Any) -> str:
            self.purge_expired()
            return super().issue(*args, **kwargs)

    return PurgingStateStore(expiration_seconds=expiration_seconds, engine=store.engine)
