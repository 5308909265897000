"""RegularizedMLPClassifierCV / RegularizedMLPRegressorCV."""

import pickle
import warnings
from numbers import Real

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_friedman1
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn.utils._param_validation import StrOptions

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)
from skreg._engine import noise
from skreg._engine.regularizers import REGULARIZERS
from skreg._racing import Rungs as _Rungs
from skreg._search import DEFAULT_GRID

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
    # HalvingGridSearchCV's columns: the rung reached and its epoch budget
    assert results["iter"].dtype.kind == "i" and results["n_resources"].dtype.kind == "i"
    assert results["iter"][search.best_index_] == len(search.n_resources_) - 1
    assert search.n_resources_[-1] == 20
    assert search.n_candidates_[0] == 4


def test_choice_agrees_with_gridsearch(clf_data):
    """Same grid, same folds: the batched search ranks the configurations as one
    fit per configuration does, and picks an equally good one."""
    X, y = clf_data
    grid = {"alpha": [1e-4, 1e-2, 3.0, 30.0], "l1_ratio": [0.0, 0.5]}
    common = dict(hidden_layer_sizes=(32,), max_iter=60, learning_rate_init=0.01,
                  random_state=0, input_scaling=None)
    search = RegularizedMLPClassifierCV(alphas=grid["alpha"], l1_ratios=grid["l1_ratio"],
                                        cv=3, racing=False, **common).fit(X, y)
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
                                        learning_rate_init=0.01, random_state=0,
                                        refit=True).fit(X, y)
    best = search.best_estimator_
    assert isinstance(best, RegularizedMLPClassifier)
    assert search.estimators_ == [best] and search.weights_.tolist() == [1.0]
    # the refit is the plain estimator with best_params_ fitted on all the rows
    plain = search._plain(search.best_params_).fit(X, y)
    np.testing.assert_array_equal(plain.predict_proba(X), best.predict_proba(X))
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
                                       random_state=0, refit=True).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert [p["hidden_layer_sizes"] for p in search.cv_results_["params"]] == [(2,), (32, 16)]
    assert scores[1] > scores[0]
    assert search.hidden_layer_sizes_ == (32, 16)
    assert search.best_estimator_.hidden_layer_sizes == (32, 16)


def test_in_pipeline_with_class_weight():
    X, y = make_classification(n_samples=600, n_features=10, weights=[0.9, 0.1],
                               class_sep=0.5, random_state=0)
    kw = dict(alphas=[1e-3], hidden_layer_sizes=(16,), max_iter=30, cv=3,
              learning_rate_init=0.01, random_state=0, refit=True)
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


# ------------------------------------------------------------------- racing
def test_racing_stops_the_losers_and_marks_them(clf_data):
    """Successive halving: at each rung the best third goes on, the others
    stop there (all their folds) and keep the scores they had."""
    X, y = clf_data
    search = RegularizedMLPClassifierCV(
        alphas=[1e-3, 0.1, 1.0, 300.0, 1000.0, 3000.0], dropouts=[0.0, 0.5],
        hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01, tol=0.0,
        n_iter_no_change=100, cv=3, random_state=0, refit=True).fit(X, y)
    r = search.cv_results_
    # 12 configurations, factor 3: rungs after epochs 1, 3, 9 and 27
    assert search.n_resources_ == [1, 3, 9, 27, 30]
    assert search.n_candidates_ == [12, 4, 2, 1, 1]
    np.testing.assert_array_equal(r["n_resources"], np.asarray(search.n_resources_)[r["iter"]])
    finalists = r["iter"] == 4
    assert finalists.sum() == 1 and finalists[search.best_index_]
    # the eliminated configurations trained up to their rung, the finalist to the end
    np.testing.assert_array_equal(r["mean_n_iter"], r["n_resources"])
    assert r["mean_n_iter"][finalists][0] == 30
    # the over-penalized configurations go at the first rung
    alphas = np.array([p["alpha"] for p in r["params"]])
    assert (r["iter"][alphas >= 300] == 0).all()
    # rank 1 is the finalist; the configurations that got further rank first
    assert r["rank_test_score"][search.best_index_] == 1
    order = np.argsort(r["rank_test_score"], kind="stable")
    assert (np.diff(r["iter"][order]) <= 0).all()
    assert search.best_estimator_.alpha == search.alpha_ <= 1.0


