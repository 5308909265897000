"""Persistence: the safe skops format of skreg.io, and what pickle and joblib keep.

tests/test_integration.py already checks pickle and joblib round trips of
fitted models and pipelines; this module covers the safe format (every
regularizer, early stopping, the cross-validated estimators), tampered
files, and loading a model trained on a GPU where there is none.
"""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from skreg import (RegularizedMLPClassifier, RegularizedMLPClassifierCV,
                   RegularizedMLPRegressor, RegularizedMLPRegressorCV)

skops_io = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

import skreg.io  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(hidden_layer_sizes=(8,), max_iter=5, learning_rate_init=0.01, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    labels = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, labels


def _edit_archive(blob, edit_schema=None, replace_files=None):
    """A copy of a .skops archive with its schema or member files changed."""
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name == "schema.json" and edit_schema is not None:
                schema = json.loads(content)
                edit_schema(schema)
                content = json.dumps(schema)
            elif replace_files and name.endswith(tuple(replace_files)):
                content = replace_files[os.path.splitext(name)[1]]
            dst.writestr(name, content)
    return out.getvalue()


def _tensor_member(blob):
    names = [n for n in zipfile.ZipFile(io.BytesIO(blob)).namelist() if n.endswith(".pt")]
    assert len(names) == 1
    return zipfile.ZipFile(io.BytesIO(blob)).read(names[0])


# --------------------------------------------------------------- round trips
def test_skops_round_trip_of_a_pipeline_with_names_and_string_labels(data, tmp_path):
    X, labels = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = make_pipeline(StandardScaler().set_output(transform="pandas"),
                          RegularizedMLPClassifier(**TINY, dropout=0.2, early_stopping=True,
                                                   class_weight={"ant": 2.0}))
    model.fit(frame, labels)
    path = tmp_path / "model.skops"
    skreg.io.dump(model, path)
    # nothing in the file needs the caller's trust: skreg's types are registered
    assert skreg.io.get_untrusted_types(file=path) == []
    loaded = skreg.io.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(loaded[-1].classes_, ["ant", "bee", "cat"])
    assert loaded[-1].get_params() == model[-1].get_params()
    assert loaded[-1].loss_curve_ == model[-1].loss_curve_
    assert loaded[-1].validation_scores_ == model[-1].validation_scores_
    # Monte Carlo dropout is seeded by the network: the same after loading
    scaled = model[0].transform(frame[:5])
    np.testing.assert_array_equal(loaded[-1].predict_proba(scaled, mc_samples=4),
                                  model[-1].predict_proba(scaled, mc_samples=4))


@pytest.mark.parametrize("params", [
    dict(), dict(batch_norm=True), dict(solver="lbfgs", penalty="l2"),
    dict(penalty="elasticnet", alpha=0.1, max_norm=2.0, solver="adamw"),
])
def test_skops_round_trip_of_a_float32_multi_output_regressor(params):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2]
    reg = RegularizedMLPRegressor(**{**TINY, **params}).fit(X, Y)
    loaded = skreg.io.loads(skreg.io.dumps(reg))
    out = loaded.predict(X)
    assert out.dtype == np.float32 and out.shape == (60, 2)
    np.testing.assert_array_equal(out, reg.predict(X))


REGULARIZED = {
    "l1": dict(penalty="l1", alpha=0.05),
    "elasticnet": dict(penalty="elasticnet", alpha=0.05, l1_ratio=0.5),
    "elasticnet-subgradient": dict(penalty="elasticnet", alpha=0.05,
                                   l1_method="subgradient"),
    "lp": dict(penalty="lp", p=1.5, alpha=0.05),
    "lp-inf": dict(penalty="lp", p=np.inf, alpha=0.05),
    "group_alpha": dict(group_alpha=0.05),
    "max_norm": dict(max_norm=0.5),
    "dropout": dict(hidden_layer_sizes=(8, 4), dropout=[0.2, 0.4]),
    "batch_norm": dict(batch_norm=True),
    "noise-mixup": dict(input_noise=0.1, hidden_noise=0.1, mixup=0.2),
    "sgd-invscaling": dict(solver="sgd", learning_rate="invscaling", snapshot_every=2),
    "adamw-cosine": dict(solver="adamw", learning_rate="cosine", alpha=0.01),
    "lbfgs": dict(solver="lbfgs", penalty="l2"),
}


