"""Alembic is the only way the schema changes: it must round-trip on both stores and
agree with the SQLAlchemy models."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from models.migrate import downgrade, is_current, upgrade
from models.schema import Base
from models.store import make_engine


def test_upgrade_downgrade_upgrade_and_models_agree(any_db_url):
    upgrade(any_db_url)
    assert is_current(any_db_url)
    downgrade(any_db_url, "base")
    engine = make_engine(any_db_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(any_db_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "influencers",
        "posts",
        "post_hashtags",
        "songs",
        "artifacts",
        "digest_subscriptions",
        "digest_deliveries",
        "feedback",
        "slack_installations",
        "slack_oauth_states",
    } <= tables
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
