"""The writer of Chromium's Cache Storage (the browser closed; the caller checked).

One Cache Storage folder holds every cache of one origin (or storage bucket):
an ``index.txt`` naming the caches (:mod:`chromium_workers`) and one Simple
disk cache folder per cache.  Taking one cache out would mean rewriting
``index.txt``, which this version does not do: it deletes a folder's caches
whole, and refuses (``WriteError``, nothing changed) a plan that takes only
some of them.  What it moves:

* **A first-party origin's folder** ``Service Worker/CacheStorage/<SHA-1>``:
  the folder moves into the journal's private folder, whole and untouched.
  The quota database's row of the origin's default bucket stays (it stands for
  the origin's other storage too), as :mod:`chromium_idb_write` does.
* **A bucket's** ``WebStorage/<id>/CacheStorage`` (or ``BackgroundFetch``;
  third-party partitions are such buckets): when the bucket holds nothing
  else, the bucket is deleted as Chromium deletes one (its folder and its row
  of ``WebStorage/QuotaManager``, see :mod:`chromium_idb_write`); otherwise
  only the folder moves, and the bucket's row is kept in the journal: if the
  IndexedDB writer of the same deletion then takes the emptied bucket out
  whole, restoring (in deletion order) makes the bucket again from that row
  and the IndexedDB goes back into it.

Restore moves the folder back unless the site has caches there again: that is
left as it is and reported.  Chromium makes a new bucket (new id) for a storage
key as soon as a page of it merely lists its caches; the saved folder then goes
into that bucket, if it has no caches of its own (an empty Cache Storage
folder Chromium made there moves into the journal first).  Entry ids do not
depend on the bucket id.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy_inspector.browsers import chromium_idb as idb
from privacy_inspector.browsers import chromium_workers as workers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.chromium_files import build_entries_from_rows
from privacy_inspector.browsers.chromium_idb_write import (
    BUCKET_GONE,
    BucketStore,
    _is_real_dir,
    _quota_transaction,
)
from privacy_inspector.browsers.firefox_storage_write import (
    _columns,
    _insert,
    _move_all,
)
from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core.records import Engine, Entry, Kind, Profile

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

__all__ = ["CacheStorageWriter", "writer_for"]

FORMAT = "privacy-inspector-chromium-cache"
VERSION = 1

_FIRST_PARTY = re.compile(r"Service Worker/CacheStorage/([0-9a-f]{40})/index\.txt\Z")
_BUCKET = re.compile(r"WebStorage/([0-9]+)/(CacheStorage|BackgroundFetch)/index\.txt\Z")
FOLDER = "folder"
SET_AGAIN = "set again since the deletion; left as it is now"
# Where an empty Cache Storage folder Chromium made since goes, in the journal.
_SUPERSEDED = "superseded"


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of one Chromium Cache Storage folder, or None where there is none."""
    if profile.engine != Engine.CHROMIUM or kind != Kind.CACHE_STORAGE:
        return None
    if _FIRST_PARTY.match(store):
        return CacheStorageWriter(profile, store, None)
    match = _BUCKET.match(store)
    if match is not None:
        return CacheStorageWriter(profile, store, int(match.group(1)))
    return None