def test_racing_keeps_the_scores_at_elimination(clf_data):
    """An eliminated configuration's fold scores are those of its fold models
    after the rung's epochs: what an exhaustive search of that many epochs
    gives it."""
    X, y = clf_data
    kw = dict(alphas=[1e-3, 1.0, 1000.0], hidden_layer_sizes=(16,), learning_rate_init=0.01,
              tol=0.0, n_iter_no_change=100, cv=3, random_state=0)
    search = RegularizedMLPClassifierCV(max_iter=20, race_min_epochs=4, **kw).fit(X, y)
    r = search.cv_results_
    assert search.n_resources_ == [4, 12, 20]
    for rung, epochs in enumerate(search.n_resources_[:-1]):
        out = np.flatnonzero(r["iter"] == rung)
        short = RegularizedMLPClassifierCV(max_iter=epochs, racing=False, **kw).fit(X, y)
        for k in range(3):
            np.testing.assert_allclose(r[f"split{k}_test_score"][out],
                                       short.cv_results_[f"split{k}_test_score"][out])
    assert (r["iter"] < 2).sum() == 2


def test_racing_picks_what_exhaustive_search_picks_when_clear_cut(reg_data):
    X, y = reg_data
    kw = dict(alphas=[1e-3, 30.0, 300.0], dropouts=[0.0, 0.6], hidden_layer_sizes=(32,),
              max_iter=60, learning_rate_init=0.01, cv=3, random_state=0, refit=True)
    raced = RegularizedMLPRegressorCV(**kw).fit(X, y)
    exhaustive = RegularizedMLPRegressorCV(racing=False, **kw).fit(X, y)
    assert raced.best_params_ == exhaustive.best_params_
    assert raced.best_score_ == exhaustive.best_score_
    assert raced.cv_results_["mean_n_iter"].sum() < 0.5 * exhaustive.cv_results_[
        "mean_n_iter"].sum()
    np.testing.assert_array_equal(raced.best_estimator_.predict(X),
                                  exhaustive.best_estimator_.predict(X))


def test_racing_off_is_the_exhaustive_search(clf_data):
    """racing=False trains every configuration on every fold to the end: the
    scores the search gave before racing existed (split scores as counts of
    correct test rows; each fold has 200)."""
    X, y = clf_data
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 1.0], dropouts=[0.0, 0.3],
                                        hidden_layer_sizes=(8,), max_iter=10,
                                        learning_rate_init=0.01, cv=3, random_state=3,
                                        racing=False, numeric_embeddings=[None]).fit(X, y)
    r = search.cv_results_
    correct = [[round(r[f"split{k}_test_score"][i] * 200) for k in range(3)]
               for i in range(4)]
    # the configurations without dropout score as before racing existed
    assert correct[0] == [93, 101, 100] and correct[2] == [91, 107, 100]
    assert (r["iter"] == 0).all() and (r["n_resources"] == 10).all()
    assert (r["mean_n_iter"] == 10).all()
    assert search.n_resources_ == [10] and search.n_candidates_ == [4]
    assert search.best_index_ == int(np.argmax(r["mean_test_score"]))
    # a grid of one configuration does not race
    one = RegularizedMLPClassifierCV(alphas=[1e-3], hidden_layer_sizes=(8,), max_iter=10,
                                     learning_rate_init=0.01, cv=3, random_state=3,
                                     numeric_embeddings=[None]).fit(X, y)
    assert one.n_resources_ == [10]
    assert one.cv_results_["split0_test_score"][0] == r["split0_test_score"][0]


def test_a_configurations_scores_do_not_depend_on_the_rest_of_the_grid(clf_data, monkeypatch):
    """Without racing, each configuration's fold models are those it has
    searched alone: their dropout masks come from streams of their own,
    through many banks of masks and members that stop at different epochs."""
    monkeypatch.setattr(noise, "BANK_UNITS", 4096)  # a new bank every few steps
    X, y = clf_data
    kw = dict(hidden_layer_sizes=(13,), max_iter=30, learning_rate_init=0.01, cv=3,
              random_state=3, racing=False, tol=1e-2, n_iter_no_change=2)
    grid = RegularizedMLPClassifierCV(alphas=[1e-3, 1.0], dropouts=[0.0, 0.2, 0.3],
                                      **kw).fit(X, y)
    r = grid.cv_results_
    # the fold models stop at different epochs
    assert len(np.unique(r["mean_n_iter"])) > 1 and r["mean_n_iter"].min() < 30
    for i, params in enumerate(r["params"]):
        alone = RegularizedMLPClassifierCV(alphas=[params["alpha"]],
                                           dropouts=[params["dropout"]], **kw).fit(X, y)
        assert [alone.cv_results_[f"split{k}_test_score"][0] for k in range(3)] == [
            r[f"split{k}_test_score"][i] for k in range(3)], params
        assert alone.cv_results_["mean_n_iter"][0] == r["mean_n_iter"][i]


