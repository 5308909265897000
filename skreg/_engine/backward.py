"""One training step of a stack of MLPs: the hand-written pass and the autograd pass.

:func:`manual_step` writes the forward and backward pass out with the
kernels autograd itself uses and puts the gradients straight into the flat
parameters' ``.grad``: on small tabular batches this is about 3.5x faster
than autograd with ``torch.optim`` (see the ablation in the benchmarks
page). It serves every member count: with one member every tensor is 2-D
and every product a plain matrix product, with ``C`` members the same code
runs on 3-D tensors as batched products. :func:`autograd_step` is the same
step through autograd, for batch normalization and L-BFGS (whose line
search re-evaluates the objective); both are tested against each other.

Shapes: ``xb`` is ``(n, d)`` (rows shared by every member) or
``(C, n, d)``; ``tb`` the training targets ``(n, K)`` or ``(C, n, K)``;
``wb`` None, ``(n,)`` or ``(C, n)`` row weights; ``scale`` is ``1 / S_B``,
a float or a ``(C, 1, 1)`` tensor; ``loss_sum`` a ``(C,)`` tensor that
accumulates ``sum_i w_i l_i`` of every member.

The hand-written pass. With ``a_0 = x``, layer ``k`` computes
``z_k = a_{k-1} W_k + b_k`` and, if hidden, ``a_k = m_k * (g(z_k) + n_k)``:
``m_k`` the dropout mask (0 or the inverted-dropout factor ``1 / (1 - p)``)
and ``n_k`` the hidden noise. The batch objective of a member is
``J = sum_i s_i l_i(z_L) / S_B + alpha P(W) / S_B``; with
``delta_k = dJ / dz_k``: ``delta_L = s * dl/dz_L / S_B``,
``dW_k = a_{k-1}^T delta_k``, ``db_k = sum_i delta_k`` and
``delta_{k-1} = g'(z_{k-1}) * m_{k-1} * (delta_k W_k^T)``. With embedding
tables, ``a_0`` holds each code's table row and the rows' gradients are
``delta_1 W_1^T`` scattered by code (:func:`_table_grads`). With the learned
input scale, the first layer applies ``W_1' = diag(s) W_1``, ``s = 1 + c u``:
``dW_1 = s * dW_1'`` row by row and ``du_j = c sum_k (dW_1')_jk (W_1)_jk``
(:func:`_input_grads`). The regularizers add their smooth gradient to
``dW``, then the optimizer steps.

The PLR embedding has its backward written out too (:class:`PLRStep`). For
embedded input ``j`` (frequencies ``c_j``, ``k``; map ``W_j``, ``2k x d``;
bias ``b_j``, ``d``) and row ``i``, the forward pass
(:func:`~skreg._engine.model.plr_forward`) computes ``p_ij = (2 pi x_ij)
c_j``, ``z_ij = [sin p_ij, cos p_ij]``, ``a_ij = W_j^T z_ij + b_j`` and puts
``e_ij = ReLU(a_ij)`` in ``a_0``. From ``G_ij = dJ/de_ij`` (those columns of
``delta_1 W_1'^T``) and ``g_ij = dJ/da_ij = G_ij * [a_ij > 0]``:
``dJ/db_j = sum_i g_ij``, ``dJ/dW_j = sum_i z_ij g_ij^T``,
``dJ/dz_ij = W_j g_ij = [dsin_ij, dcos_ij]`` (sines, then cosines),
``dJ/dp_ij = dsin_ij * cos p_ij - dcos_ij * sin p_ij`` and
``dJ/dc_j = sum_i 2 pi x_ij dJ/dp_ij``. The forward pass keeps ``2 pi x``,
``sin p``, ``cos p``, ``z`` and ``e`` for it, so no sine or cosine is
computed twice, and every product is one batched product over the inputs
(and the members of a stack), with the rows as the long last axis: no
loop over the inputs, and no autograd in the step.

With ReLU, the mask is applied to the activation in place, so relu's
backward kernel, which reads only where its output is positive, already
zeroes the dropped units; where every member has the same rate ``p`` on a
layer (``dropout_factors[k]``, a float), the factor ``1 / (1 - p)`` of the
kept units rides on the product ``delta_k W_k^T`` as its ``alpha``, and the
backward pass makes no multiply for the mask.

For one network under Adam or SGD, the coupled L2 term
``alpha (1 - rho) w / S_B`` is the optimizer's own ``weight_decay`` (set per
batch), which adds it inside the update kernel instead of in one more pass
over the weights.
"""

