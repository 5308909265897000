"""verbose=2: a progress bar over the epochs of a fit or a search (tqdm, on stderr)."""

import re

import numpy as np
import pytest

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressorCV
from skreg._engine import progress

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _last_state(err):
    """The bar's last drawn state: tqdm redraws it in place with carriage returns."""
    return re.split(r"[\r\n]+", err.strip())[-1]


def test_a_fit_shows_epochs_time_loss_and_best_validation_score(data, capsys, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    X, y = data
    est = RegularizedMLPClassifier(verbose=2, max_iter=12, early_stopping=True,
                                   n_iter_no_change=100, random_state=0).fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""  # no scikit-learn lines with the bar
    last = _last_state(err)
    assert last.startswith("RegularizedMLPClassifier: 100%") and "12/12" in last
    assert f"loss={est.loss_curve_[-1]:.4g}" in last
    assert f"best valid={est.best_validation_score_:.4g}" in last


def test_an_early_stop_leaves_the_bar_where_training_ended(data, capsys, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    X, y = data
    est = RegularizedMLPClassifier(verbose=2, max_iter=500, tol=0.05, n_iter_no_change=2,
                                   alpha=1e-4, random_state=0).fit(X, y)
    assert est.n_iter_ < 500
    assert f"{est.n_iter_}/500" in _last_state(capsys.readouterr().err)


def test_a_search_counts_every_fold_models_epochs_and_shows_the_best_score(
        data, capsys, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    X, y = data
    search = RegularizedMLPRegressorCV(
        alphas=[1e-3, 1e-1, 1.0], cv=3, max_iter=6, verbose=2, random_state=0).fit(X, X[:, 0])
    last = _last_state(capsys.readouterr().err)
    n_models = len(search.cv_results_["params"]) * search.n_splits_
    assert last.startswith("RegularizedMLPRegressorCV: 100%")
    # every fold model's budget, including the epochs of those that stopped or lost
    assert f"{n_models * 6}/{n_models * 6}" in last
    assert f"best score={search.best_score_:.4g}" in last


def test_short_fits_print_nothing_and_other_verbose_values_keep_scikit_learns_lines(
        data, capsys):
    X, y = data
    RegularizedMLPClassifier(verbose=2, max_iter=3, random_state=0).fit(X, y)
    assert capsys.readouterr().err == ""  # under DELAY seconds: no bar
    for verbose in (True, 1, 10):  # scikit-learn prints its lines for any true value
        RegularizedMLPClassifier(verbose=verbose, max_iter=3, random_state=0).fit(X, y)
        out, err = capsys.readouterr()
        assert out.splitlines()[0].startswith("Iteration 1, loss = ") and err == ""
