"""Every diagram of the course, drawn by code (``make figures`` writes them into ``img/``).

Each ``draw_*`` function draws one picture of an idea (a cell, a window, a cube) into ``path``,
deterministically, so a redraw gives the same bytes. The lessons show the files in ``img/`` by
link and never write them. Plots of what a lesson computed (learned maps, learning curves) live
beside the code that computes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


__all__ = ["draw_one_hot_cube", "draw_skipgram_diagram", "draw_onehot_lookup",
           "draw_unrolled_rnn", "draw_lstm_cell", "draw_gru_cell", "draw_stream_batches",
           "draw_attention_diagram"]


# ----------------------------------------------------------------- lesson 01
def draw_one_hot_cube(path, words: Sequence[str] = ("king", "queen", "banana")) -> None:
    """Draw three one-hot word vectors in 3-D with their pairwise distances (all sqrt(2))."""
    import matplotlib.pyplot as plt

    if len(words) != 3:
        raise ValueError(f"draw_one_hot_cube needs exactly 3 words, got {len(words)}")
    E = np.eye(3)
    fig = plt.figure(figsize=(5, 4.6), dpi=100)
    ax = fig.add_subplot(projection="3d")
    colors = ["tab:blue", "tab:orange", "tab:green"]
    for e, w, col in zip(E, words, colors, strict=True):
        ax.quiver(0, 0, 0, *e, color=col, arrow_length_ratio=0.08, linewidth=2)
        ax.text(*(e * 1.08 + np.array([0, 0.05, 0.08])), f"{w}\n{e.astype(int).tolist()}",
                color=col, fontsize=9)
    for i in range(3):
        for j in range(i + 1, 3):
            a, b = E[i], E[j]
            ax.plot(*zip(a, b, strict=True), color="gray", linestyle="--", linewidth=1)
            mid = (a + b) / 2
            ax.text(*mid, f"{math.dist(a, b):.3f}", color="dimgray", fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_ylim(0, 1.1)
    ax.set_zlim(0, 1.1)
    ax.set_xlabel("dim 0")
    ax.set_ylabel("dim 1")
    ax.set_zlabel("dim 2")
    ax.set_title("One-hot words: every pair is sqrt(2) apart")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------- lesson 02
def draw_skipgram_diagram(path, sentence: Sequence[str] = ("the", "plot", "was", "utterly",
                                                           "boring", "and", "slow"),
                          center: int = 3, window: int = 2) -> None:
    """Draw how skip-gram turns a sentence into training pairs (positives and negatives)."""
    import matplotlib.pyplot as plt

    if not 0 <= center < len(sentence):
        raise ValueError(f"center must index the sentence (0..{len(sentence) - 1}), got {center}")
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    ax.axis("off")
    ax.set_xlim(-0.5, len(sentence) - 0.5)
    ax.set_ylim(-2.6, 1.4)
    for i, w in enumerate(sentence):
        in_window = 0 < abs(i - center) <= window
        color = "tab:orange" if i == center else ("tab:blue" if in_window else "lightgray")
        ax.text(i, 0.4, w, ha="center", va="center", fontsize=11,
                bbox={"boxstyle": "round", "fc": color, "alpha": 0.35 if i != center else 0.7})
        if in_window:
            ax.annotate("", xy=(i, 0.62), xytext=(center, 0.62),
                        arrowprops={"arrowstyle": "->", "color": "tab:blue",
                                    # bend every arc upwards, whichever side it goes to
                                    "connectionstyle": f"arc3,rad={-0.3 if i > center else 0.3}"})
    pos = [f"({sentence[center]}, {sentence[i]}) -> 1" for i in range(len(sentence))
           if 0 < abs(i - center) <= window]
    ax.text(-0.4, -0.7, "positive pairs (label 1):  " + "   ".join(pos), fontsize=9,
            color="tab:blue")
    ax.text(-0.4, -1.3, f"negative pairs (label 0):  ({sentence[center]}, banana)   "
            f"({sentence[center]}, tuesday)   ... K words drawn from counts ** 0.75",
            fontsize=9, color="tab:red")
    ax.text(-0.4, -2.0, "loss = -log sigmoid(v_center . u_context) - sum_k log sigmoid("
            "-v_center . u_negative_k)", fontsize=9)
    ax.set_title(f"Skip-gram: center word '{sentence[center]}', window {window}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------- lesson 03
def draw_onehot_lookup(path) -> None:
    """Diagram: a one-hot row times a weight matrix picks out one row (what ``Embedding`` does)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    k, d, hot = 6, 3, 3
    fig, ax = plt.subplots(figsize=(8.0, 3.2))

    def grid(x0, y0, rows, cols, fill, label):
        for r in range(rows):
            for c in range(cols):
                ax.add_patch(Rectangle((x0 + c, y0 - r - 1), 1, 1, facecolor=fill(r, c),
                                       edgecolor="0.3", linewidth=0.8))
        ax.text(x0 + cols / 2, y0 + 0.35, label, ha="center", va="bottom", fontsize=10)

    highlight, plain, weight = "#f4a259", "white", "#cfe3f3"
    # One-hot row (1 x K), drawn as a column-wise strip so it reads left to right.
    grid(0, -2, 1, k, lambda r, c: highlight if c == hot else plain, f"one-hot (1 x K={k})")
    for c in range(k):
        ax.text(c + 0.5, -2.5, "1" if c == hot else "0", ha="center", va="center")
    ax.text(k + 0.6, -2.5, "x", ha="center", va="center", fontsize=16)
    grid(k + 1.2, 0.5, k, d, lambda r, c: highlight if r == hot else weight, f"W (K x D={d})")
    ax.text(k + d + 1.8, -2.5, "=", ha="center", va="center", fontsize=16)
    grid(k + d + 2.4, -2, 1, d, lambda r, c: highlight, "row 3 of W (1 x D)")
    ax.text(k + d + 2.4 + d / 2, -3.6, "Embedding(K, D) looks up row 3\ndirectly: no multiply",
            ha="center", va="top", fontsize=9)
    ax.set_xlim(-0.3, k + 2 * d + 2.8)
    ax.set_ylim(-k, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------- lesson 04
def draw_unrolled_rnn(path, steps=4):
    """Draw the recurrent cell, folded and unrolled over ``steps`` time steps, into ``path``.

    Every copy carries the same W_x (blue) and W_h (orange): that sharing is the point of the
    picture. Returns the path.
    """
    # a bare Figure, not pyplot: nothing is shown and the notebook's backend is left alone
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    if not 1 <= steps <= 8:
        raise ValueError(f"steps must be between 1 and 8, got {steps}")
    blue, orange, grey = "#1f77b4", "#ff7f0e", "#555555"
    fig = Figure(figsize=(2.4 + 1.7 * steps, 3.6), dpi=100)
    ax = fig.add_subplot()
    ax.set_axis_off()

    def cell(cx, cy, text):
        ax.add_patch(FancyBboxPatch((cx - 0.38, cy - 0.3), 0.76, 0.6,
                                    boxstyle="round,pad=0.05", fc="#fff3e0", ec=grey, lw=1.5))
        ax.text(cx, cy, text, ha="center", va="center", fontsize=13)

    def node(cx, cy, text):
        ax.text(cx, cy, text, ha="center", va="center", fontsize=12,
                bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": grey})

    def arrow(x0, y0, x1, y1, color, label=None, dx=0.12, dy=0.0, **kw):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.8, **kw})
        if label:
            ax.text((x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy, label, color=color, fontsize=10)

    # folded: one cell feeding itself
    cell(0.7, 1.5, "$h$")
    node(0.7, 0.2, "$x$")
    node(0.7, 2.8, "$y$")
    arrow(0.7, 0.45, 0.7, 1.15, blue, "$W_x$")
    arrow(0.7, 1.85, 0.7, 2.55, grey)
    arrow(1.13, 1.62, 1.13, 1.38, orange,  # out of the right side, around, back in
          connectionstyle="arc,angleA=0,angleB=0,armA=28,armB=28,rad=8")
    ax.text(1.62, 1.5, "$W_h$", color=orange, fontsize=10, va="center")
    ax.text(2.2, 1.5, "=", fontsize=22, ha="center", va="center")

    # unrolled: copies of the same cell, one per time step
    x0 = 3.3
    ax.text(x0 - 0.75, 1.5, "$h_0$", fontsize=12, ha="center", va="center")
    for k in range(steps):
        cx = x0 + 0.3 + 1.7 * k
        t = f"{k + 1}"
        cell(cx, 1.5, f"$h_{t}$")
        node(cx, 0.2, f"$x_{t}$")
        node(cx, 2.8, f"$y_{t}$")
        arrow(cx, 0.45, cx, 1.15, blue, "$W_x$")
        arrow(cx, 1.85, cx, 2.55, grey)
        arrow(cx - 1.25 if k else x0 - 0.55, 1.5, cx - 0.45, 1.5, orange, "$W_h$",
              dx=-0.2, dy=0.12)
    ax.text(x0 + 0.3 + 1.7 * (steps - 1) / 2, -0.45,
            "the same $W_x$, $W_h$ and $b$ in every copy:  "
            r"$h_t = \tanh(x_t W_x + h_{t-1} W_h + b)$",
            ha="center", fontsize=11)
    ax.set_xlim(0, x0 + 1.7 * steps)
    ax.set_ylim(-0.7, 3.2)
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    return path


# ----------------------------------------------------------------- lesson 05
def _cell_canvas():
    """The shared canvas of the LSTM and GRU drawings: (fig, ax, arrow, op) with the cell's
    rounded box drawn; ``arrow(a, b)`` and ``op(xy, symbol)`` add arrows and circled ops."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(9, 4.6))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 5.6)
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((1.2, 0.7), 7.6, 4.1, boxstyle="round,pad=0.1",
                                fc="#f4f6fb", ec="#8a94a6", lw=1.2))

    def arrow(a, b, color="#333333", lw=1.4, style="-|>"):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=12, color=color,
                                     lw=lw, shrinkA=0, shrinkB=0))

    def op(xy, sym, color="#333333", fontsize=12):
        ax.add_patch(plt.Circle(xy, 0.22, fc="white", ec=color, lw=1.4, zorder=3))
        ax.text(*xy, sym, ha="center", va="center", fontsize=fontsize, zorder=4, color=color)

    return fig, ax, arrow, op


# ----------------------------------------------------------------- lesson 05
def draw_lstm_cell(path) -> None:
    """Draw the LSTM cell (cell-state highway, forget/input/output gates, candidate) to ``path``."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    fig, ax, arrow, op = _cell_canvas()

    def gate(x, name, fn, color):
        # the name sits inside the box: the input arrows arrive from below and cross no text
        ax.add_patch(FancyBboxPatch((x - 0.5, 1.5), 1.0, 0.68, boxstyle="round,pad=0.04",
                                    fc=color, ec="none", zorder=3))
        ax.text(x, 1.97, fn, ha="center", va="center", color="white", fontsize=11, zorder=4)
        ax.text(x, 1.66, name, ha="center", va="center", fontsize=8, color="white", zorder=4)

    blue, green, orange, red, grey = "#3366cc", "#2e9e5b", "#e08a1e", "#c43c39", "#555555"
    # the cell-state highway along the top: one multiply, one add
    arrow((0.3, 4.2), (2.58, 4.2), blue, lw=2.5, style="-")
    op((2.8, 4.2), "×", blue)
    arrow((3.02, 4.2), (4.78, 4.2), blue, lw=2.5, style="-")
    op((5.0, 4.2), "+", blue)
    arrow((5.22, 4.2), (9.7, 4.2), blue, lw=2.5)
    ax.text(0.3, 4.45, r"$c_{t-1}$", fontsize=12, color=blue)
    ax.text(9.35, 4.45, r"$c_t$", fontsize=12, color=blue)
    ax.text(3.9, 4.42, "cell state: multiplied by f, then added to", ha="center", fontsize=8,
            color=blue)
    # inputs h_{t-1} and x_t merge into a bus that feeds the four layers
    arrow((0.3, 0.95), (7.2, 0.95), grey, style="-")
    arrow((1.6, 0.1), (1.6, 0.95), grey, style="-")
    ax.text(0.3, 1.05, r"$h_{t-1}$", fontsize=12)
    ax.text(1.7, 0.15, r"$x_t$", fontsize=12)
    xs = {"f": 2.8, "i": 3.95, "g": 5.1, "o": 6.6}
    for x in xs.values():
        arrow((x, 0.95), (x, 1.45), grey)
    gate(xs["f"], "forget f", "σ", red)
    gate(xs["i"], "input i", "σ", green)
    gate(xs["g"], "candidate g", "tanh", orange)
    gate(xs["o"], "output o", "σ", "#7b4fb0")
    arrow((xs["f"], 2.24), (xs["f"], 3.98), red)
    op((4.5, 3.0), "×", green)
    arrow((xs["i"], 2.24), (4.34, 2.85), green)
    arrow((xs["g"], 2.24), (4.66, 2.85), orange)
    arrow((4.5, 3.22), (4.86, 4.02), green)
    # output: h_t = o * tanh(c_t)
    ax.add_patch(FancyBboxPatch((7.25, 3.05), 0.7, 0.42, boxstyle="round,pad=0.04",
                                fc="#fbe9d0", ec=orange, zorder=3))
    ax.text(7.6, 3.26, "tanh", ha="center", va="center", fontsize=9, zorder=4)
    arrow((7.6, 4.2), (7.6, 3.5), blue)
    op((7.6, 2.3), "×", "#7b4fb0")
    arrow((7.6, 3.02), (7.6, 2.53), orange)
    arrow((xs["o"] + 0.52, 2.0), (7.38, 2.3), "#7b4fb0")
    arrow((7.82, 2.3), (9.7, 2.3), "#222222", lw=2)
    arrow((8.6, 2.3), (8.6, 5.45), "#222222")
    ax.text(9.35, 2.45, r"$h_t$", fontsize=12)
    ax.text(8.7, 5.2, r"$h_t$ (output)", fontsize=10)
    ax.text(5.0, 5.25, r"$c_t = f \odot c_{t-1} + i \odot g \qquad h_t = o \odot \tanh(c_t)$",
            ha="center", fontsize=12)
    fig.savefig(path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------- lesson 05
def draw_gru_cell(path) -> None:
    """Draw the GRU cell (one state, update and reset gates, candidate) to ``path`` (PNG).

    Same look as ``draw_lstm_cell``: the state runs along the top and is only mixed, never
    pushed through a weight matrix: ``h_t = z * h_{t-1} + (1 - z) * g``. The reset gate scales
    the recurrent part of the candidate's input (Keras's ``reset_after=True``, as ``rnn.GRU``).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    fig, ax, arrow, op = _cell_canvas()

    def gate(x, name, fn, color):
        ax.add_patch(FancyBboxPatch((x - 0.42, 1.95), 0.84, 0.55, boxstyle="round,pad=0.04",
                                    fc=color, ec="none", zorder=3))
        ax.text(x, 2.23, fn, ha="center", va="center", color="white", fontsize=11, zorder=4)
        ax.text(x + 0.5, 2.62, name, ha="left", va="bottom", fontsize=9, color=color)

    blue, orange, red, purple, grey = "#3366cc", "#e08a1e", "#c43c39", "#7b4fb0", "#555555"
    xz, xr, xg = 3.0, 4.7, 6.4
    # the state highway along the top: keep a share z of h_{t-1}, add (1 - z) of the candidate
    arrow((0.3, 4.2), (xz - 0.22, 4.2), blue, lw=2.5, style="-")
    op((xz, 4.2), "×", blue)
    arrow((xz + 0.22, 4.2), (xg - 0.22, 4.2), blue, lw=2.5, style="-")
    op((xg, 4.2), "+", blue)
    arrow((xg + 0.22, 4.2), (9.7, 4.2), blue, lw=2.5)
    ax.text(0.3, 4.45, r"$h_{t-1}$", fontsize=12, color=blue)
    ax.text(9.35, 4.45, r"$h_t$", fontsize=12, color=blue)
    ax.text((xz + xg) / 2, 4.42, "state: a share z kept, (1 - z) replaced", ha="center",
            fontsize=8, color=blue)
    # h_{t-1} and x_t on two separate lines; a dot marks where an arrow takes its input from a
    # line, a crossing without a dot is no connection
    def dot(xy, color=grey):
        ax.add_patch(plt.Circle(xy, 0.06, fc=color, ec="none", zorder=5))

    h_line, x_line = 1.2, 0.6
    arrow((0.75, 4.2), (0.75, h_line), grey, style="-")
    arrow((0.75, h_line), (xg + 0.75, h_line), grey, style="-")
    arrow((1.6, 0.1), (1.6, x_line), grey, style="-")
    arrow((1.6, x_line), (xg - 0.2, x_line), grey, style="-")
    ax.text(1.7, 0.15, r"$x_t$", fontsize=12)
    dot((0.75, 4.2), blue)
    for x in (xz, xr):  # the gates read both
        dot((x - 0.18, x_line))
        arrow((x - 0.18, x_line), (x - 0.18, 1.9), grey)
        dot((x + 0.18, h_line))
        arrow((x + 0.18, h_line), (x + 0.18, 1.9), grey)
    gate(xz, "update z", "σ", red)
    gate(xr, "reset r", "σ", purple)
    gate(xg, "candidate g", "tanh", orange)
    # the candidate reads x_t directly, and h_{t-1} only through U_g and the reset gate
    dot((xg - 0.2, x_line))
    arrow((xg - 0.2, x_line), (xg - 0.2, 1.9), grey)
    op((xg + 0.8, 1.62), "×", purple)
    arrow((xg + 0.8, h_line), (xg + 0.8, 1.4), grey)
    arrow((xg + 0.65, 1.79), (xg + 0.44, 2.02), purple)
    arrow((xr + 0.44, 2.0), (xg + 0.58, 1.64), purple)  # passes under the candidate's box
    ax.text(xg + 1.08, 1.55, r"$r \odot (h_{t-1} U_g)$", fontsize=9, color=purple)
    # update: z multiplies the old state; 1 - z multiplies the candidate
    arrow((xz, 2.52), (xz, 3.98), red)
    op((xr, 3.3), "1−", red, fontsize=10)
    arrow((xz, 3.3), (xr - 0.22, 3.3), red)
    op((xg, 3.3), "×", orange)
    arrow((xr + 0.22, 3.3), (xg - 0.22, 3.3), red)
    arrow((xg, 2.52), (xg, 3.08), orange)
    arrow((xg, 3.52), (xg, 3.98), orange)
    # the state is the output
    arrow((8.6, 4.2), (8.6, 5.45), "#222222")
    ax.text(8.7, 5.2, r"$h_t$ (output)", fontsize=10)
    ax.text(4.6, 5.25, r"$h_t = z \odot h_{t-1} + (1 - z) \odot g \qquad "
            r"g = \tanh(x_t W_g + r \odot (h_{t-1} U_g))$", ha="center", fontsize=12)
    fig.savefig(path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)


# ----------------------------------------------------------------- lesson 06
def draw_stream_batches(path, *, n_streams=4, n_windows=5):
    """Draw how ``StreamBatches`` cuts a text into parallel streams and windows; save a PNG."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Rectangle

    n_streams = _positive_int("n_streams", n_streams, 2)
    n_windows = _positive_int("n_windows", n_windows, 2)
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    colors = plt.get_cmap("Pastel1").colors
    w, h = 1.6, 0.55
    for b in range(n_streams):
        yb = (n_streams - 1 - b) * 0.8
        ax.text(-0.2, yb + h / 2, f"stream {b}", ha="right", va="center", fontsize=9)
        for k in range(n_windows):
            x0 = k * (w + 0.35)
            ax.add_patch(Rectangle((x0, yb), w, h, facecolor=colors[k % len(colors)],
                                   edgecolor="0.3"))
            ax.text(x0 + w / 2, yb + h / 2, f"batch {k}", ha="center", va="center", fontsize=8)
            if k < n_windows - 1:
                ax.add_patch(FancyArrowPatch((x0 + w, yb + h / 2), (x0 + w + 0.35, yb + h / 2),
                                             arrowstyle="-|>", mutation_scale=10, color="C3"))
    top = (n_streams - 1) * 0.8 + h
    ax.text((n_windows * (w + 0.35)) / 2 - 0.2, top + 0.35,
            "text cut into B streams; batch k = the k-th window of T characters of every stream",
            ha="center", fontsize=10)
    ax.text((n_windows * (w + 0.35)) / 2 - 0.2, -0.45,
            "red arrows: the last hidden state of a window is the first state of the next "
            "(gradients stop there)", ha="center", fontsize=9, color="C3")
    ax.set_xlim(-1.6, n_windows * (w + 0.35))
    ax.set_ylim(-0.7, top + 0.6)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


# ----------------------------------------------------------------- lesson 07
def draw_attention_diagram(path) -> None:
    """Draw the encoder-decoder with attention for one output step into ``path`` (PNG).

    Bottom: a bidirectional encoder over input characters (states h_j). Middle: the attention
    weights a_tj (line width) combine the h_j into the context vector c_t. Top: the decoder
    state s_t and c_t together predict the output character.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    chars = list("3 march 1998")
    # Illustrative weights for the step that writes the month digit "3" of "03": mostly on
    # "mar" (an example picture, not a trained model's numbers).
    w = np.array([0.02, 0.01, 0.40, 0.30, 0.17, 0.04, 0.02, 0.01, 0.01, 0.01, 0.005, 0.005])
    w = w / w.sum()
    n = len(chars)
    xs = np.arange(n) * 1.0

    fig, ax = plt.subplots(figsize=(10, 5))
    ax.set_xlim(-3.0, n + 3.6)
    ax.set_ylim(-0.8, 6.1)
    ax.axis("off")

    def box(x, y, text, color, wdt=0.8, hgt=0.55, fs=9):
        ax.add_patch(FancyBboxPatch((x - wdt / 2, y - hgt / 2), wdt, hgt,
                                    boxstyle="round,pad=0.03", fc=color, ec="0.3", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=fs)

    def arrow(x0, y0, x1, y1, lw=1.0, color="0.35"):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=9,
                                     lw=lw, color=color, shrinkA=2, shrinkB=2))

    for j, c in enumerate(chars):
        box(xs[j], -0.4, "\u2423" if c == " " else c, "#f2f2f2", hgt=0.45)
        box(xs[j], 0.55, "", "#cfe3f7", hgt=0.35)      # forward GRU
        box(xs[j], 1.05, "", "#f7dccf", hgt=0.35)      # backward GRU
        arrow(xs[j], -0.15, xs[j], 0.37)
        ax.text(xs[j], 1.5, f"{w[j]:.2f}", ha="center", fontsize=7, color="#2f855a")
        if j + 1 < n:
            arrow(xs[j] + 0.4, 0.55, xs[j + 1] - 0.4, 0.55, lw=0.7)
            arrow(xs[j + 1] - 0.4, 1.05, xs[j] + 0.4, 1.05, lw=0.7)
    ax.text(-2.9, -0.4, "input characters", fontsize=8, va="center")
    ax.text(-2.9, 0.55, "forward GRU", fontsize=8, va="center", color="#2b6cb0")
    ax.text(-2.9, 1.05, "backward GRU", fontsize=8, va="center", color="#c05621")
    ax.text(-2.9, 1.5, "weights a_tj", fontsize=8, va="center", color="#2f855a")
    ax.text(-2.9, 0.8, "h_j = [fwd; bwd]", fontsize=7, va="center")

    cx, cy = 4.0, 3.4
    box(cx, cy, "context c_t = \u03a3_j a_tj h_j", "#e6f4ea", wdt=3.4, hgt=0.55)
    for j in range(n):
        arrow(xs[j], 1.65, cx + (xs[j] - cx) * 0.3, cy - 0.3, lw=0.3 + 9 * w[j], color="#2f855a")

    sx, sy = n + 1.6, 3.4
    box(sx, sy, "decoder GRU\nstate s_t", "#fdf2c4", wdt=1.9, hgt=0.75)
    arrow(sx, 5.0, sx, sy + 0.4, lw=0.8)
    ax.text(sx, 5.15, "previous output: \"0\"", fontsize=8, ha="center")
    arrow(sx - 0.5, sy - 0.4, n - 0.6, 1.75, lw=0.8, color="#2f855a")
    ax.text(sx - 0.1, 2.15, "query s_t scores every h_j:\na_tj = softmax_j score(s_t, h_j)",
            fontsize=8, color="#2f855a", ha="left")

    ox = (cx + sx) / 2
    box(ox, 4.6, "Dense \u2192 softmax", "#eeeeee", wdt=2.2)
    arrow(cx + 1.0, cy + 0.3, ox - 0.6, 4.32)
    arrow(sx - 0.8, sy + 0.4, ox + 0.6, 4.32)
    box(ox, 5.6, 'next character: "3"', "#ffffff", wdt=2.4)
    arrow(ox, 4.9, ox, 5.35)
    ax.set_title("One decoder step with attention (weights drawn by hand, for illustration)",
                 fontsize=11)
    fig.savefig(path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
