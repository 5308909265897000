"""Persistence: plain skops, skreg.io and pickle of every estimator, the trainer's state.

A fitted estimator's trainer saves itself as numpy arrays and plain Python
values (``skreg._engine.state``), so ``skops.io``, ``skreg.io``, pickle and
joblib all store the same state. This module checks, for every public
estimator, every regularizer, every solver and early stopping, that
each format gives identical predictions and that training goes on after
loading exactly as without the round trip; that the trainer's state holds
nothing but numpy arrays and builtins; that hostile or foreign files are
refused; and that a model trained on a GPU loads where there is none.
tests/test_integration.py also checks pickle and joblib round trips of fitted
models in pipelines.
"""

import copy
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings
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
from skreg._engine import LOSSES, Trainer, TrainingConfig, TrainingData
from skreg._engine.state import STATE_VERSION, trainer_from_state, trainer_state

skops_io = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402

import skreg.io  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(hidden_layer_sizes=(8,), max_iter=5, learning_rate_init=0.01, random_state=0)
TRAINER = "skreg._engine.loop.Trainer"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    labels = np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, labels


def _targets(Est, X, labels):
    classifier = Est in (RegularizedMLPClassifier, RegularizedMLPClassifierCV)
    return labels if classifier else X[:, 0] - X[:, 1]


# ------------------------------------------------------------ the formats
def _via_skops(obj):
    """Plain skops: the caller reviews and trusts the listed types."""
    blob = skops_io.dumps(obj)
    untrusted = skops_io.get_untrusted_types(data=blob)
    # the only types skops does not know are skreg's estimators and trainer
    assert untrusted and all(name.startswith("skreg.") for name in untrusted), untrusted
    assert set(untrusted) <= set(skreg.io.TRUSTED_TYPES)
    return skops_io.loads(blob, trusted=untrusted)


def _via_skreg_io(obj):
    blob = skreg.io.dumps(obj)
    assert skreg.io.get_untrusted_types(data=blob) == []
    return skreg.io.loads(blob)


def _via_pickle(obj):
    return pickle.loads(pickle.dumps(obj))


ROUND_TRIPS = {"skops": _via_skops, "skreg.io": _via_skreg_io, "pickle": _via_pickle}


