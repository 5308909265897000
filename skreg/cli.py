"""The ``skreg`` command line.

``skreg compare`` cross-validates skreg's networks, tuned and with their
defaults, next to the tuned penalised linear models, gradient boosting and
scikit-learn's MLP on the same folds, and prints one table::

    skreg compare                                   # breast_cancer, 5 folds
    skreg compare --dataset diabetes --cv 10
    skreg compare --dataset data.csv --target price --task regression
    skreg compare --plot comparison.png             # also save the figure

From Python, :func:`compare` runs the same comparison on any ``X, y`` and
returns a :class:`Comparison` whose ``rows`` hold the numbers.
"""

import argparse
import contextlib
import csv
import numbers
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from inspect import signature

import numpy as np
from sklearn import datasets
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNetCV, LassoCV, LogisticRegressionCV, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ._classifier import RegularizedMLPClassifier
from ._regressor import RegularizedMLPRegressor
from ._search import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV

__all__ = ["Comparison", "InputError", "build_parser", "compare", "infer_task", "main"]

# datasets shipped inside scikit-learn (no download): name -> (loader, task)
BUILTIN_DATASETS = {
    "breast_cancer": (datasets.load_breast_cancer, "classification"),
    "diabetes": (datasets.load_diabetes, "regression"),
    "digits": (datasets.load_digits, "classification"),
    "iris": (datasets.load_iris, "classification"),
    "wine": (datasets.load_wine, "classification"),
}

# an integer target with at most this many distinct values is a class label
MAX_CLASSES_AUTO = 20

#: the inner folds of the cross-validated models (their libraries' default ``cv=5``)
INNER_FOLDS = 5

# weights with |w| above this count as "active" in the table
ACTIVE_THRESHOLD = 1e-3

# elastic-net mixes tried by the tuned linear models (ElasticNetCV's
# documented suggestion: more values close to the lasso)
_L1_RATIOS = [0.1, 0.5, 0.7, 0.9, 0.95, 0.99, 1.0]

# missing values in a CSV file, in any case, besides pandas' own defaults
_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}
_NA_VALUES = sorted({v for m in _MISSING for v in (m, m.upper(), m.title())})


class InputError(ValueError):
    """Invalid input to :func:`compare` or the command line (exit status 2)."""


# ----------------------------------------------------------------- results
@dataclass
class Comparison:
    """Cross-validation results of :func:`compare`, one row per model.

    Attributes
    ----------
    rows : list of dict
        One dict per model with keys ``model``, ``test_mean``, ``test_std``,
        ``train_mean``, ``fit_time`` (mean seconds per fit), ``n_weights``,
        ``n_nonzero``, ``n_active`` (means over folds; ``n_active`` counts
        ``|w| > 1e-3``; a model that averages networks counts every one of
        them), ``test_scores`` and ``train_scores`` (per fold,
        ndarray) and ``warnings`` (dict ``message -> count``).
    task : {'classification', 'regression'}
        The task the models were fitted for.
    metric : str
        The score: ``'accuracy'`` or ``'R^2'``.
    cv : int
        Number of folds.
    random_state : int
        Seed of the folds and of the stochastic models.
    n_samples, n_features : int
        Shape of the input (before one-hot encoding).
    description : str
        One line naming the data, for the header.
    n_classes : int or None
        Number of classes (classification only).
    elapsed : float
        Wall-clock seconds of all the cross-validation runs.
    notes : list of str
        Extra lines printed under the table.
    """

    rows: list
    task: str
    metric: str
    cv: int
    random_state: int
    n_samples: int
    n_features: int
    description: str = "data"
    n_classes: int = None
    elapsed: float = 0.0
    notes: list = field(default_factory=list)

    def to_text(self):
        """The table as plain aligned text, with a header and notes.

        Returns
        -------
        str
            Several lines, ending with a newline.
        """
        kind = self.task if self.n_classes is None else (
            f"{self.task}, {self.n_classes} classes")
        splitter = "stratified " if self.task == "classification" else ""
        head = [
            f"{self.description}: {self.n_samples} samples, {self.n_features} "
            f"features, {kind}",
            f"{self.cv}-fold {splitter}cross-validation (shuffled, random_state="
            f"{self.random_state}); score: {self.metric}"
            + (" (targets standardized)" if self.task == "regression" else ""),
            "",
        ]
        columns = ["model", f"test {self.metric}", "std", "train", "fit s",
                   "weights", "nonzero", f"|w|>{ACTIVE_THRESHOLD:g}"]
        body = [[r["model"], f"{r['test_mean']:.4f}", f"{r['test_std']:.4f}",
                 f"{r['train_mean']:.4f}", f"{r['fit_time']:.2f}",
                 _count(r["n_weights"]), _count(r["n_nonzero"]),
                 _count(r["n_active"])] for r in self.rows]
        widths = [max(len(line[i]) for line in [columns, *body])
                  for i in range(len(columns))]

        def fmt(line):
            cells = [line[0].ljust(widths[0])]
            cells += [c.rjust(w) for c, w in zip(line[1:], widths[1:])]
            return "  ".join(cells).rstrip()

        table = [fmt(columns), "  ".join("-" * w for w in widths)]
        table += [fmt(line) for line in body]
        tail = ["", f"total {self.elapsed:.1f} s"]
        tail += [f"note: {r['model']}, {n} {'time' if n == 1 else 'times'}: {msg}"
                 for r in self.rows for msg, n in r["warnings"].items()]
        tail += [f"note: {note}" for note in self.notes]
        return "\n".join(head + table + tail) + "\n"

    def __str__(self):
        return self.to_text()


