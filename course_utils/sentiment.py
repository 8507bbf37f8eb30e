"""IMDB sentiment with Keras: reviews to padded id arrays, the lesson's models, training, prediction.

The path of a review (N = reviews, T = ``maxlen`` time steps, V = ``num_words``):

1. ``tokenize``: raw text -> list of lower-case words (``<br />`` and punctuation removed).
2. ``ReviewVectorizer.fit``: the ``num_words - 2`` most frequent training words get ids
   2..V-1; id 0 is padding (``PAD``), id 1 stands for any other word (``OOV``).
3. ``ReviewVectorizer.encode``: texts -> lists of ids, full length (computed once, reused).
4. ``pad``: lists of ids -> int32 array (N, T), cut and filled on the side you choose.

Models (``build_classifier``, ``build_lecture_model``, ``build_final_model``) take (N, T) int
ids and return (N, 1) probabilities that a review is positive. ``FINAL`` holds the settings of
the lesson's final model; the notebook and ``benchmarks/imdb_lstm.py`` both read it.

TensorFlow/Keras are imported inside the functions that need them, so that
``import course_utils.sentiment`` stays cheap.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "FINAL",
    "OOV",
    "PAD",
    "FinalSettings",
    "NBLogisticRegression",
    "Prediction",
    "ReviewVectorizer",
    "build_classifier",
    "build_final_model",
    "build_lecture_model",
    "confusion_matrix",
    "gradient_norms_vs_length",
    "pad",
    "plot_confusion_matrix",
    "plot_gate_activations",
    "plot_gradient_norms",
    "plot_training_curves",
    "predict_proba",
    "predict_review",
    "prepare_imdb",
    "seconds_per_batch",
    "seconds_per_step",
    "split_validation",
    "tfidf_logistic_regression",
    "tokenize",
    "train",
]

PAD = 0  #: id of the padding "word"
OOV = 1  #: id of every word outside the vocabulary

# A word is a run of letters (any alphabet) with inner apostrophes ("don't"), or a number.
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|\d+")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _check_text(text, what="review"):
    if not isinstance(text, str):
        raise ValueError(f"a {what} must be a str, got {type(text).__name__}")


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise ValueError("expected a list of reviews, got a single str (wrap it in a list)")
    texts = list(texts)
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"review {k} must be a str, got {type(text).__name__}")
    return texts


def tokenize(text: str) -> list[str]:
    """Lower-case words of one review, HTML line breaks and punctuation dropped.

    Letters of any alphabet count ("très", "фильм"), so a review in another language gives
    words too (usually out of vocabulary); an empty or punctuation-only review gives ``[]``.
    """
    _check_text(text)
    return _WORD.findall(_BREAK.sub(" ", text).lower())


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _check_side(name, value):
    if value not in ("pre", "post"):
        raise ValueError(f"{name} must be 'pre' or 'post', got {value!r}")
    return value


class ReviewVectorizer:
    """A word vocabulary fitted on training reviews; turns reviews into id lists.

    ``num_words`` counts the two reserved ids: ``PAD`` (0) and ``OOV`` (1). Ties in word
    frequency are broken by first appearance, so a fit is reproducible.
    """

    def __init__(self, num_words: int = 20_000):
        self.num_words = _check_int("num_words", num_words, 3)
        self.words: list[str] | None = None  # words[i] is the word of id i
        self.index: dict[str, int] | None = None

    def fit(self, texts: Iterable[str]) -> ReviewVectorizer:
        """Count words in ``texts`` (a list of str) and keep the most frequent ones."""
        return self.fit_tokens(tokenize(t) for t in _check_texts(texts))

    def fit_tokens(self, token_lists: Iterable[Sequence[str]]) -> ReviewVectorizer:
        """Like ``fit`` on reviews already split by ``tokenize``."""
        counts = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        if not counts:
            raise ValueError("cannot fit a vocabulary: the reviews contain no words")
        kept = [w for w, _ in counts.most_common(self.num_words - 2)]
        self.words = ["<pad>", "<oov>", *kept]
        self.index = {w: i for i, w in enumerate(self.words)}
        return self

    @property
    def vocabulary_size(self) -> int:
        """Ids in use, PAD and OOV included (<= ``num_words`` for a small corpus)."""
        self._check_fitted()
        return len(self.words)

    def _check_fitted(self):
        if self.index is None:
            raise ValueError("the vectorizer is not fitted yet: call fit(train_texts) first")

    def encode_tokens(self, tokens: Sequence[str]) -> list[int]:
        """One tokenized review -> its ids, unknown words as ``OOV``."""
        self._check_fitted()
        get = self.index.get
        return [get(w, OOV) for w in tokens]

    def encode(self, texts: Iterable[str]) -> list[list[int]]:
        """Reviews (list of str) -> list of id lists, each as long as its review."""
        return [self.encode_tokens(tokenize(t)) for t in _check_texts(texts)]

    def decode(self, ids: Iterable[int]) -> str:
        """Ids -> words joined by spaces (padding skipped, unknown words shown as <oov>)."""
        self._check_fitted()
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.words):
                raise ValueError(f"id {i} is outside the vocabulary [0, {len(self.words)})")
            if i != PAD:
                out.append(self.words[i])
        return " ".join(out)


def pad(id_lists: Sequence[Sequence[int]], maxlen: int, *, padding: str = "pre",
        truncating: str = "pre") -> np.ndarray:
    """Id lists -> int32 array (N, maxlen).

    ``truncating="pre"`` keeps the *last* ``maxlen`` words of a long review (the end of a review
    usually holds the verdict); ``padding="pre"`` puts the zeros before the words, so the words
    are the last thing a left-to-right RNN reads. An empty list gives a row of zeros.
    """
    maxlen = _check_int("maxlen", maxlen, 1)
    _check_side("padding", padding)
    _check_side("truncating", truncating)
    if isinstance(id_lists, np.ndarray) and id_lists.ndim == 2:
        id_lists = list(id_lists)
    X = np.zeros((len(id_lists), maxlen), dtype=np.int32)
    for n, ids in enumerate(id_lists):
        ids = ids[-maxlen:] if truncating == "pre" else ids[:maxlen]
        L = len(ids)
        if L == 0:
            continue
        if padding == "pre":
            X[n, maxlen - L:] = ids
        else:
            X[n, :L] = ids
    return X


def prepare_imdb(num_words: int = 20_000, seed: int = 0):
    """Load, shuffle, tokenize and encode the IMDB train and test reviews, once.

    Returns ``(vectorizer, data)`` where ``data`` is a dict with ``train_ids`` / ``test_ids``
    (lists of 25,000 id lists, full length), ``y_train`` / ``y_test`` (25,000,) int labels
    (1 positive) and ``train_texts`` / ``test_texts``, all in the same shuffled order (the
    files list negatives first, so every subset must come from shuffled data).
    """
    from course_utils.data import load_imdb

    rng = np.random.default_rng(seed)
    data = {}
    vectorizer = ReviewVectorizer(num_words)
    for split in ("train", "test"):
        texts, labels = load_imdb(split)
        order = rng.permutation(len(texts))
        texts = [texts[k] for k in order]
        if split == "train":
            tokens = [tokenize(t) for t in texts]  # counted, then encoded: kept for two passes
            vectorizer.fit_tokens(tokens)
            data["train_ids"] = [vectorizer.encode_tokens(t) for t in tokens]
            del tokens  # millions of word strings: free them before the test split
        else:
            data[f"{split}_ids"] = [vectorizer.encode_tokens(tokenize(t)) for t in texts]
        data[f"{split}_texts"] = texts
        data[f"y_{split}"] = np.asarray(labels)[order].astype(np.int32)
    return vectorizer, data


VALIDATION_SIZE = 5_000  #: training reviews held out for every choice (the test set is not)


def split_validation(data: dict, n_val: int = VALIDATION_SIZE) -> dict:
    """Carve a validation set out of the (already shuffled) training reviews of ``data``.

    Returns a new dict: ``train_ids`` / ``train_texts`` / ``y_train`` keep the first
    ``N - n_val`` training reviews, ``val_ids`` / ``val_texts`` / ``y_val`` the last ``n_val``;
    the test entries are passed on untouched. Every choice (padding, sizes, learning rate,
    epochs) is made on the validation reviews; the test reviews are scored once, at the end.
    (The vocabulary was counted on all training reviews: word counts only, no labels.)
    """
    n = len(data["train_ids"])
    n_val = _check_int("n_val", n_val, 1)
    if n_val >= n:
        raise ValueError(f"n_val must be smaller than the {n} training reviews, got {n_val}")
    out = {k: v for k, v in data.items() if not k.startswith("train") and k != "y_train"}
    cut = n - n_val
    for key, val_key in (("train_ids", "val_ids"), ("train_texts", "val_texts"),
                         ("y_train", "y_val")):
        out[key], out[val_key] = data[key][:cut], data[key][cut:]
    return out


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinalSettings:
    """Everything that defines the lesson's final model and its training run."""

    num_words: int = 20_000
    maxlen: int = 400  # the last 400 words: 85% of reviews fit whole
    embed_dim: int = 64
    conv_filters: int = 64
    conv_width: int = 5
    pool: int = 4  # the LSTM reads 4x fewer, richer steps
    units: int = 64
    cell: str = "lstm"
    learning_rate: float = 2e-3
    batch_size: int = 128
    epochs: int = 1
    padding: str = "pre"
    truncating: str = "pre"
    bidirectional: bool = False
    state_pooling: str = "last"  # or "max": max over every hidden state, not the last one

    def as_dict(self) -> dict:
        return asdict(self)


