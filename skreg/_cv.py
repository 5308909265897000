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
import math
import threading
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn import config_context, get_config
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
                                      check_X_y, column_or_1d, validate_data)

from ._mlp import (RegularizedMLPClassifier, RegularizedMLPRegressor, _dense,
                   _resolve_device, class_sample_weight, embedding_tables, encode_table,
                   encoded_scaling_stats)
from ._engine.embeddings import PLR_SIGMA, varied_columns
from ._tabular import _is_dataframe, _to_pandas
from ._threads import step_work, torch_thread_budget, training_threads
from ._preprocessing import (robust_scale_tensor_, robust_scaling_stats,
                             target_scaling_stats)
from ._engine import ACTIVATIONS, LOSSES, StackedMLP, Trainer, TrainingConfig, TrainingData

#: The default grid: what a search with every grid parameter left at None
#: tries (see docs/search.md for the measurements behind these values). The
#: grid parameters left at None take these values as their docstrings say.
DEFAULT_GRID = {
    "alphas": (1e-4, 0.3, 1.0, 3.0),
    "dropouts": (0.0, 0.2, 0.5),
    "numeric_embeddings": (None,),
    "hidden_layer_sizes": ((100,),),
}


def _sizes(grid):
    return str(grid[0]) if len(grid) == 1 else str(list(grid))


def _fmt(values):
    return "(" + ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) + (
        ",)" if len(values) == 1 else ")")


