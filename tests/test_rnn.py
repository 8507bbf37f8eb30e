"""The NumPy recurrent layers: shapes, backprop through time, equality with Keras, bad input."""

import numpy as np
import pytest

from course_utils import rnn
from course_utils.gradcheck import check_layer_gradients, numerical_gradient, relative_error
from course_utils.rnn import (
    GRU,
    LSTM,
    MLPClassifier,
    RNNClassifier,
    SimpleRNN,
    clip_by_norm,
    clip_elementwise,
    hidden_jacobian_norms,
    make_parity_data,
    train_classifier,
    window_features,
)

LAYERS = [SimpleRNN, LSTM, GRU]
N, T, D, H = 3, 5, 4, 6


def _initial_states(cls, rng, n=N, h=H, dtype=np.float32):
    """Random non-zero initial state(s) as forward's positional arguments."""
    states = [0.5 * rng.standard_normal((n, h)).astype(dtype)]
    if cls.has_cell_state:
        states.append(0.5 * rng.standard_normal((n, h)).astype(dtype))
    return states


def _randomise_bias(layer, rng):
    b = layer.params["b"]
    layer.params["b"] = (b + 0.3 * rng.standard_normal(b.shape)).astype(b.dtype)


@pytest.mark.parametrize("cls", LAYERS)
def test_shapes_dtypes_and_grad_keys(cls, rng):
    layer = cls(D, H)
    G = cls.n_gates
    assert layer.params["W_x"].shape == (D, G * H)
    assert layer.params["W_h"].shape == (H, G * H)
    assert layer.params["b"].shape == ((2, 3 * H) if cls is GRU else (G * H,))
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    out = layer.forward(x)
    assert out.shape == (N, T, H) and out.dtype == np.float32
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == (N, T, D) and dx.dtype == np.float32
    assert layer.grads.keys() == layer.params.keys()
    for k in layer.params:
        assert layer.grads[k].shape == layer.params[k].shape
        assert layer.grads[k].dtype == np.float32
    assert layer.dh0.shape == (N, H)


@pytest.mark.parametrize("cls", LAYERS)
def test_float64_gradient_check(cls, rng):
    layer = cls(D, H, dtype=np.float64, seed=3)
    _randomise_bias(layer, rng)
    x = rng.standard_normal((2, T, D))
    errors = check_layer_gradients(layer, x, h0=0.5 * rng.standard_normal((2, H)))
    expected = {"W_x", "W_h", "b", "x", "h0"} | ({"c0"} if cls is LSTM else set())
    assert set(errors) == expected
    assert max(errors.values()) < 1e-6, errors


def test_simple_rnn_step_is_the_formula(rng):
    layer = SimpleRNN(D, H, dtype=np.float64)
    _randomise_bias(layer, rng)
    x = rng.standard_normal((N, 2, D))
    h0 = rng.standard_normal((N, H))
    p = layer.params
    h1 = np.tanh(x[:, 0] @ p["W_x"] + h0 @ p["W_h"] + p["b"])
    h2 = np.tanh(x[:, 1] @ p["W_x"] + h1 @ p["W_h"] + p["b"])
    np.testing.assert_allclose(layer.forward(x, h0), np.stack([h1, h2], axis=1), atol=1e-12)


@pytest.mark.parametrize("cls", LAYERS)
def test_h0_continues_a_sequence(cls, rng):
    """Running in two chunks, the second starting from the first's last state, is one run."""
    layer = cls(D, H, dtype=np.float64)
    x = rng.standard_normal((N, T, D))
    whole = layer.forward(x)
    first = layer.forward(x[:, :2])
    states = [first[:, -1]]
    if cls is LSTM:
        states.append(layer.cell_states[:, -1])
    second = layer.forward(x[:, 2:], *states)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-12)


def test_lstm_gates_and_cell_states(rng):
    layer = LSTM(D, H)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    h = layer.forward(x)
    gates = layer.gates
    assert set(gates) == {"i", "f", "g", "o"}
    for k, v in gates.items():
        assert v.shape == (N, T, H)
        low = -1 if k == "g" else 0  # g is the tanh candidate, the others are sigmoids
        assert v.min() >= low and v.max() <= 1
    c = layer.cell_states
    assert c.shape == (N, T, H)
    np.testing.assert_allclose(h, gates["o"] * np.tanh(c), atol=1e-6)
    # c_t = f * c_{t-1} + i * g, with c_0 = 0
    np.testing.assert_allclose(c[:, 0], gates["i"][:, 0] * gates["g"][:, 0], atol=1e-6)
    np.testing.assert_allclose(c[:, 1], gates["f"][:, 1] * c[:, 0]
                               + gates["i"][:, 1] * gates["g"][:, 1], atol=1e-6)


