"""Which model kinds the pipeline trains and the Recommender loads. Each engine issue
adds its kind here as "name": "module:attribute" (an object satisfying
engine.core.contract.ModelKind); imports are lazy so one kind's heavy dependencies
(TensorFlow) load only when that kind is used."""

from __future__ import annotations

import importlib

from engine.core.contract import ModelKind

KIND_OBJECTS: dict[str, str] = {
    "lookalike": "engine.lookalike.kind:LOOKALIKE",
    "photos": "engine.photos.kind:PHOTOS",
    "songs": "engine.songs.kind:SONGS",
    "tags": "engine.tags.kind:TAGS",
    "topics": "engine.topics.kind:TOPICS",
    "vet": "engine.vet.kind:VET",
}


def kind_by_name(name: str) -> ModelKind:
    try:
        target = KIND_OBJECTS[name]
    except KeyError:
        raise KeyError(f"unknown model kind {name!r}; known: {', '.join(KIND_OBJECTS)}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def all_kinds(names: list[str] | None = None) -> list[ModelKind]:
    """Kinds in dependency order: a kind after the kinds in its `depends_on` (which are
    added when not asked for) and after those of its `uses` that are being trained."""
    wanted = names or list(KIND_OBJECTS)
    kinds = {n: kind_by_name(n) for n in KIND_OBJECTS}
    ordered: list[str] = []

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in ordered:
            return
        if name in stack:
            raise ValueError(f"model kinds depend on each other in a cycle: {stack + (name,)}")
        for dep in getattr(kinds[name], "depends_on", ()):
            visit(dep, stack + (name,))
        for dep in getattr(kinds[name], "uses", ()):
            if dep in wanted:
                visit(dep, stack + (name,))
        ordered.append(name)

    for name in wanted:
        visit(name)
    return [kinds[n] for n in ordered]
