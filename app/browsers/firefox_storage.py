"""Firefox-family HTML5 storage: localStorage and sessionStorage.

Every origin folder of Quota Manager (see :mod:`firefox_origins`) has a client
folder for each storage API; localStorage is in

* ``ls/data.sqlite``: localStorage (LSNG).  Table ``data(key, utf16_length,
  conversion_type, compression_type, last_access_time, value)``; the value is
  a BLOB, snappy-compressed (raw block) when ``compression_type`` is 1, UTF-8
  when ``conversion_type`` is 1 and the UTF-16 code units as stored
  (little-endian) when it is 0, which Firefox uses only for strings that are
  not valid UTF-16 (``dom/localstorage/LSValue.cpp``).  A rollback journal,
  never WAL.

Two legacy localStorage databases can still hold data a site stored long ago:
``webappsstore.sqlite`` at the profile root and its archive
``storage/ls-archive.sqlite`` (table ``webappsstore2(originAttributes,
originKey, scope, key, value)``; ``originKey`` is the reversed host, the scheme
and the port: ``moc.spoevil.www.:https:443``).  Firefox no longer reads them as
localStorage; their rows are listed as ``stale``.

sessionStorage exists only in the session restore files (each tab's
``storage`` object, keyed by origin and origin attributes).

IndexedDB, Cache Storage and service workers are in :mod:`firefox_idb`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cramjam

from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.base import ReadOptions, StorageFactory
from privacy_inspector.browsers.firefox import (
    SESSION_ATTEMPTS,
    parse_origin_attributes,
    partition_and_container,
    session_states,
)
from privacy_inspector.browsers.firefox_origins import (
    Problems,
    add_same,
    as_text,
    build_columns,
    each_origin_database,
    new_columns,
    parse_origin_key,
    read_sqlite,
    split_origin,
)
from privacy_inspector.core.records import Entry, Kind, Profile, ReadError, ValueState

# --------------------------------------------------------------------------
# localStorage
# --------------------------------------------------------------------------

_LS_QUERY = (
    "SELECT key, conversion_type, compression_type, "
    "CASE WHEN last_access_time > 0 THEN last_access_time / 1000000 END, value FROM data"
)
# LSNG schemas before 5.0: UTF-8 text, maybe snappy-compressed (``compressed``).
_LS_LEGACY_QUERY = (
    "SELECT key, 1, compressed, "
    "CASE WHEN lastAccessTime > 0 THEN lastAccessTime / 1000000 END, value FROM data"
)


def _ls_rows(conn: sqlite3.Connection, name: str) -> list[tuple[Any, ...]]:
    # One statement: on 5,000 origins a second one (PRAGMA user_version)
    # costs a fifth of the scan.  Older layouts are recognised when it fails.
    try:
        return conn.execute(_LS_QUERY).fetchall()
    except sqlite3.OperationalError as exc:
        path = Path(name)
        if "no such" not in str(exc):
            # Invalid UTF-8 in a key, busy, damaged: fetch_all decodes
            # leniently or says what is wrong.
            return sqlitecopy.fetch_all(conn, _LS_QUERY, path)
    present = sqlitecopy.columns(conn, "data")
    if not present:
        raise ReadError(f"{path.name} has no data table: it is not a Firefox localStorage database")
    if "compressed" not in present:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        raise ReadError(f"{path.name} has an unknown layout (schema {version})")
    return sqlitecopy.fetch_all(conn, _LS_LEGACY_QUERY, path)


def decode_ls_value(
    blob: Any, conversion: Any, compression: Any
) -> tuple[str | None, int, str | None]:
    """(text, its size as UTF-8, note) for a stored LSNG value.

    The text is None, with a note saying why, when the value cannot be decoded;
    the size is then that of the bytes as stored.
    """
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "surrogatepass")
    elif blob is None:
        blob = b""
    if compression == 1:
        try:
            raw = bytes(cramjam.snappy.decompress_raw(blob))
        except cramjam.DecompressionError:
            return None, len(blob), "its snappy compression is damaged"
    elif compression == 0:
        raw = bytes(blob)
    else:
        return None, len(blob), f"it uses compression type {compression}, unknown to this app"
    if conversion == 1:
        try:
            return raw.decode("utf-8"), len(raw), None
        except UnicodeDecodeError:
            return None, len(raw), "it is not valid UTF-8"
    if conversion == 0:
        # The UTF-16 code units as Firefox holds them (little-endian on every
        # platform it ships on), kept for strings with unpaired surrogates;
        # those are shown as U+FFFD (3 bytes in UTF-8, as a surrogate would be).
        if len(raw) % 2:
            return None, len(raw), "its UTF-16 data is truncated"
        text = raw.decode("utf-16-le", "replace")
        return text, len(text.encode("utf-8")), None
    return None, len(raw), f"it uses conversion type {conversion}, unknown to this app"


def _ls_columns(rows: list[tuple[Any, ...]], columns: dict[str, list[Any]]) -> None:
    """Append one database's rows to the columns, a column at a time where it can.

    Nearly every database holds only plain UTF-8 values (conversion 1, no
    compression); those are decoded with one comprehension per column.  Any
    other database goes row by row through :func:`decode_ls_value`.
    """
    count = len(rows)
    keys, conversions, compressions, accessed, blobs = zip(*rows, strict=True)
    names = [k if type(k) is str else as_text(k) for k in keys]
    key_sizes = [len(k.encode("utf-8", "surrogatepass")) for k in names]
    texts: list[str | None] | None = None
    if conversions.count(1) == count and compressions.count(0) == count:
        try:
            texts = [b.decode("utf-8") for b in blobs]
            value_sizes = list(map(len, blobs))
        except (UnicodeDecodeError, AttributeError):
            texts = None  # invalid UTF-8, or a TEXT value: row by row
    if texts is not None:
        notes: list[str | None] = [None] * count
        states = [ValueState.PLAIN] * count
    else:
        texts, value_sizes, notes = [], [], []
        for blob, conversion, compression in zip(blobs, conversions, compressions, strict=True):
            text, size, note = decode_ls_value(blob, conversion, compression)
            texts.append(text)
            value_sizes.append(size)
            notes.append(note)
        states = [ValueState.UNAVAILABLE if t is None else ValueState.PLAIN for t in texts]
    columns["name"].extend(names)
    columns["size"].extend(map(int.__add__, key_sizes, value_sizes))
    columns["value"].extend(texts)
    columns["value_state"].extend(states)
    columns["value_note"].extend(notes)
    columns["last_accessed"].extend(accessed)


def read_local_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """localStorage: every origin's ``ls/data.sqlite``, then the stale legacy copies."""
    columns = new_columns()
    problems = Problems(options, "localStorage databases")
    try:
        for origin_dir, folder, store, _, rows in each_origin_database(
            profile, problems, ("ls", "data.sqlite"), _ls_rows
        ):
            if not rows:
                continue
            _ls_columns(rows, columns)
            add_same(
                columns,
                len(rows),
                store=store,
                id_store=f"storage/{origin_dir.repository}/ls",
                origin=folder.origin,
                partition_key=folder.partition_key,
                partition_site=folder.partition_site,
                container=folder.container,
                persistent=True,
                stale=False,
            )
        for relative in ("webappsstore.sqlite", "storage/ls-archive.sqlite"):
            _legacy_local_storage(profile, relative, columns, problems)
    finally:
        problems.close()
    return build_columns(profile, Kind.LOCAL_STORAGE, columns, options.show_values)


