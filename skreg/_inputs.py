"""The estimators' inputs: devices, dense arrays, encoded tables and their scaling statistics.

Helpers shared by the plain and the cross-validated estimators, between the
caller's data and the arrays the engine receives.
"""

import warnings

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_array, validate_data

from ._preprocessing import robust_scaling_stats
from ._tabular import _is_dataframe, _to_pandas

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


def resolve_device(device):
    """The ``device`` parameter as a torch device string ('auto': CUDA if available)."""
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


def non_numeric_column(X):
    """``(name, dtype)`` of a dataframe's first non-numeric column, or None."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype
    X = _to_pandas(X)
    if not _is_dataframe(X):
        return None
    for name, dtype in X.dtypes.items():
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)):
            return name, dtype
    return None


def check_finite_outputs(out):
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


def as_tensor(array, device):
    """``array`` as a tensor on ``device``; no copy for a CPU array of the right layout."""
    if isinstance(array, np.ndarray) and not array.flags.writeable:
        with warnings.catch_warnings():
            # read-only arrays (memmaps) are shared, never written to
            warnings.simplefilter("ignore", UserWarning)
            return torch.as_tensor(array, device=device)
    return torch.as_tensor(array, device=device)


def dense(X, dtype):
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

