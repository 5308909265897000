"""Every example runs (in a fast mode) and shows what its docstring claims."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setenv("SKREG_EXAMPLES_FAST", "1")


def run(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")["main"]()


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


def test_every_example_is_tested():
    tested = {"sparsity_l1_vs_l2.py", "mc_dropout_uncertainty.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested
