"""The daily job: read the store once, fit every model kind in dependency order,
evaluate each on its held-out split, and publish all new versions in one transaction.

A kind whose inputs and config did not change is skipped; a kind that cannot learn from
the data the store has (it raises NotEnoughData: no captions, too few creators with
songs ...) is `skipped` with that reason in words; a kind that crashes (a real bug) is
`failed` with a one-line reason (the exception and where it was raised; the traceback
goes to the log), keeps serving its current version, and is recorded in the registry as
a 'failed' row with that reason (what `engine models list` and the App Home show). A kind
depending on a skipped or failed kind is skipped with that kind's reason, and every other
kind still publishes: one kind's bug on a new data set (a TikTok scrape's emoji-only
captions) must not hold back the kinds that learned fine. A new version whose held-out
quality falls more than `gate_margin` below the current one is kept as 'rejected' with
the reason instead of being published, unless forced. Everything this run publishes is
one transaction: a run killed mid-way publishes nothing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core import kinds as kinds_registry
from engine.core.contract import CountingBackend, LocalBackend, TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.core.errors import NotEnoughData, ScoutError
from engine.core.kinds import all_kinds, kind_by_name
from engine.training.columnar.backend import ColumnarBackend, needs_frames

logger = logging.getLogger(__name__)
REASON_CHARS = 300  # a failed kind's reason stays one readable line


@dataclass
class KindOutcome:
    kind: str
    status: str  # published | skipped | rejected | failed | pending
    seconds: float = 0.0
    peak_rss_mb: float | None = None
    version: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass
class TrainReport:
    run_id: str
    outcomes: list[KindOutcome]
    fingerprint: str
    seconds: float

    @property
    def ok(self) -> bool:
        """No kind failed (the CLI exits non-zero otherwise; the others still published)."""
        return not self.failed

    @property
    def failed(self) -> list[KindOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def table(self) -> str:
        lines = [
            f"{'kind':<12} {'status':<10} {'version':>7} {'seconds':>8} {'peak MB':>8}  metrics / message"
        ]
        for o in self.outcomes:
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in list(o.metrics.items())[:6]) or o.message
            if o.message and o.metrics:
                shown += f" ({o.message})"
            peak = f"{o.peak_rss_mb:.0f}" if o.peak_rss_mb else "-"
            lines.append(
                f"{o.kind:<12} {o.status:<10} {o.version or '-':>7} {o.seconds:>8.1f} {peak:>8}  {shown}"
            )
        return "\n".join(lines)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


DEFAULT_SEED = 42


def kind_fingerprint(
    data_fingerprint: str,
    kind: str,
    config: dict[str, Any],
    model_version: int = 1,
    seed: int = DEFAULT_SEED,
) -> str:
    """What a published model was trained from: the data, the kind's config, its
    model_version (ModelKind.model_version, raised when a code change makes its published
    models stale) and the seed. Every setting that changes a model is in here, so an
    unchanged fingerprint can skip the kind and a changed one always retrains it."""
    what: dict[str, Any] = {
        "data": data_fingerprint,
        "kind": kind,
        "config": config,
        "model_version": model_version,
        "seed": seed,
    }
    blob = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def fingerprint_of(
    kind: Any, data_fingerprint: str, config: dict[str, Any], seed: int = DEFAULT_SEED
) -> str:
    """kind_fingerprint for a ModelKind object, with its model_version (default 1)."""
    version = getattr(kind, "model_version", 1)
    return kind_fingerprint(data_fingerprint, kind.kind, config, version, seed)


_PROCESS_PEAK_MB = 0.0  # the highest VmHWM seen before a reset (each kind's peak is its own)


def _reset_peak_rss() -> None:
    """Reset VmHWM so the next kind's peak is its own, first folding the peak so far
    into the process's (getrusage's maxrss is reset with it)."""
    global _PROCESS_PEAK_MB
    _PROCESS_PEAK_MB = max(_PROCESS_PEAK_MB, _peak_rss_mb() or 0.0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM


def process_peak_rss_mb() -> float | None:
    """The process's peak RSS over every training so far, across the per-kind resets."""
    now = _peak_rss_mb()
    return None if now is None else max(_PROCESS_PEAK_MB, now)


