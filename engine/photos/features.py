"""MobileNetV2 image features (1280-d, the global-average-pooled last conv layer) behind
one interface with two backends: a TFLite file run by TensorFlow's interpreter (the
shared, offline default) and Keras `MobileNetV2(include_top=False, pooling="avg")` with
ImageNet weights downloaded by Keras or a local weights file.

Features from different networks live in different spaces, so every extractor has an
`extractor_id` (backend + sha256 of its weights); feature indexes and the feature cache
are keyed by it and a mismatch is refused instead of silently answering nonsense.
TensorFlow is imported inside the backends only: it costs seconds and most processes
never need it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.core.errors import ScoutError

FEATURE_DIM = 1280
TFLITE_FEATURE_TENSOR = "MobilenetV2/Logits/AvgPool"


@dataclass(frozen=True)
class ClassifierHead:
    """The last layer of the network: `logits = weights @ feature + bias` (classes x
    FEATURE_DIM). Photos compare pictures in this space (engine.photos.model)."""

    weights: np.ndarray
    bias: np.ndarray


class FeatureExtractor(Protocol):
    extractor_id: str

    def featurize(self, images: list[np.ndarray]) -> np.ndarray:
        """uint8 RGB (224, 224, 3) arrays -> float32 (n, 1280)."""
        ...


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stack(images: list[np.ndarray]) -> np.ndarray:
    batch = np.stack([np.asarray(im, dtype=np.uint8) for im in images])
    if batch.shape[1:] != (224, 224, 3):
        raise ValueError(f"expected (n, 224, 224, 3) uint8 images, got {batch.shape}")
    return batch


def _tflite_interpreter_class(runtime: str = "auto"):
    """LiteRT (`ai_edge_litert`, TensorFlow Lite's standalone successor) imports in under a
    second where TensorFlow takes 10-40 s on this machine; same kernels, same features.
    `tf.lite.Interpreter` remains the fallback when LiteRT is not installed."""
    if runtime in ("auto", "litert"):
        try:
            from ai_edge_litert.interpreter import Interpreter

            return Interpreter
        except ImportError:
            if runtime == "litert":
                raise
    import tensorflow as tf  # heavy: only when LiteRT is missing or asked for

    return tf.lite.Interpreter


@contextlib.contextmanager
def _quiet_runtime() -> Iterator[None]:
    """Silence the runtime's start-up chatter on every photo command: its Python warning
    about preserved tensors (we read an intermediate tensor on purpose) and the
    'Created TensorFlow Lite XNNPACK delegate' line its C++ code writes to fd 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_RUNTIME_LOCK = threading.Lock()


class TFLiteExtractor:
    """A quantised MobileNetV2 .tflite: the feature is the AvgPool tensor, dequantised.
    An interpreter is not thread-safe, so each call takes one from a pool (one per core,
    made when first needed, one thread each) and a batch is split across them: each core
    then decodes and featurises its own photos (featurize_encoded), where one interpreter
    with two threads left the serial decoding on one core (issue 27)."""

    def __init__(
        self,
        path: Path,
        num_threads: int = 2,
        runtime: str = "auto",
        workers: int | None = None,
    ) -> None:
        """`workers`: interpreters in the pool (each with one thread); None = the cores
        this process may use. `num_threads` is what a lone interpreter (workers=1) uses."""
        self.path = Path(path)
        self.extractor_id = f"tflite:{file_sha256(self.path)}"
        self.workers = max(1, workers if workers is not None else usable_cores())
        self._threads = num_threads if self.workers == 1 else 1
        self._runtime = _tflite_interpreter_class(runtime)
        self._interp = self._new_interpreter()
        self._input = self._interp.get_input_details()[0]
        by_name = {t["name"]: t for t in self._interp.get_tensor_details()}
        if TFLITE_FEATURE_TENSOR not in by_name:
            raise ScoutError(
                f"{self.path} has no tensor {TFLITE_FEATURE_TENSOR!r}; it is not the MobileNetV2 "
                "model Scout expects (see ../shared/README.md)."
            )
        feat = by_name[TFLITE_FEATURE_TENSOR]
        self._feature_index = feat["index"]
        scale, zero = feat["quantization"]
        self._scale = float(scale) or 1.0
        self._zero = float(zero)
        self._lock = threading.Lock()  # guards the pool's bookkeeping, not an invoke
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        self._idle.put(self._interp)
        self._made = 1
        self._executor: ThreadPoolExecutor | None = None

    def _new_interpreter(self):
        try:  # one at a time: _quiet_runtime swaps the process's fd 2 and puts it back
            with _RUNTIME_LOCK, _quiet_runtime():
                interp = self._runtime(
                    model_path=str(self.path),
                    experimental_preserve_all_tensors=True,  # the only way to read AvgPool
                    num_threads=self._threads,
                )
                interp.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ScoutError(f"{self.path} is not a usable TFLite model ({err}).") from None
        return interp

    @contextlib.contextmanager
    def _interpreter(self) -> Iterator:
        """An idle interpreter of the pool, made when all are busy and the pool is not full
        (else wait for one)."""
        with self._lock:
            make = self._idle.empty() and self._made < self.workers
            if make:
                self._made += 1
        interp = self._new_interpreter() if make else self._idle.get()
        try:
            yield interp
        finally:
            self._idle.put(interp)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="mobilenet")
            return self._executor

    def classifier_head(self) -> ClassifierHead | None:
        """The network's own ImageNet classifier layer (1280 -> 1001 logits), dequantised."""
        tensors = self._interp.get_tensor_details()
        weights = [  # (classes, 1, 1, FEATURE_DIM); activations have a batch of 1 first
            t
            for t in tensors
            if len(t["shape"]) == 4 and t["shape"][-1] == FEATURE_DIM and t["shape"][0] > 1
        ]
        if len(weights) != 1:
            return None
        classes = int(weights[0]["shape"][0])
        biases = [
            t
            for t in tensors
            if len(t["shape"]) == 1 and t["shape"][0] == classes and "bias" in t["name"]
        ]
        if len(biases) != 1:
            return None

        def dequantised(t: dict) -> np.ndarray:
            raw = self._interp.get_tensor(t["index"]).astype(np.float32)
            scale, zero = t["quantization"]
            return (raw - zero) * scale if scale else raw

        w = dequantised(weights[0]).reshape(classes, FEATURE_DIM)
        return ClassifierHead(w, dequantised(biases[0]).reshape(classes))

    def featurize(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, FEATURE_DIM), np.float32)
        batch = _stack(images)
        out = np.empty((len(batch), FEATURE_DIM), np.float32)
        chunks = _chunks(len(batch), self.workers)
        if len(chunks) == 1:
            self._run(batch, out, chunks[0])
        else:
            list(self._pool().map(lambda c: self._run(batch, out, c), chunks))
        return out

    def _run(self, batch: np.ndarray, out: np.ndarray, rows: range) -> None:
        """Features of `batch[rows]` into `out[rows]` on one interpreter of the pool, one
        image per invoke: resizing the input re-plans the graph (and XNNPACK refuses a
        batch dimension for this quantised file)."""
        with self._interpreter() as interp:
            for i in rows:
                out[i] = self._one(interp, batch[i])

    def _one(self, interp, image: np.ndarray) -> np.ndarray:
        interp.set_tensor(self._input["index"], image[None])
        interp.invoke()  # releases the GIL: the pool's interpreters run at once
        raw = interp.get_tensor(self._feature_index).reshape(-1)
        return (raw.astype(np.float32) - self._zero) * self._scale

    def featurize_encoded(
        self, datas: list[bytes], decode: Callable[[bytes], np.ndarray]
    ) -> EncodedFeatures:
        """Decode (`decode`: bytes -> (224, 224, 3) uint8, e.g. images.decode_image) and
        featurise in the pool's threads, so one core decodes a photo while the other runs
        the network: end to end 12-MP JPEGs -> features without a serial decoding pass.
        An image `decode` refuses (BadImage, OSError, ValueError) is an error entry, not
        an exception: one bad file does not lose the batch."""
        out = np.zeros((len(datas), FEATURE_DIM), np.float32)
        errors: dict[int, Exception] = {}

        def work(rows: range) -> None:
            with self._interpreter() as interp:
                for i in rows:
                    try:
                        pixels = decode(datas[i])
                    except (ScoutError, OSError, ValueError) as err:
                        errors[i] = err
                        continue
                    out[i] = self._one(interp, np.asarray(pixels, dtype=np.uint8))

        chunks = _chunks(len(datas), self.workers, ENCODED_CHUNK)
        list(self._pool().map(work, chunks))
        ok = np.array([i not in errors for i in range(len(datas))], dtype=bool)
        return EncodedFeatures(out, ok, errors)