def _assert_same(a, b, path="value"):
    """``a`` and ``b`` are equal: same types, arrays equal with the same dtype."""
    assert type(a) is type(b), (path, type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            _assert_same(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), path
    else:
        assert a == b, path


def _assert_same_fitted(model, est, X, name):
    """Predictions, parameters, history and weights of ``model`` are ``est``'s."""
    assert type(model) is type(est), name
    for method in ("predict_proba", "decision_function", "predict"):
        if hasattr(est, method):
            np.testing.assert_array_equal(getattr(model, method)(X), getattr(est, method)(X),
                                          err_msg=f"{name}: {method}")
    assert model.get_params().keys() == est.get_params().keys(), name
    assert model.n_iter_ == est.n_iter_, name
    # a search's fitted plain estimators (its fold models, or refits)
    nets, refs = getattr(model, "estimators_", [model]), getattr(est, "estimators_", [est])
    assert len(nets) == len(refs), name
    np.testing.assert_array_equal(getattr(model, "weights_", 1.0), getattr(est, "weights_", 1.0))
    for net, ref in zip(nets, refs):
        assert type(net) is type(ref), name
        assert net.loss_curve_ == ref.loss_curve_, name
        # the history, but the epochs' durations (those of the epochs trained
        # after the round trip differ)
        timeless = lambda history: [{k: v for k, v in row.items() if k != "dur"}  # noqa: E731
                                    for row in history]
        _assert_same(timeless(net.history_), timeless(ref.history_), name)
        for a, b in zip(net.coefs_ + net.intercepts_, ref.coefs_ + ref.intercepts_):
            np.testing.assert_array_equal(a, b, err_msg=name)
        for key, value in ref.module_.state_dict().items():
            assert torch.equal(net.module_.state_dict()[key], value), (name, key)


def _train_on(model, X, y):
    """Train on: one epoch of ``partial_fit`` (run without early stopping) where the
    solver has it, and a warm-started ``fit`` of two epochs for a model with early
    stopping or without ``partial_fit`` (L-BFGS)."""
    early_stopping = model.early_stopping
    incremental = hasattr(model, "partial_fit")
    if incremental:
        model.set_params(early_stopping=False).partial_fit(X, y)
    if early_stopping or not incremental:
        model.set_params(early_stopping=early_stopping, warm_start=True, max_iter=2).fit(X, y)


# ------------------------------------------------- estimators, every format
REGULARIZED = {
    "l2": dict(),
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
    y = _targets(Est, X, labels)
    settings = {**TINY, "max_iter": 4, **params}
    if early_stopping:
        settings.update(early_stopping=True, validation_fraction=0.25)
    est = Est(**settings).fit(X, y)
    loaded = {name: round_trip(est) for name, round_trip in ROUND_TRIPS.items()}
    for name, model in loaded.items():
        _assert_same_fitted(model, est, X, name)
        assert model.get_params() == est.get_params(), name
        if early_stopping:
            assert model.validation_scores_ == est.validation_scores_, name
            assert model.best_validation_score_ == est.best_validation_score_, name
    if "snapshot_every" in params:
        snapshots = [row["coef_snapshot"] for row in loaded["skops"].history_
                     if "coef_snapshot" in row]
        assert len(snapshots) == 2
    # optimizer, regularizers, generators and dropout masks continue as
    # without the round trip: bitwise equal after training on
    for model in (est, *loaded.values()):
        _train_on(model, X, y)
    for name, model in loaded.items():
        _assert_same_fitted(model, est, X, name)


@pytest.mark.parametrize("refit", [False, True], ids=["bagged", "refit"])
@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early_stopping"])
@pytest.mark.parametrize("Est", [RegularizedMLPClassifierCV, RegularizedMLPRegressorCV])
def test_cross_validated_estimators_round_trip(Est, early_stopping, refit, data, tmp_path):
    """A fitted search, bagged (its fold models as plain estimators) or refitted,
    round-trips through every format: its estimators predict and train on
    bitwise as the original's."""
    X, labels = data
    X, labels = X[:60], labels[:60]
    y = _targets(Est, X, labels)
    grid = dict(alphas=(1e-3, 0.1), l1_ratios=(0.0, 0.5), dropouts=(0.0, 0.2),
                hidden_layer_sizes=[(4,), (6, 3)])
    if Est is RegularizedMLPClassifierCV:
        grid["label_smoothings"] = (0.0, 0.1)
    search = Est(**grid, cv=2, max_iter=3, learning_rate_init=0.01, random_state=0,
                 early_stopping=early_stopping, validation_fraction=0.25,
                 refit=refit).fit(X, y)
    path = tmp_path / "search.skops"
    skreg.io.dump(search, path)
    assert skreg.io.get_untrusted_types(file=path) == []
    assert set(skops_io.get_untrusted_types(file=path)) == {
        f"skreg._search.{Est.__name__}", TRAINER,
        "skreg._classifier.RegularizedMLPClassifier" if Est is RegularizedMLPClassifierCV
        else "skreg._regressor.RegularizedMLPRegressor"}
    loaded = {**{name: round_trip(search) for name, round_trip in ROUND_TRIPS.items()},
              "skreg.io file": skreg.io.load(path)}
    for name, model in loaded.items():
        _assert_same_fitted(model, search, X, name)
        assert hasattr(model, "best_estimator_") == refit, name
        if Est is RegularizedMLPClassifierCV:
            np.testing.assert_array_equal(model.classes_, search.classes_)
        assert model.get_params() == search.get_params(), name
        assert model.best_params_ == search.best_params_, name
        assert model.best_index_ == search.best_index_, name
        assert model.best_score_ == search.best_score_, name
        assert model.n_splits_ == search.n_splits_, name
        assert model.cv_results_.keys() == search.cv_results_.keys(), name
        for key, value in search.cv_results_.items():
            got = model.cv_results_[key]
            if isinstance(value, np.ma.MaskedArray):
                assert isinstance(got, np.ma.MaskedArray), (name, key)
                np.testing.assert_array_equal(got.mask, value.mask)
                assert list(got.data) == list(value.data), (name, key)
            elif isinstance(value, np.ndarray):
                assert got.dtype == value.dtype, (name, key)
                np.testing.assert_array_equal(got, value)
            else:
                assert got == value, (name, key)
    # the fitted estimators keep training as the original's do
    for model in (search, *loaded.values()):
        for estimator in model.estimators_:
            _train_on(estimator, X, y)
    for name, model in loaded.items():
        _assert_same_fitted(model, search, X, name)
    unfitted = Est(alphas=(0.5,), cv=3)
    for round_trip in ROUND_TRIPS.values():
        if round_trip is _via_skops:
            # an unfitted search holds no trainer: its own type is the only one listed
            blob = skops_io.dumps(unfitted)
            assert skops_io.get_untrusted_types(data=blob) == [f"skreg._search.{Est.__name__}"]
        assert round_trip(unfitted).get_params() == unfitted.get_params()


@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS.values()), ids=list(ROUND_TRIPS))
@pytest.mark.parametrize("Est", [RegularizedMLPClassifier, RegularizedMLPRegressor])
def test_training_goes_on_after_loading_exactly_as_without_the_round_trip(
        Est, round_trip, data):
    X, labels = data
    y = _targets(Est, X, labels)
    # dropout and input noise draw from the generators whose state is saved
    est = Est(**TINY, dropout=0.3, input_noise=0.1).fit(X, y)
    loaded = round_trip(est)
    for model in (est, loaded):
        model.partial_fit(X, y)
        model.set_params(warm_start=True, max_iter=2).fit(X, y)
    # n_iter_ counts the epochs of the latest fit, the history every epoch
    assert loaded.n_iter_ == est.n_iter_ == 2
    assert len(loaded.history_) == len(est.history_) == 8
    _assert_same_fitted(loaded, est, X, "warm start")


