"""Writers for Firefox's HTML5 storage: localStorage keys, the legacy
localStorage copies and IndexedDB databases (the browser closed; the caller
checked).

Firefox keeps bookkeeping beside the data, and believes it: with Firefox
ESR 153, an ``ls/usage`` file left at 20 after its origin's keys were deleted
made Firefox count 20 bytes for that origin again at its next start (its
quota cache said ``L20``); written as below, it counts ``L0``.  What each
writer changes, and why (Gecko sources named inline):

* **localStorage** (``storage/<repo>/<origin>/ls/data.sqlite``): the key rows
  of table ``data`` go in one ``BEGIN IMMEDIATE`` transaction, which also
  lowers the ``usage`` column of table ``database`` by what the keys took.
  LSNG counts a key and its value in UTF-16 code units (the ``utf16_length``
  column holds the value's), and its own flush does exactly this:
  ``UPDATE database SET usage = usage + :delta`` (``ConnectionWriteOptimizer::
  Perform`` in ``dom/localstorage/ActorsParent.cpp``).  The same flush then
  writes the origin's ``ls/usage`` file (the cookie ``0x420a420a`` and the
  usage as a big-endian int64, 12 bytes: ``UpdateUsageFile``), having first
  created ``ls/usage-journal``, and removes that marker only after the commit;
  Firefox, finding the marker at start, throws the usage file away and takes
  ``database.usage`` instead (``QuotaClient::InitOrigin``).  These writers
  follow that order, so a crash at any point leaves something Firefox repairs
  by itself.  An origin whose last key goes keeps its (empty) database, as
  ``localStorage.clear()`` leaves it.
* **Legacy copies** (``webappsstore.sqlite``, ``storage/ls-archive.sqlite``):
  plain rows of ``webappsstore2``; Firefox keeps no bookkeeping for them.
* **IndexedDB** (``storage/<repo>/<origin>/idb/<name>.sqlite``): the database
  file, its ``-wal``/``-shm``/``-journal`` and its ``.files`` folder move into
  the journal's private folder (a rename where possible), whole and
  untouched, and move back on restore.

For localStorage and IndexedDB, QuotaManager's usage cache in
``<profile>/storage.sqlite`` is marked stale (``UPDATE cache SET valid = 0``,
what Firefox's own ``InvalidateCache`` falls back to in
``dom/quota/ActorsParent.cpp``), so at its next start Firefox recounts every
origin from the files instead of trusting the sizes it cached at its last
exit.  That mark is made before the store changes and is harmless on its own
(a rescan), so a failure after it still leaves the profile as it was in
every way that matters.

Every writer saves what it removes into the journal (flushed) before it
removes anything, changes its store all or nothing, and raises WriteError
with nothing changed when it cannot.

Cache Storage and service workers have no writer yet, so a plan keeps them
and says why.  One cache is rows in several tables of ``caches.sqlite`` plus
body files in ``morgue/`` plus the ``.padding`` bookkeeping, and a service
worker registration in ``serviceworker.txt`` names its script cache in that
same database (namespace 1), so removing a registration alone would leave
its scripts behind.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import re
import shutil
import sqlite3
import struct
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy_inspector import paths
from privacy_inspector.browsers.firefox import parse_origin_attributes
from privacy_inspector.browsers.firefox_origins import (
    OriginFolder,
    as_text,
    parse_origin_folder,
    parse_origin_key,
    read_sqlite,
)
from privacy_inspector.browsers.sqlitewrite import WriteError, transaction
from privacy_inspector.core.ids import IdMaker
from privacy_inspector.core.records import Engine, Entry, Kind, Profile, ReadError

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

__all__ = [
    "IndexedDBWriter",
    "LegacyLocalStorageWriter",
    "LocalStorageWriter",
    "invalidate_quota_cache",
    "writer_for",
]

# ``dom/localstorage/ActorsParent.cpp``: kUsageFileCookie, kUsageFileSize.
USAGE_COOKIE = 0x420A420A
USAGE_FILE_SIZE = 12
LEGACY_STORES = ("webappsstore.sqlite", "storage/ls-archive.sqlite")
# A client folder of Quota Manager: storage/<repository>/<origin folder>/<client>/...
_LS_STORE = re.compile(r"storage/([^/]+)/([^/]+)/ls/data\.sqlite\Z")
_IDB_STORE = re.compile(r"storage/([^/]+)/([^/]+)/idb/([^/]+\.sqlite)\Z")
# What one IndexedDB database is on disk, after ``<name>.sqlite``.
_IDB_SUFFIXES = ("-wal", "-shm", "-journal")
_BATCH = 500


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of one Firefox storage store, or None where there is none yet."""
    if profile.engine != Engine.FIREFOX:
        return None
    if kind == Kind.LOCAL_STORAGE:
        if store in LEGACY_STORES:
            return LegacyLocalStorageWriter(profile, store)
        found = _client_store(_LS_STORE, store)
        if found is not None:
            return LocalStorageWriter(profile, store, *found)
    elif kind == Kind.INDEXED_DB:
        found = _client_store(_IDB_STORE, store)
        if found is not None:
            return IndexedDBWriter(profile, store, *found)
    return None


