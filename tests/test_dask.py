"""Scale-out: searches on a real dask cluster, out-of-core training, thread budgets."""

import threading
import warnings

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.preprocessing import StandardScaler

from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
)


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of two worker processes, on the loopback interface only."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=400, n_features=10, n_informative=6,
                               random_state=0)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def test_gridsearch_on_dask_equals_local(client, clf_data):
    X, y = clf_data
    grid = {"alpha": [1e-4, 1e-1], "dropout": [0.0, 0.2]}
    est = RegularizedMLPClassifier(hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    local = GridSearchCV(est, grid, cv=3).fit(X, y)
    with parallel_backend("dask"):
        remote = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(X, y)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
    # the work ran on the cluster's worker processes
    assert sum(client.run(lambda: 1).values()) == 2


def test_randomized_search_on_dask_equals_local(client):
    X, y = make_regression(n_samples=300, n_features=8, noise=1.0, random_state=0)
    y = (y - y.mean()) / y.std()
    params = {"alpha": [1e-4, 1e-3, 1e-2, 1e-1], "l1_ratio": [0.0, 0.5, 1.0]}
    est = RegularizedMLPRegressor(hidden_layer_sizes=(16,), penalty="elasticnet",
                                  max_iter=10, random_state=0)
    local = RandomizedSearchCV(est, params, n_iter=4, cv=3, random_state=0).fit(X, y)
    with parallel_backend("dask"):
        remote = RandomizedSearchCV(est, params, n_iter=4, cv=3, random_state=0,
                                    n_jobs=-1).fit(X, y)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])


def _fit_threads(X, y):
    est = RegularizedMLPClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(X, y)
    return est.n_threads_


def test_each_worker_fit_uses_its_share_of_threads(client, clf_data):
    """Two single-threaded workers on this machine: each fit runs torch on one
    thread, not on every core."""
    X, y = clf_data
    futures = [client.submit(_fit_threads, X, y, pure=False) for _ in range(2)]
    assert client.gather(futures) == [1, 1]


def test_concurrent_fits_in_one_process_share_the_pool(clf_data):
    """Fits running at once in threads of one process split torch's pool."""
    import torch
    X, y = clf_data
    X = np.repeat(X, 20, axis=0)
    y = np.repeat(y, 20)
    pool = torch.get_num_threads()
    results, start = [], threading.Barrier(2)

    def run():
        start.wait()
        est = RegularizedMLPClassifier(hidden_layer_sizes=(64,), max_iter=3).fit(X, y)
        results.append(est.n_threads_)

    threads = [threading.Thread(target=run) for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 2
    assert max(results) <= max(1, pool // 2)
    # a small network trains on one thread, whatever the pool
    assert RegularizedMLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(
        X[:50], y[:50]).n_threads_ == 1
    assert torch.get_num_threads() == pool


def test_incremental_on_chunked_dask_array(client):
    """Out-of-core: partial_fit over the blocks of a dask array, through
    dask-ml's Incremental, learns as well as a fit in memory."""
    from dask_ml.wrappers import Incremental
    X, y = make_classification(n_samples=3000, n_features=20, n_informative=10,
                               random_state=0)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    X_test, y_test = X[2400:], y[2400:]
    X_train, y_train = X[:2400], y[:2400]
    dX = da.from_array(X_train, chunks=(400, 20))
    dy = da.from_array(y_train, chunks=400)
    assert dX.numblocks[0] == 6
    inc = Incremental(RegularizedMLPClassifier(hidden_layer_sizes=(32,), random_state=0,
                                               learning_rate_init=0.01))
    for _ in range(5):  # five passes over the six blocks
        inc.partial_fit(dX, dy, classes=np.unique(y))
    est = inc.estimator_
    assert len(est.history_) == 30  # one epoch per block per pass
    in_memory = RegularizedMLPClassifier(hidden_layer_sizes=(32,), random_state=0,
                                         learning_rate_init=0.01, max_iter=5,
                                         batch_size=200).fit(X_train, y_train)
    incremental_score = est.score(X_test, y_test)
    assert incremental_score > 0.88
    assert incremental_score > in_memory.score(X_test, y_test) - 0.03
    # predictions through the wrapper are dask arrays computed block-wise
    pred = inc.predict(da.from_array(X_test, chunks=200))
    np.testing.assert_array_equal(pred.compute(), est.predict(X_test))


def test_incremental_regressor_on_dask(client):
    from dask_ml.wrappers import Incremental
    X, y = make_regression(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    y = ((y - y.mean()) / y.std()).astype(np.float32)
    X = X.astype(np.float32)
    dX, dy = da.from_array(X[:1600], chunks=(400, 10)), da.from_array(y[:1600], chunks=400)
    inc = Incremental(RegularizedMLPRegressor(hidden_layer_sizes=(32,), random_state=0,
                                              learning_rate_init=0.01))
    for _ in range(5):
        inc.partial_fit(dX, dy)
    assert inc.estimator_.score(X[1600:], y[1600:]) > 0.9