_GRID_DOC = f"""
    alphas : array-like of float or None, default=None
        Penalty strengths ``alpha`` to try. The penalty is the elastic net
        ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``
        on the connection weights, added to the summed loss as in the plain
        estimators (so it is divided by the batch's weight sum per step:
        ``alpha`` weighs like a weight decay of ``alpha / batch_size`` on
        the mean loss). None tries the default strengths
        ``{_fmt(DEFAULT_GRID["alphas"])}`` (see Notes).

    l1_ratios : array-like of float in [0, 1] or None, default=None
        Elastic-net mixing values to try; 0 is L2 (scikit-learn's MLP),
        1 is L1. None is ``(0.0,)``.

    dropouts : array-like of float in [0, 1) or None, default=None
        Dropout rates to try, applied to every hidden layer. None tries the
        default rates ``{_fmt(DEFAULT_GRID["dropouts"])}`` if no regularization
        values are given (``alphas``, ``l1_ratios``{{ls}}),
        and only ``0.0`` otherwise: given values replace the default grid,
        they do not extend it.

    hidden_layer_sizes : tuple of int, list of tuples or None, default=None
        One architecture, or a list of architectures to try. Configurations
        of one architecture train as one batched model. None tries
        ``{_sizes(DEFAULT_GRID["hidden_layer_sizes"])}``.

    numeric_embeddings : list of {{None, 'plr'}} or None, default=None
        The ``numeric_embedding`` values to try, a grid axis (``'plr'``: the
        learned periodic embedding of the plain estimators). Each value
        trains as its own batched model and, with racing, in its own race:
        an embedding's networks start slower and would lose the early rungs
        to those without; the finalists of the races meet in the final
        ranking. None tries ``{_fmt(DEFAULT_GRID["numeric_embeddings"])}``.

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
_GRID_DOC_CLASSIFIER = _GRID_DOC.replace("{ls}", ", ``label_smoothings``")
_GRID_DOC_REGRESSOR = _GRID_DOC.replace("{ls}", "")

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
        Print one line per architecture and per rung of the race (the
        configurations that go on); the refit prints as the plain
        estimator does.

    input_scaling : {'robust'} or None, default='robust'
        As in :class:`~skreg.RegularizedMLPClassifier`: 'robust' maps each
        feature to ``f((x - median) / IQR)`` with the smooth clip
        ``f(z) = z / sqrt(1 + (z / 3)^2)``. Each fold's statistics come from
        that fold's training rows only, never from its test rows.

    categorical_features : "from_dtype", array-like of {bool, int, str} or None, \
            default="from_dtype"
        As in :class:`~skreg.RegularizedMLPClassifier`: a DataFrame with
        categorical, string, bool columns and missing values (or an array
        with NaN) is encoded by a :class:`skreg._tabular.TabularEncoder`.
        The search fits it once on all of X, and every fold model trains on
        that encoding (its categories and imputation medians then include
        the fold's test rows, as a category list given by hand would; the
        scaling statistics stay per fold); the refit encodes X itself,
        with the same result. None: X must be numeric.

    max_onehot_categories : int or None, default=16
        As in :class:`~skreg.RegularizedMLPClassifier`: categorical columns
        with more categories get a learned embedding, in the fold models
        and in the refit.

    racing : bool, default=True
        Successive halving of the configurations inside the batched
        training, the way :class:`~sklearn.model_selection.HalvingGridSearchCV`
        races separate fits with ``resource='max_iter'``. After the epoch of
        each *rung* (see ``race_min_epochs``), every configuration still
        racing is scored on its folds' test rows (each fold model with its
        current weights, the fold's own scaling statistics, and ``scoring``:
        the same scores as the final cross-validation scores), the scores are
        averaged over the folds, and only the best ``ceil(n / race_factor)``
        (at least 1) of the ``n`` configurations at the rung go on; the fold
        models of the others stop there, all folds of a configuration
        together. The configurations never eliminated, the *finalists*, train
        to the end (``max_iter`` or their stopping rule), and the best of
        them is refitted. False trains every configuration on every fold to
        the end, as :class:`~sklearn.model_selection.GridSearchCV` does. See
        Notes for several architectures and for fold models that stop before
        a rung.

    race_factor : float > 1, default=3
        The share ``1 / race_factor`` of the configurations kept at each
        rung, and the growth of the epochs from one rung to the next
        (HalvingGridSearchCV's ``factor``).

    race_min_epochs : int >= 1 or 'auto', default='auto'
        Epoch ``r`` of the first rung. The rungs are after epochs
        ``e_k = max(e_(k-1) + 1, floor(r * race_factor ** k))`` for
        ``k = 0, 1, ...``, those below ``max_iter``. 'auto' is
        ``max(1, max_iter // race_factor ** K)``, with ``K`` the number of
        rungs that leave one configuration of the grid
        (``race_factor ** K >= n_configurations``): the halving is over by
        epoch ``max_iter / race_factor``, as HalvingGridSearchCV's
        ``min_resources='exhaust'`` makes its iterations end at its largest
        resource. 12 configurations and ``max_iter=200`` race at epochs 7,
        21, 63 and 189 (12, 4, 2, then 1 configuration left).
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
        Its index in ``cv_results_``: the finalist with the best mean score
        (with racing, an eliminated configuration is never chosen, as
        HalvingGridSearchCV chooses among its last iteration's candidates).

    best_estimator_ : estimator
        The plain estimator with ``best_params_``, fitted on all the data;
        ``predict`` and the other methods delegate to it.

    cv_results_ : dict of ndarrays
        In :class:`~sklearn.model_selection.GridSearchCV`'s format:
        ``params``, ``param_<name>`` (masked arrays), ``split<k>_test_score``,
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``mean_fit_time`` / ``std_fit_time`` (the batched training time of
        an architecture shared among its configurations, in proportion to
        the epochs each trained with racing, equally without; the standard
        deviation is 0), ``mean_score_time``, ``std_score_time``,
        ``mean_n_iter`` (epochs run, averaged over folds), and, as in
        :class:`~sklearn.model_selection.HalvingGridSearchCV`, ``iter`` (the
        rung at which the configuration was eliminated, counted from 0; the
        number of rungs for a finalist, and 0 for every configuration without
        racing) and ``n_resources`` (the epoch of that rung; ``max_iter`` for
        a finalist). An eliminated configuration keeps the fold scores it
        had when it was eliminated, after fewer epochs than the finalists'.
        ``rank_test_score`` ranks by ``iter`` first (the configurations that
        got further first), then by score, with equal pairs sharing the
        smallest rank and nan scores last: rank 1 is ``best_index_``, the
        best finalist.

    n_resources_ : list of int
        The epochs of the rungs, then ``max_iter``: the epoch budget of each
        iteration, as HalvingGridSearchCV's ``n_resources_``
        (``[max_iter]`` without racing).

    n_candidates_ : list of int
        The number of configurations that took part in each iteration (all
        of them in the first); the last entry counts the finalists.

    n_splits_ : int
        Number of cross-validation splits.

    refit_time_ : float
        Seconds spent refitting the best configuration on all the data. With
        racing, the refit starts as soon as one configuration is left and
        runs in a thread of its own while that configuration's fold models
        finish, so this time overlaps the training's.

    n_iter_ : int
        Epochs run by the refit (``best_estimator_.n_iter_``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    encoder_ : TabularEncoder or None
        The encoder the fold models' inputs came from (see
        ``categorical_features``); None when X needed no encoding. The refit
        has its own, equal one (``best_estimator_.encoder_``).
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


_N_DEFAULT = math.prod(len(v) for v in DEFAULT_GRID.values())
_NOTES_DOC = f"""
    The default grid, ``alphas={_fmt(DEFAULT_GRID["alphas"])}`` x
    ``dropouts={_fmt(DEFAULT_GRID["dropouts"])}`` on
    ``hidden_layer_sizes={_sizes(DEFAULT_GRID["hidden_layer_sizes"])}``
    ({_N_DEFAULT} configurations, ``skreg._cv.DEFAULT_GRID``), puts every value where it changes the
    model. The penalty is divided by the batch's weight sum, so ``alpha``
    acts like a weight decay of ``alpha / batch_size`` on the mean loss: up
    to ``alpha=0.1`` the weights and the scores barely move, from 0.3 to 3
    each step shrinks the weights and moves the scores, and from 10 on every
    dataset measured lost (digits, breast cancer, diabetes, friedman1 and a
    noisy synthetic set; docs/search.md has the figures). Dropout 0, 0.2 and
    0.5 are none, the rate that helped classification most, and a strong
    one; regression preferred none.

    With racing and several architectures, each architecture's stack trains
    in turn, and a configuration reaching rung ``k`` goes on only if it is
    among the best ``ceil(n_k / race_factor)`` of the ``n_k``
    configurations, of every architecture trained so far, that reached rung
    ``k`` (asynchronous successive halving): the first architecture races
    among itself, every later one is held to the scores the earlier ones had
    at each rung. A fold model that its stopping rule stopped before a rung
    takes part in it with its last weights; rungs that none of an
    architecture's fold models reached are decided on the final scores.
    Early rungs favour configurations that learn fast: a strongly
    regularized configuration that would end best can be eliminated early.
    ``racing=False`` is the exhaustive search.
