"""Tests for course_utils.charrnn: vocabulary, batching, the models, training and sampling."""

import math

import numpy as np
import pytest

from course_utils import charrnn
from course_utils.charrnn import (
    Adagrad,
    Adam,
    CharRNN,
    CharVocab,
    LectureCharRNN,
    StreamBatches,
    check_char_model_gradients,
    clip_gradients,
    corpus_word_share,
    corpus_words,
    evaluate,
    sample,
    scheduled_lr,
    softmax_cross_entropy,
    train,
    train_val_split,
)

TEXT = "to be, or not to be: that is the question. " * 40


@pytest.fixture
def vocab():
    return CharVocab(TEXT)


# ---------------------------------------------------------------- vocabulary and batches


def test_vocab_round_trip_and_sorted_ids(vocab):
    assert vocab.chars == sorted(set(TEXT))
    ids = vocab.encode("to be")
    assert ids.dtype == np.int32 and ids.shape == (5,)
    assert vocab.decode(ids) == "to be"
    assert vocab.encode(" ")[0] == 0  # space sorts first
    assert vocab.decode([]) == ""


def test_vocab_bad_input(vocab):
    with pytest.raises(ValueError, match="empty"):
        CharVocab("")
    # the error names each unseen character, where it is, and what was expected
    with pytest.raises(ValueError, match=r"not in the vocabulary: 'Z' \(first at index 7\), "
                                         r"'x' \(first at index 6\); expected only the "
                                         rf"{len(vocab)} characters of the training text"):
        vocab.encode("to be xZ")
    with pytest.raises(ValueError, match=r"\[0, "):
        vocab.decode([0, len(vocab)])


def test_train_val_split_is_a_contiguous_tail():
    ids = np.arange(100)
    tr, va = train_val_split(ids, 0.1)
    assert tr.tolist() == list(range(90)) and va.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(ids, 1.0)
    with pytest.raises(ValueError, match="too few"):
        train_val_split(np.arange(3), 0.1)


def test_stream_batches_continue_each_other_and_targets_shift_by_one():
    ids = np.arange(1001)
    b = StreamBatches(ids, batch_size=4, seq_len=10)
    assert b.stream_len == 250 and len(b) == 25
    (x0, y0), (x1, _) = b[0], b[1]
    assert x0.shape == (4, 10) and x0.dtype == np.int32
    np.testing.assert_array_equal(y0, x0 + 1)  # next character
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # batch 1 continues batch 0
    np.testing.assert_array_equal(x0[:, 0], [0, 250, 500, 750])  # one stream per quarter
    assert sum(1 for _ in b) == len(b)


def test_stream_batches_bad_input():
    with pytest.raises(ValueError, match="longer than the text"):
        StreamBatches(np.arange(50), batch_size=1, seq_len=50)
    with pytest.raises(ValueError, match="fewer than seq_len"):
        StreamBatches(np.arange(50), batch_size=10, seq_len=8)
    with pytest.raises(ValueError, match="batch_size"):
        StreamBatches(np.arange(50), batch_size=0, seq_len=8)


# ---------------------------------------------------------------- loss, clipping, optimisers


def test_softmax_cross_entropy_is_stable_and_correct(rng):
    z = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    loss, d = softmax_cross_entropy(z, y)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(6), y])))
    expected = p.copy()
    expected[np.arange(6), y] -= 1
    np.testing.assert_allclose(d, expected / 6, atol=1e-12)
    # logits far beyond exp's range: still finite, and shifting logits changes nothing
    big, dbig = softmax_cross_entropy(z * 1e4 + 1e6, y)
    assert math.isfinite(big) and np.isfinite(dbig).all()
    assert softmax_cross_entropy(z + 1e4, y)[0] == pytest.approx(loss, rel=1e-6)
    # uniform logits: ln V nats
    assert softmax_cross_entropy(np.zeros((3, 65)), np.zeros(3, int))[0] == pytest.approx(
        math.log(65))


