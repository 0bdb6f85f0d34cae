"""Chromium-family Cache Storage and service worker registrations.

**Cache Storage**: ``Service Worker/CacheStorage/<SHA-1 of origin id>/index.txt``
for first-party default buckets, ``WebStorage/<bucket id>/CacheStorage/index.txt``
for the others; ``index.txt`` is the ``CacheStorageIndex`` protobuf
(``content/browser/cache_storage/cache_storage.proto``) naming each cache and its
folder.  One Entry per cache, ``size`` the bytes of its folder.

**Service workers**: ``Service Worker/Database`` is a LevelDB whose
``REG:<storage key>\\x00<id>`` keys hold ``ServiceWorkerRegistrationData``
protobufs (``components/services/storage/service_worker/``).  One Entry per
registration, ``name`` its scope, ``size`` the bytes of its scripts.

A store that cannot be read is reported through ``options.note_problem`` (one
line per store) and the other stores are still listed; only an unreadable
``Service Worker/Database``, the one store of its reader, raises ReadError.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.chromium_files import (
    Row,
    bucket_dirs,
    build_entries_from_rows,
    folder_size,
    is_empty_leveldb,
    relative_store,
    sorted_dirs,
)
from privacy_inspector.browsers.chromium_keys import (
    DecodeError,
    decode_varint,
    origin_identifier,
    parse_storage_key,
)
from privacy_inspector.core.records import Entry, Kind, Profile, ReadError

# --------------------------------------------------------------------------
# Protobuf (just enough for index.txt and service worker registrations)
# --------------------------------------------------------------------------


def proto_fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of a protobuf message, in order.

    Varints come back as ints, length-delimited fields as bytes; fixed 32/64-bit
    fields as their raw bytes.  Raises DecodeError on malformed input.
    """
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    n = len(data)
    while pos < n:
        tag, pos = decode_varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise DecodeError("field number 0")
        if wire == 0:
            value, pos = decode_varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = decode_varint(data, pos)
            if pos + length > n:
                raise DecodeError("truncated field")
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > n:
                raise DecodeError("truncated field")
            out.append((number, data[pos : pos + width]))
            pos += width
        else:
            raise DecodeError(f"unsupported wire type {wire}")
    return out


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise DecodeError("expected a string field")
    return value.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class CacheInfo:
    name: str
    folder: str | None
    size: int | None


@dataclass(frozen=True, slots=True)
class CacheIndex:
    """``index.txt``: the caches of one Cache Storage bucket."""

    storage_key: str | None
    caches: tuple[CacheInfo, ...]


def parse_cache_index(data: bytes) -> CacheIndex:
    """``CacheStorageIndex``: repeated Cache (1) {name 1, cache_dir 2, size 3,
    u16string_name 7}, origin 2 (old), storage_key 3."""
    caches = []
    origin = storage_key = None
    for number, value in proto_fields(data):
        if number == 1:
            if not isinstance(value, bytes):
                raise DecodeError("bad cache record")
            name = u16 = folder = None
            size = None
            for sub, sub_value in proto_fields(value):
                if sub == 1:
                    name = _text(sub_value)
                elif sub == 2:
                    folder = _text(sub_value)
                elif sub == 3 and isinstance(sub_value, int):
                    size = sub_value
                elif sub == 7 and isinstance(sub_value, bytes) and len(sub_value) % 2 == 0:
                    # Newer Chromium keeps the DOMString exactly, as UTF-16
                    # in host order (little-endian on every supported CPU).
                    u16 = sub_value.decode("utf-16-le", "replace")
            if u16 is None and name is None:
                raise DecodeError("a cache without a name")
            caches.append(CacheInfo(u16 if u16 is not None else name or "", folder, size))
        elif number == 2:
            origin = _text(value)
        elif number == 3:
            storage_key = _text(value)
    return CacheIndex(storage_key or origin, tuple(caches))


@dataclass(frozen=True, slots=True)
class Registration:
    """A service worker registration (``ServiceWorkerRegistrationData``)."""

    id: int
    scope: str
    script: str
    active: bool
    resources_size: int | None


def parse_registration(data: bytes) -> Registration:
    """registration_id 1, scope_url 2, script_url 3, is_active 5,
    resources_total_size_bytes 8."""
    values: dict[int, Any] = {}
    for number, value in proto_fields(data):
        values.setdefault(number, value)
    try:
        scope = _text(values[2])
        script = _text(values[3])
    except KeyError:
        raise DecodeError("a registration without scope or script") from None
    reg_id = values.get(1)
    size = values.get(8)
    return Registration(
        reg_id if isinstance(reg_id, int) else -1,
        scope,
        script,
        bool(values.get(5)) if isinstance(values.get(5), int) else False,
        size if isinstance(size, int) else None,
    )


