"""slack_sdk's own SQLAlchemy stores for OAuth installations and state, on Scout's
database, so a multi-workspace install needs no second service."""

from __future__ import annotations

from typing import Any

from models.store import Store


def installation_store(store: Store, client_id: str | None) -> Any:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    return SQLAlchemyInstallationStore(client_id=client_id, engine=store.engine)


def state_store(store: Store, expiration_seconds: int = 600) -> Any:
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    return SQLAlchemyOAuthStateStore(expiration_seconds=expiration_seconds, engine=store.engine)
