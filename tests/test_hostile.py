"""Hostile inputs, property-based.

Each generated case ends in one of two outcomes: a fit whose predictions are
valid (labels from ``classes_``, probabilities that are finite and sum to 1,
finite regression outputs), or a ``ValueError`` / ``TypeError`` with a
message, raised by skreg or scikit-learn's validation, never from inside
torch or skorch. The caller's data are never modified.

Hypothesis draws the structure of each case (shape, dtype, container, where
NaN and inf go, magnitudes, label types); the values come from a numpy
generator seeded by Hypothesis, which keeps the cases cheap. The runs are
derandomized, so CI sees the same cases every time; ``pytest
--hypothesis-show-statistics tests/test_hostile.py`` reports how many ran.
"""

import copy
import os
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skreg import DivergenceError, RegularizedMLPClassifier, RegularizedMLPRegressor

HOSTILE = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow,
                                          HealthCheck.data_too_large])
TINY = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
FORBIDDEN_ORIGINS = tuple(os.path.dirname(m.__file__) + os.sep
                          for m in (torch, __import__("skorch"), pd))
ESTIMATORS = st.sampled_from([RegularizedMLPClassifier, RegularizedMLPRegressor])


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


# ------------------------------------------------------------------ checks
def _snapshot(obj):
    return copy.deepcopy(obj)


def _reprs(values):
    """Object cells compared by their repr (NA, NaN and arrays do not compare with ==)."""
    return [repr(v) for v in np.asarray(values, dtype=object).ravel()]


def _assert_unchanged(before, after):
    if isinstance(after, pd.DataFrame) and any(dtype == np.dtype(object) for dtype in after.dtypes):
        assert list(before.columns) == list(after.columns)
        assert list(before.dtypes) == list(after.dtypes)
        for name in after.columns:
            assert _reprs(before[name]) == _reprs(after[name]), name
    elif isinstance(after, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after)
    elif isinstance(after, (np.ndarray, pd.Series, list)) and np.asarray(
            after, dtype=object).dtype == object and (
            isinstance(after, list) or after.dtype == object):
        assert _reprs(before) == _reprs(after)
    elif isinstance(after, pd.Series):
        pd.testing.assert_series_equal(before, after)
    elif sp.issparse(after):
        assert before.format == after.format and before.dtype == after.dtype
        np.testing.assert_array_equal(before.toarray(), after.toarray())
    elif isinstance(after, np.ndarray):
        assert before.dtype == after.dtype
        np.testing.assert_array_equal(before, after)
    else:
        assert before == after


def _assert_clear_error(exc):
    """A ValueError/TypeError with a message, not raised from torch, skorch or pandas.

    numpy's own errors (a string that is not a number) reach the user
    through scikit-learn's validation, as they do for scikit-learn's
    estimators; anything raised in numpy's or pandas' Python code, or by a
    built-in operation (``'<' not supported``, ``unhashable type``) in
    skreg, fails here.
    """
    assert isinstance(exc, (ValueError, TypeError)), repr(exc)
    assert str(exc).strip(), f"{type(exc).__name__} without a message"
    frames = traceback.extract_tb(exc.__traceback__)
    origin = frames[-1].filename if frames else ""
    assert not origin.startswith(FORBIDDEN_ORIGINS), (
        f"{type(exc).__name__} raised inside {origin}: {exc}")
    for builtin in ("not supported between instances", "unhashable type",
                    "object has no attribute", "object is not subscriptable"):
        assert builtin not in str(exc), f"{type(exc).__name__} from {origin}: {exc}"


def _assert_valid_predictions(est, X):
    if isinstance(est, RegularizedMLPClassifier):
        pred = est.predict(X)
        proba = est.predict_proba(X)
        assert np.isfinite(proba).all()
        if pred.ndim == 2:  # multilabel: a 0/1 indicator row, one probability per label
            assert pred.shape[1] == len(est.classes_) and np.isin(pred, [0, 1]).all()
            assert ((proba >= 0) & (proba <= 1)).all()
            return
        assert np.isin(pred, est.classes_).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    else:
        pred = est.predict(X)
        assert np.isfinite(pred).all(), "non-finite predictions without an error"