def test_clip_gradients():
    g = {"a": np.array([3.0, 4.0]), "b": np.array([0.0])}
    assert clip_gradients(g, max_norm=1.0) == pytest.approx(5.0)
    assert np.linalg.norm(g["a"]) == pytest.approx(1.0)
    g = {"a": np.array([-9.0, 2.0])}
    clip_gradients(g, max_value=5.0)
    assert g["a"].tolist() == [-5.0, 2.0]


# ---------------------------------------------------------------- models


def test_gradient_check_of_the_full_character_model(rng):
    model = CharRNN(7, 5, seed=1, dtype=np.float64)
    x = rng.integers(0, 7, (2, 4))
    y = rng.integers(0, 7, (2, 4))
    h0 = rng.standard_normal((2, 5)) * 0.5
    errors = check_char_model_gradients(model, x, y, h0)
    assert set(errors) == {"W_x", "W_h", "b", "W_y", "b_y", "h0"}
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_detects_a_wrong_gradient(rng, monkeypatch):
    model = CharRNN(7, 5, seed=1, dtype=np.float64)
    x = rng.integers(0, 7, (2, 4))
    real = model.loss_and_grads

    def wrong(*args):
        loss, grads, h = real(*args)
        grads["W_y"] = grads["W_y"] * 1.5
        return loss, grads, h

    monkeypatch.setattr(model, "loss_and_grads", wrong)
    assert check_char_model_gradients(model, x, x)["W_y"] > 1e-2


def test_gradient_check_needs_float64():
    with pytest.raises(ValueError, match="float64"):
        check_char_model_gradients(CharRNN(5, 3), np.zeros((1, 2), int), np.zeros((1, 2), int))


def test_lecture_model_and_batched_model_compute_the_same_maths(rng):
    lec = LectureCharRNN(9, 6, seed=3)
    for p in lec.params.values():  # larger weights than the lecture's 0.01, a sharper test
        p += rng.standard_normal(p.shape) * 0.3
    inputs, targets = rng.integers(0, 9, 8), rng.integers(0, 9, 8)
    h_prev = rng.standard_normal((6, 1)) * 0.5
    loss, g, h_T = lec.loss_and_grads(inputs, targets, h_prev)
    batched = lec.to_char_rnn(dtype=np.float64)
    loss_b, g_b, h_b = batched.loss_and_grads(inputs[None], targets[None], h_prev.T)
    T = len(inputs)
    assert loss_b * T == pytest.approx(loss)  # summed vs mean over the sequence
    np.testing.assert_allclose(h_b, h_T.T, atol=1e-12)
    np.testing.assert_allclose(g_b["W_h"] * T, g["W_hh"].T, atol=1e-10)
    np.testing.assert_allclose(g_b["W_x"] * T, g["W_xh"].T, atol=1e-10)
    np.testing.assert_allclose(g_b["W_y"] * T, g["W_hy"].T, atol=1e-10)
    np.testing.assert_allclose(g_b["b_y"] * T, g["b_y"][:, 0], atol=1e-10)


def test_lecture_train_step_lowers_the_loss_on_a_repeated_sequence(vocab):
    lec = LectureCharRNN(len(vocab), 20, seed=0)
    ids = vocab.encode(TEXT[:21])
    h0 = np.zeros((20, 1))
    first, _ = lec.train_step(ids[:-1], ids[1:], h0)
    for _ in range(30):
        last, _ = lec.train_step(ids[:-1], ids[1:], h0)
    assert first == pytest.approx(20 * math.log(len(vocab)), rel=0.01)  # starts uniform
    assert last < 0.5 * first


def test_char_rnn_forward_shapes_and_state_carry(rng):
    model = CharRNN(11, 8)
    x = rng.integers(0, 11, (3, 10))
    logits, h = model.forward(x)
    assert logits.shape == (3, 10, 11) and logits.dtype == np.float32 and h.shape == (3, 8)
    # two halves with the state carried give the same logits as the whole sequence
    l1, h1 = model.forward(x[:, :4])
    l2, h2 = model.forward(x[:, 4:], h1)
    np.testing.assert_allclose(np.concatenate([l1, l2], axis=1), logits, atol=1e-5)
    np.testing.assert_allclose(h2, h, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 11\)"):
        model.forward(np.array([[0, 11]]))
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        model.forward(np.array([1, 2]))


