"""Input and target scaling done inside the estimators.

``input_scaling='robust'`` maps each feature ``x_j`` to
``f((x_j - m_j) / s_j)`` with ``m_j`` the median, ``s_j`` the interquartile
range ``q_75 - q_25`` (half the range ``(max - min) / 2`` where that is 0,
and 1 for a constant feature; quantiles of the inverted empirical CDF,
weighted by the sample weights) and the smooth clip
``f(z) = z / sqrt(1 + (z / 3)^2)``, which is the identity near 0 and bounded
by 3 in absolute value: heavy tails and outliers keep their order but can no
longer dominate a layer's input. This follows the robust scaling with smooth
clipping of RealMLP (Holzmueller et al., 2024, "Better by default").

``target_scaling='standard'`` trains a regressor on ``(y - mean) / std``
(per target; std 1 where it is 0) and maps its outputs back.
"""

import math

import numpy as np
import torch

# at most this many rows are used to estimate the quantiles (a fixed
# subsample, as QuantileTransformer does), so that the statistics of a very
# large X cost neither a sort of every column nor a copy of X
_QUANTILE_ROWS = 100_000
# values transformed at a time (256 KiB of float32): bounds the transform's
# temporary memory to a block, small even next to a 10,000-row X, and keeps
# the passes of the smooth clip in cache
_BLOCK_VALUES = 1 << 16
_CLIP = 3.0
_HUGE = 1e15


def _quantile_index(q, total):
    """The threshold of the ``q``-quantile on cumulative weights summing to ``total``.

    ``q * total * (1 - 1e-12)``: the relative tolerance absorbs the last-bit
    difference between ``q * total`` and a partial sum that equals it in
    exact arithmetic (weights such as 0.1 do not add up exactly), so that
    such a partial sum still reaches the threshold.
    """
    return q * total * (1 - 1e-12)


def _column(X, rows, j):
    """Column ``j`` of ``X[rows]`` (a view of X's column when ``rows`` is None).

    One column at a time keeps the temporaries O(n_rows) and never
    materialises ``X[rows]``.
    """
    return X[:, j] if rows is None else X[rows, j]


def _sorted_pick(col, ranks):
    """``sorted(col)[ranks]`` with the sort stable on the signs of zeros.

    The stable sort keeps tied values in row order; ties are bit-identical
    except for ``-0.0 == 0.0``, so only those are looked up again: the zeros
    occupy sorted positions ``n_neg, n_neg + 1, ...`` in their row order.
    """
    ordered = np.sort(col)  # a contiguous copy: col may be a view of X
    out = ordered[ranks]
    zero = out == 0
    if zero.any():
        n_neg = np.searchsorted(ordered, 0.0, side="left")
        zeros = np.flatnonzero(col == 0)
        out[zero] = col[zeros[ranks[zero] - n_neg]]
    return out


