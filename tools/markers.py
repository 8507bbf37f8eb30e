"""nbval's markers as cell tags, not as comments a reader sees.

    python tools/markers.py [NOTEBOOK ...]          # move the markers into tags (in place)
    python tools/markers.py --check [NOTEBOOK ...]  # exit 1 and name every cell that has one

nbval reads ``# NBVAL_IGNORE_OUTPUT`` (and ``NBVAL_SKIP``, ``NBVAL_CHECK_OUTPUT``,
``NBVAL_RAISES_EXCEPTION``) either as a comment line in a cell or as the cell tag
``nbval-ignore-output`` (``nbval-skip``, ...). A comment shows in every view of the lesson, in
RISE and on the slides; a tag does not. This tool moves leading marker comment lines of code
cells into the tag nbval honours; outputs and every other line stay as they are.
Default notebooks: every lesson and every exercise solution.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: nbval's comment markers and the cell tag it reads for each.
TAGS = {name: name.lower().replace("_", "-") for name in
        ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION")}
MARKER_LINE = re.compile(r"^\s*#\s*(" + "|".join(TAGS) + r")\s*$")


def default_notebooks() -> list[Path]:
    lessons = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solutions = sorted((ROOT / "notebooks" / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return lessons + solutions


def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def split_markers(source: str) -> tuple[list[str], str]:
    """(the marker names on the leading lines of ``source``, the rest of it)."""
    lines = source.splitlines(keepends=True)
    found = []
    while lines and (match := MARKER_LINE.match(lines[0])):
        found.append(match.group(1))
        lines.pop(0)
    return found, "".join(lines)


def marked_cells(nb: dict) -> list[int]:
    """Indices of the code cells that still carry a marker comment (on any line)."""
    return [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
            and any(MARKER_LINE.match(line) for line in _source(cell).splitlines())]


def move_markers(nb: dict) -> int:
    """Move leading marker comments of ``nb``'s code cells into tags; returns how many cells
    changed. The notebook dict is changed in place."""
    changed = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        found, rest = split_markers(_source(cell))
        if not found:
            continue
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        tags += [TAGS[name] for name in found if TAGS[name] not in tags]
        cell["source"] = rest if isinstance(cell["source"], str) else rest.splitlines(keepends=True)
        changed += 1
    return changed


def _write(path: Path, nb: dict) -> None:
    # nbformat's own layout (indent 1, keys sorted, no ASCII escapes, final newline)
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    tmp = path.with_suffix(".ipynb.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only report cells that still carry a marker comment")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    problems = 0
    for path in args.notebooks or default_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        if args.check:
            for i in marked_cells(nb):
                print(f"{path}: cell {i} has an nbval marker comment (run: python tools/markers.py)")
                problems += 1
            continue
        changed = move_markers(nb)
        if changed:
            _write(path, nb)
            print(f"{path}: {changed} marker comment(s) moved into cell tags")
        left = marked_cells(nb)
        if left:  # a marker below other lines: nbval reads it, but it is not ours to move
            print(f"{path}: cells {left} have a marker comment after other lines; move it "
                  "to the top of the cell", file=sys.stderr)
            problems += len(left)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
