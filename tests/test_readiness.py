"""/healthz is liveness (the process runs); /readyz is readiness (issue 24): the store
answers, models are published and loaded in this process, with each one's age; 503 with
the reasons when not. Requests go through the Flask app HTTP mode serves."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from bot.app import create_bot
from bot.web import flask_app, readiness
from engine.bootstrap import assemble
from tests.fake_slack import BOT_TOKEN

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/scout"


@pytest.fixture
def slack_env(fake_slack, monkeypatch):
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "readiness-secret")
    for name in ("SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SCOUT_RECOMMENDER"):
        monkeypatch.delenv(name, raising=False)


def _client(parts):
    bot = create_bot(parts=parts)
    return bot, flask_app(bot).test_client()


def test_unreachable_store_is_503_with_the_reason_while_healthz_stays_ok(slack_env):
    parts = assemble(UNREACHABLE)
    bot, web = _client(parts)
    try:
        assert web.get("/healthz").status_code == 200
        resp = web.get("/readyz")
        assert resp.status_code == 503
        body = resp.get_json()
        assert body["ok"] is False and body["store"] == "unreachable"
        assert "cannot reach the database" in body["reasons"][0]
    finally:
        bot.pool.shutdown(wait=True)
        parts.close()


def test_untrained_store_is_503_saying_no_model(slack_env, migrated_sqlite):
    parts = assemble(migrated_sqlite)
    bot, web = _client(parts)
    try:
        resp = web.get("/readyz")
        assert resp.status_code == 503
        assert resp.get_json()["store"] == "reachable"
        assert any("no model is trained" in r for r in resp.get_json()["reasons"])
    finally:
        bot.pool.shutdown(wait=True)
        parts.close()


@pytest.mark.slow  # the trained demo store
def test_trained_store_is_ready_once_models_are_loaded(slack_env, copy_db):
    parts = assemble(copy_db, background_reload=True)
    rec = parts.recommender
    published = {i.kind: i for i in rec.model_status()}
    later = max(i.created_at for i in published.values()).replace(tzinfo=None)
    ready, body = readiness(replace_loaded(rec), now=later + timedelta(hours=5))
    assert not ready and any("not loaded yet" in r for r in body["reasons"])
    bot, web = _client(parts)  # create_bot warms every model up in the background
    try:
        deadline = time.monotonic() + 120
        while (resp := web.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        body = resp.get_json()
        assert resp.status_code == 200, body
        assert body["ok"] is True and set(body["models"]) == set(published)
        for kind, m in body["models"].items():
            assert m["loaded"] is True and m["version"] == published[kind].version
            assert 0 <= m["age_hours"] < 24 * 365
        ready, aged = readiness(rec, now=later + timedelta(hours=5))
        assert ready and all(m["age_hours"] >= 5 for m in aged["models"].values())
    finally:
        bot.pool.shutdown(wait=True)
        parts.close()


class replace_loaded:  # noqa: N801 - reads as what it does
    """The recommender as a fresh process sees it: published models, none loaded yet."""

    def __init__(self, rec) -> None:
        self._rec = rec

    def model_status(self):
        return self._rec.model_status()

    def loaded_versions(self) -> dict[str, int]:
        return {}


def test_readiness_reports_each_model_age():
    class _Rec:
        def model_status(self):
            from engine.service import ModelInfo

            return [ModelInfo("tags", 3, datetime(2025, 5, 1), {}, {}, "")]

        def loaded_versions(self):
            return {"tags": 3}

    ready, body = readiness(_Rec(), now=datetime(2025, 5, 2, 12))
    assert ready and body["models"] == {"tags": {"version": 3, "loaded": True, "age_hours": 36.0}}
