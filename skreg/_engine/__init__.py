"""The training engine: one loop for every fit.

From a plain ``fit`` (one network) to a search's folds (a stack of ``C``
networks), every fit runs the same code.

Data flow: the estimators validate and encode the user's data, then hand
tensors to a :class:`Trainer` (:mod:`.loop`) built from a
:class:`TrainingConfig`; the trainer steps a :class:`StackedMLP`
(:mod:`.model`) with the hand-written pass (:mod:`.backward`), the losses
of :mod:`.losses`, the regularizers of :mod:`.regularizers`, the noise of
:mod:`.noise` and the optimizers of :mod:`.optim`, and returns each
member's parameters. The engine never sees pandas frames or string labels.

The estimators use these names only: :func:`fit` (train from settings),
:func:`trained` (a fit from parameters a stack trained),
:func:`predict` / :func:`predict_mc` / :func:`outputs` (predictions), the
embeddings' fitting and the regularizers' declared parameters; a trainer's
state is its pickled form (:mod:`.state`).
"""

from .api import fit, networks, outputs, predict, predict_mc, trained
from .embeddings import (EMBEDDINGS, LEARNED_EMBEDDINGS, PLR_SIGMA, NumericEmbedding,
                         fit_embedding, varied_columns)
from .losses import LOSSES
from .loop import Members, Trainer, TrainingConfig, TrainingData
from .model import ACTIVATIONS, StackedMLP
from .noise import DropoutMasks
from .progress import Progress, shows_bar, shows_lines
from .regularizers import Param, regularizer_params
# the penalties' math on any tensors, which skreg.skorch's callbacks apply too
from .regularizers import ElasticNet, GroupLasso, LpPenalty, MaxNorm, soft_threshold_

__all__ = ["ACTIVATIONS", "EMBEDDINGS", "LEARNED_EMBEDDINGS", "LOSSES", "PLR_SIGMA",
           "DropoutMasks", "Members", "NumericEmbedding", "Param", "Progress", "StackedMLP",
           "Trainer", "TrainingConfig", "TrainingData", "fit", "fit_embedding", "networks",
           "outputs", "predict", "predict_mc", "regularizer_params", "shows_bar",
           "shows_lines", "trained", "varied_columns",
           "ElasticNet", "GroupLasso", "LpPenalty", "MaxNorm", "soft_threshold_"]
