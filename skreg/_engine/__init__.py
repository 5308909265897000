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
"""

from .losses import LOSSES
from .loop import Members, Trainer, TrainingConfig, TrainingData
from .model import ACTIVATIONS, StackedMLP
from .noise import DropoutMasks

__all__ = ["ACTIVATIONS", "LOSSES", "DropoutMasks", "Members", "StackedMLP", "Trainer",
           "TrainingConfig", "TrainingData"]
