"""Word embeddings: skip-gram with negative sampling (word2vec) in NumPy, and how to judge them.

The model has two tables of word vectors, ``W_in`` (the embeddings we keep, shape ``(V, D)``)
and ``W_out`` (context vectors, same shape). For a (center, context) pair seen in the text and
``K`` "negative" words drawn at random, the loss is

    L = -log sigmoid(W_in[center] . W_out[context]) - sum_k log sigmoid(-W_in[center] . W_out[neg_k])

so training pulls words that appear together closer and pushes random pairs apart. The same
recipe as the original word2vec and gensim: frequent words are randomly dropped (subsampling),
negatives are drawn from the unigram distribution raised to 0.75, the window is shrunk at random
for each center word, and the learning rate decays linearly to nearly zero.

Unlike gensim (one pair at a time in C), one step here updates a minibatch of pairs with a few
vectorised NumPy operations; the rows of a word that occurs several times in a batch receive the
sum of its gradients.

``train_skipgram`` returns a ``gensim.models.KeyedVectors`` so every gensim query
(``most_similar``, ``similarity``, ``doesnt_match``, ...) works on the NumPy model too.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.special import expit

__all__ = [
    "SkipGram",
    "analogy_accuracy",
    "build_vocab",
    "centered",
    "cooccurrence",
    "check_gradient",
    "embedding_lookup",
    "keep_probabilities",
    "negative_table",
    "keyed_vectors",
    "one_hot",
    "pca_2d",
    "place_labels",
    "ppmi",
    "random_pair_similarity",
    "shared_vocab",
    "plot_word_map",
    "sgns_loss_and_grads",
    "skipgram_pairs",
    "svd_vectors",
    "train_skipgram",
    "wordsim353",
]


# --------------------------------------------------------------------------------------------
# One-hot and lookup
# --------------------------------------------------------------------------------------------


def one_hot(ids, vocab_size: int) -> np.ndarray:
    """One-hot rows for integer ``ids`` of shape ``(N,)``: returns ``(N, vocab_size)`` floats."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids must be a 1-D integer array, got shape {ids.shape} {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"ids must be in [0, {vocab_size}), got min {ids.min()} max {ids.max()}")
    X = np.zeros((len(ids), vocab_size))
    X[np.arange(len(ids)), ids] = 1.0
    return X


def embedding_lookup(W: np.ndarray, ids) -> np.ndarray:
    """Rows of the embedding matrix ``W`` ``(V, D)`` for ``ids`` ``(N,)``: shape ``(N, D)``.

    Equal to ``one_hot(ids, V) @ W``, without building the mostly-zero one-hot matrix.
    """
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= W.shape[0]):
        raise ValueError(f"ids must be in [0, {W.shape[0]}), got min {ids.min()} max {ids.max()}")
    return W[ids]


# --------------------------------------------------------------------------------------------
# Vocabulary, subsampling, negative table, pairs
# --------------------------------------------------------------------------------------------


def build_vocab(sentences: Sequence[Sequence[str]], min_count: int = 5,
                max_vocab: int | None = None) -> tuple[list[str], np.ndarray]:
    """Words seen at least ``min_count`` times, most frequent first (ties alphabetical).

    Returns ``(words, counts)`` with ``counts`` an int64 array of shape ``(V,)``.
    ``max_vocab`` keeps only the most frequent words.
    """
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ValueError(f"min_count must be a positive integer, got {min_count!r}")
    if isinstance(sentences, str):
        raise ValueError("sentences must be a list of token lists, got one str")
    counts = Counter()
    for s in sentences:
        if isinstance(s, str):
            raise ValueError("each sentence must be a list of tokens, got a str "
                             "(tokenise first, e.g. course_utils.text.tokenize)")
        counts.update(s)
    if not counts:
        raise ValueError("the corpus is empty: no tokens to build a vocabulary from")
    kept = [(w, c) for w, c in counts.items() if c >= min_count]
    if not kept:
        raise ValueError(f"every word is below min_count={min_count} (the most frequent word "
                         f"occurs {max(counts.values())} times); lower min_count or add text")
    kept.sort(key=lambda wc: (-wc[1], wc[0]))
    if max_vocab is not None:
        kept = kept[:max_vocab]
    words = [w for w, _ in kept]
    return words, np.array([c for _, c in kept], dtype=np.int64)


