"""Fit time of skreg vs scikit-learn, plain skorch and a lean torch loop.

Every implementation trains the same network (same hidden layers, ReLU,
softmax / identity output) with Adam, learning rate 1e-3, the same batch
size and exactly the same number of epochs (no penalty, no early stopping,
stopping rule disabled with ``tol=0`` and ``n_iter_no_change > max_iter``),
on float32 data (float64 in the pipeline rows), in this one process (the
first-fit table excepted). Each implementation is warmed up with a
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
  skreg float64 pipeline / sklearn float64 pipeline
                 make_pipeline(StandardScaler(), est) on float64 X (what
                 StandardScaler, ColumnTransformer and imbalanced-learn's
                 samplers return), skreg and sklearn as above; timed in the
                 same round-robin

Two further tables compare skreg with sklearn (targets in TARGETS):
  first fit      the float64 pipelines, each fitted once in a fresh Python
                 process per implementation and setting (imports and data
                 made first, then the process's first fit timed: lazy
                 imports, first allocations and thread-pool start-up count)
  contention     the float32 fits again while two busy-loop processes keep
                 the CPUs busy (each bounded in time and terminated when the
                 table is done); best of the repeats, round-robin

Usage
  python benchmarks/bench_fit.py                 # full run (~5 min on 2 idle CPUs)
  python benchmarks/bench_fit.py --quick         # smoke test (seconds)
  python benchmarks/bench_fit.py --json out.json --repeats 5 --settings S1
  python benchmarks/bench_fit.py --threads 1     # every implementation on one thread
                                                 # (a machine other processes share)
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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
# --threads: the intra-op threads of every implementation (torch's, BLAS's, OpenMP's);
# None keeps each library's own (the machine's CPUs)
THREADS = {"n": None, "limiter": None}
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
    "sklearn": 0.5,
    "skorch": 0.5,
    "lean torch": 1.15,
    "skreg regularized": 1.3,   # regularized skreg / plain skreg
    "float64 pipeline": 0.6,    # skreg / sklearn, both in make_pipeline(StandardScaler(), .)
    "first fit": 0.6,           # skreg / sklearn, first fit of a fresh process
    "contention": 0.8,          # skreg / sklearn, two busy processes running
}
# busy-loop processes of the contention table, and the most seconds each may run
BUSY_PROCESSES, BUSY_MAX_S = 2, 900
# extra keyword arguments of the lean loop's Adam ({"fused": True} with --lean-fused)
LEAN_ADAM_KWARGS = {}
IMPLS = ("skreg", "sklearn", "skorch", "lean torch", "skreg regularized",
         "skreg float64 pipeline", "sklearn float64 pipeline")
# the implementations of the first-fit and contention tables
PAIR = ("skreg", "sklearn")


# ---------------------------------------------------------------- data
def make_data(task, n_train, n_features, seed, dtype=np.float32):
    """Training and test data; X (and a regression's y) in ``dtype``."""
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
        y_tr = ((y_tr - mu) / sd).astype(dtype)
        y_te = ((y_te - mu) / sd).astype(dtype)
    X_tr = np.ascontiguousarray(X_tr, dtype=dtype)
    X_te = np.ascontiguousarray(X_te, dtype=dtype)
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

def _fitted(est, X, y, pipeline):
    """``est`` fitted on (X, y), alone or after a StandardScaler in a pipeline."""
    model = make_pipeline(StandardScaler(), est) if pipeline else est
    model.fit(X, y)
    return model


def fit_skreg(task, X, y, hidden, batch_size, epochs, seed, regularized=False,
              pipeline=False):
    # the same network on the same inputs as the other implementations: the
    # input and target scaling and the numeric embedding of skreg's defaults
    # are off (their accuracy is measured by bench_defaults.py; the scalings'
    # cost by --with-scaling)
    common = dict(hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=epochs,
                  numeric_embedding=None,
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
    return _fitted(est, X, y, pipeline), est.n_iter_


def fit_sklearn(task, X, y, hidden, batch_size, epochs, seed, pipeline=False):
    cls = MLPClassifier if task == "clf" else MLPRegressor
    est = cls(hidden_layer_sizes=hidden, solver="adam", alpha=0.0,
              batch_size=batch_size, learning_rate_init=LR, max_iter=epochs,
              tol=0.0, n_iter_no_change=epochs + 1, shuffle=True,
              early_stopping=False, random_state=seed)
    return _fitted(est, X, y, pipeline), est.n_iter_


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
    "skreg float64 pipeline": lambda *a: fit_skreg(*a, pipeline=True),
    "sklearn float64 pipeline": lambda *a: fit_sklearn(*a, pipeline=True),
}
FLOAT64 = ("skreg float64 pipeline", "sklearn float64 pipeline")


def test_score(task, model, X_te, y_te):
    pred = np.asarray(model.predict(X_te)).reshape(-1)
    if task == "clf":
        return accuracy_score(y_te, pred)
    return r2_score(y_te, pred)


# ------------------------------------------------------------- driver
def warm_up(task, n_features, hidden, seed):
    """One tiny fit per implementation, untimed."""
    data = {dt: make_data(task, 160, n_features, seed + 1, dt)
            for dt in (np.float32, np.float64)}
    for name in IMPLS:
        X, _, y, _ = data[np.float64 if name in FLOAT64 else np.float32]
        model, _ = FITTERS[name](task, X, y, hidden, 32, 2, seed)
        model.predict(X[:8])


def run_setting(task, key, cfg, repeats, seed):
    data = {dt: make_data(task, cfg["n_train"], cfg["n_features"], seed, dt)
            for dt in (np.float32, np.float64)}
    warm_up(task, cfg["n_features"], cfg["hidden"], seed)
    times = {name: [] for name in IMPLS}
    scores = {name: [] for name in IMPLS}
    epochs_run = {}
    for r in range(repeats):
        for name in IMPLS:          # round-robin: background load hits all alike
            X_tr, X_te, y_tr, y_te = data[np.float64 if name in FLOAT64 else np.float32]
            args = (task, X_tr, y_tr, cfg["hidden"], cfg["batch_size"], cfg["epochs"],
                    seed + r)
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
        "float64 pipeline": best["skreg float64 pipeline"] / best["sklearn float64 pipeline"],
    }
    return {
        "setting": key, "task": task, "n_train": cfg["n_train"],
        "n_test": data[np.float32][1].shape[0], "n_features": cfg["n_features"],
        "hidden": list(cfg["hidden"]), "batch_size": cfg["batch_size"],
        "epochs": cfg["epochs"], "repeats": repeats, "seed": seed, "impls": impls,
        "ratios": ratios,
    }


