"""Daily retraining must never leave serving on a broken or half-written model: a run
killed with SIGKILL mid-way publishes nothing and the next run succeeds; a model fitted
on scrambled data is rejected by the quality gate."""

import csv
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.bootstrap import bootstrap
from models.store import Store

REPO = Path(__file__).resolve().parent.parent


def latest(store: Store) -> dict[str, int]:
    return {a.kind: a.version for a in store.registry.latest_all()}


@pytest.mark.slow
def test_sigkill_mid_training_keeps_previous_versions(copy_db):
    store = Store(copy_db)
    before = latest(store)
    assert before, "the trained demo store should have published models"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "train", "--force", "--db", copy_db],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    fitting = 0
    for line in proc.stderr:
        if ": fitting " in line:
            fitting += 1
            if fitting == 2:  # the first kind is fitted and held in memory, unpublished
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the run should have been killed mid-way"
    assert latest(store) == before
    assert all(a.status == "published" for a in store.registry.list())
    report = bootstrap(copy_db).train(force=True, log=lambda m: None)
    assert report.ok
    assert latest(store) == {k: v + 1 for k, v in before.items()}
    store.dispose()


@pytest.mark.slow
def test_gate_rejects_a_model_trained_on_scrambled_data(copy_db, demo_small_dir):
    """Shuffle captions and hashtags across posts (so creators' content stops making
    sense) and re-import: the retrained content models measure worse and are kept
    as rejected while serving stays on the good version."""
    store = Store(copy_db)
    before = latest(store)
    rows = list(csv.DictReader((demo_small_dir / "posts.csv").open(encoding="utf-8")))
    content = [(r["caption"], r["hashtags"]) for r in rows]
    random.Random(1).shuffle(content)
    for r, (caption, tags) in zip(rows, content, strict=True):
        r["caption"], r["hashtags"] = caption, tags
    # Images are referenced relative to the CSV, so the scrambled file sits beside it.
    scrambled = demo_small_dir / "scrambled.csv"
    with scrambled.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    bootstrap(copy_db).import_file(scrambled, "posts")
    scrambled.unlink()
    report = bootstrap(copy_db).train(log=lambda m: None)
    status = {o.kind: o.status for o in report.outcomes}
    rejected = {k for k, s in status.items() if s == "rejected"}
    assert "lookalike" in rejected or "tags" in rejected, report.table()
    for kind in rejected:
        assert latest(store)[kind] == before[kind]
        reason = next(a.reason for a in store.registry.list(kind) if a.status == "rejected")
        assert "fell from" in reason
    store.dispose()


def _train_cli(db: str, *args: str) -> dict[str, str]:
    """`python -m engine train ... --json` in a real subprocess: kind -> status."""
    import json

    done = subprocess.run(
        [sys.executable, "-m", "engine", "train", "--db", db, "--json", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {k["kind"]: k["status"] for k in json.loads(done.stdout)["kinds"]}


@pytest.mark.slow
def test_another_seed_on_unchanged_data_publishes_new_versions(copy_db):
    """The seed changes a model, so it is part of every kind's fingerprint: `--seed 7` on
    the data the store was trained on (seed 42) retrains and publishes; running the very
    same command again publishes nothing."""
    store = Store(copy_db)
    before = latest(store)
    kinds = "lookalike,tags"
    assert _train_cli(copy_db, "--kinds", kinds) == {"lookalike": "skipped", "tags": "skipped"}
    assert _train_cli(copy_db, "--kinds", kinds, "--seed", "7") == {
        "lookalike": "published",
        "tags": "published",
    }
    after = latest(store)
    assert {k: after[k] for k in ("lookalike", "tags")} == {
        "lookalike": before["lookalike"] + 1,
        "tags": before["tags"] + 1,
    }
    assert store.registry.get("tags", after["tags"]).params["seed"] == 7
    again = _train_cli(copy_db, "--kinds", kinds, "--seed", "7")
    assert again == {"lookalike": "skipped", "tags": "skipped"}
    assert latest(store) == after
    store.dispose()
