"""Input and target scaling done inside the estimators.

``input_scaling='robust'`` maps each feature ``x_j`` to
``f((x_j - m_j) / s_j)`` with ``m_j`` the median, ``s_j`` the interquartile
range ``q_75 - q_25`` (half the range ``(max - min) / 2`` where that is 0,
and 1 for a constant feature) and the smooth clip
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
# rows transformed at a time: bounds the temporary memory to this many rows
_CHUNK_ROWS = 65_536
_CLIP = 3.0
_HUGE = 1e15


def robust_scaling_stats(X):
    """Per-feature ``(center, scale)`` of ``input_scaling='robust'``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite training inputs.

    Returns
    -------
    center, scale : ndarray of shape (n_features,)
        Median and scale ``s_j > 0`` in X's dtype (see the module docstring).
    """
    rows = X
    if X.shape[0] > _QUANTILE_ROWS:
        pick = np.random.default_rng(0).choice(X.shape[0], _QUANTILE_ROWS, replace=False)
        rows = X[np.sort(pick)]
    q0, q25, q50, q75, q100 = np.quantile(rows, [0.0, 0.25, 0.5, 0.75, 1.0], axis=0)
    scale = q75 - q25
    half_range = (q100 - q0) / 2
    scale = np.where(scale > 0, scale, np.where(half_range > 0, half_range, 1.0))
    return q50.astype(X.dtype), scale.astype(X.dtype)


def robust_scale(X, center, scale, copy=True):
    """``f((X - center) / scale)`` with the smooth clip ``f``, row chunk by chunk.

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
    out = np.array(X, copy=True, order="C") if copy else X
    inv = (1.0 / scale).astype(X.dtype)
    for start in range(0, out.shape[0], _CHUNK_ROWS):
        z = out[start:start + _CHUNK_ROWS]
        z -= center
        z *= inv
        smooth_clip_(z)
    return out


def smooth_clip_(z):
    """In place ``z <- z / sqrt(1 + (z / 3)^2)``, for numpy arrays and torch tensors.

    ``z`` is first clipped to ``[-1e15, 1e15]`` (where ``f`` is 3 to float
    precision), so that ``z^2`` cannot overflow and huge values map to +-3.
    """
    if isinstance(z, torch.Tensor):
        z.clamp_(-_HUGE, _HUGE)
        t = z * z
        t.mul_(1.0 / _CLIP ** 2).add_(1.0).rsqrt_()
        return z.mul_(t)
    np.clip(z, -_HUGE, _HUGE, out=z)
    t = z * z
    t *= 1.0 / _CLIP ** 2
    t += 1.0
    np.sqrt(t, out=t)
    z /= t
    return z


def target_scaling_stats(Y):
    """Per-target ``(mean, std)`` of ``target_scaling='standard'`` (std 1 where 0).

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_targets)

    Returns
    -------
    mean, std : ndarray of shape (n_targets,)
    """
    mean = Y.mean(axis=0)
    std = Y.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return mean.astype(Y.dtype), std.astype(Y.dtype)