RATIO_TARGETS = {
    "skreg/sklearn": TARGETS["sklearn"],
    "skreg/skorch": TARGETS["skorch"],
    "skreg/lean torch": TARGETS["lean torch"],
    "regularized/skreg": TARGETS["skreg regularized"],
    "float64 pipeline": TARGETS["float64 pipeline"],
}


def print_setting(res):
    metric = "mean acc" if res["task"] == "clf" else "mean R^2"
    kind = "classification (3 classes)" if res["task"] == "clf" else "regression"
    print(f"--- {res['setting']} {kind}: {res['n_train']} x {res['n_features']} "
          f"(+{res['n_test']} test rows), hidden={tuple(res['hidden'])}, "
          f"batch={res['batch_size']}, epochs={res['epochs']}, "
          f"best of {res['repeats']} (seeds {res['seed']}..{res['seed'] + res['repeats'] - 1})")
    print(f"  {'implementation':<25}{'best [s]':>10}{'median [s]':>12}"
          f"{'epochs':>8}{metric:>10}   skreg - this")
    sk = res["impls"]["skreg"]["score"]
    for name, r in res["impls"].items():
        if name == "skreg float64 pipeline":
            print(f"  float64 X, make_pipeline(StandardScaler(), .); {metric} of the pipeline:")
            sk = r["score"]   # compared with sklearn's pipeline
        flag = "" if r["epochs"] == res["epochs"] else "  (!) epoch count differs"
        diff = ("" if name in ("skreg", "skreg float64 pipeline")
                else f"{100 * (sk - r['score']):+.2f} pts")
        print(f"  {name:<25}{r['best']:>10.3f}{r['median']:>12.3f}{r['epochs']:>8d}"
              f"{r['score']:>10.4f}   {diff:<10}{flag}")
    for name, ratio in res["ratios"].items():
        target = RATIO_TARGETS[name]
        print(f"  {name:<25}{ratio:>7.2f}x   target <= {target:.2f}x  "
              f"{verdict(ratio, target)}")
    print()


