"""One ``fit`` of a search: its folds, its fits' specifications, their stacks, the refit.

:class:`Folds` prepares each fold as the plain estimator fitted on its
training rows would be (its weights, early-stopping split, scaling
statistics, ``alpha='auto'`` row count, PLR columns) and holds the engine's
data (the folds as row groups) and the scaled test rows. :class:`SearchFit`
specifies every (configuration, fold) fit with :func:`skreg._spec.fit_spec`,
groups the specs into stacks (:func:`skreg._spec.stacks`), trains them
(the stacks of one race side by side, see :mod:`skreg._racing`), and scores
each fold model through the engine's ``outputs`` and the plain estimator's
output links, keeping the finalists' fold models (:class:`FoldModel`) and,
for ensemble selection, their outputs on the test rows. A fold model
becomes the plain estimator fitted on its fold's training rows
(:meth:`Folds.fitted`) from the weights the stack trained, without training
again. :class:`Refit` fits a chosen configuration on all the data, early
when racing knows it.
"""

import copy
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
from sklearn import config_context, get_config
from sklearn.exceptions import ConvergenceWarning

from ._base import check_lbfgs
from ._engine import (Progress, Trainer, TrainingData, fit, networks, outputs, shows_bar,
                      shows_lines, trained)
from ._inputs import as_tensor
from ._racing import Board, Race, Rungs
from ._spec import (FitSpec, auto_alpha_rows, fit_spec, member_seeds, stack_config,
                    stacks)
from ._threads import step_work, torch_thread_budget, training_threads
from .exceptions import DivergenceError

#: Largest total size (bytes) of the folds' scaled copies of X made up front;
#: a larger search scales each fold's batches at every step instead
PRESCALED_BYTES = 1 << 28


