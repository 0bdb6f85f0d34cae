"""Chromium-family IndexedDB.

**IndexedDB** lives in one LevelDB per origin and storage bucket:

- the default bucket of a first-party origin:
  ``IndexedDB/<scheme>_<host>_<port>.indexeddb.leveldb`` (port 0 = the scheme's
  default), with blobs in the sibling ``….indexeddb.blob/<database id hex>/``;
- every other bucket (third-party partitions, Storage Buckets API):
  ``WebStorage/<bucket id>/IndexedDB/indexeddb.leveldb`` (and ``indexeddb.blob``),
  the bucket's storage key in the SQLite ``WebStorage/QuotaManager`` table
  ``buckets`` (``<profile>/QuotaManager`` in older versions).

Keys follow Chromium's ``content/browser/indexed_db/indexed_db_leveldb_coding.cc``
(and ``docs/leveldb_coding_scheme.md``): a key prefix of database id, object
store id and index id, then a type byte.  Databases are named by the global
``DatabaseNameKey`` «0,0,0, 201, origin, name» -> database id; object stores by
«db,0,0, 50, store id, 0» -> name; records are «db, store, 1, key».  One Entry is
made per database: ``name`` the database name, ``value_note`` its object stores
with their record counts, ``size`` its bytes on disk (its blob folder, plus a
share of the LevelDB in proportion to its keys and values, as one LevelDB holds
every database of the origin).  The origin and partition come from the folder
name or the bucket's storage key; the ``DatabaseNameKey`` also names the origin
(``https_www.example.com_0@1``), which stands in when QuotaManager cannot say.

Chromium's experimental SQLite backing store (``IdbSqliteBackingStore``, off by
default in 156) keeps one SQLite file per database, named
base32(SHA-256(UTF-16LE name)) (``0`` for the empty name), in
``IndexedDB/<scheme>_<host>_<port>/`` or ``WebStorage/<bucket id>/IndexedDB/``.
Those files are read too (tables ``indexed_db_metadata``, ``object_stores``,
``records``); their entries say so in ``value_note``.

A store that cannot be read is reported through ``options.note_problem`` (one
line per store) and the other stores are still listed.

Cache Storage and service worker registrations: :mod:`chromium_workers`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from privacy_inspector.browsers import leveldb, sqlitecopy
from privacy_inspector.browsers.base import ReadOptions, object_stores_note
from privacy_inspector.browsers.chromium_files import (
    Row,
    bucket_dirs,
    build_entries_from_rows,
    file_size,
    folder_size,
    is_empty_leveldb,
    relative_store,
    sorted_dirs,
    split_bytes,
)
from privacy_inspector.browsers.chromium_keys import (
    DecodeError,
    StorageKey,
    decode_varint,
    origin_of_identifier,
    parse_storage_key,
)
from privacy_inspector.core.records import Entry, Kind, Profile, ReadError

# --------------------------------------------------------------------------
# IndexedDB key coding (indexed_db_leveldb_coding.cc)
# --------------------------------------------------------------------------

# Global metadata type bytes, after the «0,0,0» prefix.
SCHEMA_VERSION_TYPE = 0
DATABASE_NAME_TYPE = 201
# Database metadata type bytes, after the «db,0,0» prefix.
OBJECT_STORE_META_TYPE = 50
OBJECT_STORE_NAME = 0
# The reserved index id of object store records.
OBJECT_STORE_DATA_INDEX = 1
# The backing store schema this module was written against (Chromium 156 writes 5).
KNOWN_SCHEMA_VERSION = 5


def decode_int(data: bytes) -> int:
    """An ``Int``: all of ``data``, little-endian (Chromium writes the fewest bytes)."""
    if not data or len(data) > 8:
        raise DecodeError("bad Int")
    return int.from_bytes(data, "little")


def decode_key_prefix(key: bytes) -> tuple[int, int, int, int]:
    """The «database id, object store id, index id» prefix: (db, store, index, next pos).

    The first byte gives the lengths: top 3 bits database id bytes - 1, next 3
    bits object store id bytes - 1, low 2 bits index id bytes - 1; the ids
    follow, little-endian.
    """
    if not key:
        raise DecodeError("empty key")
    first = key[0]
    db_len = (first >> 5) + 1
    store_len = ((first >> 2) & 7) + 1
    index_len = (first & 3) + 1
    end = 1 + db_len + store_len + index_len
    if len(key) < end:
        raise DecodeError("truncated key prefix")
    db = int.from_bytes(key[1 : 1 + db_len], "little")
    store = int.from_bytes(key[1 + db_len : 1 + db_len + store_len], "little")
    index = int.from_bytes(key[1 + db_len + store_len : end], "little")
    return db, store, index, end


def decode_string(data: bytes) -> str:
    """A ``String``: UTF-16BE, its length implied by ``data``."""
    if len(data) % 2:
        raise DecodeError("odd-length UTF-16 string")
    return data.decode("utf-16-be", "replace")


def decode_string_with_length(data: bytes, pos: int) -> tuple[str, int]:
    """A ``StringWithLength``: VarInt length in UTF-16 code units, then UTF-16BE."""
    length, pos = decode_varint(data, pos)
    end = pos + 2 * length
    if end > len(data):
        raise DecodeError("truncated string")
    return data[pos:end].decode("utf-16-be", "replace"), end


def decode_database_name_key(key: bytes) -> tuple[str, str]:
    """«0,0,0, 201, origin identifier, database name» -> (origin identifier, name).

    Raises DecodeError if ``key`` is not a DatabaseNameKey.
    """
    db, store, index, pos = decode_key_prefix(key)
    if db or store or index or pos >= len(key) or key[pos] != DATABASE_NAME_TYPE:
        raise DecodeError("not a database name key")
    origin, pos = decode_string_with_length(key, pos + 1)
    name, pos = decode_string_with_length(key, pos)
    if pos != len(key):
        raise DecodeError("trailing bytes after the database name")
    return origin, name


def decode_object_store_meta_key(key: bytes) -> tuple[int, int, int]:
    """«db,0,0, 50, store id, type» -> (database id, object store id, metadata type)."""
    db, store, index, pos = decode_key_prefix(key)
    if not db or store or index or pos >= len(key) or key[pos] != OBJECT_STORE_META_TYPE:
        raise DecodeError("not an object store metadata key")
    store_id, pos = decode_varint(key, pos + 1)
    if pos != len(key) - 1:
        raise DecodeError("bad object store metadata key")
    return db, store_id, key[pos]


@dataclass(slots=True)
class IdbDatabase:
    """One IndexedDB database as found in a backing store."""

    name: str
    origin_identifier: str
    id: int
    # Object store id -> name, and id -> record count.
    stores: dict[int, str] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    # Bytes of its keys and values (to share the store's size on disk).
    logical_bytes: int = 0

    def store_summary(self) -> str:
        """``stores: items (3), prefs (1)``, in object store id order."""
        ids = sorted(set(self.stores) | set(self.counts))
        return object_stores_note((self.stores.get(i, f"#{i}"), self.counts.get(i, 0)) for i in ids)


@dataclass(slots=True)
class BackingStore:
    """What one IndexedDB LevelDB holds."""

    databases: list[IdbDatabase]
    schema_version: int | None
    undecodable: int  # keys that could not be decoded


def parse_backing_store(records: dict[bytes, bytes]) -> BackingStore:
    """The databases, object stores and record counts of an IndexedDB LevelDB.

    ``records`` are the live keys and values.  Keys that do not decode are
    counted, not fatal.
    """
    by_id: dict[int, IdbDatabase] = {}
    stores: dict[tuple[int, int], str] = {}
    counts: dict[tuple[int, int], int] = {}
    sizes: dict[int, int] = {}
    undecodable = 0
    schema_version = None
    names: list[tuple[str, str, int, int]] = []
    for key, value in records.items():
        try:
            db, store, index, pos = decode_key_prefix(key)
        except DecodeError:
            undecodable += 1
            continue
        size = len(key) + len(value)
        if db == 0:
            if store or index or pos >= len(key):
                undecodable += 1
                continue
            kind = key[pos]
            if kind == DATABASE_NAME_TYPE:
                try:
                    origin, name = decode_database_name_key(key)
                    names.append((origin, name, decode_int(value), size))
                except DecodeError:
                    undecodable += 1
            elif kind == SCHEMA_VERSION_TYPE and pos + 1 == len(key):
                try:
                    schema_version = decode_int(value)
                except DecodeError:
                    undecodable += 1
            continue
        sizes[db] = sizes.get(db, 0) + size
        if store == 0:
            if pos < len(key) and key[pos] == OBJECT_STORE_META_TYPE:
                try:
                    _, store_id, meta = decode_object_store_meta_key(key)
                    if meta == OBJECT_STORE_NAME:
                        stores[(db, store_id)] = decode_string(value)
                except DecodeError:
                    undecodable += 1
        elif index == OBJECT_STORE_DATA_INDEX:
            counts[(db, store)] = counts.get((db, store), 0) + 1
    for origin, name, db_id, size in names:
        by_id[db_id] = IdbDatabase(name, origin, db_id, logical_bytes=size + sizes.get(db_id, 0))
    for (db, store_id), store_name in stores.items():
        if db in by_id:
            by_id[db].stores[store_id] = store_name
    for (db, store_id), n in counts.items():
        if db in by_id:
            by_id[db].counts[store_id] = n
    databases = sorted(by_id.values(), key=lambda d: (d.name, d.id))
    return BackingStore(databases, schema_version, undecodable)


def sqlite_database_file_name(name: str | bytes) -> str:
    """The file name of database ``name`` in Chromium's SQLite backing store
    (``file_path_util.cc``); ``name`` as text or as the UTF-16LE bytes it is stored in."""
    if not name:
        return "0"
    data = name if isinstance(name, bytes) else name.encode("utf-16-le", "surrogatepass")
    digest = hashlib.sha256(data).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=")


_SQLITE_DB_FILE = re.compile(r"^(?:0|[A-Z2-7]{52})$")


# --------------------------------------------------------------------------
# QuotaManager: bucket id -> storage key
# --------------------------------------------------------------------------

# Where Chromium keeps its quota database: ``WebStorage/`` since 2022
# (``storage/browser/quota/storage_directory.cc``), the profile folder before.
QUOTA_LOCATIONS = ("WebStorage/QuotaManager", "QuotaManager")
DEFAULT_BUCKET = "_default"


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    key: StorageKey | None
    raw_key: str
    name: str


def quota_location(profile: Profile) -> str:
    """The profile's quota database, relative to the profile (the current place if none)."""
    for location in QUOTA_LOCATIONS:
        if (profile.path / location).is_file():
            return location
    return QUOTA_LOCATIONS[0]