def fit_and_check(est, X, y, **fit_params):
    """Fit; either valid predictions or a clear error. Returns the outcome."""
    before = [_snapshot(a) for a in (X, y)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
            est.fit(X, y, **fit_params)
            _assert_valid_predictions(est, X)
        outcome = "fitted"
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - the type is what is checked
        _assert_clear_error(exc)
        outcome = type(exc).__name__
    for b, a in zip(before, (X, y)):
        _assert_unchanged(b, a)
    event(f"outcome: {outcome}")
    return outcome


def _labels(Est, n, rng, kind="int"):
    if Est is RegularizedMLPRegressor:
        return rng.normal(size=n)
    codes = rng.integers(0, 3, size=n)
    if n >= 2:
        codes[:2] = [0, 1]  # two classes at least
    return {
        "int": codes,
        "str": np.array(["ant", "bee", "cat"])[codes],
        "mixed_ints": np.array([-7, 0, 10 ** 9])[codes],
        "bool": codes.astype(bool),
        "float": codes.astype(float),
        "object_str": np.array(["ant", "bee", "cat"], dtype=object)[codes],
    }[kind]


# ------------------------------------------------------------------- cases
DTYPES = st.sampled_from([np.bool_, np.int8, np.int64, np.uint8, np.float16,
                          np.float32, np.float64, object])


@HOSTILE
@given(Est=ESTIMATORS, n_samples=st.integers(1, 40),
       n_features=st.one_of(st.integers(1, 6), st.just(2000)),
       dtype=DTYPES, seed=st.integers(0, 2 ** 16),
       label_kind=st.sampled_from(["int", "str", "mixed_ints", "bool", "float",
                                   "object_str"]))
def test_shapes_dtypes_and_label_types(Est, n_samples, n_features, dtype, seed, label_kind):
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=3, size=(n_samples, n_features))
    X = X > 0 if dtype is np.bool_ else X.astype(dtype) if dtype is not object else (
        np.array([[float(v) if j % 2 else int(v) for j, v in enumerate(row)]
                  for row in X], dtype=object))
    y = _labels(Est, n_samples, rng, label_kind)
    outcome = fit_and_check(Est(**TINY), X, y)
    n_classes = len(np.unique(y)) if Est is RegularizedMLPClassifier else 2
    # the only refusals of clean data: a classifier given a single class
    assert outcome == "fitted" or (n_classes < 2 and outcome == "ValueError"), outcome


@HOSTILE
@given(Est=ESTIMATORS, where=st.sampled_from(["X", "y", "sample_weight"]),
       value=st.sampled_from([np.nan, np.inf, -np.inf]),
       n_bad=st.integers(1, 3), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2 ** 16))
def test_nan_and_inf_anywhere_are_refused(Est, where, value, n_bad, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3)).astype(dtype)
    y = _labels(Est, 20, rng, "int").astype(float)
    w = rng.uniform(0.5, 2, size=20)
    target = {"X": X, "y": y, "sample_weight": w}[where]
    flat = target.reshape(-1)
    flat[rng.choice(flat.size, size=n_bad, replace=False)] = value
    # in the numeric-only mode every non-finite value is refused; by default a
    # NaN in X is a missing value (imputed, with an indicator) and the rest is
    # refused
    outcome = fit_and_check(Est(**TINY, categorical_features=None), X, y, sample_weight=w)
    assert outcome == "ValueError", outcome
    missing = where == "X" and np.isnan(value)
    outcome = fit_and_check(Est(**TINY), X, y, sample_weight=w)
    assert outcome == ("fitted" if missing else "ValueError"), outcome


@HOSTILE
@given(Est=ESTIMATORS, value=st.sampled_from([np.nan, np.inf]),
       fmt=st.sampled_from(["dense", "csr", "frame"]), seed=st.integers(0, 2 ** 16))
def test_nan_at_predict_time_is_refused(Est, value, fmt, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(20, 3))
    est = Est(**TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, _labels(Est, 20, rng))
    X_bad = X.copy()
    X_bad[rng.integers(20), rng.integers(3)] = value
    X_bad = {"dense": X_bad, "csr": sp.csr_matrix(X_bad),
             "frame": pd.DataFrame(X_bad)}[fmt]
    before = _snapshot(X_bad)
    methods = [est.predict] + ([est.predict_proba, est.decision_function]
                               if Est is RegularizedMLPClassifier else [])
    for method in methods:
        with pytest.raises(ValueError, match="NaN|infinity") as info:
            method(X_bad)
        _assert_clear_error(info.value)
    _assert_unchanged(before, X_bad)
    for wrong in (X[:, :2], X[:, :1].ravel(), np.c_[X, X]):
        with pytest.raises(ValueError) as info:
            est.predict(wrong)
        _assert_clear_error(info.value)


