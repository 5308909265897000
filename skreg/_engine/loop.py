"""The training loop: epochs over a stack of members, stopping, history, callbacks.

:class:`Trainer` trains the ``C`` members of a
:class:`~skreg._engine.model.StackedMLP` together. Members are grouped by
the rows they train on (their *row group*: a search's fold; a plain fit has
one group and one member); every member of a group sees the same rows in
the same order, and each member has its own penalty strength, L1 mix,
dropout rates, label smoothing, seed, Adam moments, stopping rule and best
weights. A plain ``fit`` is ``C = 1``; a search's folds are
``C = configurations x folds``; both run this same code, so a fold model
and the refit differ only in their rows and their seed.

Per step, each group's batch is gathered (and, in a search, scaled with the
group's own statistics), then the hand-written step
(:func:`skreg._engine.backward.manual_step`) or its autograd form runs for
all members at once, followed by the regularizers' post-steps (proximal
L1, group lasso, max-norm). Groups whose rows run out before the others'
(folds of unequal size) are padded with rows of weight 0, and a member
whose batch weighs 0 gets a zero gradient. After each epoch every member's
objective (data loss + penalty) and, with early stopping, its validation
score are computed, and scikit-learn's stopping rule is applied per member:
a member stops once more than ``n_iter_no_change`` epochs in a row failed
to improve its best value by more than ``tol``. Stopped members leave the
stack, so an epoch costs what the members still training cost.

On the CPU the epochs run with subnormal floats flushed to zero
(:mod:`skreg._torch.fpenv`).
"""

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np
import torch
from skorch.history import History

from .._preprocessing import robust_scale_tensor_
from .._torch.fpenv import flush_denormals
from ..exceptions import DivergenceError
from .backward import autograd_step, manual_step
from .model import StackedMLP
from .noise import DropoutMasks, batch_transform, dropout_factor, mask_source
from .optim import (as_torch_optimizer, build_optimizer, clone_state, move_state,
                    restore_state,
                    step_function)
from .regularizers import build_regularizers, default_regularization

# |w| below this counts as near zero in the history's weight statistics
NEAR_ZERO = 1e-3


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


@dataclass
class Members:
    """Per-member outcome of :meth:`Trainer.train`, indexed by member.

    ``coef`` and ``intercept`` hold each member's final parameters
    (its best epoch's with early stopping), as in ``StackedMLP``.
    ``pruned`` marks the members that the ``prune`` rule of
    :meth:`Trainer.train` stopped (with their current, or best, weights).
    ``max_fun_reached`` is True when L-BFGS stopped on its budget of
    objective evaluations (``max_fun``); ``divergence`` describes a
    diverged epoch of a single network after which early stopping went on
    with its best epoch's weights instead of raising.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray
    pruned: Optional[np.ndarray] = None
    max_fun_reached: bool = False
    divergence: Optional[str] = None


def _embed(X, embeddings):
    """Each group's rows ``X[g]`` (``X`` is ``(G, n, d)``) through its embedding."""
    if embeddings is None:
        return X
    if len(embeddings) == 1:
        return embeddings[0](X)
    return torch.stack([e(X[g]) for g, e in enumerate(embeddings)])


class StoppingRule:
    """scikit-learn's MLP stopping rule, per member.

    An epoch is a miss unless the monitored value beats the member's best by
    more than ``tol``; a member stops after more than ``patience`` misses in
    a row.
    """

    def __init__(self, n_members, patience, tol, higher_is_better):
        self.sign = 1.0 if higher_is_better else -1.0
        self.best = np.full(n_members, -np.inf)
        self.best_epoch = np.zeros(n_members, dtype=int)
        self.misses = np.zeros(n_members, dtype=int)
        self.patience, self.tol = patience, tol

    def update(self, members, values, epoch):
        """``values`` of ``members`` -> (improved, out_of_patience) boolean arrays."""
        signed = self.sign * values
        best = self.best[members]
        miss = ~(signed >= best + self.tol)
        self.misses[members] = np.where(miss, self.misses[members] + 1, 0)
        improved = signed > best
        self.best[members] = np.where(improved, signed, best)
        self.best_epoch[members] = np.where(improved, epoch, self.best_epoch[members])
        return improved, self.misses[members] > self.patience


