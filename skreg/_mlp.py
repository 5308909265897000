"""The import path of the plain estimators in models saved by earlier skreg versions.

pickle, joblib and skops name a class by its module: files saved before
the estimators moved to :mod:`skreg._classifier` and :mod:`skreg._regressor`
name ``skreg._mlp``, and load through this module.
"""

from ._classifier import RegularizedMLPClassifier
from ._regressor import RegularizedMLPRegressor

__all__ = ["RegularizedMLPClassifier", "RegularizedMLPRegressor"]
