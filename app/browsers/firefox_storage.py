"""Firefox-family HTML5 storage: localStorage, sessionStorage, IndexedDB,
Cache Storage and service worker registrations.

Quota Manager keeps one folder per origin under ``storage/default`` (also
``temporary`` and ``permanent``), named after the origin with ``:`` and ``/``
replaced by ``+`` and the origin attributes appended
(``https+++www.liveops.com+8443^partitionKey=%28https%2Cliveops.com%29``, see
:func:`parse_origin_folder`).  Inside it every storage API has a client
folder:

* ``ls/data.sqlite``: localStorage (LSNG).  Table ``data(key, utf16_length,
  conversion_type, compression_type, last_access_time, value)``; the value is
  a BLOB, snappy-compressed (raw block) when ``compression_type`` is 1, UTF-8
  when ``conversion_type`` is 1 and the UTF-16 code units as stored
  (little-endian) when it is 0, which Firefox uses only for strings that are
  not valid UTF-16 (``dom/localstorage/LSValue.cpp``).  A rollback journal,
  never WAL.
* ``idb/<hash><mangled name>.sqlite`` (WAL) and its ``.files`` folder: one
  IndexedDB database each (tables ``database``, ``object_store``,
  ``object_data``).
* ``cache/caches.sqlite`` (WAL) and ``cache/morgue/<n>/{uuid}.final``: Cache
  Storage; cache names are in ``storage.key`` as UTF-16 bytes, namespace 0 for
  content (1 is the browser's own, e.g. service worker scripts;
  ``dom/cache/DBSchema.cpp``).

Two legacy localStorage databases can still hold data a site stored long ago:
``webappsstore.sqlite`` at the profile root and its archive
``storage/ls-archive.sqlite`` (table ``webappsstore2(originAttributes,
originKey, scope, key, value)``; ``originKey`` is the reversed host, the scheme
and the port: ``moc.spoevil.www.:https:443``).  Firefox no longer reads them as
localStorage; their rows are listed as ``stale``.

sessionStorage exists only in the session restore files (each tab's
``storage`` object, keyed by origin and origin attributes), and service worker
registrations in ``serviceworker.txt`` (``dom/serviceworkers/
ServiceWorkerRegistrar.cpp``).

One damaged origin folder never hides the others: every origin (and every
database file) is read on its own, and what goes wrong there is a problem noted
for that file (``ReadOptions.note_problem``) while the reader goes on.  A store
raises ReadError only when it cannot be read at all (its folder cannot be
listed, the session or service worker file is unreadable).

Reading 5,000 origins through 5,000 private copies would take seconds, so a
database is read in place when that is safe (see :func:`_in_place_uri`): a
read-only connection to a rollback-journal database that has no ``-wal`` or
``-journal`` beside it, which takes SQLite's shared lock like any reader and
writes nothing.  Everything else (WAL databases, hot journals, a lock held by a
running Firefox, damage) goes through ``sqlitecopy.open_copy``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import cramjam

from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.base import (
    STORAGE_COLUMNS,
    ReadOptions,
    StorageFactory,
    object_stores_note,
)
from privacy_inspector.browsers.firefox import (
    SESSION_ATTEMPTS,
    load_session_file,
    parse_origin_attributes,
    partition_and_container,
    session_sources,
)
from privacy_inspector.core.records import Entry, Kind, Profile, ReadError, ValueState
from privacy_inspector.core.times import iso_column

log = logging.getLogger(__name__)

# Quota Manager repositories that hold web content.  ``private`` (private
# browsing, encrypted and removed when the session ends) is left out, and so
# is the browser's own storage (see _INTERNAL_SCHEMES).
REPOSITORIES = ("default", "temporary", "permanent")
# Origins of the browser itself, not of a website or an extension.
_INTERNAL_SCHEMES = frozenset(
    {"chrome", "about", "moz-safe-about", "resource", "indexeddb", "moz-nullprincipal"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_SCHEME = re.compile(r"[a-z][a-z0-9.-]*\Z")

_SQLITE_MAGIC = b"SQLite format 3\x00"

# How many per-file problems one reader reports in full before it only counts.
PROBLEM_LIMIT = 20

# The newest serviceworker.txt layout known (Firefox ESR 153 writes 12) and
# the oldest Firefox still reads.
SERVICE_WORKER_VERSION = 12
_SERVICE_WORKER_OLDEST = 2

T = TypeVar("T")


# --------------------------------------------------------------------------
# Origins: folder names, origin keys, session keys
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OriginFolder:
    """What a Quota Manager origin folder name says.

    ``origin`` is ``scheme://host[:port]`` without a trailing slash; ``suffix``
    the origin attributes as written (``^partitionKey=...``, or ``""``);
    ``partition_key`` the raw partition (``(https,liveops.com)``),
    ``partition_site`` its registrable domain, ``container`` the
    ``userContextId`` (None for the default container).
    """

    name: str
    origin: str
    suffix: str
    partition_key: str | None
    partition_site: str | None
    container: int | None

    @property
    def scheme(self) -> str:
        return self.origin.split(":", 1)[0]

    @property
    def internal(self) -> bool:
        """The browser's own storage (``chrome``, ``about:``), not a site's."""
        return self.scheme in _INTERNAL_SCHEMES


def parse_origin_folder(name: str) -> OriginFolder:
    """The origin and attributes of a ``storage/<repository>/<name>`` folder.

    Quota Manager writes the origin with every character that is illegal in a
    Windows file name (``:``, ``/``, ``*``, ``?``, ...) replaced by ``+``, then
    the origin attributes suffix, which is percent-encoded and so unchanged:

    * ``https+++www.liveops.com`` -> ``https://www.liveops.com``
    * ``http+++localhost+3000`` -> ``http://localhost:3000``
    * ``http+++[++1]+8080`` -> ``http://[::1]:8080`` (IPv6: ``+`` back to ``:``
      inside the brackets)
    * ``moz-extension+++<uuid>`` -> ``moz-extension://<uuid>``
    * ``file++++home+u+a.html`` -> ``file:///home/u/a.html`` (lossy: a ``+``
      may also have been ``:`` or another character; shown as ``/``)
    * ``chrome``, ``moz-safe-about+home`` -> the browser's own (``internal``)
    * ``...^userContextId=2`` -> container 2;
      ``...^partitionKey=%28https%2Cliveops.com%29`` -> partition ``liveops.com``

    Raises ValueError for a name that is not an origin folder.
    """
    base, caret, rest = name.partition("^")
    suffix = caret + rest
    origin = _folder_origin(base)
    partition_key, partition_site, container = _attributes(suffix)
    return OriginFolder(name, origin, suffix, partition_key, partition_site, container)


@functools.lru_cache(maxsize=4096)
def _attributes(suffix: str) -> tuple[str | None, str | None, int | None]:
    """``parse_origin_attributes``, once per distinct suffix (most origins share a few)."""
    return parse_origin_attributes(suffix)


def _folder_origin(base: str) -> str:
    if base == "chrome":
        return "chrome"
    scheme, plus, rest = base.partition("+")
    if not plus or not _SCHEME.match(scheme) or not rest:
        raise ValueError(f"{base!r} is not a sanitized origin")
    if not rest.startswith("++"):
        # scheme:opaque (about:home and the like).
        return f"{scheme}:{rest.replace('+', ':')}"
    authority = rest[2:]
    if scheme == "file":
        return "file://" + authority.replace("+", "/").rstrip("/")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError(f"{base!r} has an unclosed IPv6 address")
        host = authority[: end + 1].replace("+", ":")
        tail = authority[end + 1 :]
    else:
        host, plus, tail = authority.partition("+")
        tail = plus + tail
    if not host or host == "[]":
        raise ValueError(f"{base!r} has no host")
    if not tail:
        return f"{scheme}://{host}"
    port = tail[1:]
    if not port.isdigit() or not port.isascii():
        raise ValueError(f"{base!r} has an unexpected {tail!r} after the host")
    return f"{scheme}://{host}:{int(port)}"


def parse_origin_key(origin_key: str) -> str:
    """The origin of a legacy localStorage ``originKey``.

    ``moc.spoevil.www.:https:443`` -> ``https://www.liveops.com``: the ASCII host
    reversed with a dot appended, the scheme, and the port when the URL has one
    (``BasePrincipal::GetStorageOriginKey``).  For ``file:`` the reversed part is
    the directory.  Default ports are left out of the origin.  Raises ValueError.
    """
    parts = origin_key.rsplit(":", 2)
    port: int | None = None
    if len(parts) == 3 and parts[2].isdigit():
        reversed_host, scheme = parts[0], parts[1]
        port = int(parts[2])
    else:
        reversed_host, _, scheme = origin_key.rpartition(":")
    if not reversed_host or not _SCHEME.match(scheme):
        raise ValueError(f"{origin_key!r} is not a localStorage origin key")
    host = reversed_host[::-1]
    if host.startswith("."):
        host = host[1:]
    if not host:
        raise ValueError(f"{origin_key!r} has no host")
    if scheme == "file":
        return "file://" + host.rstrip("/")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def split_origin(origin_with_suffix: str) -> tuple[str, str]:
    """``https://a.example:8443^userContextId=2`` -> (origin, ``^userContextId=2``)."""
    origin, caret, rest = origin_with_suffix.partition("^")
    return origin.rstrip("/"), caret + rest


