"""Instant, friendly feedback for the exercise notebooks.

Each exercise asks the student to write a function. A check calls that function on small probe
inputs, compares what comes back with what the course's own code computes, and answers in plain
words: what was expected, what came back, and a hint. It never prints the solution code, and it
never lets a student's exception escape as a traceback from deep inside NumPy.

In a notebook::

    from course_utils.checks import lesson01 as check
    ...
    check.bigram_probability(bigram_probability)    # last line of the cell: shows the feedback

Every check returns a :class:`Feedback`, which is truthy when the task is solved, so tests can
``assert check.bigram_probability(fn)``. Task checks live in one module per lesson
(``lesson01`` ... ``lesson07``) and are declared with :func:`task`.

Hints wait to be wanted. The first failed attempt at a task says what was tried, what was
expected and what came back, and how to ask for the hint; from the second failed attempt on,
the hint comes with it. ``check.hint("bigram_probability")`` shows it any time (every lesson
module gets a ``hint`` function). A "not done yet" stub is no attempt.

Importing this package in IPython also turns the ``NameError`` of a check or "Try it" cell run
before the cell that defines the student's function into the course's own feedback ("run the
cell that defines `rnn_step_forward` first"); any other ``NameError`` keeps its traceback.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Feedback", "Mismatch", "task", "recording", "expect", "expect_close",
           "expect_shape", "expect_equal", "close_or_explain", "as_tuple", "call", "registry",
           "Hint", "reset_attempts"]

#: Every declared task, "lesson01.bigram_probability" -> the wrapped check.
registry: dict[str, Callable] = {}

_recorders: list[list] = []

#: Failed attempts ("wrong" or "error") per task key since import (or reset_attempts()).
_failed_attempts: dict[str, int] = {}


def reset_attempts() -> None:
    """Forget every failed attempt: the next failure of each task is a first one again."""
    _failed_attempts.clear()


class Mismatch(Exception):
    """Raised inside a check when the student's answer differs from the expected one."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StudentError(Exception):
    """The student's function raised; carries what it was asked to do."""

    def __init__(self, what: str, error: BaseException):
        super().__init__(what)
        self.what = what
        self.error = error


@dataclass
class Feedback:
    """The outcome of one check: ``passed``, and a message written for the student."""

    task: str
    title: str
    passed: bool
    status: str              # "passed", "not done", "wrong", "error"
    detail: str = ""
    hint: str = ""
    notes: list[str] = field(default_factory=list)
    show_hint: bool = True   # False: say how to ask for the hint instead of showing it
    function: str = ""       # the student's function name, for "check.hint(...)"

    def __bool__(self) -> bool:
        return self.passed

    @property
    def message(self) -> str:
        if self.passed:
            head = f"[ok] {self.title}: correct."
            lines = [head] + [f"     {n}" for n in self.notes]
            return "\n".join(lines)
        head = {
            "not done": f"[..] {self.title}: not done yet.",
            "wrong": f"[no] {self.title}: not right yet.",
            "error": f"[no] {self.title}: your code raised an error.",
        }[self.status]
        lines = [head]
        if self.detail:
            lines += [textwrap.indent(self.detail, "     ")]
        if self.hint and self.show_hint:
            lines += textwrap.wrap("Hint: " + self.hint, width=92, initial_indent="     ",
                                   subsequent_indent="           ")
        elif self.hint:
            ask = f'check.hint("{self.function}")' if self.function else "check.hint(...)"
            when = ("Want a hint before you start?" if self.status == "not done"
                    else "Try again, or ask for a hint:")
            lines.append(f"     {when} {ask}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, p, cycle):  # IPython shows the message, not a dataclass dump
        p.text(self.message)


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _raised_in(error: BaseException, candidate) -> str | None:
    """Name of the function that raised ``error`` (the innermost frame), or None when that
    is ``candidate`` itself: a finished function may call another task's unfinished stub."""
    tb = error.__traceback__
    code = None
    while tb is not None:
        code = tb.tb_frame.f_code
        tb = tb.tb_next
    if code is None or code is getattr(candidate, "__code__", None):
        return None
    return code.co_name


@dataclass
class Hint:
    """A task's hint, asked for by the student; shows as text in a notebook."""

    title: str
    text: str

    @property
    def message(self) -> str:
        return "\n".join([f"Hint for {self.title}:"] + textwrap.wrap(
            self.text, width=92, initial_indent="     ", subsequent_indent="     "))

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, p, cycle):
        p.text(self.message)


