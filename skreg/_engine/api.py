"""What the estimators ask of the engine: fit from settings, predict, networks.

:func:`fit` trains the members a :class:`~skreg._engine.loop.TrainingConfig`
describes (a plain fit, an ensemble, or a search's configurations x folds)
and leaves the network ready to predict. :func:`predict` is every
prediction an estimator makes: the outputs of a fit's members on scaled
inputs, chunk by chunk, averaged over an ensemble and passed through the
loss's output activation. :func:`predict_mc` is Monte Carlo dropout with
masks drawn by a generator of its own call, so that concurrent calls
(threads) neither share random state nor switch the shared module into
training mode. :func:`outputs` runs any stack, e.g. the one a search's
``prune`` rule is handed, and :func:`networks` makes the stack of some
members of a training result (a search's fold models), to score them;
:func:`trained` makes the trainer a fit of one member's settings would have
left, from the parameters a stack trained for it (a search's fold model
becomes a plain estimator's fit without training again).
A trainer's state (pickle, joblib, skops) is :mod:`skreg._engine.state`'s,
through ``Trainer.__getstate__``.
"""


import numpy as np
import torch
from skorch.history import History

from .._inputs import as_tensor
from .loop import Trainer
from .model import StackedMLP
from .noise import DropoutMasks
from .regularizers import model_settings

#: rows per forward pass at prediction time: bounds the memory of large inputs
PREDICT_CHUNK = 65536

#: elements of the widest hidden activation of one forward pass of a stack
#: whose members each see rows of their own (a search scoring its folds)
STACK_CHUNK_ELEMENTS = 1 << 23


def fit(config, data, *, trainer=None, **train):
    """Train the members ``config`` describes on ``data``.

    Parameters
    ----------
    config : TrainingConfig
        The members' settings; ignored when ``trainer`` is given.
    data : TrainingData
    trainer : Trainer or None, default=None
        A trainer to continue (``warm_start``, ``partial_fit``); None builds
        a new one from ``config``.
    **train
        :meth:`Trainer.train`'s arguments (``epochs``, ``monitor``,
        ``callbacks``, ``host``, ``prune``).

    Returns
    -------
    trainer : Trainer
        Its ``model`` holds the trained members, left in evaluation mode.
    result : Members
        Each member's parameters and outcome.
    """
    trainer = Trainer(config) if trainer is None else trainer
    try:
        result = trainer.train(data, **train)
    finally:
        trainer.model.eval()
    return trainer, result


def networks(config, coef, intercept):
    """A stack holding the members whose parameters are the rows of ``coef`` and ``intercept``.

    ``config`` is the members' :class:`TrainingConfig` (their architecture,
    embeddings, device and dtype); ``coef`` and ``intercept`` (arrays or
    tensors) are rows of a :class:`Members` result or of a stack's
    parameters. Batch norm is not supported (its statistics are not in a
    result).
    """
    # the module a trainer of ``config`` builds (the regularizers' parameters
    # in ``coef``: gates), without batch norm
    model = StackedMLP(config.layer_sizes, config.activation, len(coef),
                       tables=config.embedding_tables, plr=config.plr or None,
                       scale_layer=config.scale_layer, **model_settings(config))
    model.to(dtype=config.dtype, device=config.device)
    with torch.no_grad():
        model.coef.copy_(torch.as_tensor(coef))
        model.intercept.copy_(torch.as_tensor(intercept))
    return model.eval()


def trained(config, coef, intercept, *, n_epochs, history=(), n_steps=0):
    """The trainer :func:`fit` leaves for ``config`` had it trained these parameters.

    ``config`` is one fit's :class:`TrainingConfig` (a plain fit's: one
    network, or a joint ensemble), ``coef`` and ``intercept`` its members'
    rows of a :class:`Members` result (a search's fold model, trained as
    members of a larger stack). The trainer holds them in a network in
    evaluation mode, ready for :func:`predict`, with ``n_epochs`` epochs
    trained, the ``history`` rows (:attr:`Members.history`) and, where the
    network counts them (gradient noise), ``n_steps`` optimizer steps. Its
    optimizer and random generators are new, as a trainer loaded from a
    state without them would be: a later ``train`` makes a new optimizer.
    Batch norm is not supported (its statistics are not in a result).
    """
    trainer = Trainer(config)
    model = trainer.model
    with torch.no_grad():
        model.coef.copy_(torch.as_tensor(coef))
        model.intercept.copy_(torch.as_tensor(intercept))
        if hasattr(model, "n_steps"):
            model.n_steps.fill_(int(n_steps))
    trainer.history = History([dict(row) for row in history])
    trainer.n_epochs = int(n_epochs)
    model.eval()
    return trainer


