"""The regularization toolbox beyond L1/L2/dropout, tested on data.

One section per estimator parameter: ``l1_method`` (proximal L1 gives exact
zeros), ``group_alpha`` (group lasso on the input layer, feature selection,
``feature_importances_``), ``max_norm`` (per-unit norm constraint),
``penalty='lp'`` with ``p``, ``input_noise`` and ``hidden_noise``, ``mixup``,
``batch_norm``, Monte-Carlo dropout at prediction time, ``learning_rate``
schedules with ``power_t``, ``solver='lbfgs'`` and the validation of every
new parameter. Each test checks what the parameter claims to do, measured on
small data with a fixed ``random_state``.
"""

import pickle
import re

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_friedman1
from sklearn.feature_selection import SelectFromModel
from sklearn.linear_model import LassoCV
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from test_regularization import SEED000, _gap, noisy_linear, weights

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [RegularizedMLPClassifier, RegularizedMLPRegressor]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


@pytest.fixture(scope="module")
def digits_split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _soft_threshold(w, t):
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def _column_norms(est):
    return [np.linalg.norm(W, axis=0) for W in est.coefs_]


def _sgd_start_and_grad(X, y, **kw):
    """Initial weights ``w0`` and full-batch loss gradient ``g`` (no penalty).

    Two one-step plain SGD fits with step sizes ``a`` and ``2a`` from the
    same initial weights give ``w0 - a g`` and ``w0 - 2a g``.
    """
    a = 0.01
    kw = {**kw, "solver": "sgd", "momentum": 0.0, "penalty": None}
    w_a = weights(RegularizedMLPRegressor(learning_rate_init=a, **kw).partial_fit(X, y))
    w_2a = weights(RegularizedMLPRegressor(learning_rate_init=2 * a, **kw).partial_fit(X, y))
    return 2 * w_a - w_2a, (w_a - w_2a) / a


# one full-batch step on a tiny regression problem, float64 throughout
# the one-step formulas below read the first layer's rows as the input features
ONE_STEP = dict(hidden_layer_sizes=(4,), batch_size=40, shuffle=False, random_state=0,
                numeric_embedding=None)


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)), rng.normal(size=40)


# ======================================================================
# 1. l1_method
# ======================================================================
def test_l1_method_defaults_to_proximal():
    for cls in ESTIMATORS:
        assert cls().get_params()["l1_method"] == "proximal"


def test_proximal_l1_zero_fraction_rises_with_alpha(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), penalty="l1", learning_rate_init=0.003,
              max_iter=20, random_state=0, input_scaling=None)
    fits = [RegularizedMLPClassifier(alpha=alpha, **kw).fit(X, y)
            for alpha in (0.1, 1.0, 3.0)]
    zeros = [np.mean(weights(est) == 0) for est in fits]
    assert 0.1 < zeros[0] < zeros[1] < zeros[2]
    assert zeros[1] > 0.5 and zeros[2] > 0.8
    # half the weights gone, predictions still good
    assert fits[0].score(X, y) > 0.93 and fits[1].score(X, y) > 0.9


def test_subgradient_l1_leaves_no_exact_zeros(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), penalty="l1", alpha=1.0, learning_rate_init=0.003,
              max_iter=20, random_state=0)
    prox = RegularizedMLPClassifier(l1_method="proximal", **kw).fit(X, y)
    sub = RegularizedMLPClassifier(l1_method="subgradient", **kw).fit(X, y)
    assert np.mean(weights(sub) == 0) < 0.01
    assert np.mean(weights(prox) == 0) > 0.5
    # subgradient weights hover near zero instead
    assert np.mean(np.abs(weights(sub)) < 1e-2) > 0.3
    assert prox.score(X, y) > 0.9 and sub.score(X, y) > 0.9


def test_proximal_elasticnet_gives_exact_zeros(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), alpha=2.0, learning_rate_init=0.003, max_iter=20,
              random_state=0)
    en = RegularizedMLPClassifier(penalty="elasticnet", l1_ratio=0.5, **kw).fit(X, y)
    l2 = RegularizedMLPClassifier(penalty="l2", **kw).fit(X, y)
    assert np.mean(weights(en) == 0) > 0.5
    assert np.mean(weights(l2) == 0) == 0
    assert en.score(X, y) > 0.9


@pytest.mark.parametrize("penalty,l1_ratio,alpha", [("l1", 1.0, 60.0),
                                                    ("elasticnet", 0.5, 120.0)])
