"""Checks for exercises 06: a character language model's vocabulary, batches, loss and sampling.

The expected answers come from ``course_utils.charrnn`` (``CharVocab``, ``StreamBatches``,
``softmax_cross_entropy``) or, for the sampling distributions, from a short independent
computation with the same rules as ``charrnn.sample``.
"""

from __future__ import annotations

import numpy as np

from course_utils import charrnn

from . import Mismatch, call, expect, expect_close, expect_shape, task

# ---- helpers ------------------------------------------------------------------------------------


def _softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def _temperature_probs(logits, temperature, top_k=None):
    """softmax(logits / T), restricted to the top_k largest logits (ties kept, as in sample)."""
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None and top_k < z.size:
        cut = np.sort(z)[-top_k]
        z = np.where(z >= cut, z, -np.inf)
    return _softmax(z)


def _top_p_probs(logits, p):
    """Nucleus filtering: the most likely characters until their total reaches p, renormalised."""
    probs = _softmax(logits)
    order = np.argsort(-probs, kind="stable")
    total = np.cumsum(probs[order])
    n_keep = min(int(np.searchsorted(total, p)) + 1, probs.size)
    out = np.zeros_like(probs)
    out[order[:n_keep]] = probs[order[:n_keep]]
    return out / out.sum()


def _int_ids(got, what):
    arr = np.asarray(got) if got is not None else None
    if arr is None:
        raise Mismatch(f"For {what}: got None. Did you forget `return`?")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise Mismatch(f"For {what}: ids must be integers (they index rows of a weight matrix), "
                       f"got dtype {arr.dtype}.")
    return arr


def _pair(got, what, names):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch(f"For {what}: expected a pair {names}, got {type(got).__name__} "
                       f"{got!r:.60}.")
    return got


def _one_id(got, what, V):
    if isinstance(got, np.ndarray) and got.shape == () and np.issubdtype(got.dtype, np.integer):
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        shape = f" of shape {got.shape}" if isinstance(got, np.ndarray) else ""
        raise Mismatch(f"For {what}: expected one integer id, got {type(got).__name__}"
                       f"{shape} {got!r:.40}.")
    if not 0 <= got < V:
        raise Mismatch(f"For {what}: expected an id in [0, {V}), got {got}.")
    return int(got)


# ---- tasks --------------------------------------------------------------------------------------


@task("Task 1 · characters to ids", function="encode",
      hint="Build a dict from each character of chars to its position, then look every character "
           "of the text up in it. Check for characters missing from the dict before you look them"
           " up, and raise ValueError with a message that names them.")
def encode(fn):
    for text, source in [("to be or not to be", "to be or not to be"),
                         ("low", "hello world"), ("", "abc")]:
        vocab = charrnn.CharVocab(source)
        what = f"encode({text!r}, chars={''.join(vocab.chars)!r})"
        got = _int_ids(call(fn, text, list(vocab.chars), what=f"computing {what}"), what)
        expect_close(got, vocab.encode(text), what=what)
        expect(vocab.decode(got.astype(np.int64)) == text,
               f"For {what}: decoding your ids does not give the text back.")
    chars = list(charrnn.CharVocab("the cat").chars)
    what = f"encode('cat!', chars={''.join(chars)!r}) ('!' is not in the vocabulary)"
    try:
        got = fn("cat!", chars)
    except ValueError as e:
        expect("!" in str(e),
               f"For {what}: your ValueError says {str(e)!r}; name the unknown character in "
               "it, so that whoever reads it knows what to fix.")
    except Exception as e:  # noqa: BLE001 - any other error is the wrong kind of error
        raise Mismatch(f"For {what}: expected a ValueError naming the character, got "
                       f"{type(e).__name__}: {e}.") from None
    else:
        raise Mismatch(f"For {what}: expected a ValueError, but it returned {got!r:.60}. "
                       "A character the model has never seen has no id.")
    return ["Decoding your ids gives the text back.",
            "An unknown character gets a ValueError that names it."]


