"""Ablation: the engine's hand-written backward pass against autograd.

Times the same engine (:class:`skreg._engine.Trainer`: same data path,
same fused Adam step, same regularizers) with the step's gradients computed
either by the hand-written pass (``backward='manual'``, what every fit
without batch norm or L-BFGS uses) or by autograd over the same stacked
module and flat parameters (``backward='autograd'``), for one network (a
plain fit) and for a stack of 12 (a search's configurations on one fold),
on the settings of ``bench_fit.py`` (float32, ReLU, 3 classes), and on S3,
whose 10 numeric inputs go through the learned PLR embedding
(``numeric_embedding='plr'``, 4 frequencies and 4 outputs per input: the
hand-written pass includes its backward). Each case is run ``--repeats``
times, interleaved; the best time counts.

Usage
  python benchmarks/bench_backward.py            # ~2-3 min on 2 CPUs
  python benchmarks/bench_backward.py --quick    # smoke test
  python benchmarks/bench_backward.py --json out.json
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from sklearn.datasets import make_classification

from skreg._engine import LOSSES, PLR_SIGMA, Trainer, TrainingConfig, TrainingData
from skreg._threads import step_work, training_threads

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import environment, print_header, save_json  # noqa: E402

SETTINGS = {
    "S1": dict(n=16000, d=50, hidden=(256, 256), batch=256),
    "S2": dict(n=4000, d=50, hidden=(64, 64), batch=32),
    # (k, d) of the PLR embedding of every input
    "S3": dict(n=20000, d=10, hidden=(100,), batch=200, plr=(4, 4)),
}


def fit_time(X, y, setting, members, backward, epochs, regularized):
    C = members
    n_inputs, plr = setting["d"], ()
    if "plr" in setting:
        k, d = setting["plr"]
        n_inputs, plr = n_inputs * (1 + d), (tuple(range(n_inputs)), k, d, PLR_SIGMA)
    config = TrainingConfig(
        layer_sizes=(n_inputs, *setting["hidden"], 3), activation="relu",
        loss=LOSSES["log_loss"](3), batch_size=setting["batch"], seeds=np.zeros(C),
        alpha=np.linspace(1e-4, 1e-2, C) if regularized else 0.0,
        l1_ratio=0.5 if regularized else 0.0, dropout=0.1 if regularized else 0.0,
        label_smoothing=0.0,
        regularization={"penalty": "elasticnet" if regularized else None},
        max_iter=epochs, tol=0.0, n_iter_no_change=10 ** 6, backward=backward, plr=plr)
    data = TrainingData(X=torch.as_tensor(X), y=torch.as_tensor(y))
    work = step_work(config.layer_sizes, setting["batch"], C)
    t0 = time.perf_counter()
    with training_threads("cpu", work):
        Trainer(config).train(data)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    env = environment()
    print_header(env, "hand-written backward pass vs autograd, same engine")
    epochs = 1 if args.quick else args.epochs
    results = []
    for name, setting in SETTINGS.items():
        n = 2000 if args.quick else setting["n"]
        X, y = make_classification(n, setting["d"], n_informative=min(20, setting["d"] - 2),
                                   n_classes=3, random_state=0)
        X = X.astype(np.float32)
        for members in (1, 12):
            for regularized in (False, True):
                times = {"manual": [], "autograd": []}
                for _ in range(1 if args.quick else args.repeats):
                    for backward in times:
                        times[backward].append(fit_time(X, y, setting, members, backward,
                                                        epochs, regularized))
                best = {k: min(v) for k, v in times.items()}
                row = dict(setting=name, members=members, regularized=regularized,
                           manual_s=best["manual"], autograd_s=best["autograd"],
                           ratio=best["autograd"] / best["manual"])
                results.append(row)
                print(f"{name} members={members:2d} {'regularized' if regularized else 'plain':11s}"
                      f"  manual {best['manual']:7.3f} s  autograd {best['autograd']:7.3f} s"
                      f"  autograd / manual {row['ratio']:.2f}x", flush=True)
    if args.json:
        save_json(args.json, {"environment": env, "epochs": epochs,
                              "results": results})


if __name__ == "__main__":
    main()