def weighted_quantiles(X, qs, sample_weight=None, rows=None):
    """Per-column quantiles of X, weighted: the inverted empirical CDF.

    With the rows of column ``j`` in a stable ascending order
    ``x_(1) <= ... <= x_(n)`` (ties kept in row order), weights ``s_(k)``
    and cumulative weights ``c_k = s_(1) + ... + s_(k)`` (summed in that
    order, in float64), the ``q``-quantile is ``x_(k)`` for the smallest
    ``k`` with

    * ``c_k > 0`` for ``q = 0`` (the smallest value of positive weight),
    * ``c_k >= q * c_n * (1 - 1e-12)`` for ``q > 0`` (the relative tolerance
      absorbs the last-bit difference between ``q * c_n`` and the partial
      sums),

    and ``x_(1)`` where no ``k`` qualifies. A row of weight 2 counts exactly
    as the row repeated, and rows of weight 0 as absent, which is what
    scikit-learn's sample-weight semantics ask of a fit. Without weights
    (``s_i = 1``, ``c_k = k``) this is numpy's ``method='inverted_cdf'``:
    ``x_(k)`` with ``k = max(1, ceil(q * n * (1 - 1e-12)))``.

    The columns are processed one at a time, so the temporaries are O(n)
    (a sorted copy of one column; with weights also its order and
    cumulative weights) rather than O(n * n_features).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    qs : sequence of float in [0, 1]
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights, one per row of X, with a positive sum over
        the rows used; None weighs rows equally.
    rows : ndarray of int (or bool mask) or None
        The rows of X to use: the result is that of ``X[rows]`` with
        ``sample_weight[rows]``, without materialising ``X[rows]``. None
        uses all rows.

    Returns
    -------
    ndarray of shape (len(qs), n_features)
        In X's dtype; every entry is a value of its column.
    """
    rows = _as_rows(rows)
    n = X.shape[0] if rows is None else len(rows)
    out = np.empty((len(qs), X.shape[1]), dtype=X.dtype)
    if sample_weight is None:
        # c_k = k exactly (float64 counts up to 2**53), so the definition
        # reduces to a rank and a plain sort does: no argsort, no cumsum
        ranks = np.array([0 if q <= 0 else max(1, math.ceil(_quantile_index(q, float(n)))) - 1
                          for q in qs], dtype=np.intp)
        for j in range(X.shape[1]):
            out[:, j] = _sorted_pick(_column(X, rows, j), ranks)
        return out
    w = np.asarray(sample_weight, dtype=np.float64)
    if rows is not None:
        w = w[rows]
    for j in range(X.shape[1]):
        col = _column(X, rows, j)
        order = np.argsort(col, kind="stable")
        cum = np.cumsum(w[order])
        total = cum[-1]
        for i, q in enumerate(qs):
            if q <= 0:
                first = np.searchsorted(cum, 0.0, side="right")
            else:
                first = np.searchsorted(cum, _quantile_index(q, total), side="left")
            # cum is non-decreasing: searchsorted finds the first k that
            # qualifies, n where none does
            out[i, j] = col[order[first if first < n else 0]]
    return out


def robust_scaling_stats(X, sample_weight=None, rows=None):
    """Per-feature ``(center, scale)`` of ``input_scaling='robust'``.

    With ``q_p`` the weighted ``p``-quantile of a feature (see
    :func:`weighted_quantiles`), ``center = q_0.5`` and

    ``scale = q_0.75 - q_0.25`` if that is positive, else
    ``(q_1 - q_0) / 2`` if that is positive, else ``1``

    (the differences computed in float64, then cast to X's dtype). Of more
    than ``_QUANTILE_ROWS`` (100,000) rows, the quantiles are those of a
    fixed subsample of that many: the sorted positions
    ``sort(default_rng(0).choice(n, 100_000, replace=False))`` of the ``n``
    rows used. The statistics are gathered column by column, so their
    temporary memory is O(min(n, 100,000)), never a copy of X.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite training inputs. Not modified.
    sample_weight : ndarray of shape (n_samples,) or None
        The fit's sample weights, one per row of X: the quantiles are
        weighted (see :func:`weighted_quantiles`).
    rows : ndarray of int (or bool mask) or None
        The rows of X to use, e.g. a fold's training rows: the result is
        exactly ``robust_scaling_stats(X[rows], sample_weight[rows])``,
        without the copy ``X[rows]``. None uses all rows.

    Returns
    -------
    center, scale : ndarray of shape (n_features,)
        Median and scale ``s_j > 0`` in X's dtype (see the module docstring).
    """
    rows = _as_rows(rows)
    n = X.shape[0] if rows is None else len(rows)
    if n > _QUANTILE_ROWS:
        pick = np.sort(np.random.default_rng(0).choice(n, _QUANTILE_ROWS, replace=False))
        rows = pick if rows is None else rows[pick]
    q0, q25, q50, q75, q100 = weighted_quantiles(X, [0.0, 0.25, 0.5, 0.75, 1.0],
                                                 sample_weight, rows)
    scale = q75.astype(np.float64) - q25
    half_range = (q100.astype(np.float64) - q0) / 2
    scale = np.where(scale > 0, scale, np.where(half_range > 0, half_range, 1.0))
    return q50.astype(X.dtype), scale.astype(X.dtype)


