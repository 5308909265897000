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
from collections import defaultdict

import torch

_FUSED_KERNELS = ("_fused_adam_", "_fused_adamw_", "_foreach_add_")


class FusedAdam:
    """Adam or AdamW over a few tensors, stepped by torch's fused kernel.

    The part of ``torch.optim.Adam(fused=True)``'s interface that the engine
    uses (``param_groups``, ``state`` in torch's layout, ``step``,
    ``zero_grad``, ``state_dict`` and ``load_state_dict`` in torch's format),
    without deriving from ``torch.optim.Optimizer``: building a torch
    optimizer imports ``torch._dynamo`` in the first fit of a process, which
    takes one to three seconds, many times the fit itself. The update is
    torch's: ``m <- beta1 m + (1 - beta1) g``,
    ``v <- beta2 v + (1 - beta2) g^2``, ``w <- w - lr m_hat / (sqrt(v_hat) + eps)``
    with the bias corrections ``m_hat = m / (1 - beta1^t)``,
    ``v_hat = v / (1 - beta2^t)``; ``weight_decay`` adds ``weight_decay * w``
    to ``g`` (Adam) or multiplies ``w`` by ``1 - lr * weight_decay`` first
    (AdamW, ``decoupled=True``). :func:`as_torch_optimizer` gives the same
    optimizer as a ``torch.optim.Adam``/``AdamW`` (for learning-rate
    schedulers).

    Parameters
    ----------
    groups : list of dict
        Parameter groups, each with ``params`` and ``weight_decay``.
    lr : float
    betas : (float, float)
    eps : float
    decoupled : bool, default=False
        AdamW's decoupled weight decay.
    """

    def __init__(self, groups, lr, betas, eps, decoupled=False):
        self.defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=0.0,
                             amsgrad=False, maximize=False, foreach=None,
                             capturable=False, differentiable=False, fused=True,
                             decoupled_weight_decay=bool(decoupled))
        self.param_groups = [{**self.defaults, **g, "params": list(g["params"])}
                             for g in groups]
        self.state = defaultdict(dict)   # as torch's: a parameter's state is made on use
        self._step = None

    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def step(self, closure=None):
        """One update from the gradients in each parameter's ``.grad``."""
        loss = closure() if closure is not None else None
        if self._step is None:
            self._step = FusedAdamStep(self)
        self._step()
        return loss

    def zero_grad(self, set_to_none=False):
        for p in self._params():
            if p.grad is not None:
                p.grad.zero_()

    def state_dict(self):
        """torch's format: ``{"state": {index: {...}}, "param_groups": [...]}``."""
        index = {id(p): i for i, p in enumerate(self._params())}
        return {
            "state": {index[id(p)]: dict(s) for p, s in self.state.items() if s},
            "param_groups": [{**{k: v for k, v in g.items() if k != "params"},
                              "params": [index[id(p)] for p in g["params"]]}
                             for g in self.param_groups]}

    def load_state_dict(self, state_dict):
        """Load a state saved by :meth:`state_dict` or by ``torch.optim.Adam``."""
        params = self._params()
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group.update({k: v for k, v in saved.items()
                          if k != "params" and k in self.defaults})
            group["betas"] = tuple(group["betas"])
        self.state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: (v.to(device=p.device, dtype=torch.float32) if k == "step"
                                 else v.to(device=p.device, dtype=p.dtype))
                             if isinstance(v, torch.Tensor) else v for k, v in s.items()}
        self._step = None


def as_torch_optimizer(optimizer):
    """``optimizer`` as a ``torch.optim`` optimizer (a :class:`FusedAdam` is converted).

    The new optimizer holds the same parameters and a copy of the state.
    """
    if not isinstance(optimizer, FusedAdam):
        return optimizer
    decoupled = optimizer.param_groups[0]["decoupled_weight_decay"]
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    groups = [{"params": g["params"], "weight_decay": g["weight_decay"]}
              for g in optimizer.param_groups]
    g0 = optimizer.param_groups[0]
    out = cls(groups, lr=g0["lr"], betas=g0["betas"], eps=g0["eps"], fused=True)
    out.load_state_dict(optimizer.state_dict())
    return out


