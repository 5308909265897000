"""Displays: each draws what its docstring says, on real fitted models."""

import warnings

import numpy as np
import pytest
from sklearn.calibration import CalibrationDisplay
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.linear_model import LogisticRegression

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg.datasets import make_noisy_linear, make_noisy_moons
from skreg.metrics import expected_calibration_error
from skreg.plotting import (ComparisonDisplay, DecisionBoundaryGridDisplay,
                            ReliabilityDisplay, TrainingHistoryDisplay,
                            WeightMatrixDisplay)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield
    plt.close("all")


@pytest.fixture(scope="module")
def moons():
    return make_noisy_moons(200, flip_fraction=0.1, random_state=0)


@pytest.fixture(scope="module")
def moons_models(moons):
    X, y = moons
    common = dict(hidden_layer_sizes=(12, 12), max_iter=25, learning_rate_init=0.01,
                  random_state=0)
    return {"L2": RegularizedMLPClassifier(penalty="l2", alpha=1.0, **common).fit(X, y),
            "L1": RegularizedMLPClassifier(penalty="l1", alpha=0.5, **common).fit(X, y)}


def test_training_history_draws_losses_best_epoch_trajectories_and_norms():
    X, y = make_noisy_linear(300, 10, random_state=0)
    reg = RegularizedMLPRegressor((8,), penalty="l1", alpha=1.0, early_stopping=True,
                                  snapshot_every=2, max_iter=20, n_iter_no_change=50,
                                  random_state=0).fit(X, y)
    disp = TrainingHistoryDisplay.from_estimator(reg, max_trajectories=30)
    ax_loss, ax_w = disp.ax_
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), reg.history_[:, "train_loss"])
    np.testing.assert_allclose(ax_loss.lines[1].get_ydata(), reg.history_[:, "valid_loss"])
    assert disp.best_epoch == reg.history_[-1, "best_epoch"]
    vlines = [ln for ln in ax_loss.lines if np.ptp(ln.get_xdata()) == 0]
    assert vlines[0].get_xdata()[0] == disp.best_epoch
    # 30 trajectories over the 10 snapshot epochs, and both norms on the twin axis
    trajectories = [ln for ln in ax_w.lines if len(ln.get_xdata()) == 10]
    assert len(trajectories) == 30
    labels = [ln.get_label() for ln in disp.norm_ax_.lines]
    assert labels == ["L1 norm", "L2 norm"]
    np.testing.assert_allclose(disp.norm_ax_.lines[0].get_ydata(), reg.history_[:, "l1_norm"])
    assert ax_loss.get_xscale() == "log"


def test_training_history_with_outside_validation_and_new_axes():
    X, y = make_noisy_linear(100, 5, random_state=0)
    reg = RegularizedMLPRegressor((8,), max_iter=6, random_state=0).fit(X, y)
    valid = np.array([5.0, 3.0, 2.0, 2.5, 2.8, 3.0])
    disp = TrainingHistoryDisplay.from_estimator(reg, valid_loss=valid, log_x=False)
    assert disp.best_epoch == 3 and disp.norm_ax_ is not None
    fig, axes = plt.subplots(2, 1)
    assert disp.plot(ax=axes).figure_ is fig
    with pytest.raises(ValueError, match="valid_loss"):
        TrainingHistoryDisplay.from_estimator(reg, valid_loss=valid[:3])
    with pytest.raises(ValueError, match="history_"):
        TrainingHistoryDisplay.from_estimator(LogisticRegression())


def test_weight_matrices_show_l1_sparser_than_l2(moons_models):
    disp = WeightMatrixDisplay.from_estimators(moons_models, layer=1)
    assert [m.shape for m in disp.matrices] == [(12, 12), (12, 12)]
    near_zero = [np.mean(np.abs(m) < 1e-3) for m in disp.matrices]
    assert near_zero[1] > near_zero[0] + 0.2
    assert [a.get_title().split("\n")[0] for a in disp.ax_] == ["L2", "L1"]
    # one colour scale, symmetric around zero, for every panel
    limits = {a.images[0].get_clim() for a in disp.ax_}
    assert len(limits) == 1 and sum(limits.pop()) == 0
    with pytest.raises(ValueError, match="layer"):
        WeightMatrixDisplay.from_estimators(moons_models, layer=5)


def test_decision_boundary_grid_reuses_sklearn_displays(moons, moons_models):
    X, y = moons
    disp = DecisionBoundaryGridDisplay.from_estimators(
        moons_models, X, y, response_method="predict_proba", grid_resolution=30, ncols=1)
    assert all(isinstance(d, DecisionBoundaryDisplay) for d in disp.displays)
    assert len(disp.ax_) == 2 and disp.ax_[0].get_title() == "L2"
    # the drawn response is the model's probability of class 1 on the grid
    d = disp.displays[0]
    grid = np.c_[d.xx0.ravel(), d.xx1.ravel()]
    np.testing.assert_allclose(d.response.ravel(),
                               moons_models["L2"].predict_proba(grid)[:, 1], atol=1e-6)
    fig, axes = plt.subplots(1, 2)
    assert disp.plot(ax=axes).figure_ is fig
    with pytest.raises(ValueError, match="2 features"):
        DecisionBoundaryGridDisplay.from_estimators(moons_models, np.c_[X, X], y)


def test_reliability_display_reuses_calibration_display_and_reports_ece():
    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    disp = ReliabilityDisplay.from_estimator(clf, X, y, n_bins=10, name="logreg")
    assert isinstance(disp.calibration_display, CalibrationDisplay)
    assert disp.ece == pytest.approx(
        expected_calibration_error(y, clf.predict_proba(X), n_bins=10))
    assert "ECE" in disp.line_.get_label() and disp.ece < 0.05
    # the curve: mean confidence (x) against accuracy (y), one point per bin
    x, acc = disp.line_.get_xdata(), disp.line_.get_ydata()
    assert len(x) == 10 and np.all(x >= 0.5) and np.all(np.abs(acc - x) < 0.1)


def test_reliability_display_shows_an_overconfident_model_below_the_diagonal():
    rng = np.random.default_rng(1)
    n = 2000
    confidence = rng.uniform(0.9, 1.0, n)  # claims 95% ...
    correct = rng.random(n) < 0.6          # ... is right 60% of the time
    y = np.where(correct, 1, 0)
    disp = ReliabilityDisplay.from_predictions(y, confidence, n_bins=5)
    assert disp.ece > 0.3
    assert np.all(disp.line_.get_ydata() < disp.line_.get_xdata())


def test_comparison_display_from_compare():
    from sklearn.datasets import load_iris

    from skreg.cli import compare

    X, y = load_iris(return_X_y=True)
    result = compare(X, y, cv=2, max_iter=5)
    disp = ComparisonDisplay.from_comparison(result)
    assert disp.ax_.get_ylabel() == result.metric
    np.testing.assert_allclose(disp.test_scores, [r["test_mean"] for r in result.rows])
    train_points = disp.ax_.collections[0].get_offsets()
    np.testing.assert_allclose(train_points[:, 1], [r["train_mean"] for r in result.rows])
    with pytest.raises(ValueError, match="test_scores"):
        ComparisonDisplay(["a", "b"], [1, 2], [1, 2, 3])
