"""Safe persistence: save and load skreg models without pickle.

:func:`dump` and :func:`load` use the `skops <https://skops.readthedocs.io>`_
format: a zip archive holding a JSON description of the object tree, numpy
arrays in ``.npy`` files read with ``allow_pickle=False``, and, for each skreg
estimator, one file of torch tensors read with ``torch.load(...,
weights_only=True)``. Loading never runs pickle on untrusted bytes: every
type named in the file is audited against a list of trusted types before
anything is built, and the tensor file can only hold tensors, numbers,
strings and containers of them.

skreg's estimators are registered with skops as trusted types, so a model, a
:class:`~sklearn.pipeline.Pipeline` or a
:class:`~sklearn.model_selection.GridSearchCV` that contains one loads with
:func:`load` (or :func:`skops.io.load` once :mod:`skreg.io` is imported)
without any ``trusted`` argument, as long as every other type in it is one
skops trusts by default (scikit-learn's estimators, numpy, scipy).

An estimator is stored as its scikit-learn attributes (parameters,
``classes_``, ``n_features_in_``, ``feature_names_in_``, ...) and, when
fitted, the state of its network: the module's weights and buffers, the
optimizer's state, the random generators' states and the per-epoch
history. On load the network is rebuilt from the estimator's parameters and
that state is copied in, on the CPU unless the estimator's ``device`` asks
for CUDA and CUDA is available. A loaded model predicts exactly as the saved
one, and ``partial_fit`` or a warm-started ``fit`` continue as they would have
without the round trip.

This module needs the ``skops`` package (``pip install skreg[persist]``).
"""

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

from ._mlp import BaseRegularizedMLP, RegularizedMLPClassifier, RegularizedMLPRegressor

__all__ = ["TRUSTED_TYPES", "dump", "dumps", "get_untrusted_types", "load", "loads"]

#: Fully qualified names of the skreg types that :func:`load` trusts.
TRUSTED_TYPES = [
    f"{get_module(cls)}.{cls.__name__}"
    for cls in (RegularizedMLPClassifier, RegularizedMLPRegressor)
]

_LOADER = "SkregEstimatorNode"
_FORMAT_VERSION = 1


# ----------------------------------------------------------------------- save
def _net_state(est):
    """The fitted network's state: tensors for torch, plain values for skops."""
    net = est.net_
    module = net.module_
    tensors = {
        "module": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "optimizer": _to_cpu(net.optimizer_.state_dict()),
        "generator": net.generator_.get_state(),
    }
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    info = {
        "format_version": _FORMAT_VERSION,
        "dtype": str(module.coef_flat.dtype).replace("torch.", ""),
        "device_type": torch.device(net.device).type,
        "batch_size": int(net.batch_size),
        "seed": int(net.seed),
        "dropout_bit_generator": net.dropout_masks_.bit_generator.state,
        "numpy_random": net.numpy_random_.bit_generator.state,
        "history": [{k: _plain(v) for k, v in row.items()} for row in net.history],
    }
    return info, buffer.getvalue()


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _plain(value):
    """A history entry as a JSON value (numpy and torch scalars to Python)."""
    if isinstance(value, (np.generic, torch.Tensor)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _estimator_get_state(obj, save_context):
    attrs = dict(obj.__getstate__())
    attrs.pop("net_", None)
    state = {
        "__class__": type(obj).__name__,
        "__module__": get_module(type(obj)),
        "__loader__": _LOADER,
        "content": get_state(attrs, save_context),
    }
    if hasattr(obj, "net_"):
        info, tensors = _net_state(obj)
        file_name = f"{uuid.uuid4()}.pt"
        save_context.zip_file.writestr(file_name, tensors)
        state["net"] = get_state(info, save_context)
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
        self.net = self.tensors = None
        if "net" in state:
            self.net = get_tree(state["net"], load_context, trusted=trusted)
            self.tensors = io.BytesIO(load_context.src.read(state["tensors"]))
            self.children.update(net=self.net, tensors=self.tensors)

    def _construct(self):
        cls = gettype(self.module_name, self.class_name)
        if not (isinstance(cls, type) and issubclass(cls, BaseRegularizedMLP)):
            raise TypeError(
                f"{self.module_name}.{self.class_name} is not a skreg estimator; "
                "the file is corrupted or was tampered with.")
        est = cls.__new__(cls)
        est.__setstate__(self.attrs.construct())
        if self.net is not None:
            est.net_ = _rebuild_net(est, self.net.construct(), self.tensors)
        return est


def _load_tensors(buffer):
    try:
        return torch.load(buffer, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            "Refusing to load the network state: it is not a plain file of tensors "
            f"({type(exc).__name__}: {exc}). The file is corrupted or was tampered "
            "with.") from exc


def _rebuild_net(est, info, buffer):
    if info.get("format_version") != _FORMAT_VERSION:
        raise ValueError(
            f"Unknown skreg network format {info.get('format_version')!r}; this "
            f"version of skreg reads format {_FORMAT_VERSION}. Upgrade skreg.")
    tensors = _load_tensors(buffer)
    device = "cpu"
    if str(est.device) == "auto" or str(est.device).startswith("cuda"):
        if torch.cuda.is_available():
            device = "cuda" if str(est.device) == "auto" else est.device
        elif info["device_type"] == "cuda":
            warnings.warn(
                f"This model was trained with device={est.device!r} but CUDA is not "
                "available here; it is loaded on the CPU. Set device='cpu' before "
                "training it further.", UserWarning, stacklevel=4)
    dtype = getattr(torch, info["dtype"])
    random_state = est.random_state
    try:
        # the network's seed is restored below: building it must not draw
        # from a RandomState instance held in random_state
        est.random_state = 0
        net = est._build_net(est.n_features_in_, info["batch_size"], device, dtype)
    finally:
        est.random_state = random_state
    net.seed = info["seed"]
    net.module_.load_state_dict(tensors["module"])
    net.optimizer_.load_state_dict(tensors["optimizer"])
    if info["device_type"] == torch.device(device).type:
        net.generator_.set_state(tensors["generator"])
    else:
        net.generator_.manual_seed(net.seed)
    net.dropout_masks_.bit_generator.state = info["dropout_bit_generator"]
    net.numpy_random_.bit_generator.state = info["numpy_random"]
    net.history = History(info["history"])
    net.module_.eval()
    return net


for _cls in (BaseRegularizedMLP,):
    _get_state.register(_cls)(_estimator_get_state)
NODE_TYPE_MAPPING[(_LOADER, PROTOCOL)] = _EstimatorNode


# ----------------------------------------------------------------- public API
def dump(obj, file, *, compression=None, compresslevel=None):
    """Save a skreg estimator, or any object holding one, in the safe skops format.

    Parameters
    ----------
    obj : object
        A skreg estimator, fitted or not, or an object that contains one
        (a :class:`~sklearn.pipeline.Pipeline`, a search, a list, ...).
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
        If the network state is not a plain file of tensors.
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
