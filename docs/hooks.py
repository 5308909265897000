"""Build-time additions to the documentation site (a mkdocs hook).

* The examples gallery: one page per script in ``examples/``, made from its
  docstring, its figure (``docs/gallery/<name>.png``, made by running the
  script) and its source, plus an index page with the figures as thumbnails.
  The pages are generated at each build, so they never drift from the code.
* The user guide's table of regularizers (the marker
  ``<!-- regularizer-table -->``) is made from the registry
  (``skreg._engine.regularizers.REGULARIZERS``): each regularizer's
  parameters, defaults and summary, as the estimators' docstrings have them.
* Links from the hand-written pages to files of the repository outside
  ``docs/`` (``../benchmarks/README.md``) become the file's path as code,
  since the site does not contain those files.
* The reStructuredText in the package's numpydoc docstrings, which the API
  reference renders as Markdown: :class:`SphinxMarkup` is a Griffe extension
  (loaded by mkdocstrings from this file, see ``mkdocs.yml``) that rewrites
  each docstring before it is parsed. Sphinx roles (``:class:`~skreg.X```,
  ``:func:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:data:``, ``:exc:``,
  ``:obj:``) become code that links to the object where the site documents
  it (an optional cross-reference: plain code otherwise); ``.. math::``
  blocks become LaTeX code blocks; a ``::`` that opens a literal block
  becomes ``:`` (the indented block is a Markdown code block already); and
  ```text <url>`_`` links become Markdown links; a ``See Also`` section
  becomes a list of linked names.
"""

import ast
import builtins
import html
import inspect
import logging
import re
from pathlib import Path

from griffe import Extension
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
             "Scripts that reproduce published regularization experiments with skreg's "
             "estimators: from Tom Kite's \"Regularisation: the strange secret behind deep "
             "learning\", Anoop Praturu's \"Regularization\", SortaSota's \"The Shapes of "
             "Regularization\" and \"Regularisation: A Deep Dive into Theory, "
             "Implementation, and Practical Insights\". Each runs in under two minutes on "
             "two CPU cores, says what the post reported, prints skreg's figures, which "
             "its page quotes, and saves its figure where it makes one: "
             "`python examples/NAME.py [FIGURE.png]`.", ""]
    for stem, title in entries:
        parts.append(f"## [{title}]({stem}.md)")
        parts.append("")
        if (ROOT / "docs" / GALLERY / f"{stem}.png").exists():
            parts += [f"[![{title}](../{GALLERY}/{stem}.png){{ width=\"480\" }}]({stem}.md)",
                      ""]
    return "\n".join(parts)


def on_config(config):
    """List the generated example pages under the nav's Examples entry; load the
    Griffe extension of this file by its absolute path, wherever mkdocs runs."""
    root = Path(config["config_file_path"]).parent
    plugin = config["plugins"].get("mkdocstrings")
    if plugin is not None:
        options = plugin.config["handlers"].get("python", {}).get("options", {})
        options["extensions"] = [
            str(root / ext) if isinstance(ext, str) and ext.endswith(".py")
            and not Path(ext).is_absolute() else ext
            for ext in options.get("extensions", [])]
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


_REGULARIZER_TABLE = "<!-- regularizer-table -->"


def regularizer_table():
    """The Markdown table of every regularizer and its estimator parameters."""
    from skreg._engine.regularizers import REGULARIZERS

    rows = ["| regularizer | parameters (default) | searchable in the CV estimators |",
            "| --- | --- | --- |"]
    for cls in REGULARIZERS:
        summary = inspect.getdoc(cls).split("\n\n")[0].replace("\n", " ")
        params = ", ".join(f"`{p.name}={p.default!r}`" for p in cls.params)
        searchable = ", ".join(f"`{p.name}`" for p in cls.params if p.searchable) or "no"
        rows.append(f"| {summary} | {params} | {searchable} |")
    return "\n".join(rows)


def on_page_markdown(markdown, page, config, files):
    if _REGULARIZER_TABLE in markdown:
        markdown = markdown.replace(_REGULARIZER_TABLE, regularizer_table())

    def repl(match):
        target = match.group(2)
        if files.get_file_from_path(target) is not None:
            return match.group(0)
        return f"`{target}`" if match.group(1).strip("`") == target else (
            f"{match.group(1)} (`{target}`)")

    return _OUTSIDE.sub(repl, markdown)


# ------------------------------------------------- docstrings: reST to Markdown
_LOG = logging.getLogger("mkdocs.hooks.skreg")
_ROLE = re.compile(r":(?:py:)?(class|func|meth|mod|attr|data|exc|obj|const):`([^`]+)`")
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$")
_LINK = re.compile(r"`(?P<text>[^`<]+?)\s*<(?P<url>[a-z]+://[^>]+)>`__?")
_MATH = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*$")
_LITERAL = re.compile(r"(?m)(?<=\S)::[ \t]*$")
_LONE_LITERAL = re.compile(r"(?m)^[ \t]*::[ \t]*\n")


def _role_targets(role, target, obj):
    """Where a role's (possibly relative) target may be documented, best guess first.

    A relative name is looked up in the documented object's module, then in
    its top-level package (``skreg.X``), and for ``:meth:`` and ``:attr:``
    first in its class; a module (``:mod:``) or a builtin (``ValueError``)
    is itself. autorefs takes two of them (the identifier and its ``slug``).
    """
    if obj is None or role == "mod" or target in vars(builtins):
        return [target]
    module = obj.module.path
    if "." in target:
        return [target, f"{module}.{target}"]
    cls = obj if obj.is_class else obj.parent
    candidates = [f"{module}.{target}", f"{module.partition('.')[0]}.{target}"]
    if role in ("meth", "attr") and not obj.is_module and cls is not None and cls.is_class:
        candidates.insert(0, f"{cls.path}.{target}")
    return list(dict.fromkeys(candidates))[:2]