def test_training_learns_a_repetitive_text_and_respects_steps(vocab):
    ids = vocab.encode(TEXT)
    tr, va = train_val_split(ids, 0.2)
    model = CharRNN(len(vocab), 32, seed=0)
    seen = []
    hist = train(model, StreamBatches(tr, 4, 20), Adam(lr=1e-2), steps=120, val_ids=va,
                 val_batch_size=2, eval_every=40, on_eval=lambda step, h: seen.append(step), progress=False)
    assert hist.step == [40, 80, 120] and seen == [40, 80, 120]
    assert hist.chars[-1] == 120 * 4 * 20 == hist.train_chars
    assert hist.val_loss[0] > hist.val_loss[-1]
    assert hist.val_loss[-1] < 0.5  # the text repeats: nearly perfectly predictable
    assert hist.val_bits[-1] == pytest.approx(hist.val_loss[-1] / math.log(2))
    assert hist.chars_per_s > 0
    assert evaluate(model, va, batch_size=2, seq_len=10) < 0.5
    text = sample(model, vocab, "to be", 60, temperature=0.5, seed=1)
    share, n = corpus_word_share(text, corpus_words(TEXT))
    assert n >= 8 and share >= 0.8, text


def test_train_time_budget_stops_early(vocab):
    ids = vocab.encode(TEXT)
    model = CharRNN(len(vocab), 8)
    hist = train(model, StreamBatches(ids, 2, 10), Adagrad(), steps=10**6, seconds=0.2,
                 eval_every=10**6, progress=False)
    assert 0.2 <= hist.train_seconds < 5 and hist.step[-1] < 10**6
    with pytest.raises(ValueError, match="stopping rule"):
        train(model, StreamBatches(ids, 2, 10), Adagrad(), progress=False)


def recording_adam(used, **kwargs):
    """An Adam that appends the learning rate of every update to ``used``."""
    class Recording(Adam):
        def update(self, params, grads):
            used.append(self.lr)
            super().update(params, grads)

    return Recording(**kwargs)


def test_learning_rate_decays_linearly_to_the_final_fraction_and_is_restored(vocab):
    used = []
    ids = vocab.encode(TEXT)
    opt = recording_adam(used, lr=1e-2)
    train(CharRNN(len(vocab), 8), StreamBatches(ids, 2, 10), opt, steps=10, eval_every=10**6,
          progress=False, final_lr_fraction=0.1)
    assert used[0] == pytest.approx(1e-2)
    assert used[-1] == pytest.approx(1e-2 * (1 - 0.9 * 9 / 10))
    assert all(a > b for a, b in zip(used, used[1:], strict=False))
    assert opt.lr == 1e-2  # the optimizer is left as it was given
    with pytest.raises(ValueError, match="final_lr_fraction"):
        train(CharRNN(len(vocab), 8), StreamBatches(ids, 2, 10), Adam(), steps=1,
              progress=False, final_lr_fraction=0)


def test_warmup_ramps_the_rate_up_then_it_decays_as_in_the_gpt_schedule(vocab):
    used = []
    ids = vocab.encode(TEXT)
    train(CharRNN(len(vocab), 8), StreamBatches(ids, 2, 10), recording_adam(used, lr=1e-2), steps=10,
          eval_every=10**6, progress=False, final_lr_fraction=0.1, warmup=4)
    # one schedule for both trainers: the values train used are scheduled_lr's
    assert used == [scheduled_lr(1e-2, k, 0.0, steps=10, warmup=4, final_lr_fraction=0.1)
                    for k in range(10)]
    assert used[0] == pytest.approx(1e-2 / 4) and max(used) == used[3]
    assert used[-1] == pytest.approx(1e-2 * (1 - 0.9 * 9 / 10))
    # a time budget decays by the share of seconds spent, whichever share is larger
    assert scheduled_lr(1.0, 0, 5.0, steps=100, seconds=10.0, final_lr_fraction=0.1) \
        == pytest.approx(0.55)
    with pytest.raises(ValueError, match="warmup"):
        train(CharRNN(len(vocab), 8), StreamBatches(ids, 2, 10), Adam(), steps=1,
              progress=False, warmup=-1)


# ---------------------------------------------------------------- sampling and words


