"""Checks for exercises 04: one RNN step, its backward pass, unrolling, clipping, Jacobians.

The reference answers come from the course's own code: ``course_utils.rnn.SimpleRNN`` (same
weight layout: W_x (D, H), W_h (H, H), b (H,)), ``course_utils.gradcheck`` for numerical
gradients and ``course_utils.rnn.clip_by_norm``. Probe sizes keep D != H, so that a transposed
W_x shows up as a shape error, and use non-symmetric W_h, so that a transposed W_h shows up as
a wrong value.
"""

from __future__ import annotations

import warnings

import numpy as np

from course_utils import gradcheck, rnn

from . import (
    Mismatch,
    as_tuple,
    call,
    close_or_explain,
    expect,
    expect_close,
    expect_shape,
    gradients_off,
    listed_errors,
    task,
)

_N, _D, _H = 3, 4, 5


def _step_probe(seed=0):
    """x (N, D), h_prev (N, H), W_x (D, H), W_h (H, H), b (H,) as a dict, float64."""
    r = np.random.default_rng(seed)
    return {"x": r.standard_normal((_N, _D)), "h_prev": 0.8 * r.standard_normal((_N, _H)),
            "W_x": 0.5 * r.standard_normal((_D, _H)), "W_h": 0.5 * r.standard_normal((_H, _H)),
            "b": 0.3 * r.standard_normal(_H)}


def _simple_rnn(W_x, W_h, b):
    layer = rnn.SimpleRNN(W_x.shape[0], W_x.shape[1], dtype=np.float64)
    layer.set_weights(W_x, W_h, b)
    return layer


@task("Task 1 · one RNN step", function="rnn_step_forward",
      hint="Add the input's contribution (x times W_x), the memory's contribution (h_prev times "
           "W_h) and the bias, then squash with tanh. Mind the order of each product: the batch "
           "is the first axis. Return h and the cache tuple named in the task.")
def rnn_step_forward(fn):
    p = _step_probe(0)
    got = call(fn, *(v.copy() for v in p.values()), what="running one step on a batch of 3")
    what = "rnn_step_forward on a batch of 3 (D = 4 inputs, H = 5 hidden units)"
    if isinstance(got, np.ndarray):
        raise Mismatch(f"For {what}: got a single array of shape {got.shape}; return two "
                       "things, h and cache (the backward pass in Task 2 needs the cache).")
    h, cache = as_tuple(got, 2, ("h", "cache"), what)
    layer = _simple_rnn(p["W_x"], p["W_h"], p["b"])
    expected = layer.forward(p["x"][:, None], p["h_prev"])[:, 0]
    a = p["x"] @ p["W_x"] + p["h_prev"] @ p["W_h"] + p["b"]
    close_or_explain(h, expected, what=f"h from {what}", mistakes=[
        (a, "these are the pre-activations a; h is tanh(a)."),
        (np.tanh(a - p["b"]), "the bias b is missing."),
        (np.tanh(a - p["h_prev"] @ p["W_h"]), "h_prev is missing: without it there is no memory."),
        (np.tanh(p["x"] @ p["W_x"] + p["h_prev"] @ p["W_h"].T + p["b"]),
         "h_prev was multiplied by the transpose of W_h. In the course's layout (Keras's), "
         "column j of W_h holds the weights into hidden unit j."),
    ])
    cache = as_tuple(cache, 5, ("x", "h_prev", "W_x", "W_h", "h"), f"the cache of {what}")
    for k, (name, value) in enumerate([("x", p["x"]), ("h_prev", p["h_prev"]),
                                       ("W_x", p["W_x"]), ("W_h", p["W_h"]), ("h", expected)]):
        close_or_explain(cache[k], value, what=f"cache[{k}], which should be {name}")
    one = call(fn, p["x"][:1], p["h_prev"][:1], p["W_x"], p["W_h"], p["b"],
               what="running one step on a batch of 1")
    close_or_explain(as_tuple(one, 2, ("h", "cache"), "a batch of 1")[0], expected[:1],
                     what="h for a batch of one sequence")
    return ["Same h as course_utils.rnn.SimpleRNN for one time step."]


