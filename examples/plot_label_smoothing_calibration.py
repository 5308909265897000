"""Label smoothing against overconfidence, measured by the ECE (after Anoop Praturu).

Anoop Praturu's "Regularization" trained a ``784 -> 128 -> 10`` tanh network
with SGD on 1000 MNIST digits, found it overconfident (mean confidence above
accuracy in every bin; on over half of its mistakes it was more than 80%
confident), then swept the label smoothing ``eps`` (the true class gets ``1 -
eps``, every other class ``eps / (K - 1)``). The confidence-accuracy curves
approached the diagonal as ``eps`` grew, then crossed it (underconfidence);
the expected calibration error over 15 quantile bins, ``ECE = sum_m |Q_m| /
N |conf(Q_m) - acc(Q_m)|``, was smallest at ``eps = 0.015``.

The same experiment on scikit-learn's 8x8 digits, which are easier than
MNIST, so with 300 training images (1497 test images), ``64 -> 128 -> 10``
tanh, SGD with learning rate 0.1 and momentum 0.9, batches of 32, 250
epochs, and :func:`skreg.metrics.expected_calibration_error` with 15
quantile bins. This script prints::

    eps     test acc  mean conf     ECE
    0.000      0.941      0.972   0.032
    0.005      0.942      0.940   0.017
    0.010      0.943      0.928   0.015
    0.020      0.948      0.910   0.038
    0.050      0.953      0.868   0.085
    0.100      0.951      0.810   0.140

As in the post: without smoothing the network is overconfident (mean
confidence `0.972` against accuracy `0.941`), a little smoothing calibrates
it (smallest ECE, `0.015`, at ``eps = 0.01``; the post's optimum was 0.015),
and more makes it underconfident (mean confidence `0.810` against accuracy
`0.951` at ``eps = 0.1``) while accuracy changes little.

The figure shows the reliability diagrams (accuracy against mean
confidence per quantile bin, through scikit-learn's CalibrationDisplay) and
the ECE against ``eps``.

Run: ``python examples/plot_label_smoothing_calibration.py [FIGURE.png]``
(about 20 s on 2 cores).
"""

import os
import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skreg import RegularizedMLPClassifier
from skreg.metrics import expected_calibration_error
from skreg.plotting import ReliabilityDisplay

FAST = bool(os.environ.get("SKREG_EXAMPLES_FAST"))
FIGURE = "label_smoothing_calibration.png"
EPSILONS = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1]
TRAIN_SIZE = 300


def main(path=None):
    path = path or FIGURE
    # a fixed budget of epochs, as in the post: no stopping rule, no warning
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=TRAIN_SIZE, stratify=y, random_state=0)
    epsilons = EPSILONS[::2] if FAST else EPSILONS
    print(f"{'eps':<7} {'test acc':>8} {'mean conf':>10} {'ECE':>7}")
    results, models = {}, {}
    for eps in epsilons:
        model = RegularizedMLPClassifier(
            numeric_embedding=None,  # the published plain network
            hidden_layer_sizes=(128,), activation="tanh", solver="sgd",
            learning_rate_init=0.1, momentum=0.9, batch_size=32,
            max_iter=20 if FAST else 250, penalty=None, label_smoothing=eps, tol=0.0,
            n_iter_no_change=10**6, random_state=0,
            input_scaling=None).fit(X_train, y_train)  # the post's setup: inputs as they are
        proba = model.predict_proba(X_test)
        results[eps] = (model.score(X_test, y_test), proba.max(axis=1).mean(),
                        expected_calibration_error(y_test, proba, labels=model.classes_))
        models[eps] = model
        print(f"{eps:<7.3f} {results[eps][0]:>8.3f} {results[eps][1]:>10.3f} "
              f"{results[eps][2]:>7.3f}")

    import matplotlib.pyplot as plt

    fig, (ax_curve, ax_ece) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for eps, model in models.items():
        ReliabilityDisplay.from_estimator(model, X_test, y_test, n_bins=15,
                                          name=f"eps={eps:g}", ax=ax_curve)
    ax_curve.set(xlim=(0.3, 1.01), ylim=(0.3, 1.01), title="reliability (15 quantile bins)")
    ax_ece.plot(list(results), [r[2] for r in results.values()], "o-")
    ax_ece.set(xscale="symlog", xlabel="label smoothing eps", ylabel="ECE",
               title="expected calibration error", ylim=(0, None))
    ax_ece.set_xscale("symlog", linthresh=0.01)
    ax_ece.set_xlim(-0.001, max(epsilons) * 1.3)
    ax_ece.grid(lw=0.3)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print(f"figure saved to {path}")
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
