"""Scraper exports as they come: JSON (an array, or an object holding `items`/`data`),
JSON Lines, or CSV. A CSV export flattens nested keys (`authorMeta/name`,
`authorMeta.name`, `hashtags/0/name`); they are folded back into the nested items the
JSON exports carry, so one mapping reads all three. Excel's encodings (UTF-8 with BOM,
cp1252) and separators (`,` `;` tab) are read as they are."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Importing the readers sets csv's field limit to the importer's MAX_FIELD: one limit
# for every CSV Scout reads (a longer cell is a per-line error there, not a crash).
from engine.ingest import readers as _readers  # noqa: F401

_SPLIT = re.compile(r"[/.]")


class ExportError(ValueError):
    """A file that is not a scraper export at all; the message is one line."""


@dataclass(frozen=True)
class Item:
    where: str  # "file.csv:12", for a row problem
    data: dict[str, Any]


def read_export(path: Path) -> list[Item]:
    raw = path.read_bytes()
    return parse_export(raw, path.name)


def parse_export(raw: bytes, name: str = "export") -> list[Item]:
    text = _decode(raw, name)
    head = text.lstrip()[:1]
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return _jsonl(text, name)
    if head in "[{" and head:
        try:
            return _json(json.loads(text), name)
        except ValueError:
            if head == "{":
                return _jsonl(text, name)
            raise ExportError(f"{name}: not valid JSON") from None
    if not text.strip():
        return []
    return _csv(text, name)


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExportError(f"{name}: neither UTF-8 nor Windows-1252 text")


def _json(doc: Any, name: str) -> list[Item]:
    if isinstance(doc, dict):
        listed = doc.get("items", doc.get("data"))
        doc = listed if isinstance(listed, list) else [doc]
    if not isinstance(doc, list):
        raise ExportError(f"{name}: expected a JSON array of items")
    return [Item(f"{name}:item {i + 1}", d) for i, d in enumerate(doc) if isinstance(d, dict)]


def _jsonl(text: str, name: str) -> list[Item]:
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            raise ExportError(f"{name}:{number}: not a JSON object") from None
        if isinstance(doc, dict):
            items.append(Item(f"{name}:{number}", doc))
    return items


def _csv(text: str, name: str) -> list[Item]:
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if not reader.fieldnames:
        raise ExportError(f"{name}: no header row")
    items = []
    for row in reader:
        flat = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
        if flat:
            items.append(Item(f"{name}:{reader.line_num}", unflatten(flat)))
    return items


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"authorMeta/name": "a", "hashtags/0/name": "x"}` ->
    `{"authorMeta": {"name": "a"}, "hashtags": [{"name": "x"}]}`."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        parts = [p for p in _SPLIT.split(key) if p != ""]
        node = root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if parts and not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = _cell(value)
    return _lists(root)


def _cell(value: Any) -> Any:
    """Some exports write a list or object into one cell as JSON (`["a", "b"]`)."""
    if isinstance(value, str) and value[:1] in "[{" and value[-1:] in "]}":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _lists(node: Any) -> Any:
    """Dicts whose keys are all indexes become lists, in index order."""
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node