# ------------------------------------------- first fit of a fresh process
def limit_threads(n):
    """Every implementation of this process on ``n`` threads (torch, BLAS, OpenMP)."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(n)
    THREADS.update(n=n, limiter=threadpool_limits(limits=n))


def first_fit_child(task, key, impl, quick, seed):
    """In a fresh process: the first fit of ``impl``'s float64 pipeline, as JSON."""
    cfg = dict(SETTINGS[key], **(QUICK if quick else {}))
    X, _, y, _ = make_data(task, cfg["n_train"], cfg["n_features"], seed, np.float64)
    t, (model, n_ep) = timed(lambda: FITTERS[impl + " float64 pipeline"](
        task, X, y, cfg["hidden"], cfg["batch_size"], cfg["epochs"], seed))
    threads = getattr(model[-1], "n_threads_", None)
    print(json.dumps({"seconds": t, "epochs": int(n_ep), "n_threads": threads}))


def run_first_fits(task, key, quick, seed):
    """Seconds of the first fit of a fresh process, per implementation of PAIR."""
    out = {}
    for impl in PAIR:
        cmd = [sys.executable, "-W", "ignore", os.path.abspath(__file__), "--first-fit-child",
               task, key, impl, "--seed", str(seed)] + (["--quick"] if quick else [])
        if SCALING["input_scaling"] is not None:
            cmd.append("--with-scaling")
        if THREADS["n"] is not None:
            cmd += ["--threads", str(THREADS["n"])]
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[impl] = json.loads(proc.stdout.strip().splitlines()[-1])
        out[impl]["process_seconds"] = time.perf_counter() - started
    return {"setting": key, "task": task, "impls": out,
            "ratio": out["skreg"]["seconds"] / out["sklearn"]["seconds"]}


# ------------------------------------------------------------ contention
_BUSY_LOOP = ("import sys, time\n"
              "end = time.monotonic() + float(sys.argv[1])\n"
              "while time.monotonic() < end:\n"
              "    pass\n")


