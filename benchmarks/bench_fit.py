"""Fit time of skreg vs scikit-learn, plain skorch and a lean torch loop.

Every implementation trains the same network (same hidden layers, ReLU,
softmax / identity output) with Adam, learning rate 1e-3, the same batch
size and exactly the same number of epochs (no penalty, no early stopping,
stopping rule disabled with ``tol=0`` and ``n_iter_no_change > max_iter``),
on float32 data, in this one process. Each implementation is warmed up with a
tiny fit first (lazy imports, first-call allocations, thread pools), then
timed ``--repeats`` times, round-robin so that load from other processes
hits all of them alike; the best time counts. Repeat ``r`` seeds every
implementation (initialisation, shuffling, dropout) with ``--seed + r`` on
the same data, and the test score reported is the mean over the repeats, so
that the accuracy comparison is not one seed's luck.

Implementations
  skreg          RegularizedMLPClassifier / RegularizedMLPRegressor, penalty=None
  sklearn        MLPClassifier / MLPRegressor, alpha=0.0
  skorch         NeuralNetClassifier / NeuralNetRegressor around an
                 nn.Sequential, torch.optim.Adam, train_split=None, verbose=0,
                 iterator_train__shuffle=True
  lean torch     hand-written loop: nn.Sequential + torch.optim.Adam +
                 CrossEntropyLoss / MSELoss, tensors made once per fit,
                 batches by randperm slicing, zero_grad(set_to_none=True),
                 no .item() per batch (--lean-fused: Adam(fused=True))
  skreg regul.   skreg with penalty='elasticnet' (alpha=1e-3, l1_ratio=0.5),
                 dropout=0.1, label_smoothing=0.1 (classifier) and
                 early_stopping=True, validation_fraction=0.1 (still running
                 every epoch); compared with the plain skreg fit

Usage
  python benchmarks/bench_fit.py                 # full run (~3 min on 2 idle CPUs)
  python benchmarks/bench_fit.py --quick         # smoke test (seconds)
  python benchmarks/bench_fit.py --json out.json --repeats 5 --settings S1
"""

import argparse
import os
import sys
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from skorch import NeuralNetClassifier, NeuralNetRegressor
from torch import nn

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (environment, print_header, save_json, summarize,  # noqa: E402
                     timed, verdict)

LR = 1e-3
# skreg's input and target scaling (None: off, as the other implementations);
# --with-scaling turns on skreg's defaults
SCALING = {"input_scaling": None, "target_scaling": None}
N_CLASSES = 3
SETTINGS = {
    # n_train rows for training; a further 25% (20% of the total) for testing
    "S1": dict(n_train=16000, n_features=50, hidden=(256, 256), batch_size=256,
               epochs=20),
    "S2": dict(n_train=4000, n_features=50, hidden=(64, 64), batch_size=32,
               epochs=20),
}
QUICK = dict(n_train=2000, epochs=2)
TARGETS = {
    "sklearn": 0.8,
    "skorch": 0.5,
    "lean torch": 1.15,
    "skreg regularized": 1.3,   # regularized skreg / plain skreg
}
# extra keyword arguments of the lean loop's Adam ({"fused": True} with --lean-fused)
LEAN_ADAM_KWARGS = {}
IMPLS = ("skreg", "sklearn", "skorch", "lean torch", "skreg regularized")


# ---------------------------------------------------------------- data
def make_data(task, n_train, n_features, seed):
    n_total = int(round(n_train / 0.8))
    if task == "clf":
        X, y = make_classification(
            n_samples=n_total, n_features=n_features, n_informative=20,
            n_classes=N_CLASSES, random_state=seed)
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, train_size=n_train, stratify=y, random_state=seed)
        y_tr, y_te = y_tr.astype(np.int64), y_te.astype(np.int64)
    else:
        X, y = make_regression(
            n_samples=n_total, n_features=n_features, n_informative=20,
            noise=10.0, random_state=seed)
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, train_size=n_train, random_state=seed)
        mu, sd = y_tr.mean(), y_tr.std()
        y_tr = ((y_tr - mu) / sd).astype(np.float32)
        y_te = ((y_te - mu) / sd).astype(np.float32)
    X_tr = np.ascontiguousarray(X_tr, dtype=np.float32)
    X_te = np.ascontiguousarray(X_te, dtype=np.float32)
    return X_tr, X_te, y_tr, y_te


