"""RegularizedMLPClassifierCV and RegularizedMLPRegressorCV.

Cross-validated choice of the regularization, in the spirit of
:class:`sklearn.linear_model.ElasticNetCV`: every (configuration, fold)
pair is one fit, specified as the plain estimator with that configuration
fitted on the fold's training rows would be (:func:`skreg._spec.fit_spec`),
and the fits whose shared settings agree train together as one stack of the
one engine, each with its own rows, penalty, dropout, label smoothing,
optimizer state and stopping rule (:mod:`skreg._crossval`). Racing
(:mod:`skreg._racing`) stops losing configurations early. The fitted search
then predicts with the average of the best configuration's fold models,
each the plain estimator fitted on its fold's training rows (made from the
trained weights, without training again), or with the best configuration
refitted on all the data (``refit=True``); greedy ensemble selection
(:mod:`skreg._selection`) can average several configurations instead.

This module holds the estimators: their parameters (every parameter of the
plain estimator, the signature derived from the plain estimator's, with the
grid axes ``alphas``, ``l1_ratios``, ``dropouts``, ``label_smoothings``,
``hidden_layer_sizes``, ``numeric_embeddings`` and ``param_grid`` for any
searchable strength or rate), the grid, the validation of the data, the
results in GridSearchCV's format, and prediction through the fitted
estimators' weighted average.
"""

import inspect
import itertools
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (BaseEstimator, ClassifierMixin, MetaEstimatorMixin,
                          RegressorMixin, _fit_context, clone, is_classifier)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from ._base import fit_transaction
from ._classifier import RegularizedMLPClassifier
from ._crossval import Folds, Refit, SearchFit
from ._engine import regularizer_params
from ._mixins import AccuracyScoreMixin, R2ScoreMixin
from ._inputs import dense, encode_table, resolve_device
from ._params_doc import (SEARCH_ATTRIBUTES, search_grid_doc, search_notes,
                          search_shared_doc)
from ._regressor import RegularizedMLPRegressor
from ._selection import greedy_selection
from ._spec import warn_batch_size
from ._tabular import _is_dataframe, _to_pandas

#: The default grid: what a search with every grid parameter left at None
#: tries (see docs/search.md for the measurements behind these values). The
#: grid parameters left at None take these values as their docstrings say.
DEFAULT_GRID = {
    "alphas": (1e-4, 0.3, 1.0, 3.0),
    "dropouts": (0.0, 0.2, 0.5),
    "numeric_embeddings": ("plr",),
    "hidden_layer_sizes": ((100,),),
}

#: each grid axis of a search, by the name of the plain parameter it searches
AXES = {"alpha": "alphas", "l1_ratio": "l1_ratios", "dropout": "dropouts",
        "label_smoothing": "label_smoothings", "numeric_embedding": "numeric_embeddings",
        "hidden_layer_sizes": "hidden_layer_sizes"}

#: the optimizer's rates ``param_grid`` may search, next to the regularizers'
#: parameters declared searchable (:class:`skreg._engine.Param`)
SEARCHABLE_PARAMS = ("learning_rate_init", "momentum", "beta_1", "beta_2", "power_t")

#: the search's defaults of plain parameters that differ from the plain
#: estimators' (the ``l1_ratios`` axis is elastic net's)
SEARCH_DEFAULTS = {"penalty": "elasticnet"}

def searchable_params():
    """The plain parameters ``param_grid`` accepts."""
    return {param.name for param in regularizer_params() if param.searchable} | set(
        SEARCHABLE_PARAMS)