def _count(value):
    if np.isnan(value):
        return "-"  # a model without weights
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


# ------------------------------------------------------------------ models
def _logistic_regression_cv(l1_ratios, solver, **kwargs):
    """LogisticRegressionCV over ``Cs=10`` strengths and the mixes ``l1_ratios``.

    ``l1_ratios=None`` is the L2 penalty. scikit-learn >= 1.8 sets the
    penalty through ``l1_ratios`` alone (``penalty`` is deprecated, and
    ``(0.0,)`` is L2); older versions need ``penalty='elasticnet'`` with it.
    """
    params = signature(LogisticRegressionCV).parameters
    if params["penalty"].default == "deprecated":
        kwargs["l1_ratios"] = (0.0,) if l1_ratios is None else l1_ratios
    elif l1_ratios is not None:
        kwargs.update(l1_ratios=l1_ratios, penalty="elasticnet")
    # scikit-learn 1.9 warns of changes to come unless these are explicit;
    # accuracy is the score of the table
    if params["scoring"].default == "warn":
        kwargs["scoring"] = "accuracy"
    if "use_legacy_attributes" in params:
        kwargs["use_legacy_attributes"] = False
    return LogisticRegressionCV(Cs=10, solver=solver, **kwargs)


def _models(task, n_classes, random_state, max_iter):
    """``[(name, estimator), ...]``: tuned linear models, boosting, then the MLPs.

    Every model keeps its library's defaults, except the seeds and, for the
    MLPs, ``max_iter`` when given; the cross-validated ones tune with
    their own inner 5-fold split of each training fold.
    """
    seed = dict(random_state=random_state)
    mlp = {} if max_iter is None else dict(max_iter=max_iter)
    if task == "classification":
        return [
            ("LogRegCV L2", _logistic_regression_cv(None, "lbfgs", max_iter=1000)),
            ("LogRegCV ElasticNet", _logistic_regression_cv(
                [0.0, 0.5, 1.0], "saga", max_iter=5000, **seed)),
            ("HistGradientBoosting", HistGradientBoostingClassifier(**seed)),
            ("sklearn MLP", MLPClassifier(**seed, **mlp)),
            ("skreg MLP", RegularizedMLPClassifier(**seed, **mlp)),
            ("skreg MLP CV", RegularizedMLPClassifierCV(**seed, **mlp)),
        ]
    # targets are standardized for every regressor, so the penalties are
    # relative to the spread of y and the MLPs train on a well-scaled target
    models = [
        ("RidgeCV", RidgeCV(alphas=np.logspace(-3, 3, 13))),
        ("LassoCV", LassoCV(**seed)),
        ("ElasticNetCV", ElasticNetCV(l1_ratio=_L1_RATIOS, **seed)),
        ("HistGradientBoosting", HistGradientBoostingRegressor(**seed)),
        ("sklearn MLP", MLPRegressor(**seed, **mlp)),
        ("skreg MLP", RegularizedMLPRegressor(**seed, **mlp)),
        ("skreg MLP CV", RegularizedMLPRegressorCV(**seed, **mlp)),
    ]
    return [(name, TransformedTargetRegressor(model, transformer=StandardScaler()))
            for name, model in models]


