"""The writer of Chromium's IndexedDB (the browser closed; the caller checked).

One IndexedDB LevelDB holds every database of one origin and storage bucket
(layouts in :mod:`chromium_idb`).  Taking one database out of a LevelDB that
holds several would mean editing Chromium's IndexedDB key encoding inside
the LevelDB, which this version does not do: it deletes an origin's (a
bucket's) IndexedDB whole, and refuses (``WriteError``, nothing changed) a
plan that takes only some of its databases.  What it moves, and why:

* **The default bucket of a first-party origin**
  (``IndexedDB/<origin id>.indexeddb.leveldb`` and its sibling
  ``.indexeddb.blob``): both folders move into the journal's private folder,
  whole and untouched (a rename where possible).  The bucket's row in the
  quota database stays: a default bucket stands for the origin's other
  storage too, and Chromium makes its IndexedDB folder again when the site
  next opens a database.
* **Any other bucket** (``WebStorage/<bucket id>/IndexedDB/indexeddb.leveldb``
  and ``indexeddb.blob``; third-party partitions are such buckets in Chromium
  156): when the bucket holds nothing but that IndexedDB, the bucket is
  deleted the way Chromium deletes one, ``QuotaDatabase::DeleteBucketData``
  in ``storage/browser/quota/quota_database.cc``: its folder
  ``WebStorage/<bucket id>`` goes (``StorageDirectory::DoomBucket``) and its
  row of the ``buckets`` table of ``WebStorage/QuotaManager`` goes
  (``DELETE FROM buckets WHERE id = ?``).  Here the folder moves into the
  journal and the row, saved first with every column typed, is deleted in one
  transaction, committed only once the folder has moved.  Bucket ids are
  ``AUTOINCREMENT`` (quota database version 9 and later), so a new bucket
  never takes the id again.  A bucket that holds anything else (Cache
  Storage, files of Chromium's SQLite IndexedDB format...) keeps its folder and
  row; only its ``indexeddb.leveldb`` and ``indexeddb.blob`` move.

Restore moves the folders back (and inserts the saved row again) unless the
site has made its IndexedDB again since: that is left as it is and reported.
Chromium 156 makes a new bucket (a new id, an empty ``IndexedDB`` folder) for
a storage key as soon as a page of it merely lists its databases; a deleted
bucket whose storage key has such an empty bucket now is restored into it
(its ``indexeddb.leveldb`` and ``indexeddb.blob`` move into the new bucket's
``IndexedDB`` folder, the new row is kept): entry ids do not depend on the
bucket id, and Chromium then lists the databases again (checked with the
real browser in tests/real/test_real_chromium_delete_idb.py).  Chromium's SQLite IndexedDB format (one file per database)
has no writer yet: a plan keeps those databases and says so.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import re
import sqlite3
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy_inspector.browsers import chromium_idb as idb
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.chromium_files import build_entries_from_rows, is_empty_leveldb
from privacy_inspector.browsers.chromium_keys import origin_of_identifier
from privacy_inspector.browsers.firefox_storage_write import (
    _columns,
    _full_rows,
    _insert,
    _move,
    _move_all,
)
from privacy_inspector.browsers.sqlitewrite import WriteError, transaction
from privacy_inspector.core.records import Engine, Entry, Kind, Profile, ReadError

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

__all__ = ["IndexedDBWriter", "writer_for"]

FORMAT = "privacy-inspector-chromium-idb"
VERSION = 1

_LEGACY = re.compile(r"IndexedDB/([^/]+)\.indexeddb\.leveldb\Z")
_BUCKET = re.compile(r"WebStorage/([0-9]+)/IndexedDB/indexeddb\.leveldb\Z")
# What a bucket folder holding only IndexedDB contains.
_IDB_ONLY = {"indexeddb.leveldb", "indexeddb.blob"}
# Modes of a deletion, in the journal.
FOLDERS, BUCKET = "folders", "bucket"
SET_AGAIN = "the site has IndexedDB here again since the deletion; left as it is now"
BUCKET_GONE = ("Chromium deleted the site's storage bucket since (its data was cleared?); "
               "not restored")


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of one Chromium IndexedDB LevelDB, or None where there is none."""
    if profile.engine != Engine.CHROMIUM or kind != Kind.INDEXED_DB:
        return None
    match = _LEGACY.match(store)
    if match is not None:
        identifier = match.group(1)
        if identifier in (".", "..") or origin_of_identifier(identifier) is None:
            return None
        return IndexedDBWriter(profile, store, None)
    match = _BUCKET.match(store)
    if match is not None:
        return IndexedDBWriter(profile, store, int(match.group(1)))
    return None


