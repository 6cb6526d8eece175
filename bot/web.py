"""HTTP mode: a Flask app around bolt's SlackRequestHandler, served by gunicorn with
threads (one request thread per delivery, acks never queue behind slow work)."""

from __future__ import annotations

from typing import Any

from bot.app import SlackBot, create_bot


def flask_app(bot: SlackBot):
    from flask import Flask, request
    from slack_bolt.adapter.flask import SlackRequestHandler

    handler = SlackRequestHandler(bot.app)
    web = Flask("scout")

    @web.post("/slack/events")
    def events():
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
    from bot.config import setup_logging

    setup_logging()
    return flask_app(create_bot(database_url=database_url))


def serve(
    port: int,
    host: str = "0.0.0.0",  # noqa: S104
    threads: int = 8,
    *,
    database_url: str | None = None,
    workers: int = 1,
) -> None:
    """Run under gunicorn (gthread), as the Procfile's web process does."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 60,
                "accesslog": None,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_wsgi(database_url)

    _App().run()
