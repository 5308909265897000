"""Safe persistence: save and load skreg models without pickle.

:func:`dump` and :func:`load` use the `skops <https://skops.readthedocs.io>`_
format: a zip archive holding a JSON description of the object tree and
numpy arrays in ``.npy`` files read with ``allow_pickle=False``. Loading
never runs pickle: every type named in the file is audited against a list
of trusted types before anything is built.

A fitted skreg estimator is stored as its attributes (parameters,
``classes_``, ``n_features_in_``, ``feature_names_in_``, ...) and its
trainer, which saves itself as numpy arrays and plain Python values: the
network's weights and buffers, the optimizer's state, the states of the
torch and numpy generators, the training settings (the loss by name), the
history and the epoch count. The trainer is rebuilt from them on load, on the device it was
trained on, or on the CPU, with a ``UserWarning``, where that device is
missing. A loaded model predicts exactly as the saved one, and
``partial_fit`` or a warm-started ``fit`` continue as they would have
without the round trip. A cross-validated estimator
(:class:`~skreg.RegularizedMLPClassifierCV`,
:class:`~skreg.RegularizedMLPRegressorCV`) is stored as its attributes:
``cv_results_`` (numpy and masked arrays, lists of parameter dicts) and the
fitted plain estimators it predicts with (``estimators_``: its fold models,
or the refitted ``best_estimator_``), each stored as above.

The file is the same as the one :func:`skops.io.dump` writes: the only
skreg types in it are the estimators and the trainer, listed in
:data:`TRUSTED_TYPES`. :func:`load` trusts them; :func:`skops.io.load`
loads the file once they are passed as ``trusted`` (they are what
:func:`skops.io.get_untrusted_types` lists for a file of skreg estimators
alone). A :class:`~sklearn.pipeline.Pipeline` or a
:class:`~sklearn.model_selection.GridSearchCV` that contains a skreg
estimator loads with :func:`load` without any ``trusted`` argument, as long
as every other type in it is one skops trusts by default (scikit-learn's
estimators, numpy, scipy).

This module needs the ``skops`` package (``pip install skreg[persist]``).
"""

import os
import zipfile
from contextlib import contextmanager

try:
    import skops.io as _skops_io
    from skops.io._audit import NODE_TYPE_MAPPING, Node
    from skops.io._protocol import PROTOCOL
    from skops.io._utils import get_module
except ImportError as exc:  # pragma: no cover - exercised without skops only
    raise ImportError(
        "skreg.io needs the 'skops' package for its safe file format; install it "
        "with `python -m pip install skops` (or `skreg[persist]`). pickle and "
        "joblib work without it but must only load files you trust."
    ) from exc

from ._classifier import RegularizedMLPClassifier
from ._engine import NumericEmbedding, Trainer
from ._regressor import RegularizedMLPRegressor
from ._search import RegularizedMLPClassifierCV, RegularizedMLPRegressorCV
from ._tabular import TabularEncoder

__all__ = ["TRUSTED_TYPES", "dump", "dumps", "get_untrusted_types", "load", "loads"]

#: Fully qualified names of the skreg types that :func:`load` trusts: the
#: four estimators, the trainer that a fitted plain estimator holds, its
#: numeric embedding and its table encoder (numpy arrays only); then the
#: estimators under the modules that files of earlier versions name
#: (``skreg._mlp``, ``skreg._cv``: the same classes).
TRUSTED_TYPES = [
    f"{get_module(cls)}.{cls.__name__}"
    for cls in (RegularizedMLPClassifier, RegularizedMLPRegressor,
                RegularizedMLPClassifierCV, RegularizedMLPRegressorCV, Trainer,
                NumericEmbedding, TabularEncoder)
] + [f"skreg._mlp.{cls.__name__}" for cls in (RegularizedMLPClassifier,
                                              RegularizedMLPRegressor)] + [
    f"skreg._cv.{cls.__name__}" for cls in (RegularizedMLPClassifierCV,
                                            RegularizedMLPRegressorCV)]


