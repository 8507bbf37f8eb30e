"""Quality of lesson 03's two experiments (course_utils.categorical) across seeds, as one JSON line.

The notebook runs each experiment once with seed 0; this checks that its conclusions are not
the luck of that seed. For every seed it redraws the simulated data and retrains:

* the map: travel-time model on the 16 German state capitals, then the Procrustes alignment error
  (km) of the learned 2-D embedding against the real map, and the best of 200 random embeddings;
* the shops: 1,000 shops x 8 days, one-hot MLP versus 2-D embedding MLP, validation MSE.

Targets (every seed): map_rmse_km <= 20, map_rmse_km <= 0.25 * best random draw,
embedding validation MSE <= 0.85 * one-hot validation MSE.

    python benchmarks/categorical_embeddings.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import course_utils
from course_utils import categorical as cat


def map_experiment(k: int) -> dict:
    seed = course_utils.set_seed(k)  # every draw below follows it (and $COURSE_SEED)
    xy = cat.capital_coordinates_km()
    origin, destination, hours = cat.simulate_travel_times(xy, 3000, np.random.default_rng(seed))
    n = 2400
    model = cat.build_travel_time_model(16)
    model.fit([origin[:n], destination[:n]], hours[:n], epochs=20, batch_size=64, verbose=0)
    learned = model.get_layer("position").get_weights()[0]
    rmse = cat.procrustes_align(learned, xy).rmse
    baseline = cat.random_alignment_errors(xy, 200, np.random.default_rng(seed + 1000))
    return {"map_rmse_km": rmse, "random_best_km": float(baseline.min())}


def shop_experiment(k: int) -> dict:
    seed = course_utils.set_seed(k)
    rng = np.random.default_rng(seed)
    shops = cat.simulate_shop_sales(1000, 8, rng)
    train, valid = cat.split_rows_per_category(shops.shop, 2, rng)
    ids = shops.shop + 1  # 0 is the OOV id, as in the notebook
    train_ids = cat.replace_with_oov(ids[train], 0.03, rng)
    out = {"best_achievable_mse": cat.best_achievable_mse(shops, train, valid, noise=0.5)}
    for label, build in [("onehot", cat.build_onehot_model), ("embedding", cat.build_embedding_model)]:
        course_utils.set_seed(k)
        model = build(1001, 3, hidden=32)
        hist = model.fit(
            [train_ids, shops.features[train]], shops.sales[train],
            validation_data=([ids[valid], shops.features[valid]], shops.sales[valid]),
            epochs=20, batch_size=128, verbose=0,
        )
        out[f"{label}_val_mse"] = float(hist.history["val_loss"][-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    runs = [{**map_experiment(s), **shop_experiment(s)} for s in range(args.seeds)]
    ok = all(
        r["map_rmse_km"] <= 20
        and r["map_rmse_km"] <= 0.25 * r["random_best_km"]
        and r["embedding_val_mse"] <= 0.85 * r["onehot_val_mse"]
        for r in runs
    )
    result = {
        "benchmark": "categorical_embeddings",
        "seeds": args.seeds,
        "map_rmse_km_max": round(max(r["map_rmse_km"] for r in runs), 2),
        "random_best_km_min": round(min(r["random_best_km"] for r in runs), 1),
        "onehot_val_mse": [round(r["onehot_val_mse"], 3) for r in runs],
        "embedding_val_mse": [round(r["embedding_val_mse"], 3) for r in runs],
        "targets_met": ok,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