def test_rungs_compare_every_architecture_so_far():
    """ASHA across architectures: a configuration goes on from rung k if it is in
    the best ceil(n / factor) of all n that reached rung k so far."""
    rungs = _Rungs([2, 6], 3, 6)
    rungs.decide(0, {0: [0.9, 0.9], 1: [0.5, 0.5], 2: [0.4, 0.6]})
    assert rungs.iter.tolist() == [-1, 0, 0, -1, -1, -1]
    np.testing.assert_array_equal(rungs.fold_scores[2], [0.4, 0.6])
    # the second architecture is held to the first one's scores at rung 0:
    # of the 6 configurations there, the best 2 go on
    rungs.decide(0, {3: [0.95, 0.95], 4: [0.6, 0.6], 5: [np.nan, 0.99]})
    assert rungs.iter.tolist() == [-1, 0, 0, -1, 0, 0]
    # at rung 1, configurations 0 and 3 meet: one goes on
    rungs.decide(1, {0: [0.91, 0.91]})
    rungs.decide(1, {3: [0.97, 0.97]})
    assert rungs.iter.tolist() == [-1, 0, 0, -1, 0, 0]
    rungs.decide(1, {3: [0.90, 0.90]})  # (were it worse, it would go)
    assert rungs.iter[3] == 1
    # ties go to the configuration that comes first in the grid
    tied = _Rungs([1], 2, 4)
    tied.decide(0, {3: [0.5], 1: [0.5], 2: [0.5], 0: [0.1]})
    assert tied.iter.tolist() == [0, -1, -1, 0]


def test_racing_over_several_architectures(reg_data):
    X, y = reg_data
    search = RegularizedMLPRegressorCV(
        alphas=[1e-3, 0.3, 300.0], hidden_layer_sizes=[(32,), (1,), (16, 16)],
        max_iter=27, learning_rate_init=0.01, cv=3, random_state=0).fit(X, y)
    r = search.cv_results_
    assert search.n_resources_ == [3, 9, 27]
    sizes = [p["hidden_layer_sizes"] for p in r["params"]]
    iters = {s: r["iter"][[i for i, t in enumerate(sizes) if t == s]] for s in set(sizes)}
    # the first architecture races among itself: one finalist of three
    assert sorted(iters[(32,)].tolist()) == [0, 0, 2]
    # the one-unit network is no match for the first architecture's scores
    assert iters[(1,)].max() < 2
    assert r["iter"][search.best_index_] == 2
    assert search.hidden_layer_sizes_ != (1,)
    assert search.n_candidates_[-1] == (r["iter"] == 2).sum()


def test_racing_with_fold_models_that_stop_on_their_own(reg_data):
    """A fold model stopped by its stopping rule before a rung takes part with
    its last weights; the rungs that no fold model reached are decided on the
    final scores."""
    X, y = reg_data
    kw = dict(alphas=[1e-4, 0.1, 10.0, 100.0], dropouts=[0.0, 0.3], hidden_layer_sizes=(16,),
              max_iter=100, learning_rate_init=0.01, cv=3, random_state=0,
              n_iter_no_change=2, tol=0.03, race_min_epochs=4, race_factor=2)
    search = RegularizedMLPRegressorCV(**kw).fit(X, y)
    exhaustive = RegularizedMLPRegressorCV(racing=False, **kw).fit(X, y)
    r, e = search.cv_results_, exhaustive.cv_results_
    assert search.n_resources_ == [4, 8, 16, 32, 64, 100]
    assert search.n_candidates_ == [8, 4, 2, 1, 1, 1]
    assert np.isfinite(r["mean_test_score"]).all()
    # every fold model of these stopped on its own before the rung that
    # eliminated it (or, for the finalist, before the next rung): the scores
    # are those of the exhaustive search, whose fold models stopped alike
    early = r["mean_n_iter"] < r["n_resources"]
    assert early.sum() >= 2 and early[search.best_index_]
    np.testing.assert_array_equal(r["mean_n_iter"][early], e["mean_n_iter"][early])
    for k in range(3):
        np.testing.assert_allclose(r[f"split{k}_test_score"][early],
                                   e[f"split{k}_test_score"][early], rtol=1e-6)


