"""Shortlists (issue 26): per workspace, in the store (they survive a new process over
the same database), on SQLite and Postgres; `/list` and the 'Add to list' button
dispatched in-process into the bolt App against the loopback fake Slack; the CSV
export; the App Home's lists; the console's `list ...`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from engine.bootstrap import assemble
from engine.core.errors import ScoutError
from tests.test_bot_listeners import slack  # noqa: F401 - the in-process bot fixture


@pytest.fixture
def ops(any_db_url):
    parts = assemble(any_db_url, migrate=True)
    yield parts.workspace_ops, any_db_url
    parts.close()


def test_a_list_keeps_who_added_each_creator_and_why_and_survives_reopening(ops):
    workspace, url = ops
    info, created = workspace.list_new("T1", "Summer launch", "U1")
    assert created and info.name == "Summer launch" and info.members == []
    assert workspace.list_add("T1", "summer launch", "@bob", "U1", "shares #food with @ana")
    assert workspace.list_add("T1", "Summer launch", "cat", "U2", facts={"quality": 81}) is True
    assert workspace.list_add("T1", "Summer launch", "bob", "U2") is False  # already on it
    assert workspace.list_add("T1", "no such list", "bob", "U2") is None
    again = assemble(url)  # a new process (a redeploy) over the same database
    try:
        shown = again.workspace_ops.list_get("T1", "SUMMER LAUNCH")
        assert [m.handle for m in shown.members] == ["bob", "cat"]
        bob, cat = shown.members
        assert (bob.added_by, bob.reason) == ("U1", "shares #food with @ana")
        assert (cat.added_by, cat.facts) == ("U2", {"quality": 81})
        assert again.workspace_ops.list_current("T1", "U1").name == "Summer launch"
        assert again.workspace_ops.list_remove("T1", "Summer launch", "@BOB") is True
        assert again.workspace_ops.list_remove("T1", "Summer launch", "bob") is False
        assert [m.handle for m in again.workspace_ops.list_get("T1", "summer launch").members] == [
            "cat"
        ]
    finally:
        again.close()


def test_another_workspace_never_sees_a_list_even_of_the_same_name(ops):
    workspace, _ = ops
    workspace.list_new("T1", "fall", "U1")
    workspace.list_add("T1", "fall", "bob", "U1")
    assert workspace.list_get("T2", "fall") is None
    assert workspace.list_add("T2", "fall", "eve", "U9") is None
    assert workspace.list_remove("T2", "fall", "bob") is None
    assert workspace.lists("T2") == []
    assert workspace.list_current("T2", "U1") is None
    mine, created = workspace.list_new("T2", "fall", "U9")  # its own list of that name
    assert created and mine.members == []
    assert [m.handle for m in workspace.list_get("T1", "fall").members] == ["bob"]
    assert [x.name for x in workspace.lists("T1")] == ["fall"]


def test_names_and_teams_are_checked(ops):
    workspace, _ = ops
    for bad in ("", "   ", "@bob", "x" * 81):
        with pytest.raises(ScoutError):
            workspace.list_new("T1", bad, "U1")
    with pytest.raises(ScoutError, match="workspace"):
        workspace.list_new(None, "fine", "U1")
    workspace.list_new("T1", "fine", "U1")
    _, created = workspace.list_new("T1", "FINE", "U2")
    assert not created and workspace.list_current("T1", "U2").name == "fine"


# --------------------------------------------------------------- in Slack
def _blocks(params: dict) -> list[dict]:
    blocks = params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _list_button(bot, key: str, handle: str) -> str:
    """The 'Add to list' value under `handle` in the answer sent to `key`."""
    call = bot.fake.wait_for("response_url", lambda c: c.params["key"] == key, 10)[0]
    values = [
        e["value"]
        for b in _blocks(call.params)
        if b.get("type") == "actions"
        for e in b["elements"]
        if e.get("action_id") == "list_add"
    ]
    assert values, call.params
    return next(v for v in values if json.loads(v)["h"] == handle)


def _latest(bot, key: str) -> dict:
    bot.fake.wait_for("response_url", lambda c: c.params["key"] == key, 10)
    return [c.params for c in bot.fake.of("response_url") if c.params["key"] == key][-1]


def test_add_to_list_asks_for_a_list_first_then_adds_with_the_reason(slack):  # noqa: F811
    slack.command("/lookalike", "@ana 3", "answer")
    value = _list_button(slack, "answer", "bob")
    assert slack.action("list_add", value, "too-soon").status == 200
    assert "/list new NAME" in slack.answer("too-soon")
    slack.command("/list", "new Summer launch", "new")
    assert "Started list *Summer launch*" in slack.answer("new")
    slack.action("list_add", value, "added")
    added = _latest(slack, "added")
    assert "Added @bob to *Summer launch*" in added["text"]
    assert added["response_type"] == "ephemeral" and added["replace_original"] is False
    slack.action("list_add", value, "twice")
    assert "already on *Summer launch*" in slack.answer("twice")
    slack.command("/list", "show summer launch", "show")
    shown = slack.answer("show")
    assert "<https://www.instagram.com/bob/|@bob>" in shown and "<@U0001>" in shown
    assert "shares #food #travel with @ana — from /lookalike @ana 3" in shown
    slack.command("/list", "add Summer launch <@U0099|eve>", "mention")  # Slack's member link
    assert "Added @eve (Summer launch)" in slack.answer("mention")
    slack.command("/list", "add Summer launch https://www.instagram.com/fay/", "link")
    assert "Added @fay (Summer launch)" in slack.answer("link")
    slack.command("/list", "remove Summer launch @eve", "gone-eve")
    slack.command("/list", "remove Summer launch @fay", "gone-fay")
    assert "Removed @fay" in slack.answer("gone-fay")
    slack.command("/list", "remove Summer launch @bob", "remove")
    assert "Removed @bob" in slack.answer("remove")
    slack.command("/list", "show Summer launch", "empty")
    assert "Nothing on it yet" in slack.answer("empty")


def test_share_posts_the_list_to_the_channel_and_show_stays_private(slack):  # noqa: F811
    slack.command("/list", "new fall", "new")
    slack.answer("new")
    slack.command("/list", "add fall @cat great reels", "add")
    assert "Added @cat" in slack.answer("add")
    slack.command("/list", "show fall", "show")
    assert _latest(slack, "show")["response_type"] == "ephemeral"
    slack.command("/list", "share fall", "share")
    shared = _latest(slack, "share")
    assert shared["response_type"] == "in_channel", shared
    assert "@cat" in shared["text"] and "Shared by <@U0001>" in json.dumps(_blocks(shared))
    assert "share_answer" not in json.dumps(_blocks(shared))


def test_export_uploads_a_csv_with_links_facts_reason_and_who(slack):  # noqa: F811
    slack.command("/lookalike", "@ana 3", "answer")
    value = _list_button(slack, "answer", "bob")
    slack.command("/list", "new launch", "new")
    slack.answer("new")
    slack.action("list_add", value, "added")
    slack.answer("added")
    slack.command("/list", "export launch", "export", channel="CEXP")
    done = slack.fake.wait_for(
        "files.completeUploadExternal", lambda c: c.params.get("channel_id") == "CEXP"
    )[0]
    files = done.params["files"]
    file_id = (json.loads(files) if isinstance(files, str) else files)[0]["id"]
    rows = list(csv.DictReader(io.StringIO(slack.fake.uploads[file_id].decode())))
    assert list(rows[0]) == [
        "handle",
        "profile_url",
        "platform",
        "followers",
        "er_percent",
        "quality",
        "reason",
        "added_by",
        "added_at",
    ]
    bob = rows[0]
    assert bob["handle"] == "bob" and bob["profile_url"] == "https://www.instagram.com/bob/"
    assert (bob["followers"], bob["er_percent"], bob["added_by"]) == ("12000", "2.5", "U0001")
    assert bob["reason"].startswith("shares #food #travel with @ana")


def test_the_app_home_shows_this_workspaces_lists_only(slack):  # noqa: F811
    slack.command("/list", "new home-list", "new")
    slack.answer("new")
    slack.command("/list", "add home-list @dan", "add")
    slack.answer("add")
    mine = json.dumps(slack.bot.scout.home_view("T0001"))
    assert "Shortlists in this workspace" in mine and "home-list" in mine and "@dan" in mine
    other = json.dumps(slack.bot.scout.home_view("T0002"))
    assert "Shortlists in this workspace" in other and "home-list" not in other


def test_list_mistakes_are_one_polite_line(slack):  # noqa: F811
    slack.command("/list", "show nothing-here", "missing")
    assert "There is no list called `nothing-here`" in slack.answer("missing")
    slack.command("/list", "frobnicate", "unknown")
    assert "/list new NAME" in slack.answer("unknown")
    slack.command("/list", "remove fall", "no-handle")
    assert "/list remove NAME @handle" in slack.answer("no-handle")


def test_the_console_supports_lists(migrated_sqlite, tmp_path, monkeypatch):
    from bot.console import handle
    from bot.router import Scout
    from tests.bot_fakes import make

    parts = assemble(migrated_sqlite)
    try:
        scout = Scout(make(parts.recommender), parts.workspace_ops)
        state: dict = {}
        assert "Started list" in handle(scout, "list new picks", state)
        assert "Added @eve" in handle(scout, "/list add picks @eve calm feed", state)
        assert "calm feed" in handle(scout, "list show picks", state)
        monkeypatch.chdir(tmp_path)
        out = handle(scout, "list export picks", state)
        assert "saved list-picks.csv" in out
        assert (tmp_path / "list-picks.csv").read_text().splitlines()[1].startswith("eve,")
        assert "picks" in handle(scout, "list", state)
    finally:
        parts.close()


@pytest.mark.slow
def test_an_export_reads_the_creators_facts_from_the_store(copy_db, tmp_path, monkeypatch):
    """On the trained demo: followers, ER and quality as the engine knows them now, not
    as typed; a creator the store does not know keeps empty cells, never 'None'."""
    from sqlalchemy import create_engine, text

    from bot.console import handle
    from bot.router import Scout

    parts = assemble(copy_db)
    try:
        scout = Scout(parts.recommender, parts.workspace_ops)
        engine = create_engine(copy_db)
        with engine.connect() as conn:
            known = conn.execute(text("select handle from influencers order by id")).scalar()
        engine.dispose()
        state: dict = {}
        handle(scout, "list new real", state)
        assert "Added" in handle(scout, f"list add real @{known} looks right", state)
        assert "Added" in handle(scout, "list add real @nobody_we_know", state)
        monkeypatch.chdir(tmp_path)
        handle(scout, "list export real", state)
        rows = list(csv.DictReader((tmp_path / "list-real.csv").open()))
        card = parts.recommender.creator_card(known)
        assert rows[0]["handle"] == known and rows[0]["followers"] == str(card.followers)
        assert card.quality is not None and rows[0]["quality"] == str(round(card.quality, 2))
        assert rows[0]["reason"] == "looks right" and rows[0]["added_by"] == "UCONSOLE"
        assert rows[1]["handle"] == "nobody_we_know" and rows[1]["followers"] == ""
        assert "None" not in (tmp_path / "list-real.csv").read_text()
    finally:
        parts.close()
