"""skreg's regularizers as skorch callbacks, on modules that are not MLPs."""

import copy
import warnings
import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet, NeuralNetClassifier, NeuralNetRegressor
from torch import nn

from skreg.skorch import ElasticNetPenalty, GroupLasso, LpPenalty, MaxNorm


class EmbeddingModel(nn.Module):
    """Bag of token embeddings, then a linear head."""

    def __init__(self, vocab=40, dim=8, n_classes=2, sparse=False):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, sparse=sparse)
        self.out = nn.Linear(dim, n_classes)

    def forward(self, X):
        return self.out(self.emb(X).mean(1))


class ConvModel(nn.Module):
    """A small 1-D convolution over a signal, then a linear head."""

    def __init__(self, length=16, channels=4, n_classes=2):
        super().__init__()
        self.conv = nn.Conv1d(1, channels, 3)
        self.out = nn.Linear(channels * (length - 2), n_classes)

    def forward(self, X):
        return self.out(torch.relu(self.conv(X)).flatten(1))


class ResidualModel(nn.Module):
    """A projection of the features, a nonlinear head and a linear skip."""

    def __init__(self, n_features=10, width=8):
        super().__init__()
        self.proj = nn.Linear(n_features, width)
        self.head = nn.Linear(width, 1)

    def forward(self, X):
        h = self.proj(X)
        return self.head(torch.tanh(h)) + h[:, :1]


@pytest.fixture(scope="module")
def tokens():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 40, (240, 6))
    y = ((X < 8).sum(1) >= 1).astype(np.int64)  # tokens 0-7 matter, 8-39 do not
    return X, y


@pytest.fixture(scope="module")
def signals():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    t = np.linspace(0, 2 * np.pi, 16)
    X = (np.sin(t)[None] * (2 * y[:, None] - 1) + 0.5 * rng.normal(size=(200, 16)))
    return X[:, None, :].astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(256, 10)).astype(np.float32)
    y = (2 * X[:, 0] - 3 * X[:, 1] + 0.1 * rng.normal(size=256)).astype(np.float32)
    return X, y[:, None]


def embedding_net(callbacks, **kwargs):
    params = dict(criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=0.05,
                  max_epochs=6, batch_size=32, train_split=None, verbose=0)
    params.update(kwargs)
    return NeuralNetClassifier(EmbeddingModel, callbacks=callbacks, **params)


def conv_net(callbacks, **kwargs):
    params = dict(criterion=nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=0.02,
                  max_epochs=6, batch_size=32, train_split=None, verbose=0)
    params.update(kwargs)
    return NeuralNetClassifier(ConvModel, callbacks=callbacks, **params)


def fit(net, X, y, seed=0):
    torch.manual_seed(seed)
    return net.fit(X, y)


def n_zeros(tensor):
    return int((tensor.detach() == 0).sum())


# -- elastic net -----------------------------------------------------------------------

def test_l1_proximal_gives_exact_zeros_more_with_larger_alpha(tokens):
    X, y = tokens
    zeros = []
    for alpha in (0.0, 0.02, 0.1):
        net = fit(embedding_net([ElasticNetPenalty(alpha, l1_ratio=1.0)]), X, y)
        zeros.append(n_zeros(net.module_.emb.weight) + n_zeros(net.module_.out.weight))
        assert n_zeros(net.module_.out.bias) == 0  # biases are never penalised
    assert zeros[0] == 0
    assert 0 < zeros[1] < zeros[2]
    assert net.score(X, y) > 0.95  # the informative weights survive


def test_subgradient_gives_no_exact_zeros(tokens):
    X, y = tokens
    proximal = fit(embedding_net([ElasticNetPenalty(0.1, l1_ratio=1.0)]), X, y)
    subgradient = fit(embedding_net(
        [ElasticNetPenalty(0.1, l1_ratio=1.0, l1_method="subgradient")]), X, y)
    W_prox, W_sub = proximal.module_.emb.weight, subgradient.module_.emb.weight
    assert n_zeros(W_sub) <= 2 < n_zeros(W_prox) / 10
    # the subgradient still shrinks: the penalised weights are small
    unpenalised = fit(embedding_net([]), X, y)
    assert W_sub.detach().abs().sum() < 0.5 * unpenalised.module_.emb.weight.detach().abs().sum()


