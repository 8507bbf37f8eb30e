"""Attention in NumPy: scaled dot-product and additive (Bahdanau) attention, forward and backward.

A decoder that translates "part by part" asks, for each output step i, *which input positions
matter now?* Attention answers with a weight per input position:

    scores   e[i, j] = score(q_i, k_j)            how well query i matches key j
    weights  a[i, :] = softmax(e[i, :])           non-negative, sum to 1 over j
    context  c_i     = sum_j a[i, j] v_j          a weighted average of the values

Two score functions:

* scaled dot product (Luong; the transformer's): ``e = scale * q . k`` with
  ``scale = 1/sqrt(d)`` by default. ``keras.layers.Attention()`` with its defaults computes the
  *unscaled* ``q . k`` (``scale=1``); with ``use_scale=True`` it learns the scale (starting at 1).
* additive (Bahdanau): ``e = v . tanh(q W_q + k W_k)``. ``keras.layers.AdditiveAttention``
  computes the same with ``W_q = W_k = I`` (it expects the projections to be done before it) and
  ``v`` its ``scale`` weight.

A mask marks which key positions may be attended (True) - padding gets False. Masked positions
get a weight of exactly 0 (their score is set to -inf before the softmax), not merely a small one.

Shapes: ``B`` batch, ``Tq`` queries (output steps), ``Tv`` keys/values (input positions),
``d`` query/key size, ``dv`` value size, ``a`` additive attention's hidden size.
Masks are ``(B, Tv)`` (the same for every query) or ``(B, Tq, Tv)``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "masked_softmax",
    "scaled_dot_product_attention",
    "scaled_dot_product_attention_backward",
    "additive_attention",
    "additive_attention_backward",
    "plot_attention",
]


# ---------------------------------------------------------------------------- checks


def _check_qkv(Q, K, V):
    Q, K, V = (np.asarray(t, dtype=np.float64) for t in (Q, K, V))
    for name, t in (("Q", Q), ("K", K), ("V", V)):
        if t.ndim != 3:
            raise ValueError(f"{name} must be 3-D (batch, time, features), got shape {t.shape}")
    if not (Q.shape[0] == K.shape[0] == V.shape[0]):
        raise ValueError(f"batch sizes differ: Q {Q.shape}, K {K.shape}, V {V.shape}")
    if K.shape[1] != V.shape[1]:
        raise ValueError(f"K and V need one row per input position: K {K.shape}, V {V.shape}")
    return Q, K, V


def _check_mask(mask, B: int, Tq: int, Tv: int) -> np.ndarray | None:
    """Mask -> bool array (B, Tq, Tv), or None. True = may attend."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError("mask must be boolean (True = attend) or 0/1")
        m = m.astype(bool)
    if m.shape == (B, Tv):
        m = m[:, None, :]
    if m.shape not in ((B, 1, Tv), (B, Tq, Tv)):
        raise ValueError(f"mask must have shape (B, Tv) = {(B, Tv)} or (B, Tq, Tv) = "
                         f"{(B, Tq, Tv)}, got {np.shape(mask)}")
    m = np.broadcast_to(m, (B, Tq, Tv))
    if not m.any(axis=-1).all():
        raise ValueError("the mask hides every key from some query; each query needs at least "
                         "one position it may attend to")
    return m


# ---------------------------------------------------------------------------- softmax


