"""Calibration metrics.

:func:`expected_calibration_error` measures how far a classifier's
confidence is from its accuracy; :data:`expected_calibration_error_scorer`
is the same number as a scikit-learn scorer (negated, greater is better),
for ``cross_validate`` and ``GridSearchCV``.
"""

from numbers import Integral

import numpy as np
from sklearn.metrics import make_scorer

__all__ = ["calibration_bins", "expected_calibration_error",
           "expected_calibration_error_scorer"]

_STRATEGIES = ("quantile", "uniform")


def _confidence_and_correct(y_true, y_prob, labels, pos_label):
    """Top-label confidence ``p_hat_i`` and correctness ``1[y_hat_i = y_i]``."""
    y_true = np.asarray(y_true)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_true.ndim != 1:
        raise ValueError(f"y_true must be 1-D, got shape {y_true.shape}.")
    if y_prob.ndim not in (1, 2) or y_prob.shape[0] != y_true.shape[0]:
        raise ValueError(
            "y_prob must have shape (n_samples,) or (n_samples, n_classes) with "
            f"n_samples={y_true.shape[0]} (the length of y_true); got {y_prob.shape}.")
    if y_true.shape[0] == 0:
        raise ValueError("y_true is empty; need at least one sample.")
    if not np.isfinite(y_prob).all() or y_prob.min() < 0 or y_prob.max() > 1:
        raise ValueError("y_prob must hold probabilities in [0, 1]; got values outside.")
    if y_prob.ndim == 1:
        if pos_label is None:
            classes = np.unique(y_true)
            if len(classes) == 2:
                pos_label = classes[1]
            elif set(classes.tolist()) <= {0, 1}:
                pos_label = 1
            else:
                raise ValueError(
                    "y_prob is 1-D (the probability of the positive class), so y_true "
                    "must have two classes or pos_label must be given; got classes "
                    f"{classes.tolist()} and pos_label=None.")
        predicted_positive = y_prob >= 0.5
        confidence = np.where(predicted_positive, y_prob, 1.0 - y_prob)
        correct = predicted_positive == (y_true == pos_label)
        return confidence, correct
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if len(labels) != y_prob.shape[1]:
        raise ValueError(
            f"labels must name the {y_prob.shape[1]} columns of y_prob in order; got "
            f"{len(labels)} labels {labels.tolist()} (labels=None uses the classes "
            "present in y_true).")
    unknown = ~np.isin(y_true, labels)
    if unknown.any():
        raise ValueError(
            f"y_true contains labels not in labels: {np.unique(y_true[unknown]).tolist()}.")
    predicted = labels[y_prob.argmax(axis=1)]
    return y_prob.max(axis=1), predicted == y_true


def _bin_groups(confidence, n_bins, strategy):
    """Indices of the samples in each non-empty confidence bin, in increasing order."""
    if strategy == "quantile":
        order = np.argsort(confidence, kind="stable")
        return [g for g in np.array_split(order, n_bins) if len(g)]
    # bin m holds (m / n_bins, (m + 1) / n_bins]; confidence 0 joins bin 0
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    return [g for g in (np.flatnonzero(index == m) for m in range(n_bins)) if len(g)]


