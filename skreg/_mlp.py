"""RegularizedMLPClassifier and RegularizedMLPRegressor.

The scikit-learn side: parameters, validation, label encoding, input and
target scaling, the early-stopping split, and fitted attributes. All
training happens in the engine (:mod:`skreg._engine`), which receives
tensors and never sees pandas frames or string labels.
"""

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (BaseEstimator, ClassifierMixin, RegressorMixin,
                          _fit_context)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (_check_partial_fit_first_call,
                                      type_of_target, unique_labels)
from sklearn.utils.validation import (_check_sample_weight, check_array,
                                      check_is_fitted, check_X_y, column_or_1d,
                                      validate_data)

from ._engine import ACTIVATIONS, LOSSES, DropoutMasks, Trainer, TrainingConfig, TrainingData
from ._engine.regularizers import regularizer_params
from ._engine.embeddings import (EMBEDDINGS, LEARNED_EMBEDDINGS, PLR_SIGMA, fit_embedding,
                                 varied_columns)
from ._preprocessing import (robust_scale, robust_scaling_stats,
                             target_scaling_stats)
from ._tabular import TabularEncoder, _is_dataframe, _to_pandas
from ._threads import step_work, training_threads
from .skorch import EpochCallbackHost, initialized_callbacks

SOLVERS = ("adam", "adamw", "sgd", "lbfgs")

#: the per-row penalty strength ``alpha='auto'`` gives: ``AUTO_ALPHA / n_train``
AUTO_ALPHA = 1.0

# rows per forward pass at prediction time: bounds memory on large inputs
_PREDICT_CHUNK = 65536

#: categories of a categorical column seen in fewer training rows than this
#: are pooled into one "infrequent" category by the estimators' encoder
MIN_CATEGORY_FREQUENCY = 5

#: the most categories a one-hot encoded column may have: above, its block
#: would dominate the first layer (and the memory of X); such a column needs
#: a learned embedding (``max_onehot_categories``)
MAX_ONEHOT_CATEGORIES = 1000

# the feature-name warnings of the estimators' encoder repeat the
# estimator's own, which come first
_NAME_WARNINGS = "X does not have valid feature names|X has feature names"


def _resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"The 'device' parameter must be 'cpu', 'cuda', 'cuda:N' or 'auto'. "
            f"Got {device!r} instead.") from None
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(
            f"The 'device' parameter must be 'cpu', 'cuda', 'cuda:N' or 'auto'. "
            f"Got {device!r} instead.")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine. Use device='cpu' or device='auto'.")
    return device


