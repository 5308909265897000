"""Fit/predict behaviour of both estimators: labels, outputs, training
control (warm start, partial_fit, convergence), determinism, bad input."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skreg import DivergenceError, RegularizedMLPClassifier, RegularizedMLPRegressor

SMALL = dict(hidden_layer_sizes=(16,), max_iter=30, learning_rate_init=0.01, random_state=0)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(300, 8, noise=0.5, random_state=0)
    return X, y / y.std()


# --------------------------------------------------------------- outputs
def test_string_labels_and_probabilities(clf_data):
    X, y = clf_data
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = RegularizedMLPClassifier(**SMALL).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    pred = clf.predict(X)
    assert set(pred) <= set(clf.classes_) and clf.score(X, labels) > 0.8
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-5)
    assert clf.out_activation_ == "softmax" and clf.n_outputs_ == 3


def test_binary_uses_one_logistic_unit(clf_data):
    X, y = clf_data
    yb = np.where(y == 0, -1, 7)
    clf = RegularizedMLPClassifier(**SMALL).fit(X, yb)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    assert clf.coefs_[-1].shape == (16, 1)
    decision = clf.decision_function(X)
    np.testing.assert_array_equal(clf.predict(X), np.where(decision > 0, 7, -1))
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-decision)),
                               rtol=1e-5)


def test_fitted_attributes_follow_sklearn(clf_data):
    X, y = clf_data
    clf = RegularizedMLPClassifier(numeric_embedding=None, hidden_layer_sizes=(16, 8), max_iter=7,
                                   random_state=0).fit(X, y)
    assert clf.n_layers_ == 4 and clf.n_features_in_ == 8 and clf.n_iter_ == 7
    assert [W.shape for W in clf.coefs_] == [(8, 16), (16, 8), (8, 3)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (8,), (3,)]
    assert len(clf.loss_curve_) == 7 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    history = clf.history_
    np.testing.assert_allclose(
        history[:, "loss"], np.add(history[:, "train_loss"], history[:, "penalty"]))
    # the module gives the same logits as decision_function
    import torch
    with torch.no_grad():
        logits = clf.module_(torch.as_tensor(clf.scale_inputs(X))).numpy()
    np.testing.assert_allclose(logits, clf.decision_function(X), rtol=1e-6)


def test_multi_output_regression(reg_data):
    X, y = reg_data
    Y = np.column_stack([y, -2 * y, np.sin(y)])
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(32,), max_iter=200,
                                  learning_rate_init=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (300, 3) and reg.n_outputs_ == 3
    assert reg.score(X, Y) > 0.9
    single = RegularizedMLPRegressor(**SMALL).fit(X, y[:, None])
    assert single.predict(X).shape == (300,)


def test_float32_input_trains_in_float32(reg_data):
    X, y = reg_data
    reg32 = RegularizedMLPRegressor(**SMALL).fit(X.astype(np.float32), y)
    assert reg32.coefs_[0].dtype == np.float32
    reg64 = RegularizedMLPRegressor(**SMALL).fit(X, y)
    assert reg64.coefs_[0].dtype == np.float64
    assert abs(reg32.score(X, y) - reg64.score(X, y)) < 0.05


def test_sparse_input_is_densified(clf_data):
    import scipy.sparse as sp
    X, y = clf_data
    dense = RegularizedMLPClassifier(**SMALL).fit(X, y)
    sparse = RegularizedMLPClassifier(**SMALL).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(dense.predict_proba(X),
                                  sparse.predict_proba(sp.csc_matrix(X)))


# ------------------------------------------------------- training control
def test_convergence_warning_only_when_max_iter_ends_training(reg_data):
    X, y = reg_data
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = RegularizedMLPRegressor(hidden_layer_sizes=(8,), max_iter=500, tol=0.1,
                                      n_iter_no_change=2, random_state=0).fit(X, y)
    assert reg.n_iter_ < 500
    # stopped after n_iter_no_change + 1 epochs without an improvement > tol
    curve = reg.loss_curve_
    assert min(curve[-3:]) > min(curve[:-3]) - 0.1


def test_warm_start_continues_training(reg_data):
    X, y = reg_data
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=5, warm_start=True,
                                  random_state=0).fit(X, y)
    first = reg.coefs_[0].copy()
    loss_before = reg.loss_
    reg.fit(X, y)
    # n_iter_ counts the latest fit, as scikit-learn; the history keeps both
    assert reg.n_iter_ == 5 and len(reg.loss_curve_) == 10
    assert reg.loss_ < loss_before
    assert not np.array_equal(first, reg.coefs_[0])
    cold = RegularizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=5,
                                   random_state=0).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 5


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_warm_started_fit_takes_the_current_optimizer_hyperparameters(solver, reg_data):
    X, y = reg_data
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=5, warm_start=True,
                                  solver=solver, learning_rate_init=0.05,
                                  random_state=0).fit(X, y)
    before = [W.copy() for W in reg.coefs_]
    # as scikit-learn's MLP, each fit starts a new optimizer with the current values
    reg.set_params(learning_rate_init=1e-4, beta_1=0.8, momentum=0.5, max_iter=1).fit(X, y)
    group = reg._trainer.optimizer.param_groups[0]
    assert group["lr"] == 1e-4 and reg.history_[-1, "lr"] == 1e-4
    assert group["betas"][0] == 0.8 if solver == "adam" else group["momentum"] == 0.5
    # ... and training goes on from the previous weights: one epoch (two batches)
    # at the new rate moves each weight by about 2e-4 at most with Adam
    assert reg.n_iter_ == 1 and len(reg.history_) == 6
    moved = max(np.abs(W - W0).max() for W, W0 in zip(reg.coefs_, before))
    assert 0 < moved < (3e-4 if solver == "adam" else 1e-2)
    # partial_fit goes on with the optimizer it has, as scikit-learn's
    reg.set_params(learning_rate_init=0.5).partial_fit(X, y)
    assert reg._trainer.optimizer.param_groups[0]["lr"] == 1e-4


def test_partial_fit(clf_data):
    X, y = clf_data
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01,
                                   random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    for _ in range(20):
        clf.partial_fit(X[:150], y[:150], classes=[0, 1, 2])
        clf.partial_fit(X[150:], y[150:])
    # n_iter_ counts the epochs of the latest call, the history all of them
    assert clf.n_iter_ == 1 and len(clf.history_) == 40 and clf.score(X, y) > 0.75
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 5, 1]))
    # partial_fit over one chunk at a time equals fit with shuffle=False over
    # the same chunk, epoch for epoch
    kw = dict(hidden_layer_sizes=(8,), shuffle=False, random_state=0)
    a = RegularizedMLPClassifier(max_iter=3, **kw).fit(X, y)
    b = RegularizedMLPClassifier(**kw)
    for _ in range(3):
        b.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0])


def test_same_random_state_gives_identical_predictions(clf_data):
    X, y = clf_data
    kw = dict(hidden_layer_sizes=(16,), dropout=0.2, max_iter=10, random_state=42)
    p1 = RegularizedMLPClassifier(**kw).fit(X, y).predict_proba(X)
    p2 = RegularizedMLPClassifier(**kw).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    p3 = RegularizedMLPClassifier(**{**kw, "random_state": 7}).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p3)


def test_sample_weight_zero_equals_removing_rows(reg_data):
    X, y = reg_data
    w = np.ones(len(y))
    w[:100] = 0
    kw = dict(hidden_layer_sizes=(8,), batch_size=400, max_iter=10, random_state=0)
    weighted = RegularizedMLPRegressor(**kw).fit(X, y, sample_weight=w)
    removed = RegularizedMLPRegressor(**kw).fit(X[100:], y[100:])
    np.testing.assert_allclose(weighted.predict(X), removed.predict(X), rtol=1e-6,
                               atol=1e-8)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input_is_rejected(Est, value):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    X[3, 1] = value
    # NaN is a missing value for the default categorical_features='from_dtype'
    # (imputed, see tests/test_tabular_estimators.py); the numeric-only mode
    # refuses it as scikit-learn does, and infinity is refused either way
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        Est(max_iter=2, categorical_features=None).fit(X, y)
    if np.isinf(value):
        with pytest.raises(ValueError, match="infinity|infinite"):
            Est(max_iter=2).fit(X, y)


def test_values_too_large_for_float32_are_rejected():
    X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    y = np.arange(20) % 2
    clf = RegularizedMLPClassifier(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="too large for float32"):
        clf.predict(np.full((2, 3), 1e39))


@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_shape_errors(Est):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        Est(max_iter=2).fit(X[:, 0], y)
    with pytest.raises(ValueError, match="0 sample"):
        Est(max_iter=2).fit(X[:0], y[:0])
    est = Est(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3"):
        est.predict(X[:, :2])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Est(max_iter=2).fit(X, y[:10])
    with pytest.raises(NotFittedError):
        Est().predict(X)


def test_one_class_trains_as_sklearn_and_continuous_labels_are_rejected():
    X = np.random.default_rng(0).normal(size=(20, 3))
    # a single class fits, as scikit-learn's MLPClassifier, and is always predicted
    clf = RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit(X, ["a"] * 20)
    assert clf.classes_.tolist() == ["a"]
    assert clf.predict(X).tolist() == ["a"] * 20
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((20, 1)))
    with pytest.raises(ValueError, match="Unknown label type"):
        RegularizedMLPClassifier().fit(X, np.linspace(0, 1, 20))


@pytest.mark.parametrize("params, match", [
    ({"alpha": -1.0}, "'alpha' parameter .* must be a float in the range \\[0.0, inf\\)"),
    ({"penalty": "l3"}, "'penalty' parameter .* must be a str among"),
    ({"activation": "swish"}, "'activation' parameter"),
    ({"l1_ratio": 1.5}, "'l1_ratio' parameter"),
    ({"dropout": 1.0}, "'dropout' parameter"),
    ({"batch_size": 0}, "'batch_size' parameter"),
    ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes must be positive integers"),
    ({"label_smoothing": 1.0}, "'label_smoothing' parameter"),
    ({"class_weight": {"z": 2.0}}, "class_weight has labels \\['z'\\]"),
    ({"device": "tpu"}, "'device' parameter must be 'cpu', 'cuda', 'cuda:N' or 'auto'"),
    ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter"),
])
def test_invalid_parameters_name_the_parameter(params, match):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.array(["x", "y"] * 10)
    with pytest.raises(ValueError, match=match):
        RegularizedMLPClassifier(max_iter=2, **params).fit(X, y)


def test_cuda_requested_without_cuda():
    import torch
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="CUDA is not available"):
        RegularizedMLPRegressor(device="cuda").fit(X, X[:, 0])


@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_caller_arrays_are_not_modified(Est):
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        X = rng.normal(size=(60, 4)).astype(dtype)
        y = (X[:, 0] > 0).astype(int)
        w = rng.uniform(0.5, 2, size=60)
        copies = X.copy(), y.copy(), w.copy()
        est = Est(hidden_layer_sizes=(8,), max_iter=5, dropout=0.3,
                  early_stopping=True, random_state=0).fit(X, y, sample_weight=w)
        est.predict(X)
        # partial_fit refuses early stopping, as scikit-learn's
        est.set_params(early_stopping=False).partial_fit(X, y, sample_weight=w)
        for before, after in zip(copies, (X, y, w)):
            np.testing.assert_array_equal(before, after)


def test_diverging_fit_raises_and_leaves_estimator_unfitted(reg_data):
    X, y = reg_data
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(64,), learning_rate_init=1e6,
                                  solver="sgd", max_iter=50, random_state=0)
    with pytest.raises(DivergenceError, match="Training diverged at epoch .*"
                                              "learning_rate_init"):
        reg.fit(X, y * 1e3)
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_diverging_partial_fit_keeps_last_finite_weights(reg_data):
    X, y = reg_data
    X = X.astype(np.float32)
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(64,), random_state=0)
    reg.partial_fit(X, y)
    before = reg.coefs_[0].copy()
    # squared errors of ~1e40 overflow float32: the loss becomes infinite
    with pytest.raises(DivergenceError, match="Training diverged at epoch 2"):
        reg.partial_fit(X, y * 1e20)
    np.testing.assert_array_equal(reg.coefs_[0], before)
    assert np.isfinite(reg.predict(X)).all()
    reg.partial_fit(X, y)  # training can go on
    assert len(reg.history_) == 2


@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_every_parameter_is_documented(Est):
    import inspect
    import re
    params = [p for p in inspect.signature(Est.__init__).parameters if p != "self"]
    missing = [p for p in params if not re.search(rf"^\s*{p} :", Est.__doc__, re.M)]
    assert not missing
    fitted = ["coefs_", "intercepts_", "feature_importances_", "history_", "module_",
              "n_iter_", "loss_curve_", "n_features_in_"]
    assert all(re.search(rf"^\s*{a} :", Est.__doc__, re.M) for a in fitted)


def test_verbose_prints_one_row_per_epoch(capsys):
    """scikit-learn's lines: the objective of each epoch, then the validation score."""
    X = np.random.default_rng(0).normal(size=(100, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = RegularizedMLPClassifier((8,), max_iter=4, verbose=True, early_stopping=True,
                                   random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    iterations = [line for line in lines if line.startswith("Iteration ")]
    assert [int(line.split()[1].rstrip(",")) for line in iterations] == [1, 2, 3, 4]
    assert iterations[0] == f"Iteration 1, loss = {clf.loss_curve_[0]:.8f}"
    scores = [line for line in lines if line.startswith("Validation score: ")]
    assert scores[-1] == f"Validation score: {clf.validation_scores_[-1]:f}"
    RegularizedMLPClassifier((8,), max_iter=4, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


# ------------------------------------------------------ predictions in threads
@pytest.mark.parametrize("batch_norm", [False, True])
def test_concurrent_mc_dropout_predictions_equal_serial_ones(clf_data, batch_norm):
    """Monte Carlo dropout draws its masks from generators of its own call and
    never switches the shared module to training: predictions from threads,
    MC and deterministic mixed, equal those made one after the other (with
    batch norm, training mode would use, and update, batch statistics)."""
    from concurrent.futures import ThreadPoolExecutor

    X, y = clf_data
    clf = RegularizedMLPClassifier(dropout=0.3, batch_norm=batch_norm, **SMALL).fit(X, y)
    reg = RegularizedMLPRegressor(dropout=0.3, batch_norm=batch_norm, **SMALL).fit(X, y)
    calls = [lambda: clf.predict_proba(X, mc_samples=7), lambda: clf.predict_proba(X),
             lambda: reg.predict(X, return_std=True), lambda: reg.predict(X)] * 4
    serial = [call() for call in calls]
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda call: call(), calls))
    for a, b in zip(serial, concurrent):
        for u, v in zip(*(x if isinstance(x, tuple) else (x,) for x in (a, b))):
            np.testing.assert_array_equal(u, v)
    assert not clf.module_.training and not reg.module_.training
    # the passes differ from one another, and from the deterministic network
    samples = clf._mc_forward(X[:5], 3)
    assert not np.allclose(samples[0], samples[1])
    assert not np.allclose(clf.predict_proba(X, mc_samples=7), clf.predict_proba(X))


def test_estimator_modules_use_only_the_engines_public_names():
    """The estimators, io and plotting reach the engine through skreg._engine's names."""
    import ast
    import pathlib

    import skreg
    import skreg._engine as engine

    root = pathlib.Path(skreg.__file__).parent
    for path in root.glob("*.py"):
        if path.name in ("skorch.py",):
            continue  # the skorch callbacks act on the regularizers themselves
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = ("skreg." if node.level else "") + node.module
                assert not module.startswith(("skreg._engine.", "_engine.")), (
                    f"{path.name} imports {module}")
                if module in ("skreg._engine", "_engine"):
                    assert {a.name for a in node.names} <= set(engine.__all__), path.name
