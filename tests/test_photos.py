"""Photo -> hashtags: real MobileNetV2 (TFLite) features on real photos from ../shared, the
pure ranking on a hand-built post set, the training kind's cache and failure counting,
and the facade and CLI on the trained small demo."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.core.errors import BadImage, BadQuery, NotEnoughData, ScoutError
from engine.demo.topics import FIRST_NAMES, TOPICS
from engine.photos.features import extractor_id_for, make_extractor
from engine.photos.images import decode_image
from engine.photos.kind import FeaturiseReport, featurise_images
from engine.photos.model import PhotoCorpus, PhotoTagModel, fit

DOGS = [
    "n02088094_Afghan_hound",
    "n02090721_Irish_wolfhound",
    "n02100236_German_short-haired_pointer",
    "n02102480_Sussex_spaniel",
    "n02105855_Shetland_sheepdog",
]


@pytest.fixture(scope="module")
def tflite(shared_dir: Path):
    return make_extractor(str(shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite"))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ------------------------------------------------------------------ extractors
def test_tflite_features_put_dogs_closer_to_dogs_than_to_a_hot_dog(tflite, shared_dir):
    photos = shared_dir / "photos"
    dogs = [decode_image((photos / "imagenet-sample" / f"{d}.JPEG").read_bytes()) for d in DOGS]
    hot_dog = decode_image((photos / "hot_dog.jpg").read_bytes())
    feats = tflite.featurize([*dogs, hot_dog])
    assert feats.shape == (len(DOGS) + 1, 1280) and feats.dtype == np.float32
    assert (feats >= 0).all() and feats.std() > 0  # ReLU6 outputs, not a constant
    dog_dog = np.mean([cosine(feats[i], feats[j]) for i in range(5) for j in range(i + 1, 5)])
    dog_hot = np.mean([cosine(feats[i], feats[5]) for i in range(5)])
    assert dog_dog > dog_hot + 0.05, (dog_dog, dog_hot)
    assert tflite.extractor_id.startswith("tflite:7aad0c74c5e3")
    # batch and single give the same vector
    np.testing.assert_allclose(tflite.featurize([hot_dog])[0], feats[5], rtol=1e-6)


def test_extractor_id_is_known_without_loading_tensorflow(shared_dir, tflite):
    path = shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite"
    assert extractor_id_for(str(path)) == tflite.extractor_id
    assert extractor_id_for("imagenet") == "keras:imagenet"


@pytest.mark.slow
def test_litert_and_tensorflow_lite_give_the_same_features(shared_dir):
    from engine.photos.features import TFLiteExtractor

    path = shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite"
    image = decode_image((shared_dir / "photos" / "parrot.jpg").read_bytes())
    litert = TFLiteExtractor(path, runtime="litert").featurize([image])
    tf_lite = TFLiteExtractor(path, runtime="tensorflow").featurize([image])
    np.testing.assert_allclose(litert, tf_lite, atol=0.03)  # at most one quantisation step


@pytest.mark.parametrize("setting", ["", "/nonexistent/mobilenet.tflite"])
def test_missing_weights_say_what_to_set(setting):
    with pytest.raises(ScoutError, match="SCOUT_MOBILENET"):
        make_extractor(setting)


def test_unknown_weights_format_is_refused(tmp_path):
    weird = tmp_path / "weights.bin"
    weird.write_bytes(b"x")
    with pytest.raises(ScoutError, match="unknown weights format"):
        make_extractor(str(weird))


@pytest.mark.slow
def test_keras_backend_local_weights_and_offline_imagenet(tmp_path, monkeypatch):
    """The loading path only: a randomly initialised MobileNetV2 saved here stands in for
    real weights (never used for answers). 'imagenet' cannot download offline: it must
    fail with a message naming SCOUT_MOBILENET, not hang or fall back to random weights."""
    import tensorflow as tf

    model = tf.keras.applications.MobileNetV2(
        input_shape=(224, 224, 3), include_top=False, pooling="avg", weights=None
    )
    weights = tmp_path / "mnv2.weights.h5"
    model.save_weights(str(weights))
    extractor = make_extractor(str(weights))
    assert extractor.extractor_id == extractor_id_for(str(weights))
    assert extractor.extractor_id.startswith("keras:")
    image = np.full((224, 224, 3), 128, np.uint8)
    feats = extractor.featurize([image, image])
    assert feats.shape == (2, 1280) and np.isfinite(feats).all()
    expected = model(
        tf.keras.applications.mobilenet_v2.preprocess_input(image[None].astype(np.float32)),
        training=False,
    ).numpy()[0]
    np.testing.assert_allclose(feats[0], expected, rtol=1e-4, atol=1e-5)

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))  # no cached download
    socket.setdefaulttimeout(5)
    try:
        with pytest.raises(ScoutError, match="SCOUT_MOBILENET") as err:
            make_extractor("imagenet")
    finally:
        socket.setdefaulttimeout(None)
    assert "ImageNet weights" in str(err.value)


# --------------------------------------------------------------- pure ranking
def tiny_model():
    """Images 0,1 look like the query (beach), 2 is far away (food). Post likes make
    #sunset the well-liked beach tag and #beach the common one."""
    feats = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 0, 1]], np.float32)
    posts = [
        (0, ["beach", "sea"], 100),
        (0, ["beach", "sunset"], 5000),
        (1, ["beach", "sea", "summer", "travel"], 80),
        (1, ["beach"], 120),
        (1, ["sunset"], 4000),
        (2, ["food", "pasta"], 9000),
    ]
    return fit(
        PhotoCorpus(
            feats, [p[0] for p in posts], [p[1] for p in posts], [p[2] for p in posts], "test:1"
        )
    )


