"""Clear errors: each class of bad value gets a message naming the parameter, column or file.

The table of docs/reliability.md ("Clear errors"), one test per row; the
property-based neighbours of these cases are in tests/test_hostile.py.
"""

import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import Checkpoint, EarlyStopping, LRScheduler

import skreg.io
from skreg import RegularizedMLPClassifier, RegularizedMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
TINY = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    return X, np.where(X[:, 0] > 0, "yes", "no")


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf, "heavy", None])
def test_class_weight_values_are_checked(data, weight):
    X, y = data
    with pytest.raises(ValueError, match=(
            "class_weight must map labels to finite, non-negative weights; got "
            f"{weight!r} for label 'no'")):
        RegularizedMLPClassifier(**TINY, class_weight={"no": weight}).fit(X, y)


def test_class_weight_that_zeroes_every_sample(data):
    X, y = data
    with pytest.raises(ValueError, match="^class_weight must give the samples a positive"):
        RegularizedMLPClassifier(**TINY, class_weight={"no": 0, "yes": 0}).fit(X, y)
    with pytest.raises(ValueError, match="^sample_weight times class_weight must give"):
        RegularizedMLPClassifier(**TINY, class_weight={"no": 0}).fit(
            X, y, sample_weight=(y == "no").astype(float))
    # a zero weight for one class is allowed: the other samples train
    RegularizedMLPClassifier(**TINY, class_weight={"no": 0}).fit(X, y)


@pytest.mark.parametrize("cells, kinds", [
    ([{"a": 1}, {"b": 2}], "dict"), ([[1, 2], [3]], "list"), ([{1}, {2}], "set"),
    ([b"x", "y"], "bytes, str"), ([("a",), "b"], "str, tuple"),
])
def test_frame_columns_of_unhashable_or_mixed_cells_are_named(data, cells, kinds):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    column = np.empty(len(frame), dtype=object)
    column[:] = [cells[i % len(cells)] for i in range(len(frame))]
    frame["d"] = column
    with pytest.raises(ValueError, match=(
            rf"Column 'd' is categorical but holds values of types \({kinds}\)")):
        RegularizedMLPClassifier(**TINY).fit(frame, y)


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, float("nan")])
@pytest.mark.parametrize("container", [list, "object_array", pd.Series])
def test_missing_labels_are_named_with_their_position(data, missing, container):
    X, y = data
    labels = list(y)
    labels[4] = missing
    if container == "object_array":
        y_bad = np.empty(len(labels), dtype=object)
        y_bad[:] = labels
    else:
        y_bad = container(labels)
    with pytest.raises(ValueError, match=r"y contains 1 missing label\(s\) .* position 4"):
        RegularizedMLPClassifier(**TINY).fit(X, y_bad)


def test_labels_of_several_kinds_or_unsortable(data):
    X, _ = data
    mixed = np.array([1, "a"] * 30, dtype=object)
    with pytest.raises(ValueError, match=r"y mixes labels of kinds \['number', 'string'\]"):
        RegularizedMLPClassifier(**TINY).fit(X, mixed)
    dicts = np.empty(60, dtype=object)
    dicts[:] = [{"a": 1}, {"b": 2}] * 30
    with pytest.raises(ValueError, match="y holds labels of type dict, which cannot be "
                                         "sorted"):
        RegularizedMLPClassifier(**TINY).fit(X, dicts)


@pytest.mark.parametrize("callback, monitor", [
    (EarlyStopping(), "valid_loss"), (Checkpoint(dirname="never"), "valid_loss_best"),
    (LRScheduler("ReduceLROnPlateau", monitor="valid_loss"), "valid_loss")])
def test_a_callback_that_needs_a_validation_split_says_so(data, callback, monitor, tmp_path):
    X, y = data
    est = RegularizedMLPClassifier(**TINY, callbacks=[callback])
    with pytest.raises(ValueError, match=(
            f"monitors '{monitor}', which is recorded only with a validation split: set "
            "early_stopping=True")):
        est.fit(X, y)
    # with the split it trains
    est.set_params(early_stopping=True, callbacks=[EarlyStopping(patience=2)]).fit(X, y)


def test_a_custom_callback_reading_a_missing_history_key(data):
    from skorch.callbacks import Callback

    class ReadsValidLoss(Callback):
        def on_epoch_end(self, net, **kwargs):
            net.history[-1, "valid_loss"]

    with pytest.raises(ValueError, match="valid_loss and valid_score are recorded only "
                                         "with early_stopping=True"):
        RegularizedMLPClassifier(**TINY, callbacks=[ReadsValidLoss()]).fit(*data)


def test_skreg_io_names_what_a_wrong_file_looks_like(data, tmp_path):
    model = RegularizedMLPRegressor(**TINY).fit(data[0], data[0][:, 0])
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(model))
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n")
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    empty = tmp_path / "empty.skops"
    empty.write_bytes(b"")
    for path, looks in [(pickled, "it looks like a pickle or joblib file"),
                        (csv, r"it looks like a text file \(a CSV\?\)"),
                        (other_zip, "not one that skops wrote"), (empty, "it is empty")]:
        with pytest.raises(ValueError, match=f"The file '.*{path.name}' is not a skops "
                                             f"archive .*; .*{looks}"):
            skreg.io.load(path)
        with pytest.raises(ValueError, match=f"The data is not a skops archive .*; .*{looks}"):
            skreg.io.loads(path.read_bytes())
    with pytest.raises(ValueError, match="looks like a pickle"):
        skreg.io.get_untrusted_types(file=pickled)
    # and the real thing still loads
    good = tmp_path / "model.skops"
    skreg.io.dump(model, good)
    np.testing.assert_array_equal(skreg.io.load(good).predict(data[0]), model.predict(data[0]))


def test_a_collapsed_penalised_fit_warns_with_what_to_try():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    kw = dict(solver="lbfgs", hidden_layer_sizes=(10, 10), random_state=1, max_iter=500)
    with pytest.warns(UserWarning, match=(
            r"predicts the same class for every training sample: the penalty is likely "
            r"too strong .*alpha=1000.*numeric_embedding=None and input_scaling=None")):
        RegularizedMLPClassifier(alpha=1000.0, **kw).fit(X, y)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        RegularizedMLPClassifier(alpha=1e-3, **kw).fit(X, y)  # a fit that works: no warning
