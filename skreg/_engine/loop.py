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

:meth:`Trainer.train` is these named steps: :meth:`~Trainer._start` (what
the epochs share, a :class:`_Run`), then per epoch :meth:`~Trainer._epoch`:
:meth:`~Trainer._begin_epoch`, :meth:`~Trainer._train_batches` (the
batches of :meth:`~Trainer._flat_batches` or :meth:`~Trainer._group_batches`
through the step of :meth:`~Trainer._step_function`),
:meth:`~Trainer._figures` (and :meth:`~Trainer._roll_back` of a diverged
epoch), :meth:`~Trainer._validate`, :meth:`~Trainer._record_epoch`,
:meth:`~Trainer._stopping`, :meth:`~Trainer._after_epoch` (callbacks,
pruning) and :meth:`~Trainer._leave`; finally :meth:`~Trainer._end`.

On the CPU the epochs run with subnormal floats flushed to zero
(:mod:`skreg._torch.fpenv`), and before each one the fit's thread budget
follows the CPUs other processes leave free (:func:`skreg._threads.rebalance`).
"""

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Optional

import numpy as np
import torch
from skorch.history import History

from .._preprocessing import robust_scale_tensor_
from .._threads import rebalance
from .._torch.fpenv import flush_denormals
from ..exceptions import DivergenceError
from .backward import autograd_step, manual_step
from .config import TrainingConfig, TrainingData
from .model import StackedMLP
from .noise import DropoutMasks, batch_transform, dropout_factor, mask_source
from .optim import (as_torch_optimizer, build_optimizer, clone_state, move_state,
                    restore_state,
                    step_function)
from .progress import shows_lines
from .regularizers import build_regularizers, model_settings
from .state import register_trainer_class, trainer_from_state, trainer_state

# TrainingConfig and TrainingData live in .config (state.py reads them too);
# they are this module's names as well
__all__ = ["Members", "StoppingRule", "Trainer", "TrainingConfig", "TrainingData"]

# |w| below this counts as near zero in the history's weight statistics
NEAR_ZERO = 1e-3

# values (rows x columns of inputs and targets) gathered at once for a plain
# fit's batches: a batch is then a slice, not a selection of its own
GATHER_ELEMENTS = 1 << 20


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
    with its best epoch's weights instead of raising. ``history`` holds,
    for a stack of fits of their own (a search's), each member's history
    rows: one dict per epoch it trained, with the keys a single network's
    history records (the trainer's ``history``, which a stack has not);
    None for a single network or a joint ensemble.
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray
    pruned: Optional[np.ndarray] = None
    max_fun_reached: bool = False
    divergence: Optional[str] = None
    history: Optional[list] = None


def _embed(X, embeddings):
    """Each group's rows ``X[g]`` (``X`` is ``(G, n, d)``) through its embedding."""
    if embeddings is None:
        return X
    if len(embeddings) == 1:
        return embeddings[0](X)
    return torch.stack([e(X[g]) for g, e in enumerate(embeddings)])


def _same(a, b):
    """Whether two settings are equal (tuples, lists and arrays item by item)."""
    if isinstance(a, (tuple, list, np.ndarray)) or isinstance(b, (tuple, list, np.ndarray)):
        return (isinstance(a, (tuple, list, np.ndarray))
                and isinstance(b, (tuple, list, np.ndarray))
                and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b)))
    return bool(a == b)


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


def _stacked(stats):
    """Per-group ``(a, b)`` statistics as two ``(G, 1, d)`` tensors, or None.

    Stacked so that they broadcast over each group's batch.
    """
    if stats is None:
        return None
    return [torch.stack([s[i] for s in stats]).unsqueeze(1) for i in range(2)]