def _client_store(pattern: re.Pattern[str], store: str) -> tuple[str, OriginFolder] | None:
    """(repository, origin folder) of a client store path, or None if it is not one."""
    match = pattern.match(store)
    if match is None or any(part in (".", "..") for part in match.groups()):
        return None
    try:
        folder = parse_origin_folder(match.group(2))
    except ValueError:
        return None
    if folder.internal:
        return None  # the browser's own storage is never listed, so never deleted
    return match.group(1), folder


# --------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------


def _transaction(path: Path, what: str) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    """``sqlitewrite.transaction`` for Firefox's stores: text comes back as bytes
    (keys are matched and saved byte for byte)."""
    return transaction(path, what, browser="Firefox", text_as_bytes=True)


def invalidate_quota_cache(profile_path: Path) -> None:
    """Mark QuotaManager's usage cache (``storage.sqlite``) stale, so Firefox
    recounts every origin's usage from the files at its next start.

    Only the ``valid`` flag changes (never the schema); a profile without the
    file or the column has nothing to invalidate.  WriteError if it is locked.
    """
    path = profile_path / "storage.sqlite"
    if not path.is_file():
        return
    stamp = _stamp(path)
    if _STALE.get(path) == stamp:
        return  # marked stale by us, and unchanged since: nothing to do for the next store
    with _transaction(path, "storage.sqlite") as conn:
        if "valid" in _columns(conn, "cache"):
            conn.execute("UPDATE cache SET valid = 0 WHERE valid != 0")
    _STALE[path] = _stamp(path)


# storage.sqlite files this process marked stale, with their (size, mtime) then.
_STALE: dict[Path, tuple[int, int] | None] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [as_text(row[1]) for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _encode_cell(kind: bytes, value: Any) -> Any:
    """A cell as JSON, its SQLite type kept: text and blobs in Base64, apart."""
    if kind == b"text":
        return {"text": base64.b64encode(value).decode("ascii")}
    if kind == b"blob":
        return {"blob": base64.b64encode(value).decode("ascii")}
    return value


def _decode_cell(cell: Any) -> tuple[str, Any]:
    """(SQL placeholder, value) that stores a saved cell back byte for byte:
    text goes in as a blob cast to TEXT, so even invalid UTF-8 is kept."""
    if isinstance(cell, dict) and set(cell) == {"text"}:
        return "CAST(? AS TEXT)", base64.b64decode(cell["text"])
    if isinstance(cell, dict) and set(cell) == {"blob"}:
        return "?", base64.b64decode(cell["blob"])
    return "?", cell


def _full_rows(conn: sqlite3.Connection, table: str, columns: Sequence[str],
               rowids: Sequence[int]) -> list[list[Any]]:
    """The rows with these rowids, every column with its type (for the journal)."""
    select = ", ".join(f'"{c}", typeof("{c}")' for c in columns)
    rows: list[list[Any]] = []
    for start in range(0, len(rowids), _BATCH):
        batch = list(rowids[start:start + _BATCH])
        marks = ",".join("?" * len(batch))
        for raw in conn.execute(f'SELECT {select} FROM "{table}" WHERE rowid IN ({marks})', batch):
            rows.append([_encode_cell(raw[i + 1], raw[i]) for i in range(0, len(raw), 2)])
    return rows


def _delete_rowids(conn: sqlite3.Connection, table: str, rowids: Sequence[int]) -> None:
    for start in range(0, len(rowids), _BATCH):
        batch = list(rowids[start:start + _BATCH])
        conn.execute(f'DELETE FROM "{table}" WHERE rowid IN ({",".join("?" * len(batch))})', batch)


def _insert(conn: sqlite3.Connection, table: str, columns: Sequence[str], row: Sequence[Any]) -> None:
    marks, values = zip(*(_decode_cell(cell) for cell in row), strict=True)
    names = ", ".join(f'"{c}"' for c in columns)
    conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(marks)})', values)


