"""Lesson 07's date translator: held-out exact match and training time, as one JSON line.

Trains the notebook's encoder-decoder with attention with the notebook's settings
(``course_utils.dates.SETTINGS``, seed 0), then decodes the held-out dates greedily.
With ``--plain`` it also trains the model without attention for ``plain_epochs``.

Targets: exact_match >= 0.95 with train_seconds <= 120 on an idle 2-core machine.
``cpu_seconds`` (process CPU time of training) is printed too, because wall-clock time on a
shared machine says more about the neighbours than about the model.

    python benchmarks/attention_dates.py [--plain] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import course_utils
from course_utils import dates


def run(attention: bool, seed: int, train, test) -> dict:
    course_utils.set_seed(seed)
    cpu0 = time.process_time()
    model, history, seconds = dates.train_model(train, test, attention=attention)
    cpu = time.process_time() - cpu0
    t0 = time.perf_counter()
    exact = dates.exact_match(dates.translate(model, test[0]), test[1])
    return {
        "exact_match": round(exact, 4),
        "val_char_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "train_seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "decode_seconds": round(time.perf_counter() - t0, 1),
        "epochs": len(history.history["loss"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", action="store_true", help="also train the model without attention")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train, test = dates.make_datasets(seed=0)
    result = {"benchmark": "attention_dates", "seed": args.seed,
              "n_train": len(train[0]), "n_test": len(test[0]),
              **run(True, args.seed, train, test)}
    if args.plain:
        result["plain"] = run(False, args.seed, train, test)
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    result["target_met"] = result["exact_match"] >= 0.95 and result["train_seconds"] <= 120
    print(json.dumps(result))


if __name__ == "__main__":
    main()
