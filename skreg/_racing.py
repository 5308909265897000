"""Racing: successive halving of a search's configurations inside the batched training.

:class:`Rungs` decides which configurations go on at each rung (asynchronous
successive halving over the stacks trained so far). A configuration's folds
train in one stack, or, where their batch sizes differ, in several stacks
trained at once (threads) that meet at each rung: a :class:`Board`. Each
stack's ``prune`` rule, the engine calls after every epoch, is a
:class:`Race`: at a rung's epoch it scores its fold models still racing on
their folds' test rows, hands the scores to the board, which decides the
rung once every stack of the race has handed its own, and stops the fold
models of the configurations the rung eliminates.
"""

import math
import threading

import numpy as np
import torch

from ._engine import networks


class Rungs:
    """The rung decisions of one search: successive halving of its configurations.

    At rung ``k`` (after epoch ``epochs[k]``) a configuration continues if
    its mean fold score ranks among the best ``ceil(n / factor)`` of the
    ``n`` configurations that have reached rung ``k`` so far, over every
    architecture trained so far (asynchronous successive halving, ASHA);
    with one architecture this is plain successive halving. Ties go to the
    configuration that comes first in the grid; nan scores rank last.

    Attributes
    ----------
    iter : ndarray of int
        Rung at which each configuration was eliminated, -1 while it is not
        (and for the configurations of other races).
    racing : ndarray of bool
        The configurations of this race (a bracket; all of them by default).
    fold_scores : dict
        The fold scores each eliminated configuration had at elimination.
    """

    def __init__(self, epochs, factor, n_configs, log=None, configs=None):
        self.epochs = list(epochs)
        self.factor = factor
        self.log = log
        self.reached = [{} for _ in self.epochs]
        self.iter = np.full(n_configs, -1)
        self.racing = np.zeros(n_configs, dtype=bool)
        self.racing[np.arange(n_configs) if configs is None else configs] = True
        self.fold_scores = {}

    def n_left(self):
        """Configurations of this race not eliminated."""
        return int((self.racing & (self.iter < 0)).sum())

    def decide(self, k, fold_scores):
        """Rung ``k`` for the configurations of ``fold_scores`` (config -> scores)."""
        pool = self.reached[k]
        for i, s in fold_scores.items():
            pool[i] = float(np.mean(s))
        ids = np.fromiter(pool, dtype=np.int64, count=len(pool))
        means = np.array([pool[i] for i in ids])
        means = np.where(np.isnan(means), -np.inf, means)
        order = np.lexsort((ids, -means))
        n_keep = max(1, math.ceil(len(ids) / self.factor))
        kept = set(ids[order[:n_keep]].tolist())
        for i, s in fold_scores.items():
            if i not in kept:
                self.iter[i] = k
                self.fold_scores[i] = np.asarray(s, dtype=float)
        if self.log is not None:
            going = sorted(i for i in fold_scores if i in kept)
            self.log(f"rung {k} (epoch {self.epochs[k]}): {len(going)} of {len(fold_scores)} "
                     f"configurations go on ({len(ids)} reached this rung so far): {going}")


class Board:
    """The meeting point of the stacks that race one set of configurations.

    A configuration's fold scores at a rung may come from several stacks
    (its folds split by batch size), trained at once in threads: the rung
    is decided when every stack has handed its scores, or has finished
    (its fold models then take part with their last weights), and every
    stack waits for that decision. With one stack, each rung is decided at
    once.

    Parameters
    ----------
    rungs : Rungs
    n_stacks : int
        The stacks of the race.
    n_splits : int
        Folds per configuration.
    on_winner : callable or None
        Called with the configuration left once the race has one (its
        refit can start).
    """

    def __init__(self, rungs, n_stacks, n_splits, on_winner=None):
        self.rungs, self.n_stacks, self.n_splits = rungs, n_stacks, n_splits
        self.on_winner = on_winner
        self.condition = threading.Condition()
        self.handed = [dict() for _ in rungs.epochs]  # (config, fold) -> score
        self.arrived = [0] * len(rungs.epochs)
        self.finished = {}  # the finished stacks' fold models: (config, fold) -> score
        self.n_finished = 0
        self.decided = [False] * len(rungs.epochs)

    def skips(self, k):
        """Whether rung ``k`` is skipped: one configuration left in the whole search."""
        return self.rungs.n_left() == 1

    def hand(self, k, scores):
        """Hand the fold scores ``{(config, fold): score}`` of rung ``k``; wait for its decision."""
        with self.condition:
            self.handed[k].update(scores)
            self.arrived[k] += 1
            self._decide_ready()
            self.condition.wait_for(lambda: self.decided[k])

    def leave(self, scores):
        """A stack finished: its fold models take part in the later rungs with ``scores``."""
        with self.condition:
            self.finished.update(scores)
            self.n_finished += 1
            self._decide_ready()

    def _decide_ready(self):
        """Decide the rungs every stack has reached (under the lock)."""
        for k in range(len(self.decided)):
            if self.decided[k]:
                continue
            if self.arrived[k] + self.n_finished < self.n_stacks or not self.arrived[k]:
                return
            fold = {**self.finished, **self.handed[k]}
            racing = sorted({c for c, _ in fold if self.rungs.iter[c] < 0})
            # a fold a failed stack left without scores scores nan
            self.rungs.decide(k, {c: [fold.get((c, f), np.nan) for f in range(self.n_splits)]
                                  for c in racing})
            self.decided[k] = True
            if self.rungs.n_left() == 1 and self.on_winner is not None:
                # the search's winner is known: its refit can start now
                self.on_winner(int(np.flatnonzero(self.rungs.racing
                                                  & (self.rungs.iter < 0))[0]))
                self.on_winner = None
            self.condition.notify_all()

    def finish(self, final_scores):
        """Decide the rungs no fold model reached (all had stopped) on the final scores."""
        for k in range(len(self.decided)):
            racing = {c: s for c, s in final_scores.items() if self.rungs.iter[c] < 0}
            if not self.decided[k] and racing:
                self.rungs.decide(k, racing)
            self.decided[k] = True


