"""The transformer, piece by piece: self-attention, heads, layer norm, the block, and a GPT.

NumPy layers in the CS231n style (``*_forward`` returns ``(out, cache)``, ``*_backward`` takes
``(dout, cache)``), float64 by default so that a gradient check is meaningful:

- ``causal_mask(T)``: which key each query may see when predicting the next token.
- ``self_attention``: scaled dot-product attention of a sequence with itself (the one
  implementation lives in ``course_utils.attention``; this adds the causal mask).
- ``split_heads`` / ``merge_heads`` and ``mha_forward`` / ``mha_backward``: multi-head
  attention (project to Q, K, V, split into h heads, attend, merge, output projection),
  laid out like ``keras.layers.MultiHeadAttention`` so its weights can be copied in.
- ``layer_norm_forward`` / ``layer_norm_backward``.
- ``block_forward`` / ``block_backward``: a pre-norm transformer block,
  x + MHA(LN(x)), then + MLP(LN(.)).
- ``sinusoidal_positions``: the fixed positional encodings of Vaswani et al. (2017).

Keras, for real data:

- ``build_gpt``: token + learned position embeddings, N pre-norm blocks with causal
  self-attention, a final layer norm and an untied output layer.
- ``GPTCharModel``: wraps a trained GPT in the course protocol of ``course_utils.charrnn``
  (``initial_state(N)``, ``forward(ids, state) -> (logits, state)``), so ``charrnn.evaluate`` and
  ``charrnn.sample`` serve it unchanged.
- ``train_gpt``: random windows of the training text, Adam with warm-up and linear decay,
  an XLA-compiled train step; returns a ``charrnn.History``.

Shapes: ``N`` batch, ``T`` positions, ``D`` model width, ``h`` heads, ``dk = D / h`` per head,
``F`` hidden width of the MLP, ``V`` vocabulary.
"""

from __future__ import annotations

import math
import time

import numpy as np

from course_utils import attention
from course_utils.charrnn import (
    History,
    _budget_done,
    _check_budget,
    _check_int,
    _progress,
    _record,
    scheduled_lr,
)

__all__ = [
    "GPTCharModel",
    "block_backward",
    "block_forward",
    "build_gpt",
    "causal_mask",
    "gelu",
    "gpt_forward_numpy",
    "init_block",
    "init_mha",
    "layer_norm_backward",
    "layer_norm_forward",
    "merge_heads",
    "mha_backward",
    "mha_forward",
    "mha_weights_from_keras",
    "self_attention",
    "sinusoidal_positions",
    "split_heads",
    "train_gpt",
]


# --------------------------------------------------------------------------------------------
# Self-attention and heads
# --------------------------------------------------------------------------------------------


def causal_mask(T):
    """Bool (T, T), True on and below the diagonal: query i may attend to keys 0..i only.

    A language model predicts token i+1 from tokens 0..i; if position i could see i+1, the
    task would be copying, not predicting.
    """
    T = _check_int("T", T)
    return np.tril(np.ones((T, T), dtype=bool))


