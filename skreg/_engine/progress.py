"""A progress bar over the epochs of a fit or a search (``verbose=2``).

tqdm draws it (a dependency of skorch, so always installed; ``tqdm.auto``
picks a notebook widget in Jupyter): epochs done out of the budget, the
rate, the time spent and the time left, with the latest figures after
them. It appears only once the work has run for ``DELAY`` seconds, so
short fits print nothing.
"""

import sys
import threading

from tqdm.auto import tqdm

#: seconds of work before the bar appears
DELAY = 2.0

#: the ``verbose`` value that shows the bar (any other true value prints
#: scikit-learn's lines, as its MLP does for every true value)
PROGRESS_BAR = 2


def shows_lines(verbose):
    """Whether ``verbose`` asks for scikit-learn's per-epoch lines."""
    return bool(verbose) and verbose != PROGRESS_BAR


def shows_bar(verbose):
    """Whether ``verbose`` asks for the progress bar."""
    return verbose == PROGRESS_BAR


class Progress:
    """Epochs done of ``total``, shared by the stacks of a search (thread-safe).

    Parameters
    ----------
    total : int
        The epoch budget: ``max_iter`` for a fit; for a search, ``max_iter``
        times its fold models (a model that stops early, or is dropped by
        the race, gives back the epochs it did not use).
    desc : str
        The name before the bar.
    unit : str, default='epoch'
    """

    def __init__(self, total, desc, unit="epoch"):
        self._lock = threading.Lock()
        self._bar = tqdm(total=int(total), desc=desc, unit=unit, delay=DELAY,
                         file=sys.stderr, dynamic_ncols=True, leave=True)

    def advance(self, n, **figures):
        """Count ``n`` more epochs; ``figures`` (name: value) are shown after the bar."""
        with self._lock:
            if figures:
                self._bar.set_postfix({k: f"{v:.4g}" for k, v in figures.items()},
                                      refresh=False)
            self._bar.update(int(n))

    @property
    def n(self):
        """Epochs counted so far."""
        return self._bar.n

    def close(self):
        """Draw the bar's last state (if it was shown) and release it."""
        with self._lock:
            self._bar.close()
