"""The README's Python examples run as written, and say what they print."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
TEXT = README.read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_python_blocks_run(capsys):
    assert len(BLOCKS) == 3
    namespace = {}
    for block in BLOCKS:  # later blocks use names from earlier ones
        exec(compile(block, str(README), "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("test accuracy ") and float(printed[0].split()[-1]) > 0.9
    assert namespace["model"].predict(namespace["frame"]).shape == (400,)
    assert namespace["search"].best_score_ > 0.9
    assert {"alpha", "dropout"} <= set(namespace["search"].best_params_)


def test_readme_is_short_and_has_the_two_set_up_commands():
    assert len(TEXT.splitlines()) <= 120
    commands = re.findall(r"```bash\n(.*?)```", TEXT, flags=re.S)
    assert any("skreg compare" in c and "pip install" in c for c in commands)
    assert any("pytest" in c and "pip install" in c for c in commands)
