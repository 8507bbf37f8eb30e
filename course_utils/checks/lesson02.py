"""Checks for exercises 02: embedding lookups, skip-gram pairs, the negative-sampling loss and
its gradient, cosine neighbours and analogies.

The references are the course's own code (``course_utils.embeddings``) or an independent
computation written here (central differences for the gradient, a plain double loop for the
pairs), never the student's other answers.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from course_utils import embeddings as E

from . import Mismatch, call, expect, expect_close, expect_shape, task

# ---- shared helpers ---------------------------------------------------------------------------


def _expect_value_error(fn, args: tuple, *, what: str, why: str) -> None:
    """``fn(*args)`` must raise ValueError; anything else is a Mismatch that says ``why``."""
    try:
        got = fn(*args)
    except ValueError:
        return
    except Exception as e:  # noqa: BLE001 - any other error type is the wrong answer here
        raise Mismatch(f"For {what}: expected a ValueError, got {type(e).__name__}: {e}. "
                       f"{why}") from None
    raise Mismatch(f"For {what}: expected a ValueError, but got a result of type "
                   f"{type(got).__name__} back. {why}")


def _sgns_loss(v: np.ndarray, U: np.ndarray) -> float:
    """The course's loss for one center vector ``v (D,)`` and ``U (1 + K, D)``."""
    k = U.shape[0] - 1
    loss, _, _ = E.sgns_loss_and_grads(v[None, :], U, np.array([0]), np.array([0]),
                                       np.arange(1, k + 1)[None, :])
    return loss