def self_attention(X, *, causal=False, scale=None):
    """Attention of a sequence with itself: Q = K = V = X.

    X (N, T, d) -> (out (N, T, d), A (N, T, T), cache for
    ``attention.scaled_dot_product_attention_backward``). ``causal=True`` adds ``causal_mask``.
    No learned projections: this is the bare operation (``mha_forward`` adds them).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, T, d), got {X.shape}")
    N, T, _ = X.shape
    mask = np.broadcast_to(causal_mask(T), (N, T, T)) if causal else None
    return attention.scaled_dot_product_attention(X, X, X, mask=mask, scale=scale)


def split_heads(X, num_heads):
    """(N, T, h * dk) -> (N, h, T, dk): the feature axis cut into h slices of dk, one per head."""
    X = np.asarray(X)
    h = _check_int("num_heads", num_heads)
    if X.ndim != 3 or X.shape[-1] % h:
        raise ValueError(f"X must have shape (N, T, h * dk) with its last axis divisible by "
                         f"num_heads={h}, got {X.shape}")
    N, T, D = X.shape
    return X.reshape(N, T, h, D // h).transpose(0, 2, 1, 3)


def merge_heads(X):
    """(N, h, T, dk) -> (N, T, h * dk): the inverse of ``split_heads``."""
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"X must have shape (N, h, T, dk), got {X.shape}")
    N, h, T, dk = X.shape
    return X.transpose(0, 2, 1, 3).reshape(N, T, h * dk)


def init_mha(D, num_heads, *, key_dim=None, seed=0, dtype=np.float64):
    """Weights of multi-head attention in Keras' layout (``keras.layers.MultiHeadAttention``).

    ``W_q``, ``W_k``, ``W_v`` (D, h, dk), ``b_q``, ``b_k``, ``b_v`` (h, dk), ``W_o`` (h, dk, D),
    ``b_o`` (D,). ``key_dim`` defaults to D // num_heads. Glorot-uniform, biases zero.
    """
    D = _check_int("D", D)
    h = _check_int("num_heads", num_heads)
    dk = D // h if key_dim is None else _check_int("key_dim", key_dim)
    if dk < 1:
        raise ValueError(f"D={D} is smaller than num_heads={h}: each head needs >= 1 feature")
    rng = np.random.default_rng(seed)
    lim = math.sqrt(6.0 / (D + h * dk))
    P = {k: rng.uniform(-lim, lim, (D, h, dk)).astype(dtype) for k in ("W_q", "W_k", "W_v")}
    P.update({k: np.zeros((h, dk), dtype=dtype) for k in ("b_q", "b_k", "b_v")})
    P["W_o"] = rng.uniform(-lim, lim, (h, dk, D)).astype(dtype)
    P["b_o"] = np.zeros(D, dtype=dtype)
    return P


def mha_weights_from_keras(layer):
    """The weights of a built ``keras.layers.MultiHeadAttention`` as an ``init_mha`` dict."""
    names = ("W_q", "b_q", "W_k", "b_k", "W_v", "b_v", "W_o", "b_o")
    ws = layer.get_weights()
    if len(ws) != len(names):
        raise ValueError(f"expected a built MultiHeadAttention with biases ({len(names)} "
                         f"weight arrays), got {len(ws)}")
    return dict(zip(names, ws, strict=True))


def mha_forward(X, params, *, causal=False):
    """Multi-head self-attention. X (N, T, D) -> (out (N, T, D), cache).

    Per head j: Q_j = X W_q[:, j] + b_q[j] (N, T, dk), likewise K_j and V_j; the head's output
    is softmax(Q_j K_j^T / sqrt(dk)) V_j (N, T, dk). The h outputs, side by side, are projected
    back: out = sum_j head_j W_o[j] + b_o. Each head can attend to a different position for a
    different reason (one to the previous character, one to the start of the word) at the cost
    of one head of width D. ``cache["A"]`` holds the weights (N, h, T, T).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, T, D), got {X.shape}")
    N, T, D = X.shape
    if params["W_q"].shape[0] != D:
        raise ValueError(f"X has D={D} features but W_q expects {params['W_q'].shape[0]}")
    h, dk = params["W_q"].shape[1:]
    # (N, T, D) x (D, h, dk) -> (N, h, T, dk): the projection and the head split in one step
    Q, K, Vv = (np.einsum("ntd,dhk->nhtk", X, params[f"W_{c}"]) + params[f"b_{c}"][None, :, None]
                for c in ("q", "k", "v"))
    flat = (N * h, T, dk)
    mask = np.broadcast_to(causal_mask(T), (N * h, T, T)) if causal else None
    heads, A, att_cache = attention.scaled_dot_product_attention(
        Q.reshape(flat), K.reshape(flat), Vv.reshape(flat), mask=mask)
    heads = heads.reshape(N, h, T, dk)
    out = np.einsum("nhtk,hkd->ntd", heads, params["W_o"]) + params["b_o"]
    cache = {"X": X, "heads": heads, "att": att_cache, "A": A.reshape(N, h, T, T),
             "params": params, "shape": (N, h, T, dk)}
    return out, cache


