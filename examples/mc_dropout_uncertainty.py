"""Monte Carlo dropout: a predictive standard deviation from dropout.

Anoop Praturu's "Regularization" describes dropout as training an ensemble of thinned networks; left
on at prediction time, its passes disagree most where the training data say
least. This example fits a regressor with dropout on noisy samples of
``sin(3x)`` for ``x`` in [-1, 1] and prints the mean and the standard
deviation of 50 stochastic passes inside and outside that interval. The
standard deviation grows away from the data.

Run: ``python examples/mc_dropout_uncertainty.py`` (a few seconds).
"""

import os

import numpy as np

from skreg import RegularizedMLPRegressor

FAST = bool(os.environ.get("SKREG_EXAMPLES_FAST"))


def main():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(300, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=300)
    model = RegularizedMLPRegressor(hidden_layer_sizes=(128, 128), dropout=0.2,
                                    learning_rate_init=0.01, max_iter=50 if FAST else 300,
                                    random_state=0).fit(x, y)
    grid = np.linspace(-3, 3, 13)[:, None]
    mean, std = model.predict(grid, return_std=True, mc_samples=50)
    print(f"{'x':>6} {'sin(3x)':>8} {'MC mean':>8} {'MC std':>7}")
    for xi, m, s in zip(grid[:, 0], mean, std):
        inside = "  (training range)" if -1 <= xi <= 1 else ""
        print(f"{xi:>6.1f} {np.sin(3 * xi):>8.3f} {m:>8.3f} {s:>7.3f}{inside}")
    inside = np.abs(grid[:, 0]) <= 1
    return std[inside].mean(), std[~inside].mean()


if __name__ == "__main__":
    main()