def _backward_reference(p, dh):
    """Numerical gradients of sum(h * dh) for every input of one step (the truth to beat)."""
    arrays = {k: v.copy() for k, v in p.items()}

    def loss(_):
        h = np.tanh(arrays["x"] @ arrays["W_x"] + arrays["h_prev"] @ arrays["W_h"] + arrays["b"])
        return np.sum(h * dh)

    return {k: gradcheck.numerical_gradient(loss, arrays[k]) for k in
            ("x", "h_prev", "W_x", "W_h", "b")}


_GRAD_NAMES = ("dx", "dh_prev", "dW_x", "dW_h", "db")


def _backward_mistakes(p, h, dh):
    """Full sets of gradients that typical slips produce, with what each slip is."""
    def grads(da, wh_back, dwh):
        return (da @ p["W_x"].T, da @ wh_back, p["x"].T @ da, dwh, da.sum(axis=0))

    da = dh * (1 - h * h)
    return [
        (grads(dh, p["W_h"].T, p["h_prev"].T @ dh),
         "the derivative of tanh is missing: dh has to pass through tanh'(a) = 1 - h**2 "
         "before it reaches the weights."),
        (grads(dh * (1 - np.tanh(h) ** 2), p["W_h"].T, p["h_prev"].T @ (dh * (1 - np.tanh(h) ** 2))),
         "tanh' was applied to h, but h is already tanh(a): tanh'(a) = 1 - h**2."),
        (grads(da, p["W_h"], p["h_prev"].T @ da),
         "dh_prev came back through W_h itself; on the way back a gradient goes through the "
         "transpose of the matrix it came through on the way forward."),
        (grads(da, p["W_h"].T, da.T @ p["h_prev"]),
         "dW_h is transposed: it must have W_h's layout, row = from h_prev, column = to h."),
    ]


@task("Task 2 · the step's backward pass", function="rnn_step_backward",
      hint="First the gradient with respect to the pre-activation a: dh times the derivative of "
           "tanh, written with h from the cache. Every other gradient follows from a being x "
           "times W_x plus h_prev times W_h plus b, as in a dense layer; db sums over the batch.")
def rnn_step_backward(fn):
    p = _step_probe(1)
    h = np.tanh(p["x"] @ p["W_x"] + p["h_prev"] @ p["W_h"] + p["b"])
    dh = np.random.default_rng(11).standard_normal(h.shape)
    cache = (p["x"].copy(), p["h_prev"].copy(), p["W_x"].copy(), p["W_h"].copy(), h.copy())
    got = call(fn, dh.copy(), cache, what="backpropagating dh through one step")
    what = "rnn_step_backward(dh, cache)"
    got = as_tuple(got, 5, _GRAD_NAMES, what)
    numeric = _backward_reference(p, dh)
    arrays = [expect_shape(g, p[k].shape, what=f"{name} (the gradient w.r.t. {k}, shaped like it)")
              for g, name, k in zip(got, _GRAD_NAMES, numeric, strict=True)]
    bad = gradients_off(arrays, _GRAD_NAMES, numeric.values())
    if bad:
        listed = listed_errors(bad)
        message = (f"For {what}: {len(bad)} of 5 gradients disagree with the numerical "
                   f"gradient (central differences) of sum(h * dh): {listed}. The number is "
                   "the relative error; a correct backward pass gives far below 1e-6.")
        for wrong, why in _backward_mistakes(p, h, dh):
            if all(np.allclose(g, w, rtol=1e-6, atol=1e-9) for g, w in zip(arrays, wrong, strict=True)):
                message += f"\nIt looks like {why}"
                break
        raise Mismatch(message)
    return ["All five gradients agree with central differences (relative error < 1e-6)."]


def _seq_probe(seed=2, N=2, T=6, D=3, H=4):
    r = np.random.default_rng(seed)
    return {"x": r.standard_normal((N, T, D)), "h0": 0.5 * r.standard_normal((N, H)),
            "W_x": 0.6 * r.standard_normal((D, H)), "W_h": 0.6 * r.standard_normal((H, H)),
            "b": 0.2 * r.standard_normal(H)}


@task("Task 3 · unrolling over a sequence", function="rnn_forward",
      hint="Loop over the time axis (axis 1 of x), feed each step the state the previous step "
           "produced (h0 for the first), and collect every new state; stacking them along a new "
           "axis 1 gives the (N, T, H) layout.")
