"""A trainer's state as numpy arrays and plain Python values, and back.

:func:`trainer_state` turns a :class:`~skreg._engine.loop.Trainer` into a
dict that holds only numpy arrays, lists, dicts, strings, numbers, booleans
and None: the network's ``state_dict``, the optimizer's ``state_dict``
(step counts included), the torch generator's state, the states of the two
numpy bit generators (dropout masks; shuffling and mixup), the training
settings with the loss by name, the history and the epoch count.
:func:`trainer_from_state` builds the trainer again from such a dict: the
settings make a new :class:`~skreg._engine.loop.Trainer` (network,
regularizers, dropout masks, generators), then the saved tensors and
generator states are copied in.

``Trainer.__getstate__`` and ``Trainer.__setstate__`` go through these two
functions, so pickle, joblib and skops all store this state: no torch
object is pickled, a model trained on a GPU loads where there is none, and
skops builds nothing but numpy arrays and builtins for a trainer.
"""

import dataclasses
import typing
import warnings

import numpy as np
import torch
from skorch.history import History

from .config import TrainingConfig
from .losses import LOSSES
from .regularizers import default_regularization

#: Version of the layout of :func:`trainer_state`'s dict: 5 keeps the
#: regularizers' parameters in one setting (``regularization``), 4 (still
#: read) one pair of dropout streams per member and hidden layer, 3 (still
#: read) one stream
STATE_VERSION = 5
READABLE_VERSIONS = (3, 4, 5)

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: the class :func:`trainer_from_state` builds, :class:`skreg._engine.loop.Trainer`
#: (:func:`register_trainer_class`): this module does not import the loop, which
#: imports it
_trainer_class = None
_KEYS = frozenset({"format_version", "config", "loss", "module", "training", "optimizer",
                   "generator", "numpy_random", "dropout_bit_generator", "history",
                   "n_epochs"})


def register_trainer_class(cls):
    """Class decorator: ``cls`` is what :func:`trainer_from_state` builds.

    :class:`skreg._engine.loop.Trainer` is registered so when it is defined;
    its ``__getstate__`` and ``__setstate__`` call :func:`trainer_state` and
    :func:`trainer_from_state`.
    """
    global _trainer_class
    _trainer_class = cls
    return cls


