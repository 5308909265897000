"""Weight penalties and constraints, defined once and shared by every estimator.

A penalty acts on the flat vector ``w`` of all connection weights (never the
biases, as in scikit-learn). The engine adds ``alpha * P(w) / S_B`` to the
mean loss of a batch whose sample weights sum to ``S_B`` (``S_B`` is the batch
size when there are no sample weights), which is scikit-learn's MLP
convention: over an epoch it is the objective ``sum_i s_i l_i + alpha P(w)``
divided by the total weight.

Smooth parts enter the gradient; non-smooth parts (the L1 norm, the group
lasso) can instead be applied as proximal steps after each optimizer step,
which sets weights (or whole rows) exactly to zero. A proximal step takes the
per-weight step size ``eta`` of the step just made (``lr`` for SGD,
``lr / sqrt(v_hat)`` for Adam, see
:func:`skreg._torch.optim.step_sizes`).
"""

import math

import torch


def soft_threshold_(w, threshold):
    """``w <- sign(w) * max(|w| - threshold, 0)`` in place (threshold scalar or tensor)."""
    if isinstance(threshold, torch.Tensor):
        return w.sub_(torch.clamp(w, torch.neg(threshold), threshold))
    return w.sub_(w.clamp(-threshold, threshold))


class ElasticNetPenalty:
    r"""Elastic-net penalty on the connection weights.

    .. math::

        P(w) = \rho \, \|w\|_1 + \frac{1 - \rho}{2} \, \|w\|_2^2

    with ``rho = l1_ratio``; ``l1_ratio=0`` is the L2 penalty (scikit-learn's
    ``alpha``), ``l1_ratio=1`` is the L1 penalty.

    Parameters
    ----------
    alpha : float
        Strength, ``alpha >= 0``.
    l1_ratio : float
        Mixing parameter ``rho`` in ``[0, 1]``.

    Attributes
    ----------
    l1 : float
        ``alpha * l1_ratio``, the coefficient of ``||w||_1``.
    l2 : float
        ``alpha * (1 - l1_ratio)``, the coefficient of ``||w||_2^2 / 2``.
    """

    smooth = property(lambda self: self.l1 == 0)

    def __init__(self, alpha, l1_ratio):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)
        self.l1 = self.alpha * self.l1_ratio
        self.l2 = self.alpha * (1.0 - self.l1_ratio)

    def _sign_buffer(self, w):
        # reused across steps: the sign of a large weight vector is not
        # allocated anew on every batch
        buffer = getattr(self, "_buffer", None)
        if buffer is None or buffer.shape != w.shape or buffer.dtype != w.dtype \
                or buffer.device != w.device:
            buffer = self._buffer = torch.empty_like(w)
        return buffer

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_buffer", None)
        return state

    def __bool__(self):
        return self.alpha > 0

    def value(self, w, l1=True, l2=True):
        """``alpha * P(w)`` as a 0-d tensor (differentiable; no host sync).

        ``l1=False`` / ``l2=False`` leave out that part (the part applied by
        a proximal step or by decoupled weight decay).
        """
        out = w.new_zeros(())
        if self.l1 and l1:
            out = out + self.l1 * w.abs().sum()
        if self.l2 and l2:
            out = out + (0.5 * self.l2) * torch.dot(w, w)
        return out

    def add_grad_(self, grad, w, scale, l1=True, l2=True):
        """Add ``scale * alpha * dP/dw`` to ``grad`` in place.

        The L1 part uses the subgradient ``sign(w)`` (0 at 0). ``l1=False``
        leaves it to :meth:`prox_`; ``l2=False`` leaves the L2 part to an
        optimizer that applies it as decoupled weight decay.
        """
        if self.l1 and l1:
            grad.add_(torch.sign(w, out=self._sign_buffer(w)), alpha=self.l1 * scale)
        if self.l2 and l2:
            grad.add_(w, alpha=self.l2 * scale)
        return grad

    def prox_(self, w, step_size, scale):
        """Proximal step of the L1 part: soft-threshold ``w`` at ``step_size * l1 * scale``.

        A tensor ``step_size`` is scaled in place (it is a scratch buffer).
        """
        if self.l1:
            if isinstance(step_size, torch.Tensor):
                soft_threshold_(w, step_size.mul_(self.l1 * scale))
            else:
                soft_threshold_(w, step_size * self.l1 * scale)
        return w


