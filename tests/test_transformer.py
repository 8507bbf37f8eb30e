"""course_utils.transformer: gradient checks, Keras parity, positions, and the GPT's protocol."""

import numpy as np
import pytest

from course_utils import charrnn
from course_utils import transformer as tr
from course_utils.gradcheck import numerical_gradient, relative_error


def _rng(k=0):
    return np.random.default_rng(k)


def _check_all(loss, analytic, arrays, tol=1e-7):
    for name, g in analytic.items():
        num = numerical_gradient(loss, arrays[name])
        if name.endswith("b_k"):
            # a key bias adds q . b_k to every score of a query alike: the softmax ignores it,
            # so its true gradient is 0 (the numerical one is round-off)
            assert np.abs(g).max() < 1e-12 and np.abs(num).max() < 1e-6
            continue
        err = relative_error(g, num)
        assert err < tol, f"{name}: relative error {err:.2e}"


# ------------------------------------------------------------------ attention and heads


def test_causal_mask_lets_a_query_see_itself_and_the_past_only():
    m = tr.causal_mask(4)
    assert m.tolist() == [[True, False, False, False], [True, True, False, False],
                          [True, True, True, False], [True, True, True, True]]


def test_causal_self_attention_ignores_the_future():
    X = _rng().standard_normal((2, 6, 4))
    out, A, _ = tr.self_attention(X, causal=True)
    assert np.allclose(np.triu(A[0], 1), 0) and np.allclose(A.sum(-1), 1)
    X2 = X.copy()
    X2[:, 4:] += 10.0  # change the future of positions 0..3
    out2, _, _ = tr.self_attention(X2, causal=True)
    assert np.allclose(out[:, :4], out2[:, :4]) and not np.allclose(out[:, 4:], out2[:, 4:])


def test_split_and_merge_heads_are_inverse_and_slice_the_features():
    X = _rng().standard_normal((2, 5, 12))
    H = tr.split_heads(X, 3)
    assert H.shape == (2, 3, 5, 4)
    assert np.array_equal(H[1, 2, 3], X[1, 3, 8:12])
    assert np.array_equal(tr.merge_heads(H), X)


def test_mha_gradients_float64():
    rng = _rng(1)
    P = tr.init_mha(8, 2, seed=3)
    for k in ("b_q", "b_k", "b_v", "b_o"):
        P[k] = rng.standard_normal(P[k].shape) * 0.1
    X = rng.standard_normal((2, 5, 8))
    R = rng.standard_normal((2, 5, 8))
    out, cache = tr.mha_forward(X, P, causal=True)
    dX, g = tr.mha_backward(R, cache)

    def loss(_):
        return np.sum(tr.mha_forward(X, P, causal=True)[0] * R)

    _check_all(loss, {**g, "X": dX}, {**P, "X": X})


def test_layer_norm_gradients_float64_and_output_statistics():
    rng = _rng(2)
    x = rng.standard_normal((3, 4, 6)) * 3 + 2
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    out, cache = tr.layer_norm_forward(x, np.ones(6), np.zeros(6))
    assert np.allclose(out.mean(-1), 0) and np.allclose(out.var(-1), 1, atol=1e-4)
    R = rng.standard_normal(x.shape)
    out, cache = tr.layer_norm_forward(x, gamma, beta)
    dx, dg, db = tr.layer_norm_backward(R, cache)

    def loss(_):
        return np.sum(tr.layer_norm_forward(x, gamma, beta)[0] * R)

    _check_all(loss, {"x": dx, "gamma": dg, "beta": db}, {"x": x, "gamma": gamma, "beta": beta})


def test_block_gradients_float64():
    rng = _rng(3)
    P = tr.init_block(8, 2, mlp_ratio=2, seed=4)
    for k in ("ln1_g", "ln1_b", "ln2_g", "ln2_b", "b_1", "b_2"):
        P[k] = P[k] + rng.standard_normal(P[k].shape) * 0.3
    x = rng.standard_normal((2, 4, 8))
    R = rng.standard_normal(x.shape)
    out, cache = tr.block_forward(x, P)
    dx, g = tr.block_backward(R, cache)

    def loss(_):
        return np.sum(tr.block_forward(x, P)[0] * R)

    flat_g = {**{k: v for k, v in g.items() if k != "mha"},
              **{f"mha.{k}": v for k, v in g["mha"].items()}, "x": dx}
    arrays = {**{k: v for k, v in P.items() if k != "mha"},
              **{f"mha.{k}": v for k, v in P["mha"].items()}, "x": x}
    _check_all(loss, flat_g, arrays)


def test_block_is_causal():
    P = tr.init_block(8, 2, seed=1)
    x = _rng(5).standard_normal((1, 6, 8))
    y = x.copy()
    y[:, 3:] = 0
    assert np.allclose(tr.block_forward(x, P)[0][:, :3], tr.block_forward(y, P)[0][:, :3])


def test_mha_matches_keras_on_the_same_weights():
    import keras

    rng = _rng(6)
    x = rng.standard_normal((2, 7, 16)).astype(np.float32)
    layer = keras.layers.MultiHeadAttention(num_heads=4, key_dim=4)
    for causal in (False, True):
        expected = np.asarray(layer(x, x, use_causal_mask=causal))
        got, _ = tr.mha_forward(x, tr.mha_weights_from_keras(layer), causal=causal)
        assert np.max(np.abs(got.astype(np.float32) - expected)) < 1e-5


def test_layer_norm_and_gelu_match_keras():
    import keras

    x = _rng(7).standard_normal((3, 5, 8)).astype(np.float32)
    ln = keras.layers.LayerNormalization(epsilon=1e-5)
    expected = np.asarray(ln(x))
    got, _ = tr.layer_norm_forward(x, *[w.astype(np.float64) for w in ln.get_weights()])
    assert np.max(np.abs(got - expected)) < 1e-5
    g = np.asarray(keras.activations.gelu(x))
    assert np.max(np.abs(tr.gelu(x.astype(np.float64)) - g)) < 1e-5


# ------------------------------------------------------------------ positions


def test_attention_without_positions_is_permutation_equivariant():
    rng = _rng(8)
    P = tr.init_mha(8, 2, seed=2)
    X = rng.standard_normal((1, 6, 8))
    perm = rng.permutation(6)
    out = tr.mha_forward(X, P)[0]
    out_perm = tr.mha_forward(X[:, perm], P)[0]
    # shuffling the input shuffles the output, and nothing else changes
    assert np.allclose(out_perm, out[:, perm])
    pe = tr.sinusoidal_positions(6, 8)[None]
    with_pos = tr.mha_forward(X + pe, P)[0]
    with_pos_perm = tr.mha_forward(X[:, perm] + pe, P)[0]
    assert not np.allclose(with_pos_perm, with_pos[:, perm], atol=1e-3)


def test_sinusoidal_positions():
    pe = tr.sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    assert np.allclose(pe[0, 0::2], 0) and np.allclose(pe[0, 1::2], 1)
    assert np.allclose(pe[:, 0], np.sin(np.arange(50)))
    # every position has its own code
    d = np.linalg.norm(pe[:, None] - pe[None], axis=-1)
    assert np.all(d[~np.eye(50, dtype=bool)] > 0.1)
    with pytest.raises(ValueError, match="even"):
        tr.sinusoidal_positions(4, 5)


# ------------------------------------------------------------------ the Keras GPT


@pytest.fixture(scope="module")
def gpt():
    import course_utils

    course_utils.set_seed(0)
    model = tr.build_gpt(11, context=8, width=16, layers=2, heads=2)
    return model, tr.GPTCharModel(model)


def test_gpt_protocol_gives_the_same_logits_as_one_window(gpt):
    model, wrapped = gpt
    ids = _rng(9).integers(0, 11, (3, 8))
    full = np.asarray(model(ids))
    # in one call, and in pieces with the state carried
    got, state = wrapped.forward(ids, wrapped.initial_state(3))
    assert np.allclose(got, full, atol=1e-5)
    a, st = wrapped.forward(ids[:, :3], wrapped.initial_state(3))
    b, st = wrapped.forward(ids[:, 3:], st)
    assert np.allclose(np.concatenate([a, b], 1), full, atol=1e-5)
    assert st.shape == (3, 7)


