"""Checks for exercises 01: sequences, bags of words and n-gram probabilities."""

from __future__ import annotations

import math
from collections import Counter

from . import Mismatch, call, expect, expect_close, expect_equal, task

_TOKENS = "the cat sat on the mat and the cat ran".split()


def _ngrams(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _as_counts(got, what):
    if not isinstance(got, dict):
        raise Mismatch(f"For {what}: expected a dict (or Counter) of tuple -> count, "
                       f"got {type(got).__name__}.")
    bad = [k for k in got if not isinstance(k, tuple)]
    if bad:
        raise Mismatch(f"For {what}: keys must be tuples of words, like ('the', 'cat'); "
                       f"found the key {bad[0]!r}.")
    return {k: v for k, v in got.items() if v}


@task("Task 1 · bag of words", function="bag_of_words",
      hint="Start from a vector of zeros with one entry per vocabulary word, then add 1 at "
           "the word's position for every token. A dict from word to index helps.")
def bag_of_words(fn):
    vocab = ["bit", "dog", "man", "the"]
    tokens = "the dog bit the man".split()
    got = call(fn, tokens, vocab, what="counting 'the dog bit the man'")
    expect_close(got, [1, 1, 1, 2], what=f"bag_of_words({tokens}, {vocab})")
    swapped = call(fn, "the man bit the dog".split(), vocab, what="counting the swapped sentence")
    expect_close(swapped, got, what="'the man bit the dog' (a bag of words cannot see order)")
    empty = call(fn, [], vocab, what="counting an empty review")
    expect_close(empty, [0, 0, 0, 0], what="an empty list of tokens")
    return ["'the dog bit the man' and 'the man bit the dog' give the same vector."]


@task("Task 2 · counting n-grams", function="count_ngrams",
      hint="An n-gram is a window of n consecutive tokens; a list of length L has L - n + 1 of "
           "them. Slide the window one token at a time, turn each window into a tuple (a list "
           "cannot be a dict key), and count how often each one occurs.")
def count_ngrams(fn):
    for n in (1, 2, 3):
        got = call(fn, list(_TOKENS), n, what=f"counting {n}-grams")
        what = f"count_ngrams(tokens, n={n}) with tokens = {' '.join(_TOKENS)!r}"
        got = _as_counts(got, what)
        expected = _ngrams(_TOKENS, n)
        missing = [k for k in expected if k not in got]
        expect(not missing, f"For {what}: the {n}-gram {missing[0] if missing else ''} is missing.")
        extra = [k for k in got if k not in expected]
        expect(not extra, f"For {what}: {extra[0] if extra else ''} is not a {n}-gram of the "
                          f"text (check the length of each window).")
        for k, c in expected.items():
            expect_equal(got[k], c, what=f"the count of {k} in {what}")
    short = _as_counts(call(fn, ["hello"], 2, what="counting bigrams of a one-word text"),
                       "count_ngrams(['hello'], n=2)")
    expect_equal(len(short), 0, what="the number of bigrams in a one-word text")
    return ["Also right for a text shorter than n."]


@task("Task 3 · bigram probability", function="bigram_probability",
      hint="The probability of w2 after w1 is the number of times w1 is directly followed by w2, "
           "divided by the number of bigrams that start with w1. If w1 never starts a bigram, the"
           " answer is 0.0.")
def bigram_probability(fn):
    cases = [("the", "cat", 2 / 3), ("the", "mat", 1 / 3), ("cat", "sat", 1 / 2),
             ("cat", "the", 0.0), ("ran", "the", 0.0)]
    for w1, w2, p in cases:
        got = call(fn, list(_TOKENS), w1, w2, what=f"computing P({w2!r} | {w1!r})")
        expect_close(got, p, what=f"P({w2!r} | {w1!r}) in {' '.join(_TOKENS)!r}")
    # The probabilities after one history must add up to 1.
    total = sum(call(fn, list(_TOKENS), "the", w, what="summing P(w | 'the')")
                for w in set(_TOKENS))
    expect_close(total, 1.0, what="the sum of P(w | 'the') over every word w")
    return ["The probabilities after 'the' add up to 1."]


@task("Task 4 · perplexity", function="perplexity",
      hint="Average the natural logarithms of the probabilities, negate that mean, and "
           "exponentiate the result. A probability of 0 has no logarithm: a model that called a "
           "word impossible and then saw it is infinitely surprised, so answer infinity (the math "
           "module has it) as soon as one probability is 0, before taking any logarithm.")
def perplexity(fn):
    expect_close(call(fn, [0.25] * 8, what="the perplexity of eight probabilities of 1/4"),
                 4.0, what="perplexity([0.25] * 8): a model as unsure as a fair 4-sided die")
    probs = [0.5, 0.1, 0.8, 0.05]
    expected = math.exp(-sum(math.log(p) for p in probs) / len(probs))
    expect_close(call(fn, probs, what=f"computing perplexity({probs})"), expected,
                 what=f"perplexity({probs})")
    one = call(fn, [1.0, 1.0], what="the perplexity of a certain model")
    expect_close(one, 1.0, what="perplexity([1.0, 1.0]): a model that is never surprised")
    zero = [0.5, 0.0, 0.25]
    got = call(fn, list(zero), what=f"computing perplexity({zero}), where one word got "
                                    f"probability 0")
    what = f"perplexity({zero})"
    try:
        value = float(got)
    except (TypeError, ValueError):
        raise Mismatch(f"For {what}: expected a number (infinity), got {got!r:.60}.") from None
    if value == math.inf:
        return ["A model that always gives 1/V has perplexity V; one word it called impossible "
                "makes the perplexity infinite."]
    skipped = math.exp(-(math.log(0.5) + math.log(0.25)) / 2)
    if math.isclose(value, skipped, rel_tol=1e-6):
        raise Mismatch(f"For {what}: expected inf, got {value:.4g}: the perplexity of the two "
                       f"other words alone. Leaving the zero out hides the worst prediction; "
                       f"a word the model called impossible makes it infinitely surprised.")
    raise Mismatch(f"For {what}: expected inf (a word the model called impossible occurred), "
                   f"got {value!r}.")


def _add_k_perplexity(train, heldout, k, vocab_size):
    """Reference: perplexity of the add-k bigram model of ``train`` on ``heldout``'s bigrams."""
    pairs, starts = _ngrams(train, 2), Counter(train[:-1])
    logs = [math.log((pairs[(a, b)] + k) / (starts[a] + k * vocab_size))
            for a, b in zip(heldout, heldout[1:], strict=False)]
    return math.exp(-sum(logs) / len(logs))


def _add_k_slips(train, heldout, k, vocab_size):
    """Perplexities that common slips produce, each with what went wrong (in words)."""
    pairs, starts, words = _ngrams(train, 2), Counter(train[:-1]), Counter(train)
    held = list(zip(heldout, heldout[1:], strict=False))

    def ppl(prob, n=None):
        return math.exp(-sum(math.log(prob(a, b)) for a, b in held) / (n or len(held)))

    return {
        "the denominator is missing k times vocab_size (every one of the vocab_size possible "
        "next words gets k extra counts, so the history gets k * vocab_size)":
            ppl(lambda a, b: (pairs[(a, b)] + k) / (starts[a] + k)),
        "the history count counts every occurrence of w1, also as the last word of the "
        "training text, where it starts no bigram":
            ppl(lambda a, b: (pairs[(a, b)] + k) / (words[a] + k * vocab_size)),
        "the mean is taken over len(heldout) words, but a text of N words has N - 1 bigrams":
            ppl(lambda a, b: (pairs[(a, b)] + k) / (starts[a] + k * vocab_size), len(heldout)),
    }


@task("Task 5 · add-k smoothing, tuned on held-out text", function="add_k_perplexity",
      hint="Count the training bigrams once, and separately how many bigrams start with each "
           "word (every token but the last starts one). Then walk over the held-out text two "
           "words at a time, turn each pair into its add-k probability (a history never seen in "
           "training simply has count 0) and hand the list of probabilities to your perplexity "
           "from Task 4.")
def add_k_perplexity(fn):
    train = list(_TOKENS)
    probes = [("the cat sat on the mat".split(), 1.0, 7),
              ("the cat ran on the mat".split(), 1.0, 7),     # 'ran' starts no training bigram
              ("the cat ran on the mat".split(), 0.1, 7),
              ("a dog sat on the cat".split(), 0.01, 9)]      # unseen words, vocab_size 9
    for heldout, k, V in probes:
        what = (f"add_k_perplexity(train, {' '.join(heldout)!r}, k={k:g}, vocab_size={V}) with "
                f"train = {' '.join(train)!r}")
        got = call(fn, list(train), list(heldout), k, V,
                   what=f"the add-{k:g} perplexity of {' '.join(heldout)!r}")
        expected = _add_k_perplexity(train, heldout, k, V)
        try:
            value = float(got)
        except (TypeError, ValueError):
            raise Mismatch(f"For {what}: expected a number, got {got!r:.60}.") from None
        if math.isclose(value, expected, rel_tol=1e-6):
            continue
        for slip, wrong in _add_k_slips(train, heldout, k, V).items():
            expect(not math.isclose(value, wrong, rel_tol=1e-9),
                   f"For {what}: expected {expected:.4f}, got {value:.4f}, which is what you "
                   f"get when {slip}.")
        expect_close(value, expected, what=what, rtol=1e-6)
    return ["A history never seen in training gets 1/vocab_size for every next word, as it "
            "should."]
