"""HTTP mode: a Flask app around bolt's SlackRequestHandler, served by gunicorn with
threads (one request thread per delivery, acks never queue behind slow work).

Anyone can reach this port, signed or not, so what an unsigned client can cost is
bounded before bolt sees the request: bot.gworker reads each request in the event loop
(slow clients hold no thread), caps bodies at 1 MB and a request's read time at 10 s,
holds at most SCOUT_MAX_CONNECTIONS incomplete requests and SCOUT_MAX_BUFFERED_MB bytes
(dropping the oldest past either), and logs refusals once a minute;
Flask refuses bigger bodies again; a timestamp that is not an integer is a 401 (bolt
raised a 500); and no log line ever carries a request body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app import SlackBot, create_bot

NO_SECRET = (
    "serve needs SLACK_SIGNING_SECRET (the app's Signing Secret): without it no request "
    "could be verified."
)
WORKER = "bot.gworker.BufferedThreadWorker"


def flask_app(bot: SlackBot):
    from flask import Flask, request
    from slack_bolt.adapter.flask import SlackRequestHandler

    handler = SlackRequestHandler(bot.app)
    web = Flask("scout")
    web.config["MAX_CONTENT_LENGTH"] = bot.config.max_body_bytes

    @web.post("/slack/events")
    def events():
        if not request.headers.get("X-Slack-Request-Timestamp", "").strip().isdigit():
            return {"error": "invalid request"}, 401
        return handler.handle(request)

    if bot.config.oauth:

        @web.get("/slack/install")
        def install():
            return handler.handle(request)

        @web.get("/slack/oauth_redirect")
        def oauth_redirect():
            return handler.handle(request)

    @web.get("/healthz")
    def healthz():
        return {"ok": True}

    @web.get("/readyz")
    def readyz():
        ready, body = readiness(bot.scout.rec)
        return body, 200 if ready else 503

    return web


def readiness(recommender: Any, now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    """Whether this process can answer: the store answers, at least one model is
    published, and every published model is loaded here (the warm-up's background load
    done). /healthz stays liveness only (the process runs), so a restart is never
    triggered by a database outage that a restart cannot fix; /readyz says why not,
    for a load balancer or a person, with each model's version and age."""
    from engine.bootstrap import database_error

    now = now or datetime.now(UTC).replace(tzinfo=None)
    try:
        published = recommender.model_status()
    except Exception as err:  # noqa: BLE001 - the reason is the answer
        problem = database_error(err) or f"{type(err).__name__}: {err}"
        return False, {"ok": False, "store": "unreachable", "reasons": [f"store: {problem}"]}
    loaded = getattr(recommender, "loaded_versions", dict)()
    models, reasons = {}, []
    for info in published:
        created = info.created_at.replace(tzinfo=None)
        models[info.kind] = {
            "version": info.version,
            "loaded": loaded.get(info.kind) == info.version,
            "age_hours": round((now - created).total_seconds() / 3600, 1),
        }
        if info.kind not in loaded:
            reasons.append(f"{info.kind} v{info.version} is not loaded yet")
    if not published:
        reasons.append("no model is trained yet (python -m engine train)")
    body = {"ok": not reasons, "store": "reachable", "models": models}
    if reasons:
        body["reasons"] = reasons
    return not reasons, body


def create_wsgi(database_url: str | None = None):
    """gunicorn's entry point: `gunicorn 'bot.web:create_wsgi()'`."""
    from bot.config import BotConfig, setup_logging

    setup_logging()
    config = BotConfig.from_env()
    if not config.signing_secret:
        raise SystemExit(NO_SECRET)
    return flask_app(create_bot(config, database_url=database_url))


def server_options(config, bind: str, workers: int, threads: int) -> dict[str, Any]:
    """gunicorn's public settings for the web process. `worker_connections` is gunicorn's
    own gate (it stops accepting at that many): set above the worker's cap on incomplete
    requests, because at gunicorn's default of 1,000 slow sockets filled it and signed
    commands waited in the backlog; bot.gworker drops the oldest incomplete one instead."""
    return {
        "bind": bind,
        "workers": workers,
        "worker_class": WORKER,
        "threads": threads,
        "worker_connections": 2 * config.max_connections + 4 * threads,
        "keepalive": 2,
        "timeout": 60,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "accesslog": None,
    }


def serve(
    port: int,
    host: str = "0.0.0.0",  # noqa: S104
    threads: int = 16,
    *,
    database_url: str | None = None,
    workers: int = 1,
) -> None:
    """Run under gunicorn with bot.gworker's worker, as the Procfile's web process does."""
    from gunicorn.app.base import BaseApplication

    from bot.config import BotConfig

    options = server_options(BotConfig.from_env(), f"{host}:{port}", workers, threads)

    class _App(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_wsgi(database_url)

    _App().run()
