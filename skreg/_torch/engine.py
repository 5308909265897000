"""The training engine: a skorch ``NeuralNet`` with a lean tabular data path.

skorch provides initialisation hooks, callbacks (stopping, printing, timing),
the history and device handling. What it does per batch (``Dataset``
indexing and collation, a ``.item()`` host synchronisation, several callback
dispatches, autograd bookkeeping) dominates the run time on small tabular
batches, so :meth:`TabularNet.fit_loop` replaces that path:

* the data are moved to the device once per ``fit`` (no copy on the CPU for
  float32 input) and batches are sliced from the tensors by index;
* the forward and backward passes of the MLP are written out by hand
  (:meth:`TabularNet._step_function`, with the same backward kernels
  autograd uses) and gradients land directly in the flat parameter
  tensors' ``.grad``; the optimizer is a regular torch optimizer, fused
  where torch offers it and stepped without its Python overhead
  (:mod:`skreg._torch.optim`);
* losses accumulate on the device and are read once per epoch;
* callbacks see epoch events only (``on_train_begin/end``,
  ``on_epoch_begin/end``), never batch events.
"""

import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import EarlyStopping, EpochTimer, PrintLog

from .network import ACTIVATIONS
from .optim import step_function


class DivergenceError(ValueError, FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


class Convergence(EarlyStopping):
    """scikit-learn's MLP stopping rule as a skorch callback.

    After each epoch the monitored value ``v`` is compared with the best so
    far, ``v*``: the epoch counts as a miss unless ``v < v* - tol`` (lower is
    better) or ``v > v* + tol`` (higher is better). Training stops once the
    misses in a row exceed ``patience`` (``n_iter_no_change``). With
    ``load_best=True`` the weights of the best epoch are restored at the end.

    The rule is checked only in epochs whose ``on_epoch_end`` receives
    ``monitor_convergence=True`` (``partial_fit`` passes False).
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_score_ = np.inf if self.lower_is_better else -np.inf
        self.stopped_ = False

    def on_epoch_end(self, net, monitor_convergence=True, **kwargs):
        if not monitor_convergence:
            return
        score = net.history[-1, self.monitor]
        sign = -1.0 if self.lower_is_better else 1.0
        if sign * score < sign * self.best_score_ + self.threshold:
            self.misses_ += 1
        else:
            self.misses_ = 0
        if sign * score > sign * self.best_score_:
            self.best_score_ = score
            self.best_epoch_ = net.history[-1, "epoch"]
            if self.load_best:
                self.best_model_weights_ = {
                    k: v.detach().clone() for k, v in net.module_.state_dict().items()}
        net.history.record("best_epoch", self.best_epoch_)
        if self.misses_ > self.patience:
            self.stopped_ = True
            self._sink(
                f"Stopping: {self.monitor} did not improve by more than "
                f"tol={self.threshold} for {self.patience} consecutive epochs.",
                verbose=net.verbose,
            )
            raise KeyboardInterrupt


def _threshold(p):
    """Dropout probability as a threshold on uniform 16-bit integers (exact to 2**-16)."""
    return min(round(p * 65536), 65535)


class DropoutMasks:
    """Draws the 0/1 keep-masks of every dropout layer for one batch at once.

    Unit ``j`` of layer ``k`` is dropped with probability
    ``thresholds[k] / 2**16``: 64 random bits give four uniform int16s, each
    compared with the layer's threshold straight into a float tensor. One
    draw per batch for all layers keeps the per-step cost low. On the CPU the
    bits come from numpy's PCG64 (about twice the throughput of torch's CPU
    generator); on other devices from the net's torch generator.

    Parameters
    ----------
    widths : list of int
        Units of each hidden layer.
    thresholds : list of int
        Drop thresholds in ``[0, 2**16)``; 0 means no dropout for that layer.
    seed : int
        Seed of the CPU bit generator.
    """

    def __init__(self, widths, thresholds, seed):
        self.layers = [(k, w, t) for k, (w, t) in enumerate(zip(widths, thresholds)) if t]
        self.n_hidden = len(widths)
        self.units_per_row = sum(w for _, w, _ in self.layers)
        self.bit_generator = np.random.PCG64(seed)

    def __bool__(self):
        return bool(self.layers)

    def draw(self, n_rows, dtype, device, generator=None):
        """List with one ``(n_rows, width)`` mask per hidden layer (None if no dropout)."""
        total = n_rows * self.units_per_row
        n_words = (total + 3) // 4
        if device.type == "cpu":
            bits = torch.from_numpy(self.bit_generator.random_raw(n_words).view(np.int16))
        else:
            bits = torch.empty(n_words, dtype=torch.int64, device=device)
            bits = bits.random_(-2 ** 63, None, generator=generator).view(torch.int16)
        keep = torch.empty(total, dtype=dtype, device=device)
        masks, start = [None] * self.n_hidden, 0
        for k, width, threshold in self.layers:
            stop = start + n_rows * width
            torch.ge(bits[start:stop], threshold - 32768, out=keep[start:stop])
            masks[k] = keep[start:stop].view(n_rows, width)
            start = stop
        return masks


def _optimizer_instance(cls, groups, **kwargs):
    """``cls(groups, **kwargs)``, fused when this torch build supports it.

    One fused kernel per step is the cheapest update on small networks; the
    single-tensor form is next (the default multi-tensor 'foreach' form costs
    more than either when there are only two tensors).
    """
    for extra in ({"fused": True}, {"foreach": False}, {}):
        try:
            return cls(groups, **kwargs, **extra)
        except (RuntimeError, TypeError, ValueError):
            continue
    raise RuntimeError(f"Could not build optimizer {cls.__name__}")  # pragma: no cover


class TabularNet(NeuralNet):
    """skorch net that trains a :class:`~skreg._torch.network.FlatMLP`.

    Parameters
    ----------
    loss : {'log_loss', 'squared_error'}
        Name of the loss, also a key of :data:`skreg._torch.losses.LOSSES`.
    penalty : ElasticNetPenalty
        Penalty on the connection weights, scaled by ``1 / S_B`` per batch.
    decoupled_l2 : bool
        If True the L2 part of the penalty is left to the optimizer's
        ``weight_decay`` (AdamW) instead of the gradient.
    shuffle : bool
        Reshuffle the training rows each epoch.
    seed : int
        Seed of the generator for initialisation, shuffling and dropout.
    dtype : torch.dtype
        Floating dtype of the parameters; data must come in the same dtype.
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``module``, ``criterion``,
        ``optimizer``, ``lr``, ``max_epochs``, ``batch_size``, ``device``,
        ``callbacks``, ``verbose`` and prefixed ``module__*`` /
        ``optimizer__*`` parameters).
    """

    def __init__(self, *args, loss="squared_error", penalty=None,
                 decoupled_l2=False, shuffle=True, seed=0, dtype=torch.float32,
                 **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(*args, **kwargs)
        self.loss = loss
        self.penalty = penalty
        self.decoupled_l2 = decoupled_l2
        self.shuffle = shuffle
        self.seed = seed
        self.dtype = dtype

    @property
    def _default_callbacks(self):
        # PrintLog formats a table row every epoch even when silent, which is
        # a large share of a small fit's time: add it only when it prints
        callbacks = [("epoch_timer", EpochTimer())]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    # ------------------------------------------------------------ initialisation
    def initialize_module(self):
        super().initialize_module()
        self.generator_ = torch.Generator(device=self.device).manual_seed(self.seed)
        module = self.module_
        self.dropout_masks_ = DropoutMasks(
            module.layer_sizes[1:-1], [_threshold(p) for p in module.dropout], self.seed)
        # initialise on the CPU with a CPU generator, so that the same seed
        # gives the same network on every device
        self.module_.to(dtype=self.dtype)
        self.module_.reset_parameters(torch.Generator().manual_seed(self.seed))
        self.module_.to(device=self.device)
        return self

    def initialize_optimizer(self, triggered_directly=None):
        kwargs = self.get_params_for("optimizer")
        weight_decay = kwargs.pop("weight_decay", 0.0)
        groups = [
            {"params": [self.module_.coef_flat], "weight_decay": weight_decay},
            {"params": [self.module_.intercept_flat], "weight_decay": 0.0},
        ]
        self.optimizer_ = _optimizer_instance(
            self.optimizer, groups, lr=self.lr, **kwargs)
        return self

    def to_device_tensor(self, array):
        """``array`` as a tensor on the net's device; no copy for float32 on CPU."""
        if array is None:
            return None
        if isinstance(array, np.ndarray) and not array.flags.writeable:
            with warnings.catch_warnings():
                # read-only arrays (memmaps) are shared, never written to
                warnings.simplefilter("ignore", UserWarning)
                return torch.as_tensor(array, device=self.device)
        return torch.as_tensor(array, device=self.device)

    # ------------------------------------------------------------------ training
    def fit_loop(self, X, y=None, epochs=None, sample_weight=None,
                 X_valid=None, y_valid=None, sample_weight_valid=None,
                 monitor_convergence=True, **_ignored):
        """Train for ``epochs`` epochs (default ``max_epochs``).

        ``y`` holds the training targets as the loss expects them (class
        probabilities, possibly smoothed, or regression targets).
        ``y_valid`` holds validation labels as class indices (classifier) or
        targets (regressor). Each epoch records in ``history``:
        ``train_loss`` (weighted mean data loss), ``penalty``
        (``alpha * P(w) / mean S_B``), ``loss`` (their sum, scikit-learn's
        ``loss_curve_``), and with validation data ``valid_loss`` and
        ``valid_score`` (accuracy or R^2, sample-weighted).
        """
        epochs = self.max_epochs if epochs is None else epochs
        module = self.module_
        for p in (module.coef_flat, module.intercept_flat):
            if p.grad is None:
                p.grad = torch.zeros_like(p)

        X, T = self.to_device_tensor(X), self.to_device_tensor(y)
        W = self.to_device_tensor(sample_weight)
        n = X.shape[0]
        batch = min(self.batch_size, n)
        starts = range(0, n, batch)
        total_weight = float(n if sample_weight is None else sample_weight.sum())
        mean_batch_weight = total_weight / len(starts)
        step = self._step_function()
        valid = None
        if X_valid is not None:
            valid = (self.to_device_tensor(X_valid), self.to_device_tensor(y_valid),
                     self.to_device_tensor(sample_weight_valid))

        for _ in range(epochs):
            self.notify("on_epoch_begin")
            snapshot = [p.detach().clone() for p in (module.coef_flat, module.intercept_flat)]
            module.train()
            loss_sum = torch.zeros((), dtype=torch.float64, device=X.device)
            perm = (torch.randperm(n, generator=self.generator_, device=X.device)
                    if self.shuffle else None)
            for start in starts:
                if perm is None:
                    stop = start + batch
                    xb, tb = X[start:stop], T[start:stop]
                    wb = None if W is None else W[start:stop]
                else:
                    idx = perm[start:start + batch]
                    xb, tb = X.index_select(0, idx), T.index_select(0, idx)
                    wb = None if W is None else W.index_select(0, idx)
                step(xb, tb, wb, loss_sum)

            penalty = self.penalty.value(module.coef_flat.detach()) / mean_batch_weight
            train_loss, penalty = torch.stack([loss_sum / total_weight, penalty]).tolist()
            epoch = len(self.history)
            if not np.isfinite(train_loss):
                with torch.no_grad():
                    module.coef_flat.copy_(snapshot[0])
                    module.intercept_flat.copy_(snapshot[1])
                del self.history[-1]  # the diverged epoch did not happen
                raise DivergenceError(
                    f"Training diverged at epoch {epoch}: the training loss became "
                    f"{train_loss}. Try a smaller learning_rate_init (now {self.lr}), "
                    "scale the input features (e.g. StandardScaler), or clip extreme "
                    "target values.")
            self.history.record("train_loss", train_loss)
            self.history.record("penalty", penalty)
            self.history.record("loss", train_loss + penalty)
            if valid is not None:
                valid_loss, valid_score = self.evaluate(*valid)
                self.history.record("valid_loss", valid_loss)
                self.history.record("valid_score", valid_score)
            self.notify("on_epoch_end", monitor_convergence=monitor_convergence)
        return self

    def _step_function(self):
        """A closure that takes one optimizer step on a batch.

        Built once per ``fit_loop`` call: it holds the layers' weight views,
        their transposes, the gradient views and the optimizer step, so that
        a step costs only tensor operations. With ``a_0 = x``, hidden layers
        ``a_k = c_k m_k * g(a_{k-1} W_k + b_k)`` (``m_k`` the dropout mask,
        ``c_k = 1 / (1 - p_k)``) and output ``z = a_{L-1} W_L + b_L``, the
        batch objective is ``sum_i s_i l_i / S_B + alpha P(W) / S_B``; its
        gradient is ``delta_L = s * dl/dz / S_B``,
        ``dW_k = a_{k-1}^T delta_k``, ``db_k = sum_i delta_k`` and
        ``delta_{k-1} = g'(.) * c_{k-1} m_{k-1} * (delta_k W_k^T)``. The
        factor ``c_k`` is folded into the matrix products (their ``alpha``)
        and the 0/1 mask is multiplied in place, so dropout adds four cheap
        operations per layer.
        """
        module = self.module_
        forward, backward, needs_input = ACTIVATIONS[module.activation]
        coefs, intercepts = module.coef_views(), module.intercept_views()
        coefs_t = [W.t() for W in coefs]
        coef_flat, coef_grad = module.coef_flat.detach(), module.coef_flat.grad
        g_coefs = module.coef_views(coef_grad)
        g_intercepts = module.intercept_views(module.intercept_flat.grad)
        n_hidden = len(coefs) - 1
        # input_scale[k]: factor c of the dropout on the input of layer k
        input_scale = [1.0] + [65536.0 / (65536 - _threshold(p)) for p in module.dropout]
        # the relu and logistic backward kernels give zero wherever the
        # (masked) output is zero, which already applies the dropout mask
        masked_by_backward = module.activation in ("relu", "logistic")
        loss_and_grad = self.criterion_.loss_and_grad
        penalty, keep_l2 = self.penalty, not self.decoupled_l2
        optimizer_step = step_function(self.optimizer_)
        generator = self.generator_
        zero = coef_flat.new_zeros(())
        masks = self.dropout_masks_
        no_masks = [None] * n_hidden
        # masks are drawn for many batches at once (~512k units), so that
        # a small batch pays for two views and a multiply per layer only
        bank_units = 1 << 19
        bank = {"masks": None, "row": 0}

        def next_masks(xb):
            rows = xb.shape[0]
            if bank["masks"] is None or bank["row"] + rows > bank["masks_rows"]:
                n_rows = max(rows, bank_units // max(masks.units_per_row, 1))
                bank["masks"] = masks.draw(n_rows, xb.dtype, xb.device, generator)
                bank["masks_rows"], bank["row"] = n_rows, 0
            start = bank["row"]
            bank["row"] = start + rows
            return [None if m is None else m[start:start + rows] for m in bank["masks"]]

        @torch.no_grad()
        def step(xb, tb, wb, loss_sum):
            if wb is not None:
                batch_weight = float(wb.sum())  # one sync per batch with weights
                if batch_weight <= 0:
                    return  # an all-zero-weight batch carries no information
                scale = 1.0 / batch_weight
            else:
                scale = 1.0 / xb.shape[0]
            inputs, outputs, pre = [xb], [], []
            keeps = next_masks(xb) if masks else no_masks
            h = xb
            for k in range(n_hidden):
                z = torch.addmm(intercepts[k], h, coefs[k], alpha=input_scale[k])
                h = forward(z)  # in place, except gelu, whose backward reads z
                pre.append(z if needs_input else None)
                outputs.append(h)
                if keeps[k] is not None:
                    # the activation backward below sees the masked output, which
                    # is harmless: delta is zero wherever the mask dropped a unit
                    h.mul_(keeps[k])
                inputs.append(h)
            out = torch.addmm(intercepts[n_hidden], h, coefs[n_hidden],
                              alpha=input_scale[n_hidden])
            total, delta = loss_and_grad(out, tb, wb)
            loss_sum.add_(total)
            if wb is None:
                delta.mul_(scale)
            else:
                delta.mul_((wb * scale).unsqueeze(1))
            for k in range(n_hidden, -1, -1):
                c = input_scale[k]
                if c == 1.0:
                    torch.mm(inputs[k].t(), delta, out=g_coefs[k])
                else:
                    g_coefs[k].addmm_(inputs[k].t(), delta, beta=0.0, alpha=c)
                torch.sum(delta, 0, out=g_intercepts[k])
                if k:
                    if c == 1.0:
                        delta = torch.mm(delta, coefs_t[k])
                    else:
                        delta = torch.addmm(zero, delta, coefs_t[k], beta=0.0, alpha=c)
                    if keeps[k - 1] is not None and not masked_by_backward:
                        delta.mul_(keeps[k - 1])
                    if backward is not None:
                        delta = backward(delta, outputs[k - 1], pre[k - 1])
            if penalty:
                penalty.add_grad_(coef_grad, coef_flat, scale, l2=keep_l2)
            optimizer_step()

        return step

    @torch.no_grad()
    def evaluate(self, X, y, sample_weight=None):
        """Mean loss and score (accuracy or R^2) on held-out data.

        ``y`` holds class indices for ``loss='log_loss'`` and targets for
        ``loss='squared_error'``. Returns two floats.
        """
        self.module_.eval()
        out = self.module_.forward(X)
        w = (torch.ones(X.shape[0], dtype=out.dtype, device=X.device)
             if sample_weight is None else sample_weight.to(out.dtype))
        total = w.sum()
        if self.loss == "log_loss":
            if out.shape[1] == 1:
                target = y.to(out.dtype).unsqueeze(1)
                pred = (out[:, 0] > 0).long()
            else:
                target = torch.nn.functional.one_hot(y, out.shape[1]).to(out.dtype)
                pred = out.argmax(1)
            losses = self.criterion_(out, target)
            score = torch.dot((pred == y).to(w.dtype), w) / total
        else:
            target = y.to(out.dtype).reshape(out.shape)
            losses = self.criterion_(out, target)
            mean = (w.unsqueeze(1) * target).sum(0) / total
            ss_res = (w.unsqueeze(1) * (target - out) ** 2).sum(0)
            ss_tot = (w.unsqueeze(1) * (target - mean) ** 2).sum(0)
            # R^2 per output as scikit-learn's r2_score: 1 for a perfect fit
            # of a constant target, 0 for an imperfect one
            r2 = torch.where(ss_tot > 0, 1 - ss_res / ss_tot.clamp_min(1e-30),
                             (ss_res == 0).to(out.dtype))
            score = r2.mean()
        loss = torch.dot(losses, w) / total
        return tuple(torch.stack([loss, score]).tolist())