def test_l2_shrinks_the_weights_against_an_unpenalised_net(signals):
    X, y = signals
    plain = fit(conv_net([]), X, y)
    l2 = fit(conv_net([ElasticNetPenalty(alpha=20.0)]), X, y)
    for name in ("conv.weight", "out.weight"):
        w_plain = dict(plain.module_.named_parameters())[name].detach().norm()
        w_l2 = dict(l2.module_.named_parameters())[name].detach().norm()
        assert w_l2 < 0.9 * w_plain, name
    # the default selection: every weight of ndim >= 2, no bias
    assert dict(l2.callbacks_)["ElasticNetPenalty"].param_names_ == ["conv.weight",
                                                                      "out.weight"]


def _soft(w, t):
    return torch.sign(w) * torch.clamp(w.abs() - t, min=0)


def _one_step_net(optimizer, callbacks, lr):
    net = NeuralNet(nn.Linear, module__in_features=4, module__out_features=3,
                    criterion=nn.MSELoss, optimizer=optimizer, lr=lr, batch_size=-1,
                    max_epochs=1, train_split=None, verbose=0, callbacks=callbacks)
    torch.manual_seed(0)
    return net.initialize()


def _gradient(module, X, y):
    module = copy.deepcopy(module)
    nn.MSELoss()(module(torch.as_tensor(X)), torch.as_tensor(y)).backward()
    return module.weight.grad.detach(), module.bias.grad.detach()


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_one_step_is_the_exact_formula(solver):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 4)).astype(np.float32)
    y = rng.normal(size=(20, 3)).astype(np.float32)
    alpha, rho, lr, B = 3.0, 0.5, 0.1, 20
    optimizer = torch.optim.SGD if solver == "sgd" else torch.optim.Adam
    net = _one_step_net(optimizer, [ElasticNetPenalty(alpha, l1_ratio=rho)], lr)
    w0 = net.module_.weight.detach().clone()
    b0 = net.module_.bias.detach().clone()
    gw, gb = _gradient(net.module_, X, y)
    gw = gw + alpha * (1 - rho) * w0 / B  # the smooth L2 part enters the gradient
    net.partial_fit(X, y)
    if solver == "sgd":
        eta_w, eta_b = lr, lr
        expected_b = b0 - lr * gb
    else:
        # Adam's first step: m_hat = g, v_hat = g^2
        eta_w = lr / (gw.abs() + 1e-8)
        eta_b = lr / (gb.abs() + 1e-8)
        expected_b = b0 - eta_b * gb
    expected_w = _soft(w0 - eta_w * gw, eta_w * alpha * rho / B)
    torch.testing.assert_close(net.module_.weight.detach(), expected_w, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(net.module_.bias.detach(), expected_b, atol=1e-6, rtol=1e-5)


def test_lp_step_is_the_exact_formula():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.normal(size=(16, 3)).astype(np.float32)
    alpha, p, lr, B = 2.0, 3.0, 0.1, 16
    net = _one_step_net(torch.optim.SGD, [LpPenalty(alpha, p=p)], lr)
    w0 = net.module_.weight.detach().clone()
    gw, _ = _gradient(net.module_, X, y)
    net.partial_fit(X, y)
    expected = w0 - lr * (gw + alpha * torch.sign(w0) * w0.abs() ** (p - 1) / B)
    torch.testing.assert_close(net.module_.weight.detach(), expected, atol=1e-6, rtol=1e-5)


# -- group lasso and max-norm ----------------------------------------------------------

def test_group_lasso_removes_the_uninformative_features(features):
    X, y = features
    net = NeuralNetRegressor(
        ResidualModel, optimizer=torch.optim.Adam, lr=0.02, max_epochs=15, batch_size=32,
        train_split=None, verbose=0, callbacks=[GroupLasso(group_alpha=8.0)])
    fit(net, X, y)
    W = net.module_.proj.weight.detach()  # (out, in): column j is feature j
    column_norms = W.norm(dim=0)
    assert torch.all(column_norms[2:] == 0)  # features 2-9 are exactly out of the model
    assert torch.all(column_norms[:2] > 0.1)
    assert dict(net.callbacks_)["GroupLasso"].param_names_ == ["proj.weight"]
    assert net.score(X, y) > 0.9


def test_group_lasso_on_a_conv_weight_groups_input_channels():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(128, 3, 8)).astype(np.float32)
    y = X[:, 0].sum(1, keepdims=True).astype(np.float32)  # channels 1 and 2 are noise
    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv1d(3, 4, 3), nn.Flatten(), nn.Linear(24, 1))
    net = NeuralNetRegressor(module, optimizer=torch.optim.Adam, lr=0.02, max_epochs=10,
                             batch_size=32, train_split=None, verbose=0,
                             callbacks=[GroupLasso(32.0, param="0.weight", axis=1)])
    fit(net, X, y)
    W = net.module_[0].weight.detach()  # (out, in, kernel)
    norms = W.transpose(0, 1).reshape(3, -1).norm(dim=1)
    assert norms[0] > 0.1 and torch.all(norms[1:] == 0)


