"""The generated date task: correct, reproducible, leak-free data; safe encoding; decoding."""

import datetime as dt

import numpy as np
import pytest

from course_utils import dates as D


def test_formats_write_the_date_they_are_given():
    day = dt.date(1998, 3, 3)  # a Tuesday
    assert D.format_date(day, "weekday d month yyyy") == "tuesday 3 march 1998"
    assert D.format_date(day, "month d, yyyy") == "march 3, 1998"
    assert D.format_date(day, "dd.mm.yyyy") == "03.03.1998"
    assert D.format_date(day, "wkd d mon yyyy") == "tue 3 mar 1998"
    assert D.format_date(dt.date(2001, 8, 22), "the dth of month yyyy") == "the 22nd of august 2001"
    assert D.format_date(dt.date(2001, 8, 12), "the dth of month yyyy") == "the 12th of august 2001"
    with pytest.raises(ValueError, match="unknown date format"):
        D.format_date(day, "yyyy/mm/dd")


def test_every_written_date_fits_the_model_input():
    longest = dt.date(1953, 9, 30)  # a Wednesday in September: the longest names
    lengths = [len(D.format_date(longest, f)) for f in D.FORMATS]
    assert max(lengths) <= D.MAX_INPUT_LEN
    for f in D.FORMATS:
        assert set(D.format_date(longest, f)) <= set(D.INPUT_CHARS)


def test_examples_are_reproducible_and_correct():
    train_days, _ = D.split_days()
    h1, iso1 = D.make_examples(train_days, 50, seed=3)
    h2, iso2 = D.make_examples(train_days, 50, seed=3)
    assert (h1, iso1) == (h2, iso2)
    assert D.make_examples(train_days, 50, seed=4) != (h1, iso1)
    for human, iso in zip(h1, iso1, strict=True):
        date = dt.date.fromisoformat(iso)
        assert human in {D.format_date(date, f) for f in D.FORMATS}


def test_held_out_days_never_appear_in_training():
    train_days, test_days = D.split_days(0.1, seed=0)
    assert len(np.intersect1d(train_days, test_days)) == 0
    n_days = D.LAST_DAY.toordinal() - D.FIRST_DAY.toordinal() + 1
    assert len(train_days) + len(test_days) == n_days
    assert abs(len(test_days) / n_days - 0.1) < 1e-3
    (_, train_iso), (_, test_iso) = D.make_datasets({"n_train": 3000, "n_test": 300})
    assert not set(train_iso) & set(test_iso)


def test_encode_inputs_pads_and_lowercases():
    x = D.encode_inputs(["Tuesday 3 March 1998 ", "3/3/1998"])
    assert x.shape == (2, D.MAX_INPUT_LEN) and x.dtype == np.int32
    assert (x[0] == D.encode_inputs(["tuesday 3 march 1998"])[0]).all()
    assert (x[1, 8:] == D.PAD).all() and (x[1, :8] != D.PAD).all()


@pytest.mark.parametrize("text, message", [
    ("3 März 1998", "never seen"),
    ("3 march 1998!", "never seen"),
    ("wednesday the 30th of september 1998", "at most"),
    ("   ", "empty"),
])
def test_bad_input_gives_a_clear_error(text, message):
    with pytest.raises(ValueError, match=message):
        D.encode_inputs([text])


def test_a_bare_string_is_refused_rather_than_read_as_characters():
    with pytest.raises(ValueError, match="list of strings"):
        D.encode_inputs("3 march 1998")


def test_targets_are_decoder_inputs_shifted_by_one():
    dec_in, y = D.encode_targets(["1998-03-03", "2049-12-31"])
    assert dec_in.shape == y.shape == (2, D.OUTPUT_LEN)
    assert (dec_in[:, 0] == D.START).all()
    assert (dec_in[:, 1:] == y[:, :-1]).all()
    assert D.decode_outputs(y) == ["1998-03-03", "2049-12-31"]
    with pytest.raises(ValueError, match="ISO date"):
        D.encode_targets(["3 march 1998"])


def test_exact_match():
    assert D.exact_match(["1998-03-03", "1998-03-04"], ["1998-03-03", "1998-03-03"]) == 0.5
    with pytest.raises(ValueError):
        D.exact_match(["1998-03-03"], [])


@pytest.fixture(scope="module")
def tiny_models():
    import course_utils

    course_utils.set_seed(0)
    return (D.build_attention_model(embed_dim=4, units=6),
            D.build_plain_model(embed_dim=4, units=6))


