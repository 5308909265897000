"""Weight noise, annealed gradient noise and L0 gates (hard-concrete).

The engine: the gates follow Louizos et al.'s formulas, the L0 penalty's
value and gradient, and one step of the hand-written pass with every step
hook (weight noise, gates on features or weights, gradient noise, with the
learned input scale) equals the autograd step. The estimators: L0 feature
gates select the informative features (exact zeros in
``feature_importances_``), weight gates give exact zeros in ``coefs_`` that
the predictions use, the gradient noise's variance follows its schedule
across ``partial_fit`` and pickling, weight noise changes training but not
prediction, and L-BFGS refuses all three.
"""

import itertools
import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_regression

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._engine import LOSSES, StackedMLP
from skreg._engine.backward import autograd_step, manual_step
from skreg._engine.model import GATE_INIT, GATE_RATE, hard_concrete
from skreg._engine.regularizers import (ElasticNet, GradientNoise, L0Gates, WeightNoise,
                                        default_regularization)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- the engine ------------------------------------------------------------------------

def test_hard_concrete_gates_are_the_papers():
    rng = np.random.default_rng(0)
    v = rng.normal(0, 0.4, 200)
    u = rng.uniform(0.01, 0.99, 200)
    log_alpha = GATE_INIT + GATE_RATE * v
    deterministic = np.clip(_sigmoid(log_alpha) * (ZETA - GAMMA) + GAMMA, 0, 1)
    s = _sigmoid((np.log(u) - np.log(1 - u) + log_alpha) / BETA)
    sampled = np.clip(s * (ZETA - GAMMA) + GAMMA, 0, 1)
    vt, ut = torch.tensor(v), torch.tensor(u)
    np.testing.assert_allclose(hard_concrete(vt).numpy(), deterministic, rtol=1e-12)
    np.testing.assert_allclose(hard_concrete(vt, ut).numpy(), sampled, rtol=1e-12)
    # closed gates are exact zeros, fully open ones exact ones; v = 0 is open
    assert np.any(deterministic == 0) and np.any(deterministic == 1)
    assert hard_concrete(torch.zeros(1)).item() == 1.0
    # the hand-written derivative is autograd's
    leaf = vt.clone().requires_grad_(True)
    hard_concrete(leaf, ut).sum().backward()
    _, derivative = hard_concrete(vt, ut, derivative=True)
    torch.testing.assert_close(derivative, leaf.grad, rtol=1e-12, atol=0)


def test_l0_penalty_value_and_gradient():
    model = StackedMLP((3, 4, 2), "relu", n_members=2, gates="weights").double()
    model.reset_parameters([0, 1])
    with torch.no_grad():
        model.coef[:, model.gate_slice] = torch.linspace(-1, 0.3, model.n_gate_weights)
    reg = L0Gates(0.7, "weights", model.n_gate_weights)
    v = model.coef.detach()[:, model.gate_slice].numpy()
    log_alpha = GATE_INIT + GATE_RATE * v
    expected = 0.7 * _sigmoid(log_alpha - BETA * np.log(-GAMMA / ZETA)).sum(1)
    np.testing.assert_allclose(reg.value(model).detach().numpy(), expected, rtol=1e-12)
    reg.value(model).sum().backward()
    grad = torch.zeros_like(model.coef)
    reg.add_grad_(grad, model.coef.detach(), 0.25)
    torch.testing.assert_close(grad, 0.25 * model.coef.grad, rtol=1e-12, atol=0)
    assert not reg.smooth


def _step_case(C, gates, weight_noise, gradient_noise, scale_layer):
    """Two copies of a small stack and the regularizers of the case."""
    gen = torch.Generator().manual_seed(0)
    sizes = (4, 5, 3, 2)
    kwargs = dict(n_members=C, scale_layer=scale_layer, gates=gates,
                  count_steps=bool(gradient_noise))
    model = StackedMLP(sizes, "tanh", **kwargs).double()
    model.reset_parameters(list(range(C)))
    with torch.no_grad():
        # gates part open (the gradient through the clip is tested), a scale away from 1
        v = model.coef[:, model.gate_slice]
        v.copy_(0.2 * torch.randn(v.shape, generator=gen, dtype=torch.float64) - 0.25)
        u = model.coef[:, model.scale_slice]
        u.copy_(0.1 * torch.randn(u.shape, generator=gen, dtype=torch.float64))
    reference = StackedMLP(sizes, "tanh", **kwargs).double()
    reference.load_state_dict(model.state_dict())
    regularizers = [ElasticNet(np.zeros(C), np.full(C, 0.3))]
    if weight_noise:
        regularizers.append(WeightNoise(weight_noise))
    if gradient_noise:
        regularizers.append(GradientNoise(gradient_noise))
    if gates:
        regularizers.append(L0Gates(0.7, gates, model.n_gate_weights))
    return model, reference, regularizers


