"""skreg's weight penalties and constraints as skorch callbacks, for any torch module.

The callbacks here apply the regularizers of :class:`skreg.RegularizedMLPClassifier`
and :class:`skreg.RegularizedMLPRegressor`, with the same meaning of every
parameter, to any :class:`skorch.NeuralNet` (``NeuralNetClassifier``,
``NeuralNetRegressor``, ...) and whatever torch module it trains::

    from skorch import NeuralNetClassifier
    from skreg.skorch import ElasticNetPenalty, MaxNorm

    net = NeuralNetClassifier(MyModule, optimizer=torch.optim.Adam, callbacks=[
        ElasticNetPenalty(alpha=1.0, l1_ratio=1.0),   # L1 with exact zeros
        MaxNorm(3.0),
    ])

skorch's criteria average the loss over the batch, so with ``B`` the number of
samples in a batch every callback makes the batch objective::

    sum_{i in B} loss_i / B  +  alpha * P(W) / B

which is skreg's (and scikit-learn's MLP) convention: the same ``alpha`` means
the same thing as in ``RegularizedMLPClassifier(alpha=...)``. Smooth parts of
``P`` are added to the gradients after the backward pass (skorch's
``on_grad_computed``); non-smooth parts are applied as proximal steps after
the optimizer step (``on_batch_end`` of a training batch), scaled by the
per-weight step size ``eta`` of the step just taken:

* ``torch.optim.Adam`` and ``torch.optim.AdamW``:
  ``eta = lr / (sqrt(v_hat) + eps)``, ``v_hat = v / (1 - beta2^t)`` with
  ``v`` the second-moment estimate (its running maximum with
  ``amsgrad=True``) and ``t`` the step count;
* any other optimizer (SGD, with or without momentum, RMSprop, L-BFGS, ...):
  ``eta = lr`` of the weight's parameter group.

``eta`` is read right after the step, so list these callbacks before an
``LRScheduler(step_every="batch")``, which changes ``lr`` at the same point.

Selecting parameters: ``params`` is ``None`` or a name pattern
(``fnmatch`` style, matched case-sensitively against the whole name, ``*``
also matching dots) or a list of them, matched against the names of
``net.get_all_learnable_params()`` (for the usual net,
``net.module_.named_parameters()``: ``"0.weight"``, ``"encoder.fc.weight"``,
...):

* ``None`` (default) selects every parameter whose name ends with
  ``"weight"`` and that has at least 2 dimensions (the weights of
  ``nn.Linear``, ``nn.Conv*``, ``nn.Embedding``, ``nn.Bilinear``, ...), never
  biases nor the 1-D scales of normalization layers, as in skreg's estimators;
* a pattern or list of patterns selects every parameter whose name matches
  one of them, whatever its shape (a bias too, if a pattern names it). A
  pattern that matches no parameter is an error.

History: at the end of every epoch each penalty callback adds its value
``alpha * P(W)`` at the epoch's final weights to the history key
``"penalty"``, which is therefore the sum over the penalty callbacks of the
net (:class:`MaxNorm` is a constraint and adds nothing). Each callback's own
value is ``callback.value(net)``.
"""

import fnmatch
import math
from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import (Interval, StrOptions,
                                             validate_parameter_constraints)
from skorch.callbacks import Callback
from skorch.dataset import get_len

# each penalty's math is the engine's, which skreg's estimators apply
from ._engine import ElasticNet as _ElasticNet
from ._engine import GroupLasso as _GroupLasso
from ._engine import LpPenalty as _LpPenalty
from ._engine import MaxNorm as _MaxNorm
from ._engine import soft_threshold_

__all__ = ["ElasticNetPenalty", "GroupLasso", "LpPenalty", "MaxNorm"]

HISTORY_KEY = "penalty"

_PARAMS_CONSTRAINT = [str, list, tuple, None]


def _default_selection(name, param):
    return name.endswith("weight") and param.ndim >= 2


def _batch_size(batch, X):
    """The number of samples in a batch, as skorch counts them."""
    if batch is None:
        return get_len(X)
    return get_len(batch[0]) if isinstance(batch, (tuple, list)) else get_len(batch)


