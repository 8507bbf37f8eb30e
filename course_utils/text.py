"""Text as a sequence of tokens: tokenising raw reviews, n-gram language models, bag of words.

The n-gram model stores every n-gram as one integer code (the word ids read as digits in base
``V``, the vocabulary size), so counting and look-up are NumPy sorts and binary searches instead
of Python dictionaries. That is only possible while ``V ** n`` fits in an int64 - the same
overflow that lesson 01 shows - and the model checks it.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "BOS",
    "Corpus",
    "EOS",
    "UNK",
    "NGramModel",
    "bag_of_words",
    "column_neighbours",
    "exact_count",
    "longest_copied_run",
    "JoinedCorpus",
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


class Corpus:
    """Tokenised texts held as integer ids: one int32 array of every token, and offsets.

    A list of 23 million Python strings takes about 2 GB; the same tokens as ids take 93 MB.
    Iterating over a ``Corpus`` yields each text as a list of ``str`` made on the fly from the
    ids (the strings themselves are shared, one per distinct word), which is what gensim's
    ``Word2Vec`` reads, once per epoch. ``Corpus(texts)`` tokenises with ``tokenize_all``, so it
    holds exactly the tokens of ``[tokenize(t) for t in texts]``.

    Attributes: ``words`` (distinct words, in order of first appearance), ``ids`` ``(N,)``
    int32, ``offsets`` ``(len(corpus) + 1,)`` int64 (text ``i`` is ``ids[offsets[i]:offsets[i+1]]``),
    ``index`` (word -> id).
    """

    def __init__(self, texts: Iterable[str], *, chunk: int = 5_000):
        if isinstance(texts, str):
            raise ValueError("Corpus expects an iterable of texts, got a single str")
        self.index: dict[str, int] = {}
        parts: list[np.ndarray] = []
        lengths: list[int] = []
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) == chunk:
                self._add(batch, parts, lengths)
                batch = []
        if batch:
            self._add(batch, parts, lengths)
        self.ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        self.words = list(self.index)
        self._word_array = np.array(self.words, dtype=object)

    def _add(self, batch: list[str], parts: list[np.ndarray], lengths: list[int]) -> None:
        index = self.index
        for tokens in tokenize_all(batch):
            # a new word gets the next free id
            parts.append(np.fromiter((index.setdefault(w, len(index)) for w in tokens),
                                     dtype=np.int32, count=len(tokens)))
            lengths.append(len(tokens))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def counts(self) -> np.ndarray:
        """How often each word of ``words`` occurs: shape ``(len(words),)``."""
        return np.bincount(self.ids, minlength=len(self.words))

    def __getitem__(self, i: int) -> list[str]:
        if not -len(self) <= i < len(self):
            raise IndexError(f"text {i} out of range for a corpus of {len(self)} texts")
        i %= len(self)
        return self._word_array[self.ids[self.offsets[i]:self.offsets[i + 1]]].tolist()

    def __iter__(self):
        for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True):
            yield self._word_array[self.ids[a:b]].tolist()


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
    """An order-``n`` word language model, interpolated Kneser-Ney or absolute discounting.

    ``P(w | h)`` for a history ``h`` of the previous ``n - 1`` words is

        max(c(h w) - D, 0) / c(h)  +  D * N(h) / c(h) * P(w | shorter h)

    where ``c`` counts n-grams in the training text and ``N(h)`` is the number of different
    words seen after ``h``. Subtracting ``D`` from every seen count frees probability mass,
    which is handed to the next-shorter history. A history never seen in training falls back
    entirely to the shorter one, so an unseen history costs nothing compared with a model of
    lower order; the mass moved for histories seen once or twice is what decides whether more
    context helps.

    - ``smoothing="kneser-ney"`` (default): the shorter histories are estimated from
      *continuation counts* (in how many different contexts an n-gram was seen) instead of raw
      counts (Kneser & Ney 1995; Chen & Goodman 1999, "interpolated Kneser-Ney"), down to a
      continuation unigram mixed with a uniform distribution.
    - ``smoothing="absolute"``: raw counts at every order, down to an add-one unigram.
    - ``discount=None`` (default): one ``D`` per order and kind of count from its
      count-of-counts, ``D = n1 / (n1 + 2 n2)`` (Ney, Essen & Kneser 1994), with ``n1`` and ``n2``
      the numbers of n-grams seen exactly once and twice (clipped to [0.1, 0.95]; 0.75 when
      undefined). A float uses that one ``D`` everywhere.

    Every word of the vocabulary (including ``<unk>``, which stands for words seen fewer than
    ``min_count`` times) gets a probability > 0, so held-out perplexity is always finite.
    ``smoothed=False`` in ``next_word_probs``/``sample`` gives the plain count ratios instead.

    Each sentence is padded with ``n - 1`` ``<s>`` tokens in front and one ``</s>`` at the end,
    so the model also learns how sentences start and stop.
    """

    SMOOTHING = ("kneser-ney", "absolute")

    def __init__(self, n: int, *, min_count: int = 2, smoothing: str = "kneser-ney",
                 discount: float | None = None):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer (1 = unigram), got {n!r}")
        if discount is not None and not 0.0 < discount < 1.0:
            raise ValueError(f"discount must be in (0, 1) or None (from count-of-counts), "
                             f"got {discount!r}")
        if smoothing not in self.SMOOTHING:
            raise ValueError(f"smoothing must be one of {self.SMOOTHING}, got {smoothing!r}")
        if min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {min_count!r}")
        self.n = int(n)
        self.min_count = int(min_count)
        self.smoothing = smoothing
        self.discount = None if discount is None else float(discount)
        self.vocab: list[str] = []
        self.index: dict[str, int] = {}
        # per order m = 1..n: raw (codes, counts) and continuation (codes, counts) tables
        self._tables: list[tuple[np.ndarray, np.ndarray]] = []
        self._cont: list[tuple[np.ndarray, np.ndarray]] = []
        # per order m = 2..n: (histories, total count, distinct followers), raw and continuation
        self._contexts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._cont_contexts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

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
        self.training_words = frozenset(counts)
        V = len(self.vocab)
        if V ** self.n >= 2**63:
            raise ValueError(
                f"{V} words ** n={self.n} does not fit in an int64 code; raise min_count or lower n"
            )

        stream, targets = self._encode(sentences)
        self._tables = []
        for m in range(1, self.n + 1):
            self._tables.append(np.unique(self._codes(stream, targets, m), return_counts=True))
        # Continuation count of an m-gram: how many different words precede it, read off the
        # distinct (m+1)-grams. Every token has n - 1 words of (padded) left context, so each
        # m-gram with m < n has at least one.
        self._cont = []
        for m in range(1, self.n):
            suffix = self._tables[m][0] % (V ** m)
            self._cont.append(np.unique(suffix, return_counts=True))
        self._contexts = [self._history_stats(*self._tables[m - 1]) for m in range(2, self.n + 1)]
        self._cont_contexts = [self._history_stats(*self._cont[m - 1]) for m in range(2, self.n)]
        self.n_tokens = int(len(targets))
        return self

    def _history_stats(self, codes: np.ndarray, cnt: np.ndarray):
        """Histories of sorted m-gram ``codes``: (history codes, total count, distinct followers)."""
        hist, first = np.unique(codes // len(self.vocab), return_index=True)
        total = np.add.reduceat(cnt, first)
        followers = np.diff(np.append(first, len(codes)))
        return hist, total, followers

    def discounts(self) -> dict[str, list[float]]:
        """The discount ``D`` of every order 1..n: ``{"raw": [...], "continuation": [...]}``.

        ``continuation`` has n - 1 entries (orders 1..n-1; the top order always uses raw counts).
        """
        self._check_fitted()
        return {"raw": [self._discount(t[1]) for t in self._tables],
                "continuation": [self._discount(t[1]) for t in self._cont]}

    def _discount(self, cnt: np.ndarray) -> float:
        if self.discount is not None:
            return self.discount
        n1, n2 = int((cnt == 1).sum()), int((cnt == 2).sum())
        if n1 + 2 * n2 == 0:
            return 0.75
        return float(np.clip(n1 / (n1 + 2 * n2), 0.1, 0.95))

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
        kn = self.smoothing == "kneser-ney" and order > 1
        if kn:
            # continuation unigram, mixed with a uniform share so that every word keeps mass
            codes1, cont1 = self._cont[0]
            d = self._discount(cont1)
            c1 = self._lookup(codes_by_order[0], codes1, cont1)
            total = cont1.sum()
            p = np.maximum(c1 - d, 0) / total + d * len(codes1) / total / V
        else:
            uni_codes, uni_counts = self._tables[0]
            c1 = self._lookup(codes_by_order[0], uni_codes, uni_counts)
            p = (c1 + 1.0) / (self.n_tokens + V)
        for m in range(2, order + 1):
            codes = codes_by_order[m - 1]
            if kn and m < order:
                table, counts = self._cont[m - 1]
                hist, total, followers = self._cont_contexts[m - 2]
            else:
                table, counts = self._tables[m - 1]
                hist, total, followers = self._contexts[m - 2]
            d = self._discount(counts)
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

    def next_word_probs(self, history: Sequence[str], order: int | None = None, *,
                        smoothed: bool = True) -> np.ndarray:
        """P(w | history) for every word of the vocabulary: shape ``(V,)``, sums to 1.

        Only the last ``order - 1`` words of ``history`` are used (``order`` defaults to n);
        a shorter history is padded with ``<s>`` as at the start of a sentence.
        ``smoothed=False`` returns the plain ratios ``c(h w) / c(h)`` (zero for every word not
        seen after ``h``); it raises ``ValueError`` when ``h`` was never seen.
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
        if smoothed:
            p = self._prob_codes(codes, order)
        else:
            table, counts = self._tables[order - 1]
            p = self._lookup(codes[-1], table, counts).astype(np.float64)
            if p[1:].sum() == 0:
                shown = [self.vocab[i] for i in hist]
                raise ValueError(f"the history {shown} was never seen in training: "
                                 "unsmoothed counts give no distribution after it")
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

    def token_log_probs(self, sentences: Sequence[Sequence[str]],
                        order: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per predicted token of held-out ``sentences``: ``(log P(w | h), c(h))``.

        Both have shape ``(tokens + sentences,)`` (every word and each ``</s>``); ``c(h)`` is the
        training count of the token's history of ``order - 1`` words (for order 1, the number
        of training tokens). Words outside the vocabulary count as ``<unk>``.
        """
        self._check_fitted()
        order = self._check_order(order)
        saved_n, self.n = self.n, order  # _encode pads with n - 1 <s>
        try:
            stream, targets = self._encode([list(s) for s in sentences])
        finally:
            self.n = saved_n
        if len(targets) == 0:
            raise ValueError("held-out text needs at least one sentence")
        codes = [self._codes(stream, targets, m) for m in range(1, order + 1)]
        logp = np.log(self._prob_codes(codes, order))
        if order == 1:
            c_h = np.full(len(targets), self.n_tokens)
        else:
            hist, total, _ = self._contexts[order - 2]
            c_h = self._lookup(codes[-1] // len(self.vocab), hist, total)
        return logp, c_h

    def perplexity(self, sentences: Sequence[Sequence[str]], order: int | None = None) -> float:
        """exp(mean negative log-probability per token) of held-out ``sentences``.

        Every word and each ``</s>`` is predicted; words outside the vocabulary count as
        ``<unk>``. ``order`` (default n) evaluates the model as if it had been fitted with a
        smaller n, so one fitted 4-gram model gives the perplexities of n = 1..4.
        """
        logp, _ = self.token_log_probs(sentences, order)
        return float(np.exp(-logp.mean()))

    def with_smoothing(self, smoothing: str | None = None, *,
                       discount: float | None | str = "same") -> NGramModel:
        """The same counts under another ``smoothing`` and/or ``discount`` (no refitting)."""
        self._check_fitted()
        other = copy.copy(self)
        other.smoothing = self.smoothing if smoothing is None else smoothing
        if other.smoothing not in self.SMOOTHING:
            raise ValueError(f"smoothing must be one of {self.SMOOTHING}, got {smoothing!r}")
        if discount != "same":
            if discount is not None and not 0.0 < discount < 1.0:
                raise ValueError(f"discount must be in (0, 1) or None, got {discount!r}")
            other.discount = discount
        return other

    def _check_order(self, order: int | None) -> int:
        if order is None:
            return self.n
        if not 1 <= order <= self.n:
            raise ValueError(f"order must be between 1 and n={self.n}, got {order!r}")
        return int(order)

    def sample(self, rng: np.random.Generator, *, max_words: int = 30,
               prompt: Sequence[str] = (), order: int | None = None,
               smoothed: bool = True) -> list[str]:
        """Draw one sentence word by word from the model (stops at ``</s>``).

        The words of ``prompt`` start the sentence and are included in the result; ``order``
        (default n) samples from the model as if it had been fitted with that n;
        ``smoothed=False`` samples from the plain count ratios (only n-grams seen in training).
        """
        self._check_fitted()
        order = self._check_order(order)
        words = list(prompt)
        for _ in range(max_words):
            p = self.next_word_probs(words, order=order, smoothed=smoothed)
            i = int(rng.choice(len(p), p=p))
            if i == 1:
                break
            words.append(self.vocab[i])
        return words

    def oov_rate(self, sentences: Sequence[Sequence[str]]) -> dict[str, float]:
        """Share of held-out words (``</s>`` not counted) outside the vocabulary.

        ``{"unk": read as <unk> (seen fewer than min_count times, or never),
        "never_seen": never seen in training at all}``.
        """
        self._check_fitted()
        words = [w for s in sentences for w in s]
        if not words:
            raise ValueError("oov_rate needs at least one held-out word")
        unk = sum(w not in self.index for w in words)
        never = sum(w not in self.training_words for w in words)
        return {"unk": unk / len(words), "never_seen": never / len(words)}

    def unseen_rate(self, sentences: Sequence[Sequence[str]], m: int) -> float:
        """Share of the m-grams of held-out ``sentences`` that never occurred in training.

        Words are first mapped to the vocabulary (unknown ones to ``<unk>``), so for m = 1 the
        rate is 0 by construction; ``oov_rate`` gives the real share of unknown words.
        """
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


class JoinedCorpus(str):
    """A corpus joined once into one string (one sentence per line), for many searches."""

    def __new__(cls, corpus: Sequence[Sequence[str]]):
        return super().__new__(cls, "\n" + "\n".join(" ".join(s) for s in corpus) + "\n")


def longest_copied_run(words: Sequence[str],
                       corpus: Sequence[Sequence[str]] | JoinedCorpus) -> list[str]:
    """The longest run of consecutive ``words`` that occurs verbatim in one sentence of ``corpus``.

    Used to see whether a sampled sentence is new text or a copy of training text. For many
    calls on one corpus, pass ``JoinedCorpus(corpus)``: it is joined once instead of per call.
    """
    if isinstance(words, str):
        raise ValueError("words must be a list of tokens, got a str")
    if isinstance(corpus, str) and not isinstance(corpus, JoinedCorpus):
        raise ValueError("corpus must be a list of token lists or a JoinedCorpus, got a str")
    big = corpus if isinstance(corpus, JoinedCorpus) else JoinedCorpus(corpus)
    best: list[str] = []
    i = 0
    while i + len(best) < len(words):
        j = i + len(best) + 1  # only runs longer than the best so far matter
        while j <= len(words) and _occurs(words[i:j], big):
            j += 1
        if j - 1 - i > len(best):
            best = list(words[i:j - 1])
        i += 1
    return best


def _occurs(run: Sequence[str], big: str) -> bool:
    text = " ".join(run)
    return any(f"{a}{text}{b}" in big for a in " \n" for b in " \n")


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
