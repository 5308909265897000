"""Encoding of mixed-type tables into the numeric matrix a network sees.

:class:`TabularEncoder` turns a pandas (or polars) DataFrame with numeric,
bool, categorical and string columns and missing values into one dense
float matrix: numeric columns imputed (not scaled), 0/1 missing indicators,
one-hot blocks for categorical columns with few categories and one integer
code column per categorical column with many (for a learned embedding).
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import (CategoricalDtype, infer_dtype, is_bool_dtype,
                              is_numeric_dtype, is_string_dtype)
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, Options, RealNotInt, StrOptions
from sklearn.utils.validation import (_check_feature_names_in, check_array,
                                      check_is_fitted, validate_data)

__all__ = ["TabularEncoder"]

# the name of the pooled category, in ``categories_`` and in the output
# feature names: OneHotEncoder's, so that both read the same
INFREQUENT = "infrequent_sklearn"

# pandas' ``infer_dtype`` answers for object columns, grouped into the three
# kinds of categorical values that can be compared with each other
_VALUE_KINDS = {
    "string": "string",
    "integer": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "integer-na": "number",
    "decimal": "number",
    "boolean": "bool",
    "empty": "empty",  # nothing but missing values
}


def _is_dataframe(X):
    return isinstance(X, pd.DataFrame)


def _to_pandas(X):
    """``X`` as a pandas DataFrame if it is a dataframe of another library.

    polars (and pyarrow) frames convert with their own ``to_pandas()``:
    Categorical and Enum columns become pandas categoricals, strings become
    strings, nulls become missing values. Anything else is returned as is.
    """
    if _is_dataframe(X) or isinstance(X, np.ndarray):
        return X
    to_pandas = getattr(X, "to_pandas", None)
    if callable(to_pandas) and hasattr(X, "columns") and hasattr(X, "shape"):
        return to_pandas()
    return X


def _value_kind(column):
    """The kind of the values of a column: 'number', 'bool', 'string' or 'empty'.

    None for values of any other or of mixed types (numbers and strings in
    one object column, dates, ...). For a pandas categorical the kind of its
    categories.
    """
    dtype = column.dtype
    if isinstance(dtype, CategoricalDtype):
        return _VALUE_KINDS.get(dtype.categories.inferred_type)
    if is_bool_dtype(dtype):
        return "bool"
    if is_numeric_dtype(dtype):
        return "number" if dtype.kind != "c" else None
    if is_string_dtype(dtype):  # object columns included
        # one pass in C over the column; the kinds of values it may mix
        # would otherwise need a Python loop
        return _VALUE_KINDS.get(infer_dtype(column, skipna=True))
    return None


def _value_types(column):
    """The sorted type names of a column's non-missing values (for messages)."""
    # a set of type names, not pd.unique: the values may be unhashable (dicts, lists)
    return ", ".join(sorted({type(v).__name__ for v in column.dropna()}))


def _example(column, mask):
    """The first value of ``column`` where ``mask`` holds (for messages)."""
    return column[np.asarray(mask)].iloc[0]


def _check_kind(m, column, label):
    """Raise if ``column`` holds another kind of values than in fit (``m.kind``)."""
    kind = _value_kind(column)
    if kind == m.kind or kind == "empty" or not column.notna().any():
        return
    found = f"{kind} values" if kind is not None else (
        f"values of mixed types ({_value_types(column)})"
        if is_string_dtype(column.dtype) else f"values of dtype {column.dtype}")
    raise ValueError(
        f"Column {label} held {m.kind} values in fit but holds {found} now "
        f"(dtype {column.dtype}); the kind of a column's values must not "
        "change between fit and transform.")