# --------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------


class _Problems:
    """The per-file problems of one reader: the first few in full, then a count.

    A profile whose 5,000 origin folders all fail (a permission problem on
    Windows, say) should say so in a few lines, not 5,000.
    """

    __slots__ = ("_options", "_what", "_count")

    def __init__(self, options: ReadOptions, what: str) -> None:
        self._options = options
        self._what = what
        self._count = 0

    def add(self, store: str, message: str) -> None:
        self._count += 1
        if self._count <= PROBLEM_LIMIT:
            self._options.note_problem(store, message)

    def from_exception(self, store: str, path: str, exc: BaseException) -> None:
        self.add(store, _describe_exception(store, path, exc))

    def close(self) -> None:
        if self._count > PROBLEM_LIMIT:
            self._options.note_problem(
                "storage",
                f"{self._count - PROBLEM_LIMIT} more {self._what} could not be read "
                f"(the first {PROBLEM_LIMIT} are listed)",
            )


def _describe_exception(store: str, path: str, exc: BaseException) -> str:
    if isinstance(exc, ReadError):
        # sqlitecopy's messages start with the file name; say which file it is.
        message = str(exc)
        name = os.path.basename(path)
        if message.startswith(name + " "):
            return store + message[len(name) :]
        return f"{store}: {message}"
    if isinstance(exc, PermissionError):
        return f"{store} cannot be read: permission denied"
    if isinstance(exc, OSError):
        return f"{store} cannot be read: {exc.strerror or type(exc).__name__}"
    if isinstance(exc, sqlite3.Error):
        return f"{store} cannot be read (SQLite: {exc})"
    # Only the type: the exception could carry a value.
    log.error("reading %s failed: %s", path, type(exc).__name__)
    return f"{store} could not be read (unexpected {type(exc).__name__}); please report this"


