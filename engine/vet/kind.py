"""The "vet" model kind: the fake-follower classifier behind the trust card's audience
part (engine.vet.followers), trained at `engine train` time like every model.

It learns from the labelled InstaFake accounts named by its config (`accounts`, from
Settings.training_config: ../shared/data/instafake/accounts.csv by default), not from the
store; without that file it is skipped with the reason and the other kinds publish. The
quality gate watches the held-out AUC.
"""

from __future__ import annotations

from engine.core.contract import TrainContext, TrainResult
from engine.core.dataset import Dataset
from engine.core.errors import NotEnoughData
from engine.vet.followers import FollowerClassifier, FollowerConfig, fit, read_accounts


class VetKind:
    kind = "vet"
    model_version = 1
    depends_on: tuple[str, ...] = ()

    def train(self, data: Dataset, ctx: TrainContext) -> TrainResult:
        path = ctx.config.get("accounts")
        if not path:
            raise NotEnoughData("no labelled follower accounts file is configured (accounts)")
        accounts = read_accounts(str(path))
        cfg = FollowerConfig.from_dict(ctx.config)
        model = fit(accounts, cfg, seed=ctx.seed)
        m = model.metrics
        summary = (
            f"follower classifier on {len(accounts)} labelled accounts: held-out accuracy "
            f"{m['accuracy']:.3f}, AUC {m['auc']:.3f} (logistic regression {m['logreg_accuracy']:.3f}"
            f" / {m['logreg_auc']:.3f}; paper {m['paper_accuracy']:.0%})"
        )
        return TrainResult(
            payload=model.to_bytes(),
            metrics=dict(m),
            params={"trees": cfg.trees, "test_share": cfg.test_share, "accounts": str(path)},
            quality_metric="auc",
            model=model,
            summary=summary,
        )

    def load(self, payload: bytes) -> FollowerClassifier:
        return FollowerClassifier.from_bytes(payload)


VET = VetKind()
