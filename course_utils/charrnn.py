"""Character-level language models: predict the next character, then write text with them.

The pieces, in the order a lesson uses them:

- ``CharVocab``: the characters of a corpus, ``encode`` (str -> ids) and ``decode`` (ids -> str).
- ``train_val_split``: the corpus as ids, cut into a training head and a validation tail.
- ``StreamBatches``: the training text as B parallel streams read T characters at a time, so
  that batch k+1 of stream b continues exactly where batch k stopped and the hidden state can
  be carried across batches (truncated backpropagation through time).
- ``LectureCharRNN``: the lecture's algorithm (one sequence at a time, one-hot column vectors,
  a Python loop over time, Adagrad) restated compactly, as the baseline to beat.
- ``CharRNN``: the same maths batched: one-hot input, ``course_utils.rnn.SimpleRNN``, a softmax
  output layer, in float32.
- ``softmax_cross_entropy``, ``clip_gradients``, ``Adagrad``, ``Adam``, ``train``: learning.
- ``evaluate``, ``sample``, ``corpus_word_share``: how good is it, and what does it write.
- ``build_keras_char_model``, ``train_keras``, ``KerasCharModel``: the same task in Keras.

Every model here speaks one protocol, so evaluation and sampling work for all of them:
``initial_state(N)`` and ``forward(ids, state) -> (logits, state)`` with ids (N, T) integers
and logits (N, T, V). Losses are in nats per character (natural log); divide by ln 2 for bits.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import numpy as np

from course_utils.gradcheck import numerical_gradient, relative_error
from course_utils.optim import Adagrad, Adam  # noqa: F401 - re-exported: charrnn.Adam(...)
from course_utils.rnn import GRU, LSTM, SimpleRNN, _blas_threads

__all__ = [
    "Adagrad",
    "Adam",
    "CharRNN",
    "CharVocab",
    "History",
    "KerasCharModel",
    "LectureCharRNN",
    "StreamBatches",
    "bits_per_char",
    "build_keras_char_model",
    "check_char_model_gradients",
    "clip_gradients",
    "corpus_word_share",
    "corpus_words",
    "evaluate",
    "gemm_gflops",
    "sample",
    "scheduled_lr",
    "softmax_cross_entropy",
    "train",
    "train_keras",
    "train_val_split",
]

LN2 = math.log(2.0)


def bits_per_char(nats):
    """A loss in nats per character expressed in bits per character (divide by ln 2)."""
    return nats / LN2


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# Vocabulary and batches
# --------------------------------------------------------------------------------------------


class CharVocab:
    """The sorted set of characters of a text, and the maps between characters and ids.

    ``encode(text)`` -> int32 ids of shape (len(text),); ``decode(ids)`` -> str.
    Sorted, so the same corpus always gives the same ids (``set`` order is not stable).
    """

    def __init__(self, text):
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text is empty: a vocabulary needs at least one character")
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self._itos = np.array(self.chars)

    def __len__(self):
        return len(self.chars)

    @property
    def size(self):
        """V, the number of distinct characters."""
        return len(self.chars)

    def __repr__(self):
        return f"CharVocab(size={self.size})"

    def encode(self, text):
        """str of length L -> int32 ids (L,). Unknown characters raise a ValueError."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            shown = ", ".join(f"{c!r} (first at index {text.index(c)})" for c in unknown[:10])
            known = "".join(self.chars[:100]) + ("..." if self.size > 100 else "")
            raise ValueError(f"{len(unknown)} character(s) not in the vocabulary: {shown}; "
                             f"expected only the {self.size} characters of the training text: "
                             f"{known!r}")
        # a lookup table over code points is ~50x faster than a dict per character
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        if codes.size == 0:
            return np.zeros(0, dtype=np.int32)
        table = np.full(int(codes.max()) + 1, -1, dtype=np.int32)
        for c, i in self.stoi.items():
            if ord(c) < table.size:
                table[ord(c)] = i
        return table[codes]

    def decode(self, ids):
        """Integer ids, any 1-D sequence of length L -> str of length L."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(f"ids must be a 1-D sequence of integers, got shape {ids.shape} "
                             f"and dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"ids must lie in [0, {self.size}), got values from {ids.min()} "
                             f"to {ids.max()}")
        return "".join(self._itos[ids]) if ids.size else ""


def train_val_split(ids, val_fraction=0.1):
    """ids (L,) -> (train ids (L - n_val,), validation ids (n_val,)), the validation part last.

    A contiguous tail rather than random characters: the model must not have seen the
    surrounding text of a validation character, or validation would measure memory.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got shape {ids.shape}, "
                         f"dtype {ids.dtype}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")
    n_val = int(round(len(ids) * val_fraction))
    if n_val < 2 or len(ids) - n_val < 2:
        raise ValueError(f"{len(ids)} characters are too few to split with val_fraction="
                         f"{val_fraction}: each part needs at least 2")
    return ids[:-n_val], ids[-n_val:]


