"""Greedy ensemble selection (Caruana et al., 2004) over a search's configurations.

Caruana, Niculescu-Mizil, Crew and Ksikes, "Ensemble selection from
libraries of models" (ICML 2004): starting from the empty ensemble, each
round adds the model whose addition gives the best score of the ensemble's
averaged predictions on held-out rows, with replacement (a model picked
``k`` times weighs ``k`` in the average). The ensemble kept is that of the
round with the best score, the paper's choice of the ensemble's size: the
first round picks the best single model, so the ensemble kept scores at
least as well as it on those rows. A search scores its configurations'
out-of-fold predictions (:meth:`skreg._crossval.SearchFit.ensemble_score`).
"""

import numpy as np


def greedy_selection(candidates, n_rounds, score):
    """``(counts, best)``: the ensemble of the best of ``n_rounds`` greedy rounds, and its score.

    Parameters
    ----------
    candidates : sequence of int
        The models that may be picked, in increasing order: ties go to the
        first.
    n_rounds : int
        Rounds of forward selection, at least 1.
    score : callable
        ``score(counts)`` of an ensemble ``{model: times picked}``, higher
        is better; nan ranks below every number.

    Returns
    -------
    counts : dict of int to int
        How often each model of the kept ensemble was picked (models never
        picked are absent).
    best : float
        Its score.
    """
    counts, kept, best = {}, {}, -np.inf
    for _ in range(n_rounds):
        pick, value = None, -np.inf
        for c in candidates:
            trial = float(score({**counts, c: counts.get(c, 0) + 1}))
            trial = -np.inf if np.isnan(trial) else trial
            if pick is None or trial > value:
                pick, value = c, trial
        counts[pick] = counts.get(pick, 0) + 1
        # the earliest round of the best score: the smallest such ensemble
        if not kept or value > best:
            kept, best = dict(counts), value
    return kept, float(best)