def mha_backward(dout, cache):
    """Gradients of ``mha_forward``: dout (N, T, D) -> (dX (N, T, D), grads dict of params)."""
    X, heads, P = cache["X"], cache["heads"], cache["params"]
    N, h, T, dk = cache["shape"]
    g = {"W_o": np.einsum("nhtk,ntd->hkd", heads, dout), "b_o": dout.sum(axis=(0, 1))}
    dheads = np.einsum("ntd,hkd->nhtk", dout, P["W_o"])
    dQ, dK, dV = attention.scaled_dot_product_attention_backward(
        dheads.reshape(N * h, T, dk), cache["att"])
    dX = np.zeros_like(X)
    for c, d in (("q", dQ), ("k", dK), ("v", dV)):
        d = d.reshape(N, h, T, dk)
        g[f"W_{c}"] = np.einsum("ntd,nhtk->dhk", X, d)
        g[f"b_{c}"] = d.sum(axis=(0, 2))
        dX += np.einsum("nhtk,dhk->ntd", d, P[f"W_{c}"])
    return dX, g


# --------------------------------------------------------------------------------------------
# Layer norm, MLP, the block
# --------------------------------------------------------------------------------------------


def layer_norm_forward(x, gamma, beta, eps=1e-5):
    """Normalise each position's D features to mean 0, variance 1, then scale and shift.

    x (..., D), gamma (D,), beta (D,) -> (out (..., D), cache). Unlike batch norm it uses no
    statistics across the batch or time, so it works the same for one token or a thousand.
    """
    x = np.asarray(x, dtype=np.float64)
    if gamma.shape != (x.shape[-1],) or beta.shape != gamma.shape:
        raise ValueError(f"gamma and beta must have shape ({x.shape[-1]},), got "
                         f"{gamma.shape} and {beta.shape}")
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    return xhat * gamma + beta, (xhat, inv, gamma)


def layer_norm_backward(dout, cache):
    """dout (..., D) -> (dx (..., D), dgamma (D,), dbeta (D,))."""
    xhat, inv, gamma = cache
    axes = tuple(range(dout.ndim - 1))
    dgamma = (dout * xhat).sum(axis=axes)
    dbeta = dout.sum(axis=axes)
    dxhat = dout * gamma
    # the mean and variance depend on every feature: subtract their share of the gradient
    dx = inv * (dxhat - dxhat.mean(axis=-1, keepdims=True)
                - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dgamma, dbeta


def gelu(x):
    """GELU, x * Phi(x) with Phi the standard normal CDF (``keras.activations.gelu``'s default).

    A smooth ReLU: near 0 for large negative x, near x for large positive x.
    """
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _gelu_backward(dout, x):
    from scipy.special import erf

    # d/dx [x Phi(x)] = Phi(x) + x phi(x)
    return dout * (0.5 * (1.0 + erf(x / math.sqrt(2.0)))
                   + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))


def init_block(D, num_heads, *, mlp_ratio=4, seed=0, dtype=np.float64):
    """Weights of ``block_forward``: ``ln1_g``, ``ln1_b``, ``mha`` (an ``init_mha`` dict),
    ``ln2_g``, ``ln2_b``, ``W_1`` (D, F), ``b_1`` (F,), ``W_2`` (F, D), ``b_2`` (D,), F = mlp_ratio D."""
    D = _check_int("D", D)
    F = _check_int("mlp_ratio", mlp_ratio) * D
    rng = np.random.default_rng(seed + 1)
    return {
        "ln1_g": np.ones(D, dtype=dtype), "ln1_b": np.zeros(D, dtype=dtype),
        "mha": init_mha(D, num_heads, seed=seed, dtype=dtype),
        "ln2_g": np.ones(D, dtype=dtype), "ln2_b": np.zeros(D, dtype=dtype),
        "W_1": rng.uniform(-1, 1, (D, F)).astype(dtype) * math.sqrt(6.0 / (D + F)),
        "b_1": np.zeros(F, dtype=dtype),
        "W_2": rng.uniform(-1, 1, (F, D)).astype(dtype) * math.sqrt(6.0 / (D + F)),
        "b_2": np.zeros(D, dtype=dtype),
    }