@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early_stopping"])
@pytest.mark.parametrize("params", list(REGULARIZED.values()), ids=list(REGULARIZED))
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_every_regularizer_round_trips_with_identical_predictions_and_training(
        Est, params, early_stopping, data):
    X, labels = data
    X, labels = X[:60], labels[:60]
    y = labels if Est is RegularizedMLPClassifier else X[:, 0] - X[:, 1]
    settings = {**TINY, "max_iter": 4, **params}
    if early_stopping:
        settings.update(early_stopping=True, validation_fraction=0.25)
    est = Est(**settings).fit(X, y)
    blob = skreg.io.dumps(est)
    assert skreg.io.get_untrusted_types(data=blob) == []
    loaded = skreg.io.loads(blob)
    predict = "predict_proba" if Est is RegularizedMLPClassifier else "predict"
    np.testing.assert_array_equal(getattr(loaded, predict)(X), getattr(est, predict)(X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.get_params().keys() == est.get_params().keys()
    assert loaded.n_iter_ == est.n_iter_ and loaded.loss_curve_ == est.loss_curve_
    if settings.get("early_stopping"):
        assert loaded.validation_scores_ == est.validation_scores_
        assert loaded.best_validation_score_ == est.best_validation_score_
    if "snapshot_every" in params:
        snapshots = [row["coef_snapshot"] for row in loaded.history_ if "coef_snapshot" in row]
        assert len(snapshots) == 2
        np.testing.assert_array_equal(snapshots[-1], est.history_[-1]["coef_snapshot"])
    if est.batch_norm:
        for key, value in est.module_.state_dict().items():
            assert torch.equal(loaded.module_.state_dict()[key], value), key
    # optimizer, regularizers, generators and masks continue as without the
    # round trip, through skops and through pickle
    pickled = pickle.loads(pickle.dumps(est))
    for model in (est, loaded, pickled):
        model.partial_fit(X, y)
    for other in (loaded, pickled):
        for a, b in zip(other.coefs_ + other.intercepts_, est.coefs_ + est.intercepts_):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("Est", [RegularizedMLPClassifierCV, RegularizedMLPRegressorCV])
def test_cross_validated_estimators_round_trip(Est, data, tmp_path):
    X, labels = data
    X, labels = X[:60], labels[:60]
    y = labels if Est is RegularizedMLPClassifierCV else X[:, 0] - X[:, 1]
    search = Est(alphas=(1e-3, 0.1), dropouts=(0.0, 0.2), hidden_layer_sizes=[(4,), (6, 3)],
                 cv=2, max_iter=3, learning_rate_init=0.01, random_state=0).fit(X, y)
    path = tmp_path / "search.skops"
    skreg.io.dump(search, path)
    assert skreg.io.get_untrusted_types(file=path) == []
    loaded = skreg.io.load(path)
    assert type(loaded) is Est and type(loaded.best_estimator_) is type(search.best_estimator_)
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
    if Est is RegularizedMLPClassifierCV:
        np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, search.classes_)
    assert loaded.get_params() == search.get_params()
    assert loaded.best_params_ == search.best_params_
    assert loaded.best_index_ == search.best_index_ and loaded.best_score_ == search.best_score_
    assert loaded.n_splits_ == search.n_splits_ and loaded.n_iter_ == search.n_iter_
    assert loaded.cv_results_.keys() == search.cv_results_.keys()
    for key, value in search.cv_results_.items():
        got = loaded.cv_results_[key]
        if isinstance(value, np.ma.MaskedArray):
            assert isinstance(got, np.ma.MaskedArray), key
            np.testing.assert_array_equal(got.mask, value.mask)
            assert list(got.data) == list(value.data), key
        elif isinstance(value, np.ndarray):
            assert got.dtype == value.dtype, key
            np.testing.assert_array_equal(got, value)
        else:
            assert got == value, key
    # the refitted estimator keeps training as the original does
    for model in (search, loaded):
        model.best_estimator_.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))
    unfitted = skreg.io.loads(skreg.io.dumps(Est(alphas=(0.5,), cv=3)))
    assert unfitted.get_params() == Est(alphas=(0.5,), cv=3).get_params()


