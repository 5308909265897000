"""How many torch threads a fit may use.

torch's intra-op thread pool is per process and sized for the whole machine.
Across processes, the usual schedulers already divide the cores: joblib's
loky workers and dask's nanny-started workers start with
``OMP_NUM_THREADS`` set to their share (1 when there are as many workers as
cores), which torch reads at start-up. What they cannot see is several fits
running at once in threads of one process (joblib's threading backend, a
dask worker with several threads): each would use the whole pool. A fit
therefore takes a thread budget, ``max(1, P // R)`` for a pool of ``P``
threads and ``R`` fits running in the process, set for its own thread
through OpenMP (torch's CPU backend), so it affects no other fit.

Two more limits apply where the caller states the work of one training step
(:func:`step_work`):

* Small steps run on one thread. A step of a small network is a few dozen
  kernels of a few microseconds each; split over threads, each kernel waits
  for the slowest of them at OpenMP's barrier, which costs more than it
  saves. The budget is at most ``max(1, work // PARALLEL_MIN_WORK)`` for a
  step of ``work`` multiply-adds: 1 below ``2 * PARALLEL_MIN_WORK`` (the
  forward pass of 32 rows through 50 -> 64 -> 64 -> 3 units is 0.24
  million multiply-adds, of 256 rows through 50 -> 256 -> 256 -> 3 units
  20.3 million).
  One thread also keeps all of the fit's arithmetic on the fitting thread,
  the only one that flushes subnormal floats
  (:func:`skreg._torch.fpenv.flush_denormals`).
* Busy CPUs are not counted. When other processes keep cores busy, a
  kernel split over more threads than there are free cores waits at every
  barrier for a thread that is not scheduled; on 2 cores shared with other
  busy processes, fits were measured 3 to 40 times slower on 2 threads than
  on one. Where the operating system reports how many threads are runnable
  (Linux's ``/proc/loadavg``), the budget is at most the number of usable
  CPUs minus the runnable threads of other processes, and at least 1. Other
  processes start and end while a fit runs: before each epoch the training
  loop calls :func:`rebalance`, which moves the budget between 1 and its
  ceiling (the two limits above) to the CPUs free then. (Results do not
  depend on it: torch's matrix products and reductions of a step give the
  same bits on one thread or two.)
"""

import ctypes
import os
import sys
import threading
import time
from contextlib import contextmanager

import torch
from threadpoolctl import ThreadpoolController

#: Multiply-adds of one step's forward pass per intra-op thread; a step with
#: less work than this runs on one thread.
PARALLEL_MIN_WORK = 1 << 22

_lock = threading.Lock()
_running = 0
_openmp = None   # threadpoolctl's controller of the OpenMP runtimes, built once
# torch's OpenMP runtime through ctypes: None before the first look, False
# where it was not found that way (threadpoolctl's controller is used then)
_torch_openmp = None
# the budget of the fit running in each thread (see rebalance)
_local = threading.local()


def _openmp_controller():
    # building a controller scans every loaded library (milliseconds); torch's
    # OpenMP runtime is loaded with torch, before this module runs
    global _openmp
    with _lock:
        if _openmp is None:
            _openmp = ThreadpoolController().select(user_api="openmp")
        return _openmp