from functools import partial

import torch

from .model import ACTIVATIONS, SCALE_LAYER_RATE, affine, batched, plr_forward
from .optim import FusedAdam
from .regularizers import step_hooks, training_weights

aten = torch.ops.aten


def _matmul_t_out(a, b, out):
    """``out = a^T b`` over the row axis (``a`` may be 2-D with a 3-D ``b``)."""
    if b.dim() == 2:
        return torch.mm(a.t(), b, out=out)
    if a.dim() == 2:
        a = a.expand(b.shape[0], *a.shape)
    return torch.bmm(a.transpose(1, 2), b, out=out)


def _t(W):
    """``W^T`` (a view) of one matrix or of each matrix of a stack."""
    return W.t() if W.dim() == 2 else W.transpose(1, 2)


def _matmul_bt(a, W, alpha=1.0, like=None, W_t=None):
    """``alpha * a @ W^T`` for one network or a stack.

    With ``alpha != 1``, ``like`` (any tensor broadcastable to the result,
    ignored as ``beta=0``) lets the product take the factor at no cost.
    ``W_t`` is ``W^T`` where the caller has it.
    """
    if W_t is None:
        W_t = _t(W)
    if alpha == 1.0:
        return torch.mm(a, W_t) if W_t.dim() == 2 else torch.bmm(a, W_t)
    if W_t.dim() == 2:
        return torch.addmm(like, a, W_t, beta=0, alpha=alpha)
    return torch.baddbmm(like, a, W_t, beta=0, alpha=alpha)