def test_skops_round_trip_of_a_pipeline_with_names_and_string_labels(data, tmp_path):
    X, labels = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    model = make_pipeline(StandardScaler().set_output(transform="pandas"),
                          RegularizedMLPClassifier(**TINY, dropout=0.2, early_stopping=True,
                                                   class_weight={"ant": 2.0}))
    model.fit(frame, labels)
    path = tmp_path / "model.skops"
    skreg.io.dump(model, path)
    # nothing in the file needs the caller's trust: skreg's types are trusted
    assert skreg.io.get_untrusted_types(file=path) == []
    # (a frame is encoded by the estimator's own TabularEncoder)
    assert skops_io.get_untrusted_types(file=path) == sorted(
        ["skreg._classifier.RegularizedMLPClassifier", TRAINER,
         "skreg._tabular.TabularEncoder"])
    loaded = skreg.io.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(loaded[-1].classes_, ["ant", "bee", "cat"])
    assert loaded[-1].get_params() == model[-1].get_params()
    assert loaded[-1].validation_scores_ == model[-1].validation_scores_
    # Monte Carlo dropout is seeded by the network: the same after loading
    scaled = model[0].transform(frame[:5])
    np.testing.assert_array_equal(loaded[-1].predict_proba(scaled, mc_samples=4),
                                  model[-1].predict_proba(scaled, mc_samples=4))


@pytest.mark.parametrize("params", [
    dict(), dict(batch_norm=True), dict(solver="lbfgs", penalty="l2"),
    dict(penalty="elasticnet", alpha=0.1, max_norm=2.0, solver="adamw"),
])
def test_round_trips_of_a_float32_multi_output_regressor(params):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    Y = np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2]
    reg = RegularizedMLPRegressor(**{**TINY, **params}).fit(X, Y)
    for name, round_trip in ROUND_TRIPS.items():
        loaded = round_trip(reg)
        assert loaded._trainer.config.dtype == torch.float32, name
        out = loaded.predict(X)
        assert out.dtype == np.float32 and out.shape == (60, 2), name
        np.testing.assert_array_equal(out, reg.predict(X), err_msg=name)


def test_unfitted_estimator_and_search_round_trip(data):
    X, labels = data
    est = RegularizedMLPClassifier(hidden_layer_sizes=(3, 2), dropout=[0.1, 0.2],
                                   random_state=np.random.RandomState(3))
    for round_trip in ROUND_TRIPS.values():
        loaded = round_trip(est)
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