#: the models that take X as it comes: skreg's estimators encode a table
#: themselves (``categorical_features``; their ``encoder_``)
_RAW_INPUT = ("skreg MLP", "skreg MLP CV")


def _preprocessor(X, categorical_features):
    """StandardScaler on numeric columns, one-hot encoding of categorical ones.

    Numeric columns with missing values (NaN) are imputed with the median.
    """
    categorical = sorted(set(categorical_features or ()))
    numeric = [j for j in range(X.shape[1]) if j not in categorical]
    values = X.iloc[:, numeric] if hasattr(X, "iloc") else X[:, numeric]
    has_nan = bool(numeric) and np.isnan(np.asarray(values, dtype=np.float64)).any()
    scale = (make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
             if has_nan else StandardScaler())
    if not categorical:
        return scale
    return ColumnTransformer(
        [("numeric", scale, numeric),
         ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
          categorical)])


def _param(model, name):
    """``name`` as ``set_params`` knows it: under ``regressor__`` for a wrapped model."""
    return f"regressor__{name}" if isinstance(model, TransformedTargetRegressor) else name


def _weights(fitted_pipeline):
    """The weight matrices of a fitted pipeline's model (no intercepts), or None.

    A cross-validated estimator's are those of every network it averages
    (its ``estimators_``: the fold models, or the refit). None for a model
    without weights (gradient boosting).
    """
    model = fitted_pipeline[-1]
    model = getattr(model, "regressor_", model)
    if hasattr(model, "estimators_") and hasattr(model, "weights_"):
        return [W for estimator in model.estimators_ for W in estimator.coefs_]
    if hasattr(model, "coefs_"):
        return model.coefs_
    if hasattr(model, "coef_"):
        return [np.asarray(model.coef_)]
    return None


# --------------------------------------------------------------- the runs
def infer_task(y):
    """Guess the task from the target.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Target values.

    Returns
    -------
    {'classification', 'regression'}
        Classification if ``y`` is not numeric, or holds integers with at
        most 20 distinct values; regression otherwise.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iuf":
        return "classification"
    with np.errstate(invalid="ignore"):  # inf and nan are not integral
        integral = y.dtype.kind in "iu" or bool(np.all(np.mod(y, 1) == 0))
    if integral and np.unique(y).size <= MAX_CLASSES_AUTO:
        return "classification"
    return "regression"


def _check_target(y, task, cv):
    """Validate ``y`` for ``task`` and ``cv`` folds; return ``y`` as used."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"the target must be one column, got shape {y.shape}")
    if cv > y.shape[0]:
        raise InputError(f"cv={cv} folds is more than the {y.shape[0]} samples")
    if task == "regression":
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                import pandas as pd

                bad = pd.to_numeric(pd.Series(y, dtype=object),
                                    errors="coerce").isna().to_numpy()
                example = y[bad][0] if bad.any() else y[0]
                raise InputError(
                    f"regression needs a numeric target, got values such as "
                    f"{example!r}") from None
        if not np.isfinite(y).all():
            row = int(np.flatnonzero(~np.isfinite(y))[0])
            raise InputError(
                f"the target has a missing or infinite value (row {row + 1}: {y[row]}); "
                "replace it, or drop the row")
        return y
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise InputError(
            f"classification needs at least 2 classes, the target has {classes.size}")
    if counts.min() < cv:
        rare = _rarest(classes, counts)
        raise InputError(
            f"class {rare!r} has only {counts.min()} "
            f"{'sample' if counts.min() == 1 else 'samples'}, fewer than the "
            f"{cv} folds; use fewer folds or regression")
    return y