def sequential(n_in, hidden, n_out):
    layers, prev = [], n_in
    for h in hidden:
        layers += [nn.Linear(prev, h), nn.ReLU()]
        prev = h
    layers.append(nn.Linear(prev, n_out))
    return nn.Sequential(*layers)


# ------------------------------------------------------- implementations
# each ``fit_*`` returns (model, epochs actually run); ``score_*`` returns
# test accuracy (classification) or R^2 (regression)

def fit_skreg(task, X, y, hidden, batch_size, epochs, seed, regularized=False):
    # the same network on the same inputs as the other implementations: the
    # input and target scaling of skreg's defaults are off (their accuracy is
    # measured by bench_defaults.py; their cost by --with-scaling)
    common = dict(hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=epochs,
                  learning_rate_init=LR, solver="adam", tol=0.0,
                  n_iter_no_change=epochs + 1, shuffle=True, random_state=seed,
                  input_scaling=SCALING["input_scaling"])
    if regularized:
        common.update(penalty="elasticnet", alpha=1e-3, l1_ratio=0.5, dropout=0.1,
                      early_stopping=True, validation_fraction=0.1)
    else:
        common.update(penalty=None)
    if task == "clf":
        if regularized:
            common["label_smoothing"] = 0.1
        est = RegularizedMLPClassifier(**common)
    else:
        est = RegularizedMLPRegressor(target_scaling=SCALING["target_scaling"], **common)
    est.fit(X, y)
    return est, est.n_iter_


def fit_sklearn(task, X, y, hidden, batch_size, epochs, seed):
    cls = MLPClassifier if task == "clf" else MLPRegressor
    est = cls(hidden_layer_sizes=hidden, solver="adam", alpha=0.0,
              batch_size=batch_size, learning_rate_init=LR, max_iter=epochs,
              tol=0.0, n_iter_no_change=epochs + 1, shuffle=True,
              early_stopping=False, random_state=seed)
    est.fit(X, y)
    return est, est.n_iter_


def fit_skorch(task, X, y, hidden, batch_size, epochs, seed):
    torch.manual_seed(seed)
    if task == "clf":
        net = NeuralNetClassifier(
            sequential(X.shape[1], hidden, N_CLASSES),
            criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=LR,
            max_epochs=epochs, batch_size=batch_size, train_split=None, verbose=0,
            iterator_train__shuffle=True, device="cpu")
        net.fit(X, y)
    else:
        net = NeuralNetRegressor(
            sequential(X.shape[1], hidden, 1),
            criterion=nn.MSELoss, optimizer=torch.optim.Adam, lr=LR,
            max_epochs=epochs, batch_size=batch_size, train_split=None, verbose=0,
            iterator_train__shuffle=True, device="cpu")
        net.fit(X, y.reshape(-1, 1))   # skorch wants float32 (n, 1) targets
    return net, len(net.history)


class LeanTorch:
    """Fitted result of :func:`fit_lean_torch`."""

    def __init__(self, model, task):
        self.model, self.task = model, task

    @torch.no_grad()
    def predict(self, X):
        self.model.eval()
        out = self.model(torch.from_numpy(X))
        return out.argmax(1).numpy() if self.task == "clf" else out[:, 0].numpy()


def fit_lean_torch(task, X, y, hidden, batch_size, epochs, seed):
    torch.manual_seed(seed)
    Xt = torch.from_numpy(X)                       # float32, no copy
    if task == "clf":
        yt = torch.from_numpy(y)                   # int64 class indices
        model = sequential(X.shape[1], hidden, N_CLASSES)
        loss_fn = nn.CrossEntropyLoss()
    else:
        yt = torch.from_numpy(y).reshape(-1, 1)
        model = sequential(X.shape[1], hidden, 1)
        loss_fn = nn.MSELoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR, **LEAN_ADAM_KWARGS)
    n = Xt.shape[0]
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    return LeanTorch(model, task), epochs


FITTERS = {
    "skreg": fit_skreg,
    "sklearn": fit_sklearn,
    "skorch": fit_skorch,
    "lean torch": fit_lean_torch,
    "skreg regularized": lambda *a: fit_skreg(*a, regularized=True),
}