def _stochastic_solver(estimator):
    """``partial_fit``'s availability: a minibatch solver (not 'lbfgs'), as scikit-learn."""
    if estimator.solver == "lbfgs":
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. lbfgs is not "
            "stochastic.")
    return True


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
                 ensemble_size=1, numeric_embedding=None, embedding_size=8,
                 categorical_features="from_dtype", max_onehot_categories=16,
                 scale_layer=False):
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

    # ------------------------------------------------------------- validation
    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
        if any(not isinstance(s, Integral) or isinstance(s, bool) or s <= 0
               for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be positive integers, got "
                f"{self.hidden_layer_sizes!r}.")
        return [int(s) for s in sizes]

    def _dropout_rates(self, n_hidden):
        rates = self.dropout
        if isinstance(rates, Real):
            return (float(rates),) * n_hidden
        rates = np.asarray(rates, dtype=float).ravel()
        if rates.shape[0] != n_hidden or np.any((rates < 0) | (rates >= 1)):
            raise ValueError(
                f"dropout must be a float in [0, 1) or a sequence of {n_hidden} such "
                f"floats, one per hidden layer; got {self.dropout!r}.")
        return tuple(rates.tolist())

    def _validate_X(self, X, reset):
        if getattr(self, "encoder_", None) is not None:
            X = self._encode(X, reset=reset)
        else:
            X = validate_data(self, X, reset=reset, accept_sparse=["csr", "csc", "coo"],
                              dtype=(np.float64, np.float32))
        return self._scale_inputs(_dense(X, self._trainer.config.dtype))

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
            column = _non_numeric_column(X)
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

    # -------------------------------------------------------------------- fit
    def _resolved_alpha(self, n_train, batch_size):
        """``alpha``, or for ``alpha='auto'`` ``AUTO_ALPHA * batch_size / n_train``.

        The penalty of a batch is ``alpha / batch_size`` times ``P(W)`` next
        to the batch's mean loss, so 'auto' is a per-row strength
        ``AUTO_ALPHA / n_train`` that shrinks as the data grow, as a fixed
        prior does against a likelihood of ``n_train`` rows.
        """
        if self.alpha == "auto":
            # without a row count (a config built for one batch) the batch is the data
            return AUTO_ALPHA * batch_size / (n_train or batch_size)
        return self.alpha

    def _training_config(self, n_features, n_outputs, batch_size, device, dtype,
                         n_train=None, tables=(), plr=()):
        """The engine's settings of one network, from this estimator's parameters."""
        hidden = self._hidden_sizes()
        self.alpha_ = self._resolved_alpha(n_train, batch_size)
        rs = check_random_state(self.random_state)
        # member 0 has the seed of a single network; the others draw on
        seeds = [int(rs.randint(np.iinfo(np.int32).max)) for _ in range(self.ensemble_size)]
        return TrainingConfig(
            layer_sizes=(n_features, *hidden, n_outputs), activation=self.activation,
            loss=self._make_loss(), batch_size=batch_size, seeds=seeds,
            joint=self.ensemble_size > 1,
            alpha=[self.alpha_], l1_ratio=[self.l1_ratio],
            dropout=[self._dropout_rates(len(hidden))],
            label_smoothing=[getattr(self, "label_smoothing", 0.0)],
            solver=self.solver, learning_rate_init=self.learning_rate_init,
            betas=(self.beta_1, self.beta_2), epsilon=self.epsilon,
            momentum=self.momentum, nesterov=self.nesterovs_momentum,
            max_iter=self.max_iter, tol=self.tol, n_iter_no_change=self.n_iter_no_change,
            max_fun=self.max_fun, early_stopping=self.early_stopping, shuffle=self.shuffle,
            regularization={param.name: getattr(self, param.name)
                            for param in regularizer_params()},
            batch_norm=self.batch_norm, learning_rate=self.learning_rate,
            power_t=self.power_t, snapshot_every=self.snapshot_every,
            device=device, dtype=dtype, verbose=int(self.verbose), embedding_tables=tables,
            plr=plr, scale_layer=self.scale_layer)

    def _check_lbfgs(self, trainer):
        """L-BFGS needs a smooth, deterministic full-batch objective."""
        if self.solver != "lbfgs":
            return
        offending = [r.describe() for r in trainer.regularizers if not r.smooth]
        if self.penalty in ("l1", "elasticnet") and self.alpha_ > 0 and (
                self.penalty == "l1" or self.l1_ratio > 0):
            offending = [f"penalty={self.penalty!r}" + (
                f" with l1_ratio={self.l1_ratio}" if self.penalty == "elasticnet" else "")
                if r.startswith("ElasticNet") else r for r in offending]
        if np.any(trainer.config.dropout):
            offending.append(f"dropout={self.dropout}")
        if offending:
            raise ValueError(
                "solver='lbfgs' minimises a smooth, deterministic full-batch objective "
                "and cannot be combined with " + ", ".join(offending) + ". Use "
                "solver='adam' for these, or penalty='l2' / penalty='lp' with 1 < p < inf.")

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        if incremental and self.early_stopping:
            # one epoch has no held-out rows to stop on (scikit-learn's error)
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "_trainer") or (not self.warm_start and not incremental)
        device = _resolve_device(self.device)
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
        X = _dense(X, dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        targets, labels = self._validate_targets(y, incremental, first_pass, classes)
        if targets.dtype.kind == "f":
            with np.errstate(over="ignore"):  # reported just below
                targets = np.ascontiguousarray(targets, dtype=X.dtype)
            if not np.isfinite(targets).all():
                raise ValueError(
                    f"y contains values too large for {X.dtype} (|y| > "
                    f"{np.finfo(X.dtype).max:.1e}). Scale the targets first.")
        # class weights multiply the sample weights, and set alpha='auto''s row count
        class_weights = self._class_weights(labels)
        if class_weights is not None:
            sample_weight = (class_weights if sample_weight is None
                             else class_weights * sample_weight)
        if sample_weight is not None and not sample_weight.sum() > 0:
            raise ValueError("sample_weight must have a positive sum; got all zeros.")
        # the scaling statistics are weighted as the objective is (class
        # weights included): a weight of 2 counts as a repeated row
        if first_pass:
            self.input_center_ = self.input_scale_ = None
            if self.input_scaling == "robust" and self.encoder_ is None:
                self.input_center_, self.input_scale_ = robust_scaling_stats(
                    X, sample_weight)
            elif self.input_scaling == "robust":
                self.input_center_, self.input_scale_ = encoded_scaling_stats(
                    X, self.encoder_, sample_weight)
        X = self._scale_inputs(X)
        if first_pass:
            self._embedding = None
            self._plr = ()
            if self.numeric_embedding == "plr":
                # the learned embedding trains with the network: here only
                # which columns it takes and its sizes
                n_dense = X.shape[1] - self._n_codes()
                size = max(1, self.embedding_size // 2)
                columns = varied_columns(X[:, :n_dense], sample_weight)
                # binary and constant columns pass through: with no other, no PLR
                self._plr = (columns, size, size, PLR_SIGMA) if columns else ()
            elif self.numeric_embedding is not None:
                # edges / frequencies from the scaled training inputs; the
                # embedding then runs on every batch, X is never stored embedded
                self._embedding = fit_embedding(
                    self.numeric_embedding, X, n_bins=self.embedding_size,
                    n_frequencies=max(1, self.embedding_size // 2),
                    sample_weight=sample_weight,
                    passthrough=range(X.shape[1] - self._n_codes(), X.shape[1]),
                    seed=self.random_state if isinstance(self.random_state, Integral) else 0)
        targets = self._scale_targets(targets, first_pass, sample_weight)

        train_rows = valid_rows = None
        n_samples = X.shape[0]
        if self.early_stopping and not incremental:
            train, valid = self._validation_split(n_samples, labels)
            train_rows, valid_rows = [train], [valid]
            n_samples = len(train)
        if self.batch_norm and n_samples < 2:
            raise ValueError(
                "batch_norm=True needs at least 2 training samples; got 1 sample.")
        if self.solver == "lbfgs":
            batch_size = n_samples  # L-BFGS works on the full batch
        elif self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    f"Got batch_size={self.batch_size} larger than the number of "
                    f"training samples ({n_samples}); it is clipped to {n_samples}.",
                    UserWarning, stacklevel=3)
            batch_size = min(self.batch_size, n_samples)

        if first_pass:
            n_outputs = targets.shape[1] if targets.ndim == 2 else (
                1 if self._make_loss().out_activation == "logistic"
                else len(self.classes_))
            n_inputs = X.shape[1] if self._embedding is None else self._embedding.n_outputs
            tables = self._embedding_tables()
            if tables and self.mixup:
                raise ValueError(
                    f"mixup={self.mixup} blends input rows, which cannot blend the codes "
                    "of embedded categorical columns; set max_onehot_categories=None "
                    "to one-hot encode them, or mixup=0.")
            n_inputs += sum(dim for _, dim in tables) - len(tables)
            if self._plr:
                n_inputs += len(self._plr[0]) * self._plr[2]
            n_train = auto_alpha_rows(sample_weight, class_weights,
                                      None if train_rows is None else train_rows[0],
                                      n_samples)
            trainer = Trainer(self._training_config(n_inputs, n_outputs, batch_size,
                                                    device, dtype, n_train=n_train,
                                                    tables=tables, plr=self._plr))
            self._check_lbfgs(trainer)
        else:
            trainer = self._trainer
            if incremental:
                trainer.config.batch_size = batch_size
            else:
                # scikit-learn's MLP builds its optimizer anew on each fit: a
                # warm start keeps the weights, not the optimizer's state, and
                # takes the current hyperparameters into account
                trainer.restart_optimizer(
                    batch_size, learning_rate_init=self.learning_rate_init,
                    betas=(self.beta_1, self.beta_2), epsilon=self.epsilon,
                    momentum=self.momentum, nesterov=self.nesterovs_momentum,
                    power_t=self.power_t, max_iter=self.max_iter, tol=self.tol,
                    n_iter_no_change=self.n_iter_no_change, max_fun=self.max_fun,
                    verbose=int(self.verbose))
        data = TrainingData(
            X=_as_tensor(X, trainer.config.device),
            y=torch.as_tensor(targets, device=trainer.config.device),
            sample_weight=(None if sample_weight is None else torch.as_tensor(
                sample_weight, dtype=dtype, device=trainer.config.device).view(1, -1)),
            train_rows=train_rows, valid_rows=valid_rows,
            embeddings=None if self._embedding is None else [self._embedding])
        callbacks = initialized_callbacks(self.callbacks)
        work = step_work(trainer.config.layer_sizes, batch_size)
        with training_threads(trainer.config.device, work) as n_threads:
            result = trainer.train(data, epochs=1 if incremental else self.max_iter,
                                   monitor=not incremental, callbacks=callbacks,
                                   host=EpochCallbackHost(self, trainer) if callbacks else None)
        self.n_threads_ = n_threads
        self._trainer = trainer
        self.n_iter_ = int(result.n_iter[0])
        if not incremental:
            self._warn_convergence(result)
        return self

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
        warnings.warn(message, ConvergenceWarning, stacklevel=4)

    def _class_weights(self, labels):
        """Each row's class weight, or None (a regressor; no ``class_weight``)."""
        return None

    def _scale_targets(self, targets, first_pass, sample_weight=None):
        """Targets as the network is trained on them."""
        return targets

    def _stratification(self, labels):
        """What the early-stopping split is stratified on (None: not stratified)."""
        return None

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
        X = self._validate_X(X, reset=False)
        trainer = self._trainer
        model, loss = trainer.model, trainer.config.loss
        model.eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], _PREDICT_CHUNK):
                chunk = self._embed(_as_tensor(X[start:start + _PREDICT_CHUNK],
                                               trainer.config.device))
                out = self._combine(model(chunk))
                outputs.append((loss.predict(out) if activate else out).cpu().numpy())
        out = outputs[0] if len(outputs) == 1 else np.concatenate(outputs)
        _check_finite_outputs(out)
        return out

    def _embed(self, X):
        """The numeric embedding of scaled input rows (a tensor), if any."""
        embedding = getattr(self, "_embedding", None)
        return X if embedding is None else embedding(X)

    def _combine(self, out):
        """One prediction from the members' raw outputs: an ensemble's average."""
        return out if out.dim() == 2 else self._trainer.config.loss.average(out)

    def _mc_forward(self, X, mc_samples):
        """``mc_samples`` stochastic passes with dropout on (MC dropout).

        Returns an array of shape ``(mc_samples, n_samples, n_outputs)`` of
        output-activated predictions. The masks come from a generator seeded
        by the fitted network, so repeated calls give the same result.
        """
        check_is_fitted(self)
        if not isinstance(mc_samples, Integral) or mc_samples < 1:
            raise ValueError(f"mc_samples must be a positive integer; got {mc_samples!r}.")
        trainer = self._trainer
        config, model = trainer.config, trainer.model
        if not np.any(config.dropout):
            raise ValueError(
                "Monte Carlo dropout needs a model trained with dropout > 0; this one "
                f"has dropout={self.dropout!r}.")
        X = self._embed(_as_tensor(self._validate_X(X, reset=False), config.device))
        seed = int(config.seeds[0])
        masks = DropoutMasks(config.layer_sizes[1:-1], config.dropout, config.seeds)
        generator = torch.Generator(device=X.device).manual_seed(seed)
        model.train()
        if model.norms is not None:
            model.norms.eval()  # batch statistics stay those of training
        samples = []
        try:
            with torch.no_grad():
                for _ in range(mc_samples):
                    keep = masks.draw(X.shape[0], X.dtype, X.device, generator)
                    out = self._combine(model(X, keep_masks=keep))
                    samples.append(config.loss.predict(out).cpu().numpy())
        finally:
            model.eval()
        return np.stack(samples)

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
        dense, plr, squared = (squared[:model.n_dense], squared[model.n_dense:split],
                               squared[split:])
        if model.plr:
            # a PLR column's d outputs -> the column
            columns, _, d, _ = model.plr
            dense = dense + np.bincount(np.repeat(columns, d), plr, len(dense))
        # a categorical table's inputs -> its code column
        per_table = (np.add.reduceat(squared, np.cumsum([0, *[d for _, d in tables[:-1]]]))
                     if tables else squared)
        embedding = getattr(self, "_embedding", None)
        if embedding is not None:
            n_dense = embedding.n_outputs - len(tables)
            dense = np.bincount(embedding.source[:n_dense], dense,
                                embedding.n_features_in - len(tables))
        squared = np.concatenate([dense, per_table])
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
        if self.early_stopping:
            return None
        losses = [loss for loss in self.loss_curve_ if not np.isnan(loss)]
        return float(min(losses)) if losses else float("nan")

    @property
    def validation_scores_(self):
        """list of float or None: validation score per epoch (early stopping)."""
        if not self.early_stopping:
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


