"""Shared test fixtures."""

import os

import numpy as np
import pytest

# The same environment the course kernel has, for tests that import TensorFlow.
for _key, _value in {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
                     "KERAS_BACKEND": "tensorflow"}.items():
    os.environ.setdefault(_key, _value)


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, fresh for every test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _first_attempts():
    """Every test starts with no failed exercise attempts (a hint shows from the second)."""
    from course_utils import checks

    checks.reset_attempts()