def _search_signature(plain, own):
    """A search's ``__init__`` signature: ``own`` parameters, then every plain one it shares.

    ``own`` lists ``(name, default, keyword_only)``. Every parameter of the
    plain estimator ``plain`` that no grid axis replaces follows,
    keyword-only, with the plain default (but :data:`SEARCH_DEFAULTS`): a
    parameter added to the plain estimators is a search's too.
    """
    P = inspect.Parameter
    params = [P("self", P.POSITIONAL_OR_KEYWORD)]
    params += [P(name, P.KEYWORD_ONLY if keyword else P.POSITIONAL_OR_KEYWORD, default=default)
               for name, default, keyword in own]
    taken = {name for name, _, _ in own} | set(AXES)
    params += [P(name, P.KEYWORD_ONLY, default=SEARCH_DEFAULTS.get(name, p.default))
               for name, p in inspect.signature(plain.__init__).parameters.items()
               if name != "self" and name not in taken]
    return inspect.Signature(params)


def _search_init(signature):
    """An ``__init__`` that stores its arguments, as scikit-learn's do, with this signature.

    scikit-learn's ``get_params`` and ``clone`` read the signature.
    """
    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


def _is_grid(sizes):
    return (hasattr(sizes, "__iter__") and len(sizes) > 0
            and all(hasattr(s, "__iter__") for s in sizes))


