"""The pinned environment: one set of exact versions, stated twice (pip and conda)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIRECT = ["numpy", "scipy", "keras", "gensim", "matplotlib", "jupyterlab", "ipykernel",
          "nbval", "pytest", "tqdm", "ruff", "jupyterlab_rise", "ipywidgets", "playwright"]


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, marker = line.partition(";")
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", requirement.strip())
        assert match, f"not an exact pin: {line!r}"
        pins[(_norm(match.group(1)), marker.strip())] = match.group(2)
    return pins


def requirements_pins():
    return _pins((ROOT / "requirements.txt").read_text().splitlines())


def environment_pins():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.M), "environment.yml must pin python=3.11"
    pip_section = text.split("- pip:", 1)[1]
    return _pins(re.findall(r"^\s+-\s+(.+)$", pip_section, re.M))


def test_every_requirement_is_an_exact_pin():
    pins = requirements_pins()
    assert len(pins) > 50  # the whole resolved set, not just the direct dependencies
    names = {name for name, _ in pins}
    for package in DIRECT:
        assert _norm(package) in names, f"{package} is not pinned in requirements.txt"
    assert {"tensorflow", "tensorflow-cpu"} & names


def test_environment_yml_agrees_with_requirements():
    assert environment_pins() == requirements_pins()


def _supported():
    text = (ROOT / "tools" / "check_python.py").read_text()
    return sorted(tuple(map(int, v)) for v in re.findall(r"\((\d+), (\d+)\)", text))


def test_python_is_a_supported_version():
    assert _supported() == [(3, 11), (3, 12), (3, 13)]
    assert sys.version_info[:2] in _supported()


def test_every_place_names_the_same_python_versions():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.11,<3.14"' in pyproject
    readme = (ROOT / "README.md").read_text()
    assert "Python 3.11, 3.12 or 3.13" in readme
    # the stored notebook outputs come from one version, the one conda/Binder installs
    assert "produced with Python 3.11" in readme


def test_makefile_refuses_an_unsupported_python_with_the_versions_that_work(tmp_path):
    import subprocess

    fake = tmp_path / "python3.99"
    fake.write_text("#!/bin/sh\nexec " + sys.executable + " -c 'import sys; sys.version_info = (3, 99, 0); "
                    "sys.version = \"3.99.0\"; exec(open(sys.argv[1]).read())' \"$@\"\n")
    fake.chmod(0o755)
    out = subprocess.run([str(fake), str(ROOT / "tools" / "check_python.py")],
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "3.11, 3.12, 3.13" in out.stderr and "3.99.0" in out.stderr


def test_keras_3_on_tensorflow():
    import keras

    assert keras.__version__.startswith("3.")
    assert keras.backend.backend() == "tensorflow"
