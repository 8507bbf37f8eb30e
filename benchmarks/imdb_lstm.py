"""Lesson 05's final IMDB model, trained with the notebook's settings (``sentiment.FINAL``).

Prints one JSON line: test accuracy on all 25,000 test reviews, training seconds (the target
is <= 90 s on an idle 2-core CPU), scoring seconds, data preparation seconds and the settings.
"""

import json
import os
import time

import course_utils
from course_utils import sentiment as S


def main() -> None:
    course_utils.set_seed(0)
    start = time.perf_counter()
    vec, imdb = S.prepare_imdb(num_words=S.FINAL.num_words, seed=0)
    side = dict(padding=S.FINAL.padding, truncating=S.FINAL.truncating)
    X_train = S.pad(imdb["train_ids"], S.FINAL.maxlen, **side)
    X_test = S.pad(imdb["test_ids"], S.FINAL.maxlen, **side)
    prep_seconds = time.perf_counter() - start

    course_utils.set_seed(0)
    model = S.build_final_model(S.FINAL)
    cpu0 = time.process_time()
    _, train_seconds = S.train(model, X_train, imdb["y_train"], epochs=S.FINAL.epochs,
                               batch_size=S.FINAL.batch_size, progress=False)
    train_cpu = time.process_time() - cpu0

    start = time.perf_counter()
    p = S.predict_proba(model, X_test)
    eval_seconds = time.perf_counter() - start
    accuracy = float(((p >= 0.5) == imdb["y_test"]).mean())

    print(json.dumps({
        "benchmark": "imdb_lstm",
        "test_accuracy": round(accuracy, 4),
        "test_size": int(len(X_test)),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu, 1),
        "eval_seconds": round(eval_seconds, 1),
        "prep_seconds": round(prep_seconds, 1),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "settings": S.FINAL.as_dict(),
    }))


if __name__ == "__main__":
    main()
