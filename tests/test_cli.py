"""The ``skreg compare`` command: real runs on small settings, and bad arguments."""

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_iris

from skreg import RegularizedMLPClassifier
from skreg.cli import InputError, compare, infer_task, main

CLASSIFIERS = ["LogRegCV L2", "LogRegCV ElasticNet", "HistGradientBoosting", "sklearn MLP",
               "skreg MLP", "skreg MLP CV"]
REGRESSORS = ["RidgeCV", "LassoCV", "ElasticNetCV", "HistGradientBoosting", "sklearn MLP",
              "skreg MLP", "skreg MLP CV"]
# few folds and epochs: the tests check the plumbing, not the models
FAST = ["--cv", "2", "--max-iter", "20"]


def parse_table(text):
    """``{model: {column: value}}`` from the printed table."""
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("model"))
    columns = re.split(r"\s{2,}", lines[header].strip())
    rows = {}
    for line in lines[header + 2:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(columns), line
        # "-": a model without weights (gradient boosting)
        rows[cells[0]] = {c: float("nan") if v == "-" else float(v)
                          for c, v in zip(columns[1:], cells[1:])}
    return columns, rows


def run(capsys, *args):
    status = main(["compare", *args])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def mixed_csv(tmp_path):
    """A small CSV with a categorical column, a missing feature value and a
    missing target."""
    rng = np.random.default_rng(0)
    n = 80
    color = rng.choice(["red", "green", "blue"], n)
    size = rng.normal(size=n)
    label = np.where(size + 1.5 * (color == "red") > 0.5, "yes", "no")
    price = 3 * size + 2 * (color == "blue") + rng.normal(scale=0.3, size=n)
    lines = ["size,color,weight,label,price"]
    for i in range(n):
        weight = "" if i % 9 == 0 else f"{rng.normal():.3f}"
        lab = "NA" if i == 3 else label[i]
        lines.append(f"{size[i]:.3f},{color[i]},{weight},{lab},{price[i]:.3f}")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_classification_table(capsys):
    status, out, err = run(capsys, "--dataset", "iris", *FAST)
    assert status == 0, err
    assert "iris: 150 samples, 4 features, classification, 3 classes" in out
    assert "2-fold stratified cross-validation" in out
    assert "score: accuracy" in out
    columns, rows = parse_table(out)
    assert columns[:4] == ["model", "test accuracy", "std", "train"]
    assert list(rows) == CLASSIFIERS
    for row in rows.values():
        assert 0 <= row["test accuracy"] <= 1 and 0 <= row["train"] <= 1
        assert row["fit s"] >= 0
        if not np.isnan(row["weights"]):
            assert row["|w|>0.001"] <= row["nonzero"] <= row["weights"]
    # 4 features x 3 classes; scikit-learn's MLP: one hidden layer of 100 units
    assert rows["LogRegCV L2"]["weights"] == 12
    assert rows["sklearn MLP"]["weights"] == 4 * 100 + 100 * 3
    assert np.isnan(rows["HistGradientBoosting"]["weights"])
    assert rows["LogRegCV ElasticNet"]["nonzero"] <= rows["LogRegCV L2"]["nonzero"]
    assert rows["LogRegCV L2"]["test accuracy"] > 0.8


def test_regression_table(capsys):
    status, out, err = run(capsys, "--dataset", "diabetes", *FAST)
    assert status == 0, err
    assert "diabetes: 442 samples, 10 features, regression" in out
    assert "score: R^2" in out
    _, rows = parse_table(out)
    assert list(rows) == REGRESSORS
    assert 0.3 < rows["RidgeCV"]["test R^2"] <= 1
    for row in rows.values():
        assert row["test R^2"] <= 1 and row["train"] <= 1
    assert rows["LassoCV"]["nonzero"] <= rows["RidgeCV"]["nonzero"] == 10


def test_csv_with_categorical_column(capsys, mixed_csv):
    status, out, err = run(capsys, "--dataset", str(mixed_csv), "--target", "label",
                           *FAST)
    assert status == 0, err
    # the row with a missing target is dropped; label is inferred as classes
    assert "79 samples, 4 features, classification, 2 classes" in out
    assert "1 row with a missing 'label' dropped" in out
    _, rows = parse_table(out)
    assert list(rows) == CLASSIFIERS
    # size, weight, price and three one-hot colours
    assert rows["LogRegCV L2"]["weights"] == 6
    for row in rows.values():
        assert 0 <= row["test accuracy"] <= 1


def test_csv_regression_task_inferred(capsys, mixed_csv):
    status, out, err = run(capsys, "--dataset", str(mixed_csv), "--target", "price",
                           *FAST)
    assert status == 0, err
    assert "80 samples, 4 features, regression" in out
    _, rows = parse_table(out)
    assert list(rows) == REGRESSORS
    assert rows["RidgeCV"]["test R^2"] > 0.8


def test_python_m_skreg():
    proc = subprocess.run(
        [sys.executable, "-m", "skreg", "compare", "--dataset", "iris", "--cv", "2",
         "--max-iter", "5"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert all(name in proc.stdout for name in CLASSIFIERS)


def test_compare_function():
    X, y = load_iris(return_X_y=True)
    result = compare(X, y, cv=2, max_iter=10, random_state=1)
    assert result.task == "classification" and result.metric == "accuracy"
    assert [r["model"] for r in result.rows] == CLASSIFIERS
    for row in result.rows:
        assert row["test_scores"].shape == (2,)
        assert np.isclose(row["test_mean"], row["test_scores"].mean())
        # the non-deprecated LogisticRegression API raises no FutureWarning
        assert not any("FutureWarning" in msg for msg in row["warnings"])
    assert "LogRegCV ElasticNet" in str(result)
    with pytest.raises(InputError, match="cv must be an integer >= 2"):
        compare(X, y, cv=1)
    with pytest.raises(InputError, match="regression needs a numeric target"):
        compare(X, np.array(["a", "b", "c"] * 50), task="regression")


def test_infer_task():
    assert infer_task(["a", "b", "a"]) == "classification"
    assert infer_task([0, 1, 2, 1]) == "classification"
    assert infer_task([0.0, 1.0, 1.0]) == "classification"
    assert infer_task(np.arange(100)) == "regression"
    assert infer_task([0.5, 1.2, 3.3]) == "regression"


@pytest.mark.parametrize("args, problem", [
    (["--dataset", "no_such_dataset"], "unknown dataset 'no_such_dataset'"),
    (["--dataset", "missing/data.csv"], "no such file"),
    (["--dataset", "{csv}"], "--target is required"),
    (["--dataset", "{csv}", "--target", "nope"], "target column 'nope' is not in"),
    (["--cv", "1"], "argument --cv: must be at least 2"),
    (["--cv", "two"], "argument --cv: expected an integer"),
    (["--max-iter", "0"], "argument --max-iter: must be at least 1"),
    (["--dataset", "iris", "--target", "x"], "--target is only used with a CSV"),
    (["--dataset", "{csv}", "--target", "color", "--task", "regression"],
     "regression needs a numeric target"),
    (["--dataset", "diabetes", "--task", "classification"], "fewer than the 5 folds"),
    (["--task", "clustering"], "argument --task: invalid choice"),
])
def test_bad_arguments(capsys, mixed_csv, args, problem):
    args = [a.replace("{csv}", str(mixed_csv)) for a in args]
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skreg compare: error: ")
    assert problem in lines[0]
    assert "Traceback" not in err


def test_no_command(capsys):
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("skreg: error:")


def test_help(capsys):
    assert main(["compare", "--help"]) == 0
    assert "--dataset" in capsys.readouterr().out


# ----------------------------------------------------------------- --plot FILE
def test_plot_saves_the_train_and_test_score_figure(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "comparison.png"
    status, out, err = run(capsys, "--dataset", "iris", *FAST, "--plot", str(path))
    assert status == 0, err
    assert f"figure saved to {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


@pytest.mark.parametrize("name, match", [("figure.xyz", "must end in"),
                                         ("missing/figure.png", "does not exist")])
def test_plot_bad_file_fails_before_fitting(capsys, tmp_path, name, match):
    pytest.importorskip("matplotlib")
    status, out, err = run(capsys, "--dataset", "iris", *FAST, "--plot",
                           str(tmp_path / name))
    assert status == 2 and match in err and "--plot" in err
    assert "model" not in out  # nothing was fitted or printed


# ------------------------------------------------------ reading CSV files
def test_csv_is_loaded_as_a_dataframe(mixed_csv):
    import pandas as pd

    from skreg.cli import _load_csv

    X, y, task, categorical, notes = _load_csv(str(mixed_csv), "label")
    assert isinstance(X, pd.DataFrame)
    assert list(X.columns) == ["size", "color", "weight", "price"]
    assert categorical == [1]
    assert pd.api.types.is_string_dtype(X["color"].dtype)
    assert set(X["color"]) == {"red", "green", "blue"}
    assert X["weight"].dtype == np.float64 and X["weight"].isna().sum() == 9
    assert y.shape == (79,) and set(y) == {"yes", "no"}
    assert task == "auto" and notes == ["1 row with a missing 'label' dropped"]
    # rows with a missing numeric target are dropped too
    _, y, _, _, notes = _load_csv(str(mixed_csv), "weight")
    assert y.dtype == np.float64 and y.shape == (71,)
    assert notes == ["9 rows with a missing 'weight' dropped"]
    X, y, _, categorical, _ = _load_csv(str(mixed_csv), "color")
    assert list(X.columns) == ["size", "weight", "label", "price"]
    assert categorical == [2] and y.dtype == object


def test_csv_integral_target_is_read_as_integers(tmp_path):
    from skreg.cli import _load_csv

    path = tmp_path / "int.csv"
    path.write_text("x,y\n0.5,1\n1.5,\n2.5,3.0\n")
    _, y, _, _, _ = _load_csv(str(path), "y")
    assert y.dtype == np.int64 and y.tolist() == [1, 3]


def test_csv_delimiter_missing_tokens_quotes_and_spaces(tmp_path):
    from skreg.cli import _load_csv

    path = tmp_path / "semicolon.csv"
    path.write_text(
        "\ufeff id ; amount ;city;flag;y\n"
        "1; 2.5 ; Paris ;True;a\n"
        "2; ? ;\"Rome; Italy\";False;b\n"
        "3;N/A;  na ;;a\n"
        "4;4;Paris;True;b\n", encoding="utf-8")
    X, y, _, categorical, _ = _load_csv(str(path), "y")
    assert list(X.columns) == ["id", "amount", "city", "flag"]
    assert X["id"].tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(X["amount"], [2.5, np.nan, np.nan, 4.0])
    assert X["city"].tolist()[:2] == ["Paris", "Rome; Italy"] and X["city"].isna()[2]
    # the bool column (with a missing value) and the strings are categorical
    assert categorical == [2, 3]
    assert list(y) == ["a", "b", "a", "b"]


@pytest.mark.parametrize("content, problem", [
    (b"", "needs a header line and at least one data row"),
    (b"a,b,y\n", "needs a header line and at least one data row"),
    (b"a,b,y\n1,2,3\n4,5,6,7\n", "cannot read"),
    (b"a,b,y\n1,2,3,4\n5,6,7,8\n", "cannot read"),
    (b"a,b,y\n\xff\xfe1,2,3\n", "cannot read"),
    (b"y\n1\n2\n", "no feature columns besides 'y'"),
    (b"a,y\n1,\n2,NA\n", "every row has a missing 'y'"),
])
def test_unreadable_csv_files(capsys, tmp_path, content, problem):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    status, out, err = run(capsys, "--dataset", str(path), "--target", "y")
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("skreg compare: error: "), err
    assert problem in lines[0]


def test_target_required_lists_the_columns(capsys, mixed_csv):
    status, _, err = run(capsys, "--dataset", str(mixed_csv))
    assert status == 2
    assert "the columns of" in err and "size, color, weight, label, price" in err


def test_compare_accepts_a_dataframe_with_string_columns(mixed_csv):
    from skreg.cli import _load_csv

    X, y, _, categorical, _ = _load_csv(str(mixed_csv), "label")
    result = compare(X, y, categorical_features=categorical, cv=2, max_iter=5)
    assert result.n_features == 4 and result.n_samples == 79
    # size, weight, price and three one-hot colours
    assert result.rows[0]["n_weights"] == 6


def test_skreg_rows_train_on_the_raw_frame(mixed_csv):
    """The skreg rows take the frame itself: their encoder adds a missing
    indicator for 'weight' (7 inputs), which the other models' pipeline
    (median imputation, one-hot) does not (6 inputs)."""
    from skreg.cli import _load_csv

    X, y, _, categorical, _ = _load_csv(str(mixed_csv), "label")
    result = compare(X, y, categorical_features=categorical, cv=2, max_iter=5)
    rows = {r["model"]: r for r in result.rows}
    # the first layer reads the 7 encoded inputs and the PLR outputs of the
    # numeric ones (the default numeric embedding)
    plain = RegularizedMLPClassifier(max_iter=5, random_state=0,
                                     categorical_features=categorical).fit(X, y)
    assert plain.encoder_.transform(X).shape[1] == 7
    assert rows["skreg MLP"]["n_weights"] == plain.coefs_[0].shape[0] * 100 + 100 * 1
    assert rows["sklearn MLP"]["n_weights"] == 6 * 100 + 100 * 1
    assert np.isfinite(rows["skreg MLP CV"]["test_mean"])
    assert X.isna().any().any()  # the caller's frame keeps its missing values


# ------------------------------------------------------------ malformed CSVs
CELLS = {"num": ["1", "2.5", "-3", "0", "7", "1e3"], "cat": ["x", "y", "z"],
         "bool": ["True", "False"], "label": ["cat", "dog", "cat", "dog", "bird"],
         "code": ["0", "1", "1", "2"]}
ODD_CELLS = ["", "NA", "nan", "inf", "-inf", "1e400", '"a,b"', "é", " ", "2020-01-01",
             "0x10", "1_000", "[1]", "{}", "None", "-", "?", '"', "a;b", "\t"]


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(kinds=st.lists(st.sampled_from(["num", "cat", "bool"]), min_size=0, max_size=3),
       target=st.sampled_from(["num", "cat", "label", "code"]),
       n_rows=st.sampled_from([0, 1, 4, 9]), odd_share=st.sampled_from([0.0, 0.1, 0.4]),
       ragged=st.booleans(), cv=st.sampled_from(["2", "3"]), seed=st.integers(0, 2 ** 16))
def test_malformed_csv_files_get_one_line_and_exit_code_2(
        tmp_path_factory, kinds, target, n_rows, odd_share, ragged, cv, seed):
    """Any small, odd CSV: a table (exit 0) or one error line (exit 2), never a traceback."""
    import contextlib
    import io

    rng = np.random.default_rng(seed)
    columns = kinds + [target]
    lines = [",".join([f"f{j}" for j in range(len(kinds))] + ["y"])]
    for _ in range(n_rows):
        cells = [rng.choice(ODD_CELLS) if rng.random() < odd_share else rng.choice(CELLS[k])
                 for k in columns]
        if ragged and rng.random() < 0.3:
            cells = cells[:-1] if rng.random() < 0.5 else cells + ["extra"]
        lines.append(",".join(cells))
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["compare", "--dataset", str(path), "--target", "y", "--cv", cv,
                       "--max-iter", "2"])
    errors = err.getvalue().splitlines()
    assert "Traceback" not in err.getvalue()
    if status == 0:
        assert "model" in out.getvalue()
    else:
        assert status == 2, err.getvalue()
        assert len(errors) == 1 and errors[0].startswith("skreg compare: error: "), errors
        assert out.getvalue() == ""