def encode_table(owner, encoder, X, reset, max_onehot_categories):
    """Raw X encoded by ``encoder`` (fitted first when ``reset``), for the estimator ``owner``.

    The feature-name and feature-count checks are ``owner``'s, on the raw
    columns: its ``n_features_in_`` and ``feature_names_in_`` are those of
    the caller's table.
    """
    X = _to_pandas(X)
    if not _is_dataframe(X):
        X = check_array(X, dtype=None, ensure_all_finite=False, estimator=owner)
    validate_data(owner, X, reset=reset, skip_check_array=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NAME_WARNINGS, category=UserWarning)
        if reset:
            encoder.fit(X)
            _check_onehot_widths(encoder, max_onehot_categories)
        return encoder.transform(X)


def _check_onehot_widths(encoder, max_onehot_categories):
    """Raise for a one-hot encoded column of more than ``MAX_ONEHOT_CATEGORIES`` categories."""
    embedded = set(encoder.output_sources_[encoder.embedding_columns_].tolist())
    categorical = np.flatnonzero(encoder.categorical_features_)
    for j, categories in zip(categorical, encoder.categories_):
        if j not in embedded and len(categories) > MAX_ONEHOT_CATEGORIES:
            name = encoder.feature_names_in_[j] if hasattr(encoder, "feature_names_in_") else j
            raise ValueError(
                f"Column {name!r} has {len(categories)} categories (after pooling those "
                f"seen in fewer than {MIN_CATEGORY_FREQUENCY} rows), too many to one-hot "
                f"encode (at most {MAX_ONEHOT_CATEGORIES}) with max_onehot_categories="
                f"{max_onehot_categories!r}; set max_onehot_categories to at most "
                f"{MAX_ONEHOT_CATEGORIES} (the default is 16) to give it a learned "
                "embedding, or drop the column.")


def embedding_tables(encoder, embedding_size):
    """``(n_codes, dim)`` of the learned table of each of ``encoder``'s code columns.

    ``n_codes = n_categories + 2`` (the missing and unseen codes) and
    ``dim = min(embedding_size, n_categories)``; () without an encoder.
    """
    if encoder is None:
        return ()
    return tuple((int(k), int(min(embedding_size, k - 2)))
                 for k in encoder.embedding_cardinalities_)


def encoded_scaling_stats(X, encoder, sample_weight=None, rows=None):
    """``(center, scale)`` of ``input_scaling='robust'`` for X encoded by ``encoder``.

    Only the encoder's numeric columns (its first ones) are scaled, with
    :func:`~skreg._preprocessing.robust_scaling_stats` (of ``rows`` only,
    if given); indicator and one-hot columns keep center 0 and scale 1, so
    the smooth clip maps their 1 to ``1 / sqrt(1 + 1/9)``; the embedding
    code columns (the last ones) have no statistics and are not scaled.
    """
    n_numeric = int(np.count_nonzero(encoder.output_kinds_ == "numeric"))
    n_dense = X.shape[1] - len(encoder.embedding_columns_)
    center = np.zeros(n_dense, dtype=X.dtype)
    scale = np.ones(n_dense, dtype=X.dtype)
    if n_numeric:
        center[:n_numeric], scale[:n_numeric] = robust_scaling_stats(
            X[:, :n_numeric], sample_weight, rows=rows)
    return center, scale


def _non_numeric_column(X):
    """``(name, dtype)`` of a dataframe's first non-numeric column, or None."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype
    X = _to_pandas(X)
    if not _is_dataframe(X):
        return None
    for name, dtype in X.dtypes.items():
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)):
            return name, dtype
    return None


def _check_finite_outputs(out):
    """Refuse outputs that overflowed: finite inputs far outside the training range."""
    finite = np.isfinite(out)
    if finite.all():
        return
    rows = ~finite.reshape(-1, *out.shape[-2:]).all(axis=(0, 2))
    raise ValueError(
        f"The network's output is not finite (it overflowed {out.dtype}) for "
        f"{int(rows.sum())} of {rows.size} rows of X, the first at row "
        f"{int(np.argmax(rows))}. Either these rows are far outside the range the "
        "model was trained on (scale X as the training data were scaled, e.g. with "
        "the same StandardScaler, or train in float64), or the weights have grown "
        "too large (after a DivergenceError: refit with a smaller "
        "learning_rate_init).")


def auto_alpha_rows(sample_weight, class_weight, rows, n_rows):
    """The row count ``n_train`` that ``alpha='auto'`` divides by.

    ``n * sum(w) / sum(w c)`` over the ``n`` training rows, with ``w = s c``
    the rows' weights: ``s`` the sample weights, ``c`` the class weights
    (each 1 when absent). Sample weights count as repeated rows, as
    everywhere in scikit-learn, and leave it at ``n`` (the batch's penalty,
    divided by its weight sum, then acts as on the repeated data). Class
    weights reweigh the loss of rows that carry no more information than
    before, so the rows count by the effective sample size of the weighted
    mean: with ``s = 1``, ``n_train = n * sum(c) / sum(c^2)``, which is
    Kish's ``sum(c)^2 / sum(c^2)`` over the mean weight ``sum(c) / n``, and
    the per-row penalty is ``P(W) / n_eff``. Uneven class weights
    (``'balanced'`` on a rare class) make it smaller than ``n``: the prior
    weighs more against a few heavily weighted rows.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,) or None
        The rows' weights ``w``, class weights included.
    class_weight : ndarray of shape (n_samples,) or None
        The class weight ``c`` of each row.
    rows : ndarray of int or None
        The training rows (without the early-stopping split), or all rows.
    n_rows : int
        The number of training rows.

    Returns
    -------
    float
    """
    if sample_weight is None or class_weight is None:
        return n_rows
    w = sample_weight if rows is None else sample_weight[rows]
    c = class_weight if rows is None else class_weight[rows]
    total, spread = float(w.sum()), float((w * c).sum())
    return len(w) * total / spread if spread > 0 else n_rows


def class_sample_weight(class_weight, encoder, labels):
    """Per-row weights from ``class_weight`` ('balanced' or ``{label: weight}``).

    ``labels`` are encoded class indices; ``encoder`` is the fitted
    LabelEncoder whose ``classes_`` the dict's keys must come from.
    """
    if isinstance(class_weight, dict):
        classes = encoder.classes_.tolist()
        unknown = set(class_weight) - set(classes)
        if unknown:
            raise ValueError(
                f"class_weight has labels {sorted(map(str, unknown))} that are "
                f"not in classes_ {classes}.")
        class_weight = {encoder.transform([k])[0]: v for k, v in class_weight.items()}
    return compute_sample_weight(class_weight, labels)


def _as_tensor(array, device):
    """``array`` as a tensor on ``device``; no copy for a CPU array of the right layout."""
    if isinstance(array, np.ndarray) and not array.flags.writeable:
        with warnings.catch_warnings():
            # read-only arrays (memmaps) are shared, never written to
            warnings.simplefilter("ignore", UserWarning)
            return torch.as_tensor(array, device=device)
    return torch.as_tensor(array, device=device)


def _dense(X, dtype):
    """X as a dense C-contiguous array of the torch ``dtype``'s numpy type.

    No copy for a dense array that already has that layout and type; sparse
    input is densified here, once.
    """
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    if sp.issparse(X):
        X = X.toarray()
    cast = X.dtype != np_dtype
    with np.errstate(over="ignore"):  # overflow is reported just below
        X = np.ascontiguousarray(X, dtype=np_dtype)
    if cast and np_dtype == np.float32 and not np.isfinite(X).all():
        raise ValueError(
            "Input X contains values too large for float32 (|x| > 3.4e38). "
            "Scale the features first, e.g. with StandardScaler, or pass float64.")
    return X


def _indented(text, prefix="    "):
    return "".join(prefix + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


#: the regularizers' numpydoc entries (skreg/_engine/regularizers.py), as
#: they stand in the estimators' Parameters sections
_REGULARIZER_PARAMS = "\n\n".join(_indented(param.doc) for param in regularizer_params()) + "\n"

_COMMON_PARAMS = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The i-th element is the number of units of the i-th hidden layer.

    activation : {'relu', 'tanh', 'logistic', 'identity', 'gelu'}, default='relu'
        Hidden-layer activation: ``max(0, z)``, ``tanh(z)``,
        ``1 / (1 + exp(-z))``, ``z``, or ``z * Phi(z)`` with ``Phi`` the
        standard normal CDF.

    solver : {'adam', 'adamw', 'sgd', 'lbfgs'}, default='adam'
        Optimizer. 'lbfgs' is full-batch L-BFGS with a strong-Wolfe line
        search, one iteration per epoch (``max_iter`` iterations), for small
        data and smooth objectives: it refuses non-smooth penalties (L1,
        elastic net, ``p=1`` or ``inf``, ``group_alpha``) and stochastic
        regularizers (dropout, noise, mixup). With 'adam' and 'sgd' the whole
        smooth penalty is part of the gradient (coupled, as in scikit-learn).
        With 'adamw' the L2 part of
        the penalty is instead applied as decoupled weight decay,
        ``w <- w - lr * weight_decay * w`` after each Adam step, with
        ``weight_decay = alpha * (1 - l1_ratio) / batch_size``: the same
        shrinkage per step that plain SGD would apply, but not rescaled by
        Adam's per-weight step sizes, so weights with large gradients are
        decayed as much as the others (Loshchilov & Hutter's AdamW).

    alpha : float or 'auto', default='auto'
        Strength of the penalty (``alpha >= 0``). Each batch adds
        ``alpha * P(W) / S_B`` (``S_B`` the batch's weight sum, its row
        count without weights) to its mean loss, as scikit-learn's MLP.
        'auto' scales the strength with the data: ``alpha = AUTO_ALPHA *
        batch_size / n_train`` (``AUTO_ALPHA`` = 1, ``n_train`` the rows
        trained on), i.e. a per-row penalty ``P(W) / n_train`` that is
        strong on a few hundred rows and fades on large data. Sample weights
        count as repeated rows. With class weights ``c``, ``n_train = n *
        sum(c) / sum(c^2)`` (with sample weights ``s``: ``n * sum(s c) /
        sum(s c^2)``), Kish's effective sample size of the weighted loss
        over the mean weight, so that uneven class weights
        (``class_weight='balanced'`` on a rare class) regularize more. The
        value used is stored in ``alpha_``.

    l1_ratio : float, default=0.15
        Elastic-net mixing ``rho`` in ``[0, 1]``; used only with
        ``penalty='elasticnet'``.

""" + _REGULARIZER_PARAMS + """
    batch_norm : bool, default=False
        Batch normalization of each hidden layer's pre-activation (batch
        statistics in training, running averages at prediction time).
        Trains through autograd, so it is slower than the plain network; a
        final batch of a single row is skipped. Sample weights enter the
        loss but not the batch statistics.

    dropout : float or array-like of shape (n_layers - 2,), default=0.0
        Probability of zeroing each hidden unit during training, one value
        for all hidden layers or one per hidden layer. Inverted dropout: kept
        units are scaled by ``1 / (1 - p)`` during training, so nothing is
        rescaled at prediction time, where dropout is off.

    batch_size : int or 'auto', default='auto'
        Minibatch size; 'auto' is ``min(200, n_samples)``. Larger values are
        clipped to ``n_samples`` with a warning.

    learning_rate_init : float, default=0.001
        Step size (the initial one, with a schedule). Ignored by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive', 'cosine', 'coslog4'}, \
default='constant'
        Schedule over epochs ``e = 0, 1, ...``: 'constant' keeps
        ``learning_rate_init``; 'invscaling' uses
        ``learning_rate_init / (1 + e) ** power_t`` (the power law of the
        seed experiments, with a one-epoch time scale); 'cosine' uses
        ``learning_rate_init * (1 + cos(pi * e / max_iter)) / 2``;
        'coslog4' (RealMLP's schedule, Holzmüller et al. 2024: four
        warm-restart cycles, each twice as long as the one before) uses
        ``learning_rate_init * (1 - cos(2 pi log2(1 + 15 t))) / 2`` at
        ``t = (e + 1/2) / max_iter``;
        'adaptive' (scikit-learn's) divides the rate by 5 whenever the
        stopping rule would stop, and stops once it falls below 1e-6.
        The rate of each epoch is recorded in ``history_[:, 'lr']``.

    power_t : float, default=0.5
        Exponent of 'invscaling'.

    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).

    shuffle : bool, default=True
        Reshuffle the training data before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling, dropout and the early
        stopping split. An int gives identical results on repeated fits on
        the CPU.

    tol : float, default=1e-4
        An epoch counts as an improvement only if the objective falls by more
        than ``tol`` (or, with early stopping, the validation score rises by
        more than ``tol``) relative to the best so far.

    verbose : bool, default=False
        Print one line per epoch (losses, validation score, duration).

    warm_start : bool, default=False
        Continue from the previous solution on the next ``fit``. As in
        scikit-learn, each ``fit`` starts a new optimizer with the current
        ``learning_rate_init``, ``momentum``, ``beta_1``, ... (``partial_fit``
        goes on with the optimizer it has).

    momentum : float, default=0.9
        Momentum for ``solver='sgd'``.

    nesterovs_momentum : bool, default=True
        Nesterov momentum for ``solver='sgd'``.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), stop when the validation score has not improved by
        ``tol`` for more than ``n_iter_no_change`` consecutive epochs, and
        restore the weights of the best epoch.

    validation_fraction : float, default=0.1
        Fraction of training data held out for early stopping, in (0, 1).

    beta_1 : float, default=0.9
        Adam's decay rate of the first moment estimate.

    beta_2 : float, default=0.999
        Adam's decay rate of the second moment estimate.

    epsilon : float, default=1e-8
        Adam's numerical-stability term.

    n_iter_no_change : int or np.inf, default=10
        Training stops after more than ``n_iter_no_change`` consecutive
        epochs without an improvement of at least ``tol``; ``np.inf`` never
        stops early (``max_iter`` epochs).

    max_fun : int, default=15000
        Only for ``solver='lbfgs'``: the maximum number of evaluations of
        the objective (each with its gradient), over the L-BFGS steps and
        their line searches, in one ``fit``; training stops at the end of
        the epoch in which the count reaches ``max_fun``, with a
        ``ConvergenceWarning``, as scikit-learn's ``max_fun``. Each epoch
        is one L-BFGS iteration, which evaluates the objective at least
        twice (its start and at least one line-search trial), so ``fit``
        runs at most ``max_fun`` epochs.

    device : {'cpu', 'cuda', 'cuda:N', 'auto'}, default='cpu'
        Where the network trains and predicts; 'auto' picks CUDA when
        available. Fitted models pickle and load on CPU-only machines.

    snapshot_every : int or None, default=None
        Every ``snapshot_every`` epochs (epochs ``k, 2k, ...``, counted from
        1 since initialisation) record a float64 copy of all connection
        weights in ``history_`` under ``'coef_snapshot'``, shape
        ``(n_weights,)``, the stored layer matrices flattened row-major and
        concatenated (those of ``coefs_``; with ``scale_layer`` the first
        without its scale), then any embedding tables, PLR parameters and
        the scale's ``u`` (the trained parameters but the biases); for
        trajectory plots
        (:class:`skreg.plotting.TrainingHistoryDisplay`). None records none.

    input_scaling : {'robust'} or None, default='robust'
        Scaling of the inputs learnt in ``fit`` and applied to every input
        (training, validation and prediction). 'robust' maps each feature
        ``x_j`` to ``f((x_j - m_j) / s_j)`` with ``m_j`` the median,
        ``s_j`` the interquartile range ``q_75 - q_25`` (half the range
        ``(max - min) / 2`` where that is 0, 1 for a constant feature), both
        weighted by ``sample_weight`` and estimated on at most 100,000 rows,
        and the smooth clip ``f(z) = z / sqrt(1 + (z / 3)^2)``, which is the
        identity near 0 and bounded by 3: heavy tails and outliers keep
        their order but can no longer dominate the first layer (RealMLP's
        robust scaling with smooth clipping). A scaler of your own in front,
        e.g. ``StandardScaler``, works either way. None leaves X as it is,
        as scikit-learn's MLP does. The default was chosen on the
        benchmark of the documentation's "Defaults" page. The
        statistics are stored in ``input_center_`` and ``input_scale_``
        (None without scaling).

    callbacks : list of skorch callbacks or None, default=None
        skorch callbacks (or ``(name, callback)`` pairs) fired at epoch
        boundaries of ``fit`` and ``partial_fit``: ``on_train_begin``,
        ``on_epoch_begin``, ``on_epoch_end``, ``on_train_end`` (no batch
        events, so a fit without callbacks pays nothing for them). Their
        ``net`` argument is a :class:`skreg.skorch.EpochCallbackHost`, with
        ``history`` (``history_``), ``module_``, ``optimizer_`` and
        ``save_params``: ``LRScheduler``, ``EarlyStopping``, ``Checkpoint``,
        ``PrintLog`` and ``TensorBoard`` work. Each fit uses clones, so the
        parameter is never modified.

    ensemble_size : int, default=1
        Number of networks trained together in one fit, as one batched
        stack on the same batches (TabM-style ensembling; Gorishniy et al.,
        2025, with fully independent members). Member ``m`` is initialised
        from its own seed (member 0 from the seed a single network would
        get), draws its own dropout masks and has its own Adam moments. The
        ensemble predicts the mean of its members' probabilities
        (classification) or predictions (regression). It trains and stops
        as one model: the stopping rule watches the members' mean objective,
        or, with early stopping, the validation score of the averaged
        prediction, and every member keeps the weights of the ensemble's
        best epoch. ``history_`` records the members' mean training loss
        and penalty. 1 is a single network.

    numeric_embedding : {'piecewise_linear', 'periodic', 'plr'} or None, default=None
        Embedding of each (scaled) input feature into several network
        inputs, learnt in ``fit`` (see :mod:`skreg._engine.embeddings`).
        'plr' (Gorishniy et al., 2022): trained with the network; each
        feature ``x`` with at least three distinct octiles gets ``k =
        embedding_size // 2`` frequencies ``c`` (initially ``N(0, 0.1^2)``)
        and feeds the first layer, next to ``x`` itself, the ``d =
        embedding_size // 2`` outputs ``ReLU(W^T [sin(2 pi c x), cos(2 pi
        c x)] + b)`` of its own ``W`` (``2k x d``, initially
        ``U(-1/sqrt(2k), 1/sqrt(2k))``) and ``b``; the penalty applies to
        ``c``, ``W`` and ``b`` as to the weights.
        'piecewise_linear': with the distinct weighted quantiles
        ``b_0 < ... < b_T`` of the feature at ``t / embedding_size``, the
        inputs ``e_t = clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``, the
        first not clipped below and the last not above (Gorishniy et al.,
        2022). 'periodic': ``x`` and ``sin(2 pi c_k x)``, ``cos(2 pi c_k x)``
        for ``embedding_size // 2`` fixed frequencies ``c_k ~ N(0, 1)``
        per feature, drawn from ``random_state``. Features with fewer than
        three distinct quantiles (binary, one-hot, constant) pass through
        unchanged. The embedding runs on each batch, so the embedded X is
        never stored. None feeds the scaled features as they are.

    embedding_size : int, default=8
        Bins per feature of ``numeric_embedding='piecewise_linear'``;
        ``2 * (embedding_size // 2)`` sine/cosine inputs per feature of
        'periodic'; and the dimension ``min(embedding_size, n_categories)``
        of the learned embedding of each categorical column with more than
        ``max_onehot_categories`` categories.

    categorical_features : "from_dtype", array-like of {bool, int, str} or None, \
            default="from_dtype"
        Which columns of X are categorical, with HistGradientBoosting's
        rules and error messages for the parameter of the same name:
        ``"from_dtype"``, the DataFrame columns of dtype category, string,
        object or bool (HistGradientBoosting takes only category ones; a
        numpy array has none); column names (X must be a DataFrame); column
        indices in ``[0, n_features - 1]``; a boolean mask of shape
        ``(n_features,)``; or None. Unless it is None, the first ``fit``
        encodes X with a :class:`skreg._tabular.TabularEncoder`
        (``encoder_``) when X is a DataFrame (pandas, or polars / pyarrow,
        converted with ``to_pandas()``), when the selection is given
        explicitly (names, indices or mask), or when X is an array with NaN:

        - numeric columns: missing values (NaN, None, ``pd.NA``) replaced
          by the column's training median, plus one 0/1 missing-indicator
          column per numeric column that had missing values in fit;
        - categorical columns: categories seen in fewer than 5 training
          rows (``MIN_CATEGORY_FREQUENCY``) are pooled into one
          "infrequent" category; a column with at most
          ``max_onehot_categories`` categories is then one-hot encoded, one
          column per category and one for missing values if the column had
          any in fit (a category not seen in fit gives an all-zero block);
          a column with more gets a learned embedding (see
          ``max_onehot_categories``).

        ``input_scaling='robust'`` then scales the numeric columns only:
        indicator and one-hot columns get ``input_center_ = 0`` and
        ``input_scale_ = 1``, so the smooth clip turns their values into
        0 and ``1 / sqrt(1 + 1/9) ~ 0.949``. Prediction, ``score`` and
        ``scale_inputs`` encode X with the fitted encoder (never refitted,
        nor by ``warm_start`` or ``partial_fit``). Any other X (a numeric
        array without NaN, a sparse matrix) trains exactly as with None.
        None: no encoder; X must be numeric and NaN is refused with
        scikit-learn's error, as by scikit-learn's MLP.

    max_onehot_categories : int or None, default=16
        Categorical columns (of ``encoder_``) with more categories than
        this, after pooling, get a learned embedding instead of a one-hot
        block: a table of ``n_categories + 2`` rows (its categories, then a
        missing and an unseen code) of ``dim = min(embedding_size,
        n_categories)`` entries, drawn from ``N(0, 0.1^2)`` and trained with
        the weights (the penalty included); the first layer sees the row of
        each sample's code. This is the one-hot first layer constrained to
        rank ``dim``: ``dim`` weights per category and ``dim`` per hidden
        unit instead of one per category and hidden unit. The missing and
        unseen rows are trained only if such values occur in training
        (an unseen category at predict time takes the unseen row). 0
        embeds every categorical column; None one-hot encodes every one.
        ``mixup`` is refused with embedded columns; ``input_noise`` leaves
        their codes alone.

    scale_layer : bool, default=False
        A learned scale of each of the first layer's inputs (RealMLP's
        scaling layer, Holzmüller et al. 2024): input ``j`` (after the
        encodings and embeddings) is multiplied by ``s_j = 1 + 6 u_j``,
        ``u`` starting at 0 and trained with the weights. The factor 6 makes
        the scale learn 6x faster than the weights under Adam (RealMLP's
        learning-rate factor); the penalty acts on ``u``, so it pulls each
        ``s_j`` towards 1. The scale is folded into the first layer's matrix
        (``coefs_[0]`` is ``diag(s) W_1``), at no cost in the forward pass;
        ``input_scales_`` holds ``s``.
"""