def test_rung_epochs():
    def epochs(**kw):
        search = RegularizedMLPClassifierCV(**kw)
        return search._rung_epochs(12)
    # 'auto': the halving that leaves one of 12 configurations ends by max_iter / 3
    assert epochs(max_iter=200) == [7, 21, 63, 189]
    assert epochs(max_iter=20) == [1, 3, 9]
    assert epochs(max_iter=20, race_min_epochs=2, race_factor=2) == [2, 4, 8, 16]
    assert epochs(max_iter=20, race_factor=1.5, race_min_epochs=1) == [
        1, 2, 3, 4, 5, 7, 11, 17]
    assert epochs(max_iter=3, race_min_epochs=5) == []
    assert epochs(max_iter=200, racing=False) == []
    assert RegularizedMLPClassifierCV()._rung_epochs(1) == []


@pytest.mark.parametrize("name,value", [
    ("racing", "yes"), ("race_factor", 1), ("race_factor", 0.5), ("race_min_epochs", 0),
    ("race_min_epochs", "soon"), ("race_min_epochs", 2.5),
])
def test_bad_racing_parameters_are_named(clf_data, name, value):
    X, y = clf_data
    with pytest.raises(ValueError, match=name):
        RegularizedMLPClassifierCV(**{name: value}, max_iter=2).fit(X, y)


def test_default_grid():
    """Every grid parameter at None: the default grid. Given regularization
    values replace it: the axes left at None are not searched, but for the
    strengths."""
    X, y = make_classification(n_samples=150, n_features=5, random_state=0)
    kw = dict(max_iter=2, cv=2, random_state=0)
    grid = RegularizedMLPClassifierCV(**kw)._grid()
    assert len(grid) == (len(DEFAULT_GRID["alphas"]) * len(DEFAULT_GRID["dropouts"])
                         * len(DEFAULT_GRID["hidden_layer_sizes"]))
    assert {g["alpha"] for g in grid} == set(DEFAULT_GRID["alphas"])
    assert {g["dropout"] for g in grid} == set(DEFAULT_GRID["dropouts"])
    assert {g["l1_ratio"] for g in grid} == {g["label_smoothing"] for g in grid} == {0.0}
    only_alphas = RegularizedMLPClassifierCV(alphas=[0.5], **kw)._grid()
    assert [(g["alpha"], g["dropout"]) for g in only_alphas] == [
        (0.5, 0.0)] * len(DEFAULT_GRID["hidden_layer_sizes"])
    only_dropouts = RegularizedMLPRegressorCV(dropouts=[0.1], hidden_layer_sizes=(4,),
                                              **kw)._grid()
    assert [g["alpha"] for g in only_dropouts] == list(DEFAULT_GRID["alphas"])
    assert {g["dropout"] for g in only_dropouts} == {0.1}
    assert RegularizedMLPClassifierCV(label_smoothings=[0.1], **kw)._grid()[0]["dropout"] == 0
    search = RegularizedMLPClassifierCV(**kw).fit(X, y)
    assert len(search.cv_results_["params"]) == len(grid)


def test_racing_search_inside_gridsearch_and_pipeline(clf_data):
    X, y = clf_data
    inner = RegularizedMLPClassifierCV(alphas=[1e-3, 1.0, 100.0], hidden_layer_sizes=(8,),
                                       max_iter=9, learning_rate_init=0.01, cv=2,
                                       random_state=0, refit=True)
    outer = GridSearchCV(make_pipeline(StandardScaler(), inner),
                         {"regularizedmlpclassifiercv__race_factor": [2, 3]}, cv=2).fit(X, y)
    assert outer.best_score_ > 0.5
    fitted = outer.best_estimator_[-1]
    assert fitted.n_resources_[0] in (1, 2)
    restored = pickle.loads(pickle.dumps(outer))
    np.testing.assert_array_equal(restored.predict(X), outer.predict(X))
    assert clone(inner).get_params() == inner.get_params()