def block_forward(x, params, *, causal=True):
    """A pre-norm transformer block. x (N, T, D) -> (out (N, T, D), cache).

        y   = x + MHA(LN1(x))          (tokens exchange information)
        out = y + MLP(LN2(y))          (each token computes on its own: W_2 gelu(W_1 . + b_1) + b_2)

    The normalisations sit inside the branches, so the residual path from input to output is
    the identity: gradients reach early blocks undiminished, and the stack trains without the
    careful warm-up a post-norm block needs.
    """
    x = np.asarray(x, dtype=np.float64)
    a, ln1 = layer_norm_forward(x, params["ln1_g"], params["ln1_b"])
    att, mha = mha_forward(a, params["mha"], causal=causal)
    y = x + att
    b, ln2 = layer_norm_forward(y, params["ln2_g"], params["ln2_b"])
    pre = b @ params["W_1"] + params["b_1"]
    hid = gelu(pre)
    out = y + hid @ params["W_2"] + params["b_2"]
    return out, {"ln1": ln1, "mha": mha, "ln2": ln2, "b": b, "pre": pre, "hid": hid,
                 "params": params}


def block_backward(dout, cache):
    """dout (N, T, D) -> (dx (N, T, D), grads: a dict shaped like the block's params)."""
    P = cache["params"]
    N, T, D = dout.shape
    F = P["W_1"].shape[1]
    g = {"W_2": cache["hid"].reshape(-1, F).T @ dout.reshape(-1, D), "b_2": dout.sum(axis=(0, 1))}
    dpre = _gelu_backward(dout @ P["W_2"].T, cache["pre"])
    g["W_1"] = cache["b"].reshape(-1, D).T @ dpre.reshape(-1, F)
    g["b_1"] = dpre.sum(axis=(0, 1))
    db, g["ln2_g"], g["ln2_b"] = layer_norm_backward(dpre @ P["W_1"].T, cache["ln2"])
    dy = dout + db  # the residual passes dout through unchanged
    da, g["mha"] = mha_backward(dy, cache["mha"])
    dx_ln, g["ln1_g"], g["ln1_b"] = layer_norm_backward(da, cache["ln1"])
    return dy + dx_ln, g


# --------------------------------------------------------------------------------------------
# Positions
# --------------------------------------------------------------------------------------------


def sinusoidal_positions(T, D):
    """Fixed positional encodings (Vaswani et al., 2017, section 3.5): (T, D) float64.

    PE[p, 2i] = sin(p / 10000^(2i/D)), PE[p, 2i+1] = cos(p / 10000^(2i/D)). Each pair of
    features is a clock of its own period, from 2 pi to 10000 * 2 pi positions, so every
    position gets a distinct code and a fixed offset is a rotation of each pair.
    """
    T = _check_int("T", T)
    D = _check_int("D", D, minimum=2)
    if D % 2:
        raise ValueError(f"D must be even (sines and cosines come in pairs), got {D}")
    pos = np.arange(T)[:, None]
    freq = 1.0 / 10000.0 ** (np.arange(0, D, 2) / D)
    pe = np.zeros((T, D))
    pe[:, 0::2] = np.sin(pos * freq)
    pe[:, 1::2] = np.cos(pos * freq)
    return pe


# --------------------------------------------------------------------------------------------
# Keras: the GPT
# --------------------------------------------------------------------------------------------


