"""The "photos" model kind: featurise every post image (content-hash cached, so a daily
retrain only runs the network on new pictures), evaluate tag suggestions on held-out
images, and publish the photo -> hashtags model (engine.photos.model)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.core.contract import FeatureCache, TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.core.errors import BadImage, NotEnoughData
from engine.core.remote import read_image_bytes
from engine.photos.features import (
    ClassifierHead,
    FeatureExtractor,
    classifier_head,
    extractor_id_for,
    featurize_encoded,
    make_extractor,
)
from engine.photos.images import decode_image
from engine.photos.model import PhotoCorpus, PhotoTagModel, fit, match


@dataclass
class FeaturiseReport:
    """What happened to the posts' images; failures are counted, never fatal."""

    posts_with_image: int = 0
    images: int = 0
    cached: int = 0
    computed: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def fail(self, reason: str, where: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {reason}")

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def featurise_images(
    locations: list[str],
    extractor_id: str,
    get_extractor: Callable[[], FeatureExtractor],
    cache: FeatureCache,
    progress: Callable = lambda items, **_: items,
    report: FeaturiseReport | None = None,
) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """-> (location -> content hash for readable images, content hash -> feature).
    One pass: each image is read (or fetched) once, a window of them is looked up in the
    cache, and only the misses are decoded and featurised, in the extractor's pool
    (`featurize_encoded`: decoding runs in the pool's threads next to the network,
    issue 27), and stored before the next window. A window holds at most BATCH new
    images or WINDOW_BYTES, so a large corpus never sits in memory; the extractor is
    only built when some image is not in the cache."""
    report = report or FeaturiseReport()
    window = _Window(extractor_id, get_extractor, cache, report)
    key_of: dict[str, str] = {}
    for loc in progress(locations, desc="featurising images", total=len(locations)):
        try:
            data = read_image_bytes(loc)
        except (OSError, BadImage, ValueError) as err:
            report.fail(type(err).__name__, loc)
            continue
        key = hashlib.sha256(data).hexdigest()
        key_of[loc] = key
        window.add(key, loc, data)
    window.flush()
    features = window.features
    report.cached, report.computed = window.cached, window.computed
    key_of = {loc: k for loc, k in key_of.items() if k in features}
    report.images = len(features)
    return key_of, features


BATCH = 64  # new images looked up and featurised together (4 chunks of 16 per worker)
WINDOW_BYTES = 128 * 2**20  # encoded bytes a window may hold (25 MB a photo at most)


class _Window:
    """The images read since the last flush (content hash -> first location, bytes),
    and what the flushes found: every feature, and how many came from the cache."""

    def __init__(
        self,
        extractor_id: str,
        get_extractor: Callable[[], FeatureExtractor],
        cache: FeatureCache,
        report: FeaturiseReport,
    ) -> None:
        self.extractor_id, self.cache, self.report = extractor_id, cache, report
        self._get_extractor = get_extractor
        self._extractor: FeatureExtractor | None = None
        self.features: dict[str, np.ndarray] = {}
        self.cached = self.computed = 0
        self._seen: set[str] = set()
        self._pending: dict[str, tuple[str, bytes]] = {}
        self._bytes = 0

    def add(self, key: str, loc: str, data: bytes) -> None:
        """Queue an image unless its bytes were already seen (same picture, other post)."""
        if key in self._seen:
            return
        self._seen.add(key)
        self._pending[key] = (loc, data)
        self._bytes += len(data)
        if len(self._pending) >= BATCH or self._bytes >= WINDOW_BYTES:
            self.flush()

    def flush(self) -> None:
        """Cache hits taken as they are; misses decoded + featurised, then stored."""
        pending, self._pending, self._bytes = self._pending, {}, 0
        if not pending:
            return
        hits = self.cache.get_many(list(pending), self.extractor_id)
        self.features.update(hits)
        self.cached += len(hits)
        todo = [k for k in pending if k not in hits]
        if not todo:
            return
        if self._extractor is None:
            self._extractor = self._get_extractor()
        done = featurize_encoded(self._extractor, [pending[k][1] for k in todo], decode_image)
        fresh: dict[str, np.ndarray] = {}
        for i, key in enumerate(todo):
            if done.ok[i]:
                fresh[key] = done.features[i]
                continue
            err = done.errors.get(i)
            reason = "undecodable image" if isinstance(err, BadImage) else type(err).__name__
            self.report.fail(reason, pending[key][0])
        self.cache.put_many(fresh, self.extractor_id)
        self.features.update(fresh)
        self.computed += len(fresh)


def build_model(
    data: Dataset,
    extractor_id: str,
    key_of: dict[str, str],
    features: dict[str, np.ndarray],
    head: ClassifierHead | None = None,
) -> PhotoTagModel:
    """One index row per distinct image; posts without a usable image are left out.
    `head`: the extractor's classifier layer, the space pictures are compared in."""
    keys = sorted(set(key_of.values()))
    row_of = {k: i for i, k in enumerate(keys)}
    posts = data.posts
    post_image, tags, likes, creators = [], [], [], []
    for loc, post_tags, post_likes, handle in zip(
        posts["image"], posts["hashtags"], posts["likes"], posts["handle"], strict=True
    ):
        key = key_of.get(loc) if isinstance(loc, str) else None
        if key is None:
            continue
        post_image.append(row_of[key])
        tags.append(list(post_tags) if post_tags is not None else [])
        likes.append(int(post_likes) if post_likes == post_likes else 0)
        creators.append(str(handle))
    matrix = (
        np.stack([features[k] for k in keys]).astype(np.float32)
        if keys
        else np.zeros((0, 1280), np.float32)
    )
    head_arrays = None if head is None else (head.weights, head.bias)
    return fit(PhotoCorpus(matrix, post_image, tags, likes, extractor_id, creators, head_arrays))


def evaluate(
    model: PhotoTagModel, k: int = 10, sample: int = 500, seed: int = 42
) -> dict[str, float]:
    """Leave-one-image-out: for held-out images, suggest up to k tags from the other
    images and measure, per post showing that image, the share of its tags among them
    (recall@k) and the share of the suggested tags it used (precision@k: the model
    suggests only tags the nearest pictures agree on, so fewer and surer), against the
    corpus's k most used tags (popularity baseline)."""
    n = model.n_images
    if n < 2:
        return {}
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, size=min(sample, n), replace=False)
    # The baseline may only suggest what the model may (no spam, no personal tags).
    ok = model.suggestible()
    by_count = [t for t in np.argsort(-model.tag_count, kind="stable") if ok[t]]
    popular = {str(model.vocab[t]) for t in by_count[:k]}
    out: dict[str, list[float]] = {
        f"{what}@{k}.{m}": []
        for what in ("recall", "precision")
        for m in ("similar", "likes", "popular")
    }
    for row in rows:
        suggested = {"popular": popular}
        for mode in ("similar", "likes"):
            got = model.hashtags_for_row(int(row), n=k, mode=mode)
            suggested[mode] = {r.id for r in got.results}
        for p in model.image_posts[model.image_posts_ptr[row] : model.image_posts_ptr[row + 1]]:
            tags = {
                str(model.vocab[t]) for t in model.tag_ids[model.tag_ptr[p] : model.tag_ptr[p + 1]]
            }
            if tags:
                for mode, got_tags in suggested.items():
                    out[f"recall@{k}.{mode}"].append(len(tags & got_tags) / len(tags))
                    if got_tags:
                        out[f"precision@{k}.{mode}"].append(len(tags & got_tags) / len(got_tags))
    return {name: float(np.mean(v)) for name, v in out.items() if v}


