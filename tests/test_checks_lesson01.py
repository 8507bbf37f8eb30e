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


def test_perplexity_that_crashes_on_a_zero_probability():
    fb = check.perplexity(lambda probs: math.exp(-sum(map(math.log, probs)) / len(probs)))
    assert fb.status == "error" and "ValueError" in fb.message
    assert "one word got probability 0" in fb.message


def test_perplexity_that_skips_the_zero():
    def skips(probs):
        kept = [p for p in probs if p > 0]
        return math.exp(-sum(map(math.log, kept)) / len(kept))

    fb = check.perplexity(skips)
    assert fb.status == "wrong" and "expected inf" in fb.message
    assert "the two other words alone" in fb.message


def test_perplexity_hint_waits_for_the_second_attempt_and_never_shows_code():
    from course_utils import checks

    checks.reset_attempts()
    crash = lambda probs: math.exp(-sum(map(math.log, probs)) / len(probs))  # noqa: E731
    first, second = check.perplexity(crash), check.perplexity(crash)
    assert "Hint:" not in first.message and "Hint:" in second.message
    assert "infinity" in second.message
    for code in ("math.inf", "float(", "return", "==", "log("):
        assert code not in second.message


def _add_k(train, heldout, k, V, *, with_vocab=True, history="starts", n_of="bigrams"):
    pairs = list(zip(train, train[1:], strict=False))
    held = list(zip(heldout, heldout[1:], strict=False))
    logs = []
    for a, b in held:
        c_h = sum(1 for x, _ in pairs if x == a) if history == "starts" else train.count(a)
        logs.append(math.log((pairs.count((a, b)) + k) / (c_h + (k * V if with_vocab else k))))
    n = len(held) if n_of == "bigrams" else len(heldout)
    return math.exp(-sum(logs) / n)


def test_add_k_perplexity_reference_is_accepted():
    assert check.add_k_perplexity(_add_k)


def test_add_k_that_forgets_the_vocabulary_in_the_denominator():
    fb = check.add_k_perplexity(lambda *a: _add_k(*a, with_vocab=False))
    assert fb.status == "wrong" and "missing k times vocab_size" in fb.message


def test_add_k_that_counts_the_last_training_word_as_a_history():
    fb = check.add_k_perplexity(lambda *a: _add_k(*a, history="words"))
    assert fb.status == "wrong" and "'the cat ran on the mat'" in fb.message
    assert "as the last word of the training text" in fb.message


def test_add_k_that_divides_by_the_number_of_words():
    fb = check.add_k_perplexity(lambda *a: _add_k(*a, n_of="words"))
    assert fb.status == "wrong" and "N - 1 bigrams" in fb.message


def test_add_k_that_crashes_on_an_unseen_history_says_where():
    def crashes(train, heldout, k, V):
        starts = {}
        for a in train[:-1]:
            starts[a] = starts.get(a, 0) + 1
        pairs = list(zip(train, train[1:], strict=False))
        probs = [(pairs.count((a, b)) + k) / (starts[a] + k * V)
                 for a, b in zip(heldout, heldout[1:], strict=False)]
        return math.exp(-sum(map(math.log, probs)) / len(probs))

    fb = check.add_k_perplexity(crashes)
    assert fb.status == "error" and "KeyError: 'ran'" in fb.message
    assert "the add-1 perplexity of 'the cat ran on the mat'" in fb.message
