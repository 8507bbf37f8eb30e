"""Redraw every figure in img/ from code (``make figures``).

Two kinds of figure:

- DIAGRAMS are pictures of an idea (a cell, a window, a cube). Each is one call of a ``draw_*``
  function in ``course_utils``; drawing is deterministic, so redrawing gives the same bytes.
- LESSON_FIGURES show what a lesson computed (a learned map, learning curves). They cannot be
  drawn without the lesson's results, so the lesson is executed once, headless, and the draw
  calls run in its kernel afterwards: the picture is the lesson's own result, never a copy.
  The lessons themselves only show these plots inline, so running them never touches img/.

Files are replaced atomically and only when their bytes change, so a rerun leaves git clean.

    python tools/draw_figures.py                     # everything (runs lesson 03, ~30 s)
    python tools/draw_figures.py --diagrams-only     # the diagrams, a few seconds
    python tools/draw_figures.py 05_gru_cell.png     # only these files
    python tools/draw_figures.py --check             # exit 1 if img/ is stale or has orphans
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "img"

sys.path.insert(0, str(ROOT))


def _diagrams() -> dict[str, Callable[[Path], object]]:
    """File name in img/ -> a function drawing it to a given path (the lessons' own arguments)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed, and the same renderer as the notebooks' PNGs
    from course_utils import diagrams as d

    return {
        "01_one_hot_cube.png": lambda p: d.draw_one_hot_cube(p, ["king", "queen", "banana"]),
        "02_skipgram_pairs.png": d.draw_skipgram_diagram,
        "03_onehot_lookup.png": d.draw_onehot_lookup,
        "04_unrolled_rnn.png": lambda p: d.draw_unrolled_rnn(p, steps=4),
        "05_lstm_cell.png": d.draw_lstm_cell,
        "05_gru_cell.png": d.draw_gru_cell,
        "06_stream_batches.png": d.draw_stream_batches,
        "07_attention_step.png": d.draw_attention_diagram,
    }


#: lesson notebook -> {file name in img/: code run in the lesson's kernel, after its last cell}.
#: ``{path!r}`` is replaced by the file to write.
LESSON_FIGURES = {
    "notebooks/03_categorical_embeddings.ipynb": {
        "03_german_map.png": "cat.draw_german_map({path!r}, xy_km, learned, cities, fit.aligned)",
        "03_shop_curves.png":
            "cat.draw_learning_curves({path!r}, shown, noise_floor=noise ** 2, "
            "best_achievable=best_mse, metric='mse')",
    },
}


def figure_names() -> list[str]:
    """Every file name this tool writes into img/, sorted."""
    lesson = [name for figures in LESSON_FIGURES.values() for name in figures]
    return sorted([*_diagrams(), *lesson])


def _replace_if_changed(fresh: Path, target: Path) -> bool:
    """Move ``fresh`` onto ``target`` unless the bytes are equal. True if ``target`` changed."""
    if target.is_file() and target.read_bytes() == fresh.read_bytes():
        fresh.unlink()
        return False
    os.replace(fresh, target)  # atomic: a reader never sees half a PNG
    return True


def draw_diagrams(names: list[str], out_dir: Path = IMG) -> list[str]:
    """Draw the named diagrams into ``out_dir``; returns the names whose file changed."""
    diagrams = _diagrams()
    changed = []
    for name in names:
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=out_dir)
        os.close(fd)
        try:
            diagrams[name](Path(tmp))
            if _replace_if_changed(Path(tmp), out_dir / name):
                changed.append(name)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return changed


def draw_lesson_figures(notebook: str, names: list[str], out_dir: Path = IMG) -> list[str]:
    """Execute ``notebook`` headless, then draw the named figures from its variables."""
    import nbformat
    from nbclient import NotebookClient

    path = ROOT / notebook
    nb = nbformat.read(path, as_version=4)
    tmp_paths = {}
    for name in names:
        fd, tmp = tempfile.mkstemp(suffix=".png", dir=out_dir)
        os.close(fd)
        tmp_paths[name] = Path(tmp)
        code = LESSON_FIGURES[notebook][name].format(path=tmp)
        nb.cells.append(nbformat.v4.new_code_cell(code))
    changed = []
    try:
        # The course kernel (tools/install_kernel.py) carries the lessons' environment.
        NotebookClient(nb, timeout=1200, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        for name, tmp in tmp_paths.items():
            if tmp.stat().st_size == 0:
                raise RuntimeError(f"{notebook} ran, but drawing {name} wrote nothing")
            if _replace_if_changed(tmp, out_dir / name):
                changed.append(name)
    finally:
        for tmp in tmp_paths.values():
            tmp.unlink(missing_ok=True)
    return changed


def check(out_dir: Path = IMG) -> list[str]:
    """Problems with ``out_dir``: orphan images, missing figures, diagrams that are out of date.

    Lesson figures are only checked for existence (redrawing them means training a model).
    """
    problems = []
    known = set(figure_names())
    present = {p.name for p in out_dir.iterdir() if p.is_file() and not p.name.startswith(".")}
    problems += [f"{n}: not drawn by tools/draw_figures.py (orphan)" for n in sorted(present - known)]
    problems += [f"{n}: missing (run make figures)" for n in sorted(known - present)]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        diagrams = sorted(set(_diagrams()) & present)
        draw_diagrams(diagrams, fresh)
        problems += [f"{n}: out of date with its draw function (run make figures)"
                     for n in diagrams if (fresh / n).read_bytes() != (out_dir / n).read_bytes()]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="file names in img/ to redraw (default: all)")
    parser.add_argument("--diagrams-only", action="store_true",
                        help="skip the figures that need a lesson to run")
    parser.add_argument("--check", action="store_true",
                        help="redraw nothing; report stale, missing or orphan images")
    args = parser.parse_args(argv)

    if args.check:
        problems = check()
        print("\n".join(problems) or f"img/ is up to date ({len(figure_names())} figures)")
        return 1 if problems else 0
    unknown = sorted(set(args.names) - set(figure_names()))
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; known: {', '.join(figure_names())}")
    wanted = set(args.names or figure_names())
    changed = draw_diagrams(sorted(wanted & set(_diagrams())))
    if not args.diagrams_only:
        for notebook, figures in LESSON_FIGURES.items():
            names = sorted(wanted & set(figures))
            if names:
                print(f"running {notebook} for {', '.join(names)} ...", flush=True)
                changed += draw_lesson_figures(notebook, names)
    print(f"img/: {len(changed)} changed" + (f" ({', '.join(sorted(changed))})" if changed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