class CacheStorageWriter(BucketStore):
    """Every cache of one Cache Storage folder (an origin's, or a bucket's), whole."""

    name = "chromium-cache-storage"
    payload_format, payload_version, folder_mode = FORMAT, VERSION, FOLDER

    def __init__(self, profile: Profile, store: str, bucket_id: int | None) -> None:
        self.profile = profile
        self.store = store
        self.bucket_id = bucket_id
        self.folder = (profile.path / store).parent
        self.quota = idb.quota_location(profile)

    def _bucket_folder(self) -> Path:
        return self.folder.parent

    # ---- reading -----------------------------------------------------------

    def _caches(self, folder: Path) -> list[Entry]:
        """The caches ``folder/index.txt`` lists, with the ids the reader gives them."""
        options = ReadOptions()
        background = None if self.bucket_id is None else folder.name == "BackgroundFetch"
        rows = workers._read_cache_index(folder, self.profile, options,
                                         background_fetch=background)
        if options.problems:
            raise WriteError(f"{options.problems[0][1]}; nothing was changed")
        for row in rows:  # the ids do not depend on where the folder is
            row.store = self.store
        return build_entries_from_rows(self.profile, Kind.CACHE_STORAGE, rows)

    def _bucket_whole(self) -> bool:
        """Whether the bucket folder holds this Cache Storage folder and nothing else."""
        try:
            return os.listdir(self._bucket_folder()) == [self.folder.name]
        except OSError:
            return False

    # ---- deleting ----------------------------------------------------------

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        if not os.path.lexists(self.folder):
            return []
        if not _is_real_dir(self.folder):
            raise WriteError(f"{self.folder.name} of {self.store} is not a folder; "
                             "nothing was changed")
        present = {e.id: e for e in self._caches(self.folder)}
        chosen = sorted(i for i in present if i in wanted)
        if not chosen:
            return []
        others = sorted(present[i].name for i in present if i not in wanted)
        if others:
            n = len(others)
            raise WriteError(
                f"this version deletes an origin's Cache Storage whole; {n} other "
                f"cache{'s' if n != 1 else ''} of it ({', '.join(repr(c) for c in others)}) "
                f"{'were' if n != 1 else 'was'} not chosen; nothing was changed in {self.store}")
        if self.bucket_id is not None and self._bucket_whole():
            quota = self.profile.path / self.quota
            if quota.is_file() and self._delete_bucket(quota, chosen, journal):
                return chosen
        journal.save({"format": FORMAT, "version": VERSION, "mode": FOLDER, "ids": chosen,
                      **self._bucket_of_store(), **self._saved_row()})
        _move_all([(self.folder, journal.files() / self.folder.name)], self.store)
        return chosen

    def _saved_row(self) -> dict[str, Any]:
        """The bucket's row (columns and typed cells), kept so that restore can make
        the bucket again if another writer of the same deletion (IndexedDB) took
        the bucket out whole after this folder left it."""
        quota = self.profile.path / self.quota
        if self.bucket_id is None or not quota.is_file():
            return {}
        with _quota_transaction(quota, self.quota) as conn:
            found = self._bucket_row(conn)
        if found is None:
            return {}
        return {"columns": found[0], "row": found[1]}

    # ---- restoring ---------------------------------------------------------

    def _restore_own(self, payload: dict[str, Any], ids: list[str], journal: StoreJournal
                        ) -> tuple[list[str], list[tuple[str, str]]]:
        source = journal.files() / self.folder.name
        if not os.path.lexists(source):
            raise WriteError(f"the journal's copy of {self.store} is missing; nothing was restored")
        key, name = payload.get("bucket_key"), payload.get("bucket_name")
        if self.bucket_id is not None and key is not None:
            if "row" in payload and self._bucket_back(payload["columns"], payload["row"]):
                return self._put(source, self.folder, ids, journal)
            return self._into_bucket(key, name or idb.DEFAULT_BUCKET, source, ids, journal)
        if self.bucket_id is not None and not self.folder.parent.is_dir():
            return [], [(i, BUCKET_GONE) for i in ids]
        return self._put(source, self.folder, ids, journal)

    def _bucket_back(self, columns: list[str], row: list[Any]) -> bool:
        """Put the bucket's saved row back, and make its folder, if the bucket is gone
        (its row and folder) and nothing has its storage key and name now.

        Another writer of the same deletion may have taken the bucket out whole
        after this folder left it; its restore then finds the bucket here and
        fills it.  False (nothing done) otherwise."""
        bucket = self._bucket_folder()
        quota = self.profile.path / self.quota
        if os.path.lexists(bucket) or not bucket.parent.is_dir() or not quota.is_file():
            return False
        key, name = self._bucket_identity(columns, row)
        with _quota_transaction(quota, self.quota) as conn:
            if _columns(conn, "buckets") != columns or self._bucket_taken(conn, key, name):
                return False
            _insert(conn, "buckets", columns, row)
            bucket.mkdir(mode=0o700)
            try:
                conn.execute("COMMIT")
                conn.execute("BEGIN")  # what the block's end commits: nothing
            except BaseException:
                bucket.rmdir()
                raise
        return True

    def _put(self, source: Path, target: Path, ids: list[str], journal: StoreJournal
             ) -> tuple[list[str], list[tuple[str, str]]]:
        """Move ``source`` to ``target`` unless the site has caches there again.

        A ``target`` Chromium made since that lists no cache moves into the
        journal first (and back if the move fails)."""
        superseded = None
        if os.path.lexists(target):
            if not _is_real_dir(target) or self._caches(target):
                return [], [(i, SET_AGAIN) for i in ids]
            superseded = journal.files() / _SUPERSEDED
            if os.path.lexists(superseded):
                raise WriteError(f"the journal's folder for {self.store} is not as this version "
                                 "left it; nothing was restored")
        made: list[Path] = []
        for folder in (target.parent.parent, target.parent):
            if not folder.exists():
                folder.mkdir(mode=0o700)
                made.append(folder)
        pairs = [(source, target)]
        if superseded is not None:
            pairs.insert(0, (target, superseded))
        try:
            _move_all(pairs, self.store)
        except WriteError:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        return ids, []

    def _into_bucket(self, raw_key: str, bucket_name: str, source: Path, ids: list[str],
                     journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        """Put the saved folder into the bucket that has its storage key and name now
        (its folder made, as :meth:`_put` makes missing parents, if Chromium has
        not made it yet)."""
        bucket = self._bucket_now(raw_key, bucket_name)
        if bucket is None:
            return [], [(i, BUCKET_GONE) for i in ids]
        return self._put(source, bucket / self.folder.name, ids, journal)

    def _into_new_bucket(self, raw_key: str, bucket_name: str, saved: Path, ids: list[str],
                         journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        return self._into_bucket(raw_key, bucket_name, saved / self.folder.name, ids, journal)