class _CategoricalMap:
    """How one categorical column maps to codes (a fitted, private record).

    ``index`` holds the categories observed in fit, ``code_of[i]`` the code of
    ``index[i]`` (pooled categories share one code); ``n_categories`` codes
    are categories, code ``n_categories`` is "missing" and code
    ``n_categories + 1`` is "unseen".
    """

    def __init__(self, index, code_of, n_categories, kind, has_missing, encoding):
        self.index = index
        self.code_of = np.asarray(code_of)
        self.n_categories = n_categories
        self.kind = kind
        self.has_missing = has_missing
        self.encoding = encoding
        # the categories as an arrow array, for string columns (built once)
        self._value_set = None
        # (categories, lookup) of the last pandas categorical column seen
        self._lookup = (None, None)

    @property
    def missing_code(self):
        return self.n_categories

    @property
    def unseen_code(self):
        return self.n_categories + 1

    def codes(self, column):
        """The code of every row of ``column`` (int64)."""
        if isinstance(column.dtype, CategoricalDtype):
            # map the column's own categories once, then its integer codes:
            # no hashing of the rows at all; the map is kept for the next
            # column with the very same categories (an Index is immutable),
            # as a frame predicted on again has
            values = column.array
            categories = values.categories
            seen, lookup = self._lookup
            if seen is not categories:
                pos = self.index.get_indexer(categories)
                lookup = np.where(pos >= 0, self.code_of[pos], self.unseen_code)
                # pandas codes missing values as -1: the last entry
                lookup = np.append(lookup, self.missing_code)
                self._lookup = (categories, lookup)
            return lookup[values.codes]
        if self.kind == "string":
            codes = self._string_codes(column)
            if codes is not None:
                return codes
        pos = self.index.get_indexer(column)
        codes = np.where(pos >= 0, self.code_of[pos], self.unseen_code)
        # the fitted categories hold no missing value, so missing values are
        # among the rows not found: only those are tested
        unfound = np.flatnonzero(pos < 0)
        if unfound.size:
            missing = np.asarray(column.iloc[unfound].isna())
            codes[unfound[missing]] = self.missing_code
        return codes


    def _string_codes(self, column):
        """The codes of a pandas string-dtype column by arrow's hash lookup, or None.

        For a ``str`` / ``string`` column (whose values can only be strings),
        ``pyarrow.compute.index_in`` finds the values among the categories 5
        to 13 times faster than pandas' ``get_indexer`` (it hashes the string
        bytes, not Python objects), and an arrow-backed column converts
        without a copy. None for object columns (which may hold bytes or
        other types, that pandas' lookup reports) and for strings arrow
        cannot encode (lone surrogates): the caller's pandas lookup then
        runs.
        """
        if column.dtype == object:
            return None
        try:
            values = pa.array(column, type=pa.string(), from_pandas=True)
            if self._value_set is None:
                self._value_set = pa.array(self.index.tolist(), type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeError):
            return None
        pos = pc.index_in(values, value_set=self._value_set)
        pos = pc.fill_null(pos, -1).to_numpy(zero_copy_only=False)
        codes = np.where(pos >= 0, self.code_of[pos], self.unseen_code)
        if values.null_count:
            codes[values.is_null().to_numpy(zero_copy_only=False)] = self.missing_code
        return codes


