"""Every lesson can be presented: slide metadata on every cell (live, with RISE in JupyterLab),
and `make slides` builds static reveal.js HTML that needs no internet."""

import base64
import hashlib
import importlib.util
import io
import json
import re
import sys
import tarfile
import urllib.error
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("slides_tool", ROOT / "tools" / "slides.py")
slides = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = slides  # dataclasses look their module up while it loads
spec.loader.exec_module(slides)

LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_lessons():
    assert len(LESSONS) >= 8


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_cell_of_every_lesson_has_slide_metadata(lesson):
    cells = json.loads(lesson.read_text(encoding="utf-8"))["cells"]
    types = [c.get("metadata", {}).get("slideshow", {}).get("slide_type") for c in cells]
    assert types[0] == "slide", "a lesson starts with its title slide"
    assert set(types) <= set(slides.SLIDE_TYPES), f"unknown slide types {set(types)}"
    assert slides.check_notebook(lesson) == [], "run: python tools/slides.py tag"
    shown = [t for t in types if t != "skip"]
    assert shown.count("slide") >= 3, "a lesson has a title and at least two sections"


# --- the tagging policy, on a small made-up lesson ------------------------------------------


_ids = iter(range(10**6))


def _md(text, **slideshow):
    meta = {"slideshow": slideshow} if slideshow else {}
    return {"cell_type": "markdown", "id": f"m{next(_ids)}", "metadata": meta, "source": text}


def _code(text, outputs=()):
    return {"cell_type": "code", "id": f"c{next(_ids)}", "metadata": {}, "execution_count": 1,
            "outputs": list(outputs), "source": text}


def _stream(n_lines):
    return {"output_type": "stream", "name": "stdout", "text": "x\n" * n_lines}


def _notebook(tmp_path, cells):
    path = tmp_path / "99_made_up.ipynb"
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _types(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c["metadata"]["slideshow"]["slide_type"] for c in cells], cells


def test_tag_policy_title_sections_setup_diagrams_and_overflow(tmp_path):
    path = _notebook(tmp_path, [
        _md("# Lesson 99 · A title\n\nWhat we do."),
        _md("## 1 · Setup"),
        _code("import numpy as np"),
        _md("## 2 · Data\n\nSome words."),
        _code('draw_thing("../img/99_x.png")'),
        _md("![the thing](../img/99_x.png)"),
        _code("print(1)", [_stream(3)]),
        _code("print(2)", [_stream(20)]),  # does not fit below the previous cells
        _md("### A detail"),
    ])
    slides.tag_notebook(path)
    types, _ = _types(path)
    assert types == ["slide", "skip", "skip", "slide", "skip", "-", "-", "subslide", "subslide"]
    assert slides.check_notebook(path) == []


def test_tag_keeps_hand_set_values_and_outputs_and_is_idempotent(tmp_path):
    outputs = [_stream(2)]
    path = _notebook(tmp_path, [_md("# T"), _code("x = 1", outputs), _md("note", slide_type="notes")])
    counts = slides.tag_notebook(path)
    types, cells = _types(path)
    assert types == ["slide", "-", "notes"] and counts["tagged"] == 2
    assert cells[1]["outputs"] == outputs
    before = path.read_bytes()
    assert slides.tag_notebook(path) == {"split": 0, "tagged": 0}
    assert path.read_bytes() == before, "a second run must not rewrite the file"
    slides.tag_notebook(path, force=True)
    assert _types(path)[0] == ["slide", "-", "-"]


def test_tag_splits_a_heading_in_the_middle_of_a_cell_but_not_in_code_blocks(tmp_path):
    text = "Intro line.\n\n```python\n# not a heading\n```\n\n## Next section\n\nBody."
    path = _notebook(tmp_path, [_md("# T"), _md(text)])
    assert slides.check_notebook(path) != []  # untagged, and a buried section
    assert slides.tag_notebook(path)["split"] == 1
    types, cells = _types(path)
    assert types == ["slide", "-", "slide"]
    assert cells[2]["source"].startswith("## Next section")
    assert "\n\n".join(c["source"] for c in cells[1:]) == text, "the text itself is unchanged"
    assert cells[2]["id"] == cells[1]["id"] + "-1"


