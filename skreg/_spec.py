"""The one specification of a fit: estimator parameters -> the engine's member settings.

Every network skreg trains is described here, by the same code: a plain
fit (one network), an ensemble (``ensemble_size`` members trained as one
model) and a search's configurations x folds. :func:`fit_spec` turns the
parameters of a plain estimator and the facts of the rows it trains on
(:class:`FitRows`: the row count, the network's input and output widths,
the loss, the embeddings) into a :class:`FitSpec`, the settings of the
members of one fit on one row group. A search describes each
(configuration, fold) pair as the plain estimator with that configuration
fitted on that fold's training rows would be described: the fold's own
batch size, ``alpha='auto'`` row count and embeddings.

:func:`stacks` then puts the specs that can train as one batched stack
together: those whose shared settings (architecture, embeddings, solver,
schedule, regularizers' settings, batch size, ...) are equal, each fit a
model of its own; :func:`stack_config` concatenates their per-member
settings (``alpha``, ``l1_ratio``, ``dropout``, ``label_smoothing``,
``seeds``, ``groups``) into one :class:`~skreg._engine.TrainingConfig`.
A plain fit is the stack of its one spec.
"""

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._engine import TrainingConfig, regularizer_params

SOLVERS = ("adam", "adamw", "sgd", "lbfgs")

#: the per-row penalty strength ``alpha='auto'`` gives: ``AUTO_ALPHA / n_train``
AUTO_ALPHA = 1.0

#: the largest batch of ``batch_size='auto'``: ``min(AUTO_BATCH_SIZE, n_train)``
AUTO_BATCH_SIZE = 200

#: the TrainingConfig fields with one entry per member; every other field is
#: shared by the members of a stack
PER_MEMBER = ("alpha", "l1_ratio", "dropout", "label_smoothing", "seeds", "groups")


# ------------------------------------------------------------ the rules
def hidden_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a list of positive ints (one int: one layer)."""
    sizes = hidden_layer_sizes
    sizes = [sizes] if not hasattr(sizes, "__iter__") else list(sizes)
    if any(not isinstance(s, Integral) or isinstance(s, bool) or s <= 0 for s in sizes):
        raise ValueError(
            f"hidden_layer_sizes must be positive integers, got {hidden_layer_sizes!r}.")
    return [int(s) for s in sizes]


def dropout_rates(dropout, n_hidden):
    """``dropout`` as one rate per hidden layer (a float applies to every layer)."""
    if isinstance(dropout, Real):
        return (float(dropout),) * n_hidden
    rates = np.asarray(dropout, dtype=float).ravel()
    if rates.shape[0] != n_hidden or np.any((rates < 0) | (rates >= 1)):
        raise ValueError(
            f"dropout must be a float in [0, 1) or a sequence of {n_hidden} such "
            f"floats, one per hidden layer; got {dropout!r}.")
    return tuple(rates.tolist())


def member_seeds(random_state, n_members):
    """The seeds of a fit's members, drawn from ``random_state``.

    Member 0 has the seed of a single network; an ensemble's others draw on.
    """
    rs = check_random_state(random_state)
    return tuple(int(rs.randint(np.iinfo(np.int32).max)) for _ in range(n_members))


def batch_size_for(estimator, n_train):
    """The batch size of a fit of ``estimator`` on ``n_train`` rows.

    The full batch for L-BFGS; ``min(AUTO_BATCH_SIZE, n_train)`` for 'auto';
    ``batch_size`` clipped to ``n_train`` otherwise (see
    :func:`warn_batch_size`).
    """
    if estimator.solver == "lbfgs":
        return n_train
    if estimator.batch_size == "auto":
        return min(AUTO_BATCH_SIZE, n_train)
    return min(estimator.batch_size, n_train)


def warn_batch_size(estimator, n_train, stacklevel):
    """scikit-learn's warning when ``batch_size`` exceeds the training rows."""
    if (estimator.solver != "lbfgs" and estimator.batch_size != "auto"
            and estimator.batch_size > n_train):
        warnings.warn(
            f"Got batch_size={estimator.batch_size} larger than the number of "
            f"training samples ({n_train}); it is clipped to {n_train}.",
            UserWarning, stacklevel=stacklevel + 1)


def resolved_alpha(alpha, n_auto, batch_size):
    """``alpha``, or for ``alpha='auto'`` ``AUTO_ALPHA * batch_size / n_auto``.

    The penalty of a batch is ``alpha / batch_size`` times ``P(W)`` next
    to the batch's mean loss, so 'auto' is a per-row strength
    ``AUTO_ALPHA / n_train`` that shrinks as the data grow, as a fixed
    prior does against a likelihood of ``n_train`` rows.
    """
    if alpha == "auto":
        # without a row count (a config built for one batch) the batch is the data
        return AUTO_ALPHA * batch_size / (n_auto or batch_size)
    return alpha