@dataclass
class _Run:
    """What the epochs of one :meth:`Trainer.train` call share (:meth:`Trainer._start`).

    ``active`` holds the original ids of the members still in the stack;
    ``member_group``, ``smoothing`` and ``step`` are made for them again
    whenever members leave (:meth:`Trainer._new_step`); ``best`` holds their
    best epoch's parameters (early stopping).
    """

    data: TrainingData
    epochs: int
    callbacks: Any
    host: Any
    prune: Any
    #: one network
    single: bool
    #: one model: a single network, or an ensemble stopped and reported as one
    unit: bool
    batch: int
    #: each group's total training weight and mean batch weight, for the
    #: reported losses
    group_weight: np.ndarray
    mean_batch_weight: np.ndarray
    shared_smoothing: bool
    #: the training targets of every row, made once, or None
    table: Optional[torch.Tensor]
    #: one group whose rows come scaled: batches are plain row selections
    flat: bool
    embed: Any
    valid: Any
    rule: Optional[StoppingRule]
    best: Optional[tuple]
    result: Members
    active: np.ndarray
    first_epoch: int
    #: the progress bar the epochs advance (``verbose=2``), or None
    progress: Any = None
    member_group: Any = None
    smoothing: Any = None
    step: Any = None


@dataclass
class _EpochFigures:
    """An epoch's figures per member in the stack (one entry for a unit's)."""

    train_loss: np.ndarray
    penalty: np.ndarray
    objective: np.ndarray
    finite: np.ndarray
    stats: Optional[dict]
    valid_loss: Optional[np.ndarray] = None
    valid_score: Optional[np.ndarray] = None