@contextlib.contextmanager
def _torch_threads(n):
    """Temporarily run torch on ``n`` threads (``None``: leave as is)."""
    import torch

    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cross_validate(model, X, y, splitter):
    """``cross_validate`` one model; returns its row of results."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cross_validate(model, X, y, cv=splitter, return_train_score=True,
                             return_estimator=True, error_score="raise")
    weights = [_weights(est) for est in res["estimator"]]
    counts = {"n_weights": np.nan, "n_nonzero": np.nan, "n_active": np.nan}
    if weights[0] is not None:
        counts = {
            "n_weights": float(np.mean([sum(W.size for W in ws) for ws in weights])),
            "n_nonzero": float(np.mean([sum(np.count_nonzero(W) for W in ws)
                                        for ws in weights])),
            "n_active": float(np.mean([sum(np.count_nonzero(np.abs(W) > ACTIVE_THRESHOLD)
                                           for W in ws) for ws in weights])),
        }
    messages = {}
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        msg = msg if len(msg) <= 120 else msg[:117] + "..."
        messages[msg] = messages.get(msg, 0) + 1
    return {
        "test_mean": float(np.mean(res["test_score"])),
        "test_std": float(np.std(res["test_score"])),
        "train_mean": float(np.mean(res["train_score"])),
        "fit_time": float(np.mean(res["fit_time"])),
        **counts,
        "test_scores": res["test_score"],
        "train_scores": res["train_score"],
        "warnings": messages,
    }


def _check_compare_input(X, y, task, cv, random_state):
    """:func:`compare`'s checks: ``(X, y, task, cv, n_classes, splitter)`` or an InputError."""
    if not isinstance(cv, numbers.Integral) or isinstance(cv, bool) or cv < 2:
        raise InputError(f"cv must be an integer >= 2, got {cv!r}")
    cv = int(cv)
    if task not in ("auto", "classification", "regression"):
        raise InputError(
            f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    if not hasattr(X, "iloc"):
        X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != np.shape(y)[0]:
        raise InputError(
            f"X must be 2-D with one row per target value; got X of shape "
            f"{X.shape} and {np.shape(y)[0]} targets")
    if task == "auto":
        task = infer_task(y)
    y = _check_target(y, task, cv)
    _check_finite_features(X)
    n_classes = np.unique(y).size if task == "classification" else None
    if task == "classification":
        splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        _check_inner_folds(y, splitter)
    else:
        splitter = KFold(cv, shuffle=True, random_state=random_state)
        n_train = len(y) - -(-len(y) // cv)  # the smallest training fold
        if n_train < INNER_FOLDS:
            raise InputError(
                f"a training fold has {n_train} samples, fewer than the {INNER_FOLDS} "
                "inner folds of the cross-validated models; use fewer folds (--cv) or "
                "more data")
    return X, y, task, cv, n_classes, splitter


def _check_finite_features(X):
    """No infinite value in a numeric column (missing values are imputed, infinities not)."""
    columns = X.items() if hasattr(X, "items") else enumerate(np.asarray(X).T)
    for name, column in columns:
        values = np.asarray(column)
        if values.dtype.kind == "f" and np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0])
            raise InputError(
                f"column {name!r} has an infinite value (row {row + 1}: {values[row]}); "
                "replace it or leave the cell empty")


def _rarest(classes, counts):
    """The label of the rarest class, as a Python value (for a message)."""
    rare = classes[counts.argmin()]
    return rare.item() if isinstance(rare, np.generic) else rare


def _check_inner_folds(y, splitter):
    """Every class fills the inner folds of the cross-validated models in each training fold."""
    classes = np.unique(y)
    for train, _ in splitter.split(np.zeros((len(y), 1)), y):
        counts = np.array([(y[train] == c).sum() for c in classes])
        if counts.min() < INNER_FOLDS:
            rare = _rarest(classes, counts)
            raise InputError(
                f"class {rare!r} has {counts.min()} sample(s) in a training fold, fewer "
                f"than the {INNER_FOLDS} inner folds of the cross-validated models; use "
                "fewer folds (--cv), more data or regression")


def _model_pipeline(name, model, X, categorical_features):
    """One model of :func:`compare` behind its preprocessing (skreg's take X as it is)."""
    if name in _RAW_INPUT:
        if categorical_features:
            # the columns named by the caller, as for the other models
            model.set_params(**{_param(model, "categorical_features"):
                                sorted(set(categorical_features))})
        return Pipeline([("model", model)])
    return Pipeline([("preprocess", _preprocessor(X, categorical_features)),
                     ("model", model)])


