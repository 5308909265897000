"""scikit-learn's MLP gallery examples, run with the import swapped.

Two examples of scikit-learn's gallery train ``MLPClassifier`` on data that
needs no download: "Varying regularization in Multi-layer Perceptron"
(``solver='lbfgs'``, ``early_stopping=True``, ``alpha`` from 0.1 to 10 on
three two-dimensional datasets; test accuracy) and "Compare Stochastic
learning strategies for MLPClassifier" (seven SGD and Adam settings on four
datasets; training accuracy, as the example reports). Each runs here with
scikit-learn's class and with skreg's in its place, everything else as in
the example, and the scores are compared.

The first example's scores vary with the seed by about 0.02 (standard
deviation over seeds 1-8 of scikit-learn's mean); it is averaged over
three seeds here.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import (load_digits, load_iris, make_circles, make_classification,
                              make_moons)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skreg import RegularizedMLPClassifier

NOISE = 0.02
#: the drop-in mode of skreg (coming_from_sklearn.md): scikit-learn's network
DROP_IN = dict(numeric_embedding=None, input_scaling=None)


def varying_regularization(Classifier, seed, constant=False, **params):
    """Test accuracy of each (dataset, alpha) of the gallery example.

    With ``constant=True`` also whether each fit predicts one class for all
    its training samples.
    """
    X, y = make_classification(n_features=2, n_redundant=0, n_informative=2,
                               random_state=0, n_clusters_per_class=1)
    X += 2 * np.random.RandomState(2).uniform(size=X.shape)
    datasets = [make_moons(noise=0.3, random_state=0),
                make_circles(noise=0.2, factor=0.5, random_state=1), (X, y)]
    scores, constants = [], []
    for X, y in datasets:
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4,
                                                            random_state=42)
        for alpha in np.logspace(-1, 1, 5):
            clf = make_pipeline(StandardScaler(), Classifier(
                solver="lbfgs", alpha=alpha, random_state=seed, max_iter=2000,
                early_stopping=True, hidden_layer_sizes=[10, 10], **params))
            scores.append(clf.fit(X_train, y_train).score(X_test, y_test))
            constants.append(len(np.unique(clf.predict(X_train))) == 1)
    return (np.array(scores), np.array(constants)) if constant else np.array(scores)


LEARNING_STRATEGIES = [
    {"solver": "sgd", "learning_rate": "constant", "momentum": 0, "learning_rate_init": 0.2},
    {"solver": "sgd", "learning_rate": "constant", "momentum": 0.9,
     "nesterovs_momentum": False, "learning_rate_init": 0.2},
    {"solver": "sgd", "learning_rate": "constant", "momentum": 0.9,
     "nesterovs_momentum": True, "learning_rate_init": 0.2},
    {"solver": "sgd", "learning_rate": "invscaling", "momentum": 0,
     "learning_rate_init": 0.2},
    {"solver": "sgd", "learning_rate": "invscaling", "momentum": 0.9,
     "nesterovs_momentum": False, "learning_rate_init": 0.2},
    {"solver": "sgd", "learning_rate": "invscaling", "momentum": 0.9,
     "nesterovs_momentum": True, "learning_rate_init": 0.2},
    {"solver": "adam", "learning_rate_init": 0.01},
]


def learning_strategies(Classifier, **params):
    """Training accuracy of each (dataset, strategy) of the gallery example."""
    iris, digits = load_iris(), load_digits()
    datasets = [(iris.data, iris.target), (digits.data, digits.target),
                make_circles(noise=0.2, factor=0.5, random_state=1),
                make_moons(noise=0.3, random_state=0)]
    scores = []
    for i, (X, y) in enumerate(datasets):
        X = MinMaxScaler().fit_transform(X)
        for strategy in LEARNING_STRATEGIES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = Classifier(random_state=0, max_iter=15 if i == 1 else 400,
                                 **strategy, **params)
                scores.append(clf.fit(X, y).score(X, y))
    return np.array(scores)


SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def regularization_scores():
    """Each seed's scores of the example: scikit-learn's, skreg's drop-in mode, skreg's defaults."""
    scores = {"sklearn": {}, "drop_in": {}}
    for seed in SEEDS:
        scores["sklearn"][seed] = varying_regularization(MLPClassifier, seed)
        scores["drop_in"][seed] = varying_regularization(RegularizedMLPClassifier, seed,
                                                         **DROP_IN)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        scores["defaults"] = varying_regularization(RegularizedMLPClassifier, 1,
                                                    constant=True)
    scores["collapsed"] = [w for w in caught if "predicts the same class" in str(w.message)]
    return scores


def test_varying_regularization_in_drop_in_mode(regularization_scores):
    sklearn = np.mean([regularization_scores["sklearn"][s] for s in SEEDS])
    skreg = np.mean([regularization_scores["drop_in"][s] for s in SEEDS])
    assert skreg >= sklearn - NOISE, (skreg, sklearn)


def test_varying_regularization_with_the_import_swapped_warns_where_it_collapses(
        regularization_scores):
    """skreg's defaults: the same alpha regularizes more (input scaling, PLR embedding).

    Every fit that predicts one class says so with a ``UserWarning``; the
    other fits score as scikit-learn's do on the same datasets and alphas.
    """
    scores, constant = regularization_scores["defaults"]
    collapsed = regularization_scores["collapsed"]
    assert len(collapsed) == constant.sum() >= 2
    assert all("numeric_embedding=None and input_scaling=None" in str(w.message)
               for w in collapsed)
    sklearn = regularization_scores["sklearn"][1]
    assert scores[~constant].mean() >= sklearn[~constant].mean() - NOISE


def test_the_figures_quoted_in_coming_from_sklearn(regularization_scores):
    """docs/coming_from_sklearn.md quotes this example's means (random_state=1)."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "coming_from_sklearn.md"
            ).read_text()
    defaults = regularization_scores["defaults"][0].mean()
    sklearn = regularization_scores["sklearn"][1].mean()
    drop_in = regularization_scores["drop_in"][1].mean()
    assert (f"scores {defaults:.3f} against scikit-learn's {sklearn:.3f}" in
            " ".join(text.split()))
    assert f"In the drop-in mode above skreg scores {drop_in:.3f}" in " ".join(text.split())


def test_learning_strategies_with_the_import_swapped():
    sklearn = learning_strategies(MLPClassifier)
    skreg = learning_strategies(RegularizedMLPClassifier)
    assert skreg.mean() >= sklearn.mean() - NOISE, (skreg.mean(), sklearn.mean())
