"""Exercise checks for lesson 02: wrong answers get specific, helpful feedback."""

import warnings

import numpy as np

from course_utils import embeddings as E
from course_utils.checks import lesson02 as check

# ---- Task 1: embedding lookup


def test_lookup_without_a_range_check_is_told_about_negative_ids():
    fb = check.embedding_lookup(lambda W, ids: W[ids])
    assert fb.status == "wrong"
    assert "expected a ValueError" in fb.message and "W[-1]" in fb.message


def test_lookup_through_a_1d_one_hot_fails_on_a_batch_with_context():
    fb = check.embedding_lookup(lambda W, ids: E.one_hot(ids, len(W)) @ W)
    assert fb.status == "error"
    assert "While looking up a (2, 3) batch of ids" in fb.message and "ValueError" in fb.message


def test_lookup_in_the_transposed_matrix():
    fb = check.embedding_lookup(lambda W, ids: W.T[np.asarray(ids) % W.shape[1]])
    assert fb.status == "wrong" and "expected shape (4, 3), got shape (4, 6)" in fb.message


# ---- Task 2: skip-gram pairs


def _pairs(ids, window, *, keep=lambda i, j, ids: i != j, lo=0, hi=1, as_positions=False):
    centers, contexts = [], []
    for i in range(len(ids)):
        for j in range(max(0, i - window + lo), min(len(ids), i + window + hi)):
            if keep(i, j, ids):
                centers.append(i if as_positions else ids[i])
                contexts.append(j if as_positions else ids[j])
    return np.array(centers, dtype=int), np.array(contexts, dtype=int)


def test_pairs_that_include_the_center_itself():
    fb = check.skipgram_pairs(lambda ids, w: _pairs(ids, w, keep=lambda i, j, ids: True))
    assert fb.status == "wrong" and "pairs a position with itself" in fb.message
    assert "expected 14 pairs, got 19" in fb.message


def test_pairs_of_positions_instead_of_ids():
    fb = check.skipgram_pairs(lambda ids, w: _pairs(ids, w, as_positions=True))
    assert fb.status == "wrong" and "positions, not word ids" in fb.message


def test_pairs_that_skip_a_repeated_word():
    fb = check.skipgram_pairs(
        lambda ids, w: _pairs(ids, w, keep=lambda i, j, ids: ids[i] != ids[j]))
    assert fb.status == "wrong"
    assert "(7, 7) is missing" in fb.message and "compare positions, not ids" in fb.message


def test_pairs_with_an_off_by_one_window():
    fb = check.skipgram_pairs(lambda ids, w: _pairs(ids, w, hi=0))
    assert fb.status == "wrong" and "is missing" in fb.message and "window=2" in fb.message


def test_pairs_returned_as_one_list_of_tuples_get_told_the_format():
    fb = check.skipgram_pairs(lambda ids, w: list(zip(*_pairs(ids, w), strict=True)))
    assert fb.status == "wrong" and "expected two arrays (centers, contexts)" in fb.message


# ---- Task 3: loss


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_loss_with_the_wrong_sign_on_the_negatives():
    def wrong(v, U):
        s = U @ v
        return -np.log(_sigmoid(s[0])) - np.log(_sigmoid(s[1:])).sum()

    fb = check.sgns_loss(wrong)
    assert fb.status == "wrong" and "K=2 negatives, D=4" in fb.message


def test_loss_averaged_instead_of_summed():
    def wrong(v, U):
        s = U @ v
        return np.mean(np.concatenate([[-np.log(_sigmoid(s[0]))], -np.log(_sigmoid(-s[1:]))]))

    fb = check.sgns_loss(wrong)
    assert fb.status == "wrong" and "expected" in fb.message and "got" in fb.message


def test_a_naive_loss_passes_but_is_told_about_overflow_without_warnings():
    def naive(v, U):
        s = U @ v
        return -np.log(_sigmoid(s[0])) - np.log(_sigmoid(-s[1:])).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the overflow probe must not spill RuntimeWarnings
        fb = check.sgns_loss(naive)
    assert fb.passed and "np.logaddexp" in fb.message and "inf" in fb.message


# ---- Task 4: gradient