@torch.no_grad()
def outputs(model, X, keep_masks=None):
    """Raw outputs of every member of the stack ``model`` on the tensor ``X``.

    ``X`` is ``(n, n_inputs)`` (the same rows for every member) or ``(C, n,
    n_inputs)`` (member ``m`` on ``X[m]``), processed in chunks of rows
    that keep the widest hidden activation near ``STACK_CHUNK_ELEMENTS``
    elements. Batch norm uses its running statistics; the module's mode is
    not changed. Returns ``(n, n_outputs)`` for one network and ``(C, n,
    n_outputs)`` for a stack.
    """
    n = X.shape[-2]
    C = model.n_members
    chunk = max(1, STACK_CHUNK_ELEMENTS // (C * max(model.layer_sizes)))
    if keep_masks is not None or n <= chunk:
        return model(X, keep_masks=keep_masks)
    return torch.cat([model(X[..., start:start + chunk, :]) for start in range(0, n, chunk)],
                     -2)


def _combined(trainer, out):
    """One prediction from a fit's members: an ensemble's average, as raw outputs."""
    return out if out.dim() == 2 else trainer.config.loss.average(out)


@torch.no_grad()
def predict(trainer, X, *, embedding=None, activate=True, chunk_rows=PREDICT_CHUNK):
    """The prediction of a fit on scaled inputs, as a numpy array.

    Parameters
    ----------
    trainer : Trainer
        The fit (one network or an ensemble).
    X : ndarray of shape (n_samples, n_inputs)
        Inputs as the fit's network takes them (scaled).
    embedding : callable or None, default=None
        The fit's numeric embedding, applied to each chunk of rows.
    activate : bool, default=True
        Pass the outputs through the loss's output activation
        (probabilities, means); False returns raw outputs (logits).
    chunk_rows : int, default=PREDICT_CHUNK
        Rows per forward pass.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        An ensemble's members are averaged (:meth:`Loss.average`).
    """
    model, config = trainer.model, trainer.config
    model.eval()  # idempotent: predictions never switch the module to training
    parts = []
    for start in range(0, X.shape[0], chunk_rows):
        chunk = as_tensor(X[start:start + chunk_rows], config.device)
        if embedding is not None:
            chunk = embedding(chunk)
        out = _combined(trainer, model(chunk))
        parts.append((config.loss.predict(out) if activate else out).cpu().numpy())
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


@torch.no_grad()
def predict_mc(trainer, X, n_samples, *, embedding=None):
    """Monte Carlo dropout: ``n_samples`` predictions with dropout masks on.

    Each pass multiplies the hidden activations by masks drawn as in
    training, from the members' own mask streams (seeded by their seeds)
    and a generator seeded by the first member's, all made for this call:
    repeated and concurrent calls give the same result, and the shared
    module stays in evaluation mode (batch norm with its running
    statistics).

    Parameters
    ----------
    trainer : Trainer
        A fit trained with dropout.
    X : ndarray of shape (n_samples, n_inputs)
        Scaled inputs.
    n_samples : int
        Number of stochastic passes.
    embedding : callable or None, default=None
        The fit's numeric embedding.

    Returns
    -------
    ndarray of shape (n_samples, n_rows, n_outputs)
        Output-activated predictions of each pass (an ensemble's average).
    """
    config, model = trainer.config, trainer.model
    model.eval()
    X = as_tensor(X, config.device)
    if embedding is not None:
        X = embedding(X)
    masks = DropoutMasks(config.layer_sizes[1:-1], config.dropout, config.seeds)
    generator = torch.Generator(device=X.device).manual_seed(int(config.seeds[0]))
    samples = []
    for _ in range(n_samples):
        keep = masks.draw(X.shape[0], X.dtype, X.device, generator)
        out = _combined(trainer, model(X, keep_masks=keep))
        samples.append(config.loss.predict(out).cpu().numpy())
    return np.stack(samples)