def test_score(task, model, X_te, y_te):
    pred = np.asarray(model.predict(X_te)).reshape(-1)
    if task == "clf":
        return accuracy_score(y_te, pred)
    return r2_score(y_te, pred)


# ------------------------------------------------------------- driver
def warm_up(task, n_features, hidden, seed):
    """One tiny fit per implementation, untimed."""
    X, _, y, _ = make_data(task, 160, n_features, seed + 1)
    for name in IMPLS:
        model, _ = FITTERS[name](task, X, y, hidden, 32, 2, seed)
        model.predict(X[:8])


def run_setting(task, key, cfg, repeats, seed):
    X_tr, X_te, y_tr, y_te = make_data(task, cfg["n_train"], cfg["n_features"], seed)
    warm_up(task, cfg["n_features"], cfg["hidden"], seed)
    times = {name: [] for name in IMPLS}
    scores = {name: [] for name in IMPLS}
    epochs_run = {}
    for r in range(repeats):
        args = (task, X_tr, y_tr, cfg["hidden"], cfg["batch_size"], cfg["epochs"],
                seed + r)
        for name in IMPLS:          # round-robin: background load hits all alike
            t, (model, n_ep) = timed(lambda: FITTERS[name](*args))
            times[name].append(t)
            epochs_run[name] = int(n_ep)
            scores[name].append(float(test_score(task, model, X_te, y_te)))
            del model
    impls = {name: {**summarize(times[name]), "epochs": epochs_run[name],
                    "score": float(np.mean(scores[name])),
                    "scores": scores[name]} for name in IMPLS}
    best = {name: impls[name]["best"] for name in IMPLS}
    ratios = {
        "skreg/sklearn": best["skreg"] / best["sklearn"],
        "skreg/skorch": best["skreg"] / best["skorch"],
        "skreg/lean torch": best["skreg"] / best["lean torch"],
        "regularized/skreg": best["skreg regularized"] / best["skreg"],
    }
    return {
        "setting": key, "task": task, "n_train": cfg["n_train"],
        "n_test": X_te.shape[0], "n_features": cfg["n_features"],
        "hidden": list(cfg["hidden"]), "batch_size": cfg["batch_size"],
        "epochs": cfg["epochs"], "repeats": repeats, "seed": seed, "impls": impls,
        "ratios": ratios,
    }


RATIO_TARGETS = {
    "skreg/sklearn": TARGETS["sklearn"],
    "skreg/skorch": TARGETS["skorch"],
    "skreg/lean torch": TARGETS["lean torch"],
    "regularized/skreg": TARGETS["skreg regularized"],
}


def print_setting(res):
    metric = "mean acc" if res["task"] == "clf" else "mean R^2"
    kind = "classification (3 classes)" if res["task"] == "clf" else "regression"
    print(f"--- {res['setting']} {kind}: {res['n_train']} x {res['n_features']} "
          f"(+{res['n_test']} test rows), hidden={tuple(res['hidden'])}, "
          f"batch={res['batch_size']}, epochs={res['epochs']}, "
          f"best of {res['repeats']} (seeds {res['seed']}..{res['seed'] + res['repeats'] - 1})")
    print(f"  {'implementation':<19}{'best [s]':>10}{'median [s]':>12}"
          f"{'epochs':>8}{metric:>10}   skreg - this")
    sk = res["impls"]["skreg"]["score"]
    for name, r in res["impls"].items():
        flag = "" if r["epochs"] == res["epochs"] else "  (!) epoch count differs"
        diff = "" if name == "skreg" else f"{100 * (sk - r['score']):+.2f} pts"
        print(f"  {name:<19}{r['best']:>10.3f}{r['median']:>12.3f}{r['epochs']:>8d}"
              f"{r['score']:>10.4f}   {diff:<10}{flag}")
    for name, ratio in res["ratios"].items():
        target = RATIO_TARGETS[name]
        print(f"  {name:<19}{ratio:>7.2f}x   target <= {target:.2f}x  "
              f"{verdict(ratio, target)}")
    print()


