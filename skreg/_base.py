"""BaseRegularizedMLP: the logic the classifier and the regressor share.

The scikit-learn side of a fit, in named steps: validation and encoding of
X, the targets (each estimator's hook), weights, the input scaling, the
numeric embedding, the early-stopping split, then the fit's specification
(:mod:`skreg._spec`) and its training by the engine (:mod:`skreg._engine`),
which receives tensors and never sees pandas frames or string labels. The
cross-validated estimators (:mod:`skreg._search`) prepare each fold with
the same steps. Prediction and the fitted attributes read the trainer.
"""

import copy
import warnings
from abc import ABCMeta, abstractmethod
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (_check_sample_weight, check_array, check_is_fitted,
                                      check_X_y, validate_data)

from ._engine import (ACTIVATIONS, EMBEDDINGS, LEARNED_EMBEDDINGS, PLR_SIGMA, Progress,
                      Trainer, TrainingData, fit, fit_embedding, predict, predict_mc,
                      regularizer_params, shows_bar, varied_columns)
from ._inputs import (MIN_CATEGORY_FREQUENCY, as_tensor, check_finite_outputs, dense,
                      embedding_tables, encode_table, encoded_scaling_stats,
                      non_numeric_column, resolve_device)
from ._preprocessing import robust_scale, robust_scaling_stats
from ._spec import (SOLVERS, FitRows, auto_alpha_rows, fit_spec,
                    stack_config, uses_early_stopping, warn_batch_size)
from ._tabular import TabularEncoder, _is_dataframe, _to_pandas
from ._threads import step_work, training_threads
from .exceptions import DivergenceError
from .skorch import EpochCallbackHost, initialized_callbacks


def _stochastic_solver(estimator):
    """``partial_fit``'s availability: a minibatch solver (not 'lbfgs'), as scikit-learn."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. lbfgs is not "
            "stochastic.")
    return True


def network_inputs(n_columns, n_codes, tables, embedding, plr):
    """The first layer's width: numeric inputs (or their embedding), PLR outputs, tables.

    ``n_columns`` columns of scaled X, the last ``n_codes`` of them codes of
    the categorical ``tables`` (each replaced by its ``dim`` entries).
    """
    n_inputs = n_columns if embedding is None else embedding.n_outputs
    n_inputs += sum(dim for _, dim in tables) - n_codes
    if plr:
        n_inputs += len(plr[0]) * plr[2]
    return n_inputs


def check_lbfgs(estimator, trainer):
    """L-BFGS needs a smooth, deterministic full-batch objective."""
    if estimator.solver != "lbfgs":
        return
    penalty, l1_ratio = estimator.penalty, estimator.l1_ratio
    offending = [r.describe() for r in trainer.regularizers if not r.smooth]
    if penalty in ("l1", "elasticnet") and np.any(trainer.config.alpha > 0) and (
            penalty == "l1" or l1_ratio > 0):
        offending = [f"penalty={penalty!r}" + (
            f" with l1_ratio={l1_ratio}" if penalty == "elasticnet" else "")
            if r.startswith("ElasticNet") else r for r in offending]
    if np.any(trainer.config.dropout):
        offending.append(f"dropout={estimator.dropout}")
    if offending:
        raise ValueError(
            "solver='lbfgs' minimises a smooth, deterministic full-batch objective "
            "and cannot be combined with " + ", ".join(offending) + ". Use "
            "solver='adam' for these, or penalty='l2' / penalty='lp' with 1 < p < inf.")


#: the parameters that prepare the network's inputs at a first fit (a warm
#: start or ``partial_fit`` cannot change them)
_PREPARATION_PARAMS = ("input_scaling", "numeric_embedding", "embedding_size",
                       "categorical_features", "max_onehot_categories")

#: the parameters behind each architecture setting of the engine
#: (:attr:`skreg._engine.Trainer.ARCHITECTURE`), for the error of a warm start
_ARCHITECTURE_PARAMS = {
    "layer_sizes": "hidden_layer_sizes", "activation": "activation",
    "batch_norm": "batch_norm", "embedding_tables": "embedding_size",
    "plr": "numeric_embedding or embedding_size", "scale_layer": "scale_layer",
    "device": "device", "dtype": "the dtype of X (float32 or float64)",
    "joint": "ensemble_size", "members": "ensemble_size",
    "regularizers' parameters": "l0_alpha, l0_gates or gradient_noise",
}


def _shown(value):
    """A parameter's value for a message: numbers as ``%g``, anything else as its repr."""
    return f"{float(value):g}" if isinstance(value, Real) else repr(value)


@contextmanager
def fit_transaction(estimator, continuing=False):
    """Run a fit of ``estimator`` that leaves it as it was if the fit does not end.

    Any exception, ``KeyboardInterrupt`` included, restores every attribute
    the fit set or replaced: a fitted estimator keeps its model (its
    predictions bitwise unchanged), an unfitted one stays unfitted. A fit
    that replaces its trainer (a fit from scratch) needs no copy of the old
    one; one that goes on training it (``continuing``: a warm start,
    ``partial_fit``) works on the trainer in place, so a copy of it is kept
    aside. The one exception is the documented outcome of a continued fit
    that diverges: :class:`~skreg.DivergenceError` keeps the epochs that
    stayed finite (see the reliability page).
    """
    saved = dict(estimator.__dict__)
    history = None
    if continuing:
        saved["_trainer"], history = _trainer_copy(saved["_trainer"])
    try:
        yield
    except DivergenceError:
        if not continuing:
            _restore(estimator, saved, history)
        raise
    except BaseException:
        _restore(estimator, saved, history)
        raise