def test_numpy_layers_reproduce_the_keras_gpt(gpt):
    model, _ = gpt
    ids = _rng(11).integers(0, 11, (2, 8))
    logits, maps = tr.gpt_forward_numpy(model, ids)
    assert np.max(np.abs(logits - np.asarray(model(ids)))) < 1e-4
    assert len(maps) == 2 and maps[0].shape == (2, 2, 8, 8)
    assert np.allclose(np.triu(maps[1][0, 0], 1), 0)


def test_gpt_forward_longer_than_its_context_keeps_min_context(gpt):
    model, wrapped = gpt
    ids = _rng(10).integers(0, 11, (2, 20))
    got, _ = wrapped.forward(ids)
    # position 12 is predicted from a window that starts min_context = 4 ids before it
    start = 12 - wrapped.min_context
    ref = np.asarray(model(ids[:, start:start + 8]))[:, wrapped.min_context]
    assert np.allclose(got[:, 12], ref, atol=1e-5)


def test_gpt_trains_evaluates_and_samples(gpt):
    import course_utils

    seed = course_utils.set_seed(0)
    text = "to be or not to be that is the question " * 40
    vocab = charrnn.CharVocab(text)
    ids = vocab.encode(text)
    model = tr.build_gpt(len(vocab), context=16, width=16, layers=1, heads=2)
    wrapped = tr.GPTCharModel(model)
    before = charrnn.evaluate(wrapped, ids, batch_size=4, seq_len=8)
    hist = tr.train_gpt(model, ids, steps=60, batch_size=8, lr=1e-2, warmup=5, seed=seed,
                        progress=False, val_ids=ids, val_batch_size=4, eval_every=30)
    assert hist.step == [30, 60] and len(hist.val_loss) == 2
    assert hist.val_loss[-1] < before - 1.0
    out = charrnn.sample(wrapped, vocab, "to be", 30, temperature=0.5, seed=seed)
    assert out.startswith("to be") and len(out) == 35
    assert out == charrnn.sample(wrapped, vocab, "to be", 30, temperature=0.5, seed=seed)


def test_gpt_bad_input(gpt):
    model, wrapped = gpt
    with pytest.raises(ValueError, match="longer than the model's context of 8"):
        wrapped.logits(np.zeros((1, 9), dtype=int))
    with pytest.raises(ValueError, match=r"must lie in \[0, 11\)"):
        wrapped.forward(np.array([[3, 11]]))
    with pytest.raises(ValueError, match="S < context"):
        wrapped.forward(np.zeros((1, 2), dtype=int), np.zeros((1, 8), dtype=np.int32))
    vocab = charrnn.CharVocab("abcdefghijk")
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        charrnn.sample(wrapped, vocab, "ab", 3, temperature=0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        charrnn.sample(wrapped, vocab, "abz", 3)
    with pytest.raises(ValueError, match="min_context"):
        tr.GPTCharModel(model, min_context=8)
    with pytest.raises(ValueError, match="divisible"):
        tr.build_gpt(11, width=10, heads=4)
    with pytest.raises(ValueError, match="stopping rule"):
        tr.train_gpt(model, np.arange(100) % 11)
    with pytest.raises(ValueError, match="more than context"):
        tr.train_gpt(model, np.arange(5), steps=1)


def test_bad_shapes():
    with pytest.raises(ValueError, match="divisible by num_heads=3"):
        tr.split_heads(np.zeros((1, 2, 8)), 3)
    with pytest.raises(ValueError, match=r"\(N, h, T, dk\)"):
        tr.merge_heads(np.zeros((1, 2, 8)))
    with pytest.raises(ValueError, match="W_q expects 8"):
        tr.mha_forward(np.zeros((1, 2, 6)), tr.init_mha(8, 2))
    with pytest.raises(ValueError, match="gamma and beta"):
        tr.layer_norm_forward(np.zeros((2, 4)), np.ones(3), np.zeros(3))
