"""The clock's daily step pulls fresh data before the retrain (issue 23): against the
loopback Graph fake (tests/fake_graph.py) on a real SQLite file, the step syncs the
watched creators and then trains on them; when the source answers with errors (an
expired token, dropped connections) the day's retrain still runs."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from bot.clock import daily_step
from bot.router import Scout
from models.store import Store
from tests.fake_graph import FakeGraph
from tests.fakes import CountKind
from tests.test_sync import parts

DAY = datetime(2026, 11, 22, 5, 0)  # after the default train time (04:00 UTC)


def served_counts(url: str) -> dict[str, int]:
    """The fake kind's published model: posts per handle it was trained on."""
    from engine.bootstrap import assemble

    p = assemble(url)
    try:
        return p.recommender.model("alpha")
    finally:
        p.close()


def watched_scout(url: str, graph: FakeGraph) -> tuple[Scout, object]:
    p = parts(url, graph)
    p.admin.watch_add("@ana")
    p.admin.watch_add("@bo")
    return Scout(p.recommender, p.workspace_ops), p


def test_the_daily_step_syncs_then_trains_on_the_synced_posts(sqlite_url, fake_kinds):
    fake_kinds(CountKind("alpha"))
    with FakeGraph() as graph:
        graph.add_account("ana", 12)
        graph.add_account("bo", 5)
        scout, p = watched_scout(sqlite_url, graph)
        report = daily_step(scout, DAY)
        assert report is not None and report.ok
        assert len(graph.of("/v21.0/")) >= 2  # both creators were fetched
        assert served_counts(sqlite_url) == {"ana": 12, "bo": 5}
        # the same day again: the day is claimed, so neither sync nor training runs
        calls = len(graph.calls)
        assert daily_step(scout, DAY.replace(minute=1)) is None
        assert len(graph.calls) == calls
        p.close()


def test_a_failing_source_never_stops_the_retrain(sqlite_url, fake_kinds, caplog):
    fake_kinds(CountKind("alpha"))
    with FakeGraph() as graph:
        graph.add_account("ana", 3)
        graph.expire_token_after(0)  # every call answers 190
        scout, p = watched_scout(sqlite_url, graph)
        with caplog.at_level(logging.INFO, logger="bot.clock"):
            report = daily_step(scout, DAY)
        assert report is not None and report.ok  # trained on what was there (nothing)
        assert graph.calls and all(c.status != 200 for c in graph.calls)
        assert any("sync instagram_graph" in r.getMessage() for r in caplog.records)
        status = {s.source: s for s in p.workspace_ops.sync_status()}
        assert status["instagram_graph"].token_state == "invalid"
        p.close()


def test_a_sync_that_raises_is_one_log_line_and_training_still_runs(sqlite_url, fake_kinds, caplog):
    """A store that breaks under the sync (its snapshot table dropped: pruning history fails outside the per-source guard) raises out of Sync; the
    clock logs one line and the retrain runs anyway."""
    from sqlalchemy import text

    fake_kinds(CountKind("alpha"))
    with FakeGraph() as graph:
        graph.add_account("ana", 3)
        scout, p = watched_scout(sqlite_url, graph)
        store = Store(sqlite_url)
        with store.session() as s:
            s.execute(text("DROP TABLE creator_snapshots"))
        store.dispose()
        with caplog.at_level(logging.INFO, logger="bot.clock"):
            report = daily_step(scout, DAY)
        assert report is not None and report.ok
        failed = [r for r in caplog.records if "daily sync failed" in r.getMessage()]
        assert len(failed) == 1 and "\n" not in failed[0].getMessage()
        p.close()


def test_every_answer_says_how_old_its_data_is_once_a_sync_ran(copy_db, capsys, monkeypatch):
    """No sync yet: the footer says nothing of it. After a sync that finished 3 hours
    ago, the answer's details.meta carries the time, the Slack footer and the CLI table
    say "data synced 3 h ago"."""
    from datetime import UTC, timedelta

    from sqlalchemy import create_engine, text

    import engine.service as service
    from bot import blocks as bk
    from engine.bootstrap import assemble
    from engine.cli import main
    from models import watchlist

    with create_engine(copy_db).connect() as conn:
        handle = conn.execute(text("select handle from influencers limit 1")).scalar_one()
    p = assemble(copy_db)
    before = p.recommender.related_tags("#" + "food", 5)
    assert "data_synced_at" not in before.meta
    assert "data synced" not in json.dumps(bk.notes_block(before))

    finished = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=3, minutes=5)
    store = Store(copy_db)
    with store.session() as s:
        watchlist.save_state(
            s, watchlist.SourceStanding("instagram_graph", last_sync_finished_at=finished)
        )
    store.dispose()
    # within a minute the facade trusts its last read (one query a minute, not per answer)
    assert "data_synced_at" not in p.recommender.related_tags("#food", 5).meta
    monkeypatch.setattr(service, "DATA_AGE_TTL_S", 0.0)
    answer = p.recommender.lookalike(handle, 3)
    assert answer.to_json()["details"]["meta"]["data_synced_at"] == f"{finished:%Y-%m-%dT%H:%M:%S}"
    assert "data synced 3 h ago" in json.dumps(bk.notes_block(answer))
    p.close()

    capsys.readouterr()
    assert main(["lookalike", handle, "-k", "3", "--db", copy_db]) == 0
    assert "data synced 3 h ago" in capsys.readouterr().out


def test_the_age_reads_in_minutes_hours_and_days():
    from engine.service import data_age_line

    now = datetime(2026, 11, 22, 12, 0)
    assert data_age_line({}, now) == ""
    assert data_age_line({"data_synced_at": "2026-11-22T11:59:40"}, now) == "data synced just now"
    assert data_age_line({"data_synced_at": "2026-11-22T11:35:00"}, now) == "data synced 25 min ago"
    assert data_age_line({"data_synced_at": "2026-11-22T09:00:00"}, now) == "data synced 3 h ago"
    assert data_age_line({"data_synced_at": "2026-11-19T12:00:00"}, now) == "data synced 3 days ago"


def test_never_synced_the_footer_says_when_data_was_imported(copy_db):
    """No source ever synced: the footer falls back to the last import's time
    (influencers.updated_at), worded 'data imported ... ago'; a sync's time wins."""
    from datetime import UTC, timedelta

    from sqlalchemy import create_engine, text

    from bot import blocks as bk
    from engine.bootstrap import assemble
    from engine.service import data_age_line

    imported = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=2, hours=1)
    with create_engine(copy_db).begin() as conn:
        conn.execute(text("update influencers set updated_at = :t"), {"t": imported})
    p = assemble(copy_db)
    answer = p.recommender.related_tags("#food", 5)
    assert answer.meta["data_imported_at"] == f"{imported:%Y-%m-%dT%H:%M:%S}"
    assert "data_synced_at" not in answer.meta
    assert "data imported 2 days ago" in json.dumps(bk.notes_block(answer))
    p.close()
    now = datetime(2026, 11, 22, 12, 0, 0)
    both = {"data_synced_at": "2026-11-22T09:00:00", "data_imported_at": "2026-11-01T09:00:00"}
    assert data_age_line(both, now) == "data synced 3 h ago"
    assert (
        data_age_line({"data_imported_at": "2026-11-22T11:00:00"}, now) == "data imported 1 h ago"
    )
