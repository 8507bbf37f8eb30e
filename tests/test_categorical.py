"""Tests for course_utils.categorical: the map data, the vocabulary, Procrustes and the models."""

import numpy as np
import pytest

from course_utils import categorical as cat

# ------------------------------------------------------------------ facts and simulations


def test_capitals_are_the_16_states_inside_germany():
    states = [c.state for c in cat.GERMAN_STATE_CAPITALS]
    assert len(states) == len(set(states)) == 16
    for c in cat.GERMAN_STATE_CAPITALS:
        # Germany's bounding box: about 47.3-55.1 N, 5.9-15.0 E.
        assert 47.3 < c.lat < 55.1 and 5.9 < c.lon < 15.1, c


def test_map_in_km_matches_known_distances():
    xy = cat.capital_coordinates_km()
    city = {c.city: i for i, c in enumerate(cat.GERMAN_STATE_CAPITALS)}
    d = cat.pairwise_distances(xy)
    # Straight-line distances (great circle): Berlin-Munich ~504 km, Hamburg-Munich ~612 km,
    # Mainz-Wiesbaden ~9 km (the two capitals face each other across the Rhine).
    assert d[city["Berlin"], city["Munich"]] == pytest.approx(504, rel=0.02)
    assert d[city["Hamburg"], city["Munich"]] == pytest.approx(612, rel=0.02)
    assert d[city["Mainz"], city["Wiesbaden"]] < 15
    assert xy.mean(axis=0) == pytest.approx([0, 0], abs=1e-9)
    # Kiel is the northernmost capital, Munich the southernmost.
    assert np.argmax(xy[:, 1]) == city["Kiel"] and np.argmin(xy[:, 1]) == city["Munich"]


def test_travel_times_grow_with_distance_and_never_start_where_they_end(rng):
    xy = cat.capital_coordinates_km()
    origin, destination, hours = cat.simulate_travel_times(xy, 5000, rng)
    assert origin.shape == destination.shape == hours.shape == (5000,)
    assert (origin != destination).all()
    assert set(np.unique(origin)) == set(range(16))
    typical = cat.expected_travel_hours(xy, origin, destination)
    # Log-normal traffic around the typical time: the median ratio is 1.
    assert np.median(hours / typical) == pytest.approx(1.0, abs=0.02)
    dist = np.linalg.norm(xy[origin] - xy[destination], axis=1)
    assert np.corrcoef(dist, hours)[0, 1] > 0.9


