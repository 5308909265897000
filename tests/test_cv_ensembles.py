"""What the fitted CV estimators predict with: bagged fold models, refits, greedy ensembles."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.metrics import log_loss, mean_squared_error
from sklearn.model_selection import GridSearchCV, KFold, cross_validate, train_test_split

import skreg.io
from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)
from skreg._selection import greedy_selection

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _frame(n=240, seed=0):
    """A table with a one-hot and an embedded categorical column, a bool and numbers."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "x0": rng.normal(size=n), "x1": rng.normal(5.0, 10.0, size=n),
        "color": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "shop": pd.Categorical(rng.choice(["a", "b", "c", "d"], n)),
        "flag": rng.random(n) < 0.5,
    })
    effect = X["shop"].map({"a": -1.0, "b": 0.0, "c": 1.0, "d": 2.0}).to_numpy(float)
    signal = X["x0"] + np.sin(X["x1"] / 5) + effect + (X["color"] == "red") - X["flag"]
    return X, signal.to_numpy(float)


def _uneven_splits(n, sizes):
    """Folds training on ``sizes`` rows each (a stack of their own each: no shared shuffles)."""
    order = np.random.default_rng(1).permutation(n)
    return [(np.sort(order[:k]), np.sort(order[k:])) for k in sizes]


CASES = {
    # labels, class weights and alpha='auto' from each fold's rows
    "classifier": (RegularizedMLPClassifierCV, RegularizedMLPClassifier,
                   dict(alphas=["auto", 0.3], dropouts=[0.0, 0.2], class_weight="balanced")),
    # target scaling statistics of each fold, alpha='auto', early stopping's split
    "regressor": (RegularizedMLPRegressorCV, RegularizedMLPRegressor,
                  dict(alphas=["auto", 1.0], early_stopping=True, validation_fraction=0.2)),
    # folds of one size train in one stack (rows in order: a stack's folds share its
    # shuffling generator); the fold models' trainers are made from their rows of it
    "classifier, one stack": (RegularizedMLPClassifierCV, RegularizedMLPClassifier,
                              dict(alphas=["auto", 0.3], dropouts=[0.0, 0.2],
                                   shuffle=False, scale_layer=True)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fold_estimators_are_the_plain_estimator_on_each_folds_rows(case):
    """Each of a bagged search's estimators predicts what the plain estimator with
    best_params_ fitted on its fold's training rows predicts, on a table with
    categorical columns (one embedded), with that fit's fitted attributes."""
    Search, Plain, grid = CASES[case]
    X, signal = _frame()
    one_stack = case.endswith("one stack")
    y = np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3])) \
        if case.startswith("classifier") else 10 * signal + 50
    splits = _uneven_splits(len(X), [160] * 3 if one_stack else [150, 160, 170])
    # a stack's batched products round otherwise than one network's
    rtol = 1e-9 if one_stack else 1e-12
    fixed = dict(max_iter=15, learning_rate_init=0.01, random_state=0,
                 max_onehot_categories=3)
    search = Search(**grid, hidden_layer_sizes=(8,), cv=splits, **fixed).fit(X, y)
    assert not hasattr(search, "best_estimator_")
    assert len(search.estimators_) == len(splits)
    np.testing.assert_allclose(search.weights_, 1 / 3, rtol=1e-15)
    configuration = {k: v for k, v in grid.items() if k not in ("alphas", "dropouts")}
    for f, (train, _) in enumerate(splits):
        plain = Plain(penalty="elasticnet", **fixed, **configuration,
                      **search.best_params_).fit(X.iloc[train], y[train])
        estimator = search.estimators_[f]
        assert type(estimator) is Plain and estimator.get_params() == plain.get_params()
        classifier = case.startswith("classifier")
        method = "predict_proba" if classifier else "predict"
        np.testing.assert_allclose(getattr(estimator, method)(X), getattr(plain, method)(X),
                                   rtol=rtol, atol=rtol * 1e-2)
        if classifier:
            np.testing.assert_array_equal(estimator.predict(X), plain.predict(X))
        # the fit's fitted attributes: encoding, scaling, strength, epochs, history
        assert estimator.encoder_.output_kinds_.tolist() == plain.encoder_.output_kinds_.tolist()
        assert estimator.embedding_sizes_ == plain.embedding_sizes_ == {"shop": 4}
        for a, b in zip(estimator.encoder_.categories_, plain.encoder_.categories_):
            assert a.tolist() == b.tolist()
        np.testing.assert_array_equal(estimator.input_center_, plain.input_center_)
        np.testing.assert_array_equal(estimator.input_scale_, plain.input_scale_)
        if classifier:
            np.testing.assert_array_equal(estimator.classes_, plain.classes_)
        else:
            np.testing.assert_array_equal(estimator.target_mean_, plain.target_mean_)
            np.testing.assert_array_equal(estimator.target_scale_, plain.target_scale_)
            np.testing.assert_allclose(estimator.validation_scores_, plain.validation_scores_,
                                       rtol=1e-12)
        assert estimator.alpha_ == plain.alpha_ and estimator.n_iter_ == plain.n_iter_
        np.testing.assert_allclose(estimator.loss_curve_, plain.loss_curve_, rtol=rtol)
        assert [row.keys() for row in estimator.history_] == [
            row.keys() for row in plain.history_]
        assert estimator.feature_names_in_.tolist() == plain.feature_names_in_.tolist()
        # a fitted plain estimator like any other: it trains on
        estimator.set_params(early_stopping=False).partial_fit(X.iloc[train], y[train])
        assert estimator.n_iter_ == 1 and len(estimator.loss_curve_) == plain.n_iter_ + 1
    # the search's encoder is not shared with its estimators
    assert all(e.encoder_ is not search.encoder_ for e in search.estimators_)


