"""Cross-validated search: RegularizedMLP*CV against GridSearchCV(n_jobs=2).

Same data (10,000 x 50, float32), same grid of 12 configurations
(3 alphas x 2 l1_ratios x 2 dropouts), same 5 folds, same network, batch
size and number of epochs (the stopping rule is switched off, so every fold
model trains exactly ``--epochs`` epochs), and both refit the best
configuration on all the data. Both are warmed up first on a small subset
(joblib's worker processes started, one-time imports paid), so that the
timed runs compare steady-state work. Prints the wall times, their ratio
(target <= 0.25) and the best mean CV score of each (target: within 0.5
point).

    python benchmarks/bench_search.py            # ~5 min on 2 cores
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
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import environment, print_header, save_json, timed, verdict  # noqa: E402

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,  # noqa: E402
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)

GRID = {"alpha": [1e-4, 1e-2, 1.0], "l1_ratio": [0.0, 0.5], "dropout": [0.0, 0.2]}
TARGET_RATIO = 0.25
TARGET_SCORE_GAP = 0.005


def make_data(task, n_samples, seed):
    if task == "clf":
        X, y = make_classification(n_samples=n_samples, n_features=50, n_informative=20,
                                   n_classes=3, random_state=seed)
    else:
        X, y = make_regression(n_samples=n_samples, n_features=50, n_informative=20,
                               noise=10.0, random_state=seed)
        y = ((y - y.mean()) / y.std()).astype(np.float32)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def run(task, X, y, epochs, seed, warm_up=True):
    common = dict(hidden_layer_sizes=(100,), batch_size=200, max_iter=epochs,
                  learning_rate_init=1e-3, tol=0.0, n_iter_no_change=epochs + 1,
                  random_state=seed)
    cv = (StratifiedKFold if task == "clf" else KFold)(5)
    if task == "clf":
        search = RegularizedMLPClassifierCV(alphas=GRID["alpha"], l1_ratios=GRID["l1_ratio"],
                                            dropouts=GRID["dropout"], cv=cv, **common)
        base = RegularizedMLPClassifier(penalty="elasticnet", **common)
    else:
        search = RegularizedMLPRegressorCV(alphas=GRID["alpha"], l1_ratios=GRID["l1_ratio"],
                                           dropouts=GRID["dropout"], cv=cv, **common)
        base = RegularizedMLPRegressor(penalty="elasticnet", **common)
    grid = GridSearchCV(base, GRID, cv=cv, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # warm-up, untimed: starts joblib's worker processes (kept for the
        # timed run) and pays each process's one-time imports, for both
        if warm_up:
            clone(grid).set_params(estimator__max_iter=1).fit(X[:500], y[:500])
            clone(search).set_params(max_iter=1).fit(X[:500], y[:500])
        t_grid, grid = timed(lambda: grid.fit(X, y))
        t_search, search = timed(lambda: search.fit(X, y))
    return {
        "time_batched": t_search, "time_gridsearch": t_grid,
        "ratio": t_search / t_grid,
        "best_score_batched": search.best_score_, "best_score_gridsearch": grid.best_score_,
        "best_params_batched": {k: search.best_params_[k] for k in GRID},
        "best_params_gridsearch": grid.best_params_,
        "refit_time_batched": search.refit_time_,
        "scores_batched": search.cv_results_["mean_test_score"],
        "scores_gridsearch": grid.cv_results_["mean_test_score"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="classification only")
    parser.add_argument("--no-warm-up", action="store_true",
                        help="time the first call in a fresh process (worker start-up and "
                             "one-time imports included), as a one-off search pays them")
    args = parser.parse_args(argv)
    env = environment()
    print_header(env, "skreg cross-validated search vs GridSearchCV(n_jobs=2)")
    print(f"{args.n_samples} x 50 float32, 12 configurations {GRID}, 5 folds, "
          f"hidden (100,), batch 200, {args.epochs} epochs, refit included\n")
    results = {}
    for task in (("clf",) if args.quick else ("clf", "reg")):
        X, y = make_data(task, args.n_samples, args.seed)
        r = results[task] = run(task, X, y, args.epochs, args.seed,
                                warm_up=not args.no_warm_up)
        gap = r["best_score_gridsearch"] - r["best_score_batched"]
        name = "classification (accuracy)" if task == "clf" else "regression (R^2)"
        print(f"{name}:")
        print(f"  batched CV      {r['time_batched']:7.2f} s   best CV score "
              f"{r['best_score_batched']:.4f}  {r['best_params_batched']}")
        print(f"  GridSearchCV    {r['time_gridsearch']:7.2f} s   best CV score "
              f"{r['best_score_gridsearch']:.4f}  {r['best_params_gridsearch']}")
        print(f"  time ratio      {r['ratio']:.3f}x  (target <= {TARGET_RATIO}: "
              f"{verdict(r['ratio'], TARGET_RATIO)})")
        print(f"  score gap       {gap * 100:+.2f} points  (target <= 0.5: "
              f"{verdict(gap, TARGET_SCORE_GAP)})")
        print(f"  scores per configuration, batched:    "
              f"{np.round(r['scores_batched'], 4).tolist()}")
        print(f"  scores per configuration, GridSearch: "
              f"{np.round(r['scores_gridsearch'], 4).tolist()}\n")
    save_json(args.json, {"environment": env, "results": results})


if __name__ == "__main__":
    main()
