"""`python -m bot console|socket|serve|clock|auto`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime


def main(argv: list[str] | None = None) -> int:
    from bot.config import BotConfig, setup_logging

    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument("mode", choices=["console", "socket", "serve", "clock", "auto"])
    parser.add_argument("--db", default=None, help="DATABASE_URL override")
    parser.add_argument("--port", type=int, default=None, help="default: PORT, else 3000")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104
    parser.add_argument("--once", action="store_true", help="clock: one tick, then exit")
    parser.add_argument("--now", default=None, help="clock: pretend UTC time (YYYY-MM-DDTHH:MM)")
    parser.add_argument("--no-train", action="store_true", help="clock: digests only")
    args = parser.parse_args(argv)
    config = BotConfig.from_env()
    port = args.port if args.port is not None else config.port
    mode = args.mode
    if mode == "auto":
        mode, missing = auto_mode(config)
        if missing:
            print(f"python -m bot auto: {missing}", file=sys.stderr)
            return 2
    setup_logging("WARNING" if mode == "console" else None)
    if mode in ("serve", "socket"):
        from bot.app import token_problem

        problem = token_problem(config)
        if problem:
            print(f"python -m bot {mode}: {problem}", file=sys.stderr)
            return 2

    if mode == "serve":
        from bot.web import NO_SECRET, serve

        if not config.signing_secret:
            print(NO_SECRET, file=sys.stderr)
            return 2

        serve(port, args.host, database_url=args.db, workers=config.web_concurrency)
        return 0
    if mode == "console":
        from bot.app import load_parts
        from bot.console import run
        from bot.router import Scout

        parts = load_parts(config, args.db)
        run(Scout(parts.recommender, parts.workspace_ops), max_upload_bytes=config.max_upload_bytes)
        return 0
    if mode == "socket":
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        from bot.app import create_bot

        if not config.app_token:
            print(
                "Socket Mode needs SLACK_APP_TOKEN (xapp-...) and SLACK_BOT_TOKEN.", file=sys.stderr
            )
            return 2
        from slack_sdk.errors import SlackApiError

        try:
            SocketModeHandler(
                create_bot(config, database_url=args.db).app, config.app_token
            ).start()
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else err
            print(
                f"Socket Mode could not connect: Slack said {code}. Check SLACK_APP_TOKEN "
                "(an xapp- token with connections:write) and SLACK_BOT_TOKEN.",
                file=sys.stderr,
            )
            return 2
        return 0
    # clock
    from bot.app import load_parts
    from bot.clock import run_clock
    from bot.router import Scout

    parts = load_parts(config, args.db)
    scout = Scout(parts.recommender, parts.workspace_ops)  # the clock's digests use the part
    now = datetime.fromisoformat(args.now) if args.now else None
    result = run_clock(scout, config, once=args.once, now=now, train=not args.no_train)
    if args.once and result is not None:
        print(
            f"sent={result.sent} skipped={result.skipped} disabled={result.disabled} failed={result.failed}"
        )
    return 0


def auto_mode(config) -> tuple[str, str | None]:
    """The mode the Slack settings ask for, or why they are not enough: a half-configured
    Slack app must not fall back to the console without a word."""
    if config.app_token and config.bot_token:
        return "socket", None
    if config.signing_secret and (config.bot_token or config.oauth):
        return "serve", None
    if config.app_token:
        return "socket", "Socket Mode needs SLACK_BOT_TOKEN (xoxb-...) as well as SLACK_APP_TOKEN."
    if config.bot_token or config.client_id or config.client_secret:
        needs = []
        if not config.signing_secret:
            needs.append("SLACK_SIGNING_SECRET")
        if not config.bot_token and not config.oauth:
            needs.append(
                "SLACK_CLIENT_SECRET"
                if config.client_id
                else "SLACK_CLIENT_ID"
                if config.client_secret
                else "SLACK_BOT_TOKEN"
            )
        return "serve", (
            f"HTTP mode needs {' and '.join(needs)}; or set SLACK_APP_TOKEN (xapp-...) for "
            "Socket Mode; or unset every SLACK_ variable for the console."
        )
    if config.signing_secret:
        return "serve", (
            "HTTP mode needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (OAuth) besides SLACK_SIGNING_SECRET."
        )
    return "console", None


if __name__ == "__main__":
    sys.exit(main())
