"""The import path of the cross-validated estimators in models saved by earlier skreg versions.

pickle, joblib and skops name a class by its module: files saved before
the searches moved to :mod:`skreg._search` name ``skreg._cv``, and load
through this module.
"""

from ._search import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV

__all__ = ["RegularizedMLPClassifierCV", "RegularizedMLPRegressorCV"]