@pytest.mark.parametrize("round_trip", [
    lambda est: skreg.io.loads(skreg.io.dumps(est)),
    lambda est: pickle.loads(pickle.dumps(est)),
], ids=["skops", "pickle"])
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_training_goes_on_after_loading_exactly_as_without_the_round_trip(
        Est, round_trip, data):
    X, labels = data
    y = labels if Est is RegularizedMLPClassifier else X[:, 0] - X[:, 1]
    # dropout and input noise draw from the generators whose state is saved
    est = Est(**TINY, dropout=0.3, input_noise=0.1).fit(X, y)
    loaded = round_trip(est)
    for model in (est, loaded):
        model.partial_fit(X, y)
        model.set_params(warm_start=True, max_iter=2).fit(X, y)
    # n_iter_ counts the epochs of the latest fit, the history every epoch
    assert loaded.n_iter_ == est.n_iter_ == 2
    assert len(loaded.history_) == len(est.history_) == 8
    assert loaded.loss_curve_ == est.loss_curve_
    for a, b in zip(loaded.coefs_ + loaded.intercepts_, est.coefs_ + est.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_unfitted_estimator_and_search_round_trip(data):
    X, labels = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(3, 2), dropout=[0.1, 0.2],
                                   random_state=np.random.RandomState(3))
    loaded = skreg.io.loads(skreg.io.dumps(est))
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)
    assert loaded.get_params()["dropout"] == [0.1, 0.2]
    search = GridSearchCV(RegularizedMLPClassifier(**TINY), {"alpha": [1e-4, 1.0]},
                          cv=2).fit(X, labels)
    blob = skreg.io.dumps(search)
    # skops trusts no scorer or splitter by default; no skreg type is listed
    untrusted = skreg.io.get_untrusted_types(data=blob)
    assert untrusted and all(name.startswith("sklearn.") for name in untrusted)
    loaded = skreg.io.loads(blob, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))
    assert loaded.best_params_ == search.best_params_


def test_the_file_holds_only_cpu_tensors_readable_with_weights_only(data):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY).fit(X, labels))
    tensors = torch.load(io.BytesIO(_tensor_member(blob)), weights_only=True)
    flat = [*tensors["module"].values(), tensors["generator"]]
    flat += [v for s in tensors["optimizer"]["state"].values() for v in s.values()]
    assert flat and all(t.device.type == "cpu" for t in flat)
    # the schema is JSON naming only trusted types; no pickle anywhere
    schema = zipfile.ZipFile(io.BytesIO(blob)).read("schema.json").decode()
    assert "pickle" not in schema and "torch" not in schema


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_model_saved_for_cuda_loads_on_the_cpu_with_a_warning(data):
    X, labels = data
    clf = RegularizedMLPClassifier(**TINY).fit(X, labels)

    def as_if_trained_on_cuda(schema):
        attrs = schema["content"]["content"]
        attrs["device"]["content"] = json.dumps("cuda")
        schema["trainer"]["content"]["device_type"]["content"] = json.dumps("cuda")

    blob = _edit_archive(skreg.io.dumps(clf), edit_schema=as_if_trained_on_cuda)
    with pytest.warns(UserWarning, match="CUDA is not available here; it is loaded on the CPU"):
        loaded = skreg.io.loads(blob)
    assert loaded.device == "cuda" and loaded.module_.coef_flat.device.type == "cpu"
    assert loaded._trainer.config.device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------ hostile files
