"""Weight regularizers, defined once and shared by every fit and every member.

A regularizer acts on the connection weights (never the biases, as in
scikit-learn) of each member of a stack (:class:`~skreg._engine.model.StackedMLP`,
``coef`` of shape ``(C, n_weights)``). The engine adds ``alpha * P(w) / S_B``
to the mean loss of a batch whose sample weights sum to ``S_B`` (the batch
size without sample weights), which is scikit-learn's MLP convention: over
an epoch it is the objective ``sum_i s_i l_i + alpha P(w)`` divided by the
total weight.

Each regularizer is an object with up to three parts:

* ``add_grad_(grad, w, scale)``: its smooth part, added to the gradient
  before the optimizer step (``scale = 1 / S_B``, a float or one value per
  member);
* ``post_step(model, optimizer)``: a function ``f(scale)`` run after every
  optimizer step, for a proximal step (soft-thresholding, which sets weights
  exactly to zero) or a projection (max-norm); None when there is none;
* ``value(model)``: ``alpha * P(w)`` per member, for the history and the
  stopping rule (differentiable, for L-BFGS and batch norm's autograd pass),

and ``smooth`` says whether L-BFGS can minimise it. A regularizer that acts
inside the training step (weight noise, gradient noise, L0 gates) gives a
:class:`StepHook` (``step_hook``): the hand-written step
(:func:`skreg._engine.backward.manual_step`) calls its ``before()`` before
the forward pass, which may change the weights in place, and its
``after(grad)`` after the backward pass, which restores them and maps the
gradient to the stored parameters; the autograd step calls ``before()``,
then ``weights(views)`` to form the matrices its forward pass applies
(differentiable), and ``after(grad)``. One that stores parameters in the
network (the gates, the gradient noise's step count) names them in
``model_settings(config)`` (keywords of
:class:`~skreg._engine.model.StackedMLP`): they are then trained, penalised,
saved and selected with the weights. ``history_entries()`` adds its figures
to each epoch's history row. :data:`REGULARIZERS`
lists the classes; each builds itself from the fit's settings with
``from_config``, returning None when the estimator's parameters turn it off.
Each class also declares the estimator parameters it brings (``params``, a
tuple of :class:`Param`: name, default, constraints, docstring entry). The
estimators' constraints table and docstrings, the engine's settings
(``TrainingConfig.regularization``) and the user guide's table are derived
from them. A new regularizer is one class here, its entry in
:data:`REGULARIZERS`, its parameters in the estimators' signatures, and tests.

A proximal step takes the per-weight step size ``eta`` of the step just made
(``lr`` for SGD, ``lr / (sqrt(v_hat) + epsilon)`` for Adam, see
:func:`skreg._engine.optim.step_sizes`).
"""

import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, Options, StrOptions

from .model import (GATE_BETA, GATE_GAMMA, GATE_INIT, GATE_RATE, GATE_ZETA, StackedMLP,
                    hard_concrete)
from .optim import l1_prox, step_sizes


def member_column(values, like):
    """Per-member values as a float (all equal) or a ``(C, 1)`` tensor like ``like``."""
    values = np.asarray(values, dtype=float).ravel()
    if np.all(values == values[0]):
        return float(values[0])
    return torch.as_tensor(values, dtype=like.dtype, device=like.device).view(-1, 1)


def soft_threshold_(w, threshold):
    """``w <- sign(w) * max(|w| - threshold, 0)`` in place (threshold scalar or tensor)."""
    if isinstance(threshold, torch.Tensor):
        return w.sub_(torch.clamp(w, torch.neg(threshold), threshold))
    return w.sub_(w.clamp(-threshold, threshold))


@dataclass(frozen=True)
class Param:
    """An estimator parameter that a regularizer brings.

    Parameters
    ----------
    name : str
        The parameter's name in the estimators' signatures.
    default : object
        Its default value (the value that turns the regularizer off, or its
        usual setting).
    constraints : list
        scikit-learn's parameter constraints (``Interval``, ``StrOptions``,
        ``None``...), as in ``_parameter_constraints``.
    doc : str
        Its numpydoc entry: the ``name : type, default=...`` line, then the
        description indented by four spaces (no leading indentation).
    searchable : bool, default=False
        A strength or a rate: the CV estimators accept a list of values to
        search (``param_grid``).
    """

    name: str
    default: Any
    constraints: list
    doc: str
    searchable: bool = False