def _role(match, obj):
    """``:role:`target``` as code, linked to the target where the site documents it."""
    role, text = match.group(1), match.group(2).strip()
    explicit = _EXPLICIT.match(text)
    if explicit:
        title, target = explicit["title"], explicit["target"].lstrip("~")
    else:
        target = text.lstrip("~.")
        title = target.rsplit(".", 1)[-1] if text.startswith("~") else target
    candidates = _role_targets(role, target, obj)
    slug = f' slug="{html.escape(candidates[1])}"' if len(candidates) > 1 else ""
    return (f'<autoref identifier="{html.escape(candidates[0])}"{slug} optional>'
            f"<code>{html.escape(title)}</code></autoref>")


def _indent(line):
    return len(line) - len(line.lstrip())


def _math_blocks(lines):
    """``.. math::`` and its indented block as a ``$$`` block, rendered by MathJax."""
    out, i = [], 0
    while i < len(lines):
        directive = _MATH.match(lines[i])
        i += 1
        if not directive:
            out.append(lines[i - 1])
            continue
        indent = directive["indent"]
        block = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            block.append(lines[i])
            i += 1
        trailing = 0  # blank lines that end the block stay after the fence
        while block and not block[-1].strip():
            block.pop()
            trailing += 1
        while block and not block[0].strip():
            block.pop(0)
        depth = min((_indent(line) for line in block if line.strip()), default=0)
        # arithmatex's block delimiters: MathJax renders it (mkdocs.yml)
        out += [f"{indent}$$",
                *(indent + line[depth:] if line.strip() else "" for line in block),
                f"{indent}$$", *[""] * trailing]
    return out


def _is_header(lines, i):
    """Whether line ``i`` is a numpydoc section header (a title underlined with dashes)."""
    return (i + 1 < len(lines) and bool(lines[i].strip())
            and re.fullmatch(r"[ \t]*-{3,}[ \t]*", lines[i + 1]) is not None)


def _see_also(lines):
    """A numpydoc ``See Also`` section as a Markdown list of (linked) names.

    Griffe keeps the section as text, which Markdown would run into one
    paragraph; each ``name[, name] : description`` entry (the description
    possibly continued on indented lines) becomes one list item.
    """
    out, i = [], 0
    while i < len(lines):
        if not (lines[i].strip() == "See Also" and _is_header(lines, i)):
            out.append(lines[i])
            i += 1
            continue
        out += lines[i:i + 2]
        i += 2
        items, base = [], None
        while i < len(lines) and not _is_header(lines, i):
            line = lines[i]
            i += 1
            if not line.strip():
                continue
            if base is None or _indent(line) <= base or not items:
                base = _indent(line) if base is None else base
                names, _, description = line.strip().partition(" : ")
                items.append([names, description.strip()])
            else:
                items[-1][1] = f"{items[-1][1]} {line.strip()}".strip()
        for names, description in items:
            refs = ", ".join(name if "`" in name else f":obj:`{name}`"
                             for name in (n.strip() for n in names.split(",")) if name)
            out.append(" " * (base or 0) + f"- {refs}" + (f": {description}"
                                                         if description else ""))
        out.append("")
    return out


def rst_to_markdown(text, obj=None):
    """The reStructuredText of a numpydoc docstring ``text`` as Markdown.

    Parameters
    ----------
    text : str
        The docstring, dedented.
    obj : griffe.Object, default=None
        The object it documents: relative role targets (``:meth:`fit```) are
        looked up in its class, then its module.

    Returns
    -------
    str
    """
    lines = _see_also(_math_blocks(text.splitlines()))
    text = "\n".join(lines)
    text = _ROLE.sub(lambda m: _role(m, obj), text)
    text = _LINK.sub(lambda m: f"[{m['text']}]({m['url']})", text)
    text = _LONE_LITERAL.sub("\n", text)
    return _LITERAL.sub(":", text)


def _builtin_doc(node, obj):
    """Whether an inspected attribute's docstring is only that of its value's builtin type
    (``records_penalty = False`` gets ``bool``'s)."""
    kind = type(getattr(node, "obj", None))
    doc = kind.__dict__.get("__doc__")
    return (obj.is_attribute and kind.__module__ == "builtins" and isinstance(doc, str)
            and obj.docstring.value.strip() == inspect.cleandoc(doc).strip())


class SphinxMarkup(Extension):
    """Griffe extension: every docstring's reStructuredText as Markdown.

    See :func:`rst_to_markdown`; an inspected attribute keeps no docstring
    that is only its value's builtin type's.
    """

    def on_instance(self, *, node, obj, agent, **kwargs):
        if obj.docstring is None:
            return
        # Griffe drops a module whose inspection raises, silently: report
        # instead (a warning, which fails the strict build)
        try:
            if _builtin_doc(node, obj):
                obj.docstring = None
            else:
                obj.docstring.value = rst_to_markdown(obj.docstring.value, obj)
        except Exception as exc:  # noqa: BLE001
            _LOG.warning("docs/hooks.py: cannot convert the docstring of %s: %r",
                         obj.path, exc)
