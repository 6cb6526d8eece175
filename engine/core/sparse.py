"""Sparse-row helpers shared by the models that compare rows of scipy CSR matrices
(lookalike creator rows, related-tag score rows)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def l2_rows(x: sp.spmatrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 norm (empty rows stay empty), float32."""
    x = sp.csr_matrix(x, dtype=np.float32)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ x)


def top_per_row(x: sp.spmatrix, keep: int) -> sp.csr_matrix:
    """Each row's `keep` largest values (all of them when `keep` <= 0), columns sorted."""
    x = sp.csr_matrix(x)
    counts = np.diff(x.indptr)
    if keep <= 0 or counts.max(initial=0) <= keep:
        return x
    row = np.repeat(np.arange(x.shape[0]), counts)
    order = np.lexsort((-x.data, row))  # by row, then value descending
    rank = np.arange(len(order)) - np.repeat(x.indptr[:-1], counts)
    chosen = order[rank < keep]
    out = sp.csr_matrix(
        (x.data[chosen], (row[chosen], x.indices[chosen])), shape=x.shape, dtype=x.dtype
    )
    out.sort_indices()
    return out