def manual_step(model, loss, regularizers, optimizer_step, next_masks, hidden_noise,
                generator, optimizer=None, dropout_factors=None):
    """The step function ``step(xb, tb, wb, scale, loss_sum)`` of the hand-written pass.

    The pass, its dropout shortcuts and the L2 term carried by the optimizer
    are described in this module's docstring; the gradients go to the
    parameters' ``.grad``, then the optimizer steps (``optimizer_step``).
    """
    activation = ACTIVATIONS[model.activation]
    backward = activation.backward
    coefs, intercepts = model.coef_views(), model.intercept_views()
    coef = model.coef.detach()
    g_coefs = model.coef_views(model.coef.grad)
    g_intercepts = model.intercept_views(model.intercept.grad)
    coef_grad = model.coef.grad
    n_hidden = len(coefs) - 1
    stacked = model.n_members > 1
    # relu's backward kernel reads only the sign of its output, which a
    # positive dropout factor keeps: the mask may be applied in place
    mask_in_place = model.activation == "relu" and not hidden_noise
    no_masks = [None] * n_hidden
    # layers whose mask the backward pass folds into a product (module docstring)
    folded = [mask_in_place and dropout_factors is not None and isinstance(f, float)
              for f in (dropout_factors or [None] * n_hidden)]
    decay = _l2_as_weight_decay(model, regularizers, optimizer)
    if decay is not None:
        coef_group, l2 = decay
    g_tables = model.table_views(model.coef.grad)
    scale_block = model.scale_slice if model.scale_layer else None
    # weight noise, L0 gates, gradient noise (regularizers.StepHook); none when off
    hooks = step_hooks(regularizers, model, generator, manual=True)
    # the stored matrices' transposes (views, made once) for delta_k W_k^T
    coefs_t = [_t(W) for W in coefs]
    has_plr = bool(model.plr)
    embedded = bool(model.tables) or has_plr
    plr = PLRStep(model, model.plr_views(coef), model.plr_views(coef_grad)) if has_plr else None
    # the first matrix's rows after the numeric inputs (a view, made once):
    # they take dJ/dh back to the PLR outputs and the table rows
    rest = coefs[0][..., model.n_dense:, :] if embedded else None
    # gradients beyond the first layer's: tables, PLR, input scale
    beyond_first = bool(g_tables) or has_plr or scale_block is not None

    def step(xb, tb, wb, scale, loss_sum):
        keeps = next_masks(xb) if next_masks else no_masks
        for hook in hooks:
            hook.before()  # may perturb coef in place until its after()
        layers, s = coefs, None
        if scale_block is not None:
            # the learned input scale folded into the first layer: W_1' = diag(s) W_1
            s = model.input_scale(coef)
            layers = [coefs[0] * s, *coefs[1:]]
        h = model.embed_codes(xb, plr.forward(xb) if has_plr else None) if embedded else xb
        out, inputs, outputs, pre = _forward(h, layers, intercepts, activation, keeps,
                                             hidden_noise, generator, mask_in_place)
        losses, delta = loss.value_and_grad(out, tb)
        if wb is None:
            loss_sum.add_(losses.sum(-1))
            delta.mul_(scale)
        else:
            loss_sum.add_((losses * wb).sum(-1))
            delta.mul_(wb.unsqueeze(-1) * scale)
        for k in range(n_hidden, -1, -1):
            torch.sum(delta, -2, keepdim=stacked, out=g_intercepts[k])
            _matmul_t_out(inputs[k], delta, g_coefs[k])
            if k:
                keep = keeps[k - 1]
                W_t = coefs_t[k] if layers[k] is coefs[k] else None
                if keep is not None and folded[k - 1]:
                    delta = _matmul_bt(delta, layers[k], dropout_factors[k - 1],
                                       intercepts[k - 1], W_t)
                else:
                    delta = _matmul_bt(delta, layers[k], W_t=W_t)
                    if keep is not None:
                        delta.mul_(keep)
                if backward is not None:
                    delta = backward(delta, outputs[k - 1], pre[k - 1])
            elif beyond_first:
                _input_grads(model, layers, delta, xb, rest if layers[0] is coefs[0] else None,
                             g_tables, plr, s)
        for hook in reversed(hooks):
            hook.after(coef_grad)  # restores coef, maps the gradient to it
        flat_scale = scale.view(-1, 1) if isinstance(scale, torch.Tensor) else scale
        if decay is not None:
            coef_group["weight_decay"] = l2 * scale
        for regularizer in regularizers:
            regularizer.add_grad_(coef_grad, coef, flat_scale)
        optimizer_step()

    return step


def _forward(h, layers, intercepts, activation, keeps, hidden_noise, generator,
             mask_in_place):
    """The forward pass from the first layer's input ``h``.

    Returns ``(out, inputs, outputs, pre)``: the output layer's ``z_L``,
    each layer's input (masked, noisy), each hidden layer's activation
    before its mask and noise, and its ``z`` where the activation's backward
    reads it (else None).
    """
    forward, _, needs_input = activation
    n_hidden = len(layers) - 1
    inputs, outputs, pre = [h], [], []
    for k in range(n_hidden):
        z = affine(h, layers[k], intercepts[k])
        h = forward(z)  # in place, except gelu, whose backward reads z
        pre.append(z if needs_input else None)
        outputs.append(h)
        if hidden_noise:
            h = h + hidden_noise * torch.randn(h.shape, generator=generator,
                                               dtype=h.dtype, device=h.device)
        if keeps[k] is not None:
            h = h.mul_(keeps[k]) if mask_in_place else h * keeps[k]
        inputs.append(h)
    return affine(h, layers[n_hidden], intercepts[n_hidden]), inputs, outputs, pre


