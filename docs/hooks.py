"""Build-time additions to the documentation site (a mkdocs hook).

* The examples gallery: one page per script in ``examples/``, made from its
  docstring, its figure (``docs/gallery/<name>.png``, made by running the
  script) and its source, plus an index page with the figures as thumbnails.
  The pages are generated at each build, so they never drift from the code.
* Links from the hand-written pages to files of the repository outside
  ``docs/`` (``../benchmarks/README.md``) become the file's path as code,
  since the site does not contain those files.
"""

import ast
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GALLERY = "gallery"  # figures, under docs/


def _examples():
    return sorted(EXAMPLES.glob("*.py"))


def _rst_to_markdown(text):
    """The few reStructuredText forms the example docstrings use."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            # a literal block: "text::" then an indented block
            head = line.rstrip()[:-2].rstrip()
            if head:
                out.append(_inline(head) + ":")
            i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith("    ")):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            out += ["", "```text", *block, "```", ""]
            continue
        out.append(_inline(line))
        i += 1
    return "\n".join(out)


def _inline(text):
    """Inline reStructuredText markup (roles, double backquotes) as Markdown code."""
    text = re.sub(r":(?:func|class|meth|data|mod):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _page(path):
    source = path.read_text()
    doc = ast.get_docstring(ast.parse(source)) or path.stem
    title, _, body = doc.partition("\n")
    figure = ROOT / "docs" / GALLERY / f"{path.stem}.png"
    parts = [f"# {title.strip()}", "", _rst_to_markdown(body.strip()), ""]
    if figure.exists():
        parts += [f"![{title.strip()}](../{GALLERY}/{path.stem}.png)", ""]
    parts += [f"Source: `examples/{path.name}`", "", "```python", source.rstrip(), "```", ""]
    return title.strip(), "\n".join(parts)


def _index(entries):
    parts = ["# Examples", "",
             "Scripts that reproduce the experiments of the seed documents with skreg's "
             "estimators. Each runs in under two minutes on two CPU cores, prints its "
             "numbers, says in its docstring what the seed reported and what skreg gives, "
             "and saves its figure: `python examples/NAME.py [FIGURE.png]`.", ""]
    for stem, title in entries:
        parts.append(f"## [{title}]({stem}.md)")
        parts.append("")
        if (ROOT / "docs" / GALLERY / f"{stem}.png").exists():
            parts += [f"[![{title}](../{GALLERY}/{stem}.png){{ width=\"480\" }}]({stem}.md)",
                      ""]
    return "\n".join(parts)


def on_config(config):
    """List the generated example pages under the nav's Examples entry."""
    pages = ["examples/index.md"] + [f"examples/{p.stem}.md" for p in _examples()]
    for i, item in enumerate(config["nav"] or []):
        if isinstance(item, dict) and "Examples" in item:
            config["nav"][i] = {"Examples": pages}
    return config


def on_files(files, config):
    entries = []
    for path in _examples():
        title, content = _page(path)
        files.append(File.generated(config, f"examples/{path.stem}.md", content=content))
        entries.append((path.stem, title))
    files.append(File.generated(config, "examples/index.md", content=_index(entries)))
    return files


_OUTSIDE = re.compile(r"\[([^\]]+)\]\((?:\.\./)+([^)#]+)\)")


def on_page_markdown(markdown, page, config, files):
    def repl(match):
        target = match.group(2)
        if files.get_file_from_path(target) is not None:
            return match.group(0)
        return f"`{target}`" if match.group(1).strip("`") == target else (
            f"{match.group(1)} (`{target}`)")

    return _OUTSIDE.sub(repl, markdown)
