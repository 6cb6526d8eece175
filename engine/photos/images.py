"""Decoding uploaded and imported images into the 224x224 RGB arrays MobileNetV2 eats.

Uploads come from phones and chat clients: EXIF-rotated JPEGs, CMYK prints, PNGs with
alpha, palette GIFs, 16-bit greyscale scans, 12-megapixel originals, and sometimes bytes
that are no image at all. Every one of them either becomes a clean RGB array or a
BadImage whose message says what was wrong, never a Pillow stack trace.

Memory is bounded whatever the file, and it is decided from the header, before a single
pixel is decoded (`Image.open` reads only the header). Measured on the files of issue 29
(benchmarks/bench_image_memory.py), each of which used to cost hundreds of MB:

- a 68-byte PNG of 1x16,000,000 pixels (+322 MB): Pillow keeps a pointer per row, so a
  one-pixel-wide image costs 8 bytes a pixel before any data; the aspect ratio is capped;
- a progressive JPEG (+463 MB for CMYK at 7700x7700): libjpeg holds every DCT
  coefficient of a progressive file at full size, whatever `draft` scale is asked, so
  its coefficient buffer (2 bytes a sample, from the SOF sampling factors) is capped;
- an ICO whose directory says 256x256 around a 9000x9000 PNG (+340 MB), JPEG 2000
  (+296 MB: OpenJPEG holds 32-bit samples per component at full size) and TIFF (strips,
  tiles and compressions decide what libtiff allocates): their cost cannot be read from
  the header Pillow gives, so they are refused; photos come as JPEG, PNG, GIF, WebP, BMP.

Baseline JPEGs decode at 1/2..1/8 scale (`draft`, the smallest that covers twice the
output), which keeps a 12-MP photo fast;
formats decoded at full size get a lower pixel cap; every image is reduced to a few
times the output size right after decoding and before any mode conversion; only a few
decodes run at once in a process; and after a big decode the freed heap is handed back
to the OS, so eight photos at once neither add up to gigabytes nor keep them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import struct
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.core.errors import BadImage

SIZE = 224

# the only plugins Pillow may try: their `Image.open` reads the header and nothing else,
# and the header bounds what decoding holds (Pillow's ICO plugin decodes in `open`)
OPENABLE = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
READABLE = frozenset({*OPENABLE, "MPO"})  # MPO: a phone's multi-picture JPEG
# what the refused formats start with, to say what was sent
REFUSED_MAGIC = {
    b"\x00\x00\x01\x00": "an ICO icon",
    b"\x00\x00\x02\x00": "a CUR cursor",
    b"\x00\x00\x00\x0cjP  ": "a JPEG 2000",
    b"\xff\x4f\xff\x51": "a JPEG 2000",
    b"II*\x00": "a TIFF",
    b"MM\x00*": "a TIFF",
    b"8BPS": "a Photoshop",
}
DRAFTABLE = frozenset({"JPEG", "MPO"})  # libjpeg scales while decoding (baseline only)
# bytes per pixel of Pillow's in-memory modes (RGB is stored as 4 bytes)
MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}
ROW_OVERHEAD = 8  # Pillow keeps one pointer per row


@dataclass(frozen=True)
class ImageLimits:
    """`max_bytes` caps the upload; `max_pixels` is the guard for a baseline JPEG, which
    decodes at 1/8 scale; `max_pixels_full` for formats decoded at full size (PNG, GIF,
    WebP, BMP): 16 MP of RGBA is 64 MB; `max_coefficient_bytes` for the full-size DCT
    coefficients a progressive JPEG needs (a 12-MP 4:2:0 phone photo takes 36 MB);
    `max_aspect` is long side over short side (a 1-pixel-wide image costs 8 bytes a
    pixel in row pointers); `max_frames` is what PNG and WebP headers may claim."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000
    max_pixels_full: int = 16_000_000
    max_coefficient_bytes: int = 128 * 2**20
    max_aspect: float = 20.0
    max_frames: int = 10_000


DECODE_SLOTS = threading.BoundedSemaphore(2)  # concurrent decodes per process
DEFAULT_LIMITS = ImageLimits()
# Pillow's own guard for what it opens inside a plugin: an error at twice this
Image.MAX_IMAGE_PIXELS = DEFAULT_LIMITS.max_pixels
# A JPEG is decoded to at least DRAFT x the output side. Decoding at the output side
# itself (1/8 scale for 12 MP) saves about a quarter of the decoding work but moves the
# quantised network's features: cosine 0.996 on average with these on 12-MP photos, and
# below 0.999 for 12% of the real photos (benchmarks/bench_photo_speed.py, issue 27) -
# as far as +-1 level of pixel noise moves them, so no other decode keeps 0.999. The
# cached features of every trained model were made with 2, so 2 stays the default.
DRAFT = 2
BIG_DECODE = 16 * 2**20  # after a decode this big, trim the heap
STRIP_ROWS = 256  # rows reduced at a time