@register_trainer_class
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
        score of its averaged prediction); None for a search's stack, whose
        members' rows :meth:`train` returns (:class:`Members`).
    n_epochs : int
        Epochs trained since initialisation.
    """

    def __init__(self, config):
        self.config = config
        C = len(config.seeds)
        seed = int(config.seeds[0])
        self.model = StackedMLP(config.layer_sizes, config.activation, C, config.batch_norm,
                                config.embedding_tables, config.plr or None,
                                config.scale_layer,
                                **model_settings(config))  # regularizers' parameters (gates)
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
        return trainer_state(self)

    def __setstate__(self, state):
        """Rebuild the trainer from what :meth:`__getstate__` returned.

        See :func:`skreg._engine.state.trainer_from_state`: a trainer saved on
        a CUDA device loads on the CPU, with a ``UserWarning``, where CUDA is
        missing.
        """
        self.__dict__.update(trainer_from_state(state).__dict__)

    # ------------------------------------------------------------ optimizer
    #: the settings that shape the network's parameters: a later fit can
    #: change every other setting, not these (see :meth:`reconfigure`)
    ARCHITECTURE = ("layer_sizes", "activation", "batch_norm", "embedding_tables", "plr",
                    "scale_layer", "device", "dtype", "joint")

    #: the optimizer's settings, which ``partial_fit`` keeps (its optimizer goes on)
    OPTIMIZER = ("solver", "learning_rate_init", "betas", "epsilon", "momentum", "nesterov")

    def architecture_changes(self, config):
        """``[(name, fitted, requested)]`` of the architecture settings ``config`` changes."""
        changes = [(name, getattr(self.config, name), getattr(config, name))
                   for name in self.ARCHITECTURE
                   if not _same(getattr(self.config, name), getattr(config, name))]
        if len(config.seeds) != len(self.config.seeds):
            changes.append(("members", len(self.config.seeds), len(config.seeds)))
        if model_settings(config) != model_settings(self.config):
            changes.append(("regularizers' parameters", model_settings(self.config),
                            model_settings(config)))
        return changes

    def reconfigure(self, config, keep_optimizer=False):
        """Go on training with the settings of ``config`` (a warm start, ``partial_fit``).

        ``config`` must keep the architecture (:meth:`architecture_changes`
        is empty); its members' seeds are replaced by the fitted ones. The
        network, its history, epoch count and random generators are kept;
        the regularizers, the dropout masks and (unless
        ``keep_optimizer``, where the optimizer's settings are kept too)
        the optimizer are made anew, as scikit-learn's MLP builds its
        optimizer at every ``fit`` and reads ``alpha`` at every step.
        """
        config.seeds = self.config.seeds
        if keep_optimizer:
            for name in self.OPTIMIZER:
                setattr(config, name, getattr(self.config, name))
        dropout_changed = not _same(config.dropout, self.config.dropout)
        self.config = config
        self.regularizers = build_regularizers(config)
        if dropout_changed:
            self.masks = DropoutMasks(config.layer_sizes[1:-1], config.dropout, config.seeds)
        if not keep_optimizer:
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
        """One optimizer step on a batch of at most ``batch`` rows, post-steps included.

        The step runs under ``torch.no_grad()``, which the caller holds
        (:meth:`_train_batches`, for a whole epoch).
        """
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
    def train(self, data, epochs=None, monitor=True, callbacks=(), host=None, prune=None,
              progress=None):
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
        losing configurations this way). ``progress`` (a
        :class:`~skreg._engine.progress.Progress`) counts each member's
        epochs, and the epochs a member that stops early leaves unused.
        Returns :class:`Members`.
        """
        with flush_denormals(self.config.device):
            return self._train(data, epochs, monitor, callbacks, host, prune, progress)

    def _train(self, data, epochs, monitor, callbacks, host, prune=None, progress=None):
        """The epochs of :meth:`train`: set-up, epochs until every member stopped, the end."""
        run = self._start(data, epochs, monitor, callbacks, host, prune)
        run.progress = progress
        for cb in callbacks:
            cb.on_train_begin(host)
        try:
            for _ in range(run.epochs):
                if not self._epoch(run):
                    break
        finally:
            for cb in callbacks:
                cb.on_train_end(host)
        return self._end(run)

    def _start(self, data, epochs, monitor, callbacks, host, prune):
        """What the epochs of one ``train`` call share, as a :class:`_Run`.

        The optimizer (made by the first call), the groups' statistics
        stacked for broadcasting, the steps per epoch, each group's total
        and mean batch weight, the training targets (made once where every
        member smooths them alike and no group scales them), the validation
        rows, the stopping rule, the copy of the best epoch, the result
        arrays, a new dropout bank and the step function.
        """
        c, model = self.config, self.model
        if self.optimizer is None:
            self.optimizer = self._build_optimizer()
        C = model.n_members
        unit = C == 1 or c.joint
        data = replace(data, input_stats=_stacked(data.input_stats),
                       target_stats=_stacked(data.target_stats))
        n_samples = data.X.shape[0]
        lengths = ([n_samples] if data.train_rows is None
                   else [len(r) for r in data.train_rows])
        group_weight = self._group_weights(data, lengths)
        shared_smoothing = bool(np.all(c.label_smoothing == c.label_smoothing[0]))
        table = None
        if shared_smoothing and data.target_stats is None:
            table = c.loss.targets(data.y, c.dtype, float(c.label_smoothing[0]))
            table = table.reshape(n_samples, -1)
        flat = data.n_groups == 1 and data.input_stats is None and data.target_stats is None
        valid = self._validation(data) if (monitor and c.early_stopping) else None
        best = None
        if valid is not None:
            best = (model.coef.detach().clone(), model.intercept.detach().clone(),
                    self._bn_state())
        run = _Run(
            data=data, epochs=c.max_iter if epochs is None else epochs, callbacks=callbacks,
            host=host, prune=prune, single=C == 1, unit=unit, batch=c.batch_size,
            group_weight=group_weight,
            mean_batch_weight=group_weight / np.ceil(np.asarray(lengths) / c.batch_size),
            shared_smoothing=shared_smoothing, table=table, flat=flat,
            embed=data.embeddings[0] if flat and data.embeddings is not None else None,
            valid=valid, best=best, active=np.arange(C), first_epoch=self.n_epochs,
            rule=StoppingRule(1 if unit else C, c.n_iter_no_change, c.tol,
                              higher_is_better=valid is not None) if monitor else None,
            result=Members(
                coef=np.zeros((C,) + tuple(model.coef.shape[1:])),
                intercept=np.zeros((C,) + tuple(model.intercept.shape[1:])),
                n_iter=np.zeros(C, dtype=int), converged=np.zeros(C, dtype=bool),
                diverged=np.zeros(C, dtype=bool), pruned=np.zeros(C, dtype=bool),
                history=None if unit else [[] for _ in range(C)]))
        self.active = run.active
        if callbacks:
            # callbacks (learning-rate schedulers) expect a torch.optim optimizer
            self.optimizer = as_torch_optimizer(self.optimizer)
        self.masks.new_bank()
        self._new_step(run)
        return run

    def _group_weights(self, data, lengths):
        """Each group's total training weight: its row count without sample weights."""
        if data.sample_weight is None:
            return np.asarray(lengths, dtype=float)
        if data.train_rows is None:
            return np.asarray([float(data.sample_weight[0].sum())])
        device = self.config.device
        return np.asarray([
            float(data.sample_weight[g, torch.as_tensor(r, device=device)].sum())
            for g, r in enumerate(data.train_rows)])

    def _new_step(self, run):
        """The group, label smoothing and step function of the members in the stack."""
        c, active = self.config, run.active
        run.member_group = torch.as_tensor(c.groups[active], device=c.device)
        run.smoothing = (float(c.label_smoothing[active][0]) if run.shared_smoothing else
                         torch.as_tensor(c.label_smoothing[active], dtype=c.dtype,
                                         device=c.device).view(-1, 1, 1))
        run.step = self._step_function(run.batch)

    def _epoch(self, run):
        """Train one epoch of every member in the stack; False when training ends.

        The epoch's learning rate and history row, the batches, its figures
        (a diverged epoch rolled back), validation, the history, the
        stopping rule, the callbacks and pruning; then the members that
        stopped leave a search's stack.
        """
        epoch = self.n_epochs + 1
        t0 = time.perf_counter()
        self._begin_epoch(run, epoch)
        snapshot = [t.detach().clone() for t in self._module_tensors()]
        optimizer_snapshot = clone_state(self.optimizer.state)
        loss_sum = self._train_batches(run)
        figures = self._figures(run, epoch, loss_sum)
        if not figures.finite.all():
            self._roll_back(run, epoch, figures, snapshot, optimizer_snapshot)
        self.n_epochs += 1
        if run.valid is not None:
            self._validate(run, figures)
        if run.unit:
            self._record_epoch(run, epoch, figures)
        run.result.n_iter[run.active] += 1
        stop = self._stopping(run, epoch, figures)
        stop, interrupted = self._after_epoch(run, epoch, stop)
        if run.progress is not None:
            run.progress.advance(len(run.active), **self._progress_figures(run))
        if run.unit:
            self.history.record("dur", time.perf_counter() - t0)
            return not (stop.all() or interrupted)
        self._record_members(run, epoch, figures, time.perf_counter() - t0)
        return self._leave(run, stop)

    def _module_tensors(self):
        """The network's parameters and buffers (what a diverged epoch restores)."""
        return [*self.model.parameters(), *self.model.buffers()]

    def _begin_epoch(self, run, epoch):
        """The epoch's threads, learning rate (a schedule's), history row, callbacks' start.

        The fit's thread budget follows the CPUs free now (:func:`skreg._threads.rebalance`).
        """
        if self.config.device.type == "cpu":
            rebalance()
        lr = self._learning_rate(self.n_epochs)
        if lr is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = lr
        if run.unit:
            self.history.new_epoch()
            self.history.record("epoch", epoch)
            self.history.record("lr", float(self.optimizer.param_groups[0]["lr"]))
        for cb in run.callbacks:
            cb.on_epoch_begin(run.host)

    def _train_batches(self, run):
        """One pass over every group's training rows, a step per batch.

        Returns each member's sum of weighted row losses, a float64 ``(C,)``
        tensor.
        """
        c, model, data = self.config, self.model, run.data
        model.train()
        loss_sum = torch.zeros(model.n_members, dtype=torch.float64, device=c.device)
        order, pad = self._orders(data.train_rows, data.X.shape[0], c.device)
        if run.flat:
            if data.train_rows is not None:
                order = order[0]
            batches = self._flat_batches(run, order)
        else:
            if data.train_rows is None:
                # one group scaled per batch: its rows as a (1, n) order
                n = data.X.shape[0]
                order = (torch.arange(n, device=c.device) if order is None else order).view(1, -1)
            batches = self._group_batches(run, order, pad)
        step = run.step
        with torch.no_grad():
            for xb, tb, wb in batches:
                step(xb, tb, wb, loss_sum)
        return loss_sum

    def _flat_batches(self, run, order):
        """The batches ``(xb, tb, wb)`` of one group whose rows come scaled.

        The rows of many batches (:data:`GATHER_ELEMENTS` values) are selected
        at once, in ``order`` (None: as they are), and each batch is a slice
        of them; the numeric embedding, if any, is applied per batch.
        """
        c, data, batch, table = self.config, run.data, run.batch, run.table
        weights = None if data.sample_weight is None else data.sample_weight[0]
        n = data.X.shape[0] if order is None else len(order)
        width = data.X.shape[1] + (0 if table is None else table.shape[1])
        span = batch * max(1, GATHER_ELEMENTS // (batch * width))
        for first in range(0, n, span):
            if order is None:
                rows = slice(first, first + span)
                X = data.X[rows]
                T = data.y[rows] if table is None else table[rows]
                W = None if weights is None else weights[rows]
            else:
                idx = order[first:first + span]
                X = data.X.index_select(0, idx)
                T = (data.y if table is None else table).index_select(0, idx)
                W = None if weights is None else weights.index_select(0, idx)
            for start in range(0, X.shape[0], batch):
                xb = X[start:start + batch]
                if run.embed is not None:
                    xb = run.embed(xb)
                tb = T[start:start + batch]
                if table is None:
                    tb = c.loss.targets(tb, c.dtype, run.smoothing)
                yield xb, tb, None if W is None else W[start:start + batch]

    def _group_batches(self, run, order, pad):
        """The batches of every group (:meth:`_gather`): rows ``order[:, i:i + batch]``."""
        batch = run.batch
        for start in range(0, order.shape[1], batch):
            idx = order[:, start:start + batch]
            pb = None if pad is None else pad[:, start:start + batch]
            yield self._gather(run.data, idx, pb, run.table, run.smoothing, run.member_group)

    def _figures(self, run, epoch, loss_sum):
        """Each member's training loss, penalty and objective of the epoch.

        Per member, or a joint ensemble's means over its members; with
        whether they are finite and, for a single network or ensemble, the
        history's weight statistics.
        """
        c, model = self.config, self.model
        with torch.no_grad():
            penalty = sum((r.value(model) for r in self.regularizers),
                          model.coef.new_zeros(model.n_members))
            stats = (self._weight_statistics(epoch) if run.unit
                     else self._member_weight_statistics(epoch))
        groups = c.groups[run.active]
        train_loss = (loss_sum.cpu().numpy() * c.loss.report_factor
                      / run.group_weight[groups])
        penalty = penalty.double().cpu().numpy() / run.mean_batch_weight[groups]
        objective = train_loss + penalty
        finite = np.isfinite(objective)
        if run.unit and not run.single:
            # the ensemble's figures: means over its members
            train_loss, penalty, objective = (
                np.atleast_1d(a.mean()) for a in (train_loss, penalty, objective))
            finite = np.full(len(run.active), finite.all())
        return _EpochFigures(train_loss, penalty, objective, finite, stats)

    def _roll_back(self, run, epoch, figures, snapshot, optimizer_snapshot):
        """Members whose epoch diverged get back the parameters they had before it.

        A single network or joint ensemble without early stopping (or in
        its first epoch) is restored whole, optimizer included, and raises
        :class:`DivergenceError`; with early stopping, as scikit-learn's, the
        diverged epoch is recorded with a nan validation score and training
        ends on the weights of the best epoch so far.
        """
        if run.unit:
            message = self._divergence_message(epoch, figures.train_loss[0], figures.penalty[0])
            restore_state(self.optimizer.state, optimizer_snapshot)
            if run.valid is None or epoch - run.first_epoch == 1:
                with torch.no_grad():
                    for tensor, saved in zip(self._module_tensors(), snapshot):
                        tensor.copy_(saved)
                del self.history[-1]  # the diverged epoch did not happen
                raise DivergenceError(message)
            run.result.divergence = message
        # a diverged member keeps the parameters of its last finite epoch
        bad = torch.as_tensor(np.flatnonzero(~figures.finite), device=self.config.device)
        with torch.no_grad():
            self.model.coef[bad] = snapshot[0][bad]
            self.model.intercept[bad] = snapshot[1][bad]

    def _validate(self, run, figures):
        """Each member's validation loss and score into ``figures`` (nan if diverged)."""
        valid_loss, valid_score = (t.double().cpu().numpy()
                                   for t in self._evaluate(run.valid, run.member_group))
        # a diverged member has no score (scikit-learn's is nan too)
        finite = figures.finite
        figures.valid_loss = np.where(finite[:len(valid_loss)], valid_loss, np.nan)
        figures.valid_score = np.where(finite[:len(valid_score)], valid_score, np.nan)

    def _record_epoch(self, run, epoch, figures):
        """The history row of a single network or joint ensemble, and the verbose lines."""
        c, record = self.config, self.history.record
        record("train_loss", float(figures.train_loss[0]))
        record("penalty", float(figures.penalty[0]))
        record("loss", float(figures.objective[0]))
        if run.valid is not None:
            record("valid_loss", float(figures.valid_loss[0]))
            record("valid_score", float(figures.valid_score[0]))
        for key, value in figures.stats.items():
            record(key, value)
        for r in self.regularizers:  # their own figures (gradient noise's variance)
            for key, value in r.history_entries().items():
                record(key, value)
        if shows_lines(c.verbose):
            print(f"Iteration {epoch}, loss = {figures.objective[0]:.8f}")
            if run.valid is not None:
                print(f"Validation score: {figures.valid_score[0]:f}")

    def _progress_figures(self, run):
        """What the progress bar shows after it: a fit's objective and best validation score."""
        if not run.unit:
            return {}
        row = self.history[-1]
        figures = {"loss": row["loss"]}
        if "valid_score" in row:
            scores = [r["valid_score"] for r in self.history if "valid_score" in r]
            figures["best valid"] = float(np.nanmax(scores)) if np.isfinite(
                scores).any() else float("nan")
        return figures

    def _record_members(self, run, epoch, figures, seconds):
        """Each member's history row of the epoch, in a search's stack (see :class:`Members`).

        The keys and values of a single network's row (:meth:`_begin_epoch`,
        :meth:`_record_epoch`, :meth:`_stopping`), each member's own but the
        learning rate, the regularizers' entries and the epoch's duration,
        which the stack shares.
        """
        lr = float(self.optimizer.param_groups[0]["lr"])
        entries = {key: value for r in self.regularizers
                   for key, value in r.history_entries().items()}
        for j, member in enumerate(run.active):
            # skorch's new epoch row starts with its (empty) list of batches
            row = {"batches": [], "epoch": epoch, "lr": lr,
                   "train_loss": float(figures.train_loss[j]),
                   "penalty": float(figures.penalty[j]), "loss": float(figures.objective[j])}
            if run.valid is not None:
                row["valid_loss"] = float(figures.valid_loss[j])
                row["valid_score"] = float(figures.valid_score[j])
            row.update((key, values[j]) for key, values in figures.stats.items())
            row.update(entries)
            if run.rule is not None:
                row["best_epoch"] = int(run.rule.best_epoch[member])
            row["dur"] = seconds
            run.result.history[member].append(row)

    def _stopping(self, run, epoch, figures):
        """Which members stop after this epoch: stopping rule, L-BFGS's budget, divergence.

        The rule's bookkeeping comes with it: the best epoch's parameters
        (early stopping), the history's ``best_epoch``, the 'adaptive'
        learning rate, the members' ``converged`` and ``diverged`` flags.
        """
        c, result, active, rule = self.config, run.result, run.active, run.rule
        finite = figures.finite
        stop = np.zeros(len(active), dtype=bool)
        if rule is not None:
            values = figures.valid_score if run.valid is not None else figures.objective
            ids = np.zeros(1, dtype=int) if run.unit else active
            values = np.where(finite[:len(values)], values, np.nan)
            improved, patience_out = rule.update(ids, values, epoch)
            improved &= finite[:len(improved)]
            if run.unit and not run.single:
                # the ensemble improves, and stops, as one model
                improved, patience_out = (np.full(len(active), bool(a[0]))
                                          for a in (improved, patience_out))
            if run.valid is not None and improved.any():
                self._keep_best(run, improved)
            if run.unit:
                self.history.record("best_epoch", int(rule.best_epoch[0]))
            if patience_out.any() and c.learning_rate == "adaptive" and run.unit:
                lr = self.optimizer.param_groups[0]["lr"]
                if lr > 1e-6:
                    for group in self.optimizer.param_groups:
                        group["lr"] = lr / 5.0
                    rule.misses[:] = 0
                    patience_out[:] = False
                    if shows_lines(c.verbose):
                        print(f"Setting learning rate to {lr / 5.0:f}")
            if run.unit and patience_out[0] and shows_lines(c.verbose):
                what = ("Validation score" if run.valid is not None else "Training loss")
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
        return stop

    def _keep_best(self, run, improved):
        """Copy the parameters of the ``improved`` members into the best epoch's."""
        model = self.model
        keep = torch.as_tensor(np.flatnonzero(improved), device=self.config.device)
        run.best[0][keep] = model.coef.detach()[keep]
        run.best[1][keep] = model.intercept.detach()[keep]
        if run.single:
            run.best = run.best[:2] + (self._bn_state(),)

    def _after_epoch(self, run, epoch, stop):
        """The callbacks' epoch end and a search's pruning: ``(stop, interrupted)``."""
        interrupted = False
        if run.callbacks:
            self._record_bests()
            try:
                for cb in run.callbacks:
                    cb.on_epoch_end(run.host)
            except KeyboardInterrupt:
                # skorch's way to stop (its EarlyStopping): after this epoch
                interrupted = True
                run.result.converged[run.active] = True
        if run.prune is not None and not run.unit:
            self.model.eval()
            pruned = np.asarray(run.prune(epoch, run.active, self.model), dtype=bool) & ~stop
            run.result.pruned[run.active] |= pruned
            stop = stop | pruned
        return stop, interrupted

    def _leave(self, run, stop):
        """Members that stopped, or trained their epochs, leave a search's stack.

        Their final parameters go to the result; False when none is left.
        """
        last = self.n_epochs - run.first_epoch == run.epochs
        if not (stop.any() or last):
            return True
        done = stop | last
        if run.progress is not None:
            # the epochs the leaving members will not train
            run.progress.advance(int(done.sum()) * (
                run.epochs - (self.n_epochs - run.first_epoch)))
        self._finish(run.result, run.active, done, run.best)
        run.active = self.active = run.active[~done]
        if not len(run.active):
            return False
        keep = torch.as_tensor(np.flatnonzero(~done), device=self.config.device)
        self._select(keep, np.flatnonzero(~done))
        if run.best is not None:
            run.best = (run.best[0][keep], run.best[1][keep], None)
        self._new_step(run)
        return True

    def _end(self, run):
        """The result of :meth:`train`: every member's final parameters.

        A single network or joint ensemble gets back its best epoch's
        parameters (early stopping); a search's members still in the stack
        are finished.
        """
        model, result, best = self.model, run.result, run.best
        if run.unit:
            if best is not None:
                with torch.no_grad():
                    model.coef.copy_(best[0])
                    model.intercept.copy_(best[1])
                    if best[2] is not None:
                        model.norms.load_state_dict(best[2])
            result.coef[:] = model.coef.detach().cpu().double().numpy()
            result.intercept[:] = model.intercept.detach().cpu().double().numpy()
        elif len(run.active):
            self._finish(result, run.active, np.ones(len(run.active), dtype=bool), best)
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

    def _member_weight_statistics(self, epoch):
        """:meth:`_weight_statistics` of each member in the stack: lists, one entry per member."""
        w = self.model.coef.detach()
        a = w.abs()
        l1, l2, near, zero = torch.stack([
            a.sum(1), torch.linalg.vector_norm(w, dim=1), (a < NEAR_ZERO).sum(1),
            (a == 0).sum(1)]).double().tolist()
        n = max(w.shape[1], 1)
        stats = {"l1_norm": l1, "l2_norm": l2, "frac_near_zero": [v / n for v in near],
                 "frac_zero": [v / n for v in zero]}
        k = self.config.snapshot_every
        if k and epoch % k == 0:
            stats["coef_snapshot"] = [row.copy() for row in w.to("cpu", torch.float64).numpy()]
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