def rnn_forward(fn):
    p = _seq_probe()
    N, T, _ = p["x"].shape
    H = p["W_h"].shape[0]
    got = call(fn, *(v.copy() for v in p.values()),
               what="running a batch of 2 sequences of 6 steps")
    what = "rnn_forward on x of shape (2, 6, 3) with H = 4"
    shape = np.shape(got) if got is not None else None
    if shape == (N, H):
        raise Mismatch(f"For {what}: got shape {shape}, only the last state. Return every "
                       f"hidden state h_1..h_T, shape (N, T, H) = {(N, T, H)}.")
    if shape == (T, N, H):
        raise Mismatch(f"For {what}: got shape {shape}, time first. The course's layers "
                       f"return batch first, (N, T, H) = {(N, T, H)}.")
    if shape == (N, T + 1, H):
        raise Mismatch(f"For {what}: got shape {shape}: one state too many. h0 is an input; "
                       f"return h_1..h_T, shape {(N, T, H)}.")
    expected = _simple_rnn(p["W_x"], p["W_h"], p["b"]).forward(p["x"], p["h0"])
    no_memory = np.tanh(p["x"] @ p["W_x"] + (p["h0"] @ p["W_h"])[:, None] + p["b"])
    close_or_explain(got, expected, what=what, mistakes=[
        (no_memory, "every step used h0 instead of the state of the step before: the memory "
                    "is never carried forward."),
    ])
    single = call(fn, p["x"][:, :1], p["h0"], p["W_x"], p["W_h"], p["b"],
                  what="running sequences of one step")
    close_or_explain(single, expected[:, :1], what="rnn_forward on sequences of one step")
    return ["Equal to course_utils.rnn.SimpleRNN.forward, step for step."]


def _grad_dict(seed, scale):
    r = np.random.default_rng(seed)
    return {"W_x": scale * r.standard_normal((3, 4)), "W_h": scale * r.standard_normal((4, 4)),
            "b": scale * r.standard_normal(4)}


def _joint_norm(grads):
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(g, dtype=float))) for g in grads.values())))


def _check_clipped(fn, grads, max_norm, label):
    original = {k: v.copy() for k, v in grads.items()}
    got = call(fn, grads, max_norm, what=f"clipping {label}")
    what = f"clip_by_norm({label}, max_norm={max_norm:g})"
    changed = [k for k in grads if not np.array_equal(grads[k], original[k])]
    expect(not changed, f"For {what}: the caller's gradient {changed[0] if changed else ''!r} "
                        "was changed in place. Return new arrays and leave the input as it was "
                        "(the caller may still need the raw gradient, e.g. to log its norm).")
    if not isinstance(got, dict):
        raise Mismatch(f"For {what}: expected a dict with the same keys "
                       f"{sorted(grads)}, got {type(got).__name__}.")
    expect(set(got) == set(grads), f"For {what}: expected the keys {sorted(grads)}, got "
                                   f"{sorted(got)}.")
    expected = rnn.clip_by_norm(original, max_norm)
    total = _joint_norm(original)
    for k in original:
        alone = original[k] * min(1.0, max_norm / max(np.linalg.norm(original[k]), 1e-300))
        close_or_explain(got[k], expected[k], what=f"{what}[{k!r}]", mistakes=[
            (original[k], f"it came back unchanged, but the joint norm {total:.3g} is above "
                          f"{max_norm:g}: the step must be shortened."),
            (np.clip(original[k], -max_norm, max_norm),
             "each entry was clipped on its own (that is clip_elementwise, which turns the "
             "step). Clipping by norm scales all entries by one common factor."),
            (original[k] * max_norm / total if total > 0 else original[k],
             f"the joint norm {total:.3g} is already at most {max_norm:g}, so the gradients "
             "must come back unchanged; clipping only ever shortens a step."),
            (alone, "each array was scaled by its own norm. Use the joint norm of all arrays "
                    "together, or the direction of the whole step changes."),
        ])
    return got


@task("Task 4 · clipping by the joint norm", function="clip_by_norm",
      hint="Compute one number for the whole dict: the square root of the sum of squares of "
           "every entry of every array. If it exceeds max_norm, multiply every array by the "
           "same factor max_norm / norm; otherwise return copies unchanged.")
