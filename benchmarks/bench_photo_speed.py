"""Photo features end to end for 12-megapixel JPEGs (issue 27 point 4): read the file,
decode, resize to 224x224, MobileNetV2 (the shared quantised TFLite file), old path and
new path in the same run, alternating, on the same files.

- old: `decode_image` with the old draft rule (a JPEG decoded to at least 2 x 224 a side,
  1/4 scale for 12 MP), one photo after another, then the features in batches of 32 on
  one interpreter with 2 threads (what the photos kind did);
- pool: the same decoding, but decode + features in a pool of single-threaded
  interpreters, one per core, each worker taking 16 photos at a time
  (`TFLiteExtractor.featurize_encoded`): the same features, bit for bit;
- pool+draft: the pool, and JPEG draft decoding at the target size (1/8 scale for 12 MP,
  `decode_image(draft=224)`): a quarter less decoding work, features a little apart;
- kind: what training runs, `engine.photos.kind.featurise_images` on the file paths with
  an empty feature cache (read and hash each file, then the pool path in windows of 64).

The 12-MP files are the real photos of `../shared/photos/imagenet-sample/` upscaled
(bicubic, JPEG quality 92) into a temporary folder. It prints images/s of each path (the
best of the repeats, and the median), the ratio to the old path, the CPU seconds per
image (and what they give on two idle cores when the machine is shared), the load
average around the run, and the cosine of each new path's features with the old path's:
on the 12-MP files and on the 400 real photos as they are; and, as a control, the old
path's own pixels with +-1 level of noise (the quantised network is that sensitive). Writes benchmarks/results/photo_speed.json.

Run: python -m benchmarks.bench_photo_speed [--n 120] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.report import print_table, write_results
from engine.core.contract import NullFeatureCache
from engine.core.settings import Settings
from engine.photos.features import TFLiteExtractor, usable_cores
from engine.photos.images import SIZE, decode_image
from engine.photos.kind import featurise_images

OLD_DRAFT = 2 * SIZE  # the draft rule before issue 27
OLD_BATCH = 32  # engine.photos.kind.BATCH


def make_12mp(photos: list[Path], folder: Path) -> list[Path]:
    """Each photo upscaled to about 12 MP (its own aspect ratio), written as a JPEG."""
    out = []
    for p in photos:
        im = Image.open(p).convert("RGB")
        scale = (12e6 / (im.width * im.height)) ** 0.5
        big = im.resize((round(im.width * scale), round(im.height * scale)), Image.BICUBIC)
        target = folder / f"{p.stem}.jpg"
        big.save(target, "JPEG", quality=92)
        out.append(target)
    return out


def old_path(files: list[Path], extractor: TFLiteExtractor) -> np.ndarray:
    feats = []
    for i in range(0, len(files), OLD_BATCH):
        arrays = [decode_image(f.read_bytes(), draft=OLD_DRAFT) for f in files[i : i + OLD_BATCH]]
        feats.append(extractor.featurize(arrays))
    return np.concatenate(feats)


def pool_path(
    files: list[Path], extractor: TFLiteExtractor, draft: int | None = None
) -> np.ndarray:
    datas = [f.read_bytes() for f in files]
    result = extractor.featurize_encoded(datas, lambda b: decode_image(b, draft=draft))
    assert result.ok.all(), result.errors
    return result.features


def draft_path(files: list[Path], extractor: TFLiteExtractor) -> np.ndarray:
    return pool_path(files, extractor, draft=SIZE)


def kind_path(files: list[Path], extractor: TFLiteExtractor) -> np.ndarray:
    """The photos kind's featurising, cold: the training path end to end (issue 27)."""
    locations = [str(f) for f in files]
    key_of, feats = featurise_images(
        locations, extractor.extractor_id, lambda: extractor, NullFeatureCache()
    )
    return np.stack([feats[key_of[loc]] for loc in locations])


PATHS = (
    ("old", old_path),
    ("pool", pool_path),
    ("pool+draft", draft_path),
    ("kind", kind_path),
)


