"""Writers for Firefox's Cache Storage and service worker registrations (the
browser closed; the caller checked).

* **Cache Storage** (``storage/<repo>/<origin>/cache/caches.sqlite``): one
  cache is rows in several tables of ``caches.sqlite``, body files in
  ``cache/morgue/`` and the ``.padding`` bookkeeping (``dom/cache/DBSchema.cpp``,
  ``dom/cache/FileUtils.cpp``).  This version deletes an origin's Cache
  Storage whole: when every cache the reader lists for the origin is planned,
  the whole ``cache`` client folder moves into the journal's private folder
  (a rename where possible), untouched, and moves back on undo.  A plan that
  chose only some of an origin's caches is refused with nothing changed.
  Undo leaves a ``cache`` folder made since alone, unless it holds no cache
  at all (Firefox makes one as soon as a page asks ``caches.keys()``): that
  one moves into the journal in its place.  Firefox makes a new ``cache`` folder when the site opens a cache again, and
  recounts the origin because QuotaManager's usage cache is marked stale
  (:func:`firefox_storage_write.invalidate_quota_cache`).  The folder also
  holds the browser's own namespace (service worker script caches); a
  service worker of that origin left registered fetches its script again.
* **Service workers** (``serviceworker.txt``, ``dom/serviceworkers/
  ServiceWorkerRegistrar.cpp``): a version line, then one record per
  registration, each ended by the line ``#``.  The planned registrations'
  records are cut out and the file is rewritten atomically with every other
  byte kept; the original file is copied into the journal first.  Undo puts
  the original back if the file is unchanged since, else re-inserts the
  records that are missing (before any unterminated tail).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from privacy_inspector.browsers.firefox import parse_origin_attributes
from privacy_inspector.browsers.firefox_idb import _cache_name, _scope_origin, parse_service_workers
from privacy_inspector.browsers.firefox_origins import OriginFolder, read_sqlite
from privacy_inspector.browsers.firefox_storage_write import (
    _client_store,
    _move_all,
    _write_file,
    invalidate_quota_cache,
)
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.core.ids import IdMaker
from privacy_inspector.core.records import Engine, Entry, Kind, Profile, ReadError

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

__all__ = ["CacheStorageWriter", "ServiceWorkerWriter", "split_service_workers", "writer_for"]

SERVICE_WORKER_STORE = "serviceworker.txt"
_CACHE_STORE = re.compile(r"storage/([^/]+)/([^/]+)/cache/caches\.sqlite\Z")
_AGAIN = "set again since the deletion; left as it is now"
_TERMINATOR = b"#\n"


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of a Firefox Cache Storage or service worker store, or None."""
    if profile.engine != Engine.FIREFOX:
        return None
    if kind == Kind.CACHE_STORAGE:
        found = _client_store(_CACHE_STORE, store)
        if found is not None:
            return CacheStorageWriter(profile, store, *found)
    elif kind == Kind.SERVICE_WORKER and store == SERVICE_WORKER_STORE:
        return ServiceWorkerWriter(profile)
    return None


# --------------------------------------------------------------------------
# Cache Storage
# --------------------------------------------------------------------------


def _cache_names(conn: sqlite3.Connection, name: str) -> list[str]:
    """The names of the content caches (namespace 0), as the reader lists them."""
    return [_cache_name(key) for (key,) in
            conn.execute("SELECT key FROM storage WHERE namespace = 0 ORDER BY rowid")]


def _cache_count(conn: sqlite3.Connection, name: str) -> tuple[int]:
    """How many caches, of every namespace, the database holds."""
    return conn.execute("SELECT count(*) FROM storage").fetchone()


class CacheStorageWriter:
    """Every cache of one origin: its ``cache`` folder moves into the journal and back."""

    name = "firefox-cache-storage"

    def __init__(self, profile: Profile, store: str, repository: str, folder: OriginFolder) -> None:
        self.profile = profile
        self.store = store
        self.path = profile.path / store
        self.folder = self.path.parent  # <origin>/cache
        make = IdMaker(profile.key, Kind.CACHE_STORAGE, f"storage/{repository}/cache")
        self.id_of = lambda name: make(folder.partition_key, folder.container, folder.origin, name, None)

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        if not self.path.is_file():
            return []
        try:
            names = read_sqlite(str(self.path), _cache_names)
        except FileNotFoundError:
            return []
        except (ReadError, sqlite3.Error, OSError) as exc:
            raise WriteError(f"{self.store} cannot be read ({type(exc).__name__}); "
                             "nothing was changed") from exc
        present = {self.id_of(n) for n in names}
        chosen = present & wanted
        if not chosen:
            return []
        others = len(present - chosen)
        if others:
            what = "1 other cache was" if others == 1 else f"{others} other caches were"
            raise WriteError(f"this version deletes an origin's Cache Storage whole; "
                             f"{what} not chosen")
        ids = sorted(chosen)
        target = journal.files() / "cache"
        journal.save({"mode": "folder", "ids": ids})
        invalidate_quota_cache(self.profile.path)
        _move_all([(self.folder, target)], self.store)
        return ids

    def _empty(self) -> bool:
        """Whether the ``cache`` folder there now holds no cache at all: Firefox
        makes an empty one whenever a page of the origin merely asks
        ``caches.keys()`` or ``caches.match()``."""
        if not self.folder.is_dir() or self.folder.is_symlink():
            return False
        if any(p.is_file() for p in (self.folder / "morgue").rglob("*")):
            return False
        try:
            (count,) = read_sqlite(str(self.path), _cache_count)
        except (FileNotFoundError, ReadError, sqlite3.Error, OSError, ValueError):
            return False
        return count == 0

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        ids: list[str] = payload["ids"]
        moves = []
        if os.path.lexists(self.folder):
            if not self._empty():
                return [], [(i, _AGAIN) for i in ids]
            # An empty Cache Storage Firefox opened since: it steps aside (into
            # the journal, kept as it was) for the one deleted.
            aside = journal.files() / "cache-opened-since"
            if os.path.lexists(aside):
                return [], [(i, _AGAIN) for i in ids]
            moves.append((self.folder, aside))
        if not self.folder.parent.is_dir():
            why = "Firefox removed the origin's folder since the deletion; not restored"
            return [], [(i, why) for i in ids]
        source = journal.files() / "cache"
        if not source.is_dir():
            raise WriteError(f"the journal's copy of {self.store} is missing; nothing was restored")
        invalidate_quota_cache(self.profile.path)
        _move_all([*moves, (source, self.folder)], self.store)
        return list(ids), []


