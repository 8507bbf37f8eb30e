"""course_utils.set_seed: the same seed gives the same numbers everywhere that matters."""

import random

import numpy as np
import pytest

import course_utils


def _draw():
    import keras

    return (
        random.random(),
        np.random.rand(3).tolist(),  # noqa: NPY002 - set_seed must seed the legacy global one
        keras.random.normal((3,)).numpy().tolist(),
    )


def test_same_seed_same_numbers():
    course_utils.set_seed(7)
    first = _draw()
    course_utils.set_seed(7)
    assert _draw() == first
    course_utils.set_seed(8)
    assert _draw()[:3] != first[:3]


def test_same_seed_same_initial_weights():
    import keras

    def weights():
        layer = keras.layers.LSTM(4)
        layer.build((None, 5, 3))
        return [w.numpy() for w in layer.weights]

    course_utils.set_seed(3)
    a = weights()
    course_utils.set_seed(3)
    b = weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_deterministic_ops_enabled():
    from tensorflow.python.framework import config as tf_config  # no public getter exists

    course_utils.set_seed(0)
    assert tf_config.is_op_determinism_enabled()


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", None, True])
def test_bad_seed_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="seed must be"):
        course_utils.set_seed(bad)


def test_warns_without_fixed_hash_seed(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    with pytest.warns(UserWarning, match="PYTHONHASHSEED"):
        course_utils.set_seed(0)


def test_course_seed_shifts_every_seed(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "3")
    assert course_utils.set_seed(0, tensorflow=False) == 3
    shifted = np.random.rand(2).tolist()  # noqa: NPY002
    monkeypatch.setenv("COURSE_SEED", "0")
    assert course_utils.set_seed(3, tensorflow=False) == 3
    assert np.random.rand(2).tolist() == shifted  # noqa: NPY002
    monkeypatch.delenv("COURSE_SEED")
    assert course_utils.set_seed(5, tensorflow=False) == 5


@pytest.mark.parametrize("bad", ["one", "1.5", "0x", "--"])
def test_course_seed_not_an_integer_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv("COURSE_SEED", bad)
    with pytest.raises(ValueError, match=f"COURSE_SEED must be a whole number.*{bad!r}"):
        course_utils.set_seed(0, tensorflow=False)


def test_course_seed_cannot_push_a_seed_out_of_range(monkeypatch):
    monkeypatch.setenv("COURSE_SEED", "-1")
    with pytest.raises(ValueError, match="after adding COURSE_SEED=-1"):
        course_utils.set_seed(0, tensorflow=False)


def test_numpy_only_seed_leaves_tensorflow_unimported():
    import subprocess
    import sys

    code = ("import sys, course_utils; course_utils.set_seed(0, tensorflow=False); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONHASHSEED": "0", "PATH": ""}, check=True).stdout
    assert out.split() == ["False", "False"]
