"""Decoding uploaded and imported images into the 224x224 RGB arrays MobileNetV2 eats.

Uploads come from phones and chat clients: EXIF-rotated JPEGs, CMYK prints, PNGs with
alpha, palette GIFs, 16-bit greyscale scans, 12-megapixel originals, and sometimes bytes
that are no image at all. Every one of them either becomes a clean RGB array or a
BadImage whose message says what was wrong, never a Pillow stack trace. Big JPEGs are
shrunk by the decoder itself (`draft`), which is what keeps a 12-MP photo fast.

Memory is bounded whatever the file: a 231 KB single-colour 7700x7700 RGBA PNG used to
pass the 60-megapixel guard and peak at 1.1-1.5 GB (full-size RGBA, a white RGBA
background, the composite and its RGB copy). Formats the decoder cannot shrink (PNG,
GIF, WebP ...) get a lower pixel cap, every image is reduced to a few times the output
size right after decoding and before any mode conversion, and only a few decodes run at
once in a process, so eight photos at once cannot add up to gigabytes either.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.core.errors import BadImage

SIZE = 224


@dataclass(frozen=True)
class ImageLimits:
    """`max_bytes` caps the upload; `max_pixels` is the decompression-bomb guard (a tiny
    file that claims a huge canvas) for JPEG, which decodes at 1/8 scale when asked;
    `max_pixels_full` is the guard for formats decoded at full size (PNG, GIF, WebP,
    TIFF ...): 16 MP of RGBA is 64 MB."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000
    max_pixels_full: int = 16_000_000


DECODE_SLOTS = threading.BoundedSemaphore(2)  # concurrent decodes per process


DEFAULT_LIMITS = ImageLimits()


def decode_image(
    data: bytes, *, limits: ImageLimits = DEFAULT_LIMITS, name: str = "the image", size: int = SIZE
) -> np.ndarray:
    """`data` -> uint8 array (size, size, 3): EXIF orientation applied, first frame of an
    animation, any mode converted to RGB (alpha flattened on white), centre-cropped to a
    square and resized. Raises BadImage with a reason the user can act on."""
    if not data:
        raise BadImage(f"{name} is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise BadImage(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {limits.max_bytes / 1e6:.0f} MB."
        )
    try:
        with warnings.catch_warnings(), DECODE_SLOTS:
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            cap = limits.max_pixels
            if img.format != "JPEG":
                cap = min(cap, limits.max_pixels_full)
            if w * h > cap:
                kind = "" if img.format == "JPEG" else f" for a {img.format or 'non-JPEG'} image"
                raise BadImage(
                    f"{name} claims {w}x{h} pixels ({w * h / 1e6:.0f} MP); the limit{kind} "
                    f"is {cap / 1e6:.0f} MP. Send a smaller photo or a JPEG."
                )
            if img.format == "JPEG":  # decode at 1/2..1/8 scale: far less work for big photos
                img.draft("RGB", (size * 2, size * 2))
            img.seek(0)  # animated GIF/PNG/WebP: the first frame
            img.load()
            img = _shrink(img, size * 2)
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb(img)
    except BadImage:
        raise
    except UnidentifiedImageError:
        raise BadImage(
            f"{name} is not an image Pillow can read (JPEG, PNG, GIF, WebP ...)."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(
            f"{name} is too large to decode safely (decompression-bomb guard)."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise BadImage(f"{name} is damaged or truncated and cannot be decoded ({err}).") from None
    square = ImageOps.fit(rgb, (size, size), Image.Resampling.BILINEAR)
    return np.asarray(square, dtype=np.uint8)


def _shrink(img: Image.Image, target: int) -> Image.Image:
    """The decoded image reduced (whole-pixel box averaging, which allocates only the
    small result) until its shorter side is under 2x `target`, before any conversion
    copies it; palette and 1-bit images, which cannot be averaged, are sampled."""
    factor = min(img.size) // (2 * target)
    if factor < 2:
        return img
    if img.mode in ("P", "1", "PA"):
        small = img.resize((img.width // factor, img.height // factor), Image.Resampling.NEAREST)
    else:
        try:
            small = img.reduce(factor)
        except ValueError:  # a mode reduce() does not take
            small = img.resize(
                (img.width // factor, img.height // factor), Image.Resampling.NEAREST
            )
    if "exif" in img.info:
        small.info["exif"] = img.info["exif"]
    return small


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
