"""Losses over the network's raw outputs ``z``, one object per ``loss`` string.

Every loss works on any number of leading member axes: ``z`` is ``(n, K)``
for one network or ``(C, n, K)`` for a stack of ``C``. A loss gives

* :meth:`Loss.targets`: the training targets from the encoded ``y``
  (smoothed class probabilities, indicator rows, or the values);
* :meth:`Loss.value_and_grad`: the per-row losses ``l_i`` and
  ``dl_i / dz_i``, from which the engine's hand-written backward pass
  starts, in as few tensor operations as possible;
* :meth:`Loss.value`: the same losses through autograd (batch norm, L-BFGS);
* :meth:`Loss.predict`: the output activation (probabilities, the mean);
* :meth:`Loss.score`: the weighted score early stopping monitors
  (accuracy, or R^2 averaged over outputs), per member;
* :meth:`Loss.average`: an ensemble's prediction, the mean of its members'
  predictions, as raw outputs again.

``LOSSES`` maps the names the estimators accept to the classes. A new loss
is one class here and one entry in ``LOSSES`` (and the estimator's ``loss``
constraint).
"""

import math

import torch
from torch.nn import functional as F


def _weighted_mean(values, w):
    """``sum_i w_i v_i / sum_i w_i`` over the row axis (``v`` is ``(..., n)``)."""
    return (values * w).sum(-1) / w.sum(-1)


class Loss:
    """Base class: a loss ``l_i(z_i, t_i)`` of row ``i`` and its output activation."""

    #: name of the output activation, as scikit-learn's ``out_activation_``
    out_activation = "identity"
    #: factor of the per-row loss in the reported ``loss_curve_``
    report_factor = 1.0

    def targets(self, y, dtype, smoothing=0.0):
        """Training targets ``t`` in ``dtype`` from encoded ``y`` (tensor)."""
        return y.to(dtype)

    def predict(self, z):
        """Predictions from raw outputs ``z`` (no autograd)."""
        return z

    def value(self, z, t):
        """Per-row losses, differentiable (autograd)."""
        return self.value_and_grad(z, t)[0]

    def link(self, p):
        """Raw outputs whose prediction is ``p``: the inverse of :meth:`predict`."""
        return p

    def average(self, z):
        """Raw outputs of an ensemble: ``link(mean_m predict(z_m))`` over axis 0.

        An ensemble averages its members' probabilities (classification) or
        predicted means (regression), as TabM and scikit-learn's voting
        ensembles do, not their logits.
        """
        return self.link(self.predict(z).mean(0))

    def value_and_grad(self, z, t):
        """Per-row losses ``(..., n)`` and ``dl/dz`` shaped like ``z``."""
        raise NotImplementedError


class LogLoss(Loss):
    r"""Cross-entropy of a softmax over ``K >= 3`` classes.

    ``l_i = -sum_k t_ik log softmax(z_i)_k`` with gradient ``p_i - t_i``.
    With label smoothing ``eps`` the targets are ``1 - eps`` on the true
    class and ``eps / (K - 1)`` on each of the others.
    """

    out_activation = "softmax"

    def __init__(self, n_classes):
        self.n_classes = n_classes

    def targets(self, y, dtype, smoothing=0.0):
        """Smoothed one-hot rows ``(..., n, K)`` from class indices ``y``.

        ``smoothing`` is a float or a tensor of shape ``(C, 1, 1)``: one
        ``eps`` per member.
        """
        one_hot = F.one_hot(y, self.n_classes).to(dtype)
        off = smoothing / (self.n_classes - 1)
        return one_hot * (1 - smoothing - off) + off

    def predict(self, z):
        return torch.softmax(z, dim=-1)

    def link(self, p):
        # log of a probability: softmax(log p) = p; 0 stays -inf-safe
        return torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))

    def value_and_grad(self, z, t):
        log_p = torch.log_softmax(z, dim=-1)
        return -(t * log_p).sum(-1), log_p.exp_().sub_(t)

    def value(self, z, t):
        return -(t * torch.log_softmax(z, dim=-1)).sum(-1)

    def score(self, z, y, w):
        """Weighted accuracy: ``sum_i w_i [argmax z_i = y_i] / sum_i w_i``."""
        return _weighted_mean((z.argmax(-1) == y).to(w.dtype), w)


