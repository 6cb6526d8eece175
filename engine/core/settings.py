"""Configuration from the environment (12-factor). Every setting has a default that works
on a fresh clone: SQLite in the working directory, ../shared beside the repository."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    database_url: str
    shared_dir: Path
    data_dir: Path
    mobilenet: str
    reload_seconds: float
    train_at: str = "04:00"  # HH:MM UTC of the clock's daily retrain
    # Where the heavy counting of a training run happens: `local` (pandas, this process)
    # or `spark` (engine.training.spark; any Spark master URL, e.g. spark://host:7077)
    train_backend: str = "local"
    spark_master: str = "local[*]"
    spark_jdbc_jar: str | None = None  # a PostgreSQL JDBC jar: Spark reads Postgres directly
    # Tests and development only: let imports and training fetch image URLs on loopback
    # and private networks (engine.core.remote); off, such URLs are refused
    allow_private_image_hosts: bool = False
    # The data sources and the daily sync (issue 23): engine.ingest.sources.SourceSettings
    # is built from these; a source without its token or key is skipped, named in status
    ig_graph_url: str = "https://graph.facebook.com/v21.0"
    ig_user_id: str | None = None
    ig_access_token: str | None = None
    yt_api_url: str = "https://www.googleapis.com/youtube/v3"
    yt_api_key: str | None = None
    yt_quota: int = 10_000  # YouTube units a day (the default project quota)
    dataset_url: str = "https://api.apify.com/v2"
    dataset_token: str | None = None
    source_timeout_s: float = 20.0
    history_days: int = 400  # snapshots older than this are pruned by each sync
    discovery_per_day: int = 50  # candidates discovery may add to the watchlist a day

    @classmethod
    def from_env(cls, database_url: str | None = None) -> Settings:
        env = os.environ
        shared = Path(env.get("SCOUT_SHARED_DIR", str(REPO_ROOT.parent / "shared")))
        default_mobilenet = str(shared / "models" / "mobilenet_v2_1.0_224_quant.tflite")
        return cls(
            database_url=database_url or env.get("DATABASE_URL") or "sqlite:///scout.db",
            shared_dir=shared,
            data_dir=Path(env.get("SCOUT_DATA_DIR", str(REPO_ROOT / "data"))),
            mobilenet=env.get("SCOUT_MOBILENET", default_mobilenet),
            reload_seconds=float(env.get("SCOUT_RELOAD_SECONDS", "30")),
            train_at=env.get("SCOUT_TRAIN_AT", "04:00"),
            train_backend=env.get("SCOUT_TRAIN_BACKEND", "local").strip().lower() or "local",
            spark_master=env.get("SCOUT_SPARK_MASTER", "local[*]"),
            spark_jdbc_jar=env.get("SCOUT_SPARK_JDBC_JAR") or None,
            allow_private_image_hosts=env.get("SCOUT_ALLOW_PRIVATE_IMAGE_HOSTS", "").strip().lower()
            in ("1", "true", "yes", "on"),
            **source_settings(env),
        )

    def training_config(self) -> dict[str, dict[str, Any]]:
        """Each kind's training settings, as `TrainContext.config` hands them to the kind
        and as its fingerprint records them: a changed setting retrains that kind."""
        return {
            "photos": {"mobilenet": self.mobilenet},
            "vet": {"accounts": str(self.shared_dir / "data" / "instafake" / "accounts.csv")},
        }


def source_settings(env: Any) -> dict[str, Any]:
    """The data sources' settings parsed from an environment mapping: the one parser of
    them (Settings.from_env hands it os.environ; the adapters' tests hand it a dict)."""

    def text(name: str, default: str | None = None) -> str | None:
        return (env.get(name) or "").strip() or default

    return {
        "ig_graph_url": text("SCOUT_IG_GRAPH_URL", "https://graph.facebook.com/v21.0").rstrip("/"),
        "ig_user_id": text("SCOUT_IG_USER_ID"),
        "ig_access_token": text("SCOUT_IG_ACCESS_TOKEN"),
        "yt_api_url": text("SCOUT_YT_API_URL", "https://www.googleapis.com/youtube/v3").rstrip("/"),
        "yt_api_key": text("SCOUT_YT_API_KEY"),
        "yt_quota": _whole(env, "SCOUT_YT_QUOTA", 10_000, low=1),
        "dataset_url": text("SCOUT_DATASET_URL", "https://api.apify.com/v2").rstrip("/"),
        "dataset_token": text("SCOUT_DATASET_TOKEN"),
        "source_timeout_s": float(text("SCOUT_SOURCE_TIMEOUT_S", "20")),
        "history_days": _whole(env, "SCOUT_HISTORY_DAYS", 400, low=1),
        "discovery_per_day": _whole(env, "SCOUT_DISCOVERY_PER_DAY", 50, low=0),
    }


def _whole(env: Any, name: str, default: int, *, low: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < low:
        raise ValueError(f"{name}: expected a number >= {low}, got {value}")
    return value