@HOSTILE
@given(Est=ESTIMATORS,
       fmt=st.sampled_from(["csr_matrix", "csc_matrix", "coo_matrix", "csr_array",
                            "coo_array", "dok_matrix", "lil_matrix", "bsr_matrix"]),
       density=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
       dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]),
       n_samples=st.integers(2, 30), n_features=st.integers(1, 8),
       seed=st.integers(0, 2 ** 16))
def test_sparse_input_fits_like_its_dense_twin(Est, fmt, density, dtype, n_samples,
                                               n_features, seed):
    rng = np.random.default_rng(seed)
    dense = sp.random(n_samples, n_features, density=density, random_state=seed,
                      format="csr").toarray() * 4
    dense = dense.astype(dtype)
    X = getattr(sp, fmt)(dense)
    y = _labels(Est, n_samples, rng)
    outcome = fit_and_check(Est(**TINY), X, y)
    if outcome == "fitted":
        sparse_model = Est(**TINY)
        dense_model = Est(**TINY)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sparse_model.fit(X, y)
            dense_model.fit(dense, y)
        np.testing.assert_array_equal(sparse_model.predict(X), dense_model.predict(dense))
    else:  # formats scikit-learn does not convert must be refused clearly
        assert fmt in ("dok_matrix", "lil_matrix", "bsr_matrix"), outcome


