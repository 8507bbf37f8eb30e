"""NumPy attention: weights are a distribution, masks are exact, gradients and Keras agree."""

import numpy as np
import pytest

from course_utils import attention as att
from course_utils.gradcheck import numerical_gradient, relative_error

B, TQ, TV, D, DV, A_SIZE = 2, 3, 5, 4, 6, 7


@pytest.fixture
def qkv(rng):
    Q = rng.standard_normal((B, TQ, D))
    K = rng.standard_normal((B, TV, D))
    V = rng.standard_normal((B, TV, DV))
    return Q, K, V


@pytest.fixture
def pad_mask():
    # Example 0 has all 5 input positions, example 1 only the first 3 (2 padded).
    return np.array([[True] * 5, [True, True, True, False, False]])


@pytest.fixture
def additive_params(rng):
    return (rng.standard_normal((D, A_SIZE)) * 0.5, rng.standard_normal((D, A_SIZE)) * 0.5,
            rng.standard_normal(A_SIZE))


def _both(qkv, params, mask):
    Q, K, V = qkv
    yield att.scaled_dot_product_attention(Q, K, V, mask=mask)
    yield att.additive_attention(Q, K, V, *params, mask=mask)


def test_weights_sum_to_one_and_masked_positions_get_exactly_zero(qkv, additive_params,
                                                                  pad_mask):
    for out, A, _ in _both(qkv, additive_params, pad_mask):
        assert A.shape == (B, TQ, TV) and out.shape == (B, TQ, DV)
        np.testing.assert_allclose(A.sum(axis=-1), 1.0, atol=1e-12)
        assert (A >= 0).all()
        assert (A[1, :, 3:] == 0.0).all()          # exactly zero, not just small
        assert (A[~np.broadcast_to(pad_mask[:, None], A.shape)] == 0.0).all()
    # Padding cannot leak into the context: changing padded values changes nothing.
    Q, K, V = qkv
    V2 = V.copy()
    V2[1, 3:] = 1e6
    out1, _, _ = att.scaled_dot_product_attention(Q, K, V, mask=pad_mask)
    out2, _, _ = att.scaled_dot_product_attention(Q, K, V2, mask=pad_mask)
    np.testing.assert_allclose(out1, out2)


def test_context_is_weighted_average_and_sharp_scores_copy_one_value(rng):
    K = np.eye(4)[None] * 50.0                           # 4 very distinct keys
    V = rng.standard_normal((1, 4, 3))
    Q = np.eye(4)[None, [2, 0]]                          # query 0 matches key 2, query 1 key 0
    out, A, _ = att.scaled_dot_product_attention(Q, K, V, scale=1.0)
    np.testing.assert_allclose(A[0].argmax(axis=-1), [2, 0])
    np.testing.assert_allclose(out[0], V[0, [2, 0]], atol=1e-12)


def test_default_scale_is_one_over_sqrt_d(qkv):
    Q, K, V = qkv
    _, A_default, _ = att.scaled_dot_product_attention(Q, K, V)
    _, A_explicit, _ = att.scaled_dot_product_attention(Q / np.sqrt(D), K, V, scale=1.0)
    np.testing.assert_allclose(A_default, A_explicit)


def _check_grads(forward, backward, arrays, rng):
    """Relative error of backward vs central differences for every named input array."""
    out, _, cache = forward()
    R = rng.standard_normal(out.shape)
    analytic = dict(zip(arrays, backward(R, cache), strict=True))
    errors = {}
    for name, x in arrays.items():
        num = numerical_gradient(lambda _: np.sum(forward()[0] * R), x)
        errors[name] = relative_error(analytic[name], num)
    return errors


def test_scaled_dot_product_backward_matches_numerical_gradient(qkv, pad_mask, rng):
    Q, K, V = (x.copy() for x in qkv)
    errors = _check_grads(
        lambda: att.scaled_dot_product_attention(Q, K, V, mask=pad_mask),
        att.scaled_dot_product_attention_backward, {"Q": Q, "K": K, "V": V}, rng)
    assert max(errors.values()) < 1e-7, errors


def test_additive_backward_matches_numerical_gradient(qkv, additive_params, pad_mask, rng):
    Q, K, V = (x.copy() for x in qkv)
    W_q, W_k, v = (p.copy() for p in additive_params)
    errors = _check_grads(
        lambda: att.additive_attention(Q, K, V, W_q, W_k, v, mask=pad_mask),
        att.additive_attention_backward,
        {"Q": Q, "K": K, "V": V, "W_q": W_q, "W_k": W_k, "v": v}, rng)
    assert max(errors.values()) < 1e-7, errors


