"""Tested helpers behind the sequence-models course notebooks.

Importing the package is cheap: TensorFlow is only imported by the functions that need it.
Import ``course_utils`` before ``keras``/``tensorflow`` in a notebook so the environment
defaults below are in place when TensorFlow starts.
"""

from __future__ import annotations

import os
import random
import warnings

import numpy as np

# Quiet, repeatable TensorFlow: its C++ start-up log lines carry timestamps (they would make
# every stored notebook output differ), and oneDNN's reordered float sums make the last digits
# of a training run depend on the CPU model. Set only where the user has not chosen otherwise.
_ENV_DEFAULTS = {
    "KERAS_BACKEND": "tensorflow",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
}
for _key, _value in _ENV_DEFAULTS.items():
    os.environ.setdefault(_key, _value)

#: The PYTHONHASHSEED every course kernel runs with (see tools/install_kernel.py).
HASH_SEED = "0"

__all__ = ["set_seed", "seed_shift", "HASH_SEED", "SEED_VARIABLE"]
__version__ = "0.1.0"

#: The environment variable that shifts every seed in the course (``make seeds`` sets it).
SEED_VARIABLE = "COURSE_SEED"


def seed_shift() -> int:
    """The integer in ``$COURSE_SEED`` (0 when unset or empty): how far every seed is shifted.

    ``COURSE_SEED=0`` reproduces the stored notebook outputs exactly; ``make seeds`` re-runs the
    course with 1, 2, 3 and 4 so that a conclusion which holds for one random draw only shows up
    as a failing assert.
    """
    raw = os.environ.get(SEED_VARIABLE, "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        raise ValueError(
            f"{SEED_VARIABLE} must be a whole number such as 0, 1 or 2 (it shifts every seed in "
            f"the course), got {raw!r}"
        ) from None


def set_seed(seed: int = 0, *, tensorflow: bool = True, deterministic_ops: bool = True) -> int:
    """Seed Python and NumPy (and Keras/TensorFlow) with ``seed + $COURSE_SEED``; return that.

    The returned value is *the* seed of what follows: pass it (or ``it + k``) to every helper
    that takes ``seed=`` or a ``np.random.Generator``, so that ``COURSE_SEED=k`` shifts every
    random draw of a lesson together. Call it again before a cell whose result should not depend
    on what ran before it.

    ``tensorflow=False`` leaves TensorFlow alone (and unimported), for NumPy-only lessons.
    ``PYTHONHASHSEED`` cannot be changed for a running interpreter; the course's Jupyter kernel
    sets it (gensim hashes words with Python's ``hash``), and a warning says when it is missing.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    shift = seed_shift()
    seed += shift
    if not 0 <= seed < 2**32:
        raise ValueError(
            f"seed must be in [0, 2**32) after adding {SEED_VARIABLE}={shift}, got {seed}"
        )

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what old code uses
    if os.environ.get("PYTHONHASHSEED") != HASH_SEED:
        warnings.warn(
            "PYTHONHASHSEED is not set to "
            f"{HASH_SEED}: gensim results will differ from run to run. Start the kernel "
            "'Python 3 (course)' (make lab does) or export PYTHONHASHSEED=0 before starting Python.",
            stacklevel=2,
        )
    if not tensorflow:
        return seed

    import keras  # imported here so that lessons without TensorFlow start fast
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    return seed
