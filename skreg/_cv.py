"""RegularizedMLPClassifierCV and RegularizedMLPRegressorCV.

Cross-validated choice of the regularization, in the spirit of
:class:`sklearn.linear_model.ElasticNetCV`: every (fold, configuration) pair
is one network, and all networks of one architecture train together as one
stack trained by the one engine (:class:`skreg._engine.Trainer`), each with its own
rows, penalty, dropout, label smoothing, Adam state and stopping rule. The
best configuration is then refitted on all the data with the plain
estimator.
"""

import itertools
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (BaseEstimator, ClassifierMixin, MetaEstimatorMixin,
                          RegressorMixin, _fit_context, is_classifier)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv, train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (_check_sample_weight, check_is_fitted,
                                      column_or_1d, validate_data)

from ._mlp import (RegularizedMLPClassifier, RegularizedMLPRegressor,
                   _dense, _resolve_device, class_sample_weight)
from ._threads import step_work, training_threads
from ._preprocessing import (robust_scale_tensor_, robust_scaling_stats,
                             target_scaling_stats)
from ._engine import ACTIVATIONS, LOSSES, StackedMLP, Trainer, TrainingConfig, TrainingData

_GRID_DOC = """
    alphas : array-like of float, default=(1e-4, 1e-3, 1e-2, 1e-1, 1.0)
        Penalty strengths ``alpha`` to try. The penalty is the elastic net
        ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``
        on the connection weights, added to the summed loss as in the plain
        estimators (so it is divided by the batch's weight sum per step).

    l1_ratios : array-like of float in [0, 1], default=(0.0,)
        Elastic-net mixing values to try; 0 is L2 (scikit-learn's MLP),
        1 is L1.

    dropouts : array-like of float in [0, 1), default=(0.0,)
        Dropout rates to try, applied to every hidden layer.

    hidden_layer_sizes : tuple of int or list of tuples, default=(100,)
        One architecture, or a list of architectures to try. Configurations
        of one architecture train as one batched model.

    cv : int, cross-validation generator or iterable, default=5
        As in :class:`~sklearn.model_selection.GridSearchCV`: an int gives
        :class:`~sklearn.model_selection.StratifiedKFold` for classifiers and
        :class:`~sklearn.model_selection.KFold` for regressors, unshuffled.

    scoring : str, callable or None, default=None
        Score that chooses the configuration (higher is better). None uses
        accuracy (classifier) or R^2 (regressor), as the estimators'
        ``score``; a string names a scikit-learn scorer, a callable is called
        as ``scoring(estimator, X_test, y_test)`` with a fitted stand-in
        whose ``predict`` / ``predict_proba`` / ``decision_function`` return
        that fold model's outputs.
"""

_TRAIN_DOC = """
    activation : {'identity', 'logistic', 'tanh', 'relu', 'gelu'}, default='relu'
        Hidden-layer activation.

    batch_size : int or 'auto', default='auto'
        Rows per step, ``min(200, n_train)`` for 'auto'.

    learning_rate_init : float, default=0.001
        Adam's learning rate.

    max_iter : int, default=200
        Maximum epochs of every fold model and of the refit.

    tol : float, default=1e-4
        Stopping tolerance (scikit-learn's MLP rule, per fold model).

    n_iter_no_change : int, default=10
        Epochs without an improvement larger than ``tol`` before a model
        stops.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of each fold's training rows
        (stratified for classifiers), stop each model on its validation
        score and keep its best epoch. The fold's test rows are never used
        for stopping.

    validation_fraction : float, default=0.1
        Share of the training rows held out with ``early_stopping``.

    l1_method : {'proximal', 'subgradient'}, default='proximal'
        How the L1 part of the penalty is applied (see
        :class:`~skreg.RegularizedMLPClassifier`).

    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's settings.

    shuffle : bool, default=True
        Reshuffle each fold's training rows every epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the folds' networks, shuffling and dropout, the early-stopping
        splits and the refit.

    device : {'cpu', 'cuda', 'cuda:N', 'auto'}, default='cpu'
        Where the networks train.

    verbose : int, default=0
        Print one line per architecture and the chosen configuration.

    input_scaling : {'robust'} or None, default='robust'
        As in :class:`~skreg.RegularizedMLPClassifier`: 'robust' maps each
        feature to ``f((x - median) / IQR)`` with the smooth clip
        ``f(z) = z / sqrt(1 + (z / 3)^2)``. Each fold's statistics come from
        that fold's training rows only, never from its test rows.
"""

_ATTRIBUTES_DOC = """
    alpha_, l1_ratio_, dropout_ : float
        The chosen values.

    hidden_layer_sizes_ : tuple of int
        The chosen architecture.

    best_params_ : dict
        The chosen configuration, as parameters of the plain estimator.

    best_score_ : float
        Its mean cross-validated score.

    best_index_ : int
        Its index in ``cv_results_``.

    best_estimator_ : estimator
        The plain estimator with ``best_params_``, fitted on all the data;
        ``predict`` and the other methods delegate to it.

    cv_results_ : dict of ndarrays
        In :class:`~sklearn.model_selection.GridSearchCV`'s format:
        ``params``, ``param_<name>`` (masked arrays), ``split<k>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time`` / ``std_fit_time`` (the batched training time of
        an architecture shared equally among its configurations; the
        standard deviation is 0), ``mean_score_time``, ``std_score_time``,
        and ``mean_n_iter`` (epochs run, averaged over folds).

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best configuration on all the data.

    n_iter_ : int
        Epochs run by the refit (``best_estimator_.n_iter_``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.
"""


def _is_grid(sizes):
    return (hasattr(sizes, "__iter__") and len(sizes) > 0
            and all(hasattr(s, "__iter__") for s in sizes))


def _as_values(name, values, low, high, high_closed):
    """Validate a grid of floats, keeping order and dropping duplicates."""
    arr = np.asarray(values, dtype=float).ravel() if np.ndim(values) else \
        np.asarray([values], dtype=float)
    if arr.size == 0:
        raise ValueError(f"{name} must contain at least one value; got {values!r}.")
    upper_bad = arr > high if high_closed else arr >= high
    if np.any(~np.isfinite(arr)) or np.any(arr < low) or np.any(upper_bad):
        bracket = "]" if high_closed else ")"
        raise ValueError(
            f"{name} must contain floats in [{low}, {high}{bracket}; got {values!r}.")
    return list(dict.fromkeys(arr.tolist()))


class _Precomputed(BaseEstimator):
    """A fitted stand-in returning one fold model's outputs, for scorers."""

    def __init__(self, outputs):
        self.outputs = outputs

    def predict(self, X):
        return self.outputs["predict"]

    def __sklearn_is_fitted__(self):
        return True


class _PrecomputedClassifier(ClassifierMixin, _Precomputed):
    def predict_proba(self, X):
        return self.outputs["predict_proba"]

    def decision_function(self, X):
        return self.outputs["decision_function"]


class _PrecomputedRegressor(RegressorMixin, _Precomputed):
    pass


class _BaseRegularizedMLPCV(MetaEstimatorMixin, BaseEstimator):
    """Shared logic of the cross-validated estimators."""

    _parameter_constraints: dict = {
        "alphas": ["array-like", Interval(Real, 0, None, closed="left")],
        "l1_ratios": ["array-like", Interval(Real, 0, 1, closed="both")],
        "dropouts": ["array-like", Interval(Real, 0, 1, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "l1_method": [StrOptions({"proximal", "subgradient"})],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
        "input_scaling": [StrOptions({"robust"}), None],
    }

    _estimator_class = None
    _kind_names = ()  # grid parameters beyond alpha, l1_ratio, dropout
    _extra_base_params = ()  # estimator parameters of one kind only (target_scaling)

    # ------------------------------------------------------------------ grid
    def _architectures(self):
        sizes = self.hidden_layer_sizes
        grid = [tuple(s) for s in sizes] if _is_grid(sizes) else [
            tuple(sizes) if hasattr(sizes, "__iter__") else (sizes,)]
        for arch in grid:
            if not arch or any(not isinstance(s, Integral) or isinstance(s, bool) or s <= 0
                               for s in arch):
                raise ValueError(
                    "hidden_layer_sizes must be a tuple of positive integers or a list "
                    f"of such tuples; got {self.hidden_layer_sizes!r}.")
        return list(dict.fromkeys(grid))

    def _grid(self):
        """Configurations as dicts of plain-estimator parameters, sorted like ParameterGrid."""
        axes = {
            "alpha": _as_values("alphas", self.alphas, 0.0, np.inf, False),
            "dropout": _as_values("dropouts", self.dropouts, 0.0, 1.0, False),
            "hidden_layer_sizes": self._architectures(),
            "l1_ratio": _as_values("l1_ratios", self.l1_ratios, 0.0, 1.0, True),
            **self._extra_axes(),
        }
        names = sorted(axes)
        return [dict(zip(names, values))
                for values in itertools.product(*(axes[k] for k in names))]

    def _extra_axes(self):
        return {}

    def _base_params(self):
        """Parameters of the plain estimator shared by every configuration."""
        names = ("activation", "batch_size", "learning_rate_init", "max_iter", "tol",
                 "n_iter_no_change", "early_stopping", "validation_fraction",
                 "l1_method", "beta_1", "beta_2", "epsilon", "shuffle", "random_state",
                 "device", "verbose", "input_scaling", *self._extra_base_params)
        params = {k: getattr(self, k) for k in names}
        params.update(solver="adam", penalty="elasticnet")
        return params

    # ------------------------------------------------------------------- fit
    def _fit(self, X, y, sample_weight=None, **split_params):
        device = torch.device(_resolve_device(self.device))
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc", "coo"],
                             dtype=(np.float64, np.float32),
                             multi_output=not is_classifier(self), y_numeric=False)
        dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        X = _dense(X, dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            if not sample_weight.sum() > 0:
                raise ValueError("sample_weight must have a positive sum; got all zeros.")
        Y, loss, n_outputs, labels = self._encode(y)
        grid = self._grid()
        cv = check_cv(self.cv, y, classifier=is_classifier(self))
        splits = list(cv.split(X, labels if labels is not None else y,
                               split_params.get("groups")))
        self.n_splits_ = len(splits)
        rs = check_random_state(self.random_state)
        train_rows, valid_rows, fold_weights = [], [], []
        for train, _ in splits:
            weights = self._fold_weights(labels, train, sample_weight, X.shape[0])
            if self.early_stopping:
                train, valid = self._inner_split(train, labels, rs)
                valid_rows.append(valid)
            train_rows.append(train)
            fold_weights.append(weights)
        fold_weights = np.stack(fold_weights)
        # one seed for every fold model, the one the refit draws: a fold model
        # and the refit differ only in their rows
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        # scaling statistics of each fold's training rows (its validation
        # rows included, as in the refitted estimator), never of its test
        # rows, weighted as each fold's objective is
        input_stats = target_stats = None
        if labels is None:
            Y = Y.astype(X.dtype)
        if self.input_scaling == "robust":
            # rows= reads the fold's rows column by column: no copy of X[train]
            input_stats = [tuple(torch.as_tensor(a, device=device) for a in
                                 robust_scaling_stats(X, fold_weights[f], rows=train))
                           for f, (train, _) in enumerate(splits)]
        if getattr(self, "target_scaling", None) == "standard":
            target_stats = [tuple(torch.as_tensor(a, device=device) for a in
                                  target_scaling_stats(Y, fold_weights[f], rows=train))
                            for f, (train, _) in enumerate(splits)]
        data = TrainingData(
            X=torch.as_tensor(X, device=device),
            y=torch.as_tensor(Y if labels is None else Y.astype(np.int64), device=device),
            sample_weight=torch.as_tensor(fold_weights, dtype=dtype, device=device),
            train_rows=train_rows, valid_rows=valid_rows or None,
            input_stats=input_stats, target_stats=target_stats)

        n_splits = len(splits)
        scores = np.full((len(grid), n_splits), np.nan)
        n_iters = np.zeros((len(grid), n_splits))
        fit_times = np.zeros(len(grid))
        score_times = np.zeros(len(grid))
        any_unconverged = False
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        for arch in self._architectures():
            configs = [i for i, g in enumerate(grid) if g["hidden_layer_sizes"] == arch]
            t0 = time.perf_counter()
            n_train = min(len(r) for r in train_rows)
            batch = min(200, n_train) if self.batch_size == "auto" else min(
                self.batch_size, n_train)
            # member m trains configuration configs[m // n_splits] on fold m % n_splits
            param = lambda name: np.repeat([grid[i].get(name, 0.0) for i in configs],  # noqa: E731
                                           n_splits)
            config = TrainingConfig(
                layer_sizes=(X.shape[1], *arch, n_outputs), activation=self.activation,
                loss=loss, batch_size=batch, seeds=np.full(len(configs) * n_splits, seed),
                alpha=param("alpha"), l1_ratio=param("l1_ratio"), dropout=param("dropout"),
                label_smoothing=param("label_smoothing"),
                groups=np.tile(np.arange(n_splits), len(configs)), penalty="elasticnet",
                learning_rate_init=self.learning_rate_init,
                betas=(self.beta_1, self.beta_2), epsilon=self.epsilon,
                max_iter=self.max_iter, tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                early_stopping=self.early_stopping, shuffle=self.shuffle,
                l1_method=self.l1_method, device=device, dtype=dtype)
            work = step_work(config.layer_sizes, batch, n_networks=len(config.seeds))
            with training_threads(device, work):
                result = Trainer(config).train(data)
            fit_time = time.perf_counter() - t0
            any_unconverged |= not result.converged.all()
            t0 = time.perf_counter()
            with torch.no_grad():
                model = StackedMLP(config.layer_sizes, self.activation, len(config.seeds))
                model.to(dtype=dtype, device=device)
                model.coef.copy_(torch.as_tensor(result.coef))
                model.intercept.copy_(torch.as_tensor(result.intercept))
                for f, (_, test) in enumerate(splits):
                    X_test = torch.as_tensor(X[test], device=device)
                    if input_stats is not None:
                        robust_scale_tensor_(X_test, *input_stats[f])
                    out = model(X_test)
                    if target_stats is not None:
                        out = out * target_stats[f][1] + target_stats[f][0]
                    out = out.double().cpu().numpy().reshape(len(config.seeds), len(test), -1)
                    for c, i in enumerate(configs):
                        m = c * n_splits + f
                        n_iters[i, f] = result.n_iter[m]
                        if result.diverged[m]:
                            continue  # scored nan, ranked last
                        scores[i, f] = self._score(out[m], X[test], y[test], scorer)
            score_time = time.perf_counter() - t0
            fit_times[configs] = fit_time / len(configs)
            score_times[configs] = score_time / len(configs)
            if self.verbose:
                print(f"[{type(self).__name__}] hidden_layer_sizes={arch}: "
                      f"{len(configs)} configurations x {n_splits} folds in {fit_time:.2f} s")
        if np.isnan(scores).all():
            raise ValueError(
                "Every configuration diverged (non-finite training loss) in every fold. "
                "Try a smaller learning_rate_init or scale the input features.")
        if np.isnan(scores).any():
            warnings.warn(
                f"{int(np.isnan(scores).any(1).sum())} of {len(grid)} configurations "
                "diverged in at least one fold; their scores are nan and they rank last.",
                UserWarning, stacklevel=3)
        if any_unconverged:
            warnings.warn(
                f"Some fold models reached max_iter={self.max_iter} without converging; "
                "consider raising max_iter.", ConvergenceWarning, stacklevel=3)
        self._store_results(grid, scores, n_iters, fit_times, score_times)

        best = grid[self.best_index_]
        self.best_params_ = dict(best)
        for name, value in best.items():
            setattr(self, f"{name}_", value)
        t0 = time.perf_counter()
        self.best_estimator_ = self._estimator_class(
            **self._base_params(), **self._refit_extra(), **best)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.best_estimator_.fit(X, y, sample_weight=sample_weight)
        self.refit_time_ = time.perf_counter() - t0
        self.n_iter_ = self.best_estimator_.n_iter_
        return self

    def _refit_extra(self):
        return {}

    def _inner_split(self, train, labels, rs):
        stratify = labels[train] if labels is not None else None
        n_val = int(np.ceil(self.validation_fraction * len(train)))
        if n_val < 2 or len(train) - n_val < 1:
            raise ValueError(
                f"The validation set is too small: validation_fraction="
                f"{self.validation_fraction} of a fold's {len(train)} training samples "
                f"gives {n_val} validation samples, at least 2 are needed. Increase "
                "'validation_fraction' or the size of your dataset, or set "
                "early_stopping=False.")
        try:
            return train_test_split(train, test_size=self.validation_fraction,
                                    random_state=rs, stratify=stratify)
        except ValueError as exc:
            raise ValueError(
                "Cannot make a stratified validation split for early stopping with "
                f"validation_fraction={self.validation_fraction}: {exc}") from None

    def _fold_weights(self, labels, train, sample_weight, n_samples):
        return np.ones(n_samples) if sample_weight is None else sample_weight.copy()

    def _store_results(self, grid, scores, n_iters, fit_times, score_times):
        n_splits = scores.shape[1]
        results = {
            "mean_fit_time": fit_times,
            "std_fit_time": np.zeros(len(grid)),
            "mean_score_time": score_times,
            "std_score_time": np.zeros(len(grid)),
        }
        for name in grid[0]:
            column = np.ma.MaskedArray(np.empty(len(grid), dtype=object), mask=False)
            for i, g in enumerate(grid):
                column[i] = g[name]
            results[f"param_{name}"] = column
        results["params"] = [dict(g) for g in grid]
        for f in range(n_splits):
            results[f"split{f}_test_score"] = scores[:, f]
        mean = scores.mean(1)
        results["mean_test_score"] = mean
        results["std_test_score"] = scores.std(1)
        ranked = np.where(np.isnan(mean), -np.inf, mean)
        # GridSearchCV's ranking: equal scores share the smallest rank
        order = np.unique(-ranked, return_inverse=True)[1]
        counts = np.bincount(order)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) + 1
        results["rank_test_score"] = starts[order].astype(np.int32)
        results["mean_n_iter"] = n_iters.mean(1)
        self.cv_results_ = results
        self.best_index_ = int(np.argmax(ranked))
        self.best_score_ = float(mean[self.best_index_])

    # ---------------------------------------------------------------- predict
    def predict(self, X):
        """Predict with the refitted best estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray
            ``best_estimator_.predict(X)``.
        """
        self._check_input(X)
        return self.best_estimator_.predict(X)

    def _check_input(self, X):
        """Fitted, and ``X`` has the features seen in ``fit`` (named after this class)."""
        check_is_fitted(self)
        # no conversion kept: the refitted estimator validates X itself
        validate_data(self, X, reset=False, accept_sparse=True, dtype=None,
                      ensure_all_finite=False)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "best_estimator_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class RegularizedMLPClassifierCV(ClassifierMixin, _BaseRegularizedMLPCV):
    __doc__ = f"""Regularized MLP classifier with the regularization chosen by cross-validation.

    Every configuration of the grid ``alphas x l1_ratios x dropouts x
    label_smoothings x hidden_layer_sizes`` is trained on every fold; the
    configuration with the best mean test score is refitted on all the data
    as a :class:`~skreg.RegularizedMLPClassifier` (``solver='adam'``,
    ``penalty='elasticnet'``). The fold models of one architecture train
    together as one batched network, each with its own penalty, dropout,
    label smoothing, optimizer state and stopping rule, which is much
    faster than fitting them one by one
    (:class:`~sklearn.model_selection.GridSearchCV`).

    Parameters
    ----------
{_GRID_DOC}
    label_smoothings : array-like of float in [0, 1), default=(0.0,)
        Label smoothing values ``eps`` to try (targets ``1 - eps`` and
        ``eps / (K - 1)``).

    class_weight : dict, 'balanced' or None, default=None
        As in :class:`~skreg.RegularizedMLPClassifier`; 'balanced' weights
        are computed on each fold's training rows.
{_TRAIN_DOC}
    Attributes
    ----------
{_ATTRIBUTES_DOC}
    label_smoothing_ : float
        The chosen label smoothing.

    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    RegularizedMLPClassifier : The estimator with fixed regularization.
    sklearn.linear_model.LogisticRegressionCV : The linear counterpart.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skreg import RegularizedMLPClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> search = make_pipeline(StandardScaler(), RegularizedMLPClassifierCV(
    ...     alphas=[1e-3, 1e-1, 1.0], dropouts=[0.0, 0.2], hidden_layer_sizes=(32,),
    ...     max_iter=30, random_state=0)).fit(X, y)
    >>> cv = search[-1]
    >>> len(cv.cv_results_["params"])
    6
    >>> cv.best_score_ > 0.95
    True
    """

    _parameter_constraints: dict = {
        **_BaseRegularizedMLPCV._parameter_constraints,
        "label_smoothings": ["array-like", Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _estimator_class = RegularizedMLPClassifier

    def __init__(self, alphas=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), l1_ratios=(0.0,),
                 dropouts=(0.0,), label_smoothings=(0.0,), hidden_layer_sizes=(100,), *,
                 cv=5, scoring=None, class_weight=None, activation="relu",
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 l1_method="proximal", beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 shuffle=True, random_state=None, device="cpu", verbose=0,
                 input_scaling="robust"):
        self.alphas = alphas
        self.l1_ratios = l1_ratios
        self.dropouts = dropouts
        self.label_smoothings = label_smoothings
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cv = cv
        self.scoring = scoring
        self.class_weight = class_weight
        self.activation = activation
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.l1_method = l1_method
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.input_scaling = input_scaling

    def _extra_axes(self):
        return {"label_smoothing": _as_values("label_smoothings", self.label_smoothings,
                                              0.0, 1.0, False)}

    def _refit_extra(self):
        return {"class_weight": self.class_weight}

    def _encode(self, y):
        y = column_or_1d(y, warn=True)
        target_type = type_of_target(y, input_name="y")
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {target_type!r}. RegularizedMLPClassifierCV "
                "supports binary and multiclass targets; for regression use "
                "RegularizedMLPRegressorCV.")
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            only = self.classes_[0]
            only = only.item() if isinstance(only, np.generic) else only
            raise ValueError(
                "RegularizedMLPClassifierCV needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {only!r}.")
        labels = self._encoder.transform(y)
        n_classes = len(self.classes_)
        loss = LOSSES["binary_log_loss"](1) if n_classes == 2 else LOSSES["log_loss"](n_classes)
        return labels, loss, 1 if n_classes == 2 else n_classes, labels

    def _fold_weights(self, labels, train, sample_weight, n_samples):
        w = np.ones(n_samples) if sample_weight is None else sample_weight.copy()
        if self.class_weight is None:
            return w
        # 'balanced' counts the fold's training rows only
        w[train] *= class_sample_weight(self.class_weight, self._encoder, labels[train])
        return w

    def _score(self, out, X_test, y_test, scorer):
        if out.shape[1] == 1:
            decision = out[:, 0]
            p1 = 1.0 / (1.0 + np.exp(-decision))
            proba = np.column_stack([1 - p1, p1])
            pred = self.classes_[(decision > 0).astype(int)]
        else:
            decision = out
            e = np.exp(out - out.max(1, keepdims=True))
            proba = e / e.sum(1, keepdims=True)
            pred = self.classes_[out.argmax(1)]
        if scorer is None:
            return float(np.mean(pred == y_test))
        stand_in = _PrecomputedClassifier({"predict": pred, "predict_proba": proba,
                                           "decision_function": decision})
        stand_in.classes_ = self.classes_
        return float(scorer(stand_in, X_test, y_test))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the grid, then refit the best configuration on all the data.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training objective (as in the plain
            estimator), used in every fold and in the refit; the fold scores
            are unweighted, as in GridSearchCV.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, groups=groups)

    def predict_proba(self, X):
        """Class probabilities from the refitted best estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        self._check_input(X)
        return self.best_estimator_.predict_proba(X)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        self._check_input(X)
        return self.best_estimator_.predict_log_proba(X)

    def decision_function(self, X):
        """Logits from the refitted best estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        self._check_input(X)
        return self.best_estimator_.decision_function(X)


