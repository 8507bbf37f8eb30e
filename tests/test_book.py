"""The course website (tools/book.py, `make book`): built from the stored notebooks, complete,
linked, searchable, and loading nothing from outside the site.

The whole site is built once per test session into build/book/ (Sphinx on the stored notebooks
plus the slide decks): about 30 s from clean on two cores, a few seconds when only some
notebooks changed since the last build.
"""

import functools
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
book = load_tool("book", "course_book_tool")

LESSONS = book.lessons()
EXERCISES = book.exercises()
SOLUTIONS = book.solutions()


@functools.cache
def _build() -> tuple[Path | None, str]:
    try:
        return book.build(ROOT / "build" / "book"), ""
    except Exception as error:  # reported by every test that needs the site
        return None, f"{type(error).__name__}: {error}"


def built_site() -> Path:
    """build/book/html, built once per session (tests/test_book_browser.py uses it too); a
    failed build is tried once, and every test that needs the site fails with its message."""
    site, error = _build()
    if site is None:
        pytest.fail(f"make book failed: {error}", pytrace=False)
    return site


@pytest.fixture(scope="module")
def site():
    return built_site()


def page_of(notebook: Path, site: Path) -> Path:
    return site / notebook.relative_to(ROOT).with_suffix(".html")


def parsed(page: Path):
    parser = book._Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: Path) -> str:
    """The page's text as a reader sees it (no scripts or styles; Sphinx's curly quotes
    straightened)."""
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return "".join(parser.parts).replace("\u2019", "'").replace("\u201c", '"').replace(
        "\u201d", '"')


def test_the_course_has_lessons_exercises_and_solutions():
    assert len(LESSONS) >= 8 and len(EXERCISES) >= 7 and len(SOLUTIONS) >= 7


def test_every_lesson_exercise_and_solution_has_a_page(site):
    for notebook in LESSONS + EXERCISES + SOLUTIONS:
        page = page_of(notebook, site)
        assert page.is_file(), f"no page for {notebook.relative_to(ROOT)}"
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        heading = book.title(nb, "").split("—")[0].strip()
        assert heading and heading in visible_text(page), \
            f"{page.name} does not show the notebook's title {heading!r}"
    for notebook in SOLUTIONS:
        text = visible_text(page_of(notebook, site))
        assert "Solutions." in text and "Try the exercises yourself first" in text, \
            f"{notebook.name}: the solutions page is not marked as such"
    for notebook in EXERCISES:
        assert "Solutions." not in visible_text(page_of(notebook, site))


def test_every_figure_and_equation_is_on_its_page(site):
    for notebook in LESSONS + SOLUTIONS:
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        prose = "\n".join(book._text(c["source"]) for c in nb["cells"]
                          if c["cell_type"] == "markdown")
        page = page_of(notebook, site)
        loaded = [Path(url).name for url in parsed(page).urls]
        for figure in re.findall(r"\]\(\.\./(?:\.\./)*img/([^)\s]+)\)", prose):
            assert figure in loaded, f"{page.name} does not show img/{figure}"
        plots = sum(1 for c in nb["cells"] for o in c.get("outputs", [])
                    if "image/png" in o.get("data", {}))
        assert sum(1 for name in loaded if re.fullmatch(r"[0-9a-f]{64}\.png", name)) >= plots, \
            f"{page.name} shows fewer plots than the notebook stores"
        equations = len(re.findall(r"\$[^$\n]+\$", prose))
        rendered = page.read_text(encoding="utf-8").count('class="math notranslate nohighlight"')
        assert rendered >= 0.9 * equations, f"{page.name}: {rendered} of {equations} equations"
        assert "$$" not in visible_text(page), f"{page.name}: raw TeX on the page"


def test_home_syllabus_and_instructor_pages(site):
    home = visible_text(site / "index.html")
    assert "For whom" in home and "make lab" in home and "make test" in home
    syllabus = visible_text(site / "syllabus.html")
    assert "runtime and peak memory on 2 cores" in syllabus
    page = (site / "syllabus.html").read_text(encoding="utf-8")
    article = page[page.index("<article"):page.index("</article>")]  # not the sidebar
    for notebook in LESSONS:
        assert f"{notebook.stem}.html" in article, f"the syllabus does not link {notebook.name}"
    instructors = visible_text(site / "instructors.html")
    assert "Presenting" in instructors and "Exercises and solutions" in instructors


