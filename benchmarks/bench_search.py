"""Cross-validated search: RegularizedMLP*CV (racing and exhaustive) against
GridSearchCV(n_jobs=2) and HalvingGridSearchCV(n_jobs=2).

Same data (10,000 x 50, float32), same grid of 12 configurations
(3 alphas x 2 l1_ratios x 2 dropouts), same 5 folds, same network, batch
size and number of epochs (the stopping rule is switched off, so every fold
model trains exactly ``--epochs`` epochs unless a race stops it), and every
search refits the best configuration on all the data. Measured in one run:

* ``racing``: the CV estimator with its default racing (successive halving
  inside the batched training, ``race_factor=3``, ``race_min_epochs='auto'``);
* ``racing_r2``: the same with ``race_min_epochs=2`` (first rung after two
  epochs instead of one: slower, less exposed to the first epoch's noise);
* ``exhaustive``: the CV estimator with ``racing=False`` (every fold model
  trains to the end);
* ``gridsearch``: ``GridSearchCV(RegularizedMLP..., n_jobs=2)``;
* ``halving``: ``HalvingGridSearchCV(..., n_jobs=2)``, ``factor=3``, its
  default resource (``n_samples``, ``min_resources='exhaust'``);
* ``halving_iter``: the same with ``resource='max_iter'``,
  ``max_resources=--epochs``.

Every search is warmed up first on a small subset (joblib's worker
processes started, one-time imports paid), so that the timed runs compare
steady-state work; with ``--repeats N`` the searches run N times each,
round-robin, and the best time of each is kept. Prints the wall times, the
ratios (target: racing <= 0.25x GridSearchCV's time) and the best mean CV
score of each (target: racing within 0.5 point of GridSearchCV's).

    python benchmarks/bench_search.py --json benchmarks/results/search.json
    python benchmarks/bench_search.py --epochs 5 --quick
"""

import argparse
import os
import sys
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (GridSearchCV, HalvingGridSearchCV, KFold,
                                     StratifiedKFold)
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import environment, print_header, save_json, timed, verdict  # noqa: E402

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,  # noqa: E402
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)

GRID = {"alpha": [1e-4, 1e-2, 1.0], "l1_ratio": [0.0, 0.5], "dropout": [0.0, 0.2]}
TARGET_RATIO = 0.25
TARGET_SCORE_GAP = 0.005
METHODS = ("racing", "racing_r2", "exhaustive", "gridsearch", "halving", "halving_iter")


def make_data(task, n_samples, seed):
    if task == "clf":
        X, y = make_classification(n_samples=n_samples, n_features=50, n_informative=20,
                                   n_classes=3, random_state=seed)
    else:
        X, y = make_regression(n_samples=n_samples, n_features=50, n_informative=20,
                               noise=10.0, random_state=seed)
        y = ((y - y.mean()) / y.std()).astype(np.float32)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def searches(task, epochs, seed):
    """The searches of one task, unfitted."""
    common = dict(hidden_layer_sizes=(100,), batch_size=200, max_iter=epochs,
                  learning_rate_init=1e-3, tol=0.0, n_iter_no_change=epochs + 1,
                  random_state=seed)
    cv = (StratifiedKFold if task == "clf" else KFold)(5)
    Search, Plain = ((RegularizedMLPClassifierCV, RegularizedMLPClassifier) if task == "clf"
                     else (RegularizedMLPRegressorCV, RegularizedMLPRegressor))
    racing = Search(alphas=GRID["alpha"], l1_ratios=GRID["l1_ratio"],
                    dropouts=GRID["dropout"], cv=cv, **common)
    base = Plain(penalty="elasticnet", **common)
    return {
        "racing": racing,
        "racing_r2": clone(racing).set_params(race_min_epochs=2),
        "exhaustive": clone(racing).set_params(racing=False),
        "gridsearch": GridSearchCV(base, GRID, cv=cv, n_jobs=2),
        "halving": HalvingGridSearchCV(base, GRID, cv=cv, factor=3, n_jobs=2,
                                       random_state=seed),
        "halving_iter": HalvingGridSearchCV(base, GRID, cv=cv, factor=3, n_jobs=2,
                                            resource="max_iter", max_resources=epochs,
                                            random_state=seed),
    }


def best_params(search):
    return {k: search.best_params_[k] for k in GRID}


