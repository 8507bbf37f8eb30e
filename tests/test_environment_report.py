"""course_utils.environment: the setup-check notebook's report."""

import pytest

from course_utils import environment


def test_read_pins_applies_markers_and_rejects_loose_pins(tmp_path):
    pins = tmp_path / "requirements.txt"
    pins.write_text(
        "# comment\nnumpy==2.4.6\n"
        'onlyonmars==1.0; sys_platform == "mars"\n'
        "Jupyter_Core==5.9.1  # trailing comment\n"
    )
    assert environment.read_pins(pins) == {"numpy": "2.4.6", "jupyter-core": "5.9.1"}
    pins.write_text("numpy>=2\n")
    with pytest.raises(ValueError, match="not an exact 'name==version' pin"):
        environment.read_pins(pins)


def test_package_report_names_what_differs():
    key, problems = environment.package_report({"numpy": "0.0.1", "surely-not-installed": "1.0"})
    assert problems["numpy"][0] == "0.0.1" and problems["numpy"][1] is not None
    assert problems["surely-not-installed"] == ("1.0", None)
    assert key["keras"].startswith("3.")


def test_the_course_environment_matches_its_pins():
    _, problems = environment.package_report()
    assert problems == {}


def test_smoke_test_learns_the_toy_task():
    result = environment.smoke_test(seconds=0.1)
    assert result["epochs"] >= 2
    assert result["last_loss"] < result["first_loss"]
    with pytest.raises(ValueError, match="seconds must be positive"):
        environment.smoke_test(seconds=0)