def calibration_bins(y_true, y_prob, *, n_bins=15, strategy="quantile", labels=None,
                     pos_label=None):
    """Mean confidence, accuracy and size of each confidence bin.

    The confidence of a prediction is its largest class probability,
    ``p_hat_i = max_k p_ik`` (for a 1-D ``y_prob``, the probability of the
    positive class ``p_i``: ``max(p_i, 1 - p_i)``), and the prediction is
    that class. The samples are grouped into bins ``Q_m`` of their
    confidence, and for each bin::

        conf(Q_m) = sum_{i in Q_m} p_hat_i / |Q_m|
        acc(Q_m)  = sum_{i in Q_m} 1[y_hat_i = y_i] / |Q_m|

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted class probabilities (``predict_proba``), or the
        probability of the positive class for a binary problem.
    n_bins : int, default=15
        Number of bins, ``n_bins >= 1``.
    strategy : {'quantile', 'uniform'}, default='quantile'
        'quantile': the samples sorted by confidence are split into
        ``n_bins`` groups of equal size (sizes differ by at most one; ties
        are split by a stable sort). 'uniform': bins of equal width on
        ``[0, 1]``, ``((m - 1) / n_bins, m / n_bins]``; empty bins are
        dropped.
    labels : array-like of shape (n_classes,), default=None
        The class of each column of a 2-D ``y_prob`` (``classes_`` of the
        estimator). None uses ``np.unique(y_true)``, which must then have
        ``n_classes`` values.
    pos_label : int, float, bool or str, default=None
        The positive class of a 1-D ``y_prob``. None takes the larger of the
        two classes in ``y_true`` (1 when ``y_true`` holds only 0s or 1s).

    Returns
    -------
    confidence : ndarray of shape (n_nonempty_bins,)
        ``conf(Q_m)``, in increasing order.
    accuracy : ndarray of shape (n_nonempty_bins,)
        ``acc(Q_m)``.
    counts : ndarray of shape (n_nonempty_bins,)
        ``|Q_m|``.

    Raises
    ------
    ValueError
        If ``n_bins`` or ``strategy`` is invalid, if the shapes of ``y_true``
        and ``y_prob`` do not match, or if ``y_prob`` is not in ``[0, 1]``.
    """
    if not isinstance(n_bins, Integral) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1, got {n_bins!r}.")
    if strategy not in _STRATEGIES:
        raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}.")
    confidence, correct = _confidence_and_correct(y_true, y_prob, labels, pos_label)
    groups = _bin_groups(confidence, n_bins, strategy)
    conf = np.array([confidence[g].mean() for g in groups])
    acc = np.array([correct[g].mean() for g in groups])
    counts = np.array([len(g) for g in groups])
    return conf, acc, counts


def expected_calibration_error(y_true, y_prob, *, n_bins=15, strategy="quantile",
                               labels=None, pos_label=None):
    """Expected calibration error (ECE) of predicted probabilities.

    With the confidence bins ``Q_m`` of :func:`calibration_bins` (by default
    15 quantile bins of equal size) and ``N`` samples::

        ECE = sum_m |Q_m| / N * |conf(Q_m) - acc(Q_m)|

    0 for a perfectly calibrated model (in each bin, the mean confidence
    equals the share of correct predictions); up to 1 for a model that is
    always sure and always wrong. An overconfident model has
    ``conf > acc`` in most bins, an underconfident one ``conf < acc``.
    Lower is better. With quantile bins the estimate's noise falls as
    ``N / n_bins`` grows; use a few hundred samples or more.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted class probabilities (``predict_proba``), or the
        probability of the positive class for a binary problem.
    n_bins : int, default=15
        Number of bins, ``n_bins >= 1``.
    strategy : {'quantile', 'uniform'}, default='quantile'
        Quantile bins of equal size, or bins of equal width on ``[0, 1]``
        (see :func:`calibration_bins`).
    labels : array-like of shape (n_classes,), default=None
        The class of each column of a 2-D ``y_prob``; None uses
        ``np.unique(y_true)``.
    pos_label : int, float, bool or str, default=None
        The positive class of a 1-D ``y_prob``; None takes the larger class.

    Returns
    -------
    ece : float
        The expected calibration error, in ``[0, 1]``.

    See Also
    --------
    expected_calibration_error_scorer : The same, as a scikit-learn scorer.
    skreg.plotting.ReliabilityDisplay : The reliability diagram with the ECE.

    Examples
    --------
    >>> import numpy as np
    >>> from skreg.metrics import expected_calibration_error
    >>> y_true = np.array([0, 1, 1, 0])
    >>> y_prob = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    >>> round(expected_calibration_error(y_true, y_prob, n_bins=2), 3)
    0.15
    """
    conf, acc, counts = calibration_bins(y_true, y_prob, n_bins=n_bins, strategy=strategy,
                                         labels=labels, pos_label=pos_label)
    return float(np.sum(counts * np.abs(conf - acc)) / counts.sum())


expected_calibration_error_scorer = make_scorer(
    expected_calibration_error, greater_is_better=False, response_method="predict_proba")
expected_calibration_error_scorer.__doc__ = """Scorer returning ``-ECE``.

Calls ``predict_proba`` and :func:`expected_calibration_error` with its
defaults (15 quantile bins); negated, because scikit-learn's scorers are
greater-is-better. Pass it as ``scoring=`` to ``cross_validate`` or
``GridSearchCV``. For another binning use
``make_scorer(expected_calibration_error, greater_is_better=False,
response_method="predict_proba", n_bins=10)``. For multiclass problems each
test fold must contain every class (the default ``labels`` are the classes
present in ``y_true``), as with stratified folds.
"""
