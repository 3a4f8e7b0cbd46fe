"""The installed ``headrace`` package as one folder tree, for static tools.

setup.py maps the repository's component folders onto one import package (toolkit/ ->
``headrace``, extractors/ -> ``headrace.extractors``, ...). The editable install resolves
that mapping with an import hook, which static tools (grimp/import-linter, mypy) do not
run: they look for ``headrace/extractors/`` under a folder on their search path. This
module builds that folder from symbolic links into the working tree, so the tools read
(and report) the files as they are, with no copy and no reinstall.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def package_roots() -> dict[str, str]:
    """setup.py's ``ROOTS``: import package -> folder, read without running setup.py."""
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ROOTS" for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError("setup.py defines no ROOTS mapping")


def build(parent: Path) -> Path:
    """Lay ``parent/headrace`` out as installed; return ``parent`` (the folder to put on the path).

    Folders are real directories and each module (``*.py``, ``py.typed``) is a link to its
    file in the working tree: tools that do not descend into linked folders (pyright) see
    every module, and a module added to the repository is in the next tree built.
    """
    for package, folder in sorted(package_roots().items()):
        source = REPO / folder
        target = parent.joinpath(*package.split("."))
        for file in sorted(source.rglob("*")):
            if file.name != "py.typed" and file.suffix != ".py":
                continue
            link = target / file.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(file)
    return parent


def to_repo_paths(text: str, parent: Path) -> str:
    """Tool output with link-tree paths turned back into the repository's own paths."""
    roots = package_roots()
    # longest package first, so headrace/extractors/... is not read as toolkit/extractors/...
    for package in sorted(roots, key=len, reverse=True):
        linked = str(parent.joinpath(*package.split("."))) + os.sep
        text = text.replace(linked, roots[package] + os.sep)
    return text


if __name__ == "__main__":  # python -m tests.package_tree DIR: then e.g. PYTHONPATH=DIR lint-imports
    import sys

    print(build(Path(sys.argv[1]).resolve()))