def keep_probabilities(counts: np.ndarray, sample: float = 1e-3) -> np.ndarray:
    """Probability of keeping each occurrence of a word during training: shape ``(V,)``.

    word2vec's rule: with ``t = sample * total``, a word seen ``c`` times is kept with
    probability ``(sqrt(c / t) + 1) * t / c`` (capped at 1), so very frequent words such as
    "the" are mostly skipped while rare words are always kept. ``sample=0`` keeps everything.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    t = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / t) + 1.0) * t / counts)


def negative_table(counts: np.ndarray, power: float = 0.75,
                   size: int = 10_000_000) -> np.ndarray:
    """A table of word ids in which word i fills a share ``counts[i] ** power / sum`` of slots.

    Drawing uniform positions in it samples negatives from the smoothed unigram distribution
    (power 0.75 gives rare words more chances than their raw frequency). Shape ``(size,)``.
    """
    weights = np.asarray(counts, dtype=np.float64) ** power
    if weights.ndim != 1 or len(weights) == 0 or not (weights > 0).all():
        raise ValueError("counts must be a non-empty 1-D array of positive counts")
    # Word i owns the slots between its rounded cumulative boundaries.
    ends = np.round(np.cumsum(weights) / weights.sum() * size).astype(np.int64)
    slots = np.diff(ends, prepend=0)
    return np.repeat(np.arange(len(weights), dtype=np.int32), slots)


def skipgram_pairs(ids: np.ndarray, sentence: np.ndarray, window: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All (center, context) pairs of a token stream, with a random window per center.

    ``ids`` ``(N,)`` are word ids and ``sentence`` ``(N,)`` the sentence each token belongs to;
    pairs never cross sentences. Each center gets a window ``b`` drawn from 1..``window`` (so
    close words are paired more often than far ones, as in word2vec). Returns ``(centers,
    contexts)``, two arrays of word ids of the same length, shuffled.
    """
    n = len(ids)
    b = rng.integers(1, window + 1, size=n)
    centers, contexts = [], []
    for o in range(1, window + 1):
        same = sentence[:-o] == sentence[o:]  # token i and token i + o share a sentence
        right = same & (b[:-o] >= o)  # center i sees i + o
        left = same & (b[o:] >= o)  # center i + o sees i
        centers += [ids[:-o][right], ids[o:][left]]
        contexts += [ids[o:][right], ids[:-o][left]]
    centers = np.concatenate(centers)
    contexts = np.concatenate(contexts)
    order = rng.permutation(len(centers))
    return centers[order], contexts[order]


# --------------------------------------------------------------------------------------------
# Loss and gradients
# --------------------------------------------------------------------------------------------


def _forward_backward(h: np.ndarray, U: np.ndarray, mask: np.ndarray | None = None):
    """Per-pair loss and dL/dscore for center vectors ``h`` ``(B, D)`` and output vectors
    ``U`` ``(B, 1 + K, D)`` (column 0 the true context, the rest negatives).

    Returns ``(loss (B,), g (B, 1 + K))`` where ``g = sigmoid(score) - label``. ``mask``
    ``(B, 1 + K)`` zeroes the terms of negatives that happen to equal the true context.
    """
    s = np.einsum("bd,bkd->bk", h, U)
    sig = expit(s)
    g = sig
    g[:, 0] -= 1.0
    # -log sigmoid(s) for the positive, -log sigmoid(-s) for negatives, computed stably.
    sign = np.ones_like(s)
    sign[:, 1:] = -1.0
    terms = np.logaddexp(0.0, -sign * s)
    if mask is not None:
        g *= mask
        terms *= mask
    return terms.sum(axis=1), g


def sgns_loss_and_grads(W_in: np.ndarray, W_out: np.ndarray, centers, contexts, negatives):
    """Skip-gram negative-sampling loss summed over a batch, and its exact gradients.

    Shapes: ``W_in``, ``W_out`` ``(V, D)``; ``centers``, ``contexts`` ``(B,)``;
    ``negatives`` ``(B, K)``. Returns ``(loss, dW_in, dW_out)`` with ``loss`` a float and the
    gradients dense ``(V, D)`` arrays (a word used several times gets the sum). This is the
    reference the minibatch training step must agree with, and what ``check_gradient`` tests.
    """
    centers = np.asarray(centers)
    contexts = np.asarray(contexts)
    negatives = np.asarray(negatives)
    if negatives.ndim != 2 or negatives.shape[0] != len(centers) or len(contexts) != len(centers):
        raise ValueError(f"expected centers (B,), contexts (B,), negatives (B, K); got "
                         f"{centers.shape}, {contexts.shape}, {negatives.shape}")
    idx = np.concatenate([contexts[:, None], negatives], axis=1)  # (B, 1 + K)
    h = W_in[centers]
    U = W_out[idx]
    loss, g = _forward_backward(h, U)
    dW_in = np.zeros_like(W_in)
    dW_out = np.zeros_like(W_out)
    np.add.at(dW_in, centers, np.einsum("bk,bkd->bd", g, U))
    np.add.at(dW_out, idx.ravel(), (g[:, :, None] * h[:, None, :]).reshape(-1, W_in.shape[1]))
    return float(loss.sum()), dW_in, dW_out


