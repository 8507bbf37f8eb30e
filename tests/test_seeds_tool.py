"""tools/seeds.py (make seeds) and tools/nbrun.py: a claim that fails for one seed is named."""

import sys
from pathlib import Path

import nbformat
import pytest
from _tools import load_tool

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))


def _load(name):
    return load_tool(name)


@pytest.fixture(scope="module")
def claim_notebook(tmp_path_factory):
    """A claim that holds for COURSE_SEED 0 and 1 but not for 2."""
    path = tmp_path_factory.mktemp("nb") / "claim.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import course_utils\nSEED = course_utils.set_seed(0, tensorflow=False)"),
        nbformat.v4.new_code_cell("accuracy = 0.9 - 0.2 * (SEED == 2)\nprint(accuracy)"),
        nbformat.v4.new_code_cell("assert accuracy > 0.8, f'accuracy {accuracy:.2f}'"),
    ]
    nbformat.write(nb, path)
    return path


def test_the_sweep_names_the_notebook_the_seed_and_the_failing_assert(claim_notebook, capsys):
    seeds = _load("seeds")
    assert seeds.main(["--seeds", "1", "2", str(claim_notebook)]) == 1
    out = capsys.readouterr().out
    assert "ok   COURSE_SEED=1" in out
    assert "FAIL COURSE_SEED=2" in out and "claim.ipynb" in out
    assert "cell 2: assert accuracy > 0.8" in out and "AssertionError: accuracy 0.70" in out
    assert "1 of 2 runs failed" in out


def test_a_run_reports_time_and_the_kernels_peak_memory(claim_notebook):
    nbrun = _load("nbrun")
    run = nbrun.execute(claim_notebook, env={"COURSE_SEED": "0"})
    assert run.passed and run.seconds > 0
    assert 20 < run.peak_rss_mib < nbrun.MEMORY_LIMIT_MIB


def test_the_peak_is_the_kernels_own_not_the_size_of_the_process_that_started_it(claim_notebook):
    # Linux carries a process's pre-exec peak into ru_maxrss, so a kernel started from a large
    # pytest process (as in make test) used to report that process's size as its own.
    np = pytest.importorskip("numpy")
    nbrun = _load("nbrun")
    ballast = np.ones(700 * 1024 * 1024 // 8)  # about 700 MiB resident in this process
    run = nbrun.execute(claim_notebook, env={"COURSE_SEED": "0"})
    del ballast
    assert run.passed and run.peak_rss_mib < 400


def test_a_run_over_the_memory_limit_fails(claim_notebook, monkeypatch):
    nbrun = _load("nbrun")
    monkeypatch.setattr(nbrun, "MEMORY_LIMIT_MIB", 1)
    run = nbrun.execute(claim_notebook, env={"COURSE_SEED": "0"})
    assert not run.passed and "over the course's limit of 1 MiB" in run.message


def test_seeds_must_be_whole_numbers(capsys):
    seeds = _load("seeds")
    with pytest.raises(SystemExit):
        seeds.main(["--seeds", "x.ipynb"])
    assert "--seeds needs whole numbers" in capsys.readouterr().err
