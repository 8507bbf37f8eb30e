"""Tests for course_utils.sentiment: text to ids, the models' contracts, bad input."""

import numpy as np
import pytest

from course_utils import sentiment as S

TRAIN = [
    "A great film.<br /><br />Great acting, great story!",
    "Awful. The worst film I have seen; awful acting.",
    "Great fun, not awful at all.",
]


@pytest.fixture(scope="module")
def vec():
    return S.ReviewVectorizer(num_words=8).fit(TRAIN)


@pytest.fixture(scope="module")
def tiny_model():
    import course_utils

    course_utils.set_seed(0)
    return S.build_classifier(num_words=8, maxlen=6, embed_dim=4, units=3)


def test_tokenize_drops_html_breaks_and_punctuation_keeps_apostrophes():
    assert S.tokenize("Don't!<br />It's GREAT,fun 10/10") == [
        "don't", "it's", "great", "fun", "10", "10"]


def test_tokenize_other_alphabets_and_empty():
    assert S.tokenize("Очень хороший фильм") == ["очень", "хороший", "фильм"]
    assert S.tokenize("très bien") == ["très", "bien"]
    assert S.tokenize("") == []
    assert S.tokenize("?!... :-)") == []


def test_tokenize_rejects_non_text():
    with pytest.raises(ValueError, match="must be a str"):
        S.tokenize(None)


def test_vocabulary_reserves_pad_and_oov_and_orders_by_frequency(vec):
    assert vec.words[S.PAD] == "<pad>" and vec.words[S.OOV] == "<oov>"
    assert vec.vocabulary_size == 8
    # "great" (4x) and "awful" (3x) are the most frequent words
    assert vec.index["great"] == 2 and vec.index["awful"] == 3


def test_encode_maps_unknown_words_to_oov(vec):
    ids = vec.encode(["great zebra фильм"])[0]
    assert ids == [2, S.OOV, S.OOV]
    assert vec.decode([0, 0, *ids]) == "great <oov> <oov>"


def test_vectorizer_errors_name_the_problem(vec):
    with pytest.raises(ValueError, match="not fitted"):
        S.ReviewVectorizer().encode(["hello"])
    with pytest.raises(ValueError, match="single str"):
        vec.encode("great film")
    with pytest.raises(ValueError, match="no words"):
        S.ReviewVectorizer().fit(["", "!!"])
    with pytest.raises(ValueError, match="num_words"):
        S.ReviewVectorizer(num_words=2)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vec.decode([99])


def test_pad_sides_and_truncation_keep_the_right_words():
    ids = [[1, 2, 3, 4, 5], [7], []]
    np.testing.assert_array_equal(S.pad(ids, 3), [[3, 4, 5], [0, 0, 7], [0, 0, 0]])
    np.testing.assert_array_equal(S.pad(ids, 3, padding="post", truncating="post"),
                                  [[1, 2, 3], [7, 0, 0], [0, 0, 0]])
    assert S.pad(ids, 3).dtype == np.int32
    with pytest.raises(ValueError, match="'pre' or 'post'"):
        S.pad(ids, 3, padding="left")
    with pytest.raises(ValueError, match="maxlen"):
        S.pad(ids, 0)


def test_confusion_matrix_counts():
    cm = S.confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(cm, [[1, 1], [1, 2]])
    with pytest.raises(ValueError, match="0 or 1"):
        S.confusion_matrix([0, 2], [0, 1])


def test_models_read_ids_and_return_one_probability_per_review(tiny_model):
    X = S.pad([[2, 3, 4], [5]], 6)
    p = S.predict_proba(tiny_model, X)
    assert p.shape == (2,) and np.all((p > 0) & (p < 1))


def test_final_model_follows_its_settings():
    import course_utils

    course_utils.set_seed(0)
    settings = S.FinalSettings(num_words=50, maxlen=40, embed_dim=4, conv_filters=4, units=3)
    model = S.build_final_model(settings)
    assert model.inputs[0].shape[1] == 40
    assert model.predict(np.zeros((2, 40), np.int32), verbose=0).shape == (2, 1)
    # the convolution front end shortens what the LSTM reads: (40 - 5 + 1) // 4 steps
    lstm = [layer for layer in model.layers if "lstm" in layer.name][0]
    assert lstm.input.shape[1] == (40 - 5 + 1) // 4


