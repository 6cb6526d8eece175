"""The photos kind's training path featurises through the pool (issue 27 point 4): photos
are decoded in the extractor's worker threads, not one after another in the caller; the
features are exactly the serial path's (so trained photo models do not change); windows
of new images are looked up in the cache and stored one after another, a picture seen in
an earlier window is not featurised again, and bad files are counted, not fatal."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from engine.core.contract import NullFeatureCache
from engine.photos import kind
from engine.photos.features import TFLiteExtractor
from engine.photos.images import decode_image
from engine.photos.kind import FeaturiseReport, featurise_images

pytestmark = [pytest.mark.slow, pytest.mark.shared]  # loads the network, real photos


class DictCache:
    """A FeatureCache in a dict, counting what is asked and stored."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], np.ndarray] = {}
        self.puts: list[int] = []

    def get_many(self, keys, extractor):
        return {k: self.data[(k, extractor)] for k in keys if (k, extractor) in self.data}

    def put_many(self, items, extractor):
        self.puts.append(len(items))
        self.data.update({(k, extractor): v for k, v in items.items()})


@pytest.fixture(scope="module")
def photos(shared_dir: Path) -> list[str]:
    return [str(p) for p in sorted((shared_dir / "photos" / "imagenet-sample").glob("*.JPEG"))[:9]]


@pytest.fixture(scope="module")
def pool(shared_dir: Path) -> TFLiteExtractor:
    return TFLiteExtractor(shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite", workers=2)


def test_training_decodes_in_the_pool_threads_with_the_serial_features(
    photos, pool, shared_dir, monkeypatch
):
    threads: set[str] = set()

    def decode(data: bytes) -> np.ndarray:
        threads.add(threading.current_thread().name)
        return decode_image(data)

    monkeypatch.setattr(kind, "decode_image", decode)
    key_of, feats = featurise_images(photos, pool.extractor_id, lambda: pool, NullFeatureCache())
    assert threads and all(name.startswith("mobilenet") for name in threads), threads
    serial = TFLiteExtractor(
        shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite", num_threads=2, workers=1
    )
    expected = serial.featurize([decode_image(Path(p).read_bytes()) for p in photos])
    got = np.stack([feats[key_of[p]] for p in photos])
    np.testing.assert_array_equal(got, expected)


def test_windows_are_cached_one_after_another_and_repeats_are_featurised_once(
    photos, pool, tmp_path, monkeypatch
):
    monkeypatch.setattr(kind, "BATCH", 4)
    again = tmp_path / "again.jpg"  # the first photo's bytes, read after two windows
    again.write_bytes(Path(photos[0]).read_bytes())
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(Path(photos[1]).read_bytes()[:300])  # a truncated JPEG
    locations = [*photos, str(again), str(broken), str(tmp_path / "gone.jpg")]
    cache, report = DictCache(), FeaturiseReport()
    key_of, feats = featurise_images(
        locations, pool.extractor_id, lambda: pool, cache, report=report
    )
    assert cache.puts == [4, 4, 1]  # 9 photos in windows of 4; the repeat is not new
    assert report.computed == 9 and report.cached == 0 and len(feats) == 9
    assert key_of[str(again)] == key_of[photos[0]]
    assert report.failures == {"undecodable image": 1, "FileNotFoundError": 1}
    assert str(broken) not in key_of

    def must_not_build():
        raise AssertionError("all cached: the extractor must not be built")

    report2 = FeaturiseReport()
    _, feats2 = featurise_images(photos, pool.extractor_id, must_not_build, cache, report=report2)
    assert report2.cached == 9 and report2.computed == 0 and len(feats2) == 9