class Folds:
    """A search's folds, each prepared as the plain estimator fitted on its training rows.

    Per fold ``f``, ``estimators[f]`` is the search's plain estimator with
    the fold's fitted input (and target) scaling; ``weights[f]`` its rows'
    weights (sample weights times the class weights of its training rows),
    ``fit_rows[f]`` and ``valid_rows[f]`` its training and early-stopping
    rows, ``n_auto[f]`` the row count of ``alpha='auto'``. :meth:`data`
    is the engine's input of a stack of some folds, :meth:`scores` scores
    a stack's members on their folds' test rows.
    """

    def __init__(self, search, template, X, y, targets, labels, sample_weight, splits,
                 device, scorer):
        self.search, self.template, self.X, self.y = search, template, X, y
        self.scorer = scorer
        self.targets, self.labels, self.splits = targets, labels, splits
        self.device = torch.device(device)
        self.dtype = torch.float32 if X.dtype == np.float32 else torch.float64
        self.estimators, self.weights, self.class_weights = [], [], []
        self.fit_rows, self.valid_rows, self.n_auto = [], [], []
        for train, _ in splits:
            self._prepare(train, sample_weight)
        self._scaled_rows, self._numeric_inputs = {}, {}
        self._device_data = self._tests = None

    @property
    def n_splits(self):
        return len(self.splits)

    def _prepare(self, train, sample_weight):
        """Fold ``len(self.estimators)``: the plain estimator's steps on its rows."""
        estimator = copy.copy(self.template)
        n = self.X.shape[0]
        labels = None if self.labels is None else self.labels[train]
        class_weights = estimator._class_weights(labels)
        weights = full_class_weights = None
        if sample_weight is not None or class_weights is not None:
            weights = np.ones(n) if sample_weight is None else sample_weight.copy()
            if class_weights is not None:
                weights[train] *= class_weights
                full_class_weights = np.ones(n)
                full_class_weights[train] = class_weights
        train_pos, valid_pos, n_train = estimator._split_rows(len(train), labels, False)
        fit_rows = train if train_pos is None else train[train_pos[0]]
        estimator._learn_input_scaling(self.X, weights, rows=train)
        estimator._learn_target_scaling(self.targets, weights, rows=train)
        self.estimators.append(estimator)
        self.weights.append(weights)
        self.class_weights.append(full_class_weights)
        self.fit_rows.append(fit_rows)
        self.valid_rows.append(None if valid_pos is None else train[valid_pos[0]])
        self.n_auto.append(auto_alpha_rows(weights, full_class_weights, fit_rows, n_train))

    def scaled_rows(self, f):
        """Fold ``f``'s training rows of X, scaled as its estimator scales inputs."""
        if f not in self._scaled_rows:
            train = self.splits[f][0]
            self._scaled_rows[f] = self.estimators[f]._scale_inputs(self.X[train])
        return self._scaled_rows[f]

    def release(self):
        """Forget the scaled training rows (needed only to specify the fits)."""
        self._scaled_rows = {}

    def numeric_inputs(self, f, estimator):
        """``(embedding, plr)`` of ``estimator``'s ``numeric_embedding`` on fold ``f``.

        The same for every configuration of one embedding: made once.
        """
        if estimator.numeric_embedding is None:
            return None, ()
        key = (f, estimator.numeric_embedding, estimator.embedding_size)
        if key not in self._numeric_inputs:
            train = self.splits[f][0]
            weights = None if self.weights[f] is None else self.weights[f][train]
            self._numeric_inputs[key] = estimator._numeric_inputs(
                self.scaled_rows(f), weights, self.template._n_codes())
        return self._numeric_inputs[key]

    # ------------------------------------------------------------- training
    def _build_device_data(self):
        """Every fold as a row group on the device: X (scaled copies if small), y, weights."""
        X, n, device, dtype = self.X, self.X.shape[0], self.device, self.dtype
        y = torch.as_tensor(self.targets, device=device)
        weights = np.stack([np.ones(n) if w is None else w for w in self.weights])
        weights = torch.as_tensor(weights, dtype=dtype, device=device)
        train_rows, valid_rows = list(self.fit_rows), list(self.valid_rows)
        input_stats = None
        if self.template.input_scaling is not None:
            input_stats = [tuple(torch.as_tensor(a, device=device) for a in
                                 (e.input_center_, e.input_scale_)) for e in self.estimators]
        if input_stats is not None and self.n_splits * X.nbytes <= PRESCALED_BYTES:
            # each fold's copy of X, scaled once as its estimator scales
            # inputs, instead of every fold's batch at every step; fold f's
            # rows at offset f * n
            X_train = torch.empty((self.n_splits * n, X.shape[1]), dtype=dtype, device=device)
            with torch_thread_budget(X_train.numel()):
                for f, estimator in enumerate(self.estimators):
                    X_train[f * n:(f + 1) * n] = torch.as_tensor(estimator._scale_inputs(X))
            y = y.repeat(self.n_splits, *([1] * (y.dim() - 1)))
            blocks = torch.zeros((self.n_splits, self.n_splits * n), dtype=dtype, device=device)
            for f in range(self.n_splits):
                blocks[f, f * n:(f + 1) * n] = weights[f]
            weights = blocks
            train_rows = [r + f * n for f, r in enumerate(train_rows)]
            valid_rows = [None if r is None else r + f * n for f, r in enumerate(valid_rows)]
            input_stats = None
        else:
            X_train = as_tensor(X, device)
        target_stats = None
        if getattr(self.template, "target_scaling", None) is not None:
            target_stats = [tuple(torch.as_tensor(a, device=device) for a in
                                  (e.target_mean_, e.target_scale_)) for e in self.estimators]
        return X_train, y, weights, train_rows, valid_rows, input_stats, target_stats

    def data(self, groups):
        """The :class:`TrainingData` of a stack of the folds ``groups``, in that order."""
        if self._device_data is None:
            self._device_data = self._build_device_data()
        X, y, weights, train_rows, valid_rows, input_stats, target_stats = self._device_data
        pick = lambda values: None if values is None else [values[f] for f in groups]  # noqa: E731
        if list(groups) != list(range(self.n_splits)):
            weights = weights.index_select(0, torch.as_tensor(groups, device=self.device))
        return TrainingData(
            X=X, y=y, sample_weight=weights,
            train_rows=pick(train_rows),
            valid_rows=None if valid_rows[0] is None else pick(valid_rows),
            input_stats=pick(input_stats), target_stats=pick(target_stats))

    # -------------------------------------------------------------- scoring
    def test_inputs(self):
        """Every fold's test rows, scaled as its estimator scales them, padded to one length."""
        if self._tests is None:
            tests = [test for _, test in self.splits]
            padded = torch.zeros((self.n_splits, max(len(t) for t in tests), self.X.shape[1]),
                                 dtype=self.dtype, device=self.device)
            for f, test in enumerate(tests):
                rows = self.estimators[f]._scale_inputs(self.X[test])
                padded[f, :len(test)] = torch.as_tensor(rows, device=self.device)
            self._tests = padded
        return self._tests

    def raw_outputs(self, model, folds):
        """A stack's raw outputs, member ``j`` on fold ``folds[j]``."""
        rows = self.test_inputs().index_select(0, torch.as_tensor(np.asarray(folds),
                                                                   device=self.device))
        out = outputs(model, rows[0] if model.n_members == 1 else rows)
        return out if model.n_members > 1 else out.unsqueeze(0)

    def outputs(self, raw, f):
        """What a scorer reads of a fit's raw outputs (padded test rows) on fold ``f``."""
        return self.estimators[f]._scoring_outputs(raw[:len(self.splits[f][1])])

    def score(self, fitted, f):
        """The score of a fit's :meth:`outputs` on fold ``f``'s test rows."""
        test = self.splits[f][1]
        return self.search._score(fitted, self.X[test], self.y[test], self.scorer)

    def scores(self, model, folds):
        """Each member's score on its fold's test rows (the members are single fits)."""
        out = self.raw_outputs(model, folds)
        return np.array([self.score(self.outputs(out[j], f), f) for j, f in enumerate(folds)])

    # ---------------------------------------------------------- fold models
    def fitted(self, f, estimator, model):
        """``estimator`` fitted on fold ``f``'s training rows: the fit ``model`` holds.

        ``estimator`` is a configuration's plain estimator, unfitted; it
        gets the fitted state of the plain fit on the fold's rows from the
        steps that prepared the fold (encoder, label encoding, input and
        target scaling: :meth:`_prepare`), the search's validation of X
        (``n_features_in_``, ``feature_names_in_``), the fold's numeric
        embedding, the fit's resolved ``alpha_``, and the trainer of the
        fold model's weights (:func:`skreg._engine.trained`), or the fit's own
        trainer where it trained as a stack of its own. Nothing is trained.
        """
        params = estimator.get_params(deep=False)
        state = {name: value for name, value in vars(self.estimators[f]).items()
                 if name not in params}
        state.update({name: getattr(self.search, name) for name in
                      ("n_features_in_", "feature_names_in_") if hasattr(self.search, name)})
        for name, value in copy.deepcopy(state).items():
            setattr(estimator, name, value)
        estimator._embedding, estimator._plr = copy.deepcopy(self.numeric_inputs(f, estimator))
        estimator.alpha_ = model.spec.alpha
        trainer = model.trainer
        if trainer is None:
            # the plain fit's settings: one fit on its one row group
            config = stack_config([model.spec], groups={model.spec.group: 0})
            trainer = trained(config, model.coef, model.intercept,
                              n_epochs=model.n_iter, history=model.history,
                              n_steps=model.n_iter * model.spec.n_steps)
        estimator._record_fit(trainer, model.n_iter, model.n_threads)
        return estimator