def decode_image(
    data: bytes,
    *,
    limits: ImageLimits = DEFAULT_LIMITS,
    name: str = "the image",
    size: int = SIZE,
    draft: int | None = None,
) -> np.ndarray:
    """`data` -> uint8 array (size, size, 3): EXIF orientation applied, first frame of an
    animation, any mode converted to RGB (alpha flattened on white), centre-cropped to a
    square and resized. Raises BadImage with a reason the user can act on. `draft`: the
    side a JPEG is decoded to at least, DRAFT x `size` unless given (`draft=size`, the
    target size, is the fast rule issue 27 measures: less decoding work on a 12-MP
    photo, features a little apart from these, see benchmarks/bench_photo_speed.py)."""
    if not data:
        raise BadImage(f"{name} is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise BadImage(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    cost = 0
    try:
        with DECODE_SLOTS:
            img = Image.open(io.BytesIO(data), formats=OPENABLE)
            try:
                check_header(img, data, limits, name)
                rgb, cost = _decode(img, size, draft or DRAFT * size)
            finally:
                img.close()  # `with` would close only the file, not the pixels
                if cost >= BIG_DECODE:
                    _trim_heap()
    except BadImage:
        raise
    except UnidentifiedImageError:
        raise BadImage(_unreadable(data, name)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(
            f"{name} is too large to decode safely (decompression-bomb guard)."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise BadImage(f"{name} is damaged or truncated and cannot be decoded ({err}).") from None
    square = ImageOps.fit(rgb, (size, size), Image.Resampling.BILINEAR)
    return np.asarray(square, dtype=np.uint8)


def _decode(img: Image.Image, size: int, draft: int) -> tuple[Image.Image, int]:
    """The first frame, decoded as small as the format allows, shrunk, upright, RGB;
    and the bytes the decode held at its largest. A JPEG decodes at the smallest of
    libjpeg's 1/2..1/8 scales that still covers `draft` pixels a side (a 12-MP photo at
    1/4 for 2 x 224, at 1/8 for 224)."""
    held = 0
    if img.format in DRAFTABLE:
        held = _coefficient_bytes(img) if img.info.get("progressive") else 0  # full size
        img.draft("RGB", (draft, draft))
    img.seek(0)  # animated GIF/PNG/WebP: the first frame
    img.load()
    held += img.height * ROW_OVERHEAD + img.width * img.height * MODE_BYTES.get(img.mode, 4)
    return _to_rgb(ImageOps.exif_transpose(_shrink(img, size * 2))), held


def _unreadable(data: bytes, name: str) -> str:
    for magic, what in REFUSED_MAGIC.items():
        if data.startswith(magic):
            return (
                f"{name} is {what} file; I read photos as JPEG, PNG, GIF, WebP or BMP. "
                "Save it as a JPEG and send it again."
            )
    return f"{name} is not an image I can read (JPEG, PNG, GIF, WebP or BMP)."


def check_header(img: Image.Image, data: bytes, limits: ImageLimits, name: str) -> None:
    """BadImage, from the header alone, when the format cannot be bounded or the
    picture is larger, longer or has more frames than `limits` allow."""
    fmt = img.format or "unknown"
    if fmt not in READABLE:
        raise BadImage(
            f"{name} is a {fmt} file; I read photos as JPEG, PNG, GIF, WebP or BMP. "
            "Save it as a JPEG and send it again."
        )
    w, h = img.size
    if w < 1 or h < 1:
        raise BadImage(f"{name} claims {w}x{h} pixels; it is damaged.")
    if max(w, h) / min(w, h) > limits.max_aspect:
        raise BadImage(
            f"{name} is {w}x{h} pixels, more than {limits.max_aspect:g} times longer than "
            "it is wide; crop it and send it again."
        )
    frames = getattr(img, "n_frames", 1) if fmt in ("PNG", "WEBP") else 1
    if frames > limits.max_frames:
        raise BadImage(f"{name} claims {frames} frames; the limit is {limits.max_frames}.")
    progressive = fmt in DRAFTABLE and bool(img.info.get("progressive"))
    if progressive:
        coefficients = _coefficient_bytes(img)
        if coefficients > limits.max_coefficient_bytes:
            raise BadImage(
                f"{name} is a progressive {img.mode} JPEG of {w}x{h} pixels, which takes "
                f"{coefficients / 2**20:.0f} MB to decode; the limit is "
                f"{limits.max_coefficient_bytes / 2**20:.0f} MB. Send a smaller photo."
            )
    cap = limits.max_pixels if fmt in DRAFTABLE else min(limits.max_pixels, limits.max_pixels_full)
    if w * h > cap:
        kind = "" if fmt in DRAFTABLE else f" for a {fmt} image"
        raise BadImage(
            f"{name} claims {w}x{h} pixels ({w * h / 1e6:.0f} MP); the limit{kind} "
            f"is {cap / 1e6:.0f} MP. Send a smaller photo or a JPEG."
        )
    if fmt == "PNG":
        _check_ihdr(data, w, h, limits, name)


def _coefficient_bytes(img: Image.Image) -> int:
    """A progressive JPEG's full-size coefficient buffer: 64 two-byte coefficients per
    8x8 block of every component, subsampled components by their sampling factors."""
    w, h = img.size
    layers = getattr(img, "layer", None) or [("", 1, 1, 0)] * getattr(img, "layers", 4)
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    blocks = 0
    for _, hs, vs, _ in layers:
        bw = -(-w * hs // (8 * h_max))
        bh = -(-h * vs // (8 * v_max))
        blocks += bw * bh
    return blocks * 64 * 2


def _check_ihdr(data: bytes, w: int, h: int, limits: ImageLimits, name: str) -> None:
    """The IHDR as the decoder will read it: the same size Pillow reported, and a
    decompressed stream (a filter byte per row, then the packed samples) no bigger than
    the largest picture allowed at 16 bits per RGBA sample."""
    if data[12:16] != b"IHDR" or len(data) < 29:
        raise BadImage(f"{name} is damaged: its PNG header is not where it belongs.")
    iw, ih, depth, colour = struct.unpack(">IIBB", data[16:26])
    if (iw, ih) != (w, h):
        raise BadImage(f"{name} is damaged: its PNG header disagrees with itself.")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 4)
    stream = ih * (1 + -(-iw * channels * depth // 8))
    allowed = limits.max_pixels_full * 8 + limits.max_pixels_full
    if stream > allowed:
        raise BadImage(
            f"{name} would inflate to {stream / 2**20:.0f} MB of PNG data; the limit is "
            f"{allowed / 2**20:.0f} MB."
        )


def _trim_heap() -> None:
    """Hand freed heap pages back to the OS. Pillow allocates big images in blocks
    below glibc's (self-raising) mmap threshold, so without this a process that decoded
    a few big photos at once keeps their memory for good."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(path) if path else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _load_libc()


def _shrink(img: Image.Image, target: int) -> Image.Image:
    """The decoded image reduced (whole-pixel box averaging) until its shorter side is
    under 2x `target`, before any conversion copies it; palette and 1-bit images, which
    cannot be averaged, are sampled."""
    factor = min(img.size) // (2 * target)
    if factor < 2:
        return img
    if img.mode in ("P", "1", "PA"):
        small = img.resize((img.width // factor, img.height // factor), Image.Resampling.NEAREST)
    else:
        try:
            small = _reduce_in_strips(img, factor)
        except ValueError:  # a mode reduce() does not take
            small = img.resize(
                (img.width // factor, img.height // factor), Image.Resampling.NEAREST
            )
    if "exif" in img.info:
        small.info["exif"] = img.info["exif"]
    return small


def _reduce_in_strips(img: Image.Image, factor: int) -> Image.Image:
    """`img.reduce(factor)`, pixel for pixel, a band of rows at a time: Pillow reduces
    RGBA through a premultiplied full-size copy, which doubled a big PNG's peak."""
    w, h = img.size
    out = Image.new(img.mode, (-(-w // factor), -(-h // factor)))
    step = factor * max(1, STRIP_ROWS // factor)
    for top in range(0, h, step):
        strip = img.crop((0, top, w, min(h, top + step)))
        out.paste(strip.reduce(factor), (0, top // factor))
    return out


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit RGB. 16/32-bit greyscale is rescaled by its own range
    (Pillow's plain convert clips it to white); alpha is flattened onto white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = np.zeros_like(arr) if hi <= lo else (arr - lo) * (255.0 / (hi - lo))
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")
