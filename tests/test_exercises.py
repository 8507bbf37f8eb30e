"""The exercise notebooks: solutions pass their checks, untouched stubs fail them helpfully,
and every student notebook is exactly what tools/exercises.py makes of its solution."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from pathlib import Path

import matplotlib
import nbformat
import pytest

from course_utils import checks

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("exercises_tool", ROOT / "tools" / "exercises.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("0[1-9]_*.ipynb"))
SOLUTIONS = tool.solutions()
IDS = [p.stem for p in SOLUTIONS]


@contextlib.contextmanager
def _cwd(path: Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_notebook(path: Path) -> list[checks.Feedback]:
    """Execute the code cells of ``path`` in one namespace; return every check's feedback."""
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__main__"}
    with checks.recording() as found, _cwd(path.parent):
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            code = compile(cell.source, f"{path.name}[cell {i}]", "exec")
            try:
                exec(code, namespace)
            except Exception as e:  # pragma: no cover - the message is the point
                raise AssertionError(
                    f"{path.name}, cell {i} raised {type(e).__name__}: {e}. A cell outside "
                    f"the check calls must not call a student's function unguarded."
                ) from e
    return found


def solution_lines(path: Path) -> list[str]:
    """Substantial lines that are inside BEGIN/END SOLUTION blocks."""
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            inside = False
            for line in cell.source.splitlines():
                if line.strip() == tool.BEGIN:
                    inside = True
                elif line.strip() == tool.END:
                    inside = False
                elif inside and len(line.strip()) >= 12:
                    lines.append(line.strip())
    return lines


def test_every_lesson_has_an_exercise_notebook():
    names = {tool.lesson_stem(p) for p in SOLUTIONS}
    missing = [name for name in LESSONS if name not in names]
    assert not missing, f"lessons without notebooks/exercises/solutions/<NN_topic>_solutions.ipynb: {missing}"


def test_lessons_exercises_and_solutions_have_distinct_names():
    # JupyterLab's tabs show only the file name: a lesson and its exercise must differ there.
    names = [p.name for p in (ROOT / "notebooks").rglob("*.ipynb")
             if ".ipynb_checkpoints" not in p.parts]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert all(p.name.endswith("_solutions.ipynb") for p in tool.SOLUTIONS.glob("*.ipynb"))
    assert all(p.name.endswith("_exercises.ipynb") for p in tool.EXERCISES.glob("*.ipynb"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_student_version_is_up_to_date(solution):
    student = tool.student_path(solution)
    assert student.exists(), f"{student.name} missing: run python tools/exercises.py"
    assert student.read_text(encoding="utf-8") == tool.render(solution), (
        f"{student.name} is out of date with its solution: run python tools/exercises.py"
    )


def test_every_notebook_names_the_course_kernel():
    # Another kernel display name makes JupyterLab rewrite it on opening: the notebook opens
    # modified and asks to be saved although the student changed nothing.
    notebooks = [p for p in (ROOT / "notebooks").rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts]
    wrong = {p.name: nbformat.read(p, as_version=4).metadata.get("kernelspec")
             for p in notebooks}
    wrong = {name: spec for name, spec in wrong.items() if spec != tool.COURSE_KERNELSPEC}
    assert not wrong, f"kernelspec is not {tool.COURSE_KERNELSPEC}: {wrong}"


def test_the_generator_writes_the_course_kernel():
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3",
                                                           "display_name": "Python 3 (ipykernel)",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")]
    assert tool.student_version(nb, "t.ipynb").metadata.kernelspec == tool.COURSE_KERNELSPEC


def test_no_student_notebook_without_a_solution():
    students = {p.name for p in tool.EXERCISES.glob("*.ipynb")}
    assert students == {tool.student_path(p).name for p in SOLUTIONS}


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_notebooks_are_plain_python(solution):
    # The tests execute the cells directly, and students may run them anywhere.
    nb = nbformat.read(solution, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not re.search(r"^\s*[%!]", cell.source, re.M), cell.source


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_solutions_pass_every_check(solution):
    found = run_notebook(solution)
    tasks = {f.task for f in found}
    assert 3 <= len(tasks) <= 6, f"{solution.name}: expected 3-6 tasks, found {sorted(tasks)}"
    failed = [f.message for f in found if not f.passed]
    assert not failed, "\n\n".join(failed)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=IDS)
def test_untouched_stubs_fail_helpfully(solution):
    student = tool.student_path(solution)
    found = run_notebook(student)
    expected_tasks = {f.task for f in run_notebook(solution)}
    assert {f.task for f in found} == expected_tasks, "the student version checks other tasks"
    secrets = solution_lines(solution)
    for fb in found:
        assert not fb.passed, f"{fb.task} passes without any code written"
        assert fb.status == "not done", fb.message
        assert "not done yet" in fb.message and "check.hint(" in fb.message, fb.message
        assert checks.registry[fb.task].function in fb.message
        leaked = [line for line in secrets if line in fb.message]
        assert not leaked, f"{fb.task} feedback shows solution code: {leaked}"


def test_generator_replaces_each_block_with_an_indented_stub():
    source = "def f(x):\n    # hint stays\n    ### BEGIN SOLUTION\n    y = x + 1\n" \
             "    return y\n    ### END SOLUTION\n"
    assert tool.strip_code(source, "t") == (
        "def f(x):\n    # hint stays\n    " + tool.STUB
    )


@pytest.mark.parametrize("bad, problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "never closed"),
    ("x = 1\n### END SOLUTION\n", "without a"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n", "inside another"),
])
def test_generator_rejects_unbalanced_markers(bad, problem):
    with pytest.raises(ValueError, match=problem):
        tool.strip_code(bad, "nb.ipynb, cell 3")


def test_generator_drops_markdown_answers_and_outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Exercises 09 · Things — solutions\n\nIntro."),
        nbformat.v4.new_markdown_cell("Why?\n<!-- BEGIN SOLUTION -->\nBecause.\n"
                                      "<!-- END SOLUTION -->\nNext."),
        nbformat.v4.new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n"
                                  "    ### END SOLUTION", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="1")]),
    ]
    out = tool.student_version(nb, "09.ipynb")
    assert out.cells[0].source == "# Exercises 09 · Things\n\nIntro."
    assert out.cells[1].source == "Why?\nNext."
    assert out.cells[2].outputs == [] and out.cells[2].execution_count is None
    assert nb.cells[2].outputs, "the solution notebook itself must not be modified"


def test_generator_refuses_a_notebook_without_solutions():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    with pytest.raises(ValueError, match="no ### BEGIN SOLUTION"):
        tool.student_version(nb, "plain.ipynb")
