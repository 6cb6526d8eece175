"""Real exports in, as they come (issue 12): collab posts, encodings, delimiters, .xlsx,
JSONL, column aliases and --map, count spellings, blank cells, NUL bytes, huge fields,
hostile image paths, concurrent imports. Each on SQLite and on Postgres."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.bootstrap import bootstrap
from engine.core.errors import ImportRejected, ScoutError
from models.migrate import upgrade
from models.store import Store

HEADER = "handle,post_id,caption,likes\n"


def imp(url: str, path: Path, kind: str = "posts", **kw):
    rec = bootstrap(url)
    try:
        return rec.import_file(path, kind, **kw)
    finally:
        rec.close()


def authors(url: str) -> dict[str, list[str]]:
    frame = Store(url).posts_frame()
    return {pid: sorted(g["handle"]) for pid, g in frame.groupby("post_id")}


def snapshot(url: str) -> list:
    store = Store(url)
    with store.engine.connect() as conn:
        rows = [
            tuple(conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all())
            for t in ("influencers", "posts", "post_authors", "post_hashtags", "songs")
        ]
    store.dispose()
    return rows


@pytest.fixture
def db(any_db_url):
    upgrade(any_db_url)
    return any_db_url


# ------------------------------------------------------------------- collabs
def test_collab_post_in_one_file_is_one_post_with_both_authors(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "ann,c1,hello #sun,100\nbob,c1,hello #sun,100\nann,p2,solo #sun,5\n")
    report = imp(db, path)
    assert report.new_rows == 2
    assert Store(db).counts()["posts"] == 2
    assert authors(db) == {"c1": ["ann", "bob"], "p2": ["ann"]}
    frame = Store(db).posts_frame()
    assert frame[frame.post_id == "c1"]["hashtags"].tolist() == [["sun"], ["sun"]]


def test_collab_across_files_adds_an_author_and_never_moves_or_removes_one(db, tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(HEADER + "ann,c1,hello #sun,100\n")
    second.write_text(HEADER + "bob,c1,hello #sun,\n")
    imp(db, first)
    imp(db, second)
    assert authors(db) == {"c1": ["ann", "bob"]}
    imp(db, first)  # re-importing the first file takes nothing away
    assert authors(db) == {"c1": ["ann", "bob"]}
    store = Store(db)
    with store.engine.connect() as conn:
        primary = conn.execute(
            text("SELECT i.handle FROM posts p JOIN influencers i ON i.id = p.influencer_id")
        ).scalar()
    assert primary == "ann"  # the primary author stays the first importer
    assert store.influencer_profile("bob")["posts"] == 1  # the post counts for each author


def test_same_post_twice_under_the_same_handle_is_still_a_duplicate(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "ann,c1,hello,1\nann,c1,hello again,2\n")
    with pytest.raises(ImportRejected, match=r"p.csv:3: post_id: duplicate of line 2"):
        imp(db, path)
    assert Store(db).counts()["posts"] == 0


# ----------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    ("encoding", "bom", "notice"),
    [
        ("utf-8", b"", False),
        ("utf-8", b"\xef\xbb\xbf", False),
        ("utf-16-le", b"\xff\xfe", False),
        ("utf-16-be", b"\xfe\xff", False),
        ("cp1252", b"", True),
    ],
)
def test_encodings(db, tmp_path, encoding, bom, notice):
    path = tmp_path / "p.csv"
    path.write_bytes(bom + (HEADER + "zoé,p1,Café crème à Paris #café,12\n").encode(encoding))
    report = imp(db, path)
    assert report.rows == 1
    assert Store(db).posts_frame()["caption"].tolist() == ["Café crème à Paris #café"]
    assert Store(db).find_handle("zoé") == "zoé"
    assert any("Windows-1252" in n for n in report.notices) == notice


def test_bytes_no_encoding_reads_are_refused_in_one_line(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(HEADER.encode() + b"ann,p1,\x81\x8d\x8f,1\n")  # undefined in cp1252 too
    with pytest.raises(ImportRejected, match="not text in UTF-8, UTF-16"):
        imp(db, path)


# ------------------------------------------------- delimiters, aliases, --map
@pytest.mark.parametrize("sep", [";", "\t", ","])
def test_delimiter_is_sniffed_and_scraper_names_are_understood(db, tmp_path, sep):
    rows = [
        ["ownerUsername", "shortcode", "text", "likesCount", "commentsCount", "timestamp"],
        ["ann", "C1", "sun, sea; sand #beach", "1.2k", "3", "2026-01-02"],
    ]
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=sep).writerows(rows)
    imp(db, path)
    post = Store(db).posts_frame().iloc[0]
    assert (post.handle, post.post_id, post.likes, post.comments) == ("ann", "C1", 1200, 3)
    assert post.caption == "sun, sea; sand #beach" and post.hashtags == ["beach"]


def test_map_option_and_a_message_that_says_what_to_map(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("creator_name;post_ref;words\nann;x1;hello #sun\n")
    with pytest.raises(ImportRejected) as err:
        imp(db, path)
    assert "--map SOURCE=handle --map SOURCE=post_id" in str(err.value)
    assert "'creator_name'" in str(err.value)
    imp(db, path, column_map=["creator_name=handle", "post_ref=post_id", "words=caption"])
    assert authors(db) == {"x1": ["ann"]}
    with pytest.raises(ScoutError, match="--map 'words=nonsense'"):
        imp(db, path, column_map=["words=nonsense"])


def test_the_published_semicolon_export_imports_with_one_documented_command(
    db, tmp_path, shared_dir, capsys
):
    """README: python -m engine import posts raw_semicolon_export.csv --map path=post_id
    --map descriptionProcessed=caption --map path=image --map path=handle@folder"""
    from engine.cli import main

    raw = shared_dir / "data/instagram-600/raw_semicolon_export.csv"
    assert main(["import", "posts", str(raw), "--db", db, "--quiet"]) == 2
    refused = capsys.readouterr().err
    assert "--map SOURCE=handle" in refused
    assert "--map path=handle@folder takes the account from the folder" in refused
    args = ["--map", "path=post_id", "--map", "descriptionProcessed=caption"]
    args += ["--map", "path=image", "--map", "path=handle@folder"]
    assert main(["import", "posts", str(raw), "--db", db, "--quiet", *args]) == 0
    store = Store(db)
    assert store.counts()["posts"] == 4849
    assert store.counts()["influencers"] == 599
    assert store.find_handle("elisabeth.rioux") == "elisabeth.rioux"
    out = capsys.readouterr().out
    assert "kept the creators' followers, following, posts_count from the post rows" in out
    assert "numberFollowers" not in out  # no longer among the ignored columns
    creators = store.influencers_frame().set_index("handle")
    assert creators["followers"].notna().sum() == 599  # issue 24: the counts were lost
    assert int(creators.loc["elisabeth.rioux", "followers"]) == 990729
    assert int(creators.loc["elisabeth.rioux", "posts_count"]) == 554


@pytest.mark.slow
@pytest.mark.shared
def test_the_published_semicolon_export_imports_as_influencers_one_per_account(
    db, shared_dir, capsys
):
    """Every post row repeats its account's profile: one creator each, with its counts,
    instead of 4250 'duplicate' lines (issue 24)."""
    from engine.cli import main

    raw = shared_dir / "data/instagram-600/raw_semicolon_export.csv"
    args = ["import", "influencers", str(raw), "--db", db, "--quiet"]
    assert main([*args, "--map", "path=handle@folder"]) == 0
    out = capsys.readouterr().out
    assert "599 influencers imported (599 new, 0 updated)" in out
    assert "4250 rows repeated a creator already in the file: merged into 599 creators" in out
    creators = Store(db).influencers_frame().set_index("handle")
    assert len(creators) == 599 and creators["followers"].notna().all()
    assert int(creators.loc["elisabeth.rioux", "following"]) == 266


# ----------------------------------------------------------------- xlsx, jsonl
def test_xlsx_and_jsonl(db, tmp_path):
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Username", "Post ID", "Caption", "Likes", "Date"])
    sheet.append(["Ann", 123, "xlsx post #sun", 1500.0, datetime(2026, 1, 2, 3, 4)])
    sheet.append([None, None, None, None, None])
    sheet.append(["bob", "b2", "second", "3.4M", "2026-01-03"])
    book.save(tmp_path / "posts.xlsx")
    report = imp(db, tmp_path / "posts.xlsx")
    assert report.rows == 2
    (tmp_path / "more.jsonl").write_text(
        '{"username": "cid", "id": "j1", "text": "json \\u0000post", "hashtags": ["sun", "#sea"],'
        ' "like_count": "12 345"}\n'
    )
    imp(db, tmp_path / "more.jsonl")
    frame = Store(db).posts_frame().set_index("post_id")
    assert frame.loc["123", "handle"] == "ann" and frame.loc["123", "likes"] == 1500
    assert str(frame.loc["123", "posted_at"]) == "2026-01-02 03:04:00"
    assert frame.loc["b2", "likes"] == 3_400_000
    assert frame.loc["j1", "caption"] == "json post"
    assert frame.loc["j1", "hashtags"] == ["sun", "sea"] and frame.loc["j1", "likes"] == 12345


def test_a_broken_xlsx_is_refused_in_one_line(db, tmp_path):
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ImportRejected, match="not a readable .xlsx"):
        imp(db, tmp_path / "bad.xlsx")


# ------------------------------------------------ counts, blanks, NULs, caps
@pytest.mark.parametrize(
    ("cell", "value"), [("1.2k", 1200), ("3.4M", 3_400_000), ("12,345", 12345), ("12 345", 12345)]
)
def test_count_spellings(db, tmp_path, cell, value):
    path = tmp_path / "i.csv"
    path.write_text(f'handle,followers\nann,"{cell}"\n')
    imp(db, path, "influencers")
    assert int(Store(db).influencers_frame()["followers"].iloc[0]) == value


def test_a_blank_cell_leaves_the_stored_value(db, tmp_path):
    full, blank = tmp_path / "full.csv", tmp_path / "blank.csv"
    full.write_text("handle,post_id,caption,likes,image\nann,p1,hello #sun,500,a.jpg\n")
    blank.write_text("handle,post_id,caption,likes,image\nann,p1,,,\n")
    imp(db, full)
    imp(db, blank)
    post = Store(db).posts_frame().iloc[0]
    assert (post.caption, post.likes, post.hashtags) == ("hello #sun", 500, ["sun"])
    assert post.image.endswith("a.jpg")
    (tmp_path / "i1.csv").write_text("handle,followers,bio\nann,1000,chef\n")
    (tmp_path / "i2.csv").write_text("handle,followers,bio\nann,,\n")
    imp(db, tmp_path / "i1.csv", "influencers")
    imp(db, tmp_path / "i2.csv", "influencers")
    inf = Store(db).influencers_frame().iloc[0]
    assert (int(inf.followers), inf.bio) == (1000, "chef")
    (tmp_path / "i3.csv").write_text("handle,followers,bio\nann,2000,\n")
    imp(db, tmp_path / "i3.csv", "influencers")
    inf = Store(db).influencers_frame().iloc[0]
    assert (int(inf.followers), inf.bio) == (2000, "chef")


def test_nul_bytes_are_stripped_the_same_way(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(HEADER.encode() + b"an\x00n,p\x001,hel\x00lo #s\x00un,1\x002\n")
    imp(db, path)
    post = Store(db).posts_frame().iloc[0]
    assert (post.handle, post.post_id, post.caption, post.likes) == ("ann", "p1", "hello #sun", 12)


def test_huge_fields_get_a_per_line_error_and_nothing_is_written(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(HEADER + "ann,p1,ok,1\n" + f"bob,p2,{'x' * 200_000},2\n" + "cid,p3,ok,3\n")
    with pytest.raises(ImportRejected, match=r"p.csv:3: caption: longer than 20000"):
        imp(db, path)
    path.write_text(HEADER + "ann,p1,ok,1\n" + f"bob,p2,{'x' * 5_000_000},2\n")
    with pytest.raises(ImportRejected, match=r"p.csv:3: a field is longer than"):
        imp(db, path)
    assert Store(db).counts() == {"influencers": 0, "posts": 0, "songs": 0}


# ----------------------------------------------------------- hostile images
@pytest.mark.parametrize(
    "image",
    [
        "/dev/zero",
        "/etc/passwd",
        "../outside.jpg",
        "img/../../outside.jpg",
        "file:///etc/passwd",
        "http://127.0.0.1/a.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/a.jpg",
        "https://192.168.0.10/a.jpg",
        "http://[::1]/a.jpg",
        "http://localhost:8080/a.jpg",
        "http://printer.local/a.jpg",
        "link/x.jpg",
    ],
)
def test_hostile_image_paths_are_refused(db, tmp_path, image):
    (tmp_path / "link").symlink_to("/etc")
    path = tmp_path / "p.csv"
    path.write_text(f"handle,post_id,image\nann,p1,{image}\n")
    with pytest.raises(ImportRejected, match="p.csv:2: image:"):
        imp(db, path)
    assert Store(db).counts()["posts"] == 0


def test_images_under_the_folder_and_public_urls_are_kept(db, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "handle,post_id,image\nann,p1,img/a.jpg\nann,p2,https://cdn.example.com/b.jpg\n"
        f"ann,p3,{tmp_path / 'c.jpg'}\n"
    )
    imp(db, path)
    images = Store(db).posts_frame().set_index("post_id")["image"]
    assert images["p1"] == str((tmp_path / "img/a.jpg").resolve())
    assert images["p2"] == "https://cdn.example.com/b.jpg"
    assert images["p3"] == str((tmp_path / "c.jpg").resolve())


# ------------------------------------------------------------- concurrency
def test_concurrent_imports_of_overlapping_new_handles(db, tmp_path):
    """Both files create many of the same new handles, in opposite orders; both
    imports must succeed (no deadlock) with the right new/updated counts."""
    handles = [f"h{i:04d}" for i in range(1500)]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(HEADER + "".join(f"{h},a{i},x,1\n" for i, h in enumerate(handles)))
    b.write_text(HEADER + "".join(f"{h},b{i},y,1\n" for i, h in enumerate(reversed(handles))))
    results, errors = {}, []

    def run(name: str, path: Path) -> None:
        try:
            results[name] = imp(db, path)
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(err))

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert results["a"].new_rows == 1500 and results["b"].new_rows == 1500
    assert Store(db).counts() == {"influencers": 1500, "posts": 3000, "songs": 0}
