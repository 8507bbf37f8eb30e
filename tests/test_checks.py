"""The feedback engine behind the exercise checks."""

import re

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


def test_a_stub_is_not_done_yet_and_says_how_to_ask_for_the_hint():
    def stub(x):
        raise NotImplementedError("your code here")

    for _ in range(3):  # an untouched stub is no attempt: the hint never comes by itself
        fb = double(stub)
        assert not fb and fb.status == "not done"
        assert "`double` still raises NotImplementedError" in fb.message
        assert "Hint:" not in fb.message and 'check.hint("double")' in fb.message


def test_the_hint_comes_from_the_second_failed_attempt():
    first = double(lambda x: x + 2)
    assert first.status == "wrong"
    assert "expected 0, got 2" in first.message          # what was tried, expected, returned
    assert "Multiply by two" not in first.message
    assert first.message.endswith('Try again, or ask for a hint: check.hint("double")')
    second = double(lambda x: x * 3)
    assert "expected 2, got 3" in second.message
    assert "Hint: Multiply by two." in second.message
    assert double(lambda x: 2 * x).message.startswith("[ok]")


def test_a_raising_function_counts_as_an_attempt():
    first, second = double(lambda x: x / "2"), double(lambda x: x / "2")
    assert first.status == second.status == "error"
    assert "Hint:" not in first.message and "Hint: Multiply by two." in second.message


def test_attempts_are_counted_per_task():
    @task("Task 9 · triple it", function="triple", hint="Times three.")
    def triple(fn):
        expect_close(call(fn, 1.0, what="tripling 1"), 3.0, what="triple(1)")

    double(lambda x: x)
    assert "Hint:" not in triple(lambda x: x).message


def test_hint_on_request_names_the_task_and_never_needs_a_failure():
    import sys

    module = sys.modules[__name__]
    shown = module.hint("double")  # the lesson module's own hint function, as check.hint
    assert shown.message == "Hint for Task 0 · double it:\n     Multiply by two."
    assert repr(shown) == shown.message
    assert module.hint(double).text == "Multiply by two."  # the check itself works too
    with pytest.raises(ValueError, match="no task named 'halve'.*expected one of"):
        module.hint("halve")


def test_every_lesson_module_has_a_hint_function():
    import importlib

    for n in range(1, 9):
        module = importlib.import_module(f"course_utils.checks.lesson{n:02d}")
        some = next(c for k, c in checks.registry.items() if k.startswith(f"lesson{n:02d}."))
        assert module.hint(some.function).text == some.hint


def test_an_undefined_task_function_gets_feedback_not_a_traceback():
    assert checks.undefined_function_feedback("double") == (
        "[..] Task 0 · double it: `double` is not defined yet.\n"
        "     Run the cell that defines it (the one with `def double(...)`) first, then run "
        "this cell again.")
    assert checks.undefined_function_feedback("print_me") is None


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


def test_in_a_real_kernel_an_early_check_or_try_it_cell_gives_feedback():
    """Run in the course kernel: a check cell and a "Try it" cell before the function exists,
    then an unrelated NameError, which must keep its ordinary traceback."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "from course_utils.checks import lesson04 as check",
        "check.rnn_step_forward(rnn_step_forward)",
        "if check.rnn_forward(rnn_forward):\n    print('ran')",
        "not_a_task_function + 1",
    )]
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    early, try_it, other = (nb.cells[i].outputs for i in (1, 2, 3))
    assert [o.output_type for o in early] == ["stream"], early
    assert early[0].text == (
        "[..] Task 1 · one RNN step: `rnn_step_forward` is not defined yet.\n"
        "     Run the cell that defines it (the one with `def rnn_step_forward(...)`) first, "
        "then run this cell again.\n")
    assert [o.output_type for o in try_it] == ["stream"], try_it
    assert "`rnn_forward` is not defined yet" in try_it[0].text
    assert [o.output_type for o in other] == ["error"] and other[0].ename == "NameError"


#: What code looks like in a sentence: a library call, a call or an index, an operator that
#: only code uses, an assignment, backticks, a transpose attribute.
CODE_IN_PROSE = re.compile(r"\b(?:np|numpy|math|rng|tf|keras|scipy)\.\w|[A-Za-z_]\w*\(|\w\["
                           r"|[@=`*]|\.T\b")


@pytest.mark.parametrize("lesson", range(1, 9))
def test_no_hint_contains_code(lesson):
    import importlib

    importlib.import_module(f"course_utils.checks.lesson{lesson:02d}")
    found = {key: CODE_IN_PROSE.findall(check.hint) for key, check in checks.registry.items()
             if key.startswith(f"lesson{lesson:02d}.")}
    assert found, "no tasks found"
    with_code = {key: bits for key, bits in found.items() if bits}
    assert not with_code, f"hints that spell out code (say it in words): {with_code}"


def test_the_code_detector_catches_what_the_old_hints_said():
    for old in ("Divide by np.linalg.norm(W, axis=1, keepdims=True).", "rng.choice(V, p=probs)",
                "A * (dA - something computed once per row)", "tokens[i:i + n]"):
        assert CODE_IN_PROSE.search(old), old
    assert not CODE_IN_PROSE.search("Add x times W_x and the bias, then squash with tanh.")
