"""Quality of lesson 03's experiments (course_utils.categorical) across seeds, as one JSON line.

The notebook runs each experiment once per COURSE_SEED; this checks that its conclusions are
not the luck of one seed. For every seed it redraws the simulated data exactly as the notebook
does (the same offsets from the seed) and retrains:

* the map: journeys between the 16 German state capitals, every journey between 20 of the 120
  city pairs held out. The distance model's alignment error (km) against the real map and its
  MAE on the held-out pairs (20 epochs at lr 0.05, as in the lesson's first part); the best of
  200 random embeddings; the traffic-noise floor.
* distance model vs MLP, as in the lesson's cells 28-29: 20 more pairs carved out of the
  training pairs for validation, both models trained 40 epochs at batch 64 on the other 80
  pairs with the learning rate in 0.003 / 0.01 / 0.03 that does best on validation, then tested
  once on the 20 held-out pairs (MAE, and alignment error of the embedding).
* the shops: 1,000 shops x 8 days; validation MSE (Keras's ``val_mse``, without any L2
  penalty; mean of the last 3 epochs) of plain one-hot, one-hot with an L2 penalty on the shop
  block (the best of 1e-3..1e-6 on validation) and a 2-D embedding.

Reported: per seed values, and the differences the lesson relies on with their spread
(mean and standard deviation over seeds). Targets (every seed): map_rmse_km <= 20 and
<= 0.25 * best random draw; tuned distance model's test MAE < 1.2 * floor; tuned MLP's test MAE
> tuned distance model's + 0.04 h; tuned MLP's alignment error > 3 * the tuned distance
model's; embedding MSE <= 0.85 * one-hot MSE and <= 0.85 * best-L2 MSE.

    python benchmarks/categorical_embeddings.py [--seeds 3] [--part all|map|shops]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import course_utils
from course_utils import categorical as cat

L2_STRENGTHS = (1e-3, 1e-4, 1e-5, 1e-6)
LEARNING_RATES = (0.003, 0.01, 0.03)


def map_experiment(k: int) -> dict:
    seed = course_utils.set_seed(k)  # every draw below follows it (and $COURSE_SEED)
    xy = cat.capital_coordinates_km()
    origin, destination, hours = cat.simulate_travel_times(xy, 3000, np.random.default_rng(seed + 3))
    tr, va = cat.split_by_pair(origin, destination, 20, np.random.default_rng(seed + 4))
    out = {"floor_mae_h": float(np.abs(hours[va] - cat.expected_travel_hours(
        xy, origin[va], destination[va])).mean())}
    course_utils.set_seed(k)
    model = cat.build_travel_time_model(16)
    hist = model.fit([origin[tr], destination[tr]], hours[tr], epochs=20, batch_size=64,
                     validation_data=([origin[va], destination[va]], hours[va]), verbose=0)
    out["map_rmse_km"] = cat.procrustes_align(model.get_layer("position").get_weights()[0], xy).rmse
    out["map_val_mae_h"] = float(hist.history["val_mae"][-1])

    def pairs(idx):
        return [origin[idx], destination[idx]]

    fit_rel, tune_rel = cat.split_by_pair(origin[tr], destination[tr], 20,
                                          np.random.default_rng(seed + 13))
    fit, tune = tr[fit_rel], tr[tune_rel]
    for name, build in [("dist", cat.build_travel_time_model), ("mlp", cat.build_travel_time_mlp)]:
        lr, model, _ = cat.tune_learning_rate(
            build, LEARNING_RATES, (pairs(fit), hours[fit]), (pairs(tune), hours[tune]),
            epochs=40, batch_size=64, seed_offset=k, progress=False, num_places=16, dim=2)
        pred = model.predict(pairs(va), verbose=0)[:, 0]
        out[f"tuned_{name}_lr"] = lr
        out[f"tuned_{name}_test_mae_h"] = float(np.abs(pred - hours[va]).mean())
        out[f"tuned_{name}_rmse_km"] = cat.procrustes_align(
            model.get_layer("position").get_weights()[0], xy).rmse
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
    parser.add_argument("--part", choices=("all", "map", "shops"), default="all")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = [{**(map_experiment(s) if args.part != "shops" else {}),
             **(shop_experiment(s) if args.part != "map" else {})} for s in range(args.seeds)]
    result = {"benchmark": "categorical_embeddings", "seeds": args.seeds, "part": args.part}
    ok = True
    if args.part != "shops":
        ok &= all(
            r["map_rmse_km"] <= 20
            and r["map_rmse_km"] <= 0.25 * r["random_best_km"]
            and r["tuned_dist_test_mae_h"] < 1.2 * r["floor_mae_h"]
            and r["tuned_mlp_test_mae_h"] > r["tuned_dist_test_mae_h"] + 0.04
            and r["tuned_mlp_rmse_km"] > 3 * r["tuned_dist_rmse_km"]
            for r in runs
        )
        result.update({
            "map_rmse_km": [round(r["map_rmse_km"], 1) for r in runs],
            "random_best_km": [round(r["random_best_km"], 1) for r in runs],
            "floor_mae_h": [round(r["floor_mae_h"], 3) for r in runs],
            "map_heldout_mae_h": [round(r["map_val_mae_h"], 3) for r in runs],
            "tuned_lr": {m: [r[f"tuned_{m}_lr"] for r in runs] for m in ("dist", "mlp")},
            "tuned_test_mae_h": {m: [round(r[f"tuned_{m}_test_mae_h"], 3) for r in runs]
                                 for m in ("dist", "mlp")},
            "tuned_rmse_km": {m: [round(r[f"tuned_{m}_rmse_km"], 1) for r in runs]
                              for m in ("dist", "mlp")},
            "tuned_mlp_minus_dist_mae_h": _spread(
                [r["tuned_mlp_test_mae_h"] - r["tuned_dist_test_mae_h"] for r in runs]),
        })
    if args.part != "map":
        ok &= all(
            r["embedding_val_mse"] <= 0.85 * r["onehot_val_mse"]
            and r["embedding_val_mse"] <= 0.85 * r["best_l2_val_mse"]
            for r in runs
        )
        result.update({
            "onehot_val_mse": [round(r["onehot_val_mse"], 3) for r in runs],
            "best_l2": [r["best_l2"] for r in runs],
            "best_l2_val_mse": [round(r["best_l2_val_mse"], 3) for r in runs],
            "embedding_val_mse": [round(r["embedding_val_mse"], 3) for r in runs],
            "embedding_minus_onehot_mse": _spread(
                [r["embedding_val_mse"] - r["onehot_val_mse"] for r in runs]),
            "best_l2_minus_onehot_mse": _spread(
                [r["best_l2_val_mse"] - r["onehot_val_mse"] for r in runs]),
        })
    result["targets_met"] = bool(ok)
    result["wall_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