def test_sample_is_seeded_and_respects_temperature_and_top_k(vocab):
    model = CharRNN(len(vocab), 16, seed=0)
    a = sample(model, vocab, "to", 50, temperature=0.8, seed=5)
    assert a == sample(model, vocab, "to", 50, temperature=0.8, seed=5)
    assert a != sample(model, vocab, "to", 50, temperature=0.8, seed=6)
    assert a.startswith("to") and len(a) == 52
    # top_k=1 is greedy: always the most likely next character, whatever the seed
    g1 = sample(model, vocab, "to", 20, top_k=1, seed=1)
    assert g1 == sample(model, vocab, "to", 20, top_k=1, seed=2)
    # a tiny temperature is greedy too
    assert sample(model, vocab, "to", 20, temperature=1e-4, seed=3) == g1


def test_top_k_restricts_the_characters_drawn(vocab, monkeypatch):
    model = CharRNN(len(vocab), 16, seed=0)
    logits = np.arange(len(vocab), dtype=np.float32)  # character V-1 most likely

    def fake_forward(ids, state=None):
        n, t = np.asarray(ids).shape
        return np.broadcast_to(logits, (n, t, len(vocab))), state

    monkeypatch.setattr(model, "forward", fake_forward)
    out = sample(model, vocab, "t", 300, temperature=5.0, top_k=2, seed=0)
    assert set(vocab.encode(out[1:]).tolist()) == {len(vocab) - 1, len(vocab) - 2}


def test_sample_bad_input(vocab):
    model = CharRNN(len(vocab), 4)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        sample(model, vocab, "To", 5)  # capital T is not in TEXT
    for t in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            sample(model, vocab, "to", 5, temperature=t)
    with pytest.raises(ValueError, match="non-empty"):
        sample(model, vocab, "", 5)
    with pytest.raises(ValueError, match="top_k"):
        sample(model, vocab, "to", 5, top_k=0)


def test_corpus_word_share_of_the_lectures_sample():
    corpus = corpus_words("The quick fox. O, speak! the end")
    share, n = corpus_word_share("The paafinpt orhtrCvieshoees foey o\u201csaNdareentshht- ", corpus)
    assert (share, n) == (pytest.approx(0.2), 5)  # "The" is the one real word of five
    assert corpus_word_share("THE fox -- 42 speak!", corpus) == (1.0, 3)
    assert math.isnan(corpus_word_share("-- 42", corpus)[0])
    with pytest.raises(ValueError, match="non-empty"):
        corpus_words("")


# ---------------------------------------------------------------- Keras


def test_keras_model_trains_and_its_numpy_copy_agrees(vocab):
    import course_utils

    course_utils.set_seed(0)
    ids = vocab.encode(TEXT)
    model = charrnn.build_keras_char_model(len(vocab), 8, cell="lstm")
    hist = charrnn.train_keras(model, ids, steps=3, batch_size=4, seq_len=10, val_ids=ids[:200],
                               val_batch_size=2, eval_every=3, progress=False)
    assert hist.step == [3] and len(hist.val_loss) == 1
    copy = charrnn.KerasCharModel(model)
    x = ids[:20].reshape(2, 10)
    onehot = np.eye(len(vocab), dtype=np.float32)[x]
    np.testing.assert_allclose(copy.forward(x)[0], model.predict(onehot, verbose=0), atol=1e-5)
    # carrying (h, c) across two halves equals one pass
    l1, s1 = copy.forward(x[:, :4])
    l2, _ = copy.forward(x[:, 4:], s1)
    np.testing.assert_allclose(np.concatenate([l1, l2], 1), copy.forward(x)[0], atol=1e-5)
    assert sample(copy, vocab, "to", 10, seed=0) == sample(copy, vocab, "to", 10, seed=0)
    with pytest.raises(ValueError, match="cell"):
        charrnn.build_keras_char_model(5, 4, cell="gru2")




