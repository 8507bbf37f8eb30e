"""course_utils.progress: the bar a stored notebook shows is the finished one."""

import numpy as np
import pytest

from course_utils.progress import gensim_progress, keras_progress, progress_bar


def _run_in_kernel(code: str) -> list[dict]:
    """Execute ``code`` in a fresh course kernel the way nbval/nbconvert do; return outputs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb.cells[0].outputs


def test_a_stored_notebook_keeps_the_final_state_of_the_bar():
    outputs = _run_in_kernel(
        "from course_utils.progress import progress_bar\n"
        "import time\n"
        "bar = progress_bar(40, desc='demo', mininterval=0)\n"
        "for i in range(40):\n"
        "    bar.update(1)\n"
        "    if i == 20: time.sleep(0.05)\n"
        "bar.set_postfix(loss='0.123')\n"
        "bar.close()\n"
        "print('after')\n"
    )
    shown = [o for o in outputs if o["output_type"] == "display_data"]
    assert len(shown) == 1, outputs  # one line, updated in place, not 40 lines
    text = shown[0]["data"]["text/plain"]
    assert text.startswith("demo: 100%") and "40/40" in text and "loss=0.123" in text
    assert "0%|" not in text.replace("100%|", "")
    assert [o["text"] for o in outputs if o["output_type"] == "stream"] == ["after\n"]


def test_outside_jupyter_it_is_a_terminal_bar(capsys):
    with progress_bar(5, desc="steps", mininterval=0) as bar:
        for _ in range(5):
            bar.update(1)
    err = capsys.readouterr().err
    assert "steps: 100%" in err and "5/5" in err


def test_a_disabled_bar_is_silent(capsys):
    bar = progress_bar(3, disable=True)
    bar.update(3)
    bar.close()
    assert capsys.readouterr().err == ""


def test_keras_progress_records_each_batch_not_the_running_mean():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="binary_crossentropy",
                  metrics=["accuracy"])
    x = np.random.default_rng(0).standard_normal((24, 2)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    cb = keras_progress(2 * 3, desc="fit", show=False)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False, callbacks=[cb])
    assert len(cb.batch_loss) == 6 and len(cb.batch_accuracy) == 6
    # the mean of an epoch's per-batch losses is the epoch loss Keras reports
    for epoch in range(2):
        assert np.mean(cb.batch_loss[3 * epoch: 3 * epoch + 3]) == pytest.approx(
            history.history["loss"][epoch], rel=1e-5)
    assert all(0 <= a <= 1 for a in cb.batch_accuracy)


@pytest.mark.parametrize("make, match", [
    (lambda: keras_progress(0), "total must be a positive"),
    (lambda: keras_progress(3, unit="step"), "unit must be"),
    (lambda: gensim_progress(0), "epochs must be a positive"),
    (lambda: progress_bar(-1), "total must be >= 0"),
])
def test_bad_arguments_are_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()
