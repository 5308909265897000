"""Losses as torch modules, each with a fused value-and-gradient method.

``forward`` is the autograd form (per-sample losses, ``reduction='none'``);
``loss_and_grad`` returns the same per-sample losses together with
``d loss_i / d logits_i``, which the engine's hand-written backward pass
starts from. Both forms share one formula.
"""

import torch
from torch import nn
from torch.nn import functional as F


class SoftTargetCrossEntropy(nn.Module):
    r"""Cross-entropy against target probabilities.

    For ``K >= 3`` outputs (softmax):
    ``l_i = -sum_k t_ik log softmax(z_i)_k``; for one output (binary,
    logistic): ``l_i = -t_i log sigma(z_i) - (1 - t_i) log(1 - sigma(z_i))``.
    The gradient with respect to the logits is ``p_i - t_i`` in both cases.
    Targets are one-hot rows, or smoothed ones (see
    :class:`skreg.RegularizedMLPClassifier`'s ``label_smoothing``).
    """

    def forward(self, logits, target):
        if logits.shape[1] == 1:
            return F.binary_cross_entropy_with_logits(
                logits, target, reduction="none").sum(1)
        return -(target * F.log_softmax(logits, dim=1)).sum(1)

    @torch.no_grad()
    def loss_and_grad(self, logits, target):
        """Per-sample losses and their gradient with respect to ``logits``."""
        if logits.shape[1] == 1:
            # softplus(z) - t z is the logistic loss, stable for large |z|
            loss = (F.softplus(logits) - target * logits).sum(1)
            return loss, torch.sigmoid(logits).sub_(target)
        log_p = F.log_softmax(logits, dim=1)
        loss = -(target * log_p).sum(1)
        return loss, log_p.exp_().sub_(target)


class HalfSquaredError(nn.Module):
    r"""Half squared error averaged over outputs, scikit-learn's MLP loss.

    ``l_i = 1 / (2 K) * sum_k (z_ik - y_ik)^2`` for ``K`` outputs; its gradient
    is ``(z_i - y_i) / K``.
    """

    def forward(self, pred, target):
        return 0.5 * (pred - target).pow(2).mean(1)

    @torch.no_grad()
    def loss_and_grad(self, pred, target):
        """Per-sample losses and their gradient with respect to ``pred``."""
        diff = pred - target
        loss = (0.5 / diff.shape[1]) * (diff * diff).sum(1)
        return loss, diff.div_(diff.shape[1])


LOSSES = {"log_loss": SoftTargetCrossEntropy, "squared_error": HalfSquaredError}