def _no_images_reason(report: FeaturiseReport) -> str:
    """Why there is no photos model, in words: no post has an image, or none could be read."""
    if not report.posts_with_image:
        return "no post has an image to learn from (import posts with an `image` column)"
    failed = ", ".join(f"{n} {reason}" for reason, n in sorted(report.failures.items()))
    return f"0 of {report.posts_with_image} posts' images could be read" + (
        f" ({failed})" if failed else ""
    )


class PhotosKind:
    kind = "photos"
    depends_on: tuple[str, ...] = ()
    # 2: pictures compared in the classifier layer's space; 3: the versioned payload
    # envelope (engine.core.artifact_io)
    model_version = 3

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult:
        # Settings.training_config() passes SCOUT_MOBILENET here, so it is part of this
        # kind's fingerprint: changing the extractor retrains photos on the next run.
        setting = ctx.config.get("mobilenet") or "imagenet"
        posts = data.posts
        with_image = posts["image"].dropna() if len(posts) else posts.get("image", [])
        locations = sorted({str(x) for x in with_image if str(x).strip()})
        report = FeaturiseReport(posts_with_image=sum(1 for x in with_image if str(x).strip()))
        extractor_id = extractor_id_for(setting) if locations else ""
        key_of, features = (
            featurise_images(
                locations,
                extractor_id,
                lambda: make_extractor(setting),
                ctx.feature_cache,
                ctx.progress,
                report,
            )
            if locations
            else ({}, {})
        )
        for reason, count in report.failures.items():
            ctx.log(f"photos: {count} image(s) skipped: {reason}")
        for example in report.examples:
            ctx.log(f"photos: e.g. {example}")
        if not features:
            # A model with no pictures could only ever answer "nothing to compare with":
            # publishing it would replace a working one (or read as "trained") for nothing.
            raise NotEnoughData(_no_images_reason(report))
        head = classifier_head(setting)
        model = build_model(data, extractor_id, key_of, features, head)
        metrics = evaluate(model, seed=ctx.seed)
        metrics["min_similarity"] = model.min_similarity
        metrics["min_creators"] = float(model.min_creators)
        metrics.update(
            {
                "images": float(model.n_images),
                "images_failed": float(report.failed),
                "features_computed": float(report.computed),
                "features_cached": float(report.cached),
            }
        )
        summary = (
            f"{model.n_images} distinct images from {report.posts_with_image} posts with an image "
            f"({report.computed} featurised, {report.cached} from cache, {report.failed} failed); "
            f"{len(model.vocab)} hashtags ({int(model.suggestible().sum())} used by "
            f"{model.min_creators}+ creators); abstains below a "
            f"{match(model.min_similarity)}/100 match; extractor {extractor_id[:20] or 'none'}"
        )
        if "recall@10.similar" in metrics:
            summary += (
                f"; held-out recall@10 similar {metrics['recall@10.similar']:.3f}, "
                f"likes {metrics['recall@10.likes']:.3f}, "
                f"popular {metrics['recall@10.popular']:.3f}"
            )
        return TrainResult(
            payload=model.to_bytes(),
            metrics=metrics,
            params={
                "extractor_id": extractor_id,
                "n_images": model.n_images,
                "data_posts": int(len(posts)),
                "images_failed": report.failed,
            },
            quality_metric="recall@10.similar" if "recall@10.similar" in metrics else None,
            model=model,
            summary=summary,
        )

    def load(self, payload: bytes) -> PhotoTagModel:
        return PhotoTagModel.from_bytes(payload)


PHOTOS = PhotosKind()
