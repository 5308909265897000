"""RegularizedMLPClassifier: labels, class weights, the classification loss and its outputs.

Binary, multiclass and multilabel targets; the output links (logits ->
labels, probabilities) that the plain estimator's methods and a search's
fold scores share.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import compute_sample_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (_check_partial_fit_first_call, type_of_target,
                                      unique_labels)
from sklearn.utils.validation import column_or_1d

from ._base import BaseRegularizedMLP, _stochastic_solver
from ._engine import LOSSES
from ._mixins import AccuracyScoreMixin
from ._params_doc import COMMON_ATTRIBUTES, COMMON_PARAMS


def class_sample_weight(class_weight, encoder, labels):
    """Per-row weights from ``class_weight`` ('balanced' or ``{label: weight}``).

    ``labels`` are encoded class indices; ``encoder`` is the fitted
    LabelEncoder whose ``classes_`` the dict's keys must come from.
    """
    if isinstance(class_weight, dict):
        for label, weight in class_weight.items():
            if not (isinstance(weight, Real) and np.isfinite(weight) and weight >= 0):
                raise ValueError(
                    "class_weight must map labels to finite, non-negative weights; got "
                    f"{weight!r} for label {label!r}.")
        classes = encoder.classes_.tolist()
        unknown = set(class_weight) - set(classes)
        if unknown:
            raise ValueError(
                f"class_weight has labels {sorted(map(str, unknown))} that are "
                f"not in classes_ {classes}.")
        class_weight = {encoder.transform([k])[0]: v for k, v in class_weight.items()}
    return compute_sample_weight(class_weight, labels)


def _label_kind(value):
    """'string', 'bool', 'number' or the type's name: what kind of label a value is."""
    if isinstance(value, (str, np.str_)):
        return "string"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (Integral, Real)):
        return "number"
    return type(value).__name__


def _check_missing_labels(y):
    """No None, NaN or pd.NA among the labels ``y`` (a sequence)."""
    _report_missing_labels([i for i, v in enumerate(y) if v is None or v is pd.NA or (
        isinstance(v, Real) and np.isnan(v))])


def _report_missing_labels(missing):
    """The error of labels missing at the positions ``missing`` (none: no error)."""
    if len(missing):
        raise ValueError(
            f"y contains {len(missing)} missing label(s) (None or NaN), the first at "
            f"position {missing[0]}; drop those samples or give them a label.")


def _check_object_labels(y):
    """Labels of an object array: none missing, one kind, and sortable (classes_ is sorted)."""
    _check_missing_labels(y)
    kinds = sorted({_label_kind(v) for v in y})
    if len(kinds) > 1:
        raise ValueError(
            f"y mixes labels of kinds {kinds}; RegularizedMLPClassifier needs labels of "
            "one kind (all strings, all numbers or all bools).")
    try:
        np.unique(y)
    except TypeError:
        raise ValueError(
            f"y holds labels of type {kinds[0]}, which cannot be sorted into classes_; "
            "use strings or numbers as labels.") from None