def _peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# A `lift.*` metric is a held-out figure over what a model that learned nothing scores
# on the same posts (about 1 = chance). One the current version has clearly (>= this)
# that the new one lacks means the data stopped making sense: scrambled, not noisy.
LIFT_FLOOR = 1.5


def gate(
    kind: str, new: TrainResult, current_metrics: dict[str, Any] | None, margin: float
) -> str | None:
    """The reason to reject `new`, or None. Relative margin on the kind's own
    quality metric (higher is better), widened to three standard errors of the
    difference where the kind reports `<metric>_se` (a held-out split is a sample: a
    new seed alone moved the tags quality 21% on 400 HARRISON posts); and no `lift.*` metric may
    fall from above LIFT_FLOOR to below it (a relative figure survives scrambling)."""
    if not current_metrics:
        return None
    for lift in sorted(k for k in current_metrics if k.startswith("lift.")):
        old_lift, new_lift = current_metrics[lift], new.metrics.get(lift)
        if new_lift is not None and float(old_lift) >= LIFT_FLOOR > float(new_lift):
            return (
                f"{lift} (held-out hits over a popularity baseline) fell from "
                f"{float(old_lift):.3g} to {float(new_lift):.3g}, under {LIFT_FLOOR}: the data "
                "looks scrambled; kept the current version (use --force to publish anyway)"
            )
    name = new.quality_metric
    if not name or name not in current_metrics or name not in new.metrics:
        return None
    old, fresh = float(current_metrics[name]), float(new.metrics[name])
    allowed = margin * abs(old)
    se_old, se_new = current_metrics.get(f"{name}_se"), new.metrics.get(f"{name}_se")
    if se_old is not None and se_new is not None:
        allowed = max(allowed, 3.0 * math.hypot(float(se_old), float(se_new)))
    if fresh < old - allowed:
        return (
            f"{name} fell from {old:.4g} to {fresh:.4g}, more than the allowed "
            f"{allowed / abs(old) if old else margin:.0%}; kept the current version "
            "(use --force to publish anyway)"
        )
    return None


def data_fingerprint(store, backend: str | None = "local", config: dict | None = None) -> str:
    """The data fingerprint a training run on `backend` would compute now (a rollback
    pins its version to it, so the next run on unchanged data keeps the pin). Spark's
    own fingerprint needs a Spark job; the frame fingerprint stands in for it."""
    if (backend or "local").lower() == "local" and needs_frames(config) is None:
        columnar = ColumnarBackend(store)
        try:
            return columnar.fingerprint()
        finally:
            columnar.close()
    return Dataset.read(store).fingerprint()


TRAIN_LOCK = "train"


def run_training(store, **options: Any) -> TrainReport:
    """Train, gate and publish (see `_run_training`), holding the database's training
    lock (models.locks; it dies with its holder): a second run at the same time (two
    `engine train`, or one beside the daily clock) says so in one line instead of
    racing the first to the same versions."""
    from models import locks

    with locks.exclusive(store, TRAIN_LOCK) as held:
        if not held:
            raise ScoutError(
                "another training run is in progress on this database; "
                "try again when it has finished"
            )
        return _run_training(store, guard=held, **options)