def auto_alpha_rows(sample_weight, class_weight, rows, n_rows):
    """The row count ``n_train`` that ``alpha='auto'`` divides by.

    ``n * sum(w) / sum(w c)`` over the ``n`` training rows, with ``w = s c``
    the rows' weights: ``s`` the sample weights, ``c`` the class weights
    (each 1 when absent). Sample weights count as repeated rows, as
    everywhere in scikit-learn, and leave it at ``n`` (the batch's penalty,
    divided by its weight sum, then acts as on the repeated data). Class
    weights reweigh the loss of rows that carry no more information than
    before, so the rows count by the effective sample size of the weighted
    mean: with ``s = 1``, ``n_train = n * sum(c) / sum(c^2)``, which is
    Kish's ``sum(c)^2 / sum(c^2)`` over the mean weight ``sum(c) / n``, and
    the per-row penalty is ``P(W) / n_eff``. Uneven class weights
    (``'balanced'`` on a rare class) make it smaller than ``n``: the prior
    weighs more against a few heavily weighted rows.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,) or None
        The rows' weights ``w``, class weights included.
    class_weight : ndarray of shape (n_samples,) or None
        The class weight ``c`` of each row.
    rows : ndarray of int or None
        The training rows (without the early-stopping split), or all rows.
    n_rows : int
        The number of training rows.

    Returns
    -------
    float
    """
    if sample_weight is None or class_weight is None:
        return n_rows
    w = sample_weight if rows is None else sample_weight[rows]
    c = class_weight if rows is None else class_weight[rows]
    total, spread = float(w.sum()), float((w * c).sum())
    return len(w) * total / spread if spread > 0 else n_rows


# ------------------------------------------------------------ the spec
@dataclass(frozen=True)
class FitRows:
    """What the rows of a fit bring to its specification.

    Attributes
    ----------
    n_inputs : int
        The first layer's inputs: the numeric columns (or their fixed
        embedding's outputs), the PLR outputs and the entries of each
        categorical embedding table.
    n_outputs : int
        Output units.
    loss : Loss
        The engine's loss (:data:`skreg._engine.LOSSES`).
    n_train : int
        The rows trained on (without the early-stopping rows): the batch
        size's row count.
    n_auto : float or None
        The row count of ``alpha='auto'`` (:func:`auto_alpha_rows`); None
        is ``n_train``.
    tables : tuple of (int, int)
        ``(n_codes, dim)`` of each categorical embedding table.
    plr : tuple
        ``(columns, k, d, sigma)`` of the learned periodic embedding, or ().
    device, dtype
        Where and in which floating type the fit trains.
    """

    n_inputs: int
    n_outputs: int
    loss: Any
    n_train: int
    n_auto: Any = None
    tables: tuple = ()
    plr: tuple = ()
    device: Any = "cpu"
    dtype: Any = torch.float64


@dataclass
class FitSpec:
    """The settings of the members of one fit (a network or an ensemble) on one row group.

    ``shared`` holds the :class:`~skreg._engine.TrainingConfig` fields that
    the members of a stack share; the others are this fit's values of the
    per-member fields (one per member: ``seeds`` has ``ensemble_size``
    entries). ``group`` is the fit's row group (a search's fold) and
    ``n_steps`` its optimizer steps per epoch, ``ceil(n_train /
    batch_size)``: the members of a stack step together, and a member
    whose rows have run out would still take the optimizer's steps (on a
    zero gradient), so fits of other step counts are other stacks.
    """

    shared: dict
    alpha: float
    l1_ratio: float
    dropout: tuple
    label_smoothing: float
    seeds: tuple
    group: int = 0
    n_steps: int = 1
    key: tuple = field(init=False, repr=False)

    def __post_init__(self):
        self.key = (_hashable(self.shared), self.n_steps)

    @property
    def n_members(self):
        return len(self.seeds)

    @property
    def stackable(self):
        """Whether other fits' members may share this fit's stack.

        Not for a joint ensemble (one stopping rule for the whole stack),
        batch norm (one network per module), L-BFGS (one line search for
        the whole stack) or the 'adaptive' schedule (one learning rate,
        lowered when the whole stack stalls): the engine applies these to
        the stack, so each such fit is a stack of its own.
        """
        shared = self.shared
        return not (shared["joint"] or shared["batch_norm"] or shared["solver"] == "lbfgs"
                    or shared["learning_rate"] == "adaptive")


def uses_early_stopping(estimator):
    """Whether a fit of ``estimator`` stops early on a validation split.

    ``early_stopping=True`` with ``solver='lbfgs'`` does not: as in
    scikit-learn's MLP, early stopping is a setting of the minibatch
    solvers and is ignored by L-BFGS (no rows are held out).
    """
    return bool(estimator.early_stopping) and estimator.solver != "lbfgs"


