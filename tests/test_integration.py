"""Integration tests with the real scikit-learn, imbalanced-learn and pandas.

No mocks: every test fits small networks on small data sets and checks what
comes out (scores, predictions, fitted attributes). Networks are tiny and
epochs few so that the whole module runs in well under a minute and a half on
two CPU cores; every random_state is fixed so that results are deterministic.
"""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as imb_make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import make_classification, make_friedman1, make_regression
from sklearn.exceptions import NotFittedError, UnsetMetadataPassedError
from sklearn.linear_model import ElasticNet, Lasso, Ridge
from sklearn.metrics import accuracy_score, make_scorer, recall_score
from sklearn.model_selection import (GridSearchCV, KFold, StratifiedKFold,
                                     cross_validate, train_test_split)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

# few epochs on purpose: the convergence warning is expected and not the point
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")

SEED = 0
SMALL = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=SEED)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Train on one torch intra-op thread in this module.

    The networks here are tiny: with two threads on a two-core machine that is
    also busy with other work, torch's thread pool mostly waits for a core
    (measured: fits ~10x slower, the time going to the fused Adam step).
    GridSearchCV's loky workers get one thread per worker from joblib anyway.
    The assertions hold with any thread count; this only bounds run time.
    """
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def _clf(**params):
    return RegularizedMLPClassifier(**{**SMALL, "max_iter": 60, **params})


def _reg(**params):
    return RegularizedMLPRegressor(**{**SMALL, "max_iter": 100, **params})


def _minority_recall(y_true, y_pred, minority=1):
    return recall_score(y_true, y_pred, pos_label=minority, average="binary")


@pytest.fixture(scope="module")
def imbalanced():
    """Held-out split of a 90/10 binary problem with overlapping classes."""
    X, y = make_classification(
        n_samples=800, n_features=8, n_informative=4, n_redundant=0,
        weights=[0.9, 0.1], class_sep=0.8, flip_y=0.0, random_state=SEED)
    return train_test_split(X, y, test_size=0.4, stratify=y, random_state=SEED)


# --------------------------------------------------------------------------
# 1. pandas DataFrames, ColumnTransformer, string labels and feature names
# --------------------------------------------------------------------------

def _mixed_frame(n=400, seed=SEED):
    """Numeric and string columns; the targets depend on both kinds."""
    rng = np.random.RandomState(seed)
    colour = rng.choice(["red", "green", "blue"], size=n)
    size = rng.choice(["S", "M", "L"], size=n)
    x1 = rng.normal(size=n) * 10 + 50  # unscaled on purpose
    x2 = rng.normal(size=n)
    X = pd.DataFrame({"x1": x1, "colour": colour, "x2": x2, "size": size})
    shift = pd.Series(colour).map({"red": 1.5, "green": 0.0, "blue": -1.5}).to_numpy()
    z = (x1 - 50) / 10 + x2 ** 2 - 1 + shift
    y_class = np.where(z + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    y_reg = z + 0.5 * (size == "L") + 0.1 * rng.normal(size=n)
    return X, pd.Series(y_class, name="label"), y_reg


def _column_transformer():
    return ColumnTransformer([
        ("num", StandardScaler(), ["x1", "x2"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour", "size"]),
    ])


def test_column_transformer_classifier_on_dataframe_with_string_labels():
    X, y, _ = _mixed_frame()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=SEED)
    pipe = Pipeline([("prep", _column_transformer()), ("mlp", _clf(max_iter=100))])
    pipe.fit(X_train, y_train)

    pred = pipe.predict(X_test)
    assert pred.shape == (len(X_test),)
    assert set(np.unique(pred)) <= {"yes", "no"}
    assert pred.dtype.kind in "OU"  # strings, not the encoded integers
    assert sorted(pipe.classes_.tolist()) == ["no", "yes"]
    proba = pipe.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    majority = y_test.value_counts(normalize=True).max()
    acc = pipe.score(X_test, y_test)
    assert acc > max(0.8, majority + 0.2), (acc, majority)
    # the column transformer keeps the frame's column names
    np.testing.assert_array_equal(
        pipe[:-1].get_feature_names_out(),
        ["num__x1", "num__x2", "cat__colour_blue", "cat__colour_green",
         "cat__colour_red", "cat__size_L", "cat__size_M", "cat__size_S"])
    assert pipe[-1].n_features_in_ == 8


def test_column_transformer_regressor_on_dataframe():
    X, _, y = _mixed_frame()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=SEED)
    pipe = make_pipeline(_column_transformer(), _reg(hidden_layer_sizes=(32,)))
    pipe.fit(X_train, y_train)
    pred = pipe.predict(X_test)
    assert pred.shape == (len(X_test),)
    assert pred.dtype.kind == "f"
    assert np.isfinite(pred).all()
    # baseline (predicting the mean) has R^2 ~ 0; x2 ** 2 is not linear
    assert pipe.score(X_test, y_test) > 0.8


def test_feature_names_in_when_fitted_on_dataframe():
    X, y = make_classification(n_samples=200, n_features=4, random_state=SEED)
    columns = ["age", "income", "height", "weight"]
    frame = pd.DataFrame(X, columns=columns)
    for est, target in [(_clf(max_iter=20), y), (_reg(max_iter=20), X[:, 0])]:
        est.fit(frame, target)
        np.testing.assert_array_equal(est.feature_names_in_, columns)
        assert est.n_features_in_ == 4
        # same predictions from the frame and from its values
        pred = est.predict(frame)
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            np.testing.assert_array_equal(est.predict(X), pred)
        # reordered columns are refused
        with pytest.raises(ValueError, match="feature names"):
            est.predict(frame[columns[::-1]])

    # a numpy fit sets no feature names
    est = _clf(max_iter=5).fit(X, y)
    assert not hasattr(est, "feature_names_in_")


def test_feature_names_from_column_transformer_with_pandas_output():
    X, y, _ = _mixed_frame(n=200)
    # string-valued columns: refused in the numeric-only (drop-in) mode, encoded
    # by the estimator itself otherwise (docs/tabular.md)
    with pytest.raises(ValueError, match="not numeric"):
        _clf(max_iter=5, categorical_features=None).fit(X, y)
    assert _clf(max_iter=5).fit(X, y).encoder_ is not None

    prep = ColumnTransformer([
        ("num", StandardScaler(), ["x1", "x2"]),
        ("cat", OneHotEncoder(sparse_output=False), ["colour", "size"]),
    ])
    pipe = make_pipeline(prep, _clf(max_iter=20)).set_output(transform="pandas")
    pipe.fit(X, y)
    mlp = pipe[-1]
    np.testing.assert_array_equal(mlp.feature_names_in_,
                                  prep.get_feature_names_out())
    assert mlp.feature_names_in_[0] == "num__x1"
    assert mlp.n_features_in_ == 8
    assert set(np.unique(pipe.predict(X))) <= {"yes", "no"}


# --------------------------------------------------------------------------
# 2. sample_weight through metadata routing
# --------------------------------------------------------------------------

def _overlapping_binary(n=400, seed=SEED):
    return make_classification(
        n_samples=n, n_features=5, n_informative=3, n_redundant=0,
        class_sep=0.4, flip_y=0.1, random_state=seed)


def test_sample_weight_routed_through_pipeline():
    X, y = _overlapping_binary()
    w = np.where(y == 1, 5.0, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        def pipe():
            return make_pipeline(
                StandardScaler().set_fit_request(sample_weight=False),
                _clf().set_fit_request(sample_weight=True))

        unweighted = pipe().fit(X, y)
        weighted = pipe().fit(X, y, sample_weight=w)
        # the weights reached the MLP: same result as passing them directly
        direct = _clf().fit(StandardScaler().fit_transform(X), y, sample_weight=w)
        np.testing.assert_array_equal(
            weighted.predict_proba(X),
            direct.predict_proba(weighted[0].transform(X)))

    n_pos_unweighted = (unweighted.predict(X) == 1).sum()
    n_pos_weighted = (weighted.predict(X) == 1).sum()
    assert n_pos_weighted > n_pos_unweighted + 0.1 * len(X), (
        n_pos_unweighted, n_pos_weighted)
    assert (weighted.predict_proba(X)[:, 1].mean()
            > unweighted.predict_proba(X)[:, 1].mean() + 0.1)


def test_sample_weight_routed_through_grid_search():
    X, y = _overlapping_binary()
    w = np.where(y == 1, 5.0, 1.0)
    grid = {"regularizedmlpclassifier__alpha": [1e-4, 1e-1]}
    cv = StratifiedKFold(3, shuffle=True, random_state=SEED)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            _clf().set_fit_request(sample_weight=True))
        scorer = make_scorer(accuracy_score).set_score_request(sample_weight=True)
        search = GridSearchCV(pipe, grid, cv=cv, scoring=scorer)
        search.fit(X, y, sample_weight=w)

        unweighted_search = GridSearchCV(
            pipe, grid, cv=cv,
            scoring=make_scorer(accuracy_score).set_score_request(sample_weight=False))
        unweighted_search.fit(X, y)

        # the refit used the weights too: same model as a weighted fit by hand
        by_hand = clone(pipe).set_params(**search.best_params_).fit(
            X, y, sample_weight=w)
        np.testing.assert_array_equal(search.predict_proba(X), by_hand.predict_proba(X))

    assert search.best_params_["regularizedmlpclassifier__alpha"] in grid[
        "regularizedmlpclassifier__alpha"]
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # the weighted search scored weighted accuracies of weighted fits
    assert not np.allclose(search.cv_results_["mean_test_score"],
                           unweighted_search.cv_results_["mean_test_score"])
    assert ((search.predict(X) == 1).sum()
            > (unweighted_search.predict(X) == 1).sum())


def test_sample_weight_without_request_is_refused_when_routing():
    X, y = _overlapping_binary(n=100)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                             _clf(max_iter=5))
        with pytest.raises(UnsetMetadataPassedError, match="RegularizedMLPClassifier"):
            pipe.fit(X, y, sample_weight=np.ones(len(y)))


# --------------------------------------------------------------------------
# 3. GridSearchCV in parallel over the regularisation parameters
# --------------------------------------------------------------------------

def test_grid_search_over_regularization_parallel():
    X, y = make_classification(n_samples=300, n_features=10, n_informative=5,
                               random_state=SEED)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=SEED)
    grid = {"alpha": [1e-4, 1e-1], "l1_ratio": [0.15, 0.7], "dropout": [0.0, 0.2]}
    # loky worker processes: the estimator is pickled to and from them
    search = GridSearchCV(_clf(penalty="elasticnet"), grid,
                          cv=StratifiedKFold(3, shuffle=True, random_state=SEED),
                          n_jobs=2)
    search.fit(X_train, y_train)

    assert search.best_params_["alpha"] in grid["alpha"]
    assert search.best_params_["l1_ratio"] in grid["l1_ratio"]
    assert search.best_params_["dropout"] in grid["dropout"]
    results = search.cv_results_
    assert len(results["params"]) == 8
    combos = {(p["alpha"], p["l1_ratio"], p["dropout"]) for p in results["params"]}
    assert len(combos) == 8
    assert np.isfinite(results["mean_test_score"]).all()
    assert sorted(results["rank_test_score"])[0] == 1
    best = search.best_estimator_
    check_is_fitted(best)
    assert best.penalty == "elasticnet"
    assert {k: best.get_params()[k] for k in grid} == search.best_params_
    assert search.score(X_test, y_test) > 0.8
    # the parallel search's refit equals a sequential fit with the same params
    by_hand = _clf(penalty="elasticnet", **search.best_params_).fit(X_train, y_train)
    np.testing.assert_array_equal(best.predict_proba(X_test),
                                  by_hand.predict_proba(X_test))


# --------------------------------------------------------------------------
# 4. cross_validate and clone
# --------------------------------------------------------------------------

def test_cross_validate_multiple_metrics_with_train_scores():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=4,
                               random_state=SEED)
    scoring = ["accuracy", "roc_auc", "neg_log_loss", "balanced_accuracy"]
    res = cross_validate(make_pipeline(StandardScaler(), _clf()), X, y,
                         cv=StratifiedKFold(4, shuffle=True, random_state=SEED),
                         scoring=scoring, return_train_score=True)
    for name in scoring:
        for split in ("train", "test"):
            scores = res[f"{split}_{name}"]
            assert scores.shape == (4,)
            assert np.isfinite(scores).all()
    assert res["test_accuracy"].mean() > 0.8
    assert res["test_roc_auc"].mean() > 0.85
    assert (res["test_neg_log_loss"] < 0).all()
    assert res["test_neg_log_loss"].mean() > np.log(0.5)  # better than p = 0.5
    # a small net fits its training folds at least as well as unseen folds
    assert res["train_accuracy"].mean() >= res["test_accuracy"].mean() - 0.02


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["class", "reg"])
def test_cross_validate_with_early_stopping_in_pipeline(kind, dtype):
    # 600 rows: the 10% validation split must not be too small to be useful
    X, y = make_classification(n_samples=600, n_features=8, n_informative=4,
                               random_state=SEED)
    X = X.astype(dtype)
    if kind == "class":
        y = np.array(["neg", "pos"])[y]  # stratified split with string labels
        est, cv = _clf(early_stopping=True, max_iter=100), StratifiedKFold(3)
    else:
        y = X[:, 0] - X[:, 1] + 0.5 * X[:, 2] ** 2
        est, cv = _reg(early_stopping=True, max_iter=100), KFold(3)
    pipe = make_pipeline(StandardScaler(), est)  # StandardScaler keeps float32
    res = cross_validate(pipe, X, y, cv=cv, return_estimator=True)
    assert res["test_score"].mean() > 0.8, res["test_score"]
    for fitted in res["estimator"]:
        mlp = fitted[-1]
        assert mlp.module_.coef_flat.dtype == (
            torch.float32 if dtype == np.float32 else torch.float64)
        scores = mlp.validation_scores_
        assert len(scores) == mlp.n_iter_ and np.isfinite(scores).all()
        assert mlp.best_validation_score_ == max(scores)
        assert mlp.best_loss_ is None
        if kind == "class":  # the regressor's R^2 still improves at epoch 100
            assert mlp.n_iter_ < 100  # it did stop early


@pytest.mark.parametrize("make_est, target", [
    (lambda: _clf(penalty="elasticnet", alpha=1e-3, dropout=0.1,
                  label_smoothing=0.05, class_weight="balanced"), "class"),
    (lambda: _reg(penalty="l1", alpha=1e-3, dropout=0.1), "reg"),
])
def test_clone_is_unfitted_with_same_params_and_refits_identically(make_est, target):
    X, y = make_classification(n_samples=200, n_features=6, random_state=SEED)
    if target == "reg":
        y = X[:, 0] - 2 * X[:, 1] + 0.5 * X[:, 2] ** 2
    est = make_est().fit(X, y)
    twin = clone(est)
    assert twin is not est
    assert twin.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        twin.predict(X)
    assert not hasattr(twin, "net_")
    twin.fit(X, y)
    np.testing.assert_array_equal(twin.predict(X), est.predict(X))
    if target == "class":
        np.testing.assert_array_equal(twin.predict_proba(X), est.predict_proba(X))
    for a, b in zip(twin.coefs_, est.coefs_):
        np.testing.assert_array_equal(a, b)
    # refitting the original from scratch also reproduces itself
    before = est.predict(X)
    np.testing.assert_array_equal(est.fit(X, y).predict(X), before)


# --------------------------------------------------------------------------
# 5. imbalanced-learn pipelines
# --------------------------------------------------------------------------

def test_smote_pipeline_raises_minority_recall(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    plain = make_pipeline(StandardScaler(), _clf()).fit(X_train, y_train)
    smote = imb_make_pipeline(StandardScaler(), SMOTE(random_state=SEED),
                              _clf()).fit(X_train, y_train)

    pred_plain = plain.predict(X_test)
    pred_smote = smote.predict(X_test)
    # the sampler is skipped at predict time: one prediction per test row
    assert pred_smote.shape == (len(X_test),)
    assert smote.predict_proba(X_test).shape == (len(X_test), 2)
    recall_plain = _minority_recall(y_test, pred_plain)
    recall_smote = _minority_recall(y_test, pred_smote)
    assert recall_smote > recall_plain + 0.1, (recall_plain, recall_smote)
    # resampling made the model predict the minority class more often
    assert (pred_smote == 1).sum() > (pred_plain == 1).sum()


def test_random_under_sampler_pipeline(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    plain = make_pipeline(StandardScaler(), _clf()).fit(X_train, y_train)
    under = imb_make_pipeline(StandardScaler(), RandomUnderSampler(random_state=SEED),
                              _clf(max_iter=100)).fit(X_train, y_train)
    pred = under.predict(X_test)
    assert pred.shape == (len(X_test),)  # not undersampled at predict time
    assert set(np.unique(pred)) <= {0, 1}
    assert _minority_recall(y_test, pred) > _minority_recall(y_test,
                                                             plain.predict(X_test))
    # fit on a balanced subsample: far fewer training rows than the data
    n_minority = int((y_train == 1).sum())
    sampler = RandomUnderSampler(random_state=SEED)
    _, y_res = sampler.fit_resample(StandardScaler().fit_transform(X_train), y_train)
    assert len(y_res) == 2 * n_minority < len(y_train)


# --------------------------------------------------------------------------
# 6. against penalised linear models in the same folds
# --------------------------------------------------------------------------

def _cv_r2(model, X, y, cv):
    return cross_validate(model, X, y, cv=cv, scoring="r2")["test_score"]


def test_mlp_beats_linear_models_on_nonlinear_problem():
    X, y = make_friedman1(n_samples=400, n_features=6, noise=0.5, random_state=SEED)
    cv = KFold(4, shuffle=True, random_state=SEED)
    mlp = TransformedTargetRegressor(
        regressor=make_pipeline(
            StandardScaler(),
            _reg(hidden_layer_sizes=(32,), alpha=1e-3)),
        transformer=StandardScaler())
    linear = {
        "ridge": make_pipeline(StandardScaler(), Ridge(alpha=1.0)),
        "lasso": make_pipeline(StandardScaler(), Lasso(alpha=0.05)),
        "elasticnet": make_pipeline(StandardScaler(),
                                    ElasticNet(alpha=0.05, l1_ratio=0.5)),
    }
    mlp_r2 = _cv_r2(mlp, X, y, cv)
    linear_r2 = {name: _cv_r2(model, X, y, cv) for name, model in linear.items()}
    for name, r2 in linear_r2.items():
        assert r2.mean() > 0.5, (name, r2)  # sane baselines
        assert mlp_r2.mean() > r2.mean() + 0.1, (name, mlp_r2.mean(), r2.mean())
        # in every fold, not only on average
        assert (mlp_r2 > r2).all(), (name, mlp_r2, r2)
    assert mlp_r2.mean() > 0.9, mlp_r2


def test_l1_mlp_and_lasso_on_linear_problem():
    X, y, coef = make_regression(n_samples=300, n_features=20, n_informative=5,
                                 noise=5.0, coef=True, random_state=SEED)
    y = y / np.std(y)
    informative = coef != 0
    cv = KFold(4, shuffle=True, random_state=SEED)
    lasso = make_pipeline(StandardScaler(), Lasso(alpha=0.01))
    mlp = make_pipeline(StandardScaler(), _reg(penalty="l1", alpha=1.0, numeric_embedding=None))
    lasso_r2 = _cv_r2(lasso, X, y, cv)
    mlp_r2 = _cv_r2(mlp, X, y, cv)
    assert (lasso_r2 > 0).all() and lasso_r2.mean() > 0.9, lasso_r2
    assert (mlp_r2 > 0).all() and mlp_r2.mean() > 0.8, mlp_r2

    # both penalties find the informative inputs: Lasso keeps their
    # coefficients, the MLP keeps their first-layer weights larger than those
    # of every noise input, which the unpenalised MLP does not
    lasso_coef = lasso.fit(X, y)[-1].coef_
    assert np.abs(lasso_coef[informative]).min() > np.abs(lasso_coef[~informative]).max()
    weight = np.abs(mlp.fit(X, y)[-1].coefs_[0]).sum(axis=1)
    assert weight[informative].min() > 2 * weight[~informative].max(), weight
    free = np.abs(clone(mlp).set_params(regularizedmlpregressor__penalty=None)
                  .fit(X, y)[-1].coefs_[0]).sum(axis=1)
    assert weight[~informative].max() < 0.1 * free[~informative].min()


# --------------------------------------------------------------------------
# 7. persistence
# --------------------------------------------------------------------------

def _roundtrips(obj, tmp_path):
    yield pickle.loads(pickle.dumps(obj))
    path = tmp_path / "model.joblib"
    joblib.dump(obj, path)
    yield joblib.load(path)


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_pickle_and_joblib_roundtrip_classifier(in_pipeline, tmp_path):
    X, y = make_classification(n_samples=200, n_features=6, n_classes=3,
                               n_informative=4, random_state=SEED)
    labels = np.array(["ant", "bee", "cat"])[y]
    est = _clf(dropout=0.1, max_iter=30)
    if in_pipeline:
        est = make_pipeline(StandardScaler(), est)
    est.fit(X, labels)
    for loaded in _roundtrips(est, tmp_path):
        assert loaded is not est
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
        assert loaded.get_params().keys() == est.get_params().keys()
        # the loaded model stays usable: it can be trained further
        final = loaded[-1] if in_pipeline else loaded
        n_epochs = len(final.history_)
        final.partial_fit(loaded[:-1].transform(X) if in_pipeline else X, labels)
        assert final.n_iter_ == 1 and len(final.history_) == n_epochs + 1


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_pickle_and_joblib_roundtrip_regressor(in_pipeline, tmp_path):
    X, y = make_regression(n_samples=200, n_features=6, n_targets=2,
                           random_state=SEED)
    est = _reg(penalty="elasticnet", alpha=1e-3, max_iter=30)
    if in_pipeline:
        est = make_pipeline(StandardScaler(), est)
    est.fit(X, y / 100)
    for loaded in _roundtrips(est, tmp_path):
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        assert loaded.predict(X).shape == (len(X), 2)
    # a fitted float32 model keeps its dtype through the round trip
    est32 = _reg(max_iter=10).fit(X.astype(np.float32), y[:, 0] / 100)
    for loaded in _roundtrips(est32, tmp_path):
        out = loaded.predict(X.astype(np.float32))
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out, est32.predict(X.astype(np.float32)))


# --------------------------------------------------------------------------
# 8. class weights
# --------------------------------------------------------------------------

def test_balanced_class_weight_raises_minority_recall(imbalanced):
    X_train, X_test, y_train, y_test = imbalanced
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    plain = _clf(class_weight=None).fit(X_train, y_train)
    balanced = _clf(class_weight="balanced").fit(X_train, y_train)
    recall_plain = _minority_recall(y_test, plain.predict(X_test))
    recall_balanced = _minority_recall(y_test, balanced.predict(X_test))
    assert recall_balanced > recall_plain + 0.1, (recall_plain, recall_balanced)
    # the same weights given as a dict or as sample_weight give the same model
    n = np.bincount(y_train)
    as_dict = {c: len(y_train) / (2 * n[c]) for c in (0, 1)}
    dict_model = _clf(class_weight=as_dict).fit(X_train, y_train)
    np.testing.assert_allclose(dict_model.predict_proba(X_test),
                               balanced.predict_proba(X_test), rtol=1e-6, atol=1e-9)
    # as sample_weight, the weights are repetitions to alpha='auto' (which
    # counts class-weighted rows by their effective number): with the
    # strength the class weights gave, the same model
    sw_model = _clf(alpha=balanced.alpha_).fit(
        X_train, y_train, sample_weight=np.array([as_dict[c] for c in y_train]))
    np.testing.assert_allclose(sw_model.predict_proba(X_test),
                               balanced.predict_proba(X_test), rtol=1e-6, atol=1e-9)
    assert _clf().fit(X_train, y_train, sample_weight=np.array(
        [as_dict[c] for c in y_train])).alpha_ < balanced.alpha_
