"""Weight penalties, defined once and shared by every estimator.

A penalty acts on the flat vector ``w`` of all connection weights (never the
biases, as in scikit-learn). The engine adds ``alpha * P(w) / S_B`` to the
mean loss of a batch whose sample weights sum to ``S_B`` (``S_B`` is the batch
size when there are no sample weights), which is scikit-learn's MLP
convention: over an epoch it is the objective ``sum_i s_i l_i + alpha P(w)``
divided by the total weight.
"""

import torch


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

    def value(self, w):
        """``alpha * P(w)`` as a 0-d tensor (no host synchronisation)."""
        out = w.new_zeros(())
        if self.l1:
            out = out + self.l1 * w.abs().sum()
        if self.l2:
            out = out + (0.5 * self.l2) * torch.dot(w, w)
        return out

    def add_grad_(self, grad, w, scale, l2=True):
        """Add ``scale * alpha * dP/dw`` to ``grad`` in place.

        The L1 part uses the subgradient ``sign(w)`` (0 at 0). With
        ``l2=False`` the L2 part is left out, for an optimizer that applies it
        as decoupled weight decay instead.
        """
        if self.l1:
            grad.add_(torch.sign(w, out=self._sign_buffer(w)), alpha=self.l1 * scale)
        if self.l2 and l2:
            grad.add_(w, alpha=self.l2 * scale)
        return grad


def make_penalty(penalty, alpha, l1_ratio):
    """Build the penalty named by an estimator's ``penalty`` parameter.

    Parameters
    ----------
    penalty : {'l2', 'l1', 'elasticnet'} or None
        ``'l2'`` is ``l1_ratio=0``, ``'l1'`` is ``l1_ratio=1``,
        ``'elasticnet'`` uses ``l1_ratio``; None is no penalty.
    alpha : float
        Strength.
    l1_ratio : float
        Used by ``'elasticnet'`` only.

    Returns
    -------
    ElasticNetPenalty
        Falsy when there is nothing to penalize.
    """
    if penalty is None:
        return ElasticNetPenalty(0.0, 0.0)
    ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
    return ElasticNetPenalty(alpha, ratio)
