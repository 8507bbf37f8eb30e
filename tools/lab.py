"""Start JupyterLab for the course: the one place that says how (``make lab`` runs this).

    python tools/lab.py [extra JupyterLab options]

- Rooted at the repository, opening on ``notebooks/``: the lessons' ``![...](../img/...)``
  links then stay inside what the server serves, so every diagram shows in the notebook view
  and in RISE, exactly as on GitHub and in nbconvert's output.
- Offline and quiet: no news feed and no "get notified about Jupyter news?" prompt, no update
  check, and the extension manager only lists what is installed (it would ask PyPI).
  The prompt is a user setting, so its default comes from
  ``tools/jupyter/labconfig/default_setting_overrides.json``, found through
  ``JUPYTER_CONFIG_PATH``; a student can still change it in the Settings editor. The same file
  gives RISE reveal.js's "white" theme (the static slides' theme), whose fonts ship with it:
  RISE's default theme fetches Google's.

``tests/test_browser.py`` starts the server through :func:`command` and :func:`environment`,
adding only what a test needs (a free port, a token, temporary state folders).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: A Jupyter config folder of the course (holds labconfig/default_setting_overrides.json).
CONFIG_DIR = ROOT / "tools" / "jupyter"
#: Where the lab opens: the file browser in notebooks/.
DEFAULT_URL = "/lab/tree/notebooks"

SETTINGS = (
    f"--ServerApp.root_dir={ROOT}",
    f"--LabApp.default_url={DEFAULT_URL}",
    # offline: no news feed, no update check, no PyPI-backed extension manager
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    "--LabApp.extension_manager=readonly",
)


def command(*extra: str) -> list[str]:
    """The command line that starts the course's JupyterLab, plus ``extra`` options."""
    return [sys.executable, "-m", "jupyterlab", *SETTINGS, *extra]


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the course's config folder first
    on ``JUPYTER_CONFIG_PATH``."""
    env = dict(os.environ if base is None else base)
    paths = [str(CONFIG_DIR)] + [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep)
                                 if p and p != str(CONFIG_DIR)]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    cmd = command(*args)
    os.chdir(ROOT)
    os.execvpe(cmd[0], cmd, environment())


if __name__ == "__main__":
    main()