class Regularizer:
    """Base class (see the module docstring). Subclasses override what they have."""

    smooth = True
    #: the estimator parameters this regularizer brings
    params = ()
    #: where its post-step runs among the others' (lower first)
    post_step_order = 50

    @classmethod
    def setting(cls, config, name):
        """The value of this regularizer's parameter ``name`` in ``config``."""
        return config.regularization[name]

    def value(self, model):
        """``alpha * P(w)`` of every member, a tensor of shape ``(C,)``."""
        return model.coef.new_zeros(model.n_members)

    def gradient_value(self, model):
        """The part of :meth:`value` that the gradient carries (autograd steps)."""
        return self.value(model)

    def add_grad_(self, grad, w, scale):
        """Add ``scale * alpha * dP/dw`` to ``grad`` (both ``(C, n_weights)``)."""

    def post_step(self, model, optimizer):
        """A function ``f(scale)`` applied after each optimizer step, or None."""
        return None

    def select(self, members):
        """Keep the per-member strengths of ``members`` (an index array)."""

    def describe(self):
        """How the estimator's parameters name this regularizer (for error messages)."""
        return type(self).__name__

    @classmethod
    def model_settings(cls, config):
        """Keywords of :class:`~skreg._engine.model.StackedMLP` this regularizer needs."""
        return {}

    def step_hook(self, model, generator, manual):
        """A :class:`StepHook` acting inside each training step of ``model``, or None.

        ``manual``: for the hand-written step (in place), else the autograd step.
        """
        return None

    def history_entries(self):
        """``{key: value}`` recorded in each epoch's history row (a single network)."""
        return {}


class StepHook:
    """What a regularizer does inside each training step (see the module docstring).

    The hand-written step calls :meth:`before` after drawing its dropout
    masks and before its forward pass, and :meth:`after` after its backward
    pass (the hooks in reverse order), before the penalties' gradients and
    the optimizer step. The autograd step calls :meth:`before`, then
    :meth:`weights` in its forward pass, and :meth:`after` after its
    backward pass. ``changes_weights``: whether :meth:`weights` does anything.
    """

    changes_weights = False

    def before(self):
        """Draw this step's randomness; in the hand-written step, perturb ``coef`` in place."""

    def weights(self, views):
        """The autograd step's matrices from ``views`` (differentiable; :meth:`before` drew)."""
        return views

    def after(self, grad):
        """After the backward pass: restore ``coef`` and map ``grad`` (coef's gradient)."""


def step_hooks(regularizers, model, generator, manual):
    """The :class:`StepHook` of every regularizer that acts inside the step, in order."""
    hooks = (r.step_hook(model, generator, manual) for r in regularizers)
    return [h for h in hooks if h is not None]


def training_weights(model, hooks):
    """The matrices the autograd step's forward pass applies, or None for the plain ones.

    The stored matrices through every hook's :meth:`StepHook.weights` (the
    gates' training sample replaces their deterministic value), then the
    input scale (:meth:`~skreg._engine.model.StackedMLP.layer_weights`).
    """
    if not any(h.changes_weights for h in hooks):
        return None
    views = model.coef_views()
    for hook in hooks:
        views = hook.weights(views)
    return model.layer_weights(views=views)


def _add_scaled_(grad, term, coef):
    """``grad += coef * term`` (``coef`` a float or a per-member ``(C, 1)`` tensor)."""
    if isinstance(coef, torch.Tensor):
        return grad.add_(term.mul_(coef))
    return grad.add_(term, alpha=coef)


def _nonzero(strength):
    """Whether a strength (float, None or tensor) may be nonzero."""
    return strength is not None and (isinstance(strength, torch.Tensor) or strength != 0)