def test_gru_gates(rng):
    layer = GRU(D, H)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    h = layer.forward(x)
    gates = layer.gates
    assert set(gates) == {"z", "r", "g"}
    assert all(v.shape == (N, T, H) for v in gates.values())
    # h_1 = z * h_0 + (1 - z) * g with h_0 = 0
    np.testing.assert_allclose(h[:, 0], (1 - gates["z"][:, 0]) * gates["g"][:, 0], atol=1e-6)


def test_backward_leaves_the_callers_arrays_alone(rng):
    layer = SimpleRNN(D, H)
    x = rng.standard_normal((1, T, D)).astype(np.float32)  # N = 1: transposes are no-copy views
    x_before = x.copy()
    out = layer.forward(x)
    dH = rng.standard_normal(out.shape).astype(np.float32)
    dH_before = dH.copy()
    layer.backward(dH)
    np.testing.assert_array_equal(dH, dH_before)
    np.testing.assert_array_equal(x, x_before)
    out[:] = 0  # the returned states are a copy: editing them must not change the cache
    dx_again = layer.backward(dH)
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(dH), dx_again)


@pytest.mark.parametrize("cls", LAYERS)
def test_float64_input_to_float32_layer_stays_float32(cls, rng):
    layer = cls(D, H)
    out = layer.forward(rng.standard_normal((N, T, D)))  # float64 input
    assert out.dtype == np.float32


def test_one_hot_input_of_any_real_dtype(rng):
    """Boolean or integer one-hot input gives the same states as the float version."""
    layer = SimpleRNN(D, H)
    one_hot = np.eye(D, dtype=bool)[rng.integers(0, D, size=(N, T))]
    expected = layer.forward(one_hot.astype(np.float32))
    np.testing.assert_array_equal(layer.forward(one_hot), expected)
    np.testing.assert_array_equal(layer.forward(one_hot.astype(np.int64)), expected)
    with pytest.raises(ValueError, match="real numbers"):
        layer.forward(one_hot.astype(str))


def test_blas_thread_setting_is_restored(rng):
    """forward/backward run BLAS single-threaded but give NumPy its setting back, even on error."""
    if rnn._OPENBLAS is None:
        pytest.skip("NumPy's OpenBLAS thread control not found: blas_threads is a no-op here")
    _, get_threads = rnn._OPENBLAS
    before = get_threads()
    layer = SimpleRNN(D, H)
    layer.forward(rng.standard_normal((N, T, D)))
    assert get_threads() == before
    with pytest.raises(ValueError):
        layer.forward(np.zeros((N, T)))
    assert get_threads() == before


def test_blas_thread_setting_survives_concurrent_layers(rng):
    """Layers running in several Python threads at once still give NumPy its setting back."""
    from concurrent.futures import ThreadPoolExecutor

    if rnn._OPENBLAS is None:
        pytest.skip("NumPy's OpenBLAS thread control not found: blas_threads is a no-op here")
    _, get_threads = rnn._OPENBLAS
    before = get_threads()
    x = rng.standard_normal((8, 20, D))

    def work(seed):
        layer = LSTM(D, 16, seed=seed)
        return layer.backward(layer.forward(x)).shape

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(work, range(8))) == [(8, 20, D)] * 8
    assert get_threads() == before
    with rnn.blas_threads(1):
        with rnn.blas_threads(1):
            assert get_threads() == 1
        assert get_threads() == 1
    assert get_threads() == before
    with pytest.raises(ValueError):
        with rnn.blas_threads(0):
            pass


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("cls", LAYERS)
@pytest.mark.parametrize("shape", [(T, D), (N, T, D + 1), (N, T, D, 1), (0, T, D), (N, 0, D)])
def test_bad_x_shape_names_the_expected_shape(cls, shape):
    with pytest.raises(ValueError, match=rf"\(N, T, {D}\)"):
        cls(D, H).forward(np.zeros(shape))


@pytest.mark.parametrize("cls", LAYERS)
def test_nan_input_and_bad_h0(cls, rng):
    layer = cls(D, H)
    x = rng.standard_normal((N, T, D))
    bad = x.copy()
    bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        layer.forward(bad)
    with pytest.raises(ValueError, match=rf"\({N}, {H}\)"):
        layer.forward(x, np.zeros((N + 1, H)))
    with pytest.raises(ValueError, match=rf"\({N}, {H}\)"):
        layer.forward(x, np.zeros(H))
    with pytest.raises(ValueError, match="NaN"):
        layer.forward(x, np.full((N, H), np.nan))


@pytest.mark.parametrize("cls", LAYERS)
def test_backward_before_forward_and_bad_dH(cls, rng):
    layer = cls(D, H)
    with pytest.raises(RuntimeError, match="forward"):
        layer.backward(np.zeros((N, T, H)))
    layer.forward(rng.standard_normal((N, T, D)))
    with pytest.raises(ValueError, match=rf"\({N}, {T}, {H}\)"):
        layer.backward(np.zeros((N, T + 1, H)))


@pytest.mark.parametrize("kwargs", [{"input_size": 0, "hidden_size": 3},
                                    {"input_size": 2, "hidden_size": 2.5},
                                    {"input_size": 2, "hidden_size": 3, "dtype": np.int32}])
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(ValueError):
        SimpleRNN(**kwargs)


# ------------------------------------------------------------------------- Keras
keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _keras_layer(cls, rng):
    layer = getattr(keras.layers, cls.keras_class)(H, return_sequences=True)
    layer.build((None, None, D))
    w = layer.get_weights()
    w[2] = (0.3 * rng.standard_normal(w[2].shape)).astype(np.float32)
    layer.set_weights(w)
    return layer


@pytest.mark.parametrize("cls", LAYERS)
def test_equal_to_keras_forward_and_backward(cls, rng):
    kl = _keras_layer(cls, rng)
    ours = cls.from_keras(kl)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    states = _initial_states(cls, rng)
    x_t = tf.constant(x)
    states_t = [tf.constant(s) for s in states]
    with tf.GradientTape() as tape:
        tape.watch([x_t, *states_t])
        y = kl(x_t, initial_state=states_t)
        R = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        loss = tf.reduce_sum(y * R)
    grads = tape.gradient(loss, [x_t, *states_t, *kl.trainable_weights])

    out = ours.forward(x, *states)
    assert np.abs(out - y.numpy()).max() < 1e-5
    dx = ours.backward(R)
    ours_grads = [dx, ours.dh0] + ([ours.dc0] if cls is LSTM else [])
    ours_grads += [ours.grads["W_x"], ours.grads["W_h"], ours.grads["b"]]
    for a, b in zip(ours_grads, grads, strict=True):
        b = b.numpy()
        assert a.shape == b.shape
        # sums over N*T terms in float32: compare relative to the gradient's size
        assert np.abs(a - b).max() <= 1e-5 * (1 + np.abs(b).max())


@pytest.mark.parametrize("cls", LAYERS)
def test_to_keras_round_trip(cls, rng):
    ours = cls(D, H, seed=5)
    _randomise_bias(ours, rng)
    kl = ours.to_keras()
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    assert np.abs(kl(x).numpy() - ours.forward(x)).max() < 1e-5
    back = cls.from_keras(kl)
    for k in ours.params:
        np.testing.assert_array_equal(back.params[k], ours.params[k])
    # and into an existing layer
    other = _keras_layer(cls, rng)
    ours.set_keras_weights(other)
    assert np.abs(other(x).numpy() - ours.forward(x)).max() < 1e-5


def test_from_keras_rejects_what_it_cannot_copy():
    with pytest.raises(ValueError, match="SimpleRNN"):
        SimpleRNN.from_keras(keras.layers.LSTM(3))
    with pytest.raises(ValueError, match="not built"):
        SimpleRNN.from_keras(keras.layers.SimpleRNN(3))
    relu = keras.layers.SimpleRNN(3, activation="relu")
    relu.build((None, None, 2))
    with pytest.raises(ValueError, match="tanh"):
        SimpleRNN.from_keras(relu)
    old_gru = keras.layers.GRU(3, reset_after=False)
    old_gru.build((None, None, 2))
    with pytest.raises(ValueError, match="reset_after"):
        GRU.from_keras(old_gru)