@pytest.mark.parametrize("C,gates,weight_noise,gradient_noise,scale_layer", [
    case for case in itertools.product([1, 3], [None, "features", "weights"], [0.0, 0.1],
                                       [0.0, 0.05], [False, True])
    if case[1] or case[2] or case[3]])
def test_manual_step_with_step_hooks_equals_autograd(C, gates, weight_noise, gradient_noise,
                                                     scale_layer):
    """Three SGD steps with the same draws: the hand-written step (weights perturbed
    in place, the gates' gradient split by hand) lands where autograd's does."""
    model, reference, regularizers = _step_case(C, gates, weight_noise, gradient_noise,
                                                scale_layer)
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(9, 4, generator=gen, dtype=torch.float64)
    target = torch.randn(9, 2, generator=gen, dtype=torch.float64)
    loss = LOSSES["squared_error"](2)
    lr = 0.5
    model.coef.grad = torch.zeros_like(model.coef)
    model.intercept.grad = torch.zeros_like(model.intercept)

    def sgd():
        with torch.no_grad():
            model.coef -= lr * model.coef.grad
            model.intercept -= lr * model.intercept.grad

    manual = manual_step(model, loss, regularizers, sgd, None, 0.0,
                         torch.Generator().manual_seed(5))
    optimizer = torch.optim.SGD([reference.coef, reference.intercept], lr=lr)
    auto = autograd_step(reference, loss, regularizers, optimizer, None, 0.0,
                         torch.Generator().manual_seed(5))
    start = model.coef.detach().clone()
    for _ in range(3):
        with torch.no_grad():
            manual(X, target, None, 1 / 9, torch.zeros(C, dtype=torch.float64))
            auto(X, target, None, 1 / 9, torch.zeros(C, dtype=torch.float64))
    torch.testing.assert_close(model.coef, reference.coef, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(model.intercept, reference.intercept, rtol=1e-10, atol=1e-12)
    if gates:
        assert (model.coef - start)[:, model.gate_slice].abs().max() > 1e-3
    if gradient_noise:
        assert int(model.n_steps) == int(reference.n_steps) == 3


def test_weight_noise_leaves_the_stored_weights_clean():
    """Without a gradient (lr 0) a step with weight noise leaves coef bit for bit."""
    model, _, regularizers = _step_case(1, "features", 0.5, 0.0, False)
    model.coef.grad = torch.zeros_like(model.coef)
    model.intercept.grad = torch.zeros_like(model.intercept)
    before = model.coef.detach().clone()
    step = manual_step(model, LOSSES["squared_error"](2), regularizers, lambda: None, None,
                       0.0, torch.Generator().manual_seed(0))
    with torch.no_grad():
        step(torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64),
             None, 0.2, torch.zeros(1, dtype=torch.float64))
    torch.testing.assert_close(model.coef, before, rtol=0, atol=0)


def test_everything_is_off_by_default():
    defaults = default_regularization()
    assert defaults["weight_noise"] == defaults["gradient_noise"] == defaults["l0_alpha"] == 0
    model = RegularizedMLPRegressor(max_iter=2).fit(*make_regression(50, 3, random_state=0))
    net = model._trainer.model
    assert net.n_gate_weights == 0 and not hasattr(net, "n_steps")
    assert not any(isinstance(r, (WeightNoise, GradientNoise, L0Gates))
                   for r in model._trainer.regularizers)
    assert "gradient_noise_variance" not in model.history_[-1]


# -- the estimators --------------------------------------------------------------------

def test_l0_feature_gates_select_the_informative_features():
    X, y = make_classification(600, 20, n_informative=5, n_redundant=0, n_repeated=0,
                               shuffle=False, random_state=0)
    model = RegularizedMLPClassifier(numeric_embedding=None,
                                     hidden_layer_sizes=(32,), max_iter=30, batch_size=64,
                                     learning_rate_init=0.01, random_state=0,
                                     l0_alpha=1.0).fit(X, y)
    importances = model.feature_importances_
    assert np.all(importances[:5] > 0)
    assert np.sum(importances[5:] == 0) >= 13  # noise features gated off exactly
    # a closed gate is an exact zero row of coefs_[0]; the stored row is not
    closed = np.flatnonzero(importances == 0)
    assert np.all(model.coefs_[0][closed] == 0)
    stored = model._trainer.model.coef_views()[0].detach().numpy()
    assert np.all(np.abs(stored[closed]).sum(1) > 0)
    assert model.score(X, y) > 0.9
    assert model.history_[-1, "penalty"] > 0  # the expected L0 count is in the objective


