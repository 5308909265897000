"""The learned input scale (``scale_layer``, RealMLP's scaling layer).

Its gradient is tested against autograd with the embeddings in
``test_categorical_embeddings.py`` and with the L0 gates in
``test_new_regularizers.py``; here, the estimators: the scale is folded
into ``coefs_[0]`` (the predictions follow from ``coefs_`` alone), with
the L0 feature gates too, it learns to favour the inputs that carry the
signal, the penalty acts on its deviation from 1, and it survives pickling
and ensembles.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._engine.model import SCALE_LAYER_RATE

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _signal_and_noise(n=800, n_noise=6, seed=0):
    """y depends on the first two of eight standardised columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2 + n_noise))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=n)
    return X, y


def test_default_has_no_scale_and_trains_as_before():
    X, y = _signal_and_noise(300)
    plain = RegularizedMLPRegressor(numeric_embedding=None, max_iter=20, random_state=0).fit(X, y)
    np.testing.assert_array_equal(plain.input_scales_, np.ones(X.shape[1]))
    # the scale starts at 1: with a zero learning rate nothing moves, and
    # the network is the plain one
    frozen = RegularizedMLPRegressor(numeric_embedding=None,
                                     max_iter=2, random_state=0, learning_rate_init=1e-12,
                                     scale_layer=True).fit(X, y)
    still = RegularizedMLPRegressor(numeric_embedding=None,
                                    max_iter=2, random_state=0, learning_rate_init=1e-12).fit(
        X, y)
    np.testing.assert_allclose(frozen.input_scales_, 1.0, atol=1e-9)
    np.testing.assert_allclose(frozen.predict(X), still.predict(X), rtol=1e-6, atol=1e-8)


def test_scale_is_folded_into_the_first_layer():
    X, y = _signal_and_noise(400)
    model = RegularizedMLPRegressor(numeric_embedding=None,
                                    hidden_layer_sizes=(16,), max_iter=30, random_state=0,
                                    scale_layer=True, input_scaling=None,
                                    target_scaling=None).fit(X, y)
    s = model.input_scales_
    assert s.shape == (X.shape[1],) and np.abs(s - 1).max() > 0.05
    # the prediction is the plain network of coefs_ / intercepts_
    h = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    np.testing.assert_allclose(model.predict(X), (h @ model.coefs_[1] + model.intercepts_[1])
                               .ravel(), rtol=1e-4, atol=1e-4)
    # coefs_[0] = diag(s) W_1 with the stored W_1
    W1 = model._trainer.model.coef_views()[0].detach().numpy()
    np.testing.assert_allclose(model.coefs_[0], s[:, None] * W1, rtol=1e-6)


def test_scale_learns_to_favour_the_informative_inputs():
    X, y = _signal_and_noise(1500)
    model = RegularizedMLPRegressor(numeric_embedding=None,
                                    max_iter=100, random_state=0, scale_layer=True).fit(X, y)
    s = np.abs(model.input_scales_)
    assert min(s[:2]) > max(s[2:])
    assert model.score(X, y) > 0.9


def test_penalty_acts_on_the_scale_deviation():
    X, y = make_regression(400, 6, noise=1.0, random_state=0)
    free = RegularizedMLPRegressor(numeric_embedding=None, alpha=0.0, max_iter=40, random_state=0,
                                   scale_layer=True).fit(X, y)
    assert np.all(free.input_scales_ != 1.0)
    # u = (s - 1) / c is penalised with the weights: L1's proximal step sets
    # a deviation to exactly 0, which is a scale of exactly 1
    sparse = RegularizedMLPRegressor(numeric_embedding=None,
                                     penalty="l1", alpha=100.0, max_iter=40, random_state=0,
                                     scale_layer=True).fit(X, y)
    np.testing.assert_array_equal(sparse.input_scales_, 1.0)
    u = (free.input_scales_ - 1) / SCALE_LAYER_RATE
    model = free._trainer.model
    np.testing.assert_allclose(u, model.coef.detach().numpy()[0, model.scale_slice],
                               rtol=1e-5, atol=1e-7)


def test_scale_with_ensembles_pickling_and_clone():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    model = RegularizedMLPClassifier(numeric_embedding=None,
                                     max_iter=20, random_state=0, scale_layer=True,
                                     ensemble_size=3).fit(X, y)
    assert model.input_scales_.shape == (3, 5)
    # the members learn scales of their own
    assert np.ptp(model.input_scales_, axis=0).max() > 0
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(again.input_scales_, model.input_scales_)
    assert clone(model).get_params()["scale_layer"] is True
    with pytest.raises(ValueError, match="scale_layer"):
        RegularizedMLPClassifier(numeric_embedding=None, scale_layer="yes").fit(X, y)


def test_scale_and_l0_feature_gates_fold_into_the_first_layer():
    X, y = _signal_and_noise(400)
    model = RegularizedMLPRegressor(numeric_embedding=None,
                                    hidden_layer_sizes=(16,), max_iter=30, batch_size=50,
                                    random_state=0, learning_rate_init=0.01, scale_layer=True,
                                    l0_alpha=1.0, input_scaling=None,
                                    target_scaling=None).fit(X, y)
    net = model._trainer.model
    z = net.gate_values()[0].detach().numpy()
    # the signal's inputs stay, the noise's are gated off exactly
    assert np.all(z[:2] > 0) and np.sum(z[2:] == 0) >= 5
    # coefs_[0] = diag(s) diag(z) W_1 with the stored W_1
    W1 = net.coef_views()[0].detach().numpy()
    np.testing.assert_allclose(model.coefs_[0], (model.input_scales_ * z)[:, None] * W1,
                               rtol=1e-6)
    h = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0)
    np.testing.assert_allclose(model.predict(X), (h @ model.coefs_[1] + model.intercepts_[1])
                               .ravel(), rtol=1e-4, atol=1e-4)
