"""HTTP mode: a Flask app around bolt's SlackRequestHandler, served by gunicorn with
threads (one request thread per delivery, acks never queue behind slow work).

Anyone can reach this port, signed or not, so what an unsigned client can cost is
bounded before bolt sees the request: bot.gworker reads each request in the event loop
(slow clients hold no thread), caps bodies at 1 MB and a request's read time at 10 s;
Flask refuses bigger bodies again; a timestamp that is not an integer is a 401 (bolt
raised a 500); and no log line ever carries a request body."""

from __future__ import annotations

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

    return web


def create_wsgi(database_url: str | None = None):
    """gunicorn's entry point: `gunicorn 'bot.web:create_wsgi()'`."""
    from bot.config import BotConfig, setup_logging

    setup_logging()
    config = BotConfig.from_env()
    if not config.signing_secret:
        raise SystemExit(NO_SECRET)
    return flask_app(create_bot(config, database_url=database_url))


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

    class _App(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": WORKER,
                "threads": threads,
                "timeout": 60,
                "limit_request_line": 8190,
                "limit_request_fields": 100,
                "limit_request_field_size": 8190,
                "accesslog": None,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_wsgi(database_url)

    _App().run()