def test_travel_times_are_reproducible():
    xy = cat.capital_coordinates_km()
    a = cat.simulate_travel_times(xy, 50, np.random.default_rng(3))
    b = cat.simulate_travel_times(xy, 50, np.random.default_rng(3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_expected_travel_hours_rejects_unknown_place():
    xy = cat.capital_coordinates_km()
    with pytest.raises(ValueError, match="destination ids must be in"):
        cat.expected_travel_hours(xy, np.array([0]), np.array([16]))


def test_shop_sales_shapes_and_noise_floor(rng):
    data = cat.simulate_shop_sales(300, 10, rng, noise=0.5)
    assert data.shop.shape == data.sales.shape == (3000,)
    assert data.features.shape == (3000, 3) and data.shop_traits.shape == (300, 2)
    assert np.bincount(data.shop).tolist() == [10] * 300
    z = data.shop_traits[data.shop]
    w, promo, weekend = data.features.T
    clean = z[:, 0] + z[:, 1] * w + 0.5 * promo + 0.3 * weekend + 0.2 * w * weekend
    # What is left after the documented formula is the noise, with variance noise**2.
    assert np.var(data.sales - clean) == pytest.approx(0.25, rel=0.1)


def test_split_keeps_every_category_on_both_sides(rng):
    category = np.repeat(np.arange(50), 6)
    rng.shuffle(category)
    train, valid = cat.split_rows_per_category(category, 2, rng)
    assert np.intersect1d(train, valid).size == 0
    assert train.size + valid.size == category.size
    assert np.bincount(category[valid]).tolist() == [2] * 50
    assert np.bincount(category[train]).tolist() == [4] * 50


def test_split_refuses_categories_too_small_to_train_on(rng):
    with pytest.raises(ValueError, match="smallest has 2"):
        cat.split_rows_per_category(np.array([0, 0, 1, 1, 1]), 2, rng)


# ------------------------------------------------------------------ one-hot and the vocabulary


def test_one_hot_times_weights_is_a_row_lookup(rng):
    W = rng.normal(size=(7, 3))
    ids = np.array([4, 0, 4, 6])
    X = cat.one_hot(ids, 7)
    assert X.shape == (4, 7) and (X.sum(axis=1) == 1).all()
    np.testing.assert_allclose(X @ W, W[ids])


def test_one_hot_rejects_ids_out_of_range():
    with pytest.raises(ValueError, match="id 7 is outside"):
        cat.one_hot(np.array([1, 7]), 7)
    with pytest.raises(ValueError, match="1-D integer"):
        cat.one_hot(np.array([0.5]), 7)


def test_category_index_ids_do_not_depend_on_row_order():
    values = ["b", "a", "c", "a", "b", "a"]
    idx = cat.CategoryIndex(values)
    assert idx.categories == ["a", "b", "c"]  # by frequency, then alphabetically
    assert len(idx) == 4  # three categories plus the OOV bucket
    assert cat.CategoryIndex(values[::-1]).categories == idx.categories
    np.testing.assert_array_equal(idx.encode(["a", "c"]), [1, 3])
    assert idx.decode([3, 0]) == ["c", cat.CategoryIndex.OOV_TOKEN]


def test_unseen_category_raises_a_clear_error_naming_it():
    idx = cat.CategoryIndex(["Berlin", "Hamburg"])
    with pytest.raises(ValueError, match="'Atlantis'.*not seen|not seen.*'Atlantis'"):
        idx.encode(["Berlin", "Atlantis"])


def test_unseen_category_goes_to_the_oov_bucket():
    idx = cat.CategoryIndex(["Berlin", "Hamburg", "Berlin"])
    ids = idx.encode(["Hamburg", "Atlantis", "Berlin"], unknown="oov")
    np.testing.assert_array_equal(ids, [2, cat.CategoryIndex.OOV_ID, 1])
    assert ids.max() < len(idx)


def test_rare_categories_share_the_oov_bucket():
    idx = cat.CategoryIndex(["x", "x", "y"], min_count=2)
    assert "x" in idx and "y" not in idx
    np.testing.assert_array_equal(idx.encode(["y"], unknown="oov"), [0])


def test_category_index_rejects_bad_arguments():
    with pytest.raises(ValueError, match="no values"):
        cat.CategoryIndex([])
    idx = cat.CategoryIndex(["a"])
    with pytest.raises(ValueError, match='"error" or "oov"'):
        idx.encode(["a"], unknown="ignore")
    with pytest.raises(ValueError, match="outside"):
        idx.decode([2])


def test_replace_with_oov_hits_about_the_requested_fraction(rng):
    ids = np.arange(1, 20001)
    out = cat.replace_with_oov(ids, 0.1, rng)
    assert (out == 0).mean() == pytest.approx(0.1, abs=0.01)
    assert ((out == ids) | (out == 0)).all()
    assert ids.min() == 1  # the input is not modified
    np.testing.assert_array_equal(cat.replace_with_oov(ids, 0.0, rng), ids)


# ------------------------------------------------------------------ Procrustes


def _rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def test_procrustes_recovers_rotation_reflection_scale_and_shift(rng):
    target = rng.normal(size=(16, 2)) * 100
    # Build the source by undoing a known map: target = s * source @ R + t.
    R = _rotation(0.7) @ np.diag([1.0, -1.0])  # a rotation and a reflection
    s, t = 0.02, np.array([3.0, -5.0])
    source = ((target - t) / s) @ R.T
    fit = cat.procrustes_align(source, target)
    assert fit.rmse < 1e-9
    np.testing.assert_allclose(fit.rotation, R, atol=1e-12)
    assert fit.scale == pytest.approx(s)
    np.testing.assert_allclose(fit.shift, t, atol=1e-9)
    np.testing.assert_allclose(fit.aligned, target, atol=1e-9)


def test_procrustes_in_three_dimensions(rng):
    target = rng.normal(size=(10, 3))
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    fit = cat.procrustes_align(target @ Q.T * 4.0 + 1.0, target)
    assert fit.rmse < 1e-9 and fit.scale == pytest.approx(0.25)


def test_procrustes_without_scaling_keeps_the_size(rng):
    target = rng.normal(size=(12, 2))
    fit = cat.procrustes_align(2 * target @ _rotation(1.0), target, scale=False)
    assert fit.scale == 1.0
    assert fit.rmse > 0.5  # twice the size cannot fit without shrinking


def test_procrustes_rejects_mismatched_or_degenerate_input():
    with pytest.raises(ValueError, match="same shape"):
        cat.procrustes_align(np.zeros((5, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="all identical"):
        cat.procrustes_align(np.ones((5, 2)), np.arange(10.0).reshape(5, 2))


def test_noisy_map_beats_random_baseline(rng):
    xy = cat.capital_coordinates_km()
    spread = np.sqrt(((xy - xy.mean(axis=0)) ** 2).sum(axis=1).mean())
    baseline = cat.random_alignment_errors(xy, 200, rng)
    assert baseline.shape == (200,)
    # Shrinking to the centroid is always possible, so random never does worse than the spread.
    assert (baseline <= spread + 1e-9).all()
    noisy = (xy + rng.normal(scale=20.0, size=xy.shape)) @ _rotation(2.0) * 0.01
    assert cat.procrustes_align(noisy, xy).rmse < 0.3 * baseline.min()


# ------------------------------------------------------------------ Keras models (tiny)


def test_embedding_layer_equals_one_hot_matmul(rng):
    import keras

    W = rng.normal(size=(5, 3)).astype("float32")
    layer = keras.layers.Embedding(5, 3)
    layer.build((None,))
    layer.set_weights([W])
    ids = np.array([2, 4, 2])
    np.testing.assert_allclose(np.asarray(layer(ids)), cat.one_hot(ids, 5) @ W, rtol=1e-6)


def test_model_parameter_counts():
    k, f, h, d = 50, 3, 8, 2
    assert cat.build_travel_time_model(16).count_params() == 16 * 2 + 2
    assert cat.build_onehot_model(k, f, hidden=h).count_params() == (k + f) * h + h + h + 1
    emb = cat.build_embedding_model(k, f, dim=d, hidden=h)
    assert emb.count_params() == k * d + (d + f) * h + h + h + 1


def test_unseen_shop_reaches_the_model_as_the_oov_id_not_an_index_error():
    idx = cat.CategoryIndex(["shop-a", "shop-b", "shop-c"])
    model = cat.build_embedding_model(len(idx), 3, dim=2, hidden=4)
    names = ["shop-b", "shop-never-seen"]
    with pytest.raises(ValueError, match="shop-never-seen"):
        idx.encode(names)
    ids = idx.encode(names, unknown="oov")
    pred = model.predict([ids, np.zeros((2, 3), "float32")], verbose=0)
    assert pred.shape == (2, 1) and np.isfinite(pred).all()




def test_figure_builders_return_open_figures_for_inline_display(rng):
    import matplotlib.pyplot as plt

    xy = cat.capital_coordinates_km()
    names = [c.city for c in cat.GERMAN_STATE_CAPITALS]
    aligned = cat.procrustes_align(rng.normal(size=xy.shape), xy).aligned
    before = len(plt.get_fignums())
    maps = cat.german_map_figure(xy, aligned, names, aligned)
    curves = cat.learning_curves_figure({"a": {"loss": [1.0], "val_loss": [1.2]}})
    try:
        assert len(maps.axes) == 3 and len(curves.axes) == 1
        assert len(plt.get_fignums()) == before + 2  # still open: plt.show() displays them
    finally:
        plt.close(maps)
        plt.close(curves)
    with pytest.raises(ValueError, match="val_loss"):
        cat.learning_curves_figure({"a": {"loss": [1.0]}})


def test_figures_are_written_and_small(tmp_path, rng):
    xy = cat.capital_coordinates_km()
    names = [c.city for c in cat.GERMAN_STATE_CAPITALS]
    learned = rng.normal(size=xy.shape)
    aligned = cat.procrustes_align(learned, xy).aligned
    hist = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    paths = [tmp_path / n for n in ("map.png", "curves.png")]
    cat.draw_german_map(paths[0], xy, learned, names, aligned)
    cat.draw_learning_curves(paths[1], {"a": hist}, noise_floor=0.25)
    for p in paths:
        assert p.stat().st_size < 200_000
    with pytest.raises(ValueError, match="K=16"):
        cat.draw_german_map(paths[0], xy, learned[:3], names, aligned)


def test_best_achievable_mse_lies_between_the_noise_floor_and_the_trait_variance(rng):
    shops = cat.simulate_shop_sales(2000, 8, rng, noise=0.5)
    train, valid = cat.split_rows_per_category(shops.shop, 2, rng)
    best = cat.best_achievable_mse(shops, train, valid, noise=0.5)
    assert 0.25 < best < 0.5  # 6 rows per shop: traits known only roughly
    many = cat.simulate_shop_sales(300, 102, rng, noise=0.5)
    tr, va = cat.split_rows_per_category(many.shop, 2, rng)
    assert cat.best_achievable_mse(many, tr, va, noise=0.5) == pytest.approx(0.25, abs=0.03)
    with pytest.raises(ValueError, match="noise"):
        cat.best_achievable_mse(shops, train, valid, noise=0)


def test_travel_time_mlp_and_l2_one_hot_shapes():
    mlp = cat.build_travel_time_mlp(16, 2, hidden=8)
    assert mlp.count_params() == 16 * 2 + (4 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    assert mlp.get_layer("position").get_weights()[0].shape == (16, 2)
    reg = cat.build_onehot_model(10, 3, hidden=4, l2=0.1)
    assert reg.count_params() == cat.build_onehot_model(10, 3, hidden=4).count_params()
    assert len(reg.losses) == 1  # the L2 penalty of the hidden layer
    with pytest.raises(ValueError, match="l2"):
        cat.build_onehot_model(10, 3, l2=-1)


def test_l2_penalises_only_the_one_hot_block_and_mse_metric_excludes_it():
    import keras

    model = cat.build_onehot_model(10, 3, hidden=4, l2=0.5)
    kernel = model.get_layer("hidden").kernel
    w = np.zeros((13, 4), dtype="float32")
    w[10:] = 3.0  # the features' rows: not penalised
    kernel.assign(w)
    assert float(keras.ops.sum(model.losses)) == pytest.approx(0.0)
    w[2, 1] = 2.0  # one weight of category 2
    kernel.assign(w)
    assert float(keras.ops.sum(model.losses)) == pytest.approx(0.5 * 4.0)
    x = [np.array([1, 2]), np.zeros((2, 3), dtype="float32")]
    y = np.array([1.0, -1.0], dtype="float32")
    scores = model.evaluate(x, y, verbose=0, return_dict=True)
    assert scores["loss"] == pytest.approx(scores["mse"] + 2.0, rel=1e-5)


def test_split_by_pair_holds_out_whole_pairs_in_both_directions():
    rng = np.random.default_rng(0)
    origin, destination, _ = cat.simulate_travel_times(cat.capital_coordinates_km(), 3000, rng)
    train, valid = cat.split_by_pair(origin, destination, 20, np.random.default_rng(1))
    assert len(train) + len(valid) == 3000 and not np.intersect1d(train, valid).size
    seen = {frozenset(p) for p in zip(origin[train], destination[train], strict=True)}
    held = {frozenset(p) for p in zip(origin[valid], destination[valid], strict=True)}
    assert len(held) == 20 and not seen & held
    assert set(origin[train]) | set(destination[train]) == set(range(16))
    with pytest.raises(ValueError, match="n_valid_pairs"):
        cat.split_by_pair(origin, destination, 120, rng)
    with pytest.raises(ValueError, match="1-D"):
        cat.split_by_pair(origin, destination[:5], 3, rng)


def test_learning_curves_can_plot_the_mse_metric():
    import matplotlib.pyplot as plt

    fig = cat.learning_curves_figure({"a": {"loss": [9.0], "val_loss": [9.0], "mse": [1.0],
                                            "val_mse": [1.2]}}, metric="mse")
    ys = sorted(float(line.get_ydata()[0]) for line in fig.axes[0].lines)
    assert ys == [1.0, 1.2]
    plt.close(fig)
    with pytest.raises(ValueError, match="val_mse"):
        cat.learning_curves_figure({"a": {"loss": [1.0], "val_loss": [1.2]}}, metric="mse")


def test_tune_learning_rate_keeps_the_rate_with_the_lowest_validation_mae():
    xy = cat.capital_coordinates_km()
    origin, destination, hours = cat.simulate_travel_times(xy, 400, np.random.default_rng(0))
    fit = ([origin[:300], destination[:300]], hours[:300])
    tune = ([origin[300:], destination[300:]], hours[300:])
    lr, model, histories = cat.tune_learning_rate(
        cat.build_travel_time_model, (1e-6, 0.05), fit, tune, epochs=3, batch_size=64,
        progress=False, num_places=16, dim=2)
    assert set(histories) == {1e-6, 0.05} and all(len(h["val_mae"]) == 3 for h in histories.values())
    best = min(histories, key=lambda r: histories[r]["val_mae"][-1])
    assert lr == best == 0.05  # a rate of 1e-6 barely moves the weights in 3 epochs
    assert model.optimizer.learning_rate.numpy() == pytest.approx(lr)
    # the same seed for every rate: a repeat gives the same validation errors
    _, _, again = cat.tune_learning_rate(
        cat.build_travel_time_model, (1e-6, 0.05), fit, tune, epochs=3, batch_size=64,
        progress=False, num_places=16, dim=2)
    assert again == histories
    with pytest.raises(ValueError, match="positive learning rates"):
        cat.tune_learning_rate(cat.build_travel_time_model, (), fit, tune, epochs=3,
                               batch_size=64, progress=False, num_places=16)