def check_gradient(*, vocab_size: int = 12, dim: int = 5, batch: int = 6, negative: int = 3,
                   eps: float = 1e-6, seed: int = 0) -> float:
    """Compare ``sgns_loss_and_grads`` with central differences on a tiny random problem.

    Every entry of ``W_in`` and ``W_out`` is nudged by ``+-eps`` (float64). Returns the largest
    relative error ``|analytic - numeric| / max(1e-8, |analytic| + |numeric|)``; below about
    1e-6 means the gradient formula is right.
    """
    rng = np.random.default_rng(seed)
    W_in = rng.normal(0, 0.5, (vocab_size, dim))
    W_out = rng.normal(0, 0.5, (vocab_size, dim))
    centers = rng.integers(0, vocab_size, batch)
    contexts = rng.integers(0, vocab_size, batch)
    negatives = rng.integers(0, vocab_size, (batch, negative))
    _, dW_in, dW_out = sgns_loss_and_grads(W_in, W_out, centers, contexts, negatives)
    worst = 0.0
    for W, dW in ((W_in, dW_in), (W_out, dW_out)):
        for pos in np.ndindex(W.shape):
            old = W[pos]
            W[pos] = old + eps
            up = sgns_loss_and_grads(W_in, W_out, centers, contexts, negatives)[0]
            W[pos] = old - eps
            down = sgns_loss_and_grads(W_in, W_out, centers, contexts, negatives)[0]
            W[pos] = old
            num = (up - down) / (2 * eps)
            rel = abs(dW[pos] - num) / max(1e-8, abs(dW[pos]) + abs(num))
            worst = max(worst, rel)
    return worst