def clip_by_norm(fn):
    big = _grad_dict(3, 2.0)
    big["W_h"][0, 0] = 9.0  # one entry beyond the limit, so elementwise clipping shows
    got = _check_clipped(fn, big, 5.0, f"gradients of joint norm {_joint_norm(big):.3g}")
    expect_close(_joint_norm(got), 5.0, what="the joint norm after clipping")
    small = _grad_dict(4, 0.2)
    _check_clipped(fn, small, 5.0, f"gradients of joint norm {_joint_norm(small):.3g}")
    zero = {k: np.zeros_like(v) for k, v in big.items()}
    # A division by the zero norm may still give the right zeros (min(1, inf) is 1), but only
    # under NumPy's RuntimeWarning: record warnings instead of letting them print in red.
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
        warnings.simplefilter("always")
        got = call(fn, zero, 5.0, what="clipping all-zero gradients")
    if isinstance(got, dict):
        values = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in got.values()])
        expect(np.all(np.isfinite(values)), "For all-zero gradients: got nan or inf, probably "
                                            "from 0 / 0. A zero gradient has nothing to clip.")
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    expect(not numeric, "For all-zero gradients (joint norm 0): NumPy warned "
                        f"\"{numeric[0].message if numeric else ''}\", so your function divided "
                        "by the zero norm. The result may look right, but only by luck. A zero "
                        "gradient has nothing to clip: return it unchanged without dividing.")
    _check_clipped(fn, zero, 5.0, "all-zero gradients")
    return ["The direction is kept; only the length shrinks, and only when it is too long."]


def _jacobian_probe(seed=5, T=5, D=3, H=4):
    """A SimpleRNN run on one sequence: its hidden states (T, H), W_h and the true dh_T/dh_0."""
    r = np.random.default_rng(seed)
    W_x, W_h, b = (0.7 * r.standard_normal((D, H)), 0.7 * r.standard_normal((H, H)),
                   0.2 * r.standard_normal(H))
    x, h0 = r.standard_normal((T, D)), 0.5 * r.standard_normal(H)
    layer = _simple_rnn(W_x, W_h, b)
    hs = layer.forward(x[None], h0[None])[0]
    # backprop, one row at a time: H copies of the sequence, copy k sends back e_k from h_T
    layer.forward(np.broadcast_to(x, (H, T, D)), np.broadcast_to(h0, (H, H)))
    dH = np.zeros((H, T, H))
    dH[:, -1] = np.eye(H)
    layer.backward(dH)
    return hs, W_h, layer.dh0.copy()


def _chain(mats):
    out = np.eye(mats[0].shape[0])
    for m in mats:
        out = out @ m
    return out


@task("Task 5 · the product of Jacobians", function="hidden_jacobian",
      hint="One step's Jacobian scales row i of the transpose of W_h by the tanh derivative of "
           "unit i, which is 1 minus the square of that unit's new state. Multiply the T step "
           "Jacobians with the newest step on the left: the last step's Jacobian times the one "
           "before it, down to the first.")
def hidden_jacobian(fn):
    hs, W_h, expected = _jacobian_probe()
    steps = [(1 - h * h)[:, None] * W_h.T for h in hs]  # J_1 .. J_T
    got = call(fn, hs.copy(), W_h.copy(), what="building dh_T/dh_0 for a sequence of 5 steps")
    what = "hidden_jacobian(hs, W_h) for 5 steps and H = 4"
    close_or_explain(got, expected, what=what, mistakes=[
        (_chain(steps), "the product is in the wrong order. The chain rule puts the last "
                        "step on the left: J_T ... J_2 J_1."),
        (expected.T, "the result is transposed: row i should be the gradient of h_T[i], "
                     "column j the effect of h_0[j]."),
        (_chain([(1 - h * h)[:, None] * W_h for h in reversed(hs)]),
         "W_h enters untransposed. With row vectors, h_t = tanh(h_{t-1} W_h + ...), so "
         "dh_t[i]/dh_{t-1}[j] = (1 - h_t[i]**2) W_h[j, i]."),
        (np.linalg.matrix_power(W_h.T, len(hs)), "the tanh derivative 1 - h_t**2 of each step "
                                                 "is missing."),
    ])
    hs1, W1, expected1 = _jacobian_probe(seed=6, T=1)
    close_or_explain(call(fn, hs1, W1, what="a sequence of one step"), expected1,
                     what="hidden_jacobian for a sequence of one step")
    return ["It equals what backprop through course_utils.rnn.SimpleRNN sends from h_T to h_0."]


