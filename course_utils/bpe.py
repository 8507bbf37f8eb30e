"""Byte-pair encoding (BPE), from scratch: subword tokens learned from the training text.

A word-level vocabulary explodes and still meets unknown words (lesson 01); characters never
meet an unknown symbol but make sequences long. BPE sits between them (Sennrich et al., 2016;
byte-level as in GPT-2, Radford et al., 2019): start from the 256 byte values, so that every
string, in any script, can be written, and repeatedly merge the most frequent adjacent pair of
tokens into a new token. Frequent words end up as one token, rare ones as a few pieces,
and no token is ever unknown.

- ``count_pairs(ids)`` and ``merge(ids, pair, new_id)``: one merge step, the whole idea.
- ``BPETokenizer.train(text, num_merges)``: learn merges. The text is first cut into chunks
  (a word with its leading space, a run of punctuation, a run of spaces) so that no token
  spans two words, and identical chunks are counted once with their frequency. Pair counts are
  updated incrementally after each merge (only the chunks that contain the merged pair are
  touched) and the best pair comes from a heap, so thousands of merges take seconds.
- ``encode(str) -> ids`` and ``decode(ids) -> str``: ``decode(encode(s)) == s`` for every str.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, defaultdict

import numpy as np

__all__ = ["BPETokenizer", "chunks", "count_pairs", "merge"]

#: a word with its leading space, a number, a run of other symbols, or whitespace; every
#: character of a string falls in exactly one chunk, so joining the chunks gives the string back
_CHUNK = re.compile(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|_+|\s+(?!\S)|\s+")


def chunks(text):
    """The pieces BPE merges within: ``"".join(chunks(s)) == s`` for every str s."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return _CHUNK.findall(text)


def _to_bytes(text):
    # surrogatepass: a str holding a lone surrogate still has a byte form to round-trip through
    return text.encode("utf-8", errors="surrogatepass")


def count_pairs(ids, counts=None, weight=1):
    """Counts of adjacent pairs in the sequence ``ids``: {(a, b): n}, added to ``counts``
    (a dict) if given, each occurrence counted ``weight`` times."""
    counts = {} if counts is None else counts
    for pair in zip(ids[:-1], ids[1:], strict=True):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge(ids, pair, new_id):
    """``ids`` with every non-overlapping occurrence of ``pair`` (left to right) -> ``new_id``."""
    out, i, n = [], 0, len(ids)
    a, b = pair
    while i < n:
        if i < n - 1 and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    """A byte-level BPE tokenizer: ids 0-255 are bytes, id 256 + k is the k-th merge.

    ``merges``: list of pairs, in the order learned. ``vocab``: id -> bytes. ``len(tok)`` is
    the vocabulary size. Build with ``BPETokenizer.train(text, num_merges)``.
    """

    def __init__(self, merges=()):
        self.merges = [tuple(int(i) for i in p) for p in merges]
        self.vocab = [bytes([i]) for i in range(256)]
        self.ranks = {}
        for k, (a, b) in enumerate(self.merges):
            if not (0 <= a < len(self.vocab) and 0 <= b < len(self.vocab)):
                raise ValueError(f"merge {k} joins ids ({a}, {b}) but only ids below "
                                 f"{len(self.vocab)} exist at that point")
            self.ranks[(a, b)] = 256 + k
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self._cache = {}

    def __len__(self):
        return len(self.vocab)

    def __repr__(self):
        return f"BPETokenizer(merges={len(self.merges)}, vocab={len(self)})"

    @classmethod
    def train(cls, text, num_merges):
        """Learn ``num_merges`` merges from ``text``; ties go to the pair seen first in the text.

        Raises a ValueError for an empty text, and when the text runs out of pairs to merge
        before ``num_merges`` (every chunk already one token): it names how many were possible.
        """
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError("text is empty: BPE learns its merges from the training text")
        if isinstance(num_merges, bool) or not isinstance(num_merges, (int, np.integer)) \
                or num_merges < 0:
            raise ValueError(f"num_merges must be an integer >= 0, got {num_merges!r}")
        freq = Counter(chunks(text))
        words = [list(_to_bytes(w)) for w in freq]
        weights = list(freq.values())
        pair_counts = Counter()
        where = defaultdict(set)  # pair -> indices of the chunks that contain it
        first_seen = {}           # pair -> order of first appearance, for deterministic ties
        for i, (w, n) in enumerate(zip(words, weights, strict=True)):
            for pair in zip(w[:-1], w[1:], strict=True):
                pair_counts[pair] += n
                where[pair].add(i)
                first_seen.setdefault(pair, len(first_seen))
        heap = [(-c, first_seen[p], p) for p, c in pair_counts.items()]
        heapq.heapify(heap)
        merges = []
        while len(merges) < num_merges:
            # lazy deletion: an entry is current only if its count still matches
            while heap and (pair_counts.get(heap[0][2], 0) != -heap[0][0] or heap[0][0] == 0):
                heapq.heappop(heap)
            if not heap:
                raise ValueError(f"num_merges={num_merges} is more than this text allows: after "
                                 f"{len(merges)} merges every chunk is a single token (no "
                                 "adjacent pair left); ask for at most that many")
            _, _, pair = heapq.heappop(heap)
            new_id = 256 + len(merges)
            merges.append(pair)
            touched = Counter()
            for i in where.pop(pair):
                w, n = words[i], weights[i]
                for p in zip(w[:-1], w[1:], strict=True):   # take the old pairs out ...
                    pair_counts[p] -= n
                    touched[p] += 0
                new = merge(w, pair, new_id)
                words[i] = new
                for p in zip(new[:-1], new[1:], strict=True):  # ... and the new ones in
                    pair_counts[p] += n
                    touched[p] += 0
                    where[p].add(i)
                    first_seen.setdefault(p, len(first_seen))
            pair_counts.pop(pair, None)
            for p in touched:
                c = pair_counts.get(p, 0)
                if c > 0:
                    heapq.heappush(heap, (-c, first_seen[p], p))
                else:
                    pair_counts.pop(p, None)
        return cls(merges)

    def _encode_chunk(self, chunk):
        ids = self._cache.get(chunk)
        if ids is None:
            ids = list(_to_bytes(chunk))
            # apply the merges in the order they were learned: always the earliest-ranked pair
            while len(ids) > 1:
                best = min(zip(ids[:-1], ids[1:], strict=True),
                           key=lambda p: self.ranks.get(p, 1 << 30))
                if best not in self.ranks:
                    break
                ids = merge(ids, best, self.ranks[best])
            self._cache[chunk] = ids
        return ids

    def encode(self, text):
        """str -> int32 ids (n,). Never fails on a str: unseen characters fall back to bytes."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        out = []
        for c in chunks(text):
            out.extend(self._encode_chunk(c))
        return np.array(out, dtype=np.int32)

    def decode(self, ids):
        """Integer ids (any 1-D sequence) -> str. Bytes that are not valid UTF-8 (possible in a
        sampled sequence) become U+FFFD."""
        ids = np.asarray(ids)
        if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
            raise ValueError(f"ids must be a 1-D sequence of integers, got shape {ids.shape} "
                             f"and dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self)}), got values from {ids.min()} "
                             f"to {ids.max()}")
        raw = b"".join(self.vocab[i] for i in ids.tolist())
        try:
            return raw.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:
            return raw.decode("utf-8", errors="replace")

    def token_strings(self, ids):
        """Each id as the text it stands for (for showing tokens; bytes that are part of a
        longer character show as U+FFFD)."""
        return [self.vocab[int(i)].decode("utf-8", errors="replace") for i in ids]
