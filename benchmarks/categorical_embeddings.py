"""Quality of lesson 03's experiments (course_utils.categorical) across seeds, as one JSON line.

The notebook runs each experiment once per COURSE_SEED; this checks that its conclusions are
not the luck of one seed. For every seed it redraws the simulated data exactly as the notebook
does (the same offsets from the seed) and retrains:

* the map: journeys between the 16 German state capitals, every journey between 20 of the 120
  city pairs held out for validation. The distance model's alignment error (km) against the
  real map and its validation MAE on the unseen pairs; the same for the MLP on the same 2-D
  embeddings; the best of 200 random embeddings; the traffic-noise floor.
* the shops: 1,000 shops x 8 days; validation MSE (Keras's ``val_mse``, without any L2
  penalty; mean of the last 3 epochs) of plain one-hot, one-hot with an L2 penalty on the shop
  block (the best of 1e-3..1e-6 on validation) and a 2-D embedding.

Reported: per seed values, and the differences the lesson relies on with their spread
(mean and standard deviation over seeds). Targets (every seed): map_rmse_km <= 20 and
<= 0.25 * best random draw; MLP MAE > 1.3 * distance MAE; embedding MSE <= 0.85 * one-hot MSE
and <= 0.85 * best-L2 MSE.

    python benchmarks/categorical_embeddings.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import course_utils
from course_utils import categorical as cat

L2_STRENGTHS = (1e-3, 1e-4, 1e-5, 1e-6)


def map_experiment(k: int) -> dict:
    seed = course_utils.set_seed(k)  # every draw below follows it (and $COURSE_SEED)
    xy = cat.capital_coordinates_km()
    origin, destination, hours = cat.simulate_travel_times(xy, 3000, np.random.default_rng(seed + 3))
    tr, va = cat.split_by_pair(origin, destination, 20, np.random.default_rng(seed + 4))
    out = {"floor_mae_h": float(np.abs(hours[va] - cat.expected_travel_hours(
        xy, origin[va], destination[va])).mean())}
    for name, build, epochs in [("map", lambda: cat.build_travel_time_model(16), 20),
                                ("mlp", lambda: cat.build_travel_time_mlp(16, 2, hidden=64), 40)]:
        course_utils.set_seed(k)
        model = build()
        hist = model.fit([origin[tr], destination[tr]], hours[tr], epochs=epochs, batch_size=64,
                         validation_data=([origin[va], destination[va]], hours[va]), verbose=0)
        learned = model.get_layer("position").get_weights()[0]
        out[f"{name}_rmse_km"] = cat.procrustes_align(learned, xy).rmse
        out[f"{name}_val_mae_h"] = float(hist.history["val_mae"][-1])
    baseline = cat.random_alignment_errors(xy, 200, np.random.default_rng(seed + 1))
    out["random_best_km"] = float(baseline.min())
    return out


def shop_experiment(k: int) -> dict:
    seed = course_utils.set_seed(k)
    shops = cat.simulate_shop_sales(1000, 8, np.random.default_rng(seed + 5), noise=0.5)
    train, valid = cat.split_rows_per_category(shops.shop, 2, np.random.default_rng(seed + 6))
    ids = shops.shop + 1  # 0 is the OOV id, as in the notebook
    train_ids = cat.replace_with_oov(ids[train], 0.03, np.random.default_rng(seed + 7))
    out = {"best_achievable_mse": cat.best_achievable_mse(shops, train, valid, noise=0.5)}
    builders = {"onehot": lambda: cat.build_onehot_model(1001, 3, hidden=32),
                "embedding": lambda: cat.build_embedding_model(1001, 3, dim=2, hidden=32)}
    for l2 in L2_STRENGTHS:
        builders[f"l2_{l2:.0e}"] = lambda l2=l2: cat.build_onehot_model(1001, 3, hidden=32, l2=l2)
    for label, build in builders.items():
        course_utils.set_seed(k)
        hist = build().fit(
            [train_ids, shops.features[train]], shops.sales[train],
            validation_data=([ids[valid], shops.features[valid]], shops.sales[valid]),
            epochs=20, batch_size=128, verbose=0,
        )
        out[f"{label}_val_mse"] = float(np.mean(hist.history["val_mse"][-3:]))
    best = min(L2_STRENGTHS, key=lambda l2: out[f"l2_{l2:.0e}_val_mse"])
    out["best_l2"] = best
    out["best_l2_val_mse"] = out[f"l2_{best:.0e}_val_mse"]
    return out


def _spread(values) -> list[float]:
    values = np.asarray(values, dtype=float)
    return [round(float(values.mean()), 3), round(float(values.std(ddof=1)), 3)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    runs = [{**map_experiment(s), **shop_experiment(s)} for s in range(args.seeds)]
    ok = all(
        r["map_rmse_km"] <= 20
        and r["map_rmse_km"] <= 0.25 * r["random_best_km"]
        and r["mlp_val_mae_h"] > 1.3 * r["map_val_mae_h"]
        and r["embedding_val_mse"] <= 0.85 * r["onehot_val_mse"]
        and r["embedding_val_mse"] <= 0.85 * r["best_l2_val_mse"]
        for r in runs
    )
    result = {
        "benchmark": "categorical_embeddings",
        "seeds": args.seeds,
        "map_rmse_km": [round(r["map_rmse_km"], 1) for r in runs],
        "mlp_rmse_km": [round(r["mlp_rmse_km"], 1) for r in runs],
        "random_best_km_min": round(min(r["random_best_km"] for r in runs), 1),
        "unseen_pairs_mae_h": {"floor": [round(r["floor_mae_h"], 3) for r in runs],
                               "map": [round(r["map_val_mae_h"], 3) for r in runs],
                               "mlp": [round(r["mlp_val_mae_h"], 3) for r in runs]},
        "mlp_minus_map_mae_h": _spread([r["mlp_val_mae_h"] - r["map_val_mae_h"] for r in runs]),
        "onehot_val_mse": [round(r["onehot_val_mse"], 3) for r in runs],
        "best_l2": [r["best_l2"] for r in runs],
        "best_l2_val_mse": [round(r["best_l2_val_mse"], 3) for r in runs],
        "embedding_val_mse": [round(r["embedding_val_mse"], 3) for r in runs],
        "embedding_minus_onehot_mse": _spread(
            [r["embedding_val_mse"] - r["onehot_val_mse"] for r in runs]),
        "best_l2_minus_onehot_mse": _spread(
            [r["best_l2_val_mse"] - r["onehot_val_mse"] for r in runs]),
        "targets_met": ok,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
