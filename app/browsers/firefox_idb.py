"""Firefox-family HTML5 storage: IndexedDB, Cache Storage and service worker
registrations.

Every origin folder of Quota Manager (see :mod:`firefox_origins`) has a client
folder for each storage API; these two are

* ``idb/<hash><mangled name>.sqlite`` (WAL) and its ``.files`` folder: one
  IndexedDB database each (tables ``database``, ``object_store``,
  ``object_data``).
* ``cache/caches.sqlite`` (WAL) and ``cache/morgue/<n>/{uuid}.final``: Cache
  Storage; cache names are in ``storage.key`` as UTF-16 bytes, namespace 0 for
  content (1 is the browser's own, e.g. service worker scripts;
  ``dom/cache/DBSchema.cpp``).

Service worker registrations are in ``serviceworker.txt`` (``dom/serviceworkers/
ServiceWorkerRegistrar.cpp``).

localStorage and sessionStorage are in :mod:`firefox_storage`.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.base import ReadOptions, object_stores_note
from privacy_inspector.browsers.firefox import parse_origin_attributes
from privacy_inspector.browsers.firefox_origins import (
    Problems,
    add_same,
    as_text,
    build_columns,
    each_origin_database,
    new_columns,
    origin_dirs,
    read_sqlite,
    unknown_folder,
)
from privacy_inspector.core.records import Entry, Kind, Profile, ReadError, ValueState

# The newest serviceworker.txt layout known (Firefox ESR 153 writes 12) and
# the oldest Firefox still reads.
SERVICE_WORKER_VERSION = 12
_SERVICE_WORKER_OLDEST = 2


# --------------------------------------------------------------------------
# IndexedDB
# --------------------------------------------------------------------------


def _tree_size(path: str) -> int:
    """Bytes of the regular files under ``path`` (0 if it does not exist)."""
    total = 0
    try:
        with os.scandir(path) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    total += _tree_size(e.path)
                elif e.is_file(follow_symlinks=False):
                    total += e.stat(follow_symlinks=False).st_size
    except (FileNotFoundError, NotADirectoryError):
        pass
    return total


def _file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _idb_details(conn: sqlite3.Connection, name: str) -> tuple[str, list[tuple[str, int]]]:
    path = Path(name)
    names = sqlitecopy.fetch_all(conn, "SELECT name FROM database", path)
    if not names:
        raise ReadError(f"{path.name} names no database: it is not a Firefox IndexedDB database")
    stores = sqlitecopy.fetch_all(conn, "SELECT id, name FROM object_store ORDER BY id", path)
    counts = dict(
        sqlitecopy.fetch_all(
            conn, "SELECT object_store_id, count(*) FROM object_data GROUP BY object_store_id", path
        )
    )
    return as_text(names[0][0]), [(as_text(name), counts.get(sid, 0)) for sid, name in stores]


def read_indexed_db(profile: Profile, options: ReadOptions) -> list[Entry]:
    """One entry per IndexedDB database: its name, object stores, record counts and bytes on disk."""
    columns = new_columns()
    problems = Problems(options, "IndexedDB databases")
    try:
        for origin_dir in origin_dirs(profile):
            idb = os.path.join(origin_dir.path, "idb")
            try:
                with os.scandir(idb) as it:
                    files = sorted(e.name for e in it if e.name.endswith(".sqlite") and e.is_file())
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                problems.from_exception(origin_dir.store("idb"), idb, exc)
                continue
            folder = origin_dir.folder
            if folder is None:
                if files:
                    unknown_folder(problems, origin_dir, origin_dir.store("idb"))
                continue
            for file_name in files:
                path = os.path.join(idb, file_name)
                store = origin_dir.store("idb", file_name)
                try:
                    name, stores = read_sqlite(path, _idb_details)
                except FileNotFoundError:
                    continue
                except Exception as exc:  # noqa: BLE001 - one database never hides the others
                    problems.from_exception(store, path, exc)
                    continue
                size = (
                    _file_size(path)
                    + _file_size(path + "-wal")
                    + _file_size(path + "-journal")
                    + _tree_size(path[: -len(".sqlite")] + ".files")
                )
                add_same(
                    columns,
                    1,
                    store=store,
                    id_store=f"storage/{origin_dir.repository}/idb",
                    origin=folder.origin,
                    name=name,
                    partition_key=folder.partition_key,
                    partition_site=folder.partition_site,
                    container=folder.container,
                    persistent=True,
                    size=size,
                    value=None,
                    value_state=ValueState.UNAVAILABLE,
                    stale=False,
                    last_accessed=None,
                    value_note=object_stores_note(stores),
                )
    finally:
        problems.close()
    return build_columns(profile, Kind.INDEXED_DB, columns)


# --------------------------------------------------------------------------
# Cache Storage
# --------------------------------------------------------------------------

# Namespace 0 is content's CacheStorage; 1 is the browser's own (service
# worker script caches).
_CACHE_QUERY = "SELECT key, cache_id FROM storage WHERE namespace = 0 ORDER BY rowid"
_CACHE_BODIES = "SELECT cache_id, request_body_id, response_body_id FROM entries"


def _cache_rows(conn: sqlite3.Connection, name: str) -> tuple[list[tuple], list[tuple]]:
    path = Path(name)
    return (
        sqlitecopy.fetch_all(conn, _CACHE_QUERY, path),
        sqlitecopy.fetch_all(conn, _CACHE_BODIES, path),
    )


def _cache_name(key: Any) -> str:
    """A cache name as stored: the UTF-16 code units of the name (NULL for "")."""
    if key is None:
        return ""
    if isinstance(key, str):
        return key
    return bytes(key).decode("utf-16-le", "replace")


def _morgue_sizes(cache_dir: str) -> dict[str, int]:
    """Body file sizes by body id (``{uuid}``), from ``cache/morgue/<n>/{uuid}.final``."""
    sizes: dict[str, int] = {}
    try:
        with os.scandir(os.path.join(cache_dir, "morgue")) as buckets:
            for bucket in buckets:
                if not bucket.is_dir():
                    continue
                with os.scandir(bucket.path) as files:
                    for f in files:
                        if f.name.endswith(".final") and f.is_file():
                            sizes[f.name[: -len(".final")]] = f.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        pass
    return sizes


def read_cache_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """One entry per Cache Storage cache: its name, request count and body bytes on disk.

    ``size`` is the bytes of the cache's request and response bodies in
    ``cache/morgue`` (as stored, snappy-compressed); the shared
    ``caches.sqlite`` that indexes every cache of the origin is not apportioned.
    """
    columns = new_columns()
    problems = Problems(options, "Cache Storage databases")
    try:
        for origin_dir, folder, store, path, (caches, bodies) in each_origin_database(
            profile, problems, ("cache", "caches.sqlite"), _cache_rows
        ):
            if not caches:
                continue
            files = _morgue_sizes(os.path.dirname(path))
            sizes: dict[Any, int] = {}
            counts: dict[Any, int] = {}
            for cache_id, request_body, response_body in bodies:
                counts[cache_id] = counts.get(cache_id, 0) + 1
                sizes[cache_id] = (
                    sizes.get(cache_id, 0)
                    + files.get(as_text(request_body), 0)
                    + files.get(as_text(response_body), 0)
                )
            for key, cache_id in caches:
                count = counts.get(cache_id, 0)
                add_same(
                    columns,
                    1,
                    store=store,
                    id_store=f"storage/{origin_dir.repository}/cache",
                    origin=folder.origin,
                    name=_cache_name(key),
                    partition_key=folder.partition_key,
                    partition_site=folder.partition_site,
                    container=folder.container,
                    persistent=True,
                    size=sizes.get(cache_id, 0),
                    value=None,
                    value_state=ValueState.UNAVAILABLE,
                    stale=False,
                    last_accessed=None,
                    value_note=f"a cache of {count} response{'s' if count != 1 else ''}",
                )
    finally:
        problems.close()
    return build_columns(profile, Kind.CACHE_STORAGE, columns)


# --------------------------------------------------------------------------
# Service workers
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceWorkerRecord:
    """One registration of ``serviceworker.txt``."""

    suffix: str
    scope: str
    script: str
    # PRTime (µs since 1970) of the last update check; None before version 7.
    last_update: int | None
    size: int  # bytes of the record in the file


def parse_service_workers(text: str) -> tuple[int, list[ServiceWorkerRecord], int]:
    """(version, registrations, damaged records) of a ``serviceworker.txt``.

    The file is a version line, then one record per registration, each ended
    by a line ``#``.  A record starts with the origin attributes suffix and
    the scope (versions 2 and 3 have the principal's spec between them), then
    the script URL; from version 7 the installed, activated and last-update
    times are its lines 7 to 9.  ReadError if the version line is not a number.
    """
    lines = text.split("\n")
    try:
        version = int(lines[0].strip())
    except ValueError as exc:
        raise ReadError("serviceworker.txt does not start with a version number") from exc
    records: list[ServiceWorkerRecord] = []
    damaged = 0
    record: list[str] = []
    for line in lines[1:]:
        if line != "#":
            record.append(line)
            continue
        size = sum(len(r.encode("utf-8")) + 1 for r in record) + 2
        fields = record[:1] + record[2:] if version <= 3 else record
        record = []
        if version == 2:
            fields = fields[:2] + fields[3:]  # an unused script spec before the URL
        if len(fields) < 3 or not fields[1]:
            damaged += 1
            continue
        last_update = None
        if version >= 7 and len(fields) > 8:
            try:
                last_update = int(fields[8])
            except ValueError:
                last_update = None
        records.append(ServiceWorkerRecord(fields[0], fields[1], fields[2], last_update, size))
    if any(r.strip() for r in record):
        damaged += 1  # a last record without its terminator (a cut-off file)
    return version, records, damaged


def _scope_origin(scope: str) -> str:
    split = urllib.parse.urlsplit(scope)
    if not split.scheme or not split.netloc:
        raise ValueError(f"{scope!r} is not an absolute URL")
    return f"{split.scheme.lower()}://{split.netloc.rsplit('@', 1)[-1].lower()}"


def read_service_workers(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Service worker registrations from ``serviceworker.txt``: one entry per scope.

    ``value`` (with show_values) is the worker's script URL; ``size`` the bytes
    of the registration in the file; ``last_accessed`` its last update check.
    """
    store = "serviceworker.txt"
    path = profile.path / store
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except PermissionError as exc:
        raise ReadError(f"{store} cannot be read: permission denied") from exc
    except OSError as exc:
        raise ReadError(f"{store} cannot be read: {exc.strerror or type(exc).__name__}") from exc
    version, records, damaged = parse_service_workers(data.decode("utf-8", "replace"))
    if version < _SERVICE_WORKER_OLDEST:
        raise ReadError(f"{store} has version {version}, older than any Firefox writes")
    if version > SERVICE_WORKER_VERSION:
        options.note_problem(
            store,
            f"{store} has version {version}, newer than this app knows "
            f"({SERVICE_WORKER_VERSION}); scopes and scripts were read, times may be wrong",
        )
    columns = new_columns()
    for record in records:
        try:
            origin = _scope_origin(record.scope)
        except ValueError:
            damaged += 1
            continue
        partition_key, partition_site, container = parse_origin_attributes(record.suffix)
        last = record.last_update // 1_000_000 if record.last_update and record.last_update > 0 else None
        add_same(
            columns,
            1,
            store=store,
            id_store=store,
            origin=origin,
            name=record.scope,
            partition_key=partition_key,
            partition_site=partition_site,
            container=container,
            persistent=True,
            size=record.size,
            value=record.script if options.show_values else None,
            value_state=ValueState.PLAIN,
            stale=False,
            last_accessed=last,
            value_note=None,
        )
    if damaged:
        options.note_problem(
            store, f"{store}: {damaged} registration{'s' if damaged != 1 else ''} could not be read"
        )
    return build_columns(profile, Kind.SERVICE_WORKER, columns, options.show_values)
