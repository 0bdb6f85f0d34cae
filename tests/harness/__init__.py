"""Real-browser test harness: a local HTTPS fake web and drivers for Debian's
Chromium and Firefox ESR.  See README.md in this folder.

Modules: ``ca`` (test CA), ``site`` (the fake web and what browsers should
store), ``chromium`` and ``firefox`` (drivers), ``fixtures`` (pytest fixtures).
"""

from __future__ import annotations

import shutil
from pathlib import Path

# (-shm is left out: SQLite rebuilds it from the WAL.)
SQLITE_SIDE_FILES = ("-wal", "-journal")


def copy_sqlite(src: str | Path, dst_dir: str | Path) -> Path:
    """Copy an SQLite file and its ``-wal``/``-journal`` side files into ``dst_dir``.

    Firefox leaves ``cookies.sqlite-wal`` behind even after a clean quit; a copy
    of the main file alone can miss rows.
    """
    src = Path(src)
    dst_dir = Path(dst_dir)
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / src.name
    shutil.copy2(src, dst)
    for suffix in SQLITE_SIDE_FILES:
        side = src.with_name(src.name + suffix)
        if side.exists():
            shutil.copy2(side, dst_dir / side.name)
    return dst
