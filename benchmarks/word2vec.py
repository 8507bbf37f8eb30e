"""NumPy skip-gram versus gensim skip-gram: speed and quality on the same reviews.

Both train skip-gram with negative sampling with identical settings (vector_size 100, window 5,
5 negatives, min_count 5, sample 1e-3, linear learning-rate decay 0.025 -> 0.0001; gensim with
sg=1 and one worker thread) on the same tokenised IMDB training reviews. Each is timed end to
end (vocabulary + training). Speed is corpus tokens x epochs / seconds for both; quality is the
WordSim-353 Spearman correlation (plus Google-analogy accuracy for information).

Targets: speed_ratio = numpy / gensim words/s >= 0.25, quality_ratio = numpy / gensim
WordSim-353 Spearman >= 0.9. Prints exactly one JSON line. Run with PYTHONHASHSEED=0 (make
benchmarks does) so that gensim is reproducible.

    python benchmarks/word2vec.py [--reviews 25000] [--epochs 1]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

import numpy as np

from course_utils import data
from course_utils import embeddings as E
from course_utils import text as T

SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "min_count": 5, "seed": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=25_000, help="training reviews to use")
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("gensim").setLevel(logging.ERROR)

    from gensim.models import Word2Vec

    texts, _ = data.load_imdb("train")
    order = np.random.default_rng(0).permutation(len(texts))[: args.reviews]
    sentences = T.tokenize_all(texts[i] for i in order)
    n_tokens = sum(map(len, sentences))
    load_before = os.getloadavg()[0]

    start = time.perf_counter()
    w2v = Word2Vec(sentences, sg=1, workers=1, epochs=args.epochs, sample=1e-3, alpha=0.025,
                   min_alpha=1e-4, **SETTINGS)
    gensim_seconds = time.perf_counter() - start

    start = time.perf_counter()
    numpy_wv = E.train_skipgram(sentences, epochs=args.epochs, sample=1e-3, alpha=0.025,
                                min_alpha=1e-4, **SETTINGS)
    numpy_seconds = time.perf_counter() - start

    words = n_tokens * args.epochs
    numpy_wps, gensim_wps = words / numpy_seconds, words / gensim_seconds
    numpy_ws = E.wordsim353(numpy_wv)["spearman"]
    gensim_ws = E.wordsim353(w2v.wv)["spearman"]
    speed_ratio = numpy_wps / gensim_wps
    quality_ratio = numpy_ws / gensim_ws
    result = {
        "benchmark": "word2vec_skipgram_numpy_vs_gensim",
        "reviews": len(sentences),
        "tokens": n_tokens,
        "epochs": args.epochs,
        "vocab_size": len(numpy_wv),
        "numpy_seconds": round(numpy_seconds, 1),
        "gensim_seconds": round(gensim_seconds, 1),
        "numpy_words_per_s": round(numpy_wps),
        "gensim_words_per_s": round(gensim_wps),
        "speed_ratio": round(speed_ratio, 3),
        "numpy_wordsim_spearman": round(numpy_ws, 4),
        "gensim_wordsim_spearman": round(gensim_ws, 4),
        "quality_ratio": round(quality_ratio, 3),
        "numpy_analogy_accuracy": round(E.analogy_accuracy(numpy_wv)["accuracy"], 4),
        "gensim_analogy_accuracy": round(E.analogy_accuracy(w2v.wv)["accuracy"], 4),
        "speed_target": 0.25,
        "quality_target": 0.9,
        "passed": bool(speed_ratio >= 0.25 and quality_ratio >= 0.9),
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