def test_bad_cell_and_mask_with_conv_are_rejected():
    with pytest.raises(ValueError, match="cell must be"):
        S.build_classifier(cell="transformer")
    with pytest.raises(ValueError, match="mask_zero"):
        S.build_classifier(mask_zero=True, conv_filters=8)
    with pytest.raises(ValueError, match="state_pooling must be"):
        S.build_classifier(state_pooling="mean")


def test_max_over_states_reads_every_hidden_state():
    import keras

    settings = S.FinalSettings(num_words=50, maxlen=40, embed_dim=4, conv_filters=4, units=3,
                               cell="gru", bidirectional=True, state_pooling="max")
    model = S.build_final_model(settings)
    recurrent = [layer for layer in model.layers if isinstance(layer, keras.layers.Bidirectional)]
    assert len(recurrent) == 1
    # one state per step (10 steps after conv and pooling), both directions, then the max
    assert recurrent[0].output.shape[1:] == ((40 - 5 + 1) // 4, 2 * 3)
    assert isinstance(model.layers[-2], keras.layers.GlobalMaxPooling1D)
    assert model.predict(np.zeros((2, 40), np.int32), verbose=0).shape == (2, 1)


def test_predict_review_handles_odd_reviews(tiny_model, vec):
    long = S.predict_review(tiny_model, vec, "great " * 500 + "awful")
    assert long.truncated and long.n_words == 501
    foreign = S.predict_review(tiny_model, vec, "Очень хороший фильм")
    assert foreign.n_known == 0 and "unknown" in str(foreign)
    assert 0 < foreign.probability < 1
    assert S.predict_review(tiny_model, vec, "great film").label in ("positive", "negative")
    with pytest.raises(ValueError, match="no words"):
        S.predict_review(tiny_model, vec, "")
    with pytest.raises(ValueError, match="no words"):
        S.predict_review(tiny_model, vec, "  !!! ")
    with pytest.raises(ValueError, match="must be a str"):
        S.predict_review(tiny_model, vec, 42)


def test_wrong_shapes_and_ids_fail_before_tensorflow(tiny_model):
    with pytest.raises(ValueError, match="length 6"):
        S.predict_proba(tiny_model, np.zeros((2, 5), np.int32))
    with pytest.raises(ValueError, match="word ids"):
        S.predict_proba(tiny_model, np.full((2, 6), 8, np.int32))
    with pytest.raises(ValueError, match="integer array"):
        S.predict_proba(tiny_model, np.zeros((2, 6)))
    with pytest.raises(ValueError, match="to match X"):
        S.train(tiny_model, np.zeros((4, 6), np.int32), np.zeros(3))


def test_train_learns_a_trivial_rule():
    import course_utils

    course_utils.set_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 256)
    X = rng.integers(4, 10, (256, 5)).astype(np.int32)
    X[:, -1] = 2 + y  # the last word says it all
    model = S.build_classifier(num_words=10, maxlen=5, embed_dim=4, units=4,
                               learning_rate=0.03)
    history, seconds = S.train(model, X, y, epochs=8, batch_size=32, progress=False)
    assert history["accuracy"][-1] > 0.95 and seconds > 0
    # one value per batch (epochs x batches), each an accuracy of that batch alone
    acc = np.asarray(history["batch_accuracy"])
    assert acc.shape == (8 * 8,) and np.all((acc > -1e-6) & (acc < 1 + 1e-6))
    assert acc[-8:].mean() > 0.95


def test_lstm_and_gru_keep_gradients_alive_where_simple_rnn_loses_them():
    lengths = [1, 10, 40]
    norms = S.gradient_norms_vs_length(lengths, hidden_size=16, input_size=8, batch=4)
    assert set(norms) == {"SimpleRNN", "LSTM", "GRU"}
    assert all(v.shape == (3,) and np.all(np.isfinite(v)) for v in norms.values())
    # over 40 steps the SimpleRNN's gradient shrinks by orders of magnitude more than the LSTM's
    ratio = {k: v[-1] / v[0] for k, v in norms.items()}
    assert ratio["SimpleRNN"] < 1e-2 * ratio["LSTM"]
    # opening the forget / update gates lets even more gradient through
    opened = S.gradient_norms_vs_length(lengths, hidden_size=16, input_size=8, batch=4,
                                        open_gates=3.0)
    assert opened["LSTM, forget bias +3"][-1] > 10 * norms["LSTM"][-1]
    assert opened["GRU, update bias +3"][-1] > 10 * norms["GRU"][-1]
    with pytest.raises(ValueError, match="length"):
        S.gradient_norms_vs_length([0, 5])




