"""Compact, pickle-free serialisation of model payloads: named numpy arrays plus a JSON
header in one blob. Payloads live in the database, are read by every process, and must
never execute code when loaded, so nothing here can unpickle.

The layout is a magic line, a JSON header (meta plus each array's dtype, shape and
offset) and the raw array bytes, each aligned to 64 bytes. Loading returns read-only
views into the payload instead of copies: a 200k-creator lookalike model is hundreds of
megabytes, and hot reload has to swap it in well under two seconds. Payloads written
before this format (numpy `.npz` archives) still load."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import numpy as np

from engine.core.errors import ScoutError

_META_KEY = "__meta__"
_MAGIC = b"SCOUTARR1\n"
_ALIGN = 64
_LEN = struct.Struct("<Q")


def pack(arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> bytes:
    """Serialise arrays (numeric, bool, or fixed-width unicode) and a JSON-able header.
    Raw bytes (an nmslib graph) go in as `np.frombuffer(data, dtype=np.uint8)`."""
    if _META_KEY in arrays:
        raise ValueError(f"{_META_KEY} is reserved")
    entries = []
    chunks: list[tuple[int, np.ndarray]] = []
    offset = 0
    for name, arr in arrays.items():
        a = np.ascontiguousarray(arr)
        if a.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; convert to str or numbers")
        offset = -(-offset // _ALIGN) * _ALIGN
        entries.append(
            {"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "offset": offset}
        )
        chunks.append((offset, a.reshape(-1).view(np.uint8)))
        offset += a.nbytes
    header = json.dumps({"meta": meta or {}, "arrays": entries}, sort_keys=True).encode()
    prefix = _MAGIC + _LEN.pack(len(header)) + header
    start = -(-len(prefix) // _ALIGN) * _ALIGN
    # One join, one copy: a 1M-vector index is over a gigabyte.
    parts: list[bytes | np.ndarray] = [prefix, bytes(start - len(prefix))]
    at = 0
    for off, raw in chunks:
        parts += [bytes(off - at), raw]
        at = off + len(raw)
    return b"".join(parts)


def unpack(payload: bytes | memoryview) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays are read-only views sharing the payload's memory; copy one to change it."""
    view = memoryview(payload)
    if bytes(view[: len(_MAGIC)]) != _MAGIC:
        return _unpack_npz(bytes(view))
    (hlen,) = _LEN.unpack_from(view, len(_MAGIC))
    hstart = len(_MAGIC) + _LEN.size
    header = json.loads(bytes(view[hstart : hstart + hlen]).decode())
    start = -(-(hstart + hlen) // _ALIGN) * _ALIGN
    arrays = {}
    for e in header["arrays"]:
        dtype = np.dtype(e["dtype"])
        count = int(np.prod(e["shape"], dtype=np.int64))
        if count == 0:
            arrays[e["name"]] = np.empty(e["shape"], dtype=dtype)
            continue
        a = np.frombuffer(view, dtype=dtype, count=count, offset=start + e["offset"])
        arrays[e["name"]] = a.reshape(e["shape"])
    return arrays, header["meta"]


def _unpack_npz(payload: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name != _META_KEY}
        meta = json.loads(npz[_META_KEY].tobytes().decode()) if _META_KEY in npz.files else {}
    return arrays, meta


# ------------------------------------------------------------- the model envelope
_ENVELOPE = "__model__"


class PayloadRefused(ScoutError):
    """Published bytes this code must not read as the model asked for: another kind's
    payload, another format version, or bytes from before the envelope. Reading them
    anyway would misread arrays; a retrain writes a payload this code reads."""


def pack_model(
    kind: str, format_version: int, arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> bytes:
    """A model payload: `pack` with a header naming the kind and its format version, so
    `unpack_model` can refuse what it was not written to read."""
    if _ENVELOPE in meta:
        raise ValueError(f"{_ENVELOPE} is reserved")
    return pack(arrays, {**meta, _ENVELOPE: {"kind": kind, "format": format_version}})


def unpack_model(
    payload: bytes | memoryview, kind: str, format_version: int
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and meta of a `kind` payload in `format_version`; PayloadRefused for
    anything else, with what to do about it."""
    retrain = f"retrain it (python -m engine train --kinds {kind})"
    try:
        arrays, meta = unpack(payload)
    except Exception as err:  # noqa: BLE001 - any unreadable blob is refused the same way
        raise PayloadRefused(f"the stored {kind} model is not a Scout payload; {retrain}") from err
    header = meta.pop(_ENVELOPE, None)
    if not isinstance(header, dict):
        raise PayloadRefused(
            f"the stored {kind} model was written before versioned payloads; {retrain}"
        )
    if header.get("kind") != kind:
        raise PayloadRefused(f"the payload holds a {header.get('kind')} model, not a {kind} model")
    if header.get("format") != format_version:
        raise PayloadRefused(
            f"the stored {kind} model is in format {header.get('format')}, this code reads "
            f"format {format_version}; {retrain}"
        )
    return arrays, meta