def test_no_broken_link_and_nothing_loaded_from_outside(site):
    assert book.site_problems(site) == []


def test_the_link_check_finds_broken_links_and_outside_loads(tmp_path):
    (tmp_path / "a.html").write_text(
        '<html><head><script src="https://cdn.example.org/x.js"></script>'
        '<link rel="stylesheet" href="style.css"></head><body id="top">'
        '<a href="b.html">b</a><a href="missing.html">m</a><a href="a.html#nowhere">n</a>'
        '<a href="https://example.org/">fine: a link out</a><img src="img/none.png"></body>'
        '</html>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<a href="a.html#top">ok</a>', encoding="utf-8")
    (tmp_path / "style.css").write_text("@import url('https://fonts.example.org/f.css');")
    problems = "\n".join(book.site_problems(tmp_path))
    assert "loads https://cdn.example.org/x.js" in problems
    assert "links to missing.html" in problems
    assert "no anchor #nowhere" in problems
    assert "img/none.png" in problems
    assert "fonts.example.org" in problems
    assert "example.org/\n" not in problems + "\n" and "b.html" not in problems


def test_each_lesson_links_its_notebook_exercises_and_slides(site):
    for lesson in LESSONS:
        links = parsed(page_of(lesson, site)).links
        assert any(link.endswith(f"/{lesson.name}") and "_downloads" in link for link in links), \
            f"{lesson.name}: no download link to the notebook"
        assert f"../slides/{lesson.stem}.slides.html" in links, f"{lesson.name}: no slides link"
        for exercise in [e for e in EXERCISES if e.name[:2] == lesson.name[:2]]:
            assert f"exercises/{exercise.stem}.html" in links, \
                f"{lesson.name}: no link to {exercise.name}"
    for exercise in EXERCISES:
        lesson = [n for n in LESSONS if n.name[:2] == exercise.name[:2]]
        assert lesson, f"{exercise.name} belongs to no lesson"
        assert f"../{lesson[0].stem}.html" in parsed(page_of(exercise, site)).links, \
            f"{exercise.name}: no link back to its lesson"


def test_search_index_holds_the_lesson_texts(site):
    text = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    docs = index["docnames"]
    search = book_search_language()
    for lesson in LESSONS:
        doc = docs.index(lesson.relative_to(ROOT).with_suffix("").as_posix())
        nb = json.loads(lesson.read_text(encoding="utf-8"))
        prose = " ".join(book._text(c["source"]) for c in nb["cells"]
                         if c["cell_type"] == "markdown")
        words = {w.lower() for w in re.findall(r"\b[A-Za-z]{5,}\b", re.sub(r"\$[^$]*\$", "",
                                                                               prose))}
        words = {w for w in words if w not in search.stopwords}
        found = [w for w in words
                 if doc in _docs_of(index["terms"].get(search.stem(w)))
                 or doc in _docs_of(index["titleterms"].get(search.stem(w)))]
        assert len(found) >= 0.95 * len(words) and len(words) > 50, \
            f"{lesson.name}: only {len(found)} of its {len(words)} words are in the search index"
    lesson04 = docs.index(next(n for n in LESSONS if n.name.startswith("04_"))
                          .relative_to(ROOT).with_suffix("").as_posix())
    assert lesson04 in (_docs_of(index["terms"].get(search.stem("vanishing")))
                        | _docs_of(index["titleterms"].get(search.stem("vanishing"))))


def book_search_language():
    from sphinx.search.en import SearchEnglish

    return SearchEnglish({})


def _docs_of(entry) -> set[int]:
    if entry is None:
        return set()
    return {entry} if isinstance(entry, int) else set(entry)