def test_plain_skops_works_without_importing_skreg_io(data, tmp_path):
    X, labels = data
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(f"""
        import sys, numpy as np, skops.io
        from skreg import RegularizedMLPRegressor
        X = np.load({str(tmp_path / "X.npy")!r})
        reg = RegularizedMLPRegressor((4,), max_iter=2, dropout=0.2,
                                      random_state=0).fit(X, X[:, 0])
        skops.io.dump(reg, {str(tmp_path / "reg.skops")!r})
        untrusted = skops.io.get_untrusted_types(file={str(tmp_path / "reg.skops")!r})
        assert untrusted == ["skreg._engine.loop.Trainer",
                             "skreg._regressor.RegularizedMLPRegressor"], untrusted
        loaded = skops.io.load({str(tmp_path / "reg.skops")!r}, trusted=untrusted)
        assert (loaded.predict(X) == reg.predict(X)).all()
        for model in (reg, loaded):
            model.partial_fit(X, X[:, 0])
        assert (loaded.predict(X) == reg.predict(X)).all()
        assert "skreg.io" not in sys.modules
    """)
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", script],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_the_file_holds_only_json_and_plain_numpy_arrays(data):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY, batch_norm=True).fit(X, labels))
    archive = zipfile.ZipFile(io.BytesIO(blob))
    names = archive.namelist()
    assert "schema.json" in names
    assert all(name == "schema.json" or name.endswith(".npy") for name in names), names
    for name in names:
        if name.endswith(".npy"):
            # no object arrays: every member reads without pickle
            np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
    schema = json.loads(archive.read("schema.json"))

    def modules(node, found):
        if isinstance(node, dict):
            if "__module__" in node:
                found.add(node["__module__"].partition(".")[0])
            for value in node.values():
                modules(value, found)
        elif isinstance(node, list):
            for value in node:
                modules(value, found)
        return found

    # the estimator's attributes hold a label encoder; its trainer holds
    # numpy arrays and builtins only
    assert modules(schema, set()) == {"builtins", "numpy", "sklearn", "skreg"}
    trainer = schema["content"]["content"]["_trainer"]
    assert (trainer["__module__"], trainer["__class__"]) == ("skreg._engine.loop", "Trainer")
    assert modules(trainer["content"], set()) == {"builtins", "numpy"}
    text = archive.read("schema.json").decode()
    assert "torch" not in text and "pickle" not in text


# ------------------------------------------------------- the trainer's state
def _stack(n_members=3, batch_norm=False, solver="adam"):
    """A trainer of a stack of members with their own strengths and dropout rates."""
    config = TrainingConfig(
        layer_sizes=(4, 6, 1), activation="tanh", loss=LOSSES["squared_error"](1),
        batch_size=16, seeds=np.arange(n_members) + 3, alpha=np.linspace(0.0, 0.1, n_members),
        l1_ratio=np.linspace(0.0, 1.0, n_members), dropout=np.linspace(0.0, 0.3, n_members),
        label_smoothing=np.zeros(n_members), regularization={"penalty": "elasticnet"},
        batch_norm=batch_norm,
        solver=solver, dtype=torch.float64)
    return Trainer(config)


def _stack_data(data):
    X, _ = data
    return TrainingData(X=torch.as_tensor(X), y=torch.as_tensor(X[:, :1] - X[:, 1:2]))


