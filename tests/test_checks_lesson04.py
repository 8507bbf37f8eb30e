"""Exercise checks for lesson 04: wrong answers get specific, helpful feedback."""

import warnings

import numpy as np
import pytest

from course_utils.checks import lesson04 as check


def step(x, h_prev, W_x, W_h, b):
    h = np.tanh(x @ W_x + h_prev @ W_h + b)
    return h, (x, h_prev, W_x, W_h, h)


def backward(dh, cache, *, tanh_grad=True, wh_back_transposed=True, dwh_transposed=False):
    x, h_prev, W_x, W_h, h = cache
    da = dh * (1 - h**2) if tanh_grad else dh
    dW_h = da.T @ h_prev if dwh_transposed else h_prev.T @ da
    return (da @ W_x.T, da @ (W_h.T if wh_back_transposed else W_h), x.T @ da, dW_h,
            da.sum(axis=0))


def test_step_and_backward_references_pass():
    assert check.rnn_step_forward(step)
    assert check.rnn_step_backward(backward)


def test_step_without_tanh():
    def linear(x, h_prev, W_x, W_h, b):
        a = x @ W_x + h_prev @ W_h + b
        return a, (x, h_prev, W_x, W_h, a)

    fb = check.rnn_step_forward(linear)
    assert fb.status == "wrong" and "pre-activations" in fb.message


def test_step_with_transposed_recurrent_weights():
    def transposed(x, h_prev, W_x, W_h, b):
        return step(x, h_prev, W_x, W_h.T, b)

    fb = check.rnn_step_forward(transposed)
    assert fb.status == "wrong" and "transpose of W_h" in fb.message


def test_step_with_transposed_input_weights_is_an_error_with_context():
    fb = check.rnn_step_forward(lambda x, h_prev, W_x, W_h, b: step(x, h_prev, W_x.T, W_h, b))
    assert fb.status == "error" and "While running one step on a batch of 3" in fb.message
    assert "ValueError" in fb.message


def test_step_returning_only_h_is_told_about_the_cache():
    fb = check.rnn_step_forward(lambda *args: step(*args)[0])
    assert fb.status == "wrong" and "return two things, h and cache" in fb.message


def test_step_with_a_cache_in_another_order():
    def other_cache(x, h_prev, W_x, W_h, b):
        h, _ = step(x, h_prev, W_x, W_h, b)
        return h, (h, x, h_prev, W_x, W_h)

    fb = check.rnn_step_forward(other_cache)
    assert fb.status == "wrong" and "cache[0], which should be x" in fb.message


@pytest.mark.parametrize("kwargs, diagnosis", [
    ({"tanh_grad": False}, "derivative of tanh is missing"),
    ({"wh_back_transposed": False}, "dh_prev came back through W_h itself"),
    ({"dwh_transposed": True}, "dW_h is transposed"),
])
def test_backward_slips_are_named(kwargs, diagnosis):
    fb = check.rnn_step_backward(lambda dh, cache: backward(dh, cache, **kwargs))
    assert fb.status == "wrong"
    assert "disagree with the numerical gradient" in fb.message and diagnosis in fb.message


def test_backward_reports_which_gradients_are_wrong():
    def wrong_db(dh, cache):
        dx, dh_prev, dW_x, dW_h, db = backward(dh, cache)
        return dx, dh_prev, dW_x, dW_h, 2 * db

    fb = check.rnn_step_backward(wrong_db)
    assert "1 of 5 gradients disagree" in fb.message and "db (" in fb.message


def test_backward_summing_the_bias_over_the_wrong_axis():
    def wrong_axis(dh, cache):
        dx, dh_prev, dW_x, dW_h, _ = backward(dh, cache)
        return dx, dh_prev, dW_x, dW_h, (dh * (1 - cache[4] ** 2)).sum(axis=1)

    fb = check.rnn_step_backward(wrong_axis)
    assert "expected shape (5,), got shape (3,)" in fb.message


def unroll(x, h0, W_x, W_h, b, *, carry=True):
    h, out = h0, []
    for t in range(x.shape[1]):
        h_new = step(x[:, t], h if carry else h0, W_x, W_h, b)[0]
        h = h_new
        out.append(h_new)
    return np.stack(out, axis=1)


def test_unrolling_reference_passes():
    assert check.rnn_forward(unroll)


def test_unrolling_without_carrying_the_memory():
    fb = check.rnn_forward(lambda *a: unroll(*a, carry=False))
    assert fb.status == "wrong" and "memory is never carried forward" in fb.message


@pytest.mark.parametrize("wrap, told", [
    (lambda H: H[:, -1], "only the last state"),
    (lambda H: H.transpose(1, 0, 2), "time first"),
])
def test_unrolling_with_the_wrong_shape(wrap, told):
    fb = check.rnn_forward(lambda *a: wrap(unroll(*a)))
    assert fb.status == "wrong" and told in fb.message


def test_unrolling_over_the_batch_axis_is_an_error_with_context():
    def batch_axis(x, h0, W_x, W_h, b):
        h, out = h0, []
        for t in range(x.shape[1]):
            h = step(x[t], h, W_x, W_h, b)[0]
            out.append(h)
        return np.stack(out, axis=1)

    fb = check.rnn_forward(batch_axis)
    assert fb.status == "error" and "While running a batch of 2 sequences" in fb.message
    assert "could not be broadcast" in fb.message


def joint_clip(grads, max_norm):
    total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    return {k: g * min(1.0, max_norm / total) if total > 0 else g.copy() for k, g in grads.items()}


def test_clip_reference_passes():
    assert check.clip_by_norm(joint_clip)


@pytest.mark.parametrize("wrong, told", [
    (lambda grads, m: {k: np.clip(g, -m, m) for k, g in grads.items()}, "clipped on its own"),
    (lambda grads, m: {k: g * min(1.0, m / np.linalg.norm(g)) for k, g in grads.items()},
     "by its own norm"),
    (lambda grads, m: {k: g * m / np.sqrt(sum(np.sum(v**2) for v in grads.values()))
                       for k, g in grads.items()}, "clipping only ever shortens"),
    (lambda grads, m: dict(grads), "came back unchanged"),
])
def test_clip_mistakes_are_named(wrong, told):
    fb = check.clip_by_norm(wrong)
    assert fb.status == "wrong" and told in fb.message


def test_clip_in_place_is_caught():
    def in_place(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        for g in grads.values():
            g *= min(1.0, max_norm / total)
        return grads

    fb = check.clip_by_norm(in_place)
    assert fb.status == "wrong" and "changed in place" in fb.message


def test_clip_dividing_zero_by_zero():
    def nan_for_zero(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        with np.errstate(invalid="ignore", divide="ignore"):
            return {k: g / total * min(total, max_norm) for k, g in grads.items()}

    fb = check.clip_by_norm(nan_for_zero)
    assert fb.status == "wrong" and "0 / 0" in fb.message


def test_clip_dividing_by_a_zero_norm_is_caught_even_when_the_zeros_come_out_right():
    def unguarded(grads, max_norm):
        total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))  # a NumPy float: 1/0 warns
        return {k: g * min(1.0, max_norm / total) for k, g in grads.items()}

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may reach the student's screen in red
        fb = check.clip_by_norm(unguarded)
    assert fb.status == "wrong", fb.message
    assert "joint norm 0" in fb.message and "divide by zero" in fb.message


def jacobian(hs, W_h, *, order="newest left", transpose_w=True, tanh_grad=True):
    J = np.eye(W_h.shape[0])
    for h in hs:
        d = (1 - h**2) if tanh_grad else np.ones_like(h)
        step_J = d[:, None] * (W_h.T if transpose_w else W_h)
        J = step_J @ J if order == "newest left" else J @ step_J
    return J


def test_jacobian_reference_passes():
    assert check.hidden_jacobian(jacobian)


@pytest.mark.parametrize("kwargs, told", [
    ({"order": "oldest left"}, "wrong order"),
    ({"transpose_w": False}, "W_h enters untransposed"),
    ({"tanh_grad": False}, "tanh derivative"),
])
def test_jacobian_mistakes_are_named(kwargs, told):
    fb = check.hidden_jacobian(lambda hs, W_h: jacobian(hs, W_h, **kwargs))
    assert fb.status == "wrong" and told in fb.message


def test_jacobian_transposed_result():
    fb = check.hidden_jacobian(lambda hs, W_h: jacobian(hs, W_h).T)
    assert fb.status == "wrong" and "transposed" in fb.message


def test_bound_reference_passes():
    assert check.jacobian_norm_bound(lambda W_h, T: np.linalg.norm(W_h, 2) ** T)


def test_bound_with_the_spectral_radius_is_shown_to_fail():
    fb = check.jacobian_norm_bound(lambda W_h, T: np.abs(np.linalg.eigvals(W_h)).max() ** T)
    assert fb.status == "wrong" and "spectral radius" in fb.message
    assert "it is no bound" in fb.message and "measures ||dh_2/dh_0|| = 2.0" in fb.message


@pytest.mark.parametrize("wrong, told", [
    (lambda W_h, T: np.linalg.norm(W_h) ** T, "Frobenius"),
    (lambda W_h, T: np.linalg.norm(W_h, 2), "one step's factor"),
])
def test_bound_mistakes_are_named(wrong, told):
    fb = check.jacobian_norm_bound(wrong)
    assert fb.status == "wrong" and told in fb.message


