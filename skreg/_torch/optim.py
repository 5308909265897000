"""Optimizer steps with the least per-step overhead.

``torch.optim.Adam.step`` spends about 10x longer in Python (hooks, profiler
records, state checks, tensor grouping) than in its fused kernel, which
dominates a training step on small tabular batches. :class:`FusedAdamStep`
calls torch's fused Adam/AdamW kernel directly on the optimizer's own state
(the ``step``, ``exp_avg`` and ``exp_avg_sq`` tensors of its ``state_dict``),
reading ``lr`` and the other hyperparameters from ``param_groups`` on every
call, so learning-rate schedulers and ``state_dict`` round trips behave as
with ``optimizer.step()``. Every other optimizer uses its own ``step``.
"""

import math

import torch


def _fast_path_supported(optimizer):
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW):
        return False
    kernels = ("_fused_adam_", "_fused_adamw_", "_foreach_add_")
    if not all(hasattr(torch, k) for k in kernels):
        return False
    return all(
        group.get("fused") and not group.get("amsgrad") and not group.get("maximize")
        and not group.get("capturable") and not group.get("differentiable")
        for group in optimizer.param_groups)


class FusedAdamStep:
    """``optimizer.step()`` for a fused Adam/AdamW, without its Python overhead.

    Parameters
    ----------
    optimizer : torch.optim.Adam or torch.optim.AdamW
        Built with ``fused=True``; gradients must be in ``p.grad``.
    """

    def __init__(self, optimizer):
        self.optimizer = optimizer
        decoupled = isinstance(optimizer, torch.optim.AdamW) or any(
            g.get("decoupled_weight_decay") for g in optimizer.param_groups)
        self.kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
        self.groups = []
        for group in optimizer.param_groups:
            params = list(group["params"])
            states = [self._state(p) for p in params]
            self.groups.append((group, params, [p.grad for p in params],
                                [s["exp_avg"] for s in states],
                                [s["exp_avg_sq"] for s in states],
                                [s["step"] for s in states]))

    def _state(self, p):
        # the layout torch.optim.Adam(fused=True) creates on its first step
        state = self.optimizer.state[p]
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def __call__(self):
        for group, params, grads, exp_avgs, exp_avg_sqs, steps in self.groups:
            beta1, beta2 = group["betas"]
            torch._foreach_add_(steps, 1)
            self.kernel(params, grads, exp_avgs, exp_avg_sqs, [], steps,
                        lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                        weight_decay=group["weight_decay"], eps=group["eps"],
                        amsgrad=False, maximize=False, grad_scale=None, found_inf=None)


def step_function(optimizer):
    """The cheapest callable equivalent to ``optimizer.step()``.

    Gradients must already be stored in each parameter's ``.grad`` tensor
    (the same tensor objects on every call).
    """
    if _fast_path_supported(optimizer):
        return FusedAdamStep(optimizer)
    return optimizer.step


def _adam_state(optimizer, param):
    group = next(g for g in optimizer.param_groups if any(p is param for p in g["params"]))
    return group, optimizer.state


def step_sizes(optimizer, param):
    """A callable giving the per-weight step size ``eta`` of the last step.

    Used by proximal steps, which must shrink each weight in proportion to
    how far the optimizer just moved it: for Adam and AdamW Adam's own
    per-weight step ``eta = lr / (sqrt(v / (1 - beta2^t)) + epsilon)``
    (``v`` the second-moment estimate, ``t`` the step count), which is
    ``lr / epsilon`` where a weight has never had a gradient. For other
    optimizers ``lr``.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    param : torch.nn.Parameter
        The parameter whose step sizes are wanted.

    Returns
    -------
    callable
        ``eta()`` returns a tensor shaped like ``param`` (a buffer reused by
        the next call, which callers may scale in place) or a float.
    """
    group, states = _adam_state(optimizer, param)
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
        buffer = {}

        def eta():
            v = states[param]["exp_avg_sq"]
            out = buffer.get("eta")
            if out is None or out.shape != v.shape or out.dtype != v.dtype:
                out = buffer["eta"] = torch.empty_like(v)
            root, _ = _bias_root(group, states[param], v)
            # eta = lr * root / (sqrt(v) + eps * root)
            torch.sqrt(v, out=out).add_(group["eps"] * root)
            return out.reciprocal_().mul_(root * float(group["lr"]))
        return eta
    return lambda: float(group["lr"])


def _bias_root(group, state, v):
    """``sqrt(1 - beta2^t)``: a float on the CPU, a 0-d tensor elsewhere (no sync)."""
    _, beta2 = group["betas"]
    if v.device.type == "cpu":
        # reading the step count costs nothing on the CPU
        return math.sqrt(1.0 - beta2 ** float(state["step"])), True
    return torch.sqrt(1 - torch.pow(beta2, state["step"].to(v.dtype))), False


def l1_prox(optimizer, param):
    """A callable applying the L1 proximal step after each optimizer step.

    ``prox(l1)`` soft-thresholds every weight at ``l1`` times its step size
    ``eta`` (:func:`step_sizes`),
    ``w <- sign(w) * max(|w| - l1 * eta, 0)``, which is the exact minimiser
    of ``||w' - w||^2 / (2 eta) + l1 ||w'||_1`` per weight. For Adam and
    AdamW, ``eta = lr r / s`` with ``r = sqrt(1 - beta2^t)`` and
    ``s = sqrt(v) + epsilon r`` (> 0), so the step is computed as
    ``w <- w - clip(w s, -c, c) / s`` with ``c = l1 lr r``: five
    element-wise passes, against eight for forming ``eta`` and thresholding
    with it.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
    param : torch.nn.Parameter
        The parameter to threshold (in place, without autograd).

    Returns
    -------
    callable
        ``prox(l1)``, ``l1`` a float.
    """
    group, states = _adam_state(optimizer, param)
    w = param.detach()
    if not isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
        def prox_scalar(l1):
            t = l1 * float(group["lr"])
            return w.sub_(w.clamp(-t, t))
        return prox_scalar
    s, tmp = torch.empty_like(w), torch.empty_like(w)
    if w.device.type != "cpu":
        def prox_device(l1):
            state = states[param]
            v = state["exp_avg_sq"]
            root, _ = _bias_root(group, state, v)
            torch.sqrt(v, out=s).add_(group["eps"] * root)
            torch.mul(w, s, out=tmp)
            c = root * (l1 * float(group["lr"]))
            tmp.clamp_(torch.neg(c), c)
            return w.addcdiv_(tmp, s, value=-1)
        return prox_device

    def prox(l1):
        # the CPU form reads the step count directly: this runs every step,
        # and its Python overhead is a fair share of its cost
        state = states[param]
        root = math.sqrt(1.0 - group["betas"][1] ** float(state["step"]))
        torch.sqrt(state["exp_avg_sq"], out=s).add_(group["eps"] * root)
        torch.mul(w, s, out=tmp)
        c = root * (l1 * float(group["lr"]))
        tmp.clamp_(-c, c)
        return w.addcdiv_(tmp, s, value=-1)
    return prox
