"""Fault safety: a fit that does not end leaves the estimator as it was.

Faults are injected where a user meets them: an exception from a skorch
callback at each epoch boundary (and at the start and end of training), a
real Ctrl-C (``KeyboardInterrupt`` delivered to the fitting thread at an
arbitrary point), an error found after the data were validated, and a
diverging refit. After each, a fitted estimator predicts bitwise what it
predicted before and keeps every fitted attribute; an unfitted one stays
unfitted. Also here: what a warm start and ``partial_fit`` take of the
current parameters, and ``coefs_`` / ``intercepts_`` assignment.
"""

import _thread
import threading
import time

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skreg import DivergenceError, RegularizedMLPClassifier, RegularizedMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class Fault(Callback):
    """Raises ``exc`` at one moment of training: ``when`` is an event, ``epoch`` its count."""

    def __init__(self, when="on_train_begin", epoch=1, exc=RuntimeError):
        self.when, self.epoch, self.exc = when, epoch, exc

    def initialize(self):
        self.seen_ = 0
        return self

    def _maybe_raise(self, event):
        if event != self.when:
            return
        self.seen_ += 1
        if self.seen_ == self.epoch:
            raise self.exc(f"injected at {event} {self.epoch}")

    def on_train_begin(self, net, **kwargs):
        self._maybe_raise("on_train_begin")

    def on_epoch_begin(self, net, **kwargs):
        self._maybe_raise("on_epoch_begin")

    def on_epoch_end(self, net, **kwargs):
        self._maybe_raise("on_epoch_end")

    def on_train_end(self, net, **kwargs):
        self._maybe_raise("on_train_end")


# skorch's convention: KeyboardInterrupt from on_epoch_end means "stop after
# this epoch" (its EarlyStopping), so that one is a RuntimeError here
FAULTS = [("on_train_begin", 1, RuntimeError), ("on_epoch_begin", 1, KeyboardInterrupt),
          ("on_epoch_begin", 3, KeyboardInterrupt), ("on_epoch_end", 2, ValueError),
          ("on_train_end", 1, KeyboardInterrupt)]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, y


def _state(est, X):
    """What a fault must not change: predictions and the public fitted attributes."""
    return dict(proba=est.predict_proba(X), n_iter=est.n_iter_, loss=est.loss_curve_,
                n_features=est.n_features_in_, classes=est.classes_.tolist(),
                alpha=est.alpha_, coefs=est.coefs_, keys=sorted(vars(est)))


def _assert_same_state(before, after):
    np.testing.assert_array_equal(after["proba"], before["proba"])  # bitwise
    for key in ("n_iter", "loss", "n_features", "classes", "alpha", "keys"):
        assert after[key] == before[key], key
    for a, b in zip(after["coefs"], before["coefs"]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("when, epoch, exc", FAULTS)
@pytest.mark.parametrize("mode", ["refit", "refit_other_columns", "warm_start",
                                  "partial_fit"])
def test_a_fault_leaves_a_fitted_estimator_as_it_was(data, mode, when, epoch, exc):
    X, y = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0,
                                   dropout=0.1, warm_start=mode == "warm_start")
    est.fit(X, y)
    before = _state(est, X)
    est.set_params(callbacks=[Fault(when, epoch, exc)], alpha=0.5)
    X_new = X[:, :3] + 1 if mode == "refit_other_columns" else X * 2
    call = est.partial_fit if mode == "partial_fit" else est.fit
    if mode == "partial_fit" and epoch > 1:
        pytest.skip("partial_fit trains one epoch")
    with pytest.raises(exc, match="injected"):
        call(X_new, y)
    _assert_same_state(before, _state(est.set_params(callbacks=None), X))
    # the fault left no trace in the parameters either: a fit from scratch
    # with the same settings gives the same model
    est.set_params(alpha=before["alpha"])
    twin = clone(est).set_params(warm_start=False).fit(X, y)
    np.testing.assert_array_equal(twin.predict_proba(X), before["proba"])


@pytest.mark.parametrize("when, epoch, exc", FAULTS)
def test_a_fault_leaves_an_unfitted_estimator_unfitted(data, when, epoch, exc):
    X, y = data
    est = RegularizedMLPRegressor(max_iter=5, random_state=0,
                                  callbacks=[Fault(when, epoch, exc)])
    with pytest.raises(exc, match="injected"):
        est.fit(X, X[:, 0])
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert not [name for name in vars(est) if name.endswith("_")]
    # the next fit starts afresh
    est.set_params(callbacks=None).fit(X, X[:, 0])
    assert est.n_iter_ == 5


def test_a_real_ctrl_c_at_any_moment_keeps_the_model(data):
    """KeyboardInterrupt delivered to the fitting thread mid-training (what Ctrl-C does)."""
    X, y = data
    X_big = np.tile(X, (40, 1))
    y_big = np.tile(y, 40)
    est = RegularizedMLPClassifier(max_iter=3, random_state=0).fit(X, y)
    before = _state(est, X)
    for delay in (0.05, 0.3, 0.8):
        est.set_params(max_iter=10_000, n_iter_no_change=np.inf, warm_start=delay == 0.3)
        timer = threading.Timer(delay, _thread.interrupt_main)
        timer.start()
        started = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            try:
                est.fit(X_big, y_big)
            finally:
                timer.join()
        assert time.perf_counter() - started < 60
        est.set_params(max_iter=3, n_iter_no_change=10, warm_start=False)
        _assert_same_state(before, _state(est, X))


def test_an_error_found_after_validation_keeps_the_model(data):
    X, y = data
    est = RegularizedMLPClassifier(max_iter=4, random_state=0).fit(X, y)
    before = _state(est, X)
    # X with other columns passes validation and is encoded; the callbacks
    # are checked later, and fail
    est.set_params(callbacks=["not a callback"])
    with pytest.raises(ValueError, match="skorch callbacks"):
        est.fit(X[:, :2], y)
    _assert_same_state(before, _state(est.set_params(callbacks=None), X))
    # a class_weight that names no class of the new y
    est.set_params(class_weight={"zzz": 2.0})
    with pytest.raises(ValueError, match="class_weight has labels"):
        est.fit(X[:, :2], y)
    _assert_same_state(before, _state(est.set_params(class_weight=None), X))


def test_a_diverging_refit_keeps_the_previous_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = 3 * X[:, 0] + X[:, 1]
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(16,), solver="sgd", max_iter=5,
                                  random_state=0).fit(X, y)
    before = reg.predict(X)
    reg.set_params(learning_rate_init=1e6, max_iter=50)
    with pytest.raises(DivergenceError):
        reg.fit(X, y * 1e3)
    np.testing.assert_array_equal(reg.predict(X), before)
    assert reg.learning_rate_init == 1e6 and reg.n_iter_ == 5


# ------------------------------------------------ warm start and partial_fit
def test_a_warm_start_takes_the_current_penalty(data):
    X, y = data
    kw = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0, warm_start=True,
              numeric_embedding=None, alpha=1e-4, learning_rate_init=0.02)
    weak = RegularizedMLPClassifier(**kw).fit(X, y)
    strong = clone(weak).fit(X, y)
    weak.fit(X, y)
    strong.set_params(alpha=30.0).fit(X, y)
    assert strong.alpha_ == 30.0 and weak.alpha_ == 1e-4
    norm = lambda est: sum(np.square(W).sum() for W in est.coefs_)  # noqa: E731
    assert norm(strong) < 0.5 * norm(weak)
    assert len(strong.loss_curve_) == 60  # the history goes on


def test_partial_fit_takes_the_current_penalty_and_keeps_its_optimizer(data):
    X, y = data
    a = RegularizedMLPClassifier(hidden_layer_sizes=(8,), random_state=0, alpha=1e-4)
    b = clone(a)
    for est in (a, b):
        est.partial_fit(X, y, classes=["a", "b", "c"])
    # a new learning_rate_init is ignored by the optimizer partial_fit goes on
    # with (as scikit-learn's); a new alpha is taken
    a.set_params(learning_rate_init=0.5).partial_fit(X, y)
    b.partial_fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    b.set_params(alpha=5.0).partial_fit(X, y)
    assert b.alpha_ == 5.0


@pytest.mark.parametrize("change, named", [
    (dict(hidden_layer_sizes=(7, 3)), "hidden_layer_sizes"),
    (dict(activation="tanh"), "activation"),
    (dict(numeric_embedding=None), "numeric_embedding"),
    (dict(ensemble_size=2), "ensemble_size"),
    (dict(batch_norm=True), "batch_norm"),
])
def test_a_warm_start_refuses_a_new_architecture_by_name(data, change, named):
    X, y = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                                   warm_start=True).fit(X, y)
    before = est.predict_proba(X)
    est.set_params(**change)
    with pytest.raises(ValueError, match=f"changed it: .*{named}.*warm_start=False"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict_proba(X), before)
    # a fit from scratch takes it
    est.set_params(warm_start=False).fit(X, y)


def test_lbfgs_ignores_early_stopping_as_scikit_learn(data):
    X, y = data
    kw = dict(solver="lbfgs", max_iter=50, random_state=1, hidden_layer_sizes=(10, 10))
    stopped = RegularizedMLPClassifier(early_stopping=True, **kw).fit(X, y)
    plain = RegularizedMLPClassifier(early_stopping=False, **kw).fit(X, y)
    np.testing.assert_array_equal(stopped.predict_proba(X), plain.predict_proba(X))
    assert stopped.validation_scores_ is None and stopped.best_loss_ is not None
    assert stopped.n_iter_ == plain.n_iter_ > 13


# ------------------------------------------------------- coefs_, intercepts_
def test_assigned_weights_are_the_ones_the_network_applies(data):
    X, y = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0,
                                   numeric_embedding=None, input_scaling=None,
                                   activation="tanh").fit(X, y)
    rng = np.random.default_rng(3)
    coefs = [rng.normal(size=W.shape) for W in est.coefs_]
    intercepts = [rng.normal(size=b.shape) for b in est.intercepts_]
    est.coefs_, est.intercepts_ = coefs, intercepts
    for W, V in zip(est.coefs_, coefs):
        np.testing.assert_allclose(W, V, rtol=1e-6)
    logits = np.tanh(X @ coefs[0] + intercepts[0]) @ coefs[1] + intercepts[1]
    expected = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(est.predict_proba(X), expected / expected.sum(1, keepdims=True),
                               rtol=1e-5)
    # training goes on from the assigned weights
    est.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert not np.allclose(est.coefs_[0], coefs[0])


def test_assigning_weights_checks_shapes_values_and_fit(data):
    X, y = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=2,
                                   random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape"):
        est.coefs_ = [np.zeros((2, 2)), est.coefs_[1]]
    with pytest.raises(ValueError, match="a list of 2 arrays"):
        est.intercepts_ = [np.zeros(4)]
    with pytest.raises(ValueError, match="NaN or infinity"):
        est.intercepts_ = [np.full(4, np.nan), est.intercepts_[1]]
    with pytest.raises(NotFittedError, match="only be assigned on a fitted network"):
        RegularizedMLPClassifier().coefs_ = [np.zeros((5, 4))]
    with pytest.raises(AttributeError, match="scale_layer"):
        RegularizedMLPClassifier(scale_layer=True, max_iter=1).fit(X, y).coefs_ = []


def test_predictions_do_not_depend_on_torch_state_left_by_a_fault(data):
    """A fault inside training leaves no grad mode or module mode behind."""
    X, y = data
    est = RegularizedMLPClassifier(max_iter=3, random_state=0, dropout=0.3).fit(X, y)
    before = est.predict_proba(X)
    est.set_params(callbacks=[Fault("on_epoch_end", 1, ValueError)])
    with pytest.raises(ValueError):
        est.fit(X, y)
    assert torch.is_grad_enabled()
    np.testing.assert_array_equal(est.set_params(callbacks=None).predict_proba(X), before)


def test_a_failed_search_keeps_the_cv_estimator_as_it_was(data):
    from skreg import RegularizedMLPClassifierCV

    X, y = data
    search = RegularizedMLPClassifierCV(alphas=[1e-3, 1e-2], cv=2, max_iter=3,
                                        random_state=0).fit(X, y)
    before = search.predict_proba(X)
    state = sorted(vars(search))
    # a frame with other columns, and sample weights that are all zero: the
    # error comes after the input was validated and encoded
    import pandas as pd

    frame = pd.DataFrame({"a": X[:, 0], "city": np.where(X[:, 1] > 0, "x", "y")})
    with pytest.raises(ValueError, match="non-zero"):
        search.fit(frame, y, sample_weight=np.zeros(len(y)))
    assert sorted(vars(search)) == state
    np.testing.assert_array_equal(search.predict_proba(X), before)
    # and a Ctrl-C in the middle of a search
    search.set_params(max_iter=5000, n_iter_no_change=np.inf)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        try:
            search.fit(np.tile(X, (20, 1)), np.tile(y, 20))
        finally:
            timer.join()
    np.testing.assert_array_equal(search.predict_proba(X), before)


def test_a_failed_partial_fit_drops_only_its_own_history_rows(data):
    """The transaction keeps the history by reference and its length (a copy of a long
    history would make every partial_fit of a stream cost as much as the stream so far)."""
    X, y = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(40):
        est.partial_fit(X, y, classes=["a", "b", "c"])
    rows = list(est.history_)
    est.set_params(callbacks=[Fault("on_train_end", 1, RuntimeError)])
    with pytest.raises(RuntimeError, match="injected"):
        est.partial_fit(X, y)
    assert len(est.history_) == 40
    assert all(a is b for a, b in zip(est.history_, rows))
