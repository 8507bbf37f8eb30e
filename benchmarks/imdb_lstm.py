"""Lesson 05's IMDB models and baselines, measured over several seeds.

    python benchmarks/imdb_lstm.py                      # seeds 0 1 2, one change at a time
    python benchmarks/imdb_lstm.py --seeds 0 --variants final gru
    python benchmarks/imdb_lstm.py --no-baselines --variants final "GRU, bidirectional, max over states"

Data as in the lesson: the shuffled training reviews are split by ``sentiment.split_validation``
into 20,000 for training and 5,000 for validation; every choice is read off the validation
accuracy, and the 25,000 test reviews are scored once per trained final model, at the end.

Prints one JSON line:

- the final model (``sentiment.FINAL``, conv + LSTM): ``test_accuracy`` (mean over seeds),
  ``test_accuracy_sd`` (sample standard deviation over seeds), ``validation_accuracy`` (mean),
  ``seeds``, ``train_seconds`` / ``train_cpu_seconds`` / ``eval_seconds`` (means; the target is
  <= 90 s of training on an idle 2-core CPU), ``prep_seconds``, ``test_size``, ``settings``;
- ``ablation``: one row per variant, each a change of ``FINAL`` with everything else held
  equal (GRU, max over all hidden states, word2vec-initialised embedding, maxlen 200,
  bidirectional, 2 epochs; the combination of the three best is run on request): validation
  accuracy mean, standard deviation and per-seed values, training seconds;
- ``word2vec_seconds``: the CBOW pretraining of the word2vec variant (once, not per seed);
- ``baseline_tfidf_lr``: TF-IDF + logistic regression on words and on words + bigrams, and
  ``baseline_nbsvm``: NB-weighted words + bigrams (Wang & Manning 2012), each with validation
  and test accuracy and fit seconds (deterministic: no seed; fitted first, and every finished
  run is also logged on stderr, so a run stopped early keeps its rows);
- ``cpu_count`` and ``load_avg_1min``: timings on a loaded machine are inflated.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

import numpy as np

import course_utils
from course_utils import sentiment as S

#: name -> changes to sentiment.FINAL; "final" is FINAL itself. "word2vec" is no setting of
#: FINAL: it starts the embedding from CBOW vectors trained on the unlabelled reviews.
VARIANTS = {
    "final": {},
    "gru": {"cell": "gru"},
    "maxlen 200": {"maxlen": 200},
    "maxlen 100 (as Keras's imdb_cnn_lstm.py)": {"maxlen": 100},
    "2 epochs": {"epochs": 2},
    "bidirectional": {"bidirectional": True},
    "max over all states": {"state_pooling": "max"},
    "word2vec embedding": {"word2vec": True},
    "GRU, bidirectional, max over states": {"cell": "gru", "bidirectional": True,
                                            "state_pooling": "max"},
}
DEFAULT_VARIANTS = ["final", "gru", "max over all states", "word2vec embedding", "maxlen 200",
                    "bidirectional", "2 epochs"]


def word2vec_matrix(vectorizer, train_ids, dim: int, seed: int):
    """(num_words, dim) CBOW vectors (gensim, 2 epochs) for the vectorizer's words, trained on
    the training split's reviews and the 50,000 unlabelled ones; rows of words gensim dropped
    (fewer than 5 occurrences) stay 0. Returns the matrix and the seconds it took."""
    from gensim.models import Word2Vec

    from course_utils.data import load_imdb

    start = time.perf_counter()
    words = vectorizer.words
    sentences = [[words[i] for i in ids] for ids in train_ids]
    sentences += [S.tokenize(t) for t in load_imdb("unsup")[0]]
    w2v = Word2Vec(sentences, vector_size=dim, window=5, min_count=5, sg=0, epochs=2,
                   workers=2, seed=seed)
    matrix = np.zeros((len(words), dim), dtype=np.float32)
    for i, w in enumerate(words):
        if w in w2v.wv:
            matrix[i] = w2v.wv[w]
    return matrix, time.perf_counter() - start


def _accuracy(p, y) -> float:
    return float(np.mean((np.asarray(p) >= 0.5) == y))


def _sd(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def run_variant(data, settings, seed, *, test: bool, embedding=None):
    side = dict(padding=settings.padding, truncating=settings.truncating)
    X = {part: S.pad(data[f"{part}_ids"], settings.maxlen, **side)
         for part in ("train", "val") + (("test",) if test else ())}
    import keras  # after course_utils, which sets TensorFlow's environment defaults

    keras.utils.set_random_seed(seed)  # seed already holds $COURSE_SEED (see main)
    model = S.build_final_model(settings)
    if embedding is not None:
        model.layers[0].set_weights([embedding])
    cpu0 = time.process_time()
    _, train_seconds = S.train(model, X["train"], data["y_train"], epochs=settings.epochs,
                               batch_size=settings.batch_size, progress=False)
    row = {"train_seconds": train_seconds, "train_cpu_seconds": time.process_time() - cpu0,
           "validation_accuracy": _accuracy(S.predict_proba(model, X["val"]), data["y_val"])}
    if test:
        start = time.perf_counter()
        row["test_accuracy"] = _accuracy(S.predict_proba(model, X["test"]), data["y_test"])
        row["eval_seconds"] = time.perf_counter() - start
    return row


def baseline(make, data) -> dict:
    start = time.perf_counter()
    model = make()
    fit_seconds = time.perf_counter() - start
    return {"validation_accuracy": round(float(np.mean(model.predict(data["val_texts"]) == data["y_val"])), 4),
            "test_accuracy": round(float(np.mean(model.predict(data["test_texts"]) == data["y_test"])), 4),
            "fit_seconds": round(fit_seconds, 1)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds for set_seed (each shifted by $COURSE_SEED)")
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS,
                        choices=list(VARIANTS), help="ablation rows to run ('final' always runs)")
    parser.add_argument("--no-baselines", action="store_true", help="skip the scikit-learn rows")
    args = parser.parse_args(argv)
    variants = ["final"] + [v for v in args.variants if v != "final"]

    data_seed = course_utils.set_seed(0)
    start = time.perf_counter()
    vectorizer, imdb = S.prepare_imdb(num_words=S.FINAL.num_words, seed=data_seed)
    data = S.split_validation(imdb)
    prep_seconds = time.perf_counter() - start
    extra = {}
    if "word2vec embedding" in variants:
        embedding, extra["word2vec_seconds"] = word2vec_matrix(
            vectorizer, data["train_ids"], S.FINAL.embed_dim, data_seed)
        print("word2vec seconds", round(extra["word2vec_seconds"], 1), file=sys.stderr, flush=True)

    def settings(name):
        changes = {k: v for k, v in VARIANTS[name].items() if k != "word2vec"}
        return dataclasses.replace(S.FINAL, **changes)

    baselines = {}
    if not args.no_baselines:  # first: deterministic, and needed by every table
        texts, y = data["train_texts"], data["y_train"]
        baselines["baseline_tfidf_lr"] = {
            "words": baseline(lambda: S.tfidf_logistic_regression(texts, y, ngrams=1), data),
            "words_and_bigrams": baseline(lambda: S.tfidf_logistic_regression(texts, y, ngrams=2),
                                          data)}
        baselines["baseline_nbsvm"] = baseline(
            lambda: S.NBLogisticRegression(ngrams=2).fit(texts, y), data)
        print("baselines", json.dumps(baselines), file=sys.stderr, flush=True)

    seeds = [course_utils.set_seed(s) for s in args.seeds]  # each + $COURSE_SEED
    runs = {}
    for name in variants:
        for seed in seeds:
            row = run_variant(data, settings(name), seed, test=name == "final",
                              embedding=embedding if "word2vec" in VARIANTS[name] else None)
            runs.setdefault(name, []).append(row)
            # progress on stderr: a long run stopped early still leaves its finished rows
            print(name, seed, json.dumps(row), file=sys.stderr, flush=True)
    final = runs["final"]

    def mean(rows, key):
        return round(float(np.mean([r[key] for r in rows])), 4)

    out = {
        "benchmark": "imdb_lstm",
        "test_accuracy": mean(final, "test_accuracy"),
        "test_size": int(len(data["y_test"])),
        "train_seconds": round(mean(final, "train_seconds"), 1),
        "train_cpu_seconds": round(mean(final, "train_cpu_seconds"), 1),
        "eval_seconds": round(mean(final, "eval_seconds"), 1),
        "prep_seconds": round(prep_seconds, 1),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "settings": S.FINAL.as_dict(),
        "validation_accuracy": mean(final, "validation_accuracy"),
        "validation_size": int(len(data["y_val"])),
        "train_size": int(len(data["y_train"])),
        "seeds": seeds,
        "test_accuracy_sd": round(_sd([r["test_accuracy"] for r in final]), 4),
        "test_accuracy_per_seed": [round(r["test_accuracy"], 4) for r in final],
        "ablation": [{"variant": name, "changes": VARIANTS[name],
                      "validation_accuracy": mean(rows, "validation_accuracy"),
                      "validation_accuracy_sd": round(_sd([r["validation_accuracy"] for r in rows]), 4),
                      "validation_accuracy_per_seed": [round(r["validation_accuracy"], 4) for r in rows],
                      "train_seconds": round(mean(rows, "train_seconds"), 1)}
                     for name, rows in runs.items()],
        **{k: round(v, 1) for k, v in extra.items()},
    }
    out.update(baselines)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