def _run_training(
    store,
    *,
    kinds: list[str] | None = None,
    force: bool = False,
    config: dict[str, dict[str, Any]] | None = None,
    gate_margin: float = 0.05,
    keep: int = 5,
    progress: bool = False,
    log=None,
    seed: int = DEFAULT_SEED,
    backend: str | None = "local",
    spark_master: str = "local[*]",
    spark_jdbc_jar: str | None = None,
    spark_parquet_dir: str | None = None,
    guard: Any = None,
) -> TrainReport:
    """Train, gate and publish. `store` is a models.store.Store. `backend` says where the
    heavy counting runs: `local` (this process, from one Dataset of every post) or
    `spark` (engine.training.spark on `spark_master`). `guard` (the training lock, a
    models.registry.PublishGuard) must still hold when the publish commits. `local`
    streams the store by columns (engine.training.columnar); `frames` is the path before
    it, one Dataset of every post (benchmarks compare the two; a config that needs every
    post's frame, Word2Vec tag embeddings, gets it under `local` too)."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    opts: dict[str, Any] = dict(
        kinds=kinds, force=force, config=config, gate_margin=gate_margin, keep=keep,
        progress=progress, seed=seed, log=log, guard=guard,
    )  # fmt: skip
    backend = (backend or "local").lower()
    if backend == "local":
        why = needs_frames(config)
        if why is None:
            columnar = ColumnarBackend(store, log=log)
            try:
                return _train(store, columnar, columnar, **opts)
            finally:
                columnar.close()
        log(f"training from every post's frame: {why}")
        backend = "frames"
    if backend == "frames":  # every post in one frame (before issue 27; benchmarks compare)
        return _train(store, LocalBackend(), None, **opts)
    if backend != "spark":
        raise ScoutError(f"unknown training backend {backend!r}; use local, spark or frames")
    from engine.training.spark.backend import open_spark_backend

    counting = open_spark_backend(
        store,
        master=spark_master,
        jdbc_jar=spark_jdbc_jar,
        parquet_dir=spark_parquet_dir,
        log=log,
    )
    try:
        return _train(store, counting, counting, **opts)
    finally:
        counting.close()


@dataclass
class _Run:
    """What one training run carries from step to step: read, plan, fit, gate, publish."""

    run_id: str
    store: Any
    data: Dataset
    fingerprint: str
    ctx: TrainContext
    backend_name: str
    force: bool
    gate_margin: float
    log: Any
    outcomes: list[KindOutcome] = field(default_factory=list)
    to_publish: list[Any] = field(default_factory=list)
    to_reject: list[tuple[Any, str]] = field(default_factory=list)
    to_fail: list[tuple[Any, str]] = field(default_factory=list)
    to_skip: list[tuple[Any, str]] = field(default_factory=list)  # never trained: why

    @property
    def n_posts(self) -> int:
        return int(self.data.meta.get("posts_total", len(self.data.posts)))

    def say(self, msg: str) -> None:
        self.log(f"train {self.run_id}: {msg}")


def _train(
    store,
    counting: CountingBackend,
    spark: Any,
    *,
    kinds: list[str] | None,
    force: bool,
    config: dict[str, dict[str, Any]] | None,
    gate_margin: float,
    keep: int,
    progress: bool,
    log,
    seed: int,
    guard: Any,
) -> TrainReport:
    started = time.perf_counter()
    run = _read(store, counting, spark, log, force, gate_margin)
    run.ctx.progress = _progress_factory(progress)
    run.ctx.seed = seed
    config = config or {}
    for kind in all_kinds(kinds):
        kconfig = config.get(kind.kind, {})
        kfp = fingerprint_of(kind, run.fingerprint, kconfig, seed)
        current = store.registry.latest_info(kind.kind)
        if _plan(run, kind, kfp, current):
            _fit_one(run, kind, kconfig, kfp, current)
    _publish(run, guard, keep)
    return TrainReport(run.run_id, run.outcomes, run.fingerprint, time.perf_counter() - started)


def _read(store, counting: CountingBackend, spark: Any, log, force: bool, margin: float) -> _Run:
    """Read the store once: every kind of this run trains from the same Dataset."""
    run_id = uuid.uuid4().hex[:12]
    log(f"train {run_id}: reading the store ({counting.name} backend)")
    if spark is None:
        data = Dataset.read(store)
        fingerprint = data.fingerprint()
    else:  # the posts stay with the backend; the Dataset holds a sample of creators' posts
        data = spark.dataset(store)
        fingerprint = spark.fingerprint()
    ctx = TrainContext(feature_cache=store.feature_cache(), log=log, backend=counting)
    run = _Run(run_id, store, data, fingerprint, ctx, counting.name, force, margin, log)
    run.say(
        f"{len(data.influencers)} influencers, {run.n_posts} posts, "
        f"{len(data.songs)} songs (fingerprint {fingerprint[:12]})"
    )
    return run


def _plan(run: _Run, kind: Any, kfp: str, current: Any) -> bool:
    """Whether `kind` trains in this run. An unchanged kind serves its published model to
    the kinds after it; a kind missing a dependency is skipped with the reason; a kind
    that `uses` another not trained in this run gets that kind's published model."""
    name, registry = kind.kind, run.store.registry
    if current and current.fingerprint == kfp and not run.force:
        run.ctx.trained[name] = kind.load(registry.get(name, current.version).payload)
        run.outcomes.append(
            KindOutcome(
                name,
                "skipped",
                version=current.version,
                metrics=dict(current.metrics or {}),
                message=_unchanged(current),
            )
        )
        return False
    missing = [d for d in getattr(kind, "depends_on", ()) if d not in run.ctx.trained]
    if missing:
        why = "; ".join(f"{d}: {_outcome_message(run.outcomes, d)}" for d in missing)
        run.outcomes.append(KindOutcome(name, "skipped", message=f"needs {why}"))
        run.say(f"{name} skipped (needs {why})")
        return False
    for used in getattr(kind, "uses", ()):
        if used not in run.ctx.trained and used in kinds_registry.KIND_OBJECTS:
            info = registry.latest_info(used)
            if info is not None:  # not trained in this run: the published one serves
                payload = registry.get(used, info.version).payload
                run.ctx.trained[used] = kind_by_name(used).load(payload)
    return True


def _fit_one(run: _Run, kind: Any, kconfig: dict[str, Any], kfp: str, current: Any) -> None:
    """Fit and evaluate one kind, then gate it: its outcome is `pending` (to publish),
    `rejected`, `skipped` (NotEnoughData) or `failed` (anything else: this kind keeps its
    current version, the others go on)."""
    from models.registry import NewArtifact

    name = kind.kind
    run.ctx.config = kconfig
    _reset_peak_rss()
    t0 = time.perf_counter()
    run.say(f"fitting {name}")
    try:
        result = kind.train(run.data, run.ctx)
    except NotEnoughData as err:
        run.outcomes.append(
            KindOutcome(name, "skipped", time.perf_counter() - t0, message=str(err))
        )
        run.say(f"{name} skipped: {err}")
        if current is None:  # nothing served: /songs says why instead of "not trained"
            params = {"data_posts": run.n_posts, "backend": run.backend_name}
            run.to_skip.append((NewArtifact(name, b"", params, {}, kfp), str(err)))
        return
    except Exception as err:  # noqa: BLE001 - one kind's bug must not stop the others
        message = failure_reason(err)
        run.outcomes.append(
            KindOutcome(name, "failed", time.perf_counter() - t0, _peak_rss_mb(), message=message)
        )
        run.say(f"{name} failed: {message}; keeps its current version")
        logger.error("train %s: %s failed\n%s", run.run_id, name, traceback.format_exc())
        params = {"data_posts": run.n_posts, "backend": run.backend_name, "seed": run.ctx.seed}
        run.to_fail.append((NewArtifact(name, b"", params, {}, kfp), message))
        return
    seconds = time.perf_counter() - t0
    run.ctx.trained[name] = result.model
    params = {
        **result.params,
        "train_seconds": round(seconds, 2),
        "data_influencers": len(run.data.influencers),
        "data_posts": run.n_posts,
        "backend": run.backend_name,
        "seed": run.ctx.seed,
    }
    metrics = dict(result.metrics)
    if result.quality_metric:
        metrics.setdefault("quality_metric", result.quality_metric)
    art = NewArtifact(name, result.payload, params, metrics, kfp, result.summary)
    current_metrics = current.metrics if current else None
    reason = None if run.force else gate(name, result, current_metrics, run.gate_margin)
    outcome = KindOutcome(name, "pending", seconds, _peak_rss_mb(), metrics=metrics)
    if reason:
        outcome.status, outcome.message = "rejected", reason
        run.to_reject.append((art, reason))
    else:
        run.to_publish.append(art)
    run.outcomes.append(outcome)


