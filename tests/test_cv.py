"""RegularizedMLPClassifierCV / RegularizedMLPRegressorCV."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressorCV)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=600, n_features=20, n_informative=8,
                               n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_friedman1(n_samples=500, noise=0.5, random_state=0)
    return X, (y - y.mean()) / y.std()


# ------------------------------------------------------------- the estimators
def test_cv_results_follow_gridsearch_format(clf_data):
    X, y = clf_data
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 1.0], dropouts=[0.0, 0.2],
                                        hidden_layer_sizes=(16,), max_iter=20, cv=3,
                                        random_state=0).fit(X, y)
    grid = GridSearchCV(RegularizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=2),
                        {"alpha": [1e-3, 1.0], "dropout": [0.0, 0.2]}, cv=3).fit(X, y)
    results = search.cv_results_
    for key in grid.cv_results_:
        if key.startswith("param_") or key in ("params",):
            continue
        assert key in results, key
    assert len(results["params"]) == 4
    assert [p["alpha"] for p in results["params"]] == [1e-3, 1e-3, 1.0, 1.0]
    scores = np.column_stack([results[f"split{k}_test_score"] for k in range(3)])
    np.testing.assert_allclose(results["mean_test_score"], scores.mean(1))
    assert results["rank_test_score"][search.best_index_] == 1
    assert search.best_score_ == results["mean_test_score"].max()
    assert search.alpha_ == search.best_params_["alpha"]
    assert search.dropout_ == search.best_params_["dropout"]
    assert isinstance(results["param_alpha"], np.ma.MaskedArray)


def test_choice_agrees_with_gridsearch(clf_data):
    """Same grid, same folds: the batched search ranks the configurations as one
    fit per configuration does, and picks an equally good one."""
    X, y = clf_data
    grid = {"alpha": [1e-4, 1e-2, 3.0, 30.0], "l1_ratio": [0.0, 0.5]}
    common = dict(hidden_layer_sizes=(32,), max_iter=60, learning_rate_init=0.01,
                  random_state=0, input_scaling=None)
    search = RegularizedMLPClassifierCV(alphas=grid["alpha"], l1_ratios=grid["l1_ratio"],
                                        cv=3, **common).fit(X, y)
    reference = GridSearchCV(RegularizedMLPClassifier(penalty="elasticnet", **common),
                             grid, cv=3).fit(X, y)
    ours = search.cv_results_["mean_test_score"]
    theirs = reference.cv_results_["mean_test_score"]
    assert np.abs(ours - theirs).max() < 0.05
    assert np.corrcoef(ours, theirs)[0, 1] > 0.9
    assert abs(search.best_score_ - reference.best_score_) < 0.02
    assert search.best_params_ == {**reference.best_params_, "hidden_layer_sizes": (32,),
                                   "dropout": 0.0, "label_smoothing": 0.0}
    # the over-penalized configuration is near chance in both
    assert ours[-1] < 0.4 and theirs[-1] < 0.4


def test_refit_is_the_plain_estimator_with_best_params(clf_data):
    X, y = clf_data
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 1e-1], label_smoothings=[0.0, 0.1],
                                        hidden_layer_sizes=(16,), max_iter=30, cv=3,
                                        learning_rate_init=0.01, random_state=0).fit(X, y)
    best = search.best_estimator_
    assert isinstance(best, RegularizedMLPClassifier)
    for name, value in search.best_params_.items():
        assert best.get_params()[name] == value
    assert best.get_params()["penalty"] == "elasticnet"
    np.testing.assert_array_equal(search.predict(X), best.predict(X))
    np.testing.assert_allclose(search.predict_proba(X), best.predict_proba(X))
    assert search.n_iter_ == best.n_iter_
    assert search.score(X, y) > 0.8


def test_early_stopping_restores_best_and_varies_per_configuration(reg_data):
    X, y = reg_data
    search = RegularizedMLPRegressorCV(alphas=[1e-4, 30.0], hidden_layer_sizes=(32,),
                                       early_stopping=True, n_iter_no_change=3,
                                       max_iter=200, learning_rate_init=0.01, cv=3,
                                       random_state=0).fit(X, y)
    n_iter = search.cv_results_["mean_n_iter"]
    assert (n_iter < 200).all()
    assert n_iter[0] != n_iter[1]
    assert search.best_params_["alpha"] == 1e-4
    assert search.best_score_ > 0.6


def test_several_architectures(reg_data):
    X, y = reg_data
    search = RegularizedMLPRegressorCV(alphas=[1e-3], hidden_layer_sizes=[(2,), (32, 16)],
                                       max_iter=60, learning_rate_init=0.01, cv=3,
                                       random_state=0).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert [p["hidden_layer_sizes"] for p in search.cv_results_["params"]] == [(2,), (32, 16)]
    assert scores[1] > scores[0]
    assert search.hidden_layer_sizes_ == (32, 16)
    assert search.best_estimator_.hidden_layer_sizes == (32, 16)


def test_in_pipeline_with_class_weight():
    X, y = make_classification(n_samples=600, n_features=10, weights=[0.9, 0.1],
                               class_sep=0.5, random_state=0)
    kw = dict(alphas=[1e-3], hidden_layer_sizes=(16,), max_iter=30, cv=3,
              learning_rate_init=0.01, random_state=0)
    plain = make_pipeline(StandardScaler(), RegularizedMLPClassifierCV(**kw)).fit(X, y)
    balanced = make_pipeline(StandardScaler(), RegularizedMLPClassifierCV(
        class_weight="balanced", **kw)).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X)) + 0.1
    assert balanced[-1].best_estimator_.class_weight == "balanced"


def test_sample_weight_zero_equals_dropping_rows(reg_data):
    """A zero weight removes a row from every fold's training objective."""
    X, y = reg_data
    w = np.ones(len(X))
    w[::2] = 0.0
    kw = dict(alphas=[1e-3, 1.0], hidden_layer_sizes=(8,), max_iter=5, cv=3,
              shuffle=False, random_state=0)
    weighted = RegularizedMLPRegressorCV(**kw).fit(X, y, sample_weight=w)
    heavy = RegularizedMLPRegressorCV(**kw).fit(X, y, sample_weight=1 + 100 * (1 - w))
    # weighting changes what is learned
    assert not np.allclose(weighted.cv_results_["mean_test_score"],
                           heavy.cv_results_["mean_test_score"])