def test_masked_keys_get_no_gradient(qkv, additive_params, pad_mask, rng):
    Q, K, V = qkv
    out, _, cache = att.additive_attention(Q, K, V, *additive_params, mask=pad_mask)
    dQ, dK, dV, *_ = att.additive_attention_backward(rng.standard_normal(out.shape), cache)
    assert (dK[1, 3:] == 0).all() and (dV[1, 3:] == 0).all()


@pytest.mark.parametrize("use_scale", [False, True])
def test_equals_keras_attention(qkv, pad_mask, use_scale):
    import keras

    Q, K, V = (x.astype(np.float32) for x in qkv)
    layer = keras.layers.Attention(use_scale=use_scale)
    query_mask = np.ones((B, TQ), dtype=bool)
    keras_out, keras_A = layer([Q, V, K], mask=[query_mask, pad_mask],
                               return_attention_scores=True)
    # Keras' default is the plain dot product (scale 1); use_scale learns a scale that starts at 1.
    out, A, _ = att.scaled_dot_product_attention(Q, K, V, mask=pad_mask, scale=1.0)
    np.testing.assert_allclose(np.asarray(keras_A), A, atol=1e-5)
    np.testing.assert_allclose(np.asarray(keras_out), out, atol=1e-5)
    if use_scale:  # a learned scale of 1/sqrt(d) gives our default
        layer.scale.assign(1.0 / np.sqrt(D))
        keras_out = layer([Q, V, K], mask=[query_mask, pad_mask])
        out, _, _ = att.scaled_dot_product_attention(Q, K, V, mask=pad_mask)
        np.testing.assert_allclose(np.asarray(keras_out), out, atol=1e-5)


def test_equals_keras_additive_attention(qkv, pad_mask):
    import keras

    Q, K, V = (x.astype(np.float32) for x in qkv)
    layer = keras.layers.AdditiveAttention()
    query_mask = np.ones((B, TQ), dtype=bool)
    keras_out, keras_A = layer([Q, V, K], mask=[query_mask, pad_mask],
                               return_attention_scores=True)
    # Keras scores sum(scale * tanh(q + k)): our W_q = W_k = identity and v = its scale.
    v = np.asarray(layer.scale)
    out, A, _ = att.additive_attention(Q, K, V, np.eye(D), np.eye(D), v, mask=pad_mask)
    np.testing.assert_allclose(np.asarray(keras_A), A, atol=1e-5)
    np.testing.assert_allclose(np.asarray(keras_out), out, atol=1e-5)


def test_bad_inputs_give_clear_errors(qkv, additive_params):
    Q, K, V = qkv
    with pytest.raises(ValueError, match="3-D"):
        att.scaled_dot_product_attention(Q[0], K, V)
    with pytest.raises(ValueError, match="same size d"):
        att.scaled_dot_product_attention(Q[..., :2], K, V)
    with pytest.raises(ValueError, match="one row per input position"):
        att.scaled_dot_product_attention(Q, K, V[:, :2])
    with pytest.raises(ValueError, match="mask must have shape"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.ones((B, TV + 1), dtype=bool))
    with pytest.raises(ValueError, match="every key"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.zeros((B, TV), dtype=bool))
    with pytest.raises(ValueError, match="boolean"):
        att.scaled_dot_product_attention(Q, K, V, mask=np.full((B, TV), 0.5))
    W_q, W_k, v = additive_params
    with pytest.raises(ValueError, match="v must have shape"):
        att.additive_attention(Q, K, V, W_q, W_k, v[:-1])


def test_plot_attention_checks_shape_and_draws():
    import matplotlib

    matplotlib.use("Agg")
    A = np.full((3, 6), 1 / 6)
    ax = att.plot_attention(A, "abcd", "xyz")
    assert len(ax.get_xticklabels()) == 4
    # a colour bar says what the shades mean, on the fixed [0, 1] scale
    bars = [a for a in ax.figure.axes if a is not ax]
    assert len(bars) == 1 and bars[0].get_ylabel() == "attention weight"
    assert bars[0].get_ylim() == (0.0, 1.0)
    ax2 = att.plot_attention(A, "abcd", "xyz", colorbar=False)
    assert ax2.figure.axes == [ax2]
    with pytest.raises(ValueError, match="A must have shape"):
        att.plot_attention(A, "abcdefgh", "xyz")
