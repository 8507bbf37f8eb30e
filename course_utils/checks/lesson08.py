"""Checks for exercises 08: causal attention, heads, sinusoidal positions, a BPE merge step, and
the loss of a token model in bits per character.

The expected answers come from ``course_utils.attention`` / ``course_utils.transformer``
(attention, heads, positions) and ``course_utils.bpe`` (``count_pairs``, ``merge``); the bits
per character are computed here from their definition.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import attention, bpe
from course_utils import transformer as tr

from . import Mismatch, as_tuple, call, close_or_explain, expect, expect_close, expect_shape, task

# ---- Task 1 -------------------------------------------------------------------------------------


def _causal_reference(Q, K, V):
    lead, T = Q.shape[:-2], Q.shape[-2]
    flat = (-1, T)
    mask = np.broadcast_to(tr.causal_mask(T), (int(np.prod(lead, dtype=int)), T, T))
    out, A, _ = attention.scaled_dot_product_attention(
        Q.reshape(*flat, Q.shape[-1]), K.reshape(*flat, K.shape[-1]),
        V.reshape(*flat, V.shape[-1]), mask=mask)
    return out.reshape(*lead, T, V.shape[-1]), A.reshape(*lead, T, T)


@task("Task 1 · causal scaled dot-product attention", function="causal_attention",
      hint="Scores for all query-key pairs at once: Q times K with its last two axes swapped, "
           "divided by the square root of d. The mask is the lower triangle of a (T, T) matrix of ones; "
           "broadcasting applies it to every sequence (and head). Masked scores become -inf "
           "before a softmax over the last axis that subtracts the row maximum.")
def causal_attention(fn):
    rng = np.random.default_rng(0)
    cases = [((2, 5), "Q, K, V of shape (2, 5, 4): two sequences of 5 positions"),
             ((2, 3, 6), "Q, K, V of shape (2, 3, 6, 4): two sequences, 3 heads, 6 positions")]
    for lead, label in cases:
        Q, K, V = (rng.standard_normal((*lead, 4)) for _ in range(3))
        what = f"causal_attention(Q, K, V) with {label}"
        out, A = as_tuple(call(fn, Q.copy(), K.copy(), V.copy(), what=f"computing {what}"), 2,
                          ("out", "A"), what)
        T = lead[-1]
        out_exp, A_exp = _causal_reference(Q, K, V)
        A = expect_shape(A, (*lead[:-1], T, T), what=f"the weights A of {what}")
        expect(np.all(np.isfinite(A)), f"For the weights A of {what}: they contain nan or inf. "
                                       "Every position may attend to itself, so no row is "
                                       "fully masked.")
        upper = np.triu(np.ones((T, T), dtype=bool), 1)
        if np.any(np.abs(A[..., upper]) > 1e-12):
            if np.allclose(A[..., ~upper], 0):
                raise Mismatch(f"For {what}: the weights sit above the diagonal, on the future. "
                               "Query i (row i) may attend to keys j <= i: keep the lower "
                               "triangle.")
            raise Mismatch(f"For {what}: some query gives weight to a later position (above "
                           "the diagonal of A). A language model must not see the character "
                           "it is asked to predict.")
        d = Q.shape[-1]
        unscaled = _causal_reference(Q * math.sqrt(d), K, V)[1]
        close_or_explain(A, A_exp, what=f"the weights A of {what}",
                         mistakes=[(unscaled, "these are the weights without dividing the "
                                              f"scores by sqrt(d) = {math.sqrt(d):g}")],
                         atol=1e-8)
        expect_close(out, out_exp, what=f"the output of {what} (A @ V)", atol=1e-8)
    return ["Works for any leading axes, so the same function serves every head at once."]


# ---- Tasks 2 and 3 ------------------------------------------------------------------------------


@task("Task 2 · split into heads", function="split_heads",
      hint="Reshape the feature axis D into (h, D // h), then move the head axis in front of "
           "the time axis. The result must keep each head's features contiguous.")
def split_heads(fn):
    X = np.arange(2 * 3 * 8, dtype=float).reshape(2, 3, 8)
    what = "split_heads(X, 2) for X of shape (2, 3, 8) (N = 2, T = 3, D = 8)"
    got = expect_shape(call(fn, X.copy(), 2, what=f"computing {what}"), (2, 2, 3, 4), what=what)
    expected = tr.split_heads(X, 2)
    wrong_cut = X.reshape(2, 3, 4, 2).transpose(0, 3, 1, 2)
    no_transpose = X.reshape(2, 2, 3, 4)  # reshaping without moving the axis mixes time and heads
    close_or_explain(got, expected, what=what, mistakes=[
        (wrong_cut, "head j takes every h-th feature (features j, j + h, ...) instead of a "
                    "contiguous slice of D // h features; the order of the reshape axes is "
                    "(h, dk), not (dk, h)"),
        (no_transpose, "this reshapes (N, T, D) straight to (N, h, T, dk), which mixes "
                       "positions and heads; split the last axis first, then move it")])
    return ["Head j holds features j*dk ... (j+1)*dk - 1 of every position."]


@task("Task 3 · merge the heads back", function="merge_heads",
      hint="The inverse of Task 2: bring the time axis back in front of the head axis, then "
           "reshape the last two axes (h, dk) into one axis of length h times dk.")
def merge_heads(fn):
    H = np.arange(2 * 2 * 3 * 4, dtype=float).reshape(2, 2, 3, 4)
    what = "merge_heads(H) for H of shape (2, 2, 3, 4) (N = 2, h = 2, T = 3, dk = 4)"
    got = expect_shape(call(fn, H.copy(), what=f"computing {what}"), (2, 3, 8), what=what)
    close_or_explain(got, tr.merge_heads(H), what=what, mistakes=[
        (H.reshape(2, 3, 8), "this reshapes without moving the head axis back behind the "
                             "time axis, so features of different positions get mixed")])
    X = np.random.default_rng(1).standard_normal((3, 5, 12))
    expect_close(call(fn, tr.split_heads(X, 4), what="merging split_heads(X, 4)"), X,
                 what="merge_heads(split_heads(X, 4)) for X of shape (3, 5, 12)")
    return ["merge_heads undoes split_heads exactly."]


# ---- Task 4 -------------------------------------------------------------------------------------


@task("Task 4 · sinusoidal position encodings", function="sinusoidal_positions",
      hint="Make a column of positions (T, 1) and a row of frequencies, one per pair of "
           "features: one over 10000 to the power 2i/D, for the even feature indices 2i. Their "
           "product has shape (T, D/2). "
           "Sines go to the even columns, cosines to the odd ones.")
def sinusoidal_positions(fn):
    for T, D in [(6, 4), (50, 16)]:
        what = f"sinusoidal_positions({T}, {D})"
        got = expect_shape(call(fn, T, D, what=f"computing {what}"), (T, D), what=what)
        expected = tr.sinusoidal_positions(T, D)
        pos = np.arange(T)[:, None]
        swapped = np.zeros((T, D))
        freq = 1.0 / 10000.0 ** (np.arange(0, D, 2) / D)
        swapped[:, 0::2], swapped[:, 1::2] = np.cos(pos * freq), np.sin(pos * freq)
        halves = np.concatenate([np.sin(pos * freq), np.cos(pos * freq)], axis=1)
        per_feature = np.zeros((T, D))
        f_all = 1.0 / 10000.0 ** (np.arange(D) / D)
        per_feature[:, 0::2] = np.sin(pos * f_all)[:, 0::2]
        per_feature[:, 1::2] = np.cos(pos * f_all)[:, 1::2]
        close_or_explain(got, expected, what=what, atol=1e-9, mistakes=[
            (swapped, "sines and cosines are swapped: even columns (0, 2, ...) hold the sines"),
            (halves, "all sines come first and all cosines after them; they alternate, column "
                     "2i the sine and 2i+1 the cosine of the same frequency"),
            (per_feature, "every column got its own frequency; a pair of columns (2i, 2i+1) "
                          "shares the frequency 1 / 10000^(2i / D)")])
    return ["Position 0 is (0, 1, 0, 1, ...); every position gets its own code."]


# ---- Task 5 -------------------------------------------------------------------------------------


def _first_most_frequent(ids):
    counts = bpe.count_pairs(ids)
    best = max(counts.values())
    return next(p for p in zip(ids[:-1], ids[1:], strict=True) if counts[p] == best)


@task("Task 5 · one BPE merge step", function="bpe_merge_step",
      hint="Count every adjacent pair (a dict from pair to count). Take the largest count; "
           "among pairs with that count, the one that occurs first in ids. Then walk through "
           "ids left to right: where the pair starts, write new_id and skip two places, "
           "otherwise copy one id.")
def bpe_merge_step(fn):
    cases = [([1, 2, 3, 1, 2, 4, 1, 2], 9, "ids with the pair (1, 2) three times"),
             ([5, 5, 5, 5, 6], 7, "a run of four 5s (overlapping pairs)"),
             (list(b"to be or not to be"), 256, "the bytes of 'to be or not to be'"),
             ([3, 4, 4, 3, 3, 4, 4, 3], 10, "a tie between (3, 4), (4, 4) and (4, 3)")]
    for ids, new_id, label in cases:
        what = f"bpe_merge_step(ids, {new_id}) for {label}"
        got = as_tuple(call(fn, list(ids), new_id, what=f"computing {what}"), 2,
                       ("new_ids", "pair"), what)
        pair = _first_most_frequent(ids)
        expected = bpe.merge(ids, pair, new_id)
        try:
            got_pair = tuple(int(i) for i in got[1])
        except (TypeError, ValueError):
            raise Mismatch(f"For {what}: the second value must be the merged pair (a, b), got "
                           f"{got[1]!r:.60}.") from None
        if got_pair != pair:
            counts = bpe.count_pairs(ids)
            raise Mismatch(f"For {what}: expected the pair {pair} (count {counts[pair]}), got "
                           f"{got_pair} (count {counts.get(got_pair, 0)}). Take the most "
                           "frequent pair; on a tie, the one that occurs first.")
        got_ids = [int(i) for i in got[0]]
        if got_ids != expected:
            naive = []
            for a, b in zip(ids[:-1], ids[1:], strict=True):
                naive.append(new_id if (a, b) == pair else a)
            note = ""
            if len(got_ids) > len(expected):
                note = (" Yours is longer: after writing new_id, skip both ids of the pair.")
            elif len(ids) > 2 and pair[0] == pair[1]:
                note = (" Occurrences may overlap (5, 5, 5): merge left to right and never "
                        "reuse an id that is already merged.")
            raise Mismatch(f"For {what}: expected {expected}, got {got_ids}.{note}")
    return ["Ties go to the pair seen first, so the merges are the same on every run.",
            "bpe.BPETokenizer.train repeats this step, updating only the counts that change."]


# ---- Task 6 -------------------------------------------------------------------------------------


@task("Task 6 · a token model's loss in bits per character", function="bits_per_char",
      hint="Add up the nats of all tokens, divide by the number of characters those tokens "
           "cover (the sum of their lengths), and turn nats into bits by dividing by ln 2.")
def bits_per_char(fn):
    rng = np.random.default_rng(2)
    pieces = [" the", " king", "'s", " cr", "own", "\n", "O", "!", " my", " lord"]
    losses = rng.uniform(0.5, 6.0, len(pieces))
    what = f"bits_per_char(token_nats, tokens) for {len(pieces)} tokens covering " \
           f"{sum(map(len, pieces))} characters"
    got = call(fn, losses.copy(), list(pieces), what=f"computing {what}")
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise Mismatch(f"For {what}: expected one number, got {got!r:.60}.") from None
    n_chars = sum(len(p) for p in pieces)
    expected = losses.sum() / n_chars / math.log(2)
    close_or_explain(got, expected, what=what, mistakes=[
        (losses.mean() / math.log(2), "this is bits per *token*: a token covers several "
                                      "characters, so divide the total by the characters"),
        (losses.sum() / n_chars, "this is in nats; one bit is ln 2 = 0.693 nats"),
        (np.mean(losses / [len(p) for p in pieces]) / math.log(2),
         "this averages each token's bits per character, which weighs a 1-character token as "
         "much as a 5-character one; divide the total bits by the total characters"),
        (losses.sum() / n_chars / math.log(10), "this divides by ln 10; bits need ln 2")])
    return ["Character and token models are now measured in the same unit."]