# ------------------------------------------------------------------ lesson helpers
def test_elementwise_clipping_bounds_entries_but_turns_the_step():
    g = {"W": np.array([12.0, 3.0]), "b": np.array([1e-9])}
    clipped = clip_elementwise(g, 5.0)
    np.testing.assert_array_equal(clipped["W"], [5.0, 3.0])
    assert clipped["b"][0] == 1e-9  # a vanishing gradient stays vanishing
    cos = clipped["W"] @ g["W"] / np.linalg.norm(clipped["W"]) / np.linalg.norm(g["W"])
    assert cos < 0.99  # the direction changed
    np.testing.assert_array_equal(g["W"], [12.0, 3.0])  # input untouched
    with pytest.raises(ValueError):
        clip_elementwise(g, 0)


def test_norm_clipping_keeps_the_direction():
    g = {"W": np.array([12.0, 3.0]), "b": np.array([4.0])}
    clipped = clip_by_norm(g, 5.0)
    total = np.sqrt(sum(np.sum(v**2) for v in clipped.values()))
    assert total == pytest.approx(5.0)
    ratios = np.concatenate([clipped["W"] / g["W"], clipped["b"] / g["b"]])
    np.testing.assert_allclose(ratios, ratios[0])  # one common factor: same direction
    assert ratios[0] < 1
    small = clip_by_norm(np.array([0.3, 0.4]), 5.0)
    np.testing.assert_array_equal(small, [0.3, 0.4])


def test_hidden_jacobian_norms_match_the_product_of_step_jacobians(rng):
    layer = SimpleRNN(2, 4, dtype=np.float64, seed=2)
    x = rng.standard_normal((6, 2))
    norms = hidden_jacobian_norms(layer, x)
    assert norms.shape == (6,)
    # d h_T / d h_0 = prod_t diag(1 - h_t^2) W_h^T, built by hand
    Hs = layer.forward(x[None])[0]
    J = np.eye(4)
    for t in range(6):
        J = np.diag(1 - Hs[t] ** 2) @ layer.params["W_h"].T @ J
        assert norms[t] == pytest.approx(np.linalg.norm(J, 2), rel=1e-10)
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        hidden_jacobian_norms(layer, x[None])


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_hidden_jacobian_norms_for_gated_layers(cls, rng):
    layer = cls(2, 3, dtype=np.float64)
    x = rng.standard_normal((3, 2))
    h0 = 0.1 * rng.standard_normal(3)

    def h_T(h):  # last hidden state as a function of h0
        return layer.forward(x[None], h[None])[0, -1]

    J = np.stack([numerical_gradient(lambda h, k=k: h_T(h)[k], h0.copy()) for k in range(3)])
    assert hidden_jacobian_norms(layer, x, h0)[-1] == pytest.approx(np.linalg.norm(J, 2), rel=1e-6)


def test_parity_data_and_windows(rng):
    x, y = make_parity_data(5, 7, rng=rng)
    assert x.shape == (5, 7, 1) and y.shape == (5, 7)
    bits = x[..., 0].astype(int)
    for t in range(7):
        np.testing.assert_array_equal(y[:, t], bits[:, : t + 1].sum(axis=1) % 2)
    win = window_features(x, 3)
    assert win.shape == (5, 7, 3)
    np.testing.assert_array_equal(win[:, 4], x[:, 2:5, 0])
    np.testing.assert_array_equal(win[:, 0], np.c_[np.zeros((5, 2)), x[:, 0, 0]])
    with pytest.raises(ValueError):
        window_features(x[..., 0], 3)


@pytest.mark.parametrize("make", [lambda: RNNClassifier(1, 4, seed=1),
                                  lambda: MLPClassifier(3, 5, seed=1)])
def test_classifier_gradients(make, rng):
    model = make()
    x, y = make_parity_data(3, 5, rng=rng)
    _, grads = model.loss_and_grads(x, y)
    assert grads.keys() == model.params.keys()
    for k, p in model.params.items():
        num = numerical_gradient(lambda _: model.loss_and_grads(x, y)[0], p)
        assert relative_error(grads[k], num) < 1e-6, k


