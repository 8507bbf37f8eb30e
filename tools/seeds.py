"""Re-run lessons and exercise solutions under other random draws: ``COURSE_SEED=k``.

    python tools/seeds.py                      # every lesson and solution, COURSE_SEED=1..4
    python tools/seeds.py --seeds 1 notebooks/05_lstm_gru.ipynb

Each notebook is executed top to bottom in a fresh course kernel with ``COURSE_SEED`` set, in its
own folder, and nothing is written back (outputs are not compared: other seeds print other
numbers). What is checked is every ``assert`` a lesson makes about its results: a claim that
holds for one random draw only fails here. The report names the notebook, the seed, the cell and
the failing line. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def default_notebooks() -> list[Path]:
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((ROOT / "notebooks" / "exercises" / "solutions").glob("[0-9][0-9]_*_solutions.ipynb"))
    return lessons + solutions


def _failing_line(cell_source: str, error) -> str:
    """The assert (or other line) that failed, read from the traceback the kernel sent."""
    text = getattr(error, "traceback", None) or ""
    if not isinstance(text, str):
        text = "\n".join(text)
    # The kernel's traceback marks the failing line with an arrow; fall back to the ename/evalue.

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    arrows = [line for line in plain.splitlines() if line.lstrip().startswith("---->")]
    line = arrows[-1].split("---->", 1)[1].strip() if arrows else ""
    line = re.sub(r"^\d+\s*", "", line)
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    return f"{line}  ->  {ename}: {evalue}".strip() if line else f"{ename}: {evalue}"


def run_one(path: Path, seed: int, timeout: int) -> tuple[bool, float, str]:
    """Execute one notebook with COURSE_SEED=seed. Returns (passed, seconds, message)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_SEED"] = str(seed)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as error:
        seconds = time.perf_counter() - start
        index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                      and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell {index}" if index is not None else "a cell"
        source = nb.cells[index].source if index is not None else ""
        return False, seconds, f"{where}: {_failing_line(source, error)}"
    except Exception as error:  # a dead kernel, a missing kernel spec: say it, keep going
        seconds = time.perf_counter() - start
        return False, seconds, "".join(traceback.format_exception_only(error)).strip()
    return True, time.perf_counter() - start, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson and solution")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4],
                        help="values of COURSE_SEED to run (default: 1 2 3 4)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or default_notebooks()
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")

    failures = []
    for seed in args.seeds:
        for path in notebooks:
            name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
            passed, seconds, message = run_one(path, seed, args.timeout)
            verdict = "ok  " if passed else "FAIL"
            print(f"{verdict} COURSE_SEED={seed} {name} ({seconds:.0f} s)"
                  + ("" if passed else f"\n     {message}"), flush=True)
            if not passed:
                failures.append((seed, name, message))
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