def robust_scale(X, center, scale, copy=True):
    """``f((X - center) / scale)`` with the smooth clip ``f``, block by block.

    Elementwise, in X's dtype: ``z = (x_ij - center_j) * r_j`` with
    ``r_j = 1 / scale_j`` rounded to X's dtype, then ``f(z)`` as
    :func:`smooth_clip_` computes it. The rows are transformed a block of
    about ``_BLOCK_VALUES`` values at a time, straight into the output, so
    that the only memory besides the result is one block-sized buffer.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    center, scale : ndarray of shape (n_features,)
    copy : bool, default=True
        Write into a new array and leave X as it is; False transforms X in
        place.

    Returns
    -------
    ndarray of shape (n_samples, n_features)
        The transformed inputs, in X's dtype (X itself when ``copy=False``).
    """
    out = np.empty(X.shape, dtype=X.dtype) if copy else X
    inv = (1.0 / scale).astype(X.dtype)
    # a block of rows stays in cache through the passes of the clip
    rows = max(1, _BLOCK_VALUES // max(1, X.shape[1]))
    tmp = np.empty((min(rows, X.shape[0]), X.shape[1]), dtype=X.dtype)
    for start in range(0, X.shape[0], rows):
        z = out[start:start + rows]
        np.subtract(X[start:start + rows], center, out=z)
        z *= inv
        smooth_clip_(z, tmp[:len(z)])
    return out


def robust_scale_tensor_(z, center, scale):
    """In place ``z <- f((z - center) / scale)`` for a torch tensor of rows.

    The tensor form of :func:`robust_scale`, used on batches by the searches.
    """
    return smooth_clip_(z.sub_(center).div_(scale))


def smooth_clip_(z, tmp=None):
    """In place ``z <- z / sqrt(1 + (z / 3)^2)``, for numpy arrays and torch tensors.

    ``tmp`` is an optional numpy buffer shaped like ``z`` for the intermediate.

    ``z`` is first clipped to ``[-1e15, 1e15]`` (where ``f`` is 3 to float
    precision), so that ``z^2`` cannot overflow and huge values map to +-3.
    """
    if isinstance(z, torch.Tensor):
        z.clamp_(-_HUGE, _HUGE)
        t = z * z
        t.mul_(1.0 / _CLIP ** 2).add_(1.0).rsqrt_()
        return z.mul_(t)
    np.clip(z, -_HUGE, _HUGE, out=z)
    t = np.multiply(z, z, out=tmp)
    t *= 1.0 / _CLIP ** 2
    t += 1.0
    np.sqrt(t, out=t)
    z /= t
    return z


def target_scaling_stats(Y, sample_weight=None, rows=None):
    """Per-target ``(mean, std)`` of ``target_scaling='standard'``.

    With weights ``s_i`` (all 1 by default), for each target ``j``::

        mean_j = sum_i s_i y_ij / sum_i s_i
        std_j  = sqrt(sum_i s_i (y_ij - mean_j)^2 / sum_i s_i)   (biased)

    computed in float64 (``(y - mean)^2`` overflows float32 from
    ``|y| ~ 1e19``), with ``std_j = 1`` where it is 0. One target is
    processed at a time, so the temporaries are a few float64 columns, not
    float64 copies of Y.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_targets) or (n_samples,)
        Not modified.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the mean and of the variance, one per row of Y.
    rows : ndarray of int (or bool mask) or None
        The rows of Y to use: the result is that of ``Y[rows]`` with
        ``sample_weight[rows]``. None uses all rows.

    Returns
    -------
    mean, std : ndarray of shape (n_targets,) (0-d for 1-d Y)
        In Y's dtype.
    """
    rows = _as_rows(rows)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if w is not None and rows is not None:
        w = w[rows]
    Y2 = Y.reshape(Y.shape[0], -1)
    mean = np.empty(Y2.shape[1])
    std = np.empty(Y2.shape[1])
    for j in range(Y2.shape[1]):
        y = np.array(Y2[:, j] if rows is None else Y2[rows, j], dtype=np.float64)
        mean[j] = np.average(y, weights=w)
        y -= mean[j]
        y *= y
        std[j] = np.sqrt(np.average(y, weights=w))
    std = np.where(std > 0, std, 1.0)
    shape = Y.shape[1:]
    return mean.reshape(shape).astype(Y.dtype), std.reshape(shape).astype(Y.dtype)


def _as_rows(rows):
    """``rows`` as an index array (a boolean mask selects its True rows)."""
    if rows is None:
        return None
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows
