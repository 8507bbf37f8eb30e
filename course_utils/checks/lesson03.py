"""Checks for exercises 03: one-hot with an unknown bucket, a Dense layer on one-hot input as a
row lookup, parameter counts, and Procrustes alignment of a learned map.

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
    return ["With 1001 ids the one-hot model needs 14.5x the parameters; with 10 categories "
            "the embedding model is the bigger one."]


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


def _without_mirror(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Best scale * a @ R + shift with det(R) = +1 (Umeyama's correction of Procrustes)."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    a0 = a - mu_a
    u, s, vt = np.linalg.svd(a0.T @ (b - mu_b))
    flip = np.ones(len(s))
    flip[-1] = np.sign(np.linalg.det(u @ vt))
    rotation = (u * flip) @ vt
    scale = (s * flip).sum() / (a0**2).sum()
    return scale * a0 @ rotation + mu_b


def _linear_part(source: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """The (D, D) matrix M with mapped ~= source @ M + shift (least squares)."""
    X = np.hstack([source, np.ones((len(source), 1))])
    coef, *_ = np.linalg.lstsq(X, mapped, rcond=None)
    return coef[:-1]


@task("Task 5 · a map, not its mirror image", function="align_without_mirror",
      hint="Start from Task 4. The rotation built from the SVD is a reflection when its "
           "determinant is negative. Then flip the sign of the last singular direction (the last "
           "column of U, which belongs to the smallest singular value) before forming the "
           "rotation; that singular value then counts with a minus sign in the scale too.")
def align_without_mirror(fn):
    rng = np.random.default_rng(32)
    xy = cat.capital_coordinates_km()
    noise = rng.normal(scale=15.0, size=xy.shape)
    mirrored = (xy + noise) @ np.diag([-1.0, 1.0]) @ _rotation(0.8) * 0.02
    turned = (xy + noise) @ _rotation(2.5) * 0.02 + 4.0
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    Q *= np.sign(np.linalg.det(Q))  # a rotation
    cloud = rng.normal(size=(10, 3))
    probes = [
        (mirrored, xy, "a noisy copy of the capitals, mirrored east-west and turned"),
        (turned, xy, "a noisy copy of the capitals, only turned and shrunk"),
        (rng.normal(size=(16, 2)), xy, "16 random points aligned to the capitals"),
        (cloud @ np.diag([1.0, 1.0, -1.0]) @ Q * 2.0, cloud,
         "10 points in 3-D, mirrored, rotated and scaled 2x"),
    ]
    for source, target, story in probes:
        what = f"align_without_mirror(source, target) for {story}"
        got = call(fn, source.copy(), target.copy(), what=f"aligning {story}")
        expected = _without_mirror(source, target)
        arr = expect_shape(got, target.shape, what=what)
        if np.allclose(arr, expected, rtol=1e-6, atol=1e-6 * np.abs(target).max()):
            continue
        M = _linear_part(source, arr)
        expect(np.linalg.det(M) > 0,
               f"For {what}: your aligned map is {_error(_rmse(arr, target))} from the "
               f"target, closer than any rotation can get ({_rmse(expected, target):.4g}): it is "
               f"mirrored (the linear part of your map has a negative determinant).")
        expect_close(arr, expected, what=f"{what} (best error {_error(_rmse(expected, target))}, "
                                         f"yours {_error(_rmse(arr, target))})",
                     rtol=1e-6, atol=1e-6 * np.abs(target).max())
    return ["Without reflections, a mirrored map cannot be laid on the real one: the error "
            "tells you the embedding came out mirror-imaged."]