def test_l0_weight_gates_give_exact_zeros_that_predictions_use():
    X, y = make_regression(400, 8, n_informative=3, noise=0.5, random_state=0)
    y = (y - y.mean()) / y.std()  # X and y on the scale the estimator would give them
    model = RegularizedMLPRegressor(numeric_embedding=None,
                                    hidden_layer_sizes=(16,), max_iter=40, batch_size=64,
                                    learning_rate_init=0.01, random_state=0, l0_alpha=0.5,
                                    l0_gates="weights", input_scaling=None,
                                    target_scaling=None).fit(X, y)
    W0, W1 = model.coefs_
    assert (W0 == 0).mean() > 0.5 and (W1 == 0).any()
    # the prediction is the plain network of the gated coefs_
    h = np.maximum(X @ W0 + model.intercepts_[0], 0)
    np.testing.assert_allclose(model.predict(X), (h @ W1 + model.intercepts_[1]).ravel(),
                               rtol=1e-4, atol=1e-3)
    stored = model._trainer.model.coef_views()[0].detach().numpy()
    assert np.count_nonzero(stored) > np.count_nonzero(W0)
    assert model.score(X, y) > 0.95


def test_gradient_noise_variance_follows_the_schedule():
    X, y = make_regression(200, 5, noise=0.5, random_state=0)
    eta, gamma = 0.3, 0.55
    model = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, batch_size=50,
                                    random_state=0, gradient_noise=eta).fit(X, y)
    # 4 steps per epoch: epoch e ends with step t = 4 e - 1
    variance = np.asarray(model.history_[:, "gradient_noise_variance"])
    epochs = np.arange(1, 6)
    np.testing.assert_allclose(variance, eta / (4 * epochs) ** gamma, rtol=1e-12)
    # the step count is saved with the network: pickling and partial_fit continue it
    again = pickle.loads(pickle.dumps(model))
    again.partial_fit(X, y)
    assert again.history_[-1, "gradient_noise_variance"] == pytest.approx(
        eta / 24 ** gamma, rel=1e-12)
    slower = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=2, batch_size=50,
                                     random_state=0, gradient_noise=eta,
                                     gradient_noise_decay=1.0).fit(X, y)
    np.testing.assert_allclose(slower.history_[:, "gradient_noise_variance"],
                               [eta / 4, eta / 8], rtol=1e-12)
    plain = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, batch_size=50,
                                    random_state=0).fit(X, y)
    assert np.abs(plain.coefs_[0] - model.coefs_[0]).max() > 1e-3


def test_weight_noise_changes_training_not_prediction():
    X, y = make_regression(200, 5, noise=0.5, random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=5, batch_size=50, random_state=0,
                  input_scaling=None, target_scaling=None)
    plain = RegularizedMLPRegressor(numeric_embedding=None, **params).fit(X, y)
    noisy = RegularizedMLPRegressor(numeric_embedding=None, weight_noise=0.1, **params).fit(X, y)
    assert np.abs(plain.coefs_[0] - noisy.coefs_[0]).max() > 1e-3
    first = noisy.predict(X)
    np.testing.assert_array_equal(first, noisy.predict(X))
    h = np.maximum(X @ noisy.coefs_[0] + noisy.intercepts_[0], 0)
    np.testing.assert_allclose(first, (h @ noisy.coefs_[1] + noisy.intercepts_[1]).ravel(),
                               rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("params", [
    dict(weight_noise=0.05), dict(gradient_noise=0.01),
    dict(l0_alpha=0.5), dict(l0_alpha=0.5, l0_gates="weights", scale_layer=True),
    dict(l0_alpha=0.5, ensemble_size=2)])
def test_pickle_round_trip_keeps_predictions(params):
    X, y = make_classification(200, 6, random_state=0)
    model = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                                     learning_rate_init=0.01, **params).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    for a, b in zip(again.coefs_, model.coefs_):
        np.testing.assert_array_equal(a, b)
    assert again.get_params() == model.get_params()


@pytest.mark.parametrize("params,name", [
    (dict(weight_noise=0.1), "weight_noise"), (dict(gradient_noise=0.1), "gradient_noise"),
    (dict(l0_alpha=1.0), "l0_alpha")])
def test_lbfgs_refuses_the_stochastic_regularizers(params, name):
    X, y = make_regression(50, 3, random_state=0)
    with pytest.raises(ValueError, match=f"lbfgs.*{name}"):
        RegularizedMLPRegressor(solver="lbfgs", **params).fit(X, y)


def test_parameters_are_validated():
    X, y = make_regression(50, 3, random_state=0)
    for params in (dict(weight_noise=-1.0), dict(l0_gates="rows"),
                   dict(gradient_noise_decay=-0.5)):
        with pytest.raises(ValueError, match=next(iter(params))):
            RegularizedMLPRegressor(**params).fit(X, y)
    assert math.isclose(RegularizedMLPRegressor().gradient_noise_decay, 0.55)
