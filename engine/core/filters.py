"""Parsing of the filter values people type (`10k-100k`, `>2`, `1.5m`), shared by the
CLI and the bot so both accept exactly the same spellings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from engine.core.errors import BadQuery

_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def parse_count(text: str) -> int:
    """'10k' -> 10000, '1.5m' -> 1500000, '500' -> 500."""
    m = _NUMBER.match(text.strip().replace(",", "").replace("_", ""))
    if not m:
        raise BadQuery(f"`{text}` is not a number (try 500, 10k or 1.5m).")
    value = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    return int(value)


def parse_range(text: str, parse: Callable[[str], Any], name: str, example: str) -> tuple:
    """`a-b`, `>a`, `>=a`, `<b`, `<=b` or `a` (a minimum) into (low, high)."""
    text = text.strip()
    try:
        if text.startswith(">="):
            return parse(text[2:]), None
        if text.startswith(">"):
            return parse(text[1:]), None
        if text.startswith("<="):
            return None, parse(text[2:])
        if text.startswith("<"):
            return None, parse(text[1:])
        if "-" in text:
            lo, hi = text.split("-", 1)
            return parse(lo), parse(hi)
        return parse(text), None
    except (BadQuery, ValueError):
        raise BadQuery(f"`{name}:{text}` is not a range; write it like `{example}`.") from None
