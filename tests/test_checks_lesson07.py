"""Exercise checks for lesson 07: wrong answers get specific, helpful feedback."""

import numpy as np

from course_utils.checks import lesson07 as check

# ---- reference answers, so each test can break exactly one thing ------------------------------


def softmax(e):
    z = np.exp(e - e.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def attend(Q, K, V, mask=None, scale=None):
    scale = 1 / np.sqrt(Q.shape[-1]) if scale is None else scale
    e = scale * Q @ K.transpose(0, 2, 1)
    if mask is not None:
        mask = mask[:, None, :] if mask.ndim == 2 else mask
        e = np.where(mask, e, -np.inf)
    A = softmax(e)
    return A @ V, A


def test_reference_answer_passes():
    assert check.attend(attend)


# ---- Task 1 ---------------------------------------------------------------------------------


def test_weights_without_the_scale():
    fb = check.attention_weights(lambda q, K: softmax(K @ q))
    assert fb.status == "wrong" and "without dividing by sqrt(d)" in fb.message


def test_weights_divided_by_d():
    fb = check.attention_weights(lambda q, K: softmax(K @ q / len(q)))
    assert fb.status == "wrong" and "divided by d instead of sqrt(d)" in fb.message


def test_weights_that_overflow():
    def unstable(q, K):
        z = np.exp(K @ q / np.sqrt(len(q)))
        return z / z.sum()

    with np.errstate(all="ignore"):
        fb = check.attention_weights(unstable)
    assert fb.status == "wrong"
    assert "scores around 1000" in fb.message and "nan or inf" in fb.message


def test_scores_returned_instead_of_weights():
    fb = check.attention_weights(lambda q, K: K @ q / np.sqrt(len(q)))
    assert fb.status == "wrong" and "must sum to 1" in fb.message


# ---- Task 2 ---------------------------------------------------------------------------------


def test_softmax_over_the_query_axis():
    def wrong_axis(Q, K, V, mask=None, scale=None):
        e = Q @ K.transpose(0, 2, 1) / np.sqrt(Q.shape[-1])
        z = np.exp(e - e.max(axis=1, keepdims=True))
        A = z / z.sum(axis=1, keepdims=True)
        return A @ V, A

    fb = check.attend(wrong_axis)
    assert fb.status == "wrong"
    assert "A[0, 0, :] sums to" in fb.message and "the last axis" in fb.message


def test_mask_applied_after_the_softmax():
    def after(Q, K, V, mask=None, scale=None):
        _, A = attend(Q, K, V, scale=scale)
        if mask is not None:
            A = A * (mask[:, None, :] if mask.ndim == 2 else mask)
        return A @ V, A

    fb = check.attend(after)
    assert fb.status == "wrong" and "padding mask" in fb.message and "sums to" in fb.message


def test_mask_by_zeroing_the_scores():
    def zero_scores(Q, K, V, mask=None, scale=None):
        scale = 1 / np.sqrt(Q.shape[-1]) if scale is None else scale
        e = scale * Q @ K.transpose(0, 2, 1)
        if mask is not None:
            e = e * (mask[:, None, :] if mask.ndim == 2 else mask)
        A = softmax(e)
        return A @ V, A

    fb = check.attend(zero_scores)
    assert fb.status == "wrong"
    assert "key 3 is masked for A[1, 0, 3]" in fb.message and "exactly 0" in fb.message


def test_mask_that_only_understands_b_tv():
    def two_d_only(Q, K, V, mask=None, scale=None):
        if mask is not None:
            mask = mask[:, None, :]
        return attend(Q, K, V, mask, scale)

    fb = check.attend(two_d_only)
    assert fb.status in ("wrong", "error") and "(B, Tq, Tv)" in fb.message


def test_scale_argument_ignored():
    fb = check.attend(lambda Q, K, V, mask=None, scale=None: attend(Q, K, V, mask))
    assert fb.status == "wrong" and "scale=1.0" in fb.message


def test_attend_returning_only_the_output():
    fb = check.attend(lambda Q, K, V, mask=None, scale=None: attend(Q, K, V, mask, scale)[0])
    assert fb.status == "wrong" and "expected a pair (out, A)" in fb.message


# ---- Task 3 ---------------------------------------------------------------------------------


def test_additive_scores_with_swapped_axes():
    def swapped(Q, K, W_q, W_k, v):
        return np.tanh((K @ W_k)[:, :, None, :] + (Q @ W_q)[:, None, :, :]) @ v

    fb = check.additive_scores(swapped)
    assert fb.status == "wrong" and "the axes are swapped" in fb.message


def test_additive_scores_without_tanh():
    def linear(Q, K, W_q, W_k, v):
        return ((Q @ W_q)[:, :, None, :] + (K @ W_k)[:, None, :, :]) @ v

    fb = check.additive_scores(linear)
    assert fb.status == "wrong" and "the tanh is missing" in fb.message


def test_additive_scores_with_the_projections_exchanged():
    def exchanged(Q, K, W_q, W_k, v):
        return np.tanh((Q @ W_k.T @ W_q)[:, :, None, :] + (K @ W_k)[:, None, :, :]) @ v

    fb = check.additive_scores(exchanged)
    assert fb.status in ("wrong", "error") and "additive_scores" in fb.message


# ---- Task 4 ---------------------------------------------------------------------------------


def test_gradient_of_the_weights_instead_of_the_scores():
    fb = check.scores_gradient(lambda dout, A, V: dout @ V.transpose(0, 2, 1))
    assert fb.status == "wrong" and "with respect to the weights A" in fb.message


def test_gradient_with_only_the_diagonal_of_the_jacobian():
    fb = check.scores_gradient(lambda dout, A, V: A * (dout @ V.transpose(0, 2, 1)))
    assert fb.status == "wrong" and "only the diagonal" in fb.message


def test_gradient_with_the_row_sum_over_the_wrong_axis():
    def wrong_axis(dout, A, V):
        dA = dout @ V.transpose(0, 2, 1)
        return A * (dA - (dA * A).sum(axis=1, keepdims=True))

    fb = check.scores_gradient(wrong_axis)
    assert fb.status == "wrong" and "central differences" in fb.message


def test_gradient_that_leaks_into_masked_scores():
    def leaky(dout, A, V):
        dA = dout @ V.transpose(0, 2, 1)
        return A * (dA - (dA * A).sum(axis=-1, keepdims=True)) + 1e-3 * (A == 0)

    fb = check.scores_gradient(leaky)
    assert fb.status == "wrong" and "a masked score cannot change anything" in fb.message


# ---- Task 5 ---------------------------------------------------------------------------------


def _self_attention(mask_fn):
    def fn(X, W_q, W_k, W_v):
        B, T, _ = X.shape
        mask = np.broadcast_to(mask_fn(np.ones((T, T), dtype=bool)), (B, T, T))
        return attend(X @ W_q, X @ W_k, X @ W_v, mask)

    return fn


def test_causal_mask_that_looks_forward():
    fb = check.causal_self_attention(_self_attention(np.triu))
    assert fb.status == "wrong" and "changing the inputs after position 2" in fb.message


def test_self_attention_without_a_mask():
    fb = check.causal_self_attention(_self_attention(lambda ones: ones))
    assert fb.status == "wrong" and "Position i may look only at positions j <= i" in fb.message


def test_causal_mask_that_hides_the_diagonal():
    with np.errstate(invalid="ignore"):
        fb = check.causal_self_attention(_self_attention(lambda ones: np.tril(ones, -1)))
    assert fb.status == "wrong" and "a position may attend to itself" in fb.message


def test_self_attention_with_keys_made_by_the_query_weights():
    def shared(X, W_q, W_k, W_v):
        B, T, _ = X.shape
        mask = np.broadcast_to(np.tril(np.ones((T, T), dtype=bool)), (B, T, T))
        return attend(X @ W_q, X @ W_q, X @ W_v, mask)

    fb = check.causal_self_attention(shared)
    assert fb.status == "wrong" and "the weights A of causal_self_attention" in fb.message
