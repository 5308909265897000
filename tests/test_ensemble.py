"""Ensembles in one fit (``ensemble_size``) and numeric embeddings (``numeric_embedding``)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._engine.embeddings import fit_embedding


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(400, 6, n_informative=4, random_state=0)


def _member_probabilities(est, X):
    """Each member's class-1 probabilities, from its own weights in ``coefs_``."""
    h = torch.as_tensor(est.scale_inputs(X))
    coefs, intercepts = est.coefs_, est.intercepts_
    out = []
    for m in range(coefs[0].shape[0]):
        a = h
        for k, (W, b) in enumerate(zip(coefs, intercepts)):
            a = a @ torch.as_tensor(W[m]) + torch.as_tensor(b[m])
            if k < len(coefs) - 1:
                a = torch.relu(a)
        out.append(torch.sigmoid(a).numpy().ravel())
    return np.stack(out)


def test_an_ensemble_predicts_the_mean_of_its_members_probabilities(clf_data):
    X, y = clf_data
    est = RegularizedMLPClassifier(numeric_embedding=None,
                                   hidden_layer_sizes=(8,), max_iter=10, ensemble_size=3,
                                   random_state=0).fit(X, y)
    assert est.coefs_[0].shape == (3, 6, 8)
    members = _member_probabilities(est, X)
    # the members differ (own seeds) and the ensemble averages them
    assert np.ptp(members, axis=0).max() > 1e-3
    np.testing.assert_allclose(est.predict_proba(X)[:, 1], members.mean(0), rtol=1e-5,
                               atol=1e-6)


def test_member_zero_is_the_single_network_of_the_same_seed(clf_data):
    # no stopping within the budget: each member trains exactly as alone
    X, y = clf_data
    params = dict(hidden_layer_sizes=(8,), max_iter=6, n_iter_no_change=np.inf,
                  random_state=3)
    single = RegularizedMLPClassifier(**params).fit(X, y)
    stack = RegularizedMLPClassifier(**params, ensemble_size=2).fit(X, y)
    for W1, W2 in zip(single.coefs_, stack.coefs_):
        np.testing.assert_allclose(W2[0], W1, rtol=1e-4, atol=1e-6)


def test_the_ensemble_log_loss_is_at_most_its_members_mean(clf_data):
    X, y = clf_data
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    est = RegularizedMLPClassifier(numeric_embedding=None,
                                   hidden_layer_sizes=(16,), max_iter=30, ensemble_size=4,
                                   random_state=0).fit(X_train, y_train)
    members = _member_probabilities(est, X_test)
    ensemble = log_loss(y_test, est.predict_proba(X_test))
    each = [log_loss(y_test, np.column_stack([1 - p, p])) for p in members]
    assert ensemble <= np.mean(each) + 1e-9
    assert ensemble < max(each)


def test_an_ensemble_stops_as_one_model_and_keeps_its_best_epoch(clf_data):
    X, y = clf_data
    params = dict(hidden_layer_sizes=(16,), ensemble_size=3, random_state=0,
                  learning_rate_init=0.01, early_stopping=True, n_iter_no_change=3)
    est = RegularizedMLPClassifier(max_iter=200, **params).fit(X, y)
    history = est.history_
    best = history[-1, "best_epoch"]
    assert est.n_iter_ == len(history) < 200
    assert history[best - 1, "valid_score"] == est.best_validation_score_
    # the weights kept are those of the best epoch: training that many epochs
    # on the same rows in the same order gives them again
    again = RegularizedMLPClassifier(max_iter=best, **{**params, "n_iter_no_change": 1000})
    again.fit(X, y)
    for W1, W2 in zip(est.coefs_, again.coefs_):
        np.testing.assert_allclose(W1, W2, rtol=1e-5, atol=1e-7)


def test_an_ensemble_regressor_averages_and_round_trips(tmp_path):
    X, y = make_regression(300, 5, noise=5.0, random_state=0)
    est = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=20, ensemble_size=2,
                                  learning_rate_init=0.01,
                                  numeric_embedding="piecewise_linear", embedding_size=4,
                                  random_state=0).fit(X, y)
    assert est.score(X, y) > 0.5
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


# ------------------------------------------------------------------ embeddings
def test_piecewise_linear_encoding_of_values_at_and_beyond_the_edges():
    x = np.arange(101, dtype=float).reshape(-1, 1)  # quantile edges 0, 25, 50, 75, 100
    emb = fit_embedding("piecewise_linear", x, n_bins=4)
    assert emb.n_outputs == 4
    np.testing.assert_allclose(emb.transform(np.array([[0.0], [25.0], [60.0], [100.0]])),
                               [[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0.4, 0], [1, 1, 1, 1]])
    # the first bin extrapolates below, the last above; the others stay clipped
    np.testing.assert_allclose(emb.transform(np.array([[-25.0], [150.0]])),
                               [[-1, 0, 0, 0], [1, 1, 1, 3]])


def test_binary_and_constant_features_pass_through():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 2, 200), np.full(200, 3.0), rng.normal(size=200)])
    emb = fit_embedding("piecewise_linear", X, n_bins=8)
    assert emb.n_outputs == 2 + 8
    Z = emb.transform(X)
    np.testing.assert_array_equal(Z[:, 0], X[:, 0])
    np.testing.assert_array_equal(Z[:, 1], X[:, 1])
    assert list(emb.feature_names(["a", "b", "c"])[:3]) == ["a", "b", "c_bin0"]