def _clf_data(n=300, seed=0):
    X, y = make_classification(n_samples=n, n_features=8, n_informative=5, n_classes=3,
                               flip_y=0.1, random_state=seed)
    return X, y


@pytest.mark.parametrize("binary", [False, True], ids=["multiclass", "binary"])
def test_bagged_classifier_predicts_the_weighted_average(binary):
    X, y = _clf_data()
    if binary:
        y = (y == 0).astype(int)
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 0.3], hidden_layer_sizes=(8,),
                                        max_iter=60, learning_rate_init=0.01, cv=3,
                                        random_state=0).fit(X, y)
    proba = sum(w * e.predict_proba(X) for w, e in zip(search.weights_, search.estimators_))
    np.testing.assert_allclose(search.predict_proba(X), proba, rtol=1e-12)
    np.testing.assert_allclose(search.predict_proba(X).sum(1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(search.predict(X), search.classes_[proba.argmax(1)])
    np.testing.assert_allclose(search.predict_log_proba(X), np.log(proba), rtol=1e-12)
    decision = search.decision_function(X)
    if binary:
        # the log-odds of the averaged probabilities
        np.testing.assert_allclose(decision, np.log(proba[:, 1] / proba[:, 0]), rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_array_equal(search.predict(X), search.classes_[(decision > 0) * 1])
    else:
        np.testing.assert_array_equal(decision.argmax(1), proba.argmax(1))
    # averaging lowers the log loss below its members' mean (convexity)
    members = [log_loss(y, e.predict_proba(X)) for e in search.estimators_]
    assert log_loss(y, proba) <= np.mean(members)
    assert search.n_iter_ == max(e.n_iter_ for e in search.estimators_)
    assert search.refit_time_ >= 0 and search.score(X, y) > 0.6


def test_bagged_regressor_predicts_the_weighted_average():
    X, y = make_friedman1(n_samples=300, noise=1.0, random_state=0)
    y = 100 + 20 * y  # target scaling: averaged in the units of y
    search = RegularizedMLPRegressorCV(alphas=[1e-3, 0.3], hidden_layer_sizes=(16,),
                                       max_iter=40, learning_rate_init=0.01, cv=4,
                                       random_state=0).fit(X, y)
    assert len(search.estimators_) == 4 and search.weights_.sum() == pytest.approx(1.0)
    prediction = sum(w * e.predict(X) for w, e in zip(search.weights_, search.estimators_))
    np.testing.assert_allclose(search.predict(X), prediction, rtol=1e-12)
    assert search.predict(X).shape == (len(X),)
    # the mean prediction's squared error is below its members' mean (convexity)
    members = [mean_squared_error(y, e.predict(X)) for e in search.estimators_]
    assert mean_squared_error(y, prediction) <= np.mean(members)


def test_refit_true_is_the_refit_on_all_rows():
    """refit=True: the plain estimator with best_params_ fitted on all the rows,
    after the same search; the bagged search's estimators are that search's fold
    models."""
    X, y = _clf_data()
    kw = dict(alphas=[1e-3, 0.3], dropouts=[0.0, 0.2], hidden_layer_sizes=(8,), max_iter=20,
              learning_rate_init=0.01, cv=3, random_state=0)
    refitted = RegularizedMLPClassifierCV(refit=True, **kw).fit(X, y)
    bagged = RegularizedMLPClassifierCV(**kw).fit(X, y)
    plain = RegularizedMLPClassifier(penalty="elasticnet", max_iter=20,
                                     learning_rate_init=0.01, random_state=0,
                                     **refitted.best_params_).fit(X, y)
    assert refitted.estimators_ == [refitted.best_estimator_]
    assert refitted.weights_.tolist() == [1.0]
    np.testing.assert_array_equal(refitted.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_array_equal(refitted.decision_function(X), plain.decision_function(X))
    np.testing.assert_array_equal(refitted.predict_log_proba(X), plain.predict_log_proba(X))
    assert refitted.n_iter_ == plain.n_iter_ and refitted.refit_time_ > 0
    # the same search either way
    for key in ("mean_test_score", "rank_test_score", "mean_n_iter"):
        np.testing.assert_array_equal(refitted.cv_results_[key], bagged.cv_results_[key])
    assert refitted.best_params_ == bagged.best_params_
    for f, estimator in enumerate(bagged.estimators_):
        for a, b in zip(estimator.coefs_, refitted.fold_models_["coefs"][f]):
            np.testing.assert_array_equal(a, b)
        assert estimator.n_iter_ == refitted.fold_models_["n_iter"][f]


def test_bagging_scores_close_to_the_refit_on_noisy_data():
    """Small noisy datasets: on held-out rows, the bagged fold models (each
    trained on 4/5 of the rows) score about as well as the refit on all of them,
    and better than their members on average."""
    gaps = []
    for seed in range(3):
        X, y = make_friedman1(n_samples=400, noise=2.0, random_state=seed)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5,
                                                            random_state=seed)
        kw = dict(alphas=[1e-3, 0.3, 3.0], hidden_layer_sizes=(32,), max_iter=100,
                  learning_rate_init=0.01, random_state=seed, racing=False)
        bagged = RegularizedMLPRegressorCV(**kw).fit(X_train, y_train)
        refitted = RegularizedMLPRegressorCV(refit=True, **kw).fit(X_train, y_train)
        score = bagged.score(X_test, y_test)
        members = [e.score(X_test, y_test) for e in bagged.estimators_]
        assert score >= np.mean(members)
        gaps.append(score - refitted.score(X_test, y_test))
    assert np.mean(gaps) > -0.02 and min(gaps) > -0.05


# ----------------------------------------------------------- ensemble selection
def test_greedy_selection_rounds():
    """Forward selection with replacement: each round the best addition (ties to
    the first candidate), and the ensemble of the best round is kept."""
    values = {(0,): 0.5, (1,): 0.7, (2,): 0.7, (0, 1): 0.8, (1, 1): 0.7, (1, 2): 0.75,
              (0, 1, 1): 0.6, (0, 0, 1): 0.79, (0, 1, 2): 0.6}

    def score(counts):
        key = tuple(sorted(c for c, k in counts.items() for _ in range(k)))
        return values.get(key, np.nan)

    assert greedy_selection([0, 1, 2], 1, score) == ({1: 1}, 0.7)
    assert greedy_selection([0, 1, 2], 2, score) == ({1: 1, 0: 1}, 0.8)
    # a third round adds (0, 0, 1) = 0.79, below the second round's ensemble
    assert greedy_selection([0, 1, 2], 3, score) == ({1: 1, 0: 1}, 0.8)


def _oof_score(search, splits, X, y, counts):
    """The mean fold score of the average of configurations ``counts``' fold estimators."""
    n_splits = len(splits)
    picked = [search.best_index_, *(c for c in sorted(counts) if c != search.best_index_)]
    by_config = {c: search.estimators_[i * n_splits:(i + 1) * n_splits]
                 for i, c in enumerate(picked)}
    total = sum(counts.values())
    scores = []
    for f, (_, test) in enumerate(splits):
        proba = sum(counts[c] / total * by_config[c][f].predict_proba(X[test]) for c in counts)
        scores.append(np.mean(search.classes_[proba.argmax(1)] == y[test]))
    return np.mean(scores)


def test_ensemble_selection_of_bagged_fold_models():
    X, y = _clf_data(n=360, seed=3)
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    kw = dict(alphas=[1e-4, 0.3, 3.0, 30.0], dropouts=[0.0, 0.5], hidden_layer_sizes=(8,),
              max_iter=15, learning_rate_init=0.01, cv=splits, random_state=0, racing=False)
    one = RegularizedMLPClassifierCV(ensemble_selection=1, **kw).fit(X, y)
    # the first round picks the best configuration: its score is best_score_
    assert np.flatnonzero(one.ensemble_weights_).tolist() == [one.best_index_]
    assert one.ensemble_score_ == pytest.approx(one.best_score_, rel=1e-12)
    search = RegularizedMLPClassifierCV(ensemble_selection=10, **kw).fit(X, y)
    weights = search.ensemble_weights_
    assert weights.shape == (8,) and weights.sum() == pytest.approx(1.0)
    assert weights[search.best_index_] > 0 and (weights > 0).sum() >= 2
    assert search.ensemble_score_ >= search.best_score_
    # its score is that of its configurations' fold estimators, averaged with
    # the picks' weights, on each fold's test rows
    counts = {c: round(w * 10_000) for c, w in enumerate(weights) if w > 0}
    assert _oof_score(search, splits, X, y, counts) == pytest.approx(search.ensemble_score_,
                                                                     rel=1e-12)
    # the estimators: each picked configuration's fold models sharing its weight,
    # the best configuration's first
    order = [search.best_index_, *(c for c in counts if c != search.best_index_)]
    assert len(search.estimators_) == 3 * len(order)
    np.testing.assert_allclose(search.weights_, np.repeat(weights[order], 3) / 3, rtol=1e-12)
    assert search.estimators_[0].get_params()["alpha"] == search.best_params_["alpha"]
    proba = sum(w * e.predict_proba(X) for w, e in zip(search.weights_, search.estimators_))
    np.testing.assert_allclose(search.predict_proba(X), proba, rtol=1e-12)
    np.testing.assert_array_equal(search.predict(X), search.classes_[proba.argmax(1)])
    # best_score_ and cv_results_ keep their meaning
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  one.cv_results_["mean_test_score"])
    assert search.best_score_ == one.best_score_


def test_ensemble_selection_picks_only_finalists_and_refits_them():
    X, y = make_friedman1(n_samples=300, noise=1.0, random_state=0)
    kw = dict(alphas=[1e-4, 0.3, 100.0], dropouts=[0.0, 0.3], hidden_layer_sizes=(8,),
              max_iter=30, learning_rate_init=0.01, cv=3, random_state=0)
    raced = RegularizedMLPRegressorCV(ensemble_selection=5, race_factor=2, **kw).fit(X, y)
    finalists = raced.cv_results_["iter"] == raced.cv_results_["iter"].max()
    assert (raced.ensemble_weights_[~finalists] == 0).all()
    refitted = RegularizedMLPRegressorCV(ensemble_selection=5, racing=False, refit=True,
                                         **kw).fit(X, y)
    picked = np.flatnonzero(refitted.ensemble_weights_)
    order = [refitted.best_index_, *(c for c in picked if c != refitted.best_index_)]
    assert refitted.best_estimator_ is refitted.estimators_[0]
    for c, estimator in zip(order, refitted.estimators_):
        params = refitted.cv_results_["params"][c]
        assert {k: estimator.get_params()[k] for k in params} == params
    np.testing.assert_array_equal(refitted.weights_, refitted.ensemble_weights_[order])
    prediction = sum(w * e.predict(X) for w, e in zip(refitted.weights_, refitted.estimators_))
    np.testing.assert_allclose(refitted.predict(X), prediction, rtol=1e-12)
    assert refitted.ensemble_score_ >= refitted.best_score_


# ------------------------------------------------------- sklearn's tools, files
def test_bagged_search_clones_pickles_and_saves(tmp_path):
    X, y = _clf_data()
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 0.3], hidden_layer_sizes=(8,),
                                        max_iter=10, cv=3, random_state=0, racing=False,
                                        ensemble_selection=3)
    assert clone(search).get_params() == search.get_params()
    search.fit(X, y)
    path = tmp_path / "bagged.skops"
    skreg.io.dump(search, path)
    for loaded in (pickle.loads(pickle.dumps(search)), skreg.io.load(path)):
        np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
        np.testing.assert_array_equal(loaded.weights_, search.weights_)
        np.testing.assert_array_equal(loaded.ensemble_weights_, search.ensemble_weights_)
        assert loaded.ensemble_score_ == search.ensemble_score_
        assert [e.loss_curve_ for e in loaded.estimators_] == [
            e.loss_curve_ for e in search.estimators_]


