"""Decoding uploaded and imported images into the 224x224 RGB arrays MobileNetV2 eats.

Uploads come from phones and chat clients: EXIF-rotated JPEGs, CMYK prints, PNGs with
alpha, palette GIFs, 16-bit greyscale scans, 12-megapixel originals, and sometimes bytes
that are no image at all. Every one of them either becomes a clean RGB array or a
BadImage whose message says what was wrong, never a Pillow stack trace. Big JPEGs are
shrunk by the decoder itself (`draft`), which is what keeps a 12-MP photo fast.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.core.errors import BadImage

SIZE = 224


@dataclass(frozen=True)
class ImageLimits:
    """`max_bytes` caps the upload; `max_pixels` is the decompression-bomb guard (a tiny
    file that claims a huge canvas)."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000


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
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > limits.max_pixels:
                raise BadImage(
                    f"{name} claims {w}x{h} pixels ({w * h / 1e6:.0f} MP); the limit is "
                    f"{limits.max_pixels / 1e6:.0f} MP."
                )
            if img.format == "JPEG":  # decode at 1/2..1/8 scale: far less work for big photos
                img.draft("RGB", (size * 2, size * 2))
            img.seek(0)  # animated GIF/PNG/WebP: the first frame
            img.load()
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
