"""What a learner sees, in a real browser: JupyterLab started the way `make lab` starts it, and
a static slide deck, driven in headless Chromium.

- The lab starts through tools/lab.py, exactly as `make lab` does (the test only adds a free
  port, a token and temporary state folders), opens on notebooks/ without the news prompt, and
  every lesson opens unmodified with every diagram loaded: an image request that fails, or a
  diagram that does not render, fails the test. The checked requests are listed in
  build/browser/image_requests.txt.
- An exercise notebook opens unmodified on the course kernel; its check cell, run before the
  function exists, gives the course's feedback; a wrong answer gets what was tried, expected
  and returned, and the hint comes with the second failed attempt.
- A static deck from tools/slides.py, with every non-local request blocked: its diagrams load,
  no code is cut off, and every slide fits 1280x720 or scrolls.

Nothing in the repository is written: autosave is off for the test, and a last test compares
the notebooks and images with what they were. It drives Debian's `chromium` through Playwright
(Playwright's own browser download is never used) and skips only when no Chromium is installed.
Screenshots go to build/browser/.
"""

import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "browser"
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
EXERCISE = ROOT / "notebooks" / "exercises" / "04_rnn_from_scratch_exercises.ipynb"
DECK_LESSON = ROOT / "notebooks" / "04_rnn_from_scratch.ipynb"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
SCREEN = {"width": 1280, "height": 720}  # a projector
_SELECTED = re.compile(r"\bjp-mod-selected\b")
_COUNTED = re.compile(r"^\[\d+\]:$")  # the prompt of a cell that has run
STEP_TIMEOUT_MS = 60_000  # per browser step; a cold kernel start on 2 busy cores takes ~10 s
#: A diagram link in a lesson's markdown (the alt text may span lines).
DIAGRAM = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)|<img[^>]*\bsrc=[\"']([^\"']+)")


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(f"{name}_tool", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


lab_tool = _load_tool("lab")


def _find_chromium():
    """Path of a Chromium binary: $CHROMIUM, then Debian's names on PATH, else None."""
    candidates = [os.environ.get("CHROMIUM"), shutil.which("chromium"),
                  shutil.which("chromium-browser"), "/usr/bin/chromium"]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _digest_of_course_files():
    """sha256 of every notebook and image in the repository, to prove nothing was written."""
    files = sorted(p for folder in ("notebooks", "img") for p in (ROOT / folder).rglob("*")
                   if p.is_file())  # checkpoints included: the lab must not write those either
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _diagrams(notebook):
    """The repository paths of the images a notebook's markdown shows."""
    paths = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            for link in (a or b for a, b in DIAGRAM.findall(source)):
                if not re.match(r"(?i)(https?:|data:)", link):
                    paths.append(str((notebook.parent / link).resolve().relative_to(ROOT)))
    return paths


def _api(url, token, method="GET"):
    request = urllib.request.Request(url, method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read() or b"null")


def _wait_for_server(process, base, token, log_path, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {process.returncode} before it was ready; "
                        f"its log:\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            _api(f"{base}/api/status", token)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    pytest.fail(f"JupyterLab did not answer {base}/api/status within {timeout:.0f} s; "
                f"its log:\n{log_path.read_text(errors='replace')[-4000:]}")


def _stop_server(process, base, token):
    """Shut the server and its kernels down, politely first; kill whatever is left."""
    try:
        family = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    if process.poll() is None:
        try:
            _api(f"{base}/api/shutdown", token, method="POST")
            process.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            pass
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Kernels run in sessions of their own, so the process group does not reach them.
    for child in family:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture(scope="module")
def chromium():
    path = _find_chromium()
    if path is None:
        pytest.skip("Chromium not found at /usr/bin/chromium or on PATH "
                    "(Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome)")
    return path


@pytest.fixture(scope="module")
def untouched():
    """The course files as they were before any browser test ran."""
    return _digest_of_course_files()


@pytest.fixture(scope="module")
def lab(chromium, untouched, tmp_path_factory):
    """JupyterLab as `make lab` starts it (tools/lab.py), on a free localhost port.

    Only test plumbing is added: a random token, no browser, temporary config, data, runtime,
    settings, workspace and checkpoint folders (so the kernel named python3 is the course kernel that
    tools/install_kernel.py put into this environment), and autosave off, so that nothing a
    test types is ever saved into the repository. Yields (base URL, token, server log path).
    """
    state = tmp_path_factory.mktemp("jupyter")
    token, port = secrets.token_hex(24), _free_port()
    base = f"http://127.0.0.1:{port}"
    env = lab_tool.environment(dict(
        os.environ, JUPYTER_TOKEN=token, IPYTHONDIR=str(state / "ipython"),
        **{f"JUPYTER_{kind}_DIR": str(state / kind.lower()) for kind in ("CONFIG", "DATA", "RUNTIME")}))
    labconfig = state / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(
        {"@jupyterlab/docmanager-extension:plugin": {"autosave": False}}))
    command = lab_tool.command(
        "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.allow_root=True",  # CI runs as root
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        # opening a notebook makes a checkpoint copy of it: keep those out of the repository
        f"--FileCheckpoints.root_dir={state / 'checkpoints'}")
    log_path = state / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_server(process, base, token, log_path)
        yield base, token, log_path
    finally:
        _stop_server(process, base, token)