def build_gpt(vocab_size, *, context=64, width=128, layers=4, heads=4, mlp_ratio=4,
              dropout=0.0, name="gpt"):
    """A decoder-only transformer in Keras: ids (N, T) -> logits (N, T, V), T <= context.

    Token embedding (V, D) + learned position embedding (context, D), ``layers`` pre-norm
    blocks (``keras.layers.MultiHeadAttention`` with a causal mask, GELU MLP of width
    mlp_ratio * D), a final layer norm and an untied output layer (D, V). Not compiled:
    ``train_gpt`` compiles it.
    """
    import keras

    V = _check_int("vocab_size", vocab_size)
    ctx = _check_int("context", context)
    D = _check_int("width", width)
    L = _check_int("layers", layers)
    h = _check_int("heads", heads)
    if D % h:
        raise ValueError(f"width={D} must be divisible by heads={h}")
    ids = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(V, D, name="tokens")(ids)
    pos = _PositionEmbedding(ctx, D, name="positions")(x)
    x = keras.layers.Add(name="add_positions")([x, pos])
    for i in range(L):
        a = keras.layers.LayerNormalization(epsilon=1e-5, name=f"block{i}_ln1")(x)
        a = keras.layers.MultiHeadAttention(h, D // h, dropout=dropout,
                                            name=f"block{i}_attention")(a, a,
                                                                        use_causal_mask=True)
        x = keras.layers.Add(name=f"block{i}_add1")([x, a])
        m = keras.layers.LayerNormalization(epsilon=1e-5, name=f"block{i}_ln2")(x)
        m = keras.layers.Dense(mlp_ratio * D, activation="gelu", name=f"block{i}_mlp1")(m)
        m = keras.layers.Dense(D, name=f"block{i}_mlp2")(m)
        if dropout:
            m = keras.layers.Dropout(dropout)(m)
        x = keras.layers.Add(name=f"block{i}_add2")([x, m])
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_ln")(x)
    logits = keras.layers.Dense(V, name="logits")(x)
    model = keras.Model(ids, logits, name=name)
    model.context = ctx
    return model


def _position_embedding_class():
    import keras

    class PositionEmbedding(keras.layers.Layer):
        """Learned positions: (N, T, D) -> the first T rows of a (context, D) table, (1, T, D).

        A sequence longer than the table has positions the model never learned: an error.
        """

        def __init__(self, context, width, **kwargs):
            super().__init__(**kwargs)
            self.context, self.width = context, width

        def build(self, input_shape):
            self.table = self.add_weight(shape=(self.context, self.width),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02),
                                         name="table")

        def call(self, x):
            T = keras.ops.shape(x)[1]
            return keras.ops.expand_dims(self.table[:T], 0)

        def get_config(self):
            return {**super().get_config(), "context": self.context, "width": self.width}

    return PositionEmbedding


def _PositionEmbedding(*args, **kwargs):  # noqa: N802 - a layer, built lazily (imports Keras)
    global _POS_CLASS
    if _POS_CLASS is None:
        _POS_CLASS = _position_embedding_class()
    return _POS_CLASS(*args, **kwargs)


_POS_CLASS = None


def gpt_forward_numpy(keras_model, ids):
    """The ``build_gpt`` model run by this module's NumPy layers, on its Keras weights.

    ids (N, T) with T <= context -> (logits (N, T, V) float64, maps: one array of attention
    weights (N, h, T, T) per block). The same logits as the Keras model (to float32
    round-off), which checks every layer at once, and the attention maps Keras keeps inside.
    """
    ids = np.asarray(ids)
    ctx = int(keras_model.context)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer) or ids.shape[1] > ctx:
        raise ValueError(f"ids must be integers of shape (N, T) with T <= context={ctx}, "
                         f"got {ids.shape}")

    def get(name):
        return [w.astype(np.float64) for w in keras_model.get_layer(name).get_weights()]

    (emb,), (pos,) = get("tokens"), get("positions")
    x = emb[ids] + pos[:ids.shape[1]]
    maps, i = [], 0
    while any(la.name == f"block{i}_ln1" for la in keras_model.layers):
        ln1, ln2 = get(f"block{i}_ln1"), get(f"block{i}_ln2")
        (W_1, b_1), (W_2, b_2) = get(f"block{i}_mlp1"), get(f"block{i}_mlp2")
        mha = {k: v.astype(np.float64) for k, v in
               mha_weights_from_keras(keras_model.get_layer(f"block{i}_attention")).items()}
        P = {"ln1_g": ln1[0], "ln1_b": ln1[1], "mha": mha, "ln2_g": ln2[0], "ln2_b": ln2[1],
             "W_1": W_1, "b_1": b_1, "W_2": W_2, "b_2": b_2}
        x, cache = block_forward(x, P, causal=True)
        maps.append(cache["mha"]["A"])
        i += 1
    g, b = get("final_ln")
    x, _ = layer_norm_forward(x, g, b)
    W, b = get("logits")
    return x @ W + b, maps