FINAL = FinalSettings()


def _recurrent_layer(cell, units, **kwargs):
    import keras

    layers = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU,
              "simple": keras.layers.SimpleRNN}
    if cell not in layers:
        raise ValueError(f"cell must be one of {sorted(layers)}, got {cell!r}")
    if cell != "simple":
        # On a CPU there is no cuDNN kernel anyway; saying so lets Keras skip the attempt.
        kwargs.setdefault("use_cudnn", False)
    return layers[cell](units, **kwargs)


def build_classifier(*, num_words: int = 20_000, maxlen: int = 200, embed_dim: int = 32,
                     units: int = 32, cell: str = "lstm", mask_zero: bool = False,
                     bidirectional: bool = False, dropout: float = 0.0,
                     recurrent_dropout: float = 0.0, conv_filters: int = 0,
                     conv_width: int = 5, pool: int = 1, learning_rate: float = 1e-3,
                     state_pooling: str = "last"):
    """Embedding -> [Conv1D -> MaxPooling1D] -> LSTM/GRU -> Dense(1, sigmoid), compiled.

    Input (N, maxlen) int ids, output (N, 1) probability of "positive". ``mask_zero=True``
    makes the recurrent layer skip padding steps. ``conv_filters > 0`` adds a convolution over
    ``conv_width`` neighbouring words followed by max-pooling over ``pool`` steps, so the
    recurrent layer runs ``pool`` times fewer steps. ``state_pooling="max"`` reads out the
    maximum of every hidden state over time instead of the last state only. Loss binary
    cross-entropy, Adam, accuracy.
    """
    import keras
    import tensorflow as tf

    # Every new model traces its own graphs; with several small models in one lesson TF would
    # warn about "excessive retracing", which is expected here and only clutters the output.
    tf.get_logger().setLevel("ERROR")
    num_words = _check_int("num_words", num_words, 3)
    maxlen = _check_int("maxlen", maxlen, 1)
    pool = _check_int("pool", pool, 1)
    if mask_zero and conv_filters:
        raise ValueError("mask_zero=True cannot be combined with the convolution front end")
    if state_pooling not in ("last", "max"):
        raise ValueError(f"state_pooling must be 'last' or 'max', got {state_pooling!r}")
    layers = [keras.Input((maxlen,), dtype="int32"),
              keras.layers.Embedding(num_words, embed_dim, mask_zero=mask_zero)]
    if conv_filters:
        layers.append(keras.layers.Conv1D(conv_filters, conv_width, activation="relu"))
        if pool > 1:
            layers.append(keras.layers.MaxPooling1D(pool))
    rnn = _recurrent_layer(cell, units, dropout=dropout, recurrent_dropout=recurrent_dropout,
                           return_sequences=state_pooling == "max")
    layers.append(keras.layers.Bidirectional(rnn) if bidirectional else rnn)
    if state_pooling == "max":
        layers.append(keras.layers.GlobalMaxPooling1D())
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def build_lecture_model(num_words: int = 20_000, maxlen: int = 80):
    """The model of Keras's examples/imdb_lstm.py: Embedding(20000, 128), LSTM(128, dropout=0.2,
    recurrent_dropout=0.2), Dense(1, sigmoid), Adam at its default rate. (N, maxlen) -> (N, 1).
    """
    return build_classifier(num_words=num_words, maxlen=maxlen, embed_dim=128, units=128,
                            dropout=0.2, recurrent_dropout=0.2)


