"""The feedback engine behind the exercise checks."""

import numpy as np
import pytest

from course_utils import checks
from course_utils.checks import Mismatch, call, expect_close, expect_shape, task


@task("Task 0 · double it", function="double", hint="Multiply by two.")
def double(fn):
    expect_close(call(fn, np.arange(3.0), what="doubling [0, 1, 2]"), [0.0, 2.0, 4.0],
                 what="double([0, 1, 2])")
    return ["Works for arrays."]


def test_a_correct_function_passes_with_its_notes():
    fb = double(lambda x: 2 * x)
    assert fb and fb.passed and fb.status == "passed"
    assert fb.message == "[ok] Task 0 · double it: correct.\n     Works for arrays."
    assert repr(fb) == fb.message


def test_a_stub_is_not_done_yet_and_gets_the_hint():
    def stub(x):
        raise NotImplementedError("your code here")

    fb = double(stub)
    assert not fb and fb.status == "not done"
    assert "`double` still raises NotImplementedError" in fb.message
    assert "Hint: Multiply by two." in fb.message


def test_a_wrong_value_says_what_was_expected_and_what_came_back():
    fb = double(lambda x: x + 2)
    assert fb.status == "wrong"
    assert "index (0,): expected 0, got 2" in fb.message
    assert "3 of 3 entries differ" not in fb.message  # x + 2 is right at x = 2
    assert "2 of 3 entries differ" in fb.message


def test_a_wrong_shape_is_reported_before_values():
    fb = double(lambda x: np.stack([x, x]))
    assert "expected shape (3,), got shape (2, 3)" in fb.message


def test_a_forgotten_return_is_named():
    fb = double(lambda x: None)
    assert "got None. Did you forget `return`?" in fb.message


def test_nan_is_reported():
    fb = double(lambda x: x * np.nan)
    assert "nan or inf" in fb.message


def test_an_exception_in_student_code_becomes_feedback_not_a_traceback():
    fb = double(lambda x: x / "2")
    assert fb.status == "error"
    assert "While doubling [0, 1, 2], `double` raised\n     TypeError:" in fb.message
    assert "Hint:" in fb.message


def test_passing_something_that_is_not_a_function():
    fb = double(42)
    assert fb.status == "wrong"
    assert "Expected the function `double`, got int 42" in fb.message


def test_recording_collects_feedback_and_registry_knows_the_task():
    with checks.recording() as found:
        double(lambda x: 2 * x)
        double(lambda x: x)
    assert [f.passed for f in found] == [True, False]
    assert checks.registry["test_checks.double"] is double


def test_expect_helpers_raise_mismatch_with_the_subject():
    with pytest.raises(Mismatch, match="For z: expected 1, got 2"):
        expect_close(2.0, 1.0, what="z")
    with pytest.raises(Mismatch, match="expected numbers, got str"):
        expect_shape("abc", (), what="w")


def test_a_stub_called_by_a_finished_function_is_named():
    def helper(x):
        raise NotImplementedError("your code here")

    def outer(x):
        return helper(x) * 2

    fb = double(outer)
    assert fb.status == "not done"
    assert "`double` calls `helper`, which still raises NotImplementedError" in fb.message