def _grads(v, U, *, y0=1.0, flip=False, transpose=False):
    s = U @ v
    y = np.zeros(len(U))
    y[0] = y0
    g = _sigmoid(s) - y
    if flip:
        g = -g
    return g @ U, (np.outer(v, g) if transpose else np.outer(g, v))


def test_gradient_with_y_minus_sigma():
    fb = check.sgns_grads(lambda v, U: _grads(v, U, flip=True))
    assert fb.status == "wrong" and "wrong sign" in fb.message


def test_gradient_that_forgets_the_label_of_the_true_context():
    fb = check.sgns_grads(lambda v, U: _grads(v, U, y0=0.0))
    assert fb.status == "wrong" and "row 0 (the true context) is not" in fb.message


def test_gradient_with_a_transposed_outer_product():
    fb = check.sgns_grads(lambda v, U: _grads(v, U, transpose=True))
    assert fb.status == "wrong" and "expected shape (3, 4), got shape (4, 3)" in fb.message


def test_gradient_off_by_a_factor_two_on_v():
    def wrong(v, U):
        dv, dU = _grads(v, U)
        return 2 * dv, dU

    fb = check.sgns_grads(wrong)
    assert fb.status == "wrong" and "dv for one pair" in fb.message
    assert "central differences" in fb.message


# ---- Task 5: neighbours


def _neighbours(W, words, word, k, *, normalise=True, skip_self=True, descending=True):
    X = W / np.linalg.norm(W, axis=1, keepdims=True) if normalise else W
    sims = X @ X[words.index(word)]
    order = np.argsort(-sims if descending else sims)
    ranked = [i for i in order if not (skip_self and words[i] == word)][:k]
    return [(words[i], float(sims[i])) for i in ranked]


def test_neighbours_by_raw_dot_product():
    fb = check.cosine_neighbours(lambda W, words, w, k: _neighbours(W, words, w, k,
                                                                    normalise=False))
    assert fb.status == "wrong" and "raw dot" in fb.message and "'movie'" in fb.message


def test_neighbours_that_include_the_word_itself():
    fb = check.cosine_neighbours(lambda W, words, w, k: _neighbours(W, words, w, k,
                                                                    skip_self=False))
    assert fb.status == "wrong" and "contains 'film' itself" in fb.message


def test_neighbours_least_similar_first():
    fb = check.cosine_neighbours(lambda W, words, w, k: _neighbours(W, words, w, k,
                                                                    descending=False))
    assert fb.status == "wrong" and "most similar first" in fb.message


def test_neighbours_returned_as_bare_words():
    fb = check.cosine_neighbours(lambda W, words, w, k: [n for n, _ in
                                                          _neighbours(W, words, w, k)])
    assert fb.status == "wrong" and "(word, similarity) pairs" in fb.message


# ---- Task 6: analogies


def _analogy(W, words, a, b, c, *, normalise=True, exclude=True):
    X = W / np.linalg.norm(W, axis=1, keepdims=True) if normalise else W
    ia, ib, ic = (words.index(w) for w in (a, b, c))
    target = X[ib] - X[ia] + X[ic]
    sims = (W / np.linalg.norm(W, axis=1, keepdims=True)) @ (target / np.linalg.norm(target))
    if exclude:
        sims[[ia, ib, ic]] = -np.inf
    return words[int(np.argmax(sims))]


def test_analogy_that_may_answer_a_question_word():
    fb = check.analogy(lambda W, words, a, b, c: _analogy(W, words, a, b, c, exclude=False))
    assert fb.status == "wrong" and "one of the three question words" in fb.message


def test_analogy_without_normalising_first():
    fb = check.analogy(lambda W, words, a, b, c: _analogy(W, words, a, b, c, normalise=False))
    assert fb.status == "wrong" and "without normalising" in fb.message
    assert "man : king :: woman : ?" in fb.message and "'queen'" in fb.message


def test_analogy_returning_an_index_is_told_to_return_a_word():
    fb = check.analogy(lambda W, words, a, b, c: words.index(_analogy(W, words, a, b, c)))
    assert fb.status == "wrong" and "expected a word (a str)" in fb.message