def _text(value: Any) -> str:
    """A key as the readers see it (invalid UTF-8 replaced, as they decode it)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return as_text(value)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` atomically, flushed, with permissions ``mode``
    (the folder itself is not flushed: a lost rename leaves the old file)."""
    paths.write_file_atomically(path, data, mode, durable_name=False)


# --------------------------------------------------------------------------
# localStorage (LSNG)
# --------------------------------------------------------------------------


class _UsageFile:
    """An origin's ``ls/usage`` (and ``ls/usage-journal``), written the way
    LSNG's flush writes them, and put back as they were if the change fails."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "usage"
        self.marker = folder / "usage-journal"
        try:
            self.before: bytes | None = self.path.read_bytes()
            self.mode = self.path.stat().st_mode & 0o777
        except FileNotFoundError:
            self.before, self.mode = None, 0o644
        self.marker_made = False
        self.written = False

    def write(self, usage: int) -> None:
        """The marker first (Firefox distrusts the usage file while it exists), then the file."""
        if not self.marker.exists():
            self.marker.touch(mode=0o644)
            self.marker_made = True
        _write_file(self.path, struct.pack(">Iq", USAGE_COOKIE, usage), self.mode)
        self.written = True

    def committed(self) -> None:
        """The database committed: the usage file is right again, drop the marker."""
        self.marker.unlink(missing_ok=True)

    def undo(self) -> None:
        """The change failed: the file as it was, and no marker of ours left behind."""
        with contextlib.suppress(OSError):
            if self.written:
                if self.before is None:
                    self.path.unlink(missing_ok=True)
                else:
                    _write_file(self.path, self.before, self.mode)
            if self.marker_made:
                self.marker.unlink(missing_ok=True)


def _utf16_units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (``nsAString::Length``)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class LocalStorageWriter:
    """The keys of one origin's ``ls/data.sqlite``, with ``database.usage`` and
    ``ls/usage`` kept right (see the module docstring)."""

    name = "firefox-local-storage"
    table = "data"

    def __init__(self, profile: Profile, store: str, repository: str, folder: OriginFolder) -> None:
        self.profile = profile
        self.store = store
        self.path = profile.path / store
        make = IdMaker(profile.key, Kind.LOCAL_STORAGE, f"storage/{repository}/ls")
        self.id_of: Callable[[str], str] = lambda key: make(
            folder.partition_key, folder.container, folder.origin, key, None)

    def _layout(self, conn: sqlite3.Connection) -> tuple[list[str], str]:
        """(columns of ``data``, the column with the value's UTF-16 length)."""
        columns = _columns(conn, self.table)
        for length in ("utf16_length", "utf16Length"):  # schema 5.0; 3.0 and 4.0
            if length in columns and "key" in columns:
                return columns, length
        raise WriteError(f"{self.store} has a layout this app does not know; nothing was changed")

    def _usage(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT usage FROM database").fetchone()
        if row is None or not isinstance(row[0], int):
            raise WriteError(f"{self.store} has no usage record; nothing was changed")
        return row[0]

    def _keys(self, conn: sqlite3.Connection, length: str) -> dict[str, tuple[int, int]]:
        """entry id -> (rowid, the key's size as LSNG counts it: key + value in UTF-16 units)."""
        out: dict[str, tuple[int, int]] = {}
        for rowid, key, units in conn.execute(f'SELECT rowid, key, "{length}" FROM data'):
            text = _text(key)
            out[self.id_of(text)] = (rowid, _utf16_units(text) + int(units or 0))
        return out

    def _set_usage(self, conn: sqlite3.Connection, usage: int, length: str,
                   usage_file: _UsageFile) -> None:
        if usage < 0:
            # The record had drifted below what the keys take: count them
            # (what Firefox's own repair does), never write a negative usage.
            usage = sum(size for _, size in self._keys(conn, length).values())
        conn.execute("UPDATE database SET usage = ?", (usage,))
        usage_file.write(usage)

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        usage_file = _UsageFile(self.path.parent)
        try:
            with _transaction(self.path, self.store) as conn:
                columns, length = self._layout(conn)
                keys = self._keys(conn, length)
                chosen = {i: found for i, found in keys.items() if i in wanted}
                whole = bool(chosen) and len(chosen) == len(keys)
                if chosen and not whole:
                    rowids = [rowid for rowid, _ in chosen.values()]
                    freed = sum(size for _, size in chosen.values())
                    usage = self._usage(conn)
                    journal.save({
                        "table": self.table,
                        "columns": columns,
                        "rows": _full_rows(conn, self.table, columns, rowids),
                        "ids": sorted(chosen),
                        "usage_before": usage,
                    })
                    invalidate_quota_cache(self.profile.path)
                    _delete_rowids(conn, self.table, rowids)
                    self._set_usage(conn, usage - freed, length, usage_file)
        except BaseException:
            usage_file.undo()
            raise
        usage_file.committed()
        if whole:
            # Every key goes: the whole client folder does (the transaction
            # above changed nothing and is closed).
            self._delete_folder(sorted(chosen), journal)
        return sorted(chosen)

    def _delete_folder(self, ids: list[str], journal: StoreJournal) -> None:
        """Every key of the origin goes: its ``ls`` folder moves into the journal.

        One rename instead of a transaction, the usage files and their fsyncs:
        a tracker's origin is usually deleted whole (5,000 origins in
        benchmarks/clear.py).  The origin folder and its ``.metadata-v2``
        stay; Firefox makes a new ``ls`` folder when the site writes again,
        and recounts the origin's usage because the quota cache is stale.
        """
        journal.save({"mode": "folder", "ids": ids})
        invalidate_quota_cache(self.profile.path)
        _move_all([(self.path.parent, journal.files() / "ls")], self.store)

    def _restore_folder(self, payload: dict[str, Any], journal: StoreJournal
                        ) -> tuple[list[str], list[tuple[str, str]]]:
        ids: list[str] = payload["ids"]
        target = self.path.parent
        if os.path.lexists(target):
            # The site wrote localStorage again (Firefox made a new ls folder).
            why = "set again since the deletion; left as it is now"
            return [], [(i, why) for i in ids]
        if not target.parent.is_dir():
            why = "Firefox removed the origin's folder since the deletion; not restored"
            return [], [(i, why) for i in ids]
        _move_all([(journal.files() / "ls", target)], self.store)
        invalidate_quota_cache(self.profile.path)
        return list(ids), []

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        if payload.get("mode") == "folder":
            return self._restore_folder(payload, journal)
        columns: list[str] = payload["columns"]
        restored: list[str] = []
        skipped: list[tuple[str, str]] = []
        if not payload["rows"]:
            return restored, skipped
        usage_file = _UsageFile(self.path.parent)
        try:
            with _transaction(self.path, self.store) as conn:
                current, length = self._layout(conn)
                missing = [c for c in columns if c not in current]
                if missing:
                    raise WriteError(f"{self.store} no longer has the columns {', '.join(missing)} "
                                     "(Firefox changed its schema); nothing was restored")
                present = self._keys(conn, length)
                key_at, length_at = columns.index("key"), columns.index(length)
                added = 0
                for row in payload["rows"]:
                    key = _text(_decode_cell(row[key_at])[1])
                    entry_id = self.id_of(key)
                    if entry_id in present:
                        skipped.append((entry_id, "set again since the deletion; left as it is now"))
                        continue
                    _insert(conn, self.table, columns, row)
                    added += _utf16_units(key) + int(row[length_at] or 0)
                    restored.append(entry_id)
                if restored:
                    invalidate_quota_cache(self.profile.path)
                    self._set_usage(conn, self._usage(conn) + added, length, usage_file)
        except BaseException:
            usage_file.undo()
            raise
        usage_file.committed()
        return restored, skipped


# --------------------------------------------------------------------------
# Legacy localStorage (webappsstore.sqlite, storage/ls-archive.sqlite)
# --------------------------------------------------------------------------


class LegacyLocalStorageWriter:
    """Rows of ``webappsstore2`` in the legacy copies: stale data that Firefox
    no longer reads as localStorage but that could come back from there.

    A row is matched by what the reader derives its id from (origin
    attributes, origin key, key) and saved with every cell typed, so restore
    puts back the very bytes.
    """

    name = "firefox-legacy-local-storage"
    table = "webappsstore2"
    id_columns = ("originAttributes", "originKey", "key")

    def __init__(self, profile: Profile, store: str) -> None:
        self.store = store
        self.path = profile.path / store
        self._make = IdMaker(profile.key, Kind.LOCAL_STORAGE, store)

    def id_of(self, attributes: Any, origin_key: Any, key: Any) -> str:
        """The reader's id of a row; "" for a row the reader skips (an unreadable origin key)."""
        try:
            origin = parse_origin_key(_text(origin_key))
        except ValueError:
            return ""
        partition_key, _, container = parse_origin_attributes(_text(attributes))
        return self._make(partition_key, container, origin, _text(key), None)

    def _present(self, conn: sqlite3.Connection) -> dict[str, list[int]]:
        columns = _columns(conn, self.table)
        if not all(c in columns for c in self.id_columns):
            raise WriteError(f"{self.store} has a layout this app does not know; nothing was changed")
        names = ", ".join(f'"{c}"' for c in self.id_columns)
        found: dict[str, list[int]] = {}
        for rowid, *parts in conn.execute(f'SELECT rowid, {names} FROM "{self.table}"'):
            found.setdefault(self.id_of(*parts), []).append(rowid)
        found.pop("", None)
        return found

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        with _transaction(self.path, self.store) as conn:
            chosen = {i: rows for i, rows in self._present(conn).items() if i in wanted}
            if not chosen:
                return []
            rowids = [r for rows in chosen.values() for r in rows]
            columns = _columns(conn, self.table)
            journal.save({"table": self.table, "columns": columns,
                          "rows": _full_rows(conn, self.table, columns, rowids),
                          "ids": sorted(chosen)})
            _delete_rowids(conn, self.table, rowids)
        return sorted(chosen)

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        if payload.get("mode") == "folder":
            return self._restore_folder(payload, journal)
        columns: list[str] = payload["columns"]
        restored: list[str] = []
        skipped: list[tuple[str, str]] = []
        with _transaction(self.path, self.store) as conn:
            missing = [c for c in columns if c not in _columns(conn, self.table)]
            if missing:
                raise WriteError(f"{self.store} no longer has the columns {', '.join(missing)}; "
                                 "nothing was restored")
            present = self._present(conn)
            at = [columns.index(c) for c in self.id_columns]
            for row in payload["rows"]:
                entry_id = self.id_of(*(_decode_cell(row[i])[1] for i in at))
                if entry_id in present:
                    skipped.append((entry_id, "set again since the deletion; left as it is now"))
                    continue
                _insert(conn, self.table, columns, row)
                if entry_id not in restored:
                    restored.append(entry_id)
        return restored, skipped


# --------------------------------------------------------------------------
# IndexedDB
# --------------------------------------------------------------------------


def _database_name(conn: sqlite3.Connection, name: str) -> str:
    row = conn.execute("SELECT name FROM database").fetchone()
    if row is None:
        raise ReadError(f"{os.path.basename(name)} names no database")
    return as_text(row[0])


def _move(source: Path, target: Path) -> None:
    """Move a file or folder: a rename on one filesystem, else copy then remove."""
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "the target exists", str(target))
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    try:
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)
    except BaseException:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)
        raise
    if source.is_dir() and not source.is_symlink():
        shutil.rmtree(source)
    else:
        source.unlink()


