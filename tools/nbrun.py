"""Execute one notebook headless in a fresh course kernel; measure time and peak memory.

Shared by ``tools/seeds.py`` (``make seeds``) and ``benchmarks/lessons.py``. Nothing is written
back: the notebook is executed in memory, in its own folder, with the environment given.
"""

from __future__ import annotations

import json
import os
import re
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

#: A lesson must run within this much resident memory: what a free Binder session gives.
MEMORY_LIMIT_MIB = 2048

# Appended to the notebook in memory and run after the last cell: the kernel's own peak
# resident memory. On Linux it is VmHWM, the high-water mark of the kernel's own address space:
# ru_maxrss would also count the process it was forked from (Linux keeps the pre-exec peak),
# so a kernel started by a large pytest process would report that process's size. Elsewhere
# ru_maxrss (KiB on Linux, bytes on macOS).
_PEAK_RSS_CELL = (
    "import json as _j, resource as _r, sys as _s\n"
    "try:\n"
    "    _k = [int(_l.split()[1]) / 1024 for _l in open('/proc/self/status')\n"
    "          if _l.startswith('VmHWM:')][0]\n"
    "except (OSError, IndexError, ValueError):\n"
    "    _k = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if _s.platform == 'darwin' else 1024)\n"
    "print('__PEAK_RSS_MIB__' + _j.dumps(round(_k, 1)))"
)


@dataclass
class Run:
    notebook: str
    passed: bool
    seconds: float
    peak_rss_mib: float | None
    message: str = ""


def _failing_line(error) -> str:
    """The line that failed (the kernel's traceback marks it with an arrow) and the error."""
    text = getattr(error, "traceback", None) or ""
    if not isinstance(text, str):
        text = "\n".join(text)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    arrows = [line for line in plain.splitlines() if line.lstrip().startswith("---->")]
    line = re.sub(r"^\d+\s*", "", arrows[-1].split("---->", 1)[1].strip()) if arrows else ""
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    return f"{line}  ->  {ename}: {evalue}" if line else f"{ename}: {evalue}"


def execute(path: Path, *, env: dict[str, str] | None = None, timeout: int = 600,
            name: str | None = None) -> Run:
    """Run every cell of ``path`` top to bottom with ``env`` added to the kernel's environment."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = Path(path)
    name = name or path.name
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_RSS_CELL))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    try:
        # the kernel gets this environment (not this process's): runs may go on side by side
        client.execute(env={**os.environ, **(env or {})})
        passed, message = True, ""
    except (CellExecutionError, CellTimeoutError) as error:
        index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                      and any(o.get("output_type") == "error" for o in c.get("outputs", []))),
                     None)
        where = f"cell {index}" if index is not None else "a cell"
        passed, message = False, f"{where}: {_failing_line(error)}"
    except Exception as error:  # a dead kernel, a missing kernel spec: say it, keep going
        passed = False
        message = "".join(traceback.format_exception_only(error)).strip()
    seconds = time.perf_counter() - start
    peak = None
    for out in nb.cells[-1].get("outputs", []):
        text = out.get("text", "")
        if "__PEAK_RSS_MIB__" in text:
            peak = json.loads(text.split("__PEAK_RSS_MIB__", 1)[1].strip())
    if passed and peak is not None and peak > MEMORY_LIMIT_MIB:
        passed = False
        message = (f"peak resident memory {peak:,.0f} MiB is over the course's limit of "
                   f"{MEMORY_LIMIT_MIB:,} MiB (a free Binder session)")
    return Run(name, passed, seconds, peak, message)