def test_proximal_sgd_step_is_soft_thresholding(tiny, penalty, l1_ratio, alpha):
    """One full-batch SGD step: gradient step on loss + L2 part, then
    soft-thresholding at ``lr * alpha * l1_ratio / S_B``."""
    X, y = tiny
    lr, n = 0.1, 40
    w0, g = _sgd_start_and_grad(X, y, **ONE_STEP)
    est = RegularizedMLPRegressor(solver="sgd", momentum=0.0, learning_rate_init=lr,
                                  penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
                                  l1_method="proximal", **ONE_STEP).partial_fit(X, y)
    l2 = alpha * (1 - l1_ratio)
    expected = _soft_threshold(w0 - lr * (g + l2 * w0 / n), lr * alpha * l1_ratio / n)
    np.testing.assert_allclose(weights(est), expected, rtol=1e-9, atol=1e-12)
    assert np.any(expected == 0) and np.all((weights(est) == 0) == (expected == 0))


def test_subgradient_sgd_step_adds_sign(tiny):
    X, y = tiny
    lr, alpha, n = 0.1, 20.0, 40
    w0, g = _sgd_start_and_grad(X, y, **ONE_STEP)
    est = RegularizedMLPRegressor(solver="sgd", momentum=0.0, learning_rate_init=lr,
                                  penalty="l1", alpha=alpha, l1_method="subgradient",
                                  **ONE_STEP).partial_fit(X, y)
    expected = w0 - lr * (g + alpha * np.sign(w0) / n)
    np.testing.assert_allclose(weights(est), expected, rtol=1e-9, atol=1e-12)


def test_proximal_adam_step_uses_per_weight_threshold(tiny):
    """First Adam step: ``v_hat = g**2``, so the step is ``lr g / (|g| + eps)``
    and the threshold ``lr * alpha / (S_B (|g| + eps))``, Adam's own step size."""
    X, y = tiny
    lr, alpha, n, eps = 0.1, 1.0, 40, 1e-8
    w0, g = _sgd_start_and_grad(X, y, **ONE_STEP)
    est = RegularizedMLPRegressor(solver="adam", learning_rate_init=lr, penalty="l1",
                                  alpha=alpha, epsilon=eps, **ONE_STEP).partial_fit(X, y)
    expected = _soft_threshold(w0 - lr * g / (np.abs(g) + eps),
                               lr * alpha / (n * (np.abs(g) + eps)))
    np.testing.assert_allclose(weights(est), expected, rtol=1e-6, atol=1e-9)
    assert np.any(expected == 0)


# ======================================================================
# 2. group_alpha: group lasso on the input layer
# ======================================================================
INFORMATIVE = {0, 1, 2, 3}


def _sparse_nonlinear(n=1000, n_features=20, seed=0):
    """Only features 0-3 matter: x0 linearly, x1 through x1**2 and x2, x3
    through their product, which no linear model can see."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    y = X[:, 0] + 2 * X[:, 1] ** 2 - 2 * X[:, 2] * X[:, 3] + 0.1 * rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def sparse_nonlinear():
    X, y = _sparse_nonlinear()
    X_test, y_test = _sparse_nonlinear(n=1000, seed=1)
    return X, y, X_test, y_test


# group_alpha=20 keeps x0-x3 and removes the 16 noise features for every
# random_state tried (0-3) once the group step is robust to dead units (see
# test_tiny_group_alpha_keeps_informative_features); 10 leaves a few noise
# rows hovering just above zero, 35+ starts to cut the x2*x3 interaction
# the group lasso's strength is tuned to the raw feature scale of the data
GROUP = dict(hidden_layer_sizes=(32,), group_alpha=20.0, learning_rate_init=0.01,
             max_iter=100, n_iter_no_change=10_000, random_state=0, input_scaling=None,
             target_scaling=None, alpha=0.0001, numeric_embedding=None)


@pytest.fixture(scope="module")
def group_fit(sparse_nonlinear):
    X, y, _, _ = sparse_nonlinear
    return RegularizedMLPRegressor(**GROUP).fit(X, y)


def test_group_alpha_defaults_to_zero():
    for cls in ESTIMATORS:
        assert cls().get_params()["group_alpha"] == 0.0


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_feature_importances_are_input_row_norms(cls, tiny):
    X, y = tiny
    y = y > 0 if cls is RegularizedMLPClassifier else y
    est = cls(hidden_layer_sizes=(5,), max_iter=3, random_state=0,
              numeric_embedding=None).fit(X, y)
    assert est.feature_importances_.shape == (3,)
    np.testing.assert_allclose(est.feature_importances_,
                               np.linalg.norm(est.coefs_[0], axis=1), rtol=1e-6)
    assert np.all(est.feature_importances_ > 0)  # no group penalty: nothing removed
    # with the PLR embedding (the default) a feature feeds its own row and its
    # PLR outputs' rows: their squared norms add up, one importance per feature
    plr = cls(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    assert plr.coefs_[0].shape[0] > 3
    assert plr.feature_importances_.shape == (3,)
    np.testing.assert_allclose((plr.feature_importances_ ** 2).sum(),
                               (plr.coefs_[0] ** 2).sum(), rtol=1e-6)


def test_group_lasso_zeroes_whole_rows_of_noise_features(group_fit):
    W1 = group_fit.coefs_[0]
    zero_rows = {j for j in range(W1.shape[0]) if np.all(W1[j] == 0)}
    assert zero_rows == set(range(20)) - INFORMATIVE
    # block thresholding: a row is either entirely zero or has no zero at all
    for j in set(range(20)) - zero_rows:
        assert np.all(W1[j] != 0)
    imp = group_fit.feature_importances_
    assert set(np.flatnonzero(imp > 0)) == INFORMATIVE


def test_group_lasso_beats_lasso_at_selection_and_fit(sparse_nonlinear, group_fit):
    X, y, X_test, y_test = sparse_nonlinear
    lasso = LassoCV(cv=5).fit(X, y)
    lasso_sel = set(np.flatnonzero(lasso.coef_ != 0))
    ours = set(np.flatnonzero(group_fit.feature_importances_ > 0))

    def recall(sel):
        return len(sel & INFORMATIVE) / len(INFORMATIVE)

    def precision(sel):
        return len(sel & INFORMATIVE) / max(len(sel), 1)

    # LassoCV sees no quadratic or interaction term: x1 (only in x1**2) and
    # x2, x3 (only in x2*x3) look like noise to it
    assert recall(lasso_sel) < 1
    assert recall(ours) == 1 and recall(ours) >= recall(lasso_sel)
    assert precision(ours) >= precision(lasso_sel)
    r2_ours, r2_lasso = group_fit.score(X_test, y_test), lasso.score(X_test, y_test)
    assert r2_ours > 0.8
    assert r2_ours > r2_lasso + 0.3


def test_tiny_group_alpha_keeps_informative_features():
    """A group penalty far too weak to matter must not remove a feature.

    With ReLU units some hidden units are dead (zero on every training row),
    so the Adam statistics of their incoming weights stay near zero and
    their per-weight step sizes ``lr / (sqrt(v_hat) + eps)`` near
    ``lr / eps``. The group step of a row must not be dominated by such
    weights, or every row gets a huge threshold and all features vanish.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(400, 2))  # non-negative inputs: dead units are common
    y = X[:, 0] + X[:, 1] ** 2
    kw = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=50,
              random_state=0)
    free = RegularizedMLPRegressor(**kw).fit(X, y)
    tiny = RegularizedMLPRegressor(group_alpha=1e-2, **kw).fit(X, y)
    assert np.all(tiny.feature_importances_ > 0.5 * free.feature_importances_)
    assert tiny.score(X, y) > free.score(X, y) - 0.02


def test_select_from_model_picks_the_informative_features(sparse_nonlinear):
    X, y, X_test, y_test = sparse_nonlinear
    selector = SelectFromModel(RegularizedMLPRegressor(**GROUP), threshold=1e-8)
    pipe = make_pipeline(selector, RegularizedMLPRegressor(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=100, random_state=0))
    pipe.fit(X, y)
    assert set(np.flatnonzero(pipe[0].get_support())) == INFORMATIVE
    assert pipe.score(X_test, y_test) > 0.8


def test_group_lasso_sgd_step_is_block_soft_thresholding(tiny):
    """One full-batch SGD step: each input row ``r`` of W_1 becomes
    ``r * max(0, 1 - t / ||r||)`` with ``t = lr * group_alpha / S_B``; the
    other layers take a plain gradient step."""
    X, y = tiny
    lr, group_alpha, n = 0.1, 8.0, 40
    w0, g = _sgd_start_and_grad(X, y, **ONE_STEP)
    est = RegularizedMLPRegressor(solver="sgd", momentum=0.0, learning_rate_init=lr,
                                  penalty=None, group_alpha=group_alpha,
                                  **ONE_STEP).partial_fit(X, y)
    step = w0 - lr * g
    W1 = step[:3 * 4].reshape(3, 4)
    norms = np.linalg.norm(W1, axis=1, keepdims=True)
    t = lr * group_alpha / n
    expected = np.concatenate([(W1 * np.maximum(0, 1 - t / norms)).ravel(), step[12:]])
    np.testing.assert_allclose(weights(est), expected, rtol=1e-9, atol=1e-12)


# ======================================================================
# 3. max_norm
# ======================================================================
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_max_norm_bounds_every_unit_incoming_norm(digits, solver):
    X, y = digits
    kw = dict(hidden_layer_sizes=(32,), solver=solver, learning_rate_init=0.05,
              penalty=None, max_iter=15, random_state=0)
    free = RegularizedMLPClassifier(**kw).fit(X, y)
    bounded = RegularizedMLPClassifier(max_norm=0.5, **kw).fit(X, y)
    assert all(n.max() > 2.0 for n in _column_norms(free))
    for norms in _column_norms(bounded):
        assert norms.max() <= 0.5 + 1e-6
        assert norms.max() > 0.45  # the constraint binds in every layer
    # a looser bound still binds, and costs little accuracy (0.5 bounds the
    # softmax logits too tightly for a confident fit)
    loose = RegularizedMLPClassifier(max_norm=2.0, **kw).fit(X, y)
    for norms in _column_norms(loose):
        assert 1.9 < norms.max() <= 2.0 + 1e-6
    assert loose.score(X, y) > 0.95


def test_max_norm_regressor(tiny):
    X, y = tiny
    kw = dict(hidden_layer_sizes=(8,), learning_rate_init=0.1, max_iter=30, random_state=0)
    free = RegularizedMLPRegressor(**kw).fit(X, y)
    est = RegularizedMLPRegressor(max_norm=0.3, **kw).fit(X, y)
    assert max(n.max() for n in _column_norms(free)) > 0.3
    for norms in _column_norms(est):
        assert norms.max() <= 0.3 + 1e-6


# ======================================================================
# 4. penalty='lp'
# ======================================================================
# SGD, so that each penalty acts through its own gradient: under Adam a
# coupled penalty's gradient is rescaled per weight, and p=3 then shrinks the
# many small weights with tiny loss gradients as fast as the large ones
LP = dict(hidden_layer_sizes=(32,), solver="sgd", learning_rate_init=0.1, max_iter=20,
          random_state=0)


@pytest.fixture(scope="module")
def lp_fits(digits):
    """Seed 003: one network per penalty on digits."""
    X, y = digits
    return {
        "none": RegularizedMLPClassifier(penalty=None, **LP).fit(X, y),
        "l1": RegularizedMLPClassifier(penalty="l1", alpha=1.0, **LP).fit(X, y),
        "l2": RegularizedMLPClassifier(penalty="l2", alpha=1.0, **LP).fit(X, y),
        "p3": RegularizedMLPClassifier(penalty="lp", p=3, alpha=10.0, **LP).fit(X, y),
        "pinf": RegularizedMLPClassifier(penalty="lp", p=np.inf, alpha=30.0,
                                         **LP).fit(X, y),
    }


def test_p_defaults_to_two():
    for cls in ESTIMATORS:
        assert cls().get_params()["p"] == 2.0


def test_lp_inf_shrinks_the_largest_weight(lp_fits, digits):
    X, y = digits
    max_abs = {k: np.abs(weights(est)).max() for k, est in lp_fits.items()}
    mean_abs = {k: np.abs(weights(est)).mean() for k, est in lp_fits.items()}
    assert max_abs["pinf"] < 0.6 * max_abs["none"]
    # only the largest weight is penalized: the bulk is left alone
    assert mean_abs["pinf"] > 0.95 * mean_abs["none"]
    assert lp_fits["pinf"].score(X, y) > 0.95


def test_lp3_shrinks_large_weights_more_than_small_ones(lp_fits, digits):
    X, y = digits
    stats = {k: (np.abs(weights(est)).max(), np.abs(weights(est)).mean())
             for k, est in lp_fits.items()}
    max_ratio = stats["p3"][0] / stats["none"][0]
    mean_ratio = stats["p3"][1] / stats["none"][1]
    assert max_ratio < 1 and max_ratio < mean_ratio
    # relative to L1, which removes small weights, p=3 spares them: the
    # spread max / mean is smallest for p=3 and largest for L1
    spread = {k: s[0] / s[1] for k, s in stats.items()}
    assert spread["p3"] < spread["none"] < spread["l1"]
    assert spread["p3"] < spread["l2"]
    assert lp_fits["p3"].score(X, y) > 0.9


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0, 3.0, np.inf])
def test_lp_penalty_in_history_matches_formula(tiny, p):
    """``history_['penalty']`` is ``alpha * P(W) / S_B`` with
    ``P = sum |w|^p / p`` (``max |w|`` for ``p=inf``)."""
    X, y = tiny
    alpha, n = 3.0, 40
    est = RegularizedMLPRegressor(penalty="lp", p=p, alpha=alpha, max_iter=3,
                                  **ONE_STEP).fit(X, y)
    w = np.abs(weights(est))
    P = w.max() if np.isinf(p) else np.sum(w ** p) / p
    assert est.history_[-1, "penalty"] == pytest.approx(alpha * P / n, rel=1e-6)


def test_lp_p2_is_the_l2_penalty(tiny):
    X, y = tiny
    kw = dict(alpha=2.0, max_iter=5, solver="sgd", **ONE_STEP)
    lp = RegularizedMLPRegressor(penalty="lp", p=2.0, **kw).fit(X, y)
    l2 = RegularizedMLPRegressor(penalty="l2", **kw).fit(X, y)
    np.testing.assert_allclose(weights(lp), weights(l2), rtol=1e-9, atol=1e-12)


# ======================================================================
# 5. input_noise and hidden_noise
# ======================================================================
NOISES = [{"input_noise": 1.0}, {"hidden_noise": 1.0}]


@pytest.mark.parametrize("noise", NOISES, ids=["input", "hidden"])
def test_noise_is_off_at_prediction_time(noise, tiny):
    X, y = tiny
    est = RegularizedMLPRegressor((8,), max_iter=5, random_state=0, **noise).fit(X, y)
    np.testing.assert_array_equal(est.predict(X), est.predict(X))
    plain = RegularizedMLPRegressor((8,), max_iter=5, random_state=0).fit(X, y)
    assert np.abs(weights(est) - weights(plain)).max() > 1e-4  # it did train noisily


def test_hidden_noise_narrows_the_generalisation_gap():
    """Seed 000: 200 noisy 50-d linear samples; the plain MLP interpolates."""
    X, y, X_val, y_val = noisy_linear()
    plain = RegularizedMLPRegressor(max_iter=300, **SEED000).fit(X, y)
    noisy = RegularizedMLPRegressor(max_iter=300, hidden_noise=0.5, **SEED000).fit(X, y)
    assert _gap(noisy, X, y, X_val, y_val) < 0.7 * _gap(plain, X, y, X_val, y_val)
    assert np.mean((noisy.predict(X_val) - y_val) ** 2) < np.mean(
        (plain.predict(X_val) - y_val) ** 2)


def test_input_noise_narrows_the_generalisation_gap():
    """100 samples of a noisy smooth function of 5 inputs.

    Not Tom Kite's noisy linear problem: Gaussian input noise penalizes the input
    gradient of the network (Bishop's Tikhonov equivalence), and for a
    linear target in 50 dimensions that gradient is the signal itself, so
    there input noise widens the gap (a plain torch training loop does the
    same). In low dimension it smooths the fit between noisy samples.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(1100, 5))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 / 2 + X[:, 2] + 0.5 * rng.normal(size=1100)
    X, X_val, y, y_val = X[:100], X[100:], y[:100], y[100:]
    kw = {**SEED000, "batch_size": 100, "max_iter": 300}
    plain = RegularizedMLPRegressor(**kw).fit(X, y)
    noisy = RegularizedMLPRegressor(input_noise=0.3, **kw).fit(X, y)
    assert _gap(noisy, X, y, X_val, y_val) < 0.8 * _gap(plain, X, y, X_val, y_val)
    assert np.mean((noisy.predict(X_val) - y_val) ** 2) < np.mean(
        (plain.predict(X_val) - y_val) ** 2)


def test_noise_reproducible_with_random_state(tiny):
    X, y = tiny
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, input_noise=0.3, hidden_noise=0.3,
              mixup=0.4, random_state=0)
    a = RegularizedMLPRegressor(**kw).fit(X, y)
    b = RegularizedMLPRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(weights(a), weights(b))


# ======================================================================
# 6. mixup
# ======================================================================
def test_mixup_narrows_the_generalisation_gap():
    X, y, X_val, y_val = noisy_linear()
    plain = RegularizedMLPRegressor(max_iter=300, **SEED000).fit(X, y)
    mixed = RegularizedMLPRegressor(max_iter=300, mixup=0.4, **SEED000).fit(X, y)
    assert _gap(mixed, X, y, X_val, y_val) < 0.7 * _gap(plain, X, y, X_val, y_val)


def test_mixup_lowers_confidence_and_keeps_accuracy(digits_split):
    X, X_test, y, y_test = digits_split
    kw = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=40,
              random_state=0)
    plain = RegularizedMLPClassifier(**kw).fit(X, y)
    mixed = RegularizedMLPClassifier(mixup=0.4, **kw).fit(X, y)
    conf_plain = plain.predict_proba(X_test).max(1).mean()
    conf_mixed = mixed.predict_proba(X_test).max(1).mean()
    assert conf_mixed < conf_plain - 0.04
    assert mixed.score(X_test, y_test) > plain.score(X_test, y_test) - 0.03


def test_mixup_zero_is_off(tiny):
    X, y = tiny
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    a = RegularizedMLPRegressor(mixup=0.0, **kw).fit(X, y)
    b = RegularizedMLPRegressor(**kw).fit(X, y)
    np.testing.assert_array_equal(weights(a), weights(b))


def test_mixup_with_sample_weight_and_binary_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = RegularizedMLPClassifier((8,), mixup=0.5, max_iter=100, learning_rate_init=0.01,
                                   random_state=0).fit(X, y, sample_weight=rng.uniform(
                                       0.5, 2.0, size=200))
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert clf.score(X, y) > 0.9


# ======================================================================
# 7. batch_norm
# ======================================================================
@pytest.fixture(scope="module")
def bn_fit(digits_split):
    X, _, y, _ = digits_split
    return RegularizedMLPClassifier((32,), batch_norm=True, max_iter=30,
                                    random_state=0, input_scaling=None).fit(X * 100, y)


def test_batch_norm_adds_batchnorm_modules(bn_fit):
    bns = [m for m in bn_fit.module_.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(bns) == 1 and bns[0].num_features == 32
    two = RegularizedMLPRegressor((6, 4), batch_norm=True, max_iter=2,
                                  random_state=0).fit(*_sparse_nonlinear(n=50))
    assert [m.num_features for m in two.module_.modules()
            if isinstance(m, torch.nn.BatchNorm1d)] == [6, 4]
    plain = RegularizedMLPRegressor((6, 4), max_iter=2,
                                    random_state=0).fit(*_sparse_nonlinear(n=50))
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in plain.module_.modules())


def test_batch_norm_trains_on_badly_scaled_features(bn_fit, digits_split):
    """Pixels in [0, 100] and no scaler: normalizing each hidden layer's
    pre-activations makes up for it within the same budget."""
    X, X_test, y, y_test = digits_split
    # input_scaling=None for both: batch norm alone has to make up for the scale
    plain = RegularizedMLPClassifier((32,), max_iter=30, random_state=0,
                                     input_scaling=None).fit(X * 100, y)
    assert bn_fit.score(X_test * 100, y_test) > 0.9
    assert bn_fit.score(X_test * 100, y_test) > plain.score(X_test * 100, y_test) + 0.05


def test_batch_norm_predictions_are_deterministic_and_row_independent(bn_fit,
                                                                      digits_split):
    _, X_test, _, _ = digits_split
    X_test = X_test * 100
    proba = bn_fit.predict_proba(X_test)
    np.testing.assert_array_equal(proba, bn_fit.predict_proba(X_test))
    # eval mode uses the running statistics: a row's prediction does not
    # depend on the other rows it is predicted with
    np.testing.assert_allclose(bn_fit.predict_proba(X_test[:1]), proba[:1], rtol=1e-5)
    np.testing.assert_allclose(bn_fit.predict_proba(X_test[5:9]), proba[5:9], rtol=1e-5)


def test_batch_norm_pickle_round_trip(bn_fit, digits_split):
    _, X_test, _, _ = digits_split
    loaded = pickle.loads(pickle.dumps(bn_fit))
    np.testing.assert_array_equal(loaded.predict_proba(X_test * 100),
                                  bn_fit.predict_proba(X_test * 100))


# ======================================================================
# 8. Monte-Carlo dropout
# ======================================================================
@pytest.fixture(scope="module")
def box_regression():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.05 * rng.normal(size=400)
    X_in = rng.uniform(-1, 1, size=(200, 2))
    return X, y, X_in


@pytest.fixture(scope="module")
def mc_fit(box_regression):
    X, y, _ = box_regression
    return RegularizedMLPRegressor((64, 64), dropout=0.2, learning_rate_init=0.01,
                                   max_iter=100, random_state=0).fit(X, y)


def test_mc_dropout_std_grows_away_from_the_data(mc_fit, box_regression):
    _, _, X_in = box_regression
    mean_in, std_in = mc_fit.predict(X_in, return_std=True, mc_samples=30)
    mean_far, std_far = mc_fit.predict(X_in * 5, return_std=True, mc_samples=30)
    assert mean_in.shape == std_in.shape == (200,)
    assert np.all(std_in >= 0) and np.all(std_far >= 0)
    assert std_far.mean() > 2 * std_in.mean()


def test_mc_dropout_mean_is_close_to_deterministic_prediction(mc_fit, box_regression):
    X, y, X_in = box_regression
    det = mc_fit.predict(X_in)
    mean_in, std_in = mc_fit.predict(X_in, return_std=True, mc_samples=30)
    assert np.mean(np.abs(mean_in - det)) < 0.1 * y.std()
    assert std_in.mean() > 0
    # the stochastic passes leave the model in evaluation mode
    np.testing.assert_array_equal(mc_fit.predict(X_in), det)


def test_mc_dropout_without_dropout_raises(box_regression):
    X, y, X_in = box_regression
    est = RegularizedMLPRegressor((8,), max_iter=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="dropout"):
        est.predict(X_in, return_std=True)


def test_mc_predict_proba(digits):
    X, y = digits
    clf = RegularizedMLPClassifier((32,), dropout=0.3, max_iter=20,
                                   random_state=0).fit(X, y)
    det = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict_proba(X, mc_samples=None), det)
    mc = clf.predict_proba(X, mc_samples=10)
    assert mc.shape == det.shape
    np.testing.assert_allclose(mc.sum(1), 1.0, rtol=1e-6)
    assert np.abs(mc - det).max() > 1e-3
    assert np.mean(mc.argmax(1) == det.argmax(1)) > 0.9
    # averaging stochastic passes spreads the probability mass
    assert mc.max(1).mean() < det.max(1).mean()
    np.testing.assert_array_equal(clf.predict_proba(X), det)


def test_mc_predict_proba_binary(tiny):
    X, y = tiny
    clf = RegularizedMLPClassifier((16,), dropout=0.5, max_iter=20,
                                   random_state=0).fit(X, y > 0)
    mc = clf.predict_proba(X, mc_samples=5)
    assert mc.shape == (40, 2)
    np.testing.assert_allclose(mc.sum(1), 1.0, rtol=1e-6)
    assert np.abs(mc - clf.predict_proba(X)).max() > 1e-4


# ======================================================================
# 9. learning_rate schedules
# ======================================================================
SCHED = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=12,
             n_iter_no_change=10_000, random_state=0)


def test_learning_rate_defaults():
    for cls in ESTIMATORS:
        params = cls().get_params()
        assert params["learning_rate"] == "constant" and params["power_t"] == 0.5


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_recorded_lr_follows_the_schedule(tiny, solver):
    X, y = tiny
    e = np.arange(12)
    const = RegularizedMLPRegressor(solver=solver, **SCHED).fit(X, y)
    np.testing.assert_allclose(const.history_[:, "lr"], 0.01)
    inv = RegularizedMLPRegressor(solver=solver, learning_rate="invscaling", power_t=0.7,
                                  **SCHED).fit(X, y)
    np.testing.assert_allclose(inv.history_[:, "lr"], 0.01 / (1 + e) ** 0.7, rtol=1e-9)
    cos = RegularizedMLPRegressor(solver=solver, learning_rate="cosine",
                                  **SCHED).fit(X, y)
    np.testing.assert_allclose(cos.history_[:, "lr"],
                               0.01 * (1 + np.cos(np.pi * e / 12)) / 2, rtol=1e-9)
    # RealMLP's schedule: four restarts, each cycle twice as long as the last
    coslog = RegularizedMLPRegressor(solver=solver, learning_rate="coslog4",
                                     **SCHED).fit(X, y)
    t = (e + 0.5) / 12
    lr = np.asarray(coslog.history_[:, "lr"])
    np.testing.assert_allclose(lr, 0.01 * (1 - np.cos(2 * np.pi * np.log2(1 + 15 * t))) / 2,
                               rtol=1e-9)
    assert 0 < lr.min() and lr.max() <= 0.01
    # it falls back at each restart: the rate is not monotone
    assert np.sum(np.diff(np.sign(np.diff(lr))) != 0) >= 3


def test_schedule_drives_the_optimizer(tiny):
    """With ``power_t`` huge every epoch after the first takes (almost) no step."""
    X, y = tiny
    kw = {**SCHED, "learning_rate": "invscaling", "power_t": 40.0, "solver": "sgd"}
    one = RegularizedMLPRegressor(**{**kw, "max_iter": 1}).fit(X, y)
    many = RegularizedMLPRegressor(**{**kw, "max_iter": 6}).fit(X, y)
    np.testing.assert_allclose(weights(many), weights(one), atol=1e-8)
    const = RegularizedMLPRegressor(**{**kw, "max_iter": 6,
                                       "learning_rate": "constant"}).fit(X, y)
    assert np.abs(weights(const) - weights(one)).max() > 1e-3
    # power_t=0 is the constant schedule
    flat = RegularizedMLPRegressor(**{**kw, "max_iter": 6, "power_t": 0.0}).fit(X, y)
    np.testing.assert_allclose(weights(flat), weights(const), rtol=1e-12)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_adaptive_divides_lr_by_five_instead_of_stopping(early_stopping):
    X, y = _sparse_nonlinear(n=200)
    # tol so large that no epoch counts as an improvement
    est = RegularizedMLPRegressor((8,), learning_rate="adaptive", learning_rate_init=0.01,
                                  tol=1e3, n_iter_no_change=2, max_iter=100,
                                  early_stopping=early_stopping,
                                  random_state=0).fit(X, y)
    lrs = np.asarray(est.history_[:, "lr"], dtype=float)
    assert lrs[0] == pytest.approx(0.01)
    ratios = lrs[1:] / lrs[:-1]
    assert np.all(np.isclose(ratios, 1.0) | np.isclose(ratios, 0.2))
    assert np.sum(np.isclose(ratios, 0.2)) >= 1
    # it stops only once the rate has fallen to about 1e-6
    assert est.n_iter_ < 100
    assert lrs[-1] < 1e-5


def test_adaptive_without_plateau_keeps_lr(tiny):
    X, y = tiny
    est = RegularizedMLPRegressor(learning_rate="adaptive", tol=0.0, **SCHED).fit(X, y)
    np.testing.assert_allclose(est.history_[:, "lr"], 0.01)


# ======================================================================
# 10. solver='lbfgs'
# ======================================================================
def test_lbfgs_beats_adam_on_a_smooth_problem():
    X, y = make_friedman1(n_samples=300, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    kw = dict(hidden_layer_sizes=(16,), penalty="l2", alpha=1e-3, max_iter=100,
              n_iter_no_change=10_000, random_state=0)
    adam = RegularizedMLPRegressor(solver="adam", learning_rate_init=0.01, **kw).fit(X, y)
    lbfgs = RegularizedMLPRegressor(solver="lbfgs", **kw).fit(X, y)
    mse = lambda est: np.mean((est.predict(X) - y) ** 2)  # noqa: E731
    assert mse(lbfgs) < 0.7 * mse(adam)
    assert lbfgs.score(X, y) > 0.9
    assert lbfgs.n_iter_ <= 100


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_lbfgs_classifier_and_allowed_penalties(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = X[:, 0] - X[:, 1] ** 2
    if cls is RegularizedMLPClassifier:
        y = (y > np.median(y)).astype(int)
    for extra in ({"penalty": "l2"}, {"penalty": None},
                  {"penalty": "elasticnet", "l1_ratio": 0.0},
                  {"penalty": "lp", "p": 3.0}):
        est = cls((8,), solver="lbfgs", max_iter=30, random_state=0, **extra).fit(X, y)
        assert est.score(X, y) > 0.7


LBFGS_CONFLICTS = [
    ({"penalty": "l1"}, "penalty"),
    ({"penalty": "elasticnet", "l1_ratio": 0.5}, "penalty|l1_ratio"),
    ({"penalty": "lp", "p": np.inf}, r"penalty|\bp\b"),
    ({"group_alpha": 0.1}, "group_alpha"),
    ({"dropout": 0.1}, "dropout"),
    ({"mixup": 0.2}, "mixup"),
    ({"input_noise": 0.1}, "input_noise"),
    ({"hidden_noise": 0.1}, "hidden_noise"),
]


@pytest.mark.parametrize("extra,name", LBFGS_CONFLICTS,
                         ids=[c[1].split("|")[0] for c in LBFGS_CONFLICTS])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_lbfgs_rejects_nonsmooth_or_stochastic_options(cls, extra, name, tiny):
    X, y = tiny
    y = y > 0 if cls is RegularizedMLPClassifier else y
    with pytest.raises(ValueError) as excinfo:
        cls((4,), solver="lbfgs", max_iter=2, **extra).fit(X, y)
    message = str(excinfo.value)
    assert "lbfgs" in message
    assert re.search(name, message), message


# ======================================================================
# 11. validation and model selection
# ======================================================================
INVALID = [
    ("l1_method", "x"),
    ("group_alpha", -1.0),
    ("max_norm", 0.0),
    ("max_norm", -1.0),
    ("p", 0.5),
    ("input_noise", -0.1),
    ("hidden_noise", -1.0),
    ("mixup", -1.0),
    ("batch_norm", "yes"),
    ("learning_rate", "bogus"),
]


@pytest.mark.parametrize("name,value", INVALID, ids=[f"{n}={v}" for n, v in INVALID])
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_invalid_values_raise_naming_the_parameter(cls, name, value, tiny):
    X, y = tiny
    y = y > 0 if cls is RegularizedMLPClassifier else y
    with pytest.raises(ValueError, match=name):
        cls((4,), max_iter=1, **{name: value}).fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_new_parameters_round_trip_through_get_params_and_clone(cls):
    params = dict(l1_method="subgradient", group_alpha=0.5, max_norm=2.0, p=np.inf,
                  input_noise=0.1, hidden_noise=0.2, mixup=0.3, batch_norm=True,
                  learning_rate="cosine", power_t=0.25)
    est = cls(penalty="lp", **params)
    cloned = clone(est)
    for name, value in params.items():
        assert est.get_params()[name] == value
        assert cloned.get_params()[name] == value


def test_grid_search_over_new_regressor_parameters(sparse_nonlinear):
    X, y, _, _ = sparse_nonlinear
    grid = GridSearchCV(
        RegularizedMLPRegressor((16,), learning_rate_init=0.01, max_iter=30,
                                random_state=0),
        {"group_alpha": [0.0, 5.0], "max_norm": [None, 2.0],
         "learning_rate": ["constant", "cosine"]},
        cv=2).fit(X[:200], y[:200])
    assert len(grid.cv_results_["params"]) == 8
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert set(grid.best_params_) == {"group_alpha", "max_norm", "learning_rate"}


def test_grid_search_over_new_classifier_parameters(digits):
    X, y = digits
    grid = GridSearchCV(
        RegularizedMLPClassifier((16,), learning_rate_init=0.01, max_iter=30,
                                 random_state=0),
        {"mixup": [0.0, 0.2], "batch_norm": [False, True],
         "penalty": ["l1", "lp"], "l1_method": ["proximal"], "p": [3.0]},
        cv=2).fit(X[:400], y[:400])
    assert len(grid.cv_results_["params"]) == 8
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_score_ > 0.7
