"""Numeric feature embeddings: each scaled input feature mapped to several inputs.

An MLP on raw numeric features learns smooth functions of them first;
irregular, axis-aligned class boundaries (where gradient-boosted trees
shine) take it many units and epochs. Embedding each numeric feature into
a few inputs before the first layer removes most of that handicap
(Gorishniy, Rubachev & Babenko, 2022, "On embeddings for numerical
features in tabular deep learning"). Two fixed embeddings are provided;
neither has trainable parameters, so the first layer's weights, trained
by the same hand-written pass as every other layer, carry everything
learned:

``'piecewise_linear'``
    The piecewise-linear encoding with quantile bins. With the bin edges
    ``b_0 < b_1 < ... < b_T`` of a feature (distinct weighted quantiles at
    ``t / n_bins`` of its training values, after input scaling), the
    feature ``x`` becomes ``T`` inputs ``e_1 ... e_T`` with
    ``e_t = clip((x - b_{t-1}) / (b_t - b_{t-1}), 0, 1)``, except that
    ``e_1`` is not clipped below and ``e_T`` not above (so values beyond
    the training range extrapolate linearly). A feature with fewer than
    three distinct edges (binary, one-hot, constant) is passed through as
    it is.

``'periodic'``
    Fixed periodic features: ``x`` becomes ``x`` itself and the
    ``2 * n_frequencies`` inputs ``sin(2 pi c_k x)`` and ``cos(2 pi c_k x)``
    with frequencies ``c_k ~ N(0, sigma^2)`` drawn once per feature from
    the fit's seed (random Fourier features of each feature; the periodic
    embedding of Gorishniy et al. with its frequencies frozen at their
    initialisation). Features with fewer than three distinct values are
    passed through.

A third, ``'plr'`` (periodic, linear, ReLU: Gorishniy et al.'s PLR, with
one ``2k x d`` linear map per feature and the feature itself kept as an
input, as RealMLP's PBLD), has trainable frequencies and weights; it lives
in the network (:func:`skreg._engine.model.plr_forward`), and this module
only names it (:data:`LEARNED_EMBEDDINGS`) and finds the columns it takes
(:func:`varied_columns`).

The two fixed ones are a gather of input columns followed by elementwise operations, so
they run per batch (a fit never stores the embedded X) and cost a small
fraction of the first layer's product. One class,
:class:`NumericEmbedding`, holds either as per-output-column arrays.
"""

import math

import numpy as np
import torch

from .._preprocessing import robust_scale, weighted_quantiles

#: the fixed embeddings, fitted by :func:`fit_embedding`
EMBEDDINGS = ("piecewise_linear", "periodic")

#: the learned one: ``'plr'``, trained with the network
#: (:func:`skreg._engine.model.plr_forward`)
LEARNED_EMBEDDINGS = ("plr",)

#: initial standard deviation of the PLR frequencies, on the scaled inputs
#: (interquartile range about 1): periods of about 10 at the start, smooth
#: functions of each feature that training sharpens where the data ask
PLR_SIGMA = 0.1


def varied_columns(X, sample_weight=None):
    """The columns of X with at least three distinct weighted octiles.

    Binary, one-hot and constant columns have fewer: an embedding passes
    them through as they are.
    """
    edges = weighted_quantiles(X, np.linspace(0.0, 1.0, 9), sample_weight)
    return [j for j in range(X.shape[1]) if len(np.unique(edges[:, j])) >= 3]