def test_train_records_batch_times_and_seconds_per_batch_leaves_out_the_first():
    import course_utils

    course_utils.set_seed(0)
    model = S.build_classifier(num_words=8, maxlen=6, embed_dim=4, units=3)
    X = np.random.default_rng(0).integers(0, 8, size=(40, 6)).astype(np.int32)
    history, seconds = S.train(model, X, (X[:, -1] > 3).astype(int), batch_size=8,
                               progress=False)
    times = history["batch_end_times"]
    assert len(times) == 5 and np.all(np.diff(times) >= 0)
    assert S.seconds_per_batch(history) == pytest.approx((times[-1] - times[0]) / 4)
    assert S.seconds_per_batch(history) < seconds
    with pytest.raises(ValueError, match="at least 2 batches"):
        S.seconds_per_batch({"batch_end_times": [1.0]})


def test_split_validation_carves_the_last_training_reviews_and_keeps_test():
    data = {"train_ids": [[k] for k in range(10)], "train_texts": [str(k) for k in range(10)],
            "y_train": np.arange(10) % 2, "test_ids": [[99]], "test_texts": ["t"],
            "y_test": np.array([1])}
    out = S.split_validation(data, n_val=3)
    assert out["train_ids"] == [[k] for k in range(7)] and out["val_ids"] == [[7], [8], [9]]
    assert out["val_texts"] == ["7", "8", "9"] and list(out["y_val"]) == [1, 0, 1]
    assert out["test_ids"] == [[99]] and list(out["y_test"]) == [1]
    assert len(data["train_ids"]) == 10  # the input is not changed
    for bad in (0, 10):
        with pytest.raises(ValueError, match="n_val"):
            S.split_validation(data, n_val=bad)


BAG = ["great film loved it", "great acting wonderful", "loved the story great fun",
       "awful film hated it", "awful acting boring", "hated the story awful mess"] * 3
BAG_Y = np.array([1, 1, 1, 0, 0, 0] * 3)


@pytest.mark.parametrize("make", [
    lambda: S.tfidf_logistic_regression(BAG, BAG_Y, ngrams=1),
    lambda: S.tfidf_logistic_regression(BAG, BAG_Y, ngrams=2),
    lambda: S.NBLogisticRegression(ngrams=2).fit(BAG, BAG_Y),
])
def test_bag_of_words_baselines_learn_word_polarity(make):
    model = make()
    pred = model.predict(["a great wonderful film", "an awful boring mess<br />hated"])
    assert list(pred) == [1, 0]


def test_nb_log_count_ratio_signs_follow_the_classes():
    model = S.NBLogisticRegression(ngrams=1).fit(BAG, BAG_Y)
    vocab = model.vectorizer.vocabulary_
    assert model.r[vocab["great"]] > 0 > model.r[vocab["awful"]]
    assert abs(model.r[vocab["film"]]) < 1e-9  # once in each class: no evidence either way


def test_baselines_reject_bad_input():
    with pytest.raises(ValueError, match="one 0/1 label"):
        S.tfidf_logistic_regression(BAG, BAG_Y[:-1])
    with pytest.raises(ValueError, match="ngrams"):
        S.tfidf_logistic_regression(BAG, BAG_Y, ngrams=3)
    with pytest.raises(ValueError, match="single str"):
        S.NBLogisticRegression().fit("great film", [1])
    with pytest.raises(RuntimeError, match="fit"):
        S.NBLogisticRegression().predict(["great"])


def test_seconds_per_step_on_either_clock_and_a_bad_clock_is_named(tiny_model):
    X = np.random.default_rng(0).integers(0, 8, size=(12, 6)).astype(np.int32)
    y = (X[:, -1] > 3).astype(int)
    for clock in ("wall", "cpu"):
        assert S.seconds_per_step(tiny_model, X, y, batch_size=4, steps=2, clock=clock) > 0
    with pytest.raises(ValueError, match="clock must be 'wall' or 'cpu'"):
        S.seconds_per_step(tiny_model, X, y, batch_size=4, steps=2, clock="gpu")