_LEGACY_QUERY = (
    "SELECT originAttributes, originKey, key, "
    "length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)), value FROM webappsstore2"
)


def _legacy_local_storage(
    profile: Profile,
    relative: str,
    columns: dict[str, list[Any]],
    problems: Problems,
) -> None:
    """The rows of a legacy ``webappsstore2`` table, marked stale."""
    path = os.path.join(profile.path, *relative.split("/"))

    def read(conn: sqlite3.Connection, name: str) -> list[tuple[Any, ...]]:
        file = Path(name)
        if not sqlitecopy.columns(conn, "webappsstore2"):
            raise ReadError(f"{file.name} has no webappsstore2 table")
        return sqlitecopy.fetch_all(conn, _LEGACY_QUERY, file)

    try:
        rows = read_sqlite(path, read)
    except FileNotFoundError:
        return
    except Exception as exc:  # noqa: BLE001 - a stale copy never hides live data
        problems.from_exception(relative, path, exc)
        return
    origins: dict[str, str | None] = {}
    skipped = 0
    for attributes, origin_key, key, size, value in rows:
        origin_key = as_text(origin_key)
        if origin_key not in origins:
            try:
                origins[origin_key] = parse_origin_key(origin_key)
            except ValueError:
                origins[origin_key] = None
        origin = origins[origin_key]
        if origin is None:
            skipped += 1
            continue
        partition_key, partition_site, container = parse_origin_attributes(as_text(attributes))
        columns["store"].append(relative)
        columns["id_store"].append(relative)
        columns["origin"].append(origin)
        columns["name"].append(as_text(key))
        columns["partition_key"].append(partition_key)
        columns["partition_site"].append(partition_site)
        columns["container"].append(container)
        columns["persistent"].append(True)
        columns["size"].append(size or 0)
        columns["value"].append(as_text(value))
        columns["value_state"].append(ValueState.PLAIN)
        columns["stale"].append(True)
        columns["last_accessed"].append(None)
        columns["value_note"].append(None)
    if skipped:
        rows_have = "1 row has" if skipped == 1 else f"{skipped} rows have"
        problems.add(relative, f"{relative}: {rows_have} an origin key this app cannot read; skipped")


