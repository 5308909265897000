"""The documentation a user reads: no project-internal words, code that fits, every
public method in the API reference."""

import inspect
import re
from pathlib import Path

import pytest

import skreg

ROOT = Path(__file__).resolve().parents[1]
USER_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: words that mean something only inside the project, or that contradict the docs
INTERNAL = [r"(?i)\bseed experiments?\b", r"(?i)\bseed 0\d\d\b", r"(?i)in the previous run",
            r"(?i)targets? (?:met|not met)", r"(?i)\*\*not met\*\*", r"\bAUTO_ALPHA\b",
            r"MAX_ONEHOT_CATEGORIES", r"MIN_CATEGORY_FREQUENCY", r"pip install \"skreg\[",
            r"max_fun` is not offered"]
SKLEARN_BOILERPLATE = {"get_params", "set_params", "get_metadata_routing"}


@pytest.mark.parametrize("page", USER_PAGES, ids=lambda p: p.name)
def test_no_internal_words(page):
    text = page.read_text()
    for pattern in INTERNAL:
        assert not re.search(pattern, text), (page.name, pattern)


def test_no_internal_words_in_public_docstrings():
    """Nor private modules: a user cannot import ``skreg._anything``."""
    import skreg.io

    for obj in (skreg.RegularizedMLPClassifier, skreg.RegularizedMLPRegressor,
                skreg.RegularizedMLPClassifierCV, skreg.RegularizedMLPRegressorCV, skreg.io):
        for pattern in INTERNAL + [r"development half", r"skreg\._"]:
            assert not re.search(pattern, obj.__doc__), (obj.__name__, pattern)


@pytest.mark.parametrize("page", USER_PAGES, ids=lambda p: p.name)
def test_code_lines_fit_the_column(page):
    """At most 100 characters a line in code blocks (the content column holds ~110)."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", page.read_text(), flags=re.S):
        for line in block.splitlines():
            assert len(line) <= 100 or "pip install" in line, (page.name, line)


@pytest.mark.parametrize("cls, page", [
    (skreg.RegularizedMLPClassifier, "estimators"), (skreg.RegularizedMLPRegressor,
                                                     "estimators"),
    (skreg.RegularizedMLPClassifierCV, "cv"), (skreg.RegularizedMLPRegressorCV, "cv")])
def test_every_public_method_is_in_the_api_reference(cls, page):
    text = (ROOT / "docs" / "api" / f"{page}.md").read_text()
    block = text.split(f"::: skreg.{cls.__name__}\n", 1)[1].split(":::", 1)[0]
    listed = set(re.search(r"members: \[(.*?)\]", block.replace("inherited_members", "i"))
                 .group(1).replace(" ", "").split(","))
    public = {name for name, member in inspect.getmembers(cls, inspect.isfunction)
              if not name.startswith("_") and not name.startswith("set_")
              and name not in SKLEARN_BOILERPLATE}
    assert public <= listed, public - listed
