"""`python -m bot clock`: every minute, post the digests that are due, and start the
daily retrain when its time comes.

A subscription is due once its local time has come today (in its own time zone), so a
clock that was down at 09:00 still sends at 09:20. The (subscription, local date) claim
in the database makes restarts and overlapping clocks send exactly once; a channel
that removed the bot gets its subscription disabled with the reason.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import BotConfig, redact, web_client
from bot.scout import Scout

log = logging.getLogger(__name__)

# Errors after which posting to the channel can never work: stop the subscription.
GONE = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "account_inactive",
    "invalid_auth",
    "token_revoked",
    "missing_scope",
    "restricted_action",
}


@dataclass
class DigestRun:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    disabled: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def is_due(local_time: str, timezone: str, now_utc: datetime):
    """The subscription's local date if its time has come today, else None."""
    local = now_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    hh, mm = (int(x) for x in local_time.split(":"))
    if (local.hour, local.minute) >= (hh, mm):
        return local.date()
    return None


class TokenSource:
    """The bot token for a workspace: the OAuth installation's, or SLACK_BOT_TOKEN."""

    def __init__(self, config: BotConfig, recommender: Any) -> None:
        self.config = config
        self.installations = None
        if config.oauth:
            self.installations = recommender.slack_installation_store(config.client_id)

    def token(self, team_id: str) -> str | None:
        if self.installations is not None:
            bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
            return bot.bot_token if bot else None
        return self.config.bot_token


def send_due_digests(
    scout: Scout, tokens: TokenSource, config: BotConfig, now_utc: datetime | None = None
) -> DigestRun:
    from slack_sdk.errors import SlackApiError

    workspace = scout.workspace
    now_utc = now_utc or datetime.now(UTC).replace(tzinfo=None)
    run = DigestRun()
    for sub in workspace.subscriptions(enabled_only=True):
        try:
            local_date = is_due(sub.local_time, sub.timezone, now_utc)
        except Exception as err:  # noqa: BLE001 - a bad zone must not stop the others
            workspace.disable(sub.id, f"bad schedule: {err}")
            run.disabled.append(sub.id)
            continue
        if local_date is None or not workspace.claim_delivery(sub.id, local_date, now_utc):
            run.skipped.append(sub.id)
            continue
        token = tokens.token(sub.team_id)
        if not token:
            reason = "the workspace uninstalled Scout"
            workspace.finish_delivery(sub.id, local_date, "failed", error=reason)
            workspace.disable(sub.id, reason)
            log.warning(
                "digest %s for %s/%s disabled: %s", sub.id, sub.team_id, sub.channel_id, reason
            )
            run.disabled.append(sub.id)
            continue
        reply = scout.digest_reply(sub.window_days)
        try:
            resp = web_client(config, token).chat_postMessage(
                channel=sub.channel_id, text=reply.text, blocks=reply.blocks
            )
        except SlackApiError as err:
            code = err.response.get("error", "unknown") if err.response is not None else "unknown"
            workspace.finish_delivery(sub.id, local_date, "failed", error=code)
            if code in GONE:
                reason = (
                    f"Slack said {code} when posting the digest (bot removed from the channel?)"
                )
                workspace.disable(sub.id, reason)
                log.warning(
                    "digest %s for %s/%s disabled: %s", sub.id, sub.team_id, sub.channel_id, reason
                )
                run.disabled.append(sub.id)
            else:
                log.error("digest %s failed (%s); retried next minute", sub.id, code)
                run.failed.append(sub.id)
            continue
        except Exception as err:  # noqa: BLE001 - network: retried next minute
            workspace.finish_delivery(sub.id, local_date, "failed", error=redact(str(err)))
            log.error("digest %s failed: %s", sub.id, redact(f"{type(err).__name__}: {err}"))
            run.failed.append(sub.id)
            continue
        workspace.finish_delivery(sub.id, local_date, "sent", message_ts=resp.get("ts"))
        log.info("digest %s sent to %s/%s for %s", sub.id, sub.team_id, sub.channel_id, local_date)
        run.sent.append(sub.id)
    return run


def _train_in_background(recommender: Any, state: dict) -> None:
    """Daily retrain without blocking the minute ticks (one at a time per process; the
    facade's database claim keeps clocks apart)."""
    if state.get("thread") is not None and state["thread"].is_alive():
        return

    def work() -> None:
        try:
            report = recommender.train_if_due(log=lambda m: log.info("train: %s", m))
            if report is not None:
                log.info("daily training done:\n%s", report.table())
        except Exception:  # noqa: BLE001
            log.exception("daily training failed")

    state["thread"] = threading.Thread(target=work, name="scout-train", daemon=True)
    state["thread"].start()


def run_clock(
    scout: Scout,
    config: BotConfig,
    *,
    once: bool = False,
    now: datetime | None = None,
    train: bool = True,
) -> DigestRun | None:
    tokens = TokenSource(config, scout.rec)
    state: dict = {}
    while True:
        started = time.monotonic()
        try:
            result = send_due_digests(scout, tokens, config, now)
            if result.sent or result.disabled or result.failed:
                log.info(
                    "digests: sent %s, disabled %s, failed %s",
                    result.sent,
                    result.disabled,
                    result.failed,
                )
        except Exception:  # noqa: BLE001 - the clock keeps ticking
            log.exception("digest run failed")
            result = None
        if once:
            return result
        if train:
            _train_in_background(scout.rec, state)
        time.sleep(max(1.0, 60 - (time.monotonic() - started) % 60))