def test_periodic_features_are_sines_and_cosines_of_the_feature():
    x = np.linspace(-2, 2, 50).reshape(-1, 1)
    emb = fit_embedding("periodic", x, n_frequencies=3, seed=1)
    Z = emb.transform(x)
    assert Z.shape == (50, 1 + 6)
    np.testing.assert_allclose(Z[:, 0], x[:, 0])
    np.testing.assert_allclose(Z[:, 1] ** 2 + Z[:, 2] ** 2, 1.0, rtol=1e-12)


def test_piecewise_linear_embedding_learns_an_irregular_boundary():
    # a 1-D target that flips sign eight times: hard for a small MLP on the
    # raw feature in a few epochs, easy once the feature is binned
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2000, 1))
    y = (np.sin(8 * np.pi * x[:, 0]) > 0).astype(int)
    params = dict(hidden_layer_sizes=(32,), max_iter=30, learning_rate_init=0.01,
                  random_state=0)
    plain = RegularizedMLPClassifier(**params).fit(x, y).score(x, y)
    embedded = RegularizedMLPClassifier(**params, numeric_embedding="piecewise_linear",
                                        embedding_size=32).fit(x, y)
    assert embedded.score(x, y) > 0.95 > plain + 0.1
    assert embedded.coefs_[0].shape == (32, 32)
    assert embedded.feature_importances_.shape == (1,)
    assert embedded.scale_inputs(x).shape == (2000, 32)


def test_embedding_does_not_modify_the_input(clf_data):
    X, y = clf_data
    X = X.copy()
    before = X.copy()
    est = RegularizedMLPClassifier(max_iter=3, numeric_embedding="periodic",
                                   random_state=0).fit(X, y)
    est.predict(X)
    np.testing.assert_array_equal(X, before)


def test_invalid_ensemble_and_embedding_parameters_are_refused(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="ensemble_size"):
        RegularizedMLPClassifier(ensemble_size=0).fit(X, y)
    with pytest.raises(ValueError, match="numeric_embedding"):
        RegularizedMLPClassifier(numeric_embedding="quantile").fit(X, y)
    with pytest.raises(ValueError, match="embedding_size"):
        RegularizedMLPClassifier(numeric_embedding="periodic", embedding_size=1).fit(X, y)


# ---------------------------------------------------------------- alpha='auto'
def test_auto_alpha_is_a_per_row_strength_that_fades_with_the_data():
    from skreg._spec import AUTO_ALPHA

    X, y = make_classification(2000, 6, random_state=0)
    small = RegularizedMLPClassifier(alpha="auto", max_iter=5, random_state=0).fit(X[:300],
                                                                                  y[:300])
    large = RegularizedMLPClassifier(alpha="auto", max_iter=5, random_state=0).fit(X, y)
    assert small.alpha_ == pytest.approx(AUTO_ALPHA * 200 / 300)
    assert large.alpha_ == pytest.approx(AUTO_ALPHA * 200 / 2000)
    # the strength acts: the same data trained with the small-data strength
    # ends with smaller weights
    strong = RegularizedMLPClassifier(alpha=small.alpha_ * 100, max_iter=5,
                                      random_state=0).fit(X, y)
    assert np.linalg.norm(strong.coefs_[0]) < np.linalg.norm(large.coefs_[0])
    fixed = RegularizedMLPClassifier(alpha=0.01, max_iter=2, random_state=0).fit(X, y)
    assert fixed.alpha_ == 0.01


def test_auto_alpha_counts_class_weighted_rows_by_their_effective_number():
    from skreg._spec import AUTO_ALPHA

    X, y = make_classification(1000, 6, weights=[0.9], random_state=0)
    plain = RegularizedMLPClassifier(max_iter=3, random_state=0).fit(X, y)
    assert plain.alpha_ == pytest.approx(AUTO_ALPHA * 200 / 1000)
    # sample weights count as repeated rows (scikit-learn's convention, which
    # the estimator checks test): the strength does not change with them
    twice = RegularizedMLPClassifier(max_iter=3, random_state=0).fit(
        X, y, sample_weight=np.full(len(y), 2.0))
    assert twice.alpha_ == plain.alpha_
    # balanced class weights (mean 1): Kish's n_eff = sum(c)^2 / sum(c^2) < n
    balanced = RegularizedMLPClassifier(max_iter=3, random_state=0,
                                        class_weight="balanced").fit(X, y)
    c = len(y) / (2 * np.bincount(y))[y]
    n_eff = c.sum() ** 2 / (c ** 2).sum()
    assert n_eff < 0.7 * len(y)
    assert balanced.alpha_ == pytest.approx(AUTO_ALPHA * 200 / n_eff)
    # with sample weights as well: n * sum(s c) / sum(s c^2)
    s = np.where(np.arange(len(y)) % 2, 1.0, 3.0)
    both = RegularizedMLPClassifier(max_iter=3, random_state=0,
                                    class_weight="balanced").fit(X, y, sample_weight=s)
    assert both.alpha_ == pytest.approx(
        AUTO_ALPHA * 200 * (s * c * c).sum() / (len(y) * (s * c).sum()))
    # with early stopping only the training rows count
    stopped = RegularizedMLPClassifier(max_iter=3, random_state=0, early_stopping=True,
                                       class_weight="balanced").fit(X, y)
    assert AUTO_ALPHA * 200 / 1000 < stopped.alpha_ != balanced.alpha_
