"""Every example runs (in a fast mode), writes its figure and shows what its
docstring claims; the figures its docstring quotes are the ones it prints.

An example's docstring is the caption of its gallery page. Its figures are
checked in two steps:

* **The printed block.** Every docstring holds a literal block introduced by
  a line that ends in ``prints::``: a copy of what the script prints (its
  ``figure saved to`` line aside). Run in full (without
  ``SKREG_EXAMPLES_FAST``, in a fresh process, as a user runs it), the
  script must print every line of that block, whitespace aside
  (:func:`test_prints_its_docstring_block`).
* **Quoted figures.** A figure of the prose that restates the script's
  output is written in single backquotes (`0.983`, `98.3%`); each must be a
  number of the printed block, as printed or rounded half up to the digits
  quoted, a percentage standing for a printed percentage or fraction
  (`98.3%` for 0.983). The post's own figures and the setup's are written
  plainly and not checked (:func:`test_quoted_figures_are_printed`).

The second step reads the docstrings only and covers every example. The
first runs scripts in full, which takes from a few seconds to a minute
each: by default only the examples of ``FULL_RUN_BY_DEFAULT`` (about 40 s
together on 2 cores); ``SKREG_EXAMPLES_FULL=1`` runs every example (about
3 min), which is due whenever an example or the estimators change.
"""

import ast
import os
import re
import runpy
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PNG = b"\x89PNG\r\n\x1a\n"

#: the examples run in full by every test run: those that take a few seconds
FULL_RUN_BY_DEFAULT = {"mc_dropout_uncertainty.py", "sparsity_l1_vs_l2.py",
                       "plot_two_moons_dropout.py", "plot_polynomial_overfit.py",
                       "plot_imbalanced_smote.py"}
#: a printed number: not part of a word or of a number in exponent form (1e-3)
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?%?(?![\w.])")
#: a figure in single backquotes (double backquotes are code)
QUOTED = re.compile(r"(?<![`:])`(-?\d+(?:\.\d+)?%?)`(?!`)")


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


def printed_block(path):
    """The lines of the literal block after the docstring's ``...prints::`` line."""
    lines = ast.get_docstring(ast.parse(path.read_text())).splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip().endswith("prints::")),
                 None)
    assert start is not None, f"{path.name}: no 'prints::' block in the docstring"
    block = []
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith("    "):
            break
        if line.strip():
            block.append(" ".join(line.split()))
    assert block, f"{path.name}: the 'prints::' block is empty"
    return block


def prose(path):
    """The docstring without its printed block."""
    doc = ast.get_docstring(ast.parse(path.read_text()))
    block = set(printed_block(path))
    return "\n".join(line for line in doc.splitlines() if " ".join(line.split()) not in block)


def same_figure(quoted, printed):
    """Whether ``quoted`` is ``printed`` as printed or rounded half up to fewer digits."""
    if quoted.endswith("%") and not printed.endswith("%"):
        value = Decimal(printed) * 100  # a fraction quoted as a percentage
    elif printed.endswith("%") and not quoted.endswith("%"):
        return False
    else:
        value = Decimal(printed.rstrip("%"))
    figure = Decimal(quoted.rstrip("%"))
    places = -figure.as_tuple().exponent
    if places > -value.as_tuple().exponent:
        return False  # more digits than printed
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) == figure


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_quoted_figures_are_printed(path):
    printed = NUMBER.findall("\n".join(printed_block(path)))
    quoted = QUOTED.findall(prose(path))
    assert quoted, f"{path.name}: the docstring quotes none of the printed figures"
    missing = [q for q in quoted if not any(same_figure(q, p) for p in printed)]
    assert not missing, f"{path.name}: quoted but not printed: {missing}"


def test_same_figure():
    assert same_figure("0.983", "0.983") and same_figure("0.98", "0.983")
    assert same_figure("0.55", "0.545") and same_figure("3939", "3938.678")
    assert same_figure("98.3%", "0.983") and same_figure("97.3%", "97.3%")
    assert same_figure("-0.78", "-0.781")
    assert not same_figure("0.984", "0.983") and not same_figure("0.9830", "0.983")
    assert not same_figure("0.983", "98.3%") and not same_figure("97%", "0.975")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_prints_its_docstring_block(path, tmp_path):
    if path.name not in FULL_RUN_BY_DEFAULT and not os.environ.get("SKREG_EXAMPLES_FULL"):
        pytest.skip("a longer full run: set SKREG_EXAMPLES_FULL=1")
    env = {k: v for k, v in os.environ.items() if k != "SKREG_EXAMPLES_FAST"}
    env["MPLBACKEND"] = "Agg"
    args = [sys.executable, str(path)]
    if path.name.startswith("plot_"):
        args.append(str(tmp_path / "figure.png"))
    run = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr
    output = {" ".join(line.split()) for line in run.stdout.splitlines()}
    missing = [line for line in printed_block(path) if line not in output]
    assert not missing, (f"{path.name} no longer prints what its docstring shows:\n"
                         + "\n".join(missing) + "\n\nit prints:\n" + run.stdout)


GENERIC = {"test_every_example_is_tested", "test_quoted_figures_are_printed",
           "test_same_figure", "test_prints_its_docstring_block"}


def test_every_example_is_tested():
    tested = {name[len("test_"):] + ".py" for name in globals()
              if name.startswith("test_") and name not in GENERIC}
    tested = {n if (EXAMPLES / n).exists() else "plot_" + n for n in tested}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested
