"""skreg: regularized neural networks for tabular data with a scikit-learn API."""

from ._cv import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV
from ._mlp import RegularizedMLPClassifier, RegularizedMLPRegressor
from ._torch.engine import DivergenceError

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "RegularizedMLPClassifier",
    "RegularizedMLPClassifierCV",
    "RegularizedMLPRegressor",
    "RegularizedMLPRegressorCV",
    "__version__",
]
