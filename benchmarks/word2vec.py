"""NumPy skip-gram versus gensim skip-gram: speed and quality on the same reviews.

Both train skip-gram with negative sampling with identical settings (vector_size 100, window 5,
5 negatives, min_count 5, sample 1e-3, linear learning-rate decay 0.025 -> 0.0001; gensim with
sg=1 and one worker thread) on the same tokenised IMDB training reviews. Each is timed end to
end (vocabulary + training). Speed is corpus tokens x epochs / seconds for both; quality is the
WordSim-353 Spearman correlation (plus Google-analogy accuracy for information).

Targets: speed_ratio = numpy / gensim words/s >= 0.25, quality_ratio = numpy / gensim
WordSim-353 Spearman >= 0.9. On this little text the Spearman of either model moves by about
+-0.02 from one seed to the next, so both are trained with every seed in ``--seeds`` and the
means are compared (per-seed values are in the JSON too). Prints exactly one JSON line. Run
with PYTHONHASHSEED=0 (make benchmarks does) so that gensim is reproducible.

    python benchmarks/word2vec.py [--reviews 25000] [--epochs 1] [--seeds 0,1]
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

SETTINGS = {"vector_size": 100, "window": 5, "negative": 5, "min_count": 5, "sample": 1e-3,
            "alpha": 0.025, "min_alpha": 1e-4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=25_000, help="training reviews to use")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", default="0,1", help="comma-separated seeds, e.g. 0,1,2")
    args = parser.parse_args()
    seeds = [int(x) for x in args.seeds.split(",")]
    logging.getLogger("gensim").setLevel(logging.ERROR)

    from gensim.models import Word2Vec

    texts, _ = data.load_imdb("train")
    order = np.random.default_rng(0).permutation(len(texts))[: args.reviews]
    sentences = T.tokenize_all(texts[i] for i in order)
    n_tokens = sum(map(len, sentences))
    load_before = os.getloadavg()[0]

    seconds = {"numpy": 0.0, "gensim": 0.0}
    wordsim = {"numpy": [], "gensim": []}
    analogy = {"numpy": [], "gensim": []}
    for seed in seeds:
        # Alternate which one runs first so that a change of machine load hits both alike.
        for name in (["gensim", "numpy"] if seed % 2 == 0 else ["numpy", "gensim"]):
            start = time.perf_counter()
            if name == "gensim":
                wv = Word2Vec(sentences, sg=1, workers=1, epochs=args.epochs, seed=seed,
                              **SETTINGS).wv
            else:
                wv = E.train_skipgram(sentences, epochs=args.epochs, seed=seed, **SETTINGS)
            seconds[name] += time.perf_counter() - start
            wordsim[name].append(E.wordsim353(wv)["spearman"])
            analogy[name].append(E.analogy_accuracy(wv)["accuracy"])

    words = n_tokens * args.epochs * len(seeds)
    numpy_wps, gensim_wps = words / seconds["numpy"], words / seconds["gensim"]
    numpy_ws, gensim_ws = float(np.mean(wordsim["numpy"])), float(np.mean(wordsim["gensim"]))
    speed_ratio = numpy_wps / gensim_wps
    quality_ratio = numpy_ws / gensim_ws
    result = {
        "benchmark": "word2vec_skipgram_numpy_vs_gensim",
        "reviews": len(sentences),
        "tokens": n_tokens,
        "epochs": args.epochs,
        "seeds": seeds,
        "vocab_size": len(wv),
        "numpy_seconds": round(seconds["numpy"], 1),
        "gensim_seconds": round(seconds["gensim"], 1),
        "numpy_words_per_s": round(numpy_wps),
        "gensim_words_per_s": round(gensim_wps),
        "speed_ratio": round(speed_ratio, 3),
        "numpy_wordsim_spearman": round(numpy_ws, 4),
        "gensim_wordsim_spearman": round(gensim_ws, 4),
        "quality_ratio": round(quality_ratio, 3),
        "numpy_wordsim_by_seed": [round(x, 4) for x in wordsim["numpy"]],
        "gensim_wordsim_by_seed": [round(x, 4) for x in wordsim["gensim"]],
        "numpy_analogy_accuracy": round(float(np.mean(analogy["numpy"])), 4),
        "gensim_analogy_accuracy": round(float(np.mean(analogy["gensim"])), 4),
        "speed_target": 0.25,
        "quality_target": 0.9,
        "passed": bool(speed_ratio >= 0.25 and quality_ratio >= 0.9),
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