class ElasticNet(Regularizer):
    r"""Elastic-net penalty on the connection weights.

    .. math::

        \alpha P(w) = \alpha \rho \, \|w\|_1 + \frac{\alpha (1 - \rho)}{2} \, \|w\|_2^2

    with ``rho = l1_ratio``; ``l1_ratio=0`` is scikit-learn's L2 penalty,
    ``l1_ratio=1`` the L1 penalty. The L2 part enters the gradient (or, with
    ``decoupled_l2``, is left to AdamW's weight decay); the L1 part is
    either the subgradient ``sign(w)`` (0 at 0) in the gradient or, with
    ``l1_method='proximal'``, a soft-threshold after each step at
    ``eta * alpha * rho / S_B``.

    Parameters
    ----------
    l1, l2 : array-like of shape (C,)
        ``alpha * rho`` and ``alpha * (1 - rho)`` of each member.
    l1_method : {'proximal', 'subgradient'}
    decoupled_l2 : bool
        The L2 part is AdamW's weight decay, not part of the gradient.
    """

    params = (
        Param("penalty", "l2", [StrOptions({"l2", "l1", "elasticnet", "lp"}), None], """\
penalty : {'l2', 'l1', 'elasticnet', 'lp'} or None, default='l2'
    Penalty on the connection weights (never on the biases). With
    ``rho = l1_ratio`` ('l2' is ``rho = 0``, 'l1' is ``rho = 1``)::

        P(W) = rho * ||W||_1 + (1 - rho) / 2 * ||W||_2^2

    and for 'lp'::

        P(W) = sum_i |w_i|^p / p   (1 <= p < inf),   P(W) = max_i |w_i|   (p = inf)

    summed over every weight matrix. Each minibatch ``B`` minimises::

        sum_{i in B} s_i * loss_i / S_B + alpha * P(W) / S_B

    where ``s_i`` are the sample weights (1 by default, times the class
    weight for classifiers) and ``S_B = sum_{i in B} s_i`` (the batch
    size without weights). This is scikit-learn's MLP convention: over an
    epoch it amounts to minimising ``sum_i s_i loss_i + alpha * P(W)``
    scaled by ``1 / sum_i s_i``, so ``penalty='l2'`` matches
    ``MLPClassifier``/``MLPRegressor``'s ``alpha`` exactly. The L1 part
    is applied as set by ``l1_method``."""),
        Param("l1_method", "proximal", [StrOptions({"proximal", "subgradient"})], """\
l1_method : {'proximal', 'subgradient'}, default='proximal'
    How the L1 part of 'l1' / 'elasticnet' is applied. 'proximal':
    after each optimizer step every weight is soft-thresholded,
    ``w <- sign(w) * max(|w| - eta * alpha * rho / S_B, 0)``, with
    ``eta`` the step size that weight just took (``lr`` for SGD,
    ``lr / (sqrt(v_hat) + epsilon)`` for Adam/AdamW): weights become
    exactly 0, as in Lasso. 'subgradient': ``alpha * rho * sign(w) / S_B``
    is added to the gradient; weights hover near 0 without reaching it."""),
    )

    #: set by the step when the optimizer's ``weight_decay`` carries the L2 part
    l2_in_optimizer = False

    def __init__(self, l1, l2, l1_method="proximal", decoupled_l2=False):
        self.l1 = np.asarray(l1, dtype=float).ravel()
        self.l2 = np.asarray(l2, dtype=float).ravel()
        self.l1_method = l1_method
        self.decoupled_l2 = decoupled_l2

    @classmethod
    def from_config(cls, config):
        penalty = cls.setting(config, "penalty")
        if penalty in (None, "lp"):
            return None
        ratio = {"l2": 0.0, "l1": 1.0}.get(penalty)
        ratio = config.l1_ratio if ratio is None else np.full_like(config.alpha, ratio)
        if not np.any(config.alpha > 0):
            return None
        return cls(config.alpha * ratio, config.alpha * (1 - ratio),
                   cls.setting(config, "l1_method"), decoupled_l2=config.solver == "adamw")

    @property
    def smooth(self):
        return not np.any(self.l1 > 0)

    def select(self, members):
        self.l1, self.l2 = self.l1[members], self.l2[members]
        self.__dict__.pop("_columns", None)

    def _strengths(self, w):
        """``(l1, l2)`` as floats or ``(C, 1)`` columns like ``w`` (None when 0).

        Cached: they are read on every step.
        """
        cached = self.__dict__.get("_columns")
        if cached is None or cached[0] != (w.dtype, w.device):
            l1 = member_column(self.l1, w) if np.any(self.l1 > 0) else None
            l2 = member_column(self.l2, w) if np.any(self.l2 > 0) else None
            cached = self._columns = ((w.dtype, w.device), l1, l2)
        return cached[1], cached[2]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_columns", None)
        return state

    @staticmethod
    def penalty(w, l1, l2, dim=None):
        """``l1 * ||w||_1 + l2 / 2 * ||w||_2^2`` summed over ``dim`` (None: every axis).

        ``l1``, ``l2``: floats or tensors broadcastable to the result; 0 or
        None leaves a term out. The skorch callbacks use it too.
        """
        out = 0.0
        if _nonzero(l1):
            out = out + l1 * w.abs().sum(dim)
        if _nonzero(l2):
            out = out + 0.5 * l2 * (w * w).sum(dim)
        return out

    @staticmethod
    def gradient_(grad, w, l1, l2):
        """``grad += l2 * w + l1 * sign(w)`` in place (``sign(0) = 0``).

        ``l1``, ``l2``: the strengths times the batch scale, floats or
        tensors broadcastable to ``w``; 0 or None leaves a term out.
        """
        if _nonzero(l2):
            if isinstance(l2, torch.Tensor):
                grad.addcmul_(w, l2)
            else:
                grad.add_(w, alpha=l2)
        if _nonzero(l1):
            grad.add_(torch.sign(w).mul_(l1))
        return grad

    def value(self, model, l1=True, l2=True):
        w = model.coef

        def strength(values, on):
            if not (on and np.any(values > 0)):
                return None
            return torch.as_tensor(values, dtype=w.dtype, device=w.device)

        return w.new_zeros(w.shape[0]) + self.penalty(
            w, strength(self.l1, l1), strength(self.l2, l2), dim=1)

    def gradient_value(self, model):
        """The part of :meth:`value` that enters the gradient (autograd steps)."""
        return self.value(model, l1=self.l1_method == "subgradient",
                          l2=not self.decoupled_l2)

    def add_grad_(self, grad, w, scale):
        l1, l2 = self._strengths(w)
        in_gradient = l2 is not None and not self.decoupled_l2 and not self.l2_in_optimizer
        subgradient = l1 is not None and self.l1_method == "subgradient"
        self.gradient_(grad, w, l1 * scale if subgradient else None,
                       l2 * scale if in_gradient else None)

    def post_step(self, model, optimizer):
        if self.l1_method != "proximal" or not np.any(self.l1 > 0):
            return None
        prox = l1_prox(optimizer, model.coef)
        l1 = member_column(self.l1, model.coef)

        def post(scale):
            prox(l1 * scale)

        return post