# ------------------------------------------- one specification for every fit
def _regularizer_settings():
    """Plain-estimator settings that turn each regularizer's parameters on, one by one.

    Derived from the regularizers' declared parameters: a strength (off at 0)
    is turned on at 0.05, a bound (off at None) at 3.0, together with the
    other strengths of its regularizer; every other option of a parameter
    with options (``penalty``, ``l1_method``, gate layouts) gets a setting of
    its own, with the strengths of its regularizer on; ``companions`` gives
    the settings a parameter acts with (``p`` with ``penalty='lp'``).
    """
    # the settings a parameter acts with: (name, option) or (name, None) for
    # a numeric one
    companions = {("l1_method", "subgradient"): {"penalty": "l1"},
                  ("p", None): {"penalty": "lp", "p": 3.0}}
    settings = {"l2 (default)": {}}
    for cls in REGULARIZERS:
        strengths = {p.name: (3.0 if p.default is None else 0.05) for p in cls.params
                     if p.default is None or (isinstance(p.default, Real) and p.default == 0
                                              and not isinstance(p.default, bool))}
        if strengths:
            settings[",".join(strengths)] = dict(strengths)
        for p in cls.params:
            if p.name in strengths:
                continue
            if (p.name, None) in companions:
                settings[p.name] = companions[(p.name, None)]
            options = [option for c in p.constraints if isinstance(c, StrOptions)
                       for option in sorted(c.options)]
            if None in p.constraints:
                options.append(None)
            for option in options:
                if option != p.default:
                    settings[f"{p.name}={option}"] = {
                        **strengths, p.name: option, **companions.get((p.name, option), {})}
    return settings


SETTINGS = _regularizer_settings()
SOLVERS = ["adam", "adamw", "sgd", "lbfgs"]
#: the settings whose random draws the engine makes once for a stack's
#: members (one generator per stack): a fold model sharing its stack with
#: other folds draws other noise than the plain estimator on its rows
SHARED_DRAWS = ("input_noise", "hidden_noise", "mixup", "weight_noise", "gradient_noise",
                "l0_alpha")


def _fold_data(fold_sizes, classifier=True):
    """Data and explicit splits whose folds train on ``fold_sizes`` rows each."""
    rng = np.random.default_rng(0)
    n = max(fold_sizes) + 40
    X = rng.normal(size=(n, 5)) * [1, 10, 0.1, 1, 3] + [0, 5, 0, -2, 0]
    y = (X[:, 0] + np.sin(X[:, 1]) > 0).astype(int) if classifier else \
        X[:, 0] * 3 + np.sin(X[:, 1]) + 10
    splits = [(np.arange(k), np.arange(k, n)) for k in fold_sizes]
    return X, y, splits


def _search_and_plain(Search, Plain, setting, solver, splits, **extra):
    """The search with one configuration, and the plain estimator of that configuration."""
    common = dict(hidden_layer_sizes=(8,), max_iter=4, learning_rate_init=0.01,
                  random_state=0, tol=0.0, n_iter_no_change=100, solver=solver)
    setting = {**extra, **setting}
    axes = {"alpha": "alphas", "l1_ratio": "l1_ratios", "dropout": "dropouts"}
    fixed = {k: v for k, v in setting.items() if k not in axes}
    grid = {axes[k]: [v] for k, v in setting.items() if k in axes}
    grid.setdefault("alphas", [0.1])
    penalty = fixed.pop("penalty", "elasticnet")
    search = Search(**grid, penalty=penalty, cv=splits, **common, **fixed)
    plain = Plain(penalty=penalty, alpha=grid["alphas"][0],
                  l1_ratio=grid.get("l1_ratios", [0.0])[0],
                  dropout=grid.get("dropouts", [0.0])[0], **common, **fixed)
    return search, plain


