"""What a stored notebook shows without a kernel (GitHub, nbviewer, slides, the website) reads
right: no progress bar frozen at its first state, no lesson writing into img/."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "exercises" / "solutions").glob("[0-9][0-9]_*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
FIRST_STATE = re.compile(r"(^|[:\s])0%\|")


def _outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            yield i, out


@pytest.mark.parametrize("notebook", LESSONS + SOLUTIONS, ids=lambda p: p.name)
def test_stored_progress_bars_show_their_final_state(notebook):
    for i, out in _outputs(notebook):
        data = out.get("data", {})
        assert WIDGET not in data, f"{notebook.name} cell {i}: a widget, stored as its first state"
        text = "".join(out.get("text", "")) + "".join(data.get("text/plain", ""))
        last = [seg for seg in re.split(r"[\r\n]", text) if seg.strip()]
        frozen = [seg for seg in last if FIRST_STATE.search(seg) and "100%" not in seg]
        assert not frozen, f"{notebook.name} cell {i}: a bar stored at 0%: {frozen[:1]}"


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_lessons_never_write_into_img(notebook):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = "\n".join(line.split("#", 1)[0] for line in "".join(cell["source"]).splitlines())
        assert not re.search(r"\bdraw_\w+\(|img/|\bIMG\b|savefig\(", code), (
            f"{notebook.name} cell {i} writes a figure file; show img/ by a markdown link "
            f"(make figures draws them) or draw inline")