def test_pages_show_no_test_plumbing_and_no_unstarted_progress_bars(site):
    for notebook in LESSONS + SOLUTIONS:
        text = visible_text(page_of(notebook, site))
        assert "NBVAL" not in text, f"{notebook.name}: a NBVAL marker is on the page"
        assert not re.search(r"(?<![0-9])0%\|", text), f"{notebook.name}: an unstarted bar"


def test_builds_offline_once_the_npm_packages_are_cached(site, monkeypatch, tmp_path):
    monkeypatch.setattr(book.slides, "REGISTRY", "http://127.0.0.1:9")  # nothing listens there
    assert len(book.fetch()) == 1 + len(book.slides.PACKAGES)  # the cache the build filled
    with pytest.raises(RuntimeError, match="make setup"):
        book.fetch(tmp_path)  # an empty cache, and no registry


# --- the rendering rules, on a small made-up notebook ----------------------------------------


def _bar_state():
    """The widget state tqdm leaves behind: a box of a label, a bar and a label."""
    def model(name, **state):
        return {"model_name": name, "state": state}
    return {"box": model("HBoxModel", children=["IPY_MODEL_l", "IPY_MODEL_p", "IPY_MODEL_r"]),
            "l": model("HTMLModel", value="train:\u2007100%"),
            "p": model("FloatProgressModel", value=30.0, max=30.0),
            "r": model("HTMLModel", value="\u200730/30\u2007[00:01&lt;00:00]")}


def test_readable_strips_markers_and_shows_final_progress():
    widget = {"application/vnd.jupyter.widget-view+json": {"model_id": "box"},
              "text/plain": ["train:   0%|          | 0/30 [00:00<?, ?it/s]"]}
    unknown = {"application/vnd.jupyter.widget-view+json": {"model_id": "gone"},
               "text/plain": ["eval:   0%|          | 0/5 [00:00<?, ?it/s]"]}
    nb = {"metadata": {"widgets": {book.WIDGET_STATE: {"state": _bar_state()}}}, "cells": [
        {"cell_type": "code", "metadata": {"tags": ["nbval-ignore-output", "keep"]},
         "source": "# NBVAL_IGNORE_OUTPUT\nx = train()\n", "outputs": [
             {"output_type": "display_data", "metadata": {}, "data": widget},
             {"output_type": "display_data", "metadata": {}, "data": unknown},
             {"output_type": "stream", "name": "stderr",
              "text": "fit:  50%|#####     | 1/2\rfit: 100%|##########| 2/2\n"},
             {"output_type": "stream", "name": "stdout", "text": "loss 0.25\n"}]}]}
    cell = book.readable(nb)["cells"][0]
    assert cell["source"] == "x = train()\n"
    assert cell["metadata"]["tags"] == ["keep"]
    texts = [o["data"]["text/plain"] if "data" in o else o["text"] for o in cell["outputs"]]
    assert texts == ["train: 100%|██████████| 30/30 [00:01<00:00]",
                     "fit: 100%|##########| 2/2\n", "loss 0.25\n"]
    assert "widgets" not in book.readable(nb)["metadata"]
    assert nb["cells"][0]["source"].startswith("# NBVAL")  # the stored notebook is untouched


def test_readme_sections_become_pages():
    readme = ("# Course\n\nIntro.\n\n**For whom:** you.\n\n## Two commands\n\n`make lab`\n\n"
              "## Syllabus\n\n| # | notebook |\n\n## For students\n\nDo it.\n\n"
              "## For instructors\n\nPresent it, see [data](#data-online-and-offline).\n\n"
              "## Data, online and offline\n\nMirror.\n\n## Licence\n\nMIT.\n")
    pages = book.readme_pages(readme, ["notebooks/01_a"], ["notebooks/exercises/01_a"], [])
    assert pages["index.md"].startswith("# Course\n\nIntro.")
    assert "## Two commands\n\n`make lab`" in pages["index.md"]
    assert "notebooks/01_a" in pages["index.md"] and "Licence" not in pages["index.md"]
    assert "| # | notebook |" in pages["syllabus.md"] and "Do it." in pages["syllabus.md"]
    assert "Present it" in pages["instructors.md"] and "## Data, online and offline" in \
        pages["instructors.md"]
