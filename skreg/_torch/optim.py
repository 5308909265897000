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


def step_sizes(optimizer, param):
    """A callable giving the per-weight step size ``eta`` of the last step.

    Used by proximal steps, which must shrink each weight in proportion to
    how far the optimizer just moved it: for Adam and AdamW
    ``eta = lr / sqrt(v / (1 - beta2^t))``, Adam's own per-weight step (``v``
    the second-moment estimate, ``t`` the step count) without its
    ``epsilon``, which matters only where ``v < epsilon^2``; there both forms
    give step sizes far beyond any weight (infinite for ``v = 0``, so the
    weight is thresholded to 0). Two operations, no synchronisation on the
    GPU. For other optimizers ``lr``.

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
    group = next(g for g in optimizer.param_groups if any(p is param for p in g["params"]))
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW)):
        buffer = {}

        def eta():
            state = optimizer.state[param]
            v = state["exp_avg_sq"]
            out = buffer.get("eta")
            if out is None or out.shape != v.shape or out.dtype != v.dtype:
                out = buffer["eta"] = torch.empty_like(v)
            _, beta2 = group["betas"]
            torch.rsqrt(v, out=out)
            if v.device.type == "cpu":
                # reading the step count costs nothing on the CPU
                correction = 1.0 - beta2 ** float(state["step"])
                return out.mul_(float(group["lr"]) * math.sqrt(correction))
            correction = 1 - torch.pow(beta2, state["step"].to(v.dtype))
            return out.mul_(torch.sqrt(correction)).mul_(float(group["lr"]))
        return eta
    return lambda: float(group["lr"])