def masked_softmax(e: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Softmax over the last axis, with masked positions set to exactly 0.

    ``e`` ``(B, Tq, Tv)`` scores; ``mask`` bool, broadcastable to ``e`` (True = keep).
    Returns weights of the same shape; every row sums to 1.
    """
    e = np.asarray(e, dtype=np.float64)
    if mask is not None:
        e = np.where(mask, e, -np.inf)
    # Subtracting the row maximum keeps exp() from overflowing; it cancels in the ratio.
    z = np.exp(e - e.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _softmax_backward(dA: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Gradient through a row softmax: de = A * (dA - sum_j dA_j A_j). Masked A=0 give de=0."""
    return A * (dA - (dA * A).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------- dot product


def scaled_dot_product_attention(Q, K, V, mask=None, scale: float | None = None):
    """Dot-product attention ``softmax(scale * Q K^T) V``.

    Q ``(B, Tq, d)``, K ``(B, Tv, d)``, V ``(B, Tv, dv)``, mask ``(B, Tv)`` or ``(B, Tq, Tv)``
    (True = may attend), ``scale`` defaults to ``1/sqrt(d)`` so that scores of random unit-size
    vectors stay of order 1 whatever d is (pass ``scale=1.0`` for Keras' default layer).

    Returns ``(out, A, cache)``: out ``(B, Tq, dv)`` context vectors, A ``(B, Tq, Tv)`` weights.
    """
    Q, K, V = _check_qkv(Q, K, V)
    if Q.shape[2] != K.shape[2]:
        raise ValueError(f"queries and keys must have the same size d: Q {Q.shape}, K {K.shape}")
    B, Tq, d = Q.shape
    m = _check_mask(mask, B, Tq, K.shape[1])
    if scale is None:
        scale = 1.0 / np.sqrt(d)
    e = scale * Q @ K.transpose(0, 2, 1)               # (B, Tq, Tv)
    A = masked_softmax(e, m)
    out = A @ V                                         # (B, Tq, dv)
    return out, A, (Q, K, V, A, scale)


def scaled_dot_product_attention_backward(dout, cache):
    """Gradients of :func:`scaled_dot_product_attention`: ``dout (B, Tq, dv) -> dQ, dK, dV``."""
    Q, K, V, A, scale = cache
    dA = dout @ V.transpose(0, 2, 1)                    # (B, Tq, Tv)
    dV = A.transpose(0, 2, 1) @ dout                    # (B, Tv, dv)
    de = _softmax_backward(dA, A)
    dQ = scale * de @ K
    dK = scale * de.transpose(0, 2, 1) @ Q
    return dQ, dK, dV


# ---------------------------------------------------------------------------- additive


def additive_attention(Q, K, V, W_q, W_k, v, mask=None):
    """Additive (Bahdanau) attention: ``e[i, j] = v . tanh(q_i W_q + k_j W_k)``.

    Q ``(B, Tq, dq)`` decoder states, K ``(B, Tv, dk)`` encoder states, V ``(B, Tv, dv)``
    (usually K itself), W_q ``(dq, a)``, W_k ``(dk, a)``, v ``(a,)``, mask as in
    :func:`scaled_dot_product_attention`. A small one-hidden-layer network scores every
    (query, key) pair, so queries and keys may have different sizes.

    Returns ``(out, A, cache)``: out ``(B, Tq, dv)``, A ``(B, Tq, Tv)``.
    """
    Q, K, V = _check_qkv(Q, K, V)
    W_q, W_k, v = (np.asarray(t, dtype=np.float64) for t in (W_q, W_k, v))
    if W_q.ndim != 2 or W_q.shape[0] != Q.shape[2]:
        raise ValueError(f"W_q must have shape ({Q.shape[2]}, a), got {W_q.shape}")
    if W_k.shape != (K.shape[2], W_q.shape[1]):
        raise ValueError(f"W_k must have shape ({K.shape[2]}, {W_q.shape[1]}), got {W_k.shape}")
    if v.shape != (W_q.shape[1],):
        raise ValueError(f"v must have shape ({W_q.shape[1]},), got {v.shape}")
    B, Tq, _ = Q.shape
    m = _check_mask(mask, B, Tq, K.shape[1])
    # Every query meets every key: broadcast (B, Tq, 1, a) + (B, 1, Tv, a) -> (B, Tq, Tv, a).
    H = np.tanh((Q @ W_q)[:, :, None, :] + (K @ W_k)[:, None, :, :])
    e = H @ v                                           # (B, Tq, Tv)
    A = masked_softmax(e, m)
    out = A @ V
    return out, A, (Q, K, V, W_q, W_k, v, H, A)


def additive_attention_backward(dout, cache):
    """Gradients of :func:`additive_attention`: ``dout (B, Tq, dv) -> dQ, dK, dV, dW_q, dW_k, dv``."""
    Q, K, V, W_q, W_k, v, H, A = cache
    dA = dout @ V.transpose(0, 2, 1)
    dV = A.transpose(0, 2, 1) @ dout
    de = _softmax_backward(dA, A)                       # (B, Tq, Tv)
    dv = np.einsum("bij,bija->a", de, H)
    dZ = de[..., None] * v * (1.0 - H**2)               # through tanh, (B, Tq, Tv, a)
    dPq = dZ.sum(axis=2)                                # each query met every key
    dPk = dZ.sum(axis=1)
    dQ = dPq @ W_q.T
    dK = dPk @ W_k.T
    dW_q = np.einsum("bid,bia->da", Q, dPq)
    dW_k = np.einsum("bjd,bja->da", K, dPk)
    return dQ, dK, dV, dW_q, dW_k, dv


# ---------------------------------------------------------------------------- pictures


def plot_attention(A, input_text: str, output_text: str, ax=None, title: str | None = None,
                   colorbar: bool = True):
    """Heatmap of one example's weights: rows = output characters, columns = input characters.

    ``A`` ``(T_out, T_in_padded)``; only the first ``len(input_text)`` columns are drawn
    (padding gets weight 0 anyway). The colour scale is fixed to [0, 1] so that heatmaps can
    be compared; ``colorbar`` draws it beside the map. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] != len(output_text) or A.shape[1] < len(input_text):
        raise ValueError(f"A must have shape ({len(output_text)}, >= {len(input_text)}) for "
                         f"these texts, got {A.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(0.28 * len(input_text) + 1.5, 0.28 * len(output_text) + 1))
    image = ax.imshow(A[:, : len(input_text)], cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.025, pad=0.02, label="attention weight")
    ax.set_xticks(range(len(input_text)), [c if c != " " else "\u2423" for c in input_text])
    ax.set_yticks(range(len(output_text)), list(output_text))
    ax.tick_params(length=0, labelsize=9)
    ax.set_xlabel("input character (read by the encoder)")
    ax.set_ylabel("output character")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