@dataclass(frozen=True, slots=True)
class _OriginDir:
    repository: str
    name: str
    path: str
    folder: OriginFolder | None  # None: the name is not an origin this app knows
    error: str | None = None

    def store(self, *parts: str) -> str:
        return "/".join(("storage", self.repository, self.name, *parts))


def _origin_dirs(profile: Profile) -> Iterator[_OriginDir]:
    """Every origin folder of every web repository, in name order.

    ReadError if a repository folder exists but cannot be listed.  Folders of
    the browser itself (``chrome``, ``about:``) are skipped.
    """
    storage = os.path.join(profile.path, "storage")
    for repository in REPOSITORIES:
        base = os.path.join(storage, repository)
        try:
            with os.scandir(base) as it:
                names = sorted(e.name for e in it if e.is_dir())
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError as exc:
            raise ReadError(f"storage/{repository} cannot be listed: permission denied") from exc
        except OSError as exc:
            raise ReadError(
                f"storage/{repository} cannot be listed: {exc.strerror or type(exc).__name__}"
            ) from exc
        for name in names:
            path = os.path.join(base, name)
            try:
                folder = parse_origin_folder(name)
            except ValueError as exc:
                yield _OriginDir(repository, name, path, None, str(exc))
                continue
            if not folder.internal:
                yield _OriginDir(repository, name, path, folder)


