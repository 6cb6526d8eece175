"""Shortlists (issue 26): per workspace, in the store (they survive a new process over
the same database), on SQLite and Postgres; `/list` and the 'Add to list' button
dispatched in-process into the bolt App against the loopback fake Slack; the CSV
export; the App Home's lists; the console's `list ...`."""

from __future__ import annotations

import pytest

from engine.bootstrap import assemble
from engine.core.errors import ScoutError


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
