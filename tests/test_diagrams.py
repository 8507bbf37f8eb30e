"""course_utils.diagrams: every course diagram draws small, stable PNGs and refuses bad input."""

import pytest

from course_utils import diagrams

ALL = [
    lambda p: diagrams.draw_one_hot_cube(p),
    diagrams.draw_skipgram_diagram,
    diagrams.draw_onehot_lookup,
    lambda p: diagrams.draw_unrolled_rnn(p, steps=3),
    diagrams.draw_lstm_cell,
    diagrams.draw_gru_cell,
    diagrams.draw_stream_batches,
    diagrams.draw_attention_diagram,
]


@pytest.mark.parametrize("draw", ALL, ids=[n for n in diagrams.__all__])
def test_each_diagram_is_a_small_png_with_the_same_bytes_every_time(tmp_path, draw):
    draw(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 1_000 < len(data) < 200_000
    # no version stamp in the file: redrawing gives the same bytes, so img/ does not churn
    assert b"matplotlib" not in data
    draw(tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes() == data


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="steps"):
        diagrams.draw_unrolled_rnn(tmp_path / "x.png", steps=0)
    with pytest.raises(ValueError, match="exactly 3 words"):
        diagrams.draw_one_hot_cube(tmp_path / "x.png", ["a", "b"])
    with pytest.raises(ValueError, match="n_streams"):
        diagrams.draw_stream_batches(tmp_path / "x.png", n_streams=1)


def test_every_diagram_lives_here_only():
    """One module draws the diagrams; tools/draw_figures.py writes each into img/."""
    from _tools import load_tool

    tool = load_tool("draw_figures")
    assert len(tool._diagrams()) == len(diagrams.__all__)