def test_similar_mode_ranks_by_summed_similarity_and_explains():
    model = tiny_model()
    answer = model.photo_hashtags(np.array([1, 0, 0], np.float32), n=30, k_similar=2)
    ids = [r.id for r in answer.results]
    assert ids[0] == "beach"  # used by all 4 nearby posts
    assert "food" not in ids and "pasta" not in ids  # image 2 is not among the 2 nearest
    beach = answer.results[0]
    assert beach.why.startswith("on 2 of the 2 nearest pictures (4 of 5 similar posts)")
    assert "median 110 likes" in beach.why
    assert 0 < beach.score <= 100 and beach.score == max(r.score for r in answer.results)
    assert answer.meta["similar_posts"] == 5


def test_likes_mode_promotes_well_liked_tags():
    model = tiny_model()
    query = np.array([1, 0, 0], np.float32)
    similar = [r.id for r in model.photo_hashtags(query, mode="similar", k_similar=2).results]
    likes = [r.id for r in model.photo_hashtags(query, mode="likes", k_similar=2).results]
    assert similar.index("sunset") > similar.index("beach")
    assert likes[0] == "sunset"  # few tags on well-liked posts beat the common #beach


def test_rating_follows_the_formula():
    model = tiny_model()
    vocab = list(model.vocab)
    adj = {  # mean over posts of likes / number_of_hashtags
        "beach": np.mean([50, 2500, 20, 120]),
        "sea": np.mean([50, 20]),
        "sunset": np.mean([2500, 4000]),
        "summer": 20.0,
        "travel": 20.0,
        "food": 4500.0,
        "pasta": 4500.0,
    }
    lo, hi = min(adj.values()), max(adj.values())
    for tag, value in adj.items():
        count = int(model.tag_count[vocab.index(tag)])
        expected = np.log1p(count) * (value - lo) / (hi - lo)
        assert model.tag_rating[vocab.index(tag)] == pytest.approx(expected)


def test_n_is_capped_at_instagrams_30_and_bad_mode_refused():
    feats = np.eye(4, dtype=np.float32)
    tags = [[f"t{j}" for j in range(40)] for _ in range(4)]  # all four pictures agree
    model = fit(PhotoCorpus(feats, [0, 1, 2, 3], tags, [1, 2, 3, 4], "test:1"))
    assert len(model.photo_hashtags(feats[0], n=100, k_similar=4).results) == 30
    with pytest.raises(BadQuery, match="mode"):
        model.photo_hashtags(feats[0], mode="viral")


