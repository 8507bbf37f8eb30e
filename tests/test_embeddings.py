"""Skip-gram with negative sampling: gradients, shapes, reproducibility, bad input, evaluation."""

import numpy as np
import pytest

from course_utils import embeddings as E


def toy_corpus(n_sentences=600, seed=0):
    """Three topics that never mix; words of one topic share their contexts."""
    rng = np.random.default_rng(seed)
    topics = [ANIMALS, ["one", "two", "three", "four", "five", "six", "seven", "eight"],
              ["red", "green", "blue", "black", "white", "pink", "grey", "brown"]]
    sentences = []
    for i in range(n_sentences):
        sentences.append([str(w) for w in rng.choice(topics[i % 3], size=8)])
    return sentences


ANIMALS = ["cat", "dog", "mouse", "horse", "cow", "pig", "goat", "duck"]


def test_gradient_matches_central_differences():
    assert E.check_gradient(seed=0) < 1e-6
    assert E.check_gradient(seed=1, vocab_size=5, batch=9, negative=4) < 1e-6


def test_gradient_check_catches_a_wrong_gradient(monkeypatch):
    """The check is not vacuous: a gradient off by a factor 2 on W_out is reported."""
    real = E.sgns_loss_and_grads

    def broken(*args):
        loss, d_in, d_out = real(*args)
        return loss, d_in, 2 * d_out

    monkeypatch.setattr(E, "sgns_loss_and_grads", broken)
    assert E.check_gradient(seed=0) > 0.1


def test_minibatch_step_applies_minus_lr_times_gradient():
    rng = np.random.default_rng(3)
    V, D, B, K = 7, 4, 5, 2
    model = E.SkipGram(vector_size=D, negative=K, batch_size=B, sample=0)
    model.W_in = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    model.W_out = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    model.alpha = model.min_alpha = 0.1
    c = np.array([0, 1, 1, 2, 3])
    ctx = np.array([4, 4, 0, 4, 2])
    table = np.array([6, 5], dtype=np.int32)  # negatives are 5 or 6: never a true context
    state = np.random.default_rng(9)
    neg = table[np.random.default_rng(9).integers(0, len(table), (B, K))]
    before_in, before_out = model.W_in.copy(), model.W_out.copy()
    model._train_pairs(c, ctx, table, state, 0, 10, 10)
    _, d_in, d_out = E.sgns_loss_and_grads(before_in.astype(np.float64),
                                           before_out.astype(np.float64), c, ctx, neg)
    np.testing.assert_allclose(model.W_in, before_in - 0.1 * d_in, atol=1e-6)
    np.testing.assert_allclose(model.W_out, before_out - 0.1 * d_out, atol=1e-6)


def test_shapes_vocab_order_and_keyed_vectors():
    kv = E.train_skipgram(toy_corpus(), vector_size=16, window=2, min_count=1, epochs=2)
    assert kv.vectors.shape == (24, 16)
    assert kv.vectors.dtype == np.float32
    assert set(ANIMALS) <= set(kv.index_to_key)
    assert np.isfinite(kv.vectors).all()
    counts = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == 600 * 8


def test_learns_the_topics():
    kv = E.train_skipgram(toy_corpus(), vector_size=16, window=2, min_count=1, epochs=5,
                          sample=0)
    for w in ANIMALS:
        neighbours = [n for n, _ in kv.most_similar(w, topn=5)]
        assert set(neighbours) <= set(ANIMALS), (w, neighbours)
    assert kv.doesnt_match(["cat", "dog", "three", "cow"]) == "three"


def test_same_seed_same_vectors_other_seed_differs():
    corpus = toy_corpus()
    a = E.train_skipgram(corpus, vector_size=8, min_count=1, seed=5)
    b = E.train_skipgram(corpus, vector_size=8, min_count=1, seed=5)
    c = E.train_skipgram(corpus, vector_size=8, min_count=1, seed=6)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert not np.allclose(a.vectors, c.vectors)


def test_loss_goes_down_and_lr_decays_to_min_alpha():
    model = E.SkipGram(vector_size=16, window=2, min_count=1, epochs=3, chunk_words=400,
                       sample=0).fit(toy_corpus())
    losses = [h["loss"] for h in model.history]
    assert losses[-1] < 0.9 * losses[0]
    assert model.history[-1]["alpha"] == pytest.approx(model.min_alpha)
    assert model.history[0]["alpha"] < model.alpha


@pytest.mark.parametrize("sentences", [[], [[]], [[], []]])
def test_empty_corpus_is_a_clear_error(sentences):
    with pytest.raises(ValueError, match="empty"):
        E.train_skipgram(sentences)


def test_every_word_below_min_count_is_a_clear_error():
    with pytest.raises(ValueError, match="min_count=5"):
        E.train_skipgram([["a", "b", "a"], ["c"]], min_count=5)


def test_raw_strings_instead_of_tokens_are_rejected():
    with pytest.raises(ValueError, match="list of tokens"):
        E.train_skipgram(["a sentence that was not tokenised"], min_count=1)


def test_unknown_word_names_the_word_and_says_out_of_vocabulary():
    kv = E.train_skipgram(toy_corpus(40), vector_size=4, min_count=1)
    with pytest.raises(KeyError, match="'zebra' is out of vocabulary"):
        kv["zebra"]
    with pytest.raises(KeyError, match="'zebra'.* vocabulary"):  # gensim's own wording here
        kv.most_similar("zebra")
    assert "zebra" not in kv


@pytest.mark.parametrize("bad", [{"vector_size": 0}, {"window": 0}, {"negative": -1},
                                 {"epochs": 0}, {"alpha": 0.0}])
def test_bad_hyperparameters(bad):
    with pytest.raises(ValueError):
        E.train_skipgram(toy_corpus(10), min_count=1, **bad)


def test_keep_probabilities_drop_only_frequent_words():
    counts = np.array([100_000, 1_000, 10])
    p = E.keep_probabilities(counts, sample=1e-3)
    assert p[0] < 0.2 and p[2] == 1.0
    assert np.all(np.diff(p) >= 0)
    assert np.all(E.keep_probabilities(counts, sample=0) == 1)


def test_negative_table_follows_counts_to_the_three_quarters():
    counts = np.array([1000, 100, 10, 1])
    table = E.negative_table(counts, size=100_000)
    share = np.bincount(table, minlength=4) / len(table)
    expected = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(share, expected, atol=1e-4)


def test_pairs_respect_window_and_sentences(rng):
    ids = np.arange(10)
    sentence = np.array([0] * 6 + [1] * 4)
    centers, contexts = E.skipgram_pairs(ids, sentence, window=2, rng=rng)
    assert len(centers) == len(contexts) > 0
    assert np.all(np.abs(centers - contexts) <= 2)
    assert np.all(centers != contexts)
    assert np.all(sentence[centers] == sentence[contexts])


def test_embedding_lookup_equals_one_hot_matmul(rng):
    W = rng.normal(size=(6, 3))
    ids = np.array([4, 0, 4, 2])
    np.testing.assert_allclose(E.embedding_lookup(W, ids), E.one_hot(ids, 6) @ W)
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        E.embedding_lookup(W, [6])


def test_one_hot_vectors_are_sqrt2_apart():
    X = E.one_hot(np.arange(4), 4)
    d = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.testing.assert_allclose(d[~np.eye(4, dtype=bool)], np.sqrt(2))


def test_analogy_accuracy_agrees_with_gensim(rng):
    """Capitals and countries built so that country = capital + t: most answers are right."""
    from gensim.models import KeyedVectors
    from gensim.test.utils import datapath

    pairs = {}
    with open(datapath("questions-words.txt")) as f:
        next(f)  # ": capital-common-countries"
        for line in f:
            if line.startswith(":"):
                break
            a, b, c, d = line.lower().split()
            pairs[a], pairs[c] = b, d
    capitals = list(pairs)
    t = rng.normal(size=16)
    cap_vecs = rng.normal(size=(len(capitals), 16))
    kv = KeyedVectors(16)
    kv.add_vectors(capitals + [pairs[c] for c in capitals],
                   np.vstack([cap_vecs, cap_vecs + t]).astype(np.float32))
    ours = E.analogy_accuracy(kv)
    score, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"))
    assert ours["accuracy"] == pytest.approx(score)
    overall = sections[-1]  # gensim appends a "Total accuracy" section
    assert ours["questions"] == len(overall["correct"]) + len(overall["incorrect"])
    assert ours["accuracy"] > 0.5


def test_wordsim_uses_pairs_in_vocabulary(rng):
    from gensim.models import KeyedVectors

    kv = KeyedVectors(5)
    words = ["tiger", "cat", "book", "paper", "computer", "keyboard", "internet", "car"]
    kv.add_vectors(words, rng.normal(size=(len(words), 5)).astype(np.float32))
    result = E.wordsim353(kv)
    assert result["total"] == 353
    assert 3 <= result["pairs"] < 20
    assert -1 <= result["spearman"] <= 1
    with pytest.raises(ValueError, match="pairs"):
        E.wordsim353(KeyedVectors(5))




def test_a_generator_of_sentences_works_like_a_list():
    corpus = toy_corpus(60)
    a = E.train_skipgram(corpus, vector_size=8, min_count=1)
    b = E.train_skipgram((s for s in corpus), vector_size=8, min_count=1)
    np.testing.assert_array_equal(a.vectors, b.vectors)


def test_pca_2d_shape_and_map():
    X = np.random.default_rng(0).normal(size=(12, 6))
    P = E.pca_2d(X)
    assert P.shape == (12, 2)
    assert np.var(P[:, 0]) >= np.var(P[:, 1])


def test_ppmi_svd_learns_the_topics():
    sentences = toy_corpus()
    words, counts = E.build_vocab(sentences, min_count=1)
    C = E.cooccurrence(sentences, words, window=2)
    assert C.shape == (len(words), len(words)) and abs(C - C.T).max() == 0
    # "cat dog" adjacent in a sentence counts 1, at distance 2 counts 1/2 (window 2)
    c2 = E.cooccurrence([["cat", "dog", "cow"]], ["cat", "dog", "cow"], window=2).toarray()
    np.testing.assert_allclose(c2, [[0, 1, 0.5], [1, 0, 1], [0.5, 1, 0]])
    M = E.ppmi(C)
    assert M.min() >= 0 and M[words.index("cat"), words.index("red")] == 0  # never together
    kv = E.keyed_vectors(words, E.svd_vectors(M, 5, seed=0), counts)
    assert kv.most_similar("cat", topn=1)[0][0] in ANIMALS
    np.testing.assert_allclose(E.svd_vectors(M, 5, seed=0), E.svd_vectors(M, 5, seed=0))
    with pytest.raises(ValueError, match="dim"):
        E.svd_vectors(M, len(words), seed=0)


def test_randomised_svd_matches_the_exact_one():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(60, 8)) @ rng.normal(size=(8, 50))  # rank 8
    X = E.svd_vectors(A, 8, seed=1)
    U, S, _ = np.linalg.svd(A)
    np.testing.assert_allclose(np.abs(X), np.abs(U[:, :8] * np.sqrt(S[:8])), atol=1e-4)


def test_centering_removes_the_common_direction_and_shared_vocab(rng):
    words = [f"w{i}" for i in range(200)]
    vectors = rng.normal(size=(200, 10)) + 5.0  # a large shared direction
    kv = E.keyed_vectors(words, vectors)
    raw = E.random_pair_similarity(kv, 500, np.random.default_rng(0))
    cen = E.random_pair_similarity(E.centered(kv), 500, np.random.default_rng(0))
    assert raw.shape == (500,) and raw.mean() > 0.8 and abs(cen.mean()) < 0.1
    other = E.keyed_vectors(words[100:] + ["extra"], rng.normal(size=(101, 10)))
    assert E.shared_vocab(kv, other) == set(words[100:])
    assert E.shared_vocab(kv, other, restrict_vocab=150) == set(words[100:150])
    with pytest.raises(ValueError, match="one row per word"):
        E.keyed_vectors(words, vectors[:5])


def test_place_labels_keeps_labels_of_close_points_apart():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    pts = np.array([[0.0, 0.0], [0.01, 0.0], [0.02, 0.01], [1.0, 1.0]])
    ax.scatter(pts[:, 0], pts[:, 1])
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    offsets = E.place_labels(ax, pts, ["terrible", "comedy", "awful", "far"])
    assert len(set(offsets[:3])) == 3  # three close points, three different spots
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not boxes[i].overlaps(boxes[j]), (i, j)
    plt.close(fig)
    with pytest.raises(ValueError, match="one"):
        E.place_labels(ax, pts[:2], ["a"])