def test_check_names_what_is_wrong(tmp_path):
    path = _notebook(tmp_path, [_md("Not a title", slide_type="-"), _md("## S", slide_type="-"),
                                _md("x", slide_type="sideways")])
    problems = "\n".join(slides.check_notebook(path))
    assert "first cell must start a slide" in problems
    assert "'S' does not start a slide" in problems
    assert "'sideways'" in problems


# --- offline HTML ---------------------------------------------------------------------------


def test_offline_check_catches_cdn_loads_but_allows_links(tmp_path):
    (tmp_path / "local.css").write_text("@import url(https://fonts.example.org/x.css);")
    page = tmp_path / "deck.html"
    page.write_text(
        '<html><head><script src="https://unpkg.com/reveal.js@4.0.2/dist/reveal.js"></script>'
        '<link rel="stylesheet" href="local.css"><link rel="stylesheet" href="gone.css">'
        "<script type=module>import m from 'https://cdn.example.org/m.mjs';</script>"
        '<script>require(["reveal.js/dist/reveal.js", "https://unpkg.com/x/notes.js"]);</script>'
        "</head>"
        '<body><a href="https://keras.io">a link is fine</a>'
        '<img src="data:image/png;base64,AAAA"></body></html>')
    problems = "\n".join(slides.offline_problems(page))
    assert "unpkg.com" in problems
    assert "fonts.example.org" in problems and "local.css" in problems
    assert "gone.css" in problems
    assert "cdn.example.org" in problems
    assert "requires reveal.js/dist/reveal.js" in problems
    assert "inline code loads https://unpkg.com/x/notes.js" in problems
    assert "keras.io" not in problems and "data:" not in problems


def _vendored_or_skip(out_dir):
    try:
        slides.vendor_into(out_dir)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        pytest.skip(f"reveal.js/MathJax not cached and the npm registry is unreachable: {err}")


def test_build_one_lesson_works_offline(tmp_path):
    _vendored_or_skip(tmp_path)
    lesson = ROOT / "notebooks" / "00_setup_check.ipynb"
    (page,) = slides.build([lesson], tmp_path)
    html = page.read_text(encoding="utf-8")
    assert slides.offline_problems(page) == []
    assert html.count("<section") >= 5, "one section per slide"
    assert 'src="vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"' in html
    for needed in ("vendor/mathjax/config/TeX-AMS_CHTML-full.js", "vendor/mathjax/config/Safe.js",
                   "vendor/mathjax/jax/output/CommonHTML/jax.js",
                   "vendor/mathjax/fonts/HTML-CSS/TeX/woff/MathJax_Main-Regular.woff",
                   "reveal.js/plugin/notes/notes.js", "reveal.js/dist/theme/white.css"):
        assert (tmp_path / needed).is_file(), needed
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="00_setup_check.slides.html">Lesson 00 · Setup check</a>' in index


def test_a_deck_carries_its_diagrams_and_hides_test_plumbing(tmp_path):
    _vendored_or_skip(tmp_path)
    lesson = ROOT / "notebooks" / "04_rnn_from_scratch.ipynb"
    (page,) = slides.build([lesson], tmp_path)
    html = page.read_text(encoding="utf-8")
    linked = set(re.findall(r'<img[^>]*\bsrc="(img/[^"]+)"', html))
    assert "img/04_unrolled_rnn.png" in linked
    assert all((tmp_path / src).is_file() for src in linked), linked
    assert "../img/" not in html
    assert slides.offline_problems(page) == []
    assert "NBVAL" not in html, "nbval's markers must not reach a slide"
    assert not re.search(r"(^|\s)0%\|", html), "a progress bar frozen at 0 % reached a slide"


