"""A stack of ``C`` multi-layer perceptrons of one architecture, as a torch module.

The weights of all members live in one tensor ``coef`` of shape
``(C, n_weights)`` and the biases in ``intercept``, ``(C, n_biases)``; each
layer's matrix is a view into that storage:

* ``(fan_in, fan_out)`` when ``C = 1`` (a plain fit), so every product is a
  plain matrix product (``addmm``, ``mm``);
* ``(C, fan_in, fan_out)`` when ``C > 1`` (the members of a search, or of an
  ensemble), so the same code runs as batched products (``baddbmm``,
  ``bmm``).

Learned embeddings of categorical columns (``tables``: one ``(n_codes,
dim)`` table per column) are stored after the layers' weights in the same
``coef``: the network takes ``n_dense`` numeric inputs followed by one
integer code per embedded column, and its first layer sees the numeric
inputs followed by each code's table row. The tables are then trained,
penalised, saved and selected with the weights at no extra cost.

Learned periodic embeddings of numeric inputs (``plr``, Gorishniy et al.'s
PLR) are stored after the tables: per embedded input ``j``, frequencies
``c_j`` (``k``), a linear map ``W_j`` (``2k x d``) and a bias ``b_j`` (``d``);
the first layer also sees ``e_j = ReLU(a_j)``, ``a_j = W_j^T [sin(p_j),
cos(p_j)] + b_j``, ``p_j = 2 pi x_j c_j``, after the numeric inputs
(:func:`plr_forward`, the one definition of it). The training step's
gradient of it is hand-written: from ``g_j = dJ/da_j``,
``dJ/db_j = sum_i g_ij``, ``dJ/dW_j = sum_i [sin p_ij, cos p_ij] g_ij^T``,
``dJ/dp_ij = (W_j g_ij)_sin * cos p_ij - (W_j g_ij)_cos * sin p_ij`` and
``dJ/dc_j = sum_i 2 pi x_ij dJ/dp_ij``, reading the sines and cosines that
:func:`plr_forward` keeps (:class:`skreg._engine.backward.PLRStep`).

A learned per-input scale (``scale_layer``, RealMLP's scaling layer) is
stored last: ``u`` (``layer_sizes[0]``), the first layer's input ``j`` being
multiplied by ``s_j = 1 + SCALE_LAYER_RATE * u_j``. It is folded into the
first layer's matrix, ``W_1' = diag(s) W_1`` (:meth:`StackedMLP.layer_weights`):
the same product, with no extra pass over the batch.

The L0 gates (``gates``, :class:`~skreg._engine.regularizers.L0Gates`) are
stored after it: ``v``, one per input of the first layer (``'features'``) or
one per connection weight (``'weights'``), the gate's ``log_alpha = GATE_INIT
+ GATE_RATE * v``. :meth:`StackedMLP.layer_weights` applies their
deterministic value (exact zeros for closed gates); a training step applies a
stochastic sample (:meth:`StackedMLP.gate_values`).

A penalty over "all weights, no biases" is then one operation on ``coef``,
and the optimizer updates two tensors per step whatever ``C`` is: Adam is
element-wise, so each member keeps its own moments. Weights are stored as
``(fan_in, fan_out)``, scikit-learn's layout, so ``coefs_`` needs no
transpose.
"""

import math
from typing import Callable, NamedTuple, Optional

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

aten = torch.ops.aten


class Activation(NamedTuple):
    """A hidden-layer activation and its backward pass.

    ``forward(z)`` may overwrite ``z``. ``backward(delta, a, z)`` returns
    ``delta * g'(z)`` given the output ``a = g(z)``, with the kernels autograd
    itself uses; ``needs_input`` says whether it reads ``z`` (then the
    forward pass keeps a copy).
    """

    forward: Callable
    backward: Optional[Callable]
    needs_input: bool = False