def test_step_by_step_decoding_agrees_with_the_training_graph(tiny_models):
    """Greedy decoding runs the decoder one step at a time; feeding its answer back through the
    teacher-forced training graph must reproduce the same choice at every step."""
    texts = ["tuesday 3 march 1998", "3/3/1998", "the 1st of may 2020"]
    x = D.encode_inputs(texts)
    for model in tiny_models:
        y, A = D.greedy_decode(model, x)
        dec_in = np.concatenate([np.full((3, 1), D.START), y[:, :-1]], axis=1)
        probs = np.asarray(model.predict_on_batch([x, dec_in]))
        assert (probs.argmax(axis=-1) == y).all()
        assert A.shape == (3, D.OUTPUT_LEN, D.MAX_INPUT_LEN)
        assert len(D.translate(model, texts)) == 3


def test_attention_weights_are_distributions_that_ignore_padding(tiny_models):
    attention_model, plain_model = tiny_models
    x = D.encode_inputs(["3/3/1998", "thursday, september 30, 1999"])
    _, A = D.greedy_decode(attention_model, x)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, atol=1e-5)
    pad = np.broadcast_to((x == D.PAD)[:, None, :], A.shape)
    assert (A[pad] == 0.0).all()
    assert (A[~pad] > 0.0).all()
    _, A_plain = D.greedy_decode(plain_model, x)
    assert (A_plain == 0.0).all()


def test_greedy_decode_checks_its_input(tiny_models):
    with pytest.raises(ValueError, match="encode_inputs"):
        D.greedy_decode(tiny_models[0], np.zeros((2, 5), dtype=np.int32))
    with pytest.raises(ValueError, match="never seen"):
        D.translate(tiny_models[0], ["3 march 1998 \u2603"])
    with pytest.raises(ValueError, match="no dates"):
        D.translate(tiny_models[0], [])


def test_make_splits_keeps_validation_and_test_days_apart_from_training():
    train, val, test = D.make_splits({"n_train": 2000, "n_val": 300, "n_test": 300})
    assert [len(part[0]) for part in (train, val, test)] == [2000, 300, 300]
    days = [set(part[1]) for part in (train, val, test)]
    assert not (days[0] & days[1]) and not (days[0] & days[2]) and not (days[1] & days[2])
    for human, iso, fmt in zip(*test, strict=True):
        assert D.format_date(dt.date.fromisoformat(iso), fmt) == human
    assert D.make_splits({"n_train": 50, "n_val": 5, "n_test": 5})[2] == \
        D.make_splits({"n_train": 50, "n_val": 5, "n_test": 5})[2]


def test_length_buckets_cover_every_written_date_and_exact_match_by_groups():
    human, _ = D.make_examples(D.split_days()[0], 3000, seed=4)
    labels = {D.length_bucket(h) for h in human}
    assert labels == {f"{lo}-{hi}" for lo, hi in D.LENGTH_BUCKETS}
    with pytest.raises(ValueError, match="outside every bucket"):
        D.length_bucket("1/1/1")
    got = D.exact_match_by(["a", "b", "a"], ["x", "y", "z"], ["x", "n", "n"])
    assert got == {"a": (0.5, 2), "b": (0.0, 1)}
    with pytest.raises(ValueError, match="equally long"):
        D.exact_match_by(["a"], ["x", "y"], ["x", "y"])


def test_beam_search_of_width_one_is_greedy_and_wider_beams_score_no_worse(tiny_models):
    texts = ["tuesday 3 march 1998", "3/3/1998", "the 1st of may 2020", "2049 december 31"]
    x = D.encode_inputs(texts)
    for model in tiny_models:
        y_greedy, _ = D.greedy_decode(model, x)
        y1, s1 = D.beam_decode(model, x, 1)
        np.testing.assert_array_equal(y1, y_greedy)
        y5, s5 = D.beam_decode(model, x, 5)
        assert y5.shape == (4, D.OUTPUT_LEN) and (s5 >= s1 - 1e-9).all()
        # the score is the normalised log-probability of the output under the model
        dec_in = np.concatenate([np.full((4, 1), D.START), y5[:, :-1]], axis=1)
        probs = np.asarray(model.predict_on_batch([x, dec_in]), dtype=np.float64)
        logp = np.log(np.take_along_axis(probs, y5[:, :, None], axis=2)[:, :, 0]).sum(axis=1)
        np.testing.assert_allclose(s5, logp / ((5 + 10) / 6) ** 0.6, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="beam_width"):
        D.beam_decode(tiny_models[0], x, 0)
