"""The image files of issue 29, point 2, built byte by byte, and the one way both the
benchmark and the tests measure what decoding them costs.

Each file is small on disk and was once expensive to decode: the decode cost is what
`Image.open(...).convert("RGB")` adds (the plain baseline) against what
`engine.photos.images.decode_image` adds, in a fresh Python process whose peak (VmHWM)
is reset just before decoding (ru_maxrss would carry the parent's size over the fork).
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent

# `how` is "plain" (Pillow's own open + convert) or "decode" (decode_image); `copies`
# threads decode at once, thread i the i-th file (round robin); "kept" is what the
# process still holds after they all finished
CHILD = """
import io, json, sys, threading
from PIL import Image
from engine.photos.images import decode_image
from engine.core.errors import BadImage
how, copies, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
datas = [open(p, "rb").read() for p in paths]
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
def one(data):
    try:
        if how == "plain":
            out.append(list(Image.open(io.BytesIO(data)).convert("RGB").size))
        else:
            out.append(list(decode_image(data).shape))
    except BadImage as err:
        out.append("refused: " + str(err))
    except Exception as err:
        out.append("error: " + type(err).__name__ + ": " + str(err)[:80])
out = []
open("/proc/self/clear_refs", "w").write("5")  # peak := the current RSS
base = status("VmRSS")
threads = [threading.Thread(target=one, args=(datas[i % len(datas)],)) for i in range(copies)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"added_mb": status("VmHWM") - base, "kept_mb": status("VmRSS") - base,
                  "results": out}))
"""


def decode_cost(paths: Path | list[Path], how: str = "decode", copies: int = 1) -> dict:
    """{"added_mb", "kept_mb", "results"} of `copies` decodes at once of `paths`."""
    paths = paths if isinstance(paths, list) else [paths]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, how, str(copies), *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(width: int, height: int, depth: int, colour: int, idat: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def png_bomb() -> bytes:
    """68 bytes: an 8-bit grey PNG of 1x16,000,000 pixels (under the 16 MP cap), which
    Pillow decodes (missing rows read as black) at 8 bytes of row pointers a pixel."""
    return _png(1, 16_000_000, 8, 0, zlib.compress(b"\x00" * 8, 9))


def _blank_png(side: int) -> bytes:
    """A side x side transparent RGBA PNG, compressed a row at a time (no big buffer)."""
    row = b"\x00" * (1 + side * 4)
    z = zlib.compressobj(6)
    idat = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    return _png(side, side, 8, 6, idat)


def ico_bomb(side: int = 9000) -> bytes:
    """An ICO whose directory says 256x256 around a side x side PNG: Pillow's ICO plugin
    decodes the PNG inside `Image.open`, at its real size."""
    png = _blank_png(side)
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 6 + 16)
    return directory + entry + png


def progressive_cmyk_jpeg(side: int = 7700) -> bytes:
    """A progressive CMYK JPEG claiming side x side pixels (59 MP, under the 60 MP JPEG
    cap): libjpeg zeroes a full-size coefficient buffer, 8 bytes a pixel, before reading
    a scan, whatever draft scale is asked."""
    buf = io.BytesIO()
    Image.new("CMYK", (64, 64), (10, 200, 30, 0)).save(buf, "JPEG", progressive=True)
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc2")
    data[sof + 5 : sof + 9] = struct.pack(">HH", side, side)
    return bytes(data)


def jpeg2000(side: int = 4000) -> bytes:
    """A real JPEG 2000 codestream of a side x side RGB picture (OpenJPEG holds 32-bit
    samples per component at full size)."""
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 30)).save(
        buf, "JPEG2000", irreversible=True, quality_mode="rates", quality_layers=[200]
    )
    return buf.getvalue()


def progressive_rgb_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A normal progressive 12-MP photo (4:2:0), which must keep decoding."""
    img = Image.new("RGB", (width, height), (255, 0, 0))
    img.paste((0, 0, 255), (width // 2, 0, width, height))
    buf = io.BytesIO()
    img.save(buf, "JPEG", progressive=True, quality=90)
    return buf.getvalue()


HOSTILE = {
    "68-byte PNG (1x16M grey)": ("png_bomb.png", png_bomb),
    "ICO around a 9000x9000 PNG": ("ico_bomb.ico", ico_bomb),
    "progressive CMYK JPEG 7700x7700": ("cmyk_progressive.jpg", progressive_cmyk_jpeg),
    "JPEG 2000 4000x4000": ("rgb.jp2", jpeg2000),
}


def write_hostile(folder: Path) -> dict[str, Path]:
    """The issue's four files written into `folder`, by their table name."""
    out = {}
    for label, (filename, build) in HOSTILE.items():
        path = folder / filename
        path.write_bytes(build())
        out[label] = path
    return out
