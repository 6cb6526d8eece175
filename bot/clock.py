"""`python -m bot clock`: every minute, post the digests that are due, and start the
daily retrain when its time comes.

A subscription is due once its local time has come today (in its own time zone), so a
clock that was down at 09:00 still sends at 09:20. The (subscription, local date) claim
in the database makes restarts and overlapping clocks send exactly once; a channel
that removed the bot gets its subscription disabled with the reason.

A post whose outcome is unknown (Slack answered too late, the network broke, or the
clock died between posting and recording it) may have reached the channel: each digest
carries its (subscription, local date) in the message metadata, and before posting a
digest whose earlier attempt is in doubt the clock looks for that message in the
channel's recent history and records it instead of posting again. The row says
'posting' before the post starts, so a clock that dies mid-post leaves a row the next
one checks; the WebClient never re-sends a post that went out (bot.config), and the
history lookups take turns through the store's call slot (Slack allows one
conversations.history call a minute per workspace): a digest in doubt whose turn has
not come waits for a later tick instead of being posted blind.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import BotConfig, redact, web_client
from bot.router import Scout

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
        if local_date is None:
            run.skipped.append(sub.id)
            continue
        before = workspace.delivery_status(sub.id, local_date)
        if not workspace.claim_delivery(sub.id, local_date, now_utc):
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
        client = web_client(config, token)
        marker = digest_marker(sub.id, local_date)
        in_doubt = before not in (None, "failed")  # 'failed': Slack said no; others may have posted
        if in_doubt and not _lookup_turn(workspace, sub.team_id, config):
            workspace.finish_delivery(sub.id, local_date, "unknown", error="waiting to check")
            log.info("digest %s in doubt: checked when Slack allows the next lookup", sub.id)
            run.skipped.append(sub.id)
            continue
        try:
            found = already_posted(client, sub.channel_id, marker, now_utc) if in_doubt else None
            if found is not None:
                workspace.finish_delivery(sub.id, local_date, "sent", message_ts=found)
                log.info("digest %s for %s was already posted (ts %s)", sub.id, local_date, found)
                run.skipped.append(sub.id)
                continue
            reply = scout.digest_reply(sub.window_days)
            workspace.finish_delivery(sub.id, local_date, "posting")
            resp = client.chat_postMessage(
                channel=sub.channel_id, text=reply.text, blocks=reply.blocks, metadata=marker
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
        except Exception as err:  # noqa: BLE001 - outcome unknown: checked, then retried
            workspace.finish_delivery(sub.id, local_date, "unknown", error=redact(str(err)))
            log.error("digest %s failed: %s", sub.id, redact(f"{type(err).__name__}: {err}"))
            run.failed.append(sub.id)
            continue
        workspace.finish_delivery(sub.id, local_date, "sent", message_ts=resp.get("ts"))
        log.info("digest %s sent to %s/%s for %s", sub.id, sub.team_id, sub.channel_id, local_date)
        run.sent.append(sub.id)
    return run


def _lookup_turn(workspace: Any, team_id: str, config: BotConfig) -> bool:
    """Whether this clock may call conversations.history for the workspace now (the
    store's call slot, shared with every process; real time, not the clock's --now)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    interval = timedelta(seconds=config.lookup_interval_s)
    return workspace.take_call_slot(f"{team_id}:conversations.history", now, interval)


def digest_marker(subscription_id: int, local_date: Any) -> dict[str, Any]:
    """The message metadata that identifies one subscription's digest of one day."""
    return {
        "event_type": "scout_digest",
        "event_payload": {"subscription": subscription_id, "local_date": str(local_date)},
    }


def already_posted(client: Any, channel: str, marker: dict, now_utc: datetime) -> str | None:
    """The ts of this digest if it is in the channel's last two days, else None. A
    history Slack will not show (no scope) returns None: posting again is then the only
    way not to skip the day."""
    from slack_sdk.errors import SlackApiError

    oldest = (now_utc.replace(tzinfo=UTC) - timedelta(days=2)).timestamp()
    try:
        resp = client.conversations_history(
            channel=channel, oldest=f"{oldest:.6f}", limit=200, include_all_metadata=True
        )
    except SlackApiError as err:
        code = err.response.get("error") if err.response is not None else err
        log.warning("cannot check %s for an earlier digest (%s); posting", channel, code)
        return None
    for message in resp.get("messages") or []:
        meta = message.get("metadata") or {}
        if meta.get("event_type") == marker["event_type"] and (
            meta.get("event_payload") == marker["event_payload"]
        ):
            return message.get("ts")
    return None


def sync_sources(workspace: Any) -> None:
    """The daily pull from every source, just before the retrain. Sync keeps one
    failing source from stopping the others; anything else it raises is one log line,
    so the retrain still runs on the data already there."""
    if workspace is None or not hasattr(workspace, "sync"):
        return
    try:
        report = workspace.sync()
    except Exception as err:  # noqa: BLE001 - the retrain runs whatever the sync did
        first = (str(err).splitlines() or [""])[0]
        log.error("daily sync failed: %s", redact(f"{type(err).__name__}: {first}"))
        return
    for run in getattr(report, "runs", None) or []:
        why = run.stopped or run.skipped
        log.info(
            "sync %s: %d synced, %d new posts, %d calls%s",
            run.source,
            run.synced,
            run.new_posts,
            run.calls,
            f" ({why})" if why else "",
        )


def daily_step(scout: Scout, now: datetime | None = None) -> Any:
    """Today's sync then retrain, if the retrain's hour has come and no other clock
    claimed the day (the train report, or None when nothing was due)."""
    return scout.rec.train_if_due(
        now,
        log=lambda m: log.info("train: %s", m),
        before=lambda: sync_sources(scout.workspace),
    )


def _train_in_background(scout: Scout, state: dict) -> None:
    """Daily sync and retrain without blocking the minute ticks (one at a time per
    process; the facade's database claim keeps clocks apart)."""
    if state.get("thread") is not None and state["thread"].is_alive():
        return

    def work() -> None:
        try:
            report = daily_step(scout)
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
            _train_in_background(scout, state)
        time.sleep(max(1.0, 60 - (time.monotonic() - started) % 60))