def _move_all(pairs: Sequence[tuple[Path, Path]], what: str) -> None:
    """Move every (source, target), or none: on a failure the ones moved go back."""
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in pairs:
            _move(source, target)
            done.append((source, target))
    except OSError as exc:
        for source, target in reversed(done):
            with contextlib.suppress(OSError):
                _move(target, source)
        raise WriteError(f"{what} could not be moved ({exc.strerror or type(exc).__name__}); "
                         "it was left as it was") from exc


class IndexedDBWriter:
    """One IndexedDB database of an origin: its files move into the journal
    and back, whole (see the module docstring)."""

    name = "firefox-indexed-db"

    def __init__(self, profile: Profile, store: str, repository: str, folder: OriginFolder) -> None:
        self.profile = profile
        self.store = store
        self.path = profile.path / store
        self.stem = self.path.name[: -len(".sqlite")]
        make = IdMaker(profile.key, Kind.INDEXED_DB, f"storage/{repository}/idb")
        self.id_of: Callable[[str], str] = lambda name: make(
            folder.partition_key, folder.container, folder.origin, name, None)

    def _names(self) -> list[str]:
        """The file names that make up the database, in moving order (the database first)."""
        base = self.path.name
        return [base, *(base + s for s in _IDB_SUFFIXES), self.stem + ".files"]

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        if not self.path.is_file():
            return []
        try:
            name = read_sqlite(str(self.path), _database_name)
        except FileNotFoundError:
            return []
        except (ReadError, sqlite3.Error, OSError) as exc:
            raise WriteError(f"{self.store} cannot be read ({type(exc).__name__}); "
                             "nothing was changed") from exc
        entry_id = self.id_of(name)
        if entry_id not in wanted:
            return []  # another database took the file name since the scan
        idb = self.path.parent
        names = [n for n in self._names() if os.path.lexists(idb / n)]
        folder = journal.files()
        journal.save({"id": entry_id, "files": names})
        invalidate_quota_cache(self.profile.path)
        _move_all([(idb / n, folder / n) for n in names], self.store)
        return [entry_id]

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        entry_id: str = payload["id"]
        names: list[str] = payload["files"]
        folder = journal.files()
        idb = self.path.parent
        if not idb.parent.is_dir():
            return [], [(entry_id, "the site's storage folder was removed since (its data was "
                                   "cleared in Firefox?); not restored")]
        if any(os.path.lexists(idb / n) for n in self._names()):
            return [], [(entry_id, "a database of the same name was created since; "
                                   "left as it is now")]
        missing = [n for n in names if not os.path.lexists(folder / n)]
        if missing:
            raise WriteError(f"the journal's copy of {self.store} is incomplete; nothing was restored")
        invalidate_quota_cache(self.profile.path)
        made_folder = not idb.exists()
        if made_folder:
            idb.mkdir(mode=0o755)
        try:
            _move_all([(folder / n, idb / n) for n in names], self.store)
        except WriteError:
            if made_folder:
                with contextlib.suppress(OSError):
                    idb.rmdir()
            raise
        return [entry_id], []