class LpPenalty(Regularizer):
    r"""Lp penalty on the connection weights, ``p >= 1`` or ``p = inf``.

    .. math::

        \alpha P(w) = \frac{\alpha}{p} \sum_i |w_i|^p \quad (p < \infty), \qquad
        \alpha P(w) = \alpha \max_i |w_i| \quad (p = \infty)

    per member, in the gradient: ``alpha sign(w) |w|^(p - 1)``; for
    ``p = inf`` the subgradient ``alpha sign(w_i)`` on the weights of largest
    magnitude, shared equally between ties, 0 elsewhere.
    """

    params = (
        Param("p", 2.0, [Interval(Real, 1, None, closed="left"), Options(Real, {np.inf})], """\
p : float, default=2.0
    Exponent of ``penalty='lp'``, ``p >= 1`` or ``np.inf``."""),
    )

    def __init__(self, alpha, p):
        self.alpha = float(np.max(alpha))
        self.p = float(p)

    @classmethod
    def from_config(cls, config):
        if config.regularization["penalty"] != "lp" or not np.any(config.alpha > 0):
            return None
        return cls(config.alpha, cls.setting(config, "p"))

    @property
    def smooth(self):
        return 1 < self.p < math.inf

    def describe(self):
        return f"penalty='lp' with p={self.p}"

    @staticmethod
    def penalty(w, alpha, p, dim=None):
        """``alpha / p * sum |w|^p`` (``alpha * max |w|`` for ``p = inf``) over ``dim``.

        ``dim=None`` reduces every axis. The skorch callbacks use it too.
        """
        if math.isinf(p):
            return alpha * w.abs().amax(dim)
        return (alpha / p) * w.abs().pow(p).sum(dim)

    @staticmethod
    def gradient_(grad, w, coef, p, top=None, count=None):
        """``grad += coef * dP/dw`` in place: ``sign(w) |w|^(p - 1)``.

        For ``p = inf``, ``sign(w_i) / m`` on the ``m`` weights of largest
        magnitude ``top``, 0 elsewhere; ``top`` and ``count`` (``m``) are
        each row's (last axis) unless given, for a maximum over several
        tensors.
        """
        if math.isinf(p):
            magnitude = w.abs()
            if top is None:
                top = magnitude.amax(-1, keepdim=True)
            is_top = magnitude == top
            if count is None:
                count = is_top.sum(-1, keepdim=True)
            return _add_scaled_(grad, torch.sign(w) * is_top / count, coef)
        if p == 1:
            return _add_scaled_(grad, torch.sign(w), coef)
        return _add_scaled_(grad, torch.sign(w) * w.abs().pow(p - 1), coef)

    def value(self, model):
        return self.penalty(model.coef, self.alpha, self.p, dim=1)

    gradient_value = value

    def add_grad_(self, grad, w, scale):
        self.gradient_(grad, w, self.alpha * scale, self.p)