def _unknown_folder(problems: _Problems, origin_dir: _OriginDir, store: str) -> None:
    problems.add(
        store,
        f"storage/{origin_dir.repository}/{origin_dir.name} is not named like an origin "
        f"({origin_dir.error}); it was skipped",
    )


def _in_place_uri(path: str) -> str | None:
    """A read-only URI for reading ``path`` where it lies, or None if only a copy is safe.

    Safe means: an SQLite file in rollback-journal mode (header bytes 18 and 19
    are 1; 2 is WAL) with no ``-wal`` and no ``-journal`` beside it.  Such a
    file is all there is of the database: a ``mode=ro`` connection (never
    ``immutable``) takes SQLite's shared lock for the read, so it waits for no
    one and sees only committed data; a writer that holds the lock makes it
    fail with SQLITE_BUSY (timeout 0) and the caller falls back to the copy.
    It creates nothing (no ``-shm``, no journal: those belong to WAL mode and to
    writers) and changes nothing.  A ``-journal`` appearing after the check is
    a writer's, under its lock, which SQLite's locking handles; a hot journal
    left by a crash is seen here and sent to the copy, which rolls it back.
    WAL databases (IndexedDB, caches) always go to the copy: even a read-only
    connection would create or write their ``-shm``.

    Raises FileNotFoundError when ``path`` does not exist.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except FileNotFoundError:
        raise
    except OSError:
        return None  # locked or unreadable: open_copy says which
    if len(head) < 100 or not head.startswith(_SQLITE_MAGIC) or head[18] != 1 or head[19] != 1:
        return None
    if os.path.lexists(path + "-wal") or os.path.lexists(path + "-journal"):
        return None
    return _file_uri(path) + "?mode=ro"


def _file_uri(path: str) -> str:
    """An SQLite ``file:`` URI for ``path``.

    SQLite ends the path at ``?`` or ``#`` and decodes ``%HH``, and nothing
    else needs escaping (pathlib's ``as_uri`` escapes everything and costs a
    tenth of a 5,000-origin scan).
    """
    path = os.path.abspath(path)
    if os.sep == "\\":
        path = "/" + path.replace("\\", "/")  # file:///C:/...
    return "file://" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")


def _read_sqlite(path: str, read: Callable[[sqlite3.Connection, str], T]) -> T:
    """``read(connection, path)`` on the database at ``path``: in place when
    :func:`_in_place_uri` says it is safe, else (or if that fails in any way)
    on a private copy.  ReadError with a message for the user; FileNotFoundError
    if there is no such file."""
    uri = _in_place_uri(path)
    if uri is not None:
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=0)
        except sqlite3.Error:
            pass
        else:
            try:
                return read(conn, path)
            except (sqlite3.Error, ReadError):
                pass  # busy, locked, damaged: the copy reads it or says why
            finally:
                conn.close()
    if os.path.isdir(path):
        raise ReadError(f"{os.path.basename(path)} is a folder, not a database")
    with sqlitecopy.open_copy(Path(path)) as conn:
        return read(conn, path)


def _new_columns() -> dict[str, list[Any]]:
    return {name: [] for name in STORAGE_COLUMNS}


def _add_same(columns: dict[str, list[Any]], count: int, **values: Any) -> None:
    """Extend the named columns by ``count`` copies of one value each."""
    for name, value in values.items():
        columns[name].extend([value] * count)


def _build(profile: Profile, kind: str, columns: dict[str, list[Any]]) -> list[Entry]:
    columns["last_accessed"] = iso_column(columns["last_accessed"])
    return StorageFactory(profile, kind).build(len(columns["name"]), **columns)


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


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


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


def _ls_columns(rows: list[tuple[Any, ...]], columns: dict[str, list[Any]], with_values: bool) -> None:
    """Append one database's rows to the columns, a column at a time where it can.

    Nearly every database holds only plain UTF-8 values (conversion 1, no
    compression); those are decoded with one comprehension per column.  Any
    other database goes row by row through :func:`decode_ls_value`.
    """
    count = len(rows)
    keys, conversions, compressions, accessed, blobs = zip(*rows, strict=True)
    names = [k if type(k) is str else _text(k) for k in keys]
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
    columns["value"].extend(texts if with_values else [None] * count)
    columns["value_state"].extend(states)
    columns["value_note"].extend(notes)
    columns["last_accessed"].extend(accessed)


def read_local_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """localStorage: every origin's ``ls/data.sqlite``, then the stale legacy copies."""
    columns = _new_columns()
    problems = _Problems(options, "localStorage databases")
    try:
        for origin_dir in _origin_dirs(profile):
            path = os.path.join(origin_dir.path, "ls", "data.sqlite")
            store = origin_dir.store("ls", "data.sqlite")
            folder = origin_dir.folder
            if folder is None:
                if os.path.exists(path):
                    _unknown_folder(problems, origin_dir, store)
                continue
            try:
                rows = _read_sqlite(path, _ls_rows)
            except FileNotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 - one origin never hides the others
                problems.from_exception(store, path, exc)
                continue
            if not rows:
                continue
            _ls_columns(rows, columns, options.show_values)
            _add_same(
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
            _legacy_local_storage(profile, relative, columns, problems, options.show_values)
    finally:
        problems.close()
    return _build(profile, Kind.LOCAL_STORAGE, columns)


_LEGACY_QUERY = (
    "SELECT originAttributes, originKey, key, "
    "length(CAST(key AS BLOB)) + length(CAST(value AS BLOB)), {value} FROM webappsstore2"
)


def _legacy_local_storage(
    profile: Profile,
    relative: str,
    columns: dict[str, list[Any]],
    problems: _Problems,
    with_values: bool,
) -> None:
    """The rows of a legacy ``webappsstore2`` table, marked stale."""
    path = os.path.join(profile.path, *relative.split("/"))
    query = _LEGACY_QUERY.format(value="value" if with_values else "NULL")

    def read(conn: sqlite3.Connection, name: str) -> list[tuple[Any, ...]]:
        file = Path(name)
        if not sqlitecopy.columns(conn, "webappsstore2"):
            raise ReadError(f"{file.name} has no webappsstore2 table")
        return sqlitecopy.fetch_all(conn, query, file)

    try:
        rows = _read_sqlite(path, read)
    except FileNotFoundError:
        return
    except Exception as exc:  # noqa: BLE001 - a stale copy never hides live data
        problems.from_exception(relative, path, exc)
        return
    origins: dict[str, str | None] = {}
    skipped = 0
    for attributes, origin_key, key, size, value in rows:
        origin_key = _text(origin_key)
        if origin_key not in origins:
            try:
                origins[origin_key] = parse_origin_key(origin_key)
            except ValueError:
                origins[origin_key] = None
        origin = origins[origin_key]
        if origin is None:
            skipped += 1
            continue
        partition_key, partition_site, container = parse_origin_attributes(_text(attributes))
        columns["store"].append(relative)
        columns["id_store"].append(relative)
        columns["origin"].append(origin)
        columns["name"].append(_text(key))
        columns["partition_key"].append(partition_key)
        columns["partition_site"].append(partition_site)
        columns["container"].append(container)
        columns["persistent"].append(True)
        columns["size"].append(size or 0)
        columns["value"].append(_text(value) if with_values else None)
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
            rows = _session_rows(profile, options.show_values, notes)
        except FileNotFoundError:
            continue
        for store, message in notes:
            options.note_problem(store, message)
        return StorageFactory(profile, Kind.SESSION_STORAGE).rows(rows)
    raise ReadError("the session files kept changing while they were read; scan again")



def _session_rows(profile: Profile, with_values: bool, notes: list[tuple[str, str]]) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    seen: set[tuple[Any, ...]] = set()
    suffixes: dict[str, tuple[str | None, str | None, int | None]] = {}
    for path, stale in session_sources(profile):
        store = path.relative_to(profile.path).as_posix()
        try:
            state = load_session_file(path)
        except ReadError as exc:
            if not stale:
                raise
            notes.append((store, str(exc)))
            continue
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
                        text if with_values else None,
                        ValueState.PLAIN,
                        stale,
                        None,
                        None,
                    ))
    return rows


# --------------------------------------------------------------------------
# IndexedDB
# --------------------------------------------------------------------------


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
    return _text(names[0][0]), [(_text(name), counts.get(sid, 0)) for sid, name in stores]


def read_indexed_db(profile: Profile, options: ReadOptions) -> list[Entry]:
    """One entry per IndexedDB database: its name, object stores, record counts and bytes on disk."""
    columns = _new_columns()
    problems = _Problems(options, "IndexedDB databases")
    try:
        for origin_dir in _origin_dirs(profile):
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
                    _unknown_folder(problems, origin_dir, origin_dir.store("idb"))
                continue
            for file_name in files:
                path = os.path.join(idb, file_name)
                store = origin_dir.store("idb", file_name)
                try:
                    name, stores = _read_sqlite(path, _idb_details)
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
                _add_same(
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
    return _build(profile, Kind.INDEXED_DB, columns)


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
    columns = _new_columns()
    problems = _Problems(options, "Cache Storage databases")
    try:
        for origin_dir in _origin_dirs(profile):
            cache_dir = os.path.join(origin_dir.path, "cache")
            path = os.path.join(cache_dir, "caches.sqlite")
            store = origin_dir.store("cache", "caches.sqlite")
            folder = origin_dir.folder
            if folder is None:
                if os.path.exists(path):
                    _unknown_folder(problems, origin_dir, store)
                continue
            try:
                caches, bodies = _read_sqlite(path, _cache_rows)
            except FileNotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 - one origin never hides the others
                problems.from_exception(store, path, exc)
                continue
            if not caches:
                continue
            files = _morgue_sizes(cache_dir)
            sizes: dict[Any, int] = {}
            counts: dict[Any, int] = {}
            for cache_id, request_body, response_body in bodies:
                counts[cache_id] = counts.get(cache_id, 0) + 1
                sizes[cache_id] = (
                    sizes.get(cache_id, 0)
                    + files.get(_text(request_body), 0)
                    + files.get(_text(response_body), 0)
                )
            for key, cache_id in caches:
                count = counts.get(cache_id, 0)
                _add_same(
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
    return _build(profile, Kind.CACHE_STORAGE, columns)


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
    columns = _new_columns()
    for record in records:
        try:
            origin = _scope_origin(record.scope)
        except ValueError:
            damaged += 1
            continue
        partition_key, partition_site, container = parse_origin_attributes(record.suffix)
        last = record.last_update // 1_000_000 if record.last_update and record.last_update > 0 else None
        _add_same(
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
    return _build(profile, Kind.SERVICE_WORKER, columns)

