"""One photo cannot cost gigabytes (issue 15, item 3): the decode of any file, and of eight
at once, adds at most 300 MB to the process's peak RSS. Measured in a fresh subprocess
(/proc VmHWM, the peak reset just before decoding: ru_maxrss would carry the
parent's size over the fork), on images generated here: the issue's 231 KB single-colour 7700x7700 RGBA
PNG, the largest PNG still under the full-decode cap, and a palette one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.bot_harness import REPO

LIMIT_MB = 300

CHILD = """
import json, sys, threading
from engine.photos.images import decode_image
from engine.core.errors import BadImage
data = open(sys.argv[1], "rb").read()
copies = int(sys.argv[2])
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
base = status("VmRSS")
out = []
def one():
    try:
        out.append(list(decode_image(data).shape))
    except BadImage as err:
        out.append(str(err))
threads = [threading.Thread(target=one) for _ in range(copies)]
[t.start() for t in threads]
[t.join() for t in threads]
peak = status("VmHWM")
print(json.dumps({"added_mb": (peak - base) / 1024, "results": out}))
"""


def _decode_cost(path: Path, copies: int = 1) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(copies)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("big")
    out = {}
    for name, mode, side in (
        ("bomb_rgba_7700", "RGBA", 7700),
        ("rgba_4000", "RGBA", 4000),
        ("palette_4000", "P", 4000),
    ):
        path = folder / f"{name}.png"
        Image.new(mode, (side, side), (200, 30, 30, 255) if mode == "RGBA" else 5).save(path)
        out[name] = path
    return out


def test_the_7700px_rgba_png_costs_little(images):
    assert images["bomb_rgba_7700"].stat().st_size < 400_000  # a small file ...
    cost = _decode_cost(images["bomb_rgba_7700"])
    assert cost["added_mb"] <= LIMIT_MB, cost  # ... that once cost 1.1-1.5 GB


@pytest.mark.parametrize("name", ["rgba_4000", "palette_4000"])
def test_largest_full_decode_png_stays_under_the_limit(images, name):
    cost = _decode_cost(images[name])
    assert cost["results"] == [[224, 224, 3]], cost
    assert cost["added_mb"] <= LIMIT_MB, cost


def test_eight_at_once_stay_under_the_limit(images):
    cost = _decode_cost(images["rgba_4000"], copies=8)
    assert cost["results"] == [[224, 224, 3]] * 8, cost
    assert cost["added_mb"] <= LIMIT_MB, cost
