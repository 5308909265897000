"""Safe persistence: save and load skreg models without pickle.

:func:`dump` and :func:`load` use the `skops <https://skops.readthedocs.io>`_
format: a zip archive holding a JSON description of the object tree, numpy
arrays in ``.npy`` files read with ``allow_pickle=False``, and, for each
fitted skreg estimator, one file of torch tensors read with ``torch.load(...,
weights_only=True)``. Loading never runs pickle on untrusted bytes: every
type named in the file is audited against a list of trusted types before
anything is built, and the tensor file can only hold tensors, numbers,
strings and containers of them.

skreg's estimators, the cross-validated ones included, are registered with
skops as trusted types, so a model, a :class:`~sklearn.pipeline.Pipeline`
or a :class:`~sklearn.model_selection.GridSearchCV` that contains one loads
with :func:`load` (or :func:`skops.io.load` once :mod:`skreg.io` is
imported) without any ``trusted`` argument, as long as every other type in
it is one skops trusts by default (scikit-learn's estimators, numpy, scipy).

An estimator is stored as its scikit-learn attributes (parameters,
``classes_``, ``n_features_in_``, ``feature_names_in_``, ...) and, when
fitted, the state of its trainer: the training settings and the numpy
generators' states as JSON values, the per-epoch history, and, as CPU
tensors, the network's weights and buffers, the optimizer's state and the
torch generator's state. On load the trainer is rebuilt from the
estimator's parameters and the stored settings, and that state is copied
in, on the CPU unless the estimator's ``device`` asks for CUDA and CUDA is
available. A loaded model predicts exactly as the saved one, and
``partial_fit`` or a warm-started ``fit`` continue as they would have
without the round trip. A cross-validated estimator
(:class:`~skreg.RegularizedMLPClassifierCV`,
:class:`~skreg.RegularizedMLPRegressorCV`) is stored as its attributes:
``cv_results_`` (numpy and masked arrays, lists of parameter dicts) and the
refitted ``best_estimator_``, itself stored as above.

This module needs the ``skops`` package (``pip install skreg[persist]``).
"""

import dataclasses
import io
import uuid
import warnings

import numpy as np
import torch

try:
    import skops.io as _skops_io
    from skops.io._audit import NODE_TYPE_MAPPING, Node, get_tree
    from skops.io._protocol import PROTOCOL
    from skops.io._utils import _get_state, get_module, get_state, gettype
except ImportError as exc:  # pragma: no cover - exercised without skops only
    raise ImportError(
        "skreg.io needs the 'skops' package for its safe file format; install it "
        "with `python -m pip install skops` (or `skreg[persist]`). pickle and "
        "joblib work without it but must only load files you trust."
    ) from exc

from skorch.history import History

from ._cv import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV, _BaseRegularizedMLPCV
from ._engine import LOSSES, Trainer, TrainingConfig
from ._mlp import BaseRegularizedMLP, RegularizedMLPClassifier, RegularizedMLPRegressor

__all__ = ["TRUSTED_TYPES", "dump", "dumps", "get_untrusted_types", "load", "loads"]

#: Fully qualified names of the skreg types that :func:`load` trusts.
TRUSTED_TYPES = [
    f"{get_module(cls)}.{cls.__name__}"
    for cls in (RegularizedMLPClassifier, RegularizedMLPRegressor,
                RegularizedMLPClassifierCV, RegularizedMLPRegressorCV)
]

_LOADER = "SkregEstimatorNode"
# 1: the network of a skorch NeuralNet (``net_``); 2: the training engine's Trainer
_FORMAT_VERSION = 2
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
# the training settings stored as JSON values; the loss, device and dtype are
# stored apart (the loss by name), the per-member ones as (nested) lists
_CONFIG_TUPLES = ("layer_sizes", "betas")
_CONFIG_ARRAYS = ("seeds", "alpha", "l1_ratio", "dropout", "label_smoothing", "groups")
_CONFIG_APART = ("loss", "device", "dtype")


