"""The "tags" model kind: the daily pipeline's entry to the hashtag embeddings, related
tags and topic search (engine.tags.model)."""

from __future__ import annotations

from engine.core.contract import TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.tags.model import TagModel, fit
from engine.tags.prepare import TagConfig


class TagsKind:
    """Measures PPMI-SVD and Ochiai related-tag scores (Word2Vec too when configured) on
    10% held-out posts, ships the best; the quality gate watches the shipped quality
    (within its standard error) and its lifts over tag popularity (engine.tags.lift),
    which data scrambled on purpose brings down to chance."""

    kind = "tags"
    # 2: the versioned payload envelope (engine.core.artifact_io); 3: the robust ER
    # (engine.core.engagement) and its hidden-likes flag (`er_hidden`)
    model_version = 3
    depends_on: tuple[str, ...] = ()

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult:
        cfg = TagConfig.from_dict(ctx.config)
        counted = ctx.backend.tag_counts(cfg, ctx.seed)
        model = fit(data, cfg, seed=ctx.seed, log=ctx.log, counted=counted)
        report = model.report
        quality = ", ".join(f"{m} {q:.3f}" for m, q in sorted(report.quality.items()))
        quality += "".join(f"; {n} lift {v:.2f}" for n, v in sorted(report.lifts.items()))
        summary = (
            f"{len(model.tags)} tags x {model.vectors.shape[1]} dims, {len(model.handles)} creators; "
            f"vectors = {report.chosen}, related = {report.related}; held-out quality on {report.heldout_posts} posts: {quality}"
        )
        return TrainResult(
            payload=model.to_bytes(),
            metrics=model.metrics,
            params=model.params,
            quality_metric="quality" if report.heldout_posts else None,
            model=model,
            summary=summary,
        )

    def load(self, payload: bytes) -> TagModel:
        return TagModel.from_bytes(payload)


TAGS = TagsKind()
