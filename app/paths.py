"""The app's own state folder (the ``--data-dir``), created private to the user.

This is the only module that asks platformdirs where things go.  Everything
the app writes for itself (the demo copy, and later journals, snapshots, the
keep list and settings) lives below it, folders 0700 and files 0600.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
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


def create_private_file(path: Path) -> None:
    """Create ``path`` 0600 (and its folder 0700) before anything opens it,
    so that even SQLite's first write is never readable by others."""
    init(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not every system can open a folder: Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


SQLITE_HEADER = b"SQLite format 3\x00"


def has_sqlite_header(path: Path) -> bool:
    """Whether ``path`` starts as every SQLite database does; OSError if it cannot be read."""
    with open(path, "rb") as f:
        return f.read(16) == SQLITE_HEADER


def write_private_file(path: Path, data: bytes, *, durable_name: bool = True) -> None:
    """Replace one of the app's own files by ``data``, atomically and 0600."""
    write_file_atomically(path, data, FILE_MODE, durable_name=durable_name)


def write_file_atomically(path: Path, data: bytes, mode: int, *, durable_name: bool = True) -> None:
    """Replace ``path`` by ``data``: a reader sees the old file or the new, never half.

    The temporary file is created 0600 in the same folder (no rename across
    file systems, never readable by others), given ``mode`` and flushed
    before the rename; with ``durable_name`` the folder is flushed too, so the
    new name survives a crash.  If anything fails the old file is untouched
    and the temporary file removed; the OSError goes to the caller.  The app's
    own files and the browser files its writers rewrite both go through here.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.chmod(tmp, mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable_name:
        sync_folder(path.parent)
