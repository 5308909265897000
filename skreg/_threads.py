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
"""

import threading
from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_running = 0


@contextmanager
def torch_thread_budget():
    """Context in which the calling thread uses its share of torch's threads.

    Yields
    ------
    int
        The number of intra-op threads torch uses in this thread.
    """
    global _running
    with _lock:
        _running += 1
        running = _running
    try:
        pool = torch.get_num_threads()
        if running == 1:
            yield pool
        else:
            budget = max(1, pool // running)
            with threadpool_limits(limits=budget, user_api="openmp"):
                yield torch.get_num_threads()
    finally:
        with _lock:
            _running -= 1
