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

import numpy as np
import torch

# at most this many rows are used to estimate the quantiles (a fixed
# subsample, as QuantileTransformer does), so that the statistics of a very
# large X cost neither a sort of every column nor a copy of X
_QUANTILE_ROWS = 100_000
# values transformed at a time: bounds the temporary memory, and keeps the
# passes of the smooth clip in cache
_BLOCK_VALUES = 1 << 18
_CLIP = 3.0
_HUGE = 1e15


def weighted_quantiles(X, qs, sample_weight=None):
    """Per-column quantiles of X, weighted: the inverted empirical CDF.

    The ``q``-quantile of column ``j`` is the smallest value ``x`` of the
    column whose cumulative weight ``sum_{i: x_ij <= x} s_i`` reaches
    ``q * sum_i s_i`` (the minimum for ``q = 0``). A row of weight 2 counts
    exactly as the row repeated, and rows of weight 0 as absent, which is
    what scikit-learn's sample-weight semantics ask of a fit. Without
    weights this is numpy's ``method='inverted_cdf'``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    qs : sequence of float in [0, 1]
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum; None weighs rows equally.

    Returns
    -------
    ndarray of shape (len(qs), n_features)
    """
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    order = np.argsort(X, axis=0, kind="stable")
    cum = np.cumsum(w[order], axis=0)
    total = cum[-1]
    out = np.empty((len(qs), X.shape[1]), dtype=X.dtype)
    cols = np.arange(X.shape[1])
    for i, q in enumerate(qs):
        if q <= 0:
            # the smallest value with positive weight
            first = np.argmax(cum > 0, axis=0)
        else:
            # relative tolerance: q * total computed two ways may differ in the last bit
            first = np.argmax(cum >= q * total * (1 - 1e-12), axis=0)
        out[i] = X[order[first, cols], cols]
    return out


def robust_scaling_stats(X, sample_weight=None):
    """Per-feature ``(center, scale)`` of ``input_scaling='robust'``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite training inputs.
    sample_weight : ndarray of shape (n_samples,) or None
        The fit's sample weights: the quantiles are weighted (see
        :func:`weighted_quantiles`).

    Returns
    -------
    center, scale : ndarray of shape (n_features,)
        Median and scale ``s_j > 0`` in X's dtype (see the module docstring).
    """
    rows, w = X, sample_weight
    if X.shape[0] > _QUANTILE_ROWS:
        pick = np.sort(np.random.default_rng(0).choice(X.shape[0], _QUANTILE_ROWS,
                                                       replace=False))
        rows, w = X[pick], None if w is None else np.asarray(w)[pick]
    q0, q25, q50, q75, q100 = weighted_quantiles(rows, [0.0, 0.25, 0.5, 0.75, 1.0], w)
    scale = q75.astype(np.float64) - q25
    half_range = (q100.astype(np.float64) - q0) / 2
    scale = np.where(scale > 0, scale, np.where(half_range > 0, half_range, 1.0))
    return q50.astype(X.dtype), scale.astype(X.dtype)


def robust_scale(X, center, scale, copy=True):
    """``f((X - center) / scale)`` with the smooth clip ``f``, block by block.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    center, scale : ndarray of shape (n_features,)
    copy : bool, default=True
        Write into a new array; False transforms X in place.

    Returns
    -------
    ndarray
        The transformed inputs, in X's dtype.
    """
    out = np.empty(X.shape, dtype=X.dtype) if copy else X
    inv = (1.0 / scale).astype(X.dtype)
    # blocks of ~256k values stay in cache through the passes of the clip
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


def target_scaling_stats(Y, sample_weight=None):
    """Per-target ``(mean, std)`` of ``target_scaling='standard'`` (std 1 where 0).

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_targets)
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the mean and of the (biased) variance.

    Returns
    -------
    mean, std : ndarray of shape (n_targets,)
    """
    Y64 = np.asarray(Y, dtype=np.float64)  # (y - mean)^2 overflows float32 from |y| ~ 1e19
    mean = np.average(Y64, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((Y64 - mean) ** 2, axis=0, weights=sample_weight))
    std = np.where(std > 0, std, 1.0)
    return mean.astype(Y.dtype), std.astype(Y.dtype)
