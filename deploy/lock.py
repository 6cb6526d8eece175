"""Write requirements.lock: the exact versions and sha256 hashes of requirements.txt and
everything it pulls in, as pip resolves them for the image (Python 3.11, Linux x86_64).

Run it on such a machine after changing requirements.txt:
`python deploy/lock.py` (pip resolves without installing: `pip install --dry-run
--ignore-installed --report`). The Dockerfile installs the lock with `--require-hashes`,
so an image either gets these bytes or fails to build; tests/test_deploy.py checks that
the lock and requirements.txt agree."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEADER = """\
# Exact versions and sha256 hashes of requirements.txt and everything it pulls in, for the
# image (python:3.11-slim, Linux x86_64): the Dockerfile installs this file with
# `pip install --require-hashes --no-deps`. Written by `python deploy/lock.py`; rerun it
# whenever requirements.txt changes. tests/test_deploy.py checks that they agree.
"""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(requirements: Path) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--quiet", "--report", str(report), "-r", str(requirements)],
            check=True,
        )  # fmt: skip
        return json.loads(report.read_text())["install"]


def render(installs: list[dict], direct: set[str]) -> str:
    lines = [HEADER]
    for item in sorted(installs, key=lambda i: canonical(i["metadata"]["name"])):
        name, version = canonical(item["metadata"]["name"]), item["metadata"]["version"]
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        origin = "requirements.txt" if name in direct else "dependency"
        file = item["download_info"]["url"].rsplit("/", 1)[-1]
        lines += [f"{name}=={version} \\", f"    --hash=sha256:{digest}", f"    # {origin}: {file}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    requirements = REPO / "requirements.txt"
    pinned = re.finditer(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==", requirements.read_text(), re.M)
    direct = {canonical(m.group(1)) for m in pinned}
    (REPO / "requirements.lock").write_text(render(resolve(requirements), direct))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
