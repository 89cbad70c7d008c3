# Sphinx configuration of gradflow's documentation site (scripts/docs.sh builds it into build/docs/html).
#
# The pages are Markdown (MyST); the C++ reference comes from the public headers through Doxygen
# (docs/Doxyfile, XML in build/docs/doxygen) and Breathe; the Python reference from the built module's
# docstrings (autodoc; scripts/docs.sh puts build/<preset>/python on sys.path); the command-line
# reference pages in reference/cli/ are generated from `gradflow <command> --help` by
# scripts/cli_reference.py (a test compares them with the built binary).
#
# Links: a Markdown link to another page is checked by MyST (a missing page or heading is a warning,
# and scripts/docs.sh runs Sphinx with -W). A link to a file of the repository that is not a page of the
# site (examples/readme_client.cpp, BENCHMARKS.md) is rewritten to the file's path in code, after
# checking that the file exists (a missing one is a warning too).
import os
import re

from sphinx.util import logging

project = "gradflow"
author = "the gradflow authors"
copyright = "2026, the gradflow authors"

_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)

with open(os.path.join(_root, "CMakeLists.txt"), encoding="utf-8") as _cmake:
    _match = re.search(r"project\(gradflow\s+VERSION\s+([0-9.]+)", _cmake.read())
release = _match.group(1) if _match else "unknown"
version = release

extensions = ["myst_parser", "breathe", "sphinx.ext.autodoc", "sphinx.ext.doctest"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = []
myst_enable_extensions = ["dollarmath", "deflist"]
myst_heading_anchors = 4

html_theme = "furo"
html_title = f"gradflow {release}"
html_static_path = []

breathe_projects = {"gradflow": os.environ.get("GRADFLOW_DOXYGEN_XML", os.path.join(_root, "build/docs/doxygen/xml"))}
breathe_default_project = "gradflow"
breathe_default_members = ("members",)

autodoc_member_order = "bysource"
autodoc_typehints = "signature"

_logger = logging.getLogger(__name__)
_link = re.compile(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)")
_include = re.compile(r"^<!-- include: (\S+) -->$", re.MULTILINE)


def _repository_file(docname, target):
    """What a link names: None (a URL, a heading of this page), ("page", path relative to the citing page),
    ("file", path from the repository's root) for a file that is not a page, or ("missing", target)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
        return None  # a URL, or a heading of this page: MyST's
    path = target.split("#", 1)[0]
    doc_dir = os.path.dirname(os.path.join(_here, docname))
    for base in (doc_dir, _root):
        full = os.path.normpath(os.path.join(base, path))
        if not os.path.exists(full) or not full.startswith(_root + os.sep):
            continue
        if full.startswith(_here + os.sep) and full.endswith(".md"):
            # a page of the site: MyST checks it (and its heading), given relative to the citing page
            return ("page", os.path.relpath(full, doc_dir) + target[len(path):])
        return ("file", os.path.relpath(full, _root))
    if path.endswith(".md") and not path.startswith(".."):
        return None  # a page that is not there: MyST says so
    return ("missing", target)


def _include_repository_files(docname, text):
    """A line `<!-- include: PATH -->` (PATH from the repository's root, e.g. CONTRIBUTING.md) is replaced
    by that file's text: the site shows the repository's own documents without a copy."""

    def replace(match):
        path = os.path.join(_root, match.group(1))
        if not os.path.isfile(path):
            _logger.warning(f"include of a file that does not exist: {match.group(1)}", location=docname)
            return match.group(0)
        with open(path, encoding="utf-8") as f:
            return f.read()

    return _include.sub(replace, text)


def _rewrite_file_links(app, docname, source):
    lines = _include_repository_files(docname, source[0]).split("\n")
    fenced = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue

        def replace(match):
            image, text, target = match.group(1), match.group(2), match.group(3)
            found = _repository_file(docname, target)
            if found is None:
                return match.group(0)
            kind, path = found
            if kind == "page":
                return f"{image}[{text}]({path})"
            if image and kind == "file":  # an image of the repository, relative to the citing page
                doc_dir = os.path.dirname(os.path.join(_here, docname))
                return f"![{text}]({os.path.relpath(os.path.join(_root, path), doc_dir)})"
            if kind == "missing":
                _logger.warning(f"link to a file that does not exist: {target}", location=(docname, i + 1))
                return match.group(0)
            shown = text.strip("`")
            return f"`{path}`" if shown == path or shown == target else f"{text} (`{path}`)"

        lines[i] = _link.sub(replace, line)
    source[0] = "\n".join(lines)


def _docstring_as_text(app, what, name, obj, options, lines):
    """The module's docstrings are plain text (help() shows them as they are), not reStructuredText:
    shown as written, in a literal block."""
    if lines:
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def setup(app):
    app.connect("source-read", _rewrite_file_links)
    app.connect("autodoc-process-docstring", _docstring_as_text)
