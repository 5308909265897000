"""Stochastic regularizers of a training step: dropout masks, input noise, mixup."""

from collections import deque

import numpy as np
import torch

# dropout units drawn at once (see mask_source)
BANK_UNITS = 1 << 19


def dropout_threshold(p):
    """Dropout probability as a threshold on uniform 16-bit integers (exact to 2**-16)."""
    return min(round(float(p) * 65536), 65535)


def dropout_factor(p):
    """The inverted-dropout factor ``2^16 / (2^16 - t)``, ``1 / (1 - p)`` for the drawn ``p``."""
    return 65536.0 / (65536 - dropout_threshold(p))


class ByteStream:
    """Random bytes from a PCG64 stream, none skipped.

    PCG64 yields 64-bit words; the bytes of a word that a request leaves
    unused are handed out first by the next one, so that the bytes a
    sequence of requests gets do not depend on how it is split.
    """

    def __init__(self, seed):
        self.bits = np.random.PCG64(seed)
        self.rest = np.empty(0, dtype=np.uint8)

    def take(self, n):
        """The next ``n`` bytes, a uint8 array."""
        if n <= self.rest.size:
            out, self.rest = self.rest[:n], self.rest[n:]
            return out
        need = n - self.rest.size
        fresh = self.bits.random_raw((need + 7) // 8).view(np.uint8)
        out = np.concatenate([self.rest, fresh[:need]])
        self.rest = fresh[need:].copy()
        return out

    @property
    def state(self):
        return {"bits": self.bits.state, "rest": self.rest.copy()}

    @state.setter
    def state(self, value):
        self.bits.state = value["bits"]
        self.rest = np.asarray(value["rest"], dtype=np.uint8).copy()


class DropoutMasks:
    """Draws the inverted-dropout masks of every hidden layer of every member.

    Unit ``j`` of layer ``k`` of member ``m`` is dropped with probability
    ``t / 2**16``, ``t = round(2**16 p_mk)``; a kept unit's mask value is the
    inverted-dropout factor ``c = 2^16 / (2^16 - t)`` (``1 / (1 - p)``), a
    dropped one's 0, so that ``h * mask`` is the layer's training output and
    nothing is rescaled at prediction time.

    On the CPU every member draws from streams of its own, one per hidden
    layer, seeded by the member's seed and the layer: its masks are those of
    a single network with its seed and rates, whatever else is in the stack
    (the other configurations of a search, their rates, the bank's size).
    The bits come from numpy's PCG64 (about twice the throughput of torch's
    CPU generator) a byte at a time, which halves the random bits: with
    ``t = 256 h + l``, the high byte ``b`` of a uniform 16-bit ``u`` decides
    whenever ``b != h`` (drop if ``b < h``), and only the units with
    ``b == h`` (1 in 256) draw a low byte ``b'``, from a second stream of
    the layer, and are dropped if ``b' < l``. That is the comparison
    ``u < t``, so the drop probability is exactly ``t / 2**16``. A member
    that keeps every unit of a layer draws nothing for it. On other devices
    ``u`` comes from the torch generator directly, one stream for the stack.

    Parameters
    ----------
    widths : list of int
        Units of each hidden layer.
    rates : array-like of shape (n_members, n_hidden)
        Drop probability of each member's hidden layers.
    seeds : int or array-like of int of shape (n_members,)
        Each member's seed (one int: every member's).
    """

    def __init__(self, widths, rates, seeds):
        rates = np.atleast_2d(np.asarray(rates, dtype=float))
        self.widths = list(widths)
        self._set_thresholds([[dropout_threshold(p) for p in row] for row in rates])
        seeds = np.broadcast_to(np.asarray(seeds, dtype=np.int64), (self.n_members,))
        # streams[m][k] = (high bytes, low bytes) of member m's layer k
        self.streams = [[(ByteStream([int(seed), k, 0]), ByteStream([int(seed), k, 1]))
                         for k in range(self.n_hidden)] for seed in seeds]
        #: chunks of the current bank not used yet (see :func:`mask_source`)
        self.pending = deque()

    def _set_thresholds(self, thresholds):
        self.thresholds = thresholds
        self.n_members, self.n_hidden = len(thresholds), len(self.widths)
        # the hidden layers where at least one member drops units
        self.layers = [(k, w) for k, w in enumerate(self.widths)
                       if any(t[k] for t in thresholds)]
        self.units_per_row = self.n_members * sum(w for _, w in self.layers)

    def __bool__(self):
        return bool(self.layers)

    def __getstate__(self):
        # the drawn bank is not kept: a copy draws a new one from the streams
        state = self.__dict__.copy()
        state.pop("_buffer", None)
        state["pending"] = deque()
        return state

    @property
    def state(self):
        """The streams' states, ``[member][layer] = (high, low)``.

        Each is a :class:`ByteStream` state: its PCG64 state and unused bytes.
        """
        return [[(high.state, low.state) for high, low in member] for member in self.streams]

    @state.setter
    def state(self, value):
        if len(value) != self.n_members or any(len(v) != self.n_hidden for v in value):
            raise ValueError(
                f"The dropout streams' state has {len(value)} members of "
                f"{[len(v) for v in value]} layers; this stack has {self.n_members} of "
                f"{self.n_hidden}.")
        for member, states in zip(self.streams, value):
            for (high, low), (high_state, low_state) in zip(member, states):
                high.state, low.state = high_state, low_state
        self.pending = deque()

    def new_bank(self):
        """Forget the drawn chunks not used yet: the next batch draws a new bank.

        Each ``train`` call starts with one, so that a saved and loaded
        trainer (which keeps the streams, not the drawn masks) trains on as
        the original does.
        """
        self.pending = deque()

    def select(self, members):
        """The masks of ``members`` (positions) only.

        Their streams and the bank's chunks not used yet continue.
        """
        kept = DropoutMasks.__new__(DropoutMasks)
        kept.widths = self.widths
        kept._set_thresholds([self.thresholds[m] for m in members])
        kept.streams = [self.streams[m] for m in members]
        kept.pending = deque()
        if self.pending and kept:
            index = torch.as_tensor(np.asarray(members, dtype=np.int64))
            layers = {k for k, _ in kept.layers}

            def narrow(k, m):
                if m is None or k not in layers:
                    return None
                if self.n_members == 1:
                    return m
                m = m.index_select(0, index.to(m.device))
                return m[0] if kept.n_members == 1 else m

            kept.pending = deque([narrow(k, m) for k, m in enumerate(chunk)]
                                 for chunk in self.pending)
        return kept

    def draw(self, n_rows, dtype, device, generator=None):
        """One mask per hidden layer (None where no member drops units).

        Each is ``(n_rows, width)`` for one member, ``(C, n_rows, width)``
        for several. The masks are views of a buffer the next call reuses.
        """
        C = self.n_members
        total = n_rows * self.units_per_row
        cpu = device.type == "cpu"
        keep = getattr(self, "_buffer", None)
        if keep is None or keep.numel() < total or keep.dtype != dtype \
                or keep.device != device:
            keep = self._buffer = torch.empty(total, dtype=dtype, device=device)
        keep = keep[:total]
        if not cpu:
            bits = torch.empty((total + 3) // 4, dtype=torch.int64, device=device)
            bits = bits.random_(-2 ** 63, None, generator=generator).view(torch.int16)
            # copy to float, then compare in place: twice as fast as comparing
            # integers straight into a float output
            keep.copy_(bits[:total])
        masks, start = [None] * self.n_hidden, 0
        for k, width in self.layers:
            block = n_rows * width
            for m in range(C):
                t = self.thresholds[m][k]
                mask = keep[start:start + block]
                if not t:
                    mask.fill_(1.0)
                elif not cpu:
                    mask.ge_(t - 32768)
                else:
                    high_stream, low_stream = self.streams[m][k]
                    high = high_stream.take(block)
                    mask.copy_(torch.from_numpy(high))
                    h, low = divmod(t, 256)
                    mask.ge_(h + 1 if low else h)
                    if low:
                        ties = np.flatnonzero(high == h)
                        kept = low_stream.take(ties.size) >= low
                        mask[torch.from_numpy(ties)] = torch.from_numpy(kept).to(dtype)
                if t:
                    mask.mul_(65536.0 / (65536 - t))
                start += block
            layer = keep[start - C * block:start]
            masks[k] = (layer.view(n_rows, width) if C == 1
                        else layer.view(C, n_rows, width))
        return masks


def mask_source(masks, batch, generator):
    """A function giving the dropout masks of a batch, or None without dropout.

    Masks are drawn for many batches at once (about 512k units) and split
    into chunks of ``batch`` rows, one chunk per batch (a shorter batch
    takes the first rows of its chunk), so that a batch pays for a multiply
    per layer only. The chunks not used yet stay with ``masks``: a new
    source after members left the stack goes on with them (a ``train`` call
    starts a new bank, :meth:`DropoutMasks.new_bank`). Every member draws
    its rows in order from its own streams, so within a ``train`` call batch
    ``i`` of a member gets chunk ``i`` of its rows, whatever the bank's
    size or the rest of the stack.
    """
    if not masks:
        return None
    n_chunks = max(1, BANK_UNITS // (masks.units_per_row * batch))
    row_axis = 0 if masks.n_members == 1 else 1

    def next_masks(xb):
        # the pending chunks are of this batch size, dtype and device: a
        # train call, the only place these change, starts a new bank
        if not masks.pending:
            # the previous bank's chunks are all used: its buffer is free
            drawn = masks.draw(n_chunks * batch, xb.dtype, xb.device, generator)
            masks.pending.extend(zip(*[[None] * n_chunks if m is None
                                       else m.split(batch, row_axis) for m in drawn]))
        chunk = masks.pending.popleft()
        rows = xb.shape[-2]
        if rows != batch:
            return [None if m is None else m.narrow(row_axis, 0, rows) for m in chunk]
        return chunk

    return next_masks


def batch_transform(input_noise, mixup, generator, rng, n_dense=None):
    """Input noise and mixup, applied to a batch before the step (or None).

    Mixup replaces the batch by ``lam * batch + (1 - lam) * batch[perm]``
    (inputs, targets and weights alike) with ``lam ~ Beta(mixup, mixup)``
    drawn per batch and a random permutation of its rows; input noise adds
    ``N(0, input_noise^2)`` to every input, or with ``n_dense`` (inputs
    followed by embedding codes) to the first ``n_dense`` only. Mixup
    cannot blend codes; the estimators refuse it with embedded columns.
    """
    if not input_noise and not mixup:
        return None

    def transform(xb, tb, wb):
        if mixup:
            lam = float(rng.beta(mixup, mixup))
            perm = torch.randperm(xb.shape[-2], generator=generator, device=xb.device)
            xb = torch.lerp(xb.index_select(-2, perm), xb, lam)
            tb = torch.lerp(tb.index_select(-2, perm), tb, lam)
            if wb is not None:
                wb = torch.lerp(wb.index_select(-1, perm), wb, lam)
        if input_noise:
            # out of place: xb may be a view of the caller's data
            shape = xb.shape if n_dense is None else (*xb.shape[:-1], n_dense)
            noise = input_noise * torch.randn(shape, generator=generator,
                                              dtype=xb.dtype, device=xb.device)
            if n_dense is None:
                xb = xb + noise
            else:
                xb = xb.clone()
                xb[..., :n_dense] += noise
        return xb, tb, wb

    return transform
