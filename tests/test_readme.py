"""The README's Python examples run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_python_blocks_run(capsys):
    assert len(BLOCKS) >= 3
    namespace = {}
    for block in BLOCKS:  # later blocks use names from earlier ones
        exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out.split()
    assert float(printed[0]) > 0.9  # the quickstart's test accuracy
    assert namespace["search"].best_score_ > 0.9
    assert namespace["cv_search"][-1].best_score_ > 0.9
    assert namespace["model"].predict(namespace["X"]).shape == namespace["y"].shape
