"""Real exports as they come (issue 24), through `python -m engine import` as a person
types it: --skip-invalid imports the valid rows and names each line it skipped, the
default stays all-or-nothing and says the flag exists; columns whose names say what
they hold need no --map; a creator repeated on every post row is one creator."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from models.store import Store

# The scraper's profiles.csv: four junk rows with no username (an explore page's URL).
PROFILES = (
    "username,url,fullName,followersCount,followsCount,postsCount,biography,verified\n"
    "sonyalpha,https://www.instagram.com/sonyalpha/,Sony Alpha,2100000,300,5000,cameras,true\n"
    ",https://www.instagram.com/popular/street-photographer/,,,,,,\n"
    "leica_camera,https://www.instagram.com/leica_camera/,Leica,1500000,200,4000,,true\n"
    ",https://www.instagram.com/popular/street-photographer/,,,,,,\n"
    ",https://www.instagram.com/popular/street-photographer/,,,,,,\n"
    "rohit_apf,https://www.instagram.com/rohit_apf/,Rohit,12000,900,300,street,false\n"
    ",https://www.instagram.com/popular/street-photographer/,,,,,,\n"
)
JUNK_LINES = (3, 5, 6, 8)


@pytest.fixture
def db(migrated_sqlite: str) -> str:
    return migrated_sqlite


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def influencers(db: str) -> dict[str, dict]:
    frame = Store(db).influencers_frame()
    return {r["handle"]: r for r in frame.to_dict("records")}


def test_default_is_all_or_nothing_and_names_the_flag(db, tmp_path, capsys):
    path = tmp_path / "profiles.csv"
    path.write_text(PROFILES)
    code, out, err = cli(capsys, "import", "influencers", str(path), "--db", db, "--quiet")
    assert code == 2 and out == ""
    assert "rejected, nothing was written (4 problems)" in err
    for line in JUNK_LINES:
        assert f"{path}:{line}: handle: required, but empty" in err
    assert "--skip-invalid" in err
    assert "Traceback" not in err
    assert Store(db).counts()["influencers"] == 0


def test_skip_invalid_imports_the_valid_rows_and_lists_each_skipped_line(db, tmp_path, capsys):
    path = tmp_path / "profiles.csv"
    path.write_text(PROFILES)
    code, out, err = cli(
        capsys, "import", "influencers", str(path), "--db", db, "--quiet", "--skip-invalid"
    )
    assert code == 0, err
    assert "3 influencers imported (3 new, 0 updated)" in out
    assert "skipped 4 invalid line(s)" in out
    skipped = [ln for ln in err.splitlines() if ln.startswith("skipped ")]
    assert skipped == [f"skipped {path}:{n}: handle: required, but empty" for n in JUNK_LINES]
    found = influencers(db)
    assert sorted(found) == ["leica_camera", "rohit_apf", "sonyalpha"]
    assert int(found["sonyalpha"]["followers"]) == 2_100_000
    assert int(found["rohit_apf"]["following"]) == 900


def test_skip_invalid_json_details_hold_the_skipped_lines(db, tmp_path, capsys):
    path = tmp_path / "posts.csv"
    path.write_text(
        "handle,post_id,caption,likes\n"
        "ann,p1,hello #sun,10\n"
        "bob,p2,bad likes,-3\n"
        "ann,p1,again,11\n"
        "cid,p3,fine,12\n"
    )
    code, out, err = cli(
        capsys, "import", "posts", str(path), "--db", db, "--json", "--skip-invalid"
    )
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) == {"results", "details"} and answer["results"] == []
    details = answer["details"]
    assert (details["rows"], details["new"], details["skipped_lines"]) == (2, 2, 2)
    assert details["skipped"][0].startswith(f"{path}:3: likes:")
    assert details["skipped"][1] == f"{path}:4: post_id: duplicate of line 2 ('p1')"
    assert f"skipped {path}:4: post_id: duplicate of line 2" in err
    assert sorted(Store(db).posts_frame()["post_id"]) == ["p1", "p3"]


def test_skip_invalid_with_nothing_valid_left_is_still_refused(db, tmp_path, capsys):
    path = tmp_path / "junk.csv"
    path.write_text("handle,followers\n,12\n,13\n")
    code, _out, err = cli(
        capsys, "import", "influencers", str(path), "--db", db, "--quiet", "--skip-invalid"
    )
    assert code == 2
    assert "no data rows" in err and f"{path}:3: handle: required, but empty" in err
    assert Store(db).counts()["influencers"] == 0


def test_help_names_the_flag(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "--skip-invalid" in capsys.readouterr().out


# ------------------------------------------------------- plain-name columns
def test_columns_whose_names_say_what_they_hold_need_no_map(db, tmp_path, capsys):
    path = tmp_path / "accounts.csv"
    path.write_text(
        "AccountUsername,InstagramLink,Followers,followers_count_unused,Bio\n"
        "SonyAlpha,https://www.instagram.com/sonyalpha/,2.1M,,cameras\n"
    )
    code, out, err = cli(capsys, "import", "influencers", str(path), "--db", db, "--quiet")
    assert code == 0, err
    assert "1 influencers imported" in out
    found = influencers(db)
    assert list(found) == ["sonyalpha"] and int(found["sonyalpha"]["followers"]) == 2_100_000
    links = tmp_path / "links.csv"
    links.write_text("InstagramLink,followersCount\nhttps://www.instagram.com/leica_camera/,9\n")
    assert cli(capsys, "import", "influencers", str(links), "--db", db, "--quiet")[0] == 0
    assert int(influencers(db)["leica_camera"]["followers"]) == 9


def test_a_post_link_gives_the_post_id(db, tmp_path, capsys):
    path = tmp_path / "posts.csv"
    path.write_text(
        "ownerUsername,url,likesCount,commentCount\n"
        "ann,https://www.instagram.com/p/C1abc/,5,1\n"
        "ann,https://www.instagram.com/reel/D2xyz/?igsh=1,6,2\n"
    )
    code, _out, err = cli(capsys, "import", "posts", str(path), "--db", db, "--quiet")
    assert code == 0, err
    posts = Store(db).posts_frame().set_index("post_id")
    assert sorted(posts.index) == ["C1abc", "D2xyz"]
    assert posts.loc["D2xyz", "likes"] == 6 and posts.loc["D2xyz", "comments"] == 2


def test_two_columns_that_could_each_be_the_handle_are_refused_by_name(db, tmp_path, capsys):
    path = tmp_path / "two.csv"
    path.write_text("AccountUsername,CreatorHandle,Followers\nann,bob,5\n")
    code, _out, err = cli(capsys, "import", "influencers", str(path), "--db", db, "--quiet")
    assert code == 2
    assert "'AccountUsername' and 'CreatorHandle' could each be handle" in err
    assert "--map SOURCE=handle" in err
    assert Store(db).counts()["influencers"] == 0
    code, _out, err = cli(
        capsys,
        "import",
        "influencers",
        str(path),
        "--db",
        db,
        "--quiet",
        "--map",
        "CreatorHandle=handle",
    )
    assert code == 0, err
    assert list(influencers(db)) == ["bob"]


def test_a_nested_comment_field_is_not_the_posts_own(db, tmp_path, capsys):
    path = tmp_path / "flat.csv"
    path.write_text("ownerUsername,shortCode,latestComments/0/likesCount\nann,c1,99\n")
    assert cli(capsys, "import", "posts", str(path), "--db", db, "--quiet")[0] == 0
    assert Store(db).posts_frame()["likes"].tolist() == [0]  # unknown, not the comment's 99


# ------------------------------------------------ a profile on every post row
def test_a_profile_repeated_on_every_post_row_is_one_creator(db, tmp_path, capsys):
    path = tmp_path / "export.csv"
    path.write_text(
        "username,followers,bio,post\n"
        "ann,100,chef,p1\n"
        "ann,100,,p2\n"
        "bob,7,runner,p3\n"
        "ann,120,chef,p4\n"
    )
    code, out, err = cli(capsys, "import", "influencers", str(path), "--db", db, "--quiet")
    assert code == 0, err
    assert "2 influencers imported (2 new, 0 updated)" in out
    assert "2 rows repeated a creator already in the file: merged into 2 creators" in out
    assert "followers 100 (line 3) then 120 (line 5)" in out
    found = influencers(db)
    assert int(found["ann"]["followers"]) == 120 and found["ann"]["bio"] == "chef"


# ------------------------------------------- the raw instagram-600 export's shape
RAW = (
    ";numberLikesCategory;descriptionProcessed;numberPosts;numberFollowers;numberFollowing;path\n"
    "0;10;sunset island flamingo;554;990729;266;pictures/elisabeth.rioux/3.jpg\n"
    "1;9;beauty standards;554;990729;266;pictures/elisabeth.rioux/4.jpg\n"
    "2;3;street at night;120;5400;300;pictures/night.walker/1.jpg\n"
)


def test_an_export_with_the_account_only_in_the_image_path(db, tmp_path, capsys):
    path = tmp_path / "raw.csv"
    path.write_text(RAW)
    code, _out, err = cli(capsys, "import", "influencers", str(path), "--db", db, "--quiet")
    assert code == 2 and "--map path=handle@folder takes the account from the folder" in err
    code, out, err = cli(
        capsys,
        "import",
        "influencers",
        str(path),
        "--db",
        db,
        "--quiet",
        "--map",
        "path=handle@folder",
    )
    assert code == 0, err
    assert "2 influencers imported (2 new, 0 updated)" in out
    maps = ["--map", "path=post_id", "--map", "descriptionProcessed=caption"]
    maps += ["--map", "path=image", "--map", "path=handle@folder"]
    code, out, err = cli(capsys, "import", "posts", str(path), "--db", db, "--quiet", *maps)
    assert code == 0, err
    assert "3 posts imported" in out
    assert "kept the creators' followers, following, posts_count from the post rows" in out
    found = influencers(db)
    assert int(found["night.walker"]["followers"]) == 5400
    assert int(found["elisabeth.rioux"]["posts_count"]) == 554
    assert Store(db).counts()["posts"] == 3


def test_a_jsonl_line_with_two_candidate_handles_is_refused_in_one_line(db, tmp_path, capsys):
    path = tmp_path / "p.jsonl"
    path.write_text(
        json.dumps({"AccountUsername": "ann", "CreatorHandle": "bob", "Followers": 5}) + "\n"
    )
    code, _out, err = cli(capsys, "import", "influencers", str(path), "--db", db, "--quiet")
    assert code == 2 and "Traceback" not in err
    assert "'AccountUsername' and 'CreatorHandle' could each be handle" in err
    assert Store(db).counts()["influencers"] == 0
