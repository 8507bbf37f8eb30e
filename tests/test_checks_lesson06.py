"""Exercise checks for lesson 06: wrong answers get specific, helpful feedback."""

import numpy as np

from course_utils.checks import lesson06 as check

# ---- reference answers, so each test can break exactly one thing ------------------------------


def encode(text, chars):
    stoi = {c: i for i, c in enumerate(chars)}
    bad = sorted(set(text) - stoi.keys())
    if bad:
        raise ValueError(f"unknown characters {bad}")
    return np.array([stoi[c] for c in text], dtype=np.int64)


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def temperature_probs(logits, temperature, top_k=None):
    z = np.asarray(logits, dtype=float) / temperature
    if top_k is not None:
        z = np.where(z >= np.sort(z)[-top_k], z, -np.inf)
    return softmax(z)


def test_reference_answers_pass():
    assert check.encode(encode)
    assert check.temperature_probs(temperature_probs)


# ---- Task 1 ---------------------------------------------------------------------------------


def test_encode_with_unsorted_vocabulary_positions():
    # ids from the order of first appearance instead of the positions in chars
    def first_seen(text, chars):
        order = {c: i for i, c in enumerate(dict.fromkeys(text))}
        return np.array([order[c] for c in text])

    fb = check.encode(first_seen)
    assert fb.status == "wrong" and "encode('to be or not to be'" in fb.message


def test_encode_returning_floats_is_told_ids_are_integers():
    fb = check.encode(lambda text, chars: encode(text, chars).astype(float))
    assert fb.status == "wrong" and "ids must be integers" in fb.message


def test_encode_letting_a_key_error_escape():
    def lookup(text, chars):
        stoi = {c: i for i, c in enumerate(chars)}
        return np.array([stoi[c] for c in text], dtype=int)

    fb = check.encode(lookup)
    assert fb.status == "wrong"
    assert "expected a ValueError naming the character, got KeyError" in fb.message


def test_encode_with_a_silent_error_message():
    def vague(text, chars):
        if set(text) - set(chars):
            raise ValueError("bad input")
        return encode(text, chars)

    fb = check.encode(vague)
    assert fb.status == "wrong" and "name the unknown character" in fb.message


# ---- Task 2 ---------------------------------------------------------------------------------


def test_stream_batches_of_consecutive_windows():
    # the common mistake: consecutive windows side by side, so rows do not continue each other
    def consecutive(ids, batch_size, seq_len):
        n = (len(ids) - 1) // seq_len
        x = ids[:n * seq_len].reshape(n, seq_len)
        y = ids[1:n * seq_len + 1].reshape(n, seq_len)
        return [(x[i:i + batch_size], y[i:i + batch_size])
                for i in range(0, n - batch_size + 1, batch_size)]

    fb = check.stream_batches(consecutive)
    assert fb.status == "wrong"
    assert "first column of batch 0" in fb.message or "batches" in fb.message