def compare(X, y, *, task="auto", categorical_features=None, cv=5, random_state=0,
            max_iter=None, torch_threads=1, description="data", progress=None):
    """Cross-validate skreg's networks against tuned linear models, boosting and sklearn's MLP.

    skreg's estimators take X as it comes: a DataFrame with string,
    categorical and bool columns and missing values is encoded by their own
    ``encoder_`` (one-hot or learned embeddings, median imputation with
    missing indicators, robust scaling; see ``categorical_features``).
    Every other model is a pipeline of the same preprocessing (median
    imputation and StandardScaler on numeric columns, one-hot encoding of
    categorical ones) and one of:

    - classification: ``LogisticRegressionCV`` with the L2 penalty and with
      the elastic net (``l1_ratios`` 0, 0.5, 1), ``HistGradientBoostingClassifier``,
      scikit-learn's ``MLPClassifier``, :class:`~skreg.RegularizedMLPClassifier`
      with its defaults and :class:`~skreg.RegularizedMLPClassifierCV` (its
      default grid, tuned by cross-validation inside each training fold);
      scored by accuracy.
    - regression: ``RidgeCV``, ``LassoCV``, ``ElasticNetCV``,
      ``HistGradientBoostingRegressor``, ``MLPRegressor``,
      :class:`~skreg.RegularizedMLPRegressor` and
      :class:`~skreg.RegularizedMLPRegressorCV`, each on a standardized
      target (``TransformedTargetRegressor``); scored by R^2.

    Tuned against tuned: each cross-validated model chooses its
    regularization on the training fold only.

    All models see the same folds: a shuffled ``StratifiedKFold`` for
    classification and ``KFold`` for regression, seeded by ``random_state``.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Features; may be an object array or a DataFrame with string columns
        when ``categorical_features`` is given (missing values of those are a
        category of their own). NaN in numeric columns is imputed with the
        column median.
    y : array-like of shape (n_samples,)
        Target.
    task : {'auto', 'classification', 'regression'}, default='auto'
        'auto' uses :func:`infer_task`.
    categorical_features : sequence of int, default=None
        Indices of the categorical columns: one-hot encoded for the other
        models, and skreg's ``categorical_features`` (None: its
        ``'from_dtype'``).
    cv : int, default=5
        Number of folds, at least 2.
    random_state : int, default=0
        Seed of the folds and of the stochastic models.
    max_iter : int, default=None
        Epochs of the MLPs (scikit-learn's and skreg's); None keeps each
        one's default.
    torch_threads : int or None, default=1
        Torch threads while fitting. Networks this small train fastest on
        one thread; None leaves torch's setting alone.
    description : str, default='data'
        Name of the data in the table's header.
    progress : callable, default=None
        Called with each model's name before it is cross-validated.

    Returns
    -------
    Comparison
        The results; ``print(result)`` shows the table.

    Raises
    ------
    InputError
        A ``ValueError`` for an unusable target or ``cv``, before any
        fitting.
    """
    X, y, task, cv, n_classes, splitter = _check_compare_input(X, y, task, cv, random_state)
    start = time.perf_counter()
    rows = []
    with _torch_threads(torch_threads):
        for name, model in _models(task, n_classes, random_state, max_iter):
            if progress is not None:
                progress(name)
            pipe = _model_pipeline(name, model, X, categorical_features)
            rows.append({"model": name, **_cross_validate(pipe, X, y, splitter)})
    return Comparison(
        rows=rows, task=task, metric="accuracy" if task == "classification" else "R^2",
        cv=cv, random_state=random_state, n_samples=X.shape[0],
        n_features=X.shape[1], description=description, n_classes=n_classes,
        elapsed=time.perf_counter() - start)


# ----------------------------------------------------------------- loading
def _load_builtin(name):
    """``(X, y, task, categorical, notes)`` of a dataset shipped with scikit-learn."""
    loader, task = BUILTIN_DATASETS[name]
    X, y = loader(return_X_y=True)
    return X, y, task, [], []


def _read_csv(path):
    """The CSV file at ``path`` as a DataFrame, read by ``pandas.read_csv``.

    The delimiter (comma, semicolon or tab) is sniffed from the first 64 KiB.
    Missing values are pandas' defaults plus the tokens of ``_MISSING`` in
    any case; surrounding spaces are stripped from names and string values,
    and a string column whose non-missing values are all numbers after that
    becomes numeric. A row with more fields than the header is an error; a
    row with fewer is padded with missing values.
    """
    import pandas as pd

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            sample = f.read(65536)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        sep = ","
    try:
        with warnings.catch_warnings():
            # pandas warns, and drops fields, when every row is longer than
            # the header: an unreadable file, not a warning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig", index_col=False,
                                na_values=_NA_VALUES, skipinitialspace=True,
                                low_memory=False)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except (OSError, ValueError, pd.errors.ParserWarning) as exc:
        # ParserError and UnicodeDecodeError are ValueErrors
        message = " ".join(str(exc).split())
        raise InputError(f"cannot read {path}: {message}") from None
    if frame.shape[0] == 0:
        raise InputError(f"{path} needs a header line and at least one data row")
    frame.columns = [str(name).strip() for name in frame.columns]
    # by position: stripped names may repeat; object columns are string ones
    for j in np.flatnonzero(frame.dtypes.map(pd.api.types.is_string_dtype).to_numpy()):
        frame.isetitem(j, _tidy_text(frame.iloc[:, j]))
    return frame