class _Payload:
    """Pickles to a call of ``open(path, 'w')``: creates a file when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_schema_naming_an_untrusted_callable_is_refused(data, tmp_path):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY).fit(X, labels))
    marker = tmp_path / "pwned"

    def inject(schema):
        # the value of a parameter swapped for a call of os.system
        schema["content"]["content"]["activation"] = {
            "__class__": "system", "__module__": "os", "__loader__": "FunctionNode",
            "content": {"module_path": "os", "function": "system"},
            "__id__": 1}

    with pytest.raises(UntrustedTypesFoundException, match="os.system"):
        skreg.io.loads(_edit_archive(blob, edit_schema=inject))

    def swap_class(schema):
        schema["__module__"], schema["__class__"] = "builtins", "eval"

    with pytest.raises(UntrustedTypesFoundException, match="builtins.eval"):
        skreg.io.loads(_edit_archive(blob, edit_schema=swap_class))
    assert not marker.exists()


def test_a_tensor_file_that_is_a_pickle_payload_is_refused(data, tmp_path):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY).fit(X, labels))
    marker = tmp_path / "pwned"
    for payload in (pickle.dumps(_Payload(str(marker)), protocol=2), b"not a tensor file"):
        tampered = _edit_archive(blob, replace_files={".pt": payload})
        with pytest.raises(ValueError, match="Refusing to load the network state"):
            skreg.io.loads(tampered)
    assert not marker.exists()
    # the same payload through pickle runs: pickle is for files you trust only
    pickle.loads(pickle.dumps(_Payload(str(marker))))
    assert marker.exists()


def test_unknown_format_versions_are_refused(data):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY).fit(X, labels))

    def future_version(schema):
        # a fresh __id__: skops shares the node of equal values (the int 2)
        schema["trainer"]["content"]["format_version"].update(content=json.dumps(99),
                                                              __id__=1)

    with pytest.raises(ValueError, match="Unknown skreg network format 99"):
        skreg.io.loads(_edit_archive(blob, edit_schema=future_version))

    def older_layout(schema):
        schema["net"] = schema.pop("trainer")

    with pytest.raises(ValueError, match="format of an older skreg version"):
        skreg.io.loads(_edit_archive(blob, edit_schema=older_layout))


def _double(X):
    return 2 * X


def test_types_of_ones_own_need_explicit_trust(data):
    X, labels = data
    model = make_pipeline(FunctionTransformer(_double),
                          RegularizedMLPClassifier(**TINY)).fit(X, labels)
    blob = skreg.io.dumps(model)
    untrusted = skreg.io.get_untrusted_types(data=blob)
    assert untrusted == [f"{__name__}._double"]
    with pytest.raises(UntrustedTypesFoundException):
        skreg.io.loads(blob)
    loaded = skreg.io.loads(blob, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# ------------------------------------------------------------ pickle, joblib
def test_joblib_memory_mapped_load_predicts(data, tmp_path):
    X, labels = data
    clf = RegularizedMLPClassifier(**TINY).fit(X, labels)
    joblib.dump(clf, tmp_path / "clf.joblib")
    loaded = joblib.load(tmp_path / "clf.joblib", mmap_mode="r")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(clone(loaded).fit(X, labels).predict_proba(X),
                                  clf.predict_proba(X))


class _CudaGenerator:
    """Stands in for the ``torch.Generator`` of a model trained on CUDA.

    It has a CUDA generator's device and state (seed and offset); the
    trainer pickles a generator as its device type and state only.
    """

    device = torch.device("cuda", 0)

    def get_state(self):
        return torch.zeros(16, dtype=torch.uint8)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_pickle_of_a_cuda_trained_model_loads_on_a_cpu_only_machine(data):
    X, labels = data
    clf = RegularizedMLPClassifier(**TINY).fit(X, labels)
    expected = clf.predict_proba(X)
    # what differs in the pickle of the same model trained with device='cuda':
    # the trainer's device and its generator (tensors are pickled on the CPU)
    clf._trainer.config.device = torch.device("cuda", 0)
    clf._trainer.generator = _CudaGenerator()
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded._trainer.config.device.type == "cpu"
    assert loaded._trainer.generator.device.type == "cpu"
    assert loaded.module_.coef_flat.device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    n_epochs = len(loaded.history_)
    loaded.partial_fit(X, labels)  # trains on
    assert loaded.n_iter_ == 1 and len(loaded.history_) == n_epochs + 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
@pytest.mark.parametrize("fmt", ["pickle", "skops"])
def test_a_model_trained_on_cuda_predicts_in_a_process_without_cuda(fmt, data, tmp_path):
    X, labels = data
    clf = RegularizedMLPClassifier(**{**TINY, "device": "cuda"}).fit(X, labels)
    path = tmp_path / "model"
    if fmt == "pickle":
        path.write_bytes(pickle.dumps(clf))
    else:
        skreg.io.dump(clf, path)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    script = textwrap.dedent(f"""
        import pickle, warnings, numpy as np, torch
        import skreg.io
        assert not torch.cuda.is_available()
        warnings.simplefilter("ignore")
        path = {str(path)!r}
        model = (pickle.loads(open(path, "rb").read()) if {fmt!r} == "pickle"
                 else skreg.io.load(path))
        X = np.load({str(tmp_path / "X.npy")!r})
        np.testing.assert_allclose(model.predict_proba(X),
                                   np.load({str(tmp_path / "expected.npy")!r}),
                                   rtol=1e-5, atol=1e-6)
    """)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
