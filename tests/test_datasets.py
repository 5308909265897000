"""skreg.datasets: the seed problems, checked on what they are meant to show."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsClassifier

from skreg.datasets import make_noisy_linear, make_noisy_moons


def test_noisy_linear_is_linear_with_the_stated_noise():
    X, y, coef, intercept = make_noisy_linear(20_000, 50, noise=0.2, random_state=0,
                                              return_coef=True)
    assert X.shape == (20_000, 50) and y.shape == (20_000,) and coef.shape == (50,)
    residual = y - X @ coef - intercept
    assert residual.std() == pytest.approx(0.2, rel=0.03)
    fit = LinearRegression().fit(X, y)
    np.testing.assert_allclose(fit.coef_, coef, atol=0.01)
    # Var(X w) = 9 in law: the signal dwarfs the noise
    assert 5 < np.var(X @ coef) < 14


def test_noisy_linear_same_seed_same_model_and_zero_noise():
    _, _, coef_a, b_a = make_noisy_linear(10, random_state=3, return_coef=True)
    _, _, coef_b, b_b = make_noisy_linear(500, random_state=3, return_coef=True)
    np.testing.assert_array_equal(coef_a, coef_b)
    assert b_a == b_b
    X, y, coef, b = make_noisy_linear(30, 5, noise=0.0, random_state=1, return_coef=True)
    np.testing.assert_allclose(y, X @ coef + b)


def test_noisy_moons_flips_the_stated_share_of_labels():
    X, y = make_noisy_moons(4000, flip_fraction=0.1, noise=0.1, random_state=0)
    X_clean, y_clean = make_noisy_moons(4000, flip_fraction=0.0, noise=0.1, random_state=0)
    assert X.shape == (4000, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(X, X_clean)  # flips change labels only
    assert np.mean(y != y_clean) == pytest.approx(0.1, abs=0.015)
    # a smooth classifier trained on clean labels disagrees with the flipped ones
    knn = KNeighborsClassifier(15).fit(X_clean, y_clean)
    assert np.mean(knn.predict(X) != y) == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("call, match", [
    (lambda: make_noisy_linear(0), "n_samples"),
    (lambda: make_noisy_linear(10, 0), "n_features"),
    (lambda: make_noisy_linear(10, noise=-1), "noise"),
    (lambda: make_noisy_moons(1), "n_samples"),
    (lambda: make_noisy_moons(10, flip_fraction=0.7), "flip_fraction"),
    (lambda: make_noisy_moons(10, noise=-0.1), "noise"),
])
def test_bad_parameters_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
