"""Exercise checks for lesson 01: wrong answers get specific, helpful feedback."""

import math

import numpy as np

from course_utils.checks import lesson01 as check


def test_bag_of_words_that_counts_presence_only():
    def presence(tokens, vocab):
        return np.array([float(w in tokens) for w in vocab])

    fb = check.bag_of_words(presence)
    assert fb.status == "wrong" and "expected 2, got 1" in fb.message


def test_count_ngrams_off_by_one_window():
    def short(tokens, n):
        return {tuple(tokens[i:i + n]): 1 for i in range(len(tokens) - n)}

    fb = check.count_ngrams(short)
    assert fb.status == "wrong"
    assert "is missing" in fb.message or "count of" in fb.message


def test_count_ngrams_with_list_keys_is_told_to_use_tuples():
    fb = check.count_ngrams(lambda tokens, n: {" ".join(tokens[:n]): 1})
    assert "keys must be tuples" in fb.message


def test_bigram_probability_dividing_by_all_tokens():
    def wrong(tokens, w1, w2):
        return sum(1 for a, b in zip(tokens, tokens[1:], strict=False) if (a, b) == (w1, w2)) / len(tokens)

    fb = check.bigram_probability(wrong)
    assert fb.status == "wrong" and "P('cat' | 'the')" in fb.message


def test_bigram_probability_dividing_by_zero_is_an_error_with_context():
    def crashes(tokens, w1, w2):
        pairs = list(zip(tokens, tokens[1:], strict=False))
        return pairs.count((w1, w2)) / sum(1 for a, _ in pairs if a == w1)

    fb = check.bigram_probability(crashes)
    assert fb.status == "error" and "ZeroDivisionError" in fb.message
    assert "While computing P('the' | 'ran')" in fb.message


def test_perplexity_without_the_minus_sign():
    fb = check.perplexity(lambda probs: math.exp(sum(map(math.log, probs)) / len(probs)))
    assert fb.status == "wrong" and "expected 4, got 0.25" in fb.message


def test_add_k_that_forgets_the_vocabulary_in_the_denominator():
    def wrong(tokens, w1, w2, k, vocab_size):
        pairs = list(zip(tokens, tokens[1:], strict=False))
        starts = sum(1 for a, _ in pairs if a == w1)
        return (pairs.count((w1, w2)) + k) / (starts + k)

    fb = check.add_k_probability(wrong)
    assert fb.status == "wrong" and "vocab_size=" in fb.message