def test_stream_batches_with_stream_length_l_over_b():
    def long_streams(ids, batch_size, seq_len):
        S = len(ids) // batch_size  # one too many for even L: the last target is missing
        x = ids[:batch_size * S].reshape(batch_size, S)
        y = np.append(ids[1:batch_size * S], 0).reshape(batch_size, S)
        return [(x[:, k * seq_len:(k + 1) * seq_len], y[:, k * seq_len:(k + 1) * seq_len])
                for k in range(S // seq_len)]

    fb = check.stream_batches(long_streams)
    assert fb.status == "wrong" and "expected 2 batches, got 3" in fb.message
    assert "S = (L - 1) // B = 11" in fb.message


def test_stream_batches_whose_rows_restart():
    # every batch starts each stream from its beginning: the state would carry over wrongly
    def restarting(ids, batch_size, seq_len):
        S = (len(ids) - 1) // batch_size
        x = ids[:batch_size * S].reshape(batch_size, S)
        y = ids[1:batch_size * S + 1].reshape(batch_size, S)
        return [(x[:, :seq_len], y[:, :seq_len]) for _ in range(S // seq_len)]

    fb = check.stream_batches(restarting)
    assert fb.status == "wrong"
    assert "row 0 of batch 1 should continue row 0 of batch 0, which ended with 3" in fb.message


def test_stream_batches_with_targets_equal_to_inputs():
    def same(ids, batch_size, seq_len):
        S = (len(ids) - 1) // batch_size
        x = ids[:batch_size * S].reshape(batch_size, S)
        return [(x[:, k * seq_len:(k + 1) * seq_len],) * 2 for k in range(S // seq_len)]

    fb = check.stream_batches(same)
    assert fb.status == "wrong" and "the character after each x" in fb.message


# ---- Task 3 ---------------------------------------------------------------------------------


def _naive_ce(logits, targets):
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    M = len(targets)
    grad = p.copy()
    grad[np.arange(M), targets] -= 1
    return float(-np.mean(np.log(p[np.arange(M), targets]))), grad / M


def test_cross_entropy_that_overflows_like_the_lecture():
    with np.errstate(all="ignore"):
        fb = check.softmax_cross_entropy(_naive_ce)
    assert fb.status == "wrong"
    assert "logits of +-1000" in fb.message and "your loss is nan" in fb.message


def test_cross_entropy_taking_the_log_of_an_underflowed_probability():
    def log_of_p(logits, targets):
        p = softmax(logits, axis=1)
        M = len(targets)
        grad = p.copy()
        grad[np.arange(M), targets] -= 1
        return float(-np.mean(np.log(p[np.arange(M), targets]))), grad / M

    with np.errstate(divide="ignore"):
        fb = check.softmax_cross_entropy(log_of_p)
    assert fb.status == "wrong" and "your loss is inf" in fb.message


def test_cross_entropy_summing_instead_of_averaging():
    def summed(logits, targets):
        M = len(targets)
        p = softmax(logits, axis=1)
        grad = p.copy()
        grad[np.arange(M), targets] -= 1
        shifted = logits - logits.max(axis=1, keepdims=True)
        loss = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(M), targets]
        return float(loss.sum()), grad

    fb = check.softmax_cross_entropy(summed)
    assert fb.status == "wrong" and "4 times the expected" in fb.message


def test_cross_entropy_gradient_without_the_one_hot_or_with_a_flipped_sign():
    def loss_only(logits, targets):
        M = len(targets)
        shifted = logits - logits.max(axis=1, keepdims=True)
        loss = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(M), targets]
        return float(loss.mean()), softmax(logits, axis=1)

    fb = check.softmax_cross_entropy(loss_only)
    assert fb.status == "wrong" and "dlogits of softmax_cross_entropy" in fb.message

    def flipped(logits, targets):
        loss, grad = loss_only(logits, targets)
        grad = grad.copy()
        grad[np.arange(len(targets)), targets] -= 1
        return loss, -grad / len(targets)

    fb = check.softmax_cross_entropy(flipped)
    assert fb.status == "wrong" and "wrong sign" in fb.message


def test_cross_entropy_returning_per_row_losses():
    def per_row(logits, targets):
        M = len(targets)
        shifted = logits - logits.max(axis=1, keepdims=True)
        loss = np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(M), targets]
        return loss, np.zeros_like(logits)

    fb = check.softmax_cross_entropy(per_row)
    assert fb.status == "wrong" and "expected shape (), got shape (4,)" in fb.message


# ---- Task 4 ---------------------------------------------------------------------------------


def test_temperature_that_multiplies():
    fb = check.temperature_probs(lambda z, T, top_k=None: softmax(np.asarray(z) * T))
    assert fb.status == "wrong" and "you multiplied the logits by T" in fb.message


def test_top_k_that_zeroes_after_the_softmax_without_renormalising():
    def unnormalised(logits, temperature, top_k=None):
        p = softmax(np.asarray(logits) / temperature)
        if top_k is not None:
            p[np.argsort(p)[:-top_k]] = 0.0
        return p

    fb = check.temperature_probs(unnormalised)
    assert fb.status == "wrong" and "renormalise what is kept" in fb.message


def test_top_k_off_by_one():
    def keeps_one_more(logits, temperature, top_k=None):
        return temperature_probs(logits, temperature, None if top_k is None else top_k + 1)

    fb = check.temperature_probs(keeps_one_more)
    assert fb.status == "wrong" and "expected exactly 3 non-zero probabilities" in fb.message


def test_temperature_without_the_max_shift_overflows():
    def unstable(logits, temperature, top_k=None):
        e = np.exp(np.asarray(logits, dtype=float) / temperature)
        if top_k is not None:
            e[np.argsort(e)[:-top_k]] = 0.0
        return e / e.sum()

    with np.errstate(all="ignore"):
        fb = check.temperature_probs(unstable)
    assert fb.status == "wrong" and "logits / T reach 10,000" in fb.message


# ---- Task 5 ---------------------------------------------------------------------------------


def test_sampling_from_the_global_generator_is_not_reproducible():
    def global_rng(logits, temperature, rng, top_k=None):
        p = temperature_probs(logits, temperature, top_k)
        return int(np.random.choice(len(p), p=p))  # noqa: NPY002 - the mistake under test

    fb = check.sample_with_temperature(global_rng)
    assert fb.status == "wrong" and "seeded alike drew different characters" in fb.message


def test_sampling_that_ignores_the_temperature():
    def no_temperature(logits, temperature, rng, top_k=None):
        p = temperature_probs(logits, 1.0, top_k)
        return int(rng.choice(len(p), p=p))

    fb = check.sample_with_temperature(no_temperature)
    assert fb.status == "wrong" and "Your frequencies match temperature 1" in fb.message


def test_greedy_instead_of_sampling():
    fb = check.sample_with_temperature(lambda z, T, rng, top_k=None: int(np.argmax(z)))
    assert fb.status == "wrong" and "character 0 came up in 100.0%" in fb.message


def test_sampling_returning_an_array_of_one():
    def sized(logits, temperature, rng, top_k=None):
        p = temperature_probs(logits, temperature, top_k)
        return rng.choice(len(p), size=1, p=p)

    fb = check.sample_with_temperature(sized)
    assert fb.status == "wrong" and "expected one integer id, got ndarray of shape (1,)" in fb.message


def test_sampling_that_ignores_top_k():
    def no_top_k(logits, temperature, rng, top_k=None):
        p = temperature_probs(logits, temperature)
        return int(rng.choice(len(p), p=p))

    fb = check.sample_with_temperature(no_top_k)
    assert fb.status == "wrong" and "not among the 2 most likely" in fb.message


# ---- Task 6 ---------------------------------------------------------------------------------


def test_top_p_that_stops_before_crossing_p():
    # keeps only characters whose running total stays below p: can keep nothing at all
    def strict(logits, p):
        probs = softmax(np.asarray(logits, dtype=float))
        order = np.argsort(-probs)
        keep = order[np.cumsum(probs[order]) < p]
        out = np.zeros_like(probs)
        out[keep] = probs[keep]
        return out / out.sum()

    with np.errstate(invalid="ignore"):
        fb = check.top_p_probs(strict)
    assert fb.status == "wrong"
    assert "Is the kept set empty?" in fb.message or "most likely characters kept" in fb.message


def test_top_p_sorted_the_wrong_way():
    def ascending(logits, p):
        probs = softmax(np.asarray(logits, dtype=float))
        order = np.argsort(probs)
        before = np.cumsum(probs[order]) - probs[order]
        keep = order[before < p]
        out = np.zeros_like(probs)
        out[keep] = probs[keep]
        return out / out.sum()

    fb = check.top_p_probs(ascending)
    assert fb.status == "wrong" and "top_p_probs(" in fb.message