def test_excluded_image_does_not_find_itself_and_bytes_round_trip():
    model = tiny_model()
    again = type(model).from_bytes(model.to_bytes())
    query = np.array([1, 0, 0], np.float32)
    answer = again.photo_hashtags(query, k_similar=1, exclude_images=[0])
    assert [r.id for r in answer.results] == ["beach", "sea", "summer", "sunset", "travel"]
    assert again.extractor_id == "test:1"


def test_empty_model_answers_politely():
    model = fit(PhotoCorpus(np.zeros((0, 1280), np.float32), [], [], [], ""))
    answer = type(model).from_bytes(model.to_bytes()).photo_hashtags(None)
    assert answer.results == [] and "No post images" in answer.notes[0]


# ------------------------------------------------------------- training kind
class CountingExtractor:
    extractor_id = "fake:1"

    def __init__(self) -> None:
        self.seen = 0

    def featurize(self, images):
        self.seen += len(images)
        return np.stack([im.mean(axis=(0, 1)).repeat(427)[:1280] for im in images]).astype(
            np.float32
        )


class DictCache:
    def __init__(self) -> None:
        self.data: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, keys, extractor):
        return {k: self.data[(k, extractor)] for k in keys if (k, extractor) in self.data}

    def put_many(self, items, extractor):
        self.data.update({(k, extractor): v for k, v in items.items()})


def test_featurise_counts_failures_and_caches_by_content(tmp_path, shared_dir):
    photos = shared_dir / "photos"
    good = [str(photos / "owl.jpg"), str(photos / "parrot.jpg")]
    copy = tmp_path / "owl_again.jpg"  # same bytes under another name: featurised once
    copy.write_bytes((photos / "owl.jpg").read_bytes())
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    locations = [*good, str(copy), str(text), str(tmp_path / "missing.jpg")]
    cache, extractor = DictCache(), CountingExtractor()
    report = FeaturiseReport()
    key_of, feats = featurise_images(locations, "fake:1", lambda: extractor, cache, report=report)
    assert extractor.seen == 2 and report.computed == 2
    assert key_of[good[0]] == key_of[str(copy)] and len(feats) == 2
    assert report.failed == 2 and set(report.failures) == {"undecodable image", "FileNotFoundError"}

    def must_not_build():
        raise AssertionError("everything was cached; the extractor must not be built")

    report2 = FeaturiseReport()
    _, feats2 = featurise_images(good, "fake:1", must_not_build, cache, report=report2)
    assert report2.cached == 2 and report2.computed == 0 and len(feats2) == 2


def test_kind_is_skipped_when_no_post_image_can_be_used():
    import pandas as pd

    from engine.core.contract import TrainContext
    from engine.core.dataset import Dataset
    from engine.photos.kind import PHOTOS

    data = Dataset.empty()
    data.posts = pd.DataFrame(
        {"post_id": ["p1"], "handle": ["a"], "image": [None], "hashtags": [["x"]], "likes": [3]}
    )
    with pytest.raises(NotEnoughData, match="no post has an image"):
        PHOTOS.train(data, TrainContext())
    data.posts["image"] = ["/nonexistent/picture.jpg"]
    with pytest.raises(NotEnoughData, match=r"0 of 1 posts' images could be read \(1 "):
        PHOTOS.train(data, TrainContext())


# ------------------------------------------------------ facade and CLI, demo
def demo_image(demo_small_dir: Path) -> tuple[bytes, str]:
    truth = json.loads((demo_small_dir / "truth.json").read_text())
    rel, topic = sorted(truth["image_topic"].items())[0]
    return (demo_small_dir / rel).read_bytes(), topic