def test_rnn_learns_parity_of_any_length_and_a_window_mlp_cannot():
    """The lesson's claim, small: memory solves running parity, a fixed window does not."""
    def make_batch(r):
        return make_parity_data(32, int(r.integers(1, 11)), rng=r)

    rnn_model = RNNClassifier(1, 12, seed=0)
    losses = train_classifier(rnn_model, make_batch, steps=800, lr=0.02, progress=False)
    assert losses.shape == (800,) and losses[-50:].mean() < 0.1
    mlp = MLPClassifier(4, 16, seed=0)
    train_classifier(mlp, make_batch, steps=400, lr=0.02, progress=False)
    test_rng = np.random.default_rng(1)
    x_long, y_long = make_parity_data(400, 30, rng=test_rng)  # 3x longer than in training
    x_short, y_short = make_parity_data(400, 4, rng=test_rng)
    assert rnn_model.accuracy(x_long, y_long, last_step_only=True) > 0.95
    assert mlp.accuracy(x_short, y_short, last_step_only=True) > 0.95
    assert mlp.accuracy(x_long, y_long, last_step_only=True) < 0.65




def test_recall_data_puts_the_answer_at_step_0_and_noise_after(rng):
    x, y = rnn.make_recall_data(50, 7, rng=rng, noise_size=3)
    assert x.shape == (50, 8, 5) and y.shape == (50,) and set(np.unique(y)) <= {0, 1}
    assert np.array_equal(x[:, 0, :2].argmax(axis=1), y) and np.all(x[:, 0, 2:] == 0)
    assert np.all(x[:, 1:, :2] == 0) and np.all(x[:, 1:, 2:].std(axis=(0, 1)) > 0.5)
    for bad in (dict(n=0, lag=3), dict(n=2, lag=-1), dict(n=2, lag=3, noise_size=0),
                dict(n=2.5, lag=3)):
        with pytest.raises(ValueError, match="must be an integer"):
            rnn.make_recall_data(rng=rng, **bad)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_classifier_with_one_label_per_sequence_has_correct_gradients(cell, rng):
    model = RNNClassifier(4, 3, cell=cell, seed=2)
    x, y = rnn.make_recall_data(3, 4, rng=rng, noise_size=2)
    _, grads = model.loss_and_grads(x, y)
    assert grads.keys() == model.params.keys()
    for k, p in model.params.items():
        num = numerical_gradient(lambda _: model.loss_and_grads(x, y)[0], p)
        assert relative_error(grads[k], num) < 1e-6, (cell, k)
    # only the last step is read: changing an earlier logit's weight path changes nothing else
    assert 0.0 <= model.accuracy(x, y) <= 1.0


def test_classifier_rejects_bad_cell_and_label_shape(rng):
    with pytest.raises(ValueError, match="cell must be one of"):
        RNNClassifier(2, 3, cell="transformer")
    model = RNNClassifier(4, 3, seed=0)
    x, _ = rnn.make_recall_data(3, 4, rng=rng, noise_size=2)
    with pytest.raises(ValueError, match=r"y must have shape \(3,\) or \(3, 5\)"):
        model.loss_and_grads(x, np.zeros(4))


def test_recall_accuracy_short_lag_is_learned_and_bad_arguments_are_named():
    """The lessons' claim, small: a short lag is learned within a small budget."""
    acc = rnn.recall_accuracy("simple", [2], seed=0, steps=150, n_test=200, progress=False)
    assert acc.shape == (1,) and acc[0] > 0.95
    with pytest.raises(ValueError, match="keep_bias needs a gated cell"):
        rnn.recall_accuracy("simple", [2], seed=0, keep_bias=3.0, progress=False)
    with pytest.raises(ValueError, match="unknown budget keys"):
        rnn.recall_accuracy("lstm", [2], seed=0, epochs=3, progress=False)
    with pytest.raises(ValueError, match="lags"):
        rnn.recall_accuracy("lstm", [], seed=0, progress=False)


@pytest.mark.parametrize("cell, keep", [("lstm", (slice(4, 8),)), ("gru", (0, slice(0, 4)))])
def test_recall_accuracy_keep_bias_sets_the_keep_gate(cell, keep, monkeypatch):
    seen = {}
    original = rnn.train_classifier

    def spy(model, *args, **kwargs):
        seen["b"] = model.rnn.params["b"].copy()
        return original(model, *args, **kwargs)

    monkeypatch.setattr(rnn, "train_classifier", spy)
    rnn.recall_accuracy(cell, [1], seed=0, keep_bias=3.0, steps=1, n_test=10, progress=False,
                        hidden_size=4)
    b = seen["b"]
    assert np.all(b[keep] == 3.0) and np.sum(b == 3.0) == 4  # that gate's 4 units, nothing else
