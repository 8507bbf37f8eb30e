"""Checks for exercises 05: LSTM gates and cell state, a GRU step, padding, masking, and how
far back the cell state carries a gradient.

The reference answers come from the course's own code: ``course_utils.rnn.LSTM`` (gate blocks
i, f, c, o side by side in W_x (D, 4H), W_h (H, 4H), b (4H,), as in Keras; its ``gates`` call
the c block g), ``course_utils.rnn.GRU`` (blocks z, r, h; b (2, 3H); reset_after=True) and
``course_utils.sentiment.pad``.
"""

from __future__ import annotations

import numpy as np

from course_utils import rnn
from course_utils import sentiment as S

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

_N, _D, _H = 2, 3, 4
_LSTM_BLOCKS = ("i", "f", "g", "o")  # Keras calls the third block "c"
_ACTIVATION = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _weights(seed, G):
    r = np.random.default_rng(seed)
    b_shape = (2, G * _H) if G == 3 else (G * _H,)
    return (r.standard_normal((_N, _D)), 0.8 * r.standard_normal((_N, _H)),
            0.6 * r.standard_normal((_D, G * _H)), 0.6 * r.standard_normal((_H, G * _H)),
            0.4 * r.standard_normal(b_shape))


def _lstm_step(x, h_prev, c_prev, W_x, W_h, b):
    """The course's LSTM for one step: its gates dict (N, H) each, h and c (N, H)."""
    layer = rnn.LSTM(_D, _H, dtype=np.float64)
    layer.set_weights(W_x, W_h, b)
    h = layer.forward(x[:, None], h_prev, c_prev)[:, 0]
    gates = {k: v[:, 0] for k, v in layer.gates.items()}
    return gates, h, layer.cell_states[:, 0]


@task("Task 1 · the four LSTM gates", function="lstm_gates",
      hint="Compute the pre-activations (x times W_x, plus h_prev times W_h, plus b) once, shape "
           "(N, 4H), and cut them into four blocks of H columns in Keras's order: input gate, "
           "forget gate, candidate, output gate. The three gates squash with a sigmoid (0 to 1), "
           "the candidate with tanh (-1 to 1).")
def lstm_gates(fn):
    x, h_prev, W_x, W_h, b = _weights(0, 4)
    got = call(fn, x.copy(), h_prev.copy(), W_x.copy(), W_h.copy(), b.copy(),
               what="computing the gates for a batch of 2")
    what = "lstm_gates on a batch of 2 (D = 3, H = 4)"
    got = as_tuple(got, 4, _LSTM_BLOCKS, what)
    expected, _, _ = _lstm_step(x, h_prev, np.zeros((_N, _H)), W_x, W_h, b)
    z = x @ W_x + h_prev @ W_h + b
    for name, gate in zip(_LSTM_BLOCKS, got, strict=True):
        j = _LSTM_BLOCKS.index(name)
        mistakes = []
        for k, other in enumerate(_LSTM_BLOCKS):
            block = z[:, k * _H:(k + 1) * _H]
            for act, f in (("sigmoid", _sigmoid), ("tanh", np.tanh)):
                if (k, act) != (j, _ACTIVATION[name]):
                    mistakes.append((f(block), f"your {name} is {act} of block {k} (the "
                                     f"{other} block), but {name} is {_ACTIVATION[name]} of "
                                     f"block {j}. The blocks are ordered i, f, c (the "
                                     "candidate g), o."))
        mistakes.append((z[:, j * _H:(j + 1) * _H], f"{name} is the raw block; it still "
                                                    f"needs its {_ACTIVATION[name]}."))
        close_or_explain(gate, expected[name], what=f"the gate {name} from {what}",
                         mistakes=mistakes)
    return ["The same four gates as course_utils.rnn.LSTM.gates."]


@task("Task 2 · the cell state update", function="lstm_cell_update",
      hint="The new memory keeps a share f of the old one and adds the candidate g, let in by "
           "the input gate i. The output gate o then decides how much of tanh of the NEW "
           "memory becomes h.")