class GroupLasso(Regularizer):
    r"""Group lasso on the input layer: one group per input feature.

    .. math::

        \alpha_g P_g(W_1) = \alpha_g \sum_j \| W_1[j, :] \|_2

    where row ``j`` of the first weight matrix holds feature ``j``'s outgoing
    weights. It is applied as the proximal (block soft-threshold) step
    ``W_1[j, :] <- W_1[j, :] * max(0, 1 - t_j / ||W_1[j, :]||)`` after each
    optimizer step, with ``t_j = group_alpha * eta_j / S_B`` and ``eta_j``
    the harmonic mean of the step sizes in row ``j`` (not dominated by
    weights into dead units, whose Adam step sizes are near ``lr / eps``),
    so that uninformative features lose all their weights at once and drop
    out of the model exactly.
    """

    smooth = False
    # before the L1 step: a row it removes is not soft-thresholded first
    post_step_order = 10
    params = (
        Param("group_alpha", 0.0, [Interval(Real, 0, None, closed="left")], """\
group_alpha : float, default=0.0
    Group lasso on the input layer, ``group_alpha * sum_j ||W_1[j, :]||_2``
    over the input features ``j``, applied as a proximal block
    soft-threshold after each step,
    ``W_1[j, :] <- W_1[j, :] * max(0, 1 - eta_j * group_alpha / (S_B ||W_1[j, :]||))``
    (``eta_j`` the harmonic mean of the row's step sizes): uninformative
    features lose all their weights and leave the model; see
    ``feature_importances_``. The groups are the rows of ``W_1``: with a
    numeric embedding (``numeric_embedding='plr'``, the default) each of a
    feature's embedded inputs is a group of its own, so to select features
    set ``numeric_embedding=None``.""", searchable=True),
    )

    def __init__(self, group_alpha):
        self.group_alpha = float(group_alpha)

    @classmethod
    def from_config(cls, config):
        group_alpha = cls.setting(config, "group_alpha")
        return cls(group_alpha) if group_alpha > 0 else None

    def describe(self):
        return f"group_alpha={self.group_alpha}"

    @staticmethod
    def penalty(G, group_alpha):
        """``group_alpha * sum_j ||G[..., j, :]||_2``: the groups are the rows of ``G``.

        Summed over the rows (the second-last axis); leading axes (members)
        stay. The skorch callbacks use it too.
        """
        return group_alpha * G.norm(dim=-1).sum(-1)

    @staticmethod
    def prox_(G, eta, threshold):
        """Block soft-threshold of the rows of ``G`` at ``eta_j * threshold``, in place.

        ``G[j] <- G[j] * max(0, 1 - eta_j * threshold / ||G[j]||_2)`` with
        ``eta_j`` the harmonic mean of row ``j``'s step sizes (``eta`` a
        tensor shaped like ``G``: weights of dead units, whose Adam step
        sizes are near ``lr / eps``, must not dominate) or the scalar step
        size. ``threshold``: a float or a tensor broadcastable to ``G``'s
        ``(..., rows, 1)`` norms.
        """
        if isinstance(eta, torch.Tensor):
            eta = eta.reciprocal().mean(-1, keepdim=True).reciprocal_()
        norms = G.norm(dim=-1, keepdim=True)
        factor = 1 - eta * threshold / norms.clamp_min(1e-30)
        return G.mul_(factor.clamp_min_(0))

    def value(self, model):
        return self.penalty(model.coef_views()[0], self.group_alpha).reshape(-1)

    def gradient_value(self, model):
        return model.coef.new_zeros(model.n_members)

    def post_step(self, model, optimizer):
        eta = step_sizes(optimizer, model.coef)
        W1 = model.coef_views(model.coef.detach())[0]
        alpha = self.group_alpha

        def post(scale):
            step = eta()
            if isinstance(step, torch.Tensor):
                step = model.coef_views(step)[0]
            threshold = alpha * scale
            if isinstance(threshold, torch.Tensor) and W1.dim() == 3:
                threshold = threshold.view(-1, 1, 1)  # one per member of a stack
            self.prox_(W1, step, threshold)

        return post


class MaxNorm(Regularizer):
    """Max-norm constraint: each unit's incoming weight vector has L2 norm ``<= max_norm``.

    After each optimizer step, column ``j`` of every weight matrix (unit
    ``j``'s incoming weights) is rescaled by ``min(1, max_norm / ||W[:, j]||)``.
    It adds nothing to the objective.
    """

    # last: the projection bounds what the other post-steps leave
    post_step_order = 90
    params = (
        Param("max_norm", None, [Interval(Real, 0, None, closed="neither"), None], """\
max_norm : float or None, default=None
    Max-norm constraint: after each step, each unit's incoming weight
    vector (each column of ``coefs_[k]``; with ``scale_layer``, of the
    stored first matrix, before its scale) is rescaled to L2 norm
    ``<= max_norm`` if it is longer.""", searchable=True),
    )

    def __init__(self, max_norm):
        self.max_norm = float(max_norm)

    @classmethod
    def from_config(cls, config):
        max_norm = cls.setting(config, "max_norm")
        return cls(max_norm) if max_norm else None

    def describe(self):
        return f"max_norm={self.max_norm}"

    @staticmethod
    def project_(W, bound, dim):
        """Rescale ``W`` in place so that its L2 norms over ``dim`` are at most ``bound``.

        Each slice keeps its direction: ``W_i <- W_i * min(1, bound / ||W_i||_2)``.
        The skorch callbacks use it too.
        """
        norms = torch.linalg.vector_norm(W, dim=dim, keepdim=True)
        return W.mul_((bound / norms.clamp_min(1e-30)).clamp_max_(1.0))

    def post_step(self, model, optimizer):
        coefs = model.coef_views(model.coef.detach())
        bound = self.max_norm

        def post(scale):
            for W in coefs:
                self.project_(W, bound, -2)  # each column: a unit's incoming weights

        return post


class InputNoise(Regularizer):
    """Gaussian noise on the inputs of each training batch.

    ``x <- x + N(0, input_noise^2)`` on every numeric input (never the
    codes of embedded categorical columns), drawn anew for every batch;
    applied by the batch transform of :mod:`skreg._engine.noise`.
    """

    smooth = False
    params = (
        Param("input_noise", 0.0, [Interval(Real, 0, None, closed="left")], """\
input_noise : float, default=0.0
    Standard deviation of Gaussian noise added to the inputs of each
    training batch (never at prediction time).""", searchable=True),
    )

    def __init__(self, input_noise):
        self.input_noise = float(input_noise)

    @classmethod
    def from_config(cls, config):
        value = cls.setting(config, "input_noise")
        return cls(value) if value else None

    def describe(self):
        return f"input_noise={self.input_noise}"


