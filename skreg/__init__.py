"""skreg: regularized neural networks for tabular data with a scikit-learn API."""

from ._show_versions import _check_dependencies

# before torch or scikit-learn is imported: an incompatible installation gets
# one clear message instead of an error from deep inside an import
_check_dependencies()

from . import datasets, exceptions, metrics, plotting  # noqa: E402
from ._classifier import RegularizedMLPClassifier  # noqa: E402
from ._regressor import RegularizedMLPRegressor  # noqa: E402
from ._search import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV  # noqa: E402
from ._show_versions import show_versions  # noqa: E402
from .exceptions import DivergenceError  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "RegularizedMLPClassifier",
    "RegularizedMLPClassifierCV",
    "RegularizedMLPRegressor",
    "RegularizedMLPRegressorCV",
    "__version__",
    "datasets",
    "exceptions",
    "metrics",
    "plotting",
    "show_versions",
]
