"""A generated translation task that needs alignment: human-written dates to ISO dates.

``"tuesday 3 march 1998" -> "1998-03-03"``. Every example is made here from Python's
``datetime`` in one of several written formats, so the task needs no download and is exactly
reproducible from a seed. The written forms put day, month and year in different places and
spell them in different ways, which is what makes a decoder that can *look back* at the right
input characters (attention) worth having.

Contents:

* data: :data:`FORMATS`, :func:`format_date`, :func:`split_days`, :func:`make_examples`;
* character vocabularies and encoding: :data:`INPUT_CHARS`, :data:`OUTPUT_CHARS`,
  :func:`encode_inputs`, :func:`encode_targets`, :func:`decode_outputs`;
* Keras models: :func:`build_attention_model`, :func:`build_plain_model`
  (the same encoder-decoder without attention);
* decoding: :func:`greedy_decode` (also returns the attention weights), :func:`beam_decode`
  (beam search with length normalisation), :func:`translate`, :func:`exact_match`,
  :func:`exact_match_by` with :func:`length_bucket`;
* :data:`SETTINGS` - the training settings the notebook and the benchmark share - with
  :func:`make_datasets` (training and held-out), :func:`make_splits` (training, validation,
  test) and :func:`train_model`, which use them.

Shapes: ``N`` examples, ``T_in = MAX_INPUT_LEN`` input characters, ``T_out = OUTPUT_LEN`` (10)
output characters.
"""

from __future__ import annotations

import datetime as _dt
import time
import weakref

import numpy as np

# ---------------------------------------------------------------------------- the data

FIRST_DAY = _dt.date(1950, 1, 1)
LAST_DAY = _dt.date(2049, 12, 31)

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