class RegularizedMLPClassifier(AccuracyScoreMixin, BaseRegularizedMLP):
    __doc__ = """Multi-layer perceptron classifier with L1, L2 and elastic-net
    penalties, dropout, label smoothing, class weights and early stopping.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier`:
    the parameters they share have the same names, and the same defaults
    except ``alpha``, whose default 'auto' scales the L2 strength with the
    number of training rows (``penalty='l2'`` with ``alpha=0.0001`` is
    ``MLPClassifier``'s). By default the inputs are also scaled robustly
    (``input_scaling='robust'``) and each numeric feature is embedded by
    the learned PLR embedding (``numeric_embedding='plr'``). These
    defaults were chosen on a benchmark of real tabular datasets (the
    documentation's "Defaults" page); ``input_scaling=None,
    alpha=0.0001, numeric_embedding=None, categorical_features=None``
    trains on X as ``MLPClassifier`` does. X
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
""" + COMMON_PARAMS + """
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
""" + COMMON_ATTRIBUTES + """
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
                 ensemble_size=1, numeric_embedding="plr", embedding_size=8,
                 categorical_features="from_dtype", max_onehot_categories=16,
                 scale_layer=False, weight_noise=0.0, gradient_noise=0.0,
                 gradient_noise_decay=0.55, l0_alpha=0.0, l0_gates="features"):
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
            max_onehot_categories=max_onehot_categories, scale_layer=scale_layer,
            weight_noise=weight_noise, gradient_noise=gradient_noise,
            gradient_noise_decay=gradient_noise_decay, l0_alpha=l0_alpha,
            l0_gates=l0_gates)
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
        if y.dtype == object:
            _check_object_labels(y)
        target_type = type_of_target(y, input_name="y")
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

    _constant_what = "class"

    def _check_raw_targets(self, y):
        # numpy turns None and NaN in a list of strings into the labels
        # 'None' and 'nan', and pd.NA fails scikit-learn's NaN check: missing
        # labels are found before either
        if isinstance(y, pd.Series):
            _report_missing_labels(np.flatnonzero(y.isna().to_numpy()))
        elif isinstance(y, (list, tuple)):
            if not any(isinstance(v, (list, tuple, np.ndarray)) for v in y):
                _check_missing_labels(y)
        elif getattr(y, "dtype", None) == np.dtype(object) and np.ndim(y) == 1:
            _check_missing_labels(np.asarray(y))

    def _constant(self, raw, targets):
        if getattr(self, "_multilabel", False):
            return super()._constant(raw, targets)
        predicted = raw.argmax(1) if raw.shape[1] > 1 else raw[:, 0] > 0
        return bool(len(np.unique(targets)) > 1 and len(np.unique(predicted)) == 1)

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

    # ----------------------------------------------------------- output links
    def _decision(self, logits):
        """``decision_function`` from the network's logits ``(n, n_outputs)``."""
        return logits[:, 0] if logits.shape[1] == 1 else logits

    def _labels(self, logits):
        """``predict`` from the logits: labels from ``classes_`` (0/1 rows for multilabel)."""
        if getattr(self, "_multilabel", False):
            return (logits > 0).astype(np.int64)
        if len(self.classes_) == 1:
            # trained on a single class, as scikit-learn's MLP allows
            return np.repeat(self.classes_, logits.shape[0])
        idx = (logits[:, 0] > 0).astype(int) if logits.shape[1] == 1 else logits.argmax(1)
        return self.classes_[idx]

    def _probabilities(self, activated):
        """``predict_proba`` from the output activation's values (float64)."""
        if getattr(self, "_multilabel", False):
            return activated
        if len(self.classes_) == 1:
            return np.ones_like(activated)
        if activated.shape[1] == 1:
            return np.hstack([1 - activated, activated])
        return activated / activated.sum(axis=1, keepdims=True)

    #: the output a weighted average of classifiers averages (see :meth:`_averaged`)
    _averaged_output = "predict_proba"

    def _averaged(self, probas, weights):
        """The outputs of the weighted average of several classifiers of these classes.

        ``probas`` are their ``predict_proba`` arrays ``p_k`` and
        ``weights`` their weights ``w_k`` (summing to 1): the average's
        probabilities are ``p = sum_k w_k p_k``, and its logits those ``p``
        has, ``log p`` for a softmax and the log-odds
        ``log p - log(1 - p)`` for logistic units, which the output links
        turn into labels (the most probable class; the labels with
        ``p > 1/2``) and a decision function. Returns the dict of
        :meth:`_scoring_outputs`, with ``predict_log_proba`` (``log p``).
        """
        proba = np.tensordot(np.asarray(weights, dtype=np.float64), np.stack(probas), axes=1)
        with np.errstate(divide="ignore"):
            log = np.log(proba)
            if getattr(self, "_multilabel", False):
                logits = log - np.log1p(-proba)
            elif proba.shape[1] == 2:
                logits = log[:, 1:] - log[:, :1]
            else:
                logits = log
        return {"predict": self._labels(logits), "predict_proba": proba,
                "decision_function": self._decision(logits), "predict_log_proba": log}

    def _scoring_outputs(self, raw):
        logits = raw.cpu().numpy()
        activated = self._make_loss().predict(raw).cpu().numpy().astype(np.float64)
        return {"predict": self._labels(logits),
                "predict_proba": self._probabilities(activated),
                "decision_function": self._decision(logits)}

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
        return self._decision(self._forward(X, activate=False))

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
        return self._labels(self._forward(X, activate=False))

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
            needs a model trained with ``dropout > 0``. Concurrent calls
            (threads) give the same result as one after the other.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``p_ik``, ordered as ``classes_``; rows sum to 1. For
            multilabel targets, ``p_ik = 1 / (1 + exp(-z_ik))``, the
            probability of each label on its own (rows need not sum to 1).
            A model trained on one class gives 1.
        """
        if mc_samples is None:
            activated = self._forward(X).astype(np.float64)
        else:
            activated = self._mc_forward(X, mc_samples).astype(np.float64).mean(axis=0)
        return self._probabilities(activated)

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


