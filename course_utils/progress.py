"""Progress bars that read right live *and* in a stored notebook.

tqdm's notebook bar is a widget: a saved notebook keeps only the widget's text fallback, which
is its first state ("0%|"), so on GitHub, nbviewer, static slides or the course website a
training cell looks as if it never ran. Here the bar is tqdm's text bar, written through an
IPython display handle that is updated in place: JupyterLab shows it moving, and what the
notebook stores is the last state ("100%| 1500/1500 [00:12, 120 it/s]"). Outside Jupyter it is
the ordinary terminal bar on stderr.

- :func:`progress_bar`: a ``tqdm`` bar (use it like ``tqdm``: ``update``, ``set_postfix``,
  ``close``, or as a context manager).
- :func:`keras_progress`: the one Keras callback of the course: one bar over all training
  batches (or epochs), the loss in its postfix; it also records the loss and accuracy of every
  batch for learning curves.
- :func:`gensim_progress`: the same for gensim's word2vec, one step per finished epoch.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar", "keras_progress", "gensim_progress"]

_BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


class _DisplayLine:
    """A file-like target for tqdm that shows the latest line in one updatable output."""

    def __init__(self):
        self._handle = None
        self._last = ""

    def write(self, text: str) -> int:
        # tqdm writes "\r<bar>" on every refresh and "\n" when it closes; keep the last bar.
        line = text.rsplit("\r", 1)[-1].rstrip("\n")
        if line.strip() and line != self._last:
            self._last = line
            self._show(line)
        return len(text)

    def _show(self, line: str) -> None:
        from IPython.display import display

        data = {"text/plain": line}
        if self._handle is None:
            self._handle = display(data, raw=True, display_id=True)
        else:
            self._handle.update(data, raw=True)

    def flush(self) -> None:
        pass


def progress_bar(total=None, *, desc: str = "", unit: str = "it", disable: bool = False,
                 unit_scale: bool = False, mininterval: float = 0.5):
    """A ``tqdm`` bar over ``total`` steps whose stored notebook output is its final state.

    ``disable=True`` gives a silent bar (same interface), for tests and quiet runs.
    """
    from tqdm.std import tqdm

    if total is not None and total < 0:
        raise ValueError(f"total must be >= 0 (or None when unknown), got {total}")
    kwargs = dict(total=total, desc=desc, unit=unit, unit_scale=unit_scale, disable=disable,
                  mininterval=mininterval, bar_format=_BAR_FORMAT if total else None)
    if _in_notebook() and not disable:
        # a fixed width: a display line has no terminal to measure
        return tqdm(file=_DisplayLine(), ncols=100, ascii=False, **kwargs)
    return tqdm(file=sys.stderr, **kwargs)


def keras_progress(total: int, *, desc: str = "training", unit: str = "batch",
                   show: bool = True):
    """The course's Keras progress callback: one bar over ``total`` batches or epochs.

    ``unit="batch"`` advances once per training batch (pass epochs x batches per epoch);
    ``unit="epoch"`` once per epoch. The postfix shows the running loss (and the validation
    loss at the end of each epoch, when Keras computes one). Whatever is shown, the callback
    records ``batch_loss`` and ``batch_accuracy`` (the value of each batch, not Keras's running
    mean over the epoch) for learning curves. Use with ``model.fit(..., verbose=0)``.
    """
    import keras

    if unit not in ("batch", "epoch"):
        raise ValueError(f"unit must be 'batch' or 'epoch', got {unit!r}")
    if not (isinstance(total, int) and total >= 1):
        raise ValueError(f"total must be a positive number of {unit}es/s, got {total!r}")

    class KerasProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.batch_loss, self.batch_accuracy = [], []
            self.bar = progress_bar(total, desc=desc, unit=unit, disable=not show)

        def on_epoch_begin(self, epoch, logs=None):
            self._running = {}

        def on_train_batch_end(self, batch, logs=None):
            logs = logs or {}
            # Keras reports the running mean over the epoch so far; undo it per batch
            k = batch + 1
            for key, store in (("loss", self.batch_loss), ("accuracy", self.batch_accuracy)):
                if key in logs:
                    value = float(logs[key])
                    store.append(k * value - (k - 1) * self._running.get(key, 0.0))
                    self._running[key] = value
            if unit == "batch":
                self.bar.update(1)
                if batch % 10 == 0 and "loss" in logs:
                    self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}", refresh=False)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            postfix = {k: f"{float(v):.3f}" for k, v in logs.items()
                       if k in ("loss", "val_loss", "val_accuracy")}
            if unit == "epoch":
                self.bar.update(1)
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)

        def on_train_end(self, logs=None):
            self.bar.close()

    return KerasProgress()


def gensim_progress(epochs: int, *, desc: str = "word2vec", show: bool = True):
    """A gensim ``CallbackAny2Vec`` advancing one bar per finished training epoch."""
    from gensim.models.callbacks import CallbackAny2Vec

    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")

    class GensimProgress(CallbackAny2Vec):
        def on_train_begin(self, model):
            self.bar = progress_bar(epochs, desc=desc, unit="epoch", disable=not show)

        def on_epoch_end(self, model):
            self.bar.update(1)

        def on_train_end(self, model):
            self.bar.close()

    return GensimProgress()
