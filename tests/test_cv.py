"""RegularizedMLPClassifierCV / RegularizedMLPRegressorCV and the batched engine."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)
from skreg._torch.batched import (ACTIVATION_FUNCTIONS, ConfigSpec, FoldStack,
                                  _loss_and_grad, _targets, train_models)

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


# ---------------------------------------------------------------- the engine
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "gelu", "identity"])
@pytest.mark.parametrize("kind,n_out", [("binary", 1), ("multiclass", 3), ("regression", 2)])
@pytest.mark.parametrize("hidden", [(6,), (5, 4)])
def test_manual_backward_equals_autograd(activation, kind, n_out, hidden):
    """The hand-written batched backward pass gives autograd's gradients, with
    dropout on some configurations and per-configuration label smoothing."""
    torch.manual_seed(0)
    n, d, C = 7, 3, 4
    stack = FoldStack.initialize([d, *hidden, n_out], C, activation, torch.float64, "cpu",
                                 torch.Generator().manual_seed(0))
    X = torch.randn(n, d, dtype=torch.float64)
    labels = (torch.randint(0, max(n_out, 2), (n,)) if kind != "regression"
              else torch.randn(n, n_out, dtype=torch.float64))
    smoothing = torch.tensor([0.0, 0.1, 0.2, 0.0], dtype=torch.float64)
    target = _targets(labels, kind, n_out, smoothing)
    # dropout on the last two configurations
    masks = (2, [(torch.rand(2, h, n, dtype=torch.float64) > 0.3).double() * 1.4
                 for h in hidden])

    out, cache = stack.forward(X, masks, keep=True)
    losses, delta = _loss_and_grad(out, target, kind)
    grads = [torch.zeros_like(p) for p in stack.params]
    stack.backward(X, delta.clone(), cache, masks, grads)

    # reference: each configuration's network on its own, out of place, autograd
    params = [p.clone().requires_grad_(True) for p in stack.params]
    act = ACTIVATION_FUNCTIONS[activation]
    L = len(hidden) + 1
    total, ref_losses = 0.0, []
    for c in range(C):
        ws = FoldStack(params, activation).network(c)
        h = X
        for k in range(L):
            h = h @ ws[k] + ws[L + k]
            if k < L - 1:
                h = act(h)
                if c >= 2:
                    h = h * masks[1][k][c - 2].t()
        t = target[c if target.shape[0] > 1 else 0].t()  # (n, K)
        if kind == "binary":
            rows = torch.nn.functional.binary_cross_entropy_with_logits(
                h, t, reduction="none").sum(1)
        elif kind == "multiclass":
            rows = -(t * torch.log_softmax(h, 1)).sum(1)
        else:
            rows = 0.5 * ((h - t) ** 2).mean(1)
        ref_losses.append(rows)
        total = total + rows.sum()
    expected = torch.autograd.grad(total, params)
    torch.testing.assert_close(losses, torch.stack(ref_losses).detach())
    for g, e in zip(grads, expected):
        torch.testing.assert_close(g, e, rtol=1e-9, atol=1e-10)


def _train(spec, X, y, **kw):
    Xt = torch.as_tensor(X, dtype=torch.float64)
    Yt = torch.as_tensor(y)
    folds = [train for train, _ in KFold(2).split(X)]
    params = dict(layer_sizes=[X.shape[1], 16, 3], activation="relu", kind="multiclass",
                  lr=0.01, betas=(0.9, 0.999), eps=1e-8, batch_size=50, max_iter=30,
                  tol=0.0, n_iter_no_change=100, early_stopping=False,
                  l1_method="proximal", shuffle=True, seed=0)
    params.update(kw)
    return train_models(Xt, Yt, torch.ones(2, len(X), dtype=torch.float64), folds, None,
                        spec, **params)


def test_each_configuration_gets_its_own_penalty(clf_data):
    X, y = clf_data
    spec = ConfigSpec(l1=np.array([0.0, 0.0, 0.0, 1.0]), l2=np.array([0.0, 0.1, 1.0, 0.0]),
                      dropout=np.zeros(4), label_smoothing=np.zeros(4))
    result = _train(spec, X, y)
    norms = [[float(torch.linalg.norm(result.coefs[0][c, f])) for f in range(2)]
             for c in range(4)]
    # stronger L2, smaller weights, in every fold
    for f in range(2):
        assert norms[0][f] > norms[1][f] > norms[2][f]
    # only the L1 configuration has exact zeros
    zeros = [float((result.coefs[0][c] == 0).double().mean()) for c in range(4)]
    assert zeros[3] > 0.3 and max(zeros[:3]) == 0.0


def test_label_smoothing_per_configuration_lowers_confidence(clf_data):
    X, y = clf_data
    spec = ConfigSpec(l1=np.zeros(2), l2=np.zeros(2), dropout=np.zeros(2),
                      label_smoothing=np.array([0.0, 0.3]))
    result = _train(spec, X, y, max_iter=40)
    from skreg._torch.batched import network_outputs
    Xt = torch.as_tensor(X)
    confidence = []
    for c in range(2):
        out = network_outputs([W[c, 0] for W in result.coefs],
                              [b[c, 0] for b in result.intercepts], Xt, "relu")
        confidence.append(float(torch.softmax(out, 1).max(1).values.mean()))
    assert confidence[1] < confidence[0] - 0.05


def test_dropout_configurations_differ_and_stay_finite(clf_data):
    X, y = clf_data
    spec = ConfigSpec(l1=np.zeros(3), l2=np.zeros(3), dropout=np.array([0.5, 0.0, 0.2]),
                      label_smoothing=np.zeros(3))
    result = _train(spec, X, y, max_iter=10)
    W = result.coefs[0]
    assert torch.isfinite(W).all()
    assert not torch.allclose(W[0], W[1]) and not torch.allclose(W[1], W[2])


def test_stopping_rule_per_network_and_compaction(clf_data):
    """A configuration that converges early stops early, in every fold, while the
    others continue; its weights are the ones it stopped with."""
    X, y = clf_data
    spec = ConfigSpec(l1=np.zeros(2), l2=np.array([0.0, 50.0]), dropout=np.zeros(2),
                      label_smoothing=np.zeros(2))
    result = _train(spec, X, y, tol=1e-3, n_iter_no_change=2, max_iter=60)
    assert result.converged[1].all()
    assert result.n_iter[1].max() < result.n_iter[0].min()
    assert torch.isfinite(result.coefs[0]).all()


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