def _assert_fold_models_equal_plain_fits(search, plain, X, y, splits, rtol):
    try:
        fits = [clone(plain).fit(X[train], y[train]) for train, _ in splits]
    except ValueError as exc:
        # a combination the plain estimator refuses: the search refuses it alike
        with pytest.raises(ValueError, match=str(exc)[:40].replace("(", r"\(")):
            search.fit(X, y)
        return
    search.fit(X, y)
    models = search.fold_models_
    for f, (fit, (_, test)) in enumerate(zip(fits, splits)):
        assert models["n_iter"][f] == fit.n_iter_
        for a, b in zip(models["coefs"][f] + models["intercepts"][f],
                        fit.coefs_ + fit.intercepts_):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3)
        np.testing.assert_allclose(search.cv_results_[f"split{f}_test_score"][0],
                                   fit.score(X[test], y[test]), rtol=1e-6)
        # the fitted search's fold estimator is that plain fit, made from the
        # fold model's weights
        estimator = search.estimators_[f]
        assert type(estimator) is type(fit) and estimator.get_params() == fit.get_params()
        method = "predict_proba" if hasattr(fit, "predict_proba") else "predict"
        np.testing.assert_allclose(getattr(estimator, method)(X), getattr(fit, method)(X),
                                   rtol=rtol, atol=rtol * 1e-3)
        assert (estimator.n_iter_, estimator.alpha_) == (fit.n_iter_, fit.alpha_)
        np.testing.assert_allclose(estimator.loss_curve_, fit.loss_curve_, rtol=max(rtol, 1e-9))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("setting", list(SETTINGS.values()), ids=list(SETTINGS))
def test_fold_models_are_the_plain_estimator_on_the_folds_rows(setting, solver):
    """Every regularizer and solver: each fold model of a search of one
    configuration is the plain estimator with that configuration fitted on
    the fold's training rows, with the same seed (folds of different sizes:
    each fold its own batch size, so its own stack; shuffles, noise and
    dropout drawn as in the plain fit)."""
    X, y, splits = _fold_data([90, 100, 110])
    search, plain = _search_and_plain(RegularizedMLPClassifierCV, RegularizedMLPClassifier,
                                      setting, solver, splits, dropout=0.0)
    _assert_fold_models_equal_plain_fits(search, plain, X, y, splits, rtol=1e-12)


@pytest.mark.parametrize("setting", list(SETTINGS.values()), ids=list(SETTINGS))
def test_folds_sharing_a_stack_are_the_plain_estimator_on_their_rows(setting):
    """Folds of equal size share one stack: each fold model is still the plain
    estimator on the fold's rows (rows in order: a stack's row groups share
    the engine's shuffling generator)."""
    if any(name in setting for name in SHARED_DRAWS):
        pytest.xfail("the engine draws this noise once for a stack's members")
    X, y, splits = _fold_data([100, 100, 100])
    splits = [(np.roll(np.arange(140), 40 * f)[:100], np.roll(np.arange(140), 40 * f)[100:])
              for f in range(3)]
    search, plain = _search_and_plain(RegularizedMLPClassifierCV, RegularizedMLPClassifier,
                                      setting, "adam", splits, shuffle=False, dropout=0.2)
    _assert_fold_models_equal_plain_fits(search, plain, X, y, splits, rtol=1e-7)


@pytest.mark.parametrize("Search,Plain,setting", [
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(alpha="auto")),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(class_weight="balanced")),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier,
     dict(early_stopping=True, validation_fraction=0.2)),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(ensemble_size=2, dropout=0.1)),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(batch_norm=True)),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier,
     dict(scale_layer=True, learning_rate="coslog4")),
    # one batch size for every fold: the folds share a stack (rows in order)
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(batch_size=32, shuffle=False)),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(learning_rate="adaptive")),
    (RegularizedMLPClassifierCV, RegularizedMLPClassifier, dict(input_scaling=None)),
    (RegularizedMLPRegressorCV, RegularizedMLPRegressor, dict(alpha="auto")),
    (RegularizedMLPRegressorCV, RegularizedMLPRegressor, dict(loss="poisson")),
    (RegularizedMLPRegressorCV, RegularizedMLPRegressor,
     dict(target_scaling=None, early_stopping=True)),
], ids=lambda v: v if isinstance(v, dict) else v.__name__)
def test_fold_models_follow_every_plain_parameter(Search, Plain, setting):
    """The fold models take every plain parameter as the plain estimator does:
    alpha='auto' and class weights from the fold's rows, its early-stopping
    split, ensembles, batch norm, schedules, target scaling and losses."""
    X, y, splits = _fold_data([90, 100, 110], classifier=Search is RegularizedMLPClassifierCV)
    if setting.get("loss") == "poisson":
        y = np.exp(y / 10)
    search, plain = _search_and_plain(Search, Plain, setting, "adam", splits)
    # a shared stack's batched products round differently from one network's
    rtol = 1e-7 if "batch_size" in setting else 1e-12
    _assert_fold_models_equal_plain_fits(search, plain, X, y, splits, rtol=rtol)