def _input_grads(model, layers, delta, xb, rest, g_tables, plr, s):
    """The gradients that flow on from the first layer's ``delta``.

    Into the PLR parameters (:meth:`PLRStep.backward`; ``plr`` None without
    PLR), the embedding tables (:func:`_table_grads`) and the learned input
    scale (``s``, or None): ``model.coef.grad``'s first matrix holds
    ``dJ/dW_1'`` and becomes ``dJ/dW_1``. ``rest`` is the first matrix's
    rows after the numeric inputs (PLR outputs, table entries), or None to
    take them from ``layers[0]``.
    """
    coef_grad = model.coef.grad
    if plr is not None or g_tables:
        if rest is None:
            rest = layers[0][..., model.n_dense:, :]
        # (dJ/dh)^T of the inputs after the numeric columns, (..., width, n)
        d_inputs = _matmul_nt(rest, delta)
        width = 0
        if plr is not None:
            width = plr.width
            plr.backward(d_inputs[..., :width, :] if g_tables else d_inputs)
        if g_tables:
            _table_grads(model, d_inputs[..., width:, :].transpose(-1, -2), xb, g_tables)
    if s is not None:
        # with W_1' = (1 + c u) W_1:
        # dJ/du_j = c sum_k (dJ/dW_1')_jk (W_1)_jk, dJ/dW_1 = s dJ/dW_1'
        g_W1 = model.coef_views(coef_grad)[0]
        g_u = (g_W1 * model.coef_views()[0]).sum(-1).mul_(SCALE_LAYER_RATE)
        coef_grad[:, model.scale_slice] = g_u.view(coef_grad.shape[0], -1)
        g_W1.mul_(s)


def _matmul_nt(A, B):
    """``A B^T`` for one network (2-D) or a stack (3-D)."""
    return torch.mm(A, B.t()) if A.dim() == 2 else torch.bmm(A, B.transpose(1, 2))


class PLRStep:
    """The PLR embedding in the hand-written step: its forward pass, kept for its backward.

    ``params`` and ``grads`` are the ``(c, W, b)`` views of the parameters
    and of their gradients' blocks (:meth:`StackedMLP.plr_views`); the
    backward pass writes into the latter.
    """

    def __init__(self, model, params, grads):
        self.model, self.params = model, params
        c, W, _ = params
        self.k, self.d = c.shape[-1], W.shape[-1]
        self.width = len(model.plr[0]) * self.d
        self.W = W
        self.g_c, self.g_W, self.g_b = grads
        self.cache = None

    def forward(self, xb):
        """The embedding of the batch ``xb``, ``(..., n, F d)`` (:func:`plr_forward`)."""
        self.cache = {}
        return plr_forward(self.model.plr_inputs(xb), *self.params, cache=self.cache)

    def backward(self, d_e):
        """The parameters' gradients from ``d_e = (dJ/de)^T``, ``(..., F d, n)``.

        The module docstring's formulas, per input ``j`` with the rows as
        columns (:func:`plr_forward`'s layout, ``(..., F, ., n)``): with
        ``g_j = dJ/da_j = d_e * [e > 0]`` (``d x n``), ``dJ/db_j = g_j 1``,
        ``dJ/dW_j = z_j g_j^T``, ``dJ/dz_j = W_j g_j = [dsin_j; dcos_j]``,
        ``dJ/dp_j = dsin_j * cos p_j - dcos_j * sin p_j`` and
        ``dJ/dc_j = (dJ/dp_j) u_j`` with ``u_j = 2 pi x_j``.
        """
        cache, k = self.cache, self.k
        bmm = partial(batched, torch.bmm) if self.W.dim() == 4 else torch.bmm
        g = aten.threshold_backward(d_e, cache["e"], 0).unflatten(-2, (-1, self.d))
        torch.sum(g, -1, out=self.g_b)                               # (..., F, d, n)
        bmm(cache["z"], g.transpose(-1, -2), out=self.g_W)
        d_z = bmm(self.W, g)                                         # (..., F, 2k, n)
        d_p = d_z[..., :k, :] * cache["cos"]
        d_p.addcmul_(d_z[..., k:, :], cache["sin"], value=-1.0)      # (..., F, k, n)
        torch.linalg.vecdot(d_p, cache["u"].unsqueeze(-2), out=self.g_c)
        self.cache = None