def _optimizer_groups(net):
    """``id(param) -> (optimizer, param_group)`` over every optimizer of the net."""
    out = {}
    for name in getattr(net, "_optimizers", None) or ["optimizer"]:
        optimizer = getattr(net, name + "_", None)
        if optimizer is None:
            continue
        for group in optimizer.param_groups:
            for param in group["params"]:
                out.setdefault(id(param), (optimizer, group))
    return out


def _step_size(optimizer, group, param):
    """The per-weight step size ``eta`` of the step just taken.

    A tensor shaped like ``param`` (Adam, AdamW), a float (any other
    optimizer), or None when the optimizer did not move ``param`` (no
    gradient, or no optimizer holds it).
    """
    if optimizer is None or param.grad is None:
        return None
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
        state = optimizer.state.get(param) or {}
        v = state.get("max_exp_avg_sq" if group.get("amsgrad") else "exp_avg_sq")
        if v is None or "step" not in state:
            return None
        bias_root = math.sqrt(1.0 - group["betas"][1] ** float(state["step"]))
        # as torch's Adam forms its denominator: sqrt(v) / sqrt(1 - beta2^t) + eps
        denom = torch.sqrt(v).div_(bias_root).add_(group["eps"])
        return denom.reciprocal_().mul_(float(group["lr"]))
    return float(group["lr"])


def _groups(W, axis):
    """``W`` as a matrix whose row ``j`` is the group ``W.select(axis, j)``.

    A view of ``W`` where one exists, else a copy (then the second value is
    True: changes must be written back with :func:`_write_back`).
    """
    G = W.movedim(axis, 0).reshape(W.shape[axis], -1)
    return G, G.data_ptr() != W.data_ptr()


def _write_back(W, G, axis):
    moved = W.movedim(axis, 0)
    moved.copy_(G.reshape(moved.shape))


class _WeightCallback(Callback):
    """Shared machinery: validation, parameter selection, history, pickling.

    Fitted state has a trailing underscore (skorch's ``get_params`` lists
    every other attribute as a parameter); the tensors found at the start of
    training are cached in ``_cache_``, which is not pickled.
    """

    _parameter_constraints = {}
    records_penalty = True

    def initialize(self):
        validate_parameter_constraints(self._parameter_constraints,
                                       self.get_params(deep=False),
                                       caller_name=type(self).__name__)
        patterns = getattr(self, "params", None)
        if isinstance(patterns, (list, tuple)):
            bad = [p for p in patterns if not isinstance(p, str)]
            if bad or not patterns:
                raise ValueError(
                    f"The 'params' parameter of {type(self).__name__} must be None, a "
                    f"name pattern or a non-empty list of name patterns (str). Got "
                    f"{patterns!r} instead.")
        self._cache_ = None
        return self

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_cache_", None)
        return state

    # -- selection ---------------------------------------------------------

    def _select(self, net, patterns):
        named = list(net.get_all_learnable_params())
        names = [name for name, _ in named]
        shown = ", ".join(repr(n) for n in names[:20]) + (", ..." if len(names) > 20 else "")
        cls = type(self).__name__
        if patterns is None:
            chosen = [(n, p) for n, p in named if _default_selection(n, p)]
            if not chosen:
                raise ValueError(
                    f"The 'params' parameter of {cls} is None, which selects every "
                    f"parameter whose name ends with 'weight' and that has at least 2 "
                    f"dimensions, but the net has none; its parameters are [{shown}]. "
                    f"Pass name patterns instead.")
            return chosen
        patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                raise ValueError(
                    f"The 'params' parameter of {cls} has the pattern {pattern!r}, which "
                    f"matches no parameter of the net; its parameters are [{shown}].")
        return [(n, p) for n, p in named
                if any(fnmatch.fnmatchcase(n, pattern) for pattern in patterns)]

    def _resolve(self, net):
        """Select the parameters and cache them with their optimizers."""
        selected = self._select_params(net)
        groups = _optimizer_groups(net)
        self.param_names_ = [name for name, _ in selected]
        self._cache_ = [(param, *groups.get(id(param), (None, None)))
                        for _, param in selected]
        return self._cache_

    def _select_params(self, net):
        return self._select(net, self.params)

    def _check_dense(self, params):
        for param, name in zip(params, self.param_names_):
            if param.grad is not None and param.grad.is_sparse:
                raise ValueError(
                    f"{type(self).__name__} adds a dense gradient, but parameter {name!r} "
                    f"has a sparse one (e.g. nn.Embedding(sparse=True)); use a dense "
                    f"gradient, or select other parameters with 'params'.")

    def _entries(self, net):
        cache = getattr(self, "_cache_", None)
        return cache if cache is not None else self._resolve(net)

    # -- hooks -------------------------------------------------------------

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self._resolve(net)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if self.records_penalty:
            row = net.history[-1]
            net.history.record(HISTORY_KEY, row.get(HISTORY_KEY, 0.0) + self.value(net))

    def value(self, net):
        """The penalty ``alpha * P(W)`` at the net's current weights.

        Parameters
        ----------
        net : skorch.NeuralNet
            An initialized net that has this callback.

        Returns
        -------
        float
        """
        # selected afresh: the module may have been re-initialized since training
        with torch.no_grad():
            return float(self._value([param.detach() for _, param in self._select_params(net)]))