def test_the_plr_embedding_of_a_fold_is_the_plain_estimators():
    """numeric_embeddings=['plr']: the PLR columns and parameters per fold."""
    X, y, splits = _fold_data([90, 100, 110])
    kw = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0, embedding_size=4)
    search = RegularizedMLPClassifierCV(alphas=[0.1], numeric_embeddings=["plr"], cv=splits,
                                        **kw).fit(X, y)
    for f, (train, _) in enumerate(splits):
        plain = RegularizedMLPClassifier(alpha=0.1, penalty="elasticnet", l1_ratio=0.0,
                                         numeric_embedding="plr", **kw).fit(X[train], y[train])
        for a, b in zip(search.fold_models_["coefs"][f], plain.coefs_):
            np.testing.assert_array_equal(a, b)


# ------------------------------------------------ the plain parameters, searched
def test_every_plain_parameter_is_a_search_parameter_with_its_default():
    import inspect
    for Search, Plain in ((RegularizedMLPClassifierCV, RegularizedMLPClassifier),
                          (RegularizedMLPRegressorCV, RegularizedMLPRegressor)):
        plain = inspect.signature(Plain).parameters
        search = inspect.signature(Search).parameters
        axes = {"alpha", "l1_ratio", "dropout", "label_smoothing", "numeric_embedding"}
        for name, param in plain.items():
            if name in axes:
                continue
            assert name in search, name
            if name not in ("penalty", "hidden_layer_sizes"):
                assert search[name].default == param.default, name
        assert search["penalty"].default == "elasticnet"
        assert Search._parameter_constraints["max_norm"] == Plain._parameter_constraints[
            "max_norm"]
        assert clone(Search(max_norm=2.0)).get_params()["max_norm"] == 2.0


def test_search_takes_fixed_plain_parameters(clf_data):
    X, y = clf_data
    search = RegularizedMLPClassifierCV(
        alphas=[1e-3, 0.1], hidden_layer_sizes=(16,), max_iter=20, learning_rate_init=0.01,
        cv=3, random_state=0, max_norm=3.0, solver="adamw", scale_layer=True,
        learning_rate="coslog4", group_alpha=1e-3, refit=True).fit(X, y)
    best = search.best_estimator_
    assert (best.max_norm, best.solver, best.scale_layer, best.learning_rate,
            best.group_alpha) == (3.0, "adamw", True, "coslog4", 1e-3)
    for coefs in search.fold_models_["coefs"]:
        # max-norm: every unit's incoming weights (before the scale) are bounded
        assert np.linalg.norm(coefs[1], axis=0).max() <= 3.0 + 1e-6
    assert search.score(X, y) > 0.6


def test_param_grid_searches_regularizer_strengths(clf_data):
    X, y = clf_data
    kw = dict(alphas=[1e-3], hidden_layer_sizes=(16,), max_iter=20, learning_rate_init=0.01,
              cv=3, random_state=0)
    search = RegularizedMLPClassifierCV(
        param_grid={"group_alpha": [0.0, 30.0], "input_noise": [0.0, 0.1]}, racing=False,
        refit=True, **kw).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 4
    assert {(p["group_alpha"], p["input_noise"]) for p in params} == {
        (0.0, 0.0), (0.0, 0.1), (30.0, 0.0), (30.0, 0.1)}
    assert "group_alpha" in search.best_params_ and hasattr(search, "group_alpha_")
    assert list(search.cv_results_["param_input_noise"]) == [p["input_noise"] for p in params]
    assert search.best_estimator_.group_alpha == search.best_params_["group_alpha"]
    # a group lasso that removes every input feature chooses itself out
    scores = search.cv_results_["mean_test_score"]
    strong = np.array([p["group_alpha"] == 30.0 for p in params])
    assert scores[strong].max() < 0.4 < scores[~strong].min()
    assert search.best_params_["group_alpha"] == 0.0
    # a moderate one removes some features in the fold models
    moderate = RegularizedMLPClassifierCV(param_grid={"group_alpha": [10.0]}, **kw).fit(X, y)
    assert (np.abs(moderate.fold_models_["coefs"][0][0]).sum(1) == 0).any()