def _tidy_text(column):
    """A string column stripped, with missing tokens as NaN; numeric if it can be."""
    import pandas as pd

    if pd.api.types.infer_dtype(column, skipna=True) != "string":
        return column  # bools with missing values: kept as read
    column = column.str.strip()
    column = column.mask(column.str.lower().isin(_MISSING))
    numbers = pd.to_numeric(column, errors="coerce")
    if column.notna().any() and numbers.notna().sum() == column.notna().sum():
        return numbers
    return column


def _load_csv(path, target):
    """``(X, y, task, categorical, notes)`` from a CSV file with a header line.

    Rows with a missing target are dropped. ``X`` is a DataFrame of the other
    columns as pandas reads them (numbers, strings with NaN for missing
    values, bools); ``categorical`` lists the non-numeric and bool ones.
    """
    import pandas as pd

    frame = _read_csv(path)
    if target not in frame.columns:
        raise InputError(
            f"target column {target!r} is not in {path} "
            f"(columns: {', '.join(frame.columns)})")
    if frame.shape[1] < 2:
        raise InputError(f"{path} has no feature columns besides {target!r}")
    n_rows = frame.shape[0]
    frame = frame[frame[target].notna().to_numpy()].reset_index(drop=True)
    if frame.shape[0] == 0:
        raise InputError(f"{path}: every row has a missing {target!r}")
    y = frame[target]
    if pd.api.types.is_float_dtype(y.dtype) and np.all(np.mod(y, 1) == 0):
        y = y.astype(np.int64)
    y = y.to_numpy()
    X = frame.drop(columns=target)
    categorical = [j for j, dtype in enumerate(X.dtypes)
                   if pd.api.types.is_bool_dtype(dtype)
                   or not pd.api.types.is_numeric_dtype(dtype)]
    notes = []
    if frame.shape[0] < n_rows:
        dropped = n_rows - frame.shape[0]
        notes.append(f"{dropped} {'row' if dropped == 1 else 'rows'} with a missing "
                     f"{target!r} dropped")
    return X, y, "auto", categorical, notes


def _load(dataset, target):
    """Dispatch ``--dataset`` to a built-in dataset or a CSV file."""
    if dataset in BUILTIN_DATASETS:
        if target is not None:
            raise InputError(f"--target is only used with a CSV file, not with "
                             f"the built-in dataset {dataset!r}")
        return _load_builtin(dataset)
    if os.path.isfile(dataset):
        if target is None:
            header = ", ".join(_read_csv(dataset).columns)
            raise InputError(f"--target is required with a CSV file; the columns "
                             f"of {dataset} are: {header}")
        return _load_csv(dataset, target)
    if os.path.exists(dataset):
        raise InputError(f"{dataset} is not a file")
    if dataset.lower().endswith((".csv", ".tsv", ".txt")) or os.sep in dataset:
        raise InputError(f"no such file: {dataset}")
    raise InputError(
        f"unknown dataset {dataset!r}; choose one of "
        f"{', '.join(sorted(BUILTIN_DATASETS))} or give the path of a CSV file")