@pytest.fixture(scope="module")
def browser(chromium):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_FLAGS, timeout=STEP_TIMEOUT_MS)
        try:
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            yield browser
        finally:
            browser.close()


def _local_only_context(browser, allowed, viewport):
    """A browser context whose requests may only go where ``allowed(url)`` says; the others
    are refused and listed in ``context.refused``."""
    context = browser.new_context(viewport=viewport)
    context.refused = []

    def route(route):
        if allowed(route.request.url):
            route.continue_()
        else:
            context.refused.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return context


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One page of the lab for the lab tests, allowed to reach only this machine.

    Yields (page, context); ``page.image_responses`` collects (url, status) of every image
    the page loads and ``page.image_failures`` every image request that failed outright.
    """
    def local(url):
        host = url.split("/")[2].split(":")[0] if "://" in url else ""
        return url.startswith("data:") or host in ("127.0.0.1", "localhost")

    context = _local_only_context(browser, local, VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.image_responses, page.image_failures = [], []
    page.on("response", lambda r: r.request.resource_type == "image" and not r.url.startswith(
        "data:") and page.image_responses.append((r.url, r.status)))
    page.on("requestfailed", lambda r: r.resource_type == "image" and page.image_failures.append(
        (r.url, r.failure)))
    try:
        yield page, context
    finally:
        context.close()


def _explain(page, log_path, name, failure):
    """Re-raise ``failure`` with a screenshot and the end of the server's log."""
    shot = SHOTS / f"{name}_failure.png"
    try:
        page.screenshot(path=shot)
        shown = f"screenshot of the page: {shot.relative_to(ROOT)}"
    except Exception as error:  # a crashed browser must not hide the first failure
        shown = f"no screenshot ({error})"
    raise AssertionError(f"{failure}\n{shown}\nJupyterLab's log (end):\n"
                         f"{log_path.read_text(errors='replace')[-3000:]}") from failure


