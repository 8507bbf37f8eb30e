"""Lesson 07's date translator, with and without attention at the same budget, as one JSON line.

For each seed (``--seeds``, default 0 1 2; each run seeded through ``course_utils.set_seed``)
it trains the notebook's encoder-decoder with attention and the same model without attention
for the same number of epochs (``course_utils.dates.SETTINGS``: same data, batches, optimiser
and learning rate), on the training split of ``dates.make_splits`` with its validation split as
Keras's validation data, then decodes the **test** split (never used for any choice):

* greedy exact match of both models (``exact_match``, ``plain_exact_match``), also per input
  length bucket (``dates.LENGTH_BUCKETS``) and per written format;
* beam search (``dates.beam_decode``, length-normalised) of the attention model with widths
  1, 3 and 5: exact match and milliseconds per date (``beam5_exact_match``).

The top-level keys describe the first seed; ``over_seeds`` gives mean, min and max over all
seeds of every headline number. ``cpu_seconds`` (process CPU time of training) is printed too,
because wall-clock time on a shared machine says more about the neighbours than the model.

Targets: exact_match >= 0.95 with train_seconds <= 120 on an idle 2-core machine.

    python benchmarks/attention_dates.py [--seeds 0 1 2] [--plain]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import course_utils
from course_utils import dates


def _by(groups, predicted, expected) -> dict:
    return {g: round(em, 4) for g, (em, _) in dates.exact_match_by(groups, predicted,
                                                                    expected).items()}


def run(attention: bool, seed: int, train, val, test, beams=(1, 3, 5)) -> dict:
    course_utils.set_seed(seed)
    cpu0 = time.process_time()
    model, history, seconds = dates.train_model(train[:2], val[:2], attention=attention)
    cpu = time.process_time() - cpu0
    t0 = time.perf_counter()
    pred = dates.translate(model, test[0])
    decode = time.perf_counter() - t0
    lengths = [dates.length_bucket(h) for h in test[0]]
    out = {
        "exact_match": round(dates.exact_match(pred, test[1]), 4),
        "val_char_accuracy": round(float(history.history["val_accuracy"][-1]), 4),
        "train_seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "decode_seconds": round(decode, 1),
        "epochs": len(history.history["loss"]),
        "exact_match_by_length": _by(lengths, pred, test[1]),
        "exact_match_by_format": _by(test[2], pred, test[1]),
    }
    if attention:
        x = dates.encode_inputs(test[0])
        for k in beams:
            t0 = time.perf_counter()
            y, _ = dates.beam_decode(model, x, k)
            ms = (time.perf_counter() - t0) / len(x) * 1000
            out[f"beam{k}_exact_match"] = round(dates.exact_match(dates.decode_outputs(y),
                                                                  test[1]), 4)
            out[f"beam{k}_ms_per_date"] = round(ms, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds of the training runs (default 0 1 2)")
    parser.add_argument("--plain", action="store_true",
                        help="kept for compatibility: the plain model is always trained now")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    train, val, test = dates.make_splits(seed=course_utils.set_seed(0))  # + $COURSE_SEED
    runs = []
    for seed in args.seeds:
        att = run(True, seed, train, val, test)
        plain = run(False, seed, train, val, test)
        runs.append({"seed": seed, **att, "plain": plain})
    first = runs[0]
    result = {"benchmark": "attention_dates", "seed": first["seed"], "seeds": args.seeds,
              "n_train": len(train[0]), "n_val": len(val[0]), "n_test": len(test[0]),
              **{k: v for k, v in first.items() if k != "seed"},
              "plain_exact_match": first["plain"]["exact_match"],
              "plain_exact_match_by_length": first["plain"]["exact_match_by_length"],
              "plain_exact_match_by_format": first["plain"]["exact_match_by_format"],
              "plain_epochs": first["plain"]["epochs"]}

    def spread(values):
        return {"mean": round(float(np.mean(values)), 4), "min": round(float(np.min(values)), 4),
                "max": round(float(np.max(values)), 4)}

    over = {k: spread([r[k] for r in runs])
            for k in ("exact_match", "beam3_exact_match", "beam5_exact_match", "train_seconds")}
    over["plain_exact_match"] = spread([r["plain"]["exact_match"] for r in runs])
    for key in ("exact_match_by_length", "exact_match_by_format"):
        for prefix, get in (("", lambda r: r), ("plain_", lambda r: r["plain"])):
            for g in first[key]:
                over[f"{prefix}{key}[{g}]"] = spread([get(r)[key][g] for r in runs])
    result["over_seeds"] = over
    result["runs"] = runs[1:]
    result["load_average_1min"] = round(load_start, 2)
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    result["target_met"] = result["exact_match"] >= 0.95 and result["train_seconds"] <= 120
    print(json.dumps(result))


if __name__ == "__main__":
    main()
