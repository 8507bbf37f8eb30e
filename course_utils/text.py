"""Text as a sequence of tokens: tokenising raw reviews, n-gram language models, bag of words.

The n-gram model stores every n-gram as one integer code (the word ids read as digits in base
``V``, the vocabulary size), so counting and look-up are NumPy sorts and binary searches instead
of Python dictionaries. That is only possible while ``V ** n`` fits in an int64 - the same
overflow that lesson 01 shows - and the model checks it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "BOS",
    "EOS",
    "UNK",
    "NGramModel",
    "bag_of_words",
    "column_neighbours",
    "draw_one_hot_cube",
    "exact_count",
    "tfidf",
    "tokenize",
    "tokenize_all",
]

BOS, EOS, UNK = "<s>", "</s>", "<unk>"

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
# Apostrophes are deleted rather than split on, so "doesn't" stays one token ("doesnt").
_APOSTROPHE = re.compile(r"['\u2019\u00b4`]")
# A token is a run of letters or digits (any alphabet); everything else separates tokens.
_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Lowercase ``text``, drop ``<br />`` tags and punctuation, and split it into words.

    >>> tokenize("It's GREAT.<br /><br />10/10!")
    ['its', 'great', '10', '10']
    """
    if not isinstance(text, str):
        raise ValueError(f"tokenize expects a str, got {type(text).__name__}")
    text = _BREAK.sub(" ", text.lower())
    return _WORD.findall(_APOSTROPHE.sub("", text))


# Bytes -> bytes table for ASCII text: letters and digits stay, every other byte becomes a
# space. Applied with bytes.translate, which runs in C.
_ASCII_TABLE = bytes(c if chr(c).isalnum() else 32 for c in range(256))
# Joins the texts; neither regex above can match it or across it.
_SEP = "\x00"


def tokenize_all(texts: Iterable[str]) -> list[list[str]]:
    """``tokenize`` every text: a list of ``len(texts)`` token lists (the shape gensim wants).

    Gives exactly ``[tokenize(t) for t in texts]``, about 1.5x faster on a large corpus: the
    lowercasing and the ``<br />`` and apostrophe removal run once over all texts joined into
    one string, and ASCII texts (most reviews) are split with a byte table instead of a regex.
    """
    texts = list(texts)
    for t in texts:
        if not isinstance(t, str):
            raise ValueError(f"tokenize_all expects str texts, got {type(t).__name__}")
    # A text that itself contains the separator would be split in two: tokenised alone below.
    joinable = [i for i, t in enumerate(texts) if _SEP not in t]
    big = _SEP.join(texts[i] for i in joinable).lower()
    big = _APOSTROPHE.sub("", _BREAK.sub(" ", big))
    out: list[list[str] | None] = [None] * len(texts)
    for i, doc in zip(joinable, big.split(_SEP) if joinable else [], strict=True):
        if doc.isascii():
            out[i] = doc.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split()
        else:
            out[i] = _WORD.findall(doc)
    return [o if o is not None else tokenize(t) for o, t in zip(out, texts, strict=True)]


