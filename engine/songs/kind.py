"""The "songs" model kind: the daily pipeline's entry to the song recommenders and the
trending index (engine.songs.model, engine.songs.trending)."""

from __future__ import annotations

import numpy as np

from engine.core.contract import TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.core.errors import NotEnoughData
from engine.songs.model import CleaningRules, SongModel, auto_choice, fit


def creator_content(ctx: TrainContext) -> tuple | None:
    """Creators' niche vectors from a content model trained (or loaded) in this run:
    anything with `creator_vectors() -> (handles, L2-normalised vectors)`, the lookalike
    model first, the tags model second, plus its nearest-neighbour index over them where
    it has `creator_index()` (issue 27: the niche table then reuses the graph the
    lookalike model already built instead of building its own over 166k creators).
    Duck-typed: this package must not import them."""
    for name in CONTENT_KINDS:
        model = ctx.trained.get(name)
        if model is not None and hasattr(model, "creator_vectors"):
            handles, vectors = model.creator_vectors()
            if len(handles):
                index = model.creator_index() if hasattr(model, "creator_index") else None
                if index is not None and len(index) != len(handles):
                    index = None  # not over these vectors
                return list(handles), np.asarray(vectors, dtype=np.float32), index
    return None


CONTENT_KINDS = ("lookalike", "tags")


class SongsKind:
    """Evaluates every method on a held-out 20% of each creator's songs, ships all of
    them, and names the best by MAP@10 `auto`; the quality gate watches auto's MAP@10.
    Trains after the lookalike model, whose creator vectors feed the niche hybrid; a store
    with reels but no captions still gets a songs model."""

    kind = "songs"
    model_version = 3  # 3: usage lift and EASE in the payload (2: the versioned envelope)
    depends_on: tuple[str, ...] = ()
    uses: tuple[str, ...] = CONTENT_KINDS  # the niche hybrid, when a content model exists

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult:
        tables = ctx.backend.song_tables(CleaningRules.from_config(ctx.config), ctx.config)
        posts = data.posts
        with_song = (
            tables.creators_with_songs
            if tables is not None
            else posts.loc[posts["song_id"].notna(), "handle"].nunique()
            if len(posts)
            else 0
        )
        if with_song < 2:
            raise NotEnoughData(f"fewer than 2 creators with songs ({with_song})")
        content = creator_content(ctx)
        if content is None:
            ctx.log(
                "songs: no lookalike or tags model in this run, so no niche hybrid; "
                "creators without reels get the best non-personalised list"
            )
        model = fit(data, ctx.config, seed=ctx.seed, log=ctx.log, content=content, tables=tables)
        evals, report = model.evaluations, model.cleaning
        for line in report.lines():
            ctx.log(f"songs cleaning: {line}")
        if model.usage.shape[0] < 2:
            raise NotEnoughData(
                f"fewer than 2 creators with songs after cleaning ({model.usage.shape[0]}); "
                + "; ".join(report.lines())
            )
        best = next((e for e in evals if e.method == model.auto), None)
        best_map = best.ranking.get("map@10", 0.0) if best else 0.0
        summary = (
            f"{model.usage.shape[0]} creators x {model.usage.shape[1]} songs, "
            f"{model.usage.uses.nnz} uses; auto = {model.auto} (MAP@10 {best_map:.3f}, "
            f"{model.metrics.get('auto.margin_ratio', 1.0):.2f}x the runner-up); "
            f"trending as of {model.trending.as_of or 'n/a'}; cleaning: "
            + "; ".join(report.lines())
        )
        return TrainResult(
            payload=model.to_bytes(),
            metrics={**model.metrics, "auto": model.auto},
            params={
                "auto": model.auto,
                "auto_choice": auto_choice(model),
                "best_non_personalised": model.best_popular,
                "methods": model.methods,
                "trending_as_of": model.trending.as_of,
            },
            quality_metric="auto.map@10" if evals else None,
            model=model,
            summary=summary,
        )

    def load(self, payload: bytes) -> SongModel:
        return SongModel.from_bytes(payload)


SONGS = SongsKind()
