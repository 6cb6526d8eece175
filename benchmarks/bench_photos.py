"""Photo -> hashtags (issue 5), four measurements, each next to a baseline from the same run:

1. Featurisation images/s of both MobileNetV2 backends on this machine, one image per
   call and in batches of 32: TFLite (the shared quantised file) and Keras (the same
   architecture in float32; its weights here are a randomly initialised local file,
   which costs the same time as ImageNet weights — no internet for the download).
2. End-to-end latency of one photo query for a 12-megapixel JPEG with the model loaded:
   decode (JPEG draft) + TFLite features + index query + ranking, p50/p95 over repeats,
   through `Recommender.photo_hashtags` on a store trained with the photos kind only.
3. Quality on the demo data (leave one image out): share of the top-10 tags that belong
   to the photo's planted topic, for "similar" and "likes" modes, k_similar values and
   plain vs sharpened similarity votes (photo_tags.SIM_POWER),
   against the corpus's 10 most used tags; and the seed write-up's "average median likes
   of the recommended hashtags" (per tag: median likes of its posts in the corpus).
4. Real photos (`../shared/photos/imagenet-sample/`): share whose nearest neighbour
   (itself excluded) is in the same coarse class group (ImageNet index ranges: dogs,
   birds, food ...) against the exact random-neighbour chance.

5. Trust (issue 14), on the default demo: topic precision@10 on held-out sample photos
   (classes no demo picture is made from), abstention on noise, blank uploads and
   photos of subjects absent from the demo, and the 7 named photos' top tags.

Run: python -m benchmarks.bench_photos [--quick] [--only-trust] [--demo-size default]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks.report import print_table, write_results
from engine.core.settings import Settings
from engine.photos.features import make_extractor
from engine.photos.images import decode_image
from engine.photos.model import PhotoTagModel

# ImageNet class index ranges (0-based, 1000 classes) of related classes.
GROUPS = [
    ("fish", 0, 6),
    ("bird", 7, 24),
    ("amphibian/reptile", 25, 68),
    ("invertebrate", 69, 79),
    ("bird", 80, 100),
    ("mammal", 101, 106),
    ("invertebrate", 107, 126),
    ("bird", 127, 146),
    ("mammal", 147, 150),
    ("dog", 151, 268),
    ("wild canid", 269, 280),
    ("cat", 281, 293),
    ("mammal", 294, 299),
    ("insect", 300, 326),
    ("mammal", 327, 397),
    ("object", 398, 923),
    ("food", 924, 969),
    ("landscape", 970, 980),
    ("object", 981, 999),
]


def group_of(index: int) -> str:
    return next(name for name, lo, hi in GROUPS if lo <= index <= hi)


# ------------------------------------------------------------- featurisation
def featurisation(shared: Path, n: int) -> list[dict]:
    import tensorflow as tf

    photos = sorted((shared / "photos" / "imagenet-sample").glob("*.JPEG"))[:n]
    images = [decode_image(p.read_bytes()) for p in photos]
    rows = []
    tflite = make_extractor(str(shared / "models" / "mobilenet_v2_1.0_224_quant.tflite"))
    with tempfile.TemporaryDirectory() as tmp:
        model = tf.keras.applications.MobileNetV2(
            input_shape=(224, 224, 3), include_top=False, pooling="avg", weights=None
        )
        weights = Path(tmp) / "random.weights.h5"
        model.save_weights(str(weights))
        keras = make_extractor(str(weights))
        for name, ex in (("tflite (uint8)", tflite), ("keras (float32)", keras)):
            ex.featurize(images[:2])  # warm-up: graph tracing, XNNPACK set-up
            started = time.perf_counter()
            for im in images:
                ex.featurize([im])
            single = len(images) / (time.perf_counter() - started)
            started = time.perf_counter()
            for i in range(0, len(images), 32):
                ex.featurize(images[i : i + 32])
            batch = len(images) / (time.perf_counter() - started)
            rows.append(
                {
                    "backend": name,
                    "images": len(images),
                    "single img/s": round(single, 1),
                    "batch32 img/s": round(batch, 1),
                }
            )
    return rows


# ------------------------------------------------------------------ latency
def twelve_mp_jpeg(shared: Path) -> bytes:
    src = Image.open(shared / "photos" / "imagenet-sample" / "n02110185_Siberian_husky.JPEG")
    big = src.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def latency(demo_dir: Path, shared: Path, repeats: int) -> dict:
    from engine.bootstrap import scratch

    with tempfile.TemporaryDirectory() as tmp:
        rec = scratch(f"sqlite:///{tmp}/scout.db", demo_dir)
        started = time.perf_counter()
        report = rec.train(kinds=["photos"], log=lambda m: None)
        train_s = time.perf_counter() - started
        assert report.ok, report.table()
        photo = twelve_mp_jpeg(shared)
        started = time.perf_counter()
        rec.photo_hashtags(photo)  # first call: loads the model and TensorFlow
        first = time.perf_counter() - started
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            rec.photo_hashtags(photo, n=30, mode="likes")
            times.append(time.perf_counter() - started)
        decode = []
        for _ in range(repeats):
            started = time.perf_counter()
            decode_image(photo)
            decode.append(time.perf_counter() - started)
        rec.close()
    return {
        "jpeg_bytes": len(photo),
        "megapixels": 12.0,
        "repeats": repeats,
        "p50_s": float(np.percentile(times, 50)),
        "p95_s": float(np.percentile(times, 95)),
        "decode_only_p50_s": float(np.percentile(decode, 50)),
        "first_call_s (loads model + extractor)": first,
        "train_photos_kind_s": train_s,
    }


# ------------------------------------------------------------------ quality
def demo_model(demo_dir: Path, shared: Path):
    """The photos kind trained straight from the demo CSVs (no store), plus the truth."""
    import pandas as pd

    from engine.core.contract import TrainContext
    from engine.core.dataset import Dataset
    from engine.core.text import post_tags
    from engine.demo.generate import load_truth
    from engine.photos.kind import PHOTOS

    posts = pd.read_csv(demo_dir / "posts.csv", keep_default_na=False)
    posts["hashtags"] = [
        post_tags(c, h) for c, h in zip(posts["caption"], posts["hashtags"], strict=True)
    ]
    posts["image"] = [str((demo_dir / p).resolve()) if p else None for p in posts["image"]]
    data = Dataset(pd.DataFrame(), posts, pd.DataFrame())
    setting = str(shared / "models" / "mobilenet_v2_1.0_224_quant.tflite")
    model: PhotoTagModel = PHOTOS.train(data, TrainContext(config={"mobilenet": setting})).model
    return model, load_truth(demo_dir), posts


def quality(demo_dir: Path, shared: Path, ks: list[int]) -> list[dict]:
    model, truth, posts = demo_model(demo_dir, shared)
    # row -> planted topic: rows are sorted content hashes of the distinct images
    topic_of_key = {
        hashlib.sha256((demo_dir / rel).read_bytes()).hexdigest(): t
        for rel, t in truth["image_topic"].items()
    }
    keys = sorted(
        {
            hashlib.sha256(Path(p).read_bytes()).hexdigest()
            for p in set(posts["image"])
            if isinstance(p, str) and p  # a post without a picture reads back as NaN
        }
    )
    topics = [topic_of_key[k] for k in keys]
    assert len(topics) == model.n_images
    # median likes of each tag's posts over the whole corpus
    likes_by_tag: dict[str, list[int]] = {}
    for tags, likes in zip(posts["hashtags"], posts["likes"], strict=True):
        for t in set(tags):
            likes_by_tag.setdefault(t, []).append(int(likes))
    median_likes = {t: float(np.median(v)) for t, v in likes_by_tag.items()}
    ok = model.suggestible()
    popular = [str(model.vocab[t]) for t in np.argsort(-model.tag_count, kind="stable") if ok[t]][
        :10
    ]
    rows = []

    def score(name: str, picks: list[list[str]]) -> dict:
        on_topic = [
            np.mean([t in set(truth["topic_tags"][topics[r]]) for t in tags]) if tags else 0.0
            for r, tags in enumerate(picks)
        ]
        med = [np.mean([median_likes[t] for t in tags]) for tags in picks if tags]
        return {
            "method": name,
            "on-topic share@10": round(float(np.mean(on_topic)), 3),
            "avg median likes": round(float(np.mean(med)), 1),
        }

    rows.append(score("popular top-10 (baseline)", [popular] * model.n_images))
    import engine.photos.model as photo_tags

    shipped = photo_tags.SIM_POWER
    try:
        for power in sorted({1.0, shipped}):
            photo_tags.SIM_POWER = power
            for k in ks:
                for mode in ("similar", "likes"):
                    picks = [
                        [
                            r.id
                            for r in model.hashtags_for_row(
                                row, n=10, mode=mode, k_similar=k
                            ).results
                        ]
                        for row in range(model.n_images)
                    ]
                    rows.append(score(f"{mode}, k_similar={k}, sim**{power:g}", picks))
    finally:
        photo_tags.SIM_POWER = shipped
    return rows


# --------------------------------------------------------------- real photos
def real_photos(shared: Path) -> dict:
    labels = (shared / "models" / "imagenet_labels.txt").read_text().splitlines()[1:]
    first_name = {
        line.split(",")[0].strip().lower().replace(" ", "_"): i for i, line in enumerate(labels)
    }
    paths = sorted((shared / "photos" / "imagenet-sample").glob("*.JPEG"))
    groups, images = [], []
    for p in paths:
        name = p.stem.split("_", 1)[1].lower()
        if name not in first_name:
            continue
        groups.append(group_of(first_name[name]))
        images.append(decode_image(p.read_bytes()))
    ex = make_extractor(str(shared / "models" / "mobilenet_v2_1.0_224_quant.tflite"))
    feats = ex.featurize(images)
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    sims = feats @ feats.T
    np.fill_diagonal(sims, -np.inf)
    nearest = sims.argmax(axis=1)
    hits = [groups[i] == groups[j] for i, j in enumerate(nearest)]
    n = len(groups)
    chance = np.mean([(groups.count(g) - 1) / (n - 1) for g in groups])
    per_group = {
        g: f"{sum(h for h, gg in zip(hits, groups, strict=True) if gg == g)}/{groups.count(g)}"
        for g in sorted(set(groups))
    }
    return {
        "photos": n,
        "nn_same_group": float(np.mean(hits)),
        "random_chance": float(chance),
        "per_group": per_group,
    }


# --------------------------------------------------- trust: held out / absent
NOISE_AND_BLANK = ("noise 300x300", "noise 1000x1000", "1x1 PNG", "flat grey 640x480")


def _synthetic_uploads() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    out = {}
    for name, img in (
        ("noise 300x300", Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8))),
        (
            "noise 1000x1000",
            Image.fromarray(rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)),
        ),
        ("1x1 PNG", Image.new("RGB", (1, 1), (200, 30, 40))),
        ("flat grey 640x480", Image.new("RGB", (640, 480), (128, 128, 128))),
    ):
        buf = io.BytesIO()
        img.save(buf, "PNG")
        out[name] = buf.getvalue()
    return out


def trust(demo_dir: Path, shared: Path) -> dict:
    """`trust_of` for the shipped model (pictures compared in the classifier layer's
    space) and, in the same run, for the same model on the pooled features themselves
    (the space before issue 14's second round, and what Keras weights still use)."""
    import engine.photos.kind as photos_kind

    shipped = trust_of(demo_model(demo_dir, shared)[0], demo_dir, shared)
    real_head = photos_kind.classifier_head
    photos_kind.classifier_head = lambda setting: None
    try:
        pooled = trust_of(demo_model(demo_dir, shared)[0], demo_dir, shared)
    finally:
        photos_kind.classifier_head = real_head
    for row, base in zip(shipped["rows"], pooled["rows"], strict=True):
        row["pooled features (same run)"] = base["value"]
    shipped["pooled_features"] = pooled
    return shipped


def trust_of(model: PhotoTagModel, demo_dir: Path, shared: Path) -> dict:
    """On a demo model: (a) topic precision@10 on the held-out imagenet-sample classes
    of each topic (Topic.heldout: never used by the demo), answered photos only and with
    an abstention counted as 0; against the corpus's 10 most used suggestible tags;
    (b) abstention on noise and blank uploads and on the sample photos of classes no
    demo topic uses (absent subjects); (c) the 7 named photos' top tags."""
    from engine.demo.topics import TOPICS

    ex = make_extractor(str(shared / "models" / "mobilenet_v2_1.0_224_quant.tflite"))
    sample = shared / "photos" / "imagenet-sample"
    ok = model.suggestible()
    popular = [str(model.vocab[t]) for t in np.argsort(-model.tag_count, kind="stable") if ok[t]][
        :10
    ]

    def ask(data: bytes):
        return model.photo_hashtags(ex.featurize([decode_image(data)])[0], n=10)

    held, pop_prec, answered = [], [], []
    for topic in TOPICS:
        for cls in topic.heldout:
            (path,) = sample.glob(f"n*_{cls}.JPEG")
            got = [r.id for r in ask(path.read_bytes()).results]
            prec = float(np.mean([t in topic.tags for t in got])) if got else 0.0
            held.append({"topic": topic.name, "class": cls, "answered": bool(got), "p@10": prec})
            pop_prec.append(float(np.mean([t in topic.tags for t in popular])))
            if got:
                answered.append(prec)
    used = {c for t in TOPICS for c in t.photos + t.heldout}
    absent = [p for p in sorted(sample.glob("*.JPEG")) if p.stem.split("_", 1)[1] not in used]
    absent_abstained = [not ask(p.read_bytes()).results for p in absent]
    synthetic = {name: not ask(data).results for name, data in _synthetic_uploads().items()}
    named = {}
    for p in sorted((shared / "photos").glob("*.*")):
        a = ask(p.read_bytes())
        named[p.name] = (
            " ".join(f"#{r.id} {r.score:.0f}" for r in a.results[:5])
            or f"(nothing similar: best {a.meta['top_match']}/100)"
        )
    rows = [
        {
            "measure": "held-out classes: topic precision@10, abstain = 0",
            "value": float(np.mean([h["p@10"] for h in held])),
            "baseline (10 most used tags)": float(np.mean(pop_prec)),
        },
        {
            "measure": "held-out classes: topic precision@10 of answered",
            "value": float(np.mean(answered)),
            "baseline (10 most used tags)": float(np.mean(pop_prec)),
        },
        {"measure": "held-out classes: answered", "value": len(answered) / len(held)},
        {
            "measure": f"absent subjects ({len(absent)} sample classes): abstained",
            "value": float(np.mean(absent_abstained)),
        },
        {
            "measure": "noise / 1x1 / flat uploads: abstained",
            "value": float(np.mean(list(synthetic.values()))),
        },
    ]
    return {
        "demo": demo_dir.name,
        "min_similarity": model.min_similarity,
        "min_match": int(round(100 * model.min_similarity)),
        "min_creators": model.min_creators,
        "rows": rows,
        "heldout": held,
        "synthetic_abstained": synthetic,
        "named_photos": named,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    parser.add_argument(
        "--only-trust", action="store_true", help="only the held-out/absent measurement"
    )
    parser.add_argument("--demo-size", default="default", help="demo for the trust part")
    args = parser.parse_args()
    settings = Settings.from_env()
    shared = settings.shared_dir
    if not (shared / "models" / "mobilenet_v2_1.0_224_quant.tflite").is_file():
        raise SystemExit(f"needs ../shared (MobileNetV2 and photos) at {shared}")
    from engine.demo.generate import generate, is_complete

    trust_dir = settings.data_dir / "demo" / f"{args.demo_size}-42"
    if not is_complete(trust_dir):
        generate(trust_dir, size=args.demo_size, seed=42)
    started = time.perf_counter()
    tr = trust(trust_dir, shared)
    print_table(f"5. trust on demo {trust_dir.name} (floor {tr['min_match']}/100)", tr["rows"])
    for name, tags in tr["named_photos"].items():
        print(f"  {name}: {tags}")
    print(f"  ({time.perf_counter() - started:.0f}s)")
    if args.only_trust:
        path = write_results(f"photos_trust_{args.demo_size}", tr)
        print(f"\nwrote {path}")
        return
    demo_dir = settings.data_dir / "demo" / "small-42"
    if not is_complete(demo_dir):
        generate(demo_dir, size="small", seed=42)

    feat_rows = featurisation(shared, 32 if args.quick else 100)
    print_table("1. featurisation, images/s (2 cores)", feat_rows)
    lat = latency(demo_dir, shared, 10 if args.quick else 40)
    print_table("2. photo_hashtags on a 12-MP JPEG, model loaded", [lat])
    qual = quality(demo_dir, shared, [5, 10] if args.quick else [5, 10, 20])
    print_table("3. demo quality (leave one image out, top-10 tags)", qual)
    real = real_photos(shared)
    print_table(
        "4. imagenet-sample: nearest neighbour in the same class group",
        [{k: v for k, v in real.items() if k != "per_group"}],
    )
    print("per group (hits/photos):", real["per_group"])
    path = write_results(
        "photos_quick" if args.quick else "photos",
        {
            "featurisation": feat_rows,
            "latency": lat,
            "quality": qual,
            "real_photos": real,
            "trust": tr,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
