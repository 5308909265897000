"""The environment: minimal versions of the dependencies, and a report for bug reports.

This module imports neither torch nor scikit-learn at import time, so that
:func:`_check_dependencies` can run before either is imported and turn an
incompatible installation into one clear :class:`ImportError`.
"""

import platform
import re
import sys
from importlib.metadata import PackageNotFoundError, version

# distribution name -> (import name, minimal version); keep in step with
# ``dependencies`` in pyproject.toml
MIN_VERSIONS = {
    "torch": ("torch", "2.2"),
    "scikit-learn": ("sklearn", "1.6"),
    "skorch": ("skorch", "1.0"),
    "numpy": ("numpy", "1.24"),
    "scipy": ("scipy", "1.10"),
}

_OPTIONAL = ["imbalanced-learn", "pandas", "matplotlib", "skops", "joblib",
             "threadpoolctl", "pip"]


def _parse_version(text):
    """Leading release numbers of a version string: ``'2.13.0+cpu'`` -> ``(2, 13, 0)``."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(text))
    if match is None:
        raise ValueError(f"Cannot read a version number from {text!r}.")
    return tuple(int(part) for part in match.group(1).split("."))


def _installed_versions():
    """Installed version of each distribution in :data:`MIN_VERSIONS` (None if absent)."""
    found = {}
    for dist in MIN_VERSIONS:
        try:
            found[dist] = version(dist)
        except PackageNotFoundError:
            found[dist] = None
    return found


def _check_dependencies(installed=None):
    """Raise an ImportError naming every dependency that is missing or too old.

    Parameters
    ----------
    installed : dict of str to str or None, default=None
        Distribution name -> installed version string (None: not
        installed). Default: read from the installed package metadata.
        A distribution absent from the dict is not checked.

    Raises
    ------
    ImportError
        If any dependency is missing or older than its minimal version;
        the message lists each one with the version found, the version
        needed and the pip command that fixes it.
    """
    installed = _installed_versions() if installed is None else installed
    problems, bad = [], []
    for dist, (_, minimum) in MIN_VERSIONS.items():
        if dist not in installed:
            continue
        found = installed[dist]
        if found is None:
            problems.append(f"{dist} is not installed (skreg needs {dist}>={minimum})")
            bad.append(dist)
            continue
        try:
            too_old = _parse_version(found) < _parse_version(minimum)
        except ValueError:
            continue  # an unreadable version string (a local build): let it try
        if too_old:
            problems.append(f"{dist} {found} is installed, but skreg needs {dist}>={minimum}")
            bad.append(dist)
    if problems:
        needed = " ".join(f'"{dist}>={MIN_VERSIONS[dist][1]}"' for dist in bad)
        raise ImportError(
            "skreg cannot run with the installed dependencies: "
            + "; ".join(problems) + ". Upgrade them, e.g. with "
            f"`python -m pip install --upgrade {needed}`.")


def _get_sys_info():
    """System and Python information as a dict."""
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _get_deps_info():
    """Versions of skreg, its dependencies and optional packages (None if absent)."""
    from . import __version__

    deps = {"skreg": __version__}
    for dist in [*MIN_VERSIONS, *_OPTIONAL]:
        try:
            deps[dist] = version(dist)
        except PackageNotFoundError:
            deps[dist] = None
    return deps


def _get_torch_info():
    """How torch was built and what it sees: devices, thread counts, backends."""
    import torch

    info = {
        "torch build": torch.__version__,
        "CUDA available": torch.cuda.is_available(),
        "CUDA (build)": torch.version.cuda,
        "cuDNN": (torch.backends.cudnn.version()
                  if torch.backends.cudnn.is_available() else None),
    }
    if torch.cuda.is_available():
        info["GPUs"] = ", ".join(torch.cuda.get_device_name(i)
                                 for i in range(torch.cuda.device_count()))
    info["MPS available"] = (hasattr(torch.backends, "mps")
                             and torch.backends.mps.is_available())
    info["intra-op threads"] = torch.get_num_threads()
    info["inter-op threads"] = torch.get_num_interop_threads()
    info["OpenMP"] = torch.backends.openmp.is_available()
    info["MKL"] = torch.backends.mkl.is_available()
    info["deterministic algorithms"] = torch.are_deterministic_algorithms_enabled()
    return info


def show_versions():
    """Print the system, dependency and torch information useful in a bug report.

    In the style of :func:`sklearn.show_versions`: Python and platform, the
    versions of skreg and of its required and optional dependencies, how
    torch was built (CUDA, cuDNN, OpenMP, MKL) and what it uses here (GPUs,
    thread counts), and scikit-learn's ``threadpoolctl`` report of the
    native thread pools.

    Examples
    --------
    >>> import skreg
    >>> skreg.show_versions()  # doctest: +SKIP
    """
    print("\nSystem:")
    for key, value in _get_sys_info().items():
        print(f"{key:>10}: {value}")

    print("\nPython dependencies:")
    for key, value in _get_deps_info().items():
        print(f"{key:>17}: {value}")

    print("\ntorch:")
    for key, value in _get_torch_info().items():
        print(f"{key:>25}: {value}")

    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        return
    pools = threadpool_info()
    if pools:
        print("\nthreadpoolctl info:")
        for i, pool in enumerate(pools):
            for key, value in pool.items():
                print(f"{key:>15}: {value}")
            if i != len(pools) - 1:
                print()