# --------------------------------------------------------------------------
# sessionStorage
# --------------------------------------------------------------------------


def _tab_states(state: Any) -> Iterator[dict[str, Any]]:
    """Every tab of the session, open or closed, in open windows and closed ones."""
    if not isinstance(state, dict):
        return
    windows = [w for key in ("windows", "_closedWindows") for w in (state.get(key) or ())]
    for window in windows:
        if not isinstance(window, dict):
            continue
        for tab in window.get("tabs") or ():
            if isinstance(tab, dict):
                yield tab
        for closed in window.get("_closedTabs") or ():
            if isinstance(closed, dict) and isinstance(closed.get("state"), dict):
                yield closed["state"]


def read_session_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """sessionStorage from the live session file, plus stale items from ``previous.jsonlz4``.

    An item (origin, partition, container, key) is listed once: from the live
    file if it is there, else from the first tab that holds it.  While Firefox
    runs it replaces ``recovery.jsonlz4`` every few seconds (moving the old one
    to ``recovery.baklz4`` first); a file that vanishes between listing and
    reading makes the reader start over.
    """
    for _ in range(SESSION_ATTEMPTS):
        notes: list[tuple[str, str]] = []
        try:
            rows = _session_rows(profile, notes)
        except FileNotFoundError:
            continue
        for store, message in notes:
            options.note_problem(store, message)
        return StorageFactory(
            profile, Kind.SESSION_STORAGE, show_values=options.show_values
        ).rows(rows)
    raise ReadError("the session files kept changing while they were read; scan again")



def _session_rows(profile: Profile, notes: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    seen: set[tuple[Any, ...]] = set()
    suffixes: dict[str, tuple[str | None, str | None, int | None]] = {}
    for store, stale, state in session_states(profile, notes):
        for tab in _tab_states(state):
            storage = tab.get("storage")
            if not isinstance(storage, dict):
                continue
            tab_container = tab.get("userContextId")
            for origin_key, items in storage.items():
                if not isinstance(items, dict) or not isinstance(origin_key, str):
                    continue
                origin, suffix = split_origin(origin_key)
                if suffix not in suffixes:
                    suffixes[suffix] = parse_origin_attributes(suffix)
                partition_key, partition_site, container = suffixes[suffix]
                if container is None and "userContextId" not in suffix:
                    container = partition_and_container("", "", tab_container)[2]
                for key, value in items.items():
                    key = str(key)
                    ident = (origin, partition_key, container, key)
                    if ident in seen:
                        continue
                    seen.add(ident)
                    text = value if isinstance(value, str) else json.dumps(value)
                    rows.append((
                        store,
                        "session-stale" if stale else "session",
                        origin,
                        key,
                        partition_key,
                        partition_site,
                        container,
                        False,
                        len(key.encode("utf-8", "surrogatepass"))
                        + len(text.encode("utf-8", "surrogatepass")),
                        text,
                        ValueState.PLAIN,
                        stale,
                        None,
                        None,
                    ))
    return rows