#: hidden activations by the names the estimators accept. A new activation is
#: one entry here (forward, its backward kernel) and the estimators' constraint
ACTIVATIONS = {
    "identity": Activation(lambda z: z, None),
    "relu": Activation(torch.relu_, lambda d, a, z: aten.threshold_backward(d, a, 0)),
    "tanh": Activation(torch.tanh_, lambda d, a, z: aten.tanh_backward(d, a)),
    "logistic": Activation(torch.sigmoid_, lambda d, a, z: aten.sigmoid_backward(d, a)),
    "gelu": Activation(F.gelu, lambda d, a, z: aten.gelu_backward(d, z), True),
}


def plr_forward(x, c, W, b, cache=None):
    """The PLR embedding of numeric inputs, autograd-compatible.

    ``x`` is ``(..., n, F)``, ``c`` ``(..., F, k)``, ``W`` ``(..., F, 2k, d)``
    and ``b`` ``(..., F, d)`` (the leading axes: the members of a stack; a
    2-D ``x`` is the same rows for every member); returns ``(..., n, F *
    d)``: per input ``j``, ``e_j = ReLU(a_j)`` with
    ``a_j = W_j^T z_j + b_j``, ``z_j = [sin(p_j), cos(p_j)]`` and
    ``p_j = (2 pi x_j) c_j``.

    The work runs feature-major with the rows last, ``(..., F, ., n)``: the
    ``F`` maps are one batched product with the rows as its long axis (on
    CPU about 2x faster than rows first for these small matrices), and the
    result is a transposed view of ``(..., F d, n)``, which the first
    layer's input copies once. ``cache``, a dict, receives what the hand-written backward
    pass reads (:class:`skreg._engine.backward.PLRStep`): ``u = 2 pi x^T``
    ``(..., F, n)``, ``sin`` and ``cos`` (``sin(p)`` and ``cos(p)``,
    ``(..., F, k, n)``), ``z`` ``(..., F, 2k, n)`` and ``e``, the
    embedding ``(..., F d, n)``.
    """
    u = (2 * math.pi) * x.transpose(-1, -2).contiguous()        # (..., F, n)
    p = c.unsqueeze(-1) * u.unsqueeze(-2)                       # (..., F, k, n)
    sin, cos = torch.sin(p), torch.cos(p)
    z = torch.cat([sin, cos], -2)                               # (..., F, 2k, n)
    e = torch.relu_(batched(torch.baddbmm, b.unsqueeze(-1), W.transpose(-1, -2), z))
    e = e.flatten(-3, -2)                                       # (..., F d, n)
    if cache is not None:
        cache.update(u=u, sin=sin, cos=cos, z=z, e=e)
    return e.transpose(-1, -2)


def batched(product, *operands, out=None):
    """``product`` (``torch.bmm`` or ``torch.baddbmm``) over the leading axes.

    The operands are ``(F, r, c)`` (one network: the product itself) or
    ``(C, F, r, c)``, a 3-D one then being the same for every member.
    ``product`` takes one batch axis, so the two leading axes are merged,
    which copies an operand where they do not merge (a block of a stack's
    ``coef``, a shared operand). ``out``: where the result goes, written in
    place for one network, else copied there.
    """
    lead = max(operands, key=torch.Tensor.dim).shape[:-2]
    if len(lead) == 1:
        return product(*operands) if out is None else product(*operands, out=out)
    flat = [(t if t.dim() == 4 else t.expand(*lead, *t.shape[-2:])).flatten(0, 1)
            for t in operands]
    result = product(*flat).unflatten(0, lead)
    return result if out is None else out.copy_(result)


#: standard deviation of the initial embedding-table entries: small next to
#: the other inputs (about 1), so that a category's row starts near the
#: average and moves away only as far as its rows pull it (on rodents'
#: 24-level plot_id, 2-fold accuracy 0.7256 with 1.0, 0.7471 with 0.1)
TABLE_INIT_STD = 0.1


#: the factor ``c`` of the learned input scale ``s = 1 + c u``. Adam moves
#: ``u`` by about the learning rate per step whatever its gradient's size, so
#: ``c`` is the scale's learning-rate factor (RealMLP's is 6), and an L2
#: penalty on ``u`` pulls ``s`` towards 1 with strength ``1 / c^2``
SCALE_LAYER_RATE = 6.0