# A non-normal W_h: both eigenvalues are 0.5, yet one step can stretch a vector by about 2.1.
_SHEAR = np.array([[0.5, 2.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.3]])


def _measured_norm(W_h, T):
    """||dh_T/dh_0|| of a SimpleRNN with this W_h at x = 0, b = 0, h_0 = 0 (where tanh' = 1)."""
    H = W_h.shape[0]
    layer = _simple_rnn(np.zeros((1, H)), W_h, np.zeros(H))
    return float(rnn.hidden_jacobian_norms(layer, np.zeros((T, 1)))[-1])


@task("Task 6 · Can you do better? A bound before training", function="jacobian_norm_bound",
      hint="Each step's Jacobian is a diagonal matrix of tanh derivatives times W_h transposed, "
           "and no tanh derivative exceeds 1, so no step stretches a vector more than W_h can: by"
           " its largest singular value (an SVD, or NumPy's matrix norm of the right order, gives"
           " it). T steps multiply T such factors.")
def jacobian_norm_bound(fn):
    r = np.random.default_rng(7)
    probes = [(_SHEAR, 2), (_SHEAR, 5), (0.4 * r.standard_normal((4, 4)), 3),
              (1.3 * r.standard_normal((4, 4)), 1)]
    for W_h, T in probes:
        got = call(fn, W_h.copy(), T, what=f"bounding ||dh_{T}/dh_0||")
        what = f"jacobian_norm_bound(W_h, T={T}) for W_h = {np.round(W_h, 2).tolist()}"
        sigma = np.linalg.norm(W_h, 2)
        rho = np.abs(np.linalg.eigvals(W_h)).max()
        measured = _measured_norm(W_h, T)
        close_or_explain(got, sigma ** T, what=what, mistakes=[
            (rho ** T, f"that is the spectral radius to the power T ({rho ** T:.3g}). It sets "
                       "the rate in the long run, but it is no bound: the course's SimpleRNN "
                       f"with this W_h measures ||dh_{T}/dh_0|| = {measured:.3g} (at x = 0, "
                       "where tanh' = 1)."),
            (np.linalg.norm(W_h) ** T, "that is the Frobenius norm to the power T: a valid "
                                       "bound, but a loose one. The tightest factor per step "
                                       "is the largest singular value."),
            (sigma, "that is one step's factor; the bound for T steps multiplies T of them."),
        ])
        expect(float(np.asarray(got)) >= measured * (1 - 1e-9),
               f"For {what}: {float(np.asarray(got)):.4g} is below the measured norm "
               f"{measured:.4g}, so it is not a bound.")
    return ["sigma_max(W_h) < 1 guarantees vanishing; sigma_max > 1 only allows explosion."]


def _seq_backward_without_carry(p, hs, dH):
    """What comes out when the gradient from step t+1 is not added to dH[:, t]."""
    hprev = np.concatenate([p["h0"][:, None], hs[:, :-1]], axis=1)
    da = dH * (1 - hs**2)
    return (da @ p["W_x"].T, da[:, 0] @ p["W_h"].T,
            np.einsum("ntd,nth->dh", p["x"], da), np.einsum("ntk,nth->kh", hprev, da),
            da.sum(axis=(0, 1)))


_SEQ_NAMES = ("dx", "dh0", "dW_x", "dW_h", "db")


@task("Task 7 · backward through the whole sequence", function="rnn_backward",
      hint="Walk the steps from the last to the first. The gradient reaching h_t has two "
           "sources: the loss at step t (dH at t) and step t+1, through the dh_prev that step "
           "returned; add them before calling your step backward. The weights are shared by "
           "every step, so their gradients add up over the steps; dh0 is what the first step "
           "sends back.")