def test_max_norm_bounds_every_unit(signals):
    X, y = signals
    max_norm = 0.3
    net = fit(conv_net([MaxNorm(max_norm)], lr=0.05), X, y)
    for name in ("conv", "out"):
        W = getattr(net.module_, name).weight.detach()
        norms = W.reshape(W.shape[0], -1).norm(dim=1)  # each unit's incoming weights
        assert torch.all(norms <= max_norm + 1e-6), name
        assert norms.max() > 0.9 * max_norm  # the bound is active
    assert "penalty" not in net.history[-1]  # a constraint records no penalty


def test_max_norm_on_embedding_rows(tokens):
    X, y = tokens
    net = fit(embedding_net([MaxNorm(0.2, params="emb.weight")]), X, y)
    assert torch.all(net.module_.emb.weight.detach().norm(dim=1) <= 0.2 + 1e-6)
    assert net.module_.out.weight.detach().norm(dim=1).max() > 0.2


# -- history ---------------------------------------------------------------------------

def test_history_penalty_is_alpha_times_P_at_the_final_weights(features):
    X, y = features
    callbacks = [
        ("enet", ElasticNetPenalty(0.5, l1_ratio=0.3)),
        ("lp", LpPenalty(0.2, p=3.0, params="head.*")),
        ("group", GroupLasso(0.4, param="proj.weight")),
        ("max", MaxNorm(5.0)),
    ]
    net = NeuralNetRegressor(ResidualModel, optimizer=torch.optim.SGD, lr=0.01,
                             max_epochs=3, batch_size=64, train_split=None, verbose=0,
                             callbacks=callbacks)
    fit(net, X, y)
    params = {n: p.detach().double().numpy() for n, p in net.module_.named_parameters()}
    W = np.concatenate([params["proj.weight"].ravel(), params["head.weight"].ravel()])
    enet = 0.5 * (0.3 * np.abs(W).sum() + 0.7 / 2 * (W ** 2).sum())
    head = np.concatenate([params["head.weight"].ravel(), params["head.bias"].ravel()])
    lp = 0.2 * (np.abs(head) ** 3).sum() / 3
    group = 0.4 * np.linalg.norm(params["proj.weight"], axis=0).sum()
    assert net.history[-1, "penalty"] == pytest.approx(enet + lp + group, rel=1e-5)
    assert len(net.history[:, "penalty"]) == 3  # once per epoch
    cbs = dict(net.callbacks_)
    assert cbs["enet"].value(net) == pytest.approx(enet, rel=1e-5)
    assert cbs["lp"].value(net) == pytest.approx(lp, rel=1e-5)
    assert cbs["group"].value(net) == pytest.approx(group, rel=1e-5)
    assert cbs["lp"].param_names_ == ["head.weight", "head.bias"]


