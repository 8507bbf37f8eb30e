"""Slides from the lessons: slide metadata on every cell, and static reveal.js HTML.

    python tools/slides.py tag [NOTEBOOK ...] [--force]   # give cells slide metadata
    python tools/slides.py check [NOTEBOOK ...]           # exit 1 if a lesson lacks it
    python tools/slides.py build [--out slides] [NOTEBOOK ...]   # `make slides`

``tag`` changes metadata only (plus splitting a markdown cell where a heading starts mid-cell,
so every section can begin its own slide); outputs are never touched. Values already set, by
hand in JupyterLab or by an earlier run, are kept unless ``--force`` is given.

``build`` writes ``<lesson>.slides.html`` for every lesson with ``jupyter nbconvert --to
slides``, plus local copies of reveal.js, require.js, jQuery and MathJax next to them and a
copy of ``img/`` (the lessons' diagrams), so the folder works from a USB stick with no
internet. What a reader should not see is left out of the decks (the notebooks stay as they
are): nbval's marker comments, and progress bars stored in their initial "0%|" state.
Code wraps at the slide's edge; a slide taller than the screen scrolls. Those libraries come once from the npm registry
at pinned versions; each tarball's sha512 must equal the pinned one, and it is cached under
``$COURSE_CACHE_DIR`` (else ``~/.cache/seqmodels-course``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TEMPLATES = Path(__file__).resolve().parent / "nbconvert_templates"

# --------------------------------------------------------------------------------------------
# Slide metadata
# --------------------------------------------------------------------------------------------

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
#: Lines of text that fit on one 960x700 slide at the template's 20 px font.
SLIDE_LINES = 22
CHARS_PER_LINE = 80
IMAGE_LINES = 13
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
SETUP_HEADING = re.compile(r"^(\d+\s*[·.:-]\s*)?setup$", re.IGNORECASE)
#: A code cell that only redraws a diagram into img/; the next markdown cell shows the image.
DRAW_ONLY = re.compile(r"^\s*(\w+\s*=\s*)?[\w.]*\bdraw_\w+\([^\n]*\)\s*$")
#: A slide holding less than this (a heading, a sentence) keeps the next cell even if the two
#: overflow: a lone title is a poor slide, and the slide scrolls.
MIN_FILL = 8


def _text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def _wrapped_lines(text: str, width: int = CHARS_PER_LINE) -> float:
    return sum(max(1, math.ceil(len(line) / width)) if line.strip() else 0.5
               for line in text.splitlines())


def cell_lines(cell: dict) -> float:
    """Rough height of a cell on a slide, in lines of text (source plus outputs)."""
    source = _text(cell["source"])
    if cell["cell_type"] == "markdown":
        images = len(re.findall(r"!\[|<img\b", source))
        return _wrapped_lines(source) + images * IMAGE_LINES
    height = _wrapped_lines(source) + 1
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data or "image/svg+xml" in data:
            height += IMAGE_LINES
        elif "text/html" in data:
            height += 1 + _text(data["text/html"]).count("<tr")
        elif "application/vnd.jupyter.widget-view+json" in data:
            height += 1
        else:
            text = _text(out.get("text", "")) or _text(data.get("text/plain", ""))
            height += min(_wrapped_lines(text), SLIDE_LINES)
    return height


def heading_of(cell: dict) -> tuple[int, str] | None:
    """(level, title) when a markdown cell starts with a heading, else None."""
    if cell["cell_type"] != "markdown":
        return None
    first = _text(cell["source"]).lstrip("\n").split("\n", 1)[0]
    match = HEADING.match(first)
    return (len(match.group(1)), match.group(2).strip()) if match else None


def slide_type(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def split_at_headings(cells: list[dict]) -> tuple[list[dict], int]:
    """Split markdown cells so that every heading (levels 1-3) begins a cell.

    A slide can only start at a cell, so a section heading in the middle of a cell would be
    buried in the previous slide. The text is unchanged; the first piece keeps the cell's id and
    metadata, later pieces get ids derived from it. Returns (cells, number of cells added).
    """
    result, added = [], 0
    for cell in cells:
        if cell["cell_type"] != "markdown" or cell.get("attachments"):
            result.append(cell)
            continue
        pieces, current, fenced = [], [], False
        for line in _text(cell["source"]).splitlines(keepends=True):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            match = None if fenced else HEADING.match(line.rstrip("\n"))
            if match and len(match.group(1)) <= 3 and "".join(current).strip():
                pieces.append(current)
                current = []
            current.append(line)
        pieces.append(current)
        for k, lines in enumerate(pieces):
            text = "".join(lines).rstrip("\n")
            piece = dict(cell) if k == 0 else {"cell_type": "markdown", "metadata": {}}
            if k and "id" in cell:
                piece["id"] = f"{cell['id']}-{k}"[:64]
            piece["source"] = (text if isinstance(cell["source"], str)
                               else text.splitlines(keepends=True))
            result.append(piece)
        added += len(pieces) - 1
    return result, added


def choose_slide_types(cells: list[dict], *, force: bool = False) -> list[str]:
    """The slide type for every cell.

    Policy: the first cell (the title) and every ``#``/``##`` heading start a slide, a ``###``
    heading a subslide. Plumbing is skipped: the ``## Setup`` section (imports; run the notebook
    before presenting) and code cells that only redraw a diagram the next cell shows. Other
    cells continue the current slide until it would overflow SLIDE_LINES, then start a subslide
    (below the current one), so long code and plots get room of their own. Cells that already
    have a slide type keep it unless ``force``.
    """
    types, used, in_setup = [], 0.0, False
    for i, cell in enumerate(cells):
        height = cell_lines(cell)
        heading = heading_of(cell)
        if heading and heading[0] <= 2:
            in_setup = bool(SETUP_HEADING.match(heading[1]))
        chosen = None if force else slide_type(cell)
        if chosen not in SLIDE_TYPES:
            if i == 0:
                chosen = "slide"
            elif in_setup or (cell["cell_type"] == "code" and not cell.get("outputs")
                              and DRAW_ONLY.match(_text(cell["source"]))):
                chosen = "skip"
            elif heading and heading[0] <= 2:
                chosen = "slide"
            elif heading:
                chosen = "subslide"
            elif used >= MIN_FILL and used + height > SLIDE_LINES:
                chosen = "subslide"
            else:
                chosen = "-"
        if chosen in ("slide", "subslide"):
            used = height
        elif chosen in ("-", "fragment"):
            used += height
        types.append(chosen)
    return types


def tag_notebook(path: Path, *, force: bool = False) -> dict:
    """Split mid-cell headings and set ``metadata.slideshow.slide_type`` on every cell.

    Also asks RISE to scroll slides taller than the screen (``metadata.rise.scroll``), unless
    the notebook already has its own RISE settings. Writes the file only if something changed,
    in nbformat's own layout (indent 1, sorted keys), so the git diff is the change alone.
    Returns counts: ``{"split": cells added, "tagged": slide types set or changed}``.
    """
    raw = path.read_text(encoding="utf-8")
    nb = json.loads(raw)
    nb["cells"], split = split_at_headings(nb["cells"])
    tagged = 0
    for cell, chosen in zip(nb["cells"], choose_slide_types(nb["cells"], force=force),
                            strict=True):
        if slide_type(cell) != chosen:
            cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = chosen
            tagged += 1
    nb["metadata"].setdefault("rise", {"scroll": True})
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if text != raw:
        path.write_text(text, encoding="utf-8")
    return {"split": split, "tagged": tagged}


def check_notebook(path: Path) -> list[str]:
    """What keeps this lesson from presenting well (empty when all is fine)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = []
    if cells and slide_type(cells[0]) != "slide":
        problems.append(f"{path.name}: the first cell must start a slide")
    for i, cell in enumerate(cells):
        kind = slide_type(cell)
        if kind not in SLIDE_TYPES:
            problems.append(f"{path.name} cell {i}: slide_type {kind!r}, expected one of "
                            f"{', '.join(SLIDE_TYPES)}")
        heading = heading_of(cell)
        if heading and heading[0] <= 2 and kind not in ("slide", "skip"):
            problems.append(f"{path.name} cell {i}: section {heading[1]!r} does not start a slide")
    _, added = split_at_headings(cells)
    if added:
        problems.append(f"{path.name}: {added} heading(s) in the middle of a markdown cell")
    return problems


