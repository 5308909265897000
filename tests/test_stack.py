"""The engine trains a stack of members exactly as it trains one network.

A plain fit is a stack of one member, a search's fold models a stack of
configurations x folds: the hand-written pass of a stack equals autograd,
each member keeps its own penalty, smoothing, dropout and stopping rule, and
a search's fold model equals the plain estimator fitted on the fold's rows.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)
from skreg._engine import (ACTIVATIONS, LOSSES, StackedMLP, Trainer, TrainingConfig,
                           TrainingData)
from skreg._engine.backward import manual_step
from skreg._engine.regularizers import ElasticNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=400, n_features=12, n_informative=6,
                               n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y


def _config(C, n_features, n_classes=3, **kw):
    params = dict(layer_sizes=(n_features, 16, n_classes), activation="relu",
                  loss=LOSSES["log_loss"](n_classes), batch_size=50, seeds=np.zeros(C),
                  alpha=0.0, l1_ratio=0.0, dropout=0.0, label_smoothing=0.0,
                  regularization={"penalty": "elasticnet"}, learning_rate_init=0.01,
                  max_iter=30, tol=0.0,
                  n_iter_no_change=1000, dtype=torch.float64)
    params.update(kw)
    return TrainingConfig(**params)


def _data(X, y, folds=None):
    return TrainingData(X=torch.as_tensor(X), y=torch.as_tensor(y),
                        train_rows=folds)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss_name,n_out", [("binary_log_loss", 1), ("log_loss", 3),
                                             ("squared_error", 2), ("poisson", 2)])
@pytest.mark.parametrize("shared_rows", [True, False])
def test_stacked_manual_pass_equals_autograd(activation, loss_name, n_out, shared_rows):
    """One SGD step of every member of a stack (own L2 and L1 strengths, own
    dropout masks and label smoothing, row weights) equals autograd's step."""
    torch.manual_seed(0)
    C, n, d, hidden = 3, 7, 4, (5, 3)
    model = StackedMLP((d, *hidden, n_out), activation, n_members=C).double()
    model.reset_parameters([0, 1, 2])
    loss = LOSSES[loss_name](n_out)
    X = torch.randn(n, d, dtype=torch.float64) if shared_rows else \
        torch.randn(C, n, d, dtype=torch.float64)
    if loss_name == "log_loss":
        smoothing = torch.tensor([0.0, 0.1, 0.2], dtype=torch.float64).view(-1, 1, 1)
        target = loss.targets(torch.randint(0, n_out, (n,)), torch.float64, smoothing)
    elif loss_name == "binary_log_loss":
        target = loss.targets(torch.randint(0, 2, (n,)), torch.float64, 0.1)
    else:
        target = torch.rand(n, n_out, dtype=torch.float64) * 2
    w = torch.rand(C, n, dtype=torch.float64) + 0.5
    masks = [(torch.rand(C, n, h, dtype=torch.float64) > 0.3).double() / 0.7 for h in hidden]
    masks[0][0] = 1.0  # a member without dropout on the first layer
    l1, l2 = np.array([0.0, 0.2, 0.5]), np.array([0.3, 0.0, 1.0])
    scale = (1.0 / w.sum(1)).view(-1, 1, 1)
    lr = 0.5

    reference = StackedMLP((d, *hidden, n_out), activation, n_members=C).double()
    reference.load_state_dict(model.state_dict())
    model.coef.grad = torch.zeros_like(model.coef)
    model.intercept.grad = torch.zeros_like(model.intercept)

    def sgd():
        with torch.no_grad():
            model.coef -= lr * model.coef.grad
            model.intercept -= lr * model.intercept.grad

    step = manual_step(model, loss, [ElasticNet(l1, l2, l1_method="subgradient")], sgd,
                       lambda xb: masks, 0.0, None)
    loss_sum = torch.zeros(C, dtype=torch.float64)
    with torch.no_grad():
        step(X, target, w, scale, loss_sum)

    out = reference(X, keep_masks=masks)
    rows = loss.value(out, target)
    W = reference.coef
    penalty = torch.as_tensor(l1) * (torch.sign(W.detach()) * W).sum(1) + \
        0.5 * torch.as_tensor(l2) * (W * W).sum(1)
    objective = ((rows * w).sum(1) * scale.view(-1) + penalty * scale.view(-1)).sum()
    objective.backward()
    torch.testing.assert_close(loss_sum, (rows * w).sum(1).detach())
    with torch.no_grad():
        torch.testing.assert_close(model.coef, reference.coef - lr * reference.coef.grad,
                                   rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(model.intercept,
                                   reference.intercept - lr * reference.intercept.grad,
                                   rtol=1e-10, atol=1e-12)


def test_each_member_gets_its_own_penalty(clf_data):
    X, y = clf_data
    config = _config(4, X.shape[1], alpha=[0.0, 0.1, 1.0, 1.0], l1_ratio=[0, 0, 0, 1.0])
    result = Trainer(config).train(_data(X, y))
    norms = np.linalg.norm(result.coef, axis=1)
    assert norms[0] > norms[1] > norms[2]  # stronger L2, smaller weights
    zeros = (result.coef == 0).mean(1)
    assert zeros[3] > 0.3 and zeros[:3].max() == 0.0  # only the L1 member has zeros


def test_label_smoothing_per_member_lowers_confidence(clf_data):
    X, y = clf_data
    config = _config(2, X.shape[1], label_smoothing=[0.0, 0.3], max_iter=40)
    result = Trainer(config).train(_data(X, y))
    model = StackedMLP(config.layer_sizes, n_members=2).double()
    with torch.no_grad():
        model.coef.copy_(torch.as_tensor(result.coef))
        model.intercept.copy_(torch.as_tensor(result.intercept))
        proba = torch.softmax(model(torch.as_tensor(X)), -1)
    confidence = proba.max(-1).values.mean(-1)
    assert confidence[1] < confidence[0] - 0.05


def test_stopping_rule_per_member_removes_stopped_members(clf_data):
    """A member that converges early stops early while the others go on;
    the ones left keep training on their own folds."""
    X, y = clf_data
    folds = [np.arange(0, 300), np.arange(100, 400)]
    # dropout on the members that converge: on the others its noise alone can
    # meet the stopping rule (tol=1e-3) on some draws of the masks
    config = _config(4, X.shape[1], alpha=[0.0, 50.0, 0.0, 50.0], groups=[0, 0, 1, 1],
                     tol=1e-3, n_iter_no_change=2, max_iter=60, dropout=[0.0, 0.3, 0.0, 0.3])
    result = Trainer(config).train(_data(X, y, folds))
    assert result.converged[[1, 3]].all()
    assert result.n_iter[[1, 3]].max() < result.n_iter[[0, 2]].min()
    assert np.isfinite(result.coef).all()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_fold_model_equals_the_refit_on_the_fold(activation, clf_data):
    """The search's fold model of a configuration and the plain estimator fitted
    with it on the fold's training rows are the same network: same
    initialisation, same shuffles, same training code."""
    X, y = clf_data
    train, test = np.arange(0, 300), np.arange(300, 400)
    kw = dict(hidden_layer_sizes=(8,), activation=activation, max_iter=5,
              learning_rate_init=0.01, random_state=3, input_scaling=None, tol=0.0,
              n_iter_no_change=100)
    search = RegularizedMLPClassifierCV(alphas=[0.5], cv=[(train, test)], refit=True,
                                        **kw).fit(X, y)
    plain = RegularizedMLPClassifier(alpha=0.5, penalty="elasticnet", l1_ratio=0.0,
                                     **kw).fit(X[train], y[train])
    np.testing.assert_allclose(search.cv_results_["split0_test_score"][0],
                               plain.score(X[test], y[test]))
    refit_on_fold = search.best_estimator_.fit(X[train], y[train])
    for a, b in zip(refit_on_fold.coefs_, plain.coefs_):
        np.testing.assert_array_equal(a, b)


def test_regression_fold_model_equals_the_refit_with_scaling():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X[:, 0] * 3 + np.sin(X[:, 1]) + 10
    train, test = np.arange(150), np.arange(150, 200)
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, tol=0.0,
              n_iter_no_change=100)
    search = RegularizedMLPRegressorCV(alphas=[0.1], cv=[(train, test)], **kw).fit(X, y)
    plain = RegularizedMLPRegressor(alpha=0.1, penalty="elasticnet", l1_ratio=0.0,
                                    **kw).fit(X[train], y[train])
    np.testing.assert_allclose(search.cv_results_["split0_test_score"][0],
                               plain.score(X[test], y[test]), rtol=1e-5)


