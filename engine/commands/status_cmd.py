"""`python -m engine status`: per data source, the token's state, the last sync,
creators due, calls and quota used today and errors by kind. `--json`: one result per
source, id = the source's name, score = the share of its quota used (percent)."""

from __future__ import annotations

import argparse

from engine.bootstrap import assemble
from engine.core.recommendation import Answer, Recommendation

HELP = "data sources: token state, last sync, creators due, calls and quota, errors"


def configure(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> Answer:
    admin = assemble(args.db, migrate=True).admin
    try:
        states = admin.sync_status()
    finally:
        admin.close()
    rows = []
    for st in states:
        token = st.token_state + (f" ({st.token_message})" if st.token_message else "")
        last = (
            f"{st.last_sync_finished_at or st.last_sync_started_at:%Y-%m-%d %H:%M} UTC"
            if st.last_sync_started_at
            else "never"
        )
        errors = ", ".join(f"{k} {v}" for k, v in sorted(st.errors.items())) or "none"
        why = (
            f"token {token}; last sync {last}; {st.due} of {st.watched} due; "
            f"{st.calls_today} calls today; quota {st.quota_used}/{st.quota_limit}; "
            f"errors {errors}"
        )
        share = 100.0 * st.quota_used / st.quota_limit if st.quota_limit else 0.0
        extra = {
            k: (str(v) if v is not None and k.startswith("last") else v)
            for k, v in st.__dict__.items()
        }
        rows.append(Recommendation(st.source, st.source, share, why, extra=extra))
    return Answer(rows)
