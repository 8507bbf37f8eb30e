"""The course website: every lesson, exercise and solution as a page, searchable, offline.

    python tools/book.py build [--out build/book]     # `make book`: open build/book/html/index.html
    python tools/book.py sources [--out build/book]   # only assemble the Sphinx sources
    python tools/book.py check [--out build/book]     # broken links or network loads in the site
    python tools/book.py fetch [--best-effort]        # cache the npm packages (`make setup`)

Sphinx with MyST-NB renders the notebooks as they are stored (CI re-ran them under nbval; no
cell is executed here). ``sources`` writes everything the build reads into ``build/book/src/``,
so nothing generated is committed: the lessons, exercise notebooks and solutions (copied, with
test plumbing such as ``# NBVAL_IGNORE_OUTPUT`` lines removed and progress-bar widgets replaced
by the text of their final state), ``img/``, the home, syllabus and instructor pages cut from
README.md, and MathJax (a pinned npm tarball checked against its sha512 and cached, exactly as
``make slides`` gets its libraries). ``build`` then runs Sphinx into ``build/book/html/`` and the
slides of every lesson into ``build/book/html/slides/``, and fails if any page links to a file
that is not there or loads anything from the network.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "book"
CONF = Path(__file__).resolve().parent / "book_conf.py"


def _load_tool(name: str):
    """tools/<name>.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"course_{name}_tool",
                                                  Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


#: The pinned-npm fetch and the offline check of the slides; nbval's marker comments and tags.
slides, markers = _load_tool("slides"), _load_tool("markers")

#: MathJax 3 (Sphinx's math extension and MyST speak its configuration). The combined TeX
#: component, its CommonHTML fonts, and what it loads on demand (TeX extensions, the menu and
#: its accessibility tools); not the SVG output.
MATHJAX = slides.Package(
    "mathjax", "3.2.2",
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
    ("LICENSE", "es5/tex-mml-chtml.js", "es5/input/tex/", "es5/input/mml/",
     "es5/output/chtml/", "es5/ui/", "es5/a11y/", "es5/sre/"),
    "mathjax")

CSS = """\
/* Wide outputs (tables, model summaries, long lines) scroll sideways inside their cell
   instead of widening the page; on a phone the text stays readable. */
div.cell_output { max-width: 100%; overflow-x: auto; }
div.cell_output table { display: block; max-width: 100%; overflow-x: auto; }
div.cell_output pre { white-space: pre; overflow-x: auto; }
div.cell_output img { max-width: 100%; height: auto; }
/* Wide screens have the sidebar's search box; the theme's top bar would only repeat it. */
@media (min-width: 960px) { .bd-header { display: none; } }
"""

JS = """\
// Opened from file:// (a USB stick), browsers refuse the fetch() with which Sphinx's search
// shows a snippet of each result page: list the results by title only there. Served over
// http, the snippets stay.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: The text a tqdm widget leaves behind when it is saved before it ran: "desc:   0%|   | 0/N".
UNSTARTED_BAR = re.compile(r"^[^|\n]*\b0%\|")
HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.MULTILINE)


# --------------------------------------------------------------------------------------------
# The notebooks, made fit for reading
# --------------------------------------------------------------------------------------------


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def lessons(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def exercises(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks" / "exercises").glob("*.ipynb"))


def solutions(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks" / "exercises" / "solutions").glob("*.ipynb"))


def number(notebook: Path) -> str:
    """The lesson number a notebook belongs to ("04" for 04_rnn_..._exercises.ipynb)."""
    return notebook.name[:2]


def title(nb: dict, fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = HEADING.search(_text(cell["source"]))
            if match:
                return match.group(2).strip()
    return fallback


def widget_text(model_id: str, state: dict) -> str | None:
    """The text of a saved widget's final state (tqdm: "desc: 100%|██████████| 9/9 [...]").

    Knows the widgets a progress bar is made of: a box of HTML labels and a progress bar.
    None for anything else, or when the state was not saved.
    """
    model = state.get(model_id)
    if model is None:
        return None
    name, values = model.get("model_name"), model.get("state", {})
    if name in ("HBoxModel", "VBoxModel"):
        parts = [widget_text(child.removeprefix("IPY_MODEL_"), state)
                 for child in values.get("children", [])]
        return None if not parts or None in parts else "".join(parts)
    if name in ("HTMLModel", "LabelModel"):
        text = html.unescape(re.sub(r"<[^>]*>", "", str(values.get("value", ""))))
        return text.replace("\u2007", " ").replace("\xa0", " ")
    if name in ("FloatProgressModel", "IntProgressModel"):
        top = float(values.get("max") or 0)
        filled = round(10 * float(values.get("value") or 0) / top) if top > 0 else 0
        filled = min(max(filled, 0), 10)
        return "|" + "█" * filled + " " * (10 - filled) + "|"
    return None


def final_state(text: str) -> str:
    """Stream text as a terminal leaves it: of each line redrawn with carriage returns, the last
    drawing (a text progress bar's final state)."""
    lines = []
    for line in text.split("\n"):
        drawn = [piece for piece in line.split("\r") if piece.strip()]
        lines.append(drawn[-1] if drawn else "")
    return "\n".join(lines)


def readable_outputs(outputs: list[dict], widgets: dict) -> list[dict]:
    """Outputs as a static page should show them: widgets as the text of their final state
    (or dropped when only the unstarted bar is known), streams without redrawn lines."""
    kept = []
    for out in outputs:
        data = out.get("data", {})
        if WIDGET_VIEW in data:
            text = widget_text(data[WIDGET_VIEW].get("model_id", ""), widgets)
            if text is None:
                text = _text(data.get("text/plain", ""))
                if not text.strip() or UNSTARTED_BAR.match(text):
                    continue
            kept.append({"output_type": "display_data", "metadata": {},
                         "data": {"text/plain": text}})
        elif out.get("output_type") == "stream":
            text = final_state(_text(out.get("text", "")))
            if UNSTARTED_BAR.match(text.strip()):
                continue
            kept.append({**out, "text": text})
        else:
            kept.append(out)
    return kept


def readable(nb: dict) -> dict:
    """A copy of a notebook for the website: no test plumbing, static outputs only."""
    nb = json.loads(json.dumps(nb))
    widgets = nb.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None:
            cell["metadata"]["tags"] = [t for t in tags if t not in markers.TAGS.values()]
        if cell["cell_type"] != "code":
            continue
        lines = _text(cell["source"]).splitlines(keepends=True)
        source = "".join(line for line in lines if not markers.MARKER_LINE.match(line))
        cell["source"] = source.lstrip("\n")
        cell["outputs"] = readable_outputs(cell.get("outputs", []), widgets)
    return nb


def add_after_title(nb: dict, markdown: str, suffix: str = "") -> None:
    """Put ``markdown`` right under the notebook's title (adding ``suffix`` to the title)."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = _text(cell["source"])
        match = HEADING.search(source)
        if match:
            head = source[:match.end()] + suffix
            cell["source"] = f"{head}\n\n{markdown}\n{source[match.end():]}"
            return
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": markdown})


def _rel(target: str, page: str) -> str:
    """Path of ``target`` relative to the folder of ``page`` (both relative to src/)."""
    return Path(os.path.relpath(target, os.path.dirname(page) or ".")).as_posix()


def _download(original: str, page: str) -> str:
    name = Path(original).name
    return f"{{download}}`{name} <{_rel('_original/' + original, page)}>`"


# --------------------------------------------------------------------------------------------
# Pages cut from the README
# --------------------------------------------------------------------------------------------


def readme_sections(readme: str) -> tuple[str, dict[str, str]]:
    """(the text before the first ``##`` section, {section title: its body})."""
    parts = re.split(r"^## +(.+)$", readme, flags=re.MULTILINE)
    preamble, sections = parts[0], {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        sections[name.strip()] = body.strip("\n")
    return preamble.strip("\n"), sections


def _sections(sections: dict[str, str], names: list[str]) -> str:
    return "\n\n".join(f"## {name}\n\n{sections[name]}" for name in names if name in sections)


def _toctree(caption: str, docs: list[str]) -> str:
    entries = "\n".join(docs)
    return f":::{{toctree}}\n:caption: {caption}\n:hidden:\n\n{entries}\n:::\n"


INSTRUCTOR_SECTIONS = ["For instructors", "Data, online and offline",
                       "How the notebooks are tested", "Measured results", "The course website"]


def readme_pages(readme: str, lesson_docs: list[str], exercise_docs: list[str],
                 solution_docs: list[str]) -> dict[str, str]:
    """index.md, syllabus.md and instructors.md from the README's sections."""
    preamble, sections = readme_sections(readme)
    home = [preamble, _sections(sections, ["Two commands"]),
            "## Reading this website\n\n"
            "The [syllabus](syllabus.md) lists the lessons with their runtimes and the exercise "
            "notebook that goes with each. Every lesson is shown here exactly as it is stored "
            "in the repository, outputs included, as the tests last checked them; each lesson "
            "page links to its notebook, its exercises and its slides. The search box finds a "
            "word in every lesson and exercise, and works without internet (the site opens from "
            "a USB stick). Instructors: see [for instructors](instructors.md).",
            _toctree("Course", ["syllabus", "instructors", "CONTRIBUTING"]),
            _toctree("Lessons", lesson_docs),
            _toctree("Exercises", exercise_docs),
            _toctree("Solutions", solution_docs)]
    syllabus = ["# Syllabus", sections.get("Syllabus", ""),
                _sections(sections, ["For students"])]
    instructors = ["# For instructors",
                   sections.get("For instructors", ""),
                   _sections(sections, INSTRUCTOR_SECTIONS[1:])]
    return {"index.md": "\n\n".join(home) + "\n",
            "syllabus.md": "\n\n".join(syllabus) + "\n",
            "instructors.md": "\n\n".join(instructors) + "\n"}


# --------------------------------------------------------------------------------------------
# Assembling the sources
# --------------------------------------------------------------------------------------------


def _notebook_json(nb: dict) -> bytes:
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def fetch(cache: Path | None = None) -> list[Path]:
    """Every npm package the site needs (MathJax, and the slides' libraries), downloaded once,
    checked against its pinned sha512 and unpacked into the per-user cache; later builds need
    no network. A clear error when neither the registry nor a cached copy is there."""
    cache = cache or slides.cache_dir()
    folders = []
    for package in (MATHJAX, *slides.PACKAGES):
        try:
            folders.append(slides.unpacked(package, cache))
        except OSError as error:
            raise RuntimeError(
                f"{package.name}@{package.version} is not cached in {cache} and could not be "
                f"fetched from {package.url} ({error}). Run `make setup` or "
                "`python tools/book.py fetch` once with internet; the copy is kept.") from error
    return folders


def source_files(root: Path = ROOT, cache: Path | None = None) -> dict[str, bytes]:
    """Every file of the Sphinx source folder, by path relative to it."""
    files: dict[str, bytes] = {"conf.py": CONF.read_bytes(), "_static/course.css": CSS.encode(),
                               "_static/course.js": JS.encode()}
    mathjax = fetch(cache)[0]
    for path in sorted(mathjax.rglob("*")):
        if path.is_file():
            files[f"_static/{MATHJAX.dest}/{path.relative_to(mathjax).as_posix()}"] = \
                path.read_bytes()
    for path in sorted((root / "img").glob("*")):
        if path.is_file():
            files[f"img/{path.name}"] = path.read_bytes()
    for name in ("CONTRIBUTING.md",):
        if (root / name).is_file():
            files[name] = (root / name).read_bytes()

    def load(path: Path) -> tuple[str, dict]:
        rel = path.relative_to(root).as_posix()
        files[f"_original/{rel}"] = path.read_bytes()
        return rel, json.loads(path.read_text(encoding="utf-8"))

    by_number: dict[str, dict[str, list[tuple[str, str]]]] = {}
    loaded = {}
    for kind, paths in (("lesson", lessons(root)), ("exercise", exercises(root)),
                        ("solution", solutions(root))):
        for path in paths:
            rel, nb = load(path)
            loaded[rel] = (kind, nb)
            by_number.setdefault(number(path), {}).setdefault(kind, []).append(
                (rel, title(nb, path.stem)))

    def links(kind: str, num: str, page: str) -> str:
        found = by_number.get(num, {}).get(kind, [])
        return ", ".join(f"[{t}]({_rel(rel, page)})" for rel, t in found)

    for rel, (kind, nb) in loaded.items():
        num = number(Path(rel))
        nb = readable(nb)
        lesson = links("lesson", num, rel) or "the lessons"
        if kind == "lesson":
            items = [f"- **Notebook:** {_download(rel, rel)} (run it in JupyterLab: `make lab`)"]
            if by_number[num].get("exercise"):
                items.append(f"- **Exercises:** {links('exercise', num, rel)}")
            if by_number[num].get("solution"):
                items.append(f"- **Solutions:** {links('solution', num, rel)}")
            deck = Path(rel).stem + ".slides.html"
            items.append(f'- **Slides:** <a href="{_rel("slides/" + deck, rel)}">{deck}</a> '
                         "(reveal.js; arrow keys move, Esc gives an overview)")
            add_after_title(nb, ":::{admonition} With this lesson\n:class: tip\n"
                            + "\n".join(items) + "\n:::")
        elif kind == "exercise":
            sol = links("solution", num, rel)
            add_after_title(nb, f":::{{note}}\nExercises for {lesson}. Download "
                            f"{_download(rel, rel)} and work in JupyterLab (`make lab`): "
                            "the check cell under each task says at once whether your function "
                            "is right." + (f" Worked solutions: {sol}." if sol else "")
                            + "\n:::")
        else:
            named = re.search(r"solution", title(nb, ""), re.IGNORECASE)
            exe = links("exercise", num, rel) or "the exercises"
            add_after_title(nb, f":::{{warning}}\n**Solutions.** This page shows worked answers"
                            f" to {exe}, which go with {lesson}. Try the exercises yourself "
                            "first.\n:::", "" if named else " (solutions)")
        files[rel] = _notebook_json(nb)

    def docs(kind: str) -> list[str]:
        return [rel.removesuffix(".ipynb") for rel, (k, _) in loaded.items() if k == kind]

    readme = (root / "README.md").read_text(encoding="utf-8")
    for name, text in readme_pages(readme, docs("lesson"), docs("exercise"),
                                   docs("solution")).items():
        files[name] = text.encode("utf-8")
    return files


def write_sources(src: Path, files: dict[str, bytes]) -> None:
    """Make ``src`` hold exactly ``files``; files whose bytes did not change keep their time,
    so Sphinx re-reads only what changed since the last build."""
    src.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = src / rel
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for path in sorted(src.rglob("*"), reverse=True):
        rel = path.relative_to(src).as_posix()
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# --------------------------------------------------------------------------------------------
# Checking the built site
# --------------------------------------------------------------------------------------------


class _Page(slides._Resources):
    """What a page loads (as slides' checker sees it), plus its links and its anchors."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


EXTERNAL = re.compile(r"(?i)^(?:[a-z][a-z0-9+.-]*:|//)")


def site_problems(html_dir: Path) -> list[str]:
    """Every broken internal link and every load from outside the site, over all pages.

    Links out (``<a href="https://...">``) are fine; loads (scripts, style sheets, images,
    fonts, anything ``url()`` in a local style sheet) must be local files that exist. Links
    between pages must reach an existing file and, with a ``#fragment``, an existing anchor.
    The slide decks are checked with tools/slides.py's own offline check.
    """
    pages = {p: _Page() for p in sorted(html_dir.rglob("*.html"))
             if "_static" not in p.relative_to(html_dir).parts}
    for path, parser in pages.items():
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    problems = []
    checked_css: set[Path] = set()
    for path, parser in pages.items():
        name = path.relative_to(html_dir).as_posix()
        if path.name.endswith(".slides.html"):
            problems += slides.offline_problems(path)
            continue
        for url in parser.urls:
            if url.startswith(("data:", "#")):  # "#": the page itself (rel="search")
                continue
            if EXTERNAL.match(url):
                problems.append(f"{name} loads {url} from outside the site")
                continue
            local = (path.parent / unquote(urlsplit(url).path)).resolve()
            if not local.is_file():
                problems.append(f"{name} loads {url}, which is not in the site")
            elif local.suffix == ".css" and local not in checked_css:
                checked_css.add(local)
                css = local.read_text(encoding="utf-8", errors="replace")
                problems += [f"{local.relative_to(html_dir)} loads {u} from outside the site"
                             for u in slides.EXTERNAL_IN_CODE.findall(css)]
                for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
                    if not EXTERNAL.match(ref) and not ref.startswith(("data:", "#")):
                        target = local.parent / unquote(urlsplit(ref).path)
                        if not target.is_file():
                            problems.append(f"{local.relative_to(html_dir)} loads {ref}, "
                                            "which is not in the site")
        for code in parser.inline:
            problems += [f"{name}: inline code loads {u} from outside the site"
                         for u in slides.EXTERNAL_IN_CODE.findall(code)
                         + slides.EXTERNAL_STRING.findall(code)]
        for href in parser.links:
            if EXTERNAL.match(href):
                continue
            parts = urlsplit(href)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{name} links to {href}, which is not in the site")
            elif parts.fragment and target in pages and not target.name.endswith(".slides.html"):
                if unquote(parts.fragment) not in pages[target].ids:
                    problems.append(f"{name} links to {href}: no anchor #{parts.fragment}")
    return problems


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def build(out: Path = OUT, root: Path = ROOT, *, with_slides: bool = True,
          quiet: bool = True) -> Path:
    """Assemble the sources, run Sphinx (and the slides) and return the HTML folder."""
    src, html_dir = out / "src", out / "html"
    write_sources(src, source_files(root))
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
           "-d", str(out / "doctrees"), str(src), str(html_dir)]
    if quiet:
        cmd.insert(3, "-q")
    sphinx = subprocess.run(cmd, cwd=root, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(sphinx.stderr)
    if sphinx.returncode:
        # Sphinx keeps what it read even when a warning failed the build; start afresh next
        # time so that the same warnings stop it again.
        shutil.rmtree(out / "doctrees", ignore_errors=True)
        warnings = [line.replace(str(src) + os.sep, "")
                    for line in sphinx.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
        raise RuntimeError("Sphinx stopped on these warnings (fix them in the notebook or README "
                           "they name):\n" + "\n".join(warnings[:20] or [sphinx.stderr[-2000:]]))
    if with_slides:
        slides.build(lessons(root), html_dir / "slides")
        # The decks show the figures as ../img/NAME.png, as in the repository.
        shutil.copytree(root / "img", html_dir / "img", dirs_exist_ok=True)
    return html_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "sources", "check", "fetch"))
    parser.add_argument("--out", type=Path, default=OUT, help="default: build/book")
    parser.add_argument("--best-effort", action="store_true",
                        help="fetch: warn instead of failing when offline")
    args = parser.parse_args(argv)
    if args.command == "fetch":
        try:
            folders = fetch()
        except RuntimeError as error:
            print(f"warning: {error}", file=sys.stderr)
            return 0 if args.best_effort else 1
        print(f"{len(folders)} npm packages checked and cached for make book and make slides")
        return 0
    if args.command == "sources":
        write_sources(args.out / "src", source_files())
        print(f"Sphinx sources in {args.out / 'src'}/")
        return 0
    start = time.perf_counter()
    try:
        html_dir = build(args.out) if args.command == "build" else args.out / "html"
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    problems = site_problems(html_dir)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    pages = sum(1 for _ in html_dir.rglob("*.html"))
    print(f"{pages} pages in {html_dir}/ checked: no broken link, nothing loaded from outside "
          f"({time.perf_counter() - start:.0f} s). Open {html_dir / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
