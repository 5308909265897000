"""Every example runs (in a fast mode), writes its figure and shows what its
docstring claims."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setenv("SKREG_EXAMPLES_FAST", "1")


@pytest.fixture(autouse=True)
def agg_backend():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")


def run(name, *args):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")["main"](*args)


def run_with_figure(name, tmp_path):
    figure = tmp_path / (Path(name).stem + ".png")
    result = run(name, str(figure))
    assert figure.read_bytes()[:8] == PNG and figure.stat().st_size > 10_000
    return result


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sparsity_l1_vs_l2(capsys):
    rows = run("sparsity_l1_vs_l2.py")
    assert "L1 (proximal)" in capsys.readouterr().out
    # exact zeros only with the proximal step; near-zeros far more with L1
    assert rows["L1 (proximal)"][4] > 0.3 and rows["L1 (subgradient)"][4] < 0.01
    assert rows["L1 (proximal)"][3] > 3 * rows["L2"][3]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mc_dropout_uncertainty(capsys):
    std_inside, std_outside = run("mc_dropout_uncertainty.py")
    assert "MC std" in capsys.readouterr().out
    assert std_outside > std_inside


def test_noisy_linear_comparison(tmp_path):
    results = run_with_figure("plot_noisy_linear_comparison.py", tmp_path)
    train, val = results["linear regression"]
    assert val < 0.1  # close to the noise floor 0.04
    # every MLP fits the training set at least as well as it generalises
    assert all(r[1] > r[0] for name, r in results.items() if name.startswith("MLP"))


def test_two_moons_l1_l2(tmp_path):
    results = run_with_figure("plot_two_moons_l1_l2.py", tmp_path)
    # L1 zeroes far more hidden-to-hidden weights than L2 or no penalty
    assert results["L1 alpha=0.01"][2] > results["L2 alpha=10"][2] + 0.3
    assert results["no penalty"][2] < 0.05


def test_two_moons_dropout(tmp_path):
    results = run_with_figure("plot_two_moons_dropout.py", tmp_path)
    assert set(results) == {"no dropout", "dropout 0.4"}
    assert all(0.5 < acc <= 1 for r in results.values() for acc in r)


def test_label_smoothing_calibration(tmp_path):
    results = run_with_figure("plot_label_smoothing_calibration.py", tmp_path)
    mean_confidence = [r[1] for r in results.values()]
    # more smoothing, less confident predictions
    assert mean_confidence == sorted(mean_confidence, reverse=True)
    assert all(0 <= r[2] <= 1 for r in results.values())


def test_digits_penalties(tmp_path):
    results = run_with_figure("plot_digits_penalties.py", tmp_path)
    for net in ("shallow", "deep"):
        # L1 leaves the most weights below 1e-3
        assert results[net, "L1"][3] > max(results[net, "no penalty"][3],
                                           results[net, "L2"][3])


def test_polynomial_overfit(tmp_path):
    results = run_with_figure("plot_polynomial_overfit.py", tmp_path)
    # the penalised polynomials beat plain least squares on the test points
    for name in ("Ridge(alpha=0.5)", "Lasso(alpha=0.1)", "ElasticNet(0.1, 0.4)"):
        assert results[name][1] < results["polynomial (degree 8)"][1]


def test_imbalanced_smote(tmp_path):
    results = run_with_figure("plot_imbalanced_smote.py", tmp_path)
    plain = results["no rebalancing"]["test_recall"]
    assert results["SMOTE pipeline"]["test_recall"] > plain
    assert results["class_weight='balanced'"]["test_recall"] > plain


def test_every_example_is_tested():
    tested = {name[len("test_"):] + ".py" for name in globals()
              if name.startswith("test_") and name != "test_every_example_is_tested"}
    tested = {n if (EXAMPLES / n).exists() else "plot_" + n for n in tested}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested
