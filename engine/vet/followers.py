"""Audience authenticity: a fake-follower classifier trained on the public InstaFake
accounts, and the real share of a creator's follower sample, corrected for its errors.

Akyon & Kalfaoglu (2019) report 96% accuracy on this set. A random forest on ratios and
logs of the profile counts is compared here with a plain logistic regression in the same
run, on the same held-out accounts. The model kept is the forest fitted on the training
part only, so its held-out sensitivity and specificity are the error rates of the very
model that scores samples: the Rogan-Gladen estimator uses them to turn "share classified
real" into "share real". The trees are kept as plain arrays (no pickle: payloads are
read by every process) and scored with numpy, before and after bytes alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.core.artifact_io import pack_model, unpack_model
from engine.core.errors import BadQuery, NotEnoughData

KIND = "vet"
FORMAT_VERSION = 1
PAPER_ACCURACY = 0.96  # Akyon & Kalfaoglu 2019, on the same 836 accounts

ACCOUNT_COLUMNS = (
    "followers",
    "following",
    "posts",
    "has_profile_pic",
    "is_private",
    "bio_length",
    "username_length",
    "username_digits",
)
SAMPLE_COLUMNS = (
    "handle",
    "follower",
    "followers",
    "following",
    "posts",
    "has_profile_pic",
    "is_private",
)
FEATURES = (
    "log_followers",
    "log_following",
    "log_posts",
    "following_per_follower",
    "posts_per_follower",
    "has_profile_pic",
    "is_private",
    "bio_length",
    "username_length",
    "username_digits",
    "digit_share",
)
Z95 = 1.959964


@dataclass(frozen=True)
class FollowerConfig:
    trees: int = 200
    min_samples_leaf: int = 1
    test_share: float = 0.25
    threshold: float = 0.5  # P(fake) at or above this: classified fake

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> FollowerConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (d or {}).items() if k in known})


def features(accounts: pd.DataFrame) -> np.ndarray:
    """The engineered feature matrix (float32, FEATURES order) of InstaFake-shaped rows."""
    num = {
        c: pd.to_numeric(accounts[c], errors="coerce").fillna(0).astype("float64")
        for c in ACCOUNT_COLUMNS
    }
    cols = [
        np.log1p(num["followers"]),
        np.log1p(num["following"]),
        np.log1p(num["posts"]),
        np.log1p(num["following"]) - np.log1p(num["followers"]),
        np.log1p(num["posts"]) - np.log1p(num["followers"]),
        num["has_profile_pic"],
        num["is_private"],
        num["bio_length"],
        num["username_length"],
        num["username_digits"],
        num["username_digits"] / num["username_length"].clip(lower=1),
    ]
    return np.column_stack([np.asarray(c) for c in cols]).astype(np.float32)


def sample_accounts(sample: pd.DataFrame) -> pd.DataFrame:
    """A follower sample (import columns) as InstaFake-shaped rows: bio_length from `bio`
    when only the text is given, username features from the `follower` handle."""
    missing = [c for c in SAMPLE_COLUMNS if c not in sample.columns]
    if "bio_length" not in sample.columns and "bio" not in sample.columns:
        missing.append("bio_length (or bio)")
    if missing:
        raise BadQuery(f"the follower sample lacks the columns: {', '.join(missing)}")
    names = sample["follower"].astype(str).str.lstrip("@")
    bio_length = (
        sample["bio_length"]
        if "bio_length" in sample.columns
        else sample["bio"].fillna("").astype(str).str.len()
    )
    return pd.DataFrame(
        {
            "followers": sample["followers"],
            "following": sample["following"],
            "posts": sample["posts"],
            "has_profile_pic": sample["has_profile_pic"],
            "is_private": sample["is_private"],
            "bio_length": bio_length,
            "username_length": names.str.len(),
            "username_digits": names.str.count(r"\d"),
        },
        index=sample.index,
    )


@dataclass
class FollowerClassifier:
    """A forest as arrays: node `left`/`right` children (-1 at leaves, global indices),
    split `feature`/`threshold`, `leaf_fake` P(fake) at leaves, and each tree's `roots`."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    leaf_fake: np.ndarray
    roots: np.ndarray
    heldout: np.ndarray  # row numbers of the accounts file held out of training
    metrics: dict[str, float]
    config: FollowerConfig

    @property
    def sensitivity(self) -> float:
        """Held-out P(classified real | real)."""
        return self.metrics["sensitivity"]

    @property
    def specificity(self) -> float:
        """Held-out P(classified fake | fake)."""
        return self.metrics["specificity"]

    def fake_probability(self, x: np.ndarray) -> np.ndarray:
        """Mean leaf P(fake) over the trees; `x` as `features` gives it."""
        x = np.asarray(x, dtype=np.float32)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        while True:
            inner = self.left[node] >= 0
            if not inner.any():
                break
            go_left = x[rows, self.feature[node]] <= self.threshold[node]
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, step, node)
        return self.leaf_fake[node].mean(axis=1)

    def classify(self, accounts: pd.DataFrame) -> np.ndarray:
        """True where an InstaFake-shaped row is classified real."""
        return self.fake_probability(features(accounts)) < self.config.threshold

    def to_bytes(self) -> bytes:
        arrays = {
            "left": self.left,
            "right": self.right,
            "feature": self.feature,
            "threshold": self.threshold,
            "leaf_fake": self.leaf_fake,
            "roots": self.roots,
            "heldout": self.heldout,
        }
        meta = {"metrics": self.metrics, "config": self.config.__dict__}
        return pack_model(KIND, FORMAT_VERSION, arrays, meta)

    @classmethod
    def from_bytes(cls, payload: bytes) -> FollowerClassifier:
        arrays, meta = unpack_model(payload, KIND, FORMAT_VERSION)
        return cls(
            **{k: arrays[k] for k in ("left", "right", "feature", "threshold")},
            leaf_fake=arrays["leaf_fake"],
            roots=arrays["roots"],
            heldout=arrays["heldout"],
            metrics=dict(meta["metrics"]),
            config=FollowerConfig.from_dict(meta["config"]),
        )


def read_accounts(path: str) -> pd.DataFrame:
    """The labelled accounts file; NotEnoughData (the rest of a training run publishes)
    when it is absent or lacks the columns."""
    try:
        accounts = pd.read_csv(path)
    except (FileNotFoundError, OSError) as err:
        raise NotEnoughData(f"no labelled follower accounts at {path} ({err.strerror})") from None
    missing = [c for c in (*ACCOUNT_COLUMNS, "is_fake") if c not in accounts.columns]
    if missing:
        raise NotEnoughData(f"{path} lacks the columns {', '.join(missing)}")
    if accounts["is_fake"].nunique() < 2 or len(accounts) < 40:
        raise NotEnoughData(f"{path} needs at least 40 accounts of both labels")
    return accounts


def fit(accounts: pd.DataFrame, config: FollowerConfig, seed: int = 42) -> FollowerClassifier:
    """Forest and logistic regression on the same stratified split; metrics of both."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    x, y = features(accounts), accounts["is_fake"].astype(int).to_numpy()
    rows = np.arange(len(y))
    split = train_test_split(rows, test_size=config.test_share, stratify=y, random_state=seed)
    train, test = (np.sort(part) for part in split)  # file order: the split names the forest
    forest = RandomForestClassifier(
        n_estimators=config.trees, min_samples_leaf=config.min_samples_leaf, random_state=seed
    ).fit(x[train], y[train])
    model = _from_forest(forest, test, config)
    model.metrics = {
        **_scores(y[test], model.fake_probability(x[test]), config.threshold),
        **{f"logreg_{k}": v for k, v in _logreg(x, y, train, test, config).items()},
        "paper_accuracy": PAPER_ACCURACY,
        "train_accounts": float(len(train)),
        "heldout_accounts": float(len(test)),
    }
    return model


def _logreg(x, y, train, test, config: FollowerConfig) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    plain.fit(x[train], y[train])
    scores = _scores(y[test], plain.predict_proba(x[test])[:, 1], config.threshold)
    return {k: scores[k] for k in ("accuracy", "auc")}


def _scores(is_fake: np.ndarray, p_fake: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    said_fake = p_fake >= threshold
    real = is_fake == 0
    return {
        "accuracy": float((said_fake == (is_fake == 1)).mean()),
        "auc": float(roc_auc_score(is_fake, p_fake)),
        "sensitivity": float((~said_fake[real]).mean()),
        "specificity": float(said_fake[~real].mean()),
    }


def _from_forest(forest: Any, heldout: np.ndarray, config: FollowerConfig) -> FollowerClassifier:
    fake_col = list(forest.classes_).index(1)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("l", "r", "f", "t", "v")}
    roots, offset = [], 0
    for est in forest.estimators_:
        tree = est.tree_
        inner = tree.children_left >= 0
        parts["l"].append(np.where(inner, tree.children_left + offset, -1))
        parts["r"].append(np.where(inner, tree.children_right + offset, -1))
        parts["f"].append(np.where(inner, tree.feature, 0))
        parts["t"].append(tree.threshold)
        value = tree.value[:, 0, :]
        parts["v"].append(value[:, fake_col] / value.sum(axis=1))
        roots.append(offset)
        offset += tree.node_count
    return FollowerClassifier(
        left=np.concatenate(parts["l"]).astype(np.int32),
        right=np.concatenate(parts["r"]).astype(np.int32),
        feature=np.concatenate(parts["f"]).astype(np.int32),
        threshold=np.concatenate(parts["t"]).astype(np.float64),
        leaf_fake=np.concatenate(parts["v"]).astype(np.float64),
        roots=np.asarray(roots, dtype=np.int32),
        heldout=heldout.astype(np.int32),
        metrics={},
        config=config,
    )


# ------------------------------------------------------------ a creator's audience
@dataclass(frozen=True)
class AudienceEstimate:
    """`real_share` corrected for the classifier's held-out errors, with a 95% Wilson
    interval on the sampled share carried through the same correction."""

    sampled: int
    classified_real: float
    real_share: float
    low: float
    high: float
    corrected: bool

    @property
    def margin_points(self) -> float:
        return 100.0 * (self.high - self.low) / 2

    @property
    def reason(self) -> str:
        how = "corrected for the classifier's held-out errors" if self.corrected else "uncorrected"
        return (
            f"≈ {self.real_share:.0%} real ({self.sampled} sampled, ± {self.margin_points:.0f}); "
            f"{self.classified_real:.0%} classified real, {how}"
        )


def audience_estimate(
    classifier: FollowerClassifier, sample: pd.DataFrame, handle: str | None = None
) -> AudienceEstimate | None:
    """The creator's real-follower share from their sample rows; None without rows."""
    rows = sample if handle is None else sample[sample["handle"].astype(str) == handle]
    if not len(rows):
        return None
    real = classifier.classify(sample_accounts(rows))
    n, share = len(real), float(real.mean())
    low, high = wilson(share, n)
    sens, spec = classifier.sensitivity, classifier.specificity
    corrected = sens + spec - 1 > 0.05
    if corrected:
        share, low, high = (_rogan_gladen(v, sens, spec) for v in (share, low, high))
    return AudienceEstimate(n, float(real.mean()), share, low, high, corrected)


def wilson(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion."""
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _rogan_gladen(p: float, sens: float, spec: float) -> float:
    return float(np.clip((p + spec - 1) / (sens + spec - 1), 0.0, 1.0))
