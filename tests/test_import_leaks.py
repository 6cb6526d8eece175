"""Smaller import leaks (issue 29 point 9): one bad byte no longer turns a whole UTF-8
file into mojibake (the line holding it is refused by number, all or nothing), a
repeated header is refused by name instead of keeping the last column, and a huge
hashtag where a photo path goes is one line, not ENAMETOOLONG."""

from __future__ import annotations

import pytest

from engine.bootstrap import bootstrap
from engine.cli import main
from engine.core.errors import ImportRejected
from models.store import Store

HEADER = "handle,post_id,caption\n"


def _import(url: str, path, kind: str = "posts"):
    rec = bootstrap(url)
    try:
        return rec.import_file(path, kind)
    finally:
        rec.close()


def _captions(url: str) -> list[str]:
    return sorted(Store(url).posts_frame()["caption"].tolist())


def _utf8_with_bad_byte(bad: bytes = b"\xe9") -> bytes:
    return (
        HEADER.encode()
        + "zoé,p1,Café crème à Paris\n".encode()
        + b"ann,p2,caf"
        + bad
        + b" au lait\n"
        + "bob,p3,Ünïcödé naïve façade\n".encode()
    )


def test_one_bad_byte_is_refused_on_its_line_and_nothing_is_written(migrated_sqlite, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(_utf8_with_bad_byte())
    with pytest.raises(ImportRejected) as err:
        _import(migrated_sqlite, path)
    problems = err.value.problems
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:3:")
    assert "byte 0xe9 at column 11 is not valid UTF-8" in problems[0]
    assert _captions(migrated_sqlite) == []  # all or nothing
    # fixed, the same file reads as the UTF-8 it is: no mojibake anywhere
    path.write_bytes(_utf8_with_bad_byte("é".encode()))
    report = _import(migrated_sqlite, path)
    assert not [n for n in report.notices if "Windows-1252" in n]
    assert _captions(migrated_sqlite) == [
        "Café crème à Paris",
        "café au lait",
        "Ünïcödé naïve façade",
    ]


def test_a_bad_byte_inside_a_multiline_caption_names_its_line(migrated_sqlite, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(
        HEADER.encode()
        + 'zoé,p1,"first line\r\nsecond é\r\n'.encode()
        + b'third \xff line"\r\n'
        + "ann,p2,déjà vu\r\n".encode()
    )
    with pytest.raises(ImportRejected, match=r"p.csv:4: byte 0xff at column 7"):
        _import(migrated_sqlite, path)


def test_a_bad_byte_in_the_header_is_line_1(migrated_sqlite, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"handle,post_id,capti\xf0n\n" + "zoé,p1,Café\nann,p2,naïve\n".encode())
    with pytest.raises(ImportRejected, match=r"p.csv:1: the header row cannot be read: byte 0xf0"):
        _import(migrated_sqlite, path)


def test_jsonl_bad_byte_is_its_line(migrated_sqlite, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(
        '{"handle": "zoé", "post_id": "p1", "caption": "Café"}\n'.encode()
        + b'{"handle": "ann", "post_id": "p2", "caption": "caf\xe9"}\n'
        + '{"handle": "bob", "post_id": "p3", "caption": "naïve"}\n'.encode()
    )
    with pytest.raises(ImportRejected, match=r"p.jsonl:2: byte 0xe9"):
        _import(migrated_sqlite, path)
    assert _captions(migrated_sqlite) == []


def test_a_whole_windows_1252_export_still_reads(migrated_sqlite, tmp_path):
    path = tmp_path / "p.csv"
    text = HEADER + "zoé,p1,Café crème à Paris\nann,p2,naïve façade — “quoted”\n"
    path.write_bytes(text.encode("cp1252"))
    report = _import(migrated_sqlite, path)
    assert any("Windows-1252" in n for n in report.notices)
    assert _captions(migrated_sqlite) == ["Café crème à Paris", "naïve façade — “quoted”"]


@pytest.mark.parametrize(
    ("header", "name", "where"),
    [
        ("handle,post_id,caption,caption", "caption", "3, 4"),
        ("handle,caption,post_id,likes,caption", "caption", "2, 5"),
        ("handle,post_id,post_id", "post_id", "2, 3"),
    ],
)
def test_a_repeated_header_is_refused_by_name(migrated_sqlite, tmp_path, header, name, where):
    width = header.count(",") + 1
    path = tmp_path / "p.csv"
    path.write_text(f"{header}\n" + ",".join(["ann", "p1"] + ["7"] * (width - 2)) + "\n")
    with pytest.raises(ImportRejected) as err:
        _import(migrated_sqlite, path)
    (problem,) = err.value.problems
    assert problem == (
        f"{path}:1: column {name!r} appears 2 times in the header (columns {where}); "
        "rename or remove all but one"
    )
    assert _captions(migrated_sqlite) == []


def test_repeated_columns_that_feed_nothing_are_harmless(migrated_sqlite, tmp_path):
    """Excel exports often end in unnamed columns; a repeated column no field reads
    cannot be ambiguous."""
    path = tmp_path / "p.csv"
    path.write_text("handle,post_id,caption,,,notes,notes\nann,p1,hello,,,a,b\n")
    assert _import(migrated_sqlite, path).rows == 1
    assert _captions(migrated_sqlite) == ["hello"]


def test_a_huge_hashtag_where_a_photo_path_goes_is_one_line(copy_db, capsys):
    huge = "#" + "a" * 5000
    assert main(["hashtags", "--photo", huge, "--db", copy_db]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a usable file name" in err, err
    assert len(err) < 300
    assert main(["hashtags", huge, "--db", copy_db]) in (0, 2)
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) <= 1, err
