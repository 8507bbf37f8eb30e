"""Checks for exercises 07: attention weights, masks, additive scores and the softmax's gradient.

The expected answers come from ``course_utils.attention`` (``scaled_dot_product_attention``,
``additive_attention``, ``masked_softmax``) or, for the gradient, from central differences
(``course_utils.gradcheck.numerical_gradient``), an independent computation.
"""

from __future__ import annotations

import numpy as np

from course_utils import attention
from course_utils.gradcheck import numerical_gradient

from . import Mismatch, call, expect, expect_close, expect_shape, task

# ---- helpers ------------------------------------------------------------------------------------


def _pair(got, what, names):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch(f"For {what}: expected a pair {names}, got {type(got).__name__} "
                       f"{got!r:.60}.")
    return got


def _softmax(e):
    z = np.exp(e - e.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _rows_sum_to_one(A, what):
    sums = A.sum(axis=-1)
    bad = np.argwhere(~np.isclose(sums, 1.0, atol=1e-6))
    if bad.size:
        idx = tuple(int(i) for i in bad[0])
        raise Mismatch(f"For {what}: the weights of one query over the keys must sum to 1, but "
                       f"A[{', '.join(map(str, idx))}, :] sums to {sums[idx]:.6g}. The softmax "
                       "runs over the keys (the last axis), after masking.")


def _masked_are_zero(A, mask, what):
    bad = np.argwhere(~mask & (A != 0))
    if bad.size:
        idx = tuple(int(i) for i in bad[0])
        raise Mismatch(f"For {what}: key {idx[-1]} is masked for A[{', '.join(map(str, idx))}] "
                       f"but has the weight {A[idx]:.3g}; a masked key must get exactly 0, "
                       "and the others must still sum to 1.")


# ---- tasks --------------------------------------------------------------------------------------


@task("Task 1 · attention weights of one query", function="attention_weights",
      hint="Score every key by its dot product with the query (one matrix-vector product gives "
           "all Tv of them), divide by the square root of d, and take a softmax that subtracts "
           "the largest score before exponentiating.")
def attention_weights(fn):
    rng = np.random.default_rng(0)
    K = rng.standard_normal((5, 4))
    q = K[2] + 0.3 * rng.standard_normal(4)
    big_K = 20 * rng.standard_normal((6, 8))
    for q_, K_, label in [(q, K, "a query like key 2 (d = 4, Tv = 5)"),
                          (big_K[3], big_K, "large vectors (scores around 1000, d = 8)")]:
        what = f"attention_weights(q, K) for {label}"
        got = expect_shape(call(fn, q_.copy(), K_.copy(), what=f"computing {what}"),
                           (K_.shape[0],), what=what)
        expected = attention.scaled_dot_product_attention(q_[None, None], K_[None],
                                                          K_[None])[1][0, 0]
        d = q_.size
        if np.all(np.isfinite(got)) and not np.allclose(got, expected, atol=1e-8):
            for name, scale in [("without dividing by sqrt(d)", 1.0),
                                ("divided by d instead of sqrt(d)", 1.0 / d)]:
                if np.allclose(got, _softmax(scale * K_ @ q_), atol=1e-8):
                    raise Mismatch(f"For {what}: these are the weights {name}; the scores are "
                                   f"q . k_j / sqrt(d) with d = {d}.")
            _rows_sum_to_one(got[None], what)
        expect_close(got, expected, what=what, atol=1e-8)
    return ["The query that resembles key 2 gives key 2 the largest weight.",
            "Stable for scores in the thousands."]


def _attend_cases():
    rng = np.random.default_rng(1)
    B, Tq, Tv, d, dv = 2, 3, 5, 4, 3
    Q, K, V = (rng.standard_normal((B, n, m)) for n, m in ((Tq, d), (Tv, d), (Tv, dv)))
    pad = np.array([[True] * 5, [True, True, True, False, False]])
    per_query = np.ones((B, Tq, Tv), dtype=bool)
    per_query[0, 0, 1:] = False
    per_query[1, 2, :2] = False
    return Q, K, V, [
        (None, None, "no mask"),
        (pad, None, "a padding mask (B, Tv): the second sequence has 3 real positions"),
        (per_query, None, "a mask of shape (B, Tq, Tv), one row per query"),
        (pad, 1.0, "the padding mask and scale=1.0 (Keras' default layer)"),
    ]


@task("Task 2 · batched attention with a mask", function="attend",
      hint="All scores at once are one batched product of Q with K transposed on its last two "
           "axes, times the scale (one over the square root of d when scale is None). Give a (B, "
           "Tv) mask a query axis so it broadcasts, set the masked scores to minus infinity, take"
           " a stable softmax over the keys (the last axis), and weight the values with the "
           "result.")
def attend(fn):
    Q, K, V, cases = _attend_cases()
    B, Tq, Tv = Q.shape[0], Q.shape[1], K.shape[1]
    for mask, scale, label in cases:
        what = f"attend(Q, K, V) with {label}"
        kwargs = {"mask": None if mask is None else mask.copy()}
        if scale is not None:
            kwargs["scale"] = scale
        got = _pair(call(fn, Q.copy(), K.copy(), V.copy(), what=f"computing {what}", **kwargs),
                    what, "(out, A)")
        out_exp, A_exp, _ = attention.scaled_dot_product_attention(Q, K, V, mask=mask,
                                                                   scale=scale)
        A = expect_shape(got[1], (B, Tq, Tv), what=f"the weights A of {what}")
        expect(np.all(np.isfinite(A)), f"For the weights A of {what}: they contain nan or inf. "
                                       "Every query keeps at least one key here.")
        if mask is not None:
            full = np.broadcast_to(mask if mask.ndim == 3 else mask[:, None, :], (B, Tq, Tv))
            _masked_are_zero(A, full, f"the weights A of {what}")
        _rows_sum_to_one(A, f"the weights A of {what}")
        expect_close(A, A_exp, what=f"the weights A of {what}", atol=1e-8)
        expect_close(got[0], out_exp, what=f"the output of {what} (A @ V)", atol=1e-8)
    return ["Masked keys get exactly 0; every query's weights sum to 1.",
            "Same weights and outputs as course_utils.attention.scaled_dot_product_attention."]


@task("Task 3 · additive (Bahdanau) scores", function="additive_scores",
      hint="Project queries and keys to size a first. Then give each a length-1 axis in a "
           "different place, so that they broadcast to (B, Tq, Tv, a): every query meets every "
           "key. Apply tanh, and contract the last axis with v.")
def additive_scores(fn):
    rng = np.random.default_rng(2)
    B, Tq, Tv, dq, dk, a = 2, 3, 4, 5, 2, 6
    Q, K = rng.standard_normal((B, Tq, dq)), rng.standard_normal((B, Tv, dk))
    W_q, W_k, v = rng.standard_normal((dq, a)), rng.standard_normal((dk, a)), rng.normal(0, 1, a)
    what = (f"additive_scores(Q, K, W_q, W_k, v) with B={B}, Tq={Tq} queries of size {dq}, "
            f"Tv={Tv} keys of size {dk}, a={a}")
    got = call(fn, Q.copy(), K.copy(), W_q.copy(), W_k.copy(), v.copy(),
               what=f"computing {what}")
    if isinstance(got, np.ndarray) and got.shape == (B, Tv, Tq):
        raise Mismatch(f"For {what}: expected shape {(B, Tq, Tv)}, got {got.shape}: the axes "
                       "are swapped. Row i holds query i's scores for every key.")
    e = expect_shape(got, (B, Tq, Tv), what=what)
    H = attention.additive_attention(Q, K, K, W_q, W_k, v)[2][6]
    expected = H @ v
    no_tanh = ((Q @ W_q)[:, :, None, :] + (K @ W_k)[:, None, :, :]) @ v
    if np.allclose(e, no_tanh, atol=1e-8):
        raise Mismatch(f"For {what}: your scores are linear in q and k: the tanh is missing. "
                       "Without it the score is q W_q v + k W_k v, and the query's part cancels "
                       "in the softmax.")
    expect_close(e, expected, what=what, atol=1e-8)
    A = attention.additive_attention(Q, K, K, W_q, W_k, v)[1]
    expect_close(_softmax(e), A, what="the softmax of your scores")
    return ["softmax(your scores) equals course_utils.attention.additive_attention's weights.",
            "Queries and keys may have different sizes: W_q and W_k map both to size a."]


@task("Task 4 · the gradient through the softmax", function="scores_gradient",
      hint="First the gradient with respect to the weights: the upstream gradient times V "
           "transposed, shape (B, Tq, Tv). Then the chain rule through each row's softmax, with "
           "the Jacobian above: every weight of a row depends on every score of that row. Write "
           "that product out for one row on paper; it simplifies to something that needs only one"
           " extra number per row. Masked weights are 0, so their gradient comes out 0.")
def scores_gradient(fn):
    rng = np.random.default_rng(3)
    B, Tq, Tv, dv = 2, 3, 5, 4
    e = rng.standard_normal((B, Tq, Tv)) * 1.5
    V = rng.standard_normal((B, Tv, dv))
    dout = rng.standard_normal((B, Tq, dv))
    pad = np.array([[True] * 5, [True, True, True, False, False]])[:, None, :]
    for mask, label in [(None, "no mask"), (pad, "a padding mask (keys 3 and 4 of batch 1)")]:
        what = f"scores_gradient(dout, A, V) with {label}"
        A = attention.masked_softmax(e, mask)

        def loss(x, mask=mask):
            return np.sum(attention.masked_softmax(x, mask) @ V * dout)

        expected = numerical_gradient(loss, e.copy())
        got = call(fn, dout.copy(), A.copy(), V.copy(), what=f"computing {what}")
        de = expect_shape(got, (B, Tq, Tv), what=what)
        dA = dout @ V.transpose(0, 2, 1)
        if np.allclose(de, dA, atol=1e-6):
            raise Mismatch(f"For {what}: this is the gradient with respect to the weights A; "
                           "the scores reach A through the softmax, one more step back.")
        if np.allclose(de, A * dA, atol=1e-6):
            raise Mismatch(f"For {what}: you kept only the diagonal of the softmax's Jacobian. "
                           "Raising one score also lowers the other weights of its row.")
        if mask is not None:
            hidden = np.broadcast_to(~mask, de.shape)
            expect(np.all(de[hidden] == 0) or np.allclose(de[hidden], 0, atol=1e-12),
                   f"For {what}: a masked score cannot change anything, so its gradient must "
                   f"be 0; yours is {de[hidden][np.argmax(np.abs(de[hidden]))]:.3g} there.")
        expect_close(de, expected, what=f"{what} (compared with central differences)",
                     atol=1e-6, rtol=1e-4)
    return ["Matches central differences, masked or not.",
            "Each row of the gradient sums to 0: adding a constant to a row's scores changes "
            "nothing."]


@task("Task 5 · causal self-attention", function="causal_self_attention",
      hint="Queries, keys and values are three projections of the same X. The mask is lower "
           "triangular (each position sees itself and the positions before it) and the same for "
           "every sequence in the batch; your attend from Task 2 does the rest.")
def causal_self_attention(fn):
    rng = np.random.default_rng(4)
    B, T, D, d, dv = 2, 6, 5, 4, 3
    X = rng.standard_normal((B, T, D))
    W_q, W_k, W_v = (rng.standard_normal((D, n)) for n in (d, d, dv))
    what = f"causal_self_attention(X, W_q, W_k, W_v) with B={B}, T={T}"
    got = _pair(call(fn, X.copy(), W_q, W_k, W_v, what=f"computing {what}"), what, "(out, A)")
    out = expect_shape(got[0], (B, T, dv), what=f"the output of {what}")
    A = expect_shape(got[1], (B, T, T), what=f"the weights A of {what}")
    expect(np.all(np.isfinite(A)),
           f"For the weights A of {what}: they contain nan or inf. Position 0 has only itself "
           "to look at: a position may attend to itself.")
    t = 2
    X2 = X.copy()
    X2[:, t + 1:] = rng.standard_normal((B, T - t - 1, D))
    out2 = expect_shape(_pair(call(fn, X2, W_q, W_k, W_v, what="computing it with a changed "
                                                                "future"), what, "(out, A)")[0],
                        (B, T, dv), what=f"the output of {what}")
    expect(np.allclose(out[:, :t + 1], out2[:, :t + 1], atol=1e-10),
           f"For {what}: changing the inputs after position {t} changed the output at "
           f"positions 0 to {t}. Position i may look only at positions j <= i.")
    causal = np.broadcast_to(np.tril(np.ones((T, T), dtype=bool)), (B, T, T))
    _masked_are_zero(A, causal, f"the weights A of {what}")
    out_exp, A_exp, _ = attention.scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v,
                                                               mask=causal.copy())
    expect_close(A, A_exp, what=f"the weights A of {what}", atol=1e-8)
    expect_close(out, out_exp, what=f"the output of {what}", atol=1e-8)
    return ["Changing the future leaves the past untouched: this layer can be trained to "
            "predict the next character, like lesson 06's RNN, for all positions at once."]
