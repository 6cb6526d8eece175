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
        )

    def training_config(self) -> dict[str, dict[str, Any]]:
        """Each kind's training settings, as `TrainContext.config` hands them to the kind
        and as its fingerprint records them: a changed setting retrains that kind."""
        return {
            "photos": {"mobilenet": self.mobilenet},
            "vet": {"accounts": str(self.shared_dir / "data" / "instafake" / "accounts.csv")},
        }