class StreamBatches:
    """Iterate over text as ``batch_size`` parallel streams, ``seq_len`` characters at a time.

    The ids (L,) are cut into B equal streams of S = (L - 1) // B characters; stream b covers
    ids[b*S : (b+1)*S] and its targets are the same characters shifted by one. Batch k is
    columns [k*T, (k+1)*T) of every stream: ``x`` (B, T) and ``y`` (B, T) int32 with
    ``y[:, t]`` the character after ``x[:, t]``. Row b of batch k+1 continues row b of batch
    k, so the last hidden state of one batch is the right initial state for the next.
    One pass (``for x, y in batches``) gives ``len(batches)`` batches.
    """

    def __init__(self, ids, batch_size, seq_len):
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a 1-D integer array, got shape {ids.shape}, "
                             f"dtype {ids.dtype}")
        B = _check_int("batch_size", batch_size)
        T = _check_int("seq_len", seq_len)
        if T >= len(ids):
            raise ValueError(f"seq_len={T} is longer than the text: {len(ids)} characters give "
                             f"at most {len(ids) - 1} input/target pairs")
        S = (len(ids) - 1) // B
        if S < T:
            raise ValueError(f"{len(ids)} characters split into batch_size={B} streams leave "
                             f"{S} per stream, fewer than seq_len={T}: use fewer streams or "
                             "shorter sequences")
        self.batch_size, self.seq_len, self.stream_len = B, T, S
        n = (S // T) * T  # whole windows only
        self.x = np.ascontiguousarray(ids[:B * S].reshape(B, S)[:, :n], dtype=np.int32)
        self.y = np.ascontiguousarray(ids[1:B * S + 1].reshape(B, S)[:, :n], dtype=np.int32)

    def __len__(self):
        return self.x.shape[1] // self.seq_len

    @property
    def chars_per_batch(self):
        return self.batch_size * self.seq_len

    def __getitem__(self, k):
        if not -len(self) <= k < len(self):
            raise IndexError(f"batch {k} out of range for {len(self)} batches")
        k %= len(self)
        T = self.seq_len
        return self.x[:, k * T:(k + 1) * T], self.y[:, k * T:(k + 1) * T]

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]


# --------------------------------------------------------------------------------------------
# Loss, clipping, optimisers
# --------------------------------------------------------------------------------------------