# -------------------------------------------------------------------- CLI
class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line: ``prog: error: message``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _add_compare(subparsers):
    """The ``compare`` subcommand and its options."""
    p = subparsers.add_parser(
        "compare", help="cross-validate a regularized MLP against linear baselines",
        description="Cross-validate a regularized MLP next to penalised linear "
                    "models and an unregularized MLP on the same folds, and print "
                    "test and train scores, fit times and non-zero weights.")
    p.add_argument("--dataset", default="breast_cancer", metavar="NAME_OR_CSV",
                   help="a dataset shipped with scikit-learn ("
                        + ", ".join(sorted(BUILTIN_DATASETS))
                        + ") or the path of a CSV file with a header line "
                          "(default: breast_cancer)")
    p.add_argument("--target", metavar="COLUMN",
                   help="target column of the CSV file (required with a CSV file)")
    p.add_argument("--task", choices=["auto", "classification", "regression"],
                   default="auto",
                   help="auto: classification for a non-numeric target or integers "
                        f"with at most {MAX_CLASSES_AUTO} distinct values, "
                        "regression otherwise (default: auto)")
    p.add_argument("--cv", type=_int_at_least(2), default=5, metavar="K",
                   help="number of cross-validation folds, at least 2 (default: 5)")
    p.add_argument("--random-state", type=int, default=0, metavar="SEED",
                   help="seed of the folds and of the models (default: 0)")
    p.add_argument("--max-iter", type=_int_at_least(1), default=None, metavar="N",
                   help="epochs of the MLPs (default: each one's own, 200)")
    p.add_argument("--plot", metavar="FILE",
                   help="also save a figure of the train and test score of each model "
                        "to FILE (format from the extension: .png, .pdf, .svg; needs "
                        "matplotlib)")
    p.set_defaults(run=_run_compare, parser=p)
    return p


def _run_compare(args):
    """Load the data, run :func:`compare`, print the table; return the status."""
    if args.plot is not None:
        _check_plot_target(args)
    try:
        X, y, task, categorical, notes = _load(args.dataset, args.target)
        if args.task != "auto":
            task = args.task
        name = (args.dataset if args.dataset in BUILTIN_DATASETS
                else f"{os.path.basename(args.dataset)} (target {args.target!r})")
        result = compare(X, y, task=task, categorical_features=categorical,
                         cv=args.cv, random_state=args.random_state,
                         max_iter=args.max_iter, description=name,
                         progress=_progress if sys.stderr.isatty() else None)
    except InputError as exc:
        args.parser.error(str(exc))
    except ValueError as exc:
        # a model failed to fit: report it in one line, not as a traceback
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        print(f"{args.parser.prog}: error: fitting failed: {message}", file=sys.stderr)
        return 1
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 40 + "\r")
    result.notes.extend(notes)
    sys.stdout.write(result.to_text())
    if args.plot is not None:
        _save_plot(result, args.plot)
    return 0


def _check_plot_target(args):
    """Fail before the fits if ``--plot FILE`` cannot be written."""
    try:
        import matplotlib.figure
    except ImportError:
        args.parser.error("--plot needs matplotlib: pip install \"skreg[plot]\"")
    extension = os.path.splitext(args.plot)[1].lstrip(".").lower()
    formats = matplotlib.figure.Figure().canvas.get_supported_filetypes()
    if extension not in formats:
        args.parser.error(
            f"--plot {args.plot!r}: the file name must end in one of "
            + ", ".join(f".{f}" for f in sorted(formats)) + ".")
    folder = os.path.dirname(os.path.abspath(args.plot))
    if not os.path.isdir(folder):
        args.parser.error(f"--plot {args.plot!r}: folder {folder!r} does not exist.")


def _save_plot(result, path):
    """Save the train/test score figure of ``result`` to ``path``."""
    import matplotlib

    from .plotting import ComparisonDisplay

    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")  # a file is the goal: no window
    display = ComparisonDisplay.from_comparison(result)
    display.ax_.set_title(result.description, fontsize=10)
    display.figure_.savefig(path, dpi=120, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(display.figure_)
    print(f"figure saved to {path}")


def _progress(name):
    """Show which model is being fitted (on a terminal only)."""
    sys.stderr.write(f"\rfitting {name} ...".ljust(40))
    sys.stderr.flush()


def build_parser():
    """The ``skreg`` argument parser with its subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Parser of ``skreg COMMAND [options]``.
    """
    parser = _Parser(prog="skreg",
                     description="Regularized MLPs for tabular data.")
    subparsers = parser.add_subparsers(dest="command", required=True,
                                       metavar="COMMAND")
    _add_compare(subparsers)
    return parser


def main(argv=None):
    """Run the ``skreg`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for bad arguments or unusable data
        (with a one-line message on stderr), 1 when a model fails to fit or
        on an internal error (one line on stderr, never a traceback).
    """
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except SystemExit as exc:
        # argparse exits for --help (0) and for errors (2)
        return exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:  # a fault of skreg's own: one line, not a traceback
        message = " ".join(str(exc).split()) or "no message"
        print(f"skreg: internal error: {type(exc).__name__}: {message} (please report "
              "it with `python -c \"import skreg; skreg.show_versions()\"`)",
              file=sys.stderr)
        return 1
