"""What the setup-check notebook reports: versions against the pins, devices, a smoke test."""

from __future__ import annotations

import os
import re
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

#: The packages a student should see in the report, in the order of the course.
KEY_PACKAGES = ("numpy", "tensorflow", "keras", "gensim", "matplotlib", "jupyterlab", "nbval")


def read_pins(path: str | Path | None = None) -> dict[str, str]:
    """Exact pins of ``requirements.txt`` as {normalised name: version}, markers applied.

    A pin whose environment marker does not hold on this machine is left out (e.g. the
    ``tensorflow-cpu`` line on macOS).
    """
    from packaging.markers import Marker

    path = Path(path) if path else Path(__file__).resolve().parents[1] / "requirements.txt"
    if not path.is_file():
        raise ValueError(f"no pin file at {path.name}; expected the course's requirements.txt")
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        name, sep, pinned = requirement.strip().partition("==")
        if not sep:
            raise ValueError(f"{path.name}: {line!r} is not an exact 'name==version' pin")
        pins[_normalise(name)] = pinned.strip()
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def package_report(pins: dict[str, str] | None = None) -> tuple[dict[str, str], dict[str, tuple]]:
    """Versions of the key packages, and every pinned package that differs.

    Returns ``(key_versions, problems)``: ``key_versions`` maps each of KEY_PACKAGES to its
    installed version (TensorFlow under either wheel name); ``problems`` maps a package name to
    ``(pinned, installed or None)`` for each pin that does not hold.
    """
    pins = read_pins() if pins is None else pins
    problems = {
        name: (pinned, _installed(name))
        for name, pinned in pins.items()
        if _installed(name) != pinned
    }
    key_versions = {}
    for name in KEY_PACKAGES:
        found = _installed(name)
        if found is None and name == "tensorflow":
            found = _installed("tensorflow-cpu")
        key_versions[name] = found or "MISSING"
    return key_versions, problems


def compute_devices() -> dict[str, object]:
    """CPU cores and the accelerators TensorFlow can use."""
    import tensorflow as tf

    return {
        "cpu_cores": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
    }


def smoke_test(seconds: float = 3.0, seed: int = 0) -> dict[str, float]:
    """Train a tiny Keras LSTM on a toy task (is the sum of a sequence positive?).

    Returns the first and last epoch's loss and accuracy, the epochs run and the seconds taken.
    It stops after ``seconds`` (at least two epochs), so it is quick on any laptop. ``seed`` is
    used as given: pass what ``course_utils.set_seed`` returned (it already holds $COURSE_SEED).
    """
    import keras
    import numpy as np

    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(512, 12, 1)).astype("float32")
    y = (x.sum(axis=(1, 2)) > 0).astype("float32")
    model = keras.Sequential(
        [keras.Input((12, 1)), keras.layers.LSTM(8), keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    start = time.perf_counter()
    epochs = 0
    while epochs < 2 or (time.perf_counter() - start < seconds and epochs < 30):
        h = model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        history["loss"].append(h.history["loss"][-1])
        history["accuracy"].append(h.history["accuracy"][-1])
        epochs += 1
    return {
        "first_loss": history["loss"][0],
        "last_loss": history["loss"][-1],
        "last_accuracy": history["accuracy"][-1],
        "epochs": epochs,
        "seconds": time.perf_counter() - start,
    }