def _current_panel(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")


def _open_from_file_browser(page, relative):
    """Open ``relative`` (a path under notebooks/) the way a student does: in the file browser,
    double-click each folder, then the notebook. Returns the notebook panel, kernel idle."""
    listing = page.locator(".jp-FileBrowser .jp-DirListing-content")
    page.locator(".jp-FileBrowser .jp-BreadCrumbs-home").click()
    for part in ("notebooks", *Path(relative).parts):
        name = page.locator(".jp-DirListing-itemText", has_text=re.compile(rf"^{re.escape(part)}$"))
        listing.locator(".jp-DirListing-item").filter(has=name).dblclick()
    panel = _current_panel(page)
    expect(page.locator(".lm-TabBar-tab.jp-mod-current .lm-TabBar-tabLabel")).to_have_text(
        Path(relative).name)
    expect(panel.locator(".jp-Notebook .jp-Cell").first).to_be_visible()
    expect(panel.locator(".jp-KernelName")).to_have_text("Python 3 (course)")
    expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute("data-status", "idle")
    return panel


#: The Python that produced the stored notebooks (README). On another version JupyterLab writes
#: the kernel's version into ``metadata.language_info`` when it connects, and that alone marks a
#: notebook modified; the course cannot store one version that matches every kernel.
STORED_PYTHON = (3, 11)


def _expect_unmodified(page):
    """The current tab has no unsaved changes (JupyterLab marks those with jp-mod-dirty)."""
    if sys.version_info[:2] != STORED_PYTHON:
        return
    page.wait_for_timeout(300)  # metadata updates after the kernel connects come within this
    expect(page.locator(".lm-TabBar-tab.jp-mod-current")).not_to_have_class(
        re.compile(r"\bjp-mod-dirty\b"))


def _run_cell(page, cell):
    """Select a cell in command mode, run it with Shift+Enter, wait for its execution count."""
    cell.locator(".jp-InputArea-prompt").click()
    expect(cell).to_have_class(_SELECTED)
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputArea-prompt")).to_have_text(_COUNTED)


def _output_text(cell):
    output = cell.locator(".jp-OutputArea-output")
    expect(output).to_have_count(1)
    return output.inner_text().rstrip("\n")


def test_make_lab_starts_the_lab_this_test_starts():
    """`make lab` runs tools/lab.py and nothing else, so this test sees what a student sees."""
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe and recipe.group(1).strip() == "$(BIN)/python tools/lab.py"
    command = lab_tool.command()
    assert f"--ServerApp.root_dir={ROOT}" in command
    assert "--LabApp.default_url=/lab/tree/notebooks" in command
    overrides = json.loads((lab_tool.CONFIG_DIR / "labconfig" /
                            "default_setting_overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert overrides["jupyterlab-rise:plugin"]["theme"] == "white"  # no Google fonts in RISE
    env = lab_tool.environment({"JUPYTER_CONFIG_PATH": os.pathsep.join(["/a", str(lab_tool.CONFIG_DIR)])})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(lab_tool.CONFIG_DIR), "/a"]


def test_every_lesson_shows_every_diagram(lab_page, lab):
    """Open the lab at its default URL, then every lesson from the file browser: each opens on
    the course kernel, unmodified, and every diagram it links loads and renders."""
    page, context = lab_page
    base, token, log_path = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert LESSONS, "no lessons found"
    checked, report = [], []
    try:
        page.goto(f"{base}/?token={token}", wait_until="domcontentloaded")
        expect(page).to_have_url(re.compile(r"/lab/tree/notebooks/?(\?|$)"))
        expect(page.locator(".jp-FileBrowser .jp-BreadCrumbs")).to_contain_text("notebooks")
        expect(page.locator(".jp-FileBrowser .jp-DirListing-item").filter(
            has_text=LESSONS[0].name)).to_have_count(1)
        for lesson in LESSONS:
            panel = _open_from_file_browser(page, lesson.name)
            _expect_unmodified(page)
            wanted = _diagrams(lesson)
            for path in wanted:
                image = panel.locator(f'.jp-RenderedMarkdown img[src*="/{Path(path).name}"]')
                expect(image).to_have_count(1)
                image.scroll_into_view_if_needed()
                # done loading (or failing) the URL JupyterLab resolved the link to
                page.wait_for_function(
                    "img => img.complete && img.getAttribute('src').includes('/files/')",
                    arg=image.element_handle())
                width = image.evaluate("img => img.naturalWidth")
                assert width > 0, f"{lesson.name}: {path} does not render ({image.get_attribute('src')})"
                report.append(f"{lesson.name}: {path} ({width} px wide)")
                checked.append(path)
                if lesson == DECK_LESSON:
                    image.evaluate("img => img.scrollIntoView({block: 'center'})")
                    page.screenshot(path=SHOTS / "jupyterlab_lesson_diagram.png")
        # The news prompt would be a toast by now; the course's settings answer it "no".
        expect(page.get_by_text("official Jupyter news")).to_have_count(0)
    except (AssertionError, PlaywrightTimeout) as failure:
        _explain(page, log_path, "jupyterlab_lessons", failure)

    # JupyterLab first puts the link as written into the page and then swaps in the server's
    # URL, so the browser drops its first request for each diagram (net::ERR_ABORTED); that is
    # not a failure. An answer >= 400, or any other network failure, is.
    aborted = [u for u, why in page.image_failures if why == "net::ERR_ABORTED"]
    failed = [(u, s) for u, s in page.image_responses if s >= 400] + [
        (u, why) for u, why in page.image_failures if why != "net::ERR_ABORTED"]
    loaded = [(u, s) for u, s in page.image_responses if s < 400 and "/files/img/" in u]
    lines = [f"{status} {url.split('?')[0].replace(base, '')}" for url, status in loaded]
    others = [f"{status} {url.split('?')[0].replace(base, '')}"
              for url, status in page.image_responses if (url, status) not in loaded]
    (SHOTS / "image_requests.txt").write_text(
        f"{len(lines)} diagram requests answered OK while opening {len(LESSONS)} lessons "
        f"(all image responses: {len(page.image_responses)}, failed: {len(failed)}, "
        f"dropped by the page before an answer: {len(aborted)})\n"
        + "\n".join(lines) + "\n\nother images (the lab's own):\n" + "\n".join(others)
        + "\n\ndropped by the page (the link as written, before JupyterLab resolved it):\n"
        + "\n".join(u.replace(base, "") for u in aborted)
        + "\n\nrendered in the notebook view:\n" + "\n".join(report) + "\n")
    print(f"\n{len(loaded)} diagram requests loaded, {len(checked)} diagrams rendered:")
    print("\n".join(lines))
    assert not failed, f"image requests that failed: {failed}"
    assert context.refused == [], f"the lab asked for resources outside this machine: {context.refused}"
    assert sorted(checked) == sorted(p for lesson in LESSONS for p in _diagrams(lesson))
    assert len(checked) >= 8, f"only {len(checked)} diagrams in the lessons?"
    served = {url.split("?")[0].split("/files/", 1)[1] for url, _ in loaded}
    assert served >= set(checked), f"not requested from the server: {set(checked) - served}"


WRONG_STEP = ("def rnn_step_forward(x, h_prev, W_x, W_h, b):\n"
              "    a = x @ W_x + h_prev @ W_h + b\n"
              "    return a, (x, h_prev, W_x, W_h, a)\n")


def _expected_feedback():
    """The course's own messages for this wrong answer, first and second attempt."""
    import numpy as np  # noqa: F401  (the answer's namespace)

    from course_utils import checks
    from course_utils.checks import lesson04

    namespace = {}
    exec(WRONG_STEP, namespace)
    checks.reset_attempts()
    first = lesson04.rnn_step_forward(namespace["rnn_step_forward"]).message
    second = lesson04.rnn_step_forward(namespace["rnn_step_forward"]).message
    checks.reset_attempts()
    return first, second


def test_an_exercise_opens_clean_and_answers_a_wrong_function(lab_page, lab):
    page, context = lab_page
    base, token, log_path = lab
    first, second = _expected_feedback()
    cells_of = json.loads(EXERCISE.read_text(encoding="utf-8"))["cells"]
    index = {name: i for i, c in enumerate(cells_of) for name in ("import", "define", "check")
             if (name == "import" and "import lesson04 as check" in "".join(c["source"]))
             or (name == "define" and "".join(c["source"]).startswith("def rnn_step_forward("))
             or (name == "check" and "".join(c["source"]).strip()
                 == "check.rnn_step_forward(rnn_step_forward)")}
    assert set(index) == {"import", "define", "check"}, index
    try:
        if not page.url.startswith(f"{base}/lab"):
            page.goto(f"{base}/lab?token={token}", wait_until="domcontentloaded")
        panel = _open_from_file_browser(page, f"exercises/{EXERCISE.name}")
        _expect_unmodified(page)
        cells = panel.locator(".jp-Notebook .jp-Cell")
        imports, define, check = (cells.nth(index[k]) for k in ("import", "define", "check"))
        _run_cell(page, imports)
        # too early: the function is not defined yet
        _run_cell(page, check)
        early = _output_text(check)
        assert early.startswith("[..] Task 1 · one RNN step: `rnn_step_forward` is not defined"), early
        assert "Run the cell that defines it" in early and "Traceback" not in early
        # a wrong answer, typed where the stub is
        define.locator(".cm-content").click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(WRONG_STEP)
        page.keyboard.press("Escape")
        _run_cell(page, define)
        _run_cell(page, check)
        assert _output_text(check) == first
        assert "pre-activations" in first and "Hint:" not in first
        assert 'check.hint("rnn_step_forward")' in first
        _run_cell(page, check)
        assert _output_text(check) == second and "Hint:" in second
        check.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / "jupyterlab_exercise_feedback.png")
        expect(panel.locator(".jp-OutputArea-output[data-mime-type*=stderr]")).to_have_count(0)
    except (AssertionError, PlaywrightTimeout) as failure:
        _explain(page, log_path, "jupyterlab_exercise", failure)
    assert context.refused == [], context.refused


def test_the_rise_slideshow_shows_the_diagrams(lab_page, lab):
    """RISE (Alt+R in the lab) renders a lesson in a page of its own, /rise/<path>: the
    diagrams of the lesson with the most of them load there too."""
    page, context = lab_page
    base, token, log_path = lab
    lesson = max(LESSONS, key=lambda p: (len(_diagrams(p)), p.name))
    wanted = _diagrams(lesson)
    assert wanted
    start = len(page.image_responses)
    try:
        page.goto(f"{base}/rise/notebooks/{lesson.name}?token={token}",
                  wait_until="domcontentloaded")
        expect(page.locator(".reveal .slides section").first).to_be_attached()
        for path in wanted:
            image = page.locator(f'.reveal img[src*="/{Path(path).name}"]')
            expect(image).to_have_count(1)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=image.element_handle())
        page.screenshot(path=SHOTS / "rise_lesson.png")
    except (AssertionError, PlaywrightTimeout) as failure:
        _explain(page, log_path, "rise", failure)
    answered = page.image_responses[start:]
    assert not [(u, s) for u, s in answered if s >= 400], answered
    for path in wanted:
        assert any(f"/files/{path}" in u and s == 200 for u, s in answered), (path, answered)
    assert context.refused == [], context.refused