def _publish(run: _Run, guard: Any, keep: int) -> None:
    """Every passing kind in one transaction; each rejected one kept with its reason, and
    each failed one recorded (no payload) with its reason, so the run's report outlives
    the terminal: a failed kind's current version stays the one served."""
    from models.registry import FAILED, REJECTED, SKIPPED

    registry = run.store.registry
    if run.to_publish:
        versions = registry.publish(run.to_publish, run_id=run.run_id, guard=guard)
        for o in run.outcomes:
            if o.kind in versions:
                o.status, o.version = "published", versions[o.kind]
    skips = [(a, r) for a, r in run.to_skip if _new_skip(registry, a.kind, r)]
    for status, refused in ((REJECTED, run.to_reject), (FAILED, run.to_fail), (SKIPPED, skips)):
        for art, reason in refused:
            registry.publish(
                [art], run_id=run.run_id, status=status, reasons={art.kind: reason}, guard=guard
            )
    if keep:
        registry.prune(keep)


def _new_skip(registry: Any, kind: str, reason: str) -> bool:
    """A skip is recorded once while it lasts: not again when the kind's newest row
    already says the same (a daily retrain on the same data must not pile up rows)."""
    rows = registry.list(kind)
    return not rows or (rows[0].status, rows[0].reason) != ("skipped", reason)


def failure_reason(err: BaseException) -> str:
    """One line for a crashed kind: the exception, its message, and the innermost frame
    that raised it (`StopIteration` has no message, and a bare name says nothing)."""
    text = " ".join(str(err).split()) or "(no message)"
    frames = traceback.extract_tb(err.__traceback__)
    where = ""
    if frames:
        last = frames[-1]
        where = f" at {_short_path(last.filename)}:{last.lineno} in {last.name}"
    line = f"{type(err).__name__}: {text}{where}"
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1] + "…"


def _short_path(filename: str) -> str:
    """A frame's file from the package root (`engine/lookalike/sparse.py`, or
    `sklearn/...`), not the machine's absolute path."""
    parts = Path(filename).parts
    for root in ("engine", "models", "site-packages"):
        if root in parts:
            i = len(parts) - 1 - parts[::-1].index(root)
            return "/".join(parts[i + (root == "site-packages") :])
    return Path(filename).name


def _outcome_message(outcomes: list[KindOutcome], kind: str) -> str:
    """Why `kind` has no model in this run, in words, for the kinds depending on it."""
    for o in outcomes:
        if o.kind == kind:
            return f"{o.status} ({o.message})" if o.message else o.status
    return "not trained in this run"


def _progress_factory(enabled: bool):
    from tqdm import tqdm

    def progress(items, desc: str = "", total: int | None = None):
        return tqdm(
            items, desc=desc, total=total, disable=not enabled, file=sys.stderr, mininterval=0.5
        )

    return progress


def _unchanged(current: Any) -> str:
    pinned = (current.params or {}).get("rollback_of")
    if pinned is not None:
        return f"pinned by the rollback to v{pinned} (new data or --force retrains)"
    return "data unchanged"
