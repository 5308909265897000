"""Many MLPs of one architecture trained at once, as one batched model.

A cross-validated search fits one network per (fold, configuration) pair.
Here the ``F x C`` networks of ``F`` folds and ``C`` configurations take
their steps together:

* every configuration of a fold sees the same rows in the same order, so
  the first layer of all ``C`` networks is **one** matrix product per fold,
  ``(B, d) @ (d, C h)``, and so is its weight gradient
  ``(d, B) @ (B, C h)``: large products that run near the machine's peak,
  where ``C`` separate ``(B, d) @ (d, h)`` products are dominated by
  overhead;
* deeper layers are batched matrix products over the ``F C`` networks;
* the optimizer, penalties and proximal steps are element-wise over the
  stacked weights, with per-configuration strengths broadcast along the
  configuration axis.

Each network keeps everything that makes it a separate fit: its fold's
training rows (reshuffled every epoch), its own penalty strength and L1
mix, dropout rate, label smoothing, Adam moments, stopping rule and best
weights. A configuration that has stopped in every fold is removed from the
stack, so the cost of an epoch follows the configurations still training.
"""

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._preprocessing import robust_scale_tensor_
from .network import ACTIVATIONS

ACTIVATION_FUNCTIONS = {
    "identity": lambda z: z,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "logistic": torch.sigmoid,
    "gelu": F.gelu,
}


@dataclass
class ConfigSpec:
    """Per-configuration hyperparameters, one entry per configuration.

    Attributes
    ----------
    l1, l2 : ndarray of float
        ``alpha * l1_ratio`` and ``alpha * (1 - l1_ratio)``: the objective of
        a batch with weight sum ``S_B`` is
        ``sum_i s_i l_i / S_B + (l1 ||W||_1 + l2 ||W||_2^2 / 2) / S_B``.
    dropout : ndarray of float
        Drop probability of every hidden unit.
    label_smoothing : ndarray of float
        ``eps``: targets ``1 - eps`` for the true class and ``eps / (K - 1)``
        for the others (classification only).
    """

    l1: np.ndarray
    l2: np.ndarray
    dropout: np.ndarray
    label_smoothing: np.ndarray


@dataclass
class TrainResult:
    """What :func:`train_models` returns, indexed ``[configuration, fold]``.

    Attributes
    ----------
    coefs, intercepts : list of Tensor
        Layer ``k``'s weights ``(C, F, fan_in, fan_out)`` and biases
        ``(C, F, 1, fan_out)``: the best epoch's with early stopping, else
        the last.
    n_iter : ndarray of shape (C, F)
        Epochs run.
    converged : ndarray of shape (C, F)
        Whether the stopping rule fired before ``max_iter``.
    diverged : ndarray of shape (C, F)
        Whether the training loss became non-finite (training stopped there).
    """

    coefs: list
    intercepts: list
    n_iter: np.ndarray
    converged: np.ndarray
    diverged: np.ndarray