def _hint_of(module: str, name) -> Hint:
    """The hint of the task of lesson module ``module`` named ``name``: the student's function
    name (``"clip_by_norm"``), the function itself, or the check."""
    tasks = {key: check for key, check in registry.items() if key.startswith(module + ".")}
    wanted = getattr(name, "__name__", name)
    for key, check in tasks.items():
        if wanted in (key.rsplit(".", 1)[-1], check.function):
            return Hint(check.title, check.hint)
    known = sorted(check.function for check in tasks.values())
    raise ValueError(f"no task named {wanted!r} in {module}; expected one of {known}")


def _give_module_a_hint_function(module_name: str) -> None:
    module = sys.modules.get(module_name)
    if module is None or hasattr(module, "hint"):
        return
    short = module_name.rsplit(".", 1)[-1]

    def hint(name) -> Hint:
        """Show the hint of one task: ``check.hint("clip_by_norm")``."""
        return _hint_of(short, name)

    module.hint = hint


def task(title: str, *, hint: str, function: str):
    """Declare a check. ``title`` names the task, ``hint`` is shown from the second failed
    attempt on (or when asked for with ``check.hint(function)``), ``function`` is the name the
    student's function has in the notebook (used in messages).

    The decorated function receives the student's object, calls it through :func:`call`, and
    raises :class:`Mismatch` when an answer is wrong; it may return a list of short notes shown
    on success (e.g. "also correct for a batch of 3").
    """

    def decorate(checker: Callable) -> Callable:
        key = f"{checker.__module__.rsplit('.', 1)[-1]}.{checker.__name__}"

        @functools.wraps(checker)
        def run(candidate) -> Feedback:
            def fb(**kw) -> Feedback:
                return Feedback(task=key, title=title, function=function, **kw)

            if not callable(candidate):
                result = fb(passed=False, status="wrong", hint=hint,
                            detail=f"Expected the function `{function}`, got "
                                   f"{type(candidate).__name__} {candidate!r:.60}.")
            else:
                try:
                    notes = checker(candidate) or []
                    result = fb(passed=True, status="passed", notes=list(notes))
                except StudentError as e:
                    if isinstance(e.error, NotImplementedError):
                        culprit = _raised_in(e.error, candidate)
                        detail = (f"`{function}` still raises NotImplementedError: "
                                  f"replace that line with your code.")
                        if culprit:
                            detail = (f"`{function}` calls `{culprit}`, which still raises "
                                      f"NotImplementedError: finish `{culprit}` first.")
                        result = fb(passed=False, status="not done", hint=hint, detail=detail)
                    else:
                        result = fb(passed=False, status="error", hint=hint,
                                    detail=f"While {e.what}, `{function}` raised\n"
                                           f"{_describe(e.error)}")
                except Mismatch as e:
                    result = fb(passed=False, status="wrong", hint=hint, detail=e.message)
            if result.status in ("wrong", "error"):
                _failed_attempts[key] = _failed_attempts.get(key, 0) + 1
                result.show_hint = _failed_attempts[key] >= 2
            elif result.status == "not done":
                result.show_hint = False
            for rec in _recorders:
                rec.append(result)
            return result

        run.title = title
        run.hint = hint
        run.function = function
        registry[key] = run
        _give_module_a_hint_function(checker.__module__)
        return run

    return decorate


@contextlib.contextmanager
def recording():
    """Collect every :class:`Feedback` produced inside the block (used by the tests)."""
    found: list[Feedback] = []
    _recorders.append(found)
    try:
        yield found
    finally:
        _recorders.remove(found)


def call(fn: Callable, *args, what: str, **kwargs):
    """Call the student's ``fn``; an exception becomes a :class:`StudentError` saying ``what``
    we were doing (e.g. "computing P('cat' | 'the')")."""
    try:
        return fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - any student error becomes feedback
        raise StudentError(what, e) from e


# ---- comparisons that explain themselves ------------------------------------------------------


def _fmt(x) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    return repr(x)


def expect(condition: bool, message: str) -> None:
    """Raise :class:`Mismatch` with ``message`` unless ``condition``."""
    if not condition:
        raise Mismatch(message)


def expect_equal(got, expected, *, what: str) -> None:
    """Exact equality of plain Python values (ints, strings, tuples, dicts)."""
    if got != expected:
        raise Mismatch(f"For {what}: expected {_fmt(expected)}, got {_fmt(got)}.")


def _as_array(got, what: str) -> np.ndarray:
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"For {what}: expected numbers, got {type(got).__name__} "
                       f"{got!r:.60}.") from None
    return arr


