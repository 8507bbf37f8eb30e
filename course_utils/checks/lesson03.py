"""Checks for exercises 03: one-hot with an unknown bucket, a Dense layer on one-hot input as a
row lookup, parameter counts, Procrustes alignment of a learned map, and the alignment of two
embedding spaces fitted on anchor rows.

References come from ``course_utils.categorical`` (``one_hot``, ``procrustes_align``,
``capital_coordinates_km``) or from a formula written out here; the Keras counts quoted in the
messages are the ones lesson 03 prints with ``model.count_params()``.
"""

from __future__ import annotations

import numpy as np

from course_utils import categorical as cat

from . import Mismatch, call, expect, expect_close, expect_shape, task


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


# ---- Task 1 -----------------------------------------------------------------------------------


@task("Task 1 · one-hot with an <unk> bucket", function="one_hot_encode",
      hint="Map each category to a column, counting from 1, so that column 0 stays free for "
           "<unk>. Start from a matrix of zeros with one row per value and one column more than "
           "there are categories, and put a single 1 in every row; a value the map does not know "
           "goes to column 0.")
def one_hot_encode(fn):
    categories = ["Berlin", "Hamburg", "Munich"]
    probes = [
        (["Munich", "Berlin", "Paris", "Munich"], categories, [3, 1, 0, 3]),
        (["Hamburg", "Hamburg"], categories, [2, 2]),
        (["b", "zz", "a"], ["b", "a"], [1, 0, 2]),  # not alphabetical: columns follow the list
        ([], categories, []),
    ]
    for values, cats, ids in probes:
        what = f"one_hot_encode({values}, {cats})"
        got = call(fn, list(values), list(cats), what=f"encoding {values}")
        n, k = len(values), len(cats)
        if got is not None and np.shape(got) == (n, k):
            raise Mismatch(f"For {what}: expected shape {(n, k + 1)}, got {(n, k)}: one column "
                           f"per category plus column 0 for <unk>.")
        arr = expect_shape(got, (n, k + 1), what=what)
        expected = cat.one_hot(np.array(ids, dtype=np.int64), k + 1)
        for row, (value, i) in enumerate(zip(values, ids, strict=True)):
            if np.allclose(arr[row], expected[row]):
                continue
            if not arr[row].any():
                raise Mismatch(f"For {what}: the row of {value!r} is all zeros. Every row has "
                               f"exactly one 1; a value not in the categories goes to column 0.")
            if i == 0:
                raise Mismatch(f"For {what}: {value!r} is not a known category, so its row "
                               f"should have its 1 in column 0 (<unk>), got the row "
                               f"{arr[row].tolist()}.")
            raise Mismatch(f"For {what}: {value!r} is categories[{i - 1}], so its 1 belongs in "
                           f"column {i} (column 0 is <unk>), got the row {arr[row].tolist()}.")
    return ["Any value never seen in training lands in column 0 instead of crashing."]


# ---- Task 2 -----------------------------------------------------------------------------------


@task("Task 2 · a Dense layer on one-hot input is a lookup", function="onehot_dense",
      hint="K is the number of kernel rows minus the number of features. The first K rows of the kernel meet the "
           "one-hot part: a one-hot row times them is one of those rows, picked by the id. The "
           "remaining rows meet the features in an ordinary matrix product. Add the bias last.")
