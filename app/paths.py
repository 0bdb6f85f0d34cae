"""The app's own state folder (the ``--data-dir``), created private to the user.

This is the only module that asks platformdirs where things go.  Everything
the app writes for itself (the demo copy, and later journals, snapshots, the
keep list and settings) lives below it, folders 0700 and files 0600.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "privacy-inspector"
DIR_MODE = 0o700
FILE_MODE = 0o600


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make ``path`` itself 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def init(data_dir: Path | None = None) -> Path:
    """The data folder to use, created private if it does not exist yet."""
    path = (data_dir or default_data_dir()).expanduser().absolute()
    return ensure_private_dir(path)


def make_tree_private(root: Path) -> None:
    """Folders 0700 and files 0600 below ``root`` (for copies the app makes)."""
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), DIR_MODE)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, FILE_MODE)