class HiddenNoise(Regularizer):
    """Gaussian noise on every hidden activation during training.

    ``a_k <- g(z_k) + N(0, hidden_noise^2)`` before dropout, in the
    hand-written step (:func:`skreg._engine.backward.manual_step`).
    """

    smooth = False
    params = (
        Param("hidden_noise", 0.0, [Interval(Real, 0, None, closed="left")], """\
hidden_noise : float, default=0.0
    Standard deviation of Gaussian noise added to every hidden activation
    during training (never at prediction time).""", searchable=True),
    )

    def __init__(self, hidden_noise):
        self.hidden_noise = float(hidden_noise)

    @classmethod
    def from_config(cls, config):
        value = cls.setting(config, "hidden_noise")
        return cls(value) if value else None

    def describe(self):
        return f"hidden_noise={self.hidden_noise}"


class Mixup(Regularizer):
    """Mixup of each training batch with a permutation of itself.

    Applied by the batch transform of :mod:`skreg._engine.noise`.
    """

    smooth = False
    params = (
        Param("mixup", 0.0, [Interval(Real, 0, None, closed="left")], """\
mixup : float, default=0.0
    Mixup with ``lambda ~ Beta(mixup, mixup)`` drawn per batch: each
    batch is replaced by ``lambda * batch + (1 - lambda) * batch[perm]``
    for a random permutation, inputs, targets (class probabilities for the
    classifier) and sample weights alike. 0 turns it off.""", searchable=True),
    )

    def __init__(self, mixup):
        self.mixup = float(mixup)

    @classmethod
    def from_config(cls, config):
        value = cls.setting(config, "mixup")
        return cls(value) if value else None

    def describe(self):
        return f"mixup={self.mixup}"


class WeightNoise(Regularizer):
    """Gaussian noise on the connection weights of every training step.

    Each step's forward and backward pass run at ``W + N(0, weight_noise^2)``
    (every connection weight; noise drawn anew per step), and the gradient
    found there updates the clean weights (An, 1996); prediction uses the
    clean weights. The hand-written step perturbs ``coef`` in place and
    restores it before the optimizer step.
    """

    smooth = False
    params = (
        Param("weight_noise", 0.0, [Interval(Real, 0, None, closed="left")], """\
weight_noise : float, default=0.0
    Standard deviation of Gaussian noise added to every connection weight
    for each training step: the forward and backward pass run at
    ``W + N(0, weight_noise^2)``, the update is applied to the clean
    weights, and predictions use the clean weights. 0 turns it off.""",
              searchable=True),
    )

    def __init__(self, weight_noise):
        self.weight_noise = float(weight_noise)

    @classmethod
    def from_config(cls, config):
        value = cls.setting(config, "weight_noise")
        return cls(value) if value else None

    def describe(self):
        return f"weight_noise={self.weight_noise}"

    def step_hook(self, model, generator, manual):
        return _WeightNoiseStep(self.weight_noise, model, generator, manual)


class _WeightNoiseStep(StepHook):
    changes_weights = True

    def __init__(self, sigma, model, generator, manual):
        self.sigma, self.model, self.generator, self.manual = sigma, model, generator, manual
        self.block = model.coef.detach()[:, :model.n_layer_weights]
        self.noise = torch.empty_like(self.block)
        self.clean = torch.empty_like(self.block) if manual else None

    def before(self):
        self.noise.normal_(0.0, self.sigma, generator=self.generator)
        if self.manual:
            self.clean.copy_(self.block)
            self.block.add_(self.noise)

    def weights(self, views):
        return [W + e for W, e in zip(views, self.model.coef_views(self.noise))]

    def after(self, grad):
        if self.manual:
            self.block.copy_(self.clean)  # the gradient at W + e updates W


class GradientNoise(Regularizer):
    r"""Annealed Gaussian noise on the gradient (Neelakantan et al., 2015).

    Every step adds ``N(0, sigma_t^2)`` to the gradient of every weight and
    bias (the batch objective's), with

    .. math::

        \sigma_t^2 = \frac{\eta}{(1 + t)^\gamma}

    ``t`` the number of training steps since initialisation (0 at the first;
    the network keeps it in its ``n_steps`` buffer, so warm starts,
    ``partial_fit`` and saved models continue the schedule), ``eta =
    gradient_noise`` and ``gamma = gradient_noise_decay`` (0.55 in the
    paper). The history records each epoch's last ``sigma_t^2`` as
    ``gradient_noise_variance``.
    """

    smooth = False
    params = (
        Param("gradient_noise", 0.0, [Interval(Real, 0, None, closed="left")], """\
gradient_noise : float, default=0.0
    Annealed gradient noise (Neelakantan et al., 2015): each training step
    adds ``N(0, sigma_t^2)`` to the gradient of every weight and bias, with
    ``sigma_t^2 = gradient_noise / (1 + t)^gradient_noise_decay`` and ``t``
    the number of steps since initialisation (0 at the first).
    ``history_`` records each epoch's last ``sigma_t^2`` as
    ``gradient_noise_variance``. 0 turns it off.""", searchable=True),
        Param("gradient_noise_decay", 0.55, [Interval(Real, 0, None, closed="left")], """\
gradient_noise_decay : float, default=0.55
    The exponent ``gamma`` of the gradient noise's schedule (the paper's
    0.55)."""),
    )

    #: ``sigma_t^2`` of the last step (None before any)
    variance = None

    def __init__(self, gradient_noise, gradient_noise_decay=0.55):
        self.gradient_noise = float(gradient_noise)
        self.gradient_noise_decay = float(gradient_noise_decay)

    @classmethod
    def from_config(cls, config):
        value = cls.setting(config, "gradient_noise")
        return cls(value, cls.setting(config, "gradient_noise_decay")) if value else None

    @classmethod
    def model_settings(cls, config):
        return {"count_steps": True} if cls.setting(config, "gradient_noise") else {}

    def describe(self):
        return f"gradient_noise={self.gradient_noise}"

    def variance_at(self, t):
        """``sigma_t^2 = gradient_noise / (1 + t)^gradient_noise_decay``."""
        return self.gradient_noise / (1.0 + t) ** self.gradient_noise_decay

    def step_hook(self, model, generator, manual):
        return _GradientNoiseStep(self, model, generator)

    def history_entries(self):
        return {} if self.variance is None else {"gradient_noise_variance": self.variance}