def onehot_dense(fn):
    rng = np.random.default_rng(30)
    for K, F, H, N in [(5, 3, 4, 6), (1001, 3, 32, 8)]:
        ids = rng.integers(0, K, size=N)
        features = rng.normal(size=(N, F))
        kernel = rng.normal(size=(K + F, H))
        bias = rng.normal(size=H)
        what = (f"onehot_dense(ids, features, kernel, bias) with K={K} categories, "
                f"F={F} features, H={H} units")
        got = call(fn, ids.copy(), features.copy(), kernel.copy(), bias.copy(),
                   what=f"computing the Dense layer for K={K}, F={F}, H={H}")
        x = np.concatenate([cat.one_hot(ids, K), features], axis=1)
        expected = x @ kernel + bias
        arr = expect_shape(got, expected.shape, what=what)
        if np.allclose(arr, expected):
            continue
        wrong = {
            "is missing the bias": expected - bias,
            "is missing the features' part (features @ kernel[K:])": kernel[ids] + bias,
            "uses the wrong rows of the kernel: the one-hot columns come first in the "
            "concatenation, so kernel[:K] belongs to the categories and kernel[K:] to the "
            "features": features @ kernel[:F] + kernel[F:][ids] + bias,
        }
        for problem, candidate in wrong.items():
            expect(not np.allclose(arr, candidate), f"For {what}: your result {problem}.")
        expect_close(arr, expected, what=f"{what}, compared with concat([one_hot(ids, K), "
                                         f"features]) @ kernel + bias")
    return ["Same numbers as concatenating a 1001-wide one-hot and multiplying, with no "
            "multiplication by zeros: what keras.layers.Embedding does."]


# ---- Task 3 -----------------------------------------------------------------------------------


def _counts(K: int, F: int, H: int, D: int) -> tuple[dict, dict]:
    """Parameters per part of lesson 03's two models."""
    onehot = {"hidden weights": (K + F) * H, "hidden biases": H, "output layer": H + 1}
    embedding = {"embedding table": K * D, "hidden weights": (D + F) * H, "hidden biases": H,
                 "output layer": H + 1}
    return onehot, embedding


def _explain(parts: dict, got: int) -> str:
    """Name the part of the model a wrong count left out (or counted twice), if any."""
    total = sum(parts.values())
    for part, n in parts.items():
        if got == total - n:
            return f" That is the count without the {part} ({n:,} numbers)."
        if got == total + n:
            return f" That counts the {part} ({n:,} numbers) twice."
    return ""


def _as_count(value) -> int | None:
    """``value`` as an int if it is a whole number, else None."""
    if isinstance(value, (bool, np.bool_)) or np.ndim(value) != 0:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


@task("Task 3 · counting parameters", function="param_counts",
      hint="List the layers of each model in lesson 03 ('Two models, side by side'). A Dense "
           "layer from n inputs to m units has n times m weights and m biases; an Embedding of K "
           "categories in D dimensions has K times D numbers and no bias; the one-hot encoding "
           "itself has none. Both models end with a Dense layer from the hidden units to 1 unit.")
def param_counts(fn):
    probes = [(1001, 3, 32, 2, "the 1,000 shops plus the OOV id, as printed by Keras in lesson 03"),
              (21, 3, 32, 2, "20 shops plus the OOV id, as printed by Keras in lesson 03"),
              (10, 2, 4, 3, "10 categories, 2 features, 4 hidden units, 3-D embedding")]
    for K, F, H, D, story in probes:
        what = f"param_counts({K}, {F}, {H}, {D}) ({story})"
        got = call(fn, K, F, H, D, what=f"counting the parameters for K={K}")
        if got is None:
            raise Mismatch(f"For {what}: got None. Did you forget `return`?")
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch(f"For {what}: expected two numbers (one_hot_params, "
                           f"embedding_params), got {type(got).__name__} {got!r:.60}.")
        for name, parts, value in zip(["one-hot model", "embedding model"], _counts(K, F, H, D),
                                      got, strict=True):
            total, count = sum(parts.values()), _as_count(value)
            expect(count == total,
                   f"For {what}: expected the {name} to have {total:,} parameters, got "
                   f"{value!r}.{_explain(parts, count) if count is not None else ''}")
    return ["The one-hot model has K(H - D) - D*H parameters more: the embedding model is the "
            "smaller one exactly when K(H - D) > D*H. With K = 1001, H = 32, D = 2 the one-hot "
            "model needs 14.5x as many; with K = 10, H = 4, D = 3 (the last probe) the embedding "
            "model is the bigger one."]


# ---- Task 4 -----------------------------------------------------------------------------------


def _rmse(a, b) -> float:
    return float(np.sqrt(((np.asarray(a) - np.asarray(b)) ** 2).sum(axis=1).mean()))


