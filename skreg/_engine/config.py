"""What the engine trains on: the settings of a stack and its data.

:class:`TrainingConfig` holds every setting of a training run (shared
scalars and per-member arrays); :class:`TrainingData` the rows, already on
the training device. :class:`~skreg._engine.loop.Trainer` trains from both,
and :mod:`skreg._engine.state` saves and restores a config with a trainer.
"""

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch

from .regularizers import default_regularization


@dataclass
class TrainingConfig:
    """Everything that defines how a stack of members trains.

    Shared settings are scalars; the per-member ones (``alpha``,
    ``l1_ratio``, ``dropout``, ``label_smoothing``, ``seeds``, ``groups``)
    have one entry (``dropout``: one row) per member.
    """

    layer_sizes: tuple
    activation: str
    loss: Any
    batch_size: int
    seeds: np.ndarray
    alpha: np.ndarray
    l1_ratio: np.ndarray
    dropout: np.ndarray
    label_smoothing: np.ndarray
    groups: np.ndarray = None
    solver: str = "adam"
    learning_rate_init: float = 1e-3
    betas: tuple = (0.9, 0.999)
    epsilon: float = 1e-8
    momentum: float = 0.9
    nesterov: bool = True
    max_iter: int = 200
    tol: float = 1e-4
    n_iter_no_change: float = 10
    max_fun: Optional[int] = None
    early_stopping: bool = False
    shuffle: bool = True
    #: the regularizers' parameters by name (see
    #: :func:`~skreg._engine.regularizers.regularizer_params`); missing
    #: names take their defaults
    regularization: dict = None
    batch_norm: bool = False
    learning_rate: str = "constant"
    power_t: float = 0.5
    snapshot_every: Optional[int] = None
    device: Any = "cpu"
    dtype: Any = torch.float32
    verbose: int = 0
    #: 'manual' (the hand-written pass) or 'autograd' (the same step through
    #: autograd; what batch norm and L-BFGS always use), for the ablation
    backward: str = "manual"
    #: the members are one ensemble (``ensemble_size``): they train on the
    #: same batches, stop together on the ensemble's objective or
    #: validation score (of the averaged prediction), and keep the same
    #: best epoch; False: every member is a model of its own (a search)
    joint: bool = False
    #: ``(n_codes, dim)`` of each categorical input's learned embedding
    #: table (see :class:`~skreg._engine.model.StackedMLP`); the inputs are
    #: then the numeric columns followed by one code column per table
    embedding_tables: tuple = ()
    #: ``(columns, k, d, sigma)`` of the learned periodic embedding of
    #: numeric inputs (see :class:`~skreg._engine.model.StackedMLP`), or ()
    plr: tuple = ()
    #: a learned scale of each of the first layer's inputs (RealMLP's
    #: scaling layer; see :class:`~skreg._engine.model.StackedMLP`)
    scale_layer: bool = False

    def __post_init__(self):
        C = len(self.seeds)
        self.seeds = np.asarray(self.seeds, dtype=np.int64)
        for name in ("alpha", "l1_ratio", "label_smoothing"):
            setattr(self, name, np.broadcast_to(
                np.asarray(getattr(self, name), dtype=float), (C,)).copy())
        n_hidden = len(self.layer_sizes) - 2
        # one rate for everything, one per member, or a (C, n_hidden) table
        rates = np.asarray(self.dropout, dtype=float)
        if rates.ndim == 1 and rates.size == C and C > 1:
            rates = rates[:, None]
        self.dropout = np.broadcast_to(rates if rates.ndim == 2 else rates.reshape(1, -1),
                                       (C, n_hidden)).copy()
        self.groups = (np.zeros(C, dtype=np.int64) if self.groups is None
                       else np.asarray(self.groups, dtype=np.int64))
        self.device = torch.device(self.device)
        self.regularization = {**default_regularization(), **(self.regularization or {})}


@dataclass
class TrainingData:
    """The rows a stack trains on, already on the training device.

    Attributes
    ----------
    X : Tensor of shape (n_samples, n_features)
    y : Tensor
        Encoded targets: class indices ``(n,)``, 0/1 indicators ``(n, K)``
        or values ``(n, K)``.
    sample_weight : Tensor of shape (n_groups, n_samples) or None
        Row weights per group (class weights included).
    train_rows, valid_rows : list of LongTensor or None
        Each group's training and early-stopping rows; ``train_rows=None``
        is one group of every row.
    input_stats, target_stats : list of (Tensor, Tensor) or None
        Per group ``(center, scale)`` of the robust input scaling and
        ``(mean, std)`` of the target scaling, applied to each gathered
        batch (a search's per-fold statistics); None when the data come
        scaled.
    embeddings : list of callables or None
        Per group, the numeric feature embedding
        (:class:`skreg._engine.embeddings.NumericEmbedding`) applied to each
        gathered, scaled batch; the network's inputs are its outputs.
    """

    X: torch.Tensor
    y: torch.Tensor
    sample_weight: Optional[torch.Tensor] = None
    train_rows: Optional[list] = None
    valid_rows: Optional[list] = None
    input_stats: Optional[list] = None
    target_stats: Optional[list] = None
    embeddings: Optional[list] = None

    @property
    def n_groups(self):
        return 1 if self.train_rows is None else len(self.train_rows)