def _check_streams(fn, ids, B, T, label):
    expected = list(charrnn.StreamBatches(ids, B, T))
    what = f"stream_batches({label}, batch_size={B}, seq_len={T})"
    got = call(fn, ids, B, T, what=f"computing {what}")
    if got is None:
        raise Mismatch(f"For {what}: got None. Did you forget `return`?")
    try:
        got = list(got)
    except TypeError:
        raise Mismatch(f"For {what}: expected a list of (x, y) pairs, got "
                       f"{type(got).__name__}.") from None
    S = (len(ids) - 1) // B
    expect(len(got) == len(expected),
           f"For {what}: expected {len(expected)} batches, got {len(got)}. Each of the {B} "
           f"streams has S = (L - 1) // B = {S} characters, which hold {S // T} whole windows "
           f"of {T}.")
    pairs = [_pair(p, f"batch {k} of {what}", "(x, y)") for k, p in enumerate(got)]
    for k, ((x, y), (ex, ey)) in enumerate(zip(pairs, expected, strict=True)):
        x = expect_shape(x, (B, T), what=f"x of batch {k} of {what}")
        y = expect_shape(y, (B, T), what=f"y of batch {k} of {what}")
        if k == 0:
            expect_close(x[:, 0], ex[:, 0],
                         what=f"the first column of batch 0 of {what} (stream b starts at "
                              f"ids[b * S] with S = {S})")
        stops = [b for b in range(B) if k > 0 and x[b, 0] != ex[b, 0]]
        if stops:
            b = stops[0]
            ended = float(np.asarray(pairs[k - 1][0], dtype=float)[b, -1])
            raise Mismatch(f"For {what}: row {b} of batch {k} should continue row {b} of batch "
                           f"{k - 1}, which ended with {ended:g}: expected it to start with "
                           f"{ex[b, 0]:g}, it starts with {x[b, 0]:g}.")
        expect_close(x, ex, what=f"x of batch {k} of {what}")
        expect_close(y, ey, what=f"y of batch {k} of {what} (the character after each x)")


@task("Task 2 · parallel streams", function="stream_batches",
      hint="Each of the B streams gets S ids, where S is the number of ids minus one, divided by "
           "B and rounded down: cut the first B times S ids into a (B, S) array, one stream per "
           "row. The targets are the same cut of the ids shifted by one. Batch k is the k-th "
           "block of T columns of both arrays; stop before a window would run past the end.")
def stream_batches(fn):
    _check_streams(fn, np.arange(24), 2, 4, "np.arange(24)")
    rng = np.random.default_rng(6)
    _check_streams(fn, rng.integers(0, 30, 63), 3, 5, "63 random ids")
    return ["Row b of batch k + 1 continues row b of batch k: the hidden state can carry over."]


@task("Task 3 · stable softmax cross-entropy", function="softmax_cross_entropy",
      hint="Subtract each row's maximum from its logits before exponentiating (the softmax does "
           "not change). For the loss, take minus the target's shifted logit plus the log of the "
           "sum of the exponentials of the shifted row, instead of the log of a probability: a "
           "probability can underflow to 0. The gradient of the mean loss is the softmax minus "
           "the one-hot target, divided by M.")
