"""Numerical gradient checking: trust a hand-written backward pass only after this agrees.

The check compares an analytic gradient with central differences,

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

whose error shrinks like eps^2, and reports the relative error
``||a - n|| / (||a|| + ||n||)`` (0 = identical, 1 = unrelated). In float64, a correct
backward pass gives about 1e-8 or less; a wrong one gives 1e-2 and more.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_layer_gradients", "format_report", "numerical_gradient", "relative_error"]


def numerical_gradient(f, x, *, eps=1e-6):
    """Central-difference gradient of the scalar ``f(x)`` with respect to the array ``x``.

    ``x`` (any shape, float64 for a meaningful check) is perturbed in place one element at a
    time and restored, so ``f`` may also ignore its argument and read ``x`` through a closure,
    e.g. a weight matrix inside a model. Returns an array of ``x``'s shape. Costs 2 * x.size
    calls of ``f``.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise ValueError("x must be a floating-point NumPy array (it is perturbed in place), "
                         f"got {type(x).__name__} {getattr(x, 'dtype', '')}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx].copy()
        x[idx] = old + eps
        f_plus = float(f(x))
        x[idx] = old - eps
        f_minus = float(f(x))
        x[idx] = old  # restore before anything else reads x
        grad[idx] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """``||a - b|| / (||a|| + ||b||)`` for two arrays of the same shape (0 when both are 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the two gradients must have the same shape, got {a.shape} and {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)


def check_layer_gradients(layer, x, h0=None, *, seed=0, eps=1e-6):
    """Relative error of ``layer.backward`` against central differences, for every array.

    ``layer`` is a float64 ``course_utils.rnn`` layer; ``x`` (N, T, D); ``h0`` (N, H) or None.
    The loss is ``sum(forward(x, h0) * R)`` with a fixed random R (N, T, H), so every hidden
    state receives a gradient. Returns a dict: one entry per parameter name, plus ``"x"`` and
    ``"h0"`` (and ``"c0"`` when the layer has a cell state, i.e. the LSTM).
    """
    if getattr(layer, "dtype", None) != np.float64:
        raise ValueError("gradient checking needs a float64 layer (float32 round-off is larger "
                         "than the differences measured): build it with dtype=np.float64")
    x = np.array(x, dtype=np.float64)  # our own copy, perturbed in place
    N = x.shape[0] if x.ndim == 3 else 1
    H = layer.hidden_size
    states = {"h0": np.zeros((N, H)) if h0 is None else np.array(h0, dtype=np.float64)}
    has_cell = getattr(layer, "has_cell_state", False)
    if has_cell:
        states["c0"] = np.random.default_rng(seed + 1).standard_normal((N, H)) * 0.5

    def run():
        return layer.forward(x, **states)

    out = run()  # validates x and h0 before the long numerical loop
    R = np.random.default_rng(seed).standard_normal(out.shape)

    def loss(_):
        return np.sum(run() * R)

    run()
    dx = layer.backward(R)
    analytic = {k: v.copy() for k, v in layer.grads.items()}
    analytic["x"] = dx
    analytic["h0"] = layer.dh0
    if has_cell:
        analytic["c0"] = layer.dc0
    arrays = {**layer.params, "x": x, **states}
    return {name: relative_error(analytic[name], numerical_gradient(loss, arrays[name], eps=eps))
            for name in analytic}


def format_report(errors, *, tol=1e-6):
    """One line per array: its name and whether its relative error is below ``tol``.

    The verdict, not the digits, is printed: the digits at 1e-10 are round-off and differ
    between machines.
    """
    if not errors:
        raise ValueError("no relative errors to report")
    width = max(len(k) for k in errors)
    lines = []
    for name, err in errors.items():
        verdict = "ok" if err < tol else "MISMATCH"
        lines.append(f"{name:<{width}}  relative error < {tol:.0e}: {verdict}")
    return "\n".join(lines)
