"""The "topics" model kind: fixed topics clustered from the freshly trained tag model's
vectors (engine.topics.model), with every creator's topic, for `/topics` and the map."""

from __future__ import annotations

import numpy as np

from engine.core.blacklist import SPAM_CLUSTER
from engine.core.contract import TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.topics.model import TagSpace, TopicConfig, TopicModel, fit


def tag_uses(tag_model) -> np.ndarray:
    """How often each tag was used (summed over creators). Creators-per-tag is nearly flat
    inside a topic (every food creator uses most food tags), total uses are not, and
    they are what makes `food` rather than `kochen` the name of the food topic."""
    return np.bincount(
        np.asarray(tag_model.bt_indices),
        weights=np.asarray(tag_model.bt_counts, dtype=np.float64),
        minlength=len(tag_model.tags),
    )


class TopicsKind:
    """Clusters the tags model's vectors. There is no held-out truth in production, so the
    quality gate watches the cosine silhouette of the kept topics (higher = tighter,
    better separated topics); the demo benchmark checks it against planted topics."""

    kind = "topics"
    model_version = 2  # 2: the versioned payload envelope (engine.core.artifact_io)
    depends_on: tuple[str, ...] = ("tags",)

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult:
        tag_model = ctx.trained.get("tags")
        if tag_model is None:
            raise RuntimeError("the topics model needs the tags model trained first")
        cfg = TopicConfig.from_dict(ctx.config)
        handles, bvecs = tag_model.creator_vectors()
        space = TagSpace(tag_model.tags, tag_model.vectors, tag_uses(tag_model), handles, bvecs)
        model = fit(space, cfg, blacklist=SPAM_CLUSTER, seed=ctx.seed)
        biggest = ", ".join(f"{t.name} ({t.creators})" for t in model.topics[:5])
        summary = (
            f"{len(model.topics)} topics from {len(model.tags)} tags by {model.method} "
            f"(silhouette {model.metrics['silhouette']:.3f}, {len(model.dropped)} clusters "
            f"dropped); largest: {biggest}"
        )
        return TrainResult(
            payload=model.to_bytes(),
            metrics=dict(model.metrics),
            params={"method": model.method, "k": cfg.k, "min_cluster_size": cfg.min_cluster_size},
            quality_metric="silhouette" if len(model.topics) >= 2 else None,
            model=model,
            summary=summary,
        )

    def load(self, payload: bytes) -> TopicModel:
        return TopicModel.from_bytes(payload)


TOPICS = TopicsKind()
