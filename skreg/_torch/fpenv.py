"""The floating-point environment of the training loops.

Values below the smallest normal float (about 1.2e-38 in float32) are
*subnormal*; on x86 CPUs every arithmetic operation that reads or produces
one is handled in microcode, tens of times slower than a normal one. They
arise as a network trains: the softmax probability of a class the network
rules out underflows (``exp(z) < 1.2e-38`` for ``z < -87``), and so do the
gradients that start from it and Adam's second moments of weights whose
gradients have become tiny. On a small network the slowdown was measured at
about 1.45x per epoch late in training.

:func:`flush_denormals` therefore runs the training loops with the CPU's
flush-to-zero and denormals-are-zero modes on (``torch.set_flush_denormal``),
as TensorFlow's CPU thread pools and most GPU kernels do: a subnormal result
becomes 0 and a subnormal input reads as 0, so each value flushed changes by
less than 1.2e-38 (float32) or 2.3e-308 (float64). The
setting belongs to the calling thread; it is restored when the loop ends,
so preprocessing, scoring and ``predict`` are untouched.
"""

from contextlib import contextmanager

import torch

# smallest normal float32 is 2 ** -126 ~ 1.18e-38; a quarter of 2e-38 is subnormal
_PROBE, _FACTOR = 2e-38, 0.25


def denormals_flushed():
    """Whether subnormal float results are flushed to zero in this thread."""
    return torch.full((1,), _PROBE, dtype=torch.float32).mul_(_FACTOR).item() == 0.0


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
        Whether subnormals are flushed inside the context.
    """
    if torch.device(device).type != "cpu" or denormals_flushed():
        yield torch.device(device).type == "cpu"
        return
    supported = torch.set_flush_denormal(True)
    try:
        yield supported
    finally:
        if supported:
            torch.set_flush_denormal(False)
