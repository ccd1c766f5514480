"""Time a cold build of the whole book (every chapter executed) and a rebuild with nothing changed.

    .venv/bin/python benchmarks/book.py [--out DIR]

Both builds go to a fresh output folder (default: a temporary one), so the execution cache starts empty and
the repository's own _build is untouched. Prints the two wall times, their targets (cold under 10 minutes,
unchanged rebuild under 30 s on the 2-core course machine) and each chapter's execution time and peak memory
as measured by the build (book/_ext/chapter_costs.py).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(out: Path) -> float:
    jb = Path(sys.executable).with_name("jupyter-book")
    start = time.perf_counter()
    proc = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(out), "--warningiserror"],
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"the build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        out = args.out or Path(tmp)
        cold = build(out)
        warm = build(out)
        costs = json.loads((out / "_build" / "chapter-costs.json").read_text())
    print(f"cold build (every chapter executed): {cold:7.1f} s   target < 600 s: {'met' if cold < 600 else 'MISSED'}")
    print(f"rebuild, nothing changed:            {warm:7.1f} s   target < 30 s:  {'met' if warm < 30 else 'MISSED'}")
    print(f"{'chapter':<32}{'seconds':>9}{'peak MB':>9}")
    for doc, c in sorted(costs.items()):
        print(f"{doc:<32}{c['seconds']:>9.1f}{(c['peak_mb'] or 0):>9}")
    print(f"{'sum of chapter executions':<32}{sum(c['seconds'] for c in costs.values()):>9.1f}")


if __name__ == "__main__":
    main()
