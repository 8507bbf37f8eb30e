"""course_utils.optim: the one Adam (and Adagrad) every NumPy model in the course trains with."""

import numpy as np
import pytest

from course_utils import charrnn, rnn
from course_utils.optim import Adagrad, Adam


@pytest.mark.parametrize("opt", [Adagrad(lr=0.5), Adam(lr=0.1)])
def test_optimisers_minimise_a_quadratic(opt):
    p = {"w": np.array([3.0, -2.0])}
    for _ in range(300):
        opt.update(p, {"w": 2 * p["w"]})
    assert np.abs(p["w"]).max() < 0.05


def test_adam_matches_the_textbook_update():
    """Folding the bias corrections into lr and eps changes nothing but rounding."""
    rng = np.random.default_rng(0)
    p = {"w": rng.standard_normal(5)}
    ref = p["w"].copy()
    m = v = np.zeros(5)
    opt = Adam(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6)
    for t in range(1, 20):
        g = rng.standard_normal(5)
        opt.update(p, {"w": g.copy()})
        m = 0.9 * m + 0.1 * g
        v = 0.99 * v + 0.01 * g * g
        ref -= 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-6)
    np.testing.assert_allclose(p["w"], ref, rtol=1e-12)


def test_one_adam_for_every_numpy_model():
    assert rnn.Adam is Adam and charrnn.Adam is Adam and charrnn.Adagrad is Adagrad


@pytest.mark.parametrize("make", [lambda: Adam(lr=0), lambda: Adagrad(lr=-1),
                                  lambda: Adam(beta1=1.0)])
def test_bad_settings_are_clear_errors(make):
    with pytest.raises(ValueError, match="must be"):
        make()


def test_mismatched_gradients_are_a_clear_error():
    with pytest.raises(ValueError, match="keys"):
        Adam().update({"w": np.zeros(2)}, {"v": np.zeros(2)})
