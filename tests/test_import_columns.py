"""The fast path of import (CSV validated a column at a time, chunks written column by
column) must accept, refuse and store exactly what the row-by-row path does: the same
records, the same file:line messages across chunk boundaries, the same stored rows."""

import csv
import io
from pathlib import Path

import pytest

import engine.ingest.importer as importer
from engine.bootstrap import bootstrap
from engine.core.errors import ImportRejected
from engine.ingest.readers import RawRow
from engine.ingest.rows import records_of, schema, validate, validate_columns
from models.migrate import upgrade
from models.store import Store

HEADER = ["handle", "post_id", "posted_at", "caption", "hashtags", "likes", "comments", "image"]
ROWS = [
    ["@Chef.Ana", "p1", "2026-10-01", "Paella #Comida #Cocína", "food|Recipes", "1.2k", "20", ""],
    ["chef.ana", "p2", "2026-10-02T18:30:00+02:00", "", "", "12,345", "", "img/a.jpg"],
    ["bo", "p2", "", "Collab #run", "run", "", "3", "https://cdn.example.com/b.jpg"],
    ["bo", "p3", "2026-10-03 07:00", "", "#Foodie, #foodie", " 7 ", "0", "img/b.jpg"],
    ["cy", "p4", "2026-10-04", "no tags", "", "3M", "1", ""],
]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue()


def test_column_validation_gives_the_records_row_validation_gives(tmp_path):
    cols = schema("posts", tmp_path)
    by_row = [
        validate("posts", RawRow(i, dict(zip(HEADER, r, strict=True))), cols, "f")[0]
        for i, r in enumerate(ROWS)
    ]
    columns = {name: [r[i] for r in ROWS] for i, name in enumerate(HEADER)}
    by_column = validate_columns("posts", columns, len(ROWS), cols)
    assert by_column is not None and records_of(by_column) == by_row
    assert by_row[1]["tags"] is None and by_row[3]["tags"] == ["foodie"]  # blank both / deduped


def test_a_bad_cell_sends_the_chunk_back_to_row_by_row(tmp_path):
    cols = schema("posts", tmp_path)
    columns = {name: [r[i] for r in ROWS] for i, name in enumerate(HEADER)}
    columns["likes"] = [*columns["likes"][:-1], "-3"]
    assert validate_columns("posts", columns, len(ROWS), cols) is None


def test_problems_and_duplicates_across_chunks_name_their_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "CHUNK", 2)  # rows 2-3, 4-5, 6: three chunks
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    rows = [*ROWS, ["cy", "p4", "2026-10-05", "again", "", "1", "1", ""]]
    rows[3] = [*rows[3][:2], "2026-13-01", *rows[3][3:]]
    path = tmp_path / "posts.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        bootstrap(url).import_file(path, "posts")
    assert exc.value.problems == [
        f"{path}:5: posted_at: not an ISO 8601 date or datetime: '2026-13-01'",
        f"{path}:7: post_id: duplicate of line 6 ('p4')",
    ]
    assert Store(url).counts()["posts"] == 0


@pytest.mark.parametrize("chunk", [2, 20_000])
def test_small_chunks_store_what_one_chunk_stores(any_db_url, tmp_path, monkeypatch, chunk):
    """Chunks of 2 rows (a collab post split across chunks, blank cells in some rows,
    the last chunk short) store what one chunk stores."""
    (tmp_path / "img").mkdir()
    path = tmp_path / "posts.csv"
    path.write_text(_csv(ROWS), encoding="utf-8")
    monkeypatch.setattr(importer, "CHUNK", chunk)
    upgrade(any_db_url)
    report = bootstrap(any_db_url).import_file(path, "posts")
    assert (report.rows, report.new_rows) == (5, 4)
    frame = Store(any_db_url).posts_frame()
    assert sorted(frame[frame.post_id == "p2"].handle) == ["bo", "chef.ana"]  # one post, 2 authors
    posts = frame.drop_duplicates("post_id").set_index("post_id")
    assert posts.loc["p1", "likes"] == 1200 and posts.loc["p4", "likes"] == 3_000_000
    assert posts.loc["p1", "hashtags"] == ["food", "recipes", "comida", "cocina"]
    assert posts.loc["p2", "likes"] == 12345 and posts.loc["p2", "comments"] == 3
    assert posts.loc["p2", "hashtags"] == ["run"]  # the collab row filled the blank cells
    assert str(posts.loc["p2", "posted_at"]) == "2026-10-02 16:30:00"
    assert posts.loc["p2", "image"] == str(Path(tmp_path / "img/a.jpg").resolve())
