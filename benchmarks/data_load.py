"""Benchmark: first IMDB load (parse the archive) versus a reload from the compact cache.

Prints one JSON line. Uses a fresh temporary cache, so the first load really parses; needs the
archive in COURSE_DATA_DIR (or it downloads it into that temporary cache: 80 MB).
Target (Foundation issue): reloading all three splits takes <= 3 s on a 2-core machine.
"""

import json
import os
import subprocess
import sys
import tempfile

CHILD = """
import time
from course_utils import data
start = time.perf_counter()
n = sum(len(data.load_imdb(split)[0]) for split in data.IMDB_SPLITS)
print(n, time.perf_counter() - start)
"""


def timed_load(env):
    """Load all three splits in a new process (no in-memory memo): (reviews, seconds)."""
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1])


def main():
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "COURSE_CACHE_DIR": cache}
        reviews, first = timed_load(env)
        _, again = timed_load(env)
        size = sum(os.path.getsize(os.path.join(cache, f)) for f in os.listdir(cache))
    print(json.dumps({
        "benchmark": "imdb_load",
        "reviews": reviews,
        "first_load_seconds": round(first, 2),
        "reload_seconds": round(again, 2),
        "reload_target_seconds": 3.0,
        "meets_target": again <= 3.0,
        "speedup": round(first / again, 1),
        "cache_mb": round(size / 1e6, 1),
        "source": "mirror" if os.environ.get("COURSE_DATA_DIR") else "download",
    }))


if __name__ == "__main__":
    main()