def print_summary(results):
    print("=" * 78)
    print("Summary (time ratios use best-of-repeats; accuracy / R^2 differences in "
          "points, skreg minus other)")
    head = (f"{'setting':<8}{'skreg s':>9}{'/sklearn':>10}{'/skorch':>9}{'/lean':>8}"
            f"{'regul/':>8}{'d sklearn':>11}{'d skorch':>10}{'d lean':>9}")
    print(head)
    print(f"{'target':<8}{'':>9}{'<=0.80':>10}{'<=0.50':>9}{'<=1.15':>8}{'<=1.30':>8}"
          f"{'|d|<=1':>11}{'|d|<=1':>10}{'|d|<=1':>9}")
    for res in results:
        r, im = res["ratios"], res["impls"]
        sk = im["skreg"]["score"]

        def mark(v, t):
            return f"{v:.2f}" + ("" if v <= t else "*")

        def dpt(name):
            d = 100 * (sk - im[name]["score"])
            return f"{d:+.2f}" + ("" if abs(d) <= 1 else "*")

        print(f"{res['setting'] + '-' + res['task']:<8}{im['skreg']['best']:>9.3f}"
              f"{mark(r['skreg/sklearn'], 0.8):>10}{mark(r['skreg/skorch'], 0.5):>9}"
              f"{mark(r['skreg/lean torch'], 1.15):>8}"
              f"{mark(r['regularized/skreg'], 1.3):>8}"
              f"{dpt('sklearn'):>11}{dpt('skorch'):>10}{dpt('lean torch'):>9}")
    print("(* = target missed; accuracy (R^2) differences compare means over the "
          "repeats' seeds and are flagged beyond 1 point either way)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help=f"smoke mode: {QUICK['n_train']} training rows, "
                        f"{QUICK['epochs']} epochs, 1 repeat")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed fits per implementation, best counts (default 2, "
                        "1 with --quick; a full run with 2 takes ~3 min on 2 idle "
                        "CPUs)")
    p.add_argument("--settings", nargs="+", choices=sorted(SETTINGS),
                   default=sorted(SETTINGS))
    p.add_argument("--tasks", nargs="+", choices=["clf", "reg"], default=["clf", "reg"])
    p.add_argument("--lean-fused", action="store_true",
                   help="give the lean torch loop torch.optim.Adam(fused=True) "
                        "(default: plain torch.optim.Adam, as skorch uses it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--with-scaling", action="store_true",
                   help="skreg with its default input_scaling='robust' and "
                        "target_scaling='standard' (off by default: the same inputs "
                        "as the other implementations)")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    args = p.parse_args(argv)
    if args.with_scaling:
        SCALING.update(input_scaling="robust", target_scaling="standard")
    repeats = args.repeats or (1 if args.quick else 2)
    if args.lean_fused:
        LEAN_ADAM_KWARGS["fused"] = True

    warnings.simplefilter("ignore", ConvergenceWarning)
    env = environment()
    print_header(env, "skreg fit benchmark" + ("  [--quick]" if args.quick else ""))
    print(f"timing: one untimed warm-up fit per implementation, then {repeats} timed "
          "fit(s) each, round-robin, repeat r seeded with --seed + r; the best time "
          "counts, test scores are averaged over the repeats")
    print("all: Adam, lr=1e-3, no penalty, no early stopping, every epoch run, float32 X")
    print("lean torch: torch.optim.Adam(model.parameters(), lr=1e-3"
          + (", fused=True)" if args.lean_fused else ")"))
    print("skreg regularized: penalty='elasticnet' (alpha=1e-3, l1_ratio=0.5), "
          "dropout=0.1, label_smoothing=0.1 (clf), early_stopping=True "
          "(validation_fraction=0.1, trains on 90% of the rows)\n")
    results = []
    for task in args.tasks:
        for key in args.settings:
            cfg = dict(SETTINGS[key])
            if args.quick:
                cfg.update(QUICK)
            res = run_setting(task, key, cfg, repeats, args.seed)
            print_setting(res)
            results.append(res)
    print_summary(results)
    save_json(args.json, {"benchmark": "fit", "quick": args.quick, "targets": TARGETS,
                          "lean_adam_kwargs": LEAN_ADAM_KWARGS,
                          "environment": env, "results": results})


if __name__ == "__main__":
    main()