def _as_values(name, values, low, high, high_closed, auto=False):
    """Validate a grid of floats (and 'auto' if allowed), keeping order, dropping duplicates."""
    values = list(values) if np.ndim(values) else [values]
    strings = [v for v in values if isinstance(v, str)]
    if auto and all(v == "auto" for v in strings):
        numbers = [v for v in values if not isinstance(v, str)]
    elif strings:
        raise ValueError(f"{name} must contain floats; got {values!r}.")
    else:
        numbers = values
    arr = np.asarray(numbers, dtype=float).ravel()
    if not values:
        raise ValueError(f"{name} must contain at least one value; got {values!r}.")
    upper_bad = arr > high if high_closed else arr >= high
    if np.any(~np.isfinite(arr)) or np.any(arr < low) or np.any(upper_bad):
        bracket = "]" if high_closed else ")"
        raise ValueError(
            f"{name} must contain floats in [{low}, {high}{bracket}; got {values!r}.")
    floats = iter(arr.tolist())
    return list(dict.fromkeys(v if isinstance(v, str) else next(floats) for v in values))


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

    #: the search's own parameters' constraints; the plain ones are the
    #: plain estimator's (see :func:`_search_constraints`)
    _own_constraints: dict = {
        "alphas": ["array-like", Interval(Real, 0, None, closed="left"),
                   StrOptions({"auto"}), None],
        "l1_ratios": ["array-like", Interval(Real, 0, 1, closed="both"), None],
        "dropouts": ["array-like", Interval(Real, 0, 1, closed="left"), None],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left"),
                               None],
        "numeric_embeddings": ["array-like", None],
        "param_grid": [dict, None],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "racing": ["boolean"],
        "race_factor": [Interval(Real, 1, None, closed="neither")],
        "race_min_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "refit": ["boolean"],
        "ensemble_selection": [Interval(Integral, 0, None, closed="left")],
    }
    #: the search's own parameters: (name, default, keyword-only)
    _own_params = (
        ("alphas", None, False), ("l1_ratios", None, False), ("dropouts", None, False),
        ("hidden_layer_sizes", None, False), ("numeric_embeddings", None, True),
        ("param_grid", None, True), ("cv", 5, True), ("scoring", None, True),
        ("racing", True, True), ("race_factor", 3, True), ("race_min_epochs", "auto", True),
        ("refit", False, True), ("ensemble_selection", 0, True),
    )
    _estimator_class = None

    # ------------------------------------------------------------ parameters
    @classmethod
    def _plain_names(cls):
        """The plain estimator's parameters this search shares (all but the axes)."""
        own = {name for name, _, _ in cls._own_params}
        return [name for name in cls._get_param_names() if name not in own]

    def _plain(self, configuration=None):
        """The plain estimator with the search's values and those of ``configuration``."""
        params = {name: getattr(self, name) for name in self._plain_names()}
        return self._estimator_class(**{**params, **(configuration or {})})

    # ------------------------------------------------------------------ grid
    def _architectures(self):
        sizes = self.hidden_layer_sizes
        if sizes is None:
            sizes = list(DEFAULT_GRID["hidden_layer_sizes"])
        grid = [tuple(s) for s in sizes] if _is_grid(sizes) else [
            tuple(sizes) if hasattr(sizes, "__iter__") else (sizes,)]
        for arch in grid:
            if not arch or any(not isinstance(s, Integral) or isinstance(s, bool) or s <= 0
                               for s in arch):
                raise ValueError(
                    "hidden_layer_sizes must be a tuple of positive integers or a list "
                    f"of such tuples; got {self.hidden_layer_sizes!r}.")
        return list(dict.fromkeys(grid))

    def _embeddings(self):
        """The ``numeric_embedding`` values searched: None (none) and / or 'plr'."""
        values = (DEFAULT_GRID["numeric_embeddings"] if self.numeric_embeddings is None
                  else list(self.numeric_embeddings))
        if not len(values) or any(v not in (None, "plr") for v in values):
            raise ValueError(
                "numeric_embeddings must be a non-empty list of None and 'plr'; got "
                f"{self.numeric_embeddings!r}.")
        return list(dict.fromkeys(values))

    def _param_grid_axes(self):
        """The axes of ``param_grid``, validated against the searchable parameters."""
        if not self.param_grid:
            return {}
        allowed, axes = searchable_params(), {}
        for name, values in self.param_grid.items():
            if name in AXES:
                raise ValueError(
                    f"param_grid cannot search {name!r}: it is searched with "
                    f"{AXES[name]}={list(values) if np.ndim(values) else values!r}.")
            if name not in allowed:
                raise ValueError(
                    f"param_grid cannot search {name!r}: the searchable parameters are "
                    f"{sorted(allowed)} (strengths and rates); give any other parameter "
                    "of the plain estimator one value, as the search's own parameter.")
            if isinstance(values, str) or not np.ndim(values) or not len(values):
                raise ValueError(
                    f"param_grid[{name!r}] must be a non-empty list of values; got "
                    f"{values!r}.")
            axes[name] = list(dict.fromkeys(values))
        return axes

    def _grid(self):
        """Configurations as dicts of plain-estimator parameters, sorted like ParameterGrid."""
        # the default grid unless some regularization values are given (then
        # the axes left at None are not searched, but for the strengths)
        default = not self.param_grid and all(
            getattr(self, name, None) is None
            for name in ("alphas", "l1_ratios", "dropouts", "label_smoothings"))
        if self.l1_ratios is not None and self.penalty != "elasticnet":
            raise ValueError(
                f"l1_ratios={self.l1_ratios!r} searches the mix of penalty='elasticnet'; "
                f"got penalty={self.penalty!r}.")
        alphas = DEFAULT_GRID["alphas"] if self.alphas is None else self.alphas
        dropouts = self.dropouts if self.dropouts is not None else (
            DEFAULT_GRID["dropouts"] if default else (0.0,))
        l1_ratios = (0.0,) if self.l1_ratios is None else self.l1_ratios
        axes = {
            "alpha": _as_values("alphas", alphas, 0.0, np.inf, False, auto=True),
            "dropout": _as_values("dropouts", dropouts, 0.0, 1.0, False),
            "hidden_layer_sizes": self._architectures(),
            "l1_ratio": _as_values("l1_ratios", l1_ratios, 0.0, 1.0, True),
            **self._extra_axes(),
            **self._param_grid_axes(),
        }
        # a single value equal to the plain estimators' default is no axis
        # (results and best_params_ then read as without embeddings searched)
        plain_default = self._estimator_class().numeric_embedding
        if self._embeddings() != [plain_default]:
            axes["numeric_embedding"] = self._embeddings()
        names = sorted(axes)
        return [dict(zip(names, values))
                for values in itertools.product(*(axes[k] for k in names))]

    def _extra_axes(self):
        return {}

    def _configurations(self, template, grid):
        """The plain estimator of each configuration, its parameters validated.

        The fold models print nothing (the search's ``verbose`` is its own).
        """
        estimators = []
        for configuration in grid:
            estimator = clone(template).set_params(**configuration, verbose=False)
            estimator._validate_params()
            estimators.append(estimator)
        return estimators

    def _rung_epochs(self, n_configs):
        """The epochs after which the race eliminates configurations (none without racing).

        Rung ``k`` is after epoch ``e_k = max(e_{k-1} + 1, floor(r * factor**k))``
        for every ``e_k < max_iter``, with ``r = race_min_epochs``; 'auto' is
        ``max(1, max_iter // factor**K)``, ``K`` the number of rungs that
        leave one of ``n_configs`` configurations (``factor**K >= n_configs``).
        """
        if not self.racing or n_configs < 2:
            return []
        factor = float(self.race_factor)
        first = self.race_min_epochs
        if first == "auto":
            n_rungs = 0
            while factor ** n_rungs < n_configs:
                n_rungs += 1
            first = max(1, int(self.max_iter // factor ** n_rungs))
        epochs = []
        while True:
            epoch = int(first * factor ** len(epochs))
            if epochs:
                epoch = max(epoch, epochs[-1] + 1)
            if epoch >= self.max_iter:
                return epochs
            epochs.append(epoch)

    # ------------------------------------------------------------------- fit
    def _validate_input(self, X, y, template):
        """``(X_raw, X, y)``: X as the fold models see it, encoded by ``encoder_``.

        A table that the plain estimator would encode (see
        ``categorical_features``) is encoded here once, by the encoder the
        refit makes (the same parameters; ``template`` keeps it);
        ``X_raw`` is what the refit gets.
        """
        self.encoder_ = template.encoder_ = None
        if self.categorical_features is not None and not sp.issparse(X):
            X_raw, encode = template._route_input(X)
            if encode:
                encoder = template._new_encoder(X_raw)
                X = encode_table(self, encoder, X_raw, True, self.max_onehot_categories)
                X, y = check_X_y(X, y, dtype=(np.float64, np.float32), multi_output=True,
                                 y_numeric=False, estimator=self)
                self.encoder_ = template.encoder_ = encoder
                return X_raw, X, y
            X = X_raw
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc", "coo"],
                             dtype=(np.float64, np.float32), multi_output=True,
                             y_numeric=False)
        return X, X, y

    def _targets(self, template, X, y, sample_weight):
        """``(targets, labels, sample_weight)``: y encoded as the plain estimator encodes it."""
        targets, labels = template._validate_targets(y, False, True)
        self._check_targets(template)
        targets = template._float_targets(targets, X.dtype)
        sample_weight = template._sample_weights(X, sample_weight)
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError("sample_weight must give the samples a positive total weight; "
                             "got all zeros.")
        return targets, labels, sample_weight

    def _check_targets(self, template):
        """A search's own conditions on the encoded targets (a classifier's classes)."""

    def _fit(self, X, y, sample_weight=None, groups=None):
        """:meth:`_search_and_fit` as one transaction (see :func:`~skreg._base.fit_transaction`).

        A search that does not end (an error, Ctrl-C) leaves the estimator
        as it was: its previous model, or unfitted.
        """
        with fit_transaction(self):
            return self._search_and_fit(X, y, sample_weight, groups)

    def _search_and_fit(self, X, y, sample_weight, groups):
        """Cross-validate the grid's configurations, then make the fitted model.

        The fold models of the chosen configurations as fitted plain
        estimators (``refit=False``), or their refits on all the data.
        """
        template = self._plain()
        template._check_raw_targets(y)
        grid = self._grid()
        estimators = self._configurations(template, grid)
        device = resolve_device(self.device)
        X_raw, X, y = self._validate_input(X, y, template)
        X = dense(X, torch.float32 if X.dtype == np.float32 else torch.float64)
        targets, labels, sample_weight = self._targets(template, X, y, sample_weight)
        if labels is not None:
            y = np.ravel(y)  # a column of labels: the plain classifier warned
        cv = check_cv(self.cv, y, classifier=is_classifier(self))
        splits = list(cv.split(X, y if labels is None else labels, groups))
        self.n_splits_ = len(splits)
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        folds = Folds(self, template, X, y, targets, labels, sample_weight, splits, device,
                      scorer)
        for f in range(len(splits)):
            warn_batch_size(template, len(folds.fit_rows[f]), stacklevel=4)
        refit = Refit(self, X_raw, y, sample_weight) if self.refit else None
        search = SearchFit(self, grid, estimators, folds, refit,
                           keep_outputs=self.ensemble_selection > 0)
        search.run()
        self._warn_outcome(search, len(grid))
        self._store_results(grid, search.scores, search.n_iters, search.fit_times,
                            search.score_times, search.rungs())
        best = grid[self.best_index_]
        self.best_params_ = dict(best)
        for name, value in best.items():
            setattr(self, f"{name}_", value)
        self.fold_models_ = search.best_fold_models(self.best_index_)
        self.ensemble_weights_, self.ensemble_score_ = self._select_ensemble(search)
        # the best configuration first, then the others picked, in grid order
        picked = [self.best_index_, *(c for c in np.flatnonzero(self.ensemble_weights_)
                                      if c != self.best_index_)]
        if self.refit:
            self._refit_estimators(refit, grid, picked)
        else:
            self._fold_estimators(search, grid, picked)
        return self

    def _select_ensemble(self, search):
        """``(ensemble_weights_, ensemble_score_)``: each configuration's weight, and their score.

        Without ``ensemble_selection``, the best configuration alone (its
        ``best_score_``); with it, the greedy ensemble
        (:func:`~skreg._selection.greedy_selection`) over the finalists whose
        every fold model has a score, by their out-of-fold outputs.
        """
        results = self.cv_results_
        weights = np.zeros(len(results["params"]))
        finalists = np.flatnonzero((results["iter"] == len(self.n_resources_) - 1)
                                   & np.isfinite(results["mean_test_score"]))
        if not self.ensemble_selection or not len(finalists):
            weights[self.best_index_] = 1.0
            return weights, self.best_score_
        counts, score = greedy_selection(finalists.tolist(), self.ensemble_selection,
                                         search.ensemble_score)
        for c, count in counts.items():
            weights[c] = count
        return weights / weights.sum(), score

    def _refit_estimators(self, refit, grid, picked):
        """``estimators_``: the configurations ``picked`` refitted on all the data."""
        estimators, self.refit_time_ = [], 0.0
        for c in picked:
            estimator, seconds = refit.result(c, grid[c])
            estimators.append(estimator)
            self.refit_time_ += seconds
        self.best_estimator_ = estimators[0]
        self.estimators_ = estimators
        self.weights_ = self.ensemble_weights_[picked]
        self.n_iter_ = self.best_estimator_.n_iter_

    def _fold_estimators(self, search, grid, picked):
        """``estimators_``: the fold models of the configurations ``picked``, as plain estimators.

        Each configuration's weight is shared by its fold models; those
        whose fit diverged are left out, with a warning.
        """
        t0 = time.perf_counter()
        estimators, weights = [], []
        for c in picked:
            fold_estimators = search.fold_estimators(c, grid[c])
            kept = [estimator for estimator in fold_estimators if estimator is not None]
            if len(kept) < len(fold_estimators):
                warnings.warn(
                    f"{len(fold_estimators) - len(kept)} of the {len(fold_estimators)} fold "
                    f"models of configuration {c} ({grid[c]}) diverged; the model averages "
                    "the others.", UserWarning, stacklevel=5)
            estimators += kept
            weights += [self.ensemble_weights_[c] / max(len(kept), 1)] * len(kept)
        if not estimators:
            raise ValueError(
                f"Every fold model of the chosen configuration {grid[picked[0]]} diverged: "
                "there is no model to average. Try a smaller learning_rate_init, scale the "
                "input features, or set refit=True.")
        self.__dict__.pop("best_estimator_", None)  # a refit=True fit's, before this one
        self.estimators_ = estimators
        self.weights_ = np.asarray(weights) / np.sum(weights)
        self.n_iter_ = max(estimator.n_iter_ for estimator in estimators)
        self.refit_time_ = time.perf_counter() - t0

    def _warn_outcome(self, search, n_configs):
        """Errors and warnings of diverged and unconverged fold models."""
        scores = search.scores
        if np.isnan(scores).all():
            raise ValueError(
                "Every configuration diverged (non-finite training loss) in every fold. "
                "Try a smaller learning_rate_init or scale the input features.")
        if np.isnan(scores).any():
            warnings.warn(
                f"{int(np.isnan(scores).any(1).sum())} of {n_configs} configurations "
                "diverged in at least one fold; their scores are nan and they rank last.",
                UserWarning, stacklevel=4)
        if search.any_unconverged:
            warnings.warn(
                f"Some fold models reached max_iter={self.max_iter} without converging; "
                "consider raising max_iter.", ConvergenceWarning, stacklevel=4)

    def _score(self, outputs, X_test, y_test, scorer):
        """A fold model's score from its outputs (``scorer``, or the estimators' ``score``)."""
        stand_in = self._stand_in(outputs)
        if scorer is None:
            return float(stand_in.score(X_test, y_test))
        return float(scorer(stand_in, X_test, y_test))

    def _store_results(self, grid, scores, n_iters, fit_times, score_times, rungs):
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
        # the last iteration (HalvingGridSearchCV's ``iter``) each
        # configuration took part in: its rung of elimination, or the final one
        n_rungs = len(rungs.epochs)
        iters = np.where(rungs.iter < 0, n_rungs, rungs.iter)
        budgets = np.asarray([*rungs.epochs, self.max_iter])
        ranked = np.where(np.isnan(mean), -np.inf, mean)
        # GridSearchCV's ranking (equal scores share the smallest rank, nan
        # last), the configurations that got further first: rank 1 is the
        # best finalist, as HalvingGridSearchCV chooses the best of its last
        # iteration
        further = np.where(np.isnan(mean), -1, iters)
        order = np.unique(np.column_stack([-further, -ranked]), axis=0,
                          return_inverse=True)[1].ravel()
        counts = np.bincount(order)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) + 1
        results["rank_test_score"] = starts[order].astype(np.int32)
        results["mean_n_iter"] = n_iters.mean(1)
        results["iter"] = iters.astype(np.int64)
        results["n_resources"] = budgets[iters].astype(np.int64)
        self.cv_results_ = results
        self.n_resources_ = budgets.tolist()
        self.n_candidates_ = [int((iters >= k).sum()) for k in range(n_rungs + 1)]
        self.best_index_ = int(np.argmin(results["rank_test_score"]))
        self.best_score_ = float(mean[self.best_index_])

    # ---------------------------------------------------------------- predict
    def _averaged(self, X, method):
        """``method``'s output of the fitted model: the weighted average of ``estimators_``.

        One estimator's own output when there is one (``weights_ == [1]``);
        else the average of their ``predict_proba`` (classifiers) or
        ``predict`` (regressors), through the plain estimator's ``_averaged``.
        """
        self._check_input(X)
        estimators = self.estimators_
        if len(estimators) == 1:
            return getattr(estimators[0], method)(X)
        name = estimators[0]._averaged_output
        outputs = [getattr(estimator, name)(X) for estimator in estimators]
        return estimators[0]._averaged(outputs, self.weights_)[method]

    def predict(self, X):
        """Predict with the weighted average of ``estimators_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray
            A classifier's labels of highest averaged probability (see
            :meth:`predict_proba`; multilabel: the labels whose averaged
            probability exceeds 1/2); a regressor's ``sum_k weights_[k] *
            estimators_[k].predict(X)``. With one estimator (``refit=True``
            without ensemble selection: ``best_estimator_``), its
            ``predict(X)``.
        """
        return self._averaged(X, "predict")

    def _check_input(self, X):
        """Fitted, and ``X`` has the features seen in ``fit`` (named after this class)."""
        check_is_fitted(self)
        # no conversion kept: the fitted estimators validate X themselves
        if getattr(self, "encoder_", None) is not None:
            X = _to_pandas(X)
            if _is_dataframe(X):
                validate_data(self, X, reset=False, skip_check_array=True)
                return
        validate_data(self, X, reset=False, accept_sparse=True, dtype=None,
                      ensure_all_finite=False)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "estimators_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # NaN is imputed by the encoder, as in the plain estimators
        tags.input_tags.allow_nan = self.categorical_features is not None
        return tags


