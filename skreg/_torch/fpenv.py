"""The floating-point environment of the training loops.

Values below the smallest normal float (about 1.2e-38 in float32) are
*subnormal*; on x86 CPUs an arithmetic operation that reads or produces one
can be handled in microcode, many times slower than a normal one. They arise
as a network trains: the softmax probability of a class the network rules
out underflows (``exp(z) < 1.2e-38`` for ``z < -87``), and so do the
gradients that start from it and Adam's second moments of weights whose
gradients have become tiny. On a small network, late epochs were measured
about 1.45x slower than early ones because of them.

:func:`flush_denormals` therefore runs the training epochs with the CPU's
flush-to-zero and denormals-are-zero modes on (``torch.set_flush_denormal``;
TensorFlow turns the same modes on in its CPU thread pools): a subnormal
result becomes 0 and a subnormal input reads as 0, so each value flushed changes by less than
1.2e-38 (float32) or 2.3e-308 (float64).

The modes belong to a thread, and a new thread copies them from the thread
that starts it. Only the fitting thread flushes: all the intra-op worker
threads that it may use (``torch.get_num_threads()`` of them, which
:func:`skreg._threads.torch_thread_budget` sets to 1 for the small steps of
small networks) are started before the modes are turned on, so they keep
IEEE arithmetic (the parallel kernels of large tensors run there), and the modes
are turned off again when the epochs end, so that input checks, scaling,
``predict`` and everything after the fit see IEEE arithmetic. If the thread
already had either mode on when the context is entered, it is left as it is.
"""

from contextlib import contextmanager

import torch

# 2 ** -126 ~ 1.18e-38 is the smallest normal float32: a quarter of 2e-38 is
# subnormal, and so is the float32 whose bit pattern is the integer 1
_PROBE, _FACTOR = 2e-38, 0.25


def denormals_flushed():
    """Whether this thread flushes subnormal float results to zero (FTZ)."""
    return torch.full((1,), _PROBE, dtype=torch.float32).mul_(_FACTOR).item() == 0.0


def denormals_are_zero():
    """Whether this thread reads subnormal float inputs as zero (DAZ)."""
    tiny = torch.ones(1, dtype=torch.int32).view(torch.float32)  # 1.4e-45, subnormal
    return tiny.mul_(2.0 ** 100).item() == 0.0


# torch splits an element-wise pass into chunks of at least this many
# elements (at::internal::GRAIN_SIZE), one chunk per thread
_GRAIN = 1 << 15


def _start_worker_threads():
    # an element-wise pass of one chunk per thread starts every intra-op
    # thread that this thread may use now, so that none of them is started
    # inside the context and copies the flushing mode
    threads = torch.get_num_threads()
    if threads > 1:
        torch.empty(threads * _GRAIN).fill_(0.0)


@contextmanager
def flush_denormals(device):
    """Context in which this thread flushes subnormal floats to zero (CPU only).

    Parameters
    ----------
    device : torch.device or str
        The training device; on devices other than the CPU nothing changes.

    Yields
    ------
    bool
        Whether this thread flushes subnormals inside the context: False on
        other devices and where torch cannot set the mode; True where the
        thread already flushed them.
    """
    if torch.device(device).type != "cpu":
        yield False
        return
    if denormals_flushed() or denormals_are_zero():
        yield denormals_flushed()   # the caller's own setting: left alone
        return
    _start_worker_threads()
    supported = torch.set_flush_denormal(True)
    try:
        yield supported
    finally:
        if supported:
            torch.set_flush_denormal(False)