def _fast_path_supported(optimizer):
    if isinstance(optimizer, FusedAdam):
        return True
    if type(optimizer) not in (torch.optim.Adam, torch.optim.AdamW):
        return False
    if not all(hasattr(torch, k) for k in _FUSED_KERNELS):
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
        # what optimizer.step() would set: learning-rate schedulers check it
        optimizer._opt_called = True
        decoupled = isinstance(optimizer, torch.optim.AdamW) or any(
            g.get("decoupled_weight_decay") for g in optimizer.param_groups)
        self.kernel = torch._fused_adamw_ if decoupled else torch._fused_adam_
        self.groups = []
        for group in optimizer.param_groups:
            params = list(group["params"])
            states = [self._state(p) for p in params]
            steps = [s["step"] for s in states]
            # the step counts' increments as tensors: the scalar form of
            # _foreach_add_ takes a slower path on the CPU's 0-d counts
            self.groups.append((group, params, [p.grad for p in params],
                                [s["exp_avg"] for s in states],
                                [s["exp_avg_sq"] for s in states],
                                steps, [torch.ones_like(s) for s in steps]))
        # every group's tensors in one list each: one kernel call updates them
        # all while the groups' hyperparameters agree (the kernel is per element)
        self.merged = (self.groups[0][0], *(
            [t for g in self.groups for t in g[i]] for i in range(1, 7)))
        self.others = [g[0] for g in self.groups[1:]]

    def _state(self, p):
        # the layout torch.optim.Adam(fused=True) creates on its first step
        state = self.optimizer.state[p]
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def _same_settings(self):
        first = self.merged[0]
        for g in self.others:
            if (g["weight_decay"] != first["weight_decay"] or g["lr"] != first["lr"]
                    or g["eps"] != first["eps"] or g["betas"] != first["betas"]):
                return False
        return True

    def __call__(self):
        groups = (self.merged,) if self._same_settings() else self.groups
        for group, params, grads, exp_avgs, exp_avg_sqs, steps, ones in groups:
            beta1, beta2 = group["betas"]
            torch._foreach_add_(steps, ones)
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
    if isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW, FusedAdam)):
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
    if not isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW, FusedAdam)):
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


def build_optimizer(solver, params, lr, *, betas=(0.9, 0.999), eps=1e-8, momentum=0.9,
                    nesterov=True, weight_decay=0.0):
    """The torch optimizer of ``solver`` over ``params`` (the weights first).

    ``weight_decay`` applies to the weights only (AdamW's decoupled L2).
    L-BFGS takes one iteration per epoch with a strong-Wolfe line search
    whose initial trial step is 1, as scipy's L-BFGS-B.
    """
    if solver == "lbfgs":
        return torch.optim.LBFGS(params, lr=1.0, max_iter=1, max_eval=25,
                                 line_search_fn="strong_wolfe")
    groups = [{"params": [params[0]], "weight_decay": weight_decay},
              {"params": list(params[1:]), "weight_decay": 0.0}]
    if solver == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum,
                               nesterov=nesterov and momentum > 0)
    if all(hasattr(torch, k) for k in _FUSED_KERNELS) and all(
            p.device.type in ("cpu", "cuda") for p in params):
        return FusedAdam(groups, lr=lr, betas=betas, eps=eps, decoupled=solver == "adamw")
    cls = torch.optim.AdamW if solver == "adamw" else torch.optim.Adam
    # one fused kernel per step is the cheapest update on small networks;
    # the single-tensor form is next (the default multi-tensor 'foreach'
    # form costs more than either when there are only two tensors)
    for extra in ({"fused": True}, {"foreach": False}, {}):
        try:
            return cls(groups, lr=lr, betas=betas, eps=eps, **extra)
        except (RuntimeError, TypeError, ValueError):
            continue
    raise RuntimeError(f"Could not build optimizer {cls.__name__}")  # pragma: no cover


def clone_state(obj):
    """A copy of an optimizer's state with every tensor cloned."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: clone_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(clone_state(v) for v in obj)
    return obj


def restore_state(state, saved):
    """Puts an optimizer's ``state`` back to ``saved`` (from :func:`clone_state`).

    Tensors are restored in place, since step functions hold references to
    them; state entries created since the snapshot are removed.
    """
    for param, current in state.items():
        before = saved.get(param, {})
        for key in [k for k in current if k not in before]:
            del current[key]
        for key, value in before.items():
            old = current.get(key)
            if (isinstance(value, torch.Tensor) and isinstance(old, torch.Tensor)
                    and old.shape == value.shape and old.dtype == value.dtype):
                old.copy_(value)
            else:
                current[key] = value


def move_state(old, new, members):
    """Copy ``old``'s per-parameter state into optimizer ``new``, keeping ``members``.

    Both optimizers hold the same parameters in the same order, the new
    ones being ``old``'s with only the rows ``members`` (the member axis
    0) kept; scalar state (step counts) is copied as it is.
    """
    old_params = [p for g in old.param_groups for p in g["params"]]
    new_params = [p for g in new.param_groups for p in g["params"]]
    for p_old, p_new in zip(old_params, new_params):
        state = old.state.get(p_old)
        if not state:
            continue
        new.state[p_new] = {
            k: (v.index_select(0, members) if isinstance(v, torch.Tensor) and v.dim() > 0
                else v.clone() if isinstance(v, torch.Tensor) else v)
            for k, v in state.items()}
