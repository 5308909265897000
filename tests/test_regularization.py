"""Each regularizer does what it claims, measured on data."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._engine import LOSSES, StackedMLP, Trainer
from skreg._engine.regularizers import ElasticNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def noisy_linear(n_train=200, n_val=1000, n_features=50, noise=0.2, seed=0):
    """Seed 000's problem: y = w.x + b + noise in 50 dimensions."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=n_features), rng.normal()
    X = rng.normal(size=(n_train + n_val, n_features))
    y = X @ w + b + noise * rng.normal(size=n_train + n_val)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def weights(est):
    return np.concatenate([W.ravel() for W in est.coefs_])


def test_larger_alpha_gives_smaller_weight_norm(digits):
    X, y = digits
    norms = [
        np.linalg.norm(weights(RegularizedMLPClassifier(
            (32,), alpha=alpha, max_iter=30, random_state=0).fit(X, y)))
        for alpha in (0.0, 1.0, 10.0)
    ]
    assert norms[0] > norms[1] > norms[2]


def test_l1_leaves_many_more_near_zero_weights_than_l2(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(64,), alpha=1.0, max_iter=30, random_state=0,
              numeric_embedding=None)
    l1 = RegularizedMLPClassifier(penalty="l1", **kw).fit(X, y)
    l2 = RegularizedMLPClassifier(penalty="l2", **kw).fit(X, y)
    frac_l1 = np.mean(np.abs(weights(l1)) < 1e-3)
    frac_l2 = np.mean(np.abs(weights(l2)) < 1e-3)
    assert frac_l1 > 5 * frac_l2
    assert l1.score(X, y) > 0.85


def test_elasticnet_sits_between_l1_and_l2(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), alpha=1.0, max_iter=20, random_state=0)
    fracs = [np.mean(np.abs(weights(RegularizedMLPClassifier(
        penalty=p, l1_ratio=0.5, **kw).fit(X, y))) < 1e-3)
        for p in ("l2", "elasticnet", "l1")]
    assert fracs[0] < fracs[1] < fracs[2]


def test_penalty_none_and_alpha_zero_are_the_same_fit(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    a = RegularizedMLPClassifier(penalty=None, **kw).fit(X, y)
    b = RegularizedMLPClassifier(penalty="l2", alpha=0.0, **kw).fit(X, y)
    np.testing.assert_array_equal(weights(a), weights(b))
    assert all(p == 0 for p in a.history_[:, "penalty"])


def test_penalty_value_formula():
    model = StackedMLP((2, 2), n_members=1)
    with torch.no_grad():
        model.coef.copy_(torch.tensor([[1.0, -2.0, 0.0, 3.0]]))
    pen = ElasticNet(l1=[0.5 * 0.25], l2=[0.5 * 0.75], l1_method="subgradient")
    # alpha * (rho * |w|_1 + (1 - rho) / 2 * |w|_2^2) = 0.5 * (0.25 * 6 + 0.375 * 14)
    assert pen.value(model).item() == pytest.approx(0.5 * (0.25 * 6 + 0.375 * 14))
    w = model.coef.detach()
    grad = torch.zeros_like(w)
    pen.add_grad_(grad, w, scale=2.0)
    expected = 2.0 * 0.5 * (0.25 * torch.sign(w) + 0.75 * w)
    torch.testing.assert_close(grad, expected)


def test_each_member_of_a_stack_has_its_own_penalty():
    """Per-member strengths: member m's gradient is that of its own alpha."""
    model = StackedMLP((2, 2), n_members=3)
    torch.manual_seed(0)
    with torch.no_grad():
        model.coef.normal_()
    w = model.coef.detach()
    l1, l2 = np.array([0.0, 0.1, 0.3]), np.array([1.0, 0.0, 0.5])
    pen = ElasticNet(l1=l1, l2=l2, l1_method="subgradient")
    grad = torch.zeros_like(w)
    pen.add_grad_(grad, w, scale=0.5)
    for m in range(3):
        single = ElasticNet(l1=[l1[m]], l2=[l2[m]], l1_method="subgradient")
        g = torch.zeros_like(w[m:m + 1])
        single.add_grad_(g, w[m:m + 1], scale=0.5)
        torch.testing.assert_close(grad[m:m + 1], g)
    expected = l1 * w.abs().sum(1).numpy() + 0.5 * l2 * (w ** 2).sum(1).numpy()
    np.testing.assert_allclose(pen.value(model).detach().numpy(), expected, rtol=1e-6)


def test_l2_matches_sklearn_alpha_scaling():
    """One full-batch SGD step moves the weights by lr * (grad_loss + alpha W / n)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    kw = dict(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, batch_size=40,
              shuffle=False, learning_rate_init=0.1, random_state=0, numeric_embedding=None)
    base = RegularizedMLPRegressor(alpha=0.0, **kw).partial_fit(X, y)
    pen = RegularizedMLPRegressor(alpha=8.0, **kw).partial_fit(X, y)
    # the initial weights both fits started from (same random_state)
    fresh = RegularizedMLPRegressor(**kw)
    fresh._n_targets = 1
    config = fresh._training_config(3, 1, 40, "cpu", torch.float64)
    start = Trainer(config).model.coef_flat.detach().numpy()
    diff = weights(base) - weights(pen)
    np.testing.assert_allclose(diff, 0.1 * 8.0 / 40 * start, rtol=1e-10, atol=1e-12)


def test_adamw_decouples_weight_decay_from_adam_scaling(digits):
    """Seed 001: an L2 term in Adam's gradient is not AdamW's decay."""
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), alpha=5.0, max_iter=10, random_state=0)
    coupled = RegularizedMLPClassifier(solver="adam", **kw).fit(X, y)
    decoupled = RegularizedMLPClassifier(solver="adamw", **kw).fit(X, y)
    none = RegularizedMLPClassifier(solver="adam", penalty=None, **kw).fit(X, y)
    w_c, w_d, w_n = weights(coupled), weights(decoupled), weights(none)
    assert np.abs(w_c - w_d).max() > 1e-2
    # both shrink relative to no penalty
    assert np.linalg.norm(w_d) < np.linalg.norm(w_n)
    assert np.linalg.norm(w_c) < np.linalg.norm(w_n)
    # decoupled decay shrinks every weight by the same factor per step, so
    # weights with large gradients are not spared as they are under coupled L2
    assert coupled.history_[-1, "penalty"] != decoupled.history_[-1, "penalty"]


def test_adamw_weight_decay_equals_alpha_over_batch_size():
    X = np.random.default_rng(0).normal(size=(64, 5))
    y = (X[:, 0] > 0).astype(int)
    clf = RegularizedMLPClassifier((8,), solver="adamw", penalty="elasticnet",
                                   alpha=2.0, l1_ratio=0.25, batch_size=16,
                                   max_iter=1).fit(X, y)
    groups = clf._trainer.optimizer.param_groups
    assert groups[0]["weight_decay"] == pytest.approx(2.0 * 0.75 / 16)
    assert groups[1]["weight_decay"] == 0.0  # biases are never penalized


def _gap(est, X, y, X_val, y_val):
    """Validation MSE minus training MSE."""
    return np.mean((est.predict(X_val) - y_val) ** 2) - np.mean((est.predict(X) - y) ** 2)


# the network of Tom Kite's noisy linear comparison: [50, 25, 25, 1], full-batch Adam at lr 0.01
SEED000 = dict(hidden_layer_sizes=(25, 25), penalty=None, learning_rate_init=0.01,
               batch_size=200, random_state=0, n_iter_no_change=10_000,
               numeric_embedding=None)


@pytest.mark.parametrize("extra", [{"dropout": 0.1},
                                   {"penalty": "l2", "alpha": 5.0},
                                   {"penalty": "l1", "alpha": 2.0}],
                         ids=["dropout", "l2", "l1"])
def test_regularizers_narrow_the_generalisation_gap(extra):
    """Seed 000: 200 noisy 50-d linear samples; the plain MLP interpolates."""
    X, y, X_val, y_val = noisy_linear()
    plain = RegularizedMLPRegressor(max_iter=300, **SEED000).fit(X, y)
    reg = RegularizedMLPRegressor(max_iter=300, **{**SEED000, **extra}).fit(X, y)
    assert _gap(reg, X, y, X_val, y_val) < 0.7 * _gap(plain, X, y, X_val, y_val)
    assert np.mean((reg.predict(X_val) - y_val) ** 2) < np.mean(
        (plain.predict(X_val) - y_val) ** 2)


def test_early_stopping_narrows_the_generalisation_gap():
    """Seed 000's problem with noise 2.0 instead of 0.2.

    At noise 0.2 the unpenalised MLP's validation error still falls after
    hundreds of epochs, so there is no overfitting phase for early stopping to
    cut off; with noisier targets the validation curve turns up once the
    network starts fitting the noise, and early stopping halts before that.
    """
    X, y, X_val, y_val = noisy_linear(noise=2.0)
    ratios = []
    for seed in (0, 1):
        kw = {**SEED000, "batch_size": 32, "max_iter": 200, "target_scaling": None,
              "random_state": seed}
        plain = RegularizedMLPRegressor(**kw).fit(X, y)
        stopped = RegularizedMLPRegressor(
            **{**kw, "early_stopping": True, "validation_fraction": 0.2,
               "n_iter_no_change": 20, "tol": 0.0}).fit(X, y)
        assert stopped.n_iter_ < 200
        ratios.append(_gap(stopped, X, y, X_val, y_val) / _gap(plain, X, y, X_val, y_val))
    # the gap is mostly the noise (variance 4); early stopping cuts the rest
    assert max(ratios) < 0.97 and np.mean(ratios) < 0.95


def test_dropout_is_off_at_prediction_time(digits):
    X, y = digits
    clf = RegularizedMLPClassifier((32,), dropout=0.5, max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


def test_dropout_per_layer_is_validated():
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = X[:, 0]
    RegularizedMLPRegressor((4, 4), dropout=[0.1, 0.2], max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="dropout must be a float in \\[0, 1\\) or a "
                                         "sequence of 2"):
        RegularizedMLPRegressor((4, 4), dropout=[0.1], max_iter=2).fit(X, y)


def test_label_smoothing_targets_formula():
    """1 - eps on the true class, eps / (K - 1) on the others (after Anoop Praturu)."""
    y = np.array([0, 1, 2, 3, 0])
    clf = RegularizedMLPClassifier(label_smoothing=0.3)
    labels, _ = clf._validate_targets(y, False, True)
    targets = clf._make_loss().targets(torch.as_tensor(labels), torch.float64, 0.3).numpy()
    assert targets.shape == (5, 4)
    np.testing.assert_allclose(targets[np.arange(5), labels], 0.7)
    np.testing.assert_allclose(targets.sum(1), 1.0)
    off = targets[np.arange(5)[:, None], (labels[:, None] + np.arange(1, 4)) % 4]
    np.testing.assert_allclose(off, 0.1)
    # binary: one logistic unit with target 1 - eps / eps
    labels, _ = clf._validate_targets(np.array(["a", "b", "b"]), False, True)
    t2 = clf._make_loss().targets(torch.as_tensor(labels), torch.float64, 0.3).numpy()
    np.testing.assert_allclose(t2.ravel(), [0.3, 0.7, 0.7])


@pytest.mark.parametrize("name, n_outputs", [("binary_log_loss", 1), ("binary_log_loss", 3),
                                             ("log_loss", 4), ("squared_error", 3),
                                             ("poisson", 2)])
@pytest.mark.parametrize("stacked", [False, True])
def test_loss_gradients_match_autograd(name, n_outputs, stacked):
    """Each loss's fused value and gradient equal autograd's, for one network
    and for a stack of three (a leading member axis)."""
    torch.manual_seed(0)
    shape = (3, 6, n_outputs) if stacked else (6, n_outputs)
    z = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    loss = LOSSES[name](n_outputs)
    if name == "log_loss":
        target = loss.targets(torch.randint(0, n_outputs, (6,)), torch.float64, 0.1)
    elif name == "binary_log_loss":
        target = loss.targets(torch.randint(0, 2, (6, n_outputs)), torch.float64, 0.05)
    elif name == "poisson":
        target = torch.poisson(torch.full((6, n_outputs), 2.0, dtype=torch.float64))
    else:
        target = torch.randn(6, n_outputs, dtype=torch.float64)
    reference = {
        "log_loss": lambda: -(target * torch.log_softmax(z, -1)).sum(-1),
        "binary_log_loss": lambda: -(target * torch.nn.functional.logsigmoid(z) + (1 - target)
                                     * torch.nn.functional.logsigmoid(-z)).sum(-1),
        "squared_error": lambda: 0.5 * ((z - target) ** 2).sum(-1),
        "poisson": lambda: (torch.exp(z) - target * z).sum(-1),
    }[name]()
    reference.sum().backward()
    losses, grad = loss.value_and_grad(z.detach(), target)
    torch.testing.assert_close(losses, reference.detach())
    torch.testing.assert_close(grad, z.grad)
    torch.testing.assert_close(loss.value(z.detach(), target), reference.detach())


def test_label_smoothing_targets():
    """eps / (K - 1) on every wrong class, 1 - eps on the true one; per member."""
    loss = LOSSES["log_loss"](4)
    t = loss.targets(torch.tensor([2, 0]), torch.float64, 0.3)
    np.testing.assert_allclose(t.numpy(), [[0.1, 0.1, 0.7, 0.1], [0.7, 0.1, 0.1, 0.1]])
    per_member = loss.targets(torch.tensor([1]), torch.float64,
                              torch.tensor([0.0, 0.3], dtype=torch.float64).view(-1, 1, 1))
    np.testing.assert_allclose(per_member[:, 0].numpy(), [[0, 1, 0, 0], [0.1, 0.7, 0.1, 0.1]])


def test_label_smoothing_lowers_confidence(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), max_iter=40, random_state=0)
    plain = RegularizedMLPClassifier(**kw).fit(X, y)
    smooth = RegularizedMLPClassifier(label_smoothing=0.2, **kw).fit(X, y)
    conf_plain = plain.predict_proba(X).max(1).mean()
    conf_smooth = smooth.predict_proba(X).max(1).mean()
    assert conf_smooth < conf_plain - 0.05
    # the smoothed optimum is p_true = 1 - eps; confidence settles near it
    assert conf_smooth < 0.9
    assert smooth.score(X, y) > 0.9


def test_early_stopping_restores_the_best_epoch(digits):
    X, y = digits
    clf = RegularizedMLPClassifier((64,), early_stopping=True, validation_fraction=0.2,
                                   n_iter_no_change=5, learning_rate_init=0.05,
                                   max_iter=200, random_state=3).fit(X, y)
    scores = clf.validation_scores_
    assert clf.n_iter_ < 200
    assert clf.best_validation_score_ == pytest.approx(max(scores))
    best_epoch = clf.history_[-1, "best_epoch"]
    assert scores[best_epoch - 1] == max(scores)
    # the fitted weights are those of the best epoch: rebuild the same split
    # and score the final model on it
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, stratify=y,
                                          random_state=check_random_state(3))
    assert clf.score(X_val, y_val) == pytest.approx(clf.best_validation_score_, abs=1e-6)
    if best_epoch < clf.n_iter_:
        # the recorded scores are float32 sums, the estimator's score float64
        assert clf.score(X_val, y_val) >= scores[-1] - 1e-6


def test_early_stopping_validation_set_too_small():
    X = np.random.default_rng(0).normal(size=(10, 3))
    y = np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="validation set is too small"):
        RegularizedMLPClassifier(early_stopping=True, validation_fraction=0.1).fit(X, y)
    with pytest.raises(ValueError, match="stratified validation split"):
        RegularizedMLPClassifier(early_stopping=True, validation_fraction=0.1).fit(
            np.vstack([X] * 3), np.arange(30) % 10)


def test_class_weight_balanced_raises_minority_recall():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2))
    y = (X[:, 0] + 0.8 * rng.normal(size=600) > 1.6).astype(int)  # ~8% positives
    kw = dict(hidden_layer_sizes=(16,), max_iter=60, random_state=0)
    plain = RegularizedMLPClassifier(**kw).fit(X, y)
    balanced = RegularizedMLPClassifier(class_weight="balanced", **kw).fit(X, y)
    recall = lambda est: (est.predict(X)[y == 1] == 1).mean()  # noqa: E731
    assert recall(balanced) > recall(plain) + 0.2
    weighted = RegularizedMLPClassifier(class_weight={0: 1.0, 1: 10.0}, **kw).fit(X, y)
    assert recall(weighted) > recall(plain) + 0.2
