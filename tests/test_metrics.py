"""expected_calibration_error and its scorer, on synthetic predictors."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skreg.metrics import (calibration_bins, expected_calibration_error,
                           expected_calibration_error_scorer)


def calibrated(n, n_classes, rng):
    """Probabilities whose top-label confidence is exactly right in law."""
    confidence = rng.uniform(1.0 / n_classes, 1.0, n)
    predicted = rng.integers(n_classes, size=n)
    proba = np.empty((n, n_classes))
    proba[:] = ((1 - confidence) / (n_classes - 1))[:, None]
    proba[np.arange(n), predicted] = confidence
    correct = rng.random(n) < confidence
    other = (predicted + rng.integers(1, n_classes, size=n)) % n_classes
    y = np.where(correct, predicted, other)
    return y, proba


def test_perfectly_calibrated_predictor_has_ece_near_zero():
    rng = np.random.default_rng(0)
    y, proba = calibrated(100_000, 4, rng)
    assert expected_calibration_error(y, proba) < 0.01


def test_overconfident_predictor_has_large_ece():
    rng = np.random.default_rng(0)
    y, proba = calibrated(20_000, 4, rng)
    # sharpen the same predictions: the argmax is unchanged, confidence near 1
    sharp = proba ** 8
    sharp /= sharp.sum(axis=1, keepdims=True)
    conf, acc, _ = calibration_bins(y, sharp)
    assert np.all(conf >= acc - 0.02)  # overconfident in every bin
    assert expected_calibration_error(y, sharp) > 0.2


def test_always_sure_and_always_wrong_gives_one():
    y = np.array([0, 1, 0, 1])
    proba = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert expected_calibration_error(y, proba, n_bins=2) == pytest.approx(1.0)


def test_ece_is_the_formula_on_hand_computed_bins():
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    # sorted confidences 0.6 (wrong), 0.7, 0.8, 0.9 (right); two bins of two
    conf, acc, counts = calibration_bins(y, proba, n_bins=2)
    np.testing.assert_allclose(conf, [0.65, 0.85])
    np.testing.assert_allclose(acc, [0.5, 1.0])
    np.testing.assert_array_equal(counts, [2, 2])
    assert expected_calibration_error(y, proba, n_bins=2) == pytest.approx(
        0.5 * 0.15 + 0.5 * 0.15)


def test_quantile_bins_have_equal_sizes_uniform_bins_equal_widths():
    rng = np.random.default_rng(1)
    y, proba = calibrated(1000, 3, rng)
    _, _, counts = calibration_bins(y, proba, n_bins=15)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 1000
    conf, _, _ = calibration_bins(y, proba, n_bins=10, strategy="uniform")
    # each uniform bin's mean confidence lies inside its own tenth of [0, 1]
    assert np.all(np.diff(np.floor(conf * 10)) > 0)


def test_binary_1d_probabilities_match_two_columns_and_string_labels():
    rng = np.random.default_rng(2)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    two_columns = expected_calibration_error(y, np.column_stack([1 - p, p]))
    assert expected_calibration_error(y, p) == pytest.approx(two_columns)
    labels = np.array(["no", "yes"])[y]
    assert expected_calibration_error(labels, p) == pytest.approx(two_columns)
    assert expected_calibration_error(labels, p, pos_label="yes") == pytest.approx(two_columns)


def test_scorer_is_minus_ece_and_works_in_cross_validation():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 5))
    y = (X[:, 0] + 0.5 * rng.normal(size=600) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    assert expected_calibration_error_scorer(model, X, y) == pytest.approx(
        -expected_calibration_error(y, model.predict_proba(X)[:, 1]))
    scores = cross_val_score(LogisticRegression(), X, y, cv=StratifiedKFold(3),
                             scoring=expected_calibration_error_scorer)
    assert np.all(scores <= 0) and np.all(scores > -0.2)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_bins": 0}, "n_bins"),
    ({"n_bins": 2.5}, "n_bins"),
    ({"strategy": "kmeans"}, "strategy"),
    ({"labels": [0, 1, 2]}, "labels"),
])
def test_bad_parameters_are_named(kwargs, match):
    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(y, proba, **kwargs)


def test_bad_inputs_are_rejected():
    y = np.array([0, 1, 2])
    with pytest.raises(ValueError, match="y_prob"):
        expected_calibration_error(y, np.ones((4, 3)) / 3)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_calibration_error(y, np.full((3, 3), 1.5))
    with pytest.raises(ValueError, match="pos_label"):
        expected_calibration_error(y, np.array([0.2, 0.5, 0.9]))
    with pytest.raises(ValueError, match="not in labels"):
        expected_calibration_error(np.array([0, 1, 5]), np.ones((3, 2)) / 2, labels=[0, 1])


def test_docstring_examples_run():
    import doctest

    import skreg.datasets
    import skreg.metrics

    for module in (skreg.metrics, skreg.datasets):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