def test_split_batch_workers_give_the_same_loss_gradients_and_states(rng):
    x = rng.integers(0, 7, (6, 5))
    y = rng.integers(0, 7, (6, 5))
    h0 = rng.standard_normal((6, 4)) * 0.5
    one = CharRNN(7, 4, seed=3, dtype=np.float64, workers=1)
    three = CharRNN(7, 4, seed=3, dtype=np.float64, workers=3)
    three.min_rows_per_worker = 1
    assert len(three._groups(6)) == 3
    l1, g1, s1 = one.loss_and_grads(x, y, h0)
    l3, g3, s3 = three.loss_and_grads(x, y, h0)
    assert l3 == pytest.approx(l1, rel=1e-12)
    for k in g1:
        np.testing.assert_allclose(g3[k], g1[k], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(s3, s1, atol=1e-14)
    np.testing.assert_allclose(three.dh0, one.dh0, atol=1e-14)
    np.testing.assert_allclose(three.forward(x, h0)[0], one.forward(x, h0)[0], atol=1e-12)
    errors = check_char_model_gradients(three, x[:, :3], y[:, :3], h0)
    assert max(errors.values()) < 1e-7, errors


def test_gemm_gflops_is_a_plausible_speed():
    assert 0.1 < charrnn.gemm_gflops(128, repeats=2, threads=1) < 1e5


# ---------------------------------------------------------------- the three cells


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_has_exact_gradients_also_when_split_over_workers(vocab, cell):
    rng = np.random.default_rng(5)
    model = CharRNN(len(vocab), 5, seed=3, dtype=np.float64, cell=cell, workers=2)
    model.min_rows_per_worker = 1  # 4 rows: two groups in two threads
    x, y = rng.integers(0, len(vocab), (2, 4, 6))
    state = model.initial_state(4)
    state = tuple(rng.normal(0, 0.5, s.shape) for s in state) if cell == "lstm" else \
        rng.normal(0, 0.5, state.shape)
    errors = check_char_model_gradients(model, x, y, state)
    assert set(errors) >= {"W_x", "W_h", "b", "W_y", "b_y", "h0"}
    assert ("c0" in errors) == (cell == "lstm")
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_speak_the_protocol_and_carry_their_state(vocab, cell):
    model = CharRNN(len(vocab), 8, seed=0, cell=cell)
    assert f"cell='{cell}'" in repr(model)
    ids = vocab.encode(TEXT[:40])[None]
    whole, _ = model.forward(ids)
    first, state = model.forward(ids[:, :25])
    rest, _ = model.forward(ids[:, 25:], state)
    # reading in two windows with the state carried == reading at once
    np.testing.assert_allclose(np.concatenate([first, rest], axis=1), whole, atol=1e-5)
    batches = StreamBatches(vocab.encode(TEXT), 4, 20)
    before = evaluate(model, vocab.encode(TEXT), batch_size=4, seq_len=20)
    train(model, batches, Adam(2e-2), steps=200, progress=False, eval_every=1000)
    assert evaluate(model, vocab.encode(TEXT), batch_size=4, seq_len=20) < before - 1.0
    assert sample(model, vocab, "to", 30, seed=1) == sample(model, vocab, "to", 30, seed=1)


def test_cell_and_lstm_state_bad_input(vocab):
    with pytest.raises(ValueError, match="cell must be one of"):
        CharRNN(len(vocab), 4, cell="transformer")
    lstm = CharRNN(len(vocab), 4, cell="lstm")
    with pytest.raises(ValueError, match=r"pair \(h, c\)"):
        lstm.forward(np.zeros((2, 3), dtype=int), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"shapes \(N, H\)"):
        lstm.forward(np.zeros((2, 3), dtype=int), (np.zeros((2, 4)), np.zeros((3, 4))))


def test_lecture_train_on_consecutive_windows_learns_and_checks_its_input(vocab):
    model = LectureCharRNN(len(vocab), 16, lr=0.1, seed=0)
    losses, seconds = model.train_on(vocab.encode(TEXT), seq_len=20, n_sequences=60)
    assert losses.shape == (60,) and seconds > 0
    assert abs(losses[0] - math.log(len(vocab))) < 0.01  # small weights: uniform guessing
    assert losses[-10:].mean() < losses[0] - 1.0
    with pytest.raises(ValueError, match="at least"):
        model.train_on(vocab.encode(TEXT[:50]), seq_len=20, n_sequences=5)