def _blob_folder(folder: Path) -> Path:
    """The blob folder beside an IndexedDB LevelDB folder."""
    if folder.name == "indexeddb.leveldb":
        return folder.with_name("indexeddb.blob")
    return folder.with_name(folder.name.removesuffix(".leveldb") + ".blob")


def _check_unlocked(folder: Path, what: str) -> None:
    """WriteError if a program (Chromium) holds LevelDB's lock on ``folder/LOCK``.

    Nothing is created or written: a folder without ``LOCK`` is not open.
    """
    path = folder / "LOCK"
    if os.name != "posix" or not path.is_file():
        return
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        raise WriteError(f"{what}/LOCK cannot be opened ({exc.strerror}); nothing was changed"
                         ) from None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(fd, fcntl.LOCK_UN)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN, errno.EDEADLK):
            raise WriteError(f"{what} is in use by another program (is Chromium running?); "
                             "nothing was changed") from None
        raise WriteError(f"{what}/LOCK cannot be locked ({exc.strerror}); nothing was changed"
                         ) from None
    finally:
        os.close(fd)


def _quota_transaction(path: Path, what: str) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    """``sqlitewrite.transaction`` on the quota database, text as bytes, its
    rollback journal truncated rather than deleted as Chromium's
    ``sql::Database`` keeps it (the empty ``QuotaManager-journal`` stays)."""
    return transaction(path, what, browser="Chromium", text_as_bytes=True,
                       journal_mode="TRUNCATE")


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


