"""Starting Spark with a one-line reason when it cannot start (pyspark or Java missing)."""

from __future__ import annotations

import shutil
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

from engine.core.errors import ScoutError
from engine.core.settings import REPO_ROOT

INSTALL = "pip install -r requirements-spark.txt"


def require_pyspark() -> Any:
    try:
        import pyspark
    except ImportError:
        raise ScoutError(f"the Spark backend needs pyspark: {INSTALL}") from None
    return pyspark


def require_java() -> None:
    if shutil.which("java") is None:
        raise ScoutError(
            "the Spark backend needs Java 17+ on PATH (e.g. apt-get install openjdk-17-jre-headless)"
        )


def spark_session(
    master: str = "local[*]",
    jdbc_jar: str | None = None,
    *,
    driver_memory: str = "2g",
    shuffle_partitions: int | None = None,
) -> Any:
    """The active SparkSession, or a new one on `master`. A session that already exists
    (a test's, a notebook's) is reused as it is. Local Python workers import the engine
    from this checkout; on a cluster the engine package is shipped as a zip."""
    require_pyspark()
    require_java()
    # pyspark 4.3 warns on every Arrow transfer that it has not certified pandas 3
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return _with_our_python(active)
    local = master.startswith("local")
    builder = (
        SparkSession.builder.master(master)
        .appName("scout-train")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.executorEnv.PYTHONPATH", str(REPO_ROOT))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or (8 if local else 200)))
    )
    if jdbc_jar:
        builder = builder.config("spark.jars", jdbc_jar)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    if not local:
        session.sparkContext.addPyFile(str(_engine_zip()))
    return _with_our_python(session)


def _with_our_python(session: Any) -> Any:
    """Local Python workers run this interpreter (the venv with pandas and the engine's
    dependencies), not whatever `python3` is first on PATH. pyspark reads the worker's
    interpreter from the environment at start; setting it on the context is the
    equivalent without touching the environment."""
    if session.sparkContext.master.startswith("local"):
        session.sparkContext.pythonExec = sys.executable
    return session


def _engine_zip() -> Path:
    """The engine package as a zip for cluster executors (which lack this checkout)."""
    out = Path(tempfile.mkdtemp(prefix="scout-engine-")) / "engine.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for path in (REPO_ROOT / "engine").rglob("*.py"):
            zf.write(path, path.relative_to(REPO_ROOT))
    return out