# --------------------------------------------------------------------------
# Cache Storage
# --------------------------------------------------------------------------

CACHE_STORAGE_ROOT = "Service Worker/CacheStorage"


def _origin_hash(origin: str, owner_suffix: str = "") -> str:
    return hashlib.sha1((origin_identifier(origin) + owner_suffix).encode()).hexdigest()


def _count_entries(folder: Path) -> int | None:
    """Entries of a Simple disk cache: one ``<16 hex>_0`` file each."""
    try:
        return sum(1 for n in os.listdir(folder) if len(n) == 18 and n.endswith("_0"))
    except OSError:
        return None


def _read_cache_index(
    index_dir: Path, profile: Profile, options: ReadOptions, *, background_fetch: bool | None
) -> list[Row]:
    """The caches listed in ``index_dir/index.txt``.

    ``background_fetch`` None: a first-party folder, whose name says the owner:
    SHA-1 of the origin identifier for the Cache API, of the identifier plus
    ``-1`` for Background Fetch (``ConstructOriginPath`` in
    ``cache_storage_manager.cc``).
    """
    store = relative_store(profile, index_dir / "index.txt")
    try:
        data = (index_dir / "index.txt").read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        options.note_problem(store, f"{store} cannot be read: {exc.strerror or exc}")
        return []
    try:
        index = parse_cache_index(data)
    except DecodeError as exc:
        options.note_problem(store, f"{store} is damaged ({exc}); its caches are not listed")
        return []
    key = parse_storage_key(index.storage_key) if index.storage_key else None
    if key is None:
        options.note_problem(store, f"{store} names no origin; its caches are not listed")
        return []
    if background_fetch is None:
        background_fetch = index_dir.name == _origin_hash(key.origin, "-1")
    id_store = "BackgroundFetch" if background_fetch else "CacheStorage"
    rows = []
    for cache in index.caches:
        folder = index_dir / cache.folder if cache.folder else None
        if folder is not None and folder.is_dir():
            size = folder_size(folder)
            count = _count_entries(folder)
        else:
            size, count = cache.size or 0, None
        note = "Background Fetch cache" if background_fetch else None
        if count is not None:
            counted = f"{count} entr{'y' if count == 1 else 'ies'}"
            note = f"{note}; {counted}" if note else counted
        rows.append(
            Row(store, id_store, key.origin, cache.name, key.partition, key.partition_site,
                 size, note)
        )
    return rows


def read_cache_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Every Cache Storage cache of a Chromium profile: one Entry per cache."""
    rows: list[Row] = []
    for index_dir in sorted_dirs(profile.path / CACHE_STORAGE_ROOT):
        rows += _read_cache_index(index_dir, profile, options, background_fetch=None)
    for _, bucket in bucket_dirs(profile):
        for folder, background_fetch in (("CacheStorage", False), ("BackgroundFetch", True)):
            rows += _read_cache_index(
                bucket / folder, profile, options, background_fetch=background_fetch
            )
    return build_entries_from_rows(profile, Kind.CACHE_STORAGE, rows)


# --------------------------------------------------------------------------
# Service workers
# --------------------------------------------------------------------------

SERVICE_WORKER_DB = "Service Worker/Database"
_REG_PREFIX = b"REG:"


def read_service_workers(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Every service worker registration of a Chromium profile: one Entry per scope."""
    folder = profile.path / SERVICE_WORKER_DB
    if not folder.is_dir() or is_empty_leveldb(folder):
        return []
    try:
        records = leveldb.read_records(folder)
    except leveldb.LevelDBError as exc:
        raise ReadError(f"{SERVICE_WORKER_DB} cannot be read: {exc}") from exc
    except OSError as exc:
        raise ReadError(f"{SERVICE_WORKER_DB} cannot be read: {exc.strerror or exc}") from exc
    rows = []
    damaged = 0
    for key in sorted(k for k in records if k.startswith(_REG_PREFIX)):
        raw_key, sep, _reg_id = key[len(_REG_PREFIX) :].partition(b"\x00")
        storage_key = parse_storage_key(raw_key.decode("utf-8", "replace")) if sep else None
        try:
            registration = parse_registration(records[key])
        except DecodeError:
            registration = None
        if storage_key is None or registration is None:
            damaged += 1
            continue
        note = f"script: {registration.script}"
        if not registration.active:
            note += "; not yet active"
        rows.append(
            Row(SERVICE_WORKER_DB, "Service Worker", storage_key.origin, registration.scope,
                 storage_key.partition, storage_key.partition_site,
                 registration.resources_size or 0, note)
        )
    if damaged:
        options.note_problem(
            SERVICE_WORKER_DB,
            f"{SERVICE_WORKER_DB}: {damaged} service worker registration(s) could not be decoded",
        )
    return build_entries_from_rows(profile, Kind.SERVICE_WORKER, rows)