def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy (nats) of softmax(logits) against integer targets, and its gradient.

    logits (M, V) or (N, T, V); targets of the leading shape, (M,) or (N, T), in [0, V).
    Returns ``(loss, dlogits)`` with dlogits shaped like logits: d loss / d logits.
    Stable for any logits: the row maximum is subtracted before ``exp`` (the softmax does not
    change), and the log of the normaliser is taken directly (log-sum-exp), never log(p).
    """
    logits = np.asarray(logits)
    targets = np.asarray(targets)
    if logits.ndim < 2 or targets.shape != logits.shape[:-1]:
        raise ValueError(f"targets must have the shape of logits without its last axis: "
                         f"logits {logits.shape}, targets {targets.shape}")
    V = logits.shape[-1]
    if targets.size and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(f"targets must lie in [0, {V})")
    z = logits.reshape(-1, V)
    y = targets.reshape(-1)
    M = z.shape[0]
    rows = np.arange(M)
    p = z - z.max(axis=1, keepdims=True)
    target_z = p[rows, y]
    np.exp(p, out=p)
    s = p.sum(axis=1)
    loss = float(np.mean(np.log(s, dtype=np.float64) - target_z))
    p /= s[:, None]
    p[rows, y] -= 1.0
    p /= M
    return loss, p.reshape(logits.shape)


def clip_gradients(grads, *, max_norm=None, max_value=None):
    """Clip a dict of gradient arrays in place; returns their global L2 norm before clipping.

    ``max_norm``: rescale every array by the same factor so the global norm is <= max_norm
    (keeps the direction). ``max_value``: clip each element to [-max_value, max_value], as the
    lecture does. Either, both or neither.
    """
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm is not None:
        if not max_norm > 0:
            raise ValueError(f"max_norm must be positive, got {max_norm}")
        if norm > max_norm:
            for g in grads.values():
                g *= max_norm / norm
    if max_value is not None:
        if not max_value > 0:
            raise ValueError(f"max_value must be positive, got {max_value}")
        for g in grads.values():
            np.clip(g, -max_value, max_value, out=g)
    return norm


# --------------------------------------------------------------------------------------------
# The lecture's algorithm, restated
# --------------------------------------------------------------------------------------------


class LectureCharRNN:
    """The lecture's character RNN: column vectors, one sequence at a time, a loop over time.

    Weights as in the lecture: ``W_xh`` (H, V), ``W_hh`` (H, H), ``W_hy`` (V, H), ``b_h``
    (H, 1), ``b_y`` (V, 1), initialised N(0, 0.01^2). Per step, with x_t a one-hot column:

        h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)    p_t = softmax(W_hy h_t + b_y)

    ``train_step`` runs forward, backward, elementwise clipping to [-5, 5] and an Adagrad
    update on one sequence, exactly the lecture's recipe; the loss it returns is summed over
    the sequence (nats), as the lecture prints it.
    """

    def __init__(self, vocab_size, hidden_size=500, *, lr=0.1, seed=0, dtype=np.float64):
        V = _check_int("vocab_size", vocab_size)
        H = _check_int("hidden_size", hidden_size)
        rng = np.random.default_rng(seed)
        self.V, self.H, self.lr = V, H, lr
        self.params = {
            "W_xh": (rng.standard_normal((H, V)) * 0.01).astype(dtype),
            "W_hh": (rng.standard_normal((H, H)) * 0.01).astype(dtype),
            "W_hy": (rng.standard_normal((V, H)) * 0.01).astype(dtype),
            "b_h": np.zeros((H, 1), dtype=dtype),
            "b_y": np.zeros((V, 1), dtype=dtype),
        }
        self.mem = {k: np.zeros_like(v) for k, v in self.params.items()}

    def loss_and_grads(self, inputs, targets, h_prev):
        """inputs, targets: T ids each; h_prev (H, 1) -> (summed loss, grads dict, h_T (H, 1))."""
        P = self.params
        W_xh, W_hh, W_hy, b_h, b_y = P["W_xh"], P["W_hh"], P["W_hy"], P["b_h"], P["b_y"]
        xs, hs, ps = {}, {-1: h_prev}, {}
        loss = 0.0
        for t, (i, j) in enumerate(zip(inputs, targets, strict=True)):
            xs[t] = np.zeros((self.V, 1), dtype=W_xh.dtype)
            xs[t][i] = 1.0
            hs[t] = np.tanh(W_xh @ xs[t] + W_hh @ hs[t - 1] + b_h)
            y = W_hy @ hs[t] + b_y
            e = np.exp(y - y.max())
            ps[t] = e / e.sum()
            loss -= float(np.log(ps[t][j, 0]))
        g = {k: np.zeros_like(v) for k, v in P.items()}
        dh_next = np.zeros_like(h_prev)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1.0  # softmax + cross-entropy: p - onehot(target)
            g["W_hy"] += dy @ hs[t].T
            g["b_y"] += dy
            dh = W_hy.T @ dy + dh_next
            da = (1.0 - hs[t] * hs[t]) * dh
            g["b_h"] += da
            g["W_xh"] += da @ xs[t].T
            g["W_hh"] += da @ hs[t - 1].T
            dh_next = W_hh.T @ da
        return loss, g, hs[len(inputs) - 1]

    def train_step(self, inputs, targets, h_prev):
        """One sequence: forward, backward, clip to [-5, 5], Adagrad. -> (loss, h_T)."""
        loss, g, h = self.loss_and_grads(inputs, targets, h_prev)
        clip_gradients(g, max_value=5.0)
        for k, p in self.params.items():
            self.mem[k] += g[k] * g[k]
            p -= self.lr * g[k] / np.sqrt(self.mem[k] + 1e-8)
        return loss, h

    def train_on(self, ids, *, seq_len, n_sequences):
        """Train on ``n_sequences`` consecutive windows of ``seq_len`` characters of ``ids``.

        The hidden state is carried from one window to the next, as the one-sequence recipe
        does. Returns ``(losses, seconds)``: the loss of each window in nats per character
        (measured before that window's update), shape (n_sequences,), and the wall-clock time.
        """
        seq_len = _check_int("seq_len", seq_len)
        n_sequences = _check_int("n_sequences", n_sequences)
        ids = np.asarray(ids)
        if ids.ndim != 1 or len(ids) < n_sequences * seq_len + 1:
            raise ValueError(f"ids must be 1-D with at least n_sequences * seq_len + 1 = "
                             f"{n_sequences * seq_len + 1} characters, got shape {ids.shape}")
        h = np.zeros((self.H, 1), dtype=self.params["W_hh"].dtype)
        losses = np.empty(n_sequences)
        t0 = time.perf_counter()
        for k in range(n_sequences):
            chunk = ids[k * seq_len:(k + 1) * seq_len + 1]
            loss, h = self.train_step(chunk[:-1], chunk[1:], h)
            losses[k] = loss / seq_len
        return losses, time.perf_counter() - t0

    def to_char_rnn(self, dtype=np.float32):
        """The same weights in a batched ``CharRNN`` (row-vector layout: transposed)."""
        model = CharRNN(self.V, self.H, dtype=dtype)
        P = self.params
        model.rnn.set_weights(P["W_xh"].T, P["W_hh"].T, P["b_h"][:, 0])
        model.W_y = P["W_hy"].T.astype(dtype)
        model.b_y = P["b_y"][:, 0].astype(dtype)
        return model


# --------------------------------------------------------------------------------------------
# The batched NumPy model
# --------------------------------------------------------------------------------------------


_CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}


class CharRNN:
    """A character language model: one-hot input -> a recurrent layer -> softmax over V chars.

    ``cell``: "rnn" (``course_utils.rnn.SimpleRNN``, the default), "lstm" (``rnn.LSTM``) or
    "gru" (``rnn.GRU``): the same model around three recurrent layers, so that they can be
    trained with everything else held equal. ``params``: the layer's ``W_x`` (V, G*H),
    ``W_h`` (H, G*H), ``b``, and the output layer's ``W_y`` (H, V), ``b_y`` (V,). For ids
    (N, T) and a state (N, H) - for the LSTM a pair (h, c) of (N, H) arrays:

        h_t = cell(onehot(x_t), h_{t-1})    logits_t = h_t W_y + b_y

    (for the SimpleRNN, h_t = tanh(onehot(x_t) W_x + h_{t-1} W_h + b)).

    ``workers``: the batch's rows are split into this many groups that run forward and
    backward at the same time in threads (NumPy releases the GIL inside its array
    operations), each group's matrix products single-threaded, and their gradients are summed
    in a fixed order. Two groups keep two cores busy on independent work, where BLAS threads
    would wait for each other once per time step. The result does not depend on the number
    of cores, only (in the last float32 bits) on ``workers``.
    """

    #: rows per group below which a batch is not split (the threads would cost more)
    min_rows_per_worker = 4

    def __init__(self, vocab_size, hidden_size, *, seed=0, dtype=np.float32, workers=2,
                 cell="rnn"):
        V = _check_int("vocab_size", vocab_size)
        H = _check_int("hidden_size", hidden_size)
        self.workers = _check_int("workers", workers)
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
        self.cell = cell
        self.rnn = _CELLS[cell](V, H, seed=seed, dtype=dtype)
        self.dtype = self.rnn.dtype
        self.vocab_size, self.hidden_size = V, H
        rng = np.random.default_rng(seed + 1)
        limit = math.sqrt(6.0 / (H + V))
        self.W_y = rng.uniform(-limit, limit, (H, V)).astype(self.dtype)
        self.b_y = np.zeros(V, dtype=self.dtype)
        self._eye = np.eye(V, dtype=self.dtype)
        self._replicas = [self.rnn]
        self._pool = None

    def __repr__(self):
        cell = "" if self.cell == "rnn" else f", cell={self.cell!r}"
        return (f"CharRNN(vocab_size={self.vocab_size}, hidden_size={self.hidden_size}"
                f"{cell}, dtype={self.dtype.name})")

    def __getstate__(self):  # thread pools cannot be pickled or deep-copied; rebuilt on use
        state = self.__dict__.copy()
        state["_pool"] = None
        state["_replicas"] = [self.rnn]
        return state

    @property
    def params(self):
        """Dict of the weight arrays (the arrays themselves: updating them trains)."""
        return {**self.rnn.params, "W_y": self.W_y, "b_y": self.b_y}

    @property
    def n_params(self):
        return sum(p.size for p in self.params.values())

    def initial_state(self, N):
        """Zeros (N, H); for the LSTM a pair (h, c) of zeros (N, H)."""
        h = np.zeros((_check_int("N", N), self.hidden_size), dtype=self.dtype)
        return (h, h.copy()) if self.cell == "lstm" else h

    def _check_ids(self, ids, name="ids"):
        ids = np.asarray(ids)
        if ids.ndim != 2 or ids.shape[0] < 1 or ids.shape[1] < 1:
            raise ValueError(f"{name} must have shape (N, T) with N, T >= 1, got {ids.shape}")
        if not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{name} must hold integer character ids, got dtype {ids.dtype}")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"{name} must lie in [0, {self.vocab_size}), got values from "
                             f"{ids.min()} to {ids.max()}")
        return ids

    def _check_state(self, state, N):
        if state is None:
            return self.initial_state(N)
        want = (N, self.hidden_size)
        if self.cell == "lstm":
            if not isinstance(state, (tuple, list)) or len(state) != 2:
                raise ValueError(f"an LSTM's state must be a pair (h, c) of arrays of shape "
                                 f"(N, H) = {want}, got {type(state).__name__}")
            parts = tuple(np.asarray(s) for s in state)
            if any(p.shape != want for p in parts):
                raise ValueError(f"state (h, c) must have shapes (N, H) = {want}, got "
                                 f"{[p.shape for p in parts]}")
            return parts
        state = np.asarray(state)
        if state.shape != want:
            raise ValueError(f"state must have shape (N, H) = {want}, got {state.shape}")
        return state

    # ------------------------------------------------------------ data-parallel plumbing
    def _groups(self, N):
        """Row slices of the batch, one per worker (a single slice for small batches)."""
        k = min(self.workers, max(1, N // self.min_rows_per_worker))
        edges = np.linspace(0, N, k + 1).astype(int)
        while len(self._replicas) < k:
            # another layer (its own cache and grads) reading the same weight arrays
            r = type(self.rnn)(self.vocab_size, self.hidden_size, dtype=self.dtype)
            r.params = self.rnn.params
            self._replicas.append(r)
        return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]

    def _run(self, fn, groups):
        """fn(i, rows) for every group: group 0 in this thread, the others in the pool."""
        if len(groups) == 1:
            return [fn(0, groups[0])]
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(self.workers - 1, thread_name_prefix="charrnn")
        # one BLAS thread for the whole step, set before the threads start: the RNN's own
        # per-call setting then has nothing to race against
        with _blas_threads(1):
            futures = [self._pool.submit(fn, i, g) for i, g in enumerate(groups) if i]
            first = fn(0, groups[0])
            return [first] + [f.result() for f in futures]

    def _rows(self, state, g):
        return tuple(s[g] for s in state) if self.cell == "lstm" else state[g]

    def _join(self, states):
        if self.cell == "lstm":
            return tuple(np.concatenate([s[j] for s in states]) for j in range(2))
        return np.concatenate(states)

    def _forward_rows(self, i, ids, state):
        """-> (hidden states (n, T, H), logits (n, T, V), last state)."""
        layer = self._replicas[i]
        if self.cell == "lstm":
            Hs = layer.forward(self._eye[ids], *state)
            last = (Hs[:, -1].copy(), layer._cache["Cs"][-1].copy())
        else:
            Hs = layer.forward(self._eye[ids], state)
            last = Hs[:, -1].copy()
        N, T, H = Hs.shape
        logits = Hs.reshape(N * T, H) @ self.W_y
        logits += self.b_y
        return Hs, logits.reshape(N, T, -1), last

    # ------------------------------------------------------------------------ public
    def forward(self, ids, state=None):
        """ids (N, T), state or None -> (logits (N, T, V), state after the last step)."""
        ids = self._check_ids(ids)
        N = ids.shape[0]
        state = self._check_state(state, N)
        groups = self._groups(N)
        with _blas_threads(self.rnn.blas_threads):
            outs = self._run(lambda i, g: self._forward_rows(i, ids[g], self._rows(state, g)),
                             groups)
        logits = np.concatenate([o[1] for o in outs]) if len(outs) > 1 else outs[0][1]
        return logits, self._join([o[2] for o in outs])

    def loss_and_grads(self, x, y, state=None):
        """x, y (N, T) ids, state or None -> (mean loss in nats, grads dict, state after T).

        ``grads`` has the keys of ``params``; the returned state is the one after the last
        step, to start the next batch of the same streams with. ``dh0`` (N, H) is then
        d loss / d h_0 (and, for the LSTM, ``dc0`` d loss / d c_0).
        """
        x = self._check_ids(x, "x")
        y = self._check_ids(y, "y")
        if y.shape != x.shape:
            raise ValueError(f"y must have the shape of x, got {y.shape} and {x.shape}")
        N, T = x.shape
        state = self._check_state(state, N)
        M = N * T

        def work(i, g):
            Hs, logits, last = self._forward_rows(i, x[g], self._rows(state, g))
            n = Hs.shape[0]
            loss, dlogits = softmax_cross_entropy(logits, y[g])
            # each group's mean -> its share of the whole batch's mean
            dlogits *= n * T / M
            H2 = Hs.reshape(n * T, -1)
            d2 = dlogits.reshape(n * T, -1)
            grads = {"W_y": H2.T @ d2, "b_y": d2.sum(axis=0)}
            layer = self._replicas[i]
            layer.backward((d2 @ self.W_y.T).reshape(n, T, -1))
            grads.update(layer.grads)
            return loss * n * T / M, grads, last, layer.dh0, getattr(layer, "dc0", None)

        with _blas_threads(self.rnn.blas_threads):
            outs = self._run(work, self._groups(N))
        loss = sum(o[0] for o in outs)
        grads = outs[0][1]
        for o in outs[1:]:
            for k, g in o[1].items():
                grads[k] += g
        self.dh0 = np.concatenate([o[3] for o in outs])
        if self.cell == "lstm":
            self.dc0 = np.concatenate([o[4] for o in outs])
        return loss, grads, self._join([o[2] for o in outs])


def check_char_model_gradients(model, x, y, state=None, *, eps=1e-6):
    """Relative error of ``model.loss_and_grads`` against central differences, per array.

    ``model`` a float64 ``CharRNN``; x, y (N, T) ids; state (N, H) (an LSTM: a pair (h, c))
    or None. Returns a dict with one entry per parameter and ``"h0"`` (the gradient w.r.t. the
    initial state; for the LSTM also ``"c0"``).
    """
    if model.dtype != np.float64:
        raise ValueError("gradient checking needs a float64 model (float32 round-off is larger "
                         "than the differences measured): CharRNN(..., dtype=np.float64)")
    N = np.asarray(x).shape[0]
    if state is None:
        state = model.initial_state(N)
    lstm = getattr(model, "cell", "rnn") == "lstm"
    if lstm:
        state = tuple(np.array(s, dtype=np.float64) for s in model._check_state(state, N))
    else:
        state = np.array(state, dtype=np.float64)

    def loss(_):
        return model.loss_and_grads(x, y, state)[0]

    _, grads, _ = model.loss_and_grads(x, y, state)
    analytic = {k: v.copy() for k, v in grads.items()}
    analytic["h0"] = model.dh0.copy()
    arrays = {**model.params}
    if lstm:
        analytic["c0"] = model.dc0.copy()
        arrays["h0"], arrays["c0"] = state
    else:
        arrays["h0"] = state
    return {k: relative_error(analytic[k], numerical_gradient(loss, arrays[k], eps=eps))
            for k in analytic}


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------


def evaluate(model, ids, *, batch_size=32, seq_len=100):
    """Mean cross-entropy in nats per character of ``model`` on the text ``ids`` (L,).

    The text is read as ``StreamBatches`` with the hidden state carried across windows, as
    in training, so every character is predicted with its full left context (a fresh zero
    state per window would make the first characters of every window look hard).
    """
    batches = StreamBatches(ids, batch_size, seq_len)
    state = model.initial_state(batch_size)
    total = 0.0
    for x, y in batches:
        logits, state = model.forward(x, state)
        total += softmax_cross_entropy(logits, y)[0]
    return total / len(batches)


@dataclass
class History:
    """What a training run recorded. Lists of equal length per kind of record.

    ``step``/``chars``/``seconds``/``train_loss``: at every evaluation point, the batches
    done, characters trained on, training seconds (evaluation excluded) and the mean
    training loss (nats) since the previous point; ``val_loss``: validation nats at that point.
    """

    step: list = field(default_factory=list)
    chars: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_seconds: float = 0.0
    train_chars: int = 0

    @property
    def chars_per_s(self):
        """Training throughput: characters per second of training (evaluation excluded)."""
        return self.train_chars / self.train_seconds if self.train_seconds else float("nan")

    @property
    def val_bits(self):
        return [bits_per_char(v) for v in self.val_loss]


def _progress(total, desc, enabled):
    from course_utils.progress import progress_bar

    return progress_bar(total, desc=desc, disable=not enabled)


# The pieces below are shared by ``train`` and ``transformer.train_gpt``: one budget rule, one
# learning-rate schedule and one way of recording an evaluation point.


def _check_budget(steps, seconds):
    """Validate a training budget; returns ``steps`` as an int (or None)."""
    if steps is None and seconds is None:
        raise ValueError("give steps, seconds or both: training needs a stopping rule")
    if steps is not None:
        steps = _check_int("steps", steps)
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    return steps


def _budget_done(step, clock, steps, seconds):
    """True once ``step`` updates or ``clock`` training seconds reach the budget."""
    return (steps is not None and step >= steps) or (seconds is not None and clock >= seconds)


def scheduled_lr(lr, step, clock, *, steps=None, seconds=None, warmup=0,
                 final_lr_fraction=1.0):
    """The learning rate of update ``step`` (0-based) after ``clock`` training seconds.

    It rises linearly over the first ``warmup`` updates, and falls linearly from ``lr`` to
    ``final_lr_fraction * lr`` over the budget: the share of ``steps`` done or of ``seconds``
    spent, whichever is larger. Both ``train`` and ``transformer.train_gpt`` use it, so two
    models given the same arguments get the same schedule shape.
    """
    share = max(step / steps if steps is not None else 0.0,
                clock / seconds if seconds is not None else 0.0)
    rate = lr * min(1.0, (step + 1) / warmup) if warmup else lr
    return rate * (1.0 - (1.0 - final_lr_fraction) * min(share, 1.0))


def _record(hist, step, chars, clock, losses, *, model, val_ids, val_batch_size, seq_len, bar,
            unit, on_eval):
    """Append one evaluation point to ``hist`` (and empty ``losses``); then call ``on_eval``."""
    hist.step.append(step)
    hist.chars.append(chars)
    hist.seconds.append(clock)
    hist.train_loss.append(float(np.mean(losses)))
    losses.clear()
    if val_ids is not None:
        hist.val_loss.append(evaluate(model, val_ids, batch_size=val_batch_size,
                                      seq_len=seq_len))
        bar.set_postfix_str(f"val {bits_per_char(hist.val_loss[-1]):.2f} bits/{unit}",
                            refresh=False)
    if on_eval is not None:
        on_eval(step, hist)


def train(model, batches, optimizer, *, steps=None, seconds=None, clip_norm=5.0,
          val_ids=None, val_batch_size=32, eval_every=100, on_eval=None, progress=True,
          desc="train", final_lr_fraction=1.0, warmup=0):
    """Train ``model`` on ``batches`` (a ``StreamBatches``) with truncated BPTT.

    The hidden state of each stream is carried from one batch to the next (and reset to zero
    when a pass over the text starts again). Stops after ``steps`` batches or ``seconds`` of
    training, whichever comes first (at least one must be given). Every ``eval_every`` steps
    and at the end it records the mean training loss and, if ``val_ids`` is given, the
    validation loss (``evaluate`` with ``val_batch_size`` streams and the training
    ``seq_len``); ``on_eval(step, history)`` is then called (e.g. to print a sample; in a
    terminal use ``tqdm.write`` so the progress bar stays intact). Returns a ``History``.

    ``final_lr_fraction`` < 1 decays the optimizer's learning rate linearly, over the steps or
    the time budget (whichever stops training), down to that fraction of its starting value:
    large steps early, fine ones at the end, which lowers the final loss in a fixed budget.
    ``warmup`` > 0 also ramps it up linearly over the first ``warmup`` updates (the schedule
    of ``transformer.train_gpt``; see ``scheduled_lr``).
    """
    steps = _check_budget(steps, seconds)
    eval_every = _check_int("eval_every", eval_every)
    warmup = _check_int("warmup", warmup, minimum=0)
    if not 0 < final_lr_fraction <= 1:
        raise ValueError(f"final_lr_fraction must be in (0, 1], got {final_lr_fraction}")
    lr0 = optimizer.lr
    if not isinstance(batches, StreamBatches):
        raise ValueError(f"batches must be a StreamBatches, got {type(batches).__name__}")
    hist = History()
    B, n_batches = batches.batch_size, len(batches)
    state = model.initial_state(B)
    losses = []
    clock = 0.0
    step = 0
    bar = _progress(steps, desc, progress)
    try:
        while True:
            k = step % n_batches
            if k == 0:
                state = model.initial_state(B)
            t0 = time.perf_counter()
            x, y = batches[k]
            loss, grads, state = model.loss_and_grads(x, y, state)
            if not math.isfinite(loss):
                raise FloatingPointError(f"the training loss became {loss} at step {step}: "
                                         "lower the learning rate or clip harder")
            clip_gradients(grads, max_norm=clip_norm)
            optimizer.lr = scheduled_lr(lr0, step, clock, steps=steps, seconds=seconds,
                                        warmup=warmup, final_lr_fraction=final_lr_fraction)
            optimizer.update(model.params, grads)
            clock += time.perf_counter() - t0
            step += 1
            losses.append(loss)
            bar.update(1)
            done = _budget_done(step, clock, steps, seconds)
            if step % eval_every == 0 or done:
                _record(hist, step, step * batches.chars_per_batch, clock, losses, model=model,
                        val_ids=val_ids, val_batch_size=val_batch_size,
                        seq_len=batches.seq_len, bar=bar, unit="char", on_eval=on_eval)
            if done:
                break
    finally:
        bar.close()
        optimizer.lr = lr0
    hist.train_seconds = clock
    hist.train_chars = step * batches.chars_per_batch
    return hist


# --------------------------------------------------------------------------------------------
# Writing text
# --------------------------------------------------------------------------------------------


def sample(model, vocab, prompt, length, *, temperature=1.0, top_k=None, seed=0):
    """Continue ``prompt`` by ``length`` characters drawn from ``model``; returns prompt + them.

    The prompt is read first (its characters set the hidden state); then, repeatedly, the
    next character is drawn from softmax(logits / temperature), restricted to the ``top_k``
    most likely characters if given, and fed back in. Temperature < 1 sharpens the
    distribution (safer, more repetitive text), > 1 flattens it (more surprising, more
    misspelt). Seeded: the same arguments give the same text.
    """
    if not isinstance(prompt, str) or not prompt:
        raise ValueError("prompt must be a non-empty str: the model needs a character to "
                         "start from")
    length = _check_int("length", length, minimum=0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not temperature > 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    V = len(vocab)
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or not 1 <= top_k <= V):
        raise ValueError(f"top_k must be None or an integer in [1, {V}], got {top_k!r}")
    ids = vocab.encode(prompt)  # ValueError for characters outside the vocabulary
    rng = np.random.default_rng(seed)
    logits, state = model.forward(ids[None, :], model.initial_state(1))
    z = logits[0, -1]
    out = []
    for _ in range(length):
        z = z.astype(np.float64) / temperature
        if top_k is not None and top_k < V:
            cut = np.partition(z, V - top_k)[V - top_k]
            z = np.where(z >= cut, z, -np.inf)
        p = np.exp(z - z.max())
        cdf = np.cumsum(p)
        # inverse-CDF draw: one uniform number per character, reproducible across NumPy versions
        i = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        i = min(i, V - 1)
        out.append(i)
        logits, state = model.forward(np.array([[i]]), state)
        z = logits[0, -1]
    return prompt + vocab.decode(np.array(out, dtype=np.int64))


_EDGE_PUNCT = re.compile(r"^[^\w]+|[^\w]+$")


def _words(text):
    """Whitespace-separated tokens, outer punctuation stripped, lower-cased; only those
    containing a letter ("--" or "3" are not words)."""
    out = []
    for tok in text.split():
        w = _EDGE_PUNCT.sub("", tok).lower()
        if any(c.isalpha() for c in w):
            out.append(w)
    return out


def corpus_words(text):
    """The set of words of a corpus (tokens as in ``corpus_word_share``)."""
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty str")
    return set(_words(text))


def corpus_word_share(generated, words):
    """Share of the words of ``generated`` that are words of the corpus -> (share, n_words).

    A word is a whitespace-separated token with its leading and trailing punctuation removed,
    compared ignoring case; tokens without a letter are skipped. ``words``: a set from
    ``corpus_words``. Returns (nan, 0) when the text has no words.
    """
    if not isinstance(generated, str):
        raise ValueError(f"generated must be a str, got {type(generated).__name__}")
    if not isinstance(words, (set, frozenset)) or not words:
        raise ValueError("words must be a non-empty set of corpus words (see corpus_words)")
    ws = _words(generated)
    if not ws:
        return float("nan"), 0
    return sum(w in words for w in ws) / len(ws), len(ws)


# --------------------------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------------------------


def build_keras_char_model(vocab_size, hidden_size, *, cell="lstm", lr=2e-3, clipnorm=5.0):
    """A compiled Keras model: one-hot characters (N, T, V) -> ``cell`` -> logits (N, T, V).

    ``cell``: "lstm" or "simplernn". Adam with gradient clipping by norm, sparse
    categorical cross-entropy on logits (targets are ids (N, T)).
    """
    import keras

    V = _check_int("vocab_size", vocab_size)
    H = _check_int("hidden_size", hidden_size)
    layers = {"lstm": keras.layers.LSTM, "simplernn": keras.layers.SimpleRNN}
    if cell not in layers:
        raise ValueError(f"cell must be one of {sorted(layers)}, got {cell!r}")
    inputs = keras.Input((None, V), name="one_hot_chars")
    h = layers[cell](H, return_sequences=True, name=cell)(inputs)
    logits = keras.layers.Dense(V, name="next_char_logits")(h)
    model = keras.Model(inputs, logits, name=f"char_{cell}")
    model.compile(optimizer=keras.optimizers.Adam(lr, clipnorm=clipnorm),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _keras_windows(ids, batch_size, seq_len, vocab_size, seed):
    """A repeating tf.data pipeline of shuffled non-overlapping windows: (one-hot x, y)."""
    import tensorflow as tf

    ids = np.asarray(ids)
    n = (len(ids) - 1) // seq_len
    if n < batch_size:
        raise ValueError(f"{len(ids)} characters give {n} windows of seq_len={seq_len}, "
                         f"fewer than batch_size={batch_size}")
    x = ids[:n * seq_len].reshape(n, seq_len).astype(np.int32)
    y = ids[1:n * seq_len + 1].reshape(n, seq_len).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda a, b: (tf.one_hot(a, vocab_size), b))
    return ds.prefetch(2)


def train_keras(model, train_ids, *, steps, batch_size=64, seq_len=100, val_ids=None,
                val_batch_size=32, eval_every=100, on_eval=None, progress=True, seed=0,
                desc="keras"):
    """Train a ``build_keras_char_model`` model for ``steps`` batches; returns a ``History``.

    Windows of ``seq_len`` characters in shuffled order, each starting from a zero state (the
    usual Keras setup). Validation uses ``evaluate`` on a NumPy copy of the weights, the same
    measurement as for the NumPy models.
    """
    import keras

    steps = _check_int("steps", steps)
    eval_every = _check_int("eval_every", eval_every)
    V = model.input_shape[-1]
    ds = _keras_windows(train_ids, batch_size, seq_len, V, seed)
    hist = History()
    bar = _progress(steps, desc, progress)
    state = {"clock": 0.0, "t0": 0.0, "losses": []}

    class _Recorder(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            state["t0"] = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            state["clock"] += time.perf_counter() - state["t0"]
            step = batch + 1
            state["losses"].append(float(logs["loss"]))
            bar.update(1)
            if step % eval_every == 0 or step == steps:
                hist.step.append(step)
                hist.chars.append(step * batch_size * seq_len)
                hist.seconds.append(state["clock"])
                # Keras reports the running mean over the epoch so far; keep the latest
                hist.train_loss.append(state["losses"][-1])
                if val_ids is not None:
                    hist.val_loss.append(evaluate(KerasCharModel(model), val_ids,
                                                  batch_size=val_batch_size, seq_len=seq_len))
                    bar.set_postfix_str(f"val {bits_per_char(hist.val_loss[-1]):.2f} bits/char",
                                        refresh=False)
                if on_eval is not None:
                    on_eval(step, hist)

    try:
        model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False,
                  callbacks=[_Recorder()])
    finally:
        bar.close()
    hist.train_seconds = state["clock"]
    hist.train_chars = steps * batch_size * seq_len
    return hist


class KerasCharModel:
    """A NumPy copy of a ``build_keras_char_model`` model speaking the course protocol.

    Built from the Keras weights at construction time (via ``course_utils.rnn``), so
    ``evaluate`` and ``sample`` run on it without calling TensorFlow once per character.
    The state is h (N, H) for a SimpleRNN and (h, c) for an LSTM.
    """

    def __init__(self, keras_model, dtype=np.float32):
        import keras

        rnn_layers = [la for la in keras_model.layers
                      if isinstance(la, (keras.layers.LSTM, keras.layers.SimpleRNN))]
        dense = [la for la in keras_model.layers if isinstance(la, keras.layers.Dense)]
        if len(rnn_layers) != 1 or len(dense) != 1:
            raise ValueError("expected a model from build_keras_char_model: one LSTM or "
                             "SimpleRNN layer and one Dense layer")
        layer = rnn_layers[0]
        cls = LSTM if isinstance(layer, keras.layers.LSTM) else SimpleRNN
        self.rnn = cls.from_keras(layer, dtype=dtype)
        self.W_y, self.b_y = (w.astype(dtype) for w in dense[0].get_weights())
        self.vocab_size, self.hidden_size = self.W_y.shape[1], self.W_y.shape[0]
        self.dtype = np.dtype(dtype)
        self._eye = np.eye(self.vocab_size, dtype=dtype)

    def initial_state(self, N):
        h = np.zeros((_check_int("N", N), self.hidden_size), dtype=self.dtype)
        return (h, h.copy()) if isinstance(self.rnn, LSTM) else h

    def forward(self, ids, state=None):
        """ids (N, T), state -> (logits (N, T, V), state after the last step)."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be integers of shape (N, T), got {ids.shape}")
        N, T = ids.shape
        if state is None:
            state = self.initial_state(N)
        if isinstance(self.rnn, LSTM):
            Hs = self.rnn.forward(self._eye[ids], *state)
            new_state = (Hs[:, -1].copy(), self.rnn.cell_states[:, -1].copy())
        else:
            Hs = self.rnn.forward(self._eye[ids], state)
            new_state = Hs[:, -1].copy()
        logits = Hs.reshape(N * T, -1) @ self.W_y + self.b_y
        return logits.reshape(N, T, -1), new_state


# --------------------------------------------------------------------------------------------
# Measuring the machine
# --------------------------------------------------------------------------------------------


def gemm_gflops(n=1024, repeats=5, dtype=np.float32, *, threads=None):
    """Float32 matrix-multiply speed of this machine, in GFLOP/s: best of ``repeats`` n x n
    products (2 n^3 floating-point operations each) - the ceiling for any dense model.

    ``threads``: BLAS threads for the measurement (None: NumPy's setting). On a busy machine
    one thread can beat two, so a fair "peak" is the best over both.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = a @ b
    best = float("inf")
    with _blas_threads(threads):
        for _ in range(repeats):
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


# --------------------------------------------------------------------------------------------
# Figure
# --------------------------------------------------------------------------------------------
