"""The multi-layer perceptron as a torch module with flat parameter storage.

All weight matrices live in one contiguous tensor ``coef_flat`` and all bias
vectors in another, ``intercept_flat``. Each layer's matrix is a view into that
storage, so

* a penalty over "all weights, no biases" is one operation on ``coef_flat``;
* the optimizer updates two tensors per step instead of ``2 * n_layers``;
* the engine can write gradients straight into ``coef_flat.grad`` from its own
  hand-written backward pass (see :mod:`skreg._torch.engine`), which on small
  tabular batches is several times faster than autograd.

Weights are stored as ``(fan_in, fan_out)`` matrices, scikit-learn's layout,
so a layer is ``addmm(b, h, W)`` and ``coefs_`` needs no transpose.
"""

import math
from typing import Callable, NamedTuple, Optional

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


ACTIVATIONS = {
    "identity": Activation(lambda z: z, None),
    "relu": Activation(torch.relu_, lambda d, a, z: aten.threshold_backward(d, a, 0)),
    "tanh": Activation(torch.tanh_, lambda d, a, z: aten.tanh_backward(d, a)),
    "logistic": Activation(torch.sigmoid_, lambda d, a, z: aten.sigmoid_backward(d, a)),
    "gelu": Activation(F.gelu, lambda d, a, z: aten.gelu_backward(d, z), True),
}

# name of the output activation -> function from logits to predictions.
OUT_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": torch.sigmoid,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


class FlatMLP(nn.Module):
    """Fully connected network whose parameters are two flat tensors.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_features, *hidden_layer_sizes, n_outputs]``.
    activation : {'identity', 'relu', 'tanh', 'logistic', 'gelu'}
        Hidden-layer activation.
    out_activation : {'identity', 'logistic', 'softmax'}
        Output activation, applied by :meth:`predict` only; :meth:`forward`
        returns logits, as torch losses expect.
    dropout : sequence of float
        Drop probability after each hidden layer (inverted dropout, active in
        ``train()`` mode only).
    batch_norm : bool, default=False
        Batch normalization of each hidden layer's pre-activation.

    Attributes
    ----------
    coef_flat : torch.nn.Parameter of shape (n_weights,)
        All weight matrices, layer after layer, each row-major
        ``(fan_in, fan_out)``.
    intercept_flat : torch.nn.Parameter of shape (n_biases,)
        All bias vectors, layer after layer.
    """

    def __init__(self, layer_sizes, activation="relu", out_activation="identity",
                 dropout=(), batch_norm=False):
        super().__init__()
        self.layer_sizes = tuple(int(s) for s in layer_sizes)
        self.activation = activation
        self.out_activation = out_activation
        n_hidden = len(self.layer_sizes) - 2
        self.dropout = tuple(float(p) for p in dropout) or (0.0,) * n_hidden
        shapes = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:]))
        self.coef_flat = nn.Parameter(torch.empty(sum(a * b for a, b in shapes)))
        self.intercept_flat = nn.Parameter(torch.empty(sum(self.layer_sizes[1:])))
        self.batch_norm = bool(batch_norm)
        self.norms = (nn.ModuleList(nn.BatchNorm1d(width) for width in self.layer_sizes[1:-1])
                      if batch_norm else None)

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.layer_sizes) - 1

    def coef_views(self, flat=None):
        """Views of ``flat`` (default ``coef_flat``) as the layers' matrices."""
        flat = self.coef_flat if flat is None else flat
        views, start = [], 0
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            views.append(flat[start:start + fan_in * fan_out].view(fan_in, fan_out))
            start += fan_in * fan_out
        return views

    def intercept_views(self, flat=None):
        """Views of ``flat`` (default ``intercept_flat``) as the layers' biases."""
        flat = self.intercept_flat if flat is None else flat
        views, start = [], 0
        for fan_out in self.layer_sizes[1:]:
            views.append(flat[start:start + fan_out])
            start += fan_out
        return views

    @torch.no_grad()
    def reset_parameters(self, generator=None):
        """Glorot-uniform initialisation, as scikit-learn's MLP does it.

        Each layer's weights and biases are drawn from ``U(-b, b)`` with
        ``b = sqrt(f * 6 / (fan_in + fan_out))``, ``f = 2`` for the logistic
        activation and ``f = 1`` otherwise.
        """
        factor = 2.0 if self.activation == "logistic" else 1.0
        for W, b in zip(self.coef_views(), self.intercept_views()):
            fan_in, fan_out = W.shape
            bound = math.sqrt(factor * 6.0 / (fan_in + fan_out))
            W.uniform_(-bound, bound, generator=generator)
            b.uniform_(-bound, bound, generator=generator)
        return self

    def forward(self, X, keep_masks=None, hidden_noise=0.0, generator=None):
        """Logits of the network (autograd-compatible).

        In ``train()`` mode dropout is active: with ``keep_masks`` (one 0/1
        tensor or None per hidden layer, as drawn by the engine) kept units
        are scaled by ``1 / (1 - p)``; without, torch's ``F.dropout`` draws
        the masks. ``hidden_noise`` adds Gaussian noise of that standard
        deviation to each hidden activation (training only).
        """
        act = ACTIVATIONS[self.activation].forward
        h = X
        coefs, intercepts = self.coef_views(), self.intercept_views()
        last = len(coefs) - 1
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            h = torch.addmm(b, h, W)
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
                if self.training and self.dropout[i] > 0:
                    if keep_masks is not None and keep_masks[i] is not None:
                        h = h * keep_masks[i] * (1.0 / (1.0 - self.dropout[i]))
                    else:
                        h = F.dropout(h, self.dropout[i], training=True)
        return h

    @torch.no_grad()
    def predict(self, X, activate=True):
        """Predictions in evaluation mode; logits when ``activate=False``."""
        if self.training:
            self.eval()
        h = self.forward(X)
        return OUT_ACTIVATIONS[self.out_activation](h) if activate else h
