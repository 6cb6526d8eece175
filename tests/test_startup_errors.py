"""A wrong or revoked Slack token stops `python -m bot serve|socket` with one line that
says what is wrong and exit 2 (issue 24), not bolt's 50-line BoltError or gunicorn's
`Worker failed to boot`. Run as a person would, as a subprocess against the loopback
fake Slack answering auth.test with `invalid_auth` / `token_revoked`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]  # bot subprocesses


@pytest.fixture(scope="module")
def fake():
    server = FakeSlack().start()
    server.revoked.add("xoxb-revoked-token")
    yield server
    server.stop()


def _run(fake: FakeSlack, mode: str, token: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        "SLACK_API_URL": fake.api_url,
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": "fake-secret",
        "SLACK_APP_TOKEN": "xapp-1-fake-app-token" if mode == "socket" else "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scout.db'}",
        "PYTHONPATH": str(REPO),
        "PATH": "/usr/bin:/bin",
    }
    args = [sys.executable, "-m", "bot", mode] + (["--port", "0"] if mode == "serve" else [])
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize(
    ("mode", "token", "code", "words"),
    [
        ("serve", "xoxb-wrong-token", "invalid_auth", "is not a valid token"),
        ("serve", "xoxb-revoked-token", "token_revoked", "was revoked"),
        ("socket", "xoxb-wrong-token", "invalid_auth", "is not a valid token"),
        ("socket", "xoxb-revoked-token", "token_revoked", "was revoked"),
    ],
)
def test_bad_token_is_one_line_and_exit_2(fake, tmp_path, mode, token, code, words):
    proc = _run(fake, mode, token, tmp_path)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, lines
    assert code in lines[0] and words in lines[0] and "SLACK_BOT_TOKEN" in lines[0]
    assert "Traceback" not in proc.stderr and "Worker failed to boot" not in proc.stderr
    assert token not in lines[0]  # the token itself is never printed
    assert fake.of("auth.test")[-1].token == token


def test_unreachable_slack_is_one_line_too(tmp_path):
    """Nothing listens on the port: the check says it could not reach Slack."""
    dead = FakeSlack().start()
    url = dead.api_url
    dead.stop()

    class _Gone:
        api_url = url

    proc = _run(_Gone(), "serve", "xoxb-any", tmp_path)  # type: ignore[arg-type]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "Could not reach Slack" in lines[0]
