"""skreg: regularized neural networks for tabular data with a scikit-learn API."""

from . import datasets, metrics, plotting
from ._mlp import RegularizedMLPClassifier, RegularizedMLPRegressor
from ._torch.engine import DivergenceError

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "RegularizedMLPClassifier",
    "RegularizedMLPRegressor",
    "__version__",
    "datasets",
    "metrics",
    "plotting",
]