def softmax_cross_entropy(fn):
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (4, 6))
    targets = np.array([1, 0, 5, 3])
    huge = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0], [-1000.0, 1000.0, 0.0]])
    huge_targets = np.array([0, 1, 0])
    for z, y, label in [(logits, targets, "4 rows of random logits"),
                        (huge, huge_targets, "logits of +-1000 (a very confident model)")]:
        M = z.shape[0]
        what = f"softmax_cross_entropy on {label}"
        got = _pair(call(fn, z.copy(), y.copy(), what=f"computing {what}"), what,
                    "(loss, dlogits)")
        loss, dlogits = got
        exp_loss, exp_grad = charrnn.softmax_cross_entropy(z, y)
        loss_arr = expect_shape(loss, (), what=f"the loss of {what} (one number, the mean)")
        if not np.isfinite(loss_arr):
            raise Mismatch(f"For {what}: your loss is {float(loss_arr)}; expected "
                           f"{exp_loss:.6g}. exp(1000) overflows, and log(p) of a p that "
                           "underflowed to 0 is -inf: never exponentiate big numbers, never "
                           "take the log of a probability.")
        if np.isclose(float(loss_arr), exp_loss * M, rtol=1e-6):
            raise Mismatch(f"For {what}: your loss is {float(loss_arr):.6g}, {M} times the "
                           f"expected {exp_loss:.6g}: return the mean over the {M} rows, "
                           "not the sum.")
        expect_close(loss_arr, exp_loss, what=f"the loss of {what} (mean nats per row)")
        grad = expect_shape(dlogits, z.shape, what=f"dlogits of {what}")
        if np.allclose(grad, exp_grad * M, atol=1e-9):
            raise Mismatch(f"For dlogits of {what}: your gradient is M = {M} times too large; "
                           "the loss is a mean over the rows.")
        if np.allclose(grad, -exp_grad, atol=1e-9):
            raise Mismatch(f"For dlogits of {what}: your gradient has the wrong sign. Raising "
                           "the target's logit should lower the loss.")
        expect_close(grad, exp_grad, what=f"dlogits of {what}", atol=1e-9)
    return ["Finite and exact even for logits of +-1000.",
            "The gradient is the course's softmax_cross_entropy gradient."]


@task("Task 4 · temperature and top-k", function="temperature_probs",
      hint="Divide the logits by the temperature, then take a stable softmax. For top-k, find the"
           " k-th largest scaled logit and give every smaller one minus infinity before the "
           "softmax: its exponential is exactly 0, and the rest renormalise by themselves.")
def temperature_probs(fn):
    logits = np.array([2.0, 1.0, 0.5, -1.0, 0.0, 1.5])
    for T, k in [(1.0, None), (0.5, None), (2.0, None), (0.8, 3), (1.0, 1)]:
        what = f"temperature_probs({logits.tolist()}, temperature={T}, top_k={k})"
        got = call(fn, logits.copy(), T, top_k=k, what=f"computing {what}")
        got = expect_shape(got, logits.shape, what=what)
        expected = _temperature_probs(logits, T, k)
        if T != 1.0 and np.allclose(got, _softmax(logits * T), atol=1e-6):
            raise Mismatch(f"For {what}: you multiplied the logits by T. Divide: T < 1 must "
                           "make the distribution sharper, T > 1 flatter.")
        if k is not None:
            kept = int(np.count_nonzero(got))
            expect(kept == k, f"For {what}: expected exactly {k} non-zero probabilities "
                              f"(the top {k}), got {kept}.")
            expect(np.isclose(got.sum(), 1.0), f"For {what}: the probabilities sum to "
                                               f"{got.sum():.6g}; renormalise what is kept.")
        expect_close(got, expected, what=what, atol=1e-9)
    big = np.array([1000.0, 998.0, 0.0])
    what = f"temperature_probs({big.tolist()}, temperature=0.1)"
    got = expect_shape(call(fn, big, 0.1, what=f"computing {what}"), big.shape, what=what)
    expect_close(got, _temperature_probs(big, 0.1), what=what + " (logits / T reach 10,000)")
    return ["T < 1 sharpens, T > 1 flattens; top-k gives the rest exactly 0."]


@task("Task 5 · sampling with temperature", function="sample_with_temperature",
      hint="Compute the probabilities with your temperature_probs, then let the generator you "
           "were given pick one id with exactly those probabilities (its choice method accepts "
           "them). Return a plain int, and use no other source of randomness.")
