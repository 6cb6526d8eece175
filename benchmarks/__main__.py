"""Run every benchmark module (bench_*.py) in turn, each in its own process so one's
memory and threads do not skew the next; `--quick` is passed through."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

here = Path(__file__).resolve().parent
names = sorted(p.stem for p in here.glob("bench_*.py"))
only = [a for a in sys.argv[1:] if not a.startswith("-")]
flags = [a for a in sys.argv[1:] if a.startswith("-")]
failed = []
for name in names:
    if only and name.removeprefix("bench_") not in only and name not in only:
        continue
    print(f"\n==================== {name} ====================", flush=True)
    t0 = time.perf_counter()
    rc = subprocess.call([sys.executable, "-m", f"benchmarks.{name}", *flags], cwd=here.parent)
    print(f"[{name}: exit {rc}, {time.perf_counter() - t0:.0f}s]", flush=True)
    if rc:
        failed.append(name)
if failed:
    print(f"\nfailed: {', '.join(failed)}")
sys.exit(1 if failed else 0)