_COMMON_ATTRIBUTES = """
    alpha_ : float
        The penalty strength trained with: ``alpha``, or the value
        ``alpha='auto'`` resolved to.

    loss_ : float
        Objective (data loss + penalty) after the last epoch.

    best_loss_ : float or None
        Lowest objective reached; None with ``early_stopping=True``.

    loss_curve_ : list of float
        Objective after each epoch, averaged over the epoch's batches.

    validation_scores_ : list of float or None
        Validation score after each epoch (early stopping only).

    best_validation_score_ : float or None
        Best validation score (early stopping only).

    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape ``(fan_in, fan_out)``, or
        ``(ensemble_size, fan_in, fan_out)`` for an ensemble (one matrix per
        member). ``coefs_[0]`` weights the first layer's inputs: the numeric
        columns of ``scale_inputs``, then the outputs of a 'plr' embedding,
        then the entries of each categorical embedding table (in place of
        its code column).

    feature_importances_ : ndarray of shape (n_features_in_,)
        L2 norm of each input feature's outgoing weights (rows of
        ``coefs_[0]``); exactly 0 for features removed by ``group_alpha``.
        A feature encoded into several columns (``encoder_``: one-hot block,
        missing indicator) or embedded adds up their squared norms.

    input_scales_ : ndarray of shape (n_inputs,)
        The learned scale ``s`` of each of the first layer's inputs
        (``scale_layer=True``; all ones otherwise), ``(ensemble_size,
        n_inputs)`` for an ensemble. ``coefs_[0]`` already includes it.

    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape ``(fan_out,)``, or
        ``(ensemble_size, fan_out)`` for an ensemble.

    n_features_in_ : int
        Number of features seen during fit (the columns of the caller's X,
        before any encoding).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    encoder_ : TabularEncoder or None
        The encoder fitted on X by the first ``fit`` (see
        ``categorical_features``); ``scale_inputs`` returns its output
        columns (``encoder_.get_feature_names_out()``) scaled, and
        ``coefs_[0]`` weights them, each embedding code column replaced by
        its table's ``dim`` entries. None when X needed no encoding.

    embedding_sizes_ : dict
        Dimension of the learned embedding of each categorical column with
        more than ``max_onehot_categories`` categories, by column name.

    embeddings_ : dict
        The learned embedding tables by column name, each of shape
        ``(n_codes, dim)`` (``(ensemble_size, n_codes, dim)`` for an
        ensemble); row ``c`` is code ``c`` of ``encoder_``.

    n_iter_ : int
        Number of epochs run by the latest ``fit`` or ``partial_fit`` (as
        scikit-learn's MLP); ``history_`` holds every epoch since the
        network was initialised.

    n_threads_ : int
        torch intra-op threads the last ``fit`` / ``partial_fit`` ran with:
        torch's pool, or a share of it when several fits run at once in
        threads of one process (see the user guide's section on scaling out).

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units.

    out_activation_ : str
        Name of the output activation.

    history_ : skorch.History
        One dict per epoch with ``epoch``, ``train_loss`` (data loss),
        ``penalty`` (``alpha * P(W)`` over the mean batch weight), ``loss``
        (their sum), ``valid_loss`` and ``valid_score`` (early stopping),
        ``best_epoch`` (the epoch with the best monitored value so far),
        ``lr`` (the epoch's learning rate), ``dur`` (seconds), and the
        weights' ``l1_norm`` (``sum |w|``), ``l2_norm`` (``sqrt(sum w^2)``),
        ``frac_near_zero`` (share of ``|w| < 1e-3``) and ``frac_zero``
        (share of ``w == 0``) after the epoch; ``coef_snapshot`` every
        ``snapshot_every`` epochs.

    module_ : torch.nn.Module
        The trained network; ``module_(torch.as_tensor(scale_inputs(X)))``
        returns logits (outputs in scaled target units for a regressor with
        ``target_scaling``).
"""


