"""Reliability: divergence, determinism, resource hygiene, versions.

The divergence tests complement tests/test_estimators.py (a diverging
``fit`` from scratch, a diverging ``partial_fit``).
"""

import gc
import os
import threading

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold

import skreg
from skreg import DivergenceError, RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg._show_versions import MIN_VERSIONS, _check_dependencies

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def reg_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    return X, 3 * X[:, 0] + X[:, 1]


@pytest.fixture(scope="module")
def clf_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 4))
    return X, np.array(["no", "yes", "maybe"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]


# ------------------------------------------------------------------ divergence
DIVERGING = dict(hidden_layer_sizes=(16,), solver="sgd", learning_rate_init=1e6,
                 max_iter=50, random_state=0)


@pytest.mark.parametrize("params", [dict(), dict(batch_norm=True), dict(batch_size=20)])
def test_divergence_names_the_epoch_and_what_to_try(reg_data, params):
    X, y = reg_data
    reg = RegularizedMLPRegressor(**{**DIVERGING, **params})
    with pytest.raises(DivergenceError) as info:
        reg.fit(X, y * 1e3)
    message = str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, FloatingPointError)
    assert "Training diverged at epoch" in message
    epoch = int(message.split("epoch ")[1].split(":")[0])
    assert 1 <= epoch <= DIVERGING["max_iter"]
    for advice in ("learning_rate_init", "StandardScaler"):
        assert advice in message
    # a fit from scratch that diverges leaves the estimator unfitted ...
    with pytest.raises(NotFittedError):
        reg.predict(X)
    # ... and the next fit or partial_fit starts afresh
    reg.set_params(learning_rate_init=1e-3, max_iter=5)
    assert np.isfinite(reg.fit(X, y).predict(X)).all()
    fresh = RegularizedMLPRegressor(**{**DIVERGING, **params})
    with pytest.raises(DivergenceError):
        fresh.fit(X, y * 1e3)
    fresh.set_params(learning_rate_init=1e-3).partial_fit(X, y)
    assert fresh.n_iter_ == 1


def test_divergence_with_early_stopping_ends_on_the_best_epoch(reg_data):
    # as scikit-learn's MLP: with early stopping, an epoch that diverges after
    # a finite one is recorded with a nan validation score, and the fit ends
    # with a ConvergenceWarning on the weights of the best epoch
    X, y = reg_data
    reg = RegularizedMLPRegressor(**{**DIVERGING, "early_stopping": True})
    with pytest.warns(ConvergenceWarning, match=r"Training diverged at epoch (\d+).*"
                                                 "learning_rate_init") as record:
        reg.fit(X, y * 1e3)
    message = next(str(w.message) for w in record if "diverged" in str(w.message))
    epoch = int(message.split("epoch ")[1].split(":")[0])
    assert epoch == reg.n_iter_ == len(reg.history_) > 1
    assert np.isnan(reg.validation_scores_[-1])
    assert np.isfinite(reg.validation_scores_[:-1]).all()
    best = int(np.nanargmax(reg.validation_scores_))
    assert reg.best_validation_score_ == reg.validation_scores_[best]
    assert all(np.isfinite(W).all() for W in reg.coefs_)
    assert np.isfinite(reg.predict(X)).all()
    # a divergence in the first epoch leaves nothing to keep: it raises
    fresh = RegularizedMLPRegressor(**{**DIVERGING, "early_stopping": True},
                                    target_scaling=None)
    with pytest.raises(DivergenceError, match="epoch 1"):
        fresh.fit(X, y * 1e200)
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def _one_more_epoch(model, X, y):
    """partial_fit, or for L-BFGS (which has none, as scikit-learn's) a
    warm-started fit of one epoch."""
    if model.solver == "lbfgs":
        return model.set_params(warm_start=True, max_iter=1).fit(X, y)
    return model.partial_fit(X, y)


def test_a_diverging_warm_start_keeps_the_epochs_that_stayed_finite(reg_data):
    X, y = reg_data
    reg = RegularizedMLPRegressor(numeric_embedding=None,
                                  hidden_layer_sizes=(16,), solver="sgd", max_iter=3,
                                  warm_start=True, random_state=0,
                                  input_scaling=None, target_scaling=None).fit(X, y)
    assert reg.n_iter_ == 3
    reg.set_params(max_iter=50)
    with pytest.raises(DivergenceError, match=r"Training diverged at epoch (\d+)") as info:
        reg.fit(X, y * 1e3)
    epoch = int(str(info.value).split("epoch ")[1].split(":")[0])
    # the history holds the finite epochs only, and the model stays fitted
    assert len(reg.history_) == epoch - 1 > 3
    assert np.isfinite(reg.history_[:, "train_loss"]).all()
    assert all(np.isfinite(W).all() for W in reg.coefs_)


def test_the_objective_of_every_kept_epoch_is_finite(reg_data):
    X, y = reg_data
    reg = RegularizedMLPRegressor(numeric_embedding=None,
                                  hidden_layer_sizes=(16,), solver="sgd", max_iter=3,
                                  warm_start=True, random_state=0,
                                  input_scaling=None, target_scaling=None).fit(X, y)
    reg.set_params(max_iter=50)
    with pytest.raises(DivergenceError):
        reg.fit(X, y * 1e3)
    assert np.isfinite(reg.loss_curve_).all()


ROLLBACK = [dict(solver="sgd"), dict(solver="adam"), dict(solver="sgd", batch_norm=True),
            dict(solver="adam", batch_norm=True), dict(solver="lbfgs")]
ROLLBACK_IDS = ["sgd", "adam", "sgd-batchnorm", "adam-batchnorm", "lbfgs"]


@pytest.mark.parametrize("params", ROLLBACK, ids=ROLLBACK_IDS)
def test_training_can_go_on_after_a_diverging_warm_start(params, reg_data):
    X, y = reg_data
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=3, warm_start=True,
                                  random_state=0, **params).fit(X, y)
    reg.set_params(max_iter=50)
    # targets this large overflow the loss in the first epoch, whose updates
    # (momentum, Adam's moments, batch-norm statistics) are not finite
    with pytest.raises(DivergenceError, match="epoch 4"):
        reg.fit(X, y * 1e200)
    _one_more_epoch(reg, X, y)
    assert reg.n_iter_ == 1 and len(reg.history_) == 4
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("params", ROLLBACK, ids=ROLLBACK_IDS)
def test_a_diverged_epoch_leaves_no_trace(params, reg_data):
    X, y = reg_data
    kw = dict(hidden_layer_sizes=(16,), max_iter=3, shuffle=False, random_state=0)
    reg = RegularizedMLPRegressor(**kw, **params).fit(X, y)
    twin = RegularizedMLPRegressor(**kw, **params).fit(X, y)
    with pytest.raises(DivergenceError, match="epoch 4"):
        _one_more_epoch(reg, X, y * 1e200)
    # weights, batch-norm statistics and the optimizer's state are rolled back
    for model in (reg, twin):
        _one_more_epoch(model, X, y)
    assert len(reg.history_) == len(twin.history_) == 4
    np.testing.assert_array_equal(reg.predict(X), twin.predict(X))
    assert reg._trainer.optimizer.state_dict()["state"].keys() == \
        twin._trainer.optimizer.state_dict()["state"].keys()


# ----------------------------------------------------------------- determinism
STOCHASTIC = dict(hidden_layer_sizes=(8,), max_iter=8, dropout=0.2, input_noise=0.1,
                  hidden_noise=0.05, mixup=0.2, early_stopping=True, random_state=7)


@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_same_random_state_same_model_across_refits_and_clones(Est, clf_data):
    X, labels = clf_data
    y = labels if Est is RegularizedMLPClassifier else X[:, 0] * 2
    est = Est(**STOCHASTIC)
    first = est.fit(X, y).predict(X).copy()
    coefs = [W.copy() for W in est.coefs_]
    np.testing.assert_array_equal(est.fit(X, y).predict(X), first)  # refit
    twin = clone(est).fit(X, y)
    np.testing.assert_array_equal(twin.predict(X), first)
    for a, b in zip(twin.coefs_, coefs):
        np.testing.assert_array_equal(a, b)
    # a RandomState instance is consumed, as in scikit-learn: two fits differ
    rs = Est(**{**STOCHASTIC, "random_state": np.random.RandomState(0)})
    a = [W.copy() for W in rs.fit(X, y).coefs_]
    assert not np.array_equal(a[0], rs.fit(X, y).coefs_[0])


def test_grid_search_is_the_same_for_any_n_jobs(clf_data):
    X, labels = clf_data
    grid = {"alpha": [1e-4, 1.0], "dropout": [0.0, 0.3]}
    searches = [GridSearchCV(RegularizedMLPClassifier(**STOCHASTIC), grid,
                             cv=KFold(3, shuffle=True, random_state=0), n_jobs=n_jobs)
                .fit(X, labels) for n_jobs in (1, 2)]
    serial, parallel = searches
    for key in ("mean_test_score", "split0_test_score", "split2_test_score"):
        np.testing.assert_array_equal(serial.cv_results_[key], parallel.cv_results_[key])
    assert serial.best_params_ == parallel.best_params_
    np.testing.assert_array_equal(serial.predict_proba(X), parallel.predict_proba(X))


# ------------------------------------------------------------- resource hygiene
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_two_hundred_fits_do_not_grow_memory():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    rss = []
    for i in range(200):
        est = (RegularizedMLPClassifier if i % 2 else RegularizedMLPRegressor)(
            hidden_layer_sizes=(8,), max_iter=3, dropout=0.1, early_stopping=i % 4 == 1,
            random_state=i)
        est.fit(X, y).predict(X)
        if i % 50 == 49:
            gc.collect()
            rss.append(_rss_bytes())
    growth = rss[-1] - rss[1]  # after fit 200 minus after fit 100
    print(f"RSS after fits 50/100/150/200: {[round(r / 2 ** 20, 1) for r in rss]} MiB; "
          f"growth over the last 100 fits: {growth / 2 ** 20:.2f} MiB")
    assert growth < 20 * 2 ** 20


def test_fitting_leaves_no_threads_and_keeps_torch_thread_settings(clf_data):
    X, labels = clf_data
    n_threads, n_interop = torch.get_num_threads(), torch.get_num_interop_threads()
    before = {t.ident for t in threading.enumerate()}
    for Est, y in ((RegularizedMLPClassifier, labels), (RegularizedMLPRegressor, X[:, 0])):
        est = Est(hidden_layer_sizes=(8,), max_iter=3, dropout=0.1, random_state=0)
        est.fit(X, y).predict(X)
        est.partial_fit(X, y)
        clone(est).fit(X, y)
    GridSearchCV(RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=2), {"alpha": [
        1e-4, 1.0]}, cv=2, n_jobs=1).fit(X, labels)
    after = {t.ident for t in threading.enumerate()}
    assert after <= before, [t.name for t in threading.enumerate() if t.ident not in before]
    assert (torch.get_num_threads(), torch.get_num_interop_threads()) == (n_threads, n_interop)


def _fit_in_worker(X, y):
    est = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=3,
                                   random_state=0).fit(X, y)
    return torch.get_num_threads(), est.predict(X)


def test_torch_thread_count_follows_joblib_limits(clf_data):
    X, labels = clf_data
    # joblib's loky workers are limited to cpu_count // n_jobs threads of
    # native pools; torch's intra-op pool must follow, not oversubscribe
    expected = max(1, joblib.cpu_count() // 2)
    results = joblib.Parallel(n_jobs=2)(joblib.delayed(_fit_in_worker)(X, labels)
                                        for _ in range(2))
    assert [r[0] for r in results] == [expected, expected]
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        results = joblib.Parallel(n_jobs=2)(joblib.delayed(_fit_in_worker)(X, labels)
                                            for _ in range(2))
    assert [r[0] for r in results] == [1, 1]
    np.testing.assert_array_equal(results[0][1], results[1][1])


# -------------------------------------------------------------------- versions
def test_incompatible_versions_give_one_clear_import_error():
    installed = {"torch": "2.1.2+cu121", "scikit-learn": "1.5.2", "numpy": "2.0.0",
                 "skorch": None, "scipy": "1.13.0"}
    with pytest.raises(ImportError) as info:
        _check_dependencies(installed)
    message = str(info.value)
    assert "torch 2.1.2+cu121 is installed, but skreg needs torch>=2.2" in message
    assert "scikit-learn 1.5.2 is installed, but skreg needs scikit-learn>=1.6" in message
    assert "skorch is not installed" in message
    assert "numpy" not in message.split("Upgrade")[0].replace("numpy>=", "")
    assert '"torch>=2.2" "scikit-learn>=1.6" "skorch>=1.0"' in message
    # the minimal versions themselves, and this environment, pass
    _check_dependencies({dist: minimum for dist, (_, minimum) in MIN_VERSIONS.items()})
    _check_dependencies()


def test_show_versions_reports_what_a_bug_report_needs(capsys):
    skreg.show_versions()
    out = capsys.readouterr().out
    for key in ("System:", "python:", "Python dependencies:", "skreg: " + skreg.__version__,
                f"torch: {torch.__version__}", "scikit-learn:", "skorch:",
                "CUDA available:", "intra-op threads:", "threadpoolctl info:"):
        assert key in out, key