@HOSTILE
@given(Est=ESTIMATORS,
       magnitude=st.sampled_from([1e-30, 1e-8, 1.0, 1e8, 1e15, 1e30, 1e37, 1.5e38, 1e300, 1e308]),
       target_magnitude=st.sampled_from([1.0, 1e8, 1e30]),
       n_constant=st.integers(0, 2), n_duplicate=st.integers(0, 2),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_extreme_magnitudes_constant_and_duplicated_columns(
        Est, magnitude, target_magnitude, n_constant, n_duplicate, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(25, 3))
    with np.errstate(over="ignore"):
        X = (np.c_[X, np.full((25, n_constant), 7.0), X[:, :n_duplicate]] * magnitude
             ).astype(dtype)
    y = _labels(Est, 25, rng)
    if Est is RegularizedMLPRegressor:
        y = y * target_magnitude
    est = Est(**TINY)
    outcome = fit_and_check(est, X, y)
    # a loss that overflows is a DivergenceError (a ValueError), never NaN
    # output; values beyond float32's range are refused when cast
    too_large = not np.isfinite(X).all()
    assert outcome in (("ValueError",) if too_large else ("fitted", "DivergenceError")), \
        outcome
    if outcome == "DivergenceError":
        with pytest.raises(DivergenceError, match="Training diverged at epoch"):
            est.fit(X, y)


@HOSTILE
@given(Est=ESTIMATORS, magnitude=st.sampled_from([1e4, 1e15, 1e30, 1e37, 1.5e38, 1e300, 1e308]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 16))
def test_predicting_far_outside_the_training_range(Est, magnitude, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3)).astype(dtype)
    est = Est(**{**TINY, "hidden_layer_sizes": (8,)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, _labels(Est, 30, rng))
    # finite in the model's dtype, up to its largest value: inputs that pass
    # validation but may overflow inside the network
    limit = np.finfo(dtype).max
    X_far = np.clip(X.astype(np.float64) * magnitude, -limit, limit).astype(dtype)
    before = _snapshot(X_far)
    try:
        _assert_valid_predictions(est, X_far)
        if Est is RegularizedMLPClassifier:
            assert np.isfinite(est.decision_function(X_far)).all()
        event("outcome: finite predictions")
    except (ValueError, TypeError) as exc:
        _assert_clear_error(exc)
        event(f"outcome: {type(exc).__name__}")
    _assert_unchanged(before, X_far)


FRAME_COLUMNS = st.lists(st.sampled_from([
    "float", "int", "bool", "category_num", "category_str", "Int64", "Int64_na",
    "Float64", "Float64_na", "boolean", "boolean_na", "string", "object_num",
]), min_size=1, max_size=4)


def _frame(kinds, n, rng):
    columns = {}
    for i, kind in enumerate(kinds):
        base = rng.integers(0, 4, size=n)
        col = {
            "float": lambda: pd.Series(rng.normal(size=n)),
            "int": lambda: pd.Series(base),
            "bool": lambda: pd.Series(base > 1),
            "category_num": lambda: pd.Series(base).astype("category"),
            "category_str": lambda: pd.Series(
                np.array(list("abcd"))[base]).astype("category"),
            "Int64": lambda: pd.Series(base, dtype="Int64"),
            "Int64_na": lambda: pd.Series(base, dtype="Int64").mask(base == 0),
            "Float64": lambda: pd.Series(base * 0.5, dtype="Float64"),
            "Float64_na": lambda: pd.Series(base * 0.5, dtype="Float64").mask(base == 0),
            "boolean": lambda: pd.Series(base > 1, dtype="boolean"),
            "boolean_na": lambda: pd.Series(base > 1, dtype="boolean").mask(base == 0),
            "string": lambda: pd.Series(np.array(list("abcd"))[base], dtype="string"),
            "object_num": lambda: pd.Series(list(base.tolist()), dtype=object),
        }[kind]()
        columns[f"{kind}_{i}"] = col
    return pd.DataFrame(columns)


@HOSTILE
@given(Est=ESTIMATORS, kinds=FRAME_COLUMNS,
       y_kind=st.sampled_from(["numpy", "category", "Int64", "string", "Int64_na"]),
       seed=st.integers(0, 2 ** 16))
def test_pandas_frames_with_categorical_and_nullable_columns(Est, kinds, y_kind, seed):
    rng = np.random.default_rng(seed)
    n = 24
    X = _frame(kinds, n, rng)
    y = _labels(Est, n, rng)
    if Est is RegularizedMLPClassifier:
        y = {"numpy": lambda: y,
             "category": lambda: pd.Series(np.array(["lo", "mid", "hi"])[y]).astype("category"),
             "Int64": lambda: pd.Series(y, dtype="Int64"),
             "string": lambda: pd.Series(np.array(["lo", "mid", "hi"])[y], dtype="string"),
             "Int64_na": lambda: pd.Series(y, dtype="Int64").mask(
                 np.arange(n) == n - 1)}[y_kind]()
    y_na = Est is RegularizedMLPClassifier and y_kind == "Int64_na"
    # by default the frame is encoded (categories one-hot, missing values
    # imputed with indicators): only a missing target is refused
    outcome = fit_and_check(Est(**TINY), X, y)
    assert outcome == ("ValueError" if y_na else "fitted"), outcome
    # the numeric-only mode refuses missing values and text, as scikit-learn
    outcome = fit_and_check(Est(**TINY, categorical_features=None), X, y)
    has_na = any(k.endswith("_na") for k in kinds) or y_na
    has_text = any(k in ("category_str", "string") for k in kinds)
    if not has_na and not has_text:
        assert outcome == "fitted", outcome
    else:
        assert outcome in ("ValueError", "TypeError"), outcome


@HOSTILE
@given(unseen=st.sampled_from([["zebra"], ["ant", "zebra"], ["", "zz"]]),
       seed=st.integers(0, 2 ** 16))
def test_unseen_labels_at_score_and_partial_fit_time(unseen, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 3))
    y = _labels(RegularizedMLPClassifier, 30, rng, "str")
    clf = RegularizedMLPClassifier(**TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    y_test = y.astype(object)
    y_test[: len(unseen)] = unseen
    # scoring is scikit-learn's accuracy: an unseen label is simply a miss
    score = clf.score(X, y_test)
    assert 0.0 <= score <= np.mean(y_test == clf.predict(X)) + 1e-12
    before = _snapshot(y_test)
    with pytest.raises(ValueError, match="not in classes_") as info:
        clf.partial_fit(X, y_test)
    _assert_clear_error(info.value)
    _assert_unchanged(before, y_test)
    assert np.isfinite(clf.predict_proba(X)).all()


@HOSTILE
@given(Est=ESTIMATORS, bad=st.sampled_from([
    "labels_2d", "y_too_short", "X_3d", "X_1d", "X_empty_rows", "X_empty_cols",
    "X_strings", "X_complex", "y_mixed_str_int", "y_none", "weights_negative",
    "weights_wrong_length", "X_list_ragged", "y_multilabel", "y_continuous"]),
    seed=st.integers(0, 2 ** 16))
def test_malformed_calls_raise_clear_errors(Est, bad, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 3))
    y = _labels(Est, 12, rng)
    kwargs = {}
    if bad == "labels_2d":
        y = np.c_[y, y, y] if Est is RegularizedMLPClassifier else np.ones((12, 0))
    elif bad == "y_too_short":
        y = y[:-1]
    elif bad == "X_3d":
        X = X.reshape(12, 3, 1)
    elif bad == "X_1d":
        X = X[:, 0]
    elif bad == "X_empty_rows":
        X, y = X[:0], y[:0]
    elif bad == "X_empty_cols":
        X = X[:, :0]
    elif bad == "X_strings":
        X = X.astype(str).astype(object)
        X[0, 0] = "abc"
    elif bad == "X_complex":
        X = X + 1j
    elif bad == "y_mixed_str_int":
        y = np.array([1, "a"] * 6, dtype=object)
    elif bad == "y_none":
        y = np.array([None] * 12, dtype=object)
    elif bad == "weights_negative":
        kwargs["sample_weight"] = -np.ones(12)
    elif bad == "weights_wrong_length":
        kwargs["sample_weight"] = np.ones(5)
    elif bad == "X_list_ragged":
        X = [[1.0, 2.0], [3.0]] * 6
    elif bad == "y_continuous":
        y = rng.normal(size=12)
    elif bad == "y_multilabel":
        y = (rng.random((12, 2)) > 0.5).astype(int)
        y[0], y[1] = [0, 1], [1, 0]
    est = Est(**TINY)
    outcome = fit_and_check(est, X, y, **kwargs)
    if bad == "y_mixed_str_int" and Est is RegularizedMLPClassifier:
        with pytest.raises(ValueError, match=r"y mixes labels of kinds \['number', 'string'\]"):
            est.fit(X, y)
    # a 2-D 0/1 y is multilabel classification, as in scikit-learn's MLPClassifier
    allowed_fit = ({"y_mixed_str_int", "y_multilabel", "y_continuous"}
                   if Est is RegularizedMLPRegressor else {"y_multilabel"})
    allowed_fit |= {"labels_2d"} if Est is RegularizedMLPRegressor else set()
    assert outcome in ("ValueError", "TypeError") or bad in allowed_fit, (bad, outcome)