"""

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


#: Largest total size (bytes) of the folds' scaled copies of X made up front;
#: a larger search scales each fold's batches at every step instead
_PRESCALED_BYTES = 1 << 28

#: Elements of the hidden activations of one forward pass when members are
#: scored on their test rows (the rows go through in chunks of this size)
_SCORE_ELEMENTS = 1 << 23


class _TestRows:
    """Every fold's test rows, to score stack members on their own fold's rows.

    ``scores(model, folds)`` runs one forward pass of the stack, member
    ``j`` on the test rows of fold ``folds[j]`` (robust-scaled with that
    fold's statistics; the folds' rows padded to one length), then scores
    each member as the final cross-validation scores are scored.
    """

    def __init__(self, search, X, y, splits, input_stats, target_stats, scorer, device,
                 n_dense):
        self.search, self.X, self.y, self.scorer = search, X, y, scorer
        self.n_dense = n_dense  # the columns before the embedding codes
        self.tests = [test for _, test in splits]
        self.input_stats, self.target_stats = input_stats, target_stats
        self.device = device
        self.padded = None
        self.sets = None

    def _build(self):
        n_max = max(len(t) for t in self.tests)
        X = self.X
        self.padded = torch.zeros((len(self.tests), n_max, X.shape[1]),
                                  dtype=torch.float32 if X.dtype == np.float32
                                  else torch.float64, device=self.device)
        for f, test in enumerate(self.tests):
            rows = torch.as_tensor(X[test], device=self.device)
            if self.input_stats is not None:
                robust_scale_tensor_(rows[:, :self.n_dense], *self.input_stats[f])
            self.padded[f, :len(test)] = rows
        self.sets = [(X[test], self.y[test]) for test in self.tests]
        if self.target_stats is not None:
            self.target_mean, self.target_std = (
                torch.stack([s[i] for s in self.target_stats]).unsqueeze(1) for i in range(2))

    @torch.no_grad()
    def outputs(self, model, folds):
        """``(C, n_test_max, n_outputs)`` float64 outputs of the stack's members."""
        if self.padded is None:
            self._build()
        folds = torch.as_tensor(np.asarray(folds), device=self.device)
        C, n_max = model.n_members, self.padded.shape[1]
        chunk = max(1, _SCORE_ELEMENTS // (C * max(model.layer_sizes)))
        parts = []
        for start in range(0, n_max, chunk):
            rows = self.padded[:, start:start + chunk].index_select(0, folds)
            parts.append(model(rows[0]).unsqueeze(0) if C == 1 else model(rows))
        out = torch.cat(parts, 1)
        if self.target_stats is not None:
            out = out * self.target_std.index_select(0, folds) \
                + self.target_mean.index_select(0, folds)
        return out.double().cpu().numpy()

    def scores(self, model, folds):
        """Each member's score on its fold's test rows."""
        out = self.outputs(model, folds)
        scores = np.empty(len(folds))
        for j, f in enumerate(folds):
            X_test, y_test = self.sets[f]
            scores[j] = self.search._score(out[j, :len(y_test)], X_test, y_test, self.scorer)
        return scores


class _Rungs:
    """The rung decisions of one search: successive halving of its configurations.

    At rung ``k`` (after epoch ``epochs[k]``) a configuration continues if
    its mean fold score ranks among the best ``ceil(n / factor)`` of the
    ``n`` configurations that have reached rung ``k`` so far, over every
    architecture trained so far (asynchronous successive halving, ASHA);
    with one architecture this is plain successive halving. Ties go to the
    configuration that comes first in the grid; nan scores rank last.

    Attributes
    ----------
    iter : ndarray of int
        Rung at which each configuration was eliminated, -1 while it is not
        (and for the configurations of other races).
    racing : ndarray of bool
        The configurations of this race (a bracket; all of them by default).
    fold_scores : dict
        The fold scores each eliminated configuration had at elimination.
    """

    def __init__(self, epochs, factor, n_configs, log=None, configs=None):
        self.epochs = list(epochs)
        self.factor = factor
        self.log = log
        self.reached = [{} for _ in self.epochs]
        self.iter = np.full(n_configs, -1)
        self.racing = np.zeros(n_configs, dtype=bool)
        self.racing[np.arange(n_configs) if configs is None else configs] = True
        self.fold_scores = {}

    def n_left(self):
        """Configurations of this race not eliminated."""
        return int((self.racing & (self.iter < 0)).sum())

    def decide(self, k, fold_scores):
        """Rung ``k`` for the configurations of ``fold_scores`` (config -> scores)."""
        pool = self.reached[k]
        for i, s in fold_scores.items():
            pool[i] = float(np.mean(s))
        ids = np.fromiter(pool, dtype=np.int64, count=len(pool))
        means = np.array([pool[i] for i in ids])
        means = np.where(np.isnan(means), -np.inf, means)
        order = np.lexsort((ids, -means))
        n_keep = max(1, math.ceil(len(ids) / self.factor))
        kept = set(ids[order[:n_keep]].tolist())
        for i, s in fold_scores.items():
            if i not in kept:
                self.iter[i] = k
                self.fold_scores[i] = np.asarray(s, dtype=float)
        if self.log is not None:
            going = sorted(i for i in fold_scores if i in kept)
            self.log(f"rung {k} (epoch {self.epochs[k]}): {len(going)} of {len(fold_scores)} "
                     f"configurations go on ({len(ids)} reached this rung so far): {going}")

    def race(self, configs, n_splits, tests, config, on_winner=None):
        return _Race(self, configs, n_splits, tests, config, on_winner)


class _Race:
    """The ``prune`` rule of one architecture's stack (see :class:`_Rungs`).

    After each rung's epoch, every configuration still racing is scored on
    its folds' test rows: the fold models still training with their current
    weights, in one forward pass of the stack; a fold model that has
    already stopped (its stopping rule) with its last weights, kept from the
    previous epoch. The fold models of the eliminated configurations stop.
    """

    def __init__(self, rungs, configs, n_splits, tests, config, on_winner=None):
        self.rungs, self.configs, self.n_splits, self.tests = rungs, configs, n_splits, tests
        self.on_winner = on_winner
        self.layer_sizes, self.activation = config.layer_sizes, config.activation
        self.tables, self.plr = config.embedding_tables, config.plr or None
        self.dtype, self.device = config.dtype, config.device
        self.k = 0  # next rung
        self.last = None  # (members, coef, intercept) of the previous epoch
        self.stopped = {}  # member -> last weights, of the members that stopped
        self.stopped_scores = {}

    def _config(self, members):
        return np.asarray(self.configs)[np.asarray(members) // self.n_splits]

    def __call__(self, epoch, members, model):
        members = np.asarray(members)
        racing = self.rungs.iter
        if self.last is not None:
            last, coef, intercept = self.last
            gone = ~np.isin(last, members) & (racing[self._config(last)] < 0)
            for j in np.flatnonzero(gone):
                self.stopped[int(last[j])] = (coef[j], intercept[j])
            self.last = None
        epochs = self.rungs.epochs
        prune = np.zeros(len(members), dtype=bool)
        if self.k < len(epochs) and epoch >= epochs[self.k] and self.rungs.n_left() == 1:
            self.k += 1  # one configuration left in the whole search: it stays
        elif self.k < len(epochs) and epoch >= epochs[self.k]:
            live = self.tests.scores(model, members % self.n_splits)
            fold = dict(zip(members.tolist(), live))
            fold.update(self._stopped_scores())
            self.rungs.decide(self.k, {
                i: [fold[c * self.n_splits + f] for f in range(self.n_splits)]
                for c, i in enumerate(self.configs) if racing[i] < 0})
            self.k += 1
            prune = racing[self._config(members)] >= 0
            if self.rungs.n_left() == 1 and self.on_winner is not None:
                # the search's winner is known: its refit can start now
                self.on_winner(int(np.flatnonzero(self.rungs.racing & (racing < 0))[0]))
        if self.k < len(epochs):
            # members that stop on their own this epoch are scored at the next
            # rung with these weights
            keep = np.flatnonzero(~prune)
            rows = torch.as_tensor(keep, device=model.coef.device)
            self.last = (members[keep], model.coef.detach().index_select(0, rows),
                         model.intercept.detach().index_select(0, rows))
        return prune

    def _stopped_scores(self):
        new = [m for m in self.stopped if m not in self.stopped_scores]
        if new:
            with torch.no_grad():
                model = StackedMLP(self.layer_sizes, self.activation, len(new),
                                   tables=self.tables, plr=self.plr)
                model.to(dtype=self.dtype, device=self.device)
                model.coef.copy_(torch.stack([self.stopped[m][0] for m in new]))
                model.intercept.copy_(torch.stack([self.stopped[m][1] for m in new]))
            scores = self.tests.scores(model, np.asarray(new) % self.n_splits)
            self.stopped_scores.update(zip(new, scores))
        return self.stopped_scores

    def finish(self, final_scores):
        """Decide the rungs no member reached (all had stopped) on the final scores."""
        for k in range(self.k, len(self.rungs.epochs)):
            racing = {i: s for i, s in final_scores.items() if self.rungs.iter[i] < 0}
            if racing:
                self.rungs.decide(k, racing)
        self.k = len(self.rungs.epochs)


class _Refit:
    """The refit of the chosen configuration on all the data.

    With racing, the winner is known once a single configuration is left
    (the last rung that eliminates): its refit then starts in a thread of
    its own, while the winner's fold models finish their epochs in the main
    thread. Both are the fits they would be one after the other (a fit's
    result does not depend on what runs beside it); on a CPU where the
    fold models' steps run on one thread, the refit takes another core.
    """

    def __init__(self, search, X, y, sample_weight):
        self.search, self.X, self.y, self.sample_weight = search, X, y, sample_weight
        self.index = self.thread = self.fitted = self.error = None
        self.seconds = 0.0

    def _fit(self, params, config=None):
        search = self.search
        t0 = time.perf_counter()
        try:
            # the configuration's values override the shared ones (numeric_embedding)
            estimator = search._estimator_class(**{**search._base_params(),
                                                   **search._refit_extra(), **params})
            # scikit-learn's configuration is per thread: the caller's, as
            # joblib passes it on to its workers
            with warnings.catch_warnings(), config_context(**(config or get_config())):
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.fitted = estimator.fit(self.X, self.y, sample_weight=self.sample_weight)
        except BaseException as exc:  # re-raised in the main thread
            self.error = exc
        self.seconds = time.perf_counter() - t0

    def start(self, index, params):
        """Refit configuration ``index`` in a new thread."""
        self.index = index
        self.thread = threading.Thread(target=self._fit, args=(params, get_config()),
                                       name="skreg-refit", daemon=True)
        self.thread.start()

    def join(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None

    def result(self, index, params):
        """The fitted estimator of configuration ``index`` and its fit's seconds."""
        self.join()
        if self.index != index or (self.fitted is None and self.error is None):
            self.index, self.fitted, self.error = index, None, None
            self._fit(params)
        if self.error is not None:
            raise self.error
        return self.fitted, self.seconds


class _BaseRegularizedMLPCV(MetaEstimatorMixin, BaseEstimator):
    """Shared logic of the cross-validated estimators."""

    _parameter_constraints: dict = {
        "alphas": ["array-like", Interval(Real, 0, None, closed="left"), None],
        "l1_ratios": ["array-like", Interval(Real, 0, 1, closed="both"), None],
        "dropouts": ["array-like", Interval(Real, 0, 1, closed="left"), None],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left"),
                               None],
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
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "max_onehot_categories": [Interval(Integral, 0, None, closed="left"), None],
        "numeric_embeddings": ["array-like", None],
        "racing": ["boolean"],
        "race_factor": [Interval(Real, 1, None, closed="neither")],
        "race_min_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    }

    _estimator_class = None
    _kind_names = ()  # grid parameters beyond alpha, l1_ratio, dropout
    _extra_base_params = ()  # estimator parameters of one kind only (target_scaling)

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

    def _grid(self):
        """Configurations as dicts of plain-estimator parameters, sorted like ParameterGrid."""
        # the default grid unless some regularization values are given (then
        # the axes left at None are not searched, but for the strengths)
        default = all(getattr(self, name, None) is None for name in
                      ("alphas", "l1_ratios", "dropouts", "label_smoothings"))
        alphas = DEFAULT_GRID["alphas"] if self.alphas is None else self.alphas
        dropouts = self.dropouts if self.dropouts is not None else (
            DEFAULT_GRID["dropouts"] if default else (0.0,))
        l1_ratios = (0.0,) if self.l1_ratios is None else self.l1_ratios
        axes = {
            "alpha": _as_values("alphas", alphas, 0.0, np.inf, False),
            "dropout": _as_values("dropouts", dropouts, 0.0, 1.0, False),
            "hidden_layer_sizes": self._architectures(),
            "l1_ratio": _as_values("l1_ratios", l1_ratios, 0.0, 1.0, True),
            **self._extra_axes(),
        }
        if self._embeddings() != [None]:
            axes["numeric_embedding"] = self._embeddings()
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
                 "device", "verbose", "input_scaling", "categorical_features",
                 "max_onehot_categories", *self._extra_base_params)
        params = {k: getattr(self, k) for k in names}
        # the fold models are single networks on the scaled features: the
        # refit is pinned to that too, whatever the plain estimator's defaults
        params.update(solver="adam", penalty="elasticnet", ensemble_size=1,
                      numeric_embedding=None)
        return params

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
    def _validate_input(self, X, y):
        """``(X_raw, X, y, encoder)``: X as the fold models see it.

        A table that the plain estimator would encode (see
        ``categorical_features``) is encoded here once, by the encoder the
        refit makes (the same parameters); ``X_raw`` is what the refit gets.
        """
        template = self._estimator_class(**self._base_params(), **self._refit_extra())
        self.encoder_ = None
        if self.categorical_features is not None and not sp.issparse(X):
            X_raw, encode = template._route_input(X)
            if encode:
                encoder = template._new_encoder(X_raw)
                X = encode_table(self, encoder, X_raw, True, self.max_onehot_categories)
                X, y = check_X_y(X, y, dtype=(np.float64, np.float32),
                                 multi_output=not is_classifier(self), y_numeric=False,
                                 estimator=self)
                self.encoder_ = encoder
                return X_raw, X, y, encoder
            X = X_raw
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc", "coo"],
                             dtype=(np.float64, np.float32),
                             multi_output=not is_classifier(self), y_numeric=False)
        return X, X, y, None

    def _fit(self, X, y, sample_weight=None, **split_params):
        device = torch.device(_resolve_device(self.device))
        X_raw, X, y, encoder = self._validate_input(X, y)
        n_codes = 0 if encoder is None else len(encoder.embedding_columns_)
        # the embedding tables, as the refit makes them
        tables = embedding_tables(encoder, self._estimator_class().embedding_size)
        n_dense = X.shape[1] - n_codes
        n_first = n_dense + sum(dim for _, dim in tables)
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
        # equal weights take the statistics' unweighted form: the same values
        # (see weighted_quantiles), a sort per column instead of an argsort
        # and a cumulative sum
        uniform = bool(np.all(fold_weights == 1.0))
        if self.input_scaling == "robust":
            # rows= reads the fold's rows column by column: no copy of X[train]
            stats = (robust_scaling_stats if encoder is None else
                     lambda X, w, rows: encoded_scaling_stats(X, encoder, w, rows))
            input_stats = [tuple(torch.as_tensor(a, device=device) for a in
                                 stats(X, None if uniform else fold_weights[f], rows=train))
                           for f, (train, _) in enumerate(splits)]
        if getattr(self, "target_scaling", None) == "standard":
            target_stats = [tuple(torch.as_tensor(a, device=device) for a in
                                  target_scaling_stats(Y, fold_weights[f], rows=train))
                            for f, (train, _) in enumerate(splits)]
        X_train = torch.as_tensor(X, device=device)
        y_train = torch.as_tensor(Y if labels is None else Y.astype(np.int64), device=device)
        weights = torch.as_tensor(fold_weights, dtype=dtype, device=device)
        batch_stats = input_stats
        n_splits = len(splits)
        if input_stats is not None and n_splits * X.nbytes <= _PRESCALED_BYTES:
            # each fold's copy of X, scaled once with the fold's statistics,
            # instead of every fold's batch at every step: the same values
            # (the same elementwise operations), fold f's rows at offset f * n
            n = X.shape[0]
            X_train = torch.empty((n_splits * n, X.shape[1]), dtype=dtype, device=device)
            # elementwise work: its own thread budget (the whole pool waits at
            # every kernel's barrier on busy CPUs)
            with torch_thread_budget(X_train.numel()):
                for f in range(n_splits):
                    block = X_train[f * n:(f + 1) * n]
                    block.copy_(torch.as_tensor(X, device=device))
                    robust_scale_tensor_(block[:, :n_dense], *input_stats[f])
            y_train = y_train.repeat(n_splits, *([1] * (y_train.dim() - 1)))
            weights = torch.zeros((n_splits, n_splits * n), dtype=dtype, device=device)
            for f in range(n_splits):
                weights[f, f * n:(f + 1) * n] = torch.as_tensor(fold_weights[f], dtype=dtype)
            train_rows = [r + f * n for f, r in enumerate(train_rows)]
            valid_rows = [r + f * n for f, r in enumerate(valid_rows)]
            batch_stats = None
        data = TrainingData(
            X=X_train, y=y_train, sample_weight=weights,
            train_rows=train_rows, valid_rows=valid_rows or None,
            input_stats=batch_stats, target_stats=target_stats)

        n_splits = len(splits)
        scores = np.full((len(grid), n_splits), np.nan)
        n_iters = np.zeros((len(grid), n_splits))
        fit_times = np.zeros(len(grid))
        score_times = np.zeros(len(grid))
        any_unconverged = False
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        log = (lambda text: print(f"[{type(self).__name__}] {text}")) if self.verbose else None  # noqa: E731
        # one race (bracket) per numeric embedding: an embedding's networks
        # learn slower in their first epochs, and would lose every early rung
        # to those without one; the brackets' finalists meet in the final ranking
        embeddings = self._embeddings()
        epochs = self._rung_epochs(len(grid) // len(embeddings))
        brackets = {emb: _Rungs(epochs, self.race_factor, len(grid), log, configs=[
            i for i, g in enumerate(grid) if g.get("numeric_embedding") == emb])
            for emb in embeddings}
        tests = _TestRows(self, X, y, splits, input_stats, target_stats, scorer, device,
                          n_dense)
        refit = _Refit(self, X_raw, y, sample_weight)
        # one stack per architecture and numeric embedding (their first layers differ)
        variants = [(arch, emb) for arch in self._architectures() for emb in self._embeddings()]
        for arch, emb in variants:
            rungs = brackets[emb]
            configs = [i for i, g in enumerate(grid) if g["hidden_layer_sizes"] == arch
                       and g.get("numeric_embedding") == emb]
            plr = ()
            if emb == "plr":
                # as the refit chooses them (its default embedding_size)
                columns = varied_columns(X[:, :n_dense])
                size = max(1, self._estimator_class().embedding_size // 2)
                plr = (columns, size, size, PLR_SIGMA) if columns else ()
            n_plr = len(plr[0]) * plr[2] if plr else 0
            t0 = time.perf_counter()
            n_train = min(len(r) for r in train_rows)
            batch = min(200, n_train) if self.batch_size == "auto" else min(
                self.batch_size, n_train)
            # member m trains configuration configs[m // n_splits] on fold m % n_splits
            param = lambda name: np.repeat([grid[i].get(name, 0.0) for i in configs],  # noqa: E731
                                           n_splits)
            config = TrainingConfig(
                layer_sizes=(n_first + n_plr, *arch, n_outputs), activation=self.activation,
                embedding_tables=tables, plr=plr,
                loss=loss, batch_size=batch, seeds=np.full(len(configs) * n_splits, seed),
                alpha=param("alpha"), l1_ratio=param("l1_ratio"), dropout=param("dropout"),
                label_smoothing=param("label_smoothing"),
                groups=np.tile(np.arange(n_splits), len(configs)),
                regularization={"penalty": "elasticnet", "l1_method": self.l1_method},
                learning_rate_init=self.learning_rate_init,
                betas=(self.beta_1, self.beta_2), epsilon=self.epsilon,
                max_iter=self.max_iter, tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                early_stopping=self.early_stopping, shuffle=self.shuffle,
                device=device, dtype=dtype)
            on_winner = None
            if (arch, emb) == variants[-1] and len(brackets) == 1:
                on_winner = lambda i: refit.start(i, grid[i])  # noqa: E731
            race = (rungs.race(configs, n_splits, tests, config, on_winner)
                    if rungs.epochs else None)
            work = step_work(config.layer_sizes, batch, n_networks=len(config.seeds))
            with training_threads(device, work):
                result = Trainer(config).train(data, prune=race)
            refit.join()
            fit_time = time.perf_counter() - t0
            any_unconverged |= not result.converged[~result.pruned].all()
            t0 = time.perf_counter()
            # configurations still in the race (all of them without racing)
            # get their final fold scores; an eliminated one keeps the fold
            # scores it was eliminated with
            alive = [c for c, i in enumerate(configs) if rungs.iter[i] < 0]
            members = (np.arange(len(config.seeds)) if race is None else
                       (np.asarray(alive, dtype=np.int64)[:, None] * n_splits
                        + np.arange(n_splits)).ravel())
            # the pass's own thread budget: on busy CPUs the whole pool waits
            # at every kernel's barrier
            pass_work = step_work(config.layer_sizes, max(len(t) for _, t in splits),
                                  n_networks=len(members))
            with torch.no_grad(), torch_thread_budget(pass_work):
                model = StackedMLP(config.layer_sizes, self.activation, len(members),
                                   tables=tables, plr=plr or None)
                model.to(dtype=dtype, device=device)
                model.coef.copy_(torch.as_tensor(result.coef[members]))
                model.intercept.copy_(torch.as_tensor(result.intercept[members]))
                for f, (_, test) in enumerate(splits if len(members) else []):
                    X_test = torch.as_tensor(X[test], device=device)
                    if input_stats is not None:
                        robust_scale_tensor_(X_test[:, :n_dense], *input_stats[f])
                    out = model(X_test)
                    if target_stats is not None:
                        out = out * target_stats[f][1] + target_stats[f][0]
                    out = out.double().cpu().numpy().reshape(len(members), len(test), -1)
                    for j, m in enumerate(members):
                        if m % n_splits != f:
                            continue
                        i = configs[m // n_splits]
                        scores[i, f] = self._score(out[j], X[test], y[test], scorer)
            for c, i in enumerate(configs):
                n_iters[i] = result.n_iter[c * n_splits:(c + 1) * n_splits]
                if race is not None and rungs.iter[i] >= 0:
                    scores[i] = rungs.fold_scores[i]
            if race is not None:
                # the rungs no member of this architecture reached (every one
                # had stopped): decided on the final scores
                race.finish({i: scores[i] for i in configs if rungs.iter[i] < 0})
            # a diverged fold model scores nan (its configuration ranks last)
            diverged = result.diverged.reshape(len(configs), n_splits)
            scores[configs] = np.where(diverged, np.nan, scores[configs])
            score_time = time.perf_counter() - t0
            # each configuration's share of the training time: its epochs
            epochs = n_iters[configs].sum(1)
            share = (epochs / epochs.sum() if race is not None and epochs.sum() > 0
                     else np.full(len(configs), 1.0 / len(configs)))
            fit_times[configs] = fit_time * share
            score_times[configs] = score_time / len(configs)
            if self.verbose:
                print(f"[{type(self).__name__}] hidden_layer_sizes={arch}"
                      + (f", numeric_embedding={emb!r}" if emb is not None else "") + ": "
                      f"{len(configs)} configurations x {n_splits} folds in {fit_time:.2f} s"
                      + (f", {len(alive)} not eliminated" if race is not None else ""))
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
        rungs = brackets[embeddings[0]]
        for other in list(brackets.values())[1:]:
            # each configuration raced in one bracket: its rung of elimination there
            rungs.iter = np.maximum(rungs.iter, other.iter)
            rungs.fold_scores.update(other.fold_scores)
        self._store_results(grid, scores, n_iters, fit_times, score_times, rungs)

        best = grid[self.best_index_]
        self.best_params_ = dict(best)
        for name, value in best.items():
            setattr(self, f"{name}_", value)
        self.best_estimator_, self.refit_time_ = refit.result(self.best_index_, best)
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
        if getattr(self, "encoder_", None) is not None:
            X = _to_pandas(X)
            if _is_dataframe(X):
                validate_data(self, X, reset=False, skip_check_array=True)
                return
        validate_data(self, X, reset=False, accept_sparse=True, dtype=None,
                      ensure_all_finite=False)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "best_estimator_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # NaN is imputed by the encoder, as in the plain estimators
        tags.input_tags.allow_nan = self.categorical_features is not None
        return tags


class RegularizedMLPClassifierCV(ClassifierMixin, _BaseRegularizedMLPCV):
    __doc__ = f"""Regularized MLP classifier with the regularization chosen by cross-validation.

    Every configuration of the grid ``alphas x l1_ratios x dropouts x
    label_smoothings x hidden_layer_sizes`` is trained on every fold, racing
    (successive halving: the losing configurations stop early, see
    ``racing``); the configuration with the best mean test score among those
    left at the end is refitted on all the data as a
    :class:`~skreg.RegularizedMLPClassifier` (``solver='adam'``,
    ``penalty='elasticnet'``). The fold models of one architecture train
    together as one batched network, each with its own penalty, dropout,
    label smoothing, optimizer state and stopping rule, which is much
    faster than fitting them one by one
    (:class:`~sklearn.model_selection.GridSearchCV`).

    Parameters
    ----------
{_GRID_DOC_CLASSIFIER}
    label_smoothings : array-like of float in [0, 1) or None, default=None
        Label smoothing values ``eps`` to try (targets ``1 - eps`` and
        ``eps / (K - 1)``). None is ``(0.0,)``.

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

    Notes
    -----
{_NOTES_DOC}
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
        "label_smoothings": ["array-like", Interval(Real, 0, 1, closed="left"), None],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _estimator_class = RegularizedMLPClassifier

    def __init__(self, alphas=None, l1_ratios=None, dropouts=None, label_smoothings=None,
                 hidden_layer_sizes=None, *,
                 cv=5, scoring=None, class_weight=None, activation="relu",
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 l1_method="proximal", beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 shuffle=True, random_state=None, device="cpu", verbose=0,
                 input_scaling="robust", racing=True, race_factor=3,
                 race_min_epochs="auto", categorical_features="from_dtype",
                 max_onehot_categories=16, numeric_embeddings=None):
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
        self.racing = racing
        self.race_factor = race_factor
        self.race_min_epochs = race_min_epochs
        self.categorical_features = categorical_features
        self.max_onehot_categories = max_onehot_categories
        self.numeric_embeddings = numeric_embeddings

    def _extra_axes(self):
        values = (0.0,) if self.label_smoothings is None else self.label_smoothings
        return {"label_smoothing": _as_values("label_smoothings", values, 0.0, 1.0, False)}

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
    hidden_layer_sizes`` is trained on every fold, racing (successive
    halving: the losing configurations stop early, see ``racing``); the
    configuration with the best mean test score among those left at the end
    is refitted on all the data as a :class:`~skreg.RegularizedMLPRegressor`
    (``solver='adam'``, ``penalty='elasticnet'``). The fold models of one architecture train
    together as one batched network, each with its own penalty, dropout,
    optimizer state and stopping rule, which is much faster than fitting
    them one by one (:class:`~sklearn.model_selection.GridSearchCV`).

    Parameters
    ----------
{_GRID_DOC_REGRESSOR}{_TRAIN_DOC}
    target_scaling : {'standard'} or None, default='standard'
        As in :class:`~skreg.RegularizedMLPRegressor`: 'standard' trains on
        ``(y - mean) / std``; each fold's mean and std come from its
        training rows only.

    Attributes
    ----------
{_ATTRIBUTES_DOC}
    Notes
    -----
{_NOTES_DOC}
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

    def __init__(self, alphas=None, l1_ratios=None, dropouts=None, hidden_layer_sizes=None,
                 *, cv=5, scoring=None,
                 activation="relu", batch_size="auto", learning_rate_init=0.001,
                 max_iter=200, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, l1_method="proximal", beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, shuffle=True, random_state=None,
                 device="cpu", verbose=0, input_scaling="robust",
                 target_scaling="standard", racing=True, race_factor=3,
                 race_min_epochs="auto", categorical_features="from_dtype",
                 max_onehot_categories=16, numeric_embeddings=None):
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
        self.racing = racing
        self.race_factor = race_factor
        self.race_min_epochs = race_min_epochs
        self.categorical_features = categorical_features
        self.max_onehot_categories = max_onehot_categories
        self.numeric_embeddings = numeric_embeddings

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