class RegularizedMLPClassifier(ClassifierMixin, BaseRegularizedMLP):
    __doc__ = """Multi-layer perceptron classifier with L1, L2 and elastic-net
    penalties, dropout, label smoothing, class weights and early stopping.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the parameters they share have the same names, and the same defaults
    except ``alpha``, whose default 'auto' scales the L2 strength with the
    number of training rows (``penalty='l2'`` with ``alpha=0.0001`` is
    ``MLPClassifier``'s). By default the inputs are also scaled robustly
    (``input_scaling='robust'``). Both defaults were chosen on the
    development half of the accuracy benchmark (the documentation's
    "Defaults" page); ``input_scaling=None, alpha=0.0001,
    categorical_features=None`` trains on X as ``MLPClassifier`` does. X
    may also be a pandas (or polars) DataFrame with categorical, string and
    bool columns and missing values, encoded by ``encoder_`` (see
    ``categorical_features``).

    The loss is the cross-entropy against (optionally smoothed) one-hot
    targets; the output layer is one logistic unit for two classes and a
    softmax over ``K`` units otherwise. Multilabel targets (a 0/1 indicator
    matrix ``y`` of shape ``(n_samples, n_labels)``) train ``n_labels``
    independent logistic units, as ``MLPClassifier``; ``predict`` then
    returns the indicator matrix. The remaining differences from
    ``MLPClassifier`` are listed in the documentation's "Coming from
    scikit-learn's MLP" page.

    Parameters
    ----------
""" + _COMMON_PARAMS + """
    label_smoothing : float, default=0.0
        Smoothing ``eps`` in ``[0, 1)`` of the training targets: the true
        class gets ``1 - eps`` and each of the other ``K - 1`` classes gets
        ``eps / (K - 1)`` (for two classes: ``1 - eps`` and ``eps``). Note
        that torch's ``CrossEntropyLoss(label_smoothing=eps)`` spreads
        ``eps / K`` over all ``K`` classes instead; ``eps_skreg = eps_torch *
        (K - 1) / K`` gives the same targets. Validation losses are computed
        against the unsmoothed labels.

    class_weight : dict, 'balanced' or None, default=None
        Weights ``{class_label: weight}`` multiplied into the sample weights;
        'balanced' uses ``n_samples / (n_classes * np.bincount(y))``. Unlike
        sample weights, which count as repeated rows, class weights also set
        the row count of ``alpha='auto'``: Kish's effective number of rows
        (see ``alpha``), so that uneven weights regularize more.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; ``0, ..., n_labels - 1`` (the columns of y) for
        multilabel targets.
""" + _COMMON_ATTRIBUTES + """
    See Also
    --------
    RegularizedMLPRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : scikit-learn's MLP.
    sklearn.linear_model.LogisticRegression : Penalised linear baseline.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skreg import RegularizedMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = make_pipeline(
    ...     StandardScaler(),
    ...     RegularizedMLPClassifier(penalty="elasticnet", alpha=0.01, dropout=0.1,
    ...                              early_stopping=True, random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseRegularizedMLP._parameter_constraints,
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", penalty="l2", alpha="auto", l1_ratio=0.15,
                 dropout=0.0, label_smoothing=0.0, class_weight=None,
                 batch_size="auto", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, device="cpu",
                 l1_method="proximal", p=2.0, group_alpha=0.0, max_norm=None,
                 input_noise=0.0, hidden_noise=0.0, mixup=0.0, batch_norm=False,
                 learning_rate="constant", power_t=0.5, snapshot_every=None,
                 input_scaling="robust", callbacks=None, max_fun=15000,
                 ensemble_size=1, numeric_embedding=None, embedding_size=8,
                 categorical_features="from_dtype", max_onehot_categories=16,
                 scale_layer=False):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, penalty=penalty,
            alpha=alpha, l1_ratio=l1_ratio, dropout=dropout, batch_size=batch_size,
            learning_rate_init=learning_rate_init, max_iter=max_iter, shuffle=shuffle,
            random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
            momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            n_iter_no_change=n_iter_no_change, device=device, l1_method=l1_method,
            p=p, group_alpha=group_alpha, max_norm=max_norm, input_noise=input_noise,
            hidden_noise=hidden_noise, mixup=mixup, batch_norm=batch_norm,
            learning_rate=learning_rate, power_t=power_t, snapshot_every=snapshot_every,
            input_scaling=input_scaling, callbacks=callbacks, max_fun=max_fun,
            ensemble_size=ensemble_size, numeric_embedding=numeric_embedding,
            embedding_size=embedding_size, categorical_features=categorical_features,
            max_onehot_categories=max_onehot_categories, scale_layer=scale_layer)
        self.label_smoothing = label_smoothing
        self.class_weight = class_weight

    def _make_loss(self):
        if getattr(self, "_multilabel", False):
            return LOSSES["binary_log_loss"](len(self.classes_))
        n_classes = len(self.classes_)
        return LOSSES["binary_log_loss"](1) if n_classes <= 2 else LOSSES["log_loss"](n_classes)

    def _validate_targets(self, y, incremental, first_pass, classes=None):
        if np.ndim(y) == 2 and type_of_target(y, input_name="y") == "multilabel-indicator":
            return self._validate_multilabel(y, incremental, first_pass, classes)
        y = column_or_1d(y, warn=True)
        target_type = type_of_target(y, input_name="y")
        kinds = {type(v).__name__ for v in y} if y.dtype == object else set()
        if target_type == "unknown" and len(kinds) > 1:
            raise ValueError(
                f"y mixes labels of types {sorted(kinds)}; RegularizedMLPClassifier "
                "needs labels of one type (all strings or all numbers).")
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type: {target_type!r}. RegularizedMLPClassifier "
                "supports binary, multiclass and multilabel (2-D 0/1 indicator) "
                "targets; for regression use RegularizedMLPRegressor.")
        if not first_pass and getattr(self, "_multilabel", False):
            raise ValueError(
                "The model was fitted on multilabel targets (a 0/1 indicator matrix); "
                "y must be one too.")
        if incremental:
            if _check_partial_fit_first_call(self, classes):
                self._encoder = LabelEncoder().fit(self.classes_)
                self._multilabel = False
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes_ {self.classes_.tolist()}.")
        elif first_pass:
            self._encoder = LabelEncoder().fit(y)
            self.classes_ = self._encoder.classes_
            self._multilabel = False
        else:
            present = unique_labels(y)
            if set(present) != set(self.classes_):
                # scikit-learn's message: the output layer has one unit per class
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in "
                    f"the previous call to fit. Previously got {self.classes_}, `y` has "
                    f"{present}")
        labels = self._encoder.transform(y).astype(np.int64)
        return labels, labels

    def _validate_multilabel(self, y, incremental, first_pass, classes):
        """A 0/1 indicator matrix: one independent logistic output per label."""
        y = np.asarray(y.toarray() if sp.issparse(y) else y)
        n_labels = y.shape[1]
        if self.class_weight is not None:
            raise ValueError(
                "class_weight is not supported for multilabel targets (a 0/1 indicator "
                "y); pass sample_weight instead.")
        if incremental and _check_partial_fit_first_call(self, classes):
            self._multilabel = True
        elif first_pass and not incremental:
            # as scikit-learn's LabelBinarizer: the labels are the columns
            self.classes_ = np.arange(n_labels)
            self._multilabel = True
        elif not getattr(self, "_multilabel", False):
            raise ValueError(
                "The model was fitted on one label per sample; y must be a 1-D array "
                "of labels, not a multilabel indicator matrix.")
        if n_labels != len(self.classes_):
            raise ValueError(
                f"y has {n_labels} label columns, but the model has "
                f"{len(self.classes_)} labels (classes_ {self.classes_.tolist()}).")
        return (y != 0).astype(np.float64), None

    def _stratification(self, labels):
        # not stratified for multilabel targets (labels None), as
        # scikit-learn. Two classes are stratified on 'False' / 'True', what
        # scikit-learn's MLP stratifies on (its label-binarized y), so the
        # split's errors name the classes as its do; more classes on their
        # labels. Both sort as the class indices, so the split is the one of
        # stratify=labels.
        if labels is None:
            return None
        if len(self.classes_) <= 2:
            return np.array(["False", "True"])[labels]
        return self.classes_[labels]

    def _class_weights(self, labels):
        if self.class_weight is None:
            return None
        return class_sample_weight(self.class_weight, self._encoder, labels)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data X and labels y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data; sparse input is densified.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels (numbers or strings), or a 0/1 indicator matrix
            for multilabel classification: one logistic output per label,
            trained on ``sum_k softplus(z_ik) - y_ik z_ik``, as
            ``MLPClassifier``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``s_i`` of the objective (see ``penalty``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train for one epoch over X, y, keeping the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix (multilabel).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.
        classes : array-like of shape (n_classes,), default=None
            All classes that may appear (for multilabel targets, one per
            column of y); required on the first call.

        Returns
        -------
        self : object
            Estimator after one more epoch. The convergence check does not
            apply to ``partial_fit``; with ``early_stopping=True`` it raises
            a ValueError, and with ``solver='lbfgs'`` it is not available
            (``hasattr(est, 'partial_fit')`` is False), as in scikit-learn.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True,
                         classes=classes)

    def decision_function(self, X):
        """Logits of the output layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            One logit per sample for two classes (positive favours
            ``classes_[1]``), one per class otherwise (one per label for
            multilabel targets, positive favouring the label).
        """
        logits = self._forward(X, activate=False)
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``; for multilabel targets the 0/1
            indicator matrix, label ``k`` set where its logit is positive
            (probability above 0.5).
        """
        logits = self._forward(X, activate=False)
        if getattr(self, "_multilabel", False):
            return (logits > 0).astype(np.int64)
        if len(self.classes_) == 1:
            # trained on a single class, as scikit-learn's MLP allows
            return np.repeat(self.classes_, logits.shape[0])
        idx = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(1)
        return self.classes_[idx]

    def predict_proba(self, X, mc_samples=None):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        mc_samples : int or None, default=None
            None: the deterministic network (dropout off). An int: Monte
            Carlo dropout, the mean of the probabilities of ``mc_samples``
            forward passes with dropout on (the ensemble view of dropout);
            needs a model trained with ``dropout > 0``.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``p_ik``, ordered as ``classes_``; rows sum to 1. For
            multilabel targets, ``p_ik = 1 / (1 + exp(-z_ik))``, the
            probability of each label on its own (rows need not sum to 1).
            A model trained on one class gives 1.
        """
        if mc_samples is None:
            proba = self._forward(X).astype(np.float64)
        else:
            proba = self._mc_forward(X, mc_samples).astype(np.float64).mean(axis=0)
        if getattr(self, "_multilabel", False):
            return proba
        if len(self.classes_) == 1:
            return np.ones_like(proba)
        if proba.shape[1] == 1:
            return np.hstack([1 - proba, proba])
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed stably from logits.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log p_ik``, ordered as ``classes_`` (per label for
            multilabel targets: ``log p_ik = -log(1 + exp(-z_ik))``).
        """
        logits = torch.from_numpy(self._forward(X, activate=False)).double()
        if getattr(self, "_multilabel", False):
            # log sigma(z), stable where p is small (no log of an underflowed
            # 0); where p >= 1/2 the log of predict_proba's p itself, so a
            # label whose p rounds to 1 has log p = 0 and the argmax of both
            # methods agree, as scikit-learn's log(predict_proba)
            proba = torch.sigmoid(logits)
            return torch.where(logits >= 0, torch.log(proba),
                               torch.nn.functional.logsigmoid(logits)).numpy()
        if len(self.classes_) == 1:
            return np.zeros(tuple(logits.shape))
        if logits.shape[1] == 1:
            logits = torch.cat([torch.zeros_like(logits), logits], dim=1)
        return torch.log_softmax(logits, dim=1).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class RegularizedMLPRegressor(RegressorMixin, BaseRegularizedMLP):
    __doc__ = """Multi-layer perceptron regressor with L1, L2 and elastic-net
    penalties, dropout and early stopping.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor`:
    the parameters they share have the same names, and the same defaults
    except ``alpha`` ('auto': an L2 strength that scales with the number of
    training rows). By default the inputs are also scaled robustly and the
    targets standardized (``input_scaling='robust'``,
    ``target_scaling='standard'``); these defaults were chosen on the
    development half of the accuracy benchmark (the documentation's
    "Defaults" page). ``input_scaling=None, target_scaling=None,
    alpha=0.0001, categorical_features=None`` trains as ``MLPRegressor``
    does. X may also be a pandas (or polars) DataFrame with categorical,
    string and bool columns and missing values, encoded by ``encoder_`` (see
    ``categorical_features``). The loss is
    half the squared error (``loss='squared_error'``) or half the Poisson
    deviance with a log link (``loss='poisson'``), see ``loss``.
    Multi-output targets are supported. The remaining differences from
    ``MLPRegressor`` are listed in the documentation's "Coming from
    scikit-learn's MLP" page.

    Parameters
    ----------
""" + _COMMON_PARAMS + """
    loss : {'squared_error', 'poisson'}, default='squared_error'
        'squared_error': half the squared error, with the gradient
        ``f(x_i) - y_i`` of ``sum_k (f(x_i)_k - y_ik)^2 / 2`` and the reported
        loss averaged over the ``K`` outputs, as ``MLPRegressor``.
        'poisson': half the Poisson deviance with a log link: the network's
        output ``z`` predicts ``mu = exp(z)`` and is trained on
        ``l_i = sum_k exp(z_ik) - y_ik z_ik`` (gradient ``exp(z) - y``), for
        non-negative targets such as counts.

    target_scaling : {'standard'} or None, default='standard'
        'standard' trains the network on ``(y_k - mean_k) / std_k`` per
        target ``k`` (``std_k`` 1 where it is 0), with the mean and standard
        deviation of the training targets, and maps its outputs back with
        ``f(x) * std_k + mean_k``: the default learning rate and ``alpha``
        then suit targets of any unit. With ``loss='poisson'`` the targets
        are divided by their mean instead (no centring, which would make
        them negative), which shifts the output bias by ``-log(mean_k)``.
        The penalty and the reported losses
        are those of the scaled problem (``loss_curve_`` is in units of
        ``std_k^2``). None trains on y as it is, as scikit-learn's MLP does.
        The default was chosen on the benchmark of the documentation's
        "Defaults" page. Stored in ``target_mean_`` and ``target_scale_``
        (None without scaling).

    Attributes
    ----------
""" + _COMMON_ATTRIBUTES + """
    See Also
    --------
    RegularizedMLPClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : scikit-learn's MLP.
    sklearn.linear_model.ElasticNet : Penalised linear baseline.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skreg import RegularizedMLPRegressor
    >>> X, y = make_regression(n_samples=300, n_features=10, noise=1.0, random_state=0)
    >>> reg = RegularizedMLPRegressor(hidden_layer_sizes=(64,), penalty="l1",
    ...                               alpha=0.1, learning_rate_init=0.01,
    ...                               max_iter=300, random_state=0)
    >>> reg.fit(X, y / 100).score(X, y / 100) > 0.9
    True
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *,
                 loss="squared_error", solver="adam", penalty="l2", alpha="auto",
                 l1_ratio=0.15,
                 dropout=0.0, batch_size="auto", learning_rate_init=0.001,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4,
                 verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, device="cpu",
                 l1_method="proximal", p=2.0, group_alpha=0.0, max_norm=None,
                 input_noise=0.0, hidden_noise=0.0, mixup=0.0, batch_norm=False,
                 learning_rate="constant", power_t=0.5, snapshot_every=None,
                 input_scaling="robust", target_scaling="standard", callbacks=None,
                 max_fun=15000, ensemble_size=1, numeric_embedding=None,
                 embedding_size=8, categorical_features="from_dtype",
                 max_onehot_categories=16, scale_layer=False):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, penalty=penalty,
            alpha=alpha, l1_ratio=l1_ratio, dropout=dropout, batch_size=batch_size,
            learning_rate_init=learning_rate_init, max_iter=max_iter, shuffle=shuffle,
            random_state=random_state, tol=tol, verbose=verbose, warm_start=warm_start,
            momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            n_iter_no_change=n_iter_no_change, device=device, l1_method=l1_method,
            p=p, group_alpha=group_alpha, max_norm=max_norm, input_noise=input_noise,
            hidden_noise=hidden_noise, mixup=mixup, batch_norm=batch_norm,
            learning_rate=learning_rate, power_t=power_t, snapshot_every=snapshot_every,
            input_scaling=input_scaling, callbacks=callbacks, max_fun=max_fun,
            ensemble_size=ensemble_size, numeric_embedding=numeric_embedding,
            embedding_size=embedding_size, categorical_features=categorical_features,
            max_onehot_categories=max_onehot_categories, scale_layer=scale_layer)
        self.loss = loss
        self.target_scaling = target_scaling

    _parameter_constraints: dict = {
        **BaseRegularizedMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
        "target_scaling": [StrOptions({"standard"}), None],
    }

    def _make_loss(self):
        return LOSSES[self.loss](self._n_targets)

    def _scale_targets(self, targets, first_pass, sample_weight=None):
        if first_pass:
            self.target_mean_ = self.target_scale_ = None
            if self.target_scaling == "standard":
                mean, std = target_scaling_stats(targets, sample_weight)
                if self.loss == "poisson":
                    # the log link needs non-negative targets: divide by the
                    # mean instead, which shifts the output bias by -log(mean)
                    mean, std = np.zeros_like(mean), np.where(mean > 0, mean, 1.0)
                self.target_mean_, self.target_scale_ = mean, std.astype(targets.dtype)
        if getattr(self, "target_mean_", None) is None:
            return targets
        return (targets - self.target_mean_) / self.target_scale_

    def _unscale(self, out):
        """Network outputs in the units of y."""
        if getattr(self, "target_mean_", None) is None:
            return out
        with np.errstate(over="ignore"):  # reported just below
            out = out * self.target_scale_ + self.target_mean_
        _check_finite_outputs(out)
        return out

    def _validate_targets(self, y, incremental, first_pass, classes=None):
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"RegularizedMLPRegressor needs numeric targets; got y with dtype "
                    f"{y.dtype}.") from None
        y2d = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and np.any(y2d < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson "
                "regression (loss='poisson').")
        if first_pass:
            self._n_targets = y2d.shape[1]
        elif y2d.shape[1] != self._n_targets:
            raise ValueError(
                f"y has {y2d.shape[1]} targets, but the model was fitted with "
                f"{self._n_targets}.")
        return y2d.astype(np.float64, copy=False), None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data X and targets y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data; sparse input is densified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``s_i`` of the objective (see ``penalty``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    @available_if(_stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch over X, y, keeping the current weights.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        self : object
            Estimator after one more epoch. The convergence check does not
            apply to ``partial_fit``; with ``early_stopping=True`` it raises
            a ValueError, and with ``solver='lbfgs'`` it is not available
            (``hasattr(est, 'partial_fit')`` is False), as in scikit-learn.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X, return_std=False, mc_samples=30):
        """Predict targets, optionally with a Monte Carlo dropout uncertainty.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.
        return_std : bool, default=False
            If True, run ``mc_samples`` forward passes with dropout on and
            return their mean and standard deviation (MC dropout, the
            ensemble view of dropout). Needs a model trained with
            ``dropout > 0``.
        mc_samples : int, default=30
            Number of stochastic passes when ``return_std=True``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions (the deterministic network's, or the MC mean); 1-D
            when the model has one output.
        y_std : ndarray of the same shape
            Standard deviation over the passes; only with ``return_std=True``.
        """
        squeeze = (lambda a: a[:, 0] if a.shape[1] == 1 else a)  # noqa: E731
        if not return_std:
            return squeeze(self._unscale(self._forward(X)))
        samples = self._unscale(self._mc_forward(X, mc_samples))
        return squeeze(samples.mean(axis=0)), squeeze(samples.std(axis=0))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
