"""Image decoding survives what real uploads look like: every odd kind is built here with
Pillow, so each test says exactly what it feeds in."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine.core.errors import BadImage
from engine.photos.images import ImageLimits, decode_image


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def half_red_half_blue(w: int = 320, h: int = 240) -> Image.Image:
    """Left half red, right half blue: orientation and colour are both checkable."""
    img = Image.new("RGB", (w, h), (255, 0, 0))
    img.paste((0, 0, 255), (w // 2, 0, w, h))
    return img


def check_rgb(arr: np.ndarray) -> None:
    assert arr.shape == (224, 224, 3)
    assert arr.dtype == np.uint8


def test_rgb_jpeg_keeps_colours_and_sides():
    arr = decode_image(encode(half_red_half_blue(), "JPEG", quality=95))
    check_rgb(arr)
    assert arr[112, 10, 0] > 200 and arr[112, 10, 2] < 60  # red on the left
    assert arr[112, 213, 2] > 200 and arr[112, 213, 0] < 60  # blue on the right


def test_cmyk_jpeg_becomes_rgb():
    arr = decode_image(encode(half_red_half_blue().convert("CMYK"), "JPEG", quality=95))
    check_rgb(arr)
    assert arr[112, 10, 0] > 200 and arr[112, 10, 2] < 80


def test_rgba_png_alpha_flattened_on_white():
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # fully transparent black
    img.paste((0, 128, 0, 255), (0, 0, 50, 100))
    arr = decode_image(encode(img, "PNG"))
    check_rgb(arr)
    assert tuple(arr[112, 200]) == (255, 255, 255)  # transparent -> white, not black
    assert arr[112, 20, 1] > 100 and arr[112, 20, 0] < 30


def test_palette_and_grey_images():
    pal = half_red_half_blue().convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    arr = decode_image(encode(pal, "PNG"))
    check_rgb(arr)
    assert arr[112, 10, 0] > 200
    grey = Image.new("L", (50, 80), 77)
    arr = decode_image(encode(grey, "PNG"))
    check_rgb(arr)
    assert set(np.unique(arr)) == {77}


def test_16bit_grey_is_rescaled_not_clipped_to_white():
    data = np.zeros((64, 64), dtype=np.uint16)
    data[:, 32:] = 4000  # far above 255: a plain convert would make it all white
    img = Image.fromarray(data)
    assert img.mode.startswith("I;16")
    arr = decode_image(encode(img, "PNG"))
    check_rgb(arr)
    assert arr[112, 10, 0] < 10 and arr[112, 213, 0] > 245


def test_exif_rotation_is_applied():
    img = half_red_half_blue(320, 240)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": red (left) ends up on top
    arr = decode_image(encode(img, "JPEG", quality=95, exif=exif.tobytes()))
    check_rgb(arr)
    assert arr[10, 112, 0] > 200 and arr[10, 112, 2] < 60  # red at the top
    assert arr[213, 112, 2] > 200  # blue at the bottom


def test_animated_gif_uses_first_frame():
    frames = [Image.new("RGB", (60, 60), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    arr = decode_image(data)
    check_rgb(arr)
    assert arr[112, 112, 0] > 200 and arr[112, 112, 1] < 50


def test_big_jpeg_is_downscaled_fast_and_correct():
    import time

    big = half_red_half_blue(4000, 3000)  # 12 MP
    data = encode(big, "JPEG", quality=90)
    started = time.perf_counter()
    arr = decode_image(data)
    elapsed = time.perf_counter() - started
    assert arr[112, 10, 0] > 200 and arr[112, 213, 2] > 200
    assert elapsed < 1.0, f"12-MP decode took {elapsed:.2f}s; draft() should make it ~0.1s"


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"hello, this is a text file someone named photo.jpg\n" * 3, "not an image"),
    ],
)
def test_non_images_are_refused_clearly(data, words):
    with pytest.raises(BadImage, match=words):
        decode_image(data)


def test_truncated_jpeg_is_refused():
    data = encode(half_red_half_blue(), "JPEG", quality=95)
    with pytest.raises(BadImage, match="damaged or truncated"):
        decode_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding():
    # A 1-bit PNG of 20000 x 20000 pixels is a few kB but 400 MP once decoded.
    data = encode(Image.new("1", (20000, 20000)), "PNG")
    assert len(data) < 200_000
    with pytest.raises(BadImage, match="MP|decompression"):
        decode_image(data, limits=ImageLimits(max_pixels=50_000_000))


def test_pixel_limit_is_configurable():
    data = encode(Image.new("RGB", (300, 300)), "PNG")
    with pytest.raises(BadImage, match="limit is 0 MP|MP"):
        decode_image(data, limits=ImageLimits(max_pixels=10_000))
    check_rgb(decode_image(data, limits=ImageLimits(max_pixels=100_000)))


def test_oversize_file_is_refused_by_bytes():
    data = encode(half_red_half_blue(), "PNG")
    with pytest.raises(BadImage, match="MB"):
        decode_image(data, limits=ImageLimits(max_bytes=len(data) - 1))


def test_long_thin_image_is_refused_but_a_panorama_decodes():
    with pytest.raises(BadImage, match="longer than it is wide"):
        decode_image(encode(Image.new("L", (1, 2000)), "PNG"))
    check_rgb(decode_image(encode(half_red_half_blue(2000, 200), "JPEG")))


def test_small_progressive_cmyk_jpeg_still_decodes():
    data = encode(half_red_half_blue().convert("CMYK"), "JPEG", quality=95, progressive=True)
    arr = decode_image(data)
    check_rgb(arr)
    assert arr[112, 10, 0] > 200 and arr[112, 10, 2] < 80


def test_progressive_jpeg_over_the_coefficient_budget_is_refused():
    data = encode(half_red_half_blue(800, 600).convert("CMYK"), "JPEG", progressive=True)
    with pytest.raises(BadImage, match="progressive CMYK JPEG of 800x600"):
        decode_image(data, limits=ImageLimits(max_coefficient_bytes=2**20))


@pytest.mark.parametrize(
    "fmt, words",
    [("ICO", "ICO icon"), ("TIFF", "TIFF"), ("JPEG2000", "JPEG 2000"), ("PSD", "")],
)
def test_formats_whose_cost_the_header_hides_are_refused(fmt, words):
    if fmt == "PSD":  # Pillow cannot write one: the signature is enough to be refused
        data = b"8BPS\x00\x01" + b"\x00" * 40
        words = "Photoshop"
    else:
        data = encode(Image.new("RGB", (32, 32), (255, 0, 0)), fmt)
    with pytest.raises(BadImage, match=f"{words} file; I read photos as JPEG, PNG"):
        decode_image(data)


def _noise(mode: str) -> Image.Image:
    """Random pixels in `mode`, odd-sized so the last strip and box are partial."""
    rng = np.random.default_rng(1)
    if mode == "F":
        return Image.fromarray(rng.random((1001, 777)).astype(np.float32) * 4000)
    bands = len(mode)
    rgba = rng.integers(0, 255, (1003, 1501, 4)).astype(np.uint8)
    return (
        Image.fromarray(rgba, "RGBA") if bands == 4 else Image.fromarray(rgba, "RGBA").convert(mode)
    )


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L", "LA", "F"])
def test_reducing_in_strips_is_pixel_for_pixel_pillows_reduce(mode):
    from engine.photos.images import _reduce_in_strips

    img = _noise(mode)
    assert img.mode == mode
    for factor in (2, 3, 7):
        assert np.array_equal(
            np.asarray(img.reduce(factor)), np.asarray(_reduce_in_strips(img, factor))
        ), factor