def lstm_cell_update(fn):
    x, h_prev, W_x, W_h, b = _weights(1, 4)
    c_prev = np.random.default_rng(12).standard_normal((_N, _H))
    gates, h_exp, c_exp = _lstm_step(x, h_prev, c_prev, W_x, W_h, b)
    i, f, g, o = (gates[k] for k in _LSTM_BLOCKS)
    got = call(fn, i.copy(), f.copy(), g.copy(), o.copy(), c_prev.copy(),
               what="updating the cell of a batch of 2")
    what = "lstm_cell_update(i, f, g, o, c_prev) with H = 4"
    h, c = as_tuple(got, 2, ("h", "c"), what)
    close_or_explain(c, c_exp, what=f"the new cell state c from {what}", mistakes=[
        (f * c_prev + g, "the input gate i is missing: it decides how much of the candidate "
                         "g is written."),
        (i * c_prev + f * g, "i and f swapped roles: the forget gate f scales the old memory, "
                             "the input gate i scales the candidate."),
        (f * c_prev + i * g + o, "only f and i touch the memory; o acts on the output."),
        (o * c_prev + i * g, "the old memory is scaled by the forget gate f, not by o."),
        (h_exp, "that is h. Return the pair in the order (h, c)."),
    ])
    close_or_explain(h, h_exp, what=f"the new hidden state h from {what}", mistakes=[
        (o * c_exp, "h = o * c: the memory goes through a tanh before the output gate."),
        (o * np.tanh(c_prev), "h was built from the old cell state c_prev; use the new c."),
        (np.tanh(o * c_exp), "the tanh belongs on the memory, before the output gate scales it."),
    ])
    return ["The same h and c as one step of course_utils.rnn.LSTM."]


@task("Task 3 · one GRU step", function="gru_step",
      hint="Two products, each (N, 3H): the input's (x times W_x, plus the first row of b) and "
           "the memory's (h_prev times W_h, plus the second row of b), each cut into blocks for "
           "z, r and the candidate. The gates add their two blocks and take a sigmoid; the "
           "candidate takes tanh of its input block plus r times its memory block. Then mix: z "
           "keeps the old state.")