_SUFFIX = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(day: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{_SUFFIX.get(day % 10, 'th')}"


# Each format turns a date into one written form. Names are spelled here rather than taken from
# strftime so the text does not depend on the machine's locale. Numeric forms are day first.
FORMATS = {
    "weekday d month yyyy": lambda d: f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}",
    "d month yyyy": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "month d, yyyy": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "weekday, month d, yyyy": lambda d: f"{WEEKDAYS[d.weekday()]}, {MONTHS[d.month - 1]} {d.day}, {d.year}",
    "wkd d mon yyyy": lambda d: f"{WEEKDAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "mon d yyyy": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    "the dth of month yyyy": lambda d: f"the {_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    "dd.mm.yyyy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",
    "yyyy month d": lambda d: f"{d.year} {MONTHS[d.month - 1]} {d.day}",
}


def format_date(date: _dt.date, fmt: str) -> str:
    """Write ``date`` in the human format named ``fmt`` (a key of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown date format {fmt!r}; expected one of {sorted(FORMATS)}")
    return FORMATS[fmt](date)


def split_days(held_out_fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split every day from FIRST_DAY to LAST_DAY into training days and held-out days.

    Splitting *days* (not examples) means no held-out date was ever seen in training, in any
    format. Returns two int arrays of proleptic Gregorian ordinals (``date.toordinal()``),
    shapes ``(n_train_days,)`` and ``(n_held_out_days,)``.
    """
    if not 0.0 < held_out_fraction < 1.0:
        raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
    days = np.arange(FIRST_DAY.toordinal(), LAST_DAY.toordinal() + 1)
    days = np.random.default_rng(seed).permutation(days)
    n_held = int(round(held_out_fraction * len(days)))
    return np.sort(days[n_held:]), np.sort(days[:n_held])


def make_examples(days: np.ndarray, n: int, seed: int = 0, *, with_formats: bool = False):
    """Draw ``n`` (human, iso) pairs: a day from ``days`` and a format, both uniformly at random.

    Returns two lists of ``n`` strings, e.g. ``("tuesday 3 march 1998", "1998-03-03")``;
    with ``with_formats=True`` a third list, the name of the format of each example.
    """
    days = np.asarray(days)
    if days.ndim != 1 or days.size == 0:
        raise ValueError(f"days must be a non-empty 1-D array of day ordinals, got shape {days.shape}")
    if n < 1:
        raise ValueError(f"n must be a positive number of examples, got {n}")
    rng = np.random.default_rng(seed)
    fmts = list(FORMATS)
    day_idx = rng.integers(0, len(days), size=n)
    fmt_idx = rng.integers(0, len(fmts), size=n)
    human, iso = [], []
    for i, f in zip(day_idx, fmt_idx, strict=True):
        date = _dt.date.fromordinal(int(days[i]))
        human.append(format_date(date, fmts[f]))
        iso.append(date.isoformat())
    if with_formats:
        return human, iso, [fmts[f] for f in fmt_idx]
    return human, iso


# ---------------------------------------------------------------------------- vocabularies

#: Characters a human-written date may contain (after lower-casing). Index 0 is padding.
INPUT_CHARS = " ,./0123456789abcdefghijklmnopqrstuvwxyz"
#: Characters of an ISO date. The decoder's start token gets the next index.
OUTPUT_CHARS = "0123456789-"
PAD = 0
START = len(OUTPUT_CHARS)
MAX_INPUT_LEN = 32
OUTPUT_LEN = 10
INPUT_VOCAB_SIZE = len(INPUT_CHARS) + 1   # + padding
OUTPUT_VOCAB_SIZE = len(OUTPUT_CHARS)     # what the decoder predicts
DECODER_VOCAB_SIZE = OUTPUT_VOCAB_SIZE + 1  # what the decoder reads: + start token

_IN_INDEX = {c: i + 1 for i, c in enumerate(INPUT_CHARS)}
_OUT_INDEX = {c: i for i, c in enumerate(OUTPUT_CHARS)}


def encode_inputs(texts) -> np.ndarray:
    """Human-written dates -> int array ``(N, MAX_INPUT_LEN)``, right-padded with 0.

    Text is lower-cased and stripped first, so "Tuesday 3 March 1998" works. Raises ValueError
    naming the offending text when it is empty, has a character outside :data:`INPUT_CHARS` or
    is longer than :data:`MAX_INPUT_LEN`.
    """
    if isinstance(texts, str):
        raise ValueError("encode_inputs expects a list of strings; wrap a single date as [text]")
    out = np.zeros((len(texts), MAX_INPUT_LEN), dtype=np.int32)
    for n, raw in enumerate(texts):
        if not isinstance(raw, str):
            raise ValueError(f"expected a string date, got {type(raw).__name__}: {raw!r}")
        text = raw.strip().lower()
        if not text:
            raise ValueError("empty date: type a date such as 'tuesday 3 march 1998'")
        unknown = sorted(set(text) - set(INPUT_CHARS))
        if unknown:
            raise ValueError(
                f"{raw!r} contains characters the model has never seen: {unknown}; "
                f"use only letters, digits, space and , . /"
            )
        if len(text) > MAX_INPUT_LEN:
            raise ValueError(
                f"{raw!r} has {len(text)} characters; the model reads at most {MAX_INPUT_LEN}"
            )
        out[n, : len(text)] = [_IN_INDEX[c] for c in text]
    return out


def encode_targets(isos) -> tuple[np.ndarray, np.ndarray]:
    """ISO dates -> (decoder inputs, targets), both int arrays ``(N, OUTPUT_LEN)``.

    Teacher forcing: the decoder reads the true previous character (START first) and is
    trained to predict the next one, so the targets are the decoder inputs shifted left.
    """
    y = np.zeros((len(isos), OUTPUT_LEN), dtype=np.int32)
    for n, iso in enumerate(isos):
        if len(iso) != OUTPUT_LEN or any(c not in _OUT_INDEX for c in iso):
            raise ValueError(f"expected an ISO date like '1998-03-03', got {iso!r}")
        y[n] = [_OUT_INDEX[c] for c in iso]
    dec_in = np.concatenate([np.full((len(isos), 1), START, dtype=np.int32), y[:, :-1]], axis=1)
    return dec_in, y


def decode_outputs(y: np.ndarray) -> list[str]:
    """Int array ``(N, OUTPUT_LEN)`` of output indices -> list of N strings."""
    return ["".join(OUTPUT_CHARS[i] for i in row) for row in np.asarray(y)]


# ---------------------------------------------------------------------------- the models

#: Settings shared by the notebook and benchmarks/attention_dates.py.
SETTINGS = {
    "n_train": 10_000,
    "n_test": 2_000,
    "n_val": 2_000,       # make_splits: validation examples, from days in neither other split
    "embed_dim": 32,
    "units": 64,          # per direction in the encoder; the decoder GRU has 2 * units
    "batch_size": 128,
    "learning_rate": 1e-2,
    "epochs": 3,
    "plain_epochs": 3,    # the model without attention: the same budget (same batches, epochs)
}


def _encoder(embed_dim: int, units: int):
    """Shared start of both models: characters -> bidirectional GRU states.

    Returns (input ``(B, T_in)``, per-character states ``h_seq (B, T_in, 2*units)``, final state
    ``(B, 2*units)`` = last forward state joined to the backward state at the first character).
    """
    import keras
    from keras import layers

    x_in = keras.Input(shape=(MAX_INPUT_LEN,), dtype="int32", name="human")
    # mask_zero: the GRUs skip padding, and the mask travels with h_seq to the attention layer,
    # so padding never receives attention.
    e = layers.Embedding(INPUT_VOCAB_SIZE, embed_dim, mask_zero=True, name="char_embedding")(x_in)
    h_seq, h_fwd, h_bwd = layers.Bidirectional(
        layers.GRU(units, return_sequences=True, return_state=True), name="encoder"
    )(e)
    h_last = layers.Concatenate(name="encoder_final")([h_fwd, h_bwd])
    return x_in, h_seq, h_last


def _decoder_start(embed_dim: int, units: int, h_last):
    """Decoder input and GRU, started from the encoder's final state.

    Returns (input ``(B, T_out)``, decoder states ``s_seq (B, T_out, 2*units)``).
    """
    import keras
    from keras import layers

    y_in = keras.Input(shape=(OUTPUT_LEN,), dtype="int32", name="iso_in")
    d = layers.Embedding(DECODER_VOCAB_SIZE, embed_dim, name="out_embedding")(y_in)
    # return_state so that the same layer can run one step at a time when decoding.
    s_seq, _ = layers.GRU(2 * units, return_sequences=True, return_state=True,
                          name="decoder")(d, initial_state=h_last)
    return y_in, s_seq


def build_attention_model(embed_dim: int = 32, units: int = 64, learning_rate: float = 1e-2):
    """Bidirectional GRU encoder + GRU decoder that attends after its recurrent step.

    The design is Luong et al.'s (2015): the decoder state s_t (after step t) is the query,
    the context c_t is combined as tanh(W [s_t; c_t]) before the softmax. The score is
    ``keras.layers.AdditiveAttention``'s, e_tj = sum(scale * tanh(s_t + h_j)): the additive
    form of Bahdanau et al. (2015) without its query and key projections (W s_t + U h_j).

    Inputs: ``human`` ``(B, T_in)`` character ids and ``iso_in`` ``(B, T_out)`` decoder inputs
    (START, then the true previous characters: teacher forcing). Output: probabilities
    ``(B, T_out, OUTPUT_VOCAB_SIZE)``. With teacher forcing every decoder state s_t is known at
    once, so one call of the attention layer serves all T_out output steps during training.
    Step by step decoding: :func:`greedy_decode`.
    """
    import keras
    from keras import layers

    x_in, h_seq, h_last = _encoder(embed_dim, units)
    y_in, s_seq = _decoder_start(embed_dim, units, h_last)
    # query: decoder states s_t (B, T_out, 2u); keys = values: encoder states h_j (B, T_in, 2u).
    # Asking for the weights here too matters: Keras 3.15 drops them from later functional calls
    # of a layer whose first call did not return them (the decoding graph needs them).
    context, _ = layers.AdditiveAttention(name="attention")([s_seq, h_seq],
                                                            return_attention_scores=True)
    z = layers.Concatenate(name="state_and_context")([s_seq, context])
    z = layers.Dense(2 * units, activation="tanh", name="combine")(z)
    probs = layers.Dense(OUTPUT_VOCAB_SIZE, activation="softmax", name="next_char")(z)
    model = keras.Model([x_in, y_in], probs, name="seq2seq_attention")
    _compile(model, learning_rate)
    return model


def build_plain_model(embed_dim: int = 32, units: int = 64, learning_rate: float = 1e-2):
    """The same encoder-decoder *without* attention: the decoder sees only the final state.

    Everything the decoder learns about the input must squeeze through one vector of
    ``2 * units`` numbers. Same inputs and output as :func:`build_attention_model`.
    """
    import keras
    from keras import layers

    x_in, _, h_last = _encoder(embed_dim, units)
    y_in, s_seq = _decoder_start(embed_dim, units, h_last)
    z = layers.Dense(2 * units, activation="tanh", name="combine")(s_seq)
    probs = layers.Dense(OUTPUT_VOCAB_SIZE, activation="softmax", name="next_char")(z)
    model = keras.Model([x_in, y_in], probs, name="seq2seq_plain")
    _compile(model, learning_rate)
    return model


def _compile(model, learning_rate: float) -> None:
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


# ---------------------------------------------------------------------------- decoding

_INFERENCE = weakref.WeakKeyDictionary()


def _inference_models(model):
    """(encoder, one-step decoder) sharing ``model``'s trained layers; built once per model.

    encoder: ``x (B, T_in) -> h_seq (B, T_in, 2u), h_last (B, 2u)``.
    step: ``[h_seq, x, prev (B, 1), s (B, 2u)] -> probs (B, 1, V), s_new (B, 2u), a (B, 1, T_in)``
    (``a`` is all zeros for a model without attention).
    """
    if model in _INFERENCE:
        return _INFERENCE[model]
    import keras
    from keras import layers, ops

    encoder = keras.Model(model.inputs[0], [model.get_layer("encoder").output[0],
                                            model.get_layer("encoder_final").output],
                          name="encoder_only")
    units2 = model.get_layer("decoder").units
    h_seq = keras.Input(shape=(MAX_INPUT_LEN, units2), name="h_seq")
    x = keras.Input(shape=(MAX_INPUT_LEN,), dtype="int32", name="human")
    prev = keras.Input(shape=(1,), dtype="int32", name="previous_char")
    s_prev = keras.Input(shape=(units2,), name="decoder_state")
    d = model.get_layer("out_embedding")(prev)
    s, s_new = model.get_layer("decoder")(d, initial_state=s_prev)
    names = {layer.name for layer in model.layers}
    if "attention" in names:
        # The padding mask is rebuilt from the characters, as the training graph had it.
        mask = ops.not_equal(x, PAD)
        context, a = model.get_layer("attention")([s, h_seq], mask=[None, mask],
                                                  return_attention_scores=True)
        z = model.get_layer("state_and_context")([s, context])
    else:
        z = s
        a = layers.Lambda(lambda t: ops.zeros_like(ops.cast(t, "float32"))[:, None, :],
                          name="no_attention")(x)
    probs = model.get_layer("next_char")(model.get_layer("combine")(z))
    step = keras.Model([h_seq, x, prev, s_prev], [probs, s_new, a], name="decoder_step")
    _INFERENCE[model] = (encoder, step)
    return encoder, step


def _encoded_batch(x, verb: str) -> np.ndarray:
    """``x`` as int32 ``(N, MAX_INPUT_LEN)`` with N >= 1, or a ValueError saying what is wrong."""
    x = np.asarray(x, dtype=np.int32)
    if x.ndim != 2 or x.shape[1] != MAX_INPUT_LEN:
        raise ValueError(f"x must have shape (N, {MAX_INPUT_LEN}) (use encode_inputs), "
                         f"got {x.shape}")
    if len(x) == 0:
        raise ValueError(f"no dates to {verb}: give at least one")
    return x


def greedy_decode(model, x: np.ndarray):
    """Translate encoded inputs ``x`` ``(N, T_in)`` one output character at a time.

    The encoder runs once; then at each step the decoder reads its own previous guess (START
    first), attends over the encoder states and keeps the most likely character.
    Returns ``(y, A)``: ``y`` int ``(N, T_out)`` and the attention weights ``A``
    ``(N, T_out, T_in)`` used for each output character (zeros for a model without attention).
    """
    x = _encoded_batch(x, "translate")
    encoder, step = _inference_models(model)
    h_seq, s = encoder.predict_on_batch(x)
    prev = np.full((len(x), 1), START, dtype=np.int32)
    y = np.zeros((len(x), OUTPUT_LEN), dtype=np.int32)
    A = np.zeros((len(x), OUTPUT_LEN, MAX_INPUT_LEN), dtype=np.float32)
    for t in range(OUTPUT_LEN):
        probs, s, a = step.predict_on_batch([h_seq, x, prev, s])
        y[:, t] = probs[:, 0].argmax(axis=-1)
        A[:, t] = a[:, 0]
        prev = y[:, t : t + 1]
    return y, A


def translate(model, texts) -> list[str]:
    """Human-written dates (list of str) -> list of ISO strings predicted by ``model``."""
    return decode_outputs(greedy_decode(model, encode_inputs(texts))[0])


def _length_penalty(length: int, alpha: float) -> float:
    """GNMT's length normalisation (Wu et al., 2016, eq. 14): ((5 + length) / 6) ** alpha."""
    return ((5.0 + length) / 6.0) ** alpha


def beam_decode(model, x: np.ndarray, beam_width: int = 3, *, alpha: float = 0.6):
    """Beam search: keep the ``beam_width`` most likely partial outputs at every step.

    Every step extends each kept output by every character and keeps the ``beam_width`` best
    by summed log-probability; at the end the best finished output wins by its score divided
    by the length penalty ``((5 + L) / 6) ** alpha`` of Wu et al. (2016). (Without it a beam
    prefers short outputs, since every character adds a negative log-probability. Every ISO
    date has L = 10 characters, so here the penalty divides all scores by the same number:
    it is implemented for the general case and cannot change this task's ranking.)
    ``beam_width=1`` is greedy decoding. ``x`` ``(N, T_in)`` from :func:`encode_inputs`.
    Returns ``(y, score)``: ``y`` int ``(N, T_out)`` and the winner's normalised log-probability
    ``(N,)``.
    """
    x = _encoded_batch(x, "decode")
    if isinstance(beam_width, bool) or not isinstance(beam_width, (int, np.integer)) \
            or not 1 <= beam_width <= OUTPUT_VOCAB_SIZE:
        raise ValueError(f"beam_width must be an integer in [1, {OUTPUT_VOCAB_SIZE}], "
                         f"got {beam_width!r}")
    if not alpha >= 0:
        raise ValueError(f"alpha (length normalisation) must be >= 0, got {alpha!r}")
    N, k, V = len(x), int(beam_width), OUTPUT_VOCAB_SIZE
    encoder, step = _inference_models(model)
    h_seq, s = encoder.predict_on_batch(x)
    h_seq, xk, s = (np.repeat(a, k, axis=0) for a in (h_seq, x, s))
    scores = np.full((N, k), -np.inf)
    scores[:, 0] = 0.0  # at the start only one beam is alive (they would all be equal)
    seqs = np.zeros((N, k, 0), dtype=np.int32)
    prev = np.full((N * k, 1), START, dtype=np.int32)
    rows = np.arange(N)[:, None]
    for _ in range(OUTPUT_LEN):
        probs, s_new, _ = step.predict_on_batch([h_seq, xk, prev, s])
        logp = np.log(np.maximum(np.asarray(probs, dtype=np.float64)[:, 0], 1e-30))
        cand = (scores[:, :, None] + logp.reshape(N, k, V)).reshape(N, k * V)
        top = np.argsort(-cand, axis=1, kind="stable")[:, :k]  # ties: the lower index, as argmax
        beam, char = top // V, (top % V).astype(np.int32)
        scores = np.take_along_axis(cand, top, axis=1)
        seqs = np.concatenate([seqs[rows, beam], char[:, :, None]], axis=2)
        s = np.asarray(s_new).reshape(N, k, -1)[rows, beam].reshape(N * k, -1)
        prev = char.reshape(N * k, 1)
    final = scores / _length_penalty(OUTPUT_LEN, alpha)
    best = final.argmax(axis=1)
    return seqs[np.arange(N), best], final[np.arange(N), best]



def exact_match(predicted, expected) -> float:
    """Fraction of predictions equal to the expected string in every character."""
    if len(predicted) != len(expected) or not len(expected):
        raise ValueError(f"need two equally long, non-empty lists, got {len(predicted)} and "
                         f"{len(expected)}")
    return float(np.mean([p == e for p, e in zip(predicted, expected, strict=True)]))

#: Input-length buckets (characters, inclusive) for :func:`exact_match_by`.
LENGTH_BUCKETS = ((8, 10), (11, 14), (15, 18), (19, 22), (23, MAX_INPUT_LEN))


def length_bucket(text: str) -> str:
    """The :data:`LENGTH_BUCKETS` label ("8-10", ...) of a written date's length."""
    n = len(text.strip())
    for lo, hi in LENGTH_BUCKETS:
        if lo <= n <= hi:
            return f"{lo}-{hi}"
    raise ValueError(f"{text!r} has {n} characters, outside every bucket "
                     f"({LENGTH_BUCKETS[0][0]} to {LENGTH_BUCKETS[-1][1]})")


def exact_match_by(groups, predicted, expected) -> dict:
    """Exact match per group: ``{group: (exact match, number of examples)}`` in sorted order.

    ``groups``: one label per example, e.g. its format or ``length_bucket(text)``.
    """
    if not (len(groups) == len(predicted) == len(expected)) or not len(groups):
        raise ValueError(f"need three equally long, non-empty lists, got {len(groups)}, "
                         f"{len(predicted)} and {len(expected)}")
    out = {}
    for g in sorted(set(groups)):
        idx = [i for i, gi in enumerate(groups) if gi == g]
        out[g] = (exact_match([predicted[i] for i in idx], [expected[i] for i in idx]), len(idx))
    return out



# ---------------------------------------------------------------------------- training


def make_datasets(settings: dict | None = None, seed: int = 0):
    """Training and held-out examples under :data:`SETTINGS` (held-out days never trained on).

    Returns ``(train_human, train_iso), (test_human, test_iso)``, lists of strings.
    """
    s = {**SETTINGS, **(settings or {})}
    train_days, test_days = split_days(0.1, seed=seed)
    train = make_examples(train_days, s["n_train"], seed=seed + 1)
    test = make_examples(test_days, s["n_test"], seed=seed + 2)
    return train, test

def make_splits(settings: dict | None = None, seed: int = 0):
    """Training, validation and test examples from three disjoint sets of days.

    The days from FIRST_DAY to LAST_DAY are shuffled with ``seed``: 10% become test days,
    another 10% validation days, the rest training days, so no validation or test date was
    seen in training, in any format. Tune on validation; evaluate on test once.
    Returns three ``(human, iso, formats)`` triples of lists with ``n_train``, ``n_val`` and
    ``n_test`` (:data:`SETTINGS`) examples.
    """
    s = {**SETTINGS, **(settings or {})}
    days = np.arange(FIRST_DAY.toordinal(), LAST_DAY.toordinal() + 1)
    days = np.random.default_rng(seed + 100).permutation(days)
    n = int(round(0.1 * len(days)))
    test_days, val_days, train_days = np.sort(days[:n]), np.sort(days[n:2 * n]), \
        np.sort(days[2 * n:])
    return (make_examples(train_days, s["n_train"], seed=seed + 101, with_formats=True),
            make_examples(val_days, s["n_val"], seed=seed + 102, with_formats=True),
            make_examples(test_days, s["n_test"], seed=seed + 103, with_formats=True))



def _progress_bar(total_batches: int, desc: str):
    """The course's Keras progress callback: one bar over all training batches."""
    from course_utils.progress import keras_progress

    return keras_progress(total_batches, desc=desc)


def train_model(train, test=None, settings: dict | None = None, *, attention: bool = True,
                epochs: int | None = None, progress: bool = False, verbose: int = 0):
    """Build and fit the attention model (or, ``attention=False``, the plain one).

    ``train`` and ``test`` are ``(human, iso)`` lists; ``test`` (optional) is used as
    validation data, so the history holds held-out per-character accuracy (teacher-forced)
    after every epoch. Settings default to :data:`SETTINGS`; ``epochs`` defaults to
    ``epochs`` or ``plain_epochs``; ``progress`` shows a bar over the batches.
    Returns ``(model, history, train_seconds)``.
    """
    s = {**SETTINGS, **(settings or {})}
    build = build_attention_model if attention else build_plain_model
    model = build(s["embed_dim"], s["units"], s["learning_rate"])
    x = encode_inputs(train[0])
    dec_in, y = encode_targets(train[1])
    val = None
    if test is not None:
        val = ([encode_inputs(test[0]), encode_targets(test[1])[0]], encode_targets(test[1])[1])
    if epochs is None:
        epochs = s["epochs"] if attention else s["plain_epochs"]
    callbacks = []
    if progress:
        n_batches = -(-len(x) // s["batch_size"]) * epochs
        callbacks.append(_progress_bar(n_batches, "with attention" if attention else "plain"))
    t0 = time.perf_counter()
    history = model.fit([x, dec_in], y, batch_size=s["batch_size"], epochs=epochs,
                        validation_data=val, callbacks=callbacks, verbose=verbose, shuffle=True)
    return model, history, time.perf_counter() - t0