class Race:
    """The ``prune`` rule of one stack of a race (see :class:`Board`).

    Member ``m`` of the stack trains configuration ``configs[m]`` on fold
    ``folds[m]``. After each rung's epoch, its fold models of the
    configurations still racing are scored on their folds' test rows: those
    still training with their current weights, in one forward pass of the
    stack; those that have already stopped (their stopping rule) with their
    last weights, kept from the previous epoch. The scores go to the board;
    the fold models of the configurations the rung eliminates stop.
    """

    def __init__(self, board, configs, folds, tests, config):
        self.board, self.tests, self.config = board, tests, config
        self.configs, self.folds = np.asarray(configs), np.asarray(folds)
        self.k = 0  # next rung
        self.last = None  # (members, coef, intercept) of the previous epoch
        self.stopped = {}  # member -> last weights, of the members that stopped
        self.stopped_scores = {}

    def __call__(self, epoch, members, model):
        members = np.asarray(members)
        racing = self.board.rungs.iter
        if self.last is not None:
            self._keep_stopped(members)
        epochs = self.board.rungs.epochs
        prune = np.zeros(len(members), dtype=bool)
        if self.k < len(epochs) and epoch >= epochs[self.k] and self.board.skips(self.k):
            self.k += 1  # one configuration left in the whole search: it stays
        elif self.k < len(epochs) and epoch >= epochs[self.k]:
            live = self.tests.scores(model, self.folds[members])
            scores = {**dict(zip(members.tolist(), live)), **self._stopped_scores()}
            self.board.hand(self.k, {(int(self.configs[m]), int(self.folds[m])): score
                                     for m, score in scores.items()
                                     if racing[self.configs[m]] < 0})
            self.k += 1
            prune = racing[self.configs[members]] >= 0
        if self.k < len(epochs):
            # members that stop on their own this epoch are scored at the next
            # rung with these weights
            keep = np.flatnonzero(~prune)
            rows = torch.as_tensor(keep, device=model.coef.device)
            self.last = (members[keep], model.coef.detach().index_select(0, rows),
                         model.intercept.detach().index_select(0, rows))
        return prune

    def _keep_stopped(self, members):
        """Keep the last weights of the members that stopped since the previous epoch."""
        last, coef, intercept = self.last
        gone = ~np.isin(last, members) & (self.board.rungs.iter[self.configs[last]] < 0)
        for j in np.flatnonzero(gone):
            self.stopped[int(last[j])] = (coef[j], intercept[j])
        self.last = None

    def _stopped_scores(self):
        new = [m for m in self.stopped if m not in self.stopped_scores]
        if new:
            model = networks(self.config, torch.stack([self.stopped[m][0] for m in new]),
                             torch.stack([self.stopped[m][1] for m in new]))
            scores = self.tests.scores(model, self.folds[new])
            self.stopped_scores.update(zip(new, scores))
        return self.stopped_scores

    def leave(self):
        """The stack finished: its fold models' last weights stand for the later rungs."""
        scores = {}
        try:
            if self.k < len(self.board.rungs.epochs):
                if self.last is not None:
                    self._keep_stopped(np.empty(0, dtype=np.int64))
                scores = {(int(self.configs[m]), int(self.folds[m])): score
                          for m, score in self._stopped_scores().items()}
        finally:
            # the other stacks of the race wait for this one at the next rung
            self.board.leave(scores)
