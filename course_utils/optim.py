"""Optimisers for the NumPy models of the course (the Keras models use ``keras.optimizers``).

One interface: ``opt.update(params, grads)`` changes every array of the dict ``params`` in place,
using the gradient with the same key in ``grads``. The optimiser keeps its own state per key.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Adagrad", "Adam"]


def _check_keys(params, grads):
    if grads.keys() != params.keys():
        raise ValueError(f"grads must have the keys {sorted(params)}, got {sorted(grads)}")


class Adagrad:
    """Adagrad: each coordinate's step shrinks with its accumulated squared gradient.

    mem += g^2;  p -= lr * g / sqrt(mem + eps). The lecture's char-RNN optimiser.
    """

    def __init__(self, lr=0.1, eps=1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr, self.eps = lr, eps
        self.mem = {}

    def update(self, params, grads):
        """Update every array of the dict ``params`` in place with ``grads`` (same keys)."""
        _check_keys(params, grads)
        for k, p in params.items():
            g = grads[k]
            mem = self.mem.setdefault(k, np.zeros_like(p))
            mem += g * g
            p -= self.lr * g / np.sqrt(mem + self.eps)


class Adam:
    """Adam (Kingma & Ba, 2015): momentum on the gradient, step scaled by its running RMS.

    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
    p -= lr_t * m / (sqrt(v) + eps)  with  lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t),
    the bias corrections of m and v folded into the step size, the form Kingma & Ba give at
    the end of their section 2 and the one ``keras.optimizers.Adam`` computes (so a NumPy model
    and its Keras twin, given the same eps, take the same steps). eps guards coordinates whose
    gradient is ~0 (Keras defaults to 1e-7; the NumPy models here use the paper's 1e-8).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def update(self, params, grads):
        """Update every array of the dict ``params`` in place with ``grads`` (same keys)."""
        _check_keys(params, grads)
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = self.lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for k, p in params.items():
            g = grads[k]
            m = self.m.setdefault(k, np.zeros_like(p))
            v = self.v.setdefault(k, np.zeros_like(p))
            m *= b1  # in place: no new arrays per step for the large weight matrices
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v)
            denom += self.eps
            p -= step * (m / denom)