def build_final_model(settings: FinalSettings = FINAL):
    """The lesson's final model, from ``settings`` (default ``FINAL``). (N, maxlen) -> (N, 1)."""
    s = settings
    return build_classifier(num_words=s.num_words, maxlen=s.maxlen, embed_dim=s.embed_dim,
                            units=s.units, cell=s.cell, conv_filters=s.conv_filters,
                            conv_width=s.conv_width, pool=s.pool,
                            learning_rate=s.learning_rate, bidirectional=s.bidirectional,
                            state_pooling=s.state_pooling)


# ---------------------------------------------------------------------------------------------
# Training and prediction
# ---------------------------------------------------------------------------------------------


def _check_xy(X, y):
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"X must be an (N, T) integer array of word ids, got {X.dtype} {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    return X, y


def _check_model_input(model, X):
    want = model.inputs[0].shape[1]
    if want is not None and X.shape[1] != want:
        raise ValueError(f"the model reads sequences of length {want}, X has {X.shape[1]} "
                         "columns: pad with the model's maxlen")
    vocab = model.layers[0].input_dim if hasattr(model.layers[0], "input_dim") else None
    if X.size and (X.min() < 0 or (vocab is not None and X.max() >= vocab)):
        raise ValueError(f"word ids must lie in [0, {vocab}), got [{X.min()}, {X.max()}]")


