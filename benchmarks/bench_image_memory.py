"""Peak memory of one photo (issue 15, item 3): the peak RSS of a whole
`python -m engine hashtags --photo FILE` process (/proc VmHWM at its exit) on

- a small real photo (../shared/photos/parrot.jpg): the baseline, i.e. what the
  command costs anyway (Python, NumPy, the TFLite MobileNetV2, the photo model);
- the issue's single-colour 7700x7700 RGBA PNG (a ~231 KB file, generated here);
- a 12-megapixel JPEG (a real ImageNet photo upscaled to 4000x3000, as bench_photos);
- a 4000x4000 RGBA PNG, the largest square PNG under the full-decode cap (16 MP);

and, for each, what decode_image alone adds to a bare process's peak (the figure the
≤ 300 MB per photo target is about), next to what the decode as it was before issue 15
(full-size load, then alpha compositing and conversion) adds on the same 7700 px PNG.
The store is the small demo trained with the photos kind only.

Then the files of issue 29 (benchmarks/hostile_images.py): a 68-byte PNG, an ICO around
a 9000x9000 PNG, a progressive CMYK JPEG, a JPEG 2000, and eight uploads decoded at once
(12-MP JPEGs, 16-MP RGBA PNGs, the four hostile files twice): per file what a plain
`Image.open(...).convert("RGB")` adds to the peak RSS (before) and what decode_image adds
(after), whether it was refused, and what the process still holds afterwards.
Usage: python -m benchmarks.bench_image_memory
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from benchmarks.bench_photos import twelve_mp_jpeg
from benchmarks.hostile_images import decode_cost, progressive_rgb_jpeg, write_hostile
from benchmarks.report import print_table, write_results
from engine.core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
LIMIT_MB = 300
HOSTILE_LIMIT_MB = 50  # what refusing (or decoding) one issue-29 file may add
KEPT_LIMIT_MB = 64  # what eight decodes at once may leave behind

# /proc VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's size (fork)
STATUS = """
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
"""
# the decode as it was before issue 15 (full-size load, then conversions), for comparison
UNBOUNDED = (
    STATUS
    + """
import io, sys
from PIL import Image, ImageOps
from engine.photos.images import _to_rgb
data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")
base = status("VmRSS")
img = Image.open(io.BytesIO(data))
img.load()
rgb = _to_rgb(ImageOps.exif_transpose(img))
ImageOps.fit(rgb, (224, 224), Image.Resampling.BILINEAR)
print(status("VmHWM") - base)
"""
)
# the whole CLI command in this process, its peak RSS printed last on stderr
WHOLE = (
    STATUS
    + """
