"""img/ holds only figures drawn by code (tools/draw_figures.py), and every image a notebook
shows exists. Runs in a few seconds: the diagrams are redrawn, nothing is trained."""

import importlib.util
import inspect
import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

import course_utils

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "img"
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)  # JupyterLab's autosave copies

spec = importlib.util.spec_from_file_location("draw_figures", ROOT / "tools" / "draw_figures.py")
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)

# ![alt](target "title") and <img ... src="target">
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def _source(cell) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def image_references(notebook: Path) -> list[str]:
    """Every image target the notebook's markdown shows (attachments excluded)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    refs = []
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = _source(cell)
            refs += MARKDOWN_IMAGE.findall(text) + HTML_IMAGE.findall(text)
    return [r for r in refs if not r.startswith("attachment:")]


def test_reference_parser_finds_both_syntaxes(tmp_path):
    nb = tmp_path / "x.ipynb"
    nb.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": ["![a cube](../img/a.png)\n", "<img src='b.png' width=3>"]},
        {"cell_type": "markdown", "source": "![pasted](attachment:c.png)"},
        {"cell_type": "code", "source": "# ![not markdown](d.png)"},
    ]}))
    assert image_references(nb) == ["../img/a.png", "b.png"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_image_a_notebook_shows_exists(notebook):
    for ref in image_references(notebook):
        assert not re.match(r"(?i)https?://", ref), (
            f"{notebook.name} loads {ref} from the internet: draw it into img/ instead")
        target = (notebook.parent / ref.split("#")[0].split("?")[0]).resolve()
        assert target.is_file(), f"{notebook.name} shows {ref}, which does not exist"


def test_img_holds_exactly_the_figures_the_tool_draws():
    present = {p.name for p in IMG.iterdir() if p.is_file()}
    drawn = set(figures.figure_names())
    assert not present - drawn, f"orphan images (no code draws them): {sorted(present - drawn)}"
    assert not drawn - present, f"missing images, run make figures: {sorted(drawn - present)}"


def test_every_draw_function_in_course_utils_is_used_by_make_figures():
    import pkgutil

    tool_source = (ROOT / "tools" / "draw_figures.py").read_text(encoding="utf-8")
    names = set()
    for info in pkgutil.iter_modules(course_utils.__path__):
        module = importlib.import_module(f"course_utils.{info.name}")
        names |= {n for n, f in inspect.getmembers(module, inspect.isfunction)
                  if n.startswith("draw_") and f.__module__ == module.__name__}
    assert "draw_gru_cell" in names
    unused = sorted(n for n in names if f".{n}" not in tool_source)
    assert not unused, f"draw functions that make figures never calls: {unused}"


def test_lessons_write_only_deterministic_diagrams_into_img():
    """A lesson run by the tests must leave git clean: it may redraw a diagram (same bytes),
    never a figure of trained results (those differ from run to run and CPU to CPU)."""
    diagrams = set(figures._diagrams())
    for notebook in NOTEBOOKS:
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            code = re.sub(r"#.*", "", _source(cell))  # comments may name a file freely
            for literal in re.findall(r"[\"']([^\"'\n]*\.png)[\"']", code):
                name = literal.rsplit("/", 1)[-1]
                assert name in diagrams, f"{notebook.name} writes {literal}: show it inline"


@pytest.mark.parametrize("name", sorted(figures._diagrams()))
def test_each_diagram_is_a_valid_png_identical_to_img(tmp_path, name):
    figures.draw_diagrams([name], tmp_path)
    fresh = tmp_path / name
    data = fresh.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(fresh)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert np.ptp(pixels[..., :3]) > 0.5, "the image is blank"
    assert b"matplotlib version" not in data, "version stamp: the file would churn on upgrades"
    assert data == (IMG / name).read_bytes(), f"img/{name} is out of date: run make figures"


def test_lesson_figure_draw_functions_write_valid_pngs(tmp_path, rng):
    from course_utils import categorical as cat

    xy = cat.capital_coordinates_km()
    names = [c.city for c in cat.GERMAN_STATE_CAPITALS]
    learned = rng.normal(size=xy.shape)
    aligned = cat.procrustes_align(learned, xy).aligned
    cat.draw_german_map(tmp_path / "map.png", xy, learned, names, aligned)
    history = {"loss": [1.0, 0.4], "val_loss": [1.1, 0.6]}
    cat.draw_learning_curves(tmp_path / "curves.png", {"a": history}, noise_floor=0.25)
    for path in (tmp_path / "map.png", tmp_path / "curves.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert np.ptp(mpimg.imread(path)[..., :3]) > 0.5


def test_check_reports_orphans_and_stale_diagrams(tmp_path):
    name = "05_gru_cell.png"
    figures.draw_diagrams([name], tmp_path)
    (tmp_path / "copied_from_the_web.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    problems = figures.check(tmp_path)
    assert any("copied_from_the_web.png" in p and "orphan" in p for p in problems)
    assert any("03_german_map.png" in p and "missing" in p for p in problems)
    assert not any(p.startswith(name) for p in problems)
    (tmp_path / name).write_bytes(b"an older drawing")
    assert any(p.startswith(name) and "out of date" in p for p in figures.check(tmp_path))