def test_facade_suggests_the_photos_topic_tags(copy_db, demo_small_dir):
    """One picture of each of five planted topics: the tags the nearest pictures agree on
    are (nearly all) the topic's own (the corpus's most used tags would score 0: spam)."""
    from engine.bootstrap import bootstrap

    truth = json.loads((demo_small_dir / "truth.json").read_text())
    by_topic = {}
    for rel, topic in sorted(truth["image_topic"].items()):
        by_topic.setdefault(topic, rel)
    rec = bootstrap(copy_db)
    shares = []
    for topic, rel in list(by_topic.items())[:5]:
        answer = rec.photo_hashtags((demo_small_dir / rel).read_bytes(), n=10, k_similar=5)
        # Only tags the nearest pictures agree on (issue 24); a short list says why.
        assert 3 <= len(answer.results) <= 10, answer.notes
        assert len(answer.results) == 10 or " sure: the other " in answer.notes[0]
        assert all(r.why.startswith("on ") and 0 < r.score <= 100 for r in answer.results)
        shares.append(np.mean([r.id in set(truth["topic_tags"][topic]) for r in answer.results]))
    assert np.mean(shares) >= 0.9, shares  # 1.0 on the small demo (issue 24; was >= 0.4)
    data = (demo_small_dir / rel).read_bytes()
    similar = rec.photo_hashtags(data, n=10, mode="similar")
    likes = rec.photo_hashtags(data, n=10, mode="likes")
    assert likes.meta["model_version"] >= 1 and similar.meta["k_similar"] == 10
    assert [r.id for r in likes.results] != [r.id for r in similar.results]
    with pytest.raises(BadImage):
        rec.photo_hashtags(b"GIF89a not really", n=5)


def test_facade_refuses_features_from_another_extractor(
    copy_db, demo_small_dir, tmp_path, shared_dir
):
    from engine.bootstrap import bootstrap
    from engine.core.settings import Settings

    other = tmp_path / "other.tflite"  # different bytes -> different checksum
    other.write_bytes(
        (shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite").read_bytes() + b"\0"
    )
    settings = Settings.from_env(copy_db)
    settings = type(settings)(**{**settings.__dict__, "mobilenet": str(other)})
    rec = bootstrap(settings=settings)
    with pytest.raises(ScoutError, match="python -m engine train"):
        rec.photo_hashtags(demo_image(demo_small_dir)[0])


@pytest.mark.slow
def test_cli_hashtags_photo_json(copy_db, demo_small_dir, tmp_path):
    data, _ = demo_image(demo_small_dir)
    photo = tmp_path / "upload.jpg"
    photo.write_bytes(data)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "hashtags",
            "--db",
            copy_db,
            "--photo",
            str(photo),
            "--mode",
            "likes",
            "-n",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    results = json.loads(out.stdout)["results"]
    assert len(results) == 5 and {"id", "label", "score", "why"} <= set(results[0])
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "hashtags",
            "--db",
            copy_db,
            "--photo",
            str(tmp_path / "nope.jpg"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "no such file" in bad.stderr


# ------------------------------------------- trust: abstain, stable, no personal tags
def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def test_noise_blank_and_absent_subjects_get_nothing_similar(copy_db, shared_dir):
    """The threshold comes from the trained data: noise (small and large), a flat image
    and a 1x1 PNG must not get confident tags, the cat photo the demo's pet pictures are
    cut from gets pet tags. (Photos of absent subjects are measured on the default demo
    by bench_photos: the small demo's few pictures make a looser floor.)"""
    from engine.bootstrap import bootstrap

    rec = bootstrap(copy_db)
    rng = np.random.default_rng(0)
    noise = _png(Image.fromarray(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)))
    big_noise = _png(Image.fromarray(rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)))
    pixel = _png(Image.new("RGB", (1, 1), (200, 30, 40)))
    flat = _png(Image.new("RGB", (640, 480), (128, 128, 128)))
    for name, data in (
        ("noise", noise),
        ("1000px noise", big_noise),
        ("1x1", pixel),
        ("flat", flat),
    ):
        answer = rec.photo_hashtags(data, n=30)
        assert answer.results == [], name
        assert answer.notes[0].startswith("Nothing in the data looks like this photo"), name
        assert answer.meta["abstained"] is True
    # the demo's pet pictures are crops of this photo (and of dog photos)
    sample = shared_dir / "photos" / "imagenet-sample"
    cat = rec.photo_hashtags((sample / "n02124075_Egyptian_cat.JPEG").read_bytes(), n=10)
    pets = {"pets", "cat", "kitten", "dog", "puppy", "catsofinstagram", "dogsofinstagram"}
    assert len({r.id for r in cat.results[:5]} & pets) >= 3, [r.id for r in cat.results]