def _torch_openmp_runtime():
    """torch's OpenMP runtime as a ``ctypes`` library, or None.

    On Linux, the first of GNU's, Intel's and LLVM's OpenMP libraries already
    loaded under its usual name; :func:`_omp_limit` checks that torch reads
    the thread count it sets. Faster than threadpoolctl's controller, which
    looks at every loaded library (milliseconds with torch's hundreds).
    """
    global _torch_openmp
    if _torch_openmp is None:
        _torch_openmp = False
        if sys.platform.startswith("linux"):
            for name in ("libgomp.so.1", "libiomp5.so", "libomp.so"):
                try:   # only a library already loaded
                    _torch_openmp = ctypes.CDLL(name, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
                    break
                except OSError:
                    continue
    return _torch_openmp or None


@contextmanager
def _omp_limit(budget):
    """Context in which the calling thread's OpenMP runtimes run ``budget`` threads.

    ``budget`` None leaves the count as it is. Yields torch's OpenMP runtime
    (``ctypes``) where it was found directly, whose count is restored on
    exit whatever was set meanwhile; else None.
    """
    global _torch_openmp
    lib = _torch_openmp_runtime()
    if lib is not None:
        before = lib.omp_get_max_threads()
        if budget is not None:
            lib.omp_set_num_threads(budget)
        if budget is None or torch.get_num_threads() == budget:
            try:
                yield lib
            finally:
                lib.omp_set_num_threads(before)
            return
        # not the runtime torch uses
        lib.omp_set_num_threads(before)
        _torch_openmp = False
    if budget is None:
        yield None
    else:
        with _openmp_controller().limit(limits=budget):
            yield None


def step_work(layer_sizes, batch_size, n_networks=1):
    """Multiply-adds of the forward pass of one training step.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, inputs first and outputs last.
    batch_size : int
        Rows per step.
    n_networks : int, default=1
        Networks trained together in each step (a batched search).

    Returns
    -------
    int
        ``n_networks * batch_size * sum(layer_sizes[i] * layer_sizes[i + 1])``.
    """
    sizes = [int(s) for s in layer_sizes]
    return int(n_networks) * int(batch_size) * sum(
        a * b for a, b in zip(sizes[:-1], sizes[1:]))


def _usable_cpus():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # not Linux
        return os.cpu_count() or 1


def _runnable_threads():
    """Runnable threads of the machine and of this process, or None."""
    try:
        with open("/proc/loadavg") as f:
            machine = int(f.read().split()[3].split("/")[0])
        own = 0
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    own += f.read().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:   # the thread ended meanwhile
                pass
    except (OSError, ValueError, IndexError):
        return None
    return machine, own


def free_cpus(samples=3, interval=5e-4):
    """CPUs not kept busy by other processes, or None where unknown.

    Parameters
    ----------
    samples : int, default=3
        Readings of the runnable threads, ``interval`` seconds apart.
    interval : float, default=5e-4
        Seconds between readings.

    Returns
    -------
    int or None
        The usable CPUs of this process minus the fewest runnable threads of
        other processes seen in ``samples`` readings (a thread of this
        process that spins for a moment after its last kernel is not
        counted; a process that keeps a core busy is runnable in every
        reading), at least 0; None where the operating system does not
        report runnable threads (only Linux does).
    """
    others = None
    for i in range(samples):
        if i:
            time.sleep(interval)
        counts = _runnable_threads()
        if counts is None:
            return None
        machine, own = counts
        # this process's own runnable threads include the caller
        seen = max(0, machine - max(own, 1))
        others = seen if others is None else min(others, seen)
    return max(0, _usable_cpus() - others)


def _ceiling(pool, running, work):
    """The budget before the free CPUs are counted: the fits' share, the step's cap."""
    budget = max(1, pool // running)
    if work is not None and budget > 1:
        budget = min(budget, max(1, int(work) // PARALLEL_MIN_WORK))
    return budget


def _budget(pool, running, work):
    budget = _ceiling(pool, running, work)
    if work is not None and budget > 1:
        free = free_cpus()
        if free is not None:
            budget = min(budget, max(1, free))
    return budget


class _Budget:
    """A fit's thread budget, ``ceiling`` its most (the CPUs free aside)."""

    def __init__(self, lib, ceiling, threads):
        self.lib, self.ceiling, self.threads = lib, ceiling, threads


def rebalance():
    """Move the calling thread's budget to the CPUs free now, within its ceiling.

    The training loop calls this before each epoch of a fit running in
    :func:`torch_thread_budget` with its step's work stated, so that a fit
    that started next to busy processes uses the CPUs they leave, and one
    that started on free CPUs gives way to processes started since. Nothing
    happens for small steps (a ceiling of 1), outside a budget, or where
    torch's OpenMP runtime was not found directly.
    """
    fit = getattr(_local, "fit", None)
    if fit is None or fit.ceiling <= 1 or fit.lib is None:
        return
    free = free_cpus(samples=2, interval=2e-4)
    if free is None:
        return
    threads = min(fit.ceiling, max(1, free))
    if threads != fit.threads:
        fit.lib.omp_set_num_threads(threads)
        fit.threads = threads


@contextmanager
def torch_thread_budget(work=None):
    """Context in which the calling thread uses its share of torch's threads.

    Parameters
    ----------
    work : int or None, default=None
        Multiply-adds of one training step (:func:`step_work`) on the CPU;
        None (the fit runs on another device, or its step is not known)
        applies only the division between concurrent fits. With ``work``, the
        budget is also at most ``max(1, work // PARALLEL_MIN_WORK)`` and, where
        :func:`free_cpus` knows, at most ``max(1, free_cpus())``;
        :func:`rebalance` may then move it within the first two limits.

    Yields
    ------
    int
        The number of intra-op threads torch uses in this thread at the start
        of the context. The limit is set for the calling thread only, through
        OpenMP; ``torch.get_num_threads()`` in other threads, and in this
        thread after the context, is what it was before.
    """
    global _running
    with _lock:
        _running += 1
        running = _running
    try:
        pool = torch.get_num_threads()
        budget = _budget(pool, running, work)
        with _omp_limit(budget if budget < pool else None) as lib:
            previous = getattr(_local, "fit", None)
            ceiling = _ceiling(pool, running, work) if work is not None else 1
            _local.fit = _Budget(lib, ceiling, budget)
            try:
                yield torch.get_num_threads()
            finally:
                _local.fit = previous
    finally:
        with _lock:
            _running -= 1


@contextmanager
def training_threads(device, work=None):
    """Context for a fit's epochs: its thread budget and subnormal flushing.

    ``torch_thread_budget(work)`` (CPU only; other devices get
    ``torch_thread_budget()``), with :func:`skreg._torch.fpenv.flush_denormals`
    inside it, so that the intra-op threads that the flushing mode leaves with
    IEEE arithmetic are the budget's.

    Parameters
    ----------
    device : torch.device or str
        The training device.
    work : int or None, default=None
        Multiply-adds of one training step (:func:`step_work`).

    Yields
    ------
    int
        The number of intra-op threads torch uses in this thread inside the
        context (what the estimators report as ``n_threads_``).
    """
    from ._torch.fpenv import flush_denormals

    on_cpu = torch.device(device).type == "cpu"
    with torch_thread_budget(work if on_cpu else None) as n_threads, \
            flush_denormals(device):
        yield n_threads
