"""Tokenising, n-gram language models, bag of words and TF-IDF."""

import math

import numpy as np
import pytest

from course_utils import text as T

CORPUS = [
    "thank you for the film".split(),
    "thank you so much".split(),
    "thank god it ended".split(),
    "the film was long".split(),
    "the film was fun".split(),
    "you liked the film".split(),
]


def test_tokenize_strips_tags_case_and_punctuation():
    raw = "A GREAT film!<br /><br />It's 10/10 -- don\u2019t miss it.<BR/>Bravo"
    assert T.tokenize(raw) == ["a", "great", "film", "its", "10", "10", "dont", "miss",
                               "it", "bravo"]
    assert T.tokenize("") == []
    assert T.tokenize("caf\u00e9 na\u00efve") == ["caf\u00e9", "na\u00efve"]
    with pytest.raises(ValueError, match="str"):
        T.tokenize(["not", "a", "string"])


def test_tokenize_all_equals_tokenize_on_every_text():
    texts = ["A GREAT film!<br /><br />It's 10/10", "caf\u00e9 na\u00efve Don\u2019t",
             "", "line one\nline two<br", "/>", "snake_case and\x00nul", "   ", "x"]
    assert T.tokenize_all(texts) == [T.tokenize(t) for t in texts]
    assert T.tokenize_all(iter(texts[:2])) == [T.tokenize(t) for t in texts[:2]]
    assert T.tokenize_all([]) == []
    with pytest.raises(ValueError, match="str"):
        T.tokenize_all(["fine", 42])


def test_bigram_probability_is_count_ratio_when_history_is_frequent():
    model = T.NGramModel(2, min_count=1, smoothing="absolute", discount=0.01).fit(CORPUS)
    p = model.next_word_probs(["thank"])
    assert p.shape == (len(model.vocab),)
    assert p.sum() == pytest.approx(1.0)
    # count("thank you") / count("thank") = 2 / 3, minus a tiny discount
    assert model.count(["thank", "you"]) == 2 and model.count(["thank"]) == 3
    assert p[model.index["you"]] == pytest.approx(2 / 3, abs=0.01)
    assert p[model.index["god"]] == pytest.approx(1 / 3, abs=0.01)


