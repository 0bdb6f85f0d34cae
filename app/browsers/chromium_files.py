"""Profile folders, sizes and entry rows shared by the Chromium IndexedDB reader
(:mod:`chromium_idb`) and the Cache Storage and service worker readers
(:mod:`chromium_workers`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from privacy_inspector.browsers.base import StorageFactory
from privacy_inspector.core.records import Entry, Kind, Profile, ValueState

# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def folder_size(path: Path) -> int:
    """Bytes of every file under ``path`` (0 if it does not exist)."""
    total = 0
    try:
        entries = list(os.scandir(path))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                total += folder_size(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def relative_store(profile: Profile, path: Path) -> str:
    try:
        return path.relative_to(profile.path).as_posix()
    except ValueError:
        return path.as_posix()


def is_empty_leveldb(folder: Path) -> bool:
    """A folder Chromium created but never wrote a database into."""
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return not any(
        n == "CURRENT" or n.startswith("MANIFEST-") or n.endswith((".log", ".ldb", ".sst"))
        for n in names
    )


def sorted_dirs(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def bucket_dirs(profile: Profile) -> list[tuple[int, Path]]:
    """``WebStorage/<bucket id>`` folders, by id."""
    out = []
    for path in sorted_dirs(profile.path / "WebStorage"):
        if path.name.isdigit():
            out.append((int(path.name), path))
    return sorted(out)


def split_bytes(total: int, weights: list[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder; sums to ``total``)."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights = [1] * len(weights)
        weight_sum = len(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    order = sorted(range(len(weights)), key=remainders.__getitem__, reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


# --------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """An entry before it becomes an Entry."""

    store: str
    id_store: str
    origin: str
    name: str
    partition: str | None
    partition_site: str | None
    size: int
    note: str | None


def build_entries_from_rows(profile: Profile, kind: Kind, rows: Iterable[Row]) -> list[Entry]:
    return StorageFactory(profile, kind).rows(
        [
            (r.store, r.id_store, r.origin, r.name, r.partition, r.partition_site, None, True,
             r.size, None, ValueState.UNAVAILABLE, False, None, r.note)
            for r in rows
        ]
    )
