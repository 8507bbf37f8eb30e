"""Each lesson's runtime and peak memory: one JSON line per lesson.

    python benchmarks/lessons.py                         # every lesson
    python benchmarks/lessons.py notebooks/02_word_embeddings.ipynb

Each lesson is executed top to bottom, headless, in a fresh course kernel (nothing is written
back). ``seconds`` is the wall-clock time of the whole run, kernel start included;
``peak_rss_mib`` the kernel's peak resident memory (``getrusage``'s ``ru_maxrss``). The course's
limits: 180 s on 2 cores (lesson 08: 240 s) and 2 GiB, the memory of a free Binder session.
The machine is shared and noisy: compare lessons measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import nbrun  # noqa: E402

SECONDS_LIMIT = {"08": 240}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    ok = True
    for path in notebooks:
        run = nbrun.execute(path, env={"COURSE_SEED": os.environ.get("COURSE_SEED", "0")})
        limit = SECONDS_LIMIT.get(path.name[:2], 180)
        row = {"notebook": path.name, "seconds": round(run.seconds, 1),
               "peak_rss_mib": run.peak_rss_mib, "seconds_limit": limit,
               "memory_limit_mib": nbrun.MEMORY_LIMIT_MIB, "cpus": os.cpu_count(),
               "ok": run.passed and run.seconds <= limit}
        if run.message:
            row["error"] = run.message
        ok &= row["ok"]
        print(json.dumps(row), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
