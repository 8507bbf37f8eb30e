"""A character GPT, a BPE GPT and lesson 06's recurrent model at one wall-clock budget: one JSON line.

All three train on tiny Shakespeare with the lesson 06 split (the last 10% held out for
validation), for the same ``--seconds`` of training (evaluation and graph tracing excluded),
once per seed of ``--seeds``, in the same process one after the other, so that the machine's
load hits all of them alike. Reported: the mean over the seeds and the spread (max - min).

- ``gpt_char``: ``transformer.build_gpt`` (4 pre-norm blocks of width 128, 4 heads, context 64,
  0.82 M parameters: nanoGPT's CPU setting), batch 32, Adam 2e-3 with 100 warm-up steps and a
  linear decay to 10%, clipping at norm 1.
- ``gpt_bpe``: the same network on byte-level BPE tokens (``bpe.BPETokenizer``, ``--merges``
  merges learned on the training text only); its loss per token is turned into nats per
  *character* (the total nats of the validation text divided by its characters), so that it
  compares with the character models.
- ``rnn``: lesson 06's best recurrent model, the NumPy ``charrnn.CharRNN`` with ``--rnn-cell``
  (default ``gru``; ``rnn`` for the SimpleRNN), hidden 256, on 16 streams of 100 characters,
  Adam 5e-3, clipping at norm 1, and the GPT's schedule shape (``charrnn.scheduled_lr``: 100
  warm-up updates, then a linear decay to 10% at the end of the budget).

Also reported: the validation loss on the first 20,000 validation characters at the first
evaluation after 60, 120, 300 and 600 s of training (those within the budget) and at the end
(``curve_seconds_updates_val20k_nats``: seconds, updates, nats), to show which model leads when.
These are points of one run whose learning rate decays over the whole budget, not separate
runs with shorter budgets. Reference (nanoGPT README, "quick start", char-level
Shakespeare): 1.88 nats after about 3 minutes on a laptop CPU with this architecture.

Goal: ``gpt_char_val_nats`` <= 1.75 with --seconds 180 on 2 cores. Measured with the
defaults on otherwise idle cores (load average 1.9): character GPT 1.578 (spread 0.023), BPE
GPT 1.519 per character (0.005), GRU 1.561 (0.019); ``--models gpt_char rnn`` leaves the BPE
model out (its keys are then null), for the longer budgets that show where the curves cross:
with --seconds 600, seeds 0 and 1, GPT 1.506 / 1.506 against GRU 1.636 / 1.645, the GPT ahead
from the 300 s curve point on, the GRU ahead at 60 and 120 s.

    python benchmarks/transformer_char.py [--seconds 180] [--seeds 0 1 2] [--merges 256]
                                          [--rnn-cell gru] [--models gpt_char rnn]
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

import course_utils
from course_utils import bpe, charrnn, transformer
from course_utils.data import load_shakespeare

CURVE_VAL_CHARS = 20_000
MODELS = ("gpt_char", "gpt_bpe", "rnn")


def _curve(hist, budget, marks=(60, 120, 300, 600)):
    """[seconds, updates, val nats] at the first eval point past each of ``marks`` (and the
    end) within the budget: where the models stand after 1, 2, 5 and 10 minutes of one run."""
    out = []
    for mark in [m for m in marks if m < budget * 0.999] + [budget]:
        i = next((k for k, s in enumerate(hist.seconds) if s >= mark * 0.999),
                 len(hist.seconds) - 1)
        out.append([round(hist.seconds[i], 1), hist.step[i], round(hist.val_loss[i], 4)])
    return out


def run_gpt(train_ids, val_ids, vocab_size, seconds, seed, eval_every):
    seed = course_utils.set_seed(seed)  # + $COURSE_SEED, for every draw below
    model = transformer.build_gpt(vocab_size, context=64, width=128, layers=4, heads=4)
    hist = transformer.train_gpt(model, train_ids, seconds=seconds, batch_size=32, lr=2e-3,
                                 warmup=100, final_lr_fraction=0.1, seed=seed, progress=False,
                                 val_ids=val_ids[:CURVE_VAL_CHARS], eval_every=eval_every)
    val = charrnn.evaluate(transformer.GPTCharModel(model), val_ids, batch_size=32, seq_len=32)
    return model, hist, val


def run_rnn(train_ids, val_ids, vocab_size, seconds, seed, eval_every, cell="gru"):
    seed = course_utils.set_seed(seed)  # + $COURSE_SEED, for every draw below
    model = charrnn.CharRNN(vocab_size, 256, seed=seed, workers=2, cell=cell)
    batches = charrnn.StreamBatches(train_ids, 16, 100)
    hist = charrnn.train(model, batches, charrnn.Adam(5e-3), seconds=seconds, clip_norm=1.0,
                         warmup=100, final_lr_fraction=0.1, progress=False,
                         val_ids=val_ids[:CURVE_VAL_CHARS], eval_every=eval_every)
    val = charrnn.evaluate(model, val_ids, batch_size=32, seq_len=100)
    return model, hist, val


def _stats(values):
    """(mean, max - min), or (None, None) for a model not run (``--models``)."""
    if not values:
        return None, None
    a = np.asarray(values, dtype=float)
    return round(float(a.mean()), 4), round(float(a.max() - a.min()), 4)


def _mean(values):
    return round(float(np.mean(values))) if values else None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=180.0,
                   help="training seconds per model and seed (default 180)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                   help="seeds (each shifted by $COURSE_SEED; default 0 1 2)")
    p.add_argument("--merges", type=int, default=256,
                   help="BPE merges learned on the training text (default 256)")
    p.add_argument("--rnn-cell", default="gru", choices=["rnn", "lstm", "gru"],
                   help="recurrent layer of the recurrent model (default gru, lesson 06's best)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS),
                   help="which models to train (default all three; a model left out reports "
                        "null, e.g. to measure the character GPT against the RNN over long "
                        "budgets without the BPE model)")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.merges < 0:
        p.error("--seconds must be positive and --merges >= 0")

    load_before = os.getloadavg()[0]
    text = load_shakespeare()
    vocab = charrnn.CharVocab(text)
    train_ids, val_ids = charrnn.train_val_split(vocab.encode(text), 0.1)
    n_train = len(train_ids)
    train_text, val_text = text[:n_train], text[n_train:]
    tok = bpe.BPETokenizer.train(train_text, args.merges)
    btrain, bval = tok.encode(train_text), tok.encode(val_text)
    chars_per_token = len(val_text) / len(bval)

    res = {k: [] for k in ("gpt_char", "gpt_bpe", "rnn", "gpt_cps", "bpe_cps", "rnn_cps",
                           "gpt_steps", "bpe_steps", "rnn_steps")}
    curves = {"gpt_char": [], "gpt_bpe": [], "rnn": []}
    params = {}
    for s in args.seeds:
        if "gpt_char" in args.models:
            m, h, v = run_gpt(train_ids, val_ids, len(vocab), args.seconds, s, eval_every=100)
            res["gpt_char"].append(v)
            res["gpt_cps"].append(h.chars_per_s)
            res["gpt_steps"].append(h.step[-1])
            curves["gpt_char"].append(_curve(h, args.seconds))
            params["gpt_char"] = m.count_params()
        if "gpt_bpe" in args.models:
            m, h, v = run_gpt(btrain, bval, len(tok), args.seconds, s, eval_every=100)
            res["gpt_bpe"].append(v * len(bval) / len(val_text))  # per token -> per character
            res["bpe_cps"].append(h.chars_per_s * chars_per_token)
            res["bpe_steps"].append(h.step[-1])
            curves["gpt_bpe"].append([[t, u, round(n / chars_per_token, 4)]
                                      for t, u, n in _curve(h, args.seconds)])
            params["gpt_bpe"] = m.count_params()
        if "rnn" in args.models:
            m, h, v = run_rnn(train_ids, val_ids, len(vocab), args.seconds, s, eval_every=500,
                              cell=args.rnn_cell)
            res["rnn"].append(v)
            res["rnn_cps"].append(h.chars_per_s)
            res["rnn_steps"].append(h.step[-1])
            curves["rnn"].append(_curve(h, args.seconds))
            params["rnn"] = m.n_params

    gpt, gpt_spread = _stats(res["gpt_char"])
    bpe_, bpe_spread = _stats(res["gpt_bpe"])
    rnn, rnn_spread = _stats(res["rnn"])
    out = {
        "seconds": args.seconds,
        "seeds": [s + course_utils.seed_shift() for s in args.seeds],
        "gpt_char_val_nats": gpt, "gpt_char_val_nats_spread": gpt_spread,
        "gpt_bpe_val_nats_per_char": bpe_, "gpt_bpe_val_nats_per_char_spread": bpe_spread,
        "rnn_cell": args.rnn_cell,
        "rnn_val_nats": rnn, "rnn_val_nats_spread": rnn_spread,
        "gpt_char_val_bits": None if gpt is None else round(charrnn.bits_per_char(gpt), 4),
        "rnn_val_bits": None if rnn is None else round(charrnn.bits_per_char(rnn), 4),
        "gpt_chars_per_s": _mean(res["gpt_cps"]),
        "gpt_chars_per_s_spread": round(float(np.ptp(res["gpt_cps"]))) if res["gpt_cps"] else None,
        "gpt_bpe_chars_per_s": _mean(res["bpe_cps"]),
        "rnn_chars_per_s": _mean(res["rnn_cps"]),
        "rnn_chars_per_s_spread": round(float(np.ptp(res["rnn_cps"]))) if res["rnn_cps"] else None,
        "updates": {"gpt_char": res["gpt_steps"], "gpt_bpe": res["bpe_steps"],
                    "rnn": res["rnn_steps"]},
        "params": params,
        "bpe_merges": args.merges, "bpe_vocab": len(tok),
        "bpe_chars_per_token": round(chars_per_token, 3),
        "curve_seconds_updates_val20k_nats": curves,
        "per_seed": {"gpt_char": [round(v, 4) for v in res["gpt_char"]],
                     "gpt_bpe": [round(v, 4) for v in res["gpt_bpe"]],
                     "rnn": [round(v, 4) for v in res["rnn"]]},
        "loadavg_1min_at_start": round(load_before, 2),
        "loadavg_1min_at_end": round(os.getloadavg()[0], 2),
        "nanogpt_cpu_reference_nats": 1.88,
        "models": args.models,
        "ok": gpt is not None and bool(gpt <= 1.75),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