# ----------------------------------------------------------------------- save
def _trainer_state(trainer):
    """A fitted trainer's state: a file of CPU tensors and a dict of JSON values.

    Parameters
    ----------
    trainer : skreg._engine.Trainer
        The trainer of a fitted estimator.

    Returns
    -------
    info : dict
        Plain values (numbers, strings, lists, dicts; numpy arrays only in
        the history): the training settings, the numpy generators' states,
        the history and the epoch count.
    tensors : bytes
        ``torch.save`` of the module's ``state_dict``, the optimizer's
        ``state_dict`` (None before any training) and the torch generator's
        state, all on the CPU.
    """
    config = trainer.config
    loss_names = [name for name, cls in LOSSES.items() if type(config.loss) is cls]
    if not loss_names:
        raise TypeError(f"Cannot save a model trained with the loss {config.loss!r}.")
    tensors = {
        "module": {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()},
        "optimizer": (None if trainer.optimizer is None
                      else _to_cpu(trainer.optimizer.state_dict())),
        "generator": trainer.generator.get_state().cpu(),
    }
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    settings = {}
    for f in dataclasses.fields(TrainingConfig):
        if f.name not in _CONFIG_APART:
            settings[f.name] = _plain(getattr(config, f.name))
    info = {
        "format_version": _FORMAT_VERSION,
        "dtype": str(config.dtype).replace("torch.", ""),
        "device_type": config.device.type,
        "generator_device_type": trainer.generator.device.type,
        "loss": loss_names[0],
        "config": settings,
        "dropout_bit_generator": trainer.masks.bit_generator.state,
        "numpy_random": trainer.rng.bit_generator.state,
        "history": (None if trainer.history is None else
                    [{k: _plain(v, arrays=True) for k, v in row.items()}
                     for row in trainer.history]),
        "n_epochs": int(trainer.n_epochs),
    }
    return info, buffer.getvalue()


def _to_cpu(obj):
    """``obj`` with every tensor in it (nested in dicts, lists, tuples) on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _plain(value, arrays=False):
    """``value`` as a JSON value: numpy and torch scalars to Python, tuples to lists.

    Arrays become nested lists, or stay numpy arrays (stored as ``.npy``
    files by skops) with ``arrays=True``.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value.copy() if arrays else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v, arrays) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, arrays) for k, v in value.items()}
    return value


def _estimator_get_state(obj, save_context):
    attrs = dict(obj.__getstate__())
    trainer = attrs.pop("_trainer", None)
    state = {
        "__class__": type(obj).__name__,
        "__module__": get_module(type(obj)),
        "__loader__": _LOADER,
        "content": get_state(attrs, save_context),
    }
    if trainer is not None:
        info, tensors = _trainer_state(trainer)
        file_name = f"{uuid.uuid4()}.pt"
        save_context.zip_file.writestr(file_name, tensors)
        state["trainer"] = get_state(info, save_context)
        state["tensors"] = file_name
    return state


# ----------------------------------------------------------------------- load
class _EstimatorNode(Node):
    """skops node of a skreg estimator: audited attributes plus a tensor file.

    ``__init__`` only reads the file (no import, no object is built), so the
    audit runs before anything from the file is constructed.
    """

    def __init__(self, state, load_context, trusted=None):
        super().__init__(state, load_context, trusted)
        self.trusted = self._get_trusted(trusted, TRUSTED_TYPES)
        self.attrs = get_tree(state["content"], load_context, trusted=trusted)
        self.children = {"attrs": self.attrs}
        self.trainer = self.tensors = None
        if "net" in state:
            raise ValueError(
                "This file holds a skreg model in the format of an older skreg version "
                "(format 1), which this version cannot read. Load it with the version "
                "that saved it and refit, or save it with pickle there.")
        if "trainer" in state:
            self.trainer = get_tree(state["trainer"], load_context, trusted=trusted)
            self.tensors = io.BytesIO(load_context.src.read(state["tensors"]))
            self.children.update(trainer=self.trainer, tensors=self.tensors)

    def _construct(self):
        cls = gettype(self.module_name, self.class_name)
        if not (isinstance(cls, type)
                and issubclass(cls, (BaseRegularizedMLP, _BaseRegularizedMLPCV))):
            raise TypeError(
                f"{self.module_name}.{self.class_name} is not a skreg estimator; "
                "the file is corrupted or was tampered with.")
        if self.trainer is not None and not issubclass(cls, BaseRegularizedMLP):
            raise TypeError(
                f"{self.module_name}.{self.class_name} has no network of its own; the "
                "file is corrupted or was tampered with.")
        est = cls.__new__(cls)
        est.__setstate__(self.attrs.construct())
        if self.trainer is not None:
            est._trainer = _rebuild_trainer(est, self.trainer.construct(), self.tensors)
        return est