def test_scoring_string(clf_data):
    X, y = clf_data
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 10.0], hidden_layer_sizes=(16,),
                                        max_iter=20, cv=3, scoring="neg_log_loss",
                                        learning_rate_init=0.01,
                                        random_state=0).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert (scores < 0).all()
    assert search.best_params_["alpha"] == 1e-3


def test_deterministic_clone_and_pickle(clf_data):
    X, y = clf_data
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 1e-1], dropouts=[0.0, 0.3],
                                        hidden_layer_sizes=(8,), max_iter=5, cv=3,
                                        random_state=3)
    a = clone(search).fit(X, y)
    b = clone(search).fit(X, y)
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"],
                                  b.cv_results_["mean_test_score"])
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict_proba(X), a.predict_proba(X))


def test_groups_are_passed_to_the_splitter(clf_data):
    from sklearn.model_selection import GroupKFold
    X, y = clf_data
    groups = np.arange(len(X)) % 4
    search = RegularizedMLPClassifierCV(alphas=[1e-3], hidden_layer_sizes=(8,), max_iter=3,
                                        cv=GroupKFold(4)).fit(X, y, groups=groups)
    assert search.n_splits_ == 4


@pytest.mark.parametrize("name,value,match", [
    ("alphas", [-1.0], "alphas"),
    ("l1_ratios", [1.5], "l1_ratios"),
    ("dropouts", [1.0], "dropouts"),
    ("alphas", [], "alphas"),
    ("hidden_layer_sizes", [(4,), (0,)], "hidden_layer_sizes"),
])
def test_bad_grid_values_are_named(clf_data, name, value, match):
    X, y = clf_data
    with pytest.raises(ValueError, match=match):
        RegularizedMLPClassifierCV(**{name: value}, max_iter=2).fit(X, y)


def test_one_class_is_a_clear_error():
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="at least 2 classes"):
        RegularizedMLPClassifierCV(max_iter=2).fit(X, np.zeros(20))


def test_diverging_configuration_ranks_last(reg_data):
    X, y = reg_data
    X = X * 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = RegularizedMLPRegressorCV(
            alphas=[1e-3], hidden_layer_sizes=[(4,), (64, 64, 64)], max_iter=20,
            learning_rate_init=1.0, cv=3, random_state=0)
        try:
            search.fit(X, y)
        except ValueError as exc:
            assert "diverged" in str(exc)
            return
    scores = search.cv_results_["mean_test_score"]
    ranks = search.cv_results_["rank_test_score"]
    assert np.isnan(scores).sum() <= 1
    if np.isnan(scores).any():
        assert ranks[np.isnan(scores)][0] == ranks.max()
