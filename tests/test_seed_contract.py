"""The seed contract: every random draw of a lesson, a solution or a benchmark flows from
``course_utils.set_seed``, so that ``COURSE_SEED=k`` shifts all of them (``make seeds``)."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))

# A literal where a seed goes: default_rng(0), seed=3, RandomState(1), random.seed(2), ...
LITERAL_SEED = re.compile(
    r"(default_rng|RandomState|random\.seed|np\.random\.seed|set_random_seed|Generator)\(\s*\d"
    r"|\bseed\s*=\s*\d"
)


def _code(path: Path) -> list[tuple[int, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code"]


def _without_comments(code: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in code.splitlines())


@pytest.mark.parametrize("notebook", LESSONS + SOLUTIONS, ids=lambda p: p.name)
def test_notebook_seeds_flow_from_set_seed(notebook):
    cells = _code(notebook)
    sources = "\n".join(code for _, code in cells)
    uses_randomness = re.search(r"default_rng|seed|random|keras|fit\(|train", sources)
    if uses_randomness:
        assert re.search(r"\w+\s*=\s*course_utils\.set_seed\(", sources), (
            f"{notebook.name}: keep what course_utils.set_seed returns (SEED = ...) and pass it on")
    bad = [(i, m.group(0)) for i, code in cells
           for m in LITERAL_SEED.finditer(_without_comments(code))]
    assert not bad, (f"{notebook.name}: literal seeds ignore COURSE_SEED; derive them from "
                     f"the value set_seed returns (e.g. SEED + 1): {bad}")


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_benchmark_seeds_flow_from_set_seed(script):
    code = _without_comments(script.read_text(encoding="utf-8"))
    bad = [m.group(0) for m in LITERAL_SEED.finditer(code)]
    assert not bad, f"{script.name}: literal seeds {bad}; seed through course_utils.set_seed"


def test_the_pattern_catches_what_it_should():
    for line in ["rng = np.random.default_rng(0)", "Model(seed=3)", "random.seed(1)"]:
        assert LITERAL_SEED.search(line), line
    for line in ["rng = np.random.default_rng(SEED + 3)", "Model(seed=SEED)", "seed=step"]:
        assert not LITERAL_SEED.search(line), line