def timed(fn, *args) -> tuple[float, float, np.ndarray]:
    """(wall s, process CPU s, result)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, time.process_time() - c0, out


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def speed(files: list[Path], model: Path, repeats: int) -> tuple[list[dict], dict, dict]:
    """Each path `repeats` times, alternating so a burst of load hits all of them."""
    old_ex = TFLiteExtractor(model, num_threads=2, workers=1)
    new_ex = TFLiteExtractor(model, workers=usable_cores())
    extractor = {"old": old_ex, "pool": new_ex, "pool+draft": new_ex, "kind": new_ex}
    for name, fn in PATHS:  # the pool's interpreters exist before the clock runs
        fn(files[:8], extractor[name])
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in PATHS}
    feats: dict[str, np.ndarray] = {}
    load_before = os.getloadavg()
    for _ in range(repeats):
        for name, fn in PATHS:
            wall, cpu, feats[name] = timed(fn, files, extractor[name])
            runs[name].append((wall, cpu))
    load_after = os.getloadavg()
    rows = []
    for name, _ in PATHS:
        walls = [w for w, _ in runs[name]]
        cpus = [c for _, c in runs[name]]
        rows.append(
            {
                "path": name,
                "images": len(files),
                "best img/s": round(len(files) / min(walls), 1),
                "median img/s": round(len(files) / statistics.median(walls), 1),
                "x old (best)": round(min(runs["old"])[0] / min(walls), 2),
                "cpu ms/img": round(1000 * min(cpus) / len(files), 2),
                "img/s on 2 idle cores (from cpu)": round(2 * len(files) / min(cpus), 1),
            }
        )
    around = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cores": usable_cores(),
    }
    return (
        rows,
        around,
        {n: cosines(feats["old"], feats[n]) for n in ("pool", "pool+draft", "kind")},
    )


def real_cosines(photos: list[Path], model: Path) -> dict[str, np.ndarray]:
    """The paths on the real photos as they are (most ~500x375, some larger)."""
    old = old_path(photos, TFLiteExtractor(model, num_threads=2, workers=1))
    new_ex = TFLiteExtractor(model, workers=usable_cores())
    return {
        "pool": cosines(old, pool_path(photos, new_ex)),
        "pool+draft": cosines(old, draft_path(photos, new_ex)),
    }


def noise_control(files: list[Path], model: Path) -> np.ndarray:
    """How far the quantised network's features move when the old path's 224x224 pixels
    get uniform noise of +-1 level (seeded): what 'a different decoder' costs at the least."""
    ex = TFLiteExtractor(model, workers=usable_cores())
    pixels = [decode_image(f.read_bytes(), draft=OLD_DRAFT) for f in files]
    rng = np.random.default_rng(0)
    noisy = [
        np.clip(p.astype(np.int16) + rng.integers(-1, 2, p.shape), 0, 255).astype(np.uint8)
        for p in pixels
    ]
    return cosines(ex.featurize(pixels), ex.featurize(noisy))


def summary(c: np.ndarray) -> dict:
    return {
        "images": len(c),
        "min": round(float(c.min()), 5),
        "mean": round(float(c.mean()), 5),
        "share >= 0.999": round(float((c >= 0.999).mean()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=120, help="12-MP files to time")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="24 files, 2 repeats")
    args = parser.parse_args()
    n, repeats = (24, 2) if args.quick else (args.n, args.repeats)
    shared = Settings.from_env().shared_dir
    model = shared / "models" / "mobilenet_v2_1.0_224_quant.tflite"
    photos = sorted((shared / "photos" / "imagenet-sample").glob("*.JPEG"))
    picked = photos[:: max(1, len(photos) // n)][:n]
    with tempfile.TemporaryDirectory() as tmp:
        files = make_12mp(picked, Path(tmp))
        sizes = [Image.open(f).size for f in files]
        megapixels = float(np.mean([w * h for w, h in sizes])) / 1e6
        jpeg_mb = float(np.mean([f.stat().st_size for f in files])) / 1e6
        rows, around, big_cos = speed(files, model, repeats)
        big_cos["old + noise"] = noise_control(files, model)
    real = real_cosines(photos, model)
    print_table("Photo features end to end, 12-MP JPEGs (decode + resize + MobileNetV2)", rows)
    print_table("around the run", [around])
    cos_rows = [
        {"path": name, "set": label, **summary(c[name])}
        for label, c in (("12-MP upscales", big_cos), ("real photos", real))
        for name in c
    ]
    print_table("cosine with the old path's features", cos_rows)
    write_results(
        "photo_speed" + ("_quick" if args.quick else ""),
        {
            "files": {"n": n, "megapixels": megapixels, "jpeg_mb": jpeg_mb},
            "repeats": repeats,
            "rows": rows,
            "around": around,
            "cosine": cos_rows,
        },
    )


if __name__ == "__main__":
    main()