def _without_name(message: str, name: str) -> str:
    """``X is damaged`` -> `` is damaged``, so another name can stand before it."""
    return message[len(name) :] if message.startswith(name + " ") else f": {message}"


def read_buckets(profile: Profile, location: str) -> dict[int, Bucket]:
    """The buckets of the quota database at ``location`` (relative to the profile).

    Raises ReadError, with a message for the user, if it is missing or unreadable.
    Chromium 156 has ``buckets(id, storage_key, host, name, …)``; older
    versions also a ``type`` column (only temporary buckets have folders).
    """
    path = profile.path / location
    if not path.is_file():
        raise ReadError(f"{location} does not exist")
    try:
        with sqlitecopy.open_copy(path) as conn:
            present = sqlitecopy.columns(conn, "buckets")
            if not {"id", "storage_key"} <= present:
                raise ReadError(f"{location} has no buckets table this app knows")
            name = "name" if "name" in present else f"'{DEFAULT_BUCKET}'"
            rows = sqlitecopy.fetch_all(conn, f"SELECT id, storage_key, {name} FROM buckets", path)
    except ReadError as exc:
        message = str(exc)
        if message.startswith(location):
            raise
        raise ReadError(location + _without_name(message, path.name)) from exc
    buckets = {}
    for bucket_id, raw_key, bucket_name in rows:
        if isinstance(bucket_id, int) and isinstance(raw_key, str):
            buckets[bucket_id] = Bucket(
                bucket_id, parse_storage_key(raw_key), raw_key, str(bucket_name or DEFAULT_BUCKET)
            )
    return buckets


