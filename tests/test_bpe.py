"""course_utils.bpe: merges, round trips for any string, and the errors it names."""

import numpy as np
import pytest

from course_utils import bpe

TEXT = ("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
        "First Citizen:\nYou are all resolved rather to die than to famish?\n") * 5


def test_count_pairs_and_merge():
    ids = [1, 2, 3, 1, 2, 1, 2]
    assert bpe.count_pairs(ids) == {(1, 2): 3, (2, 3): 1, (3, 1): 1, (2, 1): 1}
    assert bpe.merge(ids, (1, 2), 9) == [9, 3, 9, 9]
    assert bpe.merge([5, 5, 5], (5, 5), 7) == [7, 5]  # left to right, never overlapping


def test_first_merge_is_the_most_frequent_pair():
    tok = bpe.BPETokenizer.train("aab ab ab", 1)
    assert tok.merges == [(ord("a"), ord("b"))] and tok.vocab[256] == b"ab"


def test_training_agrees_with_naive_recounting():
    """The incremental pair counts give the merges a full recount per merge would give."""
    num = 30
    tok = bpe.BPETokenizer.train(TEXT, num)
    words = [list(c.encode()) for c in bpe.chunks(TEXT)]
    for k in range(num):
        counts = {}
        for w in words:
            bpe.count_pairs(w, counts)
        best = max(counts.values())
        assert counts[tok.merges[k]] == best
        words = [bpe.merge(w, tok.merges[k], 256 + k) for w in words]


def test_frequent_words_become_single_tokens():
    tok = bpe.BPETokenizer.train(TEXT, 60)
    assert len(tok.encode(" speak")) == 1
    assert len(tok.encode(TEXT)) < len(TEXT) / 2
    assert len(tok) == 256 + 60


def test_round_trip_for_arbitrary_strings():
    tok = bpe.BPETokenizer.train(TEXT, 70)
    rng = np.random.default_rng(0)
    alphabets = [list("ab \n"), list(TEXT[:200]),
                 [chr(c) for c in range(0x20, 0x250)] + ["\t", "\u00a0", "_", "  "],
                 ["日本", "語", "🎉", "é", "e\u0301", "\x00", "\ud800", " ", "\r\n"]]
    for trial in range(300):
        alphabet = alphabets[trial % len(alphabets)]
        s = "".join(rng.choice(alphabet, size=rng.integers(0, 40)))
        assert "".join(bpe.chunks(s)) == s
        ids = tok.encode(s)
        assert ids.dtype == np.int32 and (ids.size == 0 or ids.max() < len(tok))
        assert tok.decode(ids) == s, repr(s)


def test_unseen_characters_fall_back_to_bytes():
    tok = bpe.BPETokenizer.train(TEXT, 20)
    ids = tok.encode("ü")
    assert ids.tolist() == list("ü".encode())
    assert tok.decode(ids) == "ü"


def test_decode_of_broken_utf8_does_not_raise():
    tok = bpe.BPETokenizer.train(TEXT, 5)
    assert tok.decode([0xC3]) == "\ufffd"


def test_training_is_fast_enough_for_thousands_of_merges():
    """Not a timing test: the work per merge must not grow with the text (no full recount).
    2,000 merges on a 40,000-character text touch only the chunks that hold each pair."""
    rng = np.random.default_rng(1)
    words = ["".join(rng.choice(list("abcdefghij"), size=rng.integers(2, 9)))
             for _ in range(3000)]
    text = " ".join(rng.choice(words, size=6000))
    tok = bpe.BPETokenizer.train(text, 2000)
    assert len(tok) == 2256 and tok.decode(tok.encode(text)) == text


def test_bad_input():
    with pytest.raises(ValueError, match="text is empty"):
        bpe.BPETokenizer.train("", 10)
    with pytest.raises(ValueError, match=r"num_merges=50 is more than this text allows: after 2 "):
        bpe.BPETokenizer.train("abc", 50)
    with pytest.raises(ValueError, match="num_merges must be an integer >= 0"):
        bpe.BPETokenizer.train("abc", -1)
    tok = bpe.BPETokenizer.train("abc", 1)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 257\)"):
        tok.decode([257])
    with pytest.raises(ValueError, match="text must be a str"):
        tok.encode(b"abc")
    with pytest.raises(ValueError, match="only ids below 256"):
        bpe.BPETokenizer([(300, 1)])
