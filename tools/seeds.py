"""Re-run lessons and exercise solutions under other random draws: ``COURSE_SEED=k``.

    python tools/seeds.py                      # every lesson and solution, COURSE_SEED=1..4
    python tools/seeds.py --seeds 1 notebooks/05_lstm_gru.ipynb

Each notebook is executed top to bottom in a fresh course kernel with ``COURSE_SEED`` set, in its
own folder, and nothing is written back (outputs are not compared: other seeds print other
numbers). What is checked is every ``assert`` a lesson makes about its results: a claim that
holds for one random draw only fails here. The report names the notebook, the seed, the cell and
the failing line. A run whose kernel peaks above 2 GiB of resident memory fails too. Exit
status 1 when anything failed, or when the runs changed a file in the git tree (a lesson must
never write a tracked file).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import nbrun  # noqa: E402


def default_notebooks() -> list[Path]:
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((ROOT / "notebooks" / "exercises" / "solutions").glob("[0-9][0-9]_*_solutions.ipynb"))
    return lessons + solutions


def _git_status() -> list[str]:
    """``git status --porcelain`` lines: what differs from the last commit (none outside git)."""
    import subprocess

    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return out.stdout.splitlines() if out.returncode == 0 else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson and solution")
    parser.add_argument("--seeds", nargs="+", default=["1", "2", "3", "4"],
                        help="values of COURSE_SEED to run (default: 1 2 3 4)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks run side by side (default 1; each kernel uses every core)")
    args = parser.parse_args(argv)
    # "--seeds 1 2 nb.ipynb": the values that are not integers are notebooks
    seeds = [int(v) for v in args.seeds if v.lstrip("-").isdigit()]
    args.notebooks += [Path(v) for v in args.seeds if not v.lstrip("-").isdigit()]
    if not seeds:
        parser.error(f"--seeds needs whole numbers, got {' '.join(args.seeds)}")
    args.seeds = seeds
    notebooks = [p.resolve() for p in args.notebooks] or default_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")

    before = _git_status()
    runs = [(seed, path) for seed in args.seeds for path in notebooks]

    def run(item):
        seed, path = item
        name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        return seed, nbrun.execute(path, env={"COURSE_SEED": str(seed)}, timeout=args.timeout,
                                   name=name)

    failures = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for seed, result in pool.map(run, runs):
            verdict = "ok  " if result.passed else "FAIL"
            memory = (f", {result.peak_rss_mib:,.0f} MiB" if result.peak_rss_mib is not None
                      else "")
            print(f"{verdict} COURSE_SEED={seed} {result.notebook} ({result.seconds:.0f} s{memory})"
                  + ("" if result.passed else f"\n     {result.message}"), flush=True)
            if not result.passed:
                failures.append((seed, result.notebook, result.message))
    changed = sorted(set(_git_status()) - set(before))
    if changed:
        failures.append(("-", "git status", "running the notebooks changed tracked or new files: "
                         + ", ".join(changed)))
    print()
    if failures:
        print(f"{len(failures)} of {len(args.seeds) * len(notebooks)} runs failed:")
        for seed, name, message in failures:
            print(f"  COURSE_SEED={seed} {name}: {message}")
        return 1
    print(f"all {len(args.seeds) * len(notebooks)} runs passed "
          f"(COURSE_SEED={', '.join(map(str, args.seeds))}; {len(notebooks)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
