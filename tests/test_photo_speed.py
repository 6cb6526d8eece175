"""The pooled photo pipeline (issue 27 point 4): decode + features in a pool of
single-threaded interpreters gives the features the serial path gives (cosine >= 0.999,
in fact equal) on real photos and on a 12-MP upscale of one; a file that is no image is
an error entry, not a lost batch; draft decoding at the target size is an option that
leaves photos already that small unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.core.errors import BadImage
from engine.photos.features import (
    KerasExtractor,
    TFLiteExtractor,
    featurize_encoded,
)
from engine.photos.images import SIZE, decode_image

pytestmark = pytest.mark.slow  # loads the network (several interpreters) and decodes 12 MP


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def real(shared_dir: Path) -> list[bytes]:
    photos = sorted((shared_dir / "photos" / "imagenet-sample").glob("*.JPEG"))[::50]
    husky = Image.open(photos[0]).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    husky.save(buf, "JPEG", quality=92)
    return [p.read_bytes() for p in photos] + [buf.getvalue()]


@pytest.fixture(scope="module")
def model(shared_dir: Path) -> Path:
    return shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite"


def test_the_pool_gives_the_serial_features(real, model):
    serial = TFLiteExtractor(model, num_threads=2, workers=1)
    old = serial.featurize([decode_image(b) for b in real])
    pool = TFLiteExtractor(model, workers=2)
    assert pool.workers == 2 and pool.extractor_id == serial.extractor_id
    result = pool.featurize_encoded(real, decode_image)
    assert result.ok.all() and not result.errors
    assert _cos(old, result.features).min() >= 0.999
    np.testing.assert_allclose(result.features, old, rtol=1e-6, atol=1e-6)
    # a plain batch split across the pool's interpreters: the same again
    np.testing.assert_allclose(pool.featurize([decode_image(b) for b in real]), old, atol=1e-6)


def test_a_bad_file_is_an_error_entry_and_the_others_are_featurised(real, model):
    pool = TFLiteExtractor(model, workers=2)
    datas = [real[0], b"not an image", real[1]]
    result = pool.featurize_encoded(datas, decode_image)
    assert result.ok.tolist() == [True, False, True]
    assert isinstance(result.errors[1], BadImage)
    assert not result.features[1].any()
    expected = pool.featurize([decode_image(real[0]), decode_image(real[1])])
    np.testing.assert_allclose(result.features[[0, 2]], expected, atol=1e-6)


def test_the_generic_pipeline_serves_an_extractor_without_a_pool(real, model):
    """featurize_encoded for any extractor: decoding in threads, one featurize call."""
    serial = TFLiteExtractor(model, workers=1)

    class Plain:  # what KerasExtractor offers: featurize only
        extractor_id = serial.extractor_id
        featurize = serial.featurize

    assert not hasattr(KerasExtractor, "featurize_encoded")
    result = featurize_encoded(Plain(), [real[0], b"", real[2]], decode_image, workers=2)
    assert result.ok.tolist() == [True, False, True]
    np.testing.assert_allclose(
        result.features[2], serial.featurize([decode_image(real[2])])[0], atol=1e-6
    )


def test_draft_at_the_target_size_is_faster_work_on_12_mp_and_equal_on_small(real):
    small, big = real[0], real[-1]
    assert min(Image.open(io.BytesIO(small)).size) < 2 * SIZE  # no draft either way
    np.testing.assert_array_equal(decode_image(small, draft=SIZE), decode_image(small))
    fast, old = decode_image(big, draft=SIZE), decode_image(big)
    assert fast.shape == old.shape == (SIZE, SIZE, 3)
    # a 12-MP photo decoded at 1/8 instead of 1/4: close pixels, not the same ones
    diff = np.abs(fast.astype(int) - old.astype(int))
    assert 0 < diff.mean() < 8