# ------------------------------------------------ odd cells, labels, parameters
ODD_CELLS = {
    "dict": lambda i: {"k": i}, "list": lambda i: [i, i], "tuple": lambda i: (i,),
    "set": lambda i: {i}, "bytes": lambda i: str(i).encode(), "none": lambda i: None,
    "nan": lambda i: np.nan, "pd_na": lambda i: pd.NA, "complex": lambda i: complex(i, 1),
    "decimal": lambda i: __import__("decimal").Decimal(i),
    "date": lambda i: __import__("datetime").date(2020, 1, 1 + i % 28),
    "array": lambda i: np.arange(i % 3), "str": lambda i: f"s{i % 3}", "int": lambda i: i % 3,
    "float": lambda i: i / 3, "bool": lambda i: bool(i % 2),
}


@HOSTILE
@given(Est=ESTIMATORS, cells=st.lists(st.sampled_from(sorted(ODD_CELLS)), min_size=1,
                                      max_size=3),
       share=st.sampled_from([1, 2, 24]), frame=st.booleans(),
       categorical=st.sampled_from(["from_dtype", None, "all"]), seed=st.integers(0, 2 ** 16))
def test_columns_of_any_python_objects(Est, cells, share, frame, categorical, seed):
    """An object column of dicts, lists, sets, dates, NA, ...: a fit or a clear error."""
    rng = np.random.default_rng(seed)
    n = 24
    odd = [ODD_CELLS[cells[i % len(cells)]](i) if i % share == 0 else f"s{i % 3}"
           for i in range(n)]
    column = np.empty(n, dtype=object)
    column[:] = odd
    X = {"x0": rng.normal(size=n), "odd": column}
    X = pd.DataFrame(X) if frame else np.column_stack([X["x0"].astype(object), column])
    features = [1] if categorical == "all" else categorical
    fit_and_check(Est(**TINY, categorical_features=features), X, _labels(Est, n, rng))


LABEL_VALUES = {
    "none": None, "nan": np.nan, "pd_na": pd.NA, "tuple": (1, 2), "dict": {"a": 1},
    "list": [1], "bytes": b"a", "int": 7, "float": 2.5, "bool": True, "str": "zz",
    "complex": 1j, "date": __import__("datetime").date(2020, 1, 1), "set": {1},
}


@HOSTILE
@given(base=st.sampled_from(["str", "int", "float", "bool"]),
       odd=st.lists(st.sampled_from(sorted(LABEL_VALUES)), min_size=1, max_size=3),
       container=st.sampled_from(["list", "object_array", "series"]),
       seed=st.integers(0, 2 ** 16))
def test_labels_of_any_python_objects(base, odd, container, seed):
    """Labels mixing kinds, missing, unhashable or unsortable: a fit or a clear error."""
    rng = np.random.default_rng(seed)
    n = 20
    X = rng.normal(size=(n, 3))
    labels = list(_labels(RegularizedMLPClassifier, n, rng, base).tolist())
    for i, name in enumerate(odd):
        labels[3 + i] = LABEL_VALUES[name]
    if container == "object_array":
        y = np.empty(n, dtype=object)
        y[:] = labels
    elif container == "series":
        y = pd.Series(labels, dtype=object)
    else:
        y = labels
    outcome = fit_and_check(RegularizedMLPClassifier(**TINY), X, y)
    missing = {"none", "nan", "pd_na"} & set(odd)
    if missing:
        assert outcome == "ValueError", outcome


PARAM_VALUES = {
    "alpha": [-1.0, np.nan, np.inf, 1e300, "auto", "big", None],
    "hidden_layer_sizes": [(), (0,), (-3,), (3, "a"), 3.5, np.array([4, 2]), [2, 2], 0],
    "dropout": [np.nan, 1.0, -0.1, [0.1, 0.2, 0.3], [0.5], "x"],
    "batch_size": [0, 1, 10 ** 9, -5, 2.5, "auto"],
    "learning_rate_init": [0.0, np.inf, np.nan, -1.0, 1e9],
    "max_iter": [0, -1, 1.5, np.inf],
    "validation_fraction": [0.0, 1.0, 0.99, np.nan],
    "class_weight": [{0: -1.0}, {0: np.nan}, {0: np.inf}, {0: "heavy"}, {0: 0, 1: 0, 2: 0},
                     {"zz": 1.0}, "balanced", [1, 2], {0: 1e300}],
    "label_smoothing": [-0.1, 1.0, np.nan, 0.999],
    "l1_ratio": [-0.5, 2.0, np.nan],
    "embedding_size": [0, 1, 3, 10 ** 6],
    "ensemble_size": [0, 3, 1.5],
    "device": ["gpu", "cuda:99", "", "cpu"],
    "early_stopping": [True, "yes", None],
    "n_iter_no_change": [0, np.inf, -1],
    "callbacks": [[object()], "EarlyStopping", []],
}


@HOSTILE
@given(Est=ESTIMATORS,
       params=st.dictionaries(st.sampled_from(sorted(PARAM_VALUES)), st.integers(0, 99),
                              min_size=1, max_size=3),
       seed=st.integers(0, 2 ** 16))
def test_parameter_values_of_every_kind(Est, params, seed):
    """Any value of any parameter: a fit or a clear error naming it, never a crash inside."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 4))
    y = _labels(Est, 30, rng)
    values = {name: PARAM_VALUES[name][k % len(PARAM_VALUES[name])]
              for name, k in params.items()}
    if Est is RegularizedMLPRegressor:
        values.pop("class_weight", None)
        values.pop("label_smoothing", None)
        if not values:
            return
    try:
        est = Est(**{**TINY, "max_iter": 3, **values})
    except (TypeError, ValueError) as exc:  # pragma: no cover - __init__ validates nothing
        _assert_clear_error(exc)
        return
    fit_and_check(est, X, y)