class _Adam:
    """Adam over lists of stacked parameters (element-wise: each network's own Adam).

    Uses torch's fused multi-tensor kernel where this torch build has it.
    """

    def __init__(self, params, lr, betas, eps):
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0
        self.fused = hasattr(torch, "_fused_adam_") and all(
            p.device.type in ("cpu", "cuda") for p in params)
        # the fused kernel's step counts; every network steps together
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]

    def step(self, params, grads):
        """One update; returns ``sqrt(1 - beta2^t)`` for the proximal step."""
        self.t += 1
        root = math.sqrt(1 - self.beta2 ** self.t)
        if self.fused:
            torch._foreach_add_(self.steps, 1)
            try:
                torch._fused_adam_(params, grads, self.m, self.v, [], self.steps, lr=self.lr,
                                   beta1=self.beta1, beta2=self.beta2, weight_decay=0.0,
                                   eps=self.eps, amsgrad=False, maximize=False,
                                   grad_scale=None, found_inf=None)
                return root
            except (RuntimeError, NotImplementedError):  # pragma: no cover
                self.fused = False
        bc1 = 1 - self.beta1 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m.lerp_(g, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
            denom = torch.sqrt(v).add_(self.eps * root)
            p.addcdiv_(m, denom, value=-self.lr * root / bc1)
        return root

    def select(self, index, axes, configs):
        """Keep the configurations ``configs`` of the tensors at positions ``index``."""
        for i, a in zip(index, axes):
            self.m[i] = self.m[i].index_select(a, configs)
            self.v[i] = self.v[i].index_select(a, configs)


class _StoppingRule:
    """scikit-learn's MLP rule per network: stop once more than ``patience`` epochs
    in a row failed to improve on the best value by more than ``tol``."""

    def __init__(self, shape, patience, tol, higher_is_better):
        self.sign = 1.0 if higher_is_better else -1.0
        self.best = np.full(shape, -np.inf)
        self.misses = np.zeros(shape, dtype=int)
        self.patience, self.tol = patience, tol

    def update(self, configs, values):
        """``values (C_active, F)`` -> (improved, stop) boolean arrays of that shape."""
        signed = self.sign * values
        best = self.best[configs]
        miss = ~(signed >= best + self.tol)
        self.misses[configs] = np.where(miss, self.misses[configs] + 1, 0)
        improved = signed > best
        self.best[configs] = np.where(improved, signed, best)
        return improved, self.misses[configs] > self.patience


class FoldStack:
    """The ``C`` networks of one fold, one per configuration.

    Layer 0 is stored as ``W_0 (d, C, h_1)`` and ``b_0 (1, C, h_1)``, so that
    ``W_0.view(d, C h_1)`` is the first layer of all configurations and the
    batch's first layer is one matrix product; deeper layers as
    ``W_k (C, h_k, h_{k+1})``, ``b_k (C, 1, h_{k+1})``. ``params`` lists the
    weights, then the biases.
    """

    def __init__(self, params, activation):
        self.params = params
        self.activation = activation

    @classmethod
    def initialize(cls, layer_sizes, n_configs, activation, dtype, device, generator):
        """Glorot-uniform weights and biases, as scikit-learn's MLP draws them."""
        factor = 2.0 if activation == "logistic" else 6.0
        coefs, intercepts = [], []
        for k, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
            bound = math.sqrt(factor / (fan_in + fan_out))
            shape = (fan_in, n_configs, fan_out) if k == 0 else (n_configs, fan_in, fan_out)
            b_shape = (1, n_configs, fan_out) if k == 0 else (n_configs, 1, fan_out)
            W = torch.empty(shape, dtype=dtype).uniform_(-bound, bound, generator=generator)
            b = torch.empty(b_shape, dtype=dtype).uniform_(-bound, bound, generator=generator)
            coefs.append(W.to(device))
            intercepts.append(b.to(device))
        return cls(coefs + intercepts, activation)

    @property
    def n_layers(self):
        return len(self.params) // 2

    @property
    def n_configs(self):
        return self.params[0].shape[1]

    def axes(self):
        """The configuration axis of each tensor in ``params``."""
        return [1 if k % self.n_layers == 0 else 0 for k in range(len(self.params))]

    def network(self, c):
        """Weights ``(fan_in, fan_out)`` and biases ``(1, fan_out)`` of configuration ``c``."""
        return [p[:, c] if a == 1 else p[c] for p, a in zip(self.params, self.axes())]

    def forward(self, X, masks=None, keep=False):
        """Outputs ``(C, K, n)`` for rows ``X (n, d)``; with ``keep`` also what
        :meth:`backward` needs.

        Activations are kept transposed, ``(C, h, n)``: the first layer of all
        configurations is then one product ``W_0^T X^T`` whose result is
        already laid out per configuration, and every later product is a
        batched product of contiguous matrices, with no copies between
        layouts. ``masks``: ``(c0, per-layer masks)`` from
        :class:`_DropoutMasks`, multiplying hidden layer ``k``'s output for
        configurations ``c0`` onwards.
        """
        forward_fn, _, needs_input = ACTIVATIONS[self.activation]
        L, C = self.n_layers, self.n_configs
        coefs, intercepts = self.params[:L], self.params[L:]
        n = X.shape[0]
        W0, b0 = coefs[0], intercepts[0]
        h = torch.mm(W0.view(W0.shape[0], -1).t(), X.t()).add_(b0.view(-1, 1))
        h = h.view(C, -1, n)
        acts, pres, inputs = [], [], []
        for k in range(L - 1):
            if k:
                h = torch.bmm(coefs[k].transpose(1, 2), h).add_(intercepts[k].transpose(1, 2))
            pre = h.clone() if (keep and needs_input) else None
            a = forward_fn(h)
            if masks is not None:
                c0, mask = masks[0], masks[1][k]
                # relu's backward reads a masked output correctly (zero where
                # dropped); the others need the activation itself
                h = a if self.activation == "relu" else a.clone()
                h[c0:].mul_(mask)
            else:
                h = a
            acts.append(a)
            pres.append(pre)
            inputs.append(h)
        if L > 1:
            h = torch.bmm(coefs[-1].transpose(1, 2), h).add_(intercepts[-1].transpose(1, 2))
        if keep:
            return h, (acts, pres, inputs)
        return h

    def backward(self, X, delta, cache, masks, grads):
        """Write the gradients of ``sum(out * delta)`` into ``grads`` (like ``params``).

        ``delta`` is ``(C, K, n)``, like the outputs.
        """
        _, backward_fn, _ = ACTIVATIONS[self.activation]
        L, C = self.n_layers, self.n_configs
        coefs = self.params[:L]
        acts, pres, inputs = cache
        for k in range(L - 1, 0, -1):
            h = inputs[k - 1]  # (C, h_k, n)
            torch.bmm(h, delta.transpose(1, 2), out=grads[k])
            torch.sum(delta, 2, out=grads[L + k].view(C, -1))
            delta = torch.bmm(coefs[k], delta)  # (C, h_k, n)
            if masks is not None:
                c0, mask = masks[0], masks[1][k - 1]
                delta[c0:].mul_(mask)
            if backward_fn is not None:
                delta = backward_fn(delta, acts[k - 1], pres[k - 1])
        delta = delta.reshape(-1, delta.shape[2])  # (C h_1, n)
        W0 = coefs[0]
        torch.mm(X.t(), delta.t(), out=grads[0].view(W0.shape[0], -1))
        torch.sum(delta, 1, out=grads[L].view(-1))


def _loss_and_grad(out, target, kind):
    """Per-row losses ``(C, n)`` and their gradient ``dl/dout`` ``(C, K, n)``."""
    if kind == "binary":
        losses = F.softplus(out).sub_(target * out).sum(1)
        return losses, torch.sigmoid(out).sub_(target)
    if kind == "multiclass":
        log_p = torch.log_softmax(out, dim=1)
        return -(target * log_p).sum(1), log_p.exp_().sub_(target)
    diff = out - target
    k = diff.shape[1]
    return 0.5 * (diff * diff).mean(1), diff.div_(k) if k > 1 else diff


def _targets(labels, kind, n_outputs, smoothing):
    """Training targets ``(C, K, n)`` (broadcastable), smoothed per configuration.

    ``labels``: class indices ``(n,)``, or targets ``(n, K)`` for regression.
    """
    if kind == "regression":
        return labels.t().unsqueeze(0)
    eps = smoothing.view(-1, 1, 1)
    if kind == "binary":
        t = labels.to(eps.dtype).view(1, 1, -1)
        return t * (1 - eps) + (1 - t) * eps
    one_hot = F.one_hot(labels, n_outputs).to(eps.dtype).t().unsqueeze(0)
    off = eps / (n_outputs - 1)
    return one_hot * (1 - eps - off) + off


def _scores(out, y, w, kind):
    """Weighted accuracy or mean R^2 per configuration of outputs ``(C, K, n)``.

    ``y``: labels ``(n,)`` or targets ``(n, K)``; ``w``: row weights ``(n,)``.
    """
    total = w.sum()
    if kind == "regression":
        y = y.t().unsqueeze(0)
        wk = w.view(1, 1, -1)
        mean = (wk * y).sum(2, keepdim=True) / total
        ss_res = (wk * (y - out) ** 2).sum(2)
        ss_tot = (wk * (y - mean) ** 2).sum(2)
        r2 = torch.where(ss_tot > 0, 1 - ss_res / ss_tot.clamp_min(1e-30),
                         (ss_res == 0).to(out.dtype))
        return r2.mean(1)
    pred = (out[:, 0] > 0).long() if kind == "binary" else out.argmax(1)
    return ((pred == y).to(w.dtype) * w).sum(1) / total


class _DropoutMasks:
    """Dropout masks for the configurations that use dropout.

    Configurations are ordered so that those with dropout come last; a mask
    covers that block only, ``(C_d, h, n)`` like the transposed activations
    of :meth:`FoldStack.forward`. Values are
    0 or ``1 / (1 - p_c)``; units are dropped with probability
    ``round(p 2**16) / 2**16``, as in the plain estimators.
    """

    def __init__(self, seed):
        self.bits = np.random.PCG64(seed)

    def draw(self, stack, drop, n_rows):
        """``(first configuration with dropout, masks)``, or None without dropout."""
        users = int(torch.count_nonzero(drop > 0))
        if not users:
            return None
        W0 = stack.params[0]
        dtype, device = W0.dtype, W0.device
        first = stack.n_configs - users
        p = drop[first:]
        threshold = torch.round(p * 65536).clamp_max(65535)
        scale = 65536.0 / (65536.0 - threshold)
        masks = []
        for k, W in enumerate(stack.params[:stack.n_layers - 1]):
            width = W.shape[-1]
            shape = (users, width, n_rows)
            n = math.prod(shape)
            raw = self.bits.random_raw((n + 3) // 4).view(np.int16)[:n]
            # copy to float, then compare and scale in place
            mask = torch.from_numpy(raw).to(device=device, dtype=dtype).view(shape)
            mask.ge_((threshold - 32768).view(-1, 1, 1)).mul_(scale.view(-1, 1, 1))
            masks.append(mask)
        return first, masks


def train_models(X, Y, sample_weight, train_rows, valid_rows, spec, *, layer_sizes,
                 activation, kind, lr, betas, eps, batch_size, max_iter, tol,
                 n_iter_no_change, early_stopping, l1_method, shuffle, seed,
                 input_stats=None, target_stats=None):
    """Train one MLP per (configuration, fold) pair, all at once.

    Parameters
    ----------
    X : Tensor of shape (n_samples, n_features)
        All rows, on the training device.
    Y : Tensor
        Class indices ``(n_samples,)`` for ``kind`` 'binary' / 'multiclass',
        targets ``(n_samples, n_outputs)`` for 'regression'.
    sample_weight : Tensor of shape (n_folds, n_samples)
        Row weights per fold (class weights included).
    train_rows : list of ndarray
        Training rows of each fold.
    valid_rows : list of ndarray or None
        Each fold's early-stopping rows (with ``early_stopping``).
    spec : ConfigSpec
        Per-configuration hyperparameters.
    layer_sizes : list of int
        ``[n_features, *hidden, n_outputs]``.
    activation : str
        Hidden activation, a key of :data:`skreg._torch.network.ACTIVATIONS`.
    kind : {'binary', 'multiclass', 'regression'}
    lr, betas, eps : float, (float, float), float
        Adam's settings.
    batch_size : int
        Rows per step (each fold's last batch of an epoch may be smaller).
    max_iter : int
        Maximum number of epochs.
    tol, n_iter_no_change : float, int
        Stopping rule, on the validation score with ``early_stopping``, else
        on the training objective.
    early_stopping : bool
        Stop on each fold's validation rows and keep each network's best
        epoch.
    l1_method : {'proximal', 'subgradient'}
        How the L1 part is applied (see the estimators' ``l1_method``).
    shuffle : bool
        Reshuffle each fold's training rows every epoch.
    seed : int
        Seed of initialisation, shuffling and dropout.
    input_stats : list of (Tensor, Tensor) or None
        Per fold ``(center, scale)`` of ``input_scaling='robust'``: each
        fold's rows enter its networks as ``f((x - center) / scale)`` (see
        :mod:`skreg._preprocessing`).
    target_stats : list of (Tensor, Tensor) or None
        Per fold ``(mean, std)`` of ``target_scaling='standard'``: each fold's
        networks fit ``(y - mean) / std``.

    Returns
    -------
    TrainResult
    """
    device, dtype = X.device, X.dtype
    n_configs, n_folds = len(spec.l1), len(train_rows)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    stacks = [FoldStack.initialize(layer_sizes, n_configs, activation, dtype, device,
                                   generator) for _ in range(n_folds)]
    L = stacks[0].n_layers
    axes = stacks[0].axes()
    grads = [[torch.zeros_like(p) for p in s.params] for s in stacks]
    adam = _Adam([p for s in stacks for p in s.params], lr, betas, eps)
    dropout = _DropoutMasks(seed)

    def column(values):
        return torch.as_tensor(np.asarray(values, dtype=float), dtype=dtype, device=device)

    # configurations still training, by their index in ``spec``; those with
    # dropout come last (see _DropoutMasks); per-configuration settings follow
    active = np.argsort(np.asarray(spec.dropout) > 0, kind="stable")
    l1, l2 = column(spec.l1[active]), column(spec.l2[active])
    drop = column(spec.dropout[active])
    smoothing = column(spec.label_smoothing[active])
    prox = l1_method == "proximal" and bool(np.any(spec.l1 > 0))
    subgradient = l1_method != "proximal" and bool(np.any(spec.l1 > 0))

    def per_config(values, axis):
        return values.view(1, -1, 1) if axis == 1 else values.view(-1, 1, 1)

    n_steps = math.ceil(max(len(r) for r in train_rows) / batch_size)
    weighted = not bool(torch.all(sample_weight == 1))
    train_weight = [float(sample_weight[f, torch.as_tensor(r, device=device)].sum())
                    for f, r in enumerate(train_rows)]
    def fold_inputs(f, rows):
        xb = X.index_select(0, rows)
        if input_stats is not None:
            robust_scale_tensor_(xb, *input_stats[f])
        return xb

    def fold_targets(f, rows):
        yb = Y.index_select(0, rows)
        if target_stats is not None:
            mean, std = target_stats[f]
            yb = yb.sub_(mean).div_(std)
        return yb

    if early_stopping:
        valid = [(fold_inputs(f, torch.as_tensor(r, device=device)),
                  fold_targets(f, torch.as_tensor(r, device=device)),
                  sample_weight[f, torch.as_tensor(r, device=device)])
                 for f, r in enumerate(valid_rows)]
    rule = _StoppingRule((n_configs, n_folds), n_iter_no_change, tol,
                         higher_is_better=early_stopping)

    # per network (configuration, fold): weights (fan_in, fan_out), biases (1, fan_out)
    final = [torch.empty(n_configs, n_folds, fan_in, fan_out, dtype=dtype, device=device)
             for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:])]
    final += [torch.empty(n_configs, n_folds, 1, fan_out, dtype=dtype, device=device)
              for fan_out in layer_sizes[1:]]
    best = ([[p.detach().clone() for p in s.params] for s in stacks]
            if early_stopping else None)
    n_iter = np.zeros((n_configs, n_folds), dtype=int)
    converged = np.zeros((n_configs, n_folds), dtype=bool)
    diverged = np.zeros((n_configs, n_folds), dtype=bool)
    done = np.zeros((n_configs, n_folds), dtype=bool)
    s_buf = [[torch.empty_like(p) for p in s.params[:L]] for s in stacks] if prox else None
    t_buf = [[torch.empty_like(p) for p in s.params[:L]] for s in stacks] if prox else None

    for epoch in range(max_iter):
        orders = [torch.as_tensor(rng.permutation(r) if shuffle else r, device=device)
                  for r in train_rows]
        loss_sum = torch.zeros(n_folds, len(active), dtype=dtype, device=device)
        for step in range(n_steps):
            scales = []
            for f, stack in enumerate(stacks):
                idx = orders[f][step * batch_size:(step + 1) * batch_size]
                if not len(idx):
                    scales.append(None)
                    continue
                xb = fold_inputs(f, idx)
                target = _targets(fold_targets(f, idx), kind, layer_sizes[-1], smoothing)
                masks = dropout.draw(stack, drop, len(idx))
                out, cache = stack.forward(xb, masks, keep=True)
                losses, delta = _loss_and_grad(out, target, kind)  # (C, n), (C, K, n)
                if weighted:
                    wb = sample_weight[f].index_select(0, idx)
                    scale = 1.0 / wb.sum().clamp_min(1e-30)
                    loss_sum[f] += losses @ wb
                    delta.mul_((wb * scale).view(1, 1, -1))
                else:
                    scale = 1.0 / len(idx)
                    loss_sum[f] += losses.sum(1)
                    delta.mul_(scale)
                stack.backward(xb, delta, cache, masks, grads[f])
                for k in range(L):
                    W, g = stack.params[k], grads[f][k]
                    g.addcmul_(W, per_config(l2 * scale, axes[k]))
                    if subgradient:
                        g.addcmul_(torch.sign(W), per_config(l1 * scale, axes[k]))
                scales.append(scale)
            live = [f for f in range(n_folds) if scales[f] is not None]
            root = adam.step([p for f in live for p in stacks[f].params],
                             [g for f in live for g in grads[f]]) if len(live) == n_folds \
                else _partial_step(adam, stacks, grads, live)
            if prox:
                for f in live:
                    c = l1 * scales[f] * (lr * root)
                    vs = adam.v[f * 2 * L:f * 2 * L + L]
                    for k in range(L):
                        W, s, t = stacks[f].params[k], s_buf[f][k], t_buf[f][k]
                        bound = per_config(c, axes[k])
                        torch.sqrt(vs[k], out=s).add_(eps * root)
                        torch.mul(W, s, out=t)
                        torch.minimum(t, bound, out=t)
                        torch.maximum(t, -bound, out=t)
                        W.addcdiv_(t, s, value=-1)

        # ---------------------------------------------------------- end of epoch
        if early_stopping:
            monitored = torch.stack([
                _scores(stack.forward(xv), yv, wv, kind)
                for stack, (xv, yv, wv) in zip(stacks, valid)])  # (F, C)
        else:
            penalty = torch.stack([sum(
                (l1 * p.abs().sum((0, 2) if a == 1 else (1, 2))
                 + 0.5 * l2 * (p * p).sum((0, 2) if a == 1 else (1, 2)))
                for p, a in zip(stack.params[:L], axes[:L])) for stack in stacks])
            tw = torch.as_tensor(train_weight, dtype=dtype, device=device).view(-1, 1)
            monitored = loss_sum / tw + penalty / (tw / n_steps)
        values, losses_np = (t.T.double().cpu().numpy() for t in (monitored, loss_sum))
        running = ~done[active]
        n_iter[active] = np.where(running, epoch + 1, n_iter[active])
        finite = np.isfinite(values) & np.isfinite(losses_np)
        improved, stop = rule.update(active, np.where(finite, values, np.nan))
        improved &= finite & running
        stop = (stop | ~finite) & running
        diverged[active] |= ~finite & running
        converged[active] |= stop & finite
        if epoch + 1 == max_iter:
            stop = running.copy()
        if early_stopping:
            for c_local, f in zip(*np.nonzero(improved)):
                for b, p, a in zip(best[f], stacks[f].params, axes):
                    if a == 1:
                        b[:, c_local] = p[:, c_local]
                    else:
                        b[c_local] = p[c_local]
        for c_local, f in zip(*np.nonzero(stop)):
            source = best[f] if early_stopping else stacks[f].params
            for target, p, a in zip(final, source, axes):
                target[active[c_local], f] = p[:, c_local] if a == 1 else p[c_local]
        done[active] |= stop
        finished = done[active].all(1)
        if finished.all():
            break
        if finished.any():
            keep = torch.as_tensor(np.flatnonzero(~finished), device=device)
            for f, stack in enumerate(stacks):
                stack.params = [p.index_select(a, keep) for p, a in zip(stack.params, axes)]
                grads[f] = [torch.zeros_like(p) for p in stack.params]
                if early_stopping:
                    best[f] = [b.index_select(a, keep) for b, a in zip(best[f], axes)]
                if prox:
                    s_buf[f] = [torch.empty_like(p) for p in stack.params[:L]]
                    t_buf[f] = [torch.empty_like(p) for p in stack.params[:L]]
            adam.select(range(len(adam.m)), axes * n_folds, keep)
            l1, l2 = l1[keep], l2[keep]
            drop, smoothing = drop[keep], smoothing[keep]
            active = active[~finished]
    return TrainResult(final[:L], final[L:], n_iter, converged, diverged)


def _partial_step(adam, stacks, grads, live):
    """Adam step when some folds have no rows left this epoch: their gradients are 0
    but Adam's moments still decay; a zero gradient is what a skipped fold gets."""
    for f in range(len(stacks)):
        if f not in live:
            for g in grads[f]:
                g.zero_()
    return adam.step([p for s in stacks for p in s.params], [g for gs in grads for g in gs])


def network_outputs(coefs, intercepts, X, activation):
    """Raw outputs of one network given its weights ``(fan_in, fan_out)`` and biases."""
    act = ACTIVATION_FUNCTIONS[activation]
    h = X
    for k, (W, b) in enumerate(zip(coefs, intercepts)):
        h = torch.addmm(b, h, W)
        if k < len(coefs) - 1:
            h = act(h)
    return h
