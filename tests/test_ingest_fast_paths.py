"""The column-at-a-time fast paths of import validation (engine.ingest.rows) must give
exactly what the per-cell parsers give, or fall back to them for the exact error."""

import random

import pytest

from engine.core.text import post_tags
from engine.ingest.readers import open_source
from engine.ingest.rows import FieldError, _tags_column, _text, parse_count, parse_handle

CELLS = ["#Café", "#cafe", "#CAFE", "x", "#a_b", "#", "##dup", "#日本", "#ÉTÉ", "#x1", "word"]
CELLS += ["#a,b", "#_", "#-", "sunset", "a|b", "#b #a"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tags_column_is_post_tags_row_by_row(seed):
    rnd = random.Random(seed)

    def cell(p_blank: float, most: int) -> str | None:
        if rnd.random() < p_blank:
            return None
        return " ".join(rnd.choice(CELLS) for _ in range(rnd.randrange(most))) or None

    captions = [cell(0.2, 1 + 2 * seed) for _ in range(3000)]
    fields = [cell(0.3, 4) for _ in range(3000)]
    got = _tags_column(captions, fields)
    want = [
        None if c is None and f is None else post_tags(c, f)
        for c, f in zip(captions, fields, strict=True)
    ]
    assert got == want
    assert any(len(t or ()) > 1 for t in got)  # the data did exercise merging


@pytest.mark.parametrize(
    "cells",
    [
        ["a ", " b", "", " "],
        ["ab\x00c ", "x"],  # a NUL: removed before stripping, as `parse` does
        ["a", None, " b"],
        [1, "a"],
        [],
    ],
)
def test_text_column_is_text_cell_by_cell(cells):
    parse = _text(5)
    assert parse.many(cells) == [None if v is None else parse(v) for v in cells]


def test_text_column_too_long_raises_the_cell_error():
    parse = _text(5)
    with pytest.raises(FieldError, match="longer than 5 characters"):
        parse.many(["ok", "  toolong  "])
    assert parse.many(["  12345  "]) == ["12345"]  # the length is the stripped one


def _outcome(work):
    """What `work()` gives: its value, or the text of the FieldError it raised."""
    try:
        return "value", work()
    except FieldError as err:
        return "refused", str(err)


def _cell_by_cell(parse, cells):
    """`parse` of each cell; the first refusal if any (as a column parser reports)."""
    return [parse(v) for v in cells]


@pytest.mark.parametrize(
    "cells",
    [
        ["12", "0", "007", "999999999999999"],
        ["12", "", "3"],  # a blank cell is unknown
        ["1,234", "5"],  # the general parser
        ["١٢", "3"],  # digits, but not ASCII
        ["1234567890123456"],  # 16 digits: refused as implausibly large, either way
        ["12", "-3"],  # refused
        [None, "4"],
        [7, "4"],
    ],
)
def test_count_column_is_count_cell_by_cell(cells):
    want = _outcome(lambda: _cell_by_cell(parse_count, cells))
    assert _outcome(lambda: parse_count.many(cells)) == want


@pytest.mark.parametrize(
    "cells",
    [
        ["Ana", " @bob ", "c.d-e_f"],
        ["ana", ""],  # blank: unknown
        ["ana", None],
        ["ana\nbob", "x"],  # a newline inside a cell: refused, never read as two handles
        ["日本", "x" * 100],
        ["ana", "a b"],  # refused
        ["ana", "x" * 101],  # refused
    ],
)
def test_handle_column_is_handle_cell_by_cell(cells):
    want = _outcome(lambda: _cell_by_cell(parse_handle, cells))
    assert _outcome(lambda: parse_handle.many(cells)) == want


TRICKY_CSV = [
    'h,a,b\r\nx,1,2\r\n\r\ny,"two\r\nlines",3\r\n,,\r\n  , ,\r\nz,4\r\nw,5,6,7\r\nv,"a\rb\nc",8\r\n',
    'h,a,b\nx,1,2\n\n\n   \nq,"\n\n",1\nr,2,3\n',
    "h,a,b\nx,1,2\ny,3,4\n",
    "h,a,b\nx,1,2\n,,\n",
    'h,a,b\n,,\nx,"unterminated\n',
]


@pytest.mark.parametrize("text", TRICKY_CSV)
@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_csv_blocks_are_the_cells(tmp_path, text, size):
    """Rows read a block at a time keep `cells`' lines, blank-row and width rules and
    errors, whatever the block size and however many lines a quoted cell spans."""
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode())
    want = list(open_source(path).cells)
    got = [
        (line, item)
        for lines, items in open_source(path).blocks(size)
        for line, item in zip(lines, items, strict=True)
    ]
    assert got == want
    assert want  # the file has rows


def test_csv_blocks_stop_at_a_field_too_long(tmp_path, monkeypatch):
    import csv

    path = tmp_path / "f.csv"
    path.write_text("h,a\nx,1\ny," + "z" * 50 + "\nw,2\n")
    old = csv.field_size_limit(20)
    try:
        want = list(open_source(path).cells)
        got = [
            (line, item)
            for lines, items in open_source(path).blocks(10)
            for line, item in zip(lines, items, strict=True)
        ]
    finally:
        csv.field_size_limit(old)
    assert got == want
    assert "reading stopped here" in str(want[-1][1])