class Refit:
    """The refit of the chosen configuration on all the data.

    With racing, the winner is known once a single configuration is left
    (the last rung that eliminates): its refit then starts in a thread of
    its own, while the winner's fold models finish their epochs in the main
    thread. Both are the fits they would be one after the other (a fit's
    result does not depend on what runs beside it); on a CPU where the
    fold models' steps run on one thread, the refit takes another core.
    """

    def __init__(self, search, X, y, sample_weight):
        self.search, self.X, self.y, self.sample_weight = search, X, y, sample_weight
        self.index = self.thread = self.fitted = self.error = None
        self.seconds = 0.0

    def _fit(self, params, config=None):
        t0 = time.perf_counter()
        try:
            estimator = self.search._plain(params)
            # scikit-learn's configuration is per thread: the caller's, as
            # joblib passes it on to its workers
            with warnings.catch_warnings(), config_context(**(config or get_config())):
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.fitted = estimator.fit(self.X, self.y, sample_weight=self.sample_weight)
        except BaseException as exc:  # re-raised in the main thread
            self.error = exc
        self.seconds = time.perf_counter() - t0

    def start(self, index, params):
        """Refit configuration ``index`` in a new thread."""
        self.index = index
        self.thread = threading.Thread(target=self._fit, args=(params, get_config()),
                                       name="skreg-refit", daemon=True)
        self.thread.start()

    def join(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None

    def result(self, index, params):
        """The fitted estimator of configuration ``index`` and its fit's seconds."""
        self.join()
        if self.index != index or (self.fitted is None and self.error is None):
            self.index, self.fitted, self.error = index, None, None
            self._fit(params)
        if self.error is not None:
            raise self.error
        return self.fitted, self.seconds


class StackJob:
    """One stack of a search's fit: its fits, engine settings, data, race and outcome."""

    specs = owners = config = data = race = trainer = result = error = None
    seconds = 0.0
    n_threads = 1


@dataclass
class FoldModel:
    """A finalist's fit on one fold, as its stack's training left it.

    ``spec`` is the fit's specification, ``config`` its stack's settings,
    ``coef`` and ``intercept`` its members' rows of the stack's result,
    ``n_iter`` its epochs and ``history`` its history rows
    (:attr:`skreg._engine.Members.history`); ``trainer`` is the fit's own
    trainer where the fit was a stack of its own (its history, optimizer
    and batch norm statistics included), else None. ``diverged``: its
    training diverged (it is no model). ``n_threads``: the intra-op
    threads of its stack's training.
    """

    spec: FitSpec
    config: Any
    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    history: Optional[list]
    trainer: Any
    diverged: bool
    n_threads: int


class SearchFit:
    """One ``fit`` of a search: its fits' specifications, their stacks, their scores.

    ``specs[i]`` is the fit of configuration ``owners[i][0]`` on fold
    ``owners[i][1]``, configurations in grid order, folds within each.
    ``refit`` is the search's :class:`Refit`, or None (no refit). The
    finalists' fold models are kept in ``fold_models`` (``(config, fold)
    -> FoldModel``); with ``keep_outputs``, their outputs on their folds'
    test rows too, in ``test_outputs`` (what a scorer reads, see
    :meth:`Folds.outputs`).
    """

    def __init__(self, search, grid, estimators, folds, refit, keep_outputs=False):
        self.search, self.grid, self.folds = search, grid, folds
        self.refit = refit
        self.keep_outputs = keep_outputs
        self.test_outputs = {}
        n_configs, n_splits = len(grid), folds.n_splits
        self.scores = np.full((n_configs, n_splits), np.nan)
        self.n_iters = np.zeros((n_configs, n_splits))
        self.fit_times = np.zeros(n_configs)
        self.score_times = np.zeros(n_configs)
        self.any_unconverged = False
        self.fold_models = {}
        self.specs, self.owners = self._specify(estimators)
        self.plan = stacks(self.specs)
        self.log = ((lambda text: print(f"[{type(search).__name__}] {text}"))
                    if shows_lines(search.verbose) else None)
        # verbose=2: a progress bar over every fold model's epochs
        self.progress = (Progress(sum(spec.n_members * spec.shared["max_iter"]
                                      for spec in self.specs), type(search).__name__)
                         if shows_bar(search.verbose) else None)
        # one race (bracket) per numeric embedding: an embedding's networks
        # learn slower in their first epochs, and would lose every early rung
        # to those without one; the brackets' finalists meet in the final ranking
        embeddings = search._embeddings()
        # each configuration's embedding: its grid value, or the plain default
        self.embedding = [estimator.numeric_embedding for estimator in estimators]
        epochs = search._rung_epochs(n_configs // len(embeddings)) if self._raceable() else []
        self.brackets = {emb: Rungs(epochs, search.race_factor, n_configs, self.log, configs=[
            i for i in range(n_configs) if self.embedding[i] == emb])
            for emb in embeddings}

    def _specify(self, estimators):
        """Every (configuration, fold) fit's :class:`~skreg._spec.FitSpec`."""
        folds, template = self.folds, self.folds.template
        seeds = member_seeds(template.random_state, template.ensemble_size)
        n_outputs = template._n_outputs(folds.targets)
        specs, owners = [], []
        for c, estimator in enumerate(estimators):
            for f, fold in enumerate(folds.estimators):
                embedding, plr = folds.numeric_inputs(f, estimator)
                rows = fold._fit_rows(folds.X.shape[1], n_outputs, len(folds.fit_rows[f]),
                                      folds.n_auto[f], folds.device, folds.dtype,
                                      embedding, plr)
                spec = fit_spec(estimator, rows, seeds=seeds, group=f)
                if estimator.solver == "lbfgs" and f == 0:
                    check_lbfgs(estimator, Trainer(stack_config([spec])))
                specs.append(spec)
                owners.append((c, f))
        folds.release()
        return specs, owners

    def _race_groups(self):
        """The stacks that race together: those of the same configurations (their folds).

        Lists of positions in ``plan``, in order; the stacks of a group train
        at once (:meth:`_train_jobs`).
        """
        groups = {}
        for s, stack in enumerate(self.plan):
            configs = tuple(dict.fromkeys(self.owners[i][0] for i in stack))
            groups.setdefault(configs, []).append(s)
        return list(groups.values())

    def _raceable(self):
        """Whether every configuration's folds are fold models of one race.

        Each fit one member (an ensemble is a model of its own), each stack
        more than one (the engine races stacks, not single networks), and the
        stacks of a race hold every fold of its configurations once.
        """
        n_splits = self.folds.n_splits
        for group in self._race_groups():
            folds = {}
            for s in group:
                stack = self.plan[s]
                if len(stack) < 2 or any(self.specs[i].n_members != 1 for i in stack):
                    return False
                for i in stack:
                    folds.setdefault(self.owners[i][0], []).append(self.owners[i][1])
            if any(sorted(f) != list(range(n_splits)) for f in folds.values()):
                return False
        return True

    def run(self):
        """Train and score every stack, a race's stacks at once, the races in turn."""
        groups = self._race_groups()
        try:
            for g, group in enumerate(groups):
                self._run_group(group, last=g == len(groups) - 1)
        finally:
            if self.progress is not None:
                self.progress.close()

    def _job(self, stack):
        """A stack's engine settings and data: an object for :meth:`_train_job`."""
        job = StackJob()
        job.specs = [self.specs[i] for i in stack]
        job.owners = [self.owners[i] for i in stack]
        folds = list(dict.fromkeys(f for _, f in job.owners))
        job.config = stack_config(job.specs, groups={f: g for g, f in enumerate(folds)})
        job.data = self.folds.data(folds)
        return job

    def _run_group(self, group, last):
        """Train the stacks of one race (racing their configurations), then score them."""
        jobs = [self._job(self.plan[s]) for s in group]
        configs = list(dict.fromkeys(c for job in jobs for c, _ in job.owners))
        rungs = self.brackets[self.embedding[configs[0]]]
        board = None
        if rungs.epochs:
            on_winner = None
            if last and len(self.brackets) == 1 and self.refit is not None:
                on_winner = lambda i: self.refit.start(i, self.grid[i])  # noqa: E731
            board = Board(rungs, len(jobs), self.folds.n_splits, on_winner)
            for job in jobs:
                job.race = Race(board, [c for c, _ in job.owners], [f for _, f in job.owners],
                                self.folds, job.config)
        self._train_jobs(jobs)
        if self.refit is not None:
            self.refit.join()
        for job in jobs:
            t0 = time.perf_counter()
            self._score_stack(job, rungs)
            self._record_times(job.owners, job.seconds, time.perf_counter() - t0, job.race)
            if self.log is not None:
                folds = len(set(f for _, f in job.owners))
                self.log(f"hidden_layer_sizes={tuple(job.config.layer_sizes[1:-1])}: "
                         f"{len(set(c for c, _ in job.owners))} configurations x {folds} "
                         f"folds in {job.seconds:.2f} s")
        if board is not None:
            # the rungs no fold model of this race reached (every one had
            # stopped): decided on the final scores
            board.finish({c: self.scores[c] for c in configs if rungs.iter[c] < 0})
        scored = ~np.isnan(self.scores).any(axis=1)
        if self.progress is not None and scored.any():
            self.progress.advance(0, **{"best score": self.scores[scored].mean(1).max()})

    def _train_jobs(self, jobs):
        """Train the stacks of a race: one in this thread, several at once in threads.

        The stacks of one race meet at every rung (:class:`~skreg._racing.Board`),
        so they train side by side; each is the fit it would be alone.
        """
        if len(jobs) == 1:
            self._train_job(jobs[0])
        else:
            self.folds.test_inputs()  # made once, before the threads read it
            threads = [threading.Thread(target=self._train_job, args=(job,),
                                        name="skreg-stack", daemon=True) for job in jobs]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        for job in jobs:
            if job.error is not None:
                raise job.error

    def _train_job(self, job):
        """Train one stack; the race learns when it has finished, whatever happens."""
        t0 = time.perf_counter()
        try:
            job.trainer, job.result, job.n_threads = self._train(job.config, job.data,
                                                                 job.race)
        except BaseException as exc:  # re-raised in the main thread
            job.error = exc
        finally:
            if job.race is not None:
                job.race.leave()
            job.seconds = time.perf_counter() - t0

    def _train(self, config, data, race):
        """``(trainer, result, n_threads)`` of a stack; a diverged fit of its own: result None."""
        work = step_work(config.layer_sizes, config.batch_size, n_networks=len(config.seeds))
        with training_threads(config.device, work) as n_threads:
            trainer = Trainer(config)
            try:
                return (*fit(None, data, trainer=trainer, prune=race,
                             progress=self.progress), n_threads)
            except DivergenceError:
                # a fit trained as a model of its own (an ensemble, batch
                # norm, L-BFGS) raises as the plain estimator does: it scores nan
                return trainer, None, n_threads

    def _score_stack(self, job, rungs):
        """Each fit's fold scores, epochs and (if it may be the best) fold model."""
        config, trainer, result, specs, owners, race = (
            job.config, job.trainer, job.result, job.specs, job.owners, job.race)
        n_members = [spec.n_members for spec in specs]
        starts = np.concatenate([[0], np.cumsum(n_members)[:-1]]).astype(int)
        if result is None:
            for c, f in owners:
                self.n_iters[c, f] = trainer.n_epochs
            return
        self.any_unconverged |= not result.converged[~result.pruned].all()
        # the configurations still in the race (all of them without racing)
        # get their final fold scores; an eliminated one keeps the fold
        # scores it was eliminated with
        alive = [j for j, (c, _) in enumerate(owners) if rungs.iter[c] < 0]
        if alive:
            self._final_scores(config, trainer, result, owners, alive, starts, n_members)
        for j, (c, f) in enumerate(owners):
            span = slice(starts[j], starts[j] + n_members[j])
            self.n_iters[c, f] = result.n_iter[starts[j]]
            diverged = bool(result.diverged[span].any())
            if race is not None and rungs.iter[c] >= 0:
                self.scores[c, f] = rungs.fold_scores[c][f]
            else:
                # a finalist may be chosen: its fold models are kept
                self.fold_models[(c, f)] = FoldModel(
                    spec=specs[j], config=config, coef=result.coef[span],
                    intercept=result.intercept[span], n_iter=int(result.n_iter[starts[j]]),
                    history=None if result.history is None else result.history[starts[j]],
                    trainer=trainer if len(owners) == 1 else None, diverged=diverged,
                    n_threads=job.n_threads)
            # a diverged fold model scores nan (its configuration ranks last)
            if diverged:
                self.scores[c, f] = np.nan

    def _final_scores(self, config, trainer, result, owners, alive, starts, n_members):
        """The fold scores of the fits ``alive`` (positions in the stack) at the end."""
        members = np.concatenate([np.arange(starts[j], starts[j] + n_members[j])
                                  for j in alive])
        # a model of its own keeps its network (batch norm's statistics
        # included); a stack's members are rebuilt from the result
        model = (trainer.model if len(owners) == 1 else
                 networks(config, result.coef[members], result.intercept[members]))
        folds = [owners[j][1] for j in alive for _ in range(n_members[j])]
        # the pass's own thread budget: on busy CPUs the whole pool waits at
        # every kernel's barrier
        work = step_work(config.layer_sizes, max(len(t) for _, t in self.folds.splits),
                         n_networks=len(members))
        with torch_thread_budget(work):
            out = self.folds.raw_outputs(model, folds)
            position = 0
            for j in alive:
                raw = out[position:position + n_members[j]]
                position += n_members[j]
                raw = raw[0] if n_members[j] == 1 else config.loss.average(raw)
                c, f = owners[j]
                fitted = self.folds.outputs(raw, f)
                self.scores[c, f] = self.folds.score(fitted, f)
                if self.keep_outputs:
                    self.test_outputs[(c, f)] = fitted

    def _record_times(self, owners, fit_time, score_time, race):
        """Each configuration's share of the stack's time (racing: its epochs; else its fits)."""
        configs = list(dict.fromkeys(c for c, _ in owners))
        fits = np.array([sum(1 for c2, _ in owners if c2 == c) for c in configs])
        epochs = np.array([sum(self.n_iters[c, f] for c2, f in owners if c2 == c)
                           for c in configs])
        share = (epochs / epochs.sum() if race is not None and epochs.sum() > 0
                 else fits / fits.sum())
        self.fit_times[configs] += fit_time * share
        self.score_times[configs] += score_time * fits / fits.sum()

    def rungs(self):
        """One :class:`Rungs` of every bracket's decisions."""
        brackets = list(self.brackets.values())
        rungs = brackets[0]
        for other in brackets[1:]:
            # each configuration raced in one bracket: its rung of elimination there
            rungs.iter = np.maximum(rungs.iter, other.iter)
            rungs.fold_scores.update(other.fold_scores)
        return rungs

    def best_fold_models(self, index):
        """The ``fold_models_`` of configuration ``index``."""
        coefs, intercepts = [], []
        for f in range(self.folds.n_splits):
            if (index, f) not in self.fold_models:
                # a fit of its own that diverged: no model
                coefs.append(None)
                intercepts.append(None)
                continue
            fold = self.fold_models[(index, f)]
            coef = fold.coef
            # the plain estimator's coefs_ and intercepts_ of these members
            model = networks(fold.config, coef, fold.intercept)
            coefs.append([W.detach().cpu().numpy().copy() for W in model.layer_weights()])
            intercepts.append([b.detach().cpu().numpy().reshape(len(coef), -1).copy()
                               if b.dim() == 3 else b.detach().cpu().numpy().copy()
                               for b in model.intercept_views()])
        return {"coefs": coefs, "intercepts": intercepts,
                "n_iter": self.n_iters[index].astype(int).tolist()}

    def fold_estimators(self, index, params):
        """Configuration ``index``'s fold models as fitted plain estimators (one per fold).

        The estimator of fold ``f`` is the plain estimator with ``params``
        as fitted on the fold's training rows (:meth:`Folds.fitted`); None
        for a fold whose fit diverged.
        """
        estimators = []
        for f in range(self.folds.n_splits):
            model = self.fold_models.get((index, f))
            estimators.append(None if model is None or model.diverged else
                              self.folds.fitted(f, self.search._plain(params), model))
        return estimators

    def ensemble_score(self, counts):
        """The mean fold score of the average of configurations ``counts`` ({config: weight}).

        On each fold's test rows, the weighted average (the plain
        estimator's ``_averaged``) of the configurations' fold models'
        outputs there (``test_outputs``), scored as a fold model is; one
        configuration's is its own outputs, so its score is its
        ``mean_test_score``.
        """
        configs = [c for c, count in counts.items() if count]
        weights = np.asarray([counts[c] for c in configs], dtype=np.float64)
        scores = []
        for f, fold in enumerate(self.folds.estimators):
            if len(configs) == 1:
                fitted = self.test_outputs[(configs[0], f)]
            else:
                name = fold._averaged_output
                fitted = fold._averaged([self.test_outputs[(c, f)][name] for c in configs],
                                        weights / weights.sum())
            scores.append(self.folds.score(fitted, f))
        return float(np.mean(scores))
