"""Configuration from the environment (12-factor). Every setting has a default that works
on a fresh clone: SQLite in the working directory, ../shared beside the repository."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    database_url: str
    shared_dir: Path
    data_dir: Path
    mobilenet: str
    reload_seconds: float

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
        )


def normalize_database_url(url: str) -> str:
    """Heroku hands out `postgres://` URLs; SQLAlchemy 2 wants a driver name."""
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