@pytest.mark.parametrize("smoothing", ["kneser-ney", "absolute"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_distribution_sums_to_one_and_unseen_words_get_mass(n, smoothing):
    model = T.NGramModel(n, min_count=1, smoothing=smoothing).fit(CORPUS)
    for history in ([], ["the"], ["thank", "you"], ["never", "seen", "words"]):
        p = model.next_word_probs(history)
        assert p.sum() == pytest.approx(1.0)
        assert (p[1:] > 0).all()  # everything but <s> can follow


def test_perplexity_is_finite_on_unseen_words_and_lower_with_context():
    model = T.NGramModel(3, min_count=1).fit(CORPUS * 20)
    held_out = ["thank you for the film".split(), "the zebra was fun".split()]
    ppl = [model.perplexity(held_out, order=k) for k in (1, 2, 3)]
    assert all(math.isfinite(x) for x in ppl)
    assert ppl[1] < ppl[0] and ppl[2] < ppl[0]
    with pytest.raises(ValueError, match="order"):
        model.perplexity(held_out, order=4)


def test_perplexity_of_uniform_model_is_vocabulary_size():
    """A unigram model on a corpus where every word is equally frequent."""
    words = [f"w{i}" for i in range(9)]
    model = T.NGramModel(1, min_count=1).fit([words] * 50)
    # 9 words + </s> equally likely; <unk> takes a sliver of add-one mass.
    assert model.perplexity([words]) == pytest.approx(10, rel=0.01)


def test_sampling_is_reproducible_and_uses_the_vocabulary():
    model = T.NGramModel(3, min_count=1).fit(CORPUS)
    a = model.sample(np.random.default_rng(1), prompt=["thank"])
    b = model.sample(np.random.default_rng(1), prompt=["thank"])
    assert a == b and a[0] == "thank"
    assert set(a) <= set(model.vocab)


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        T.NGramModel(2).fit([[], []])
    with pytest.raises(ValueError, match="not fitted"):
        T.NGramModel(2).next_word_probs(["a"])
    with pytest.raises(ValueError, match="n must be"):
        T.NGramModel(0)
    with pytest.raises(ValueError, match="smoothing must be one of"):
        T.NGramModel(2, smoothing="good-turing")
    with pytest.raises(ValueError, match="discount"):
        T.NGramModel(2, discount=1.5)
    with pytest.raises(ValueError, match="int64"):
        T.NGramModel(6, min_count=1).fit([[f"w{i}" for i in range(2000)]])


def test_exact_count_does_not_overflow_like_int64():
    assert T.exact_count(10_000, 7) == 10**28
    wrapped = int(np.prod(np.repeat(np.int64(10_000), 7)))  # what NumPy int64 gives
    assert wrapped == 10**28 % 2**64
    assert wrapped != 10**28
    with pytest.raises(ValueError):
        T.exact_count(0, 2)


def test_seen_share_counts_distinct_ngrams():
    model = T.NGramModel(2, min_count=1).fit(CORPUS)
    seen, possible = model.seen_share(2)
    assert possible == len(model.vocab) ** 2
    # distinct bigrams incl. (<s>, first word) and (last word, </s>)
    distinct = {(a, b) for s in CORPUS for a, b in zip(["<s>"] + s, s + ["</s>"], strict=True)}
    assert seen == len(distinct)


def test_bag_of_words_loses_order_and_tfidf_downweights_common_words():
    a = "the dog bit the man".split()
    b = "the man bit the dog".split()
    c = "a cat sat".split()
    vocab = sorted(set(a + c))
    X = T.bag_of_words([a, b, c], vocab)
    assert X.shape == (3, len(vocab))
    np.testing.assert_array_equal(X[0], X[1])
    assert X[0, vocab.index("the")] == 2
    W = T.tfidf(X)
    assert W.shape == X.shape
    # "dog" (2 of 3 docs) weighs less per occurrence than "cat" (1 of 3 docs)
    assert W[0, vocab.index("dog")] < W[2, vocab.index("cat")] * len(c) / len(a)
    import scipy.sparse as sp

    np.testing.assert_allclose(T.tfidf(sp.csr_matrix(X)).toarray(), W)
    np.testing.assert_array_equal(T.bag_of_words([a, b, c], vocab, sparse=True).toarray(), X)
    with pytest.raises(ValueError, match="list of tokens"):
        T.bag_of_words(["the dog"], vocab)




def test_unseen_rate_grows_with_n():
    model = T.NGramModel(3, min_count=1).fit(CORPUS)
    held_out = ["thank you for the fun film".split()]
    rates = [model.unseen_rate(held_out, m) for m in (1, 2, 3)]
    assert rates[0] == 0.0  # every word (and </s>) was seen
    assert rates[0] <= rates[1] <= rates[2] <= 1.0
    assert rates[2] > 0
    assert model.unseen_rate(CORPUS, 3) == 0.0


def test_column_neighbours_finds_words_of_the_same_documents():
    docs = [["cat", "dog", "pet"], ["cat", "dog"], ["stock", "market"], ["stock", "market", "pet"]]
    vocab = ["cat", "dog", "pet", "stock", "market"]
    X = T.tfidf(T.bag_of_words(docs, vocab, sparse=True))
    assert T.column_neighbours(X, vocab, "cat", k=1)[0][0] == "dog"
    assert T.column_neighbours(X, vocab, "market", k=1) == [("stock", pytest.approx(1.0))]
    with pytest.raises(KeyError, match="'zebra' is out of vocabulary"):
        T.column_neighbours(X, vocab, "zebra")


# A corpus where a word ("francisco") is frequent but only ever follows one word ("san").
KN_CORPUS = ([["i", "saw", "san", "francisco"]] * 30 + [["i", "saw", w] for w in
             ["paris", "rome", "oslo", "lima", "kyiv", "riga", "bern", "nice"]] * 3
             + [["we", "like", w] for w in ["paris", "rome", "oslo", "lima"]])


def test_kneser_ney_prefers_words_seen_in_many_contexts():
    """After an unseen history, KN ranks a word by how many contexts it followed, not its count."""
    kn = T.NGramModel(2, min_count=1).fit(KN_CORPUS)
    absolute = kn.with_smoothing("absolute")
    for model, francisco_wins in ((absolute, True), (kn, False)):
        p = model.next_word_probs(["like"])  # "like francisco" never seen
        assert (p[model.index["francisco"]] > p[model.index["bern"]]) == francisco_wins


def test_count_of_counts_discount_and_unsmoothed_ratios():
    model = T.NGramModel(3, min_count=1).fit(CORPUS)
    d = model.discounts()
    assert len(d["raw"]) == 3 and len(d["continuation"]) == 2
    bigram_counts = model._tables[1][1]
    n1, n2 = (bigram_counts == 1).sum(), (bigram_counts == 2).sum()
    assert d["raw"][1] == pytest.approx(min(0.95, n1 / (n1 + 2 * n2)))
    assert T.NGramModel(2, min_count=1, discount=0.5).fit(CORPUS).discounts()["raw"] == [0.5, 0.5]
    p = model.next_word_probs(["thank"], order=2, smoothed=False)
    assert p[model.index["you"]] == pytest.approx(2 / 3) and (p > 0).sum() == 2
    with pytest.raises(ValueError, match="never seen"):
        model.next_word_probs(["zebra", "crossing"], smoothed=False)
    words = model.sample(np.random.default_rng(0), prompt=["the"], order=3, smoothed=False)
    assert T.longest_copied_run(words, CORPUS) == words  # every sampled trigram is a training one


def test_kneser_ney_beats_a_fixed_discount_on_a_markov_source():
    rng = np.random.default_rng(0)
    # a second-order Markov source: the 3rd word depends on the two before it, not on more
    words = [f"w{i}" for i in range(30)]
    nxt = {(a, b): rng.choice(30, size=3) for a in range(30) for b in range(30)}
    sents = []
    for _ in range(400):
        s = list(rng.choice(30, size=2))
        for _ in range(20):
            s.append(int(rng.choice(nxt[s[-2], s[-1]])))
        sents.append([words[i] for i in s])
    kn = T.NGramModel(4, min_count=1).fit(sents[:300])
    fixed = kn.with_smoothing("absolute", discount=0.75)
    ppl = {name: [m.perplexity(sents[300:], order=k) for k in (1, 2, 3, 4)]
           for name, m in (("kn", kn), ("fixed", fixed))}
    for p in ppl.values():
        assert p[2] < p[1] < p[0]  # the two-word history is what the source uses
    assert ppl["kn"][2] < ppl["fixed"][2] - 0.5 and ppl["kn"][3] < ppl["fixed"][3]


def test_token_log_probs_and_history_counts():
    model = T.NGramModel(2, min_count=1).fit(CORPUS)
    logp, c_h = model.token_log_probs([["thank", "you"]])
    assert logp.shape == c_h.shape == (3,)  # thank, you, </s>
    assert list(c_h) == [6, 3, 3]  # <s> starts 6 sentences; "thank" and "you" 3 times each
    assert model.perplexity([["thank", "you"]]) == pytest.approx(np.exp(-logp.mean()))


def test_oov_rate_and_longest_copied_run():
    model = T.NGramModel(2, min_count=2).fit(CORPUS)
    rates = model.oov_rate([["thank", "zebra", "god", "film"]])  # god: seen once -> <unk>
    assert rates == {"unk": 0.5, "never_seen": 0.25}
    run = T.longest_copied_run("i saw the film was long ago".split(), CORPUS)
    assert run == ["the", "film", "was", "long"]
    # a run must come from one sentence, not across two
    assert T.longest_copied_run(["fun", "you", "liked"], CORPUS) == ["you", "liked"]
    with pytest.raises(ValueError, match="list of tokens"):
        T.longest_copied_run("the film", CORPUS)
    joined = T.JoinedCorpus(CORPUS)  # joined once, same answers
    assert T.longest_copied_run("i saw the film was long ago".split(), joined) == run
    assert T.longest_copied_run(["fun", "you", "liked"], joined) == ["you", "liked"]
    with pytest.raises(ValueError, match="JoinedCorpus"):
        T.longest_copied_run(["the", "film"], "the film was long")


def test_corpus_holds_ids_and_gives_back_the_tokens():
    texts = ["A GREAT film!<br />It's great.", "", "the film, the end", "caf\u00e9 great"]
    corpus = T.Corpus(texts, chunk=2)
    expected = [T.tokenize(t) for t in texts]
    assert list(corpus) == expected and list(corpus) == expected  # iterable twice (epochs)
    assert len(corpus) == 4 and corpus.n_tokens == sum(map(len, expected))
    assert corpus[2] == ["the", "film", "the", "end"] and corpus[-1] == ["caf\u00e9", "great"]
    assert corpus.ids.dtype == np.int32
    counts = dict(zip(corpus.words, corpus.counts(), strict=True))
    assert counts["great"] == 3 and counts["the"] == 2
    with pytest.raises(IndexError):
        corpus[4]
    with pytest.raises(ValueError, match="single str"):
        T.Corpus("just one text")