#: the hard-concrete distribution of the L0 gates (Louizos, Welling and
#: Kingma, 2018): temperature ``beta`` and the stretch interval ``(gamma, zeta)``
GATE_BETA, GATE_GAMMA, GATE_ZETA = 2.0 / 3.0, -0.1, 1.1

#: a gate's ``log_alpha = GATE_INIT + GATE_RATE * v`` with ``v`` stored in
#: ``coef``, initially 0. At ``log_alpha = 3`` the deterministic gate
#: ``clip(sigmoid(3) (zeta - gamma) + gamma, 0, 1)`` is exactly 1: the network
#: starts as the plain one, and a penalty on ``coef`` (L2, L1) pulls the
#: gates back towards open
GATE_INIT = 3.0

#: ``log_alpha``'s learning-rate factor: Adam moves ``v`` by about the
#: learning rate per step, so a gate can close (``log_alpha < -log(11)``,
#: about 5.4 below its start) in some hundreds of steps at ``lr = 1e-3``
GATE_RATE = 10.0


def hard_concrete(v, noise=None, derivative=False):
    """L0 gates from their parameters ``v`` (``log_alpha = GATE_INIT + GATE_RATE * v``).

    Without ``noise``, the deterministic gate
    ``clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``; with ``noise``
    ``u ~ U(0, 1)`` (``v``'s shape), the hard-concrete sample
    ``clip(sigmoid((log u - log(1 - u) + log_alpha) / beta) (zeta - gamma) + gamma, 0, 1)``
    (Louizos, Welling and Kingma, 2018). Elementwise and autograd-compatible;
    ``derivative=True`` also returns ``dz/dv`` (0 where the clip is active),
    for the hand-written step.
    """
    log_alpha = GATE_INIT + GATE_RATE * v
    if noise is None:
        s, temperature = torch.sigmoid(log_alpha), 1.0
    else:
        s = torch.sigmoid((torch.log(noise) - torch.log1p(-noise) + log_alpha) / GATE_BETA)
        temperature = GATE_BETA
    stretched = s * (GATE_ZETA - GATE_GAMMA) + GATE_GAMMA
    z = stretched.clamp(0.0, 1.0)
    if not derivative:
        return z
    inside = (stretched > 0) & (stretched < 1)
    return z, s * (1 - s) * (GATE_RATE * (GATE_ZETA - GATE_GAMMA) / temperature) * inside


def glorot_bound(activation, fan_in, fan_out):
    """scikit-learn's initialisation bound ``sqrt(f / (fan_in + fan_out))``.

    ``f = 2`` for the logistic activation and ``f = 6`` otherwise
    (Glorot & Bengio's uniform initialisation, as ``MLPClassifier`` uses).
    """
    factor = 2.0 if activation == "logistic" else 6.0
    return math.sqrt(factor / (fan_in + fan_out))


def affine(h, W, b, alpha=1.0):
    """``alpha * h @ W + b`` for one network (2-D) or a stack (3-D ``W``).

    A 2-D ``h`` with a 3-D ``W`` is the same rows for every member.
    """
    if W.dim() == 2:
        return torch.addmm(b, h, W, alpha=alpha)
    if h.dim() == 2:
        h = h.expand(W.shape[0], *h.shape)
    return torch.baddbmm(b, h, W, alpha=alpha)