class _OlderLayoutNode(Node):
    """The node of a skreg estimator in the layout of skreg's earlier files.

    Those files stored the network in a separate tensor member; this version
    reads the trainer from numpy arrays only, and refuses them before
    anything is built.
    """

    def __init__(self, state, load_context, trusted=None):
        raise ValueError(
            "This file holds a skreg model in the format of an older skreg version "
            "(a separate tensor file per estimator), which this version cannot read. "
            "Load it with the version that saved it and save it again with this "
            "version's skreg.io, or refit.")


NODE_TYPE_MAPPING[("SkregEstimatorNode", PROTOCOL)] = _OlderLayoutNode


def _trusted(trusted):
    return [*TRUSTED_TYPES, *(trusted or [])]


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
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> y = [0, 1] * 5
    >>> clf = RegularizedMLPClassifier((4,), max_iter=2, random_state=0).fit(X, y)
    >>> buffer = io.BytesIO()
    >>> dump(clf, buffer)
    >>> loaded = load(io.BytesIO(buffer.getvalue()))
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
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


def _head(data=None, file=None):
    """The first bytes of ``data`` or ``file`` (a path or a seekable binary file), or b''."""
    if data is not None:
        return bytes(data[:8])
    try:
        if hasattr(file, "read"):
            position = file.tell()
            head = file.read(8)
            file.seek(position)
            return head
        with open(file, "rb") as f:
            return f.read(8)
    except (OSError, ValueError):
        return b""


def _looks_like(head):
    """What a file that is not a skops archive seems to be, from its first bytes."""
    if head.startswith(b"PK"):
        return "it is a zip archive, but not one that skops wrote (it has no schema.json)"
    if head.startswith(b"\x80"):
        return ("it looks like a pickle or joblib file: load it with joblib.load, and "
                "only if you trust its source (unpickling can run any code)")
    if head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"x\x9c", b"x\xda")):
        return "it looks like a compressed file (a compressed joblib pickle?)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "its content is not recognised"
    return "it looks like a text file (a CSV?)" if head else "it is empty"


@contextmanager
def _skops_format(data=None, file=None):
    """Turn skops's errors on a file that is not a skops archive into one ``ValueError``."""
    try:
        yield
    except (zipfile.BadZipFile, KeyError) as exc:
        if isinstance(exc, KeyError) and "schema.json" not in str(exc):
            raise
        what = "The data" if data is not None else f"The file {os.fspath(file)!r}" \
            if isinstance(file, (str, os.PathLike)) else "The file"
        raise ValueError(
            f"{what} is not a skops archive written by skreg.io.dump (a zip file); "
            f"{_looks_like(_head(data, file))}.") from None


def load(file, trusted=None):
    """Load an object saved with :func:`dump`, refusing untrusted content.

    Every type named in the file must be trusted: skreg's estimators and
    trainer (:data:`TRUSTED_TYPES`), the types skops trusts by default
    (scikit-learn's estimators, numpy arrays and scalars, scipy sparse
    matrices, Python builtins), or a type listed in ``trusted``. The check
    runs on the whole file before any object is built; a trainer is then
    built from numpy arrays and Python values only.

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
        If a trainer's state is of another format version or names an
        unknown setting, loss or dtype, or the file was written in the
        layout of an older skreg version, or is not a skops file at all
        (a pickle, a CSV: the message says which it looks like).
    """
    with _skops_format(file=file):
        return _skops_io.load(file, trusted=_trusted(trusted))


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
    with _skops_format(data=data):
        return _skops_io.loads(data, trusted=_trusted(trusted))


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
    with _skops_format(data=data, file=file):
        untrusted = _skops_io.get_untrusted_types(data=data, file=file)
    return sorted(set(untrusted) - set(TRUSTED_TYPES))