class Trainer:
    """Trains a stack of members and keeps what a later ``fit`` continues from.

    Parameters
    ----------
    config : TrainingConfig

    Attributes
    ----------
    model : StackedMLP
        The members still training (all of them for ``C = 1``).
    history : skorch.History or None
        One dict per epoch for a single network or a joint ensemble (see
        the estimators' ``history_``; an ensemble records the mean over its
        members of the training loss and penalty, and the validation
        score of its averaged prediction); None for a search's stack.
    n_epochs : int
        Epochs trained since initialisation.
    """

    def __init__(self, config):
        self.config = config
        C = len(config.seeds)
        seed = int(config.seeds[0])
        self.model = StackedMLP(config.layer_sizes, config.activation, C, config.batch_norm,
                                config.embedding_tables, config.plr or None,
                                config.scale_layer)
        self.model.to(dtype=config.dtype).reset_parameters(config.seeds)
        self.model.to(device=config.device)
        self.generator = torch.Generator(device=config.device).manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.masks = DropoutMasks(config.layer_sizes[1:-1], config.dropout, config.seeds)
        self.regularizers = build_regularizers(config)
        self.history = History() if C == 1 or config.joint else None
        self.n_epochs = 0
        self.active = np.arange(C)
        self.optimizer = None

    # ------------------------------------------------------------- pickling
    def __getstate__(self):
        """The trainer as numpy arrays and plain values.

        pickle, joblib and skops store this dict
        (:func:`skreg._engine.state.trainer_state`): no torch object, nothing
        that needs the training device to load.
        """
        from .state import trainer_state

        return trainer_state(self)

    def __setstate__(self, state):
        """Rebuild the trainer from what :meth:`__getstate__` returned.

        See :func:`skreg._engine.state.trainer_from_state`: a trainer saved on
        a CUDA device loads on the CPU, with a ``UserWarning``, where CUDA is
        missing.
        """
        from .state import trainer_from_state

        self.__dict__.update(trainer_from_state(state).__dict__)

    # ------------------------------------------------------------ optimizer
    def restart_optimizer(self, batch_size, **settings):
        """A new optimizer, as scikit-learn's MLP makes at every ``fit``.

        ``settings`` update the config first (``learning_rate_init``,
        ``betas``, ``epsilon``, ``momentum``, ``nesterov``, ``power_t``).
        """
        for key, value in settings.items():
            setattr(self.config, key, value)
        self.config.batch_size = batch_size
        self.optimizer = self._build_optimizer()

    def _build_optimizer(self):
        c = self.config
        decay = 0.0
        if c.solver == "adamw":
            # AdamW applies w <- w - lr * weight_decay * w each step; this
            # value makes that the L2 part of alpha / batch_size
            l2 = [r.l2 for r in self.regularizers if hasattr(r, "l2")]
            decay = float(l2[0][0]) / c.batch_size if l2 else 0.0
        params = [self.model.coef, self.model.intercept]
        if self.model.norms is not None:
            params += list(self.model.norms.parameters())
        return build_optimizer(c.solver, params, c.learning_rate_init, betas=c.betas,
                               eps=c.epsilon, momentum=c.momentum, nesterov=c.nesterov,
                               weight_decay=decay)

    def _learning_rate(self, epoch):
        c = self.config
        if c.learning_rate == "invscaling":
            return c.learning_rate_init / (1.0 + epoch) ** c.power_t
        if c.learning_rate == "cosine":
            return c.learning_rate_init * (1.0 + math.cos(
                math.pi * min(epoch, c.max_iter) / c.max_iter)) / 2.0
        if c.learning_rate == "coslog4":
            # RealMLP's schedule: four cosine cycles, each twice as long as
            # the one before, at the middle t of each epoch (0 at t = 0 and 1)
            t = min(epoch + 0.5, c.max_iter) / c.max_iter
            return c.learning_rate_init * (1.0 - math.cos(
                2.0 * math.pi * math.log2(1.0 + 15.0 * t))) / 2.0
        return None

    # ----------------------------------------------------------------- step
    def _step_function(self, batch):
        """One optimizer step on a batch of at most ``batch`` rows, post-steps included."""
        c, model = self.config, self.model
        for p in (model.coef, model.intercept):
            if p.grad is None or p.grad.shape != p.shape:
                p.grad = torch.zeros_like(p)
        next_masks = mask_source(self.masks, batch, self.generator)
        autograd = model.norms is not None or c.solver == "lbfgs" or c.backward == "autograd"
        if autograd:
            core = autograd_step(model, c.loss, self.regularizers, self.optimizer,
                                 next_masks, c.regularization["hidden_noise"], self.generator)
        else:
            rates = c.dropout[self.active]
            # a layer's inverted-dropout factor where every member has its rate
            factors = [dropout_factor(col[0]) if np.all(col == col[0]) else None
                       for col in rates.T]
            core = manual_step(model, c.loss, self.regularizers,
                               step_function(self.optimizer), next_masks,
                               c.regularization["hidden_noise"], self.generator,
                               self.optimizer, factors)
        post_steps = [f for f in (r.post_step(model, self.optimizer)
                                  for r in self.regularizers) if f is not None]
        transform = batch_transform(c.regularization["input_noise"], c.regularization["mixup"],
                                    self.generator, self.rng,
                                    model.n_dense if model.tables else None)
        single = model.n_members == 1

        @torch.no_grad()
        def step(xb, tb, wb, loss_sum):
            if wb is None:
                scale = 1.0 / xb.shape[-2]
            elif single:
                batch_weight = float(wb.sum())  # one sync per batch with weights
                if batch_weight <= 0:
                    return  # an all-zero-weight batch carries no information
                scale = 1.0 / batch_weight
            else:
                total = wb.sum(-1)
                # a member whose batch weighs 0 (its fold ran out of rows) gets
                # a zero gradient, penalty included
                scale = torch.where(total > 0, 1.0 / total.clamp_min(1e-30),
                                    torch.zeros_like(total)).view(-1, 1, 1)
            if transform is not None:
                xb, tb, wb = transform(xb, tb, wb)
            core(xb, tb, wb, scale, loss_sum)
            flat = scale.view(-1, 1) if isinstance(scale, torch.Tensor) else scale
            for post in post_steps:
                post(flat)

        return step

    # ----------------------------------------------------------------- data
    def _gather(self, data, idx, pad, targets_table, smoothing, member_group):
        """A batch for every member: rows ``idx`` ``(G, n)`` of each group."""
        c = self.config
        G, n = idx.shape
        X = data.X.index_select(0, idx.reshape(-1)).view(G, n, -1)
        if data.input_stats is not None:
            robust_scale_tensor_(self._dense(X), *data.input_stats)
        X = _embed(X, data.embeddings)
        if targets_table is not None:
            T = targets_table.index_select(0, idx.reshape(-1)).view(G, n, -1)
        else:
            y = data.y.index_select(0, idx.reshape(-1)).view(G, n, *data.y.shape[1:])
            if data.target_stats is not None:
                y = (y - data.target_stats[0]) / data.target_stats[1]
            T = y
        W = None
        if data.sample_weight is not None:
            W = data.sample_weight.gather(1, idx)
        if pad is not None:
            W = pad if W is None else W * pad
        if G > 1:
            X = X.index_select(0, member_group)
            T = T.index_select(0, member_group)
            W = None if W is None else W.index_select(0, member_group)
        if G == 1 or self.model.n_members == 1:
            # one group's rows are shared by every member; one member's are 2-D
            X, T = X[0], T[0]
            W = None if W is None else W[0]
        if targets_table is None:
            T = c.loss.targets(T, c.dtype, smoothing)
        return X, T, W

    def _dense(self, X):
        """The numeric columns of inputs X (a view): not the embedding codes."""
        return X[..., :self.model.n_dense] if self.model.tables else X

    def _orders(self, rows, n_samples, device):
        """Each group's row order this epoch: ``(G, L)`` indices and padding weights.

        The weights are None when every group has ``L`` rows; without groups
        (``rows`` None) the order is one permutation, or None unshuffled.
        """
        if rows is None:
            # numpy's shuffle of positions, as for a group's rows below: a fit
            # on a fold's rows sees them in the order its fold model saw them
            order = (torch.as_tensor(self.rng.permutation(n_samples), device=device)
                     if self.config.shuffle else None)
            return order, None
        orders = [self.rng.permutation(r) if self.config.shuffle else np.asarray(r)
                  for r in rows]
        longest = max(len(o) for o in orders)
        idx = np.zeros((len(orders), longest), dtype=np.int64)
        pad = np.zeros((len(orders), longest))
        for g, o in enumerate(orders):
            idx[g, :len(o)] = o
            pad[g, :len(o)] = 1.0
        equal = all(len(o) == longest for o in orders)
        return (torch.as_tensor(idx, device=device),
                None if equal else torch.as_tensor(pad, dtype=self.config.dtype, device=device))

    # ----------------------------------------------------------- validation
    def _validation(self, data):
        """Each group's early-stopping rows, padded to one length, or None."""
        if data.valid_rows is None:
            return None
        c = self.config
        longest = max(len(r) for r in data.valid_rows)
        idx = np.zeros((len(data.valid_rows), longest), dtype=np.int64)
        pad = np.zeros((len(data.valid_rows), longest))
        for g, r in enumerate(data.valid_rows):
            idx[g, :len(r)] = r
            pad[g, :len(r)] = 1.0
        idx = torch.as_tensor(idx, device=c.device)
        G, n = idx.shape
        X = data.X.index_select(0, idx.reshape(-1)).view(G, n, -1)
        if data.input_stats is not None:
            robust_scale_tensor_(self._dense(X), *data.input_stats)
        X = _embed(X, data.embeddings)
        y = data.y.index_select(0, idx.reshape(-1)).view(G, n, *data.y.shape[1:])
        if data.target_stats is not None:
            y = (y - data.target_stats[0]) / data.target_stats[1]
        W = torch.as_tensor(pad, dtype=c.dtype, device=c.device)
        if data.sample_weight is not None:
            W = W * data.sample_weight.gather(1, idx)
        return X, y, W

    @torch.no_grad()
    def _evaluate(self, valid, member_group):
        """Validation loss and score of every member, tensors of shape ``(C,)``."""
        X, y, W = valid
        loss, model = self.config.loss, self.model
        model.eval()
        if X.shape[0] > 1:
            X, y, W = (t.index_select(0, member_group) for t in (X, y, W))
        if X.shape[0] == 1 or model.n_members == 1:
            X, y, W = X[0], y[0], W[0]
        out = model(X)
        if self.config.joint and model.n_members > 1:
            out = loss.average(out)  # the ensemble's prediction, as raw outputs
        targets = loss.targets(y, self.config.dtype, 0.0)
        losses = loss.value(out, targets) * loss.report_factor
        valid_loss = (losses * W).sum(-1) / W.sum(-1)
        score = loss.score(out, y, W)
        return valid_loss.reshape(-1), score.reshape(-1)

    # ---------------------------------------------------------------- train
    def train(self, data, epochs=None, monitor=True, callbacks=(), host=None, prune=None):
        """Train every active member for up to ``epochs`` epochs (default ``max_iter``).

        ``monitor=False`` (``partial_fit``) runs the epochs without the
        stopping rule and without restoring a best epoch. ``callbacks``
        (objects with skorch's ``on_train_begin``, ``on_epoch_begin``,
        ``on_epoch_end`` and ``on_train_end``) are called with ``host`` at
        the epoch boundaries of a single network. ``prune`` (stacks only)
        is called after every epoch as ``prune(epoch, members, model)``
        with the original ids of the members still training and the
        stack holding them; it returns a boolean array over ``members``,
        True for the members to stop now (a search's racing drops its
        losing configurations this way). Returns :class:`Members`.
        """
        with flush_denormals(self.config.device):
            return self._train(data, epochs, monitor, callbacks, host, prune)

    def _train(self, data, epochs, monitor, callbacks, host, prune=None):
        c, model = self.config, self.model
        epochs = c.max_iter if epochs is None else epochs
        if self.optimizer is None:
            self.optimizer = self._build_optimizer()
        device, dtype = c.device, c.dtype
        C = model.n_members
        single = C == 1
        # one model: a single network, or an ensemble stopped and reported as one
        unit = single or c.joint
        n_samples = data.X.shape[0]
        G = data.n_groups
        # per-group statistics as (G, 1, d) tensors, broadcast over each group's batch
        stacked = lambda stats: None if stats is None else [  # noqa: E731
            torch.stack([s[i] for s in stats]).unsqueeze(1) for i in range(2)]
        data = replace(data, input_stats=stacked(data.input_stats),
                       target_stats=stacked(data.target_stats))
        batch = c.batch_size
        lengths = ([n_samples] if data.train_rows is None
                   else [len(r) for r in data.train_rows])
        n_steps = math.ceil(max(lengths) / batch)
        # total and mean batch weight of each group, for the reported losses
        if data.sample_weight is None:
            group_weight = np.asarray(lengths, dtype=float)
        elif data.train_rows is None:
            group_weight = np.asarray([float(data.sample_weight[0].sum())])
        else:
            group_weight = np.asarray([
                float(data.sample_weight[g, torch.as_tensor(r, device=device)].sum())
                for g, r in enumerate(data.train_rows)])
        mean_batch_weight = group_weight / np.ceil(np.asarray(lengths) / batch)

        # training targets table: smoothing shared by every member and no
        # per-group target scaling, so the targets are made once
        shared_smoothing = bool(np.all(c.label_smoothing == c.label_smoothing[0]))
        table = None
        if shared_smoothing and data.target_stats is None:
            table = c.loss.targets(data.y, dtype, float(c.label_smoothing[0]))
            table = table.reshape(n_samples, -1)

        # one group whose rows come scaled: batches are plain row selections
        flat = G == 1 and data.input_stats is None and data.target_stats is None
        embed = data.embeddings[0] if flat and data.embeddings is not None else None
        valid = self._validation(data) if (monitor and c.early_stopping) else None
        rule = StoppingRule(1 if unit else C, c.n_iter_no_change, c.tol,
                            higher_is_better=valid is not None) if monitor else None
        best = None
        if valid is not None:
            best = (model.coef.detach().clone(), model.intercept.detach().clone(),
                    self._bn_state())

        result = Members(
            coef=np.zeros((C,) + tuple(model.coef.shape[1:])),
            intercept=np.zeros((C,) + tuple(model.intercept.shape[1:])),
            n_iter=np.zeros(C, dtype=int), converged=np.zeros(C, dtype=bool),
            diverged=np.zeros(C, dtype=bool), pruned=np.zeros(C, dtype=bool))
        active = self.active = np.arange(C)  # original member ids of the stack's members

        def member_tensors():
            group = torch.as_tensor(c.groups[active], device=device)
            smoothing = (float(c.label_smoothing[active][0]) if shared_smoothing else
                         torch.as_tensor(c.label_smoothing[active], dtype=dtype,
                                         device=device).view(-1, 1, 1))
            return group, smoothing

        member_group, smoothing = member_tensors()
        if callbacks:
            # callbacks (learning-rate schedulers) expect a torch.optim optimizer
            self.optimizer = as_torch_optimizer(self.optimizer)
        self.masks.new_bank()
        step = self._step_function(batch)
        module_tensors = lambda: [*model.parameters(), *model.buffers()]  # noqa: E731

        for cb in callbacks:
            cb.on_train_begin(host)
        first_epoch = self.n_epochs
        try:
            for _ in range(epochs):
                epoch = self.n_epochs + 1
                t0 = time.perf_counter()
                lr = self._learning_rate(self.n_epochs)
                if lr is not None:
                    for group in self.optimizer.param_groups:
                        group["lr"] = lr
                if unit:
                    self.history.new_epoch()
                    self.history.record("epoch", epoch)
                    self.history.record("lr", float(self.optimizer.param_groups[0]["lr"]))
                for cb in callbacks:
                    cb.on_epoch_begin(host)
                snapshot = [t.detach().clone() for t in module_tensors()]
                optimizer_snapshot = clone_state(self.optimizer.state)
                model.train()
                loss_sum = torch.zeros(model.n_members, dtype=torch.float64, device=device)
                order, pad = self._orders(data.train_rows, n_samples, device)
                if flat and data.train_rows is not None:
                    order = order[0]
                for s in range(n_steps):
                    start = s * batch
                    if flat:
                        if order is None:
                            sl = slice(start, start + batch)
                            xb = data.X[sl] if embed is None else embed(data.X[sl])
                            tb = table[sl] if table is not None else c.loss.targets(
                                data.y[sl], dtype, smoothing)
                            wb = None if data.sample_weight is None else data.sample_weight[0, sl]
                        else:
                            idx = order[start:start + batch]
                            xb = data.X.index_select(0, idx)
                            if embed is not None:
                                xb = embed(xb)
                            tb = table.index_select(0, idx) if table is not None else \
                                c.loss.targets(data.y.index_select(0, idx), dtype, smoothing)
                            wb = (None if data.sample_weight is None
                                  else data.sample_weight[0].index_select(0, idx))
                    else:
                        idx = order[:, start:start + batch]
                        pb = None if pad is None else pad[:, start:start + batch]
                        xb, tb, wb = self._gather(data, idx, pb, table, smoothing,
                                                  member_group)
                    step(xb, tb, wb, loss_sum)

                # ------------------------------------------------ end of epoch
                with torch.no_grad():
                    penalty = sum((r.value(model) for r in self.regularizers),
                                  model.coef.new_zeros(model.n_members))
                    stats = self._weight_statistics(epoch) if unit else None
                groups = c.groups[active]
                train_loss = (loss_sum.cpu().numpy() * c.loss.report_factor
                              / group_weight[groups])
                penalty = penalty.double().cpu().numpy() / mean_batch_weight[groups]
                objective = train_loss + penalty
                finite = np.isfinite(objective)
                if unit and not single:
                    # the ensemble's figures: means over its members
                    train_loss, penalty, objective = (
                        np.atleast_1d(a.mean()) for a in (train_loss, penalty, objective))
                    finite = np.full(len(active), finite.all())
                if not finite.all():
                    if unit:
                        message = self._divergence_message(epoch, train_loss[0], penalty[0])
                        restore_state(self.optimizer.state, optimizer_snapshot)
                        if valid is None or epoch - first_epoch == 1:
                            with torch.no_grad():
                                for tensor, saved in zip(module_tensors(), snapshot):
                                    tensor.copy_(saved)
                            del self.history[-1]  # the diverged epoch did not happen
                            raise DivergenceError(message)
                        # early stopping, as scikit-learn's: the diverged epoch
                        # is recorded with a nan validation score, and training
                        # ends on the weights of the best epoch so far
                        result.divergence = message
                    # a diverged member keeps the parameters of its last finite epoch
                    bad = torch.as_tensor(np.flatnonzero(~finite), device=device)
                    with torch.no_grad():
                        model.coef[bad] = snapshot[0][bad]
                        model.intercept[bad] = snapshot[1][bad]
                self.n_epochs += 1
                if valid is not None:
                    valid_loss, valid_score = (t.double().cpu().numpy()
                                               for t in self._evaluate(valid, member_group))
                    # a diverged member has no score (scikit-learn's is nan too)
                    valid_loss = np.where(finite[:len(valid_loss)], valid_loss, np.nan)
                    valid_score = np.where(finite[:len(valid_score)], valid_score, np.nan)
                if unit:
                    record = self.history.record
                    record("train_loss", float(train_loss[0]))
                    record("penalty", float(penalty[0]))
                    record("loss", float(objective[0]))
                    if valid is not None:
                        record("valid_loss", float(valid_loss[0]))
                        record("valid_score", float(valid_score[0]))
                    for key, value in stats.items():
                        record(key, value)
                    if c.verbose:
                        print(f"Iteration {epoch}, loss = {objective[0]:.8f}")
                        if valid is not None:
                            print(f"Validation score: {valid_score[0]:f}")

                result.n_iter[active] += 1
                stop = np.zeros(len(active), dtype=bool)
                if rule is not None:
                    values = valid_score if valid is not None else objective
                    ids = np.zeros(1, dtype=int) if unit else active
                    values = np.where(finite[:len(values)], values, np.nan)
                    improved, patience_out = rule.update(ids, values, epoch)
                    improved &= finite[:len(improved)]
                    if unit and not single:
                        # the ensemble improves, and stops, as one model
                        improved, patience_out = (np.full(len(active), bool(a[0]))
                                                  for a in (improved, patience_out))
                    if valid is not None and improved.any():
                        keep = torch.as_tensor(np.flatnonzero(improved), device=device)
                        best[0][keep] = model.coef.detach()[keep]
                        best[1][keep] = model.intercept.detach()[keep]
                        if single:
                            best = best[:2] + (self._bn_state(),)
                    if unit:
                        self.history.record("best_epoch", int(rule.best_epoch[0]))
                    if patience_out.any() and c.learning_rate == "adaptive" and unit:
                        lr = self.optimizer.param_groups[0]["lr"]
                        if lr > 1e-6:
                            for group in self.optimizer.param_groups:
                                group["lr"] = lr / 5.0
                            rule.misses[:] = 0
                            patience_out[:] = False
                            if c.verbose:
                                print(f"Setting learning rate to {lr / 5.0:f}")
                    if unit and patience_out[0] and c.verbose:
                        what = ("Validation score" if valid is not None else "Training loss")
                        print(f"{what} did not improve more than tol={c.tol:f} for "
                              f"{c.n_iter_no_change} consecutive epochs. Stopping.")
                    result.converged[active] |= patience_out & finite
                    stop = patience_out | ~finite
                if c.solver == "lbfgs" and c.max_fun is not None:
                    # scikit-learn's max_fun: a budget of objective evaluations
                    # per fit (this optimizer's; a fit starts a new one),
                    # counted by torch's L-BFGS over its steps and line searches
                    first_param = self.optimizer.param_groups[0]["params"][0]
                    evals = self.optimizer.state[first_param].get("func_evals", 0)
                    if evals >= c.max_fun:
                        result.max_fun_reached = True
                        stop = np.ones(len(active), dtype=bool)
                result.diverged[active] |= ~finite
                interrupted = False
                if callbacks:
                    self._record_bests()
                    try:
                        for cb in callbacks:
                            cb.on_epoch_end(host)
                    except KeyboardInterrupt:
                        # skorch's way to stop (its EarlyStopping): after this epoch
                        interrupted = True
                        result.converged[active] = True
                if prune is not None and not unit:
                    model.eval()
                    pruned = np.asarray(prune(epoch, active, model), dtype=bool) & ~stop
                    result.pruned[active] |= pruned
                    stop = stop | pruned
                if unit:
                    self.history.record("dur", time.perf_counter() - t0)
                if (stop.all() or interrupted) and unit:
                    break
                if not unit and (stop.any() or self.n_epochs - first_epoch == epochs):
                    last = self.n_epochs - first_epoch == epochs
                    done = stop | last
                    self._finish(result, active, done, best)
                    active = self.active = active[~done]
                    if not len(active):
                        break
                    keep = torch.as_tensor(np.flatnonzero(~done), device=device)
                    self._select(keep, np.flatnonzero(~done))
                    if best is not None:
                        best = (best[0][keep], best[1][keep], None)
                    if valid is not None:
                        valid_score = valid_score[~done]
                    member_group, smoothing = member_tensors()
                    step = self._step_function(batch)
        finally:
            for cb in callbacks:
                cb.on_train_end(host)
        if unit:
            if best is not None:
                with torch.no_grad():
                    model.coef.copy_(best[0])
                    model.intercept.copy_(best[1])
                    if best[2] is not None:
                        model.norms.load_state_dict(best[2])
            result.coef[:] = model.coef.detach().cpu().double().numpy()
            result.intercept[:] = model.intercept.detach().cpu().double().numpy()
        elif len(active):
            self._finish(result, active, np.ones(len(active), dtype=bool), best)
        return result

    # ------------------------------------------------------------- helpers
    def _divergence_message(self, epoch, train_loss, penalty):
        """What :class:`DivergenceError` (or early stopping's warning) says."""
        with torch.no_grad():
            weights_finite = bool(torch.isfinite(self.model.coef).all()
                                  and torch.isfinite(self.model.intercept).all())
        what = (f"training loss became {train_loss}" if not np.isfinite(train_loss)
                else f"penalty became {penalty}")
        # scikit-learn's sentence for non-finite weights comes first, so code
        # that matches scikit-learn's message matches this one
        prefix = "" if weights_finite else (
            "Solver produced non-finite parameter weights. The input data may contain "
            "large values and need to be preprocessed. ")
        return (f"{prefix}Training diverged at epoch {epoch}: the {what}. Try a smaller "
                f"learning_rate_init (now {self.config.learning_rate_init}), scale the "
                "input features (e.g. StandardScaler), or clip extreme target values.")

    def _record_bests(self):
        """Record skorch's ``<key>_best`` flags of the losses and its ``batches`` list.

        skorch's callbacks monitor the flags; ``batches`` gets one empty
        entry (batches are not recorded).
        """
        history = self.history
        if not history[-1].get("batches"):
            history.new_batch()
        for key in ("train_loss", "valid_loss"):
            if key in history[-1]:
                values = history[:, key]
                history.record(f"{key}_best", bool(values[-1] <= min(values)))

    def _bn_state(self):
        if self.model.norms is None:
            return None
        return {k: v.detach().clone() for k, v in self.model.norms.state_dict().items()}

    def _weight_statistics(self, epoch):
        """History's weight statistics of a single network after ``epoch`` (one host sync)."""
        w = self.model.coef.detach()
        a = w.abs()
        l1, l2, near, zero = torch.stack([
            a.sum(), torch.linalg.vector_norm(w), (a < NEAR_ZERO).sum(),
            (a == 0).sum()]).double().tolist()
        n = max(w.numel(), 1)
        stats = {"l1_norm": l1, "l2_norm": l2, "frac_near_zero": near / n,
                 "frac_zero": zero / n}
        k = self.config.snapshot_every
        if k and epoch % k == 0:
            stats["coef_snapshot"] = w[0].to("cpu", torch.float64).numpy().copy()
        return stats

    def _finish(self, result, active, done, best):
        """Store the final parameters of the members ``active[done]``."""
        rows = np.flatnonzero(done)
        source = (best[0], best[1]) if best is not None else (
            self.model.coef.detach(), self.model.intercept.detach())
        index = torch.as_tensor(rows, device=self.config.device)
        result.coef[active[rows]] = source[0][index].cpu().double().numpy()
        result.intercept[active[rows]] = source[1][index].cpu().double().numpy()

    def _select(self, keep, keep_np):
        """Keep only the stack's members at positions ``keep`` (``keep_np`` in numpy).

        Parameters, optimizer state and per-member strengths follow; the
        remaining members' dropout masks continue their own streams.
        """
        old = self.optimizer
        self.model.select(keep)
        for r in self.regularizers:
            r.select(keep_np)
        self.optimizer = self._build_optimizer()
        move_state(old, self.optimizer, keep)
        self.masks = self.masks.select(keep_np)