class BinaryLogLoss(Loss):
    r"""Logistic loss of ``K`` independent sigmoid outputs.

    ``l_i = sum_k softplus(z_ik) - t_ik z_ik``, i.e.
    ``-t log sigma(z) - (1 - t) log(1 - sigma(z))`` summed over the outputs,
    with gradient ``sigma(z) - t``. One output is binary classification
    (smoothed targets ``1 - eps`` and ``eps``); several outputs are
    multilabel classification, as scikit-learn's ``MLPClassifier`` does it.
    """

    out_activation = "logistic"

    def __init__(self, n_outputs=1):
        self.n_outputs = n_outputs

    def _columns(self, y):
        """0/1 labels as ``(..., n, K)``: one output's labels are ``(n,)`` or ``(C, n)``."""
        if y.dim() == 1 or (self.n_outputs == 1 and y.shape[-1] != 1):
            return y.unsqueeze(-1)
        return y

    def targets(self, y, dtype, smoothing=0.0):
        """``(..., n, K)`` targets from 0/1 labels ``y`` (``(n,)``, ``(C, n)`` or ``(n, K)``)."""
        t = self._columns(y).to(dtype)
        return t * (1 - 2 * smoothing) + smoothing

    def predict(self, z):
        return torch.sigmoid(z)

    def link(self, p):
        tiny = torch.finfo(p.dtype).tiny
        return torch.log(p.clamp_min(tiny)) - torch.log1p(-p).clamp_min(math.log(tiny))

    def value_and_grad(self, z, t):
        losses = F.softplus(z).sub_(t * z)
        return losses.sum(-1), torch.sigmoid(z).sub_(t)

    def value(self, z, t):
        return (F.softplus(z) - t * z).sum(-1)

    def score(self, z, y, w):
        """Weighted accuracy; with several labels, of the whole row (subset accuracy)."""
        pred = (z > 0)
        y = self._columns(y)
        hit = (pred == y.to(torch.bool)).all(-1)
        return _weighted_mean(hit.to(w.dtype), w)


def _r2(pred, y, w):
    """Weighted R^2 per output, averaged over outputs, as ``r2_score``.

    ``pred`` is ``(..., n, K)``, ``y`` ``(n, K)`` and ``w`` ``(..., n)``.
    A constant target scores 1 when fitted exactly and 0 otherwise.
    """
    wk = w.unsqueeze(-1)
    total = wk.sum(-2, keepdim=True)
    mean = (wk * y).sum(-2, keepdim=True) / total
    ss_res = (wk * (y - pred) ** 2).sum(-2)
    ss_tot = (wk * (y - mean) ** 2).sum(-2)
    r2 = torch.where(ss_tot > 0, 1 - ss_res / ss_tot.clamp_min(1e-30),
                     (ss_res == 0).to(pred.dtype))
    return r2.mean(-1)


class SquaredError(Loss):
    r"""Half squared error, scikit-learn's MLP regression loss.

    ``l_i = 1/2 sum_k (z_ik - y_ik)^2`` with gradient ``z_i - y_i``. As in
    scikit-learn, the value reported in ``loss_curve_`` is divided by the
    number of outputs ``K`` (:attr:`report_factor`), while the gradient
    is that of the sum, so one step from the same weights equals
    ``MLPRegressor``'s for any ``K``.
    """

    def __init__(self, n_outputs=1):
        self.n_outputs = n_outputs
        self.report_factor = 1.0 / n_outputs

    def value_and_grad(self, z, t):
        diff = z - t
        return 0.5 * (diff * diff).sum(-1), diff

    def score(self, z, y, w):
        """Weighted R^2, averaged over the outputs."""
        return _r2(z, y, w)


class PoissonLoss(Loss):
    r"""Half Poisson deviance with a log link (scikit-learn's ``loss='poisson'``).

    The prediction is ``mu = exp(z)``;
    ``l_i = sum_k exp(z_ik) - y_ik z_ik`` (the deviance without its
    constant ``y log y - y``), with gradient ``exp(z) - y``. The targets
    must be non-negative.
    """

    out_activation = "exp"

    def __init__(self, n_outputs=1):
        self.n_outputs = n_outputs
        self.report_factor = 1.0

    def predict(self, z):
        return torch.exp(z)

    def link(self, p):
        return torch.log(p)

    def value_and_grad(self, z, t):
        mu = torch.exp(z)
        return (mu - t * z).sum(-1), mu.sub_(t)

    def value(self, z, t):
        return (torch.exp(z) - t * z).sum(-1)

    def score(self, z, y, w):
        """Weighted R^2 of ``exp(z)``, averaged over the outputs."""
        return _r2(torch.exp(z), y, w)


LOSSES = {
    "log_loss": LogLoss,
    "binary_log_loss": BinaryLogLoss,
    "squared_error": SquaredError,
    "poisson": PoissonLoss,
}