class GPTCharModel:
    """A Keras GPT speaking the course protocol of ``course_utils.charrnn``.

    The "state" of a transformer is not a vector but the text itself: the last ids seen,
    (N, S) int32 with S < context. ``forward(ids (N, T), state)`` predicts every new position
    from a window of at most ``context`` ids ending there, cutting the new ids into chunks so
    that each prediction sees at least ``min_context`` ids of the past (when the stream has
    that many). ``evaluate`` and ``sample`` from ``charrnn`` then work unchanged; each model
    call has the fixed shape (N, context) (shorter windows are padded on the right, which the
    causal mask hides), so it compiles once per N.
    """

    def __init__(self, keras_model, *, min_context=None):
        self.model = keras_model
        self.context = int(keras_model.context)
        self.vocab_size = int(keras_model.output_shape[-1])
        mc = self.context // 2 if min_context is None else min_context
        if isinstance(mc, bool) or not isinstance(mc, (int, np.integer)) \
                or not 0 <= mc < self.context:
            raise ValueError(f"min_context must be an integer in [0, {self.context}), got {mc!r}")
        self.min_context = int(mc)
        self._fn = None

    def initial_state(self, N):
        """No text seen yet: ids of shape (N, 0)."""
        return np.zeros((_check_int("N", N), 0), dtype=np.int32)

    def _call(self, window):
        import tensorflow as tf

        if self._fn is None:
            model = self.model

            @tf.function(reduce_retracing=True)
            def fn(x):
                return model(x, training=False)

            self._fn = fn
        return self._fn(tf.constant(window)).numpy()

    def logits(self, ids):
        """ids (N, T) with T <= context -> logits (N, T, V), each position seeing ids[:, :t+1]."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be integers of shape (N, T), got {ids.shape}")
        N, T = ids.shape
        if T > self.context:
            raise ValueError(f"a window of {T} ids is longer than the model's context of "
                             f"{self.context}: positions beyond it were never learned")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size}), got values from "
                             f"{ids.min()} to {ids.max()}")
        window = np.zeros((N, self.context), dtype=np.int32)
        window[:, :T] = ids
        return self._call(window)[:, :T]

    def forward(self, ids, state=None):
        """ids (N, T), state (N, S) -> (logits (N, T, V) float32, state: the last ids, S' < context)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be integers of shape (N, T), got {ids.shape}")
        N, T = ids.shape
        state = self.initial_state(N) if state is None else np.asarray(state, dtype=np.int32)
        if state.ndim != 2 or state.shape[0] != N or state.shape[1] >= self.context:
            raise ValueError(f"state must be ids of shape (N, S) with N={N} and S < context="
                             f"{self.context}, got {state.shape}")
        full = np.concatenate([state, ids.astype(np.int32)], axis=1)
        S = state.shape[1]
        out = np.empty((N, T, self.vocab_size), dtype=np.float32)
        t = S  # next position of `full` to predict from
        while t < S + T:
            past = min(t, self.min_context) if t > 0 else 0
            start = t - past
            end = min(S + T, start + self.context)
            out[:, t - S:end - S] = self.logits(full[:, start:end])[:, past:]
            t = end
        keep = min(full.shape[1], self.context - 1)
        return out, full[:, full.shape[1] - keep:]


def _windows(ids, rng, batch_size, context):
    starts = rng.integers(0, len(ids) - context - 1, size=batch_size)
    idx = starts[:, None] + np.arange(context)
    return ids[idx], ids[idx + 1]


def _compiled_train_step(model, lr, weight_decay, clipnorm, jit_compile=False):
    """One compiled step: loss, gradients, clipped Adam(W) update. -> (fn(x, y), optimizer).

    A ``tf.function`` graph. ``jit_compile=True`` asks for XLA, which ``model.compile`` would
    silently refuse while TensorFlow's deterministic ops are on (``course_utils.set_seed``
    turns them on). Measured on the course machine (2 shared cores, under load), XLA took
    16 s to compile this GPT and was not faster per step than the plain graph (3 s to trace),
    so it is off by default.
    """
    import keras
    import tensorflow as tf

    if weight_decay:
        opt = keras.optimizers.AdamW(lr, weight_decay=weight_decay, beta_2=0.99,
                                     global_clipnorm=clipnorm)
    else:
        opt = keras.optimizers.Adam(lr, beta_2=0.99, global_clipnorm=clipnorm)
    opt.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    variables = model.trainable_variables

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return loss

    return (lambda x, y: step(tf.constant(x), tf.constant(y))), opt


def train_gpt(model, train_ids, *, steps=None, seconds=None, batch_size=32, lr=1e-3,
              warmup=100, final_lr_fraction=0.1, weight_decay=0.0, clipnorm=1.0, val_ids=None,
              val_batch_size=32, eval_every=200, on_eval=None, seed=0, progress=True,
              desc="gpt", jit_compile=False):
    """Train a ``build_gpt`` model on random windows of ``train_ids``; returns a ``History``.

    Each step draws ``batch_size`` windows of ``context + 1`` ids at random positions (a
    ``np.random.default_rng(seed)``), and takes one Adam step on the mean next-token
    cross-entropy of all positions. The learning rate rises linearly over ``warmup`` steps,
    then falls linearly to ``final_lr_fraction * lr`` at the end of the budget (``steps`` or
    ``seconds``, whichever stops training). The train step is traced once, before the clock
    starts (its seconds are in ``history.compile_seconds``). Validation, if
    ``val_ids`` is given, uses ``charrnn.evaluate`` on ``GPTCharModel(model)`` with windows of
    half the context.
    """

    steps = _check_budget(steps, seconds)
    eval_every = _check_int("eval_every", eval_every)
    B = _check_int("batch_size", batch_size)
    warmup = _check_int("warmup", warmup, minimum=0)
    ctx = int(model.context)
    train_ids = np.asarray(train_ids, dtype=np.int32)
    if train_ids.ndim != 1 or len(train_ids) < ctx + 2:
        raise ValueError(f"train_ids must be a 1-D sequence of more than context + 1 = "
                         f"{ctx + 1} ids, got shape {train_ids.shape}")
    rng = np.random.default_rng(seed)
    step_fn, opt = _compiled_train_step(model, lr, weight_decay, clipnorm, jit_compile)
    # trace (and compile) on a throw-away batch with a zero learning rate: the weights do
    # not move (Adam's moments do, a little, which the next steps overwrite)
    t0 = time.perf_counter()
    opt.learning_rate.assign(0.0)
    step_fn(*_windows(train_ids, np.random.default_rng(seed + 1), B, ctx))
    compile_seconds = time.perf_counter() - t0
    hist = History()
    hist.compile_seconds = compile_seconds
    eval_model = GPTCharModel(model)
    bar = _progress(steps, desc, progress)
    clock, step, losses = 0.0, 0, []
    try:
        while True:
            rate = scheduled_lr(lr, step, clock, steps=steps, seconds=seconds, warmup=warmup,
                                final_lr_fraction=final_lr_fraction)
            t0 = time.perf_counter()
            opt.learning_rate.assign(rate)
            x, y = _windows(train_ids, rng, B, ctx)
            loss = float(step_fn(x, y))
            clock += time.perf_counter() - t0
            if not math.isfinite(loss):
                raise FloatingPointError(f"the training loss became {loss} at step {step}")
            step += 1
            losses.append(loss)
            bar.update(1)
            done = _budget_done(step, clock, steps, seconds)
            if step % eval_every == 0 or done:
                _record(hist, step, step * B * ctx, clock, losses, model=eval_model,
                        val_ids=val_ids, val_batch_size=val_batch_size, seq_len=ctx // 2,
                        bar=bar, unit="tok", on_eval=on_eval)
            if done:
                break
    finally:
        bar.close()
    hist.train_seconds = clock
    hist.train_chars = step * B * ctx
    return hist