#: Runs in a deck: visits every slide and measures it. Returns one record per slide.
MEASURE_DECK = r"""
async () => {
  const Reveal = await new Promise(done => require(["reveal.js/dist/reveal.js"], done));
  if (!Reveal.isReady()) await new Promise(done => Reveal.on("ready", done));
  Reveal.configure({transition: "none"});
  const records = [];
  for (const slide of Reveal.getSlides()) {
    const {h, v} = Reveal.getIndices(slide);
    Reveal.slide(h, v);
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    for (const img of slide.querySelectorAll("img")) {
      if (!img.complete) await new Promise(done => { img.onload = img.onerror = done; });
    }
    const box = slide.getBoundingClientRect();
    const clipped = [];
    for (const el of slide.querySelectorAll("pre, .jp-InputArea-editor, .jp-OutputArea-output")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0) continue;
      const overflowX = getComputedStyle(el).overflowX;
      if (el.scrollWidth > el.clientWidth + 1 && !["auto", "scroll"].includes(overflowX))
        clipped.push(`${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth} px, overflow-x ${overflowX}`);
      if (r.right > box.right + 1)
        clipped.push(`${el.tagName}.${el.className}: right edge ${r.right} beyond the slide's ${box.right}`);
    }
    records.push({
      slide: `${h}/${v}`, top: box.top, bottom: box.bottom,
      tall: slide.scrollHeight > slide.clientHeight + 1,
      overflowY: getComputedStyle(slide).overflowY, clipped,
      text: slide.innerText,
      images: [...slide.querySelectorAll("img")].map(img => ({
        src: img.getAttribute("src").slice(0, 60), width: img.naturalWidth})),
    });
  }
  Reveal.slide(0, 0);
  return records;
}
"""