class ElasticNetPenalty(_WeightCallback):
    r"""Elastic-net (L2, L1) penalty on the selected weights of any skorch net.

    With ``rho = l1_ratio`` and ``W`` all the selected weights, the penalty is

    .. math::

        P(W) = \rho \, \|W\|_1 + \frac{1 - \rho}{2} \, \|W\|_2^2

    and each training batch of ``B`` samples minimises
    ``mean_{i in B} loss_i + alpha * P(W) / B`` (skreg's and scikit-learn's
    MLP convention: ``l1_ratio=0`` is ``MLPClassifier``'s ``alpha``). The L2
    part enters the gradient: after the backward pass
    ``grad += alpha * (1 - rho) * w / B`` for each selected weight. The L1
    part is applied as set by ``l1_method``:

    * ``'proximal'``: after each optimizer step every selected weight is
      soft-thresholded, ``w <- sign(w) * max(|w| - eta * alpha * rho / B, 0)``,
      with ``eta`` the step size that weight just took (``lr / (sqrt(v_hat) +
      eps)`` for Adam/AdamW, ``lr`` for any other optimizer; see
      :mod:`skreg.skorch`). Weights become exactly 0, as in Lasso.
    * ``'subgradient'``: ``grad += alpha * rho * sign(w) / B`` (``sign(0) =
      0``); weights hover near 0 without reaching it.

    The L2 part is coupled (it enters Adam's scaling); for decoupled weight
    decay use ``torch.optim.AdamW``'s own ``weight_decay`` instead.

    Parameters
    ----------
    alpha : float
        Strength, ``alpha >= 0`` (0 turns the penalty off).
    l1_ratio : float, default=0.0
        Mixing ``rho`` in ``[0, 1]``: 0 is the L2 penalty, 1 the L1 penalty.
    l1_method : {'proximal', 'subgradient'}, default='proximal'
        How the L1 part is applied (see above).
    params : str, list of str or None, default=None
        The penalised parameters: None is every parameter whose name ends
        with ``"weight"`` and that has at least 2 dimensions (never biases); a
        ``fnmatch`` name pattern, or a list of them, selects every parameter
        whose name matches one (see :mod:`skreg.skorch`).

    Attributes
    ----------
    param_names_ : list of str
        Names of the penalised parameters, set when training begins.

    Notes
    -----
    At the end of each epoch ``alpha * P(W)`` is added to the history key
    ``"penalty"``.

    Examples
    --------
    >>> import torch
    >>> from skorch import NeuralNetClassifier
    >>> from skreg.skorch import ElasticNetPenalty
    >>> net = NeuralNetClassifier(
    ...     torch.nn.Linear, module__in_features=4, module__out_features=2,
    ...     criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam,
    ...     callbacks=[("l1", ElasticNetPenalty(alpha=1.0, l1_ratio=1.0))])
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "l1_method": [StrOptions({"proximal", "subgradient"})],
        "params": _PARAMS_CONSTRAINT,
    }

    def __init__(self, alpha, l1_ratio=0.0, l1_method="proximal", params=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.l1_method = l1_method
        self.params = params

    def _value(self, weights):
        l1, l2 = self.alpha * self.l1_ratio, self.alpha * (1 - self.l1_ratio)
        return sum(_ElasticNet.penalty(w.double(), l1, l2) for w in weights)

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=None,
                         batch=None, **kwargs):
        """Add the smooth part of the penalty to the gradients (training batches)."""
        if not self.alpha:
            return
        scale = 1.0 / _batch_size(batch, X)
        l2 = self.alpha * (1 - self.l1_ratio) * scale
        l1 = self.alpha * self.l1_ratio * scale if self.l1_method == "subgradient" else 0.0
        if not (l1 or l2):
            return
        entries = self._entries(net)
        self._check_dense([param for param, _, _ in entries])
        with torch.no_grad():
            for param, _, _ in entries:
                if param.grad is not None:
                    _ElasticNet.gradient_(param.grad, param.detach(), l1, l2)

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Apply the proximal step or projection after the optimizer step (training batches)."""
        if not (training and self.alpha and self.l1_ratio and self.l1_method == "proximal"):
            return
        l1 = self.alpha * self.l1_ratio / _batch_size(batch, None)
        with torch.no_grad():
            for param, optimizer, group in self._entries(net):
                eta = _step_size(optimizer, group, param)
                if eta is not None:
                    # eta is a fresh tensor (or a float): scaling it in place is safe
                    soft_threshold_(param.detach(), eta.mul_(l1) if isinstance(
                        eta, torch.Tensor) else eta * l1)


