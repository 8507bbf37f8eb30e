"""Exercise checks for lesson 03: wrong answers get specific, helpful feedback."""

import numpy as np

from course_utils import categorical as cat
from course_utils.checks import lesson03 as check

# ---- Task 1: one-hot with <unk>


def _encode(values, categories, *, unk_column=True, sort=False, unknown_raises=False,
            unknown_is_zero=False):
    cats = sorted(categories) if sort else list(categories)
    offset = 1 if unk_column else 0
    X = np.zeros((len(values), len(cats) + offset))
    for row, v in enumerate(values):
        if v in cats:
            X[row, cats.index(v) + offset] = 1
        elif unknown_raises:
            raise KeyError(v)
        elif unk_column and not unknown_is_zero:
            X[row, 0] = 1
    return X


def test_one_hot_without_an_unknown_column():
    fb = check.one_hot_encode(lambda v, c: _encode(v, c, unk_column=False))
    assert fb.status == "wrong" and "expected shape (4, 4), got (4, 3)" in fb.message
    assert "column 0 for <unk>" in fb.message


def test_one_hot_that_crashes_on_an_unknown_city():
    fb = check.one_hot_encode(lambda v, c: _encode(v, c, unknown_raises=True))
    assert fb.status == "error" and "KeyError: 'Paris'" in fb.message


def test_one_hot_that_leaves_unknown_rows_empty():
    fb = check.one_hot_encode(lambda v, c: _encode(v, c, unknown_is_zero=True))
    assert fb.status == "wrong" and "the row of 'Paris' is all zeros" in fb.message


def test_one_hot_that_sorts_the_categories():
    fb = check.one_hot_encode(lambda v, c: _encode(v, c, sort=True))
    assert fb.status == "wrong"
    assert "'b' is categories[0], so its 1 belongs in column 1" in fb.message


def test_one_hot_with_unknown_in_the_last_column():
    def last(values, categories):
        ids = [categories.index(v) if v in categories else len(categories) for v in values]
        return cat.one_hot(np.array(ids, dtype=np.int64), len(categories) + 1)

    fb = check.one_hot_encode(last)
    assert fb.status == "wrong" and "belongs in column 3 (column 0 is <unk>)" in fb.message


# ---- Task 2: Dense on one-hot


def _dense(ids, features, kernel, bias, *, with_bias=True, features_first=False,
           with_features=True):
    F = features.shape[1]
    K = kernel.shape[0] - F
    if features_first:
        out = features @ kernel[:F] + kernel[F:][ids]
    else:
        out = kernel[:K][ids] + (features @ kernel[K:] if with_features else 0)
    return out + bias if with_bias else out


def test_dense_without_the_bias():
    fb = check.onehot_dense(lambda *a: _dense(*a, with_bias=False))
    assert fb.status == "wrong" and "missing the bias" in fb.message


def test_dense_with_the_features_in_the_first_kernel_rows():
    fb = check.onehot_dense(lambda *a: _dense(*a, features_first=True))
    assert fb.status == "wrong" and "the one-hot columns come first" in fb.message


def test_dense_that_forgets_the_features():
    fb = check.onehot_dense(lambda *a: _dense(*a, with_features=False))
    assert fb.status == "wrong" and "missing the features' part" in fb.message


def test_dense_with_the_kernel_transposed_gets_the_shape():
    fb = check.onehot_dense(lambda ids, x, W, b: W.T[:, ids].T[:, :3] + 0 * x.sum())
    assert fb.status == "wrong" and "expected shape (6, 4), got shape (6, 3)" in fb.message


# ---- Task 3: parameter counts


def test_counts_without_the_output_layer():
    def wrong(K, F, H, D):
        return (K + F) * H + H, K * D + (D + F) * H + H

    fb = check.param_counts(wrong)
    assert fb.status == "wrong" and "expected the one-hot model to have 32,193" in fb.message
    assert "without the output layer (33 numbers)" in fb.message


def test_counts_that_forget_the_hidden_biases_of_the_embedding_model():
    def wrong(K, F, H, D):
        return (K + F) * H + H + H + 1, K * D + (D + F) * H + H + 1

    fb = check.param_counts(wrong)
    assert fb.status == "wrong" and "embedding model to have 2,227" in fb.message
    assert "without the hidden biases (32 numbers)" in fb.message