def _progress_callback(total_steps: int, desc: str, show: bool):
    """The course's Keras progress callback (it also records each batch's loss/accuracy)."""
    from course_utils.progress import keras_progress

    return keras_progress(total_steps, desc=desc, show=show)


def _batch_timer():
    """A Keras callback that records the wall-clock time at the end of every training batch."""
    import keras

    class BatchTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter())

    return BatchTimer()


def seconds_per_batch(history: dict) -> float:
    """Mean seconds per training batch after the first one, from ``train``'s history.

    The first batch of a new model also traces and compiles its graph (seconds, not
    milliseconds), so the first timed run of a lesson would look slow for reasons that have
    nothing to do with the method; leaving that batch out compares the methods themselves.
    """
    times = history.get("batch_end_times", [])
    if len(times) < 2:
        raise ValueError("need a history from train() with at least 2 batches")
    return (times[-1] - times[0]) / (len(times) - 1)


def train(model, X, y, *, epochs: int = 1, batch_size: int = 128, validation_data=None,
          steps: int | None = None, progress: bool = True, desc: str = "training"):
    """Fit ``model`` on X (N, T) ids and y (N,) labels; returns ``(history, seconds)``.

    ``history`` is Keras's ``History.history`` dict (per-epoch ``loss``, ``accuracy`` and, with
    ``validation_data``, ``val_loss`` / ``val_accuracy``) plus ``batch_loss`` and
    ``batch_accuracy``: one value per batch (that batch alone, before the update). ``seconds`` is
    wall-clock training time, first batch (graph tracing) included; ``seconds_per_batch(history)``
    leaves it out (``batch_end_times`` holds the end time of every batch). ``steps`` caps the batches per epoch (for measurements on a
    slice). ``progress`` shows a tqdm bar.
    """
    X, y = _check_xy(X, y)
    _check_model_input(model, X)
    epochs = _check_int("epochs", epochs, 1)
    batch_size = _check_int("batch_size", batch_size, 1)
    if steps is not None:
        steps = _check_int("steps", steps, 1)
        X, y = X[:steps * batch_size], y[:steps * batch_size]
    n_batches = -(-len(X) // batch_size)
    recorder = _progress_callback(n_batches * epochs, desc, progress)
    timer = _batch_timer()
    start = time.perf_counter()
    hist = model.fit(X, y, batch_size=batch_size, epochs=epochs, shuffle=True,
                     validation_data=validation_data, callbacks=[recorder, timer], verbose=0)
    seconds = time.perf_counter() - start
    history = dict(hist.history)
    history["batch_end_times"] = timer.times
    history["batch_loss"] = recorder.batch_loss
    history["batch_accuracy"] = recorder.batch_accuracy
    return history, seconds


def seconds_per_step(model, X, y, *, batch_size: int = 32, steps: int = 20,
                     clock: str = "wall") -> float:
    """Seconds per training batch, measured after one warm-up call (graph tracing).

    ``clock="wall"``: wall-clock time. ``clock="cpu"``: CPU time of this process (all its
    threads), which measures the work done rather than the wait for a shared CPU: on a machine
    loaded by other jobs it is the fairer comparison between methods.
    """
    X, y = _check_xy(X, y)
    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    if clock not in clocks:
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    need = batch_size * (steps + 1)
    if len(X) < need:
        raise ValueError(f"need at least {need} reviews for {steps} timed steps, got {len(X)}")
    model.fit(X[:batch_size], y[:batch_size], batch_size=batch_size, verbose=0)
    start = clocks[clock]()
    model.fit(X[batch_size:need], y[batch_size:need], batch_size=batch_size, verbose=0)
    return (clocks[clock]() - start) / steps


def predict_proba(model, X, *, batch_size: int = 256) -> np.ndarray:
    """Probabilities that each review is positive, (N,) float.

    Batches of 256 keep the activations of a 400-step model to tens of MiB, so that the
    lesson stays within its 2 GiB of memory.
    """
    X = np.asarray(X)
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.integer):
        raise ValueError(f"X must be an (N, T) integer array of word ids, got {X.dtype} {X.shape}")
    _check_model_input(model, X)
    return model.predict(X, batch_size=batch_size, verbose=0).reshape(-1)


