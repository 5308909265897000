"""The accuracy figures of the README and docs/defaults.md are the result files' figures.

Each ``<!-- figures:NAME -->`` block must be what ``benchmarks/figures.py`` computes from
``benchmarks/results/accuracy/*.json`` today; after a new benchmark run,
``python benchmarks/figures.py`` rewrites them.
"""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import figures  # noqa: E402

DOCUMENTS = {doc: (ROOT / doc).read_text() for doc in figures.DOCUMENTS}


@pytest.mark.parametrize("doc", sorted(DOCUMENTS))
def test_figure_blocks_equal_what_the_result_files_give(doc):
    blocks = figures.blocks_in(DOCUMENTS[doc])
    assert blocks, f"{doc} has no figure block"
    for name, body in blocks.items():
        assert body == figures.block(name), (
            f"{doc}: block {name!r} differs from the result files; run "
            "python benchmarks/figures.py")


def test_every_figure_block_is_shown_somewhere():
    shown = set()
    for text in DOCUMENTS.values():
        shown |= set(figures.blocks_in(text))
    assert shown == set(figures.BLOCKS)


def test_the_blocks_report_every_column_of_their_runs():
    """Every model of a view's files appears in its tables, baselines that beat skreg too."""
    for view, (_, models) in figures.VIEWS.items():
        text = figures.tables(view)
        for model in models:
            if model == "skreg_balanced" and "imbalanced" not in text:
                continue
            assert f"| {figures.NAMES[model]} |" in text, (view, model)


def test_no_figure_of_the_readme_is_outside_its_block():
    """The README's prose quotes no benchmark score of its own (scores live in the block)."""
    text = figures.rewrite(DOCUMENTS["README.md"])
    outside = re.sub(r"<!-- figures:.*?<!-- /figures:[\w-]+ -->", "", text, flags=re.S)
    outside = re.sub(r"```.*?```|`[^`]*`", "", outside, flags=re.S)  # code: parameters
    assert not re.findall(r"\b0\.\d{3,4}\b", outside)