def test_sklearn_tools_over_the_bagged_search():
    X, y = _clf_data()
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 0.3], hidden_layer_sizes=(8,),
                                        max_iter=60, learning_rate_init=0.01, cv=2,
                                        random_state=0, racing=False)
    outer = GridSearchCV(search, {"ensemble_selection": [0, 3], "refit": [False, True]},
                         cv=2).fit(X, y)
    assert len(outer.cv_results_["params"]) == 4 and outer.best_score_ > 0.5
    scores = cross_validate(search, X, y, cv=3, return_estimator=True)
    assert (scores["test_score"] > 0.5).all()
    assert all(len(e.estimators_) == 2 for e in scores["estimator"])


@pytest.mark.parametrize("name,value", [
    ("refit", "yes"), ("refit", 1), ("ensemble_selection", -1),
    ("ensemble_selection", 2.5), ("ensemble_selection", "greedy"),
])
def test_bad_refit_and_ensemble_selection_are_named(name, value):
    X, y = _clf_data(n=60)
    with pytest.raises(ValueError, match=f"'{name}' parameter of RegularizedMLPClassifierCV"):
        RegularizedMLPClassifierCV(**{name: value}, max_iter=2).fit(X, y)


def test_diverged_fold_models_are_left_out_with_a_warning(monkeypatch):
    """A fold model whose training diverged is no model: the bag averages the others."""
    from skreg import _crossval

    X, y = _clf_data()
    original = _crossval.SearchFit._score_stack

    def diverge_fold_one(self, job, rungs):
        original(self, job, rungs)
        for (c, f), model in self.fold_models.items():
            if f == 1:
                model.diverged = True

    monkeypatch.setattr(_crossval.SearchFit, "_score_stack", diverge_fold_one)
    search = RegularizedMLPClassifierCV(alphas=[1e-3], hidden_layer_sizes=(8,), max_iter=5,
                                        cv=3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    assert any("1 of the 3 fold models" in str(w.message) for w in caught)
    assert len(search.estimators_) == 2
    np.testing.assert_allclose(search.weights_, 0.5)