def _scatter_add(W: np.ndarray, rows: np.ndarray, coef: np.ndarray, X: np.ndarray,
                 cap: float | None = None) -> None:
    """``W[rows[i]] += coef[i] * X[cols[i]]``-style update done as one sparse product.

    ``rows`` ``(M,)`` target rows of ``W``; ``coef`` ``(M,)``; ``X`` ``(B, D)`` with ``M`` a
    multiple of ``B`` (entry i reads row ``i // (M // B)`` of X). Duplicate rows are summed.
    Much faster than ``np.add.at`` for the thousands of repeated rows of a minibatch.

    ``cap``: a row hit ``n > cap`` times gets its summed update scaled by ``cap / n``. One-pair-
    at-a-time SGD sees the row move after every pair; a summed batch update does not, and for
    a word that fills much of a batch (a tiny vocabulary, or "the" as a negative) the sum can
    overshoot and blow up.
    """
    per = len(rows) // X.shape[0]
    # A stable sort of 16-bit keys is a radix sort, about ten times faster than for int32.
    keys = rows.astype(np.uint16) if W.shape[0] <= 2**16 else rows
    order = np.argsort(keys, kind="stable")
    sorted_rows = rows[order]
    new_row = np.flatnonzero(sorted_rows[1:] != sorted_rows[:-1]) + 1
    uniq = sorted_rows[np.concatenate([[0], new_row])]
    indptr = np.concatenate([[0], new_row, [len(rows)]])
    # CSR built directly from the sort (the COO route would sort a second time).
    M = sparse.csr_matrix((coef[order], (order // per).astype(np.int32), indptr),
                          shape=(len(uniq), X.shape[0]))
    update = M @ X
    if cap is not None:
        hits = np.diff(indptr)
        update *= np.minimum(1.0, cap / hits).astype(update.dtype)[:, None]
    # Read, add, write back: W[uniq] += update goes through a much slower indexed-update path.
    W[uniq] = np.take(W, uniq, axis=0) + update


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------


class SkipGram:
    """Skip-gram with negative sampling, trained with minibatch SGD in NumPy.

    After ``fit``: ``words`` (V,), ``counts`` (V,), ``W_in`` and ``W_out`` ``(V, D)`` float32,
    ``history`` (list of dicts: words seen, mean loss per pair, learning rate),
    ``train_seconds`` and ``wv`` (a ``gensim.models.KeyedVectors`` of ``W_in``).
    """

    def __init__(self, *, vector_size: int = 100, window: int = 5, negative: int = 5,
                 min_count: int = 5, epochs: int = 1, seed: int = 0, sample: float = 1e-3,
                 alpha: float = 0.025, min_alpha: float = 1e-4, batch_size: int = 1024,
                 chunk_words: int = 200_000, max_vocab: int | None = None,
                 table_size: int | None = None, max_row_hits: float | None = 16,
                 progress: bool = False):
        for name, value, low in (("vector_size", vector_size, 1), ("window", window, 1),
                                 ("negative", negative, 1), ("epochs", epochs, 1),
                                 ("batch_size", batch_size, 1), ("chunk_words", chunk_words, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not 0 < min_alpha <= alpha:
            raise ValueError(f"need 0 < min_alpha <= alpha, got {min_alpha} and {alpha}")
        self.vector_size, self.window, self.negative = int(vector_size), int(window), int(negative)
        self.min_count, self.epochs, self.seed = min_count, int(epochs), int(seed)
        self.sample, self.alpha, self.min_alpha = float(sample), float(alpha), float(min_alpha)
        self.batch_size, self.chunk_words = int(batch_size), int(chunk_words)
        self.max_vocab, self.table_size, self.progress = max_vocab, table_size, progress
        self.max_row_hits = max_row_hits

    def fit(self, sentences: Sequence[Sequence[str]]) -> SkipGram:
        """Build the vocabulary of ``sentences`` (lists of tokens) and train. Returns ``self``."""
        start = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        if not isinstance(sentences, (list, tuple)):
            sentences = list(sentences)  # read twice below: a generator would be empty the 2nd time
        self.words, self.counts = build_vocab(sentences, self.min_count, self.max_vocab)
        index = {w: i for i, w in enumerate(self.words)}
        V, D = len(self.words), self.vector_size

        # One flat stream of in-vocabulary ids, and the sentence of each token.
        encoded = [[index[w] for w in s if w in index] for s in sentences]
        lengths = np.fromiter((len(s) for s in encoded), dtype=np.int64, count=len(encoded))
        ids = np.fromiter((i for s in encoded for i in s), dtype=np.int32, count=lengths.sum())
        sent = np.repeat(np.arange(len(encoded), dtype=np.int32), lengths)
        del encoded
        self.corpus_words = int(len(ids))
        # Chunks end on sentence boundaries so that no pair is lost between two chunks.
        ends = np.cumsum(lengths)
        cuts = np.unique(np.searchsorted(ends, np.arange(self.chunk_words, ends[-1],
                                                         self.chunk_words)))
        bounds = np.concatenate([[0], ends[cuts], [len(ids)]]).astype(np.int64)
        bounds = np.unique(bounds)

        self.W_in = ((rng.random((V, D), dtype=np.float32) - 0.5) / D).astype(np.float32)
        self.W_out = np.zeros((V, D), dtype=np.float32)
        keep = keep_probabilities(self.counts, self.sample)
        # About 1000 slots per word (at most 10 M): fine-grained enough for rare words.
        table = negative_table(self.counts, size=self.table_size or min(10_000_000, 1000 * V))
        self.history = []
        total = self.epochs * len(ids)
        done = 0
        bar = None
        if self.progress:
            from course_utils.progress import progress_bar

            bar = progress_bar(total, unit="word", unit_scale=True, desc="skip-gram")
        for _ in range(self.epochs):
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                chunk_ids, chunk_sent = ids[a:b], sent[a:b]
                kept = rng.random(len(chunk_ids)) < keep[chunk_ids]
                centers, contexts = skipgram_pairs(chunk_ids[kept], chunk_sent[kept],
                                                   self.window, rng)
                loss_sum = self._train_pairs(centers, contexts, table, rng, done, b - a, total)
                done += int(b - a)
                self.history.append({"words": done, "alpha": self._alpha(done / total),
                                     "loss": loss_sum / max(1, len(centers))})
                if bar is not None:
                    bar.update(int(b - a))
        if bar is not None:
            bar.close()
        if not np.isfinite(self.W_in).all():
            raise FloatingPointError("training diverged (non-finite vectors); lower alpha")
        self.train_seconds = time.perf_counter() - start
        self.words_per_s = total / self.train_seconds
        self.wv = self.to_keyed_vectors()
        return self

    def _alpha(self, progress: float) -> float:
        return self.alpha - (self.alpha - self.min_alpha) * min(1.0, progress)

    def _train_pairs(self, centers, contexts, table, rng, done, chunk_len, total) -> float:
        """SGD over the pairs of one chunk in minibatches; returns the summed loss."""
        B, K = self.batch_size, self.negative
        n = len(centers)
        loss_sum = 0.0
        for s in range(0, n, B):
            c, ctx = centers[s:s + B], contexts[s:s + B]
            neg = table[rng.integers(0, len(table), (len(c), K))]
            idx = np.concatenate([ctx[:, None], neg], axis=1)
            mask = np.ones(idx.shape, dtype=np.float32)
            mask[:, 1:] = neg != ctx[:, None]
            # Learning rate decays linearly with the share of the corpus already read.
            lr = np.float32(self._alpha((done + chunk_len * s / max(1, n)) / total))
            h = self.W_in[c]
            U = self.W_out[idx]
            loss, g = _forward_backward(h, U, mask)
            loss_sum += float(loss.sum())
            g *= -lr
            dh = np.einsum("bk,bkd->bd", g, U)
            _scatter_add(self.W_out, idx.ravel(), g.ravel(), h, self.max_row_hits)
            _scatter_add(self.W_in, c, np.ones(len(c), dtype=np.float32), dh,
                         self.max_row_hits)
        return loss_sum

    def to_keyed_vectors(self):
        """The input vectors as ``gensim.models.KeyedVectors`` (most frequent word first)."""
        kv = _keyed_vectors_class()(self.vector_size, dtype=np.float32)
        kv.add_vectors(self.words, self.W_in)
        for w, c in zip(self.words, self.counts, strict=True):
            kv.set_vecattr(w, "count", int(c))
        return kv


def _keyed_vectors_class():
    """A ``KeyedVectors`` whose unknown-word error says the word is out of vocabulary."""
    from gensim.models import KeyedVectors

    global _CourseKeyedVectors
    if _CourseKeyedVectors is None:

        class CourseKeyedVectors(KeyedVectors):
            def get_index(self, key, default=None):
                if isinstance(key, str) and key not in self.key_to_index and default is None:
                    raise KeyError(f"word {key!r} is out of vocabulary (the model knows "
                                   f"{len(self.index_to_key)} words)")
                return super().get_index(key, default)

        _CourseKeyedVectors = CourseKeyedVectors
    return _CourseKeyedVectors


_CourseKeyedVectors = None


def train_skipgram(sentences: Sequence[Sequence[str]], *, vector_size: int = 100,
                   window: int = 5, negative: int = 5, min_count: int = 5, epochs: int = 1,
                   seed: int = 0, **more):
    """Train skip-gram with negative sampling in NumPy; return ``gensim.models.KeyedVectors``.

    ``sentences`` is a list of token lists (as for gensim's ``Word2Vec``). The keyword
    arguments mean what they mean in gensim; ``more`` passes the rest to ``SkipGram``
    (``sample``, ``alpha``, ``min_alpha``, ``batch_size``, ``max_vocab``, ``progress``, ...).
    Raises ``ValueError`` for an empty corpus or when no word reaches ``min_count``.
    """
    model = SkipGram(vector_size=vector_size, window=window, negative=negative,
                     min_count=min_count, epochs=epochs, seed=seed, **more)
    return model.fit(sentences).wv


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def shared_vocab(*kvs, restrict_vocab: int | None = 30_000) -> set[str]:
    """Words every model in ``kvs`` knows (among its ``restrict_vocab`` most frequent words).

    Pass it as ``vocab=`` to ``wordsim353`` and ``analogy_accuracy`` so that every compared model
    answers exactly the same pairs and questions.
    """
    if not kvs:
        raise ValueError("shared_vocab needs at least one model")
    sets = [set(kv.index_to_key[:restrict_vocab]) for kv in kvs]
    return set.intersection(*sets)


def wordsim353(kv, vocab: set[str] | None = None) -> dict:
    """Spearman correlation of cosine similarity with human ratings on WordSim-353.

    Uses the copy gensim ships (``gensim.test.utils.datapath('wordsim353.tsv')``). Pairs with a
    word missing from ``kv`` (or from ``vocab``, when given) are skipped; ``pairs`` says how many
    of the 353 were scored. ``ci95`` is the 95% interval of the correlation from Fisher's z
    (standard error ``1 / sqrt(pairs - 3)``): what the pairs alone leave uncertain.
    """
    from gensim.test.utils import datapath
    from scipy.stats import spearmanr

    human, model = [], []
    total = 0
    with open(datapath("wordsim353.tsv"), encoding="utf8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            a, b, score = line.strip().split("\t")
            total += 1
            a, b = a.lower(), b.lower()
            if vocab is not None and not (a in vocab and b in vocab):
                continue
            if a in kv.key_to_index and b in kv.key_to_index:
                human.append(float(score))
                model.append(float(kv.similarity(a, b)))
    if len(human) < 4:
        raise ValueError(f"only {len(human)} WordSim-353 pairs are in the vocabulary; "
                         "train on a larger corpus")
    rho = float(spearmanr(human, model).statistic)
    half = 1.96 / np.sqrt(len(human) - 3)
    ci = (float(np.tanh(np.arctanh(rho) - half)), float(np.tanh(np.arctanh(rho) + half)))
    return {"spearman": rho, "pairs": len(human), "total": total, "ci95": ci}


def analogy_accuracy(kv, restrict_vocab: int = 30_000, *, vocab: set[str] | None = None,
                     batch: int = 512) -> dict:
    """Accuracy on Google's analogy questions (``a : b :: c : ?``) by 3CosAdd, vectorised.

    Same rules as gensim's ``evaluate_word_analogies``: words are lowercased, a question is
    scored only if its four words are among the ``restrict_vocab`` most frequent words, the
    answer is the word closest (cosine) to ``b - a + c`` on unit vectors, excluding a, b and c
    (searched among those ``restrict_vocab`` words). ``vocab`` (e.g. from ``shared_vocab``)
    further keeps only questions whose four words are all in it. Returns ``{"accuracy", "correct", "questions", "total", "sections": {name: (correct, n)}}``.
    """
    from gensim.test.utils import datapath

    words = kv.index_to_key[:restrict_vocab]
    index = {w: i for i, w in enumerate(words)}
    E = kv.get_normed_vectors()[: len(words)]
    quads, section_of, names = [], [], []
    total = 0
    with open(datapath("questions-words.txt"), encoding="utf8") as f:
        for line in f:
            if line.startswith(":"):
                names.append(line[1:].strip())
                continue
            total += 1
            q = [index.get(w.lower()) for w in line.split()]
            if vocab is not None and not all(w.lower() in vocab for w in line.split()):
                continue
            if len(q) == 4 and None not in q:
                quads.append(q)
                section_of.append(len(names) - 1)
    quads = np.array(quads, dtype=np.int64).reshape(-1, 4)
    section_of = np.array(section_of, dtype=np.int64)
    hits = np.zeros(len(quads), dtype=bool)
    for s in range(0, len(quads), batch):
        a, b, c, d = quads[s:s + batch].T
        target = E[b] - E[a] + E[c]
        target /= np.linalg.norm(target, axis=1, keepdims=True)
        sims = target @ E.T
        rows = np.arange(len(a))
        for excluded in (a, b, c):
            sims[rows, excluded] = -np.inf
        hits[s:s + batch] = sims.argmax(axis=1) == d
    sections = {name: (int(hits[section_of == i].sum()), int((section_of == i).sum()))
                for i, name in enumerate(names) if (section_of == i).any()}
    n = len(quads)
    return {"accuracy": float(hits.mean()) if n else 0.0, "correct": int(hits.sum()),
            "questions": n, "total": total, "sections": sections}


def keyed_vectors(words: Sequence[str], vectors: np.ndarray, counts=None):
    """A ``gensim.models.KeyedVectors`` of ``vectors`` ``(V, D)``, one row per word."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise ValueError(f"need one row per word: {len(words)} words, vectors {vectors.shape}")
    kv = _keyed_vectors_class()(vectors.shape[1], dtype=np.float32)
    kv.add_vectors(list(words), vectors)
    if counts is not None:
        for w, c in zip(words, counts, strict=True):
            kv.set_vecattr(w, "count", int(c))
    return kv


def centered(kv):
    """The same words with the mean vector subtracted (``KeyedVectors``).

    Word2vec vectors share a common direction, so every cosine is high; removing the mean
    takes it out (Mu & Viswanath 2018 remove a few top directions too).
    """
    return keyed_vectors(kv.index_to_key, kv.vectors - kv.vectors.mean(axis=0))


def random_pair_similarity(kv, n: int, rng: np.random.Generator,
                           restrict_vocab: int | None = 10_000) -> np.ndarray:
    """Cosine similarity of ``n`` random pairs of different words: shape ``(n,)``.

    The baseline a neighbour's similarity should be read against. Words are drawn uniformly from
    the ``restrict_vocab`` most frequent (all when ``None``).
    """
    V = len(kv.index_to_key) if restrict_vocab is None else min(restrict_vocab, len(kv))
    if V < 2 or n < 1:
        raise ValueError(f"need n >= 1 pairs from >= 2 words, got n={n}, {V} words")
    a = rng.integers(0, V, size=n)
    b = (a + rng.integers(1, V, size=n)) % V  # never the same word
    E = kv.get_normed_vectors()
    return np.einsum("nd,nd->n", E[a], E[b])


def cooccurrence(sentences: Sequence[Sequence[str]], words: Sequence[str], window: int = 5):
    """Word-context co-occurrence counts within ``window`` words: sparse CSR ``(V, V)`` float64.

    Words outside ``words`` are removed first (as word2vec does); a context at distance ``d``
    counts ``(window - d + 1) / window``, the average weight word2vec's random window gives it
    (Levy, Goldberg & Dagan 2015). Pairs never cross sentences. Symmetric.
    """
    from scipy import sparse as sp

    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    index = {w: i for i, w in enumerate(words)}
    V = len(words)
    encoded = [[index[w] for w in s if w in index] for s in sentences]
    lengths = np.fromiter((len(s) for s in encoded), dtype=np.int64, count=len(encoded))
    ids = np.fromiter((i for s in encoded for i in s), dtype=np.int32, count=lengths.sum())
    sent = np.repeat(np.arange(len(encoded), dtype=np.int32), lengths)
    del encoded
    C = sp.csr_matrix((V, V), dtype=np.float64)
    for d in range(1, window + 1):
        same = sent[:-d] == sent[d:]
        rows, cols = ids[:-d][same], ids[d:][same]
        weight = np.full(len(rows), (window - d + 1) / window)
        C = C + sp.csr_matrix((weight, (rows, cols)), shape=(V, V))
    return (C + C.T).tocsr()


def ppmi(C, cds: float = 0.75):
    """Positive PMI of a co-occurrence matrix ``C`` ``(V, V)`` (sparse): same shape, sparse.

    ``PMI(w, c) = log(P(w, c) / (P(w) P_cds(c)))`` with the context distribution smoothed by the
    power ``cds`` (0.75, as word2vec's negatives; Levy, Goldberg & Dagan 2015); negative values
    become 0. Levy & Goldberg (2014) showed that skip-gram with k negatives implicitly factorises
    ``PMI - log k``.
    """
    from scipy import sparse as sp

    C = sp.coo_matrix(C, dtype=np.float64)
    total = C.sum()
    if total <= 0:
        raise ValueError("the co-occurrence matrix is empty")
    row = np.asarray(C.sum(axis=1)).ravel()
    col = np.asarray(C.sum(axis=0)).ravel() ** cds
    pmi = np.log(C.data * col.sum() / (row[C.row] * col[C.col]))
    keep = pmi > 0
    return sp.csr_matrix((pmi[keep], (C.row[keep], C.col[keep])), shape=C.shape)


def svd_vectors(M, dim: int, seed: int, *, oversample: int = 20, power_iters: int = 4) -> np.ndarray:
    """Word vectors from the truncated SVD ``M ~ U S V^T``: ``U sqrt(S)``, shape ``(V, dim)``.

    ``sqrt(S)`` (not ``S``) is the weighting Levy, Goldberg & Dagan (2015) found best. Computed
    by randomised SVD (Halko, Martinsson & Tropp 2011): multiply ``M`` by ``dim + oversample``
    random vectors drawn from ``seed``, sharpen with ``power_iters`` power iterations, and take
    the exact SVD of the small projected matrix; a few sparse products instead of an iterative
    eigen-solver, and reproducible.
    """
    if not 1 <= dim < min(M.shape):
        raise ValueError(f"dim must be between 1 and {min(M.shape) - 1}, got {dim}")
    rng = np.random.default_rng(seed)
    k = min(dim + oversample, min(M.shape))
    Q, _ = np.linalg.qr(M @ rng.normal(size=(M.shape[1], k)))
    for _ in range(power_iters):
        Q, _ = np.linalg.qr(M.T @ Q)
        Q, _ = np.linalg.qr(M @ Q)
    B = np.asarray((M.T @ Q).T)  # (k, n) = Q^T M
    Ub, S, _ = np.linalg.svd(B, full_matrices=False)
    U = Q @ Ub[:, :dim]
    # a singular vector's sign is arbitrary: make the largest entry of each positive
    U *= np.sign(U[np.abs(U).argmax(axis=0), np.arange(dim)])
    return (U * np.sqrt(S[:dim])).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------


def pca_2d(X: np.ndarray) -> np.ndarray:
    """Project rows of ``X`` ``(N, D)`` on their two main directions: shape ``(N, 2)``.

    Signs are fixed (largest coordinate of each axis positive) so the map is reproducible.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError(f"pca_2d needs a 2-D array with at least 2 rows, got shape {X.shape}")
    Xc = X - X.mean(axis=0)
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    P = Xc @ Vt[:2].T
    flip = np.sign(P[np.abs(P).argmax(axis=0), np.arange(P.shape[1])])
    return P * np.where(flip == 0, 1, flip)


def plot_word_map(kv, groups: dict[str, Sequence[str]], ax=None, title: str | None = None):
    """Scatter the 2-D PCA projection of the words in ``groups`` (one colour per group).

    Each label is put at whichever of eight spots around its point overlaps the labels and
    points already placed least (``place_labels``), so close words stay readable.
    Raises ``KeyError`` naming any word that is not in ``kv``. Returns the matplotlib axes.
    """
    import matplotlib.pyplot as plt

    missing = [w for ws in groups.values() for w in ws if w not in kv.key_to_index]
    if missing:
        raise KeyError(f"not in the vocabulary (out of vocabulary): {missing}")
    words = [w for ws in groups.values() for w in ws]
    P = pca_2d(np.stack([kv[w] for w in words]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    start = 0
    colors = []
    for name, ws in groups.items():
        pts = P[start:start + len(ws)]
        sc = ax.scatter(pts[:, 0], pts[:, 1], label=name, s=30)
        colors += [sc.get_facecolor()[0]] * len(ws)
        start += len(ws)
    # room for labels and the legend outside the points
    span = P.max(axis=0) - P.min(axis=0)
    ax.set_xlim(P[:, 0].min() - 0.15 * span[0], P[:, 0].max() + 0.15 * span[0])
    ax.set_ylim(P[:, 1].min() - 0.1 * span[1], P[:, 1].max() + 0.1 * span[1])
    place_labels(ax, P, words, colors=colors, fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    if title:
        ax.set_title(title)
    return ax


def place_labels(ax, points: np.ndarray, labels: Sequence[str], *, colors=None,
                 fontsize: float = 9) -> list[tuple[float, float]]:
    """Annotate ``points`` ``(N, 2)`` (data coordinates) with ``labels`` without overlaps.

    Greedy: each label, in order, takes the one of eight offsets around its point whose box
    (estimated from the font size) overlaps the boxes already placed and the points least.
    Returns the chosen offsets in points.
    """
    points = np.asarray(points, dtype=float)
    if points.shape != (len(labels), 2):
        raise ValueError(f"need one (x, y) point per label, got {points.shape} for {len(labels)}")
    fig = ax.figure
    to_pt = 72.0 / fig.dpi
    xy = ax.transData.transform(points) * to_pt  # display coordinates in points
    char_w, h = 0.6 * fontsize, 1.2 * fontsize
    placed: list[tuple[float, float, float, float]] = [(x - 3, y - 3, x + 3, y + 3) for x, y in xy]
    chosen = []
    for i, (label, (x, y)) in enumerate(zip(labels, xy, strict=True)):
        w = char_w * len(label)
        candidates = [(4, 3), (4, -h - 3), (-w - 4, 3), (-w - 4, -h - 3),
                      (-w / 2, 5), (-w / 2, -h - 5), (6, -h / 2), (-w - 6, -h / 2)]
        def overlap(off, x=x, y=y, w=w, i=i):
            x0, y0 = x + off[0], y + off[1]
            total = 0.0
            for j, (a0, b0, a1, b1) in enumerate(placed):
                if j == i:
                    continue  # the label's own point
                dx = min(x0 + w, a1) - max(x0, a0)
                dy = min(y0 + h, b1) - max(y0, b0)
                if dx > 0 and dy > 0:
                    total += dx * dy
            return total
        best = min(candidates, key=overlap)  # first of the least-overlapping, so deterministic
        placed.append((x + best[0], y + best[1], x + best[0] + w, y + best[1] + h))
        ax.annotate(label, tuple(points[i]), xytext=best, textcoords="offset points",
                    fontsize=fontsize, color=None if colors is None else colors[i])
        chosen.append(best)
    return chosen