class LpPenalty(_WeightCallback):
    r"""Lp penalty on the selected weights of any skorch net, ``p >= 1`` or ``p = inf``.

    With ``W`` all the selected weights (together),

    .. math::

        P(W) = \frac{1}{p} \sum_i |w_i|^p \quad (1 \le p < \infty), \qquad
        P(W) = \max_i |w_i| \quad (p = \infty)

    and each training batch of ``B`` samples minimises
    ``mean_{i in B} loss_i + alpha * P(W) / B``. The whole penalty enters the
    gradient after the backward pass, ``grad += alpha * dP/dw / B`` with
    ``dP/dw = sign(w) |w|^(p - 1)``; for ``p = inf`` the subgradient
    ``sign(w_i) / m`` on the ``m`` selected weights of largest magnitude
    (across all selected parameters), 0 elsewhere. ``p=2`` is the L2
    penalty, ``p=1`` the L1 penalty as a subgradient (no exact zeros; use
    :class:`ElasticNetPenalty` for those).

    Parameters
    ----------
    alpha : float
        Strength, ``alpha >= 0``.
    p : float
        Exponent, ``p >= 1`` or ``math.inf``.
    params : str, list of str or None, default=None
        The penalised parameters, as in :class:`ElasticNetPenalty`: None is
        every parameter whose name ends with ``"weight"`` and that has at
        least 2 dimensions.

    Attributes
    ----------
    param_names_ : list of str
        Names of the penalised parameters, set when training begins.

    Notes
    -----
    At the end of each epoch ``alpha * P(W)`` is added to the history key
    ``"penalty"``.
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "p": [Interval(Real, 1, None, closed="both")],
        "params": _PARAMS_CONSTRAINT,
    }

    def __init__(self, alpha, p, params=None):
        self.alpha = alpha
        self.p = p
        self.params = params

    def _value(self, weights):
        alpha, p = float(self.alpha), float(self.p)
        values = [_LpPenalty.penalty(w.double(), alpha, p) for w in weights]
        # p = inf: the largest weight of all the selected parameters
        return max(values) if math.isinf(p) else sum(values)

    def on_grad_computed(self, net, named_parameters, X=None, y=None, training=None,
                         batch=None, **kwargs):
        """Add the smooth part of the penalty to the gradients (training batches)."""
        if not self.alpha:
            return
        coef = self.alpha / _batch_size(batch, X)
        p = float(self.p)
        params = [e[0] for e in self._entries(net)]
        self._check_dense(params)
        params = [param for param in params if param.grad is not None]
        if not params:
            return
        with torch.no_grad():
            top = count = None
            if math.isinf(p):
                # the maximum runs over all selected weights together; ties share it
                top = max(param.detach().abs().max() for param in params)
                count = int(sum(int((param.detach().abs() == top).sum()) for param in params))
            for param in params:
                _LpPenalty.gradient_(param.grad, param.detach(), coef, p, top, count)


class GroupLasso(_WeightCallback):
    r"""Group lasso on one weight of any skorch net: removes whole groups (input features).

    The groups are the slices ``W_j = W.select(axis, j)`` of the weight
    ``W`` named by ``param``; for an ``nn.Linear`` weight of shape
    ``(out_features, in_features)`` and the default ``axis=1``, group ``j``
    is column ``j``, the weights of input feature ``j``. The penalty is

    .. math::

        P_g(W) = \sum_j \| W_j \|_2

    (skreg's ``group_alpha``), and each training batch of ``B`` samples
    minimises ``mean_{i in B} loss_i + group_alpha * P_g(W) / B``. It is
    applied as the proximal block soft-threshold after each optimizer step,

    .. math::

        W_j \leftarrow W_j \, \max\left(0,\;
        1 - \frac{\eta_j \, \mathrm{group\_alpha}}{B \, \|W_j\|_2}\right)

    with ``eta_j`` the harmonic mean of the step sizes of the weights in
    ``W_j`` (``lr`` for SGD and other optimizers; for Adam/AdamW the
    harmonic mean of ``lr / (sqrt(v_hat) + eps)``, which the huge step sizes
    ``lr / eps`` of weights without gradient, e.g. into dead units, cannot
    dominate). Uninformative groups lose all their weights at
    once: those input features leave the model exactly.

    Parameters
    ----------
    group_alpha : float
        Strength, ``group_alpha >= 0``.
    param : str or None, default=None
        The exact name of the weight (at least 2 dimensions) in
        ``net.get_all_learnable_params()``, e.g. ``"encoder.0.weight"``. None
        is the first parameter, in that order, whose name ends with
        ``"weight"`` and that has at least 2 dimensions (the input layer of a
        feed-forward module).
    axis : int, default=1
        The axis of the weight that indexes the groups; the norm of each group
        runs over all the other axes. 1 groups an ``nn.Linear`` weight by
        input feature, an ``nn.Conv1d`` weight ``(out, in, kernel)`` by input
        channel; 0 groups an ``nn.Embedding`` weight by embedding row.

    Attributes
    ----------
    param_names_ : list of str
        The one-element list of the penalised parameter's name, set when
        training begins.

    Notes
    -----
    At the end of each epoch ``group_alpha * P_g(W)`` is added to the history
    key ``"penalty"``.
    """

    _parameter_constraints = {
        "group_alpha": [Interval(Real, 0, None, closed="left")],
        "param": [str, None],
        "axis": [Interval(Integral, None, None, closed="neither")],
    }

    def __init__(self, group_alpha, param=None, axis=1):
        self.group_alpha = group_alpha
        self.param = param
        self.axis = axis

    def _select_params(self, net):
        named = list(net.get_all_learnable_params())
        cls = type(self).__name__
        if self.param is None:
            selected = self._select(net, None)[:1]
        else:
            selected = [(n, p) for n, p in named if n == self.param][:1]
            if not selected:
                shown = ", ".join(repr(n) for n, _ in named[:20])
                raise ValueError(
                    f"The 'param' parameter of {cls} is {self.param!r}, which is not the "
                    f"name of a parameter of the net; its parameters are [{shown}].")
        name, weight = selected[0]
        if weight.ndim < 2:
            raise ValueError(
                f"The 'param' parameter of {cls} must name a weight with at least 2 "
                f"dimensions; {name!r} has shape {tuple(weight.shape)}.")
        if not -weight.ndim <= self.axis < weight.ndim:
            raise ValueError(
                f"The 'axis' parameter of {cls} must be in [{-weight.ndim}, "
                f"{weight.ndim - 1}] for {name!r} of shape {tuple(weight.shape)}. "
                f"Got {self.axis} instead.")
        return selected

    def _value(self, weights):
        (W,) = weights
        return _GroupLasso.penalty(_groups(W, self.axis)[0].double(), float(self.group_alpha))

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Apply the proximal step or projection after the optimizer step (training batches)."""
        if not (training and self.group_alpha):
            return
        scale = 1.0 / _batch_size(batch, None)
        ((param, optimizer, group),) = self._entries(net)
        with torch.no_grad():
            eta = _step_size(optimizer, group, param)
            if eta is None:
                return
            W = param.detach()
            G, copied = _groups(W, self.axis)
            if isinstance(eta, torch.Tensor):
                eta = _groups(eta, self.axis)[0]
            _GroupLasso.prox_(G, eta, self.group_alpha * scale)
            if copied:
                _write_back(W, G, self.axis)


class MaxNorm(_WeightCallback):
    r"""Max-norm constraint on the selected weights of any skorch net.

    After each optimizer step, each unit's incoming weight vector
    ``W_i = W.select(axis, i)`` is rescaled onto the ball
    ``||W_i||_2 <= max_norm``:

    .. math::

        W_i \leftarrow W_i \, \min\left(1, \frac{\mathrm{max\_norm}}{\|W_i\|_2}\right)

    (skreg's ``max_norm``, the same projection). For an ``nn.Linear`` weight of
    shape ``(out_features, in_features)`` and the default ``axis=0``, ``W_i``
    is row ``i``, unit ``i``'s incoming weights; for ``nn.Conv*`` the weights
    of output channel ``i``; for ``nn.Embedding`` embedding vector ``i``.
    Proximal steps only shrink norms, so the bound holds after any of this
    module's callbacks, in any order.

    Parameters
    ----------
    max_norm : float
        The largest norm, ``max_norm > 0``.
    params : str, list of str or None, default=None
        The constrained parameters, as in :class:`ElasticNetPenalty`: None is
        every parameter whose name ends with ``"weight"`` and that has at
        least 2 dimensions.
    axis : int, default=0
        The axis that indexes the units; each norm runs over all the other
        axes.

    Attributes
    ----------
    param_names_ : list of str
        Names of the constrained parameters, set when training begins.

    Notes
    -----
    A constraint, not a penalty: it adds nothing to the history.
    """

    _parameter_constraints = {
        "max_norm": [Interval(Real, 0, None, closed="neither")],
        "params": _PARAMS_CONSTRAINT,
        "axis": [Interval(Integral, None, None, closed="neither")],
    }
    records_penalty = False

    def __init__(self, max_norm, params=None, axis=0):
        self.max_norm = max_norm
        self.params = params
        self.axis = axis

    def _select_params(self, net):
        selected = self._select(net, self.params)
        for name, weight in selected:
            if not -weight.ndim <= self.axis < weight.ndim:
                raise ValueError(
                    f"The 'axis' parameter of {type(self).__name__} must be in "
                    f"[{-weight.ndim}, {weight.ndim - 1}] for {name!r} of shape "
                    f"{tuple(weight.shape)}. Got {self.axis} instead.")
        return selected

    def value(self, net):
        """0.0: a constraint has no penalty value.

        Parameters
        ----------
        net : skorch.NeuralNet

        Returns
        -------
        float
        """
        return 0.0

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        """Apply the proximal step or projection after the optimizer step (training batches)."""
        if not training:
            return
        max_norm = float(self.max_norm)
        with torch.no_grad():
            for param, *_ in self._entries(net):
                W = param.detach()
                # the norm of each unit W.select(axis, i) runs over the other axes
                others = tuple(d for d in range(W.ndim) if d != self.axis % W.ndim)
                _MaxNorm.project_(W, max_norm, others)


class EpochCallbackHost:
    """What skorch callbacks passed to skreg's estimators (``callbacks=[...]``) see as ``net``.

    skreg's estimators fire skorch callbacks at epoch boundaries only
    (``on_train_begin``, ``on_epoch_begin``, ``on_epoch_end``,
    ``on_train_end``; never batch events), with an instance of this class as
    ``net``. It exposes what epoch-level callbacks read and write:

    * ``history``: the estimator's ``history_`` (a :class:`skorch.History`);
      after each epoch it holds ``train_loss``, ``penalty``, ``loss``,
      ``valid_loss`` and ``valid_score`` (with early stopping), the
      ``*_best`` flags skorch's callbacks monitor (``train_loss_best``,
      ``valid_loss_best``), ``lr`` and the weight statistics;
    * ``module_``, ``optimizer_``, ``device``, ``verbose``;
    * ``estimator``: the skreg estimator being fitted (its ``predict``,
      ``score`` ... give the answers of the current weights);
    * ``save_params`` / ``load_params`` for ``f_params``, ``f_optimizer``
      and ``f_history``, as skorch's (so ``Checkpoint`` and
      ``LoadInitState`` work).

    A callback that raises :class:`KeyboardInterrupt` (skorch's
    ``EarlyStopping``) ends the fit after that epoch. Works with
    ``LRScheduler`` (``step_every='epoch'``), ``EarlyStopping``,
    ``Checkpoint``, ``PrintLog``, ``TensorBoard`` and callbacks of one's
    own; callbacks that need batch events (``ProgressBar``) or skorch's
    datasets (``EpochScoring``) are not supported.
    """

    def __init__(self, estimator, trainer):
        self.estimator = estimator
        self._trainer = trainer

    history = property(lambda self: self._trainer.history)
    module_ = property(lambda self: self._trainer.model)
    optimizer_ = property(lambda self: self._trainer.optimizer)
    device = property(lambda self: self._trainer.config.device)
    verbose = property(lambda self: self.estimator.verbose)

    def save_params(self, f_params=None, f_optimizer=None, f_history=None, f_module=None,
                    **_ignored):
        """Save the module's and the optimizer's ``state_dict`` and the history.

        The module's goes to ``f_params`` (or skorch's alias ``f_module``).
        """
        f_params = f_module if f_params is None else f_params
        if f_params is not None:
            torch.save(self.module_.state_dict(), f_params)
        if f_optimizer is not None:
            torch.save(self.optimizer_.state_dict(), f_optimizer)
        if f_history is not None:
            self.history.to_file(f_history)

    def load_params(self, f_params=None, f_optimizer=None, f_history=None, f_module=None,
                    **_ignored):
        """Load what :meth:`save_params` saved (tensors with ``weights_only=True``)."""
        f_params = f_module if f_params is None else f_params
        if f_params is not None:
            self.module_.load_state_dict(torch.load(f_params, weights_only=True))
        if f_optimizer is not None:
            self.optimizer_.load_state_dict(torch.load(f_optimizer, weights_only=True))
        if f_history is not None:
            from skorch.history import History
            self._trainer.history = History.from_file(f_history)


def initialized_callbacks(callbacks, validation=True):
    """``callbacks`` (skorch callbacks or ``(name, callback)`` pairs) initialized for a fit.

    Each is cloned first, so the estimator's parameter is never modified
    and every fit starts from fresh callbacks, as skorch itself does.
    Without a validation split (``validation=False``: no early stopping) a
    callback that monitors a ``valid_*`` entry of the history is refused
    with a ``ValueError``, before training, rather than failing in skorch
    at the first epoch's end.
    """
    from sklearn.base import clone
    out = []
    for item in callbacks or ():
        cb = item[1] if isinstance(item, tuple) else item
        if not isinstance(cb, Callback):
            raise ValueError(
                "The 'callbacks' parameter must be a list of skorch callbacks (instances "
                f"of skorch.callbacks.Callback) or (name, callback) pairs; got {cb!r}.")
        monitor = getattr(cb, "monitor", None)
        if not validation and isinstance(monitor, str) and monitor.startswith("valid_"):
            raise ValueError(
                f"The callback {type(cb).__name__} monitors {monitor!r}, which is recorded "
                "only with a validation split: set early_stopping=True (it holds out "
                "validation_fraction of the rows), or have the callback monitor "
                f"{monitor.replace('valid_', 'train_', 1)!r}.")
        out.append(clone(cb).initialize())
    return out