@pytest.mark.parametrize("C", [1, 3])
def test_relu_dropout_factor_folded_into_the_product_changes_nothing(C):
    """With ReLU and one dropout rate per layer for every member, the backward
    pass takes the inverted-dropout factor as a product's alpha and skips the
    mask multiply; the step is the one with the explicit multiply."""
    torch.manual_seed(0)
    n, d, hidden, p = 9, 4, (6, 5), 0.25
    X = torch.randn(n, d, dtype=torch.float64)
    loss = LOSSES["squared_error"](2)
    target = torch.randn(n, 2, dtype=torch.float64)
    shape = (lambda h: (n, h)) if C == 1 else (lambda h: (C, n, h))
    masks = [(torch.rand(*shape(h), dtype=torch.float64) > p).double() / (1 - p)
             for h in hidden]
    results = []
    for factors in (None, [1 / (1 - p)] * 2):
        model = StackedMLP((d, *hidden, 2), "relu", n_members=C).double()
        model.reset_parameters(range(C))
        model.coef.grad = torch.zeros_like(model.coef)
        model.intercept.grad = torch.zeros_like(model.intercept)
        step = manual_step(model, loss, [], lambda: None, lambda xb: masks, 0.0, None,
                           dropout_factors=factors)
        with torch.no_grad():
            step(X, target, None, 1.0 / n, torch.zeros(C, dtype=torch.float64))
        results.append((model.coef.grad.clone(), model.intercept.grad.clone()))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
