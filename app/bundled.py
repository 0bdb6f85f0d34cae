"""The one way to reach the data files of the package ``privacy_inspector.resources``."""

from __future__ import annotations

import importlib.resources
import shutil
from importlib.abc import Traversable
from pathlib import Path


def root() -> Traversable:
    return importlib.resources.files("privacy_inspector.resources")


def path(*parts: str) -> Traversable:
    node = root()
    for part in parts:
        node = node / part
    return node


def copy_tree(source: Traversable, target: Path) -> None:
    """Copy a resource folder to disk (works for installed wheels and zip imports alike)."""
    if isinstance(source, Path):
        shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        return
    target.mkdir(parents=True, exist_ok=True)
    for child in source.iterdir():
        if child.name in ("__pycache__", "__init__.py"):
            continue
        if child.is_dir():
            copy_tree(child, target / child.name)
        else:
            (target / child.name).write_bytes(child.read_bytes())