# --------------------------------------------------------------------------
# Service workers
# --------------------------------------------------------------------------


def split_service_workers(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(version line, records, tail) of a ``serviceworker.txt``, byte for byte:
    each record ends with its ``#`` line; the tail is what follows the last
    one (nothing, in a file Firefox wrote).  ``b"".join`` gives ``data`` back."""
    head, newline, rest = data.partition(b"\n")
    header = head + newline
    records: list[bytes] = []
    start = 0
    at = 0
    while at < len(rest):
        end = rest.find(b"\n", at)
        if end < 0:
            break
        if rest[at:end] == b"#":
            records.append(rest[start:end + 1])
            start = end + 1
        at = end + 1
    return header, records, rest[start:]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ServiceWorkerWriter:
    """Registrations of ``serviceworker.txt``: their records are cut out, the rest kept."""

    name = "firefox-service-workers"

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.path = profile.path / SERVICE_WORKER_STORE
        self._make = IdMaker(profile.key, Kind.SERVICE_WORKER, SERVICE_WORKER_STORE)

    def id_of(self, header: bytes, record: bytes) -> str:
        """The reader's id of one record; "" for one the reader skips."""
        text = (header + record).decode("utf-8", "replace")
        try:
            _, (parsed, *_), _ = parse_service_workers(text)
            origin = _scope_origin(parsed.scope)
        except (ReadError, ValueError):
            return ""
        partition_key, _, container = parse_origin_attributes(parsed.suffix)
        return self._make(partition_key, container, origin, parsed.scope, None)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WriteError(f"{SERVICE_WORKER_STORE} cannot be read "
                             f"({exc.strerror or type(exc).__name__}); nothing was changed") from exc

    def _mode(self) -> int:
        try:
            return self.path.stat().st_mode & 0o777
        except OSError:
            return 0o644

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        data = self._read()
        if data is None:
            return []
        header, records, tail = split_service_workers(data)
        try:
            int(header.strip())
        except ValueError as exc:
            raise WriteError(f"{SERVICE_WORKER_STORE} does not start with a version number; "
                             "nothing was changed") from exc
        ids = [self.id_of(header, r) for r in records]
        gone = [(i, n) for n, i in enumerate(ids) if i and i in wanted]
        if not gone:
            return []
        drop = {n for _, n in gone}
        after = header + b"".join(r for n, r in enumerate(records) if n not in drop) + tail
        mode = self._mode()
        copy = journal.files() / SERVICE_WORKER_STORE
        _write_file(copy, data, 0o600)
        journal.save({
            "ids": sorted({i for i, _ in gone}),
            "records": [{"id": i, "at": n, "data": base64.b64encode(records[n]).decode("ascii")}
                        for i, n in gone],
            "before": _sha256(data),
            "after": _sha256(after),
            "mode": mode,
        })
        try:
            _write_file(self.path, after, mode)
        except OSError as exc:
            raise WriteError(f"{SERVICE_WORKER_STORE} could not be written "
                             f"({exc.strerror or type(exc).__name__}); it was left as it was") from exc
        return sorted({i for i, _ in gone})

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        ids: list[str] = payload["ids"]
        mode = int(payload.get("mode", 0o644))
        now = self._read()
        original = journal.files() / SERVICE_WORKER_STORE
        try:
            if now is not None and _sha256(now) == payload["after"]:
                data = original.read_bytes()
                if _sha256(data) != payload["before"]:
                    raise WriteError("the journal's copy of serviceworker.txt is damaged; "
                                     "nothing was restored")
                _write_file(self.path, data, mode)
                return list(ids), []
            # Firefox rewrote the file since: put back only what is missing.
            if now is None:
                data = original.read_bytes()
                header = split_service_workers(data)[0]
                records: list[bytes] = []
                tail = b""
            else:
                header, records, tail = split_service_workers(now)
            present = {self.id_of(header, r) for r in records}
            restored: list[str] = []
            skipped: list[tuple[str, str]] = []
            for saved in payload["records"]:
                if saved["id"] in present:
                    skipped.append((saved["id"], _AGAIN))
                    continue
                records.append(base64.b64decode(saved["data"]))
                present.add(saved["id"])
                restored.append(saved["id"])
            if restored:
                _write_file(self.path, header + b"".join(records) + tail,
                            mode if now is None else self._mode())
            return restored, skipped
        except OSError as exc:
            raise WriteError(f"{SERVICE_WORKER_STORE} could not be restored "
                             f"({exc.strerror or type(exc).__name__}); it was left as it was") from exc