ENCODED_CHUNK = 16  # images a worker takes at a time: small enough to keep both cores busy


@dataclass
class EncodedFeatures:
    """`features[i]` for `datas[i]` where `ok[i]`; `errors[i]` says why an image was not
    decoded (its row stays zero)."""

    features: np.ndarray
    ok: np.ndarray
    errors: dict[int, Exception]


def featurize_encoded(
    extractor: FeatureExtractor,
    datas: list[bytes],
    decode: Callable[[bytes], np.ndarray],
    workers: int | None = None,
) -> EncodedFeatures:
    """Encoded images -> features with any extractor: the TFLite pool's own pipeline, or
    (Keras) decoding in `workers` threads (Pillow releases the GIL while it decodes)
    and one batched call."""
    own = getattr(extractor, "featurize_encoded", None)
    if own is not None:
        return own(datas, decode)
    errors: dict[int, Exception] = {}

    def one(i: int) -> np.ndarray | None:
        try:
            return decode(datas[i])
        except (ScoutError, OSError, ValueError) as err:
            errors[i] = err
            return None

    with ThreadPoolExecutor(max(1, workers or usable_cores())) as pool:
        pixels = list(pool.map(one, range(len(datas))))
    ok = np.array([p is not None for p in pixels], dtype=bool)
    out = np.zeros((len(datas), FEATURE_DIM), np.float32)
    if ok.any():
        out[ok] = extractor.featurize([p for p in pixels if p is not None])
    return EncodedFeatures(out, ok, errors)


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _chunks(n: int, parts: int, most: int | None = None) -> list[range]:
    """0..n split into `parts` near-equal ranges (or ranges of at most `most`), none empty."""
    if n == 0:
        return []
    size = -(-n // max(1, parts)) if most is None else max(1, most)
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


class KerasExtractor:
    """`tf.keras.applications.MobileNetV2(include_top=False, pooling="avg")` with
    `weights` = "imagenet" (downloaded and cached by Keras) or a local weights file."""

    def __init__(self, weights: str) -> None:
        import tensorflow as tf

        local = weights != "imagenet"
        if local and not Path(weights).is_file():
            raise ScoutError(f"SCOUT_MOBILENET={weights}: no such weights file.")
        try:
            model = tf.keras.applications.MobileNetV2(
                input_shape=(224, 224, 3),
                include_top=False,
                pooling="avg",
                weights=None if local else "imagenet",
            )
            if local:
                model.load_weights(weights)
        except Exception as err:  # noqa: BLE001 - download or file errors of many kinds
            where = (
                f"the weights file {weights}"
                if local
                else "the ImageNet weights (Keras downloads them on first use)"
            )
            raise ScoutError(
                f"Could not load MobileNetV2 from {where}: {type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''}. Set SCOUT_MOBILENET to a local "
                ".tflite or .h5/.keras weights file (e.g. ../shared/models/"
                "mobilenet_v2_1.0_224_quant.tflite)."
            ) from None
        checksum = file_sha256(Path(weights)) if local else "imagenet"
        self.extractor_id = f"keras:{checksum}"
        self._model = model
        self._preprocess = tf.keras.applications.mobilenet_v2.preprocess_input
        self._lock = threading.Lock()

    def featurize(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, FEATURE_DIM), np.float32)
        batch = self._preprocess(_stack(images).astype(np.float32))
        with self._lock:
            out = self._model(batch, training=False)
        return np.asarray(out, dtype=np.float32)