class BucketStore:
    """What the IndexedDB and Cache Storage writers share: a store that may live
    in a storage bucket, whose folder and QuotaManager row go together when the
    bucket holds nothing else (``QuotaDatabase::DeleteBucketData``).

    A subclass sets ``profile``, ``store``, ``bucket_id``, ``quota``, its
    payload's format and version, and says where its bucket folder is.
    """

    profile: Profile
    store: str
    bucket_id: int | None
    quota: str
    payload_format: str
    payload_version: int
    # The payload mode of a deletion that left the bucket (and its row) in place.
    folder_mode: str

    def _bucket_folder(self) -> Path:
        raise NotImplementedError

    def _bucket_row(self, conn: sqlite3.Connection) -> tuple[list[str], list[Any]] | None:
        """(columns, the bucket's row, typed) in the quota database, or None if it has none."""
        if "buckets" not in {r[0].decode() for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}:
            return None
        columns = _columns(conn, "buckets")
        if not {"id", "storage_key", "name"} <= set(columns):
            raise WriteError(f"{self.quota} has a buckets table this app does not know; "
                             "nothing was changed")
        rows = _full_rows(conn, "buckets", columns, [self.bucket_id])
        return (columns, rows[0]) if rows else None

    def _bucket_of_store(self) -> dict[str, str]:
        """The storage key and name of the bucket's row now (none: legacy folder, or no row)."""
        if self.bucket_id is None:
            return {}
        bucket = idb._Buckets(self.profile).get(self.bucket_id)
        if bucket is None:
            return {}
        return {"bucket_key": bucket.raw_key, "bucket_name": bucket.name}

    def _delete_bucket(self, quota: Path, ids: list[str], journal: StoreJournal) -> bool:
        """The whole bucket: its row and its folder, as Chromium deletes a bucket.

        The row is saved, then deleted in a transaction that commits only once
        the folder has moved into the journal; if the commit fails, the folder
        moves back.  False (nothing done) if the quota database has no row for it.
        """
        bucket = self._bucket_folder()
        target = journal.files() / bucket.name
        moved = False
        try:
            with _quota_transaction(quota, self.quota) as conn:
                found = self._bucket_row(conn)
                if found is None:
                    return False
                columns, row = found
                journal.save({"format": self.payload_format, "version": self.payload_version, "mode": BUCKET, "ids": ids,
                              "bucket": bucket.name, "columns": columns, "row": row})
                cursor = conn.execute("DELETE FROM buckets WHERE id = ?", (self.bucket_id,))
                if cursor.rowcount != 1:
                    raise WriteError(f"{self.quota}: the row of bucket {self.bucket_id} could "
                                     "not be deleted; nothing was changed")
                _move_all([(bucket, target)], self.store)
                moved = True
        except BaseException:
            if moved:
                with contextlib.suppress(OSError):
                    _move(target, bucket)
            raise
        return True

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        if payload.get("format") != self.payload_format or payload.get("version") != self.payload_version:
            raise WriteError(f"the journal's data for {self.store} is not in a format this "
                             "version knows; nothing was restored")
        try:
            ids: list[str] = [str(i) for i in payload["ids"]]
            if payload["mode"] == BUCKET:
                return self._restore_bucket(payload, ids, journal)
            if payload["mode"] == self.folder_mode:
                return self._restore_own(payload, ids, journal)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WriteError(f"the journal's data for {self.store} is damaged "
                             f"({type(exc).__name__}); nothing was restored") from exc
        raise WriteError(f"the journal's data for {self.store} is damaged; nothing was restored")

    def _bucket_identity(self, columns: list[str], row: list[Any]) -> tuple[bytes, bytes]:
        """The storage key and name of a saved bucket row (WriteError if damaged)."""
        key = _cell_bytes(row[columns.index("storage_key")])
        name = _cell_bytes(row[columns.index("name")])
        if not isinstance(key, bytes) or not isinstance(name, bytes):
            raise WriteError(f"the journal's data for {self.store} is damaged; nothing was restored")
        return key, name

    def _bucket_taken(self, conn: sqlite3.Connection, key: bytes, name: bytes) -> bool:
        """Whether the quota database has the bucket's id, or its storage key and name, now."""
        return conn.execute(
            "SELECT 1 FROM buckets WHERE id = ? OR "
            "(CAST(storage_key AS BLOB) = ? AND CAST(name AS BLOB) = ?)",
            (self.bucket_id, key, name)).fetchone() is not None

    def _bucket_now(self, raw_key: str, bucket_name: str) -> Path | None:
        """The folder of the one bucket that has this storage key and name now, if any."""
        try:
            buckets = idb.read_buckets(self.profile, self.quota)
        except ReadError as exc:
            raise WriteError(f"{exc}; nothing was restored") from exc
        found = [b for b in buckets.values() if b.raw_key == raw_key and b.name == bucket_name]
        if len(found) != 1:
            return None
        return self.profile.path / "WebStorage" / str(found[0].id)

    def _restore_bucket(self, payload: dict[str, Any], ids: list[str], journal: StoreJournal
                        ) -> tuple[list[str], list[tuple[str, str]]]:
        """Put a whole bucket back: its row and its folder, unless the storage key has
        a bucket again (Chromium made one since); then the store goes into that one."""
        columns: list[str] = payload["columns"]
        row: list[Any] = payload["row"]
        bucket = self._bucket_folder()
        source = journal.files() / payload["bucket"]
        if not os.path.lexists(source):
            raise WriteError(f"the journal's copy of {self.store} is missing; nothing was restored")
        quota = self.profile.path / self.quota
        if not bucket.parent.is_dir() or not quota.is_file():
            why = "Chromium's storage folder or quota database is gone since; not restored"
            return [], [(i, why) for i in ids]
        key, name = self._bucket_identity(columns, row)
        moved = False
        try:
            with _quota_transaction(quota, self.quota) as conn:
                if _columns(conn, "buckets") != columns:
                    raise WriteError(f"{self.quota} has other columns in its buckets table now "
                                     "(Chromium changed its schema); nothing was restored")
                if not self._bucket_taken(conn, key, name) and not os.path.lexists(bucket):
                    _insert(conn, "buckets", columns, row)
                    _move_all([(source, bucket)], self.store)
                    moved = True
        except BaseException:
            if moved:
                with contextlib.suppress(OSError):
                    _move(bucket, source)
            raise
        if moved:
            return ids, []
        return self._into_new_bucket(key.decode("utf-8", "replace"),
                                     name.decode("utf-8", "replace"), source, ids, journal)

    def _into_new_bucket(self, raw_key: str, bucket_name: str, saved: Path, ids: list[str],
                         journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        """Put the store of the saved bucket folder ``saved`` into the bucket that has
        its storage key and name now."""
        raise NotImplementedError

    def _restore_own(self, payload: dict[str, Any], ids: list[str], journal: StoreJournal
                     ) -> tuple[list[str], list[tuple[str, str]]]:
        """Restore what was deleted in the writer's own mode (``folder_mode``)."""
        raise NotImplementedError


class IndexedDBWriter(BucketStore):
    """Every database of one IndexedDB LevelDB (an origin's, or a bucket's), whole."""

    name = "chromium-indexed-db"
    payload_format, payload_version, folder_mode = FORMAT, VERSION, FOLDERS

    def __init__(self, profile: Profile, store: str, bucket_id: int | None) -> None:
        self.profile = profile
        self.store = store
        self.bucket_id = bucket_id
        self.folder = profile.path / store
        self.blobs = _blob_folder(self.folder)
        self.quota = idb.quota_location(profile)

    def _bucket_folder(self) -> Path:
        return self.folder.parent.parent

    # ---- reading -----------------------------------------------------------

    def _place(self) -> Any:
        if self.bucket_id is None:
            identifier = self.folder.name.removesuffix(".indexeddb.leveldb")
            return idb._Place("IndexedDB", origin_of_identifier(identifier))
        return idb._bucket_place(self.bucket_id, idb._Buckets(self.profile))

    def _present(self) -> list[Entry]:
        """The databases in the folder now, with the ids the reader gives them."""
        options = ReadOptions()
        rows = idb._read_leveldb_store(self.profile, self.folder, self.blobs, self._place(), options)
        if options.problems:
            raise WriteError(f"{options.problems[0][1]}; nothing was changed")
        return build_entries_from_rows(self.profile, Kind.INDEXED_DB, rows)

    def _bucket_whole(self) -> bool:
        """Whether the bucket folder holds this IndexedDB and nothing else."""
        bucket = self._bucket_folder()
        try:
            top = os.listdir(bucket)
            inner = os.listdir(self.folder.parent)
        except OSError:
            return False
        return top == ["IndexedDB"] and set(inner) <= _IDB_ONLY and all(
            _is_real_dir(self.folder.parent / n) for n in inner)

    # ---- deleting ----------------------------------------------------------

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        if not os.path.lexists(self.folder):
            return []
        if not _is_real_dir(self.folder):
            raise WriteError(f"{self.store} is not a folder; nothing was changed")
        if os.path.lexists(self.blobs) and not _is_real_dir(self.blobs):
            raise WriteError(f"{self.blobs.name} beside {self.store} is not a folder; "
                             "nothing was changed")
        if is_empty_leveldb(self.folder):
            return []  # what the reader lists nothing for
        _check_unlocked(self.folder, self.store)
        present = {e.id: e for e in self._present()}
        chosen = sorted(i for i in present if i in wanted)
        if not chosen:
            return []
        others = sorted(present[i].name for i in present if i not in wanted)
        if others:
            raise WriteError(
                f"this version deletes an origin's IndexedDB whole; {len(others)} other "
                f"database{'s' if len(others) != 1 else ''} of it "
                f"({', '.join(repr(n) for n in others)}) {'were' if len(others) != 1 else 'was'} "
                f"not chosen; nothing was changed in {self.store}")
        if self.bucket_id is not None and self._bucket_whole():
            quota = self.profile.path / self.quota
            if quota.is_file() and self._delete_bucket(quota, chosen, journal):
                return chosen
        names = [n for n in (self.folder, self.blobs) if os.path.lexists(n)]
        journal.save({"format": FORMAT, "version": VERSION, "mode": FOLDERS, "ids": chosen,
                      "folders": [n.name for n in names],
                      **self._bucket_of_store()})
        files = journal.files()
        _move_all([(n, files / n.name) for n in names], self.store)
        return chosen

    # ---- restoring ---------------------------------------------------------

    def _restore_own(self, payload: dict[str, Any], ids: list[str], journal: StoreJournal
                         ) -> tuple[list[str], list[tuple[str, str]]]:
        names: list[str] = payload["folders"]
        files = journal.files()
        missing = [n for n in names if not os.path.lexists(files / n)]
        if missing:
            raise WriteError(f"the journal's copy of {self.store} is incomplete; nothing was restored")
        key, bucket_name = payload.get("bucket_key"), payload.get("bucket_name")
        if self.bucket_id is not None and key is not None:
            # The bucket's IndexedDB goes back into the bucket of that storage key,
            # whichever id it has now.
            return self._into_bucket(key, bucket_name or idb.DEFAULT_BUCKET,
                                     [files / n for n in names], ids)
        if any(os.path.lexists(p) for p in (self.folder, self.blobs)):
            return [], [(i, SET_AGAIN) for i in ids]
        parent = self.folder.parent
        if self.bucket_id is not None and not parent.parent.is_dir():
            return [], [(i, BUCKET_GONE) for i in ids]
        return self._move_into(parent, [files / n for n in names], ids)

    def _move_into(self, target: Path, sources: list[Path], ids: list[str]
                   ) -> tuple[list[str], list[tuple[str, str]]]:
        """Move ``sources`` into the folder ``target``, made where it is missing with
        the mode of the folder they were saved from (as Chromium made it)."""
        try:
            mode = stat.S_IMODE(sources[0].parent.stat().st_mode) if sources else 0o700
        except OSError:
            mode = 0o700
        made: list[Path] = []
        for folder in (target.parent, target):
            if not folder.exists():
                folder.mkdir(mode=mode)
                os.chmod(folder, mode)  # whatever the umask
                made.append(folder)
        try:
            _move_all([(p, target / p.name) for p in sources], self.store)
        except WriteError:
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        return ids, []

    def _into_bucket(self, raw_key: str, bucket_name: str, sources: list[Path], ids: list[str]
                     ) -> tuple[list[str], list[tuple[str, str]]]:
        """Put a bucket's saved IndexedDB folders into the bucket that has its storage key
        and name now, if that bucket has no IndexedDB of its own.

        Chromium makes a new, empty bucket for a storage key as soon as a page of it
        merely asks for its databases (``indexedDB.databases()``); filling that
        bucket's empty IndexedDB folder restores the databases without touching
        anything Chromium wrote.  Entry ids do not depend on the bucket id.
        """
        bucket = self._bucket_now(raw_key, bucket_name)
        if bucket is None:
            return [], [(i, BUCKET_GONE) for i in ids]
        target = bucket / "IndexedDB"
        if any(os.path.lexists(target / n) for n in _IDB_ONLY):
            return [], [(i, SET_AGAIN) for i in ids]
        return self._move_into(target, sources, ids)

    def _into_new_bucket(self, raw_key: str, bucket_name: str, saved: Path, ids: list[str],
                         journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        folder = saved / "IndexedDB"
        sources = [folder / n for n in sorted(_IDB_ONLY) if os.path.lexists(folder / n)]
        return self._into_bucket(raw_key, bucket_name, sources, ids)


def _cell_bytes(cell: Any) -> Any:
    """A saved text or blob cell as the bytes it holds (other cells as they are)."""
    if isinstance(cell, dict) and len(cell) == 1 and set(cell) <= {"text", "blob"}:
        return base64.b64decode(next(iter(cell.values())))
    return cell