def _search_constraints(plain, own):
    """A search's constraints: the plain estimator's (but the axes'), then its own."""
    return {**{name: constraint for name, constraint in plain._parameter_constraints.items()
               if name not in AXES}, **own}


def _search_docstring(summary, plain, own, shared, tail):
    """A search's docstring: ``summary``, its Parameters (own, then the plain ones shared)."""
    return (summary + "\n    Parameters\n    ----------\n" + own + "\n"
            + search_shared_doc(plain, shared) + tail)


_CLASSIFIER_OWN = (
    *_BaseRegularizedMLPCV._own_params[:3], ("label_smoothings", None, False),
    *_BaseRegularizedMLPCV._own_params[3:])
_CLASSIFIER_SIGNATURE = _search_signature(RegularizedMLPClassifier, _CLASSIFIER_OWN)
_REGRESSOR_SIGNATURE = _search_signature(RegularizedMLPRegressor,
                                         _BaseRegularizedMLPCV._own_params)


def _shared(signature, own):
    """The plain parameters of a search's signature (those after its own)."""
    names = {name for name, _, _ in own}
    return [name for name in list(signature.parameters)[1:] if name not in names]


class RegularizedMLPClassifierCV(AccuracyScoreMixin, _BaseRegularizedMLPCV):
    __doc__ = _search_docstring(
        """Regularized MLP classifier with the regularization chosen by cross-validation.

    Every configuration of the grid ``alphas x l1_ratios x dropouts x
    label_smoothings x hidden_layer_sizes`` (x ``numeric_embeddings`` x the
    axes of ``param_grid``) is trained on every fold, racing (successive
    halving: the losing configurations stop early, see ``racing``); the
    configuration with the best mean test score among those left at the end
    is chosen. Each fold model is the plain
    :class:`~skreg.RegularizedMLPClassifier` with its configuration and the
    search's other parameters, which are the plain classifier's (same
    names, meanings and defaults, but ``penalty='elasticnet'``), fitted on
    the fold's training rows. The fitted search predicts with the average of
    the chosen configuration's fold models (their mean ``predict_proba``,
    bagging; ``refit=False``, the default), or with the chosen configuration
    refitted on all the data (``refit=True``); ``ensemble_selection``
    averages several configurations, picked greedily by their out-of-fold
    predictions. The fold models that share their settings train
    together as one batched network, each with its own penalty, dropout,
    label smoothing, optimizer state and stopping rule, which is much
    faster than fitting them one by one
    (:class:`~sklearn.model_selection.GridSearchCV`).
""", RegularizedMLPClassifier,
        search_grid_doc(DEFAULT_GRID, True, searchable_params()),
        _shared(_CLASSIFIER_SIGNATURE, _CLASSIFIER_OWN), """
    Attributes
    ----------
""" + SEARCH_ATTRIBUTES + """
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    Notes
    -----
""" + search_notes(DEFAULT_GRID) + """
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
    >>> len(cv.estimators_)  # the best configuration's 5 fold models, averaged
    5
    """)

    _own_params = _CLASSIFIER_OWN
    _parameter_constraints: dict = _search_constraints(RegularizedMLPClassifier, {
        **_BaseRegularizedMLPCV._own_constraints,
        "label_smoothings": ["array-like", Interval(Real, 0, 1, closed="left"), None],
    })
    _estimator_class = RegularizedMLPClassifier
    __init__ = _search_init(_CLASSIFIER_SIGNATURE)

    def _extra_axes(self):
        values = (0.0,) if self.label_smoothings is None else self.label_smoothings
        return {"label_smoothing": _as_values("label_smoothings", values, 0.0, 1.0, False)}

    def _check_targets(self, template):
        self.classes_ = template.classes_
        if len(self.classes_) < 2:
            only = self.classes_[0]
            only = only.item() if isinstance(only, np.generic) else only
            raise ValueError(
                "RegularizedMLPClassifierCV needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {only!r}.")

    def _stand_in(self, outputs):
        stand_in = _PrecomputedClassifier(outputs)
        stand_in.classes_ = self.classes_
        return stand_in

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the grid, then average the chosen fold models (or refit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix (multilabel).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training objective (as in the plain
            estimator), used in every fold and in the refit; the fold scores
            (and ensemble selection's) are unweighted, as in GridSearchCV.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, groups=groups)

    def predict_proba(self, X):
        """Class probabilities: the weighted average of those of ``estimators_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``sum_k weights_[k] * estimators_[k].predict_proba(X)``; rows
            sum to 1 (but for multilabel targets).
        """
        return self._averaged(X, "predict_proba")

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))`` (``-inf`` where an averaged
            probability is 0); with one estimator, its own
            ``predict_log_proba(X)``, computed from its logits.
        """
        return self._averaged(X, "predict_log_proba")

    def decision_function(self, X):
        """The logits of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes (and per label for multilabel targets) the
            log-odds ``log p_1 - log p_0`` of the averaged probabilities
            (positive favours ``classes_[1]``), for more classes ``log p``
            (the softmax's logits, up to a constant per row); with one
            estimator, its own ``decision_function(X)``.
        """
        return self._averaged(X, "decision_function")


class RegularizedMLPRegressorCV(R2ScoreMixin, _BaseRegularizedMLPCV):
    __doc__ = _search_docstring(
        """Regularized MLP regressor with the regularization chosen by cross-validation.

    Every configuration of the grid ``alphas x l1_ratios x dropouts x
    hidden_layer_sizes`` (x ``numeric_embeddings`` x the axes of
    ``param_grid``) is trained on every fold, racing (successive halving:
    the losing configurations stop early, see ``racing``); the
    configuration with the best mean test score among those left at the end
    is chosen. Each fold model is the plain
    :class:`~skreg.RegularizedMLPRegressor` with its configuration and the
    search's other parameters, which are the plain regressor's (same names,
    meanings and defaults, but ``penalty='elasticnet'``), fitted on the
    fold's training rows. The fitted search predicts with the average of the
    chosen configuration's fold models (their mean prediction, bagging;
    ``refit=False``, the default), or with the chosen configuration refitted
    on all the data (``refit=True``); ``ensemble_selection`` averages
    several configurations, picked greedily by their out-of-fold
    predictions. The fold models that share their settings train
    together as one batched network, each with its own penalty, dropout,
    optimizer state and stopping rule, which is much faster than fitting
    them one by one (:class:`~sklearn.model_selection.GridSearchCV`).
""", RegularizedMLPRegressor,
        search_grid_doc(DEFAULT_GRID, False, searchable_params()),
        _shared(_REGRESSOR_SIGNATURE, _BaseRegularizedMLPCV._own_params), """
    Attributes
    ----------
""" + SEARCH_ATTRIBUTES + """
    Notes
    -----
""" + search_notes(DEFAULT_GRID) + """
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
    """)

    _parameter_constraints: dict = _search_constraints(
        RegularizedMLPRegressor, _BaseRegularizedMLPCV._own_constraints)
    _estimator_class = RegularizedMLPRegressor
    __init__ = _search_init(_REGRESSOR_SIGNATURE)

    def _stand_in(self, outputs):
        return _PrecomputedRegressor(outputs)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, groups=None):
        """Cross-validate the grid, then average the chosen fold models (or refit).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
