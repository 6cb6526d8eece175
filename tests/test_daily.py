"""The clock's daily training runs once per day across overlapping clocks, not before
its time, and a failed day is retried."""

from datetime import datetime

from engine.training.daily import train_if_due
from tests.fakes import CountKind, load_all


def test_train_once_per_day(any_db_url, tmp_path, fake_kinds):
    store = load_all(any_db_url, tmp_path)
    fake_kinds(CountKind("alpha"))
    quiet = {"log": lambda m: None}
    assert train_if_due(store, datetime(2026, 11, 22, 3, 59), at="04:00", **quiet) is None
    first = train_if_due(store, datetime(2026, 11, 22, 4, 0), at="04:00", **quiet)
    assert first is not None and first.ok
    # A second clock (or a restart) the same day does nothing.
    assert train_if_due(store, datetime(2026, 11, 22, 4, 1), at="04:00", **quiet) is None
    assert store.registry.latest_version("alpha") == 1
    # The next day trains again (force, since the fake data did not change).
    nxt = train_if_due(store, datetime(2026, 11, 23, 4, 0), at="04:00", force=True, **quiet)
    assert nxt is not None and store.registry.latest_version("alpha") == 2


def test_failed_day_is_retried(migrated_sqlite, tmp_path, fake_kinds):
    store = load_all(migrated_sqlite, tmp_path)
    fake_kinds(CountKind("alpha", fail=True))
    quiet = {"log": lambda m: None}
    report = train_if_due(store, datetime(2026, 11, 22, 5, 0), at="04:00", **quiet)
    assert report is not None and not report.ok
    fake_kinds(CountKind("alpha"))
    retry = train_if_due(store, datetime(2026, 11, 22, 5, 1), at="04:00", **quiet)
    assert retry is not None and retry.ok
