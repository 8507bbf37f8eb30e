"""A lesson in a real browser: JupyterLab on localhost, driven in headless Chromium.

The other tests run notebooks through nbclient; this one checks what a learner sees: the lab
loads offline, a lesson opens on the course kernel, a cell runs and its output appears with the
text stored in the notebook. It drives Debian's `chromium` through Playwright (Playwright's own
browser download is never used) and skips only when no Chromium is installed.
"""

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
LESSON = "04_rnn_from_scratch.ipynb"
# (index of a cell it needs run first, index of the cell whose output we compare); both cheap.
SETUP_CELL, CHECKED_CELL = 2, 4
SCREENSHOT = ROOT / "build" / "browser" / "jupyterlab_lesson.png"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
_SELECTED = re.compile(r"\bjp-mod-selected\b")
_CODE_CELL = re.compile(r"\bjp-CodeCell\b")
_COUNTED = re.compile(r"^\[\d+\]:$")  # the prompt of a cell that has run
STEP_TIMEOUT_MS = 60_000  # per browser step; a cold kernel start on 2 busy cores takes ~10 s


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


def _stream_text(cell):
    """The stdout text a stored code cell printed (its only kind of output here)."""
    kinds = [out["output_type"] for out in cell["outputs"]]
    assert kinds and set(kinds) == {"stream"}, f"expected stored stdout output, found {kinds}"
    return "".join("".join(out["text"]) for out in cell["outputs"])


@pytest.fixture(scope="module")
def chromium():
    path = _find_chromium()
    if path is None:
        pytest.skip("Chromium not found at /usr/bin/chromium or on PATH "
                    "(Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome)")
    return path


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """A fresh copy of the lesson, outputs cleared, in a temporary course tree.

    The copy sits in notebooks/ beside an img/ folder, as in the repository, so the setup cell's
    relative paths stay inside the temporary tree; nothing in the repository is run or saved.
    Returns (root folder, the lesson's path relative to it, the stored notebook as JSON).
    """
    root = tmp_path_factory.mktemp("course")
    (root / "notebooks").mkdir()
    (root / "img").mkdir()
    stored = json.loads((ROOT / "notebooks" / LESSON).read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(stored))
    for cell in fresh["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (root / "notebooks" / LESSON).write_text(json.dumps(fresh, indent=1), encoding="utf-8")
    return root, f"notebooks/{LESSON}", stored


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
def lab(lesson, tmp_path_factory):
    """JupyterLab from this environment on a free localhost port, offline, with a random token.

    Its config, data, settings and runtime folders are temporary, so the kernel named python3 is
    the course kernel that tools/install_kernel.py put into this environment. Yields
    (base URL, token, path of the server log).
    """
    root, _, _ = lesson
    state = tmp_path_factory.mktemp("jupyter")
    token, port = secrets.token_hex(24), _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, JUPYTER_TOKEN=token, IPYTHONDIR=str(state / "ipython"),
               **{f"JUPYTER_{kind}_DIR": str(state / kind.lower())
                  for kind in ("CONFIG", "DATA", "RUNTIME")})
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", "--ServerApp.terminals_enabled=False",
        "--ServerApp.allow_root=True",  # CI runs as root; harmless otherwise
        # offline: no news feed, no update check, no PyPI-backed extension manager
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--LabApp.user_settings_dir={state / 'settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
    ]
    # The "get notified about Jupyter news?" toast would cover the notebook; answer it "never".
    labconfig = state / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "default_setting_overrides.json").write_text(json.dumps(
        {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                         "checkForUpdates": False}}))
    log_path = state / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_server(process, base, token, log_path)
        yield base, token, log_path
    finally:
        _stop_server(process, base, token)


@pytest.fixture(scope="module")
def browser_page(chromium):
    """A headless Chromium page whose requests may only reach this machine.

    Yields (page, list of the outside URLs it tried, each refused).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=CHROMIUM_FLAGS, timeout=STEP_TIMEOUT_MS)
        try:
            context = browser.new_context(viewport=VIEWPORT)
            outside = []

            def local_only(route):
                host = route.request.url.split("/")[2] if "://" in route.request.url else ""
                if host.split(":")[0] in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            context.route("**/*", local_only)
            page = context.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
            expect.set_options(timeout=STEP_TIMEOUT_MS)
            yield page, outside
        finally:
            browser.close()


def _run_cell(page, cell):
    """Select a cell in command mode, run it with Shift+Enter, wait for its execution count."""
    cell.locator(".jp-InputArea-prompt").click()
    expect(cell).to_have_class(_SELECTED)
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputArea-prompt")).to_have_text(_COUNTED)


def test_lesson_cell_runs_in_jupyterlab(browser_page, lab, lesson):
    """Open the lesson, run its setup cell and a printing cell, compare with the stored output."""
    page, outside = browser_page
    base, token, log_path = lab
    _, lesson_path, stored = lesson
    failure_png = SCREENSHOT.with_name("jupyterlab_failure.png")
    failure_png.unlink(missing_ok=True)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    expected = _stream_text(stored["cells"][CHECKED_CELL]).rstrip("\n")
    kernels = _api(f"{base}/api/kernelspecs", token)["kernelspecs"]
    spec = kernels["python3"]["spec"]
    assert spec["display_name"] == "Python 3 (course)" and spec["env"]["PYTHONHASHSEED"] == "0", (
        "python3 is not the course kernel: run `make setup` (tools/install_kernel.py)")
    assert Path(spec["argv"][0]).is_relative_to(sys.prefix), (
        f"the kernel runs {spec['argv'][0]}, not this environment's Python ({sys.prefix})")

    try:
        page.goto(f"{base}/lab/tree/{lesson_path}?token={token}", wait_until="domcontentloaded")
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        cells = panel.locator(".jp-Notebook .jp-Cell")
        expect(cells.first).to_be_visible()
        expect(panel.locator(".jp-KernelName")).to_have_text("Python 3 (course)")
        expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
            "data-status", "idle")

        setup, checked = cells.nth(SETUP_CELL), cells.nth(CHECKED_CELL)
        for cell in (setup, checked):
            expect(cell).to_have_class(_CODE_CELL)
            expect(cell.locator(".jp-OutputArea-output")).to_have_count(0)
        _run_cell(page, setup)
        _run_cell(page, checked)

        output = checked.locator(".jp-OutputArea-output")
        expect(output).to_have_count(1)
        expect(output).to_have_attribute("data-mime-type", "application/vnd.jupyter.stdout")
        assert output.inner_text().rstrip("\n") == expected
        expect(panel.locator(".jp-OutputArea-output[data-mime-type*=stderr]")).to_have_count(0)
        expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
            "data-status", "idle")
    except (AssertionError, PlaywrightTimeout) as failure:
        try:
            page.screenshot(path=failure_png)
            shown = f"screenshot of the page: {failure_png.relative_to(ROOT)}"
        except Exception as error:  # a crashed browser must not hide the first failure
            shown = f"no screenshot ({error})"
        raise AssertionError(f"{failure}\n{shown}\nJupyterLab's log (end):\n"
                             f"{log_path.read_text(errors='replace')[-3000:]}") from failure

    assert outside == [], f"the lab asked for resources outside this machine: {outside}"
    output.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 20_000, "the screenshot is suspiciously small"
    with Image.open(SCREENSHOT) as image:
        assert image.size == (VIEWPORT["width"], VIEWPORT["height"])
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 50, "the screenshot is (nearly) blank"