def test_counts_that_give_the_embedding_a_bias():
    def wrong(K, F, H, D):
        return (K + F) * H + H + H + 1, K * D + D + (D + F) * H + H + H + 1

    fb = check.param_counts(wrong)
    assert fb.status == "wrong" and "got 2229" in fb.message


def test_counts_returned_as_one_number():
    fb = check.param_counts(lambda K, F, H, D: (K + F) * H + 2 * H + 1)
    assert fb.status == "wrong" and "expected two numbers" in fb.message


# ---- Task 4: Procrustes


def _procrustes(a, b, *, scale=True, transpose=False, centre=True):
    mu_a, mu_b = (a.mean(axis=0), b.mean(axis=0)) if centre else (0.0, 0.0)
    A, B = a - mu_a, b - mu_b
    U, S, Vt = np.linalg.svd(A.T @ B)
    R = (U @ Vt).T if transpose else U @ Vt
    s = S.sum() / (A**2).sum() if scale else 1.0
    return s * A @ R + mu_b


def test_procrustes_without_the_scale():
    fb = check.procrustes(lambda a, b: _procrustes(a, b, scale=False))
    assert fb.status == "wrong" and "without the scale" in fb.message
    assert "the best fit gets 0 (an exact fit)" in fb.message


def test_procrustes_with_the_rotation_transposed():
    fb = check.procrustes(lambda a, b: _procrustes(a, b, transpose=True))
    assert fb.status == "wrong" and "V U^T instead of U V^T" in fb.message


def test_procrustes_without_centring():
    fb = check.procrustes(lambda a, b: _procrustes(a, b, centre=False))
    assert fb.status == "wrong" and "without centring" in fb.message


def test_procrustes_that_only_works_in_two_dimensions():
    def flat(a, b):
        if a.shape[1] != 2:
            raise ValueError("expected 2-D points")
        return _procrustes(a, b)

    fb = check.procrustes(flat)
    assert fb.status == "error" and "10 points in 3-D" in fb.message


# ---- Task 5: align two spaces on anchors


def _on_anchors(a, b, anchors, *, fit_on="anchors", centre_with="anchors", only_anchors=False):
    rows = anchors if fit_on == "anchors" else slice(None)
    mu_a, mu_b = a[rows].mean(axis=0), b[rows].mean(axis=0)
    A, B = a[rows] - mu_a, b[rows] - mu_b
    U, S, Vt = np.linalg.svd(A.T @ B)
    s = S.sum() / (A**2).sum()
    centre = mu_a if centre_with == "anchors" else a.mean(axis=0)
    out = s * (a - centre) @ (U @ Vt) + mu_b
    return out[anchors] if only_anchors else out


def test_align_on_anchors_reference_is_accepted():
    assert check.align_on_anchors(_on_anchors)


def test_align_on_anchors_fitted_on_every_row():
    fb = check.align_on_anchors(lambda a, b, k: _on_anchors(a, b, k, fit_on="all"))
    assert fb.status == "wrong" and "fitted on every row" in fb.message
    assert "16 capitals" in fb.message


def test_align_on_anchors_centred_with_the_mean_of_all_rows():
    fb = check.align_on_anchors(lambda a, b, k: _on_anchors(a, b, k, centre_with="all"))
    assert fb.status == "wrong" and "instead of the anchors' mean" in fb.message


def test_align_on_anchors_that_returns_only_the_anchors():
    fb = check.align_on_anchors(lambda a, b, k: _on_anchors(a, b, k, only_anchors=True))
    assert fb.status == "wrong" and "expected shape (16, 2), got (5, 2): only the anchors" in fb.message


def test_align_on_anchors_that_moves_only_the_anchors():
    def anchors_only_moved(a, b, k):
        out = a.copy()
        out[k] = _on_anchors(a, b, k)[k]
        return out

    fb = check.align_on_anchors(anchors_only_moved)
    assert fb.status == "wrong" and "the anchors are right, but the other rows" in fb.message


def test_align_on_anchors_feedback_never_shows_code():
    from course_utils import checks

    checks.reset_attempts()
    wrong = lambda a, b, k: _on_anchors(a, b, k, fit_on="all")  # noqa: E731
    first, second = check.align_on_anchors(wrong), check.align_on_anchors(wrong)
    assert "Hint:" not in first.message and "Hint:" in second.message
    for code in ("np.", "svd(", "@", "return", "= "):
        assert code not in second.message