class NumericEmbedding:
    """A fitted embedding: output column ``j`` is made from input column ``source[j]``.

    Piecewise-linear columns are ``clip((x - left) / width, low, high)``;
    periodic columns are ``sin(2 pi freq x + phase)``; pass-through columns
    are ``x`` (``left = 0, width = 1``, unbounded clip). Build it with
    :func:`fit_embedding`.

    Attributes
    ----------
    kind : {'piecewise_linear', 'periodic'}
    n_features_in : int
    source : ndarray of int, shape (n_outputs,)
    left, width, low, high : ndarray of float, shape (n_outputs,)
        The affine map and the clip bounds (``-inf`` / ``inf`` where a side
        is unbounded) of each linear output column.
    freq, phase : ndarray of float, shape (n_outputs,)
        Frequency and phase (0 or ``pi / 2``) of each periodic column; 0
        and nan for linear columns.
    """

    def __init__(self, kind, n_features_in, source, left, width, low, high, freq, phase):
        self.kind = kind
        self.n_features_in = int(n_features_in)
        self.source = np.asarray(source, dtype=np.int64)
        self.left, self.width, self.low, self.high, self.freq, self.phase = (
            np.asarray(a, dtype=np.float64) for a in (left, width, low, high, freq, phase))
        self._cache = {}

    @property
    def n_outputs(self):
        """Number of inputs the network sees."""
        return len(self.source)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def _tensors(self, dtype, device):
        key = (dtype, str(device))
        if key not in self._cache:
            as_t = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
            periodic = ~np.isnan(self.phase)
            self._cache[key] = (
                torch.as_tensor(self.source, device=device),
                as_t(self.left), as_t(1.0 / self.width), as_t(self.low), as_t(self.high),
                torch.as_tensor(np.flatnonzero(periodic), device=device),
                as_t(2 * math.pi * self.freq[periodic]), as_t(self.phase[periodic]))
        return self._cache[key]

    def __call__(self, X):
        """The embedded inputs of ``X`` (a tensor ``(..., n, n_features_in)``)."""
        source, left, inv, low, high, periodic, freq, phase = self._tensors(X.dtype, X.device)
        Z = X.index_select(-1, source)
        Z.sub_(left).mul_(inv)
        torch.maximum(Z, low, out=Z)
        torch.minimum(Z, high, out=Z)
        if len(periodic):
            # sin(2 pi c x + phase) on the periodic columns (cos is sin + pi/2)
            Z[..., periodic] = torch.sin(Z[..., periodic] * freq + phase)
        return Z

    def transform(self, X):
        """The embedded inputs of a numpy array, as a numpy array of X's dtype."""
        return self(torch.as_tensor(np.ascontiguousarray(X))).numpy()

    def feature_names(self, names):
        """Names of the output columns from the input feature ``names``."""
        out, count = [], {}
        for j, f in enumerate(self.source):
            k = count[f] = count.get(f, -1) + 1
            if self.kind == "piecewise_linear" or np.isnan(self.phase[j]):
                passthrough = self.width[j] == 1 and self.left[j] == 0 and not np.isfinite(
                    self.low[j])
                out.append(str(names[f]) if passthrough and k == 0 else f"{names[f]}_bin{k}")
            else:
                fn = "sin" if self.phase[j] == 0 else "cos"
                out.append(f"{names[f]}_{fn}{(k - 1) // 2}")
        return np.asarray(out, dtype=object)


def fit_embedding(kind, X, *, n_bins=16, n_frequencies=8, sigma=1.0, sample_weight=None,
                  rows=None, center=None, scale=None, seed=0, passthrough=()):
    """Fit a :class:`NumericEmbedding` on training inputs.

    Parameters
    ----------
    kind : {'piecewise_linear', 'periodic'}
    X : ndarray of shape (n_samples, n_features)
        Training inputs, unscaled when ``center`` and ``scale`` are given
        (the robust input scaling, which is increasing per feature, so the
        quantiles of the scaled feature are the scaled quantiles), else as
        the network sees them. Not modified.
    n_bins : int, default=16
        Quantile bins per feature of ``'piecewise_linear'``.
    n_frequencies : int, default=8
        Frequencies per feature of ``'periodic'``.
    sigma : float, default=1.0
        Standard deviation of the periodic frequencies (on the scaled
        feature, whose interquartile range is about 1).
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the quantiles (see
        :func:`skreg._preprocessing.weighted_quantiles`).
    rows : ndarray of int or None
        The training rows of X (a fold's); None uses every row.
    center, scale : ndarray of shape (n_features,) or None
        The robust scaling applied to X before the embedding.
    seed : int, default=0
        Seeds the periodic frequencies.
    passthrough : iterable of int, default=()
        Columns passed through exactly whatever their values (the codes of
        embedded categorical columns).

    Returns
    -------
    NumericEmbedding
    """
    if kind not in EMBEDDINGS:
        raise ValueError(f"numeric_embedding must be one of {EMBEDDINGS} or None; "
                         f"got {kind!r}.")
    d = X.shape[1]
    n_edges = n_bins + 1 if kind == "piecewise_linear" else 9
    edges = weighted_quantiles(X, np.linspace(0.0, 1.0, n_edges), sample_weight, rows)
    if center is not None:
        edges = robust_scale(edges, center, scale)
    edges = edges.astype(np.float64)
    rng = np.random.default_rng(seed)
    cols = {name: [] for name in ("source", "left", "width", "low", "high", "freq", "phase")}

    def add(f, left, width, low, high, freq=0.0, phase=np.nan):
        for name, value in zip(cols, (f, left, width, low, high, freq, phase)):
            cols[name].append(value)

    passthrough = set(passthrough)
    for f in range(d):
        b = np.unique(edges[:, f])
        if len(b) < 3 or f in passthrough:
            add(f, 0.0, 1.0, -np.inf, np.inf)  # binary or constant: as it is
            continue
        if kind == "piecewise_linear":
            T = len(b) - 1
            for t in range(T):
                add(f, b[t], b[t + 1] - b[t], -np.inf if t == 0 else 0.0,
                    np.inf if t == T - 1 else 1.0)
        else:
            add(f, 0.0, 1.0, -np.inf, np.inf)
            for c in rng.normal(0.0, sigma, n_frequencies):
                add(f, 0.0, 1.0, -np.inf, np.inf, c, 0.0)
                add(f, 0.0, 1.0, -np.inf, np.inf, c, math.pi / 2)
    return NumericEmbedding(kind, d, **cols)
