"""Exercise checks for lesson 05: wrong answers get specific, helpful feedback."""

import numpy as np
import pytest

from course_utils.checks import lesson05 as check


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gates(x, h_prev, W_x, W_h, b, *, order="ifgo", candidate=np.tanh):
    blocks = dict(zip(order, np.split(x @ W_x + h_prev @ W_h + b, 4, axis=1), strict=True))
    return sigmoid(blocks["i"]), sigmoid(blocks["f"]), candidate(blocks["g"]), sigmoid(blocks["o"])


def test_gates_reference_passes():
    assert check.lstm_gates(gates)


def test_gates_in_the_wrong_block_order_are_named():
    fb = check.lstm_gates(lambda *a: gates(*a, order="ifog"))
    assert fb.status == "wrong"
    assert "your g is tanh of block 3 (the o block)" in fb.message
    assert "ordered i, f, c (the candidate g), o" in fb.message


def test_candidate_with_a_sigmoid():
    fb = check.lstm_gates(lambda *a: gates(*a, candidate=sigmoid))
    assert fb.status == "wrong" and "your g is sigmoid of block 2" in fb.message


def test_gates_without_activations():
    def raw(x, h_prev, W_x, W_h, b):
        return tuple(np.split(x @ W_x + h_prev @ W_h + b, 4, axis=1))

    fb = check.lstm_gates(raw)
    assert fb.status == "wrong" and "the raw block" in fb.message


def test_gates_split_along_the_batch_axis_is_an_error_with_context():
    def wrong_axis(x, h_prev, W_x, W_h, b):
        return tuple(sigmoid(z) for z in np.split(x @ W_x + h_prev @ W_h + b, 4, axis=0))

    fb = check.lstm_gates(wrong_axis)
    assert fb.status == "error" and "While computing the gates for a batch of 2" in fb.message


def test_gates_as_a_dict_are_told_to_return_a_tuple():
    fb = check.lstm_gates(lambda *a: dict(zip("ifgo", gates(*a), strict=True)))
    assert fb.status == "wrong" and "expected a tuple of 4, (i, f, g, o); got dict" in fb.message


@pytest.mark.parametrize("update, told", [
    (lambda i, f, g, o, c: (o * np.tanh(f * c + g), f * c + g), "input gate i is missing"),
    (lambda i, f, g, o, c: (o * np.tanh(i * c + f * g), i * c + f * g), "i and f swapped"),
    (lambda i, f, g, o, c: (o * (f * c + i * g), f * c + i * g), "goes through a tanh"),
    (lambda i, f, g, o, c: (o * np.tanh(c), f * c + i * g), "old cell state"),
])
def test_cell_update_mistakes_are_named(update, told):
    fb = check.lstm_cell_update(update)
    assert fb.status == "wrong" and told in fb.message


def test_cell_update_returning_c_first():
    fb = check.lstm_cell_update(lambda i, f, g, o, c: (f * c + i * g, o * np.tanh(f * c + i * g)))
    assert fb.status == "wrong" and "in the order (h, c)" in fb.message


def test_cell_update_reference_passes():
    assert check.lstm_cell_update(lambda i, f, g, o, c: (o * np.tanh(f * c + i * g), f * c + i * g))


def gru(x, h_prev, W_x, W_h, b, *, swap=False, reset_before=False, recurrent_bias=True):
    H = h_prev.shape[1]
    a = x @ W_x + b[0]
    u = h_prev @ W_h + (b[1] if recurrent_bias else 0)
    z = sigmoid(a[:, :H] + u[:, :H])
    r = sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
    if reset_before:
        g = np.tanh(a[:, 2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b[1, 2 * H:])
    else:
        g = np.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])
    return (1 - z) * h_prev + z * g if swap else z * h_prev + (1 - z) * g


def test_gru_reference_passes():
    assert check.gru_step(gru)


@pytest.mark.parametrize("kwargs, told", [
    ({"swap": True}, "z and 1 - z are swapped"),
    ({"reset_before": True}, "reset_after=False"),
    ({"recurrent_bias": False}, "recurrent bias b[1] is missing"),
])
def test_gru_mistakes_are_named(kwargs, told):
    fb = check.gru_step(lambda *a: gru(*a, **kwargs))
    assert fb.status == "wrong" and told in fb.message


def pad(id_lists, maxlen, padding="pre", *, keep="last", mask_value=True, dtype=np.int32):
    if padding not in ("pre", "post"):
        raise ValueError(padding)
    X = np.zeros((len(id_lists), maxlen), dtype=dtype)
    for n, ids in enumerate(id_lists):
        ids = ids[-maxlen:] if keep == "last" else ids[:maxlen]
        if ids:
            if padding == "pre":
                X[n, maxlen - len(ids):] = ids
            else:
                X[n, :len(ids)] = ids
    return X, (X != 0) if mask_value else (X == 0)


def test_pad_reference_passes():
    assert check.pad_and_mask(pad)


@pytest.mark.parametrize("kwargs, told", [
    ({"keep": "first"}, "kept its FIRST words"),
    ({"mask_value": False}, "the mask is True on the padding"),
    ({"dtype": np.float64}, "expected integer ids"),
])
def test_pad_mistakes_are_named(kwargs, told):
    fb = check.pad_and_mask(lambda ids, maxlen, padding="pre": pad(ids, maxlen, padding, **kwargs))
    assert fb.status == "wrong" and told in fb.message