def fit_spec(estimator, rows, *, seeds=None, group=0):
    """The :class:`FitSpec` of a fit of ``estimator`` on ``rows``.

    Parameters
    ----------
    estimator : BaseRegularizedMLP
        A plain estimator; its parameters are read, nothing is set.
    rows : FitRows
        The facts of the rows it trains on.
    seeds : sequence of int or None, default=None
        The members' seeds; None draws them from ``random_state``
        (:func:`member_seeds`), as a plain fit does.
    group : int, default=0
        The row group.

    Returns
    -------
    FitSpec
    """
    hidden = hidden_sizes(estimator.hidden_layer_sizes)
    if seeds is None:
        seeds = member_seeds(estimator.random_state, estimator.ensemble_size)
    regularization = {param.name: getattr(estimator, param.name)
                      for param in regularizer_params()}
    if rows.tables and regularization.get("mixup"):
        raise ValueError(
            f"mixup={regularization['mixup']} blends input rows, which cannot blend the "
            "codes of embedded categorical columns; set max_onehot_categories=None to "
            "one-hot encode them, or mixup=0.")
    batch_size = batch_size_for(estimator, rows.n_train)
    shared = dict(
        layer_sizes=(rows.n_inputs, *hidden, rows.n_outputs),
        activation=estimator.activation, loss=rows.loss, batch_size=batch_size,
        joint=len(seeds) > 1, solver=estimator.solver,
        learning_rate_init=estimator.learning_rate_init,
        betas=(estimator.beta_1, estimator.beta_2), epsilon=estimator.epsilon,
        momentum=estimator.momentum, nesterov=estimator.nesterovs_momentum,
        max_iter=estimator.max_iter, tol=estimator.tol,
        n_iter_no_change=estimator.n_iter_no_change, max_fun=estimator.max_fun,
        early_stopping=uses_early_stopping(estimator), shuffle=estimator.shuffle,
        regularization=regularization, batch_norm=estimator.batch_norm,
        learning_rate=estimator.learning_rate, power_t=estimator.power_t,
        snapshot_every=estimator.snapshot_every, device=rows.device, dtype=rows.dtype,
        verbose=int(estimator.verbose), embedding_tables=tuple(rows.tables),
        plr=tuple(rows.plr), scale_layer=estimator.scale_layer)
    return FitSpec(
        shared=shared,
        alpha=resolved_alpha(estimator.alpha, rows.n_auto or rows.n_train, batch_size),
        l1_ratio=estimator.l1_ratio,
        dropout=dropout_rates(estimator.dropout, len(hidden)),
        label_smoothing=getattr(estimator, "label_smoothing", 0.0),
        seeds=tuple(int(s) for s in seeds), group=group,
        n_steps=-(-rows.n_train // batch_size))


def stacks(specs):
    """The specs that train together: lists of indices into ``specs``, in order.

    Specs with equal shared settings share a stack, in the order they come
    (each fit's members consecutive); a spec that is not
    :attr:`~FitSpec.stackable` is a stack of its own.
    """
    grouped, alone = {}, []
    for i, spec in enumerate(specs):
        if spec.stackable:
            grouped.setdefault(spec.key, []).append(i)
        else:
            alone.append([i])
    return sorted([*grouped.values(), *alone], key=lambda members: members[0])


def stack_config(specs, groups=None):
    """One :class:`~skreg._engine.TrainingConfig` of the members of ``specs``.

    Their shared settings must be equal (:func:`stacks`); the per-member
    ones are concatenated, each spec's members in turn. ``groups`` maps each
    spec's ``group`` to the stack's row group (default: the spec's own).
    """
    first = specs[0]
    if any(spec.key != first.key for spec in specs):
        raise ValueError("The fits of one stack must share their settings.")
    repeat = [spec.n_members for spec in specs]
    per_member = lambda name: np.repeat([getattr(s, name) for s in specs], repeat,  # noqa: E731
                                        axis=0)
    group_of = (lambda g: g) if groups is None else groups.__getitem__
    return TrainingConfig(
        **first.shared,
        seeds=np.concatenate([np.asarray(s.seeds, dtype=np.int64) for s in specs]),
        alpha=per_member("alpha"), l1_ratio=per_member("l1_ratio"),
        dropout=per_member("dropout"), label_smoothing=per_member("label_smoothing"),
        groups=np.repeat([group_of(s.group) for s in specs], repeat))


def _hashable(value):
    """``value`` as a hashable key: containers as tuples, losses by type and size."""
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, (torch.device, torch.dtype)):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    try:
        hash(value)
    except TypeError:
        # a loss object: its type and its sizes
        return (type(value).__name__, _hashable(vars(value)))
    if type(value).__module__.startswith("skreg._engine"):
        return (type(value).__name__, _hashable(vars(value)))
    return value