def test_a_bound_below_the_measurement_is_refused():
    fb = check.jacobian_norm_bound(lambda W_h, T: 0.5 * np.linalg.norm(W_h, 2) ** T)
    assert fb.status == "wrong" and "expected" in fb.message


def seq_backward(dH, x, h0, W_x, W_h, hs, *, carry=True, share=True):
    N, T, _ = x.shape
    dx, dW_x, dW_h, db = np.zeros_like(x), np.zeros_like(W_x), np.zeros_like(W_h), 0.0
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = hs[:, t - 1] if t > 0 else h0
        cache = (x[:, t], h_prev, W_x, W_h, hs[:, t])
        dh = dH[:, t] + (dh_next if carry else 0.0)
        dx[:, t], dh_next, gx, gh, gb = backward(dh, cache)
        if share or t == T - 1:
            dW_x, dW_h, db = dW_x + gx, dW_h + gh, db + gb
    return dx, dh_next, dW_x, dW_h, db


def test_sequence_backward_reference_passes():
    assert check.rnn_backward(seq_backward)


def test_sequence_backward_without_the_gradient_through_h():
    fb = check.rnn_backward(lambda *a: seq_backward(*a, carry=False))
    assert fb.status == "wrong" and "flows back from step t+1 through h_t" in fb.message


def test_sequence_backward_keeping_only_the_last_steps_weight_gradients():
    fb = check.rnn_backward(lambda *a: seq_backward(*a, share=False))
    assert fb.status == "wrong" and "dW_x, dW_h, db differ" in fb.message
    assert "shared by all steps" in fb.message


def test_sequence_backward_returning_too_few_arrays():
    fb = check.rnn_backward(lambda *a: seq_backward(*a)[:4])
    assert fb.status == "wrong" and "dh0" in fb.message


def train_loop(params, x, y, steps, lr, max_norm, *, sign=1.0, mean=True, clip=True,
               in_place=False, carry=True, summed_loss=False):
    W = params if in_place else {k: v.copy() for k, v in params.items()}
    N, H = len(y), W["W_h"].shape[0]
    losses = []
    for _ in range(steps):
        h0 = np.zeros((N, H))
        hs = unroll(x, h0, W["W_x"], W["W_h"], W["b"])
        logit = hs[:, -1] @ W["w"] + W["c"]
        loss = np.logaddexp(0, logit) - y * logit
        losses.append(loss.sum() if summed_loss else loss.mean())
        dlogit = (1 / (1 + np.exp(-logit)) - y) / (N if mean else 1)
        dH = np.zeros_like(hs)
        dH[:, -1] = dlogit[:, None] * W["w"]
        _, _, dW_x, dW_h, db = seq_backward(dH, x, h0, W["W_x"], W["W_h"], hs, carry=carry)
        grads = {"W_x": dW_x, "W_h": dW_h, "b": db, "w": hs[:, -1].T @ dlogit,
                 "c": np.array([dlogit.sum()])}
        if clip:
            grads = joint_clip(grads, max_norm)
        for k in W:
            W[k] = W[k] - sign * lr * grads[k]
    return W, losses


def test_training_loop_reference_passes():
    fb = check.train_recall(train_loop)
    assert fb.status == "passed" and "The loss falls from" in fb.message


@pytest.mark.parametrize("kwargs, told", [
    ({"sign": -1.0}, "moved up the gradient"),
    ({"mean": False}, "not divided by N"),
    ({"clip": False}, "were not clipped"),
    ({"in_place": True}, "changed in place"),
    ({"summed_loss": True}, "sum over the batch"),
    ({"lr": 0.0}, "the loss never changes"),
])
def test_training_loop_mistakes_are_named(kwargs, told):
    def wrong(params, x, y, steps, lr, max_norm):
        kw = dict(kwargs)
        return train_loop(params, x, y, steps, kw.pop("lr", lr), max_norm, **kw)

    fb = check.train_recall(wrong)
    assert fb.status == "wrong" and told in fb.message


def test_training_loop_without_the_carried_gradient_is_caught():
    fb = check.train_recall(lambda *a: train_loop(*a, carry=False))
    assert fb.status == "wrong" and "the losses of train_recall" in fb.message


def test_training_loop_that_returns_the_starting_weights_is_caught():
    def stale(params, x, y, steps, lr, max_norm):
        _, losses = train_loop(params, x, y, steps, lr, max_norm)
        return {k: v.copy() for k, v in params.items()}, losses

    fb = check.train_recall(stale)
    assert fb.status == "wrong" and "return the trained weights" in fb.message


def test_training_loop_returning_only_the_losses():
    fb = check.train_recall(lambda *a: train_loop(*a)[1])
    assert fb.status == "wrong" and "(params, losses)" in fb.message