def rnn_backward(fn):
    p = _seq_probe(7, 2, 5, 3, 4)
    layer = _simple_rnn(p["W_x"], p["W_h"], p["b"])
    hs = layer.forward(p["x"], p["h0"])
    dH = np.random.default_rng(8).standard_normal(hs.shape)
    dx = layer.backward(dH)
    expected = (dx, layer.dh0, layer.grads["W_x"], layer.grads["W_h"], layer.grads["b"])
    what = "rnn_backward(dH, x, h0, W_x, W_h, hs) for 2 sequences of 5 steps (D = 3, H = 4)"
    got = call(fn, dH.copy(), p["x"].copy(), p["h0"].copy(), p["W_x"].copy(), p["W_h"].copy(),
               hs.copy(), what="backpropagating through 2 sequences of 5 steps")
    got = as_tuple(got, 5, _SEQ_NAMES, what)
    shapes = (p["x"].shape, p["h0"].shape, p["W_x"].shape, p["W_h"].shape, p["b"].shape)
    arrays = [expect_shape(g, s, what=f"{name} from {what}")
              for g, s, name in zip(got, shapes, _SEQ_NAMES, strict=True)]
    bad = [name for g, e, name in zip(arrays, expected, _SEQ_NAMES, strict=True)
           if not np.allclose(g, e, rtol=1e-6, atol=1e-9)]
    if bad:
        message = (f"For {what}: {', '.join(bad)} differ from course_utils.rnn.SimpleRNN.backward "
                   f"(the other {5 - len(bad)} agree).")
        no_carry = _seq_backward_without_carry(p, hs, dH)
        if all(np.allclose(g, w) for g, w in zip(arrays[2:], no_carry[2:], strict=True)):
            message += ("\nIt looks like the gradient that flows back from step t+1 through h_t "
                        "was dropped: each step only saw the loss at its own step.")
        elif not {"dx", "dh0"} & set(bad):
            message += ("\nThe gradients w.r.t. the inputs and h0 are right, so the walk back is; "
                        "check that every step adds its share to the weight gradients (the "
                        "weights are shared by all steps).")
        raise Mismatch(message)
    return ["Equal to course_utils.rnn.SimpleRNN.backward: dx, dh0 and all three weight "
            "gradients, through 5 steps."]


_TRAIN_NAMES = ("W_x", "W_h", "b", "w", "c")


def _train_probe(seed=9, N=32, lag=4, H=6):
    """A fixed batch of the recall task and small starting weights for Task 8."""
    r = np.random.default_rng(seed)
    x, y = rnn.make_recall_data(N, lag, rng=r)
    D = x.shape[2]
    params = {"W_x": 0.5 * r.standard_normal((D, H)), "W_h": 0.3 * r.standard_normal((H, H)),
              "b": np.zeros(H), "w": 0.3 * r.standard_normal(H), "c": np.zeros(1)}
    return params, x, y


def _reference_training(params, x, y, steps, lr, max_norm, *, sign=1.0, scale=1.0, clip=True):
    """Full-batch gradient descent with course_utils' SimpleRNN; ``sign``, ``scale`` and
    ``clip`` reproduce typical slips (ascent, a summed instead of averaged loss, no clipping)."""
    W = {k: v.copy() for k, v in params.items()}
    N, H = len(y), W["W_h"].shape[0]
    losses = []
    for _ in range(steps):
        layer = _simple_rnn(W["W_x"], W["W_h"], W["b"])
        hs = layer.forward(x, np.zeros((N, H)))
        logit = hs[:, -1] @ W["w"] + W["c"]
        losses.append(float(np.mean(np.logaddexp(0, logit) - y * logit)))
        dlogit = scale * (1 / (1 + np.exp(-logit)) - y) / N
        dH = np.zeros_like(hs)
        dH[:, -1] = dlogit[:, None] * W["w"]
        layer.backward(dH)
        grads = {"W_x": layer.grads["W_x"], "W_h": layer.grads["W_h"], "b": layer.grads["b"],
                 "w": hs[:, -1].T @ dlogit, "c": np.array([dlogit.sum()])}
        if clip:
            grads = rnn.clip_by_norm(grads, max_norm)
        for k in W:
            W[k] = W[k] - sign * lr * grads[k]
    return W, losses