def _load_tensors(buffer):
    try:
        return torch.load(buffer, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            "Refusing to load the network state: it is not a plain file of tensors "
            f"({type(exc).__name__}: {exc}). The file is corrupted or was tampered "
            "with.") from exc


def _load_device(est, saved_type):
    """Where a loaded network goes: CUDA if the estimator asks for it and it is here."""
    wanted = str(est.device)
    if wanted == "auto" or wanted.startswith("cuda"):
        if torch.cuda.is_available():
            return torch.device("cuda" if wanted == "auto" else wanted)
        if saved_type == "cuda":
            warnings.warn(
                f"This model was trained with device={est.device!r} but CUDA is not "
                "available here; it is loaded on the CPU. Set device='cpu' before "
                "training it further.", UserWarning, stacklevel=5)
    return torch.device("cpu")


def _rebuild_config(est, info, device, dtype):
    """The trainer's settings: the estimator's, then the stored ones over them."""
    settings = info["config"]
    layer_sizes = tuple(int(s) for s in settings["layer_sizes"])
    random_state = est.random_state
    try:
        # the stored seeds replace the drawn one: building the settings must
        # not draw from a RandomState instance held in random_state
        est.random_state = 0
        config = est._training_config(layer_sizes[0], layer_sizes[-1],
                                      int(settings["batch_size"]), device, dtype)
    finally:
        est.random_state = random_state
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    unknown = set(settings) - set(values) - set(_CONFIG_APART)
    if unknown:
        raise ValueError(
            f"Unknown training settings {sorted(unknown)} in the file; it was written "
            "by another skreg version, or corrupted.")
    for name, value in settings.items():
        if name in _CONFIG_TUPLES:
            value = tuple(value)
        elif name in _CONFIG_ARRAYS and value is not None:
            value = np.asarray(value)
        values[name] = value
    if info["loss"] not in LOSSES:
        raise ValueError(f"Unknown loss {info['loss']!r} in the file.")
    values.update(loss=LOSSES[info["loss"]](layer_sizes[-1]), device=device, dtype=dtype)
    return TrainingConfig(**values)


def _rebuild_trainer(est, info, buffer):
    """A :class:`~skreg._engine.Trainer` in the state :func:`_trainer_state` saved."""
    if info.get("format_version") != _FORMAT_VERSION:
        raise ValueError(
            f"Unknown skreg network format {info.get('format_version')!r}; this "
            f"version of skreg reads format {_FORMAT_VERSION}. Upgrade skreg.")
    tensors = _load_tensors(buffer)
    if info["dtype"] not in _DTYPES:
        raise ValueError(f"Unknown dtype {info['dtype']!r} in the file.")
    device = _load_device(est, info["device_type"])
    trainer = Trainer(_rebuild_config(est, info, device, _DTYPES[info["dtype"]]))
    trainer.model.load_state_dict(tensors["module"])
    if tensors["optimizer"] is not None:
        trainer.optimizer = trainer._build_optimizer()
        trainer.optimizer.load_state_dict(tensors["optimizer"])
    # a generator state is meaningful on its own device type only; elsewhere
    # the generator keeps the seed the trainer gave it
    if info["generator_device_type"] == device.type:
        trainer.generator.set_state(tensors["generator"])
    trainer.masks.bit_generator.state = info["dropout_bit_generator"]
    trainer.rng.bit_generator.state = info["numpy_random"]
    if info["history"] is not None:
        trainer.history = History(info["history"])
    trainer.n_epochs = int(info["n_epochs"])
    trainer.model.eval()
    return trainer


for _cls in (BaseRegularizedMLP, _BaseRegularizedMLPCV):
    _get_state.register(_cls)(_estimator_get_state)