def _numerical_gradient(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``x`` (any shape); ``x`` is restored."""
    grad = np.zeros_like(x)
    for pos in np.ndindex(x.shape):
        old = x[pos]
        x[pos] = old + eps
        up = f()
        x[pos] = old - eps
        down = f()
        x[pos] = old
        grad[pos] = (up - down) / (2 * eps)
    return grad


def _unit_rows(W: np.ndarray) -> np.ndarray:
    return W / np.linalg.norm(W, axis=1, keepdims=True)


# ---- Task 1 -----------------------------------------------------------------------------------


@task("Task 1 · embedding lookup", function="embedding_lookup",
      hint="Indexing a NumPy array with an integer array picks whole rows, in the order given, "
           "and an index array of shape (B, T) gives a result of shape (B, T, D). Check yourself "
           "that every id lies between 0 and V - 1 before indexing: NumPy reads a negative index "
           "as counting from the end.")
def embedding_lookup(fn):
    rng = np.random.default_rng(20)
    V, D = 6, 3
    W = rng.normal(size=(V, D))
    ids = np.array([4, 0, 4, 2])
    got = call(fn, W, ids, what="looking up ids [4, 0, 4, 2] in a (6, 3) matrix")
    expect_close(got, E.one_hot(ids, V) @ W,
                 what="embedding_lookup(W, [4, 0, 4, 2]) compared with one_hot(ids, 6) @ W")
    batch = np.array([[1, 5, 5], [0, 3, 2]])
    got = call(fn, W, batch, what="looking up a (2, 3) batch of ids")
    expect_shape(got, (2, 3, D), what="a batch of 2 sentences of 3 ids each (ids of shape (2, 3))")
    expect_close(got, W[batch.ravel()].reshape(2, 3, D), what="the (2, 3) batch of ids")
    W_before = W.copy()
    call(fn, W, ids, what="looking up ids a second time")
    expect(np.array_equal(W, W_before),
           "embedding_lookup changed W while looking up rows: a lookup must only read it.")
    for bad, why in [
        (np.array([1, -1]), "NumPy reads W[-1] as the last row, so a negative id would "
                            "silently return another word's vector."),
        (np.array([2, V]), f"W has only {V} rows (ids 0 to {V - 1})."),
    ]:
        _expect_value_error(fn, (W, bad), what=f"ids {bad.tolist()} with a ({V}, {D}) matrix",
                            why=why)
    return ["It equals one_hot(ids, V) @ W without building a single one-hot row, works for a "
            "batch of sentences, and refuses ids outside [0, V)."]


# ---- Task 2 -----------------------------------------------------------------------------------


def _reference_pairs(ids, window: int) -> Counter:
    pairs = Counter()
    for i, center in enumerate(ids):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                pairs[(int(center), int(ids[j]))] += 1
    return pairs


def _as_pairs(got, what: str) -> Counter:
    if got is None:
        raise Mismatch(f"For {what}: got None. Did you forget `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch(f"For {what}: expected two arrays (centers, contexts), got "
                       f"{type(got).__name__} {got!r:.80}.")
    centers, contexts = (np.asarray(a) for a in got)
    if centers.ndim != 1 or centers.shape != contexts.shape:
        raise Mismatch(f"For {what}: centers and contexts must be 1-D arrays of the same length, "
                       f"got shapes {centers.shape} and {contexts.shape}.")
    if centers.size and not (np.issubdtype(centers.dtype, np.integer)
                             and np.issubdtype(contexts.dtype, np.integer)):
        raise Mismatch(f"For {what}: expected integer word ids, got {centers.dtype} and "
                       f"{contexts.dtype}.")
    return Counter(zip(centers.tolist(), contexts.tolist(), strict=True))


@task("Task 2 · skip-gram pairs", function="skipgram_pairs",
      hint="Visit every position i of the sentence; for each, visit the positions j within the "
           "window on either side that exist in the sentence, skip j equal to i, and record the "
           "pair (id at i, id at j). Compare positions, not ids: the same word can occur twice.")
def skipgram_pairs(fn):
    probes = [
        ([10, 11, 12, 13, 14], 2, "ids [10, 11, 12, 13, 14] with window=2"),
        ([10, 11, 12, 13, 14], 1, "ids [10, 11, 12, 13, 14] with window=1"),
        ([21, 22, 23], 5, "ids [21, 22, 23] with window=5 (wider than the sentence)"),
        ([7, 7, 3], 1, "ids [7, 7, 3] with window=1 (the word 7 twice in a row)"),
        ([42], 2, "a one-word sentence [42]"),
    ]
    for ids, window, what in probes:
        got = _as_pairs(call(fn, np.array(ids), window, what=f"pairing {what}"),
                        f"skipgram_pairs({what})")
        expected = _reference_pairs(ids, window)
        extra = sorted((got - expected).elements())
        missing = sorted((expected - got).elements())
        n_expected, n_got = sum(expected.values()), sum(got.values())
        head = f"For skipgram_pairs({what}): expected {n_expected} pairs, got {n_got}"
        positions = set(range(len(ids)))
        if extra and not positions & set(ids) and {w for p in got for w in p} <= positions:
            raise Mismatch(f"For skipgram_pairs({what}): got the pair {extra[0]}, made of "
                           f"positions, not word ids. Pair ids[i] with ids[j], not i with j.")
        self_pairs = [p for p in extra if p[0] == p[1]]
        expect(not self_pairs, f"{head}; the pair {self_pairs[0] if self_pairs else ''} pairs "
                               f"a position with itself. A center is never its own context.")
        same_word = [p for p in missing if p[0] == p[1]]
        expect(not same_word, f"{head}; the pair {same_word[0] if same_word else ''} is "
                              f"missing. The same word at two different positions is a real "
                              f"pair: compare positions, not ids.")
        expect(not missing, f"{head}; the pair {missing[0] if missing else ''} is missing.")
        expect(not extra, f"{head}; the pair {extra[0] if extra else ''} should not be there.")
    return ["5 words and window 2 give 14 pairs: the words near the ends have fewer "
            "neighbours."]


# ---- Task 3 -----------------------------------------------------------------------------------


@task("Task 3 · the negative-sampling loss", function="sgns_loss",
      hint="Compute one score per row of U: its dot product with v. The true context (row 0) adds"
           " minus the log of the sigmoid of its score; each negative adds minus the log of the "
           "sigmoid of minus its score. Sum them; the sigmoid of x is 1 over (1 plus e to the "
           "minus x).")
def sgns_loss(fn):
    rng = np.random.default_rng(21)
    for K, D in [(2, 4), (5, 3), (0, 2)]:
        v = rng.normal(0, 0.5, size=D)
        U = rng.normal(0, 0.5, size=(1 + K, D))
        what = f"the loss of one pair with K={K} negatives, D={D}"
        got = call(fn, v.copy(), U.copy(), what=f"computing {what}")
        expect_close(got, _sgns_loss(v, U), what=what)
    # A model that is right about everything should have a loss near 0, not near its maximum.
    v, U = np.array([3.0, 0.0]), np.array([[3.0, 0.0], [-3.0, 1.0], [-2.0, 0.0]])
    got = call(fn, v, U, what="computing the loss of a confident, correct model")
    expect_close(got, _sgns_loss(v, U),
                 what="a model that scores the true context +9 and the negatives -9 and -6 "
                      "(it is right, so the loss is small)")
    # Scores of +-800 overflow exp(); advice only, not required.
    v, U = np.array([10.0, 0.0]), np.array([[-80.0, 0.0], [80.0, 0.0]])
    with np.errstate(all="ignore"):
        try:
            big = float(fn(v, U))
        except Exception:  # noqa: BLE001 - advice only
            big = float("nan")
    if np.isfinite(big) and abs(big - 1600.0) < 1e-6:
        return ["It stays exact for scores of -800 and +800 (no overflow)."]
    return [f"For scores of -800 and +800 it returned {big} instead of 1600: exp(800) "
            "overflows. For a better loss, np.logaddexp(0, -s) computes -log(sigmoid(s)) "
            "without overflowing."]


# ---- Task 4 -----------------------------------------------------------------------------------


def _compare_gradient(got, expected, *, name: str, what: str) -> None:
    arr = expect_shape(got, expected.shape, what=f"{name} for {what}")
    if np.allclose(arr, expected, rtol=1e-5, atol=1e-7):
        return
    if np.allclose(arr, -expected, rtol=1e-5, atol=1e-7):
        raise Mismatch(f"For {name} for {what}: every entry has the wrong sign. That is the "
                       f"gradient of the negated loss (or of sigma(s) - y written as y - sigma(s)).")
    if name == "dU" and len(expected) > 1:
        if np.allclose(arr[0], expected[0], rtol=1e-5, atol=1e-7):
            raise Mismatch(f"For dU for {what}: row 0 (the true context) is right, but the "
                           f"rows of the negatives are not. A negative's label is 0.")
        if np.allclose(arr[1:], expected[1:], rtol=1e-5, atol=1e-7):
            raise Mismatch(f"For dU for {what}: the rows of the negatives are right, but row 0 "
                           f"(the true context) is not. The true context's label is 1.")
    expect_close(arr, expected, what=f"{name} for {what} (compared with central differences)",
                 rtol=1e-5, atol=1e-7)


@task("Task 4 · the gradient of the loss", function="sgns_grads",
      hint="Each score is the dot product of v with one row of U; its label is 1 for row 0 and 0 "
           "for the negatives. The loss changes with each score by the sigmoid of the score minus"
           " its label. That number passes back to v through the row of U, and to the row of U "
           "through v. dv has the shape of v, dU the shape of U.")
def sgns_grads(fn):
    rng = np.random.default_rng(22)
    for K, D in [(2, 4), (5, 3)]:
        v = rng.normal(0, 0.5, size=D)
        U = rng.normal(0, 0.5, size=(1 + K, D))
        what = f"one pair with K={K} negatives, D={D}"
        got = call(fn, v.copy(), U.copy(), what=f"computing the gradient of {what}")
        if got is None:
            raise Mismatch(f"For sgns_grads on {what}: got None. Did you forget `return`?")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch(f"For sgns_grads on {what}: expected two arrays (dv, dU), got "
                           f"{type(got).__name__} {got!r:.60}.")
        dv_num = _numerical_gradient(lambda v=v, U=U: _sgns_loss(v, U), v)
        dU_num = _numerical_gradient(lambda v=v, U=U: _sgns_loss(v, U), U)
        # dU first: its rows say which label went wrong.
        _compare_gradient(got[1], dU_num, name="dU", what=what)
        _compare_gradient(got[0], dv_num, name="dv", what=what)
    return ["It agrees with central differences of the loss to about 1e-7: the same check "
            "E.check_gradient runs in the lesson."]


# ---- Task 5 -----------------------------------------------------------------------------------


def _as_ranked(got, what: str) -> tuple[list[str], np.ndarray]:
    if got is None:
        raise Mismatch(f"For {what}: got None. Did you forget `return`?")
    try:
        names = [str(w) for w, _ in got]
        sims = np.array([float(s) for _, s in got])
    except (TypeError, ValueError):
        raise Mismatch(f"For {what}: expected a list of (word, similarity) pairs, got "
                       f"{got!r:.80}.") from None
    return names, sims


def _reference_neighbours(W, words, word, k):
    unit = _unit_rows(W)
    sims = unit @ unit[words.index(word)]
    order = [i for i in np.argsort(-sims, kind="stable") if words[i] != word][:k]
    return [words[i] for i in order], sims[order]


# Film is closest to movie in direction, but "long" is a much longer vector.
_FILM_WORDS = ["film", "movie", "long", "actor", "dull"]
_FILM_W = np.array([[1.0, 0.0], [0.9, 0.1], [3.0, 3.0], [0.2, 1.0], [-1.0, 0.5]])


@task("Task 5 · nearest neighbours by cosine similarity", function="cosine_neighbours",
      hint="Divide every row of W by its own length (keep the summed axis, so the division goes "
           "row by row); then one matrix-vector product gives the cosine with every word. Sort "
           "from the largest down, skip the word itself, and keep k.")
def cosine_neighbours(fn):
    rng = np.random.default_rng(23)
    W_rand = rng.normal(size=(12, 5)) * rng.uniform(0.3, 3.0, size=(12, 1))
    rand_words = [f"w{i}" for i in range(12)]
    probes = [(_FILM_W, _FILM_WORDS, "film", 3), (_FILM_W, _FILM_WORDS, "dull", 1),
              (W_rand, rand_words, "w3", 4), (W_rand, rand_words, "w0", 6)]
    for W, words, word, k in probes:
        what = f"cosine_neighbours(W, words, {word!r}, k={k})"
        got = call(fn, W.copy(), list(words), word, k, what=f"finding the neighbours of {word!r}")
        names, sims = _as_ranked(got, what)
        expected, expected_sims = _reference_neighbours(W, words, word, k)
        expect(word not in names, f"For {what}: the result contains {word!r} itself; a word "
                                  f"is not its own neighbour.")
        dots = W @ W[words.index(word)]
        by_dot = [words[i] for i in np.argsort(-dots, kind="stable") if words[i] != word][:k]
        expect(names != by_dot or by_dot == expected,
               f"For {what}: expected {expected}, got {names}: that is the order of the raw dot "
               f"products, where long vectors win. Cosine divides by both lengths.")
        expect(len(names) == k, f"For {what}: expected {k} neighbours, got {len(names)}.")
        expect(names == expected, f"For {what}: expected the words {expected} (most similar "
                                  f"first), got {names}.")
        expect_close(sims, expected_sims, what=f"the similarities returned by {what}")
    return ["Cosine ignores a vector's length, which in word2vec mostly reflects how often "
            "the word occurs."]


# ---- Task 6 -----------------------------------------------------------------------------------


def _reference_analogy(W, words, a, b, c):
    unit = _unit_rows(W)
    ia, ib, ic = (words.index(w) for w in (a, b, c))
    sims = unit @ (unit[ib] - unit[ia] + unit[ic])
    sims[[ia, ib, ic]] = -np.inf
    return words[int(np.argmax(sims))]


def _raw_analogy(W, words, a, b, c, exclude=True):
    ia, ib, ic = (words.index(w) for w in (a, b, c))
    target = W[ib] - W[ia] + W[ic]
    sims = _unit_rows(W) @ (target / np.linalg.norm(target))
    if exclude:
        sims[[ia, ib, ic]] = -np.inf
    return words[int(np.argmax(sims))]


# Axes: royal, male, adult. "man" is a long vector (a frequent word): unnormalised, it dominates.
_ROYAL_WORDS = ["king", "queen", "man", "woman", "prince", "princess", "boy", "girl"]
_ROYAL_W = np.array([
    [1.0, 1.0, 1.0], [1.0, -1.0, 1.0], [0.0, 4.0, 4.0], [0.0, -1.0, 1.0],
    [1.0, 1.0, -1.0], [1.0, -1.0, -1.0], [0.0, 1.0, -1.0], [0.0, -1.0, -1.0],
]) + np.random.default_rng(24).normal(0, 0.05, size=(8, 3))


@task("Task 6 · analogies with 3CosAdd", function="analogy",
      hint="Normalise every row of W to length 1 first. The question a : b :: c : ? asks for the "
           "word whose unit vector has the largest dot product with the unit vector of b, minus "
           "that of a, plus that of c. The three question words themselves are not allowed as "
           "answers.")
def analogy(fn):
    rng = np.random.default_rng(25)
    W_rand = rng.normal(size=(15, 6)) * rng.uniform(0.3, 3.0, size=(15, 1))
    rand_words = [f"w{i}" for i in range(15)]
    probes = [(_ROYAL_W, _ROYAL_WORDS, ("man", "king", "woman")),
              (_ROYAL_W, _ROYAL_WORDS, ("boy", "man", "girl")),
              (_ROYAL_W, _ROYAL_WORDS, ("queen", "princess", "king"))]
    probes += [(W_rand, rand_words, tuple(str(w) for w in rng.choice(rand_words, 3, replace=False)))
               for _ in range(4)]
    for W, words, (a, b, c) in probes:
        question = f"{a} : {b} :: {c} : ?"
        got = call(fn, W.copy(), list(words), a, b, c, what=f"answering {question}")
        expected = _reference_analogy(W, words, a, b, c)
        if isinstance(got, str) and got == expected:
            continue
        expect(isinstance(got, str), f"For {question}: expected a word (a str), got "
                                     f"{type(got).__name__} {got!r:.60}.")
        expect(got not in (a, b, c), f"For {question}: expected {expected!r}, got {got!r}, one "
                                     f"of the three question words. Leave those out.")
        expect(got != _raw_analogy(W, words, a, b, c),
               f"For {question}: expected {expected!r}, got {got!r}: that is the answer for "
               f"b - a + c without normalising the vectors first, where long (frequent) "
               f"words dominate.")
        raise Mismatch(f"For {question}: expected {expected!r}, got {got!r}.")
    return ["This is what gensim's most_similar(positive=[b, c], negative=[a]) computes."]