def test_lp_infinity_is_the_largest_weight(signals):
    X, y = signals
    net = fit(conv_net([LpPenalty(1.0, p=math.inf)], max_epochs=2), X, y)
    largest = max(net.module_.conv.weight.detach().abs().max(),
                  net.module_.out.weight.detach().abs().max())
    assert net.history[-1, "penalty"] == pytest.approx(float(largest), rel=1e-6)


# -- composition with skorch -----------------------------------------------------------

def test_plain_neuralnet_and_frozen_parameters(features):
    X, y = features
    module = ResidualModel()
    module.head.weight.requires_grad_(False)  # no gradient: never stepped nor shrunk
    frozen = module.head.weight.detach().clone()
    net = NeuralNet(module, criterion=nn.MSELoss, optimizer=torch.optim.Adam, lr=0.02,
                    max_epochs=2, batch_size=64, train_split=None, verbose=0,
                    callbacks=[ElasticNetPenalty(1.0, l1_ratio=0.5), MaxNorm(10.0)])
    fit(net, X, y)
    torch.testing.assert_close(net.module_.head.weight.detach(), frozen)
    assert n_zeros(net.module_.proj.weight) > 0


def test_clone_set_params_and_pickle(tokens):
    X, y = tokens
    net = embedding_net([("l1", ElasticNetPenalty(0.2, l1_ratio=1.0)),
                         ("max", MaxNorm(0.5, params=["emb.*"]))], max_epochs=3)
    fit(net, X, y)
    callback = dict(net.callbacks_)["l1"]
    assert callback.param_names_ == ["emb.weight", "out.weight"]

    cloned = clone(net)
    cloned_cb = dict(cloned.callbacks)["l1"]
    assert cloned_cb is not callback
    assert cloned_cb.get_params() == {"alpha": 0.2, "l1_ratio": 1.0,
                                      "l1_method": "proximal", "params": None}
    assert not hasattr(cloned_cb, "param_names_")
    assert dict(cloned.callbacks)["max"].get_params()["params"] == ["emb.*"]

    net.set_params(callbacks__l1__alpha=2.0)
    assert dict(net.callbacks_)["l1"].alpha == 2.0
    net.partial_fit(X, y)
    assert n_zeros(net.module_.emb.weight) > 0

    restored = pickle.loads(pickle.dumps(net))
    np.testing.assert_allclose(restored.predict_proba(X), net.predict_proba(X))
    restored.partial_fit(X, y)  # the callbacks act on the restored module's weights
    assert n_zeros(restored.module_.emb.weight) > 0
    assert torch.all(restored.module_.emb.weight.detach().norm(dim=1) <= 0.5 + 1e-6)
    restored_cb = dict(restored.callbacks_)["l1"]
    assert restored_cb.value(restored) == pytest.approx(
        restored.history[-1, "penalty"], rel=1e-6)


# -- validation ------------------------------------------------------------------------

@pytest.mark.parametrize("callback, match", [
    (ElasticNetPenalty(-1.0), "'alpha' parameter of ElasticNetPenalty"),
    (ElasticNetPenalty(1.0, l1_ratio=1.5), "'l1_ratio' parameter of ElasticNetPenalty"),
    (ElasticNetPenalty(1.0, l1_method="prox"), "'l1_method' parameter of ElasticNetPenalty"),
    (ElasticNetPenalty(1.0, params=[1]), "'params' parameter of ElasticNetPenalty"),
    (LpPenalty(-0.1, p=2), "'alpha' parameter of LpPenalty"),
    (LpPenalty(1.0, p=0.5), "'p' parameter of LpPenalty"),
    (GroupLasso(-1.0), "'group_alpha' parameter of GroupLasso"),
    (MaxNorm(0.0), "'max_norm' parameter of MaxNorm"),
])
def test_bad_arguments_raise_when_the_net_initializes(callback, match):
    with pytest.raises(ValueError, match=match):
        embedding_net([callback]).initialize()


@pytest.mark.parametrize("callback, match", [
    (ElasticNetPenalty(1.0, params="encoder.*"),
     r"'params' parameter of ElasticNetPenalty has the pattern 'encoder\.\*', which "
     r"matches no parameter.*'emb\.weight'"),
    (ElasticNetPenalty(1.0, params=["emb.weight", "typo"]), "pattern 'typo'"),
    (MaxNorm(1.0, params="nothing"), "'params' parameter of MaxNorm"),
    (GroupLasso(1.0, param="emb"), "'param' parameter of GroupLasso is 'emb'"),
    (GroupLasso(1.0, param="out.bias"), "at least 2 dimensions"),
    (GroupLasso(1.0, param="out.weight", axis=2), "'axis' parameter of GroupLasso"),
    (MaxNorm(1.0, axis=-3), "'axis' parameter of MaxNorm"),
])
def test_selections_that_do_not_fit_the_module_raise(tokens, callback, match):
    X, y = tokens
    with pytest.raises(ValueError, match=match):
        embedding_net([callback], max_epochs=1).fit(X[:40], y[:40])


def test_default_selection_needs_a_weight():
    net = NeuralNet(nn.PReLU, criterion=nn.MSELoss, max_epochs=1, train_split=None,
                    verbose=0, callbacks=[ElasticNetPenalty(1.0)])
    X = np.ones((8, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="'params' parameter of ElasticNetPenalty is None"):
        net.fit(X, X)


def test_sparse_gradients_are_refused_clearly(tokens):
    X, y = tokens
    net = embedding_net([ElasticNetPenalty(1.0)], optimizer=torch.optim.SGD,
                        module__sparse=True, max_epochs=1)
    with pytest.raises(ValueError, match="'emb.weight' has a sparse one"):
        net.fit(X[:40], y[:40])


# ------------------------------------------- skorch callbacks on skreg's estimators
def _callback_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_lr_scheduler_callback_sets_each_epochs_learning_rate():
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import StepLR

    from skreg import RegularizedMLPClassifier

    X, y = _callback_data()
    sched = LRScheduler(StepLR, step_size=2, gamma=0.1)
    clf = RegularizedMLPClassifier((8,), max_iter=6, learning_rate_init=0.01, tol=0.0,
                                   n_iter_no_change=100, random_state=0,
                                   callbacks=[sched]).fit(X, y)
    np.testing.assert_allclose(clf.history_[:, "lr"],
                               [0.01, 0.01, 1e-3, 1e-3, 1e-4, 1e-4], rtol=1e-6)
    assert not hasattr(sched, "lr_scheduler_")  # the parameter itself is not fitted


def test_skorch_early_stopping_ends_the_fit_and_checkpoint_saves_the_best(tmp_path):
    from skorch.callbacks import Checkpoint, EarlyStopping

    from skreg import RegularizedMLPClassifier

    X, y = _callback_data()
    clf = RegularizedMLPClassifier(
        (8,), max_iter=200, learning_rate_init=0.05, early_stopping=True, tol=0.0,
        n_iter_no_change=1000, random_state=0,
        callbacks=[EarlyStopping(monitor="valid_loss", patience=3),
                   Checkpoint(monitor="valid_loss_best", dirname=str(tmp_path),
                              f_optimizer=None, f_criterion=None, f_history=None,
                              load_best=False)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # stopped, not at max_iter
        clf.fit(X, y)
    valid = np.asarray(clf.history_[:, "valid_loss"])
    assert clf.n_iter_ < 200 and len(valid) == clf.n_iter_
    # skorch's rule: stopped at the 3rd epoch in a row without a better valid_loss
    assert np.argmin(valid) == len(valid) - 4
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    assert set(saved) >= {"coef", "intercept"}


def test_callbacks_parameter_is_validated():
    from skreg import RegularizedMLPClassifier

    X, y = _callback_data()
    with pytest.raises(ValueError, match="skorch callbacks"):
        RegularizedMLPClassifier((4,), max_iter=2, callbacks=[object()]).fit(X, y)