class _Buckets:
    """The quota database, read once, and only if a reader needs it."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._buckets: dict[int, Bucket] | None = None
        self.location = quota_location(profile)
        self.problem: str | None = None

    def get(self, bucket_id: int) -> Bucket | None:
        if self._buckets is None:
            try:
                self._buckets = read_buckets(self._profile, self.location)
            except ReadError as exc:
                self._buckets = {}
                self.problem = str(exc)
        return self._buckets.get(bucket_id)


# --------------------------------------------------------------------------
# IndexedDB
# --------------------------------------------------------------------------

SQLITE_FORMAT = "Chromium's SQLite IndexedDB format"
# The SQLite IndexedDB schema this module knows (``meta`` table, key ``version``).
KNOWN_SQLITE_VERSION = 1


@dataclass(slots=True)
class _Place:
    """Whose an IndexedDB folder is."""

    id_store: str
    origin: str | None  # None: unknown (take it from the databases' own keys)
    partition: str | None = None
    partition_site: str | None = None


def _bucket_place(bucket_id: int, buckets: _Buckets) -> _Place:
    bucket = buckets.get(bucket_id)
    if bucket is None or bucket.key is None:
        # An id of its own: never the same as a known bucket's.
        return _Place(f"WebStorage/{bucket_id}/IndexedDB", None)
    # The default bucket keeps the ids of the legacy first-party folder.
    id_store = "IndexedDB" if bucket.name == DEFAULT_BUCKET else f"IndexedDB bucket {bucket.name}"
    return _Place(id_store, bucket.key.origin, bucket.key.partition, bucket.key.partition_site)


def _read_leveldb_store(
    profile: Profile, folder: Path, blob_folder: Path, place: _Place, options: ReadOptions
) -> list[Row]:
    """The databases of one IndexedDB LevelDB (one origin and bucket)."""
    store = relative_store(profile, folder)
    try:
        records = leveldb.read_records(folder)
    except leveldb.LevelDBError as exc:
        reason = _without_name(str(exc), folder.name)
        if reason.startswith(": "):
            reason = " cannot be read" + reason
        options.note_problem(store, f"{store}{reason}; its databases are not listed")
        return []
    except OSError as exc:
        options.note_problem(store, f"{store} cannot be read: {exc.strerror or exc}")
        return []
    backing = parse_backing_store(records)
    if backing.schema_version is not None and backing.schema_version > KNOWN_SCHEMA_VERSION:
        options.note_problem(
            store,
            f"{store} has IndexedDB schema version {backing.schema_version}, newer than this "
            f"app knows ({KNOWN_SCHEMA_VERSION}); its databases were read as version "
            f"{KNOWN_SCHEMA_VERSION}",
        )
    if not backing.databases:
        if backing.undecodable:
            options.note_problem(
                store,
                f"{store} holds {backing.undecodable} keys this app cannot decode and no "
                "database it can name",
            )
        return []
    # Blobs are per database (<blob folder>/<database id, hex>/); the other
    # bytes on disk are shared out by the size of each database's keys and values.
    blob_bytes = [folder_size(blob_folder / f"{db.id:x}") for db in backing.databases]
    shared = folder_size(folder) + folder_size(blob_folder) - sum(blob_bytes)
    shares = split_bytes(max(shared, 0), [db.logical_bytes for db in backing.databases])
    rows = []
    for db, blobs, share in zip(backing.databases, blob_bytes, shares, strict=True):
        # The folder (or the bucket) says whose it is; the database's own key
        # says it too, but without the partition.
        origin = place.origin or origin_of_identifier(db.origin_identifier)
        if origin is None:
            options.note_problem(
                store,
                f"{store}: database {db.name!r} belongs to an origin this app cannot read "
                f"({db.origin_identifier!r}); not listed",
            )
            continue
        rows.append(
            Row(store, place.id_store, origin, db.name, place.partition, place.partition_site,
                 blobs + share, db.store_summary())
        )
    return rows


def _sqlite_database(conn: sqlite3.Connection, path: Path) -> tuple[str, str, int | None]:
    """(name, store summary, schema version) of a database in the SQLite format."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"indexed_db_metadata", "object_stores", "records"} <= tables:
        raise ReadError(
            f"{path.name} is not in a layout this app knows (no indexed_db_metadata, "
            "object_stores or records table)"
        )
    rows = sqlitecopy.fetch_all(conn, "SELECT name FROM indexed_db_metadata", path)
    if not rows or not isinstance(rows[0][0], bytes):
        raise ReadError(f"{path.name} has no database name (indexed_db_metadata is empty)")
    # Names are BLOBs of UTF-16 in host order (little-endian on every supported CPU).
    name = rows[0][0].decode("utf-16-le", "replace")
    stores = {
        i: n.decode("utf-16-le", "replace") if isinstance(n, bytes) else str(n)
        for i, n in sqlitecopy.fetch_all(conn, "SELECT id, name FROM object_stores", path)
    }
    counts = dict(sqlitecopy.fetch_all(
        conn, "SELECT object_store_id, count(*) FROM records GROUP BY object_store_id", path
    ))
    version = None
    if "meta" in tables:
        row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        version = int(row[0]) if row and str(row[0]).isdigit() else None
    summary = IdbDatabase(name, "", 0, stores=stores, counts=counts).store_summary()
    return name, summary, version


