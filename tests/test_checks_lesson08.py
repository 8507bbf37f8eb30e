"""Exercise checks for lesson 08: wrong answers get specific, helpful feedback."""

import math

import numpy as np

from course_utils.checks import lesson08 as check

# ---- reference answers, so each test can break exactly one thing ------------------------------


def softmax(e):
    z = np.exp(e - e.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def causal_attention(Q, K, V, scale=None, keep=np.tril):
    d = Q.shape[-1]
    e = Q @ np.swapaxes(K, -1, -2) / (math.sqrt(d) if scale is None else scale)
    T = Q.shape[-2]
    e = np.where(keep(np.ones((T, T), dtype=bool)), e, -np.inf)
    A = softmax(e)
    return A @ V, A


def split_heads(X, h):
    N, T, D = X.shape
    return X.reshape(N, T, h, D // h).transpose(0, 2, 1, 3)


def merge_heads(H):
    N, h, T, dk = H.shape
    return H.transpose(0, 2, 1, 3).reshape(N, T, h * dk)


def sinusoidal_positions(T, D):
    pos = np.arange(T)[:, None]
    freq = 1.0 / 10000.0 ** (np.arange(0, D, 2) / D)
    pe = np.zeros((T, D))
    pe[:, 0::2], pe[:, 1::2] = np.sin(pos * freq), np.cos(pos * freq)
    return pe


def bpe_merge_step(ids, new_id, pick_first=True, skip=2):
    counts = {}
    for p in zip(ids[:-1], ids[1:], strict=True):
        counts[p] = counts.get(p, 0) + 1
    best = max(counts.values())
    cands = [p for p in zip(ids[:-1], ids[1:], strict=True) if counts[p] == best]
    pair = cands[0] if pick_first else max(cands)
    out, i = [], 0
    while i < len(ids):
        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += skip
        else:
            out.append(ids[i])
            i += 1
    return out, pair


def bits_per_char(token_nats, tokens):
    return float(np.sum(token_nats)) / sum(len(t) for t in tokens) / math.log(2)


def test_reference_answers_pass():
    assert check.causal_attention(causal_attention)
    assert check.split_heads(split_heads)
    assert check.merge_heads(merge_heads)
    assert check.sinusoidal_positions(sinusoidal_positions)
    assert check.bpe_merge_step(bpe_merge_step)
    assert check.bits_per_char(bits_per_char)


# ---- Task 1 ---------------------------------------------------------------------------------


def test_attention_that_sees_the_future():
    fb = check.causal_attention(lambda Q, K, V: causal_attention(Q, K, V, keep=np.triu))
    assert fb.status == "wrong" and "later position" in fb.message


def test_attention_without_a_mask():
    fb = check.causal_attention(lambda Q, K, V: causal_attention(Q, K, V, keep=np.ones_like))
    assert fb.status == "wrong" and "must not see the character" in fb.message


def test_attention_without_the_scale():
    fb = check.causal_attention(lambda Q, K, V: causal_attention(Q, K, V, scale=1.0))
    assert fb.status == "wrong" and "without dividing the scores by sqrt(d)" in fb.message


def test_attention_only_for_three_axes():
    def three_axes_only(Q, K, V):
        return causal_attention(Q, K, V) if Q.ndim == 3 else (np.zeros(1), np.zeros(1))

    fb = check.causal_attention(three_axes_only)
    assert fb.status == "wrong" and "(2, 3, 6, 4)" in fb.message


def test_attention_returning_only_the_output():
    fb = check.causal_attention(lambda Q, K, V: causal_attention(Q, K, V)[0])
    assert fb.status == "wrong" and "expected a tuple of 2, (out, A)" in fb.message


# ---- Tasks 2 and 3 ----------------------------------------------------------------------------


def test_split_with_strided_heads():
    def strided(X, h):
        N, T, D = X.shape
        return X.reshape(N, T, D // h, h).transpose(0, 3, 1, 2)

    fb = check.split_heads(strided)
    assert fb.status == "wrong" and "contiguous slice" in fb.message


def test_split_by_reshape_only():
    fb = check.split_heads(lambda X, h: X.reshape(X.shape[0], h, X.shape[1], -1))
    assert fb.status == "wrong" and "mixes positions and heads" in fb.message


def test_merge_by_reshape_only():
    fb = check.merge_heads(lambda H: H.reshape(H.shape[0], H.shape[2], -1))
    assert fb.status == "wrong" and "without moving the head axis back" in fb.message


def test_merge_with_wrong_shape():
    fb = check.merge_heads(lambda H: H.transpose(0, 2, 1, 3))
    assert fb.status == "wrong" and "(2, 3, 8)" in fb.message


# ---- Task 4 ---------------------------------------------------------------------------------


def test_positions_sin_and_cos_swapped():
    def swapped(T, D):
        pe = sinusoidal_positions(T, D)
        return pe[:, [i + 1 if i % 2 == 0 else i - 1 for i in range(D)]]

    fb = check.sinusoidal_positions(swapped)
    assert fb.status == "wrong" and "swapped" in fb.message


def test_positions_in_two_halves():
    def halves(T, D):
        pe = sinusoidal_positions(T, D)
        return np.concatenate([pe[:, 0::2], pe[:, 1::2]], axis=1)

    fb = check.sinusoidal_positions(halves)
    assert fb.status == "wrong" and "alternate" in fb.message


def test_positions_one_frequency_per_feature():
    def per_feature(T, D):
        pos = np.arange(T)[:, None]
        f = 1.0 / 10000.0 ** (np.arange(D) / D)
        pe = np.where(np.arange(D) % 2 == 0, np.sin(pos * f), np.cos(pos * f))
        return pe

    fb = check.sinusoidal_positions(per_feature)
    assert fb.status == "wrong" and "shares the frequency" in fb.message


# ---- Task 5 ---------------------------------------------------------------------------------


def test_merge_step_breaking_ties_by_value():
    fb = check.bpe_merge_step(lambda ids, n: bpe_merge_step(ids, n, pick_first=False))
    assert fb.status == "wrong" and "on a tie, the one that occurs first" in fb.message


def test_merge_step_that_keeps_the_second_id():
    fb = check.bpe_merge_step(lambda ids, n: bpe_merge_step(ids, n, skip=1))
    assert fb.status == "wrong" and "skip both ids" in fb.message


def test_merge_step_replacing_overlapping_pairs():
    def greedy_overlap(ids, new_id):
        _, pair = bpe_merge_step(ids, new_id)
        out, i = [], 0
        while i < len(ids):
            if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:
                out.append(new_id)
                i += 1 if ids[i] == ids[i + 1] else 2
            else:
                out.append(ids[i])
                i += 1
        # an overlapping merge of (5, 5, 5, 5) gives three tokens instead of two
        return out, pair

    fb = check.bpe_merge_step(greedy_overlap)
    assert fb.status == "wrong" and "four 5s" in fb.message


def test_merge_step_returning_only_ids():
    fb = check.bpe_merge_step(lambda ids, n: bpe_merge_step(ids, n)[0])
    assert fb.status == "wrong" and "(new_ids, pair)" in fb.message


# ---- Task 6 ---------------------------------------------------------------------------------


def test_bits_per_token():
    fb = check.bits_per_char(lambda nats, toks: float(np.mean(nats)) / math.log(2))
    assert fb.status == "wrong" and "bits per *token*" in fb.message


def test_nats_not_bits():
    fb = check.bits_per_char(lambda nats, toks: float(np.sum(nats)) / sum(map(len, toks)))
    assert fb.status == "wrong" and "this is in nats" in fb.message


def test_mean_of_ratios():
    fb = check.bits_per_char(
        lambda nats, toks: float(np.mean(np.asarray(nats) / [len(t) for t in toks])) / math.log(2))
    assert fb.status == "wrong" and "weighs a 1-character token" in fb.message