class RegularizedMLPRegressorCV(RegressorMixin, _BaseRegularizedMLPCV):
    __doc__ = f"""Regularized MLP regressor with the regularization chosen by cross-validation.

    Every configuration of the grid ``alphas x l1_ratios x dropouts x
    hidden_layer_sizes`` is trained on every fold; the configuration with
    the best mean test score is refitted on all the data as a
    :class:`~skreg.RegularizedMLPRegressor` (``solver='adam'``,
    ``penalty='elasticnet'``). The fold models of one architecture train
    together as one batched network, each with its own penalty, dropout,
    optimizer state and stopping rule, which is much faster than fitting
    them one by one (:class:`~sklearn.model_selection.GridSearchCV`).

    Parameters
    ----------
{_GRID_DOC}{_TRAIN_DOC}
    target_scaling : {'standard'} or None, default='standard'
        As in :class:`~skreg.RegularizedMLPRegressor`: 'standard' trains on
        ``(y - mean) / std``; each fold's mean and std come from its
        training rows only.

    Attributes
    ----------
{_ATTRIBUTES_DOC}
    See Also
    --------
    RegularizedMLPRegressor : The estimator with fixed regularization.
    sklearn.linear_model.ElasticNetCV : The linear counterpart.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skreg import RegularizedMLPRegressorCV
    >>> X, y = make_friedman1(n_samples=400, random_state=0)
    >>> search = RegularizedMLPRegressorCV(
    ...     alphas=[1e-3, 1e-1], l1_ratios=[0.0, 0.5], hidden_layer_sizes=(32,),
    ...     max_iter=50, random_state=0).fit(X, y)
    >>> sorted(search.best_params_)
    ['alpha', 'dropout', 'hidden_layer_sizes', 'l1_ratio']
    >>> search.best_score_ > 0.5
    True
    """

    _estimator_class = RegularizedMLPRegressor
    _extra_base_params = ("target_scaling",)
    _parameter_constraints: dict = {
        **_BaseRegularizedMLPCV._parameter_constraints,
        "target_scaling": [StrOptions({"standard"}), None],
    }

    def __init__(self, alphas=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), l1_ratios=(0.0,),
                 dropouts=(0.0,), hidden_layer_sizes=(100,), *, cv=5, scoring=None,
                 activation="relu", batch_size="auto", learning_rate_init=0.001,
                 max_iter=200, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, l1_method="proximal", beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, shuffle=True, random_state=None,
                 device="cpu", verbose=0, input_scaling="robust",
                 target_scaling="standard"):
        self.alphas = alphas
        self.l1_ratios = l1_ratios
        self.dropouts = dropouts
        self.hidden_layer_sizes = hidden_layer_sizes
        self.cv = cv
        self.scoring = scoring
        self.activation = activation
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.l1_method = l1_method
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.shuffle = shuffle
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.input_scaling = input_scaling
        self.target_scaling = target_scaling

    def _encode(self, y):
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    "RegularizedMLPRegressorCV needs numeric targets; got y with dtype "
                    f"{y.dtype}.") from None
        y2d = y.reshape(-1, 1) if y.ndim == 1 else y
        return y2d, LOSSES["squared_error"](y2d.shape[1]), y2d.shape[1], None

    def _score(self, out, X_test, y_test, scorer):
        pred = out[:, 0] if np.ndim(y_test) == 1 else out
        if scorer is None:
            from sklearn.metrics import r2_score
            return float(r2_score(y_test, pred))
        return float(scorer(_PrecomputedRegressor({"predict": pred}), X_test, y_test))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the grid, then refit the best configuration on all the data.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training objective, used in every
            fold and in the refit; the fold scores are unweighted.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, groups=groups)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