def _sqlite_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if _SQLITE_DB_FILE.match(p.name) and p.is_file())
    except OSError:
        return []


def _read_sqlite_database(
    profile: Profile, path: Path, place: _Place, origin: str, options: ReadOptions
) -> Row | None:
    """One database file of Chromium's SQLite backing store."""
    store = relative_store(profile, path)
    try:
        with sqlitecopy.open_copy(path) as conn:
            name, summary, version = _sqlite_database(conn, path)
    except ReadError as exc:
        options.note_problem(
            store, f"{store} ({SQLITE_FORMAT}){_without_name(str(exc), path.name)}"
        )
        return None
    except sqlite3.Error as exc:
        options.note_problem(store, f"{store} ({SQLITE_FORMAT}) cannot be read: {exc}")
        return None
    if version is not None and version > KNOWN_SQLITE_VERSION:
        options.note_problem(
            store,
            f"{store} is in {SQLITE_FORMAT} version {version}, newer than this app knows "
            f"({KNOWN_SQLITE_VERSION}); it was read with the tables this app knows",
        )
    size = sum(file_size(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-journal"))
    return Row(store, place.id_store, origin, name, place.partition, place.partition_site,
                size, f"{summary}; {SQLITE_FORMAT}")


def _indexed_db_rows(profile: Profile, options: ReadOptions) -> list[Row]:
    rows: list[Row] = []
    # Default buckets of first-party origins: IndexedDB/<origin id>.indexeddb.leveldb,
    # or IndexedDB/<origin id>/ in the SQLite format.
    for folder in sorted_dirs(profile.path / "IndexedDB"):
        if folder.name.endswith(".indexeddb.blob"):
            continue
        identifier = folder.name.removesuffix(".indexeddb.leveldb")
        origin = origin_of_identifier(identifier)
        if origin is None:
            store = relative_store(profile, folder)
            options.note_problem(store, f"{store}: the folder is not named after an origin; not read")
            continue
        place = _Place("IndexedDB", origin)
        if identifier != folder.name:
            if not is_empty_leveldb(folder):
                blobs = folder.with_name(f"{identifier}.indexeddb.blob")
                rows += _read_leveldb_store(profile, folder, blobs, place, options)
        else:
            for path in _sqlite_files(folder):
                row = _read_sqlite_database(profile, path, place, origin, options)
                rows += [row] if row else []
    # Every other bucket: WebStorage/<bucket id>/IndexedDB/.
    buckets = _Buckets(profile)
    unknown: list[str] = []
    unlisted = 0
    for bucket_id, bucket_folder in bucket_dirs(profile):
        folder = bucket_folder / "IndexedDB"
        leveldb_folder = folder / "indexeddb.leveldb"
        has_leveldb = leveldb_folder.is_dir() and not is_empty_leveldb(leveldb_folder)
        sqlite_files = _sqlite_files(folder)
        if not has_leveldb and not sqlite_files:
            continue  # what indexedDB.databases() leaves: an empty folder
        place = _bucket_place(bucket_id, buckets)
        if place.origin is None:
            unknown.append(relative_store(profile, folder))
        if has_leveldb:
            rows += _read_leveldb_store(
                profile, leveldb_folder, folder / "indexeddb.blob", place, options
            )
        if place.origin is None:
            # The SQLite format does not record the origin: nothing to list by.
            unlisted += len(sqlite_files)
            continue
        for path in sqlite_files:
            row = _read_sqlite_database(profile, path, place, place.origin, options)
            rows += [row] if row else []
    if unknown:
        folders = f"{len(unknown)} IndexedDB bucket folder(s) ({', '.join(unknown)})"
        if buckets.problem:
            text = f"{buckets.problem}: the storage key of {folders} is unknown"
        else:
            text = f"{buckets.location} has no row for {folders}"
        text += ", so their databases are listed by origin without their partition"
        if unlisted:
            text += f", except {unlisted} in {SQLITE_FORMAT}, which cannot be listed without it"
        options.note_problem(buckets.location, text)
    return rows


def read_indexed_db(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Every IndexedDB database of a Chromium profile: one Entry per database."""
    return build_entries_from_rows(profile, Kind.INDEXED_DB, _indexed_db_rows(profile, options))
