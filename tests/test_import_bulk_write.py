"""A SQLite posts import runs with foreign-key checks off and the secondary indexes
dropped (see models.writer.import_cache): both must be back when it ends, whether it
committed or rolled back, and the rows it wrote must still satisfy every foreign key."""

import pytest

from engine.ingest import importer
from models import writer
from models.store import Store
from tests.fakes import POSTS, load_all, write


def _renamed(prefix: str) -> str:
    """The fake posts under new ids (`prefix`1..3): new rows, as many as stored."""
    text = POSTS
    for i in (1, 2, 3):
        text = text.replace(f",p{i},", f",{prefix}{i},")
    return text


SECONDARY = {
    "ix_posts_influencer_posted",
    "ix_posts_song_id",
    "ix_post_authors_influencer_id",
}


def _state(store: Store) -> tuple[int, set[str], list]:
    """The pooled connection's foreign_keys setting, the indexes there, and any row
    that breaks a foreign key."""
    with store.sessions() as s:
        raw = s.connection().connection.driver_connection
        fk = raw.execute("PRAGMA foreign_keys").fetchone()[0]
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
    return fk, names, broken


def test_checks_and_indexes_come_back_after_a_committed_import(migrated_sqlite, tmp_path):
    load_all(migrated_sqlite, tmp_path).dispose()
    store = Store(migrated_sqlite)
    report = importer.import_file(write(tmp_path, "more.csv", _renamed("q")), "posts", store)
    assert report.new_rows == 3
    fk, names, broken = _state(store)
    assert fk == 1
    assert names >= SECONDARY
    assert broken == []
    store.dispose()


def test_checks_and_indexes_come_back_after_a_failed_import(migrated_sqlite, tmp_path, monkeypatch):
    load_all(migrated_sqlite, tmp_path).dispose()
    store = Store(migrated_sqlite)
    real, during = writer.upsert_posts, {}

    def fail(session, *args, **kwargs):
        real(session, *args, **kwargs)
        raw = session.connection().connection.driver_connection
        during["fk"] = raw.execute("PRAGMA foreign_keys").fetchone()[0]
        during["names"] = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "upsert_posts", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        importer.import_file(write(tmp_path, "again.csv", _renamed("r")), "posts", store)
    assert during["fk"] == 0  # the write ran without the checks...
    assert not during["names"] & SECONDARY  # ...and without the secondary indexes
    fk, names, _ = _state(store)
    assert fk == 1
    assert names >= SECONDARY
    assert store.counts()["posts"] == 3  # nothing of the failed file
    store.dispose()