def test_a_static_deck_works_offline_and_fits_the_screen(browser, tmp_path):
    slides = _load_tool("slides")
    out = tmp_path / "slides"
    try:
        slides.vendor_into(out)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        pytest.skip(f"reveal.js/MathJax not cached and the npm registry is unreachable: {err}")
    (deck,) = slides.build([DECK_LESSON], out)
    context = _local_only_context(
        browser, lambda url: url.startswith(("file://", "data:")), SCREEN)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(deck.as_uri(), wait_until="load")
        records = page.evaluate(MEASURE_DECK)
        page.screenshot(path=SHOTS / "slides_title.png")
        diagram = next(r["slide"] for r in records
                       if any(i["src"].startswith("img/") for i in r["images"]))
        page.goto(f"{deck.as_uri()}#/{diagram}", wait_until="load")
        page.wait_for_timeout(500)
        page.screenshot(path=SHOTS / "slides_diagram.png")
    finally:
        context.close()
    assert len(records) >= 10, f"only {len(records)} slides"
    assert context.refused == [], f"the deck asked for the network: {context.refused}"
    broken = [(r["slide"], i["src"]) for r in records for i in r["images"] if i["width"] == 0]
    assert not broken, f"images that did not load: {broken}"
    diagrams = {i["src"] for r in records for i in r["images"] if i["src"].startswith("img/")}
    assert diagrams == {f"img/{Path(p).name}" for p in _diagrams(DECK_LESSON)}, diagrams
    clipped = [(r["slide"], c) for r in records for c in r["clipped"]]
    assert not clipped, f"code or output cut off: {clipped}"
    off_screen = [r["slide"] for r in records
                  if r["top"] < -1 or r["bottom"] > SCREEN["height"] + 1]
    assert not off_screen, f"slides reaching past a 1280x720 screen: {off_screen}"
    stuck = [r["slide"] for r in records if r["tall"] and r["overflowY"] not in ("auto", "scroll")]
    assert not stuck, f"slides taller than the screen that cannot scroll: {stuck}"
    shown = "\n".join(r["text"] for r in records)
    assert "NBVAL" not in shown and not re.search(r"(^|\s)0%\|", shown)
    with Image.open(SHOTS / "slides_title.png") as image:
        assert image.size == (SCREEN["width"], SCREEN["height"])
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50, "the screenshot is (nearly) blank"


def test_nothing_in_the_repository_was_written(untouched, lab):
    assert _digest_of_course_files() == untouched