class _GradientNoiseStep(StepHook):
    def __init__(self, regularizer, model, generator):
        self.regularizer, self.model, self.generator = regularizer, model, generator
        self.counter = getattr(model, "n_steps", None)
        # one read of the count per step function; then counted here
        self.t = 0 if self.counter is None else int(self.counter)
        self.buffers = {}

    def after(self, grad):
        variance = self.regularizer.variance_at(self.t)
        std = math.sqrt(variance)
        for g in (grad, self.model.intercept.grad):
            noise = self.buffers.get(id(g))
            if noise is None or noise.shape != g.shape:
                noise = self.buffers[id(g)] = torch.empty_like(g)
            g.add_(noise.normal_(0.0, std, generator=self.generator))
        self.t += 1
        if self.counter is not None:
            self.counter.fill_(self.t)
        self.regularizer.variance = variance


class L0Gates(Regularizer):
    r"""L0 regularization with hard-concrete gates (Louizos, Welling and Kingma, 2018).

    One gate ``z_j`` per input of the first layer (``gates='features'``:
    row ``j`` of ``W_1`` becomes ``z_j W_1[j, :]``) or per connection weight
    (``'weights'``: ``z_ij w_ij``), with ``log_alpha = GATE_INIT + GATE_RATE
    * v`` and ``v`` stored in the network's ``coef`` (initially 0: every gate
    open; see :mod:`skreg._engine.model`). A training step draws
    ``u ~ U(0, 1)`` per gate and uses

    .. math::

        s = \mathrm{sigmoid}\big((\log u - \log(1 - u) + \log\alpha) / \beta\big), \quad
        z = \min(1, \max(0, s (\zeta - \gamma) + \gamma))

    (``beta = 2/3``, ``gamma = -0.1``, ``zeta = 1.1``), and the objective
    gains the expected number of open gates, scaled as ``alpha``:

    .. math::

        \lambda \sum_j \mathrm{sigmoid}\big(\log\alpha_j - \beta \log(-\gamma / \zeta)\big)

    (``lambda = l0_alpha``, per batch divided by ``S_B``). Prediction uses
    the deterministic gates ``clip(sigmoid(log_alpha) (zeta - gamma) +
    gamma, 0, 1)``, exactly 0 for ``log_alpha <= -log(11)``: ``coefs_`` and
    ``feature_importances_`` show the closed gates as exact zeros. The
    hand-written step gates the stored weights in place and splits the
    gradient ``G`` of the gated weights: ``dJ/dW = z G``, ``dJ/dv = (dz/dv)
    G W`` (summed over a row for feature gates).
    """

    smooth = False
    params = (
        Param("l0_alpha", 0.0, [Interval(Real, 0, None, closed="left")], f"""\
l0_alpha : float, default=0.0
    Strength ``lambda`` of L0 regularization with hard-concrete gates
    (Louizos, Welling and Kingma, 2018) on the inputs or the weights (see
    ``l0_gates``): each gate ``z = clip(s (zeta - gamma) + gamma, 0, 1)``,
    ``s = sigmoid((log u - log(1 - u) + log_alpha) / beta)`` with
    ``u ~ U(0, 1)`` drawn per step (``beta, gamma, zeta = 2/3, -0.1, 1.1``),
    multiplies what it gates during training, and each batch adds
    ``lambda * sum_j sigmoid(log_alpha_j - beta log(-gamma / zeta)) / S_B``
    (the expected number of open gates, scaled as ``alpha``). Predictions
    use ``clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``, exactly 0
    for a closed gate, which ``coefs_`` and ``feature_importances_`` show.
    ``log_alpha = {GATE_INIT:g} + {GATE_RATE:g} v`` with ``v`` learned, initially 0 (every
    gate open), and penalised with the weights (``penalty`` pulls it back
    towards 0). 0 turns it off.""",
              searchable=True),
        Param("l0_gates", "features", [StrOptions({"features", "weights"})], """\
l0_gates : {'features', 'weights'}, default='features'
    What the L0 gates of ``l0_alpha`` act on: 'features', one gate per
    input of the first layer (its row of ``coefs_[0]``), which selects
    features; 'weights', one gate per connection weight, which prunes
    weights."""),
    )

    def __init__(self, l0_alpha, gates="features", n_gates=None):
        self.l0_alpha = float(l0_alpha)
        self.gates = gates
        #: the gates are the last ``n_gates`` entries of ``coef``
        self.n_gates = n_gates

    @classmethod
    def from_config(cls, config):
        value = cls.setting(config, "l0_alpha")
        if not value:
            return None
        gates = cls.setting(config, "l0_gates")
        return cls(value, gates, StackedMLP.gate_count(config.layer_sizes, gates))

    @classmethod
    def model_settings(cls, config):
        return {"gates": cls.setting(config, "l0_gates")} if cls.setting(
            config, "l0_alpha") else {}

    def describe(self):
        return f"l0_alpha={self.l0_alpha}"

    @staticmethod
    def open_probability(v):
        """``P(z != 0) = sigmoid(log_alpha - beta log(-gamma / zeta))`` of each gate."""
        shift = GATE_INIT - GATE_BETA * math.log(-GATE_GAMMA / GATE_ZETA)
        return torch.sigmoid(GATE_RATE * v + shift)

    def value(self, model):
        return self.l0_alpha * self.open_probability(model.coef[:, model.gate_slice]).sum(1)

    gradient_value = value

    def add_grad_(self, grad, w, scale):
        p = self.open_probability(w[:, -self.n_gates:])
        # d/dv lambda sigmoid(GATE_RATE v + shift) = lambda GATE_RATE p (1 - p)
        _add_scaled_(grad[:, -self.n_gates:], p.mul_(1 - p), self.l0_alpha * GATE_RATE * scale)

    def step_hook(self, model, generator, manual):
        return _GateStep(model, generator, manual)