NODE_TYPE_MAPPING[(_LOADER, PROTOCOL)] = _EstimatorNode


# ----------------------------------------------------------------- public API
def dump(obj, file, *, compression=None, compresslevel=None):
    """Save a skreg estimator, or any object holding one, in the safe skops format.

    Parameters
    ----------
    obj : object
        A skreg estimator (the cross-validated ones included), fitted or
        not, or an object that contains one (a
        :class:`~sklearn.pipeline.Pipeline`, a search, a list, ...).
        Everything else in it must be persistable by skops.
    file : str, path-like or binary file object
        Where to write. The conventional extension is ``.skops``.
    compression : int, default=None
        A :mod:`zipfile` compression constant; default ``zipfile.ZIP_STORED``.
    compresslevel : int, default=None
        Compression level, as for :class:`zipfile.ZipFile`.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> from skreg import RegularizedMLPClassifier
    >>> from skreg.io import dump, load
    >>> X = np.arange(20.0).reshape(10, 2); y = [0, 1] * 5
    >>> clf = RegularizedMLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    ... # doctest: +SKIP
    >>> buffer = io.BytesIO(); dump(clf, buffer)  # doctest: +SKIP
    >>> (load(io.BytesIO(buffer.getvalue())).predict(X) == clf.predict(X)).all()
    ... # doctest: +SKIP
    True
    """
    kwargs = {} if compression is None else {"compression": compression}
    _skops_io.dump(obj, file, compresslevel=compresslevel, **kwargs)


def dumps(obj, *, compression=None, compresslevel=None):
    """Return the safe skops serialization of ``obj`` as bytes (see :func:`dump`).

    Parameters
    ----------
    obj : object
        A skreg estimator or an object holding one.
    compression : int, default=None
        A :mod:`zipfile` compression constant; default ``zipfile.ZIP_STORED``.
    compresslevel : int, default=None
        Compression level, as for :class:`zipfile.ZipFile`.

    Returns
    -------
    bytes
        The content of a ``.skops`` file.
    """
    kwargs = {} if compression is None else {"compression": compression}
    return _skops_io.dumps(obj, compresslevel=compresslevel, **kwargs)


def load(file, trusted=None):
    """Load an object saved with :func:`dump`, refusing untrusted content.

    Every type named in the file must be trusted: skreg's estimators
    (:data:`TRUSTED_TYPES`), the types skops trusts by default
    (scikit-learn's estimators, numpy arrays and scalars, scipy sparse
    matrices, Python builtins), or a type listed in ``trusted``. The network
    tensors are read with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    file : str, path-like or binary file object
        The file to read.
    trusted : list of str or type, default=None
        Further types to trust, e.g. a custom transformer of your own in a
        pipeline. Review :func:`get_untrusted_types` before trusting
        anything in a file you did not write.

    Returns
    -------
    object
        The loaded object.

    Raises
    ------
    skops.io.exceptions.UntrustedTypesFoundException
        If the file names a type that is not trusted.
    ValueError
        If the network state is not a plain file of tensors, or the file was
        written in another skreg format version.
    """
    return _skops_io.load(file, trusted=trusted)


def loads(data, trusted=None):
    """Load an object from bytes made by :func:`dumps` (see :func:`load`).

    Parameters
    ----------
    data : bytes
        The content of a ``.skops`` file.
    trusted : list of str or type, default=None
        Further types to trust.

    Returns
    -------
    object
        The loaded object.
    """
    return _skops_io.loads(data, trusted=trusted)


def get_untrusted_types(*, data=None, file=None):
    """Names of the types in a skops file that :func:`load` would refuse.

    Parameters
    ----------
    data : bytes, default=None
        The content of a ``.skops`` file.
    file : str, path-like or binary file object, default=None
        The file; give exactly one of ``data`` and ``file``.

    Returns
    -------
    list of str
        Fully qualified type names, sorted; empty when :func:`load` accepts
        the file as it is.
    """
    untrusted = _skops_io.get_untrusted_types(data=data, file=file)
    return sorted(set(untrusted) - set(TRUSTED_TYPES))
