"""nbval's markers live in cell tags, where no reader sees them (tools/markers.py)."""

import json
from pathlib import Path

import pytest
from _tools import load_tool
from nbval.plugin import find_comment_markers, find_metadata_tags

ROOT = Path(__file__).resolve().parents[1]
markers = load_tool("markers")

NOTEBOOKS = markers.default_notebooks()


def _cell(source, tags=None, outputs=()):
    meta = {"tags": list(tags)} if tags is not None else {}
    return {"cell_type": "code", "execution_count": 3, "id": "c1", "metadata": meta,
            "outputs": list(outputs), "source": source}


def test_the_default_notebooks_are_the_lessons_and_the_solutions():
    names = {p.name for p in NOTEBOOKS}
    assert "04_rnn_from_scratch.ipynb" in names
    assert "04_rnn_from_scratch_solutions.ipynb" in names
    assert not any(p.name.endswith("_exercises.ipynb") for p in NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_notebook_shows_an_nbval_marker_comment(notebook):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    assert markers.marked_cells(nb) == [], (
        f"{notebook.name}: run python tools/markers.py {notebook.relative_to(ROOT)}")


def test_a_leading_marker_becomes_the_tag_nbval_reads():
    output = {"output_type": "stream", "name": "stdout", "text": "took 1.2 s\n"}
    nb = {"cells": [_cell("# NBVAL_IGNORE_OUTPUT\nt = run()\nprint(t)", outputs=[output]),
                    _cell("#NBVAL_SKIP\n# NBVAL_IGNORE_OUTPUT\nx = 1", tags=["keep-me"]),
                    _cell("x = 2  # NBVAL_IGNORE_OUTPUT is mentioned, not used"),
                    {"cell_type": "markdown", "id": "m", "metadata": {},
                     "source": "# NBVAL_IGNORE_OUTPUT"}]}
    before = [dict(find_comment_markers(c["source"])) for c in nb["cells"][:3]]
    assert markers.move_markers(nb) == 2
    first, second, third, md = nb["cells"]
    assert first["source"] == "t = run()\nprint(t)" and first["outputs"] == [output]
    assert first["metadata"]["tags"] == ["nbval-ignore-output"]
    assert second["source"] == "x = 1"
    assert second["metadata"]["tags"] == ["keep-me", "nbval-skip", "nbval-ignore-output"]
    assert third["source"].startswith("x = 2") and "tags" not in third["metadata"]
    assert md["source"] == "# NBVAL_IGNORE_OUTPUT", "markdown is not code: left alone"
    # nbval draws the same conclusions from the tags as it did from the comments
    after = [dict(find_metadata_tags(c["metadata"]) or {}) for c in nb["cells"][:3]]
    assert after == before
    assert markers.move_markers(nb) == 0, "running it twice changes nothing"


def test_check_mode_names_the_cell_and_changes_nothing(tmp_path, capsys):
    path = tmp_path / "99_x.ipynb"
    nb = {"cells": [_cell("print(1)"), _cell("# NBVAL_IGNORE_OUTPUT\nprint(2)")],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    assert markers.main(["--check", str(path)]) == 1
    assert "cell 1 has an nbval marker comment" in capsys.readouterr().out
    assert path.read_text(encoding="utf-8") == text
    assert markers.main([str(path)]) == 0
    assert markers.main(["--check", str(path)]) == 0
    moved = json.loads(path.read_text(encoding="utf-8"))
    assert moved["cells"][1]["source"] == "print(2)"
    assert moved["cells"][0] == nb["cells"][0]