def _bar(text, widget=True):
    data = {"text/plain": text}
    if widget:
        data["application/vnd.jupyter.widget-view+json"] = {"model_id": "x", "version_major": 2}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def test_for_slides_drops_markers_and_unmoved_bars_and_relinks_images():
    kept = [_bar("train: 100%|##########| 1500/1500 [00:04<00:00]"),
            _bar("epoch 0: 0%| is what I print", widget=False), _stream(2)]
    nb = {"metadata": {}, "cells": [
        _code("# NBVAL_IGNORE_OUTPUT\nx = train()  # NBVAL is fine in a sentence",
              outputs=[_bar("RNN:   0%|          | 0/1500 [00:00<?, ?it/s]"), *kept]),
        _md("![unrolled](../img/04_unrolled_rnn.png) and <img src='../img/a.png'>"),
        _md("![two\nlines](../img/b.png)")]}
    out = slides.for_slides(nb, "Lesson 04 · X")
    code, md, md2 = out["cells"]
    assert code["source"] == "x = train()  # NBVAL is fine in a sentence"
    assert code["outputs"] == kept, "only the widget bar that never moved is dropped"
    assert md["source"] == "![unrolled](img/04_unrolled_rnn.png) and <img src='img/a.png'>"
    assert md2["source"] == "![two\nlines](img/b.png)"
    assert out["metadata"]["title"] == "Lesson 04 · X"
    assert nb["cells"][0]["source"].startswith("# NBVAL"), "the notebook itself is unchanged"


@pytest.mark.parametrize("heading, title", [
    ("# 00 · Setup check", "Lesson 00 · Setup check"),
    ("# Lesson 04: the recurrent network from scratch",
     "Lesson 04 · The recurrent network from scratch"),
    ("# Lesson 06 - Text generation: done right", "Lesson 06 · Text generation: done right"),
    ("# Lesson 07 · Attention", "Lesson 07 · Attention"),
    ("# Attention, without a number", "Lesson 09 · Attention, without a number"),
])
def test_deck_titles_follow_one_style(tmp_path, heading, title):
    path = tmp_path / "09_made_up.ipynb"
    path.write_text(json.dumps({"cells": [_md(heading)], "metadata": {}}), encoding="utf-8")
    assert slides.deck_title(path) == title


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_gets_a_title_in_the_one_style(lesson):
    assert re.fullmatch(r"Lesson \d\d · [A-Z0-9].+", slides.deck_title(lesson)), (
        slides.deck_title(lesson))


# --- pinned downloads -----------------------------------------------------------------------


def _fake_registry(tmp_path, files):
    """A file:// 'registry' holding one tarball of ``files``; returns the tarball's sri."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tgz = tmp_path / "registry" / "demo" / "-" / "demo-1.0.0.tgz"
    tgz.parent.mkdir(parents=True)
    tgz.write_bytes(buf.getvalue())
    sri = "sha512-" + base64.b64encode(hashlib.sha512(buf.getvalue()).digest()).decode()
    return sri


def test_download_is_verified_and_never_left_half_done(tmp_path, monkeypatch):
    sri = _fake_registry(tmp_path, {"package/lib.js": b"ok", "package/../evil.js": b"no",
                                    "package/other.js": b"unused"})
    monkeypatch.setattr(slides, "REGISTRY", (tmp_path / "registry").as_uri())
    cache = tmp_path / "cache"

    wrong = slides.Package("demo", "1.0.0", "sha512-" + "A" * 88, ("lib.js",), "vendor/demo")
    with pytest.raises(ValueError, match="does not match the pinned"):
        slides.fetch_tarball(wrong, cache)
    assert list((cache / "npm").iterdir()) == [], "a bad download must leave nothing behind"

    good = slides.Package("demo", "1.0.0", sri, ("lib.js", "../evil.js"), "vendor/demo")
    with pytest.raises(ValueError, match="evil.js"):  # refused, so reported missing
        slides.unpacked(good, cache)
    assert list((cache / "slides-vendor").iterdir()) == [], "no half-unpacked folder kept"
    good = slides.Package("demo", "1.0.0", sri, ("lib.js",), "vendor/demo")
    folder = slides.unpacked(good, cache)
    assert sorted(p.name for p in folder.iterdir()) == ["lib.js"]
    assert not (cache / "evil.js").exists() and not (cache / "slides-vendor" / "evil.js").exists()
    assert (cache / "npm" / "demo-1.0.0.tgz").is_file()
