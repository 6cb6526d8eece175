"""models.writer's SQLite bulk insert: many rows a statement, NULL and constant columns
written into the statement rather than bound per row. Whatever the shape, the rows
stored must be exactly the rows given, in order."""

import sqlite3

import pytest

from models import writer


def _table(raw: sqlite3.Connection) -> None:
    raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c)")


def _stored(raw):
    return raw.execute("SELECT a, b, c FROM t ORDER BY id").fetchall()


@pytest.mark.parametrize("n", [1, 199, 200, 201, 450])
@pytest.mark.parametrize(
    "make",
    [
        lambda i: (i, f"x{i}", i * 0.5),  # all varying
        lambda i: ("instagram", None, i),  # a constant text and a NULL column
        lambda i: ("same", "same", None),  # nothing varies: still every row
        lambda i: (None, None, None),
    ],
)
def test_rows_stored_as_given(n, make):
    raw = sqlite3.connect(":memory:")
    _table(raw)
    rows = [make(i) for i in range(n)]
    writer._sqlite_insert_columns(
        raw, "INSERT INTO t (a, b, c)", [list(col) for col in zip(*rows, strict=True)]
    )
    assert _stored(raw) == rows


def test_a_constant_number_is_bound_per_row_with_its_type():
    raw = sqlite3.connect(":memory:")
    _table(raw)
    writer._sqlite_insert_columns(raw, "INSERT INTO t (a, b, c)", [[1, 1], [1.0, 1.0], ["1", "1"]])
    assert (
        raw.execute("SELECT typeof(a), typeof(b), typeof(c) FROM t").fetchall()
        == [("integer", "real", "text")] * 2
    )


def test_an_upsert_tail_acts_on_each_row(monkeypatch):
    monkeypatch.setattr(writer, "ROWS_PER_STATEMENT", 3)
    raw = sqlite3.connect(":memory:")
    raw.execute("CREATE TABLE u (k TEXT PRIMARY KEY, v)")
    raw.execute("INSERT INTO u VALUES ('b', 0)")
    keys = ["a", "b", "c", "d", "e", "f", "g"]
    writer._sqlite_insert_columns(
        raw,
        "INSERT INTO u (k, v)",
        [keys, list(range(7))],
        "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    )
    assert raw.execute("SELECT k, v FROM u ORDER BY k").fetchall() == list(
        zip(keys, range(7), strict=True)
    )


def test_few_parameters_allowed_means_fewer_rows_a_statement():
    raw = sqlite3.connect(":memory:")
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)
    _table(raw)
    rows = [(i, f"x{i}", "k") for i in range(23)]
    writer._sqlite_insert_columns(
        raw, "INSERT INTO t (a, b, c)", [list(col) for col in zip(*rows, strict=True)]
    )
    assert _stored(raw) == rows
