"""Prediction latency of skreg vs scikit-learn's MLPClassifier.

Both classifiers (hidden_layer_sizes=(100,), 3 classes) are fitted for a few
epochs on the same 4000 x 50 float32 data set, then timed in this process on

* one row: the median of ``--calls`` single-row ``predict`` calls (after
  ``--warmup`` untimed calls; skreg and sklearn calls alternate), the
  latency that matters when serving one request at a time;
* 100,000 rows: the best of ``--repeats`` calls on one float32 array.

``predict_proba`` is timed the same way for information (no target).

Usage
  python benchmarks/bench_predict.py             # full run (~30 s)
  python benchmarks/bench_predict.py --quick     # smoke test
  python benchmarks/bench_predict.py --json out.json
"""

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skreg import RegularizedMLPClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import environment, print_header, save_json, timed, verdict  # noqa: E402

TARGETS = {"1 row": 2.0, "100k rows": 1.0}   # skreg / sklearn


def fit_models(n_train, n_features, epochs, seed):
    X, y = make_classification(n_samples=n_train, n_features=n_features,
                               n_informative=20, n_classes=3, random_state=seed)
    X = X.astype(np.float32)
    common = dict(hidden_layer_sizes=(100,), max_iter=epochs, batch_size=200,
                  learning_rate_init=1e-3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models = {
            # input_scaling=None: the same network on the same inputs (the
            # robust scaling of skreg's default is timed separately below)
            "skreg": RegularizedMLPClassifier(penalty=None, input_scaling=None,
                                              numeric_embedding=None, **common).fit(X, y),
            "sklearn": MLPClassifier(alpha=0.0, **common).fit(X, y),
        }
    return X, y, models


def latency_one_row(methods, row, calls, warmup):
    """Single-row latency of each of ``methods`` (name -> callable).

    The calls alternate between the methods, so that load from other
    processes hits each of them alike.
    """
    for _ in range(warmup):
        for method in methods.values():
            method(row)
    times = {name: [] for name in methods}
    pc = time.perf_counter
    for _ in range(calls):
        for name, method in methods.items():
            t0 = pc()
            method(row)
            times[name].append(pc() - t0)
    return {name: {"median": statistics.median(t), "min": min(t),
                   "p10": float(np.percentile(t, 10)),
                   "p90": float(np.percentile(t, 90)), "calls": calls}
            for name, t in times.items()}


def throughput(method, X, repeats):
    method(X)  # warm-up (first large allocation)
    times = [timed(lambda: method(X))[0] for _ in range(repeats)]
    return {"best": min(times), "median": statistics.median(times),
            "all": times, "rows": X.shape[0]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke mode: 200 single-row calls, 20,000 rows")
    p.add_argument("--calls", type=int, default=None,
                   help="timed single-row calls (default 2000, 200 with --quick)")
    p.add_argument("--warmup", type=int, default=200, help="untimed single-row calls")
    p.add_argument("--rows", type=int, default=None,
                   help="rows of the large batch (default 100000, 20000 with --quick)")
    p.add_argument("--repeats", type=int, default=3, help="large-batch calls, best counts")
    p.add_argument("--epochs", type=int, default=5, help="training epochs of the models")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    args = p.parse_args(argv)
    calls = args.calls or (200 if args.quick else 2000)
    rows = args.rows or (20000 if args.quick else 100000)
    warmup = min(args.warmup, calls)

    env = environment()
    print_header(env, "skreg predict benchmark" + ("  [--quick]" if args.quick else ""))
    X, y, models = fit_models(4000, 50, args.epochs, args.seed)
    rng = np.random.default_rng(args.seed)
    X_big = rng.standard_normal((rows, X.shape[1]), dtype=np.float32)
    row = X[:1].copy()
    agree = float(np.mean(models["skreg"].predict(X) == models["sklearn"].predict(X)))
    acc = {k: float(m.score(X, y)) for k, m in models.items()}
    print(f"classifiers: hidden_layer_sizes=(100,), 3 classes, fitted {args.epochs} "
          f"epochs on 4000 x 50 float32; train accuracy "
          f"skreg {acc['skreg']:.3f} / sklearn {acc['sklearn']:.3f} "
          f"(labels agree on {100 * agree:.1f}% of rows)\n")

    results = {}
    for method_name in ("predict", "predict_proba"):
        methods = {name: getattr(model, method_name) for name, model in models.items()}
        one = latency_one_row(methods, row, calls, warmup)
        results[method_name] = {
            name: {"1 row": one[name],
                   "100k rows": throughput(method, X_big, args.repeats)}
            for name, method in methods.items()}

    print(f"{'':<34}{'skreg':>12}{'sklearn':>12}{'ratio':>9}   target")
    ratios = {}
    for method_name, res in results.items():
        one = (res["skreg"]["1 row"]["median"], res["sklearn"]["1 row"]["median"])
        big = (res["skreg"]["100k rows"]["best"], res["sklearn"]["100k rows"]["best"])
        for label, (a, b), unit, scale in (
                ("1 row, median", one, "us", 1e6),
                (f"{rows:,} rows, best", big, "ms", 1e3)):
            ratio = a / b
            key = f"{method_name} {label}"
            ratios[key] = ratio
            target = TARGETS["1 row" if label.startswith("1 row") else "100k rows"]
            tgt = (f"<= {target:.1f}x {verdict(ratio, target)}"
                   if method_name == "predict" else "(info)")
            print(f"{method_name + ' ' + label:<34}{a * scale:>9.1f} {unit}"
                  f"{b * scale:>9.1f} {unit}{ratio:>8.2f}x  {tgt}")
    print("\n1-row spread (min / p10 / p90, us): " + "; ".join(
        f"{m} {name} {r['1 row']['min'] * 1e6:.0f}/{r['1 row']['p10'] * 1e6:.0f}/"
        f"{r['1 row']['p90'] * 1e6:.0f}"
        for m, res in results.items() for name, r in res.items()))
    save_json(args.json, {"benchmark": "predict", "quick": args.quick,
                          "targets": TARGETS, "environment": env, "rows": rows,
                          "calls": calls, "results": results, "ratios": ratios})


if __name__ == "__main__":
    main()
