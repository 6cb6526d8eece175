"""Import is a contract other tools rely on: every bad row is named, nothing of a bad
file is written, and re-importing is idempotent (on SQLite and on Postgres)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.bootstrap import bootstrap
from engine.core.dataset import Dataset
from engine.core.errors import ImportRejected, ScoutError
from tests.fakes import POSTS, load_all, write


def test_import_normalises_and_is_idempotent(any_db_url, tmp_path):
    store = load_all(any_db_url, tmp_path)
    assert store.counts() == {"influencers": 3, "posts": 3, "songs": 2}
    posts = store.posts_frame().set_index("post_id")
    assert posts.loc["p1", "hashtags"] == ["food", "recipes", "comida", "cocina"]
    assert posts.loc["p1", "image"] == str((tmp_path / "img/a.jpg").resolve())
    assert posts.loc["p2", "image"] == "https://cdn.example.com/b.jpg"
    assert str(posts.loc["p2", "posted_at"]) == "2026-10-02 16:30:00"  # converted to UTC
    assert posts.loc["p1", "song_id"] == "s1"
    assert store.find_handle("CHEF.ANA") == "chef.ana"
    assert store.find_handle("new_person") == "new_person"  # minimal influencer created
    before = Dataset.read(store).fingerprint()
    # Re-import everything: same rows, no duplicates, nothing changed.
    report = bootstrap(any_db_url).import_file(tmp_path / "posts.csv", "posts")
    assert (report.rows, report.new_rows) == (3, 0)
    bootstrap(any_db_url).import_file(tmp_path / "influencers.csv", "influencers")
    assert store.counts() == {"influencers": 3, "posts": 3, "songs": 2}
    assert Dataset.read(store).fingerprint() == before
    store.dispose()


def test_update_in_place_keeps_columns_the_file_lacks(migrated_sqlite, tmp_path):
    store = load_all(migrated_sqlite, tmp_path)
    bootstrap(migrated_sqlite).import_file(
        write(tmp_path, "f.csv", "handle,followers\nchef.ana,13000\n"), "influencers"
    )
    profile = store.influencer_profile("chef.ana")
    assert profile["followers"] == 13000
    assert profile["language"] == "es"  # not erased by a file without that column


BAD_POSTS = (
    "handle,post_id,posted_at,caption,hashtags,likes,comments,image,song_id\n"
    ",p10,2026-10-01,missing handle,,1,1,,\n"  # line 2
    "chef.ana,p11,2026-10-01,negative,,-3,1,,\n"  # line 3
    "chef.ana,p12,2026-10-01,text,,many,1,,\n"  # line 4
    "chef.ana,p13,2026-13-45,bad date,,1,1,,\n"  # line 5
    "chef.ana,p14,2026-10-01,first,,1,1,,\n"  # line 6
    "chef.ana,p14,2026-10-01,duplicate,,1,1,,\n"  # line 7
    "chef.ana,p15,2026-10-01,song,,1,1,,nope\n"  # line 8
    "chef.ana,p16,2026-10-01,fine,,1,1,,\n"  # line 9
)


def test_bad_rows_reject_the_whole_file_and_name_each_problem(any_db_url, tmp_path):
    store = load_all(any_db_url, tmp_path)
    before = (store.counts(), Dataset.read(store).fingerprint())
    path = write(tmp_path, "bad.csv", BAD_POSTS)
    with pytest.raises(ImportRejected) as exc:
        bootstrap(any_db_url).import_file(path, "posts")
    problems = exc.value.problems
    assert problems == [
        f"{path}:2: handle: required, but empty",
        f"{path}:3: likes: must be >= 0, got -3",
        f"{path}:4: likes: expected a whole number >= 0 (500, 12,345, 1.2k), got 'many'",
        f"{path}:5: posted_at: not an ISO 8601 date or datetime: '2026-13-45'",
        f"{path}:7: post_id: duplicate of line 6 ('p14')",
        f"{path}:8: song_id: unknown song 'nope' (import songs first)",
    ]
    assert (store.counts(), Dataset.read(store).fingerprint()) == before
    store.dispose()


@pytest.mark.slow
def test_cli_reports_problems_on_stderr_with_nonzero_exit(migrated_sqlite, tmp_path):
    path = write(tmp_path, "bad.csv", BAD_POSTS)
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "import", "posts", str(path), "--db", migrated_sqlite],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{path}:3: likes: must be >= 0, got -3" in proc.stderr
    assert "nothing was written" in proc.stderr


def test_jsonl_and_header_problems(migrated_sqlite, tmp_path):
    rows = [{"song_id": "j1", "title": "Jay", "year": 2020}, {"song_id": "j2", "year": "soon"}]
    path = write(tmp_path, "songs.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    with pytest.raises(ImportRejected) as exc:
        bootstrap(migrated_sqlite).import_file(path, "songs")
    assert exc.value.problems == [
        f"{path}:2: year: expected a whole number >= 0 (500, 12,345, 1.2k), got 'soon'",
        f"{path}:3: invalid JSON: Expecting property name enclosed in double quotes",
    ]
    good = write(tmp_path, "ok.jsonl", "\n".join(json.dumps(r) for r in rows[:1]) + "\n")
    assert bootstrap(migrated_sqlite).import_file(good, "songs").rows == 1
    no_handle = write(tmp_path, "x.csv", "name,followers\nA,1\n")
    with pytest.raises(ImportRejected, match="missing required column"):
        bootstrap(migrated_sqlite).import_file(no_handle, "influencers")
    with pytest.raises(ScoutError, match="no such file"):
        bootstrap(migrated_sqlite).import_file(tmp_path / "absent.csv", "posts")


def test_problem_list_is_capped(migrated_sqlite, tmp_path):
    body = "handle,followers\n" + "".join(f"h{i},-1\n" for i in range(80))
    with pytest.raises(ImportRejected) as exc:
        bootstrap(migrated_sqlite).import_file(write(tmp_path, "many.csv", body), "influencers")
    assert len(exc.value.problems) == 50 and exc.value.truncated == 30
    assert "and 30 more problems" in str(exc.value)


def test_a_write_failing_midway_leaves_nothing_of_the_file(any_db_url, tmp_path, monkeypatch):
    """The hashtags go in by COPY on Postgres: they must still roll back with the file."""
    import engine.ingest.importer as importer
    from models import writer

    store = load_all(any_db_url, tmp_path)
    before = store.posts_frame().set_index("post_id")["hashtags"].to_dict()
    changed = POSTS.replace("food|Recipes", "grill").replace("p3,", "p4,")
    real, calls = writer.upsert_posts, []

    def fail_on_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "BATCH", 1)
    monkeypatch.setattr(writer, "upsert_posts", fail_on_second_batch)
    with pytest.raises(Exception, match="disk full"):
        bootstrap(any_db_url).import_file(write(tmp_path, "changed.csv", changed), "posts")
    assert store.posts_frame().set_index("post_id")["hashtags"].to_dict() == before
    monkeypatch.setattr(writer, "upsert_posts", real)
    bootstrap(any_db_url).import_file(tmp_path / "changed.csv", "posts")  # the same file, now whole
    after = store.posts_frame().set_index("post_id")["hashtags"]
    assert after["p1"] == ["grill", "comida", "cocina"] and "p4" in after
    store.dispose()