# --------------------------------------------------------------------------------------------
# Offline libraries: pinned npm tarballs, checked, cached, unpacked
# --------------------------------------------------------------------------------------------

REGISTRY = os.environ.get("npm_config_registry", "https://registry.npmjs.org").rstrip("/")


@dataclass(frozen=True)
class Package:
    """One npm package at a pinned version: the files kept (prefixes inside the tarball's
    ``package/`` folder) and where they go in the slides folder."""

    name: str
    version: str
    integrity: str  # npm's "sha512-<base64>" of the tarball
    keep: tuple[str, ...]
    dest: str

    @property
    def url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"


# Versions: what nbconvert's reveal template was written for (reveal.js 4.0.2 in
# SlidesExporter, require.js 2.1.10 and MathJax 2.7.7 in HTMLExporter; the template calls
# MathJax 2's API). jQuery 2.0.3 is not on npm; 2.2.4 is the last of the same 2.x API.
PACKAGES = (
    Package("reveal.js", "4.0.2",
            "sha512-LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONFWMAw+8R/QUeaScCLCLrBVHDfFIEiw==",
            ("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/theme/white.css",
             "dist/theme/fonts/source-sans-pro/", "plugin/notes/notes.js"),
            "reveal.js"),
    Package("requirejs", "2.1.10",
            "sha512-4JqdTihK3kOnT387LxCHuJZ/9QsKg2EIl7LmaW35PIyM4LwCI2jwyy4fy6pbY/ZZH2JoY/QEcb5PzULFPP6gcQ==",
            ("require.js",), "vendor/requirejs"),
    Package("jquery", "2.2.4",
            "sha512-lBHj60ezci2u1v2FqnZIraShGgEXq35qCzMv4lITyHGppTnA13rwR0MgwyNJh9TnDs3aXUvd1xjAotfraMHX/Q==",
            ("LICENSE.txt", "dist/jquery.min.js"), "vendor/jquery"),
    Package("mathjax", "2.7.7",
            "sha512-OOl0B2/0tSJAtAZarXnQuLDBLgTNRqiI9VqHTQzPsxf4okT2iIpDrvaklK9x2QEMD1sDj4yRn11Ygci41DxMAQ==",
            # TeX input, CommonHTML output with its web fonts: what the template's config asks for
            ("LICENSE", "MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js",
             "config/local/", "extensions/", "jax/input/TeX/", "jax/output/CommonHTML/",
             "jax/element/", "fonts/HTML-CSS/TeX/woff/", "localization/en/"),
            "vendor/mathjax"),
)