def _assert_plain(value, path="state"):
    """Only numpy arrays, lists, dicts, str, int, float, bool and None in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            # int keys: the optimizer's state is keyed by parameter index
            assert type(key) in (str, int), (path, key)
            _assert_plain(item, f"{path}[{key!r}]")
    elif type(value) is list:
        for i, item in enumerate(value):
            _assert_plain(item, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool, np.ndarray), (
            path, type(value))


def _fitted_trainers(data):
    X, labels = data
    yield "adam-dropout-early", RegularizedMLPClassifier(
        **TINY, dropout=0.2, early_stopping=True, snapshot_every=2).fit(X, labels)._trainer
    yield "lbfgs", RegularizedMLPRegressor(**TINY, solver="lbfgs").fit(X, X[:, 0])._trainer
    yield "sgd-batch-norm", RegularizedMLPRegressor(
        **TINY, solver="sgd", batch_norm=True).fit(X, X[:, 0])._trainer
    yield "unfitted-stack", _stack()
    stack = _stack(batch_norm=False)
    stack.train(_stack_data(data), epochs=2, monitor=False)
    yield "trained-stack", stack


def test_the_trainer_state_is_numpy_arrays_and_builtins_and_rebuilds_exactly(data):
    for name, trainer in _fitted_trainers(data):
        state = trainer_state(trainer)
        _assert_plain(state, name)
        assert state["format_version"] == STATE_VERSION
        assert state["config"]["dtype"] in ("float32", "float64")
        assert state["config"]["device"] == "cpu"
        assert isinstance(state["config"]["layer_sizes"], list)
        assert state["generator"]["state"].dtype == np.uint8
        if trainer.optimizer is not None:
            steps = [s["step"] for s in state["optimizer"]["state"].values() if "step" in s]
            assert all(isinstance(s, np.ndarray) for s in steps), name
        rebuilt = trainer_from_state(state)
        _assert_same(trainer_state(rebuilt), state, name)
        assert rebuilt.config.layer_sizes == trainer.config.layer_sizes
        assert rebuilt.config.betas == trainer.config.betas
        assert vars(rebuilt.config.loss) == vars(trainer.config.loss)
        assert [r.describe() for r in rebuilt.regularizers] == [
            r.describe() for r in trainer.regularizers], name
        assert rebuilt.masks.thresholds == trainer.masks.thresholds
        _assert_same(pickle.loads(pickle.dumps(trainer)).__getstate__(), state, name)


def test_a_rebuilt_trainer_shares_no_memory_with_the_state_or_the_original(data):
    X, labels = data
    trainer = RegularizedMLPClassifier(**TINY).fit(X, labels)._trainer
    state = trainer_state(trainer)
    saved = copy.deepcopy(state)
    first, second = trainer_from_state(state), trainer_from_state(state)
    with torch.no_grad():
        for tensor in (*trainer.model.parameters(), *first.model.parameters()):
            tensor.add_(1.0)
    for optimizer in (trainer.optimizer, first.optimizer):
        for values in optimizer.state.values():
            for value in values.values():
                if isinstance(value, torch.Tensor):
                    value.add_(1.0)
    _assert_same(state, saved)
    _assert_same(trainer_state(second), saved)


def test_a_stack_trains_on_after_a_round_trip_exactly_as_without_it(data):
    trainer = _stack()
    trainer.train(_stack_data(data), epochs=2, monitor=False)
    assert trainer.history is None
    copies = [_via_pickle(trainer), _via_skops(trainer), skreg.io.loads(skreg.io.dumps(trainer))]
    results = [t.train(_stack_data(data), epochs=1, monitor=False)
               for t in (trainer, *copies)]
    for result in results[1:]:
        np.testing.assert_array_equal(result.coef, results[0].coef)
        np.testing.assert_array_equal(result.intercept, results[0].intercept)


def test_a_stack_whose_members_left_is_not_saved():
    trainer = _stack()
    trainer.model.select(torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="stack lost members"):
        trainer_state(trainer)
    with pytest.raises(ValueError, match="stack lost members"):
        pickle.dumps(trainer)


def test_a_format_3_state_loads_with_fresh_dropout_streams(data):
    """Format 3 kept one dropout stream for the stack: such a state loads,
    with the same network and optimizer, and the masks restart from the seeds."""
    X, labels = data
    trainer = RegularizedMLPClassifier(**TINY, dropout=0.2).fit(X, labels)._trainer
    state = trainer_state(trainer)
    state["format_version"] = 3
    state["dropout_bit_generator"] = np.random.PCG64(0).state  # the old layout
    rebuilt = trainer_from_state(state)
    for a, b in zip(rebuilt.model.state_dict().values(), trainer.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    fresh = type(trainer.masks)([w for w in trainer.config.layer_sizes[1:-1]],
                                trainer.config.dropout, trainer.config.seeds)
    _assert_same(rebuilt.masks.state, fresh.state)


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.update(format_version=99), "Unknown skreg trainer state format 99"),
    (lambda s: s.pop("format_version"), "Unknown skreg trainer state format None"),
    (lambda s: s.pop("optimizer"), r"lacks \['optimizer'\]"),
    (lambda s: s["loss"].update(name="hinge"), "Unknown loss"),
    (lambda s: s["config"].update(dtype="complex64"), "Unknown dtype 'complex64'"),
    (lambda s: s["config"].update(warp_factor=9), r"Unknown training settings \['warp_f"),
    (lambda s: s["config"].update(loss="log_loss"), r"Unknown training settings \['loss'\]"),
], ids=["version", "no-version", "missing-part", "loss", "dtype", "setting", "loss-setting"])
def test_a_foreign_or_corrupted_trainer_state_is_refused(edit, match, data):
    X, labels = data
    state = trainer_state(RegularizedMLPClassifier(**TINY).fit(X, labels)._trainer)
    edit(state)
    with pytest.raises(ValueError, match=match):
        trainer_from_state(state)
    with pytest.raises(ValueError, match="Unknown skreg trainer state format"):
        trainer_from_state(["not", "a", "dict"])


# ------------------------------------------------------------------ devices
class _CudaGenerator:
    """Stands in for the ``torch.Generator`` of a model trained on CUDA.

    It has a CUDA generator's device and state (seed and offset); the
    trainer saves a generator as its device type and state only.
    """

    device = torch.device("cuda", 0)

    def get_state(self):
        return torch.zeros(16, dtype=torch.uint8)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("round_trip", list(ROUND_TRIPS.values()), ids=list(ROUND_TRIPS))
def test_a_model_trained_on_cuda_loads_on_a_cpu_only_machine_with_a_warning(round_trip, data):
    X, labels = data
    clf = RegularizedMLPClassifier(**TINY).fit(X, labels)
    expected = clf.predict_proba(X)
    # what differs in the state of the same model trained with device='cuda':
    # the trainer's device and its generator (the state holds numpy arrays)
    clf._trainer.config.device = torch.device("cuda", 0)
    clf._trainer.generator = _CudaGenerator()
    assert trainer_state(clf._trainer)["config"]["device"] == "cuda:0"
    with pytest.warns(UserWarning, match="CUDA is not available here; it is loaded on the CPU"):
        loaded = round_trip(clf)
    assert loaded._trainer.config.device.type == "cpu"
    assert loaded._trainer.generator.device.type == "cpu"
    assert loaded.module_.coef_flat.device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    n_epochs = len(loaded.history_)
    loaded.set_params(device="cpu").partial_fit(X, labels)  # trains on
    assert loaded.n_iter_ == 1 and len(loaded.history_) == n_epochs + 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")
@pytest.mark.parametrize("fmt", ["pickle", "skops", "skreg.io"])
def test_a_model_trained_on_cuda_predicts_in_a_process_without_cuda(fmt, data, tmp_path):
    X, labels = data
    clf = RegularizedMLPClassifier(**{**TINY, "device": "cuda", "dropout": 0.2}).fit(X, labels)
    path = tmp_path / "model"
    if fmt == "pickle":
        path.write_bytes(pickle.dumps(clf))
    elif fmt == "skops":
        skops_io.dump(clf, path)
    else:
        skreg.io.dump(clf, path)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", clf.predict_proba(X))
    # on this machine the round trip is exact and stays on the GPU
    same = ROUND_TRIPS[fmt](clf)
    assert same._trainer.config.device.type == "cuda"
    assert same.module_.coef_flat.device.type == "cuda"
    np.testing.assert_array_equal(same.predict_proba(X), clf.predict_proba(X))
    for model in (clf, same):
        model.partial_fit(X, labels)
    for a, b in zip(same.coefs_ + same.intercepts_, clf.coefs_ + clf.intercepts_):
        np.testing.assert_array_equal(a, b)
    script = textwrap.dedent(f"""
        import pickle, warnings, numpy as np, skops.io, torch
        import skreg.io
        assert not torch.cuda.is_available()
        path, fmt = {str(path)!r}, {fmt!r}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if fmt == "pickle":
                model = pickle.loads(open(path, "rb").read())
            elif fmt == "skops":
                model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
            else:
                model = skreg.io.load(path)
        assert any("CUDA is not available here" in str(w.message) for w in caught)
        assert model._trainer.config.device.type == "cpu"
        X = np.load({str(tmp_path / "X.npy")!r})
        np.testing.assert_allclose(model.predict_proba(X),
                                   np.load({str(tmp_path / "expected.npy")!r}),
                                   rtol=1e-5, atol=1e-6)
        model.set_params(device="cpu").partial_fit(X, model.classes_[[0, 1] * 60])
    """)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------ hostile files
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

    def inject_in_trainer(schema):
        trainer = schema["content"]["content"]["_trainer"]["content"]["content"]
        trainer["n_epochs"] = {
            "__class__": "eval", "__module__": "builtins", "__loader__": "FunctionNode",
            "content": {"module_path": "builtins", "function": "eval"}, "__id__": 2}

    def swap_class(schema):
        schema["__module__"], schema["__class__"] = "builtins", "eval"

    def swap_trainer_class(schema):
        trainer = schema["content"]["content"]["_trainer"]
        trainer["__module__"], trainer["__class__"] = "skreg._engine.model", "StackedMLP"

    for edit, name in [(inject, "os.system"), (inject_in_trainer, "builtins.eval"),
                       (swap_class, "builtins.eval"),
                       (swap_trainer_class, "skreg._engine.model.StackedMLP")]:
        tampered = _edit_archive(blob, edit_schema=edit)
        assert name in skreg.io.get_untrusted_types(data=tampered)
        with pytest.raises(UntrustedTypesFoundException, match=name):
            skreg.io.loads(tampered)
        with pytest.raises(UntrustedTypesFoundException, match=name):
            skops_io.loads(tampered, trusted=skreg.io.TRUSTED_TYPES)
    assert not marker.exists()


def test_an_array_member_that_is_a_pickle_payload_is_refused(data, tmp_path):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY).fit(X, labels))
    marker = tmp_path / "pwned"
    object_array = io.BytesIO()
    np.save(object_array, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True)
    for payload in (pickle.dumps(_Payload(str(marker)), protocol=2), object_array.getvalue()):
        tampered = _edit_archive(blob, replace_files={".npy": payload})
        with pytest.raises(ValueError, match="pickled|allow_pickle=False"):
            skreg.io.loads(tampered)
    assert not marker.exists()
    # the same payload through pickle runs: pickle is for files you trust only
    pickle.loads(pickle.dumps(_Payload(str(marker))))
    assert marker.exists()


def test_unknown_format_versions_and_older_layouts_are_refused(data):
    X, labels = data
    blob = skreg.io.dumps(RegularizedMLPClassifier(**TINY).fit(X, labels))

    def future_version(schema):
        # a fresh __id__: skops shares the node of equal values
        trainer = schema["content"]["content"]["_trainer"]["content"]["content"]
        trainer["format_version"].update(content=json.dumps(99), __id__=1)

    with pytest.raises(ValueError, match="Unknown skreg trainer state format 99"):
        skreg.io.loads(_edit_archive(blob, edit_schema=future_version))

    def older_layout(schema):
        # skreg's earlier files: an estimator node with a separate tensor member
        schema["__loader__"] = "SkregEstimatorNode"

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
def test_joblib_memory_mapped_load_predicts_and_trains_on(data, tmp_path):
    X, labels = data
    clf = RegularizedMLPClassifier(**TINY, dropout=0.2).fit(X, labels)
    joblib.dump(clf, tmp_path / "clf.joblib")
    with warnings.catch_warnings():
        # read-only memory-mapped arrays are copied, never wrapped
        warnings.simplefilter("error", UserWarning)
        loaded = joblib.load(tmp_path / "clf.joblib", mmap_mode="r")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    for model in (clf, loaded):
        model.partial_fit(X, labels)
    _assert_same_fitted(loaded, clf, X, "joblib")
    np.testing.assert_array_equal(clone(loaded).fit(X, labels).predict_proba(X),
                                  clone(clf).fit(X, labels).predict_proba(X))