def test_pad_on_the_wrong_side():
    def flipped(ids, maxlen, padding="pre"):
        return pad(ids, maxlen, "post" if padding == "pre" else "pre")

    fb = check.pad_and_mask(flipped)
    assert fb.status == "wrong" and "zeros are on the wrong side" in fb.message


def test_pad_with_an_integer_mask():
    fb = check.pad_and_mask(lambda *a: (pad(*a)[0], pad(*a)[1].astype(int)))
    assert fb.status == "wrong" and "expected a boolean array" in fb.message


def test_pad_that_accepts_any_padding_word():
    def lenient(ids, maxlen, padding="pre"):
        return pad(ids, maxlen, "pre" if padding != "post" else "post")

    fb = check.pad_and_mask(lenient)
    assert fb.status == "wrong" and "padding='middle': expected a ValueError" in fb.message


def test_pad_that_edits_the_callers_lists():
    def in_place(ids, maxlen, padding="pre"):
        out = pad(ids, maxlen, padding)
        for row in ids:
            row.clear()
        return out

    fb = check.pad_and_mask(in_place)
    assert fb.status == "wrong" and "were changed" in fb.message


def pooled(hs, mask):
    m = mask[..., None]
    return (hs * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1)


def test_masked_mean_reference_passes():
    assert check.masked_mean(pooled)


@pytest.mark.parametrize("wrong, told", [
    (lambda hs, mask: hs.mean(axis=1), "padding steps were counted"),
    (lambda hs, mask: (hs * mask[..., None]).sum(axis=1) / hs.shape[1], "divided by T = 5"),
])
def test_masked_mean_mistakes_are_named(wrong, told):
    fb = check.masked_mean(wrong)
    assert fb.status == "wrong" and told in fb.message


def test_masked_mean_of_an_empty_row_must_not_be_nan():
    def nan_for_empty(hs, mask):
        m = mask[..., None]
        with np.errstate(invalid="ignore"):
            return (hs * m).sum(axis=1) / m.sum(axis=1)

    fb = check.masked_mean(nan_for_empty)
    assert fb.status == "wrong" and "no real steps gave nan" in fb.message


def test_masked_mean_over_the_wrong_axis():
    fb = check.masked_mean(lambda hs, mask: (hs * mask[..., None]).sum(axis=2))
    assert fb.status == "wrong" and "expected shape (3, 4), got shape (3, 5)" in fb.message


def bias(steps, keep):
    if not 0 < keep < 1:
        raise ValueError(keep)
    f = keep ** (1 / steps)
    return np.log(f / (1 - f))


def test_forget_bias_reference_passes():
    fb = check.forget_bias_for(bias)
    assert fb and "6e-28" in fb.message


def test_forget_bias_returning_the_gate_value():
    def gate_value(steps, keep):
        if not 0 < keep < 1:
            raise ValueError(keep)
        return keep ** (1 / steps)

    fb = check.forget_bias_for(gate_value)
    assert fb.status == "wrong" and "returned the gate value f itself" in fb.message
    assert "the course's LSTM passes" in fb.message and "not 0.5" in fb.message


def test_forget_bias_that_spreads_the_logit_over_the_steps():
    def linear(steps, keep):
        if not 0 < keep < 1:
            raise ValueError(keep)
        return np.log(keep / (1 - keep)) / steps

    fb = check.forget_bias_for(linear)
    assert fb.status == "wrong" and "measured by its backward pass" in fb.message


def test_forget_bias_without_the_value_error():
    def silent(steps, keep):
        with np.errstate(divide="ignore"):
            f = keep ** (1 / steps)
            return np.log(f / (1 - f))

    fb = check.forget_bias_for(silent)
    assert fb.status == "wrong" and "keep=0.0: expected a ValueError" in fb.message


def _sig(a):
    return 1 / (1 + np.exp(-a))


def lstm_backward(dh, dc, x, h_prev, c_prev, W_x, W_h, b, *, through_h=True, dtanh_c=True):
    z = x @ W_x + h_prev @ W_h + b
    zi, zf, zg, zo = np.split(z, 4, axis=1)
    i, f, g, o = _sig(zi), _sig(zf), np.tanh(zg), _sig(zo)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dc_total = dc + (dh * o * ((1 - tc**2) if dtanh_c else 1.0) if through_h else 0.0)
    d_i, d_f, d_g, d_o = dc_total * g, dc_total * c_prev, dc_total * i, dh * tc
    dz = np.concatenate([d_i * i * (1 - i), d_f * f * (1 - f), d_g * (1 - g**2),
                         d_o * o * (1 - o)], axis=1)
    return (dz @ W_x.T, dz @ W_h.T, dc_total * f, x.T @ dz, h_prev.T @ dz, dz.sum(axis=0))


def test_lstm_backward_reference_passes():
    assert check.lstm_step_backward(lstm_backward)


def test_lstm_backward_without_the_path_through_h_is_named():
    fb = check.lstm_step_backward(lambda *a: lstm_backward(*a, through_h=False))
    assert fb.status == "wrong" and "only received the dc handed in" in fb.message


def test_lstm_backward_without_tanh_prime_lists_the_wrong_gradients():
    fb = check.lstm_step_backward(lambda *a: lstm_backward(*a, dtanh_c=False))
    assert fb.status == "wrong" and "disagree with the numerical gradient" in fb.message
    assert "dx (" in fb.message and "dc_prev (" in fb.message


def test_lstm_backward_returning_five_arrays():
    fb = check.lstm_step_backward(lambda *a: lstm_backward(*a)[:5])
    assert fb.status == "wrong" and "db" in fb.message