#: nbconvert options pointing every library at the local copies (paths relative to the HTML).
NBCONVERT_OPTIONS = (
    "--SlidesExporter.reveal_url_prefix=reveal.js",
    "--SlidesExporter.reveal_theme=white",  # "simple" would load Google fonts
    # Tall slides scroll by the template's CSS; nbconvert's reveal_scroll script would size
    # them to the window again after each slide change, past the bottom of a 720 px screen.
    "--SlidesExporter.reveal_scroll=False",
    "--HTMLExporter.require_js_url=vendor/requirejs/require.js",
    "--HTMLExporter.jquery_url=vendor/jquery/dist/jquery.min.js",
    "--HTMLExporter.mathjax_url=vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
)

#: nbval's marker comments (tools/markers.py moves them into tags; a deck never shows them).
NBVAL_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+[ \t]*(?:\n|$)", re.M)
#: The text of a progress bar that has not moved: what a stored tqdm widget says without its
#: renderer ("train:   0%|          | 0/1500 [00:00<?, ?it/s]").
INITIAL_BAR = re.compile(r"(?:^|\s)0%\|")
WIDGET = "application/vnd.jupyter.widget-view+json"
#: Links from a lesson (in notebooks/) to the diagrams; the decks sit beside their own img/.
IMG_LINK = re.compile(r"(\]\(\s*|\bsrc=[\"'])\.\./img/")
DECK_TITLE = re.compile(r"^(?:lesson\s+)?(\d{2})\s*[·:.\-–—]\s*", re.IGNORECASE)


def cache_dir() -> Path:
    """Per-user cache of the course (``$COURSE_CACHE_DIR`` or ``~/.cache/seqmodels-course``)."""
    sys.path.insert(0, str(ROOT))
    from course_utils.data import cache_dir as course_cache_dir

    return course_cache_dir()


