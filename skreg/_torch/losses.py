"""Losses as torch modules, each with a fused value-and-gradient method.

``forward`` is the autograd form (per-sample losses, ``reduction='none'``);
``loss_and_grad`` returns their (weighted) sum over a batch together with
``d loss_i / d logits_i``, which the engine's hand-written backward pass
starts from, in as few tensor operations as possible.
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
    def loss_and_grad(self, logits, target, weight=None):
        """``sum_i w_i l_i`` (``w_i = 1`` by default) and ``dl_i / dz_i``."""
        if logits.shape[1] == 1:
            # softplus(z) - t z is the logistic loss, stable for large |z|
            losses = F.softplus(logits).sub_(target * logits)
            total = losses.sum() if weight is None else torch.mm(weight[None], losses)[0, 0]
            return total, torch.sigmoid(logits).sub_(target)
        log_p = F.log_softmax(logits, dim=1)
        if weight is None:
            total = -torch.dot(target.view(-1), log_p.view(-1))
        else:
            total = -torch.dot(weight, (target * log_p).sum(1))
        return total, log_p.exp_().sub_(target)


class HalfSquaredError(nn.Module):
    r"""Half squared error averaged over outputs, scikit-learn's MLP loss.

    ``l_i = 1 / (2 K) * sum_k (z_ik - y_ik)^2`` for ``K`` outputs; its gradient
    is ``(z_i - y_i) / K``.
    """

    def forward(self, pred, target):
        return 0.5 * (pred - target).pow(2).mean(1)

    @torch.no_grad()
    def loss_and_grad(self, pred, target, weight=None):
        """``sum_i w_i l_i`` (``w_i = 1`` by default) and ``dl_i / dpred_i``."""
        diff = pred - target
        k = diff.shape[1]
        if weight is None:
            total = torch.dot(diff.view(-1), diff.view(-1)) * (0.5 / k)
        else:
            total = torch.dot(weight, (diff * diff).sum(1)) * (0.5 / k)
        return total, diff.div_(k) if k > 1 else diff


LOSSES = {"log_loss": SoftTargetCrossEntropy, "squared_error": HalfSquaredError}