#: the uniform draws of the gates stay in ``[U_EPS, 1 - U_EPS]`` (finite logits)
U_EPS = 1e-6


class _GateStep(StepHook):
    changes_weights = True

    def __init__(self, model, generator, manual):
        self.model, self.generator, self.manual = model, generator, manual
        coef = model.coef.detach()
        self.v = coef[:, model.gate_slice]
        self.u = torch.empty_like(self.v)
        self.features = model.gates == "features"
        sizes = model.layer_sizes
        if manual:
            # the gated weights: the first matrix's rows, or every weight
            n = sizes[0] * sizes[1] if self.features else model.n_layer_weights
            self.block = coef[:, :n]
            self.clean = torch.empty_like(self.block)
            self.shape = (model.n_members, sizes[0], sizes[1]) if self.features else None

    def before(self):
        self.u.uniform_(generator=self.generator).clamp_(U_EPS, 1 - U_EPS)
        if not self.manual:
            return
        self.z, self.dz = hard_concrete(self.v, self.u, derivative=True)
        self.clean.copy_(self.block)
        if self.features:
            self.block.view(self.shape).mul_(self.z.unsqueeze(-1))
        else:
            self.block.mul_(self.z)

    def weights(self, views):
        return self.model.gated(views, self.model.gate_values(noise=self.u))

    def after(self, grad):
        if not self.manual:
            return
        G = grad[:, :self.block.shape[1]]  # dJ/d(gated weights)
        if self.features:
            G = G.view(self.shape)
            dz = (G * self.clean.view(self.shape)).sum(-1)
            G.mul_(self.z.unsqueeze(-1))
        else:
            dz = G * self.clean
            G.mul_(self.z)
        grad[:, self.model.gate_slice] = dz.mul_(self.dz)
        self.block.copy_(self.clean)


#: every regularizer, in the order its parameters are documented; the
#: post-steps run in ``post_step_order`` (the group lasso before the L1
#: step, the max-norm projection last: it bounds the result), and the step
#: hooks in this order (weight noise before the gates: the noise is on the
#: stored weights, which the gates then multiply)
REGULARIZERS = (ElasticNet, LpPenalty, GroupLasso, MaxNorm, InputNoise, HiddenNoise, Mixup,
                WeightNoise, GradientNoise, L0Gates)


def regularizer_params():
    """Every regularizer's :class:`Param`, in :data:`REGULARIZERS` order."""
    return tuple(param for cls in REGULARIZERS for param in cls.params)


def default_regularization():
    """``{name: default}`` of every regularizer parameter (all of them off but 'l2')."""
    return {param.name: param.default for param in regularizer_params()}


def model_settings(config):
    """The :class:`~skreg._engine.model.StackedMLP` keywords ``config``'s regularizers need."""
    settings = {}
    for cls in REGULARIZERS:
        settings.update(cls.model_settings(config))
    return settings


def build_regularizers(config):
    """The regularizers that ``config``'s parameters turn on, in post-step order."""
    ordered = sorted(REGULARIZERS, key=lambda cls: cls.post_step_order)
    built = (cls.from_config(config) for cls in ordered)
    return [r for r in built if r is not None]