def run(task, X, y, epochs, seed, repeats=1, warm_up=True):
    models = searches(task, epochs, seed)
    times = {name: [] for name in METHODS}
    fitted = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # warm-up, untimed: starts joblib's worker processes (kept for the
        # timed runs) and pays each process's one-time imports, for all
        if warm_up:
            clone(models["gridsearch"]).set_params(estimator__max_iter=1).fit(X[:500], y[:500])
            clone(models["racing"]).set_params(max_iter=1).fit(X[:500], y[:500])
        for _ in range(repeats):
            # round-robin, so that background load hits every search alike
            for name in METHODS:
                t, fitted[name] = timed(lambda: clone(models[name]).fit(X, y))
                times[name].append(t)
    best = {name: min(ts) for name, ts in times.items()}
    out = {"times": times, "time": best}
    for name, search in fitted.items():
        out[f"best_score_{name}"] = float(search.best_score_)
        out[f"best_params_{name}"] = best_params(search)
    grid_time, grid_score = best["gridsearch"], out["best_score_gridsearch"]
    out["ratio"] = {name: best[name] / grid_time for name in METHODS}
    out["ratio_to_halving"] = {name: best[name] / best["halving"] for name in METHODS}
    out["ratio_to_halving_iter"] = {name: best[name] / best["halving_iter"] for name in METHODS}
    out["score_gap"] = {name: grid_score - out[f"best_score_{name}"] for name in METHODS}
    race = fitted["racing"]
    out["racing"] = {
        "n_resources": race.n_resources_, "n_candidates": race.n_candidates_,
        "iter": race.cv_results_["iter"], "mean_n_iter": race.cv_results_["mean_n_iter"],
        "fold_model_epochs": float(race.cv_results_["mean_n_iter"].sum() * race.n_splits_),
        "refit_time": race.refit_time_,
    }
    out["scores_racing"] = race.cv_results_["mean_test_score"]
    out["scores_exhaustive"] = fitted["exhaustive"].cv_results_["mean_test_score"]
    out["scores_gridsearch"] = fitted["gridsearch"].cv_results_["mean_test_score"]
    for name in ("halving", "halving_iter"):
        h = fitted[name]
        out[name] = {"n_resources": h.n_resources_, "n_candidates": h.n_candidates_}
    return out


LABELS = {
    "racing": "CV estimator, racing",
    "racing_r2": "  same, race_min_epochs=2",
    "exhaustive": "CV estimator, racing=False",
    "gridsearch": "GridSearchCV",
    "halving": "HalvingGridSearchCV (n_samples)",
    "halving_iter": "HalvingGridSearchCV (max_iter)",
}


def report(task, r):
    name = "classification (accuracy)" if task == "clf" else "regression (R^2)"
    print(f"{name}:")
    print(f"  {'search':34s} {'time':>8s} {'/ Grid':>7s} {'/ Halv':>7s} {'/ HalvIt':>8s} "
          f"{'best CV':>8s}  {'gap':>6s}  best params")
    for m in METHODS:
        print(f"  {LABELS[m]:34s} {r['time'][m]:7.2f}s {r['ratio'][m]:6.3f}x "
              f"{r['ratio_to_halving'][m]:6.3f}x {r['ratio_to_halving_iter'][m]:7.3f}x "
              f"{r[f'best_score_{m}']:8.4f} {r['score_gap'][m] * 100:+6.2f}  "
              f"{r[f'best_params_{m}']}")
    ratio, gap = r["ratio"]["racing"], r["score_gap"]["racing"]
    print(f"  racing: {ratio:.3f}x GridSearchCV's time (target <= {TARGET_RATIO}: "
          f"{verdict(ratio, TARGET_RATIO)}), best CV score {gap * 100:+.2f} points from "
          f"GridSearchCV's (target <= 0.5: {verdict(abs(gap), TARGET_SCORE_GAP)})")
    race = r["racing"]
    n_configs = int(np.prod([len(v) for v in GRID.values()]))
    print(f"  racing: epochs of the rungs and the end {race['n_resources']}, configurations "
          f"{race['n_candidates']}, {race['fold_model_epochs']:.0f} fold-model epochs "
          f"of {n_configs * 5 * race['n_resources'][-1]}, refit {race['refit_time']:.2f} s")
    for m in ("halving", "halving_iter"):
        print(f"  {LABELS[m]}: resources {r[m]['n_resources']}, candidates "
              f"{r[m]['n_candidates']}")
    print(f"  scores per configuration, racing:     {np.round(r['scores_racing'], 4).tolist()}")
    print(f"  scores per configuration, exhaustive: "
          f"{np.round(r['scores_exhaustive'], 4).tolist()}")
    print(f"  scores per configuration, GridSearch: "
          f"{np.round(r['scores_gridsearch'], 4).tolist()}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1,
                        help="run every search this many times, keep the best time")
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="classification only")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="time the first call in a fresh process (worker start-up and "
                             "one-time imports included), as a one-off search pays them")
    args = parser.parse_args(argv)
    env = environment()
    print_header(env, "skreg cross-validated search vs GridSearchCV / HalvingGridSearchCV "
                      "(n_jobs=2)")
    print(f"{args.n_samples} x 50 float32, 12 configurations {GRID}, 5 folds, "
          f"hidden (100,), batch 200, {args.epochs} epochs, refit included, "
          f"best of {args.repeats}\n")
    results = {}
    for task in (("clf",) if args.quick else ("clf", "reg")):
        X, y = make_data(task, args.n_samples, args.seed)
        results[task] = run(task, X, y, args.epochs, args.seed, repeats=args.repeats,
                            warm_up=not args.no_warm_up)
        report(task, results[task])
    save_json(args.json, {"environment": env, "args": vars(args), "results": results})


if __name__ == "__main__":
    main()