def _check_trained(fn, params, x, y, steps, lr, max_norm, label):
    """Run the student's loop once; return its losses and trained weights, checked in shape."""
    original = {k: v.copy() for k, v in params.items()}
    got = call(fn, params, x.copy(), y.copy(), steps, lr, max_norm, what=label)
    what = f"train_recall(params, x, y, steps={steps}, lr={lr:g}, max_norm={max_norm:g})"
    changed = [k for k in params if not np.array_equal(params[k], original[k])]
    expect(not changed, f"For {what}: the caller's params[{changed[0] if changed else ''!r}] was "
                        "changed in place. Work on copies and return the trained weights, so "
                        "the caller can still compare them with where training started.")
    trained, losses = as_tuple(got, 2, ("params", "losses"), what)
    if not isinstance(trained, dict) or set(trained) != set(params):
        raise Mismatch(f"For {what}: the first thing returned should be a dict with the keys "
                       f"{sorted(params)}, got {type(trained).__name__}"
                       f"{' with keys ' + str(sorted(trained)) if isinstance(trained, dict) else ''}.")
    losses = np.asarray(losses, dtype=float).ravel()
    expect(losses.shape == (steps,), f"For {what}: expected one loss per step, {steps} numbers, "
                                     f"got {losses.size}.")
    for k in params:
        expect_shape(trained[k], params[k].shape, what=f"the trained params[{k!r}]")
    return what, trained, losses


@task("Task 8 · a training loop from your own pieces", function="train_recall",
      hint="Each step: run your rnn_forward from a zero state, read out the last state through "
           "w and c, and record the mean cross-entropy before changing anything. The gradient "
           "of that mean with respect to each logit is the predicted probability minus the "
           "label, divided by N; only "
           "the last hidden state receives it, through w. Your rnn_backward gives the recurrent "
           "weights' gradients; clip all five together with your clip_by_norm, then step "
           "against the gradient. Work on copies of params.")
def train_recall(fn):
    params, x, y = _train_probe()
    steps, lr = 4, 0.5
    for max_norm in (1e6, 0.05):  # clipping off, then on for every step
        label = f"training {steps} steps on a batch of 32 sequences (max_norm {max_norm:g})"
        what, _, losses = _check_trained(fn, params, x, y, steps, lr, max_norm, label)
        _, expected = _reference_training(params, x, y, steps, lr, max_norm)
        if not np.isclose(losses[0], expected[0], rtol=1e-6):
            summed_loss = expected[0] * len(y)
            why = ("it is the sum over the batch; use the mean."
                   if np.isclose(losses[0], summed_loss, rtol=1e-6) else
                   "compute the mean binary cross-entropy of the last state's logit "
                   "h_T w + c, before the first update.")
            raise Mismatch(f"For {what}: the first loss is {losses[0]:.6g}, expected "
                           f"{expected[0]:.6g}: {why}")
        mistakes = [
            (_reference_training(params, x, y, steps, lr, max_norm, sign=-1.0)[1],
             "the weights moved up the gradient: the loss rises. Subtract lr times the "
             "gradient."),
            ([expected[0]] * steps, "the loss never changes: are the weights updated, and does "
                                    "each step use the updated ones?"),
            (_reference_training(params, x, y, steps, lr, max_norm, clip=False)[1],
             f"the gradients were not clipped: with max_norm={max_norm:g} every step here must "
             "be shortened to that joint norm."),
            (_reference_training(params, x, y, steps, lr, max_norm, scale=len(y))[1],
             "the gradient was not divided by N: the loss is the mean over the batch, so its "
             "gradient is too."),
        ]
        close_or_explain(losses, np.asarray(expected), what=f"the losses of {what}",
                         mistakes=[(np.asarray(m), why) for m, why in mistakes])
    steps, lr, max_norm = 300, 1.0, 5.0
    what, trained, losses = _check_trained(fn, params, x, y, steps, lr, max_norm,
                                           "training 300 steps on a batch of 32 sequences")
    final = float(np.mean(losses[-10:]))
    expect(final < 0.1, f"For {what}: the mean loss over the last 10 steps is {final:.3g}; it "
                        f"should fall below 0.1 (it started at {losses[0]:.3g}, chance is "
                        "ln 2 = 0.693).")
    layer = _simple_rnn(trained["W_x"], trained["W_h"], trained["b"])
    logit = layer.forward(x, np.zeros((len(y), params["W_h"].shape[0])))[:, -1] @ trained["w"]
    logit = logit + trained["c"]
    after = float(np.mean(np.logaddexp(0, logit) - y * logit))
    expect(after <= losses[-1] + 0.05, f"For {what}: the returned params give a loss of "
                                       f"{after:.3g}, but the last recorded loss was "
                                       f"{losses[-1]:.3g}: return the trained weights.")
    return [f"The loss falls from {losses[0]:.3f} to {final:.4f} (mean of the last 10 steps) in "
            "300 steps, and the first steps match course_utils' SimpleRNN step for step."]
