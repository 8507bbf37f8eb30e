"""Numerical gradient checking catches wrong gradients and passes right ones."""

import numpy as np
import pytest

from course_utils.gradcheck import (
    check_layer_gradients,
    format_report,
    numerical_gradient,
    relative_error,
)
from course_utils.rnn import SimpleRNN


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda v: np.sum(v**3) + np.sin(v).sum(), x)
    np.testing.assert_allclose(grad, 3 * x**2 + np.cos(x), atol=1e-8)
    np.testing.assert_array_equal(x, before)  # every perturbation was undone


def test_numerical_gradient_through_a_closure(rng):
    """The array may be a weight the function reads without taking it as its argument."""
    W = rng.standard_normal((2, 3))
    v = rng.standard_normal(3)
    grad = numerical_gradient(lambda _: float(np.sum(W @ v)), W)
    np.testing.assert_allclose(grad, np.tile(v, (2, 1)), atol=1e-8)


def test_numerical_gradient_rejects_what_it_cannot_perturb():
    with pytest.raises(ValueError, match="floating-point"):
        numerical_gradient(np.sum, np.arange(4))
    with pytest.raises(ValueError, match="floating-point"):
        numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(np.sum, np.ones(2), eps=0)


def test_relative_error():
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, a * (1 + 1e-9)) < 1e-9
    with pytest.raises(ValueError, match="same shape"):
        relative_error(a, a[:2])


class _BrokenRNN(SimpleRNN):
    """A backward pass with a classic bug: it forgets the gradient arriving from step t+1."""

    def backward(self, dH):
        c = self._cache
        dA = self._check_dH(dH) * (1.0 - c["Hs"] ** 2)
        Hprev = np.concatenate([c["h0"][None], c["Hs"][:-1]])
        dx = self._weight_grads(c["X"], Hprev, dA)
        self.grads["b"] = dA.sum(axis=(0, 1))
        self.dh0 = dA[0] @ self.params["W_h"].T
        return dx


def test_check_layer_gradients_passes_bptt_and_catches_a_truncated_one(rng):
    x = rng.standard_normal((2, 4, 3))
    good = check_layer_gradients(SimpleRNN(3, 5, dtype=np.float64), x)
    assert max(good.values()) < 1e-6
    bad = check_layer_gradients(_BrokenRNN(3, 5, dtype=np.float64), x)
    assert bad["W_h"] > 1e-3 and bad["x"] > 1e-3


def test_check_layer_gradients_needs_float64(rng):
    with pytest.raises(ValueError, match="float64"):
        check_layer_gradients(SimpleRNN(3, 5), rng.standard_normal((2, 4, 3)))


def test_format_report_gives_verdicts():
    text = format_report({"W_x": 3e-11, "W_h": 0.2}, tol=1e-6)
    lines = text.splitlines()
    assert lines[0].startswith("W_x") and lines[0].endswith("ok")
    assert lines[1].startswith("W_h") and lines[1].endswith("MISMATCH")
    with pytest.raises(ValueError):
        format_report({})