def confusion_matrix(y_true, y_pred) -> np.ndarray:
    """2x2 counts: rows the true class (0 negative, 1 positive), columns the predicted class."""
    y_true = np.asarray(y_true).astype(int).reshape(-1)
    y_pred = np.asarray(y_pred).astype(int).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape} vs {y_pred.shape}")
    if not np.isin(y_true, (0, 1)).all() or not np.isin(y_pred, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    return np.bincount(2 * y_true + y_pred, minlength=4).reshape(2, 2)


@dataclass(frozen=True)
class Prediction:
    """The model's verdict on one typed review."""

    probability: float  # P(positive)
    n_words: int
    n_known: int  # words inside the vocabulary
    truncated: bool  # the review had more than maxlen words; only the last maxlen were read

    @property
    def label(self) -> str:
        return "positive" if self.probability >= 0.5 else "negative"

    def __str__(self):
        note = ""
        if self.n_known < self.n_words / 2:
            note = " (careful: most words are unknown to the model)"
        if self.truncated:
            note += " (long review: only its last words were read)"
        return (f"{self.label} (P(positive) = {self.probability:.2f}; "
                f"{self.n_known} of {self.n_words} words known){note}")


def predict_review(model, vectorizer: ReviewVectorizer, text: str, *,
                   maxlen: int | None = None, padding: str = "pre") -> Prediction:
    """Sentiment of one review typed as a str.

    Unknown words become ``OOV``, a review longer than ``maxlen`` (default: the model's input
    length) keeps its last ``maxlen`` words. A review with no words at all raises ValueError:
    there is nothing to judge.
    """
    _check_text(text)
    tokens = tokenize(text)
    if not tokens:
        raise ValueError("the review has no words (empty, or only punctuation): "
                         "type at least one word")
    if maxlen is None:
        maxlen = model.inputs[0].shape[1]
    ids = vectorizer.encode_tokens(tokens)
    X = pad([ids], maxlen, padding=padding)
    p = float(predict_proba(model, X, batch_size=1)[0])
    return Prediction(probability=p, n_words=len(ids),
                      n_known=sum(i != OOV for i in ids), truncated=len(ids) > maxlen)


# ---------------------------------------------------------------------------------------------
# Gradient flow with the NumPy layers of course_utils.rnn
# ---------------------------------------------------------------------------------------------


def gradient_norms_vs_length(lengths: Sequence[int], *, hidden_size: int = 32,
                             input_size: int = 16, batch: int = 8, seed: int = 0,
                             open_gates: float | None = None) -> dict:
    """||d loss / d h_0|| for a SimpleRNN, an LSTM and a GRU of the same size, per length T.

    Each layer has Keras's default initial weights (seeded); inputs are standard normal
    (batch, T, input_size) and the loss is ``sum(h_T * v)`` for a fixed random v, so only the
    last hidden state feeds the loss and the gradient has to travel back T steps. Returns
    ``{"SimpleRNN": array, "LSTM": array, "GRU": array}``, each (len(lengths),), the mean norm
    over the batch. With ``open_gates=b`` two more entries show what a network that has learnt
    to keep its memory looks like: the LSTM with its forget-gate bias raised by b and the GRU
    with its update-gate bias raised by b (gates closer to "keep the old state").
    """
    from course_utils.rnn import GRU, LSTM, SimpleRNN

    lengths = [_check_int("length", T, 1) for T in lengths]
    if not lengths:
        raise ValueError("lengths must contain at least one sequence length")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(hidden_size)
    xs = rng.standard_normal((batch, max(lengths), input_size))
    H = hidden_size
    layers = {cls.__name__: cls(input_size, H, seed=seed, dtype=np.float64)
              for cls in (SimpleRNN, LSTM, GRU)}
    if open_gates is not None:
        lstm = LSTM(input_size, H, seed=seed, dtype=np.float64)
        lstm.params["b"][H:2 * H] += open_gates  # forget block: f -> 1
        gru = GRU(input_size, H, seed=seed, dtype=np.float64)
        gru.params["b"][0, :H] += open_gates  # update block: z -> 1 keeps h_{t-1}
        layers[f"LSTM, forget bias +{open_gates:g}"] = lstm
        layers[f"GRU, update bias +{open_gates:g}"] = gru
    out = {}
    for name, layer in layers.items():
        norms = []
        for T in lengths:
            layer.forward(xs[:, :T])
            dH = np.zeros((batch, T, hidden_size))
            dH[:, -1] = v
            layer.backward(dH)
            norms.append(np.linalg.norm(layer.dh0, axis=1).mean())
        out[name] = np.array(norms)
    return out


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------








def plot_gate_activations(words: Sequence[str], gates: dict, units: Sequence[int], ax=None):
    """Heat maps of gate values along a sentence.

    ``gates`` maps a gate name to a (T, H) array for one review (e.g. ``LSTM.gates`` of
    ``course_utils.rnn`` at batch index 0); one panel per gate, rows = the chosen ``units``,
    columns = the T ``words``. Returns the figure.
    """
    import matplotlib.pyplot as plt

    T = len(words)
    for name, g in gates.items():
        if np.ndim(g) != 2 or np.shape(g)[0] != T:
            raise ValueError(f"gate {name!r} must be (T={T}, H), got {np.shape(g)}")
    units = list(units)
    fig, axes = plt.subplots(len(gates), 1, figsize=(max(6, 0.42 * T), 1.1 + 0.3 * len(units)
                                                     * len(gates)), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, (name, g) in zip(axes, gates.items(), strict=True):
        vals = np.asarray(g)[:, units].T
        lo = -1.0 if vals.min() < 0 else 0.0
        im = ax.imshow(vals, aspect="auto", cmap="RdBu_r" if lo < 0 else "viridis",
                       vmin=lo, vmax=1.0)
        ax.set_yticks(range(len(units)), [str(u) for u in units], fontsize=7)
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01)
    axes[-1].set_xticks(range(T), words, rotation=60, ha="right", fontsize=9)
    fig.tight_layout()
    return fig


def plot_gradient_norms(lengths, norms: dict, ax=None):
    """Log-scale plot of ||d loss / d h_0|| against sequence length, one line per layer."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, values in norms.items():
        ax.semilogy(lengths, values, marker="o", ms=3, label=name)
    ax.set_xlabel("sequence length T (steps between h_0 and the loss)")
    ax.set_ylabel("||d loss / d h_0||")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax


def plot_training_curves(histories: dict, ax=None, key: str = "batch_accuracy",
                         smooth: int = 10):
    """Training accuracy per batch for several runs on one axes, averaged over ``smooth`` batches.

    ``histories`` maps a run's name to a ``train`` history; epochs are joined end to end.
    """
    import matplotlib.pyplot as plt

    smooth = _check_int("smooth", smooth, 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.5))
    for name, history in histories.items():
        if key not in history:
            raise ValueError(f"history {name!r} has no {key!r}: use the dict that train returns")
        values = np.asarray(history[key], dtype=float)
        w = min(smooth, len(values))
        curve = np.convolve(values, np.ones(w) / w, mode="valid")
        ax.plot(np.arange(w, len(values) + 1), curve, label=name)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("training batch")
    ax.set_ylabel(f"{key.removeprefix('batch_')} (mean of last {smooth} batches)")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_confusion_matrix(cm, ax=None):
    """Show a 2x2 ``confusion_matrix`` with counts and row percentages."""
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    if cm.shape != (2, 2):
        raise ValueError(f"expected a 2x2 confusion matrix, got shape {cm.shape}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.8, 3.4))
    ax.imshow(cm, cmap="Blues")
    names = ["negative", "positive"]
    for r in range(2):
        for c in range(2):
            share = cm[r, c] / max(cm[r].sum(), 1)
            ax.text(c, r, f"{cm[r, c]:,}\n{share:.1%}", ha="center", va="center",
                    color="white" if cm[r, c] > cm.max() / 2 else "black")
    ax.set_xticks([0, 1], names)
    ax.set_yticks([0, 1], names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return ax




# ---------------------------------------------------------------------------------------------
# Bag-of-words baselines (scikit-learn)
# ---------------------------------------------------------------------------------------------


def _strip_breaks(text: str) -> str:
    return _BREAK.sub(" ", text).lower()


def _check_baseline_texts(train_texts, y_train):
    train_texts = _check_texts(train_texts)
    y_train = np.asarray(y_train)
    if y_train.shape != (len(train_texts),) or not np.isin(y_train, (0, 1)).all():
        raise ValueError(f"y_train must hold one 0/1 label per training text ({len(train_texts)}), "
                         f"got shape {y_train.shape}")
    return train_texts, y_train


def tfidf_logistic_regression(train_texts, y_train, *, ngrams: int = 1, min_df: int = 2):
    """A TF-IDF bag-of-words (``ngrams=2``: words and word pairs) + logistic regression.

    Sublinear term frequencies, words seen in at least ``min_df`` training reviews, and
    scikit-learn's default ``LogisticRegression`` (L2, C = 1). Returns a fitted scikit-learn
    pipeline: ``.predict(texts)`` -> (N,) 0/1 labels. The standard strong baseline for IMDB.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, y_train = _check_baseline_texts(train_texts, y_train)
    if ngrams not in (1, 2):
        raise ValueError(f"ngrams must be 1 (words) or 2 (words and word pairs), got {ngrams!r}")
    pipe = make_pipeline(
        TfidfVectorizer(preprocessor=_strip_breaks, ngram_range=(1, ngrams), min_df=min_df,
                        sublinear_tf=True),
        LogisticRegression(max_iter=1000))
    return pipe.fit(train_texts, y_train)


class NBLogisticRegression:
    """NB-SVM's idea (Wang & Manning 2012) with a logistic regression on top.

    Binary word and word-pair features (seen in >= ``min_df`` training reviews) are scaled by
    the naive-Bayes log-count ratio r = log((p / |p|_1) / (q / |q|_1)), with p and q the
    feature counts over positive and negative reviews plus ``alpha``; a logistic regression
    (scikit-learn's default, ``C``) is trained on the scaled features. ``fit(texts, y)``,
    ``predict(texts)`` -> (N,) 0/1 labels.
    """

    def __init__(self, *, ngrams: int = 2, min_df: int = 2, alpha: float = 1.0, C: float = 1.0):
        if ngrams not in (1, 2):
            raise ValueError(f"ngrams must be 1 or 2, got {ngrams!r}")
        if not alpha > 0 or not C > 0:
            raise ValueError(f"alpha and C must be positive, got alpha={alpha}, C={C}")
        self.ngrams, self.min_df, self.alpha, self.C = ngrams, min_df, alpha, C

    def fit(self, texts, y):
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        texts, y = _check_baseline_texts(texts, y)
        self.vectorizer = CountVectorizer(preprocessor=_strip_breaks, binary=True,
                                          ngram_range=(1, self.ngrams), min_df=self.min_df)
        X = self.vectorizer.fit_transform(texts)
        p = self.alpha + np.asarray(X[y == 1].sum(axis=0)).ravel()
        q = self.alpha + np.asarray(X[y == 0].sum(axis=0)).ravel()
        self.r = np.log((p / p.sum()) / (q / q.sum()))
        self.classifier = LogisticRegression(C=self.C, max_iter=1000)
        self.classifier.fit(X.multiply(self.r).tocsr(), y)
        return self

    def predict(self, texts):
        if not hasattr(self, "r"):
            raise RuntimeError("call fit(texts, y) before predict")
        X = self.vectorizer.transform(_check_texts(texts))
        return self.classifier.predict(X.multiply(self.r).tocsr())
