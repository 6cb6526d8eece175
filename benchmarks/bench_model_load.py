"""Load time of a lookalike model of 200k creators from its bytes (issue 8: < 2 s).
A synthetic model of the real class (clustered 128-d vectors, a 16k-token basis, the
HNSW index) is serialised once and loaded three times; the first load reads cold
pages, later ones are warm. Baseline in the same run: reading the payload bytes alone."""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.bench_index import clustered
from benchmarks.report import print_table, write_results
from engine.lookalike import TOP_TOKENS, LookalikeModel


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, d, vocab = (20_000 if args.quick else 200_000), 128, 16_000
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    model = LookalikeModel(
        handles=np.array([f"c{i}" for i in range(n)]),
        vectors=clustered(n),
        components=rng.normal(size=(d, vocab)).astype(np.float32),
        vocab=np.array([f"w{i}" for i in range(vocab)]),
        col_totals=rng.random(vocab) * 100,
        grand_total=1e7,
        top_tokens=rng.integers(0, vocab, size=(n, TOP_TOKENS)).astype(np.int32),
        followers=rng.random(n) * 1e5,
        er=rng.random(n) * 5,
        language=np.array(["en"] * n),
        params={},
    )
    build_s = time.perf_counter() - t0
    payload = model.to_bytes()
    t0 = time.perf_counter()
    bytes(memoryview(payload))  # the floor: copying the bytes once
    copy_s = time.perf_counter() - t0
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        LookalikeModel.from_bytes(payload)
        loads.append(time.perf_counter() - t0)
    rows = [
        {
            "creators": n,
            "payload MB": len(payload) / 1e6,
            "build s": build_s,
            "copy bytes s": copy_s,
            "load 1 s": loads[0],
            "load 2 s": loads[1],
            "load 3 s": loads[2],
        }
    ]
    print_table("Lookalike model load from bytes", rows)
    write_results("model_load" + ("_quick" if args.quick else ""), {"results": rows})


if __name__ == "__main__":
    main()