def _resolve_categorical_features(X, categorical_features):
    """The boolean mask of the categorical columns of ``X``.

    scikit-learn's rules for HistGradientBoosting's ``categorical_features``
    (``sklearn.utils.validation._check_categorical_features`` in 1.9), with
    their error messages, except that ``"from_dtype"`` also selects string,
    object and bool columns (HistGradientBoosting selects only categorical
    and Enum ones) and that the answer is an all-False mask, not None, when
    no column is categorical.
    """
    n_features = X.shape[1]
    none = np.zeros(n_features, dtype=bool)
    if isinstance(categorical_features, str) and categorical_features == "from_dtype":
        if not _is_dataframe(X):
            # as HistGradientBoosting: an array has no dtypes per column
            return none
        return np.asarray([isinstance(d, CategoricalDtype) or is_bool_dtype(d)
                           or is_string_dtype(d) for d in X.dtypes], dtype=bool)
    if categorical_features is None:
        return none
    categorical_features = np.asarray(categorical_features)
    if categorical_features.size == 0:
        return none
    if categorical_features.dtype.kind not in ("i", "b", "U", "O"):
        raise ValueError(
            "categorical_features must be an array-like of bool, int or "
            f"str, got: {categorical_features.dtype.name}.")
    if categorical_features.dtype.kind == "O":
        types = set(type(f) for f in categorical_features)
        if types != {str}:
            raise ValueError(
                "categorical_features must be an array-like of bool, int or "
                f"str, got: {', '.join(sorted(t.__name__ for t in types))}.")
    if categorical_features.dtype.kind in ("U", "O"):
        if not _is_dataframe(X):
            raise ValueError(
                "categorical_features should be passed as an array of "
                "integers or as a boolean mask when the model is fitted "
                "on data without feature names.")
        is_categorical = none.copy()
        feature_names = list(X.columns)
        for feature_name in categorical_features:
            try:
                is_categorical[feature_names.index(feature_name)] = True
            except ValueError as e:
                raise ValueError(
                    f"categorical_features has an item value '{feature_name}' "
                    "which is not a valid feature name of the training "
                    f"data. Observed feature names: {feature_names}") from e
    elif categorical_features.dtype.kind == "i":
        if (np.max(categorical_features) >= n_features
                or np.min(categorical_features) < 0):
            raise ValueError(
                "categorical_features set as integer "
                "indices must be in [0, n_features - 1]")
        is_categorical = none.copy()
        is_categorical[categorical_features] = True
    else:
        if categorical_features.shape[0] != n_features:
            raise ValueError(
                "categorical_features set as a boolean mask "
                "must have shape (n_features,), got: "
                f"{categorical_features.shape}")
        is_categorical = categorical_features.astype(bool)
    return is_categorical


class TabularEncoder(TransformerMixin, BaseEstimator):
    """Encode a mixed-type table as one dense float matrix for a network.

    Accepts a pandas DataFrame (a polars or pyarrow frame is converted with
    its ``to_pandas()``) with numeric, bool, categorical, string and object
    columns and missing values (``NaN``, ``None``, ``pd.NA``, ``NaT``), or a
    2-D numpy array. Every column is encoded on its own, with vectorised
    pandas operations (``pd.factorize``, ``Index.get_indexer``, categorical
    codes): the cost is a few passes over each column.

    **Numeric columns** are imputed with a statistic learned in fit and are
    *not* scaled (the estimators scale their inputs themselves). Every
    numeric column that had missing values in fit also gets a 0/1 missing
    indicator column. A numeric column that had no missing value in fit but
    has some at transform time is imputed and gets no indicator: the
    network has no input for it. Infinite values are an error.

    **Categorical columns** are encoded by their categories observed in fit:
    in the order of the dtype's categories for a pandas categorical, sorted
    otherwise. Categories seen fewer than ``min_frequency`` times are pooled
    into one "infrequent" category. A column with at most
    ``max_onehot_categories`` categories (after pooling) is one-hot encoded;
    a column with more becomes one integer code column (held as a float)
    for a learned embedding, with codes

    - ``0 .. n - 1``: the ``n`` categories of ``categories_[i]`` (the
      pooled category last),
    - ``n``: a missing value,
    - ``n + 1``: a category not seen in fit ("unseen"),

    so ``embedding_cardinalities_`` is ``n + 2``; the missing and unseen codes
    always exist, and their embedding rows are trained only if such values
    occur in training. A one-hot block has one column per category, plus a
    last column for missing values only if the column had missing values
    in fit; an unseen category, and a missing value in a column that had
    none in fit, give an all-zero row. Nothing is refitted at transform.

    Parameters
    ----------
    categorical_features : "from_dtype", array-like of {bool, int, str} or None, \
            default="from_dtype"
        The categorical columns, as HistGradientBoosting's parameter of the
        same name (and with its error messages):

        - ``"from_dtype"``: the DataFrame columns of dtype category, string,
          object or bool (HistGradientBoosting takes only category ones). For
          a numpy array no column is categorical.
        - array-like of str: column names (the data must have feature names).
        - array-like of int: column indices, in ``[0, n_features - 1]``.
        - boolean array-like of shape ``(n_features,)``: a mask.
        - None: no column is categorical; every column must be numeric.

        An object column of numbers selected by ``"from_dtype"`` is
        categorical; convert it with ``pd.to_numeric`` to encode it as a
        number.
    max_onehot_categories : int or None, default=16
        Categorical columns with at most this many categories (after pooling,
        not counting missing values) are one-hot encoded, the others become
        embedding code columns. 0 embeds every categorical column; None
        one-hot encodes every one.
    max_categories : int or None, default=None
        The most categories (after pooling) a categorical column may have;
        fit raises a ``ValueError`` naming the column above it. None: no
        limit.
    min_frequency : int, float or None, default=None
        Categories seen in fit fewer than ``min_frequency`` times (an int,
        at least 1), or in fewer than ``min_frequency * n_samples`` rows (a
        float in (0, 1)), are pooled into one infrequent category, as
        OneHotEncoder's parameter of the same name. Missing values are never
        pooled. None: no pooling.
    numeric_imputation : {"median", "mean"} or float, default="median"
        The value that replaces a missing value in a numeric column: the
        column's median or mean in fit (over its non-missing values), or the
        given constant. A numeric column with no value at all in fit is
        filled with 0.
    dtype : {np.float64, np.float32, "float64", "float32"}, default=np.float64
        The dtype of the output.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns seen in fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the input columns seen in fit. Defined only when ``X`` has
        column names that are all strings.
    categorical_features_ : ndarray of bool of shape (n_features_in_,)
        Which input columns are categorical (as HistGradientBoosting's
        ``is_categorical_``, but all False rather than None when none is).
    categories_ : list of ndarray of object
        One array per categorical column, in input order: the categories
        observed in fit, in code order; if some were pooled, the last entry
        is the marker ``"infrequent_sklearn"``.
    infrequent_categories_ : list of ndarray or None
        Per categorical column: the categories pooled into the infrequent one,
        or None.
    numeric_fill_values_ : ndarray of float64 of shape (n_features_in_,)
        The value that replaces a missing value of each numeric column; NaN
        for categorical columns.
    missing_indicator_columns_ : ndarray of int
        Indices of the input columns (numeric ones that had missing values
        in fit) that have a missing-indicator column, in output order.
    embedding_columns_ : ndarray of int
        Indices of the embedding code columns in the output.
    embedding_cardinalities_ : ndarray of int
        Number of codes of each embedding column (its categories, plus the
        missing and unseen codes): the rows of its embedding table.
    output_kinds_ : ndarray of str of shape (n_features_out,)
        Per output column: ``"numeric"``, ``"indicator"``, ``"onehot"`` or
        ``"embedding"``. Only the ``"numeric"`` ones need scaling.
    output_sources_ : ndarray of int of shape (n_features_out,)
        Per output column: the index of the input column it encodes.

    See Also
    --------
    sklearn.preprocessing.OneHotEncoder : One-hot encoding with pooling of
        infrequent categories.
    sklearn.ensemble.HistGradientBoostingClassifier : Native categorical
        support, whose ``categorical_features`` this encoder follows.

    Notes
    -----
    The output has, in this order: the numeric columns (input order), the
    missing indicators (in the order of their numeric columns), the one-hot
    blocks (input order) and the embedding code columns (input order).

    At transform time the columns must have the names and order seen in fit
    (scikit-learn's feature-name checks), and each column the kind of values
    it had: a ``ValueError`` names a column that was numeric in fit and holds
    non-numeric values, or that was categorical with numbers in fit and
    holds strings (or the other way round). A categorical column that is
    all missing, or mixes value types (strings and numbers), in fit is an
    error, as is a numeric column with values that are not numbers
    (numeric strings such as ``"1.5"`` are read as numbers). Date and
    complex columns are not supported.

    The caller's data is never modified.

    Examples
    --------
    >>> import pandas as pd
    >>> from skreg._tabular import TabularEncoder
    >>> X = pd.DataFrame({"age": [30.0, None, 50.0],
    ...                   "city": pd.Categorical(["a", "b", None])})
    >>> enc = TabularEncoder().fit(X)
    >>> enc.get_feature_names_out().tolist()
    ['age', 'missingindicator_age', 'city_a', 'city_b', 'city_nan']
    >>> enc.transform(X)
    array([[30.,  0.,  1.,  0.,  0.],
           [40.,  1.,  0.,  1.,  0.],
           [50.,  0.,  0.,  0.,  1.]])
    """

    _parameter_constraints = {
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "max_onehot_categories": [Interval(Integral, 0, None, closed="left"), None],
        "max_categories": [Interval(Integral, 1, None, closed="left"), None],
        "min_frequency": [Interval(Integral, 1, None, closed="left"),
                          Interval(RealNotInt, 0, 1, closed="neither"), None],
        "numeric_imputation": [StrOptions({"median", "mean"}),
                               Interval(Real, None, None, closed="neither")],
        "dtype": [Options(type, {np.float32, np.float64}),
                  StrOptions({"float32", "float64"})],
    }

    def __init__(self, *, categorical_features="from_dtype", max_onehot_categories=16,
                 max_categories=None, min_frequency=None, numeric_imputation="median",
                 dtype=np.float64):
        self.categorical_features = categorical_features
        self.max_onehot_categories = max_onehot_categories
        self.max_categories = max_categories
        self.min_frequency = min_frequency
        self.numeric_imputation = numeric_imputation
        self.dtype = dtype

    # ------------------------------------------------------------ input
    def _validate_input(self, X, reset):
        """``X`` as a DataFrame or 2-D array, with the feature-name checks."""
        X = _to_pandas(X)
        if _is_dataframe(X):
            for axis, what in ((0, "sample"), (1, "feature")):
                if X.shape[axis] < 1:
                    raise ValueError(
                        f"Found array with 0 {what}(s) (shape={X.shape}) while a "
                        f"minimum of 1 is required by {type(self).__name__}.")
        else:
            # dtype=None keeps object arrays (strings) as they are; missing
            # values are handled here, not rejected
            X = check_array(X, dtype=None, ensure_all_finite=False)
        # sets (fit) or checks (transform) n_features_in_ and
        # feature_names_in_, with scikit-learn's messages
        validate_data(self, X, reset=reset, skip_check_array=True)
        return X

    @staticmethod
    def _columns(X):
        """The columns of ``X`` as Series (views where possible) and their labels."""
        if _is_dataframe(X):
            # items() hands out the columns without the per-call cost of iloc
            return [(column, repr(name)) for name, column in X.items()]
        return [(pd.Series(X[:, j], copy=False), str(j)) for j in range(X.shape[1])]

    @staticmethod
    def _numeric(column, label, fitted):
        """A numeric column as float64 with NaN for missing values."""
        dtype = column.dtype
        if (is_numeric_dtype(dtype) or is_bool_dtype(dtype)) \
                and not isinstance(dtype, CategoricalDtype):
            if dtype.kind == "c":
                raise ValueError(f"Column {label} has complex dtype {dtype}, which "
                                 "cannot be encoded.")
            if isinstance(dtype, np.dtype):
                # a numpy column has no NA other than NaN: no mask to build
                values = column.to_numpy(dtype=np.float64)
            else:
                values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        elif is_string_dtype(dtype) or isinstance(dtype, CategoricalDtype):
            if isinstance(dtype, CategoricalDtype):
                column = column.astype(object)
            converted = pd.to_numeric(column, errors="coerce")
            bad = np.asarray(converted.isna()) & np.asarray(column.notna())
            if bad.any():
                example = _example(column, bad)
                if fitted:
                    raise ValueError(
                        f"Column {label} was numeric in fit but holds non-numeric "
                        f"values such as {example!r} (dtype {dtype}).")
                raise ValueError(
                    f"Column {label} is numeric (not in categorical_features) but "
                    f"holds non-numeric values such as {example!r} (dtype {dtype}); "
                    "declare it categorical with categorical_features, or convert "
                    "it to numbers.")
            values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raise ValueError(
                f"Column {label} has dtype {dtype}, which cannot be encoded; "
                "convert it to numbers or strings first.")
        if np.isinf(values).any():
            raise ValueError(
                f"Column {label} contains infinity; Input X contains infinity or a "
                "value too large for dtype('float64').")
        return values

    # -------------------------------------------------------------- fit
    def _fit_categorical(self, column, label, n_samples):
        """The :class:`_CategoricalMap` of a categorical column, learned from it."""
        kind = _value_kind(column)
        if kind not in ("number", "bool", "string"):
            if kind == "empty" or not column.notna().any():
                raise ValueError(
                    f"Column {label} is categorical but all its values are missing "
                    "in fit; drop it or fill it.")
            if is_string_dtype(column.dtype):
                raise ValueError(
                    f"Column {label} is categorical but holds values of types "
                    f"({_value_types(column)}); its values must be all strings, all "
                    "numbers or all bools.")
            raise ValueError(
                f"Column {label} has dtype {column.dtype}, which cannot be encoded; "
                "convert it to numbers or strings first.")
        if isinstance(column.dtype, CategoricalDtype):
            codes = np.asarray(column.cat.codes)
            counts = np.bincount(codes[codes >= 0],
                                 minlength=len(column.cat.categories))
            present = np.flatnonzero(counts)
            index = column.cat.categories[present]  # the dtype's order
            counts = counts[present]
        else:
            codes, uniques = pd.factorize(column, use_na_sentinel=True, sort=True)
            counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
            index = pd.Index(uniques)
        if len(index) == 0:
            raise ValueError(
                f"Column {label} is categorical but all its values are missing in "
                "fit; drop it or fill it.")
        n_missing = int(np.count_nonzero(codes < 0))

        if self.min_frequency is None:
            frequent = np.ones(len(index), dtype=bool)
        elif isinstance(self.min_frequency, Integral):
            frequent = counts >= self.min_frequency
        else:
            frequent = counts >= self.min_frequency * n_samples
        n_frequent = int(frequent.sum())
        pooled = n_frequent < len(index)
        n_categories = n_frequent + pooled
        # kept categories get 0 .. n_frequent - 1 in order, pooled ones share
        # the next code
        code_of = np.where(frequent, np.cumsum(frequent) - 1, n_frequent)
        if self.max_categories is not None and n_categories > self.max_categories:
            raise ValueError(
                f"Column {label} has {n_categories} categories"
                + (" after pooling" if self.min_frequency is not None else "")
                + f", more than max_categories={self.max_categories}; raise "
                "max_categories, pool rare categories with min_frequency, or drop "
                "the column.")
        onehot = (self.max_onehot_categories is None
                  or n_categories <= self.max_onehot_categories)
        categories = index[frequent].tolist() + ([INFREQUENT] if pooled else [])
        self.categories_.append(np.array(categories, dtype=object))
        self.infrequent_categories_.append(
            np.array(index[~frequent].tolist(), dtype=object) if pooled else None)
        return _CategoricalMap(index, code_of, n_categories, kind, n_missing > 0,
                               "onehot" if onehot else "embedding")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the encoding of every column of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The table: a pandas DataFrame, a polars or pyarrow frame, or a
            2-D array (object arrays need ``categorical_features`` by index
            or mask for their string columns).
        y : None
            Ignored.

        Returns
        -------
        self : TabularEncoder
            The fitted encoder.

        Raises
        ------
        ValueError
            For an invalid ``categorical_features``, a categorical column
            that is all missing, mixes value types or has more than
            ``max_categories`` categories, a numeric column with non-numeric
            or infinite values, and a column of an unsupported dtype; the
            message names the column.
        """
        X = self._validate_input(X, reset=True)
        n_samples = X.shape[0]
        self.categorical_features_ = _resolve_categorical_features(
            X, self.categorical_features)
        self.categories_ = []
        self.infrequent_categories_ = []
        self._maps = {}
        fill = np.full(X.shape[1], np.nan)
        indicators = []
        for j, (column, label) in enumerate(self._columns(X)):
            if self.categorical_features_[j]:
                self._maps[j] = self._fit_categorical(column, label, n_samples)
                continue
            values = self._numeric(column, label, fitted=False)
            missing = np.isnan(values)
            if missing.all():
                fill[j] = 0.0
            elif isinstance(self.numeric_imputation, str):
                present = values[~missing] if missing.any() else values
                fill[j] = (np.median(present) if self.numeric_imputation == "median"
                           else np.mean(present))
            else:
                fill[j] = float(self.numeric_imputation)
            if not np.isfinite(fill[j]):
                raise ValueError(f"Column {label}: values too large to average.")
            if missing.any():
                indicators.append(j)
        self.numeric_fill_values_ = fill
        self.missing_indicator_columns_ = np.asarray(indicators, dtype=np.intp)
        self._build_layout()
        return self

    def _build_layout(self):
        """The output columns: their sources, kinds and the embedding codes."""
        numeric = np.flatnonzero(~self.categorical_features_)
        onehot = [j for j, m in self._maps.items() if m.encoding == "onehot"]
        embedded = [j for j, m in self._maps.items() if m.encoding == "embedding"]
        sources = [*numeric, *self.missing_indicator_columns_]
        kinds = ["numeric"] * len(numeric) + ["indicator"] * len(
            self.missing_indicator_columns_)
        for j in onehot:
            width = self._maps[j].n_categories + self._maps[j].has_missing
            sources += [j] * width
            kinds += ["onehot"] * width
        self.embedding_columns_ = np.arange(len(sources), len(sources) + len(embedded),
                                            dtype=np.intp)
        self.embedding_cardinalities_ = np.asarray(
            [self._maps[j].n_categories + 2 for j in embedded], dtype=np.intp)
        sources += embedded
        kinds += ["embedding"] * len(embedded)
        self.output_sources_ = np.asarray(sources, dtype=np.intp)
        self.output_kinds_ = np.asarray(kinds, dtype=object)

    # -------------------------------------------------------- transform
    def transform(self, X):
        """Encode ``X`` with the encoding learned in fit.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features_in_)
            A table with the columns seen in fit, in the same order.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            The encoded table, of dtype ``dtype``; see the class docstring
            for its layout.

        Raises
        ------
        ValueError
            For columns that differ from fit (names, number), a column whose
            kind of values changed since fit, and infinite values; the
            message names the column.
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        dtype = np.dtype(self.dtype)
        # zeros: the one-hot blocks need only their ones written
        out = np.zeros((X.shape[0], len(self.output_kinds_)), dtype=dtype)
        columns = self._columns(X)
        indicated = set(self.missing_indicator_columns_.tolist())
        missing_of = {}
        k = 0
        for j in np.flatnonzero(~self.categorical_features_):
            column, label = columns[j]
            values = self._numeric(column, label, fitted=True)
            missing = np.isnan(values)
            with np.errstate(over="ignore"):
                # values beyond float32's range become inf: reported below
                out[:, k] = values
            if missing.any():
                out[missing, k] = self.numeric_fill_values_[j]
            if j in indicated:
                missing_of[j] = missing
            k += 1
        for j in self.missing_indicator_columns_:
            out[:, k] = missing_of[j]
            k += 1
        embedded = []
        n_onehot = sum(m.encoding == "onehot" for m in self._maps.values())
        # the flat position in ``out`` of each row's one in each one-hot block
        hot = np.empty((X.shape[0], n_onehot), dtype=np.int64)
        hot_rows = np.arange(X.shape[0], dtype=np.int64) * out.shape[1]
        unseen = False
        b = 0
        for j, m in self._maps.items():
            column, label = columns[j]
            codes = self._codes(m, column, label)
            if m.encoding == "embedding":
                embedded.append(codes)
                continue
            width = m.n_categories + m.has_missing
            np.add(hot_rows, codes + k, out=hot[:, b])
            # unseen categories (and missing values without a missing column)
            # have no column: an all-zero row (position -1 below)
            outside = codes >= width
            if outside.any():
                hot[outside, b] = -1
                unseen = True
            k += width
            b += 1
        if n_onehot:
            # every one-hot block's ones in one scatter
            np.put(out, hot[hot >= 0] if unseen else hot, 1)
        for codes in embedded:
            out[:, k] = codes
            k += 1
        if dtype != np.float64:
            self._check_finite(out, columns)
        return out

    @staticmethod
    def _codes(m, column, label):
        """The codes of a categorical column, after checking its kind of values.

        The kind of an object or string column is inferred (a pass over it)
        only when some value is unseen: a column whose kind changed since fit
        matches none of the fitted categories, so a column without unseen
        values needs no check.
        """
        lazy = is_string_dtype(column.dtype) and not isinstance(column.dtype,
                                                                 CategoricalDtype)
        if not lazy:
            _check_kind(m, column, label)
        codes = m.codes(column)
        if lazy and (codes == m.unseen_code).any():
            _check_kind(m, column, label)
        return codes

    def _check_finite(self, out, columns):
        """Raise for numeric values beyond the range of the output dtype."""
        numeric = np.flatnonzero(~self.categorical_features_)
        block = out[:, :len(numeric)]
        finite = np.isfinite(block).all(axis=0)
        if not finite.all():
            _, label = columns[numeric[np.flatnonzero(~finite)[0]]]
            raise ValueError(
                f"Column {label} contains infinity or a value too large for "
                f"dtype({np.dtype(self.dtype).name!r}).")

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Numeric columns keep their names; an indicator is
        ``missingindicator_<name>``; a one-hot column is
        ``<name>_<category>`` (``<name>_infrequent_sklearn`` for the pooled
        category, ``<name>_nan`` for missing values); an embedding code
        column keeps its input column's name.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; None uses ``feature_names_in_`` (or
            ``x0, x1, ...`` when fit saw none).

        Returns
        -------
        ndarray of str objects of shape (n_features_out,)
            The output column names.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        categorical = np.flatnonzero(self.categorical_features_)
        categories = dict(zip(categorical, self.categories_))
        out = [names[j] for j in np.flatnonzero(~self.categorical_features_)]
        out += [f"missingindicator_{names[j]}" for j in self.missing_indicator_columns_]
        for j, m in self._maps.items():
            if m.encoding == "onehot":
                out += [f"{names[j]}_{c}" for c in categories[j]]
                if m.has_missing:
                    out.append(f"{names[j]}_nan")
        out += [names[j] for j, m in self._maps.items() if m.encoding == "embedding"]
        return np.asarray(out, dtype=object)

    # ------------------------------------------------------ persistence
    def __getstate__(self):
        # the fitted categories as numpy arrays (with their pandas dtype's
        # name), not pandas Index objects: skops can store only the former
        state = super().__getstate__()
        if "_maps" in state:
            state = dict(state)
            state["_maps"] = [
                {"column": int(j), "index": m.index.to_numpy(),
                 "index_dtype": str(m.index.dtype), "code_of": np.asarray(m.code_of),
                 "n_categories": int(m.n_categories), "kind": m.kind,
                 "has_missing": bool(m.has_missing), "encoding": m.encoding}
                for j, m in state["_maps"].items()]
        return state

    def __setstate__(self, state):
        maps = state.get("_maps")
        if isinstance(maps, list):
            state = dict(state)
            state["_maps"] = {
                r["column"]: _CategoricalMap(
                    pd.Index(r["index"], dtype=r["index_dtype"]), r["code_of"],
                    r["n_categories"], r["kind"], r["has_missing"], r["encoding"])
                for r in maps}
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