def _sri(data_file: Path) -> str:
    digest = hashlib.sha512()
    with open(data_file, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def fetch_tarball(package: Package, cache: Path) -> Path:
    """The package's tarball, downloaded once and verified against its pinned sha512.

    The download goes to a temporary file that only replaces the cached one when complete and
    correct, so a failed or tampered download never stays behind.
    """
    target = cache / "npm" / f"{package.name}-{package.version}.tgz"
    if target.is_file() and _sri(target) == package.integrity:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(package.url, timeout=60) as r:
            shutil.copyfileobj(r, out)
        got = _sri(Path(tmp))
        if got != package.integrity:
            raise ValueError(f"{package.url}: sha512 {got} does not match the pinned "
                             f"{package.integrity}; refusing to use it")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


def unpacked(package: Package, cache: Path) -> Path:
    """The kept files of the package, unpacked once into the cache (atomically, as a folder)."""
    final = cache / "slides-vendor" / f"{package.name}-{package.version}"
    if final.is_dir():
        return final
    tarball = fetch_tarball(package, cache)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for member in tar.getmembers():
                rel = member.name.removeprefix("package/")
                parts = Path(rel).parts
                if (not member.isfile() or rel == member.name or ".." in parts
                        or not any(rel == k or (k.endswith("/") and rel.startswith(k))
                                   for k in package.keep)):
                    continue
                dest = tmp.joinpath(*parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
        missing = [k for k in package.keep if not (tmp / k).exists()]
        if missing:
            raise ValueError(f"{package.name}@{package.version} has no {missing}")
        tmp.chmod(0o755)  # mkdtemp makes it private; the copies in slides/ should not be
        try:
            os.replace(tmp, final)
        except OSError:  # another build finished first: its copy is as good as ours
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def vendor_into(out_dir: Path, cache: Path | None = None) -> None:
    """Copy the pinned libraries into ``out_dir`` (downloading them on first use)."""
    cache = cache or cache_dir()
    for package in PACKAGES:
        shutil.copytree(unpacked(package, cache), out_dir / package.dest, dirs_exist_ok=True)


# --------------------------------------------------------------------------------------------
# Building and checking the HTML
# --------------------------------------------------------------------------------------------


def _is_initial_bar(output: dict) -> bool:
    """A progress-bar widget stored before it moved: its only readable text is "0%|"."""
    data = output.get("data", {})
    return WIDGET in data and bool(INITIAL_BAR.search(_text(data.get("text/plain", ""))))


def for_slides(nb: dict, title: str) -> dict:
    """A copy of notebook ``nb`` as a deck shows it: no nbval marker comments, no progress
    bars frozen at 0 %, diagram links pointing at the deck's own ``img/``, titled ``title``."""
    nb = json.loads(json.dumps(nb))
    nb.setdefault("metadata", {})["title"] = title
    for cell in nb["cells"]:
        source = _text(cell["source"])
        if cell["cell_type"] == "code":
            source = NBVAL_MARKER.sub("", source)
            cell["outputs"] = [o for o in cell.get("outputs", []) if not _is_initial_bar(o)]
        elif cell["cell_type"] == "markdown":
            source = IMG_LINK.sub(r"\1img/", source)
        cell["source"] = source
    return nb


def deck_title(notebook: Path) -> str:
    """"Lesson 04 · The recurrent network from scratch": one style for every deck, whatever
    prefix the lesson's first heading uses ("04 · ...", "Lesson 04: ...", "Lesson 04 - ...")."""
    title = lesson_title(notebook)
    number = notebook.name[:2] if notebook.name[:2].isdigit() else None
    match = DECK_TITLE.match(title)
    if match:
        number, title = match.group(1), title[match.end():]
    title = title[:1].upper() + title[1:]
    return f"Lesson {number} · {title}" if number else title


def build(notebooks: list[Path], out_dir: Path, cache: Path | None = None) -> list[Path]:
    """Static reveal.js slides for ``notebooks`` in ``out_dir``, usable offline.

    Returns the HTML files. ``out_dir/index.html`` links them; ``out_dir/img/`` is a copy of
    the diagrams.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor_into(out_dir, cache)
    shutil.copytree(ROOT / "img", out_dir / "img", dirs_exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slides-") as tmp:
        staged = []
        for notebook in notebooks:
            nb = json.loads(notebook.read_text(encoding="utf-8"))
            copy = Path(tmp) / notebook.name
            copy.write_text(json.dumps(for_slides(nb, deck_title(notebook))), encoding="utf-8")
            staged.append(copy)
        cmd = [sys.executable, "-m", "nbconvert", "--to", "slides", "--log-level=ERROR",
               f"--TemplateExporter.extra_template_basedirs={TEMPLATES}",
               "--template=course_slides", f"--output-dir={out_dir}", *NBCONVERT_OPTIONS,
               *map(str, staged)]
        subprocess.run(cmd, check=True)
    pages = [out_dir / f"{nb.stem}.slides.html" for nb in notebooks]
    missing = [p.name for p in pages if not p.is_file()]
    if missing:
        raise RuntimeError(f"nbconvert did not write {missing}")
    _write_index(out_dir)
    return pages


def lesson_title(notebook: Path) -> str:
    """The lesson's first heading (its title), else the file name."""
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        heading = heading_of(cell)
        if heading:
            return heading[1]
    return notebook.stem


def _write_index(out_dir: Path) -> None:
    """``index.html``: one link per deck in ``out_dir``, titled by the lesson's first heading."""
    items = []
    for page in sorted(out_dir.glob("*.slides.html")):
        notebook = ROOT / "notebooks" / page.name.replace(".slides.html", ".ipynb")
        title = deck_title(notebook) if notebook.is_file() else page.stem
        items.append(f'<li><a href="{html.escape(page.name)}">{html.escape(title)}</a></li>')
    (out_dir / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Sequence models: slides</title></head>\n<body>\n<h1>Sequence models: slides</h1>\n"
        "<p>Arrow keys move between slides (down: the rest of a section), Esc shows an overview,"
        " S opens the speaker view.</p>\n<ul>\n" + "\n".join(items) + "\n</ul>\n</body></html>\n",
        encoding="utf-8")


class _Resources(HTMLParser):
    """Collects what a page loads: script src, link href, img/iframe/source/embed src."""

    LOADS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
             "embed": "src", "audio": "src", "video": "src"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get(self.LOADS.get(tag, "")):
            self.urls.append(attrs[self.LOADS[tag]])
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline.append(data)


EXTERNAL_IN_CODE = re.compile(
    r"""(?:url\(\s*['"]?|@import\s+['"]|\bimport\b[^;'"]*\bfrom\s+['"]|\bimport\(\s*['"])"""
    r"""((?:https?:)?//[^'")\s]+)""", re.IGNORECASE)
#: A script or style sheet named in a string, e.g. a module handed to require.js.
EXTERNAL_STRING = re.compile(r"""["']((?:https?:)?//[^"'\s]+\.(?:m?js|css))(?:\?[^"']*)?["']""",
                             re.IGNORECASE)


def offline_problems(page: Path) -> list[str]:
    """Everything ``page`` (an HTML file) would fetch from the network, or is missing locally.

    Checks the tags that load something, the inline scripts and styles (url(), @import,
    ES-module imports), the local CSS the page loads, and the ``.js`` paths the inline
    scripts hand to require.js. Plain ``<a href>`` links are not loads and are allowed.
    """
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    problems = []
    for url in parser.urls:
        if url.startswith("data:"):
            continue
        if re.match(r"(?i)(https?:)?//", url):
            problems.append(f"{page.name} loads {url} from the network")
            continue
        local = page.parent / url.split("?")[0].split("#")[0]
        if not local.is_file():
            problems.append(f"{page.name} loads {url}, which is not in {page.parent.name}/")
        elif local.suffix == ".css":
            css = local.read_text(encoding="utf-8", errors="replace")
            problems += [f"{local.name} (via {page.name}) loads {u}"
                         for u in EXTERNAL_IN_CODE.findall(css)]
    for code in parser.inline:
        problems += [f"{page.name} inline code loads {u}"
                     for u in EXTERNAL_IN_CODE.findall(code) + EXTERNAL_STRING.findall(code)]
        for js in re.findall(r"""["']([\w./-]+\.js)["']""", code):
            if not (page.parent / js).is_file():
                problems.append(f"{page.name} requires {js}, which is not in {page.parent.name}/")
    return problems


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    tag = sub.add_parser("tag", help="add slide metadata (keeps values already set)")
    tag.add_argument("--force", action="store_true", help="recompute every slide type")
    sub.add_parser("check", help="exit 1 if a lesson lacks slide metadata")
    build_cmd = sub.add_parser("build", help="static offline HTML slides")
    build_cmd.add_argument("--out", type=Path, default=ROOT / "slides")
    for p in (tag, build_cmd, sub.choices["check"]):
        p.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or LESSONS

    if args.command == "tag":
        for nb in notebooks:
            counts = tag_notebook(nb, force=args.force)
            print(f"{nb.name}: {counts['tagged']} slide types set, {counts['split']} cells split")
        return 0
    if args.command == "check":
        problems = [p for nb in notebooks for p in check_notebook(nb)]
        print("\n".join(problems) or f"{len(notebooks)} lessons have slide metadata")
        return 1 if problems else 0
    pages = build(notebooks, args.out)
    problems = [p for page in pages for p in offline_problems(page)]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"{len(pages)} slide decks in {args.out}/ (open index.html; no internet needed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
