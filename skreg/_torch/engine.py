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
  ``on_epoch_begin/end``), never batch events;
* on the CPU the epochs run with subnormal floats flushed to zero
  (:mod:`skreg._torch.fpenv`), which keeps late epochs as fast as early ones.
"""

import math
import warnings

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog

from .fpenv import flush_denormals
from .network import ACTIVATIONS
from .optim import l1_prox, step_function, step_sizes


class DivergenceError(ValueError, FloatingPointError):
    """Raised when the training objective (data loss + penalty) becomes NaN or infinite."""


class Convergence(EarlyStopping):
    """scikit-learn's MLP stopping rule as a skorch callback.

    After each epoch the monitored value ``v`` is compared with the best so
    far, ``v*``: the epoch counts as a miss unless ``v < v* - tol`` (lower is
    better) or ``v > v* + tol`` (higher is better). Training stops once the
    misses in a row exceed ``patience`` (``n_iter_no_change``). With
    ``load_best=True`` the weights of the best epoch are restored at the end.

    The rule is checked only in epochs whose ``on_epoch_end`` receives
    ``monitor_convergence=True`` (``partial_fit`` passes False). With
    ``adaptive=True`` (scikit-learn's ``learning_rate='adaptive'``) the
    learning rate is divided by 5 instead of stopping, and training stops
    only once it would fall below 1e-6.
    """

    def __init__(self, monitor="loss", patience=10, threshold=1e-4, threshold_mode="abs",
                 lower_is_better=True, load_best=False, adaptive=False, sink=print):
        super().__init__(monitor=monitor, patience=patience, threshold=threshold,
                         threshold_mode=threshold_mode, lower_is_better=lower_is_better,
                         load_best=load_best, sink=sink)
        self.adaptive = adaptive

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
        if self.misses_ > self.patience and self.adaptive:
            # scikit-learn's learning_rate='adaptive': divide by 5, stop below 1e-6
            lr = net.optimizer_.param_groups[0]["lr"]
            if lr > 1e-6:
                for group in net.optimizer_.param_groups:
                    group["lr"] = group["lr"] / 5.0
                self.misses_ = 0
                self._sink(f"Learning rate lowered to {lr / 5.0:g}.", verbose=net.verbose)
                return
        if self.misses_ > self.patience:
            self.stopped_ = True
            self._sink(
                f"Stopping: {self.monitor} did not improve by more than "
                f"tol={self.threshold} for {self.patience} consecutive epochs.",
                verbose=net.verbose,
            )
            raise KeyboardInterrupt


class WeightStatistics(Callback):
    """Records statistics of the connection weights ``w`` after each epoch.

    History keys (``W`` is every weight of every layer, biases excluded):
    ``l1_norm`` ``= sum |w|``, ``l2_norm`` ``= sqrt(sum w^2)``,
    ``frac_near_zero`` ``= mean(|w| < 1e-3)`` and ``frac_zero``
    ``= mean(w == 0)``. With ``snapshot_every=k`` the epochs whose number
    (1-based, counted since initialisation) is a multiple of ``k`` also record
    ``coef_snapshot``, a float64 copy of all weights, shape ``(n_weights,)``,
    in the order of ``coef_flat``.

    It runs before the stopping rule, so the last epoch is recorded too.
    """

    near_zero = 1e-3
    keys = ["l1_norm", "l2_norm", "frac_near_zero", "frac_zero", "coef_snapshot"]

    def __init__(self, snapshot_every=None):
        self.snapshot_every = snapshot_every

    def on_epoch_end(self, net, **kwargs):
        with torch.no_grad():
            w = net.module_.coef_flat.detach()
            a = w.abs()
            stats = torch.stack([a.sum(), torch.linalg.vector_norm(w),
                                 (a < self.near_zero).sum(), (a == 0).sum()])
            l1, l2, near, zero = stats.double().tolist()  # one host sync per epoch
        n = max(w.numel(), 1)
        history = net.history
        history.record("l1_norm", l1)
        history.record("l2_norm", l2)
        history.record("frac_near_zero", near / n)
        history.record("frac_zero", zero / n)
        k = self.snapshot_every
        if k and history[-1, "epoch"] % k == 0:
            history.record("coef_snapshot", w.to("cpu", torch.float64).numpy().copy())


class LearningRateSchedule(Callback):
    """Sets the learning rate at the start of each epoch ``e`` (0-based).

    ``'invscaling'``: ``lr_e = lr0 / (1 + e) ** power_t``;
    ``'cosine'``: ``lr_e = lr0 * (1 + cos(pi * e / max_epochs)) / 2``.
    ``e`` counts every epoch since initialisation, so the schedule continues
    across ``partial_fit`` calls and warm starts.
    """

    def __init__(self, kind, lr0, power_t, max_epochs):
        self.kind = kind
        self.lr0 = lr0
        self.power_t = power_t
        self.max_epochs = max_epochs

    def learning_rate(self, epoch):
        """The learning rate of 0-based epoch ``epoch``."""
        if self.kind == "invscaling":
            return self.lr0 / (1.0 + epoch) ** self.power_t
        return self.lr0 * (1.0 + math.cos(math.pi * min(epoch, self.max_epochs)
                                          / self.max_epochs)) / 2.0

    def on_epoch_begin(self, net, **kwargs):
        lr = self.learning_rate(len(net.history) - 1)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr


# dropout units drawn at once (see TabularNet._mask_source)
BANK_UNITS = 1 << 19


def _threshold(p):
    """Dropout probability as a threshold on uniform 16-bit integers (exact to 2**-16)."""
    return min(round(p * 65536), 65535)


class DropoutMasks:
    """Draws the 0/1 keep-masks of every dropout layer for one batch at once.

    Unit ``j`` of layer ``k`` is dropped with probability
    ``t_k / 2**16``, ``t_k = thresholds[k]``: the mask is ``u >= t_k`` for a
    uniform 16-bit integer ``u``. One draw for many rows and all layers keeps
    the per-step cost low.

    On the CPU the bits come from numpy's PCG64 (about twice the throughput
    of torch's CPU generator), and ``u`` is drawn a byte at a time, which
    halves the random bits: with ``t_k = 256 h + l``, the high byte ``b`` of
    ``u`` decides whenever ``b != h`` (drop if ``b < h``), and only the units
    with ``b == h`` (1 in 256) draw a low byte ``b'`` and are dropped if
    ``b' < l``. That is the same comparison ``u >= t_k``, so the drop
    probability is exactly ``h / 256 + l / 65536 = t_k / 2**16``. On other
    devices ``u`` comes from the net's torch generator directly.

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

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_buffer", None)
        return state

    def _random_bytes(self, n):
        return self.bit_generator.random_raw((n + 7) // 8).view(np.uint8)[:n]

    def draw(self, n_rows, dtype, device, generator=None):
        """List with one ``(n_rows, width)`` mask per hidden layer (None if no dropout).

        The masks are views of a buffer that the next call overwrites.
        """
        total = n_rows * self.units_per_row
        cpu = device.type == "cpu"
        if cpu:
            high = self._random_bytes(total)
            bits = torch.from_numpy(high)
        else:
            bits = torch.empty((total + 3) // 4, dtype=torch.int64, device=device)
            bits = bits.random_(-2 ** 63, None, generator=generator).view(torch.int16)
        # copy to float, then compare in place: twice as fast as comparing
        # integers straight into a float output. The buffer is reused: the
        # previous draw's masks are no longer in use when the next is drawn
        keep = getattr(self, "_buffer", None)
        if keep is None or keep.numel() < total or keep.dtype != dtype \
                or keep.device != device:
            keep = self._buffer = torch.empty(total, dtype=dtype, device=device)
        keep = keep[:total].copy_(bits[:total])
        masks, start = [None] * self.n_hidden, 0
        for k, width, threshold in self.layers:
            stop = start + n_rows * width
            mask = keep[start:stop]
            if not cpu:
                mask.ge_(threshold - 32768)
            else:
                h, low = divmod(threshold, 256)
                mask.ge_(h + 1 if low else h)
                if low:
                    ties = np.flatnonzero(high[start:stop] == h)
                    kept = self._random_bytes(ties.size) >= low
                    mask[torch.from_numpy(ties)] = torch.from_numpy(kept).to(dtype)
            masks[k] = mask.view(n_rows, width)
            start = stop
        return masks


def _clone_state(obj):
    """A copy of an optimizer's state with every tensor cloned."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone_state(v) for v in obj)
    return obj


def _restore_state(state, saved):
    """Puts an optimizer's ``state`` back to ``saved`` (from :func:`_clone_state`).

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
    l1_method : {'proximal', 'subgradient'}
        How the L1 part of ``penalty`` is applied.
    group_penalty : GroupLassoPenalty or None
        Group lasso on the input layer, applied as a proximal step.
    max_norm : float or None
        Bound on the L2 norm of each unit's incoming weights.
    input_noise, hidden_noise : float
        Standard deviation of Gaussian noise on inputs / hidden activations.
    mixup : float
        Beta(mixup, mixup) mixing of each batch with a permutation of itself.
    snapshot_every : int or None
        Record a copy of the weights every ``snapshot_every`` epochs
        (:class:`WeightStatistics`).
    **kwargs
        Passed to :class:`skorch.NeuralNet` (``module``, ``criterion``,
        ``optimizer``, ``lr``, ``max_epochs``, ``batch_size``, ``device``,
        ``callbacks``, ``verbose`` and prefixed ``module__*`` /
        ``optimizer__*`` parameters).
    """

    def __init__(self, *args, loss="squared_error", penalty=None,
                 decoupled_l2=False, shuffle=True, seed=0, dtype=torch.float32,
                 l1_method="proximal", group_penalty=None, max_norm=None,
                 input_noise=0.0, hidden_noise=0.0, mixup=0.0, snapshot_every=None,
                 **kwargs):
        kwargs.setdefault("train_split", None)
        super().__init__(*args, **kwargs)
        self.loss = loss
        self.penalty = penalty
        self.decoupled_l2 = decoupled_l2
        self.shuffle = shuffle
        self.seed = seed
        self.dtype = dtype
        self.l1_method = l1_method
        self.group_penalty = group_penalty
        self.max_norm = max_norm
        self.input_noise = input_noise
        self.hidden_noise = hidden_noise
        self.mixup = mixup
        self.snapshot_every = snapshot_every

    @property
    def _default_callbacks(self):
        # PrintLog formats a table row every epoch even when silent, which is
        # a large share of a small fit's time: add it only when it prints
        callbacks = [("epoch_timer", EpochTimer()),
                     ("weight_statistics", WeightStatistics(self.snapshot_every))]
        if self.verbose:
            # the weight statistics stay in the history, out of the printed row
            callbacks.append(("print_log", PrintLog(keys_ignored=WeightStatistics.keys)))
        return callbacks

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = super().__getstate__()
        generator = state.get("generator_")
        if generator is not None:
            # a torch.Generator pickles with its device, which a machine
            # without that device cannot rebuild: keep the device type and
            # the state only
            state["generator_"] = (generator.device.type, generator.get_state())
        return state

    def __setstate__(self, state):
        generator = state.get("generator_")
        super().__setstate__(state)  # maps a CUDA device to the CPU without CUDA
        if isinstance(generator, tuple):
            device_type, generator_state = generator
            self.generator_ = torch.Generator(device=self.device)
            if self.generator_.device.type == device_type:
                self.generator_.set_state(generator_state)
            else:
                self.generator_.manual_seed(self.seed)

    # ------------------------------------------------------------ initialisation
    def initialize_module(self):
        super().initialize_module()
        self.generator_ = torch.Generator(device=self.device).manual_seed(self.seed)
        module = self.module_
        self.dropout_masks_ = DropoutMasks(
            module.layer_sizes[1:-1], [_threshold(p) for p in module.dropout], self.seed)
        self.numpy_random_ = np.random.default_rng(self.seed)
        # initialise on the CPU with a CPU generator, so that the same seed
        # gives the same network on every device
        self.module_.to(dtype=self.dtype)
        self.module_.reset_parameters(torch.Generator().manual_seed(self.seed))
        self.module_.to(device=self.device)
        return self

    def initialize_optimizer(self, triggered_directly=None):
        kwargs = self.get_params_for("optimizer")
        module = self.module_
        if self.optimizer is torch.optim.LBFGS:
            # one L-BFGS iteration per epoch; it takes a single parameter group
            # the strong-Wolfe line search chooses the step; lr=1 is its
            # initial trial step, as in scipy's L-BFGS-B
            self.optimizer_ = torch.optim.LBFGS(
                list(module.parameters()), lr=1.0, max_iter=1, max_eval=25,
                line_search_fn="strong_wolfe", **kwargs)
            return self
        weight_decay = kwargs.pop("weight_decay", 0.0)
        groups = [
            {"params": [module.coef_flat], "weight_decay": weight_decay},
            {"params": [module.intercept_flat], "weight_decay": 0.0},
        ]
        if module.norms is not None:
            groups.append({"params": list(module.norms.parameters()), "weight_decay": 0.0})
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

        On the CPU the loop runs with subnormal floats flushed to zero
        (:func:`skreg._torch.fpenv.flush_denormals`).
        """
        with flush_denormals(self.device):
            return self._fit_epochs(
                X, y, epochs, sample_weight, X_valid, y_valid, sample_weight_valid,
                monitor_convergence)

    def _fit_epochs(self, X, y, epochs, sample_weight, X_valid, y_valid,
                    sample_weight_valid, monitor_convergence):
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
        step = self._step_function(batch)
        valid = None
        if X_valid is not None:
            valid = (self.to_device_tensor(X_valid), self.to_device_tensor(y_valid),
                     self.to_device_tensor(sample_weight_valid))

        # restored when an epoch diverges: parameters, buffers (batch-norm
        # statistics) and the optimizer's state (moments, momentum)
        module_tensors = [*module.parameters(), *module.buffers()]
        for _ in range(epochs):
            self.notify("on_epoch_begin")
            self.history.record("lr", float(self.optimizer_.param_groups[0]["lr"]))
            snapshot = [t.detach().clone() for t in module_tensors]
            optimizer_snapshot = _clone_state(self.optimizer_.state)
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

            with torch.no_grad():
                penalty = self.penalty.value(module.coef_flat.detach())
                if self.group_penalty:
                    penalty = penalty + self.group_penalty.value(module.coef_views()[0])
            penalty = penalty / mean_batch_weight
            train_loss, penalty = torch.stack([loss_sum / total_weight, penalty]).tolist()
            epoch = len(self.history)
            if not np.isfinite(train_loss + penalty):
                with torch.no_grad():
                    for tensor, saved in zip(module_tensors, snapshot):
                        tensor.copy_(saved)
                _restore_state(self.optimizer_.state, optimizer_snapshot)
                del self.history[-1]  # the diverged epoch did not happen
                what = (f"training loss became {train_loss}" if not np.isfinite(train_loss)
                        else f"penalty became {penalty}")
                raise DivergenceError(
                    f"Training diverged at epoch {epoch}: the {what}. Try a smaller "
                    f"learning_rate_init (now {self.lr}), scale the input features "
                    "(e.g. StandardScaler), or clip extreme target values.")
            self.history.record("train_loss", train_loss)
            self.history.record("penalty", penalty)
            self.history.record("loss", train_loss + penalty)
            if valid is not None:
                valid_loss, valid_score = self.evaluate(*valid)
                self.history.record("valid_loss", valid_loss)
                self.history.record("valid_score", valid_score)
            self.notify("on_epoch_end", monitor_convergence=monitor_convergence)
        return self

    def _step_function(self, batch):
        """A closure that takes one optimizer step on a batch of at most ``batch`` rows.

        Built once per ``fit_loop`` call. The plain MLP uses the hand-written
        pass of :meth:`_manual_step`; batch normalization and L-BFGS use
        autograd (:meth:`_autograd_step`). Both share the batch
        transformations before (input noise, mixup) and the proximal and
        max-norm steps after the optimizer step (:meth:`_post_step`).
        """
        module = self.module_
        autograd = module.norms is not None or isinstance(self.optimizer_, torch.optim.LBFGS)
        core = self._autograd_step(batch) if autograd else self._manual_step(batch)
        post_step = self._post_step()
        transform = self._batch_transform()

        @torch.no_grad()
        def step(xb, tb, wb, loss_sum):
            if wb is not None:
                batch_weight = float(wb.sum())  # one sync per batch with weights
                if batch_weight <= 0:
                    return  # an all-zero-weight batch carries no information
                scale = 1.0 / batch_weight
            else:
                scale = 1.0 / xb.shape[0]
            if transform is not None:
                xb, tb, wb = transform(xb, tb, wb)
            core(xb, tb, wb, scale, loss_sum)
            if post_step is not None:
                post_step(scale)

        return step

    def _batch_transform(self):
        """Input noise and mixup, applied to a batch before the step (or None)."""
        noise, mixup = self.input_noise, self.mixup
        if not noise and not mixup:
            return None
        generator, rng = self.generator_, self.numpy_random_

        def transform(xb, tb, wb):
            if mixup:
                lam = float(rng.beta(mixup, mixup))
                perm = torch.randperm(xb.shape[0], generator=generator, device=xb.device)
                xb = torch.lerp(xb.index_select(0, perm), xb, lam)
                tb = torch.lerp(tb.index_select(0, perm), tb, lam)
                if wb is not None:
                    wb = torch.lerp(wb.index_select(0, perm), wb, lam)
            if noise:
                # out of place: xb may be a view of the caller's data
                xb = xb + noise * torch.randn(xb.shape, generator=generator,
                                              dtype=xb.dtype, device=xb.device)
            return xb, tb, wb

        return transform

    def _post_step(self):
        """Proximal steps (L1, group lasso) and the max-norm projection (or None)."""
        module = self.module_
        penalty, group = self.penalty, self.group_penalty
        prox_l1 = bool(penalty) and penalty.l1 > 0 and self.l1_method == "proximal"
        max_norm = self.max_norm
        if not (prox_l1 or group or max_norm):
            return None
        coef_flat = module.coef_flat.detach()
        coefs = module.coef_views(coef_flat)
        n_first = coefs[0].numel()
        first_shape = coefs[0].shape
        if group:
            eta = step_sizes(self.optimizer_, module.coef_flat)
        elif prox_l1:
            # without the group lasso the step sizes are never formed
            prox = l1_prox(self.optimizer_, module.coef_flat)
        l1 = penalty.l1 if prox_l1 else 0.0

        def post_step(scale):
            if group:
                step = eta()
                # before the L1 step, which scales ``step`` in place
                first = (step[:n_first].view(first_shape)
                         if isinstance(step, torch.Tensor) else step)
                group.prox_(coefs[0], first, scale)
                if prox_l1:
                    penalty.prox_(coef_flat, step, scale)
            elif prox_l1:
                prox(l1 * scale)
            if max_norm:
                for W in coefs:
                    # columns hold each unit's incoming weights
                    W.renorm_(2, 1, max_norm)

        return post_step

    def _manual_step(self, batch):
        """The MLP's forward and backward pass written out (no autograd).

        With ``a_0 = x``, layer ``k`` computes ``z_k = c_k a_{k-1} W_k + b_k``
        and, if hidden, ``a_k = m_k * (g(z_k) + n_k)``: ``m_k`` its 0/1 dropout
        mask, ``n_k`` the hidden noise and ``c_k = 2^16 / (2^16 - t)`` the
        inverted dropout factor of the layer's input, ``1 / (1 - p)`` for the
        drop probability ``p`` as the masks draw it, ``t / 2^16`` with
        ``t = round(2^16 p)`` (1 for the first layer and without dropout). The batch objective is
        ``J = sum_i s_i l_i(z_L) / S_B + alpha P(W) / S_B``; with
        ``delta_k = dJ / dz_k``: ``delta_L = s * dl/dz_L / S_B``,
        ``dW_k = c_k a_{k-1}^T delta_k``, ``db_k = sum_i delta_k`` and
        ``delta_{k-1} = g'(z_{k-1}) * m_{k-1} * (c_k delta_k W_k^T)``.

        The pass carries ``D_k = c_k delta_k`` instead, so that the factors
        ride on operations it makes anyway: ``D_L`` takes ``c_L`` with the
        loss gradient's scaling, ``dW_k = a_{k-1}^T D_k``,
        ``D_{k-1} = g' * m_{k-1} * (c_{k-1} D_k W_k^T)`` takes ``c_{k-1}`` as
        the product's ``alpha``, and ``db_k = 1^T D_k / c_k`` is a product
        with a row of ones. The backward kernels are autograd's own, and
        gradients are written straight into the flat parameters' ``.grad``.
        """
        module = self.module_
        forward, backward, needs_input = ACTIVATIONS[module.activation]
        coefs, intercepts = module.coef_views(), module.intercept_views()
        coefs_t = [W.t() for W in coefs]
        coef_flat, coef_grad = module.coef_flat.detach(), module.coef_flat.grad
        g_coefs = module.coef_views(coef_grad)
        g_intercepts = module.intercept_views(module.intercept_flat.grad)
        g_intercept_rows = [g.view(1, -1) for g in g_intercepts]
        n_hidden = len(coefs) - 1
        # input_scale[k]: factor c of the dropout on the input of layer k
        input_scale = [1.0] + [65536.0 / (65536 - _threshold(p)) for p in module.dropout]
        hidden_noise = self.hidden_noise
        # the relu and logistic backward kernels give zero wherever the
        # (masked) output is zero, which already applies the dropout mask
        masked_by_backward = module.activation in ("relu", "logistic") and not hidden_noise
        loss_and_grad = self.criterion_.loss_and_grad
        penalty = self.penalty
        grad_l1 = self.l1_method == "subgradient"
        grad_l2 = not self.decoupled_l2
        optimizer_step = step_function(self.optimizer_)
        # Adam's and SGD's weight_decay is exactly the coupled L2 gradient
        # term: setting it per batch to l2 / S_B costs nothing, while adding
        # alpha * w / S_B to the gradient is one more pass over the weights
        coef_group = self.optimizer_.param_groups[0]
        l2_as_decay = (grad_l2 and getattr(penalty, "l2", 0.0) > 0
                       and type(self.optimizer_) in (torch.optim.Adam, torch.optim.SGD)
                       and coef_group["params"][0] is module.coef_flat)
        penalty_in_grad = bool(penalty) and not (
            l2_as_decay and not (grad_l1 and penalty.l1))
        generator = self.generator_
        next_masks = self._mask_source(batch)
        no_masks = [None] * n_hidden
        top_scale = input_scale[n_hidden]
        ones_rows = {}  # row vectors of ones, by batch size, for the bias gradients

        def bias_gradient(k, delta, c):
            if c == 1.0:
                torch.sum(delta, 0, out=g_intercepts[k])
                return
            ones = ones_rows.get(delta.shape[0])
            if ones is None:
                ones = ones_rows[delta.shape[0]] = delta.new_ones((1, delta.shape[0]))
            g_intercept_rows[k].addmm_(ones, delta, beta=0, alpha=1.0 / c)

        def step(xb, tb, wb, scale, loss_sum):
            inputs, outputs, pre = [xb], [], []
            keeps = next_masks(xb) if next_masks else no_masks
            h = xb
            for k in range(n_hidden):
                z = torch.addmm(intercepts[k], h, coefs[k], alpha=input_scale[k])
                h = forward(z)  # in place, except gelu, whose backward reads z
                pre.append(z if needs_input else None)
                outputs.append(h)
                if hidden_noise:
                    h = h + hidden_noise * torch.randn(h.shape, generator=generator,
                                                       dtype=h.dtype, device=h.device)
                if keeps[k] is not None:
                    # without hidden noise this masks the activation output the
                    # backward kernel reads, which is harmless: delta is zero
                    # wherever the mask dropped a unit
                    h.mul_(keeps[k])
                inputs.append(h)
            out = torch.addmm(intercepts[n_hidden], h, coefs[n_hidden],
                              alpha=input_scale[n_hidden])
            total, delta = loss_and_grad(out, tb, wb)
            loss_sum.add_(total)
            # from here on delta is D_k = c_k delta_k (see the docstring)
            if wb is None:
                delta.mul_(scale * top_scale)
            else:
                delta.mul_((wb * (scale * top_scale)).unsqueeze(1))
            for k in range(n_hidden, -1, -1):
                bias_gradient(k, delta, input_scale[k])
                torch.mm(inputs[k].t(), delta, out=g_coefs[k])
                if k:
                    c = input_scale[k - 1]
                    delta = (torch.mm(delta, coefs_t[k]) if c == 1.0 else
                             torch.addmm(intercepts[k - 1], delta, coefs_t[k],
                                         beta=0, alpha=c))
                    if keeps[k - 1] is not None and not masked_by_backward:
                        delta.mul_(keeps[k - 1])
                    if backward is not None:
                        delta = backward(delta, outputs[k - 1], pre[k - 1])
            if l2_as_decay:
                coef_group["weight_decay"] = penalty.l2 * scale
            if penalty_in_grad:
                penalty.add_grad_(coef_grad, coef_flat, scale, l1=grad_l1,
                                  l2=grad_l2 and not l2_as_decay)
            optimizer_step()

        return step

    def _autograd_step(self, batch):
        """Autograd forward/backward, for batch normalization and L-BFGS."""
        module = self.module_
        optimizer = self.optimizer_
        criterion = self.criterion_
        penalty = self.penalty
        grad_l1 = self.l1_method == "subgradient"
        grad_l2 = not self.decoupled_l2
        hidden_noise, generator = self.hidden_noise, self.generator_
        next_masks = self._mask_source(batch)

        skip_single_rows = module.norms is not None

        def step(xb, tb, wb, scale, loss_sum):
            if skip_single_rows and xb.shape[0] == 1:
                return  # batch statistics of one row are undefined
            keeps = next_masks(xb) if next_masks else None
            totals = []

            def closure():
                optimizer.zero_grad()
                with torch.enable_grad():
                    out = module(xb, keep_masks=keeps, hidden_noise=hidden_noise,
                                 generator=generator)
                    losses = criterion(out, tb)
                    total = losses.sum() if wb is None else torch.dot(losses, wb)
                    objective = total * scale
                    if penalty:
                        objective = objective + scale * penalty.value(
                            module.coef_flat, l1=grad_l1, l2=grad_l2)
                    objective.backward()
                totals.append(total.detach())
                return objective.detach()

            optimizer.step(closure)
            loss_sum.add_(totals[0])  # the loss at the start of the step

        return step

    def _mask_source(self, batch):
        """A function giving the dropout masks of a batch, or None without dropout.

        Masks are drawn for many batches at once (about 512k units) and split
        into chunks of ``batch`` rows, one chunk per batch (a shorter batch
        takes the first rows of its chunk), so that a batch pays for a
        multiply per layer only. Batches must have at most ``batch`` rows.
        The bank's size does not depend on the number of epochs, so that a
        fit's first epochs are those of a longer fit with the same seed.
        """
        masks = self.dropout_masks_
        if not masks:
            return None
        generator = self.generator_
        n_chunks = max(1, BANK_UNITS // (masks.units_per_row * batch))
        chunks = iter(())

        def next_masks(xb):
            nonlocal chunks
            chunk = next(chunks, None)
            if chunk is None:
                # the previous bank's chunks are all used: its buffer is free
                drawn = masks.draw(n_chunks * batch, xb.dtype, xb.device, generator)
                chunks = zip(*[[None] * n_chunks if m is None else m.split(batch)
                               for m in drawn])
                chunk = next(chunks)
            rows = xb.shape[0]
            if rows != batch:
                return [None if m is None else m[:rows] for m in chunk]
            return chunk

        return next_masks

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
