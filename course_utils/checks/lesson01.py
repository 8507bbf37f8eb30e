"""Checks for exercises 01: sequences, bags of words and n-gram probabilities."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

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
           "exponentiate the result. The logarithm and the exponential of the math module (or of "
           "NumPy) are all you need.")
def perplexity(fn):
    expect_close(call(fn, [0.25] * 8, what="the perplexity of eight probabilities of 1/4"),
                 4.0, what="perplexity([0.25] * 8): a model as unsure as a fair 4-sided die")
    probs = [0.5, 0.1, 0.8, 0.05]
    expected = math.exp(-sum(math.log(p) for p in probs) / len(probs))
    expect_close(call(fn, probs, what=f"computing perplexity({probs})"), expected,
                 what=f"perplexity({probs})")
    one = call(fn, [1.0, 1.0], what="the perplexity of a certain model")
    expect_close(one, 1.0, what="perplexity([1.0, 1.0]): a model that is never surprised")
    return ["A model that always gives 1/V has perplexity V."]


@task("Task 5 · add-k smoothing", function="add_k_probability",
      hint="Add k to every bigram count, including the unseen ones; the denominator grows by "
           "k for each of the vocab_size possible next words.")
def add_k_probability(fn):
    V = len(set(_TOKENS))
    for w1, w2, k in [("the", "cat", 1.0), ("the", "ran", 1.0), ("cat", "mat", 0.5)]:
        c12 = _ngrams(_TOKENS, 2)[(w1, w2)]
        c1 = sum(c for (a, _), c in _ngrams(_TOKENS, 2).items() if a == w1)
        expected = (c12 + k) / (c1 + k * V)
        got = call(fn, list(_TOKENS), w1, w2, k, V,
                   what=f"computing the add-{k:g} probability P({w2!r} | {w1!r})")
        expect_close(got, expected, what=f"add-{k:g} P({w2!r} | {w1!r}) with vocab_size={V}")
    total = sum(call(fn, list(_TOKENS), "the", w, 1.0, V, what="summing P(w | 'the')")
                for w in set(_TOKENS))
    expect_close(total, 1.0, what="the sum of add-1 P(w | 'the') over the vocabulary")
    zero = call(fn, list(_TOKENS), "ran", "the", 1.0, V, what="P('the' | 'ran')")
    expect(np.isfinite(zero) and zero > 0,
           "For P('the' | 'ran') ('ran' is never followed by anything): expected a positive "
           f"probability (1/vocab_size), got {zero!r}.")
    return ["Unseen bigrams now get a small, non-zero probability."]
