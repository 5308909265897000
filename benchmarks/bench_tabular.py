"""Raw frames against the hand-written pipeline, and what the encoding costs.

For every dataset of the accuracy suite (``suite.py``) that has categorical
columns or missing values, two measurements:

* **score**: ``RegularizedMLPClassifier`` / ``RegularizedMLPRegressor`` with
  their defaults on the raw frame (the estimator's own ``TabularEncoder``)
  against the same estimator behind the hand-written pipeline of the suite
  (``SimpleImputer`` + ``OneHotEncoder`` + ``StandardScaler``), next to
  ``HistGradientBoosting*`` on its native path
  (``categorical_features="from_dtype"`` on the frame with its string columns
  as pandas categories), on the suite's folds;
* **encoding cost**: fit and predict time on the raw frame against the same
  model (``categorical_features=None``) on the already encoded array
  (``encoder_.transform``), best of 3, as a ratio; predict also on a large
  batch (the frame repeated to at least ``--large-rows`` rows, 100,000 by
  default), where the per-row cost shows rather than the per-call one, with
  the text columns as they are loaded (object), as pandas ``str`` and as
  pandas ``category`` columns.

The raw frame's categorical columns with more than 16 categories get
learned embeddings (``max_onehot_categories``); the pipeline one-hot
encodes every category.

Usage::

    python benchmarks/bench_tabular.py --json benchmarks/results/tabular.json
    python benchmarks/bench_tabular.py --datasets titanic credit --folds 2
"""

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite  # noqa: E402


def _models(ds):
    clf = ds.task == suite.CLASSIFICATION
    skreg = (RegularizedMLPClassifier if clf else RegularizedMLPRegressor)(random_state=0)
    hgb = (HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor)(
        random_state=0, categorical_features="from_dtype")
    return skreg, hgb


def _best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _as_kind(X, kind):
    """The frame with its text columns as ``kind`` ('object', 'str' or 'category')."""
    if kind == "object":
        return X
    X = X.copy()
    for c in X.columns:
        if X[c].dtype == object or str(X[c].dtype) in ("string", "str"):
            X[c] = X[c].astype(kind)
    return X


