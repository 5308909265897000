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

and ``smooth`` says whether L-BFGS can minimise it. :data:`REGULARIZERS`
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

    def value(self, model, l1=True, l2=True):
        w = model.coef
        out = w.new_zeros(w.shape[0])
        if l1 and np.any(self.l1 > 0):
            out = out + torch.as_tensor(self.l1, dtype=w.dtype, device=w.device) * w.abs().sum(1)
        if l2 and np.any(self.l2 > 0):
            out = out + 0.5 * torch.as_tensor(self.l2, dtype=w.dtype, device=w.device) \
                * (w * w).sum(1)
        return out

    def gradient_value(self, model):
        """The part of :meth:`value` that enters the gradient (autograd steps)."""
        return self.value(model, l1=self.l1_method == "subgradient",
                          l2=not self.decoupled_l2)

    def add_grad_(self, grad, w, scale):
        l1, l2 = self._strengths(w)
        if l2 is not None and not self.decoupled_l2 and not self.l2_in_optimizer:
            if isinstance(l2, float) and isinstance(scale, float):
                grad.add_(w, alpha=l2 * scale)
            else:
                grad.addcmul_(w, l2 * scale)
        if l1 is not None and self.l1_method == "subgradient":
            grad.add_(torch.sign(w).mul_(l1 * scale))

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

    def value(self, model):
        w = model.coef
        if math.isinf(self.p):
            return self.alpha * w.abs().amax(1)
        return (self.alpha / self.p) * w.abs().pow(self.p).sum(1)

    gradient_value = value

    def add_grad_(self, grad, w, scale):
        if math.isinf(self.p):
            magnitude = w.abs()
            top = magnitude == magnitude.amax(1, keepdim=True)
            grad.add_(torch.sign(w) * top / top.sum(1, keepdim=True), alpha=self.alpha * scale)
        elif self.p == 1:
            grad.add_(torch.sign(w), alpha=self.alpha * scale)
        else:
            grad.add_(torch.sign(w) * w.abs().pow(self.p - 1), alpha=self.alpha * scale)


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
    ``feature_importances_``.""", searchable=True),
    )

    def __init__(self, group_alpha):
        self.group_alpha = float(group_alpha)

    @classmethod
    def from_config(cls, config):
        group_alpha = cls.setting(config, "group_alpha")
        return cls(group_alpha) if group_alpha > 0 else None

    def describe(self):
        return f"group_alpha={self.group_alpha}"

    def value(self, model):
        W1 = model.coef_views()[0]
        return self.group_alpha * W1.norm(dim=-1).sum(-1).reshape(-1)

    def gradient_value(self, model):
        return model.coef.new_zeros(model.n_members)

    def post_step(self, model, optimizer):
        eta = step_sizes(optimizer, model.coef)
        W1 = model.coef_views(model.coef.detach())[0]
        alpha = self.group_alpha

        def post(scale):
            step = eta()
            if isinstance(step, torch.Tensor):
                # harmonic mean over the row: weights of dead units have
                # near-infinite Adam step sizes (lr / eps) and must not dominate
                step = model.coef_views(step)[0].reciprocal().mean(-1, keepdim=True)
                step = step.reciprocal_()
            norms = W1.norm(dim=-1, keepdim=True)
            factor = 1 - step * (alpha * scale) / norms.clamp_min(1e-30)
            W1.mul_(factor.clamp_min_(0))

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

    def post_step(self, model, optimizer):
        coefs = model.coef_views(model.coef.detach())
        bound = self.max_norm

        def post(scale):
            for W in coefs:
                norms = torch.linalg.vector_norm(W, dim=-2, keepdim=True)
                W.mul_((bound / norms.clamp_min(1e-30)).clamp_max_(1.0))

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


#: every regularizer, in the order its parameters are documented; the
#: post-steps run in ``post_step_order`` (the group lasso before the L1
#: step, the max-norm projection last: it bounds the result)
REGULARIZERS = (ElasticNet, LpPenalty, GroupLasso, MaxNorm, InputNoise, HiddenNoise, Mixup)


def regularizer_params():
    """Every regularizer's :class:`Param`, in :data:`REGULARIZERS` order."""
    return tuple(param for cls in REGULARIZERS for param in cls.params)


def default_regularization():
    """``{name: default}`` of every regularizer parameter (all of them off but 'l2')."""
    return {param.name: param.default for param in regularizer_params()}


def build_regularizers(config):
    """The regularizers that ``config``'s parameters turn on, in post-step order."""
    ordered = sorted(REGULARIZERS, key=lambda cls: cls.post_step_order)
    built = (cls.from_config(config) for cls in ordered)
    return [r for r in built if r is not None]