def _trainer_copy(trainer):
    """``(copy, (history, n_rows))``: a trainer's copy that shares its history.

    The history only grows (one row per epoch), so the copy keeps a
    reference and its length instead of a copy: a copy would make each of a
    long series of ``partial_fit`` calls cost as much as its whole history.
    """
    history = trainer.history
    trainer.history = None
    try:
        copied = copy.deepcopy(trainer)
    finally:
        trainer.history = history
    copied.history = history
    return copied, (history, None if history is None else len(history))


def _restore(estimator, saved, history=None):
    """Put back the attributes ``saved`` (a copy of ``estimator.__dict__``).

    ``history``: the ``(history, n_rows)`` of :func:`_trainer_copy`, whose
    rows past ``n_rows`` (the failed fit's epochs) are dropped.
    """
    estimator.__dict__.clear()
    estimator.__dict__.update(saved)
    if history is not None and history[0] is not None:
        del history[0][history[1]:]


class BaseRegularizedMLP(BaseEstimator, metaclass=ABCMeta):
    """Shared logic of the regularized MLP estimators.

    Warning: this class should not be used directly; use the derived classes.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(SOLVERS))],
        "batch_norm": ["boolean"],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive", "cosine",
                                       "coslog4"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "snapshot_every": [Interval(Integral, 1, None, closed="left"), None],
        "input_scaling": [StrOptions({"robust"}), None],
        "callbacks": [list, None],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "numeric_embedding": [StrOptions(set(EMBEDDINGS) | set(LEARNED_EMBEDDINGS)), None],
        "embedding_size": [Interval(Integral, 2, None, closed="left")],
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "max_onehot_categories": [Interval(Integral, 0, None, closed="left"), None],
        "scale_layer": ["boolean"],
        # each regularizer's own parameters (skreg/_engine/regularizers.py)
        **{param.name: param.constraints for param in regularizer_params()},
    }

    @abstractmethod
    def __init__(self, hidden_layer_sizes, activation, *, solver, penalty, alpha,
                 l1_ratio, dropout, batch_size, learning_rate_init, max_iter,
                 shuffle, random_state, tol, verbose, warm_start, momentum,
                 nesterovs_momentum, early_stopping, validation_fraction, beta_1,
                 beta_2, epsilon, n_iter_no_change, device, l1_method, p, group_alpha,
                 max_norm, input_noise, hidden_noise, mixup, batch_norm, learning_rate,
                 power_t, snapshot_every, input_scaling, callbacks, max_fun=15000,
                 ensemble_size=1, numeric_embedding="plr", embedding_size=8,
                 categorical_features="from_dtype", max_onehot_categories=16,
                 scale_layer=False, weight_noise=0.0, gradient_noise=0.0,
                 gradient_noise_decay=0.55, l0_alpha=0.0, l0_gates="features"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.l1_method = l1_method
        self.p = p
        self.group_alpha = group_alpha
        self.max_norm = max_norm
        self.input_noise = input_noise
        self.hidden_noise = hidden_noise
        self.mixup = mixup
        self.batch_norm = batch_norm
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.snapshot_every = snapshot_every
        self.input_scaling = input_scaling
        self.callbacks = callbacks
        self.max_fun = max_fun
        self.ensemble_size = ensemble_size
        self.numeric_embedding = numeric_embedding
        self.embedding_size = embedding_size
        self.categorical_features = categorical_features
        self.max_onehot_categories = max_onehot_categories
        self.scale_layer = scale_layer
        self.weight_noise = weight_noise
        self.gradient_noise = gradient_noise
        self.gradient_noise_decay = gradient_noise_decay
        self.l0_alpha = l0_alpha
        self.l0_gates = l0_gates

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _validate_targets(self, y, incremental, first_pass, classes=None):
        """Validated ``y`` -> (encoded targets for the engine, labels or None).

        The encoded targets are class indices, 0/1 indicator rows or values;
        the labels (class indices) stratify the early-stopping split and
        weigh classes.
        """

    @abstractmethod
    def _make_loss(self):
        """The engine's loss object (:data:`skreg._engine.LOSSES`)."""

    @abstractmethod
    def _scoring_outputs(self, raw):
        """What a scorer reads of a fit's raw outputs (a tensor ``(n, n_outputs)``).

        A dict with ``predict`` (and for a classifier ``predict_proba`` and
        ``decision_function``), as this estimator's methods return them.
        """

    def _check_raw_targets(self, y):
        """Checks of ``y`` as given, before numpy converts it (a classifier's labels)."""

    def _class_weights(self, labels):
        """Each row's class weight, or None (a regressor; no ``class_weight``)."""
        return None

    def _learn_target_scaling(self, targets, sample_weight=None, rows=None):
        """Learn the target scaling of the training targets (of ``rows`` only, if given)."""

    def _scale_targets(self, targets, first_pass, sample_weight=None):
        """Targets as the network is trained on them."""
        return targets

    def _stratification(self, labels):
        """What the early-stopping split is stratified on (None: not stratified)."""
        return None

    # ------------------------------------------------------------- validation
    def _validate_X(self, X, reset):
        if getattr(self, "encoder_", None) is not None:
            X = self._encode(X, reset=reset)
        else:
            X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"],
                              dtype=(np.float64, np.float32))
        return self._scale_inputs(dense(X, self._trainer.config.dtype))

    def _route_input(self, X):
        """``(X, encode)`` for a first fit: whether ``encoder_`` is needed for X.

        The encoder is used, unless ``categorical_features`` is None, for a
        dataframe, for an explicit ``categorical_features`` selection and for
        an array with NaN. Any other input (numeric arrays without NaN,
        sparse matrices) takes scikit-learn's validation, unchanged: a
        numeric array comes back as the array ``validate_data`` would make.
        """
        if self.categorical_features is None or sp.issparse(X):
            return X, False
        X = _to_pandas(X)
        if _is_dataframe(X) or not isinstance(self.categorical_features, str):
            return X, True
        # an array has no column dtypes, so 'from_dtype' makes every column
        # numeric: scikit-learn's conversion, with its errors (strings, dicts)
        X = check_array(X, dtype=(np.float64, np.float32), ensure_all_finite=False,
                        estimator=self)
        return X, bool(np.isnan(X).any())

    def _new_encoder(self, X):
        """The (unfitted) encoder of a first fit on X."""
        if _is_dataframe(X):
            single = len(X.dtypes) > 0 and all(d == np.float32 for d in X.dtypes)
        else:
            single = getattr(X, "dtype", None) == np.float32
        encoder = TabularEncoder(categorical_features=self.categorical_features,
                                 max_onehot_categories=self.max_onehot_categories,
                                 min_frequency=MIN_CATEGORY_FREQUENCY,
                                 dtype="float32" if single else "float64")
        # a numpy output whatever the global set_output configuration
        return encoder.set_output(transform="default")

    def _encode(self, X, reset):
        """Raw X encoded by ``encoder_`` (fitted first when ``reset``); see :func:`encode_table`."""
        return encode_table(self, self.encoder_, X, reset, self.max_onehot_categories)

    def _validate_raw(self, X, y, first_pass):
        """scikit-learn's validation of X and y (the path without encoder)."""
        try:
            return validate_data(self, X, y, reset=first_pass,
                                 accept_sparse=["csr", "csc", "coo"],
                                 dtype=(np.float64, np.float32),
                                 multi_output=True, y_numeric=False)
        except (TypeError, ValueError) as exc:
            column = non_numeric_column(X)
            if column is None:
                raise
            raise ValueError(
                f"Column {column[0]!r} has dtype {column[1]}, which is not numeric; "
                f"with categorical_features={self.categorical_features!r} every "
                "column must be numeric (as for scikit-learn's MLP). Use "
                "categorical_features='from_dtype' (the default) to encode string, "
                "categorical and bool columns, or encode them first.") from exc

    def _scale_inputs(self, X):
        """``input_scaling`` applied to dense X (a new array; X is left as it is).

        The embedding code columns (the last ones, see ``encoder_``) are
        left as they are.
        """
        if getattr(self, "input_center_", None) is None:
            return X
        n_scaled = len(self.input_center_)
        if n_scaled == X.shape[1]:
            return robust_scale(X, self.input_center_, self.input_scale_)
        out = np.empty_like(X)
        out[:, :n_scaled] = robust_scale(X[:, :n_scaled], self.input_center_,
                                         self.input_scale_)
        out[:, n_scaled:] = X[:, n_scaled:]
        return out

    def _n_codes(self):
        """Number of embedding code columns at the end of the encoded X."""
        encoder = getattr(self, "encoder_", None)
        return 0 if encoder is None else len(encoder.embedding_columns_)

    def _embedding_tables(self):
        """``(n_codes, dim)`` of each embedded categorical column's table.

        ``dim = min(embedding_size, n_categories)``: a table never has more
        dimensions than its column has categories.
        """
        return embedding_tables(getattr(self, "encoder_", None), self.embedding_size)

    # ------------------------------------------------------------ fit: steps
    def _validated(self, X, y, sample_weight, incremental, first_pass, classes):
        """Step 1: ``(X, targets, labels, sample_weight, class_weights)`` of a fit's data.

        X encoded (a first fit decides whether it needs ``encoder_``),
        validated and dense in the training dtype; the targets encoded by
        the estimator's hook; the sample weights times the class weights.
        """
        self._check_raw_targets(y)
        encode = getattr(self, "encoder_", None) is not None
        if first_pass:
            X, encode = self._route_input(X)
            self.encoder_ = self._new_encoder(X) if encode else None
        if encode:
            # a mixed-type table (or NaN): encoded to numbers, then validated
            # as any numeric X (with y); never refitted after the first pass
            X = self._encode(X, reset=first_pass)
            X, y = check_X_y(X, y, dtype=(np.float64, np.float32), multi_output=True,
                             y_numeric=False, estimator=self)
        else:
            X, y = self._validate_raw(X, y, first_pass)
        # computations run in X's floating dtype, as in scikit-learn's MLP:
        # float32 input trains in float32 (faster, half the memory)
        dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        if not first_pass:
            dtype = self._trainer.config.dtype
        X = dense(X, dtype)
        targets, labels = self._validate_targets(y, incremental, first_pass, classes)
        targets = self._float_targets(targets, X.dtype)
        sample_weight, class_weights = self._weights(X, sample_weight, labels)
        return X, targets, labels, sample_weight, class_weights

    @staticmethod
    def _float_targets(targets, dtype):
        """Encoded targets of floating type in X's ``dtype`` (class indices stay integers)."""
        if targets.dtype.kind != "f":
            return targets
        with np.errstate(over="ignore"):  # reported just below
            targets = np.ascontiguousarray(targets, dtype=dtype)
        if not np.isfinite(targets).all():
            raise ValueError(
                f"y contains values too large for {dtype} (|y| > "
                f"{np.finfo(dtype).max:.1e}). Scale the targets first.")
        return targets

    @staticmethod
    def _sample_weights(X, sample_weight):
        """Validated sample weights (non-negative, one per row of X), or None."""
        if sample_weight is None:
            return None
        return _check_sample_weight(sample_weight, X, dtype=np.float64,
                                    ensure_non_negative=True)

    def _weights(self, X, sample_weight, labels):
        """``(sample_weight, class_weights)``: the rows' weights, class weights included.

        Class weights multiply the sample weights, and set ``alpha='auto'``'s
        row count (:func:`~skreg._spec.auto_alpha_rows`).
        """
        given = self._sample_weights(X, sample_weight)
        class_weights = self._class_weights(labels)
        sample_weight = given
        if class_weights is not None:
            sample_weight = class_weights if given is None else class_weights * given
        if sample_weight is not None and not sample_weight.sum() > 0:
            what = ("sample_weight" if class_weights is None else "class_weight"
                    if given is None else "sample_weight times class_weight")
            raise ValueError(f"{what} must give the samples a positive total weight; "
                             "got all zeros.")
        return sample_weight, class_weights

    def _learn_input_scaling(self, X, sample_weight=None, rows=None):
        """Step 2: the ``input_scaling`` statistics of X (of ``rows`` only, if given).

        Weighted as the objective is (class weights included): a weight of 2
        counts as a repeated row.
        """
        self.input_center_ = self.input_scale_ = None
        if self.input_scaling != "robust":
            return
        if getattr(self, "encoder_", None) is None:
            self.input_center_, self.input_scale_ = robust_scaling_stats(
                X, sample_weight, rows=rows)
        else:
            self.input_center_, self.input_scale_ = encoded_scaling_stats(
                X, self.encoder_, sample_weight, rows=rows)

    def _numeric_inputs(self, X, sample_weight, n_codes):
        """Step 3: ``(embedding, plr)`` of ``numeric_embedding`` on scaled X.

        A fixed embedding is fitted here (edges or frequencies from the
        scaled training inputs; it then runs on every batch, X is never
        stored embedded); the learned 'plr' one trains with the network:
        here only which columns it takes and its sizes. Binary and constant
        columns pass through; with no other, no PLR.
        """
        if self.numeric_embedding == "plr":
            size = max(1, self.embedding_size // 2)
            columns = varied_columns(X[:, :X.shape[1] - n_codes], sample_weight)
            return None, ((columns, size, size, PLR_SIGMA) if columns else ())
        if self.numeric_embedding is None:
            return None, ()
        embedding = fit_embedding(
            self.numeric_embedding, X, n_bins=self.embedding_size,
            n_frequencies=max(1, self.embedding_size // 2), sample_weight=sample_weight,
            passthrough=range(X.shape[1] - n_codes, X.shape[1]),
            seed=self.random_state if isinstance(self.random_state, Integral) else 0)
        return embedding, ()

    def _split_rows(self, n_samples, labels, incremental):
        """Step 4: ``(train_rows, valid_rows, n_train)``, the early-stopping split.

        ``train_rows`` and ``valid_rows`` are None without early stopping
        (every row trains).
        """
        if not uses_early_stopping(self) or incremental:
            n_train = n_samples
            train_rows = valid_rows = None
        else:
            train, valid = self._validation_split(n_samples, labels)
            train_rows, valid_rows, n_train = [train], [valid], len(train)
        if self.batch_norm and n_train < 2:
            raise ValueError(
                "batch_norm=True needs at least 2 training samples; got 1 sample.")
        return train_rows, valid_rows, n_train

    def _validation_split(self, n_samples, labels):
        """Training and early-stopping rows (stratified for classifiers).

        As in scikit-learn, the split comes first (so its own errors about
        classes too small to stratify come first), then the size check.
        """
        stratify = self._stratification(labels)
        n_valid = int(np.ceil(self.validation_fraction * n_samples))
        too_small = (
            f"The validation set is too small: validation_fraction="
            f"{self.validation_fraction} of {n_samples} samples gives {n_valid} "
            "validation samples, at least 2 are needed.")
        advice = ("Increase 'validation_fraction' or the size of your dataset, or set "
                  "early_stopping=False.")
        try:
            train, valid = train_test_split(
                np.arange(n_samples), test_size=self.validation_fraction,
                random_state=check_random_state(self.random_state), stratify=stratify)
        except ValueError as exc:
            what = "a stratified validation split" if stratify is not None else \
                "a validation split"
            also = f" {too_small}" if n_valid < 2 else ""
            raise ValueError(
                f"Cannot make {what} for early stopping with validation_fraction="
                f"{self.validation_fraction}: {exc}{also} {advice}") from None
        if len(valid) < 2:
            raise ValueError(f"{too_small} {advice}")
        return train, valid

    def _n_outputs(self, targets):
        """Output units: one per target column, per class, or one logistic unit."""
        if targets.ndim == 2:
            return targets.shape[1]
        return 1 if self._make_loss().out_activation == "logistic" else len(self.classes_)

    def _fit_rows(self, n_columns, n_outputs, n_train, n_auto, device, dtype,
                  embedding=None, plr=()):
        """The :class:`~skreg._spec.FitRows` of a fit on ``n_train`` rows of ``n_columns``."""
        tables = self._embedding_tables()
        return FitRows(
            n_inputs=network_inputs(n_columns, self._n_codes(), tables, embedding, plr),
            n_outputs=n_outputs, loss=self._make_loss(), n_train=n_train, n_auto=n_auto,
            tables=tables, plr=plr, device=device, dtype=dtype)

    def _training_config(self, n_features, n_outputs, batch_size, device, dtype,
                         n_train=None, tables=(), plr=()):
        """The engine's settings of this estimator's one fit (see :func:`~skreg._spec.fit_spec`).

        ``n_features`` network inputs and batches of ``batch_size`` rows;
        ``n_train`` is ``alpha='auto'``'s row count. Sets ``alpha_``.
        """
        rows = FitRows(n_inputs=n_features, n_outputs=n_outputs, loss=self._make_loss(),
                       n_train=batch_size, n_auto=n_train, tables=tables, plr=plr,
                       device=device, dtype=dtype)
        spec = fit_spec(self, rows)
        self.alpha_ = spec.alpha
        return stack_config([spec])

    def _spec(self, X, targets, sample_weight, class_weights, train_rows, n_train, device,
              dtype):
        """The :class:`~skreg._spec.FitSpec` of this fit, from the current parameters."""
        n_auto = auto_alpha_rows(sample_weight, class_weights,
                                 None if train_rows is None else train_rows[0], n_train)
        rows = self._fit_rows(X.shape[1], self._n_outputs(targets), n_train, n_auto,
                              device, dtype, self._embedding, self._plr)
        return fit_spec(self, rows)

    def _new_trainer(self, X, targets, sample_weight, class_weights, train_rows, n_train,
                     device, dtype):
        """Step 5 of a first fit: the trainer of this fit's specification."""
        spec = self._spec(X, targets, sample_weight, class_weights, train_rows, n_train,
                          device, dtype)
        trainer = Trainer(stack_config([spec]))
        self.alpha_ = spec.alpha
        check_lbfgs(self, trainer)
        return trainer

    def _continued_trainer(self, X, targets, sample_weight, class_weights, train_rows,
                           n_train, device, incremental):
        """Step 5 of a warm start or ``partial_fit``: the trainer, with the current settings.

        As scikit-learn's MLP, a warm start keeps the weights and takes
        every current hyperparameter into account (its optimizer is new);
        ``partial_fit`` goes on with the optimizer it has and takes the
        current regularization. The network's architecture cannot change:
        a parameter that would change it raises a ``ValueError`` naming it.
        """
        trainer = self._trainer
        # the inputs are prepared as at the first fit (encoder_, the
        # embedding): only the parameters can differ from the fitted network's
        spec = self._spec(X, targets, sample_weight, class_weights, train_rows, n_train,
                          device, trainer.config.dtype)
        config = stack_config([spec])
        changed = [_ARCHITECTURE_PARAMS.get(name, name)
                   for name, _, _ in trainer.architecture_changes(config)]
        prepared = getattr(self, "_prepared_with", {})
        changed += [name for name, value in prepared.items()
                    if repr(getattr(self, name)) != repr(value)]
        if changed:
            what = ", ".join(dict.fromkeys(changed))
            call = "partial_fit" if incremental else "fit with warm_start=True"
            raise ValueError(
                f"{call} continues the fitted network and cannot change its "
                f"architecture; these parameters changed it: {what}. Restore the values "
                "it was fitted with, or set warm_start=False to fit a new network.")
        trainer.reconfigure(config, keep_optimizer=incremental)
        check_lbfgs(self, trainer)
        self.alpha_ = spec.alpha
        return trainer

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        """``fit`` and ``partial_fit``, as one transaction (see :func:`fit_transaction`)."""
        continuing = hasattr(self, "_trainer") and (self.warm_start or incremental)
        with fit_transaction(self, continuing):
            return self._fit_steps(X, y, sample_weight, incremental, classes)

    def _fit_steps(self, X, y, sample_weight, incremental, classes):
        """The steps of a fit: prepare the data, specify the fit, train."""
        if incremental and self.early_stopping:
            # one epoch has no held-out rows to stop on (scikit-learn's error)
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "_trainer") or (not self.warm_start and not incremental)
        device = resolve_device(self.device)
        X, targets, labels, sample_weight, class_weights = self._validated(
            X, y, sample_weight, incremental, first_pass, classes)
        if first_pass:
            # what prepared the network's inputs: fixed until a fit from scratch
            self._prepared_with = {name: copy.deepcopy(getattr(self, name))
                                   for name in _PREPARATION_PARAMS}
            self._learn_input_scaling(X, sample_weight)
        X = self._scale_inputs(X)
        if first_pass:
            self._embedding, self._plr = self._numeric_inputs(X, sample_weight,
                                                              self._n_codes())
        targets = self._scale_targets(targets, first_pass, sample_weight)
        train_rows, valid_rows, n_train = self._split_rows(X.shape[0], labels, incremental)
        warn_batch_size(self, n_train, stacklevel=3)
        if first_pass:
            dtype = torch.float32 if X.dtype == np.float32 else torch.float64
            trainer = self._new_trainer(X, targets, sample_weight, class_weights,
                                        train_rows, n_train, device, dtype)
        else:
            trainer = self._continued_trainer(X, targets, sample_weight, class_weights,
                                              train_rows, n_train, device, incremental)
        device, dtype = trainer.config.device, trainer.config.dtype
        data = TrainingData(
            X=as_tensor(X, device), y=torch.as_tensor(targets, device=device),
            sample_weight=(None if sample_weight is None else torch.as_tensor(
                sample_weight, dtype=dtype, device=device).view(1, -1)),
            train_rows=train_rows, valid_rows=valid_rows,
            embeddings=None if self._embedding is None else [self._embedding])
        return self._train(trainer, data, incremental)

    def _train(self, trainer, data, incremental):
        """Step 6: train (the engine), then record the fit."""
        callbacks = initialized_callbacks(self.callbacks, trainer.config.early_stopping)
        work = step_work(trainer.config.layer_sizes, trainer.config.batch_size)
        epochs = 1 if incremental else self.max_iter
        progress = Progress(epochs, type(self).__name__) if shows_bar(self.verbose) else None
        with training_threads(trainer.config.device, work) as n_threads:
            try:
                trainer, result = fit(
                    None, data, trainer=trainer, epochs=epochs, monitor=not incremental,
                    callbacks=callbacks, progress=progress,
                    host=EpochCallbackHost(self, trainer) if callbacks else None)
            except KeyError as exc:
                # skorch's History: "Key 'valid_loss' was not found in history."
                if not callbacks or "not found in history" not in str(exc):
                    raise
                raise ValueError(
                    f"A callback read the training history and failed: {exc.args[0]} "
                    "Entries valid_loss and valid_score are recorded only with "
                    "early_stopping=True; see the estimator's history_ for the "
                    "others.") from exc
            finally:
                if progress is not None:
                    progress.close()
        self._record_fit(trainer, result.n_iter[0], n_threads)
        if not incremental:
            self._warn_convergence(result)
            if result.converged[0] and np.any(trainer.config.alpha > 0):
                self._warn_constant(data)
        return self

    def _warn_constant(self, data):
        """Warn when a converged, penalised fit predicts the same for every training row.

        Only where the weights of every layer shrank far below their initial
        scale: the penalty, not an early stop, made the prediction constant,
        which is the usual sign of a penalty too strong for the data; skreg's
        ``alpha`` differs from scikit-learn's where the inputs are scaled or
        embedded, which the message says.
        """
        # the penalty's mark: every layer's weights far below their initial
        # scale (Glorot-uniform, RMS sqrt(2 / (fan_in + fan_out))); a fit that
        # merely stopped early keeps weights of that scale
        for W in self._trainer.model.layer_weights():
            fan_in, fan_out = W.shape[-2:]
            if W.square().mean().sqrt().item() > 0.1 * np.sqrt(2.0 / (fan_in + fan_out)):
                return
        out = predict(self._trainer, data.X, embedding=self._embedding, activate=False)
        if not self._constant(out, data.y.cpu().numpy()):
            return
        differs = [f"{name}={getattr(self, name)!r}" for name in
                   ("input_scaling", "numeric_embedding") if getattr(self, name) is not None]
        note = "" if not differs else (
            f" With {' and '.join(differs)}, alpha applies to scaled inputs and also "
            "penalizes the embedding's weights, so a given alpha regularizes more "
            "strongly than in scikit-learn's MLP; numeric_embedding=None and "
            "input_scaling=None give scikit-learn's network.")
        warnings.warn(
            f"The fitted network predicts the same {self._constant_what} for every "
            f"training sample: the penalty is likely too strong for this data "
            f"(alpha={_shown(self.alpha)}, alpha_={self.alpha_:.4g}). Try a smaller "
            f"alpha{'' if self.alpha == 'auto' else ' or alpha=' + repr('auto')}.{note}",
            UserWarning, stacklevel=5)

    #: what a constant prediction is called in :meth:`_warn_constant`'s message
    _constant_what = "value"

    def _constant(self, raw, targets):
        """Whether raw training outputs are one prediction while the targets vary."""
        spread = np.ptp(raw, axis=0).max() if len(raw) > 1 else 0.0
        return bool(np.ptp(targets) > 0 and spread <= 1e-6 * (1.0 + np.abs(raw).max()))

    def _record_fit(self, trainer, n_iter, n_threads):
        """The fitted state a trained ``trainer`` gives (a plain fit's, or a search's fold model's).

        ``n_iter`` epochs of this fit, ``n_threads`` intra-op threads its
        training used.
        """
        self.n_threads_ = n_threads
        self._trainer = trainer
        self.n_iter_ = int(n_iter)

    def _warn_convergence(self, result):
        """scikit-learn's ConvergenceWarning of a fit that did not converge."""
        if result.divergence is not None:
            message = (f"{result.divergence} Early stopping kept the weights of the best "
                       "epoch.")
        elif self.solver == "lbfgs" and (result.max_fun_reached or (
                not result.converged[0] and self.n_iter_ == self.max_iter)):
            # the text of scikit-learn's L-BFGS-B warning
            if result.max_fun_reached:
                stop, increase = ("TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT",
                                  f"function evaluations (max_fun={self.max_fun})")
            else:
                stop, increase = ("TOTAL NO. OF ITERATIONS REACHED LIMIT",
                                  f"iterations (max_iter={self.max_iter})")
            message = (
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) (status=1):\n"
                f"STOP: {stop}.\n\nIncrease the number of {increase} to improve the "
                "convergence.\nYou might also want to scale the data as shown in:\n"
                "    https://scikit-learn.org/stable/modules/preprocessing.html")
        elif not result.converged[0] and self.n_iter_ == self.max_iter:
            message = (f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                       "reached and the optimization hasn't converged yet.")
        else:
            return
        warnings.warn(message, ConvergenceWarning, stacklevel=5)

    # ---------------------------------------------------------------- predict
    def scale_inputs(self, X):
        """X as the network sees it: validated, dense, and scaled by ``input_scaling``.

        ``module_``, ``coefs_`` and ``intercepts_`` act on these inputs: for
        the default ``input_scaling='robust'``,
        ``f((X - input_center_) / input_scale_)`` with the smooth clip
        ``f(z) = z / sqrt(1 + (z / 3)^2)``; with ``input_scaling=None``, X
        itself (in the training dtype). With a fixed ``numeric_embedding``
        ('piecewise_linear', 'periodic'), the scaled features' embedding;
        the learned 'plr' one is part of the network (``module_`` computes
        it from these inputs). Embedded categorical columns come last, as
        their integer codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_inputs)
            A new array in the training dtype; X is not modified.
        """
        check_is_fitted(self)
        Z = self._validate_X(X, reset=False)
        if getattr(self, "_embedding", None) is not None:
            return self._embedding.transform(Z)
        # without scaling or conversion Z is X itself: never hand that out
        return Z.copy() if Z is X else Z

    def _forward(self, X, activate=True):
        """Network outputs (or raw outputs) for X as a numpy array."""
        check_is_fitted(self)
        out = predict(self._trainer, self._validate_X(X, reset=False),
                      embedding=getattr(self, "_embedding", None), activate=activate)
        check_finite_outputs(out)
        return out

    def _mc_forward(self, X, mc_samples):
        """``mc_samples`` stochastic passes with dropout on (MC dropout).

        Returns an array of shape ``(mc_samples, n_samples, n_outputs)`` of
        output-activated predictions. The masks come from generators seeded
        by the fitted network and made for the call (:func:`skreg._engine.predict_mc`),
        so repeated and concurrent calls give the same result.
        """
        check_is_fitted(self)
        if not isinstance(mc_samples, Integral) or mc_samples < 1:
            raise ValueError(f"mc_samples must be a positive integer; got {mc_samples!r}.")
        if not np.any(self._trainer.config.dropout):
            raise ValueError(
                "Monte Carlo dropout needs a model trained with dropout > 0; this one "
                f"has dropout={self.dropout!r}.")
        return predict_mc(self._trainer, self._validate_X(X, reset=False), mc_samples,
                          embedding=getattr(self, "_embedding", None))

    # ------------------------------------------------------- fitted attributes
    @property
    def feature_importances_(self):
        """ndarray of shape (n_features_in_,): importance of each input feature.

        The L2 norm of each input feature's outgoing weights (row ``j`` of
        ``coefs_[0]``); exactly 0 for features
        removed by the group lasso (``group_alpha``). A feature that feeds
        several network inputs (its numeric embedding, or its encoded
        columns with ``encoder_``: one-hot block or embedding table,
        missing indicator) adds up their squared norms. For an embedded
        categorical column these are the first-layer rows its table feeds,
        whatever the size of the table's entries, so its importance is not
        on the scale of a one-hot column's. Usable by
        :class:`~sklearn.feature_selection.SelectFromModel`.
        """
        W = self.coefs_[0]
        # an ensemble's members (a leading axis) and an embedded feature's
        # inputs (several rows of W) add up their squared norms
        squared = (W ** 2).sum(-1)
        if squared.ndim == 2:
            squared = squared.mean(0)
        # the rows of W: the numeric inputs, the PLR outputs, the table entries
        model = self._trainer.model
        tables = model.tables
        split = len(squared) - sum(dim for _, dim in tables)
        dense_part, plr, squared = (squared[:model.n_dense], squared[model.n_dense:split],
                                    squared[split:])
        if model.plr:
            # a PLR column's d outputs -> the column
            columns, _, d, _ = model.plr
            dense_part = dense_part + np.bincount(np.repeat(columns, d), plr, len(dense_part))
        # a categorical table's inputs -> its code column
        per_table = (np.add.reduceat(squared, np.cumsum([0, *[d for _, d in tables[:-1]]]))
                     if tables else squared)
        embedding = getattr(self, "_embedding", None)
        if embedding is not None:
            n_dense = embedding.n_outputs - len(tables)
            dense_part = np.bincount(embedding.source[:n_dense], dense_part,
                                     embedding.n_features_in - len(tables))
        squared = np.concatenate([dense_part, per_table])
        encoder = getattr(self, "encoder_", None)
        if encoder is not None:
            # encoded columns -> the raw columns they come from
            squared = np.bincount(encoder.output_sources_, squared, encoder.n_features_in_)
        return np.sqrt(squared)

    @property
    def embedding_sizes_(self):
        """dict: dimension of the learned embedding of each embedded categorical column.

        Keys are the column names (``encoder_.feature_names_in_``); the
        columns with more than ``max_onehot_categories`` categories. Empty
        without such columns.
        """
        check_is_fitted(self)
        return {name: dim for name, (_, dim) in zip(self._embedded_names(),
                                                    self._trainer.model.tables)}

    @property
    def embeddings_(self):
        """dict: the learned embedding table of each embedded categorical column.

        ``embeddings_[name][c]`` is the vector the first layer sees for code
        ``c`` of the column (``encoder_.categories_``' order, then the
        missing and the unseen code), shape ``(n_codes, dim)``, or
        ``(ensemble_size, n_codes, dim)`` for an ensemble.
        """
        check_is_fitted(self)
        return {name: E.detach().cpu().numpy().copy() for name, E in
                zip(self._embedded_names(), self._trainer.model.table_views())}

    def _embedded_names(self):
        encoder = getattr(self, "encoder_", None)
        if encoder is None:
            return []
        return list(encoder.get_feature_names_out()[encoder.embedding_columns_])

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_trainer")

    @property
    def module_(self):
        """The trained torch module.

        A :class:`skreg._engine.StackedMLP` of one network; ``module_(X)``
        returns raw outputs for the inputs of :meth:`scale_inputs`.
        """
        return self._trainer.model

    @property
    def history_(self):
        """Per-epoch :class:`skorch.History` since initialisation.

        Keys: ``epoch``, ``train_loss``, ``penalty``, ``loss``, ``valid_loss``, ``valid_score``,
        ``best_epoch``, ``lr``, ``dur``, ``l1_norm``, ``l2_norm``,
        ``frac_near_zero``, ``frac_zero`` and (with ``snapshot_every``)
        ``coef_snapshot``.
        """
        return self._trainer.history

    @property
    def coefs_(self):
        """list of ndarray: weight matrix of layer i, shape (fan_in, fan_out).

        With ``scale_layer=True`` the first is the matrix the layer applies,
        ``diag(input_scales_) W_1``.
        """
        return [W.detach().cpu().numpy().copy() for W in self._trainer.model.layer_weights()]

    @coefs_.setter
    def coefs_(self, value):
        self._assign_layers("coefs_", value)

    def _assign_layers(self, name, value):
        """Write ``value`` (one array per layer) into ``coefs_`` or ``intercepts_``.

        As in scikit-learn's MLP, assigning the attribute sets the weights a
        later ``predict``, ``partial_fit`` or warm start uses; each array
        must have the shape of the one it replaces and be finite. Assign
        the whole list: the arrays read from the attribute are copies.
        """
        check_is_fitted(self, msg=(
            f"{name} can only be assigned on a fitted network (fit or partial_fit builds "
            "it); this %(name)s instance is not fitted yet."))
        model = self._trainer.model
        if name == "coefs_" and (model.scale_layer or model.gates):
            raise AttributeError(
                "coefs_ cannot be assigned with scale_layer=True or l0_alpha > 0: the "
                "matrices the layers apply are then products of several parameters.")
        current = getattr(self, name)
        value = list(value)
        if len(value) != len(current):
            raise ValueError(f"{name} must be a list of {len(current)} arrays, one per "
                             f"layer; got {len(value)}.")
        arrays = []
        for i, (new, old) in enumerate(zip(value, current)):
            new = np.asarray(new, dtype=np.float64)
            if new.shape != old.shape:
                raise ValueError(f"{name}[{i}] must have shape {old.shape}; got {new.shape}.")
            if not np.isfinite(new).all():
                raise ValueError(f"{name}[{i}] contains NaN or infinity.")
            arrays.append(new)
        views = model.coef_views() if name == "coefs_" else model.intercept_views()
        with torch.no_grad():
            for view, new in zip(views, arrays):
                view.copy_(torch.as_tensor(new, dtype=view.dtype).reshape(view.shape))

    @property
    def input_scales_(self):
        """ndarray of shape (n_inputs,) (an ensemble: (ensemble_size, n_inputs)): the learned scale.

        The factor ``s_j = 1 + 6 u_j`` of each of the first layer's inputs
        with ``scale_layer=True`` (all ones otherwise).
        """
        model = self._trainer.model
        if not model.scale_layer:
            ones = np.ones(model.layer_sizes[0])
            return ones if model.n_members == 1 else np.tile(ones, (model.n_members, 1))
        return model.input_scale().detach().cpu().numpy()[..., 0].copy()

    @property
    def intercepts_(self):
        """list of ndarray: bias vector of layer i, shape (fan_out,)."""
        # a stack's views are (C, 1, fan_out): one row per member
        return [b.detach().cpu().numpy().reshape(b.shape[0], -1).copy() if b.dim() == 3
                else b.detach().cpu().numpy().copy()
                for b in self._trainer.model.intercept_views()]

    @intercepts_.setter
    def intercepts_(self, value):
        self._assign_layers("intercepts_", value)

    @property
    def n_layers_(self):
        """int: number of layers, input and output included."""
        return self._trainer.model.n_layers + 1

    @property
    def n_outputs_(self):
        """int: number of output units."""
        return self._trainer.model.layer_sizes[-1]

    @property
    def out_activation_(self):
        """str: name of the output activation."""
        return self._trainer.config.loss.out_activation

    @property
    def loss_curve_(self):
        """list of float: objective (data loss + penalty) after each epoch."""
        return list(self.history_[:, "loss"])

    @property
    def loss_(self):
        """float: objective after the last epoch."""
        return self.history_[-1, "loss"]

    @property
    def best_loss_(self):
        """float or None: lowest objective reached; None with early stopping."""
        if self._trainer.config.early_stopping:
            return None
        losses = [loss for loss in self.loss_curve_ if not np.isnan(loss)]
        return float(min(losses)) if losses else float("nan")

    @property
    def validation_scores_(self):
        """list of float or None: validation score per epoch (early stopping)."""
        if not self._trainer.config.early_stopping:
            return None
        return [h.get("valid_score") for h in self.history_ if "valid_score" in h]

    @property
    def best_validation_score_(self):
        """float or None: best validation score (early stopping)."""
        scores = self.validation_scores_
        if not scores:
            return None
        # a diverged epoch's nan never counts as the best (scikit-learn's
        # comparison-based update skips it too)
        finite = [score for score in scores if not np.isnan(score)]
        return float(max(finite)) if finite else float("nan")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # NaN is imputed by the encoder; the 'categorical' and 'string' tags
        # stay False: they declare estimators that need categorical input,
        # and a numpy array of strings is refused under 'from_dtype'
        tags.input_tags.allow_nan = self.categorical_features is not None
        return tags
