"""Search speed and recall of the shared HNSW index at 10k, 100k and 1M vectors (d=128),
against exact numpy cosine search measured in the same run.

The vectors are clustered like real embeddings (a few thousand centres of varying
spread, anisotropic noise, normalised), not isotropic noise, on which every ANN looks
either perfect or hopeless."""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from benchmarks.report import print_table, write_results
from engine.core.index import VectorIndex, l2_normalise

D = 128


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n_centres = max(50, n // 300)
    centres = rng.normal(size=(n_centres, D)).astype(np.float32)
    sizes = rng.zipf(1.6, size=n_centres).astype(np.float64)
    assign = rng.choice(n_centres, size=n, p=sizes / sizes.sum())
    spread = rng.uniform(0.3, 0.9, size=n_centres).astype(np.float32)
    axes = rng.normal(size=(D,)).astype(np.float32) ** 2  # anisotropic: some axes vary more
    out = np.empty((n, D), dtype=np.float32)
    for start in range(0, n, 100_000):
        sl = slice(start, min(n, start + 100_000))
        a = assign[sl]
        noise = rng.normal(size=(len(a), D)).astype(np.float32) * axes
        out[sl] = centres[a] + spread[a, None] * noise
    return l2_normalise(out)


def exact_topk(vectors: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    parts = []
    for start in range(0, len(queries), 64):  # bounded memory at 1M vectors
        sims = queries[start : start + 64] @ vectors.T
        parts.append(np.argpartition(-sims, k, axis=1)[:, :k])
    return np.concatenate(parts), time.perf_counter() - t0


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n: int, n_queries: int, efs: list[int], M: int, ef_construction: int) -> list[dict]:
    """One build, then one row per query-time ef, so the recall/speed trade-off is
    measured on the same graph rather than on builds that differ by chance."""
    vectors = clustered(n)
    rng = np.random.default_rng(1)
    qrows = rng.choice(n, size=n_queries, replace=False)
    queries = l2_normalise(
        vectors[qrows] + 0.05 * rng.normal(size=(n_queries, D)).astype(np.float32)
    )
    truth, _ = exact_topk(vectors, queries, 10)
    # Brute force single-query rate (the baseline a user would otherwise pay).
    t0 = time.perf_counter()
    for q in queries[:50]:
        s = vectors @ q
        np.argpartition(-s, 10)[:10]
    brute_single = (time.perf_counter() - t0) / 50
    _, brute_batch_s = exact_topk(vectors, queries, 10)
    before = rss_mb()
    t0 = time.perf_counter()
    index = VectorIndex.build(
        vectors, M=M, ef_construction=ef_construction, ef=efs[0], exact_threshold=0
    )
    build_s = time.perf_counter() - t0
    index_mb = rss_mb() - before
    payload = index.to_bytes()
    t0 = time.perf_counter()
    VectorIndex.from_bytes(payload)
    load_s = time.perf_counter() - t0
    rows = []
    for ef in efs:
        index.query(queries[0], 10, ef=ef)  # warm the query path for this ef
        lat = []
        found = []
        for q in queries:
            t = time.perf_counter()
            hits = index.query(q, 10, ef=ef)
            lat.append(time.perf_counter() - t)
            found.append([r for r, _ in hits])
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        t0 = time.perf_counter()
        index.query_batch(queries, 10, ef=ef)
        batch_qps = n_queries / (time.perf_counter() - t0)
        lat_ms = np.array(lat) * 1000
        rows.append(
            {
                "n": n,
                "M": M,
                "efC": ef_construction,
                "ef": ef,
                "build s": build_s,
                "recall@10": float(recall),
                "p50 ms": float(np.percentile(lat_ms, 50)),
                "p99 ms": float(np.percentile(lat_ms, 99)),
                "batch q/s": batch_qps,
                "brute single ms": brute_single * 1000,
                "brute batch q/s": n_queries / brute_batch_s,
                "speed-up single": brute_single * 1000 / float(np.percentile(lat_ms, 50)),
                "speed-up batch": batch_qps / (n_queries / brute_batch_s),
                "index MB (RSS delta)": index_mb,
                "bytes MB": len(payload) / 1e6,
                "load s": load_s,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default=None, help="comma-separated, e.g. 10000,100000")
    ap.add_argument("--efs", default=None, help="query-time ef values, e.g. 64,128,256")
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("-M", type=int, default=16)
    args = ap.parse_args()
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    )
    rows = []
    for n in sizes:
        efs = (
            [int(e) for e in args.efs.split(",")]
            if args.efs
            else ([32, 64, 128] if n < 1_000_000 else [96, 160, 256, 400])
        )
        rows.extend(run(n, n_queries=1000, efs=efs, M=args.M, ef_construction=args.ef_construction))
        print_table(f"HNSW vs brute force (d={D}, clustered, {os.cpu_count()} cores)", rows)
    name = (
        "index"
        + ("_quick" if args.quick else "")
        + (f"_{args.sizes.replace(',', '_')}" if args.sizes else "")
        + (f"_M{args.M}" if args.M != 16 else "")
        + (f"_efc{args.ef_construction}" if args.ef_construction != 200 else "")
    )
    write_results(name, {"dims": D, "results": rows})


if __name__ == "__main__":
    main()
