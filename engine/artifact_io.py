"""Compact, pickle-free serialisation of model payloads: named numpy arrays plus a JSON
header in one npz blob. Payloads live in the database, are read by every process, and
must never execute code when loaded, so `allow_pickle` stays off everywhere."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

_META_KEY = "__meta__"


def pack(arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> bytes:
    """Serialise arrays (numeric, bool, or fixed-width unicode) and a JSON-able header.
    Raw bytes (an nmslib index) go in as `np.frombuffer(data, dtype=np.uint8)`."""
    if _META_KEY in arrays:
        raise ValueError(f"{_META_KEY} is reserved")
    buf = io.BytesIO()
    header = np.frombuffer(json.dumps(meta or {}, sort_keys=True).encode(), dtype=np.uint8)
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; convert to str or numbers")
    np.savez(buf, **{_META_KEY: header}, **arrays)
    return buf.getvalue()


def unpack(payload: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name != _META_KEY}
        meta = json.loads(npz[_META_KEY].tobytes().decode()) if _META_KEY in npz.files else {}
    return arrays, meta
