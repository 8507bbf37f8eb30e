"""Generate the student exercise notebooks from the solution notebooks.

    python tools/exercises.py          # (re)write notebooks/exercises/NN_topic_exercises.ipynb
    python tools/exercises.py --check  # exit 1 and name every student notebook that is stale

Solutions live in ``notebooks/exercises/solutions/NN_topic_solutions.ipynb``; the student
notebook of each is ``notebooks/exercises/NN_topic_exercises.ipynb`` (lesson, exercise and
solution never share a file name, so JupyterLab's tabs tell them apart). In their code cells, everything between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes ``raise NotImplementedError(...)``
(indented like the block it replaces); in markdown cells, text between
``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` is dropped, and links to the lessons
(``../../NN_*.ipynb``) are moved up one folder. Comments and docstrings
outside the markers (the hints) stay. Outputs, execution counts and widget state are cleared,
so a student starts from a clean notebook; the notebook names the course kernel, so it opens
unmodified.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "notebooks" / "exercises"
SOLUTIONS = EXERCISES / "solutions"

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BLOCK = re.compile(r"[ \t]*<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->[ \t]*\n?", re.S)
STUB = 'raise NotImplementedError("your code here")'
#: The kernel tools/install_kernel.py installs. A notebook that names another display name is
#: rewritten by JupyterLab on opening, so it would open "modified" and ask to be saved.
COURSE_KERNELSPEC = {"display_name": "Python 3 (course)", "language": "python", "name": "python3"}
SOLUTION_HEADER = re.compile(r"^(# .*?)[ \t]*[-–—·:]*[ \t]*solutions?[ \t]*$", re.I | re.M)


def strip_code(source: str, where: str) -> str:
    """Replace each BEGIN/END SOLUTION block of one code cell by a stub."""
    out: list[str] = []
    inside = False
    for lineno, line in enumerate(source.splitlines(), 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ValueError(f"{where}, line {lineno}: {BEGIN} inside another solution block")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif marker == END:
            if not inside:
                raise ValueError(f"{where}, line {lineno}: {END} without a {BEGIN} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def student_version(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student notebook for solution notebook ``nb`` (not modified)."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = dict(COURSE_KERNELSPEC)
    stubs = 0
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        if cell.cell_type == "code":
            if BEGIN in cell.source or END in cell.source:
                cell.source = strip_code(cell.source, where)
                stubs += 1
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            # Student notebooks sit one folder above their solutions.
            cell.source = MD_BLOCK.sub("", cell.source).replace("](../../", "](../")
            if i == 0:
                cell.source = SOLUTION_HEADER.sub(r"\1", cell.source, count=1)
        cell.metadata.pop("execution", None)
    if stubs == 0:
        raise ValueError(f"{name}: no {BEGIN} block found; is this a solution notebook?")
    return nb


SOLUTION_SUFFIX, STUDENT_SUFFIX = "_solutions", "_exercises"


def lesson_stem(solution: Path) -> str:
    """``NN_topic`` of ``NN_topic_solutions.ipynb`` (the lesson's own file stem)."""
    if not solution.stem.endswith(SOLUTION_SUFFIX):
        raise ValueError(f"{solution.name}: a solution notebook's name must end in "
                         f"{SOLUTION_SUFFIX}.ipynb (e.g. 04_rnn_from_scratch{SOLUTION_SUFFIX}.ipynb)")
    return solution.stem.removesuffix(SOLUTION_SUFFIX)


def student_path(solution: Path) -> Path:
    return EXERCISES / f"{lesson_stem(solution)}{STUDENT_SUFFIX}.ipynb"


def render(solution: Path) -> str:
    """The exact text the student notebook for ``solution`` should have."""
    nb = nbformat.read(solution, as_version=4)
    return nbformat.writes(student_version(nb, solution.name)) + "\n"


def solutions() -> list[Path]:
    return sorted(SOLUTIONS.glob(f"[0-9][0-9]_*{SOLUTION_SUFFIX}.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only report student notebooks that differ from their solutions")
    args = parser.parse_args(argv)
    stale = []
    for sol in solutions():
        target = student_path(sol)
        text = render(sol)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        stale.append(target)
        if not args.check:
            tmp = target.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)  # atomic: never a half-written notebook
            print(f"wrote {target.relative_to(ROOT)}")
    if args.check and stale:
        for t in stale:
            print(f"out of date: {t.relative_to(ROOT)}  (run: python tools/exercises.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