# ---------------------------------------------------------------- to numpy
def _numpy(value):
    """``value`` with tensors and numpy arrays as numpy copies.

    Tuples become lists and numpy scalars Python numbers; other values are kept.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True).numpy()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    return value


def _tensors(value):
    """Inverse of :func:`_numpy` for an optimizer state: arrays become tensors (copies)."""
    if isinstance(value, np.ndarray):
        return torch.tensor(value)
    if isinstance(value, list):
        return [_tensors(v) for v in value]
    if isinstance(value, dict):
        return {k: _tensors(v) for k, v in value.items()}
    return value


def _loss_name(loss):
    names = [name for name, cls in LOSSES.items() if type(loss) is cls]
    if not names:
        raise TypeError(f"Cannot save a trainer with the loss {loss!r}: it is not one of "
                        f"skreg's losses ({sorted(LOSSES)}).")
    return names[0]


def _loss_outputs(loss):
    return int(getattr(loss, "n_outputs", None) or loss.n_classes)


def trainer_state(trainer):
    """The state of a trainer as numpy arrays and plain Python values.

    Parameters
    ----------
    trainer : skreg._engine.loop.Trainer
        A trainer, fitted or not. A stack from which members have left
        (the end of a search's training) cannot be saved.

    Returns
    -------
    state : dict
        Holds only numpy arrays, lists, dicts, str, int, float, bool and
        None (no tuple, no numpy scalar, no tensor), on the CPU:

        * ``format_version``: :data:`STATE_VERSION`.
        * ``config``: every field of the trainer's
          :class:`~skreg._engine.loop.TrainingConfig` but the loss, tuples
          as lists, the per-member settings as numpy arrays, ``dtype`` as
          ``"float32"`` or ``"float64"`` and ``device`` as its string
          (``"cpu"``, ``"cuda:0"``).
        * ``loss``: ``{"name": <key of LOSSES>, "n_outputs": int}``.
        * ``module``: the network's ``state_dict`` as numpy arrays;
          ``training``: whether it is in training mode.
        * ``optimizer``: the optimizer's ``state_dict`` with every tensor
          (step counts included) a numpy array, or None before any training.
        * ``generator``: ``{"device_type": str, "state": uint8 array}``, the
          torch generator's device type and state.
        * ``numpy_random``: the ``state`` dict of ``trainer.rng``'s bit
          generator; ``dropout_bit_generator``: ``trainer.masks.state``, the
          state dicts of each member's and hidden layer's two dropout streams.
        * ``history``: one dict per epoch (numpy arrays stay arrays), or None
          for a stack; ``n_epochs``: the epochs trained.

    Raises
    ------
    ValueError
        If members have left the trainer's stack.
    TypeError
        If the trainer's loss is not one of ``LOSSES``.
    """
    config, model = trainer.config, trainer.model
    if model.n_members != len(config.seeds):
        raise ValueError(
            f"Cannot save a trainer whose stack lost members ({model.n_members} of "
            f"{len(config.seeds)} left): only whole stacks are saved.")
    settings = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "loss":
            continue
        if f.name == "dtype":
            value = str(value).replace("torch.", "")
        elif f.name == "device":
            value = str(value)
        settings[f.name] = _numpy(value)
    generator = trainer.generator
    return {
        "format_version": STATE_VERSION,
        "config": settings,
        "loss": {"name": _loss_name(config.loss), "n_outputs": _loss_outputs(config.loss)},
        "module": {k: _numpy(v) for k, v in model.state_dict().items()},
        "training": bool(model.training),
        "optimizer": (None if trainer.optimizer is None
                      else _numpy(trainer.optimizer.state_dict())),
        "generator": {"device_type": torch.device(generator.device).type,
                      "state": _numpy(generator.get_state())},
        "numpy_random": _numpy(trainer.rng.bit_generator.state),
        "dropout_bit_generator": _numpy(trainer.masks.state),
        "history": (None if trainer.history is None
                    else [_numpy(dict(row)) for row in trainer.history]),
        "n_epochs": int(trainer.n_epochs),
    }


# -------------------------------------------------------------- from numpy
def _device_here(name):
    """The device a trainer saved on ``name`` loads on: CPU where the device is missing."""
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            warnings.warn(
                f"This model was trained on {name!r} but CUDA is not available here; it "
                "is loaded on the CPU. Set device='cpu' before training it further.",
                UserWarning, stacklevel=4)
            return torch.device("cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            warnings.warn(
                f"This model was trained on {name!r}, which this machine does not have; "
                "it is loaded on 'cuda'.", UserWarning, stacklevel=4)
            return torch.device("cuda")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        warnings.warn(
            f"This model was trained on {name!r} but MPS is not available here; it is "
            "loaded on the CPU. Set device='cpu' before training it further.",
            UserWarning, stacklevel=4)
        return torch.device("cpu")
    return device


def _config(state, device):
    """The :class:`TrainingConfig` of a state, on ``device``."""
    settings = dict(state["config"])
    # formats up to 4 kept each regularizer parameter as a setting of its own
    legacy = {name: settings.pop(name) for name in default_regularization()
              if name in settings}
    if legacy:
        settings["regularization"] = {**legacy, **(settings.get("regularization") or {})}
    fields = {f.name: f for f in dataclasses.fields(TrainingConfig)}
    unknown = set(settings) - set(fields)
    if unknown or "loss" in settings:
        raise ValueError(
            f"Unknown training settings {sorted(unknown | ({'loss'} & set(settings)))} in "
            "the saved state; it was written by another skreg version, or corrupted.")
    dtype = settings.get("dtype")
    if dtype not in _DTYPES:
        raise ValueError(f"Unknown dtype {dtype!r} in the saved state.")
    loss = state["loss"]
    if not isinstance(loss, dict) or loss.get("name") not in LOSSES:
        raise ValueError(f"Unknown loss {loss!r} in the saved state.")
    hints = typing.get_type_hints(TrainingConfig)
    for name, value in settings.items():
        if hints.get(name) is tuple and isinstance(value, list):
            settings[name] = tuple(value)
    settings.update(loss=LOSSES[loss["name"]](int(loss["n_outputs"])),
                    dtype=_DTYPES[dtype], device=device)
    return TrainingConfig(**settings)


def _load_optimizer(trainer, saved):
    optimizer = trainer._build_optimizer()
    saved = _tensors(saved)
    # lists stand for tuples in the state: the hyperparameters that are
    # tuples in a new optimizer (Adam's betas) become tuples again
    for group, fresh in zip(saved.get("param_groups", ()), optimizer.param_groups):
        for key, value in group.items():
            if isinstance(fresh.get(key), tuple) and isinstance(value, list):
                group[key] = tuple(value)
    optimizer.load_state_dict(saved)
    return optimizer


def trainer_from_state(state):
    """A trainer in the state :func:`trainer_state` returned.

    The settings build a new :class:`~skreg._engine.loop.Trainer` (network,
    regularizers, dropout masks, generators); the network's and the
    optimizer's state dicts, the generators' states, the history and the
    epoch count are then copied in. A trainer saved on a CUDA (or MPS)
    device loads on the CPU where that device is missing, with a
    ``UserWarning``; its torch generator then starts from the trainer's
    first seed, since a generator state is meaningful on its own device type
    only. Arrays of ``state`` are copied, never shared.

    Parameters
    ----------
    state : dict
        What :func:`trainer_state` returned (possibly after a round trip
        through pickle or skops).

    Returns
    -------
    trainer : skreg._engine.loop.Trainer

    Raises
    ------
    ValueError
        If ``state`` is of another format version, names an unknown
        setting, loss or dtype, or lacks a part.
    """
    if not isinstance(state, dict) or state.get("format_version") not in READABLE_VERSIONS:
        version = state.get("format_version") if isinstance(state, dict) else None
        raise ValueError(
            f"Unknown skreg trainer state format {version!r}; this version of skreg "
            f"reads formats {READABLE_VERSIONS}. Load the model with the skreg version that "
            "saved it.")
    missing = _KEYS - set(state)
    if missing:
        raise ValueError(f"The saved trainer state lacks {sorted(missing)}; it is corrupted.")
    device = _device_here(state["config"].get("device", "cpu"))
    trainer = _trainer_class(_config(state, device))
    trainer.model.load_state_dict({k: torch.tensor(np.asarray(v))
                                   for k, v in state["module"].items()})
    trainer.model.train(bool(state["training"]))
    if state["optimizer"] is not None:
        trainer.optimizer = _load_optimizer(trainer, state["optimizer"])
    generator = state["generator"]
    if generator["device_type"] == device.type:
        trainer.generator.set_state(torch.tensor(np.asarray(generator["state"],
                                                            dtype=np.uint8)))
    trainer.rng.bit_generator.state = state["numpy_random"]
    if state["format_version"] >= 4:
        trainer.masks.state = state["dropout_bit_generator"]
    # format 3 kept one stream for the stack's masks, which the per-member
    # streams cannot continue: they start from their seeds
    if state["history"] is not None:
        trainer.history = History([_numpy(dict(row)) for row in state["history"]])
    else:
        trainer.history = None
    trainer.n_epochs = int(state["n_epochs"])
    return trainer