class BusyProcesses:
    """Context in which ``n`` processes each keep one CPU busy.

    Each process stops by itself after ``max_seconds``, and all are
    terminated (killed if need be) when the context exits.
    """

    def __init__(self, n=BUSY_PROCESSES, max_seconds=BUSY_MAX_S):
        self.n, self.max_seconds, self.procs = n, max_seconds, []

    def __enter__(self):
        for _ in range(self.n):
            self.procs.append(subprocess.Popen(
                [sys.executable, "-c", _BUSY_LOOP, str(self.max_seconds)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        time.sleep(0.2)   # let them start spinning
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


def run_contended(task, key, cfg, repeats, seed):
    """skreg and sklearn timed round-robin while other processes are busy."""
    X_tr, _, y_tr, _ = make_data(task, cfg["n_train"], cfg["n_features"], seed)
    times = {name: [] for name in PAIR}
    threads = None
    for r in range(repeats):
        args = (task, X_tr, y_tr, cfg["hidden"], cfg["batch_size"], cfg["epochs"], seed + r)
        for name in PAIR:
            t, (model, _) = timed(lambda: FITTERS[name](*args))
            times[name].append(t)
            threads = getattr(model, "n_threads_", threads)
    impls = {name: summarize(times[name]) for name in PAIR}
    return {"setting": key, "task": task, "impls": impls, "skreg_n_threads": threads,
            "ratio": impls["skreg"]["best"] / impls["sklearn"]["best"]}


def print_pair_table(title, rows, target, fmt_row):
    print("=" * 78)
    print(title)
    print(f"{'setting':<10}{'skreg [s]':>11}{'sklearn [s]':>13}{'skreg/sklearn':>15}"
          f"{'target':>9}  {'':<7}{'notes'}")
    for row in rows:
        sk, sl, note = fmt_row(row)
        print(f"{row['setting'] + '-' + row['task']:<10}{sk:>11.3f}{sl:>13.3f}"
              f"{row['ratio']:>14.2f}x{'<=' + format(target, '.2f'):>9}  "
              f"{verdict(row['ratio'], target):<7}{note}")
    print()


def print_summary(results):
    print("=" * 78)
    print("Summary (time ratios use best-of-repeats; accuracy / R^2 differences in "
          "points, skreg minus other)")
    head = (f"{'setting':<8}{'skreg s':>9}{'/sklearn':>10}{'/skorch':>9}{'/lean':>8}"
            f"{'regul/':>8}{'f64 pipe':>10}{'d sklearn':>11}{'d skorch':>10}{'d lean':>9}")
    print(head)
    t = {name: f"<={target:.2f}" for name, target in RATIO_TARGETS.items()}
    print(f"{'target':<8}{'':>9}{t['skreg/sklearn']:>10}{t['skreg/skorch']:>9}"
          f"{t['skreg/lean torch']:>8}{t['regularized/skreg']:>8}"
          f"{t['float64 pipeline']:>10}{'|d|<=1':>11}{'|d|<=1':>10}{'|d|<=1':>9}")
    for res in results:
        r, im = res["ratios"], res["impls"]
        sk = im["skreg"]["score"]

        def mark(name):
            return f"{r[name]:.2f}" + ("" if r[name] <= RATIO_TARGETS[name] else "*")

        def dpt(name):
            d = 100 * (sk - im[name]["score"])
            return f"{d:+.2f}" + ("" if abs(d) <= 1 else "*")

        print(f"{res['setting'] + '-' + res['task']:<8}{im['skreg']['best']:>9.3f}"
              f"{mark('skreg/sklearn'):>10}{mark('skreg/skorch'):>9}"
              f"{mark('skreg/lean torch'):>8}{mark('regularized/skreg'):>8}"
              f"{mark('float64 pipeline'):>10}"
              f"{dpt('sklearn'):>11}{dpt('skorch'):>10}{dpt('lean torch'):>9}")
    print("(* = target missed; f64 pipe = skreg / sklearn, both as "
          "make_pipeline(StandardScaler(), .) on float64 X; accuracy (R^2) differences "
          "compare means over the repeats' seeds and are flagged beyond 1 point either way)")


def _parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help=f"smoke mode: {QUICK['n_train']} training rows, "
                        f"{QUICK['epochs']} epochs, 1 repeat")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed fits per implementation, best counts (default 2, "
                        "1 with --quick; a full run with 2 takes ~5 min on 2 idle "
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
    p.add_argument("--no-first-fit", action="store_true",
                   help="skip the first-fit table (a fresh process per fit)")
    p.add_argument("--no-contention", action="store_true",
                   help="skip the table of fits next to busy processes")
    p.add_argument("--threads", type=int, default=None,
                   help="run every implementation on this many threads (default: each "
                        "library's own; 1 compares like with like on a machine other "
                        "processes keep busy)")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    p.add_argument("--first-fit-child", nargs=3, metavar=("TASK", "SETTING", "IMPL"),
                   help=argparse.SUPPRESS)   # one first fit, in a process of its own
    return p


def _pair_tables(args, repeats):
    """The first-fit and contention tables (--quick: first task and setting only)."""
    pairs = [(task, key) for task in args.tasks for key in args.settings]
    pairs = pairs[:1] if args.quick else pairs
    first_fits, contended = [], []
    if not args.no_first_fit:
        for task, key in pairs:
            first_fits.append(run_first_fits(task, key, args.quick, args.seed))
        print_pair_table(
            "First fit of a fresh process: make_pipeline(StandardScaler(), est) on float64 "
            "X,\none process per implementation and setting, imports and data made before "
            "the timed fit", first_fits, TARGETS["first fit"],
            lambda r: (r["impls"]["skreg"]["seconds"], r["impls"]["sklearn"]["seconds"],
                       f"skreg n_threads_={r['impls']['skreg']['n_threads']}"))
    if not args.no_contention:
        with BusyProcesses():
            for task, key in pairs:
                cfg = dict(SETTINGS[key], **(QUICK if args.quick else {}))
                contended.append(run_contended(task, key, cfg, repeats, args.seed))
        print_pair_table(
            f"Under contention: {BUSY_PROCESSES} busy-loop processes running, float32 X "
            f"as in the first table,\nbest of {repeats}, round-robin", contended,
            TARGETS["contention"],
            lambda r: (r["impls"]["skreg"]["best"], r["impls"]["sklearn"]["best"],
                       f"skreg n_threads_={r['skreg_n_threads']}"))
    return first_fits, contended


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.with_scaling:
        SCALING.update(input_scaling="robust", target_scaling="standard")
    if args.threads is not None:
        limit_threads(args.threads)
    if args.first_fit_child:
        warnings.simplefilter("ignore", ConvergenceWarning)
        first_fit_child(*args.first_fit_child, args.quick, args.seed)
        return
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
    if args.threads is not None:
        print(f"threads: every implementation limited to {args.threads} (--threads)")
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
    print()
    first_fits, contended = _pair_tables(args, repeats)
    # the load average when the run ends, next to the environment's at its start
    # (other processes' load shows in the ratios)
    load_end = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    print(f"load average at the end: {load_end}")
    save_json(args.json, {"benchmark": "fit", "quick": args.quick, "targets": TARGETS,
                          "threads": args.threads,
                          "lean_adam_kwargs": LEAN_ADAM_KWARGS,
                          "environment": env, "loadavg_end": load_end, "results": results,
                          "first_fit": first_fits, "contention": contended,
                          "busy_processes": BUSY_PROCESSES})


if __name__ == "__main__":
    main()