class LpPenalty:
    r"""Lp penalty on the connection weights, ``p >= 1`` or ``p = inf``.

    .. math::

        P(w) = \frac{1}{p} \sum_i |w_i|^p \quad (p < \infty), \qquad
        P(w) = \max_i |w_i| \quad (p = \infty)

    ``p=2`` is the L2 penalty and ``p=1`` the L1 penalty (as a subgradient);
    larger ``p`` punishes the largest weights more and leaves small ones
    alone, ``p = inf`` only the largest. The gradient is
    ``sign(w) |w|^(p - 1)``; for ``p = inf`` the subgradient
    ``sign(w_i)`` on the weights of largest magnitude, shared equally
    between ties, 0 elsewhere.

    Parameters
    ----------
    alpha : float
        Strength.
    p : float
        Exponent, ``p >= 1`` or ``math.inf``.
    """

    def __init__(self, alpha, p):
        self.alpha = float(alpha)
        self.p = float(p)
        self.l1 = 0.0

    smooth = property(lambda self: 1 < self.p < math.inf)

    def __bool__(self):
        return self.alpha > 0

    def value(self, w, l1=True, l2=True):
        """``alpha * P(w)`` as a 0-d tensor (differentiable)."""
        if math.isinf(self.p):
            return self.alpha * w.abs().max()
        return (self.alpha / self.p) * w.abs().pow(self.p).sum()

    def add_grad_(self, grad, w, scale, l1=True, l2=True):
        """Add ``scale * alpha * dP/dw`` to ``grad`` in place."""
        if math.isinf(self.p):
            magnitude = w.abs()
            top = magnitude == magnitude.max()
            grad.add_(torch.sign(w) * top, alpha=self.alpha * scale / top.sum().item())
        elif self.p == 1:
            grad.add_(torch.sign(w), alpha=self.alpha * scale)
        else:
            grad.add_(torch.sign(w) * w.abs().pow(self.p - 1), alpha=self.alpha * scale)
        return grad

    def prox_(self, w, step_size, scale):
        """No proximal part: the whole penalty is in the gradient."""
        return w


class GroupLassoPenalty:
    r"""Group lasso on the input layer: one group per input feature.

    .. math::

        P_g(W_1) = \sum_j \| W_1[j, :] \|_2

    where row ``j`` of the first weight matrix holds feature ``j``'s outgoing
    weights. It is applied as the proximal (block soft-threshold) step
    ``W_1[j, :] <- W_1[j, :] * max(0, 1 - t_j / ||W_1[j, :]||)`` after each
    optimizer step, with ``t_j = group_alpha * eta_j / S_B`` and ``eta_j``
    the harmonic mean of the step sizes in row ``j`` (not dominated by
    weights into dead units, whose Adam step sizes are near ``lr / eps``), so
    that uninformative features lose all
    their weights at once and drop out of the model exactly.

    Parameters
    ----------
    group_alpha : float
        Strength.
    """

    def __init__(self, group_alpha):
        self.group_alpha = float(group_alpha)

    def __bool__(self):
        return self.group_alpha > 0

    def value(self, W1):
        """``group_alpha * P_g(W_1)`` as a 0-d tensor."""
        return self.group_alpha * W1.norm(dim=1).sum()

    def prox_(self, W1, step_size, scale):
        """Block soft-threshold of the rows of ``W1`` in place."""
        if isinstance(step_size, torch.Tensor):
            # harmonic mean: weights of dead units have near-infinite Adam
            # step sizes (lr / eps) and must not dominate the row's step
            step_size = step_size.reciprocal().mean(dim=1, keepdim=True).reciprocal_()
        norms = W1.norm(dim=1, keepdim=True)
        factor = (1 - step_size * (self.group_alpha * scale) / norms.clamp_min(1e-30))
        return W1.mul_(factor.clamp_min_(0))


def make_penalty(penalty, alpha, l1_ratio, p=2.0):
    """Build the penalty named by an estimator's ``penalty`` parameter.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet', 'lp'} or None
        ``'l2'`` is ``l1_ratio=0``, ``'l1'`` is ``l1_ratio=1``,
        ``'elasticnet'`` uses ``l1_ratio``, ``'lp'`` uses ``p``; None is no
        penalty.
    alpha : float
        Strength.
    l1_ratio : float
        Used by ``'elasticnet'`` only.
    p : float, default=2.0
        Used by ``'lp'`` only.

    Returns
    -------
    ElasticNetPenalty or LpPenalty
        Falsy when there is nothing to penalize.
    """
    if penalty is None:
        return ElasticNetPenalty(0.0, 0.0)
    if penalty == "lp":
        return LpPenalty(alpha, p)
    ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
    return ElasticNetPenalty(alpha, ratio)