def _table_grads(model, d_inputs, xb, g_tables):
    """The embedding tables' gradients from ``d_inputs``, ``dJ/dh`` of the tables' inputs.

    A table row ``e`` enters the first layer as inputs ``h_j = e_j``, so
    ``dJ/de = sum over the rows i with that code of (delta_1 W_1^T)_i``
    restricted to the table's inputs: a scatter-add of those rows by code.
    """
    codes = xb[..., model.n_dense:].long()
    start = 0
    for t, g in enumerate(g_tables):
        dim = g.shape[-1]
        rows, c = d_inputs[..., start:start + dim], codes[..., t]
        g.zero_()
        if g.dim() == 2:
            g.index_add_(0, c, rows)
        elif c.dim() == 1:
            g.index_add_(1, c, rows)  # the same rows for every member
        else:
            members = torch.arange(g.shape[0], device=c.device).unsqueeze(1).expand_as(c)
            g.index_put_((members, c), rows, accumulate=True)
        start += dim


def _l2_as_weight_decay(model, regularizers, optimizer):
    """``(weights' param group, l2)`` where the optimizer can carry the coupled L2 term.

    That is one network, Adam or SGD (whose ``weight_decay`` adds
    ``weight_decay * w`` to the gradient), a single L2 strength. The
    regularizer then leaves its L2 part out of the gradient.
    """
    adam = isinstance(optimizer, FusedAdam) and not optimizer.defaults["decoupled_weight_decay"]
    if model.n_members != 1 or not (adam or type(optimizer) in (torch.optim.Adam,
                                                                torch.optim.SGD)):
        return None
    group = optimizer.param_groups[0]
    if group["params"][0] is not model.coef:
        return None
    for regularizer in regularizers:
        l2 = getattr(regularizer, "l2", None)
        if l2 is not None and not regularizer.decoupled_l2 and l2[0] > 0:
            regularizer.l2_in_optimizer = True
            return group, float(l2[0])
    return None


def autograd_step(model, loss, regularizers, optimizer, next_masks, hidden_noise,
                  generator):
    """The step function of :func:`manual_step` computed by autograd (one network).

    For batch normalization and L-BFGS; the optimizer is stepped with a
    closure, so L-BFGS's line search re-evaluates the objective. A batch of
    one row is skipped with batch normalization (its statistics are
    undefined).
    """
    skip_single_rows = model.norms is not None
    hooks = step_hooks(regularizers, model, generator, manual=False)  # see manual_step

    def step(xb, tb, wb, scale, loss_sum):
        if skip_single_rows and xb.shape[-2] == 1:
            return
        keeps = next_masks(xb) if next_masks else None
        for hook in hooks:
            hook.before()
        totals = []

        def closure():
            optimizer.zero_grad()
            with torch.enable_grad():
                out = model(xb, keep_masks=keeps, hidden_noise=hidden_noise,
                            generator=generator, weights=training_weights(model, hooks))
                losses = loss.value(out, tb)
                total = losses.sum(-1) if wb is None else (losses * wb).sum(-1)
                objective = total
                for regularizer in regularizers:
                    objective = objective + regularizer.gradient_value(model)
                objective = (objective * scale).sum()
                objective.backward()
            for hook in reversed(hooks):
                hook.after(model.coef.grad)
            totals.append(total.detach())
            return objective.detach()

        optimizer.step(closure)
        loss_sum.add_(totals[0])  # the loss at the start of the step

    return step