@pytest.mark.parametrize("param_grid,match", [
    ({"alpha": [0.1]}, "'alpha': it is searched with alphas"),
    ({"activation": ["relu", "tanh"]}, "cannot search 'activation'"),
    ({"group_alpha": []}, r"param_grid\['group_alpha'\] must be a non-empty list"),
    ({"group_alpha": 0.1}, r"param_grid\['group_alpha'\] must be a non-empty list"),
    ({"group_alpha": [-1.0]}, "group_alpha"),
    ({"max_norm": [0.0]}, "max_norm"),
])
def test_bad_param_grid_is_named(clf_data, param_grid, match):
    X, y = clf_data
    with pytest.raises(ValueError, match=match):
        RegularizedMLPClassifierCV(param_grid=param_grid, max_iter=2).fit(X, y)


def test_l1_ratios_need_elastic_net(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="l1_ratios.*penalty='elasticnet'.*penalty='l2'"):
        RegularizedMLPClassifierCV(l1_ratios=[0.5], penalty="l2", max_iter=2).fit(X, y)


def test_folds_of_different_batch_sizes_race_in_stacks_side_by_side():
    """Folds of different batch sizes (fewer than 200 rows) train in stacks of
    their own, side by side, and meet at every rung: the race is the one a
    single stack would run, the eliminated configurations keep the scores
    their fold models had at the rung (an exhaustive search of that many
    epochs). An ensemble's fits are models of their own, which the engine
    does not race: that search is exhaustive."""
    X, y, splits = _fold_data([90, 100, 110])
    kw = dict(alphas=[1e-3, 0.3, 1.0, 30.0, 100.0, 300.0], hidden_layer_sizes=(8,),
              learning_rate_init=0.01, tol=0.0, n_iter_no_change=100, random_state=0,
              cv=splits, numeric_embeddings=[None])
    search = RegularizedMLPClassifierCV(max_iter=9, race_min_epochs=2, **kw).fit(X, y)
    r = search.cv_results_
    assert search.n_resources_ == [2, 6, 9] and search.n_candidates_ == [6, 2, 1]
    for rung, epochs in enumerate(search.n_resources_[:-1]):
        out = np.flatnonzero(r["iter"] == rung)
        short = RegularizedMLPClassifierCV(max_iter=epochs, racing=False, **kw).fit(X, y)
        for k in range(3):
            np.testing.assert_array_equal(r[f"split{k}_test_score"][out],
                                          short.cv_results_[f"split{k}_test_score"][out])
    np.testing.assert_array_equal(r["mean_n_iter"], r["n_resources"])
    ensemble = RegularizedMLPClassifierCV(max_iter=9, ensemble_size=2, **kw).fit(X, y)
    assert ensemble.n_resources_ == [9]
    assert ensemble.fold_models_["coefs"][0][0].shape == (2, 5, 8)


def test_legacy_module_paths_name_the_same_classes():
    """Models saved by earlier versions name skreg._mlp and skreg._cv."""
    import skreg.io
    from skreg._cv import RegularizedMLPClassifierCV as LegacySearch
    from skreg._mlp import RegularizedMLPClassifier as LegacyPlain
    assert LegacySearch is RegularizedMLPClassifierCV and LegacyPlain is RegularizedMLPClassifier
    assert "skreg._mlp.RegularizedMLPClassifier" in skreg.io.TRUSTED_TYPES
    assert "skreg._cv.RegularizedMLPRegressorCV" in skreg.io.TRUSTED_TYPES


@pytest.mark.parametrize("Search", [RegularizedMLPClassifierCV, RegularizedMLPRegressorCV])
def test_every_search_parameter_is_documented(Search):
    """The search's own parameters, and the plain ones with the plain entries."""
    import inspect
    import re
    params = [p for p in inspect.signature(Search).parameters if p != "self"]
    missing = [p for p in params if not re.search(rf"^    {p} :", Search.__doc__, re.M)]
    assert not missing
    plain = Search._estimator_class.__doc__
    entry = re.search(r"^    max_norm :.*?\n\n", plain, re.M | re.S).group(0)
    assert entry in Search.__doc__
    for attribute in ("best_params_", "fold_models_", "cv_results_", "n_resources_"):
        assert re.search(rf"^    {attribute} :", Search.__doc__, re.M)