def sample_with_temperature(fn):
    logits = np.array([2.0, 1.0, 0.5, -1.0, 0.0])
    V = logits.size
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(3)
        runs.append([_one_id(call(fn, logits.copy(), 1.0, rng, what="drawing one character"),
                             "sample_with_temperature(logits, 1.0, rng)", V)
                     for _ in range(40)])
    first, again = runs
    expect(first == again, "Two runs with generators seeded alike drew different characters "
                           f"({first[:8]}... and {again[:8]}...): draw only from the `rng` "
                           "argument, so that a seed makes the text reproducible.")
    N, T = 6000, 0.7
    rng = np.random.default_rng(11)
    draws = [call(fn, logits.copy(), T, rng, what=f"drawing character {i + 1} of {N}")
             for i in range(N)]
    draws = [_one_id(d, f"sample_with_temperature(logits, {T}, rng)", V) for d in draws]
    freq = np.bincount(draws, minlength=V) / N
    p = _temperature_probs(logits, T)
    tolerance = 4.5 * np.sqrt(p * (1 - p) / N) + 0.002
    bad = np.flatnonzero(np.abs(freq - p) > tolerance)
    if bad.size:
        i = int(bad[0])
        detail = ""
        for name, q in [("temperature 1 (is T used?)", _temperature_probs(logits, 1.0)),
                        ("logits * T instead of logits / T", _softmax(logits * T))]:
            if np.all(np.abs(freq - q) <= 4.5 * np.sqrt(q * (1 - q) / N) + 0.002):
                detail = f" Your frequencies match {name}."
        raise Mismatch(f"For {N} draws of sample_with_temperature({logits.tolist()}, {T}, rng): "
                       f"character {i} came up in {freq[i]:.1%} of them; softmax(logits / T) "
                       f"gives it {p[i]:.1%}.{detail}")
    rng = np.random.default_rng(5)
    top = [_one_id(call(fn, logits.copy(), 1.5, rng, top_k=2, what="drawing with top_k=2"),
                   "sample_with_temperature(logits, 1.5, rng, top_k=2)", V) for _ in range(300)]
    outside = sorted(set(top) - {0, 1})
    expect(not outside, f"For sample_with_temperature({logits.tolist()}, 1.5, rng, top_k=2): "
                        f"drew character {outside[0] if outside else ''}, which is not among "
                        "the 2 most likely (0 and 1).")
    expect(set(top) == {0, 1}, "For top_k=2 at temperature 1.5: in 300 draws only character "
                               f"{top[0]} came up; both of the top 2 should.")
    return [f"{N} draws follow softmax(logits / T) within sampling noise; a seed reproduces them."]


@task("Task 6 · nucleus (top-p) filtering", function="top_p_probs",
      hint="Sort the softmax probabilities from largest to smallest and add them up as you go. "
           "Keep characters up to and including the one where the running total first reaches p, "
           "set the rest to 0, and renormalise. NumPy's argsort and cumulative sum help.")
def top_p_probs(fn):
    logits = np.array([1.0, 3.0, 0.2, 2.2, -0.5, 0.9])
    probs = _softmax(logits)
    for p in (0.6, 0.85, 0.9, 0.99, 0.01):
        what = f"top_p_probs({logits.tolist()}, p={p})"
        got = expect_shape(call(fn, logits.copy(), p, what=f"computing {what}"), logits.shape,
                           what=what)
        expected = _top_p_probs(logits, p)
        if not np.all(np.isfinite(got)):
            raise Mismatch(f"For {what}: your result contains nan or inf. Is the kept set "
                           "empty? The most likely character is always kept.")
        kept, want = int(np.count_nonzero(got)), int(np.count_nonzero(expected))
        expect(kept == want,
               f"For {what}: expected the {want} most likely characters kept (their "
               f"probabilities add up to {np.sort(probs)[::-1][:want].sum():.3f}, the first "
               f"total >= {p}), got {kept} non-zero.")
        expect_close(got, expected, what=what, atol=1e-9)
    return ["The nucleus grows with p: 1 character for a tiny p, all 6 for p = 0.99."]