def expect_shape(got, shape: tuple, *, what: str) -> np.ndarray:
    """``got`` as a float array of exactly ``shape``."""
    if got is None:
        raise Mismatch(f"For {what}: got None. Did you forget `return`?")
    arr = _as_array(got, what)
    if arr.shape != tuple(shape):
        raise Mismatch(f"For {what}: expected shape {tuple(shape)}, got shape {arr.shape}.")
    return arr


def gradients_off(grads, names, references, *, tol: float = 1e-6) -> dict[str, float]:
    """The relative error of each gradient against its reference, for those not below ``tol``
    (an empty dict when every gradient agrees). ``grads``, ``names`` and ``references`` are
    parallel sequences."""
    from course_utils import gradcheck

    errors = {name: gradcheck.relative_error(g, r)
              for g, name, r in zip(grads, names, references, strict=True)}
    return {name: e for name, e in errors.items() if not e < tol}


def listed_errors(errors: dict[str, float]) -> str:
    """``{"dW_x": 0.031}`` as ``"dW_x (0.031)"``, joined by commas, for a feedback message."""
    return ", ".join(f"{name} ({e:.2g})" for name, e in errors.items())


def expect_close(got, expected, *, what: str, rtol: float = 1e-5, atol: float = 1e-8) -> None:
    """Numbers or arrays equal within tolerance. Reports the shape first, then the first
    entry that differs (not the whole expected array)."""
    expected = np.asarray(expected, dtype=float)
    arr = expect_shape(got, expected.shape, what=what)
    if not np.all(np.isfinite(arr)):
        raise Mismatch(f"For {what}: your result contains nan or inf.")
    bad = ~np.isclose(arr, expected, rtol=rtol, atol=atol)
    if bad.any():
        if expected.ndim == 0:
            raise Mismatch(f"For {what}: expected {_fmt(expected[()])}, got {_fmt(arr[()])}.")
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Mismatch(
            f"For {what}: {int(bad.sum())} of {arr.size} entries differ; the first is at "
            f"index {idx}: expected {_fmt(expected[idx])}, got {_fmt(arr[idx])}."
        )


def close_or_explain(got, expected, *, what: str, mistakes=(), rtol=1e-6, atol=1e-9) -> None:
    """Like ``expect_close``, but when ``got`` equals one of the known ``mistakes``
    (pairs of a wrong answer and a sentence saying what it suggests) that sentence is the
    message, which helps more than the first entry that differs."""
    expected = np.asarray(expected, dtype=float)
    arr = expect_shape(got, expected.shape, what=what)
    if np.all(np.isfinite(arr)) and np.allclose(arr, expected, rtol=rtol, atol=atol):
        return
    for wrong, why in mistakes:
        wrong = np.asarray(wrong, dtype=float)
        if wrong.shape == arr.shape and np.allclose(arr, wrong, rtol=rtol, atol=atol):
            raise Mismatch(f"For {what}: {why}")
    expect_close(arr, expected, what=what, rtol=rtol, atol=atol)


def as_tuple(got, n, names, what):
    """``got`` as a tuple of ``n`` results named ``names``, or a Mismatch saying what came."""
    if not isinstance(got, (tuple, list)) or len(got) != n:
        kind = (f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list))
                else f"{type(got).__name__}" + (f" of shape {got.shape}"
                                                 if isinstance(got, np.ndarray) else ""))
        raise Mismatch(f"For {what}: expected a tuple of {n}, ({', '.join(names)}); got {kind}.")
    return tuple(got)


# ---- a check or "Try it" cell run before the student's function exists ------------------------


def undefined_function_feedback(name: str) -> str | None:
    """The course's message for a ``NameError`` on ``name``, when ``name`` is the function of
    a declared task (the newest declared, if several lessons use the name); else None."""
    titles = [check.title for check in registry.values() if check.function == name]
    if not titles:
        return None
    return (f"[..] {titles[-1]}: `{name}` is not defined yet.\n"
            f"     Run the cell that defines it (the one with `def {name}(...)`) first, "
            f"then run this cell again.")


def _name_error_handler(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler: feedback for a task function that is not defined yet,
    the ordinary traceback for every other NameError."""
    message = undefined_function_feedback(getattr(value, "name", None) or "")
    if message is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    else:
        print(message)
    return None


def _install_name_error_feedback() -> bool:
    """Install :func:`_name_error_handler` in the running IPython, if any (and if no other
    custom handler is there). Returns whether it is installed."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    if shell.custom_exceptions and shell.custom_exceptions != (NameError,):
        return False  # someone else's handler: leave it alone
    shell.set_custom_exc((NameError,), _name_error_handler)
    return True


_install_name_error_feedback()
