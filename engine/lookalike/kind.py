"""The lookalike ModelKind: fit on the store's posts, measure split-half retrieval,
publish; and load the published bytes back into a queryable model."""

from __future__ import annotations

from engine.core.contract import TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.lookalike.model import (
    LookalikeConfig,
    LookalikeModel,
    fit,
    fit_calibration,
    split_half_retrieval,
    split_halves,
)


class LookalikeKind:
    """Daily fit; held-out quality is split-half self-retrieval (it collapses when
    creators' posts stop being about anything, which the quality gate relies on)."""

    kind = "lookalike"
    # 2: the versioned payload envelope (engine.core.artifact_io); 3: calibrated matches
    # and 64 top tokens a creator (a model of 2 still loads and shows raw similarities);
    # 4: the robust ER (engine.core.engagement) and its hidden-likes flag (`er_hidden`)
    model_version = 4
    depends_on: tuple[str, ...] = ()

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult:
        cfg = LookalikeConfig.from_dict({"seed": ctx.seed, **ctx.config})
        model = fit(data, cfg, ctx.backend.lookalike_counts(cfg))
        halves = split_halves(model, data.posts, seed=ctx.seed)
        metrics = split_half_retrieval(model, halves=halves)
        # the displayed match's anchors travel with the model (engine.lookalike.calibration)
        model.calibration = fit_calibration(model, halves, seed=ctx.seed)
        metrics.update(
            {
                "creators": float(len(model.handles)),
                "vocab": float(len(model.vocab)),
                "data_influencers": float(len(data.influencers)),
                "data_posts": float(len(data.posts)),
            }
        )
        summary = (
            f"{len(model.handles)} creators x {len(model.vocab)} tokens -> {model.vectors.shape[1]} dims; "
            f"split-half MRR {metrics.get('split_half_mrr', float('nan')):.3f}"
        )
        return TrainResult(
            model.to_bytes(),
            metrics,
            model.params,
            "split_half_mrr" if "split_half_mrr" in metrics else None,
            model,
            summary,
        )

    def load(self, payload: bytes) -> LookalikeModel:
        return LookalikeModel.from_bytes(payload)


LOOKALIKE = LookalikeKind()
