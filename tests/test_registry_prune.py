"""Pruning never removes what is being served or what rollback needs: rejected trainings
are counted apart from published ones (issue 15, item 1)."""

from __future__ import annotations

import pytest

from models.migrate import upgrade
from models.registry import PUBLISHED, REJECTED, NewArtifact
from models.store import Store


def _art(kind: str, n: int) -> NewArtifact:
    return NewArtifact(kind, f"payload {n}".encode(), {"n": n}, {}, f"fp{n}")


@pytest.fixture
def store(any_db_url):
    upgrade(any_db_url)
    s = Store(any_db_url)
    yield s
    s.dispose()


def _statuses(store: Store, kind: str) -> list[tuple[int, str]]:
    return [(a.version, a.status) for a in store.registry.list(kind)]


def test_rejected_runs_never_prune_the_served_model(store):
    reg = store.registry
    for n in range(3):
        reg.publish([_art("songs", n)])  # v1..v3 published
    for n in range(5):
        reg.publish([_art("songs", 10 + n)], status=REJECTED, reasons={"songs": "worse"})
        reg.prune(5)
    assert reg.latest_version("songs") == 3  # still served
    published = [v for v, s in _statuses(store, "songs") if s == PUBLISHED]
    assert published == [3, 2, 1]  # rollback still has somewhere to go
    assert reg.get("songs", 3).payload == b"payload 2"
    reg.rollback("songs", 2)
    assert reg.latest_version("songs") == 9


def test_keep_counts_published_and_rejected_apart(store):
    reg = store.registry
    for n in range(7):
        reg.publish([_art("tags", n)])
    for n in range(4):
        reg.publish([_art("tags", 20 + n)], status=REJECTED, reasons={"tags": "worse"})
    reg.publish([_art("topics", 0)])
    removed = reg.prune(2)
    rows = _statuses(store, "tags")
    assert [v for v, s in rows if s == PUBLISHED] == [7, 6]
    assert [v for v, s in rows if s == REJECTED] == [11, 10]
    assert removed == 5 + 2
    assert _statuses(store, "topics") == [(1, PUBLISHED)]


def test_keep_below_one_still_keeps_the_current_version(store):
    reg = store.registry
    reg.publish([_art("songs", 0)])
    reg.publish([_art("songs", 1)])
    reg.prune(0)
    assert _statuses(store, "songs") == [(2, PUBLISHED)]