def test_pictures_are_compared_in_the_classifier_layers_space(copy_db, shared_dir):
    """A model trained with the shared .tflite carries the network's classifier layer and
    embeds an upload through it; a payload without one (Keras weights, older models)
    compares the pooled features as before."""
    from engine.bootstrap import bootstrap
    from engine.photos.features import classifier_head

    model = bootstrap(copy_db).model("photos")
    head = classifier_head(str(shared_dir / "models" / "mobilenet_v2_1.0_224_quant.tflite"))
    assert head is not None and head.weights.shape == (1001, 1280)
    assert model.projection is not None and np.array_equal(model.projection, head.weights)
    assert model.index.vectors.shape[1] == 1001
    feature = np.random.default_rng(1).random(1280, dtype=np.float32)
    expected = head.weights @ feature + head.bias - model.centre
    assert np.allclose(model.embed(feature), expected / np.linalg.norm(expected), atol=1e-5)
    again = PhotoTagModel.from_bytes(model.to_bytes())
    assert np.array_equal(again.projection_bias, model.projection_bias)
    assert classifier_head("imagenet") is None  # Keras: no classifier layer, pooled space
    pooled = fit(
        PhotoCorpus(np.eye(3, 1280, dtype=np.float32), [0, 1, 2], [["a"]] * 3, [1] * 3, "t")
    )
    assert pooled.projection is None and pooled.index.vectors.shape[1] == 1280


def _variants(path: Path) -> dict[str, bytes]:
    """The same picture re-saved, stored rotated with an EXIF orientation that undoes
    the rotation, and converted to CMYK: what phones and chat clients do to uploads."""
    with Image.open(path) as im:
        rgb = im.convert("RGB")
    out = {}
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=90)
    out["resaved"] = buf.getvalue()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": pixels stored rotated 90 CCW
    buf = io.BytesIO()
    rgb.rotate(90, expand=True).save(buf, "JPEG", quality=90, exif=exif.tobytes())
    out["exif_rotated"] = buf.getvalue()
    buf = io.BytesIO()
    rgb.convert("CMYK").save(buf, "JPEG", quality=90)
    out["cmyk"] = buf.getvalue()
    return out


def test_top_tags_are_stable_under_resave_rotation_and_colour_mode(copy_db, shared_dir):
    from engine.bootstrap import bootstrap

    rec = bootstrap(copy_db)
    checked = 0
    for name in ("cat.bmp", "hot_dog.jpg", "parrot.jpg"):
        path = shared_dir / "photos" / name
        base = [r.id for r in rec.photo_hashtags(path.read_bytes(), n=5).results]
        for variant, data in _variants(path).items():
            got = [r.id for r in rec.photo_hashtags(data, n=5).results]
            assert len(set(base) & set(got)) >= min(4, len(base)), (name, variant, base, got)
            assert bool(base) == bool(got), (name, variant)  # abstains alike too
        checked += bool(base)
    assert checked >= 2  # the check is not vacuous: most of these photos get tags


@pytest.mark.slow
def test_personal_brand_tags_are_never_suggested(copy_db, demo_small_dir):
    from engine.bootstrap import bootstrap

    rec = bootstrap(copy_db)
    model = rec.model("photos")
    personal = {f"{n}{t}" for n in FIRST_NAMES for t in (x.name for x in TOPICS)}
    assert personal & set(model.vocab.tolist())  # the demo does plant them
    truth = json.loads((demo_small_dir / "truth.json").read_text())
    for rel in sorted(truth["image_topic"])[::9]:
        answer = rec.photo_hashtags((demo_small_dir / rel).read_bytes(), n=30)
        assert not {r.id for r in answer.results} & personal, {
            r.id for r in answer.results
        } & personal
        vocab = model.vocab.tolist()
        assert all(
            model.tag_creators[vocab.index(r.id)] >= model.min_creators for r in answer.results
        )
