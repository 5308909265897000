"""The CUDA path; these tests run only where CUDA is available."""

import pickle

import numpy as np
import pytest
import torch

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cuda_fit_matches_cpu_quality(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 8)).astype(dtype)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    kw = dict(hidden_layer_sizes=(32,), dropout=0.1, penalty="elasticnet", alpha=0.1,
              early_stopping=True, max_iter=100, learning_rate_init=0.01, random_state=0)
    gpu = RegularizedMLPClassifier(device="cuda", **kw).fit(X, y)
    cpu = RegularizedMLPClassifier(device="cpu", **kw).fit(X, y)
    assert gpu.module_.coef_flat.device.type == "cuda"
    assert abs(gpu.score(X, y) - cpu.score(X, y)) < 0.05
    assert gpu.predict_proba(X).dtype == np.float64


def test_cuda_model_pickles_to_cpu_readable_bytes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    reg = RegularizedMLPRegressor(hidden_layer_sizes=(16,), max_iter=20, device="cuda",
                                  random_state=0).fit(X, X[:, 0])
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(loaded.predict(X), reg.predict(X), rtol=1e-6)


def test_device_auto_picks_cuda():
    X = np.random.default_rng(0).normal(size=(50, 3))
    reg = RegularizedMLPRegressor(max_iter=2, device="auto").fit(X, X[:, 0])
    assert reg.module_.coef_flat.device.type == "cuda"
