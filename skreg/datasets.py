"""Small synthetic problems on which regularization is easy to see.

:func:`make_noisy_linear` is a noisy linear regression in many dimensions
with few samples, where an MLP overfits and a linear model does not;
:func:`make_noisy_moons` is scikit-learn's two moons with a share of labels
flipped, where an unregularized network draws a jagged boundary around the
flipped points.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import make_moons
from sklearn.utils import check_random_state

__all__ = ["make_noisy_linear", "make_noisy_moons"]


def _check_int(name, value, minimum):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def _check_real(name, value, low, high, high_closed=True):
    ok = isinstance(value, Real) and not isinstance(value, bool) and low <= value and (
        value <= high if high_closed else value < high)
    if not ok:
        bracket = "]" if high_closed else ")"
        raise ValueError(f"{name} must be a real number in [{low}, {high}{bracket}, "
                         f"got {value!r}.")


def make_noisy_linear(n_samples=200, n_features=50, *, noise=0.2, random_state=None,
                      return_coef=False):
    """Noisy linear regression: ``y = X w + b + noise * e``.

    The rows of ``X`` and the noise ``e`` are standard normal; the true
    weights are ``w_j ~ N(0, 9 / n_features)`` (so ``Var(X w) = 9`` whatever
    the dimension) and the intercept ``b ~ N(0, 1)``, drawn once from
    ``random_state``. With the defaults (50 features, noise 0.2, 200
    samples) an MLP has far more parameters than the data can pin down,
    which makes it the regression problem of regularization experiments:
    the best possible mean squared error is ``noise ** 2 = 0.04``.

    To draw a validation set from the same model, call the function with
    the same ``random_state`` and more samples: the weights and intercept
    are drawn first, so they are the same, and the first ``n_samples`` rows
    are shared only when the sample sizes match (draw one large set and
    split it for disjoint sets, as in the example below).

    Parameters
    ----------
    n_samples : int, default=200
        Number of samples, ``>= 1``.
    n_features : int, default=50
        Number of features, ``>= 1``.
    noise : float, default=0.2
        Standard deviation of the Gaussian noise on ``y``, ``>= 0``.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the intercept, ``X`` and the noise.
    return_coef : bool, default=False
        Also return the true weights and intercept.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs, float64.
    y : ndarray of shape (n_samples,)
        Targets, float64.
    coef : ndarray of shape (n_features,)
        True weights ``w``; only with ``return_coef=True``.
    intercept : float
        True intercept ``b``; only with ``return_coef=True``.

    Raises
    ------
    ValueError
        If ``n_samples``, ``n_features`` or ``noise`` is out of range.

    Examples
    --------
    >>> from skreg.datasets import make_noisy_linear
    >>> X, y = make_noisy_linear(10_200, random_state=0)
    >>> X_train, y_train, X_val, y_val = X[:200], y[:200], X[200:], y[200:]
    >>> X_train.shape, X_val.shape
    ((200, 50), (10000, 50))
    """
    _check_int("n_samples", n_samples, 1)
    _check_int("n_features", n_features, 1)
    _check_real("noise", noise, 0, np.inf, high_closed=False)
    rng = check_random_state(random_state)
    coef = rng.standard_normal(n_features) * 3.0 / np.sqrt(n_features)
    intercept = float(rng.standard_normal())
    X = rng.standard_normal((n_samples, n_features))
    y = X @ coef + intercept + noise * rng.standard_normal(n_samples)
    if return_coef:
        return X, y, coef, intercept
    return X, y


def make_noisy_moons(n_samples=250, *, flip_fraction=0.1, noise=0.1, random_state=None):
    """Two interleaving half circles with a share of the labels flipped.

    The points are :func:`sklearn.datasets.make_moons` (``noise`` is the
    standard deviation of the Gaussian noise on their positions); then each
    label is flipped independently with probability ``flip_fraction``. The
    flipped points sit inside the other moon, so a network that fits every
    training label has to draw islands around them, while the true boundary
    is smooth.

    Parameters
    ----------
    n_samples : int, default=250
        Number of points, ``>= 2``.
    flip_fraction : float, default=0.1
        Probability of flipping each label, in ``[0, 0.5]``.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise on the positions, ``>= 0``.
    random_state : int, RandomState instance or None, default=None
        Seeds the positions, their noise and the flips.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        Positions, float64.
    y : ndarray of shape (n_samples,)
        Labels in ``{0, 1}``, int64, after flipping.

    Raises
    ------
    ValueError
        If ``n_samples``, ``flip_fraction`` or ``noise`` is out of range.

    Examples
    --------
    >>> from skreg.datasets import make_noisy_moons
    >>> X, y = make_noisy_moons(250, flip_fraction=0.1, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((250, 2), [0, 1])
    """
    _check_int("n_samples", n_samples, 2)
    _check_real("flip_fraction", flip_fraction, 0, 0.5)
    _check_real("noise", noise, 0, np.inf, high_closed=False)
    rng = check_random_state(random_state)
    X, y = make_moons(n_samples, noise=noise, random_state=rng)
    flip = rng.random_sample(n_samples) < flip_fraction
    y = np.where(flip, 1 - y, y).astype(np.int64)
    return X, y
