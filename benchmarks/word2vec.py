"""Word vectors on IMDB reviews: NumPy skip-gram versus gensim, and the lesson's table, with seed spreads.

``--experiment compare`` (default): NumPy skip-gram and gensim skip-gram with identical settings
(vector_size 100, window 5, 5 negatives, min_count 5, sample 1e-3, learning rate decaying
linearly from ``--alpha`` (default 0.05) to 0.0001; gensim with sg=1 and one worker thread) on
the same tokenised training reviews, for every seed in ``--seeds``. Both are scored on the same
WordSim-353 pairs and the same analogy questions (the words both models know, ``shared_vocab``).
Reports each model's mean and standard deviation over seeds, and the per-seed difference
NumPy - gensim (mean and standard deviation): a difference smaller than about twice its spread
is no difference. Compare where both clearly learn: after one epoch on 10,000 reviews at
word2vec's usual starting rate 0.025 (the lesson's run) both WordSim-353 correlations lie within
the +-0.12 noise of the test; the defaults, five epochs from a starting rate of 0.05, lift both
to about 0.3 (three epochs: about 0.2). Also the speed (tokens x epochs / second, vocabulary and training included)
and a PPMI + truncated SVD count baseline on the same text (deterministic up to the SVD's random
start).

``--experiment table``: the lesson's one-thing-at-a-time table (gensim CBOW, sample 1e-4:
10,000 reviews x 1 epoch, 10,000 x 2, all 100,000 x 2; plus 10,000 x 5, gensim's default number
of passes, which the lesson does not run), scored on the questions and pairs all four know, for
every seed: the seed spread of each row.

Prints exactly one JSON line. Run with PYTHONHASHSEED=0 (make benchmarks does) so that gensim is
reproducible.

    python benchmarks/word2vec.py [--reviews 10000] [--epochs 5] [--alpha 0.05] [--seeds 0 1 2]
    python benchmarks/word2vec.py --epochs 1 --alpha 0.025   # the lesson's setting
    python benchmarks/word2vec.py --experiment table --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import numpy as np

import course_utils
from course_utils import data
from course_utils import embeddings as E
from course_utils import text as T

SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "min_count": 5, "sample": 1e-3,
            "alpha": 0.05, "min_alpha": 1e-4}
CBOW = {"vector_size": 100, "window": 5, "negative": 5, "min_count": 5, "sample": 1e-4, "sg": 0,
        "workers": 1}


def _stats(values) -> dict:
    values = np.asarray(values, dtype=float)
    return {"mean": round(float(values.mean()), 4),
            "std": round(float(values.std(ddof=1)) if len(values) > 1 else 0.0, 4),
            "by_seed": [round(float(v), 4) for v in values]}


def _score(kvs: dict, vocab: set[str]) -> dict:
    return {name: (E.wordsim353(kv, vocab)["spearman"],
                   E.analogy_accuracy(kv, vocab=vocab)["accuracy"]) for name, kv in kvs.items()}


def _subset(seed: int, reviews: int) -> list[list[str]]:
    texts, _ = data.load_imdb("train")
    order = np.random.default_rng(seed).permutation(len(texts))[:reviews]
    return T.tokenize_all(texts[i] for i in order)


def compare(args) -> dict:
    from gensim.models import Word2Vec

    seconds = {"numpy": 0.0, "gensim": 0.0}
    ws = {"numpy": [], "gensim": [], "ppmi_svd": []}
    an = {"numpy": [], "gensim": [], "ppmi_svd": []}
    n_words = 0
    for k in args.seeds:
        seed = course_utils.set_seed(k, tensorflow=False)
        sentences = _subset(seed, args.reviews)  # the lesson draws its subset from SEED too
        n_words += sum(map(len, sentences)) * args.epochs
        kvs = {}
        settings = {**SETTINGS, "alpha": args.alpha}
        # Alternate which one runs first so that a change of machine load hits both alike.
        for name in (["gensim", "numpy"] if k % 2 == 0 else ["numpy", "gensim"]):
            start = time.perf_counter()
            if name == "gensim":
                kvs[name] = Word2Vec(sentences, sg=1, workers=1, epochs=args.epochs, seed=seed,
                                     **settings).wv
            else:
                kvs[name] = E.train_skipgram(sentences, epochs=args.epochs, seed=seed, **settings)
            seconds[name] += time.perf_counter() - start
        words, counts = E.build_vocab(sentences, min_count=5)
        M = E.ppmi(E.cooccurrence(sentences, words, window=5))
        kvs["ppmi_svd"] = E.keyed_vectors(words, E.svd_vectors(M, 100, seed=seed), counts)
        vocab = E.shared_vocab(*kvs.values())
        for name, (w, a) in _score(kvs, vocab).items():
            ws[name].append(w)
            an[name].append(a)
        # One progress line per seed on stderr (stdout carries only the JSON line).
        print(f"seed {k}: " + "; ".join(f"{n} {ws[n][-1]:+.3f} / {an[n][-1]:.3f}" for n in ws),
              file=sys.stderr, flush=True)
    numpy_wps, gensim_wps = n_words / seconds["numpy"], n_words / seconds["gensim"]
    return {
        "benchmark": "word2vec_skipgram_numpy_vs_gensim",
        "reviews": args.reviews,
        "epochs": args.epochs,
        "alpha": args.alpha,
        "seeds": args.seeds,
        "numpy_words_per_s": round(numpy_wps),
        "gensim_words_per_s": round(gensim_wps),
        "speed_ratio": round(numpy_wps / gensim_wps, 3),
        "wordsim": {name: _stats(v) for name, v in ws.items()},
        "analogy": {name: _stats(v) for name, v in an.items()},
        "wordsim_numpy_minus_gensim": _stats(np.subtract(ws["numpy"], ws["gensim"])),
        "analogy_numpy_minus_gensim": _stats(np.subtract(an["numpy"], an["gensim"])),
    }


def table(args) -> dict:
    from gensim.models import Word2Vec

    rows = {"10k reviews, 1 epoch": [], "10k reviews, 2 epochs": [], "10k reviews, 5 epochs": [],
            "100k reviews, 2 epochs": []}
    texts = []
    for split in ["train", "test", "unsup"]:
        texts += data.load_imdb(split)[0]
    corpus = T.Corpus(texts)
    del texts
    for k in args.seeds:
        seed = course_utils.set_seed(k, tensorflow=False)
        small = _subset(seed, 10_000)
        kvs = {"10k reviews, 1 epoch": Word2Vec(small, epochs=1, seed=seed, **CBOW).wv,
               "10k reviews, 2 epochs": Word2Vec(small, epochs=2, seed=seed, **CBOW).wv,
               "10k reviews, 5 epochs": Word2Vec(small, epochs=5, seed=seed, **CBOW).wv,
               "100k reviews, 2 epochs": Word2Vec(corpus, epochs=2, seed=seed, **CBOW).wv}
        vocab = E.shared_vocab(*kvs.values())
        for name, score in _score(kvs, vocab).items():
            rows[name].append(score)
        print(f"seed {k}: " + "; ".join(f"{n} {v[-1][0]:+.3f} / {v[-1][1]:.3f}"
                                        for n, v in rows.items()), file=sys.stderr, flush=True)
    return {
        "benchmark": "word2vec_text_and_epochs_table",
        "seeds": args.seeds,
        "wordsim": {name: _stats([s[0] for s in v]) for name, v in rows.items()},
        "analogy": {name: _stats([s[1] for s in v]) for name, v in rows.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", choices=["compare", "table"], default="compare")
    parser.add_argument("--reviews", type=int, default=10_000, help="training reviews to use")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--alpha", type=float, default=SETTINGS["alpha"],
                        help="starting learning rate of both skip-grams (decays to 0.0001)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    logging.getLogger("gensim").setLevel(logging.ERROR)
    load_before = os.getloadavg()[0]
    result = compare(args) if args.experiment == "compare" else table(args)
    result["load_avg_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["cpu_count"] = os.cpu_count()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