import runpy, sys
sys.argv = ["engine", *sys.argv[1:]]
try:
    runpy.run_module("engine", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code if isinstance(done.code, int) else 1
else:
    code = 0
sys.stdout.flush()
print(f"PEAK {status('VmHWM')}", file=sys.stderr)
sys.exit(code)
"""
)


def peak_rss_mb(args: list[str]) -> tuple[float, int, str]:
    """(peak RSS in MB, exit code, its answer or error) of `python -m engine ARGS`."""
    proc = subprocess.run(
        [sys.executable, "-c", WHOLE, *args], cwd=REPO, capture_output=True, text=True
    )
    peak = float(proc.stderr.rsplit("PEAK ", 1)[1].split()[0])
    lines = [x for x in proc.stdout.splitlines() + proc.stderr.splitlines() if x.strip()]
    answer = next((x for x in lines if x.startswith("{")), None)
    answer = answer or next((x for x in lines if "error" in x.lower()), lines[0])
    return peak, proc.returncode, answer


def child_mb(script: str, path: Path) -> float:
    """The MB a fresh Python running `script` on `path` prints (its decode's cost)."""
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True, text=True
    )
    if run.returncode:
        raise RuntimeError(run.stderr)
    return float(run.stdout)


def main() -> int:
    from engine.bootstrap import scratch
    from engine.demo.generate import generate

    shared = Settings.from_env().shared_dir
    tmp = Path(tempfile.mkdtemp(prefix="bench_imgmem_"))
    generate(tmp / "demo", size="small", seed=42)
    url = f"sqlite:///{tmp / 'scout.db'}"
    rec = scratch(url, tmp / "demo")
    report = rec.train(kinds=["photos"], log=lambda m: None)
    rec.close()
    assert report.ok, report.table()

    files = {"parrot.jpg (baseline)": shared / "photos" / "parrot.jpg"}
    bomb = tmp / "rgba_7700.png"
    Image.new("RGBA", (7700, 7700), (200, 30, 30, 255)).save(bomb)
    files["7700x7700 RGBA PNG"] = bomb
    jpeg = tmp / "twelve_mp.jpg"
    jpeg.write_bytes(twelve_mp_jpeg(shared))
    files["12 MP JPEG (4000x3000)"] = jpeg
    png16 = tmp / "rgba_4000.png"
    Image.new("RGBA", (4000, 4000), (30, 200, 30, 255)).save(png16)
    files["4000x4000 RGBA PNG (16 MP cap)"] = png16

    rows, base = [], None
    for name, path in files.items():
        peak, code, last = peak_rss_mb(["hashtags", "--photo", str(path), "--db", url, "--json"])
        decode = decode_cost(path)["added_mb"]
        base = peak if base is None else base
        with Image.open(path) as im:
            size = f"{im.width}x{im.height} {im.mode}"
        try:
            outcome = f"{len(json.loads(last)['results'])} tags"
        except (ValueError, KeyError):
            outcome = last[:70]
        rows.append(
            {
                "photo": name,
                "file KB": path.stat().st_size / 1024,
                "pixels": size,
                "exit": code,
                "peak RSS MB": peak,
                "over baseline MB": peak - base,
                "decode adds MB": decode,
                "≤ 300 MB": "yes" if decode <= LIMIT_MB and peak - base <= LIMIT_MB else "NO",
                "answer": outcome,
            }
        )
    before = child_mb(UNBOUNDED, bomb)
    rows.append(
        {
            "photo": "7700x7700 RGBA PNG, decoded as before issue 15 (baseline)",
            "file KB": bomb.stat().st_size / 1024,
            "pixels": "7700x7700 RGBA",
            "decode adds MB": before,
            "≤ 300 MB": "yes" if before <= LIMIT_MB else "NO",
        }
    )
    print_table(
        "Peak RSS of `python -m engine hashtags --photo FILE` (VmHWM), and of decode alone",
        rows,
    )
    hostile = hostile_rows(tmp, jpeg, png16)
    print_table("Issue 29: decode before (plain Pillow) and after (decode_image)", hostile)
    write_results(
        "image_memory",
        {
            "limit_mb": LIMIT_MB,
            "hostile_limit_mb": HOSTILE_LIMIT_MB,
            "kept_limit_mb": KEPT_LIMIT_MB,
            "rows": rows,
            "issue_29": hostile,
        },
    )
    ok = all(r["≤ 300 MB"] == "yes" for r in rows[:-1])
    return 0 if ok and all(r["ok"] == "yes" for r in hostile) else 1


def _outcome(results: list) -> str:
    refused = sum(isinstance(r, str) and r.startswith("refused") for r in results)
    failed = sum(isinstance(r, str) and r.startswith("error") for r in results)
    decoded = len(results) - refused - failed
    parts = [
        f"{n} {what}"
        for n, what in ((decoded, "decoded"), (refused, "refused"), (failed, "error"))
        if n
    ]
    return ", ".join(parts)


def hostile_rows(tmp: Path, jpeg: Path, png16: Path) -> list[dict]:
    """One row per issue-29 file and per eight-at-once case: before and after."""
    files = write_hostile(tmp)
    progressive = tmp / "progressive_12mp.jpg"
    progressive.write_bytes(progressive_rgb_jpeg())
    files["progressive 12 MP RGB JPEG (must decode)"] = progressive
    cases = [(label, path, 1) for label, path in files.items()]
    cases += [("8 at once: 12 MP JPEG", jpeg, 8), ("8 at once: 4000x4000 RGBA PNG", png16, 8)]
    rows = []
    for label, path, copies in cases:
        before, after = decode_cost(path, "plain", copies), decode_cost(path, "decode", copies)
        bound = HOSTILE_LIMIT_MB if copies == 1 and "must" not in label else LIMIT_MB
        rows.append(_row(label, path.stat().st_size, before, after, bound))
    four = list(files.values())[:4]
    before, after = decode_cost(four, "plain", 8), decode_cost(four, "decode", 8)
    rows.append(_row("8 at once: the four files twice", 0, before, after, LIMIT_MB))
    return rows


def _row(label: str, size: int, before: dict, after: dict, bound: float) -> dict:
    return {
        "file": label,
        "bytes": size or "",
        "before MB": before["added_mb"],
        "before kept MB": before["kept_mb"],
        "before": _outcome(before["results"]),
        "after MB": after["added_mb"],
        "after kept MB": after["kept_mb"],
        "after": _outcome(after["results"]),
        "bound MB": bound,
        "ok": "yes"
        if after["added_mb"] <= bound
        and after["kept_mb"] <= KEPT_LIMIT_MB
        and not any(str(r).startswith("error") for r in after["results"])
        else "NO",
    }


if __name__ == "__main__":
    sys.exit(main())
