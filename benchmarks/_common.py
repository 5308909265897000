"""Helpers shared by the benchmark scripts: environment header, timing, JSON.

Not a public module; the scripts import it as ``_common`` because Python
puts the script's own folder (``benchmarks/``) first on ``sys.path``.
"""

import gc
import json
import os
import platform
import statistics
import sys
import time

# env vars that change OpenBLAS's behaviour on this kind of machine; the
# benchmarks leave them as they are and only report them
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                 "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas_info():
    """threadpoolctl's view of the loaded BLAS / OpenMP libraries."""
    try:
        import numpy as np  # noqa: F401  (make sure numpy's BLAS is loaded)
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return []
    rows = []
    for lib in threadpool_info():
        path = lib.get("filepath", "")
        if "numpy" in path:
            owner = "numpy"
        elif "scipy" in path:
            owner = "scipy"
        elif "torch" in path:
            owner = "torch"
        elif "scikit_learn" in path or "sklearn" in path:
            owner = "sklearn"
        else:
            owner = "?"
        rows.append({
            "owner": owner,
            "user_api": lib.get("user_api"),
            "internal_api": lib.get("internal_api"),
            "version": lib.get("version"),
            "num_threads": lib.get("num_threads"),
            "architecture": lib.get("architecture"),
            "threading_layer": lib.get("threading_layer"),
            "file": os.path.basename(path),
        })
    return rows


def environment():
    """Versions, threads and BLAS of this process, as a dict."""
    import numpy as np
    import sklearn
    import torch
    try:
        import skorch
        skorch_version = skorch.__version__
    except ImportError:  # pragma: no cover
        skorch_version = None
    import skreg
    try:
        load = os.getloadavg()
    except OSError:  # pragma: no cover
        load = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg": load,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "cuda_available": torch.cuda.is_available(),
        "sklearn": sklearn.__version__,
        "skorch": skorch_version,
        "skreg": skreg.__version__,
        "env": {k: os.environ.get(k) for k in OPENBLAS_VARS},
        "threadpools": _blas_info(),
    }


def print_header(env, title):
    print("=" * 78)
    print(title)
    print("=" * 78)
    print(f"python {env['python']}  |  {env['platform']}")
    print(f"cpu: {env['cpu']}  ({env['cpu_count']} logical CPUs, "
          f"{env['affinity']} usable; load average "
          f"{' '.join(f'{x:.2f}' for x in env['loadavg'] or [])})")
    print(f"numpy {env['numpy']}  torch {env['torch']}  sklearn {env['sklearn']}  "
          f"skorch {env['skorch']}  skreg {env['skreg']}")
    print(f"torch.get_num_threads() = {env['torch_num_threads']}  "
          f"(interop {env['torch_num_interop_threads']}), "
          f"cuda available: {env['cuda_available']}")
    for name, value in env["env"].items():
        state = f"set to {value!r}" if value is not None else "not set"
        print(f"  env {name}: {state}")
    print("threadpoolctl.threadpool_info():")
    for lib in env["threadpools"]:
        extra = ""
        if lib["user_api"] == "blas":
            extra = f" arch={lib['architecture']} threading={lib['threading_layer']}"
        print(f"  [{lib['owner']:>7}] {lib['user_api']:6} {lib['internal_api']:8} "
              f"v{lib['version']} threads={lib['num_threads']}{extra}  ({lib['file']})")
    numpy_blas = [lib for lib in env["threadpools"]
                  if lib["owner"] == "numpy" and lib["user_api"] == "blas"]
    if numpy_blas:
        b = numpy_blas[0]
        print(f"numpy BLAS: {b['internal_api']} {b['version']} "
              f"({b['architecture']}, {b['num_threads']} threads)")
    print()


def timed(fn):
    """(seconds, result) of one call, after a garbage collection."""
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def summarize(times):
    return {"best": min(times), "median": statistics.median(times),
            "all": list(times)}


def verdict(value, target):
    """'ok' / 'MISSED' for ``value <= target``."""
    return "ok" if value <= target else "MISSED"


def save_json(path, payload):
    if not path:
        return
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=2, default=_jsonable)
    print(f"\nresults written to {path}")


def _jsonable(obj):
    try:
        import numpy as np
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, tuple):
        return list(obj)
    return str(obj)
