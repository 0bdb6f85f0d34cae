"""Firefox-family HTML5 storage: what the readers of :mod:`firefox_storage`
(localStorage, sessionStorage) and :mod:`firefox_idb` (IndexedDB, Cache Storage,
service workers) share: origin folder names and origin keys, the walk over the
origin folders, per-file problems and reading a database in place or from a copy.

Quota Manager keeps one folder per origin under ``storage/default`` (also
``temporary`` and ``permanent``), named after the origin with ``:`` and ``/``
replaced by ``+`` and the origin attributes appended
(``https+++www.liveops.com+8443^partitionKey=%28https%2Cliveops.com%29``, see
:func:`parse_origin_folder`).  Inside it every storage API has a client
folder (``ls``, ``idb``, ``cache``).

One damaged origin folder never hides the others: every origin (and every
database file) is read on its own, and what goes wrong there is a problem noted
for that file (``ReadOptions.note_problem``) while the reader goes on.  A store
raises ReadError only when it cannot be read at all (its folder cannot be
listed, the session or service worker file is unreadable).

Reading 5,000 origins through 5,000 private copies would take seconds, so a
database is read in place when that is safe (see :func:`in_place_uri`): a
read-only connection to a rollback-journal database that has no ``-wal`` or
``-journal`` beside it, which takes SQLite's shared lock like any reader and
writes nothing.  Everything else (WAL databases, hot journals, a lock held by a
running Firefox, damage) goes through ``sqlitecopy.open_copy``.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from privacy_inspector import paths
from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.base import STORAGE_COLUMNS, ReadOptions, StorageFactory
from privacy_inspector.browsers.firefox import parse_origin_attributes
from privacy_inspector.core.records import Entry, Profile, ReadError
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


# How many per-file problems one reader reports in full before it only counts.
PROBLEM_LIMIT = 20

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


class Problems:
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


def origin_dirs(profile: Profile) -> Iterator[_OriginDir]:
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


def unknown_folder(problems: Problems, origin_dir: _OriginDir, store: str) -> None:
    problems.add(
        store,
        f"storage/{origin_dir.repository}/{origin_dir.name} is not named like an origin "
        f"({origin_dir.error}); it was skipped",
    )


def each_origin_database(
    profile: Profile,
    problems: Problems,
    parts: tuple[str, ...],
    read: Callable[[sqlite3.Connection, str], T],
) -> Iterator[tuple[_OriginDir, OriginFolder, str, str, T]]:
    """(origin dir, parsed folder, store, path, what ``read`` returned) for every
    origin folder holding the database at ``parts`` (``("ls", "data.sqlite")``).

    A folder whose name cannot be parsed but holds the database is reported; a
    database that vanishes meanwhile is skipped; one that cannot be read is one
    problem line, and the other origins are still read.
    """
    for origin_dir in origin_dirs(profile):
        path = os.path.join(origin_dir.path, *parts)
        store = origin_dir.store(*parts)
        folder = origin_dir.folder
        if folder is None:
            if os.path.exists(path):
                unknown_folder(problems, origin_dir, store)
            continue
        try:
            result = read_sqlite(path, read)
        except FileNotFoundError:
            continue
        except Exception as exc:  # noqa: BLE001 - one origin never hides the others
            problems.from_exception(store, path, exc)
            continue
        yield origin_dir, folder, store, path, result


def in_place_uri(path: str) -> str | None:
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
    if len(head) < 100 or not head.startswith(paths.SQLITE_HEADER) or head[18] != 1 or head[19] != 1:
        return None
    if os.path.lexists(path + "-wal") or os.path.lexists(path + "-journal"):
        return None
    return sqlitecopy.file_uri(path) + "?mode=ro"


def read_sqlite(path: str, read: Callable[[sqlite3.Connection, str], T]) -> T:
    """``read(connection, path)`` on the database at ``path``: in place when
    :func:`in_place_uri` says it is safe, else (or if that fails in any way)
    on a private copy.  ReadError with a message for the user; FileNotFoundError
    if there is no such file."""
    uri = in_place_uri(path)
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


def new_columns() -> dict[str, list[Any]]:
    return {name: [] for name in STORAGE_COLUMNS}


def add_same(columns: dict[str, list[Any]], count: int, **values: Any) -> None:
    """Extend the named columns by ``count`` copies of one value each."""
    for name, value in values.items():
        columns[name].extend([value] * count)


def build_columns(
    profile: Profile, kind: str, columns: dict[str, list[Any]], show_values: bool = False
) -> list[Entry]:
    """The entries of the columns; values are measured, and kept only with ``show_values``."""
    columns["last_accessed"] = iso_column(columns["last_accessed"])
    return StorageFactory(profile, kind, show_values=show_values).build(
        len(columns["name"]), **columns
    )


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)