def exact_count(vocab_size: int, n: int) -> int:
    """How many different n-grams a vocabulary of ``vocab_size`` words allows: ``V ** n``.

    Computed with Python integers, which never overflow (a NumPy int64 silently wraps above
    ``2**63 - 1``).
    """
    for name, value in (("vocab_size", vocab_size), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(vocab_size) ** int(n)


# --------------------------------------------------------------------------------------------
# n-gram language model
# --------------------------------------------------------------------------------------------


class NGramModel:
    """An order-``n`` word language model with interpolated absolute discounting.

    ``P(w | h)`` for a history ``h`` of the previous ``n - 1`` words is

        max(c(h w) - d, 0) / c(h)  +  d * N(h) / c(h) * P(w | shorter h)

    where ``c`` counts n-grams in the training text and ``N(h)`` is the number of different
    words seen after ``h``. Subtracting ``d`` from every seen count frees probability mass,
    which is handed to the next-shorter history; at the bottom the unigram model is add-one
    smoothed over the vocabulary. So every word of the vocabulary (including ``<unk>``, which
    stands for words seen fewer than ``min_count`` times) gets a probability > 0 and held-out
    perplexity is always finite. A history never seen in training falls back entirely to the
    shorter one.

    Each sentence is padded with ``n - 1`` ``<s>`` tokens in front and one ``</s>`` at the end,
    so the model also learns how sentences start and stop.
    """

    def __init__(self, n: int, *, min_count: int = 2, discount: float = 0.75):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer (1 = unigram), got {n!r}")
        if not 0.0 < discount < 1.0:
            raise ValueError(f"discount must be in (0, 1), got {discount!r}")
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count!r}")
        self.n = int(n)
        self.min_count = int(min_count)
        self.discount = float(discount)
        self.vocab: list[str] = []
        self.index: dict[str, int] = {}
        self._tables: list[tuple[np.ndarray, np.ndarray]] = []  # per order: (codes, counts)
        self._contexts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    # ---- fitting ---------------------------------------------------------------------------

    def fit(self, sentences: Sequence[Sequence[str]]) -> NGramModel:
        """Count every 1..n-gram of ``sentences`` (lists of tokens). Returns ``self``."""
        sentences = [list(s) for s in sentences]
        counts = Counter(w for s in sentences for w in s)
        if not counts:
            raise ValueError("cannot fit an n-gram model on an empty corpus (no tokens)")
        kept = sorted((w for w, c in counts.items() if c >= self.min_count),
                      key=lambda w: (-counts[w], w))
        self.vocab = [BOS, EOS, UNK] + [w for w in kept if w not in (BOS, EOS, UNK)]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        V = len(self.vocab)
        if V ** self.n >= 2**63:
            raise ValueError(
                f"{V} words ** n={self.n} does not fit in an int64 code; raise min_count or lower n"
            )

        stream, targets = self._encode(sentences)
        self._tables, self._contexts = [], []
        for m in range(1, self.n + 1):
            codes = self._codes(stream, targets, m)
            uniq, cnt = np.unique(codes, return_counts=True)
            self._tables.append((uniq, cnt))
            if m > 1:
                # Histories of the m-grams: total count and number of distinct followers.
                hist, first = np.unique(uniq // V, return_index=True)
                total = np.add.reduceat(cnt, first)
                followers = np.diff(np.append(first, len(uniq)))
                self._contexts.append((hist, total, followers))
        self.n_tokens = int(len(targets))
        return self

    def _encode(self, sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Concatenate padded sentences into one id stream; return it and the target positions."""
        pad = [0] * (self.n - 1)
        unk = self.index[UNK]
        ids: list[int] = []
        targets: list[int] = []
        for s in sentences:
            start = len(ids) + len(pad)
            ids.extend(pad)
            ids.extend(self.index.get(w, unk) for w in s)
            ids.append(1)  # </s>
            targets.extend(range(start, len(ids)))
        return np.asarray(ids, dtype=np.int64), np.asarray(targets, dtype=np.int64)

    def _codes(self, stream: np.ndarray, targets: np.ndarray, m: int) -> np.ndarray:
        """Base-V codes of the m-grams ending at ``targets``: shape ``(len(targets),)``."""
        V = len(self.vocab)
        code = np.zeros(len(targets), dtype=np.int64)
        for back in range(m - 1, -1, -1):
            code = code * V + stream[targets - back]
        return code

    def _check_fitted(self) -> None:
        if not self._tables:
            raise ValueError("the model is not fitted yet; call fit(sentences) first")

    # ---- probabilities ---------------------------------------------------------------------

    @staticmethod
    def _lookup(keys: np.ndarray, table: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values[i]`` where ``table[i] == key`` (table sorted), else 0. Shape of ``keys``."""
        pos = np.searchsorted(table, keys)
        pos = np.minimum(pos, len(table) - 1)
        return np.where(table[pos] == keys, values[pos], 0)

    def _prob_codes(self, codes_by_order: list[np.ndarray], order: int) -> np.ndarray:
        """P(last word | its history) for n-grams given as codes of every order 1..``order``."""
        V = len(self.vocab)
        uni_codes, uni_counts = self._tables[0]
        c1 = self._lookup(codes_by_order[0], uni_codes, uni_counts)
        p = (c1 + 1.0) / (self.n_tokens + V)
        d = self.discount
        for m in range(2, order + 1):
            codes = codes_by_order[m - 1]
            table, counts = self._tables[m - 1]
            hist, total, followers = self._contexts[m - 2]
            c = self._lookup(codes, table, counts)
            c_h = self._lookup(codes // V, hist, total)
            n_h = self._lookup(codes // V, hist, followers)
            seen = c_h > 0
            safe = np.where(seen, c_h, 1)
            p = np.where(seen, np.maximum(c - d, 0) / safe + d * n_h / safe * p, p)
        return p

    def _ids(self, words: Sequence[str]) -> list[int]:
        unk = self.index[UNK]
        return [self.index.get(w, unk) for w in words]

    def next_word_probs(self, history: Sequence[str], order: int | None = None) -> np.ndarray:
        """P(w | history) for every word of the vocabulary: shape ``(V,)``, sums to 1.

        Only the last ``order - 1`` words of ``history`` are used (``order`` defaults to n);
        a shorter history is padded with ``<s>`` as at the start of a sentence.
        """
        self._check_fitted()
        order = self._check_order(order)
        V = len(self.vocab)
        hist = ([0] * (order - 1) + self._ids(history))[len(history):]  # last order-1 ids
        w = np.arange(V, dtype=np.int64)
        codes = []
        for m in range(1, order + 1):
            prefix = 0
            for i in hist[len(hist) - (m - 1):len(hist)]:  # the m-1 most recent words
                prefix = prefix * V + i
            codes.append(prefix * V + w)
        p = self._prob_codes(codes, order)
        p[0] = 0.0  # <s> is never predicted; its small unigram share is renormalised away
        return p / p.sum()

    def count(self, words: Sequence[str]) -> int:
        """How often the n-gram ``words`` (1 <= len <= n) occurs in the training text."""
        self._check_fitted()
        m = len(words)
        if not 1 <= m <= self.n:
            raise ValueError(f"count takes 1 to {self.n} words, got {m}")
        code = 0
        for i in self._ids(words):
            code = code * len(self.vocab) + i
        table, counts = self._tables[m - 1]
        return int(self._lookup(np.array([code]), table, counts)[0])

    def perplexity(self, sentences: Sequence[Sequence[str]], order: int | None = None) -> float:
        """exp(mean negative log-probability per token) of held-out ``sentences``.

        Every word and each ``</s>`` is predicted; words outside the vocabulary count as
        ``<unk>``. ``order`` (default n) evaluates the model as if it had been fitted with a
        smaller n, so one fitted 4-gram model gives the perplexities of n = 1..4.
        """
        self._check_fitted()
        order = self._check_order(order)
        saved_n, self.n = self.n, order  # _encode pads with n - 1 <s>
        try:
            stream, targets = self._encode([list(s) for s in sentences])
        finally:
            self.n = saved_n
        if len(targets) == 0:
            raise ValueError("perplexity needs at least one sentence")
        codes = [self._codes(stream, targets, m) for m in range(1, order + 1)]
        logp = np.log(self._prob_codes(codes, order))
        return float(np.exp(-logp.mean()))

    def _check_order(self, order: int | None) -> int:
        if order is None:
            return self.n
        if not 1 <= order <= self.n:
            raise ValueError(f"order must be between 1 and n={self.n}, got {order!r}")
        return int(order)

    def sample(self, rng: np.random.Generator, *, max_words: int = 30,
               prompt: Sequence[str] = (), order: int | None = None) -> list[str]:
        """Draw one sentence word by word from the model (stops at ``</s>``).

        The words of ``prompt`` start the sentence and are included in the result; ``order``
        (default n) samples from the model as if it had been fitted with that n.
        """
        self._check_fitted()
        order = self._check_order(order)
        words = list(prompt)
        for _ in range(max_words):
            p = self.next_word_probs(words, order=order)
            i = int(rng.choice(len(p), p=p))
            if i == 1:
                break
            words.append(self.vocab[i])
        return words

    def unseen_rate(self, sentences: Sequence[Sequence[str]], m: int) -> float:
        """Share of the m-grams of held-out ``sentences`` that never occurred in training."""
        self._check_fitted()
        m = self._check_order(m)
        stream, targets = self._encode([list(s) for s in sentences])
        if len(targets) == 0:
            raise ValueError("unseen_rate needs at least one sentence")
        codes = self._codes(stream, targets, m)
        table, counts = self._tables[m - 1]
        return float((self._lookup(codes, table, counts) == 0).mean())

    def seen_share(self, m: int) -> tuple[int, int]:
        """(distinct m-grams seen in training, m-grams possible ``V ** m``), exact integers."""
        self._check_fitted()
        if not 1 <= m <= self.n:
            raise ValueError(f"m must be between 1 and n={self.n}, got {m!r}")
        return len(self._tables[m - 1][0]), exact_count(len(self.vocab), m)


# --------------------------------------------------------------------------------------------
# Bag of words and TF-IDF
# --------------------------------------------------------------------------------------------


def bag_of_words(docs: Sequence[Sequence[str]], vocab: Sequence[str], *,
                 sparse: bool = False):
    """Count matrix: shape ``(len(docs), len(vocab))``; entry (i, j) counts ``vocab[j]`` in doc i.

    Words outside ``vocab`` are ignored. The order of words inside a document is lost.
    ``sparse=True`` returns a scipy CSR matrix (use it for real vocabularies: a dense matrix of
    10,000 reviews by 30,000 words would need 2.4 GB).
    """
    index = {w: j for j, w in enumerate(vocab)}
    if len(index) != len(vocab):
        raise ValueError("vocab contains duplicate words")
    rows: list[int] = []
    cols: list[int] = []
    for i, doc in enumerate(docs):
        if isinstance(doc, str):
            raise ValueError("each document must be a list of tokens, got a str")
        js = [index[w] for w in doc if w in index]
        cols.extend(js)
        rows.extend([i] * len(js))
    import scipy.sparse as sp

    X = sp.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, cols)),
                      shape=(len(docs), len(vocab)))
    X.sum_duplicates()
    return X if sparse else X.toarray()


def tfidf(counts) -> np.ndarray:
    """TF-IDF weights of a count matrix ``(n_docs, V)`` (dense array or scipy sparse).

    tf = count / words in the document; idf = log((1 + n_docs) / (1 + document frequency)) + 1,
    so a word in every document still keeps a small weight. Returns the same shape and kind
    (sparse in, sparse CSR out).
    """
    import scipy.sparse as sp

    is_sparse = sp.issparse(counts)
    X = sp.csr_matrix(counts, dtype=np.float64) if is_sparse else np.asarray(counts, float)
    if X.ndim != 2:
        raise ValueError(f"counts must be 2-D (n_docs, V), got shape {X.shape}")
    if (X.min() if X.size else 0) < 0:
        raise ValueError("counts must be non-negative")
    n_docs = X.shape[0]
    doc_len = np.asarray(X.sum(axis=1)).ravel()
    df = np.asarray((X > 0).sum(axis=0)).ravel()
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    inv_len = 1.0 / np.where(doc_len > 0, doc_len, 1.0)
    if is_sparse:
        return sp.diags(inv_len) @ X @ sp.diags(idf)
    return X * inv_len[:, None] * idf[None, :]


def column_neighbours(X, vocab: Sequence[str], word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words whose columns of ``X`` ``(n_docs, V)`` are closest (cosine) to ``word``'s.

    With ``X`` a bag-of-words or TF-IDF matrix, a word is represented by the documents it
    occurs in, so neighbours are words used in the same reviews. Raises ``KeyError`` naming a
    word that is out of vocabulary.
    """
    import scipy.sparse as sp

    index = {w: j for j, w in enumerate(vocab)}
    if word not in index:
        raise KeyError(f"word {word!r} is out of vocabulary")
    X = sp.csc_matrix(X, dtype=np.float64)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
    j = index[word]
    sims = np.asarray((X[:, j].T @ X).todense()).ravel() / np.maximum(norms * norms[j], 1e-12)
    sims[j] = -np.inf
    best = np.argsort(-sims, kind="stable")[:k]
    return [(vocab[i], float(sims[i])) for i in best]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


# The diagrams moved to course_utils.diagrams; these names remain until every lesson links
# to img/ instead of drawing into it.
from course_utils.diagrams import draw_one_hot_cube  # noqa: E402, F401