def _large_predict_ratios(ds, skreg, large_rows):
    """Predict-time ratio raw / encoded on a batch of at least ``large_rows`` rows, per kind."""
    ratios = {}
    repeats = -(-large_rows // len(ds.X))
    for kind in ("object", "str", "category"):
        X = _as_kind(ds.X, kind)
        fitted = clone(skreg).set_params(max_iter=5).fit(X, ds.y)
        plain = clone(skreg).set_params(max_iter=5, categorical_features=None)
        on_array = plain.fit(fitted.encoder_.transform(X), ds.y)
        big = pd.concat([X] * repeats, ignore_index=True)
        for c in X.columns:  # concat keeps a categorical dtype only if it is shared
            if isinstance(X[c].dtype, pd.CategoricalDtype):
                big[c] = big[c].astype(X[c].dtype)
        Z = fitted.encoder_.transform(big)
        ratios[kind] = (_best_of(lambda: fitted.predict(big))
                        / _best_of(lambda: on_array.predict(Z)))
    return len(ds.X) * repeats, ratios


def run(ds, folds, large_rows):
    """Scores (raw, pipeline, HGB) over the folds and the encoding's time ratios."""
    splitter = (StratifiedKFold if ds.task == suite.CLASSIFICATION else KFold)(
        folds, shuffle=True, random_state=0)
    scores = {"skreg_raw": [], "skreg_pipeline": [], "hgb_native": []}
    X_cat = _as_kind(ds.X, "category")
    for train, test in splitter.split(ds.X, ds.y):
        skreg, hgb = _models(ds)
        raw = clone(skreg).fit(ds.X.iloc[train], ds.y[train])
        scores["skreg_raw"].append(raw.score(ds.X.iloc[test], ds.y[test]))
        pipe = Pipeline([("prep", suite.preprocessor(ds)), ("model", clone(skreg))])
        pipe.fit(ds.X.iloc[train], ds.y[train])
        scores["skreg_pipeline"].append(pipe.score(ds.X.iloc[test], ds.y[test]))
        native = clone(hgb).fit(X_cat.iloc[train], ds.y[train])
        scores["hgb_native"].append(native.score(X_cat.iloc[test], ds.y[test]))
    # the cost of the encoding: the same model on the raw frame and on the
    # array the encoder makes of it
    skreg, _ = _models(ds)
    fitted = clone(skreg).fit(ds.X, ds.y)
    Z = fitted.encoder_.transform(ds.X)
    plain = clone(skreg).set_params(categorical_features=None)
    fit_raw = _best_of(lambda: clone(skreg).fit(ds.X, ds.y))
    fit_enc = _best_of(lambda: clone(plain).fit(Z, ds.y))
    on_array = clone(plain).fit(Z, ds.y)
    predict_raw = _best_of(lambda: fitted.predict(ds.X))
    predict_enc = _best_of(lambda: on_array.predict(Z))
    n_large, large = _large_predict_ratios(ds, skreg, large_rows)
    return {
        "dataset": ds.name, "rows": len(ds.X), "categorical": len(ds.categorical),
        "embedded": len(fitted.embedding_sizes_),
        "missing": bool(ds.X.isna().any().any()),
        **{k: float(np.mean(v)) for k, v in scores.items()},
        "fit_ratio": fit_raw / fit_enc, "predict_ratio": predict_raw / predict_enc,
        "fit_seconds_raw": fit_raw, "predict_seconds_raw": predict_raw,
        "predict_seconds_encoded": predict_enc, "large_rows": n_large,
        **{f"large_predict_ratio_{kind}": r for kind, r in large.items()},
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", help="default: every suite dataset with "
                   "categorical columns or missing values")
    p.add_argument("--folds", type=int, default=2)
    p.add_argument("--max-rows", type=int, default=3000)
    p.add_argument("--large-rows", type=int, default=100_000,
                   help="rows of the large predict batch")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    names = args.datasets or suite.dataset_names()
    rows = []
    print(f"{'dataset':28} {'rows':>6} {'cat':>4} {'emb':>4} {'NaN':>4}  {'raw':>7} "
          f"{'pipeline':>8} {'hgb':>7}  {'fit x':>6} {'pred x':>6} {'big obj':>7} "
          f"{'big str':>7} {'big cat':>7}")
    for name in names:
        if suite.missing_requirement(name):
            continue
        ds = suite.load_dataset(name, max_rows=args.max_rows)
        if not ds.categorical and not ds.X.isna().any().any():
            continue
        r = run(ds, args.folds, args.large_rows)
        rows.append(r)
        print(f"{r['dataset']:28} {r['rows']:6d} {r['categorical']:4d} {r['embedded']:4d} "
              f"{str(r['missing'])[0]:>4}  "
              f"{r['skreg_raw']:7.4f} {r['skreg_pipeline']:8.4f} {r['hgb_native']:7.4f}  "
              f"{r['fit_ratio']:6.2f} {r['predict_ratio']:6.2f} "
              f"{r['large_predict_ratio_object']:7.2f} {r['large_predict_ratio_str']:7.2f} "
              f"{r['large_predict_ratio_category']:7.2f}", flush=True)
    if rows:
        diff = np.mean([r["skreg_raw"] - r["skreg_pipeline"] for r in rows])
        median = lambda key: np.median([r[key] for r in rows])  # noqa: E731
        print(f"\nmean raw - pipeline: {diff * 100:+.2f} points over {len(rows)} datasets; "
              f"median fit ratio {median('fit_ratio'):.2f}, median predict ratio "
              f"{median('predict_ratio'):.2f}; on large batches "
              f"{median('large_predict_ratio_object'):.2f} (object), "
              f"{median('large_predict_ratio_str'):.2f} (str), "
              f"{median('large_predict_ratio_category'):.2f} (category)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"config": vars(args), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