def make_extractor(setting: str) -> FeatureExtractor:
    """`setting` (Settings.mobilenet, env SCOUT_MOBILENET): "imagenet", or a path to a
    .tflite model or a Keras .h5/.keras weights file."""
    setting = (setting or "").strip()
    if setting == "imagenet":
        return KerasExtractor("imagenet")
    path = Path(setting)
    if not setting or not path.is_file():
        raise ScoutError(
            f"No MobileNetV2 weights at {setting or '(empty setting)'}. Set SCOUT_MOBILENET to "
            "'imagenet' (needs internet once) or to a .tflite / .h5 / .keras file, e.g. "
            "../shared/models/mobilenet_v2_1.0_224_quant.tflite."
        )
    if path.suffix == ".tflite":
        return TFLiteExtractor(path)
    if path.suffix in (".h5", ".keras") or path.name.endswith(".weights.h5"):
        return KerasExtractor(str(path))
    raise ScoutError(
        f"SCOUT_MOBILENET={setting}: unknown weights format {path.suffix!r}; "
        "use a .tflite, .h5 or .keras file, or 'imagenet'."
    )


def classifier_head(setting: str) -> ClassifierHead | None:
    """The classifier layer that goes with `setting`'s features: read from a .tflite file;
    None for Keras weights (`include_top=False` has no classifier), whose pictures are
    then compared on the pooled features themselves."""
    setting = (setting or "").strip()
    path = Path(setting)
    if setting == "imagenet" or path.suffix != ".tflite" or not path.is_file():
        return None
    return TFLiteExtractor(path, num_threads=1).classifier_head()


def extractor_id_for(setting: str) -> str:
    """The id `make_extractor(setting)` would give, without loading TensorFlow: lets a
    retrain whose features are all cached, and a mismatch check, skip the heavy import."""
    setting = (setting or "").strip()
    if setting == "imagenet":
        return "keras:imagenet"
    path = Path(setting)
    if not setting or not path.is_file():
        make_extractor(setting)  # raises the helpful ScoutError
    backend = "tflite" if path.suffix == ".tflite" else "keras"
    return f"{backend}:{file_sha256(path)}"
