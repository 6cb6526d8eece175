"""`python -m engine watch add|list|remove` on a real SQLite file and the real Postgres:
what is kept (the handle as people type it, on its platform, with its origin), each
workspace's watchlist being its own, and bad input as one line without a traceback."""

from __future__ import annotations

import json

from engine.bootstrap import assemble
from engine.cli import main


def run_json(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_watch_add_list_remove_through_the_cli(any_db_url, capsys):
    db = ["--db", any_db_url]
    added = run_json(capsys, "watch", "add", "@Chef_Ana", *db)
    assert added["results"][0]["id"] == "chef_ana" and added["results"][0]["why"] == "now watched"
    again = run_json(capsys, "watch", "add", "https://www.instagram.com/chef_ana/", *db)
    assert again["results"][0]["why"] == "already watched"
    run_json(capsys, "watch", "add", "@chef_ana", "--platform", "youtube", *db)
    run_json(capsys, "watch", "add", "#Street_Food", *db)

    listed = run_json(capsys, "watch", "list", *db)
    ids = [(r["id"], item["platform"]) for r, item in zip(
        listed["results"], listed["details"]["items"], strict=True)]  # fmt: skip
    assert ids == [
        ("chef_ana", "instagram"),
        ("chef_ana", "youtube"),
        ("#street_food", "instagram"),
    ]
    assert all("manual, not synced" in r["why"] for r in listed["results"])

    removed = run_json(capsys, "watch", "remove", "@chef_ana", "--platform", "youtube", *db)
    assert removed["results"][0]["id"] == "chef_ana"
    left = [r["id"] for r in run_json(capsys, "watch", "list", *db)["results"]]
    assert left == ["chef_ana", "#street_food"]


def test_a_workspaces_watchlist_is_its_own(sqlite_url):
    admin = assemble(sqlite_url, migrate=True).admin
    admin.watch_add("@shared_one", team_id="T1")
    admin.watch_add("@only_t2", team_id="T2")
    admin.watch_add("@shared_one", team_id="T2")
    assert [e.handle for e in admin.watchlist("T1")] == ["shared_one"]
    assert [e.handle for e in admin.watchlist("T2")] == ["only_t2", "shared_one"]
    assert admin.watch_remove("@shared_one", team_id="T1") == ("shared_one", 1)
    assert [e.handle for e in admin.watchlist("T2")] == ["only_t2", "shared_one"]
    assert admin.watchlist() == []  # the CLI's own list is empty
    admin.close()


def test_bad_input_is_one_line(sqlite_url, capsys):
    db = ["--db", sqlite_url]
    assert main(["watch", "add", "not a handle", *db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert main(["watch", "add", "#food", "--platform", "youtube", *db]) == 2
    assert "only Instagram hashtags" in capsys.readouterr().err
    assert main(["watch", "remove", "@nobody", *db]) == 2
    assert "not on the watchlist" in capsys.readouterr().err
    assert main(["watch", "add", *db]) == 2
    assert "needs a handle" in capsys.readouterr().err
    assert main(["watch", "list", *db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == []
