"""Per-epoch diagnostics in history_: weight norms, zero fractions, lr, snapshots."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor
from skreg.datasets import make_noisy_linear


@pytest.fixture(autouse=True)
def no_convergence_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def data():
    return make_noisy_linear(200, 10, random_state=0)


def test_norms_and_zero_fractions_match_the_final_weights(data):
    X, y = data
    reg = RegularizedMLPRegressor((16,), penalty="l1", alpha=5.0, max_iter=15,
                                  random_state=0, numeric_embedding=None).fit(X, y)
    w = np.concatenate([W.ravel() for W in reg.coefs_])
    last = reg.history_[-1]
    assert last["l1_norm"] == pytest.approx(np.abs(w).sum(), rel=1e-5)
    assert last["l2_norm"] == pytest.approx(np.linalg.norm(w), rel=1e-5)
    assert last["frac_near_zero"] == pytest.approx(np.mean(np.abs(w) < 1e-3))
    assert last["frac_zero"] == pytest.approx(np.mean(w == 0))


def test_l1_norm_falls_and_exact_zeros_grow_under_l1(data):
    X, y = data
    l1 = RegularizedMLPRegressor((32,), penalty="l1", alpha=20.0, learning_rate_init=0.01,
                                 max_iter=40, random_state=0).fit(X, y)
    free = RegularizedMLPRegressor((32,), penalty=None, learning_rate_init=0.01,
                                   max_iter=40, random_state=0).fit(X, y)
    norms = np.array(l1.history_[:, "l1_norm"])
    zeros = np.array(l1.history_[:, "frac_zero"])
    assert norms[-1] < 0.7 * norms[0] and np.all(np.diff(norms[5:]) < 0.5)
    assert zeros[0] < zeros[-1] and zeros[-1] > 0.3
    assert free.history_[-1, "l1_norm"] > 2 * norms[-1]
    assert free.history_[-1, "frac_zero"] == 0


def test_learning_rate_and_best_epoch_are_recorded(data):
    X, y = data
    reg = RegularizedMLPRegressor((8,), learning_rate="invscaling", power_t=0.5,
                                  learning_rate_init=0.01, max_iter=5,
                                  random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.history_[:, "lr"], 0.01 / np.sqrt(np.arange(1, 6)))
    labels = (y > np.median(y)).astype(int)
    clf = RegularizedMLPClassifier((8,), early_stopping=True, max_iter=30,
                                   n_iter_no_change=3, random_state=0).fit(X, labels)
    scores = clf.history_[:, "valid_score"]
    best = clf.history_[-1, "best_epoch"]
    assert scores[best - 1] == max(scores)


def test_snapshots_every_k_epochs_have_the_weights_shape(data):
    X, y = data
    reg = RegularizedMLPRegressor((6, 4), snapshot_every=3, max_iter=10,
                                  random_state=0, numeric_embedding=None).fit(X, y)
    rows = [r for r in reg.history_ if "coef_snapshot" in r]
    assert [r["epoch"] for r in rows] == [3, 6, 9]
    n_weights = 10 * 6 + 6 * 4 + 4 * 1
    assert all(r["coef_snapshot"].shape == (n_weights,) for r in rows)
    assert rows[-1]["coef_snapshot"].dtype == np.float64
    # the snapshot is a copy, not a view of the live weights
    assert not np.allclose(rows[0]["coef_snapshot"], rows[-1]["coef_snapshot"])
    no_snapshots = RegularizedMLPRegressor((6,), max_iter=4, random_state=0,
                                           numeric_embedding=None).fit(X, y)
    assert not any("coef_snapshot" in r for r in no_snapshots.history_)


@pytest.mark.parametrize("value", [0, -2, 1.5, "3"])
def test_bad_snapshot_every_is_named(data, value):
    X, y = data
    with pytest.raises(ValueError, match="snapshot_every"):
        RegularizedMLPRegressor(snapshot_every=value, max_iter=2).fit(X, y)


def test_verbose_rows_leave_out_the_weight_statistics(data, capsys):
    X, y = data
    reg = RegularizedMLPRegressor((6,), snapshot_every=1, max_iter=2, verbose=True,
                                  random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "Iteration 2, loss" in out and "coef_snapshot" not in out and "l1_norm" not in out
    assert len(reg.history_[:, "coef_snapshot"]) == 2  # still recorded