def gru_step(fn):
    x, h_prev, W_x, W_h, b = _weights(2, 3)
    got = call(fn, x.copy(), h_prev.copy(), W_x.copy(), W_h.copy(), b.copy(),
               what="running one GRU step on a batch of 2")
    what = "gru_step on a batch of 2 (D = 3, H = 4, b of shape (2, 12))"
    layer = rnn.GRU(_D, _H, dtype=np.float64)
    layer.set_weights(W_x, W_h, b)
    expected = layer.forward(x[:, None], h_prev)[:, 0]
    H = _H

    def variant(*, reset_before=False, swap_z=False, recurrent_bias=True):
        a = x @ W_x + b[0]
        u = h_prev @ W_h + (b[1] if recurrent_bias else 0)
        z = _sigmoid(a[:, :H] + u[:, :H])
        r = _sigmoid(a[:, H:2 * H] + u[:, H:2 * H])
        if reset_before:
            g = np.tanh(a[:, 2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b[1, 2 * H:])
        else:
            g = np.tanh(a[:, 2 * H:] + r * u[:, 2 * H:])
        return (1 - z) * h_prev + z * g if swap_z else z * h_prev + (1 - z) * g

    close_or_explain(got, expected, what=what, mistakes=[
        (variant(swap_z=True), "z and 1 - z are swapped. In Keras's convention (and the "
                               "course's GRU) z is the share of the OLD state that is kept."),
        (variant(reset_before=True), "the reset gate was applied to h_prev before the product "
                                     "(the original 2014 GRU, Keras's reset_after=False). "
                                     "Keras's default and rnn.GRU apply r after it: r times "
                                     "(h_prev W_h + b[1]) in the candidate's block."),
        (variant(recurrent_bias=False), "the recurrent bias b[1] is missing: b has two rows, "
                                        "one for the input part and one for the recurrent part."),
    ])
    return ["The same h as course_utils.rnn.GRU (reset_after=True, as Keras)."]


_IDS = [[5, 6, 7], [8, 9, 10, 11, 12, 13], [], [4, 2, 9, 9, 3]]


def _check_padding(fn, padding, maxlen=5):
    lists = [list(ids) for ids in _IDS]
    got = call(fn, lists, maxlen, padding, what=f"padding {len(lists)} id lists, "
                                                f"padding={padding!r}")
    what = f"pad_and_mask({_IDS}, maxlen={maxlen}, padding={padding!r})"
    expect(lists == _IDS, f"For {what}: the id lists passed in were changed; leave them as "
                          "they are.")
    X, mask = as_tuple(got, 2, ("X", "mask"), what)
    expected = S.pad(_IDS, maxlen, padding=padding)
    other = "post" if padding == "pre" else "pre"
    X_arr = expect_shape(X, expected.shape, what=f"X from {what}")
    expect(np.issubdtype(np.asarray(X).dtype, np.integer),
           f"For X from {what}: expected integer ids (an Embedding looks them up by index), "
           f"got dtype {np.asarray(X).dtype}.")
    close_or_explain(X_arr, expected, what=f"X from {what}", mistakes=[
        (S.pad(_IDS, maxlen, padding=padding, truncating="post"),
         "the long list kept its FIRST words. Keep the last maxlen ids, like S.pad: reviews "
         "tend to end with their verdict."),
        (S.pad(_IDS, maxlen, padding=other),
         f"the zeros are on the wrong side: padding={padding!r} puts them "
         f"{'before' if padding == 'pre' else 'after'} the words."),
    ])
    M = expect_shape(mask, expected.shape, what=f"mask from {what}")
    expect(np.asarray(mask).dtype == bool,
           f"For mask from {what}: expected a boolean array (True = a real word), got dtype "
           f"{np.asarray(mask).dtype}.")
    close_or_explain(M, expected != S.PAD, what=f"mask from {what}", mistakes=[
        (expected == S.PAD, "the mask is True on the padding. True should mark the real words "
                            "(the steps a masked layer reads)."),
    ])


@task("Task 4 · padding with a mask", function="pad_and_mask",
      hint="Start from an (N, maxlen) array of zeros. Cut each list to its last maxlen ids, "
           "then write it at the right end (pre) or the left end (post) of its row. The mask "
           "is True exactly where a real id was written.")
def pad_and_mask(fn):
    for padding in ("pre", "post"):
        _check_padding(fn, padding)
    try:
        fn([[1, 2]], 3, "middle")
    except ValueError:
        pass
    except Exception as e:  # noqa: BLE001 - any other error is feedback too
        raise Mismatch(f"For padding='middle': expected a ValueError, got "
                       f"{type(e).__name__}: {e}") from None
    else:
        raise Mismatch("For padding='middle': expected a ValueError naming the allowed values "
                       "'pre' and 'post', but the function returned normally.")
    return ["Equal to course_utils.sentiment.pad, with the mask Keras's mask_zero=True makes."]


def _pool_probe():
    r = np.random.default_rng(3)
    hs = r.standard_normal((3, 5, 4))
    mask = np.array([[True] * 5, [False, False, False, True, True], [False] * 5])
    return hs, mask


@task("Task 5 · masked mean over time", function="masked_mean",
      hint="Multiply the states by the mask (give it a trailing axis so it broadcasts over H), "
           "sum over time, and divide by the number of real steps of each row. A row without "
           "real steps has nothing to average: return zeros there, not nan.")
def masked_mean(fn):
    hs, mask = _pool_probe()
    got = call(fn, hs.copy(), mask.copy(), what="pooling 3 sequences of 5 steps")
    what = "masked_mean(hs, mask) for rows with 5, 2 and 0 real steps"
    m = mask[..., None]
    total = (hs * m).sum(axis=1)
    count = m.sum(axis=1)
    expected = total / np.maximum(count, 1)
    arr = expect_shape(got, expected.shape, what=what)
    expect(np.all(np.isfinite(arr[2])),
           f"For {what}: the row with no real steps gave nan or inf (0 / 0). Return zeros "
           "for it: an empty review has no average.")
    close_or_explain(arr, expected, what=what, mistakes=[
        (hs.mean(axis=1), "that is the plain mean over all 5 steps: the padding steps were "
                          "counted as if they were words."),
        (total / hs.shape[1], "the sum is right, but it was divided by T = 5 instead of the "
                              "number of real steps in each row."),
    ])
    # the same states placed after the padding instead of before: the pool must not change
    flipped = np.stack([np.roll(h, -int((~row).sum()), axis=0) for h, row in zip(hs, mask,
                                                                              strict=True)])
    flipped_mask = np.stack([np.roll(row, -int((~row).sum())) for row in mask])
    got2 = call(fn, flipped, flipped_mask, what="pooling the post-padded version")
    expect_close(got2, expected, what="the same real steps with the padding after them")
    return ["Pre- or post-padded, the pool is the same: the mask makes the padding invisible."]


def _kept_by_lstm(b_f, steps, H=3):
    """dc_0 / dc_T measured by the course's LSTM with only a forget bias (no weights)."""
    layer = rnn.LSTM(2, H, dtype=np.float64)
    b = np.zeros(4 * H)
    b[H:2 * H] = b_f
    # W_x = W_h = 0: every gate is constant and the cell state is the only path back in time
    layer.set_weights(np.zeros((2, 4 * H)), np.zeros((H, 4 * H)), b)
    x = np.random.default_rng(0).standard_normal((1, steps, 2))
    layer.forward(x, c0=np.full((1, H), 0.5))
    dH = np.zeros((1, steps, H))
    dH[0, -1] = 1.0  # the loss reads only h_T
    layer.backward(dH)
    o, c_T = layer.gates["o"][0, -1], layer.cell_states[0, -1]
    dc_T = o * (1 - np.tanh(c_T) ** 2)
    return float(np.mean(layer.dc0[0] / dc_T))


@task("Task 6 · Can you do better? A forget bias for long memories",
      function="forget_bias_for",
      hint="Along the cell state each step multiplies the gradient by f, so T steps keep f to the"
           " power T of it. Solve for the f that keeps the share asked for, then undo the sigmoid"
           " (its inverse is the logit) to get the bias. Keeping all or nothing cannot be reached"
           " with a finite bias.")
def forget_bias_for(fn):
    for steps, keep in [(200, 0.5), (10, 0.9), (1, 0.5), (1, 0.2), (50, 0.01)]:
        got = call(fn, steps, keep, what=f"choosing the bias for steps={steps}, keep={keep}")
        what = f"forget_bias_for(steps={steps}, keep={keep})"
        f = keep ** (1 / steps)
        expected = np.log(f / (1 - f))
        value = expect_shape(got, (), what=what)
        if np.isfinite(value) and not np.isclose(value, expected, rtol=1e-6, atol=1e-9):
            kept = _kept_by_lstm(float(value), steps)
            why = (" You returned the gate value f itself; the bias is what goes INTO the "
                   "sigmoid." if np.isclose(value, f) else "")
            raise Mismatch(f"For {what}: with a forget bias of {float(value):.4g}, the course's "
                           f"LSTM passes {kept:.3g} of the gradient from c_{steps} back to c_0 "
                           f"(measured by its backward pass), not {keep}.{why}")
        close_or_explain(value, expected, what=what)
        expect_close(_kept_by_lstm(float(value), steps), keep, rtol=1e-6,
                     what=f"the share of the gradient the course's LSTM keeps over {steps} steps")
    for keep in (0.0, 1.0):
        try:
            out = fn(5, keep)
        except ValueError:
            continue
        except Exception as e:  # noqa: BLE001 - any other error is feedback too
            raise Mismatch(f"For keep={keep}: expected a ValueError, got {type(e).__name__}: "
                           f"{e}") from None
        raise Mismatch(f"For keep={keep}: expected a ValueError (keep must be strictly "
                       f"between 0 and 1: it would need f = {keep:g} exactly, an infinite "
                       f"bias), got {out!r}.")
    default = _sigmoid(1.0) ** 200
    return [f"Keras's default forget bias of 1 keeps only {default:.0e} of it over 200 steps."]


_LSTM_GRADS = ("dx", "dh_prev", "dc_prev", "dW_x", "dW_h", "db")


def _lstm_backward_truth(arrays, dh, dc):
    """Central-difference gradients of sum(h * dh) + sum(c * dc) for every input of a step."""
    from course_utils import gradcheck

    def loss(_):
        _, h, c = _lstm_step(*(arrays[k] for k in ("x", "h_prev", "c_prev", "W_x", "W_h", "b")))
        return np.sum(h * dh) + np.sum(c * dc)

    return {k: gradcheck.numerical_gradient(loss, arrays[k])
            for k in ("x", "h_prev", "c_prev", "W_x", "W_h", "b")}


@task("Task 7 · the LSTM step's backward pass", function="lstm_step_backward",
      hint="Go backwards through the output first (h is the output gate times the squashed "
           "cell state): the cell state receives gradient from "
           "two places, the dc handed in and the path through h. From that total, each gate's "
           "share follows from the cell update of Task 2; pass each through its own activation's "
           "derivative, stack the four blocks in the order i, f, c, o, and treat the result "
           "like the pre-activation gradient of a dense layer.")
def lstm_step_backward(fn):
    x, h_prev, W_x, W_h, b = _weights(21, 4)
    c_prev = 0.7 * np.random.default_rng(22).standard_normal((_N, _H))
    arrays = {"x": x, "h_prev": h_prev, "c_prev": c_prev, "W_x": W_x, "W_h": W_h, "b": b}
    r = np.random.default_rng(23)
    dh, dc = r.standard_normal((_N, _H)), r.standard_normal((_N, _H))
    what = "lstm_step_backward(dh, dc, x, h_prev, c_prev, W_x, W_h, b) for a batch of 2"
    got = call(fn, dh.copy(), dc.copy(), *(v.copy() for v in arrays.values()),
               what="backpropagating dh and dc through one LSTM step")
    got = as_tuple(got, 6, _LSTM_GRADS, what)
    truth = _lstm_backward_truth(arrays, dh, dc)
    got = [expect_shape(g, arrays[k].shape, what=f"{name} (shaped like {k})")
           for g, name, k in zip(got, _LSTM_GRADS, truth, strict=True)]
    bad = gradients_off(got, _LSTM_GRADS, truth.values())
    if bad:
        listed = listed_errors(bad)
        message = (f"For {what}: {len(bad)} of 6 gradients disagree with the numerical gradient "
                   f"(central differences) of sum(h * dh) + sum(c * dc): {listed}.")
        gates, _, c = _lstm_step(x, h_prev, c_prev, W_x, W_h, b)
        if np.allclose(got[2], dc * gates["f"]):
            message += ("\nIt looks like the cell state only received the dc handed in: h = "
                        "o * tanh(c) sends gradient to c too, and both must be added first.")
        raise Mismatch(message)
    return ["All six gradients agree with central differences (relative error < 1e-6)."]