def _error(x: float) -> str:
    """An alignment error for a message; round-off reads as an exact fit."""
    return "0 (an exact fit)" if x < 1e-6 else f"{x:.4g}"


def _procrustes_variants(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Common slips, each as the map it produces."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    a0, b0 = a - mu_a, b - mu_b
    u, s, vt = np.linalg.svd(a0.T @ b0)
    k = s.sum() / (a0**2).sum()
    u_raw, s_raw, vt_raw = np.linalg.svd(a.T @ b)
    return {
        "without the scale (scale 1)": a0 @ (u @ vt) + mu_b,
        "with the rotation transposed (V U^T instead of U V^T)": k * a0 @ (u @ vt).T + mu_b,
        "without centring the points before the SVD":
            s_raw.sum() / (a**2).sum() * a @ (u_raw @ vt_raw),
        "rotated and scaled but shifted wrongly: scale * source @ R + mean(target) skips "
        "centring the source": k * a @ (u @ vt) + mu_b,
    }


@task("Task 4 · Procrustes: lay a learned map on the real one", function="procrustes",
      hint="Follow the formulas above one step at a time: centre both clouds first, take the SVD "
           "of the transposed source times the target (not the other way round), build the "
           "rotation from U and V transposed, compute the scale from the singular values and the "
           "centred source, and add the target's mean back at the end. Nothing in it needs two "
           "dimensions.")
def procrustes(fn):
    rng = np.random.default_rng(31)
    xy = cat.capital_coordinates_km()
    t = np.array([3.0, -5.0])
    mirrored = ((xy - t) / 0.01) @ (_rotation(2.0) @ np.diag([1.0, -1.0])).T
    turned = ((xy - t) / 3.0) @ _rotation(-0.6).T
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    cloud = rng.normal(size=(10, 3))
    probes = [
        (mirrored, xy, "the capitals, turned by 2 rad, mirrored, shrunk 100x and moved (an "
                       "exact copy, so a perfect fit exists)"),
        (turned, xy, "the capitals, turned by -0.6 rad, shrunk 3x and moved (exact copy)"),
        (rng.normal(size=(16, 2)), xy, "16 random points aligned to the capitals"),
        (cloud @ Q.T * 4.0 + 1.0, cloud, "10 points in 3-D, rotated, scaled 4x and moved"),
    ]
    for source, target, story in probes:
        what = f"procrustes(source, target) for {story}"
        got = call(fn, source.copy(), target.copy(), what=f"aligning {story}")
        fit = cat.procrustes_align(source, target)
        arr = expect_shape(got, target.shape, what=what)
        if np.allclose(arr, fit.aligned, rtol=1e-6, atol=1e-6 * np.abs(target).max()):
            continue
        for slip, candidate in _procrustes_variants(source, target).items():
            expect(not np.allclose(arr, candidate, rtol=1e-6, atol=1e-6),
                   f"For {what}: the result is the map {slip}. Its points are "
                   f"{_error(_rmse(arr, target))} from the target (root mean square); the "
                   f"best fit gets {_error(fit.rmse)}.")
        raise Mismatch(f"For {what}: the aligned points are {_error(_rmse(arr, target))} from "
                       f"the target (root mean square); the best fit gets {_error(fit.rmse)}, "
                       f"and the "
                       f"first point should land at {np.round(fit.aligned[0], 3).tolist()}, "
                       f"got {np.round(arr[0], 3).tolist()}.")
    return ["It recovers a turned, mirrored, shrunk and moved map exactly, in 2-D and in 3-D."]


# ---- Task 5 -----------------------------------------------------------------------------------


def _anchored(a: np.ndarray, b: np.ndarray, anchors, *, scale: bool = True) -> np.ndarray:
    """Every row of ``a`` mapped by the Procrustes fit of its anchor rows onto ``b``'s."""
    fit = cat.procrustes_align(a[anchors], b[anchors], scale=scale)
    return fit.scale * a @ fit.rotation + fit.shift


def _anchor_slips(a: np.ndarray, b: np.ndarray, anchors) -> dict[str, np.ndarray]:
    """Common slips, each as the map it produces."""
    fit = cat.procrustes_align(a[anchors], b[anchors])
    mu_a, mu_b = a[anchors].mean(axis=0), b[anchors].mean(axis=0)
    return {
        "fitted on every row: the map may only be fitted on the anchors, whose match is known "
        "(the other rows are what it is tested on)": cat.procrustes_align(a, b).aligned,
        "fitted on the anchors, but the source centred with the mean of all its rows instead "
        "of the anchors' mean before the map is applied":
            fit.scale * (a - a.mean(axis=0)) @ fit.rotation + mu_b,
        "without the scale (scale 1)": _anchored(a, b, anchors, scale=False),
        "with the rotation transposed (V U^T instead of U V^T)":
            fit.scale * (a - mu_a) @ fit.rotation.T + mu_b,
    }


@task("Task 5 · two runs, one space: align on anchors", function="align_on_anchors",
      hint="Fit the same kind of map as in Task 4, but on the anchor rows of both arrays only. "
           "Task 4 gave you aligned points, not the map itself: keep the scale, the orthogonal "
           "matrix and the two means you computed from the anchors, and apply that same map to "
           "every row of the source (centre with the anchors' mean, not the mean of all rows).")
def align_on_anchors(fn):
    rng = np.random.default_rng(33)
    xy = cat.capital_coordinates_km()
    noisy = (xy + rng.normal(scale=20.0, size=xy.shape)) @ _rotation(1.1) * 0.01 + 2.0
    words = rng.normal(size=(40, 6))
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    run_b = words @ Q * 0.5 - 1.0 + rng.normal(scale=0.1, size=words.shape)
    probes = [
        (noisy, xy, [0, 3, 5, 8, 12], "a noisy, turned, shrunk copy of the 16 capitals, with 5 "
                                      "anchor cities"),
        (words, run_b, list(range(0, 40, 3)), "40 'words' in 6-D and a rotated, scaled, noisy "
                                              "second run, with 14 anchors"),
    ]
    for source, target, anchors, story in probes:
        what = f"align_on_anchors(source, target, anchors) for {story}"
        got = call(fn, source.copy(), target.copy(), list(anchors), what=f"aligning {story}")
        if got is not None and np.shape(got) == (len(anchors), source.shape[1]):
            raise Mismatch(f"For {what}: expected shape {source.shape}, got {np.shape(got)}: "
                           f"only the anchors. Map every row of the source; the rows that are "
                           f"not anchors are the ones the alignment is judged on.")
        arr = expect_shape(got, source.shape, what=what)
        expected = _anchored(source, target, anchors)
        tol = dict(rtol=1e-6, atol=1e-6 * np.abs(target).max())
        if np.allclose(arr, expected, **tol):
            continue
        others = np.setdiff1d(np.arange(len(source)), anchors)
        for slip, wrong in _anchor_slips(source, target, anchors).items():
            expect(not np.allclose(arr, wrong, **tol),
                   f"For {what}: your map is the one {slip}. On the rows that are not anchors "
                   f"it is {_error(_rmse(arr[others], target[others]))} from the target; the "
                   f"expected map gets {_error(_rmse(expected[others], target[others]))}.")
        expect(np.allclose(arr[anchors], expected[anchors], **tol),
               f"For {what}: the anchor rows land {_error(_rmse(arr[anchors], target[anchors]))} "
               f"from their targets; the best fit on the anchors gets "
               f"{_error(_rmse(expected[anchors], target[anchors]))}.")
        raise Mismatch(f"For {what}: the anchors are right, but the other rows are not mapped "
                       f"the same way: they land {_error(_rmse(arr[others], target[others]))} "
                       f"from their targets, the anchors' map puts them "
                       f"{_error(_rmse(expected[others], target[others]))} away.")
    return ["Fitted on a few anchors, the map carries every other row across; the rows it "
            "never saw tell you whether the alignment is real."]