class StackedMLP(nn.Module):
    """``C`` fully connected networks whose parameters are two stacked flat tensors.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : {'identity', 'relu', 'tanh', 'logistic', 'gelu'}
        Hidden-layer activation.
    n_members : int, default=1
        Number of networks ``C``.
    batch_norm : bool, default=False
        Batch normalization of each hidden layer's pre-activation (one
        network only).
    tables : sequence of (int, int), default=()
        ``(n_codes, dim)`` of the embedding table of each categorical
        input. The inputs are then ``n_dense`` numeric columns followed by
        one integer code (stored as a float) per table, and
        ``layer_sizes[0]`` counts each table's ``dim``.
    plr : (sequence of int, int, int, float) or None, default=None
        ``(columns, k, d, sigma)`` of the learned periodic embedding: the
        numeric input columns it embeds, ``k`` frequencies (initially
        ``N(0, sigma^2)``) and ``d`` outputs per column; ``layer_sizes[0]``
        counts its ``len(columns) * d`` outputs, which the first layer sees
        after the numeric inputs themselves.
    scale_layer : bool, default=False
        A learned scale ``s_j = 1 + SCALE_LAYER_RATE * u_j`` of each of the
        first layer's inputs (after the embeddings), ``u`` initially 0.
    gates : {'features', 'weights'} or None, default=None
        L0 gates (:class:`~skreg._engine.regularizers.L0Gates`): one per
        input of the first layer, or one per connection weight, stored
        last in ``coef`` as ``v`` (initially 0, ``log_alpha = GATE_INIT +
        GATE_RATE * v``).
    count_steps : bool, default=False
        Keep the number of training steps since initialisation in the
        buffer ``n_steps`` (the gradient noise's schedule), saved with the
        module's state.

    Attributes
    ----------
    coef : torch.nn.Parameter of shape (C, n_weights)
        Each member's weight matrices, layer after layer, row-major
        ``(fan_in, fan_out)``, then its embedding tables, row-major
        ``(n_codes, dim)``, then the PLR parameters, the input scale's ``u``
        and the gates' ``v``.
    intercept : torch.nn.Parameter of shape (C, n_biases)
        Each member's bias vectors, layer after layer.
    """

    def __init__(self, layer_sizes, activation="relu", n_members=1, batch_norm=False,
                 tables=(), plr=None, scale_layer=False, gates=None, count_steps=False):
        super().__init__()
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        self.n_members = int(n_members)
        self.tables = tuple((int(k), int(d)) for k, d in tables)
        if plr:
            columns, k, d, sigma = plr
            self.plr = (tuple(int(j) for j in columns), int(k), int(d), float(sigma))
        else:
            self.plr = None
        n_plr_out = len(self.plr[0]) * self.plr[2] if self.plr else 0
        self.n_dense = self.layer_sizes[0] - sum(d for _, d in self.tables) - n_plr_out
        if self.n_dense < 0:
            raise ValueError("The embeddings are wider than the first layer's input.")
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        self.n_layer_weights = sum(a * b for a, b in shapes)
        self.n_table_weights = sum(k * d for k, d in self.tables)
        F = len(self.plr[0]) if self.plr else 0
        k, d = (self.plr[1], self.plr[2]) if self.plr else (0, 0)
        self.n_plr_weights = F * (k + 2 * k * d + d)
        self.scale_layer = bool(scale_layer)
        self.n_scale_weights = self.layer_sizes[0] if self.scale_layer else 0
        if gates not in (None, "features", "weights"):
            raise ValueError(f"gates must be None, 'features' or 'weights'; got {gates!r}.")
        self.gates = gates
        self.n_gate_weights = self.gate_count(self.layer_sizes, gates)
        self.coef = nn.Parameter(torch.zeros(
            self.n_members, self.n_layer_weights + self.n_table_weights + self.n_plr_weights
            + self.n_scale_weights + self.n_gate_weights))
        if count_steps:
            self.register_buffer("n_steps", torch.zeros((), dtype=torch.int64))
        self.intercept = nn.Parameter(torch.zeros(self.n_members, sum(self.layer_sizes[1:])))
        if batch_norm and self.n_members != 1:
            raise ValueError("batch_norm is supported for a single network only.")
        self.batch_norm = bool(batch_norm)
        self.norms = (nn.ModuleList(nn.BatchNorm1d(width) for width in self.layer_sizes[1:-1])
                      if batch_norm else None)

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def plr_slice(self):
        """Where the PLR parameters are in ``coef``'s last axis (after the tables)."""
        start = self.n_layer_weights + self.n_table_weights
        return slice(start, start + self.n_plr_weights)

    @property
    def scale_slice(self):
        """Where the input scale's ``u`` is in ``coef``'s last axis (after the PLR)."""
        start = self.n_layer_weights + self.n_table_weights + self.n_plr_weights
        return slice(start, start + self.n_scale_weights)

    @staticmethod
    def gate_count(layer_sizes, gates):
        """The number of L0 gates: the first layer's inputs, the connection weights, or 0."""
        if gates == "features":
            return int(layer_sizes[0])
        if gates == "weights":
            return sum(int(a) * int(b) for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
        return 0

    @property
    def gate_slice(self):
        """Where the L0 gates' ``v`` is in ``coef``'s last axis (last)."""
        start = self.coef.shape[-1] - self.n_gate_weights
        return slice(start, start + self.n_gate_weights)

    def gate_values(self, flat=None, noise=None):
        """The L0 gates ``z``, shape ``(C, n_gates)``, autograd-compatible.

        With ``log_alpha = GATE_INIT + GATE_RATE * v`` and Louizos et al.'s
        hard-concrete distribution (``beta, gamma, zeta = 2/3, -0.1, 1.1``):
        without ``noise`` the deterministic gate of prediction,
        ``z = clip(sigmoid(log_alpha) (zeta - gamma) + gamma, 0, 1)``, exactly
        0 for ``log_alpha <= -log(11)``; with ``noise`` (``u ~ U(0, 1)`` of
        that shape) the training sample
        ``s = sigmoid((log u - log(1 - u) + log_alpha) / beta)``,
        ``z = clip(s (zeta - gamma) + gamma, 0, 1)`` (:func:`hard_concrete`).
        ``flat`` is ``coef`` (the default) or a copy of it.
        """
        flat = self.coef if flat is None else flat
        return hard_concrete(flat[:, self.gate_slice], noise)

    def gate_layout(self, z):
        """Gates ``z`` ``(C, n_gates)`` shaped to multiply the matrices of :meth:`coef_views`.

        ``'features'``: one list entry, a column ``(F, 1)`` or ``(C, F, 1)``
        for the first matrix's rows; ``'weights'``: one matrix per layer.
        """
        if self.gates == "features":
            return [z[0].unsqueeze(-1) if self.n_members == 1 else z.unsqueeze(-1)]
        return self.coef_views(z)

    def gated(self, views, z):
        """The matrices ``views`` (as :meth:`coef_views` gives them) times their gates ``z``."""
        views = list(views)
        for k, g in enumerate(self.gate_layout(z) if self.gates else ()):
            views[k] = views[k] * g
        return views

    def input_scale(self, flat=None):
        """``s = 1 + SCALE_LAYER_RATE * u`` as a column, ``(F, 1)`` or ``(C, F, 1)``.

        ``flat`` is ``coef`` (the default) or a detached copy of it.
        """
        flat = self.coef if flat is None else flat
        s = 1.0 + SCALE_LAYER_RATE * flat[:, self.scale_slice]
        return s[0].unsqueeze(-1) if self.n_members == 1 else s.unsqueeze(-1)

    def layer_weights(self, flat=None, views=None):
        """The matrices the layers apply: :meth:`coef_views` with the gates and scale folded in.

        With L0 gates each stored matrix is multiplied by its deterministic
        gates (:meth:`gate_values`), which zeroes the closed ones exactly;
        then the first is ``diag(s) W_1`` with the learned input scale (a
        new tensor). Without either they are views of the stored matrices.
        ``views``: the gated matrices to fold the scale into instead (a
        training step's stochastic sample).
        """
        if views is None:
            views = self.coef_views(flat)
            if self.gates:
                views = self.gated(views, self.gate_values(flat))
        views = list(views)
        if self.scale_layer:
            views[0] = views[0] * self.input_scale(flat)
        return views

    @property
    def coef_flat(self):
        """The weights of a single network, shape ``(n_weights,)`` (a view)."""
        return self.coef[0] if self.n_members == 1 else self.coef

    def _matrix_views(self, flat, shapes, start):
        """Views of ``flat`` as consecutive row-major matrices of ``shapes`` from ``start``.

        ``(rows, cols)`` each for one network, ``(C, rows, cols)`` for a stack.
        """
        flat = self.coef if flat is None else flat
        views = []
        for rows, cols in shapes:
            block = flat[:, start:start + rows * cols]
            views.append(block[0].view(rows, cols) if self.n_members == 1
                         else block.view(self.n_members, rows, cols))
            start += rows * cols
        return views

    def coef_views(self, flat=None):
        """Views of ``flat`` (default ``coef``, or its gradient) as the layers' matrices."""
        return self._matrix_views(flat, zip(self.layer_sizes[:-1], self.layer_sizes[1:]), 0)

    def table_views(self, flat=None):
        """Views of ``flat`` (default ``coef``, or its gradient) as the embedding tables.

        ``(n_codes, dim)`` for one network, ``(C, n_codes, dim)`` for a stack.
        """
        return self._matrix_views(flat, self.tables, self.n_layer_weights)

    def plr_views(self, flat=None):
        """``(c, W, b)``: views of ``flat`` as the PLR parameters.

        ``flat`` is ``coef`` (the default), its gradient, or its PLR block
        alone; the shapes are ``(F, k)``, ``(F, 2k, d)`` and ``(F, d)``, with
        a leading member axis for a stack.
        """
        flat = self.coef if flat is None else flat
        if flat.shape[-1] != self.n_plr_weights:
            flat = flat[:, self.plr_slice]
        F, (k, d) = len(self.plr[0]), self.plr[1:3]
        lead = () if self.n_members == 1 else (self.n_members,)
        block = flat[0] if self.n_members == 1 else flat
        sizes = (F * k, F * 2 * k * d, F * d)
        c, W, b = torch.split(block, sizes, dim=-1)
        return (c.reshape(*lead, F, k), W.reshape(*lead, F, 2 * k, d),
                b.reshape(*lead, F, d))

    def plr_inputs(self, X):
        """The numeric inputs the PLR embedding takes, ``(..., n, F)``.

        A view of X where the columns are consecutive (a copy otherwise); a
        2-D X gives the same rows for every member.
        """
        columns = self.plr[0]
        first = columns[0]
        if columns == tuple(range(first, first + len(columns))):
            return X[..., first:first + len(columns)]
        return X[..., list(columns)]

    def embed_codes(self, X, plr_out=None):
        """The first layer's input: numeric columns, PLR outputs, table rows.

        The numeric columns of X, then the PLR embedding of some of them,
        then each code's table row.

        ``X`` is ``(n, n_inputs)`` or ``(C, n, n_inputs)``; the result is
        ``(n, layer_sizes[0])`` for one network and ``(C, n,
        layer_sizes[0])`` for a stack. Without tables or PLR, X itself.
        ``plr_out`` is the PLR embedding when the caller computed it.
        """
        if not self.tables and not self.plr:
            return X
        dense = X[..., :self.n_dense]
        stacked = self.n_members > 1
        if stacked and dense.dim() == 2:
            dense = dense.expand(self.n_members, *dense.shape)
        parts = [dense]
        if self.plr:
            parts.append(plr_forward(self.plr_inputs(X), *self.plr_views())
                         if plr_out is None else plr_out)
        codes = X[..., self.n_dense:].long() if self.tables else None
        for t, E in enumerate(self.table_views()):
            c = codes[..., t]
            if not stacked:
                parts.append(E.index_select(0, c))
            elif c.dim() == 1:
                parts.append(E.index_select(1, c))  # the same rows for every member
            else:
                members = torch.arange(self.n_members, device=c.device).unsqueeze(1)
                parts.append(E[members, c])
        return torch.cat(parts, -1)

    def intercept_views(self, flat=None):
        """Views of ``flat`` (default ``intercept``) as the layers' biases.

        ``(fan_out,)`` for one network, ``(C, 1, fan_out)`` for a stack.
        """
        flat = self.intercept if flat is None else flat
        C, views, start = self.n_members, [], 0
        for fan_out in self.layer_sizes[1:]:
            block = flat[:, start:start + fan_out]
            views.append(block[0] if C == 1 else block.unsqueeze(1))
            start += fan_out
        return views

    @torch.no_grad()
    def reset_parameters(self, seeds):
        """Glorot-uniform initialisation, member ``m`` from ``seeds[m]`` alone.

        Each layer's weights, then its biases, are drawn from ``U(-b, b)``
        (:func:`glorot_bound`) in float64 by a CPU generator seeded with the
        member's seed, and cast to the parameters' dtype: a seed gives the
        same network on every device and in every dtype, and a member of a
        stack the same network as a single fit with its seed. The embedding
        tables are drawn last, from ``N(0, TABLE_INIT_STD^2)`` (0.1), so that
        the layers do not depend on them.
        """
        coef = np.empty(tuple(self.coef.shape))
        intercept = np.empty(tuple(self.intercept.shape))
        for m, seed in enumerate(seeds):
            rng = np.random.default_rng(int(seed))
            w_start = b_start = 0
            for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
                bound = glorot_bound(self.activation, fan_in, fan_out)
                coef[m, w_start:w_start + fan_in * fan_out] = rng.uniform(
                    -bound, bound, fan_in * fan_out)
                intercept[m, b_start:b_start + fan_out] = rng.uniform(-bound, bound, fan_out)
                w_start += fan_in * fan_out
                b_start += fan_out
            n_tables = self.n_table_weights
            coef[m, w_start:w_start + n_tables] = TABLE_INIT_STD * rng.standard_normal(n_tables)
            if self.plr:
                columns, k, d, sigma = self.plr
                F, bound = len(columns), 1.0 / math.sqrt(2 * k)
                start = w_start + n_tables
                coef[m, start:start + F * k] = rng.normal(0.0, sigma, F * k)
                start += F * k
                coef[m, start:start + F * (2 * k * d + d)] = rng.uniform(
                    -bound, bound, F * (2 * k * d + d))
            coef[m, self.scale_slice] = 0.0  # s = 1: the plain network to start
            coef[m, self.gate_slice] = 0.0  # log_alpha = GATE_INIT: every gate open
        self.coef.copy_(torch.from_numpy(coef))
        if hasattr(self, "n_steps"):
            self.n_steps.zero_()
        self.intercept.copy_(torch.from_numpy(intercept))
        return self

    def forward(self, X, keep_masks=None, hidden_noise=0.0, generator=None, weights=None):
        """Raw outputs (logits) of every member, autograd-compatible.

        ``X`` is ``(n, n_inputs)`` (the same rows for every member) or
        ``(C, n, n_inputs)``.
        ``keep_masks`` (one tensor or None per hidden layer, holding 0 for a
        dropped unit and ``1 / (1 - p)`` for a kept one, as
        :class:`skreg._engine.noise.DropoutMasks` draws them) multiply the
        hidden activations whenever they are given, in either mode: Monte
        Carlo dropout passes them in ``eval()`` mode, where batch norm uses
        its running statistics, without switching the module (shared by
        concurrent predictions) to training. In ``train()`` mode
        ``hidden_noise`` adds Gaussian noise of that standard deviation to
        the hidden activations. ``weights``: the matrices the layers apply
        (default :meth:`layer_weights`; a training step's perturbed ones).

        Returns
        -------
        Tensor of shape (n, n_outputs) for one network, (C, n, n_outputs) for a stack.
        """
        act = ACTIVATIONS[self.activation].forward
        h = self.embed_codes(X)
        coefs = self.layer_weights() if weights is None else weights
        intercepts = self.intercept_views()
        last = len(coefs) - 1
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            h = affine(h, W, b)
            if i < last:
                if self.norms is not None:
                    h = self.norms[i](h)
                # in place is safe for autograd: neither addmm's nor batch
                # norm's backward needs its output, and the activations' own
                # backward reads the activated result
                h = act(h)
                if self.training and hidden_noise > 0:
                    h = h + hidden_noise * torch.randn(
                        h.shape, generator=generator, dtype=h.dtype, device=h.device)
                if keep_masks is not None and keep_masks[i] is not None:
                    h = h * keep_masks[i]
        return h

    @torch.no_grad()
    def select(self, members):
        """Keep only the members at positions ``members`` (an index tensor), in place."""
        self.n_members = len(members)
        self.coef = nn.Parameter(self.coef.index_select(0, members))
        self.intercept = nn.Parameter(self.intercept.index_select(0, members))
        return self
