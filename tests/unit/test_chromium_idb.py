"""Chromium IndexedDB, Cache Storage and service workers: decoders and readers.

The key encoders below are written from Chromium's
``content/browser/indexed_db/docs/leveldb_coding_scheme.md``, independently of
the module under test, and the LevelDB folders are written with the shared
test writer (tests/fixtures/leveldb_writer.py) so that the reader sees what
Chromium writes.  Bytes
that real Chromium 156 wrote (the demo profile, an ``index.txt`` and a
registration) are used as they are.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_files as files
from privacy_inspector.browsers import chromium_idb as idb
from privacy_inspector.browsers import chromium_keys as keys
from privacy_inspector.browsers import chromium_workers as workers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core.records import Profile, ReadError
from tests.fixtures.leveldb_writer import (
    log_file,
    varint,
    version_edit,
    write_batch,
    write_database,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "chromium" / "Default"

# --------------------------------------------------------------------------
# Writing LevelDB folders
# --------------------------------------------------------------------------


def write_leveldb(
    folder: Path, batches: list[list[tuple[bytes, bytes | None]]], comparator: str = "idb_cmp1"
) -> Path:
    """A LevelDB folder as Chromium leaves a young database: CURRENT, a MANIFEST
    naming the comparator, and everything in ``000003.log``."""
    seq, records = 1, []
    for ops in batches:
        records.append(write_batch(seq, ops))
        seq += len(ops)
    edit = version_edit(comparator=comparator, log_number=0, next_file=2, last_sequence=0)
    write_database(folder, manifest=[edit], logs={3: log_file(records)})
    (folder / "LOCK").write_bytes(b"")
    return folder


# --------------------------------------------------------------------------
# IndexedDB keys, from the coding scheme
# --------------------------------------------------------------------------


def _int(n: int) -> bytes:
    return n.to_bytes(max(1, (n.bit_length() + 7) // 8), "little")


def prefix(db: int, store: int = 0, index: int = 0) -> bytes:
    d, s, i = _int(db), _int(store), _int(index)
    return bytes([(len(d) - 1) << 5 | (len(s) - 1) << 2 | (len(i) - 1)]) + d + s + i


def string_with_length(text: str) -> bytes:
    data = text.encode("utf-16-be", "surrogatepass")
    return varint(len(data) // 2) + data


def database_name_key(origin_id: str, name: str) -> bytes:
    return prefix(0) + bytes([201]) + string_with_length(origin_id) + string_with_length(name)


def store_meta_key(db: int, store: int, meta: int) -> bytes:
    return prefix(db) + bytes([50]) + varint(store) + bytes([meta])


def number_key(n: float) -> bytes:
    return b"\x03" + struct.pack("<d", n)


def idb_ops(origin_id: str, databases: dict[str, tuple[int, dict[str, int]]]) -> list:
    """The keys Chromium writes for ``{name: (database id, {store: records})}``."""
    ops: list[tuple[bytes, bytes | None]] = [
        (prefix(0) + b"\x00", b"\x05"),  # schema version
        (prefix(0) + b"\x01", _int(max((i for i, _ in databases.values()), default=0))),
    ]
    for name, (db_id, stores) in databases.items():
        ops.append((database_name_key(origin_id + "@1", name), _int(db_id)))
        ops.append((prefix(db_id) + b"\x03", _int(len(stores))))  # max object store id
        ops.append((prefix(db_id) + b"\x04", b"\x01"))  # version
        for store_id, (store, count) in enumerate(stores.items(), start=1):
            ops.append((store_meta_key(db_id, store_id, 0), store.encode("utf-16-be")))
            ops.append((store_meta_key(db_id, store_id, 1), b"\x00\x00\x01\x02\x00i\x00d"))
            ops.append((prefix(db_id) + b"\xc8" + string_with_length(store), _int(store_id)))
            for n in range(count):
                key = number_key(n + 1)
                ops.append((prefix(db_id, store_id, 1) + key, b"\x01\xff\x15value"))
                ops.append((prefix(db_id, store_id, 2) + key, b"\x01"))
    return ops


def profile_at(path: Path) -> Profile:
    return Profile(path, "chromium", "chromium", path.name)


def make_quota(path: Path, rows: list[tuple[int, str, str]], *, with_type: bool = False) -> None:
    """A QuotaManager database with the columns of Chromium 156 (or the older ``type``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    type_column = "type INTEGER NOT NULL DEFAULT 0," if with_type else ""
    conn.execute(
        f"CREATE TABLE buckets(id INTEGER PRIMARY KEY AUTOINCREMENT, storage_key TEXT NOT NULL, "
        f"host TEXT NOT NULL, {type_column} name TEXT NOT NULL, use_count INTEGER NOT NULL DEFAULT 0, "
        "last_accessed INTEGER NOT NULL DEFAULT 0, last_modified INTEGER NOT NULL DEFAULT 0, "
        "expiration INTEGER NOT NULL DEFAULT 0, quota INTEGER NOT NULL DEFAULT 0, "
        "persistent INTEGER NOT NULL DEFAULT 0, durability INTEGER NOT NULL DEFAULT 0)"
    )
    for bucket_id, key, name in rows:
        host = key.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        conn.execute(
            "INSERT INTO buckets(id, storage_key, host, name) VALUES (?, ?, ?, ?)",
            (bucket_id, key, host, name),
        )
    conn.commit()
    conn.close()


def by_name(entries) -> dict:
    return {(e.origin, e.name): e for e in entries}


# --------------------------------------------------------------------------
# Decoders
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value", "end"),
    [(b"\x00", 0, 1), (b"\x7f", 127, 1), (b"\x80\x01", 128, 2), (b"\xac\x02", 300, 2),
     (b"\xff\xff\xff\xff\x0f", 2**32 - 1, 5)],
)
def test_varint(data, value, end):
    assert keys.decode_varint(data + b"rest") == (value, end)


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff" * 11])
def test_varint_truncated_or_too_long(data):
    with pytest.raises(keys.DecodeError):
        keys.decode_varint(data)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (b"\x00\x00\x00\x00", (0, 0, 0, 4)),
        (b"\x00\x01\x01\x01\x03", (1, 1, 1, 4)),
        # Database id 300 takes two bytes: top three bits of the first byte = 1.
        (b"\x20\x2c\x01\x02\x1e", (300, 2, 30, 5)),
        (prefix(70000, 300, 40), (70000, 300, 40, 7)),
    ],
)
def test_key_prefix(key, expected):
    assert idb.decode_key_prefix(key) == expected


@pytest.mark.parametrize("key", [b"", b"\x00\x00", b"\xe0\x01"])
def test_key_prefix_truncated(key):
    with pytest.raises(keys.DecodeError):
        idb.decode_key_prefix(key)


def test_database_name_key_as_chromium_wrote_it():
    # From the demo profile, written by Chromium 156.
    key = bytes.fromhex(
        "00000000c91900680074007400700073005f007700770077002e006c006900760065006f0070"
        "0073002e0063006f006d005f0030004000310a006c006900760065006f00700073002d00640062"
    )
    assert idb.decode_database_name_key(key) == ("https_www.liveops.com_0@1", "liveops-db")


def test_database_name_key_non_ascii_name():
    name = "Ünïcødé 🍪 db"
    key = database_name_key("https_example.com_0@1", name)
    assert idb.decode_database_name_key(key) == ("https_example.com_0@1", name)


@pytest.mark.parametrize(
    "key",
    [
        prefix(0) + b"\x01",  # another global metadata key
        prefix(1) + bytes([201]) + string_with_length("a") + string_with_length("b"),
        database_name_key("o", "name")[:-2],  # truncated name
        database_name_key("o", "name") + b"\x00",  # trailing bytes
    ],
)
def test_not_a_database_name_key(key):
    with pytest.raises(keys.DecodeError):
        idb.decode_database_name_key(key)


def test_object_store_meta_key():
    assert idb.decode_object_store_meta_key(store_meta_key(1, 1, 0)) == (1, 1, 0)
    assert idb.decode_object_store_meta_key(store_meta_key(5, 300, 7)) == (5, 300, 7)
    with pytest.raises(keys.DecodeError):
        idb.decode_object_store_meta_key(prefix(1) + b"\x64\x01\x01\x00")  # index metadata
    with pytest.raises(keys.DecodeError):
        idb.decode_object_store_meta_key(store_meta_key(0, 1, 0))  # global prefix


def test_int():
    assert idb.decode_int(b"\x01") == 1
    assert idb.decode_int(b"\x00\x01") == 256
    for bad in (b"", b"\x00" * 9):
        with pytest.raises(keys.DecodeError):
            idb.decode_int(bad)


def test_parse_backing_store_names_stores_and_counts():
    ops = idb_ops(
        "https_www.example.com_0",
        {"shop": (1, {"items": 3, "prefs": 1}), "empty": (2, {}), "logs": (3, {"x": 0})},
    )
    backing = idb.parse_backing_store(dict(ops))
    assert backing.schema_version == 5
    assert backing.undecodable == 0
    assert [(d.name, d.id, d.store_summary()) for d in backing.databases] == [
        ("empty", 2, "no object stores"),
        ("logs", 3, "stores: x (0)"),
        ("shop", 1, "stores: items (3), prefs (1)"),
    ]
    assert {d.origin_identifier for d in backing.databases} == {"https_www.example.com_0@1"}
    shop = next(d for d in backing.databases if d.name == "shop")
    assert shop.logical_bytes > next(d for d in backing.databases if d.name == "empty").logical_bytes


def test_parse_backing_store_skips_garbage_keys():
    ops = dict(idb_ops("https_a.example_0", {"db": (1, {"s": 2})}))
    ops[b""] = b"x"
    ops[b"\xe0\x01"] = b"x"  # truncated prefix
    ops[prefix(0) + bytes([201]) + b"\x05\x00"] = b"\x07"  # truncated name key
    backing = idb.parse_backing_store(ops)
    assert [(d.name, d.store_summary()) for d in backing.databases] == [("db", "stores: s (2)")]
    assert backing.undecodable == 3


def test_records_of_a_store_without_a_name_are_still_counted():
    ops = dict(idb_ops("https_a.example_0", {"db": (1, {"s": 1})}))
    ops[prefix(1, 7, 1) + number_key(1)] = b"\x01v"
    backing = idb.parse_backing_store(ops)
    assert backing.databases[0].store_summary() == "stores: s (1), #7 (1)"


@pytest.mark.parametrize(
    ("identifier", "origin"),
    [
        ("https_www.liveops.com_0@1", "https://www.liveops.com"),
        ("https_www.liveops.com_0", "https://www.liveops.com"),
        ("https_www.liveops.com_43123", "https://www.liveops.com:43123"),
        ("http_localhost_8080", "http://localhost:8080"),
        ("http_[1__2]_8080", "http://[1::2]:8080"),
        ("http_[__1]_0", "http://[::1]"),
        ("chrome-extension_abcdefghijklmnop_0", "chrome-extension://abcdefghijklmnop"),
        ("file__0", "file://"),
        ("https_Ex.COM_0", "https://ex.com"),
    ],
)
def test_origin_of_identifier(identifier, origin):
    assert keys.origin_of_identifier(identifier) == origin


@pytest.mark.parametrize(
    "identifier", ["", "https", "_www.x.com_0", "https_x.com_", "https_x.com_port", "https__0",
                   "https_x.com_70000"]
)
def test_bad_origin_identifier(identifier):
    assert keys.origin_of_identifier(identifier) is None


@pytest.mark.parametrize(
    "origin", ["https://www.liveops.com", "https://a.example:8443", "http://[::1]:8080", "file://"]
)
def test_origin_identifier_round_trip(origin):
    assert keys.origin_of_identifier(keys.origin_identifier(origin)) == origin


@pytest.mark.parametrize(
    ("key", "origin", "partition", "site"),
    [
        ("https://www.liveops.com/", "https://www.liveops.com", None, None),
        ("https://www.liveops.com", "https://www.liveops.com", None, None),
        ("https://www.liveops.com:43123/", "https://www.liveops.com:43123", None, None),
        ("https://ad.doubleclick.net/^0https://liveops.com", "https://ad.doubleclick.net",
         "^0https://liveops.com", "liveops.com"),
        ("https://ad.doubleclick.net:43123/^0https://liveops.com", "https://ad.doubleclick.net:43123",
         "^0https://liveops.com", "liveops.com"),
        # Older serialisation with the ancestor bit after the site.
        ("https://ad.doubleclick.net/^0https://www.liveops.co.uk^31", "https://ad.doubleclick.net",
         "^0https://www.liveops.co.uk^31", "liveops.co.uk"),
        # Same-site top level, cross-site frame in between.
        ("https://a.example.com/^31", "https://a.example.com", "^31", "example.com"),
        # A nonce (anonymous iframe, fenced frame): no site.
        ("https://a.example/^112345^267890", "https://a.example", "^112345^267890", None),
        # An opaque top-level site and its precursor.
        ("https://a.example/^41^52^6https://top.example", "https://a.example",
         "^41^52^6https://top.example", "top.example"),
    ],
)
def test_parse_storage_key(key, origin, partition, site):
    assert keys.parse_storage_key(key) == keys.StorageKey(origin, partition, site)


@pytest.mark.parametrize("key", ["", "^0https://a.example", "not a url", "https:///"])
def test_parse_storage_key_without_origin(key):
    assert keys.parse_storage_key(key) is None


def test_sqlite_file_names_as_chromium_names_them():
    # Observed: Chromium 156 with --enable-features=IdbSqliteBackingStore.
    assert idb.sqlite_database_file_name("liveops-db") == "ENQQLWSGMM4AOQFTQ4ET5VBZEE2XBJICSLEQV4J673IIAYCQDDRQ"
    assert idb.sqlite_database_file_name("dc-db") == "MTG52TJIU7OGQV5A6PHVFZXJNHTJSVPRHQJ4JWX4ZZ737YNKVIAQ"
    assert idb.sqlite_database_file_name("") == "0"
    # Hashed as stored (UTF-16LE), so a lone surrogate keeps its file name.
    assert idb.sqlite_database_file_name("a\ud800") == idb.sqlite_database_file_name(
        "a\ud800".encode("utf-16-le", "surrogatepass"))


@pytest.mark.parametrize(
    ("total", "weights"),
    [(100, [1, 1, 1]), (7, [3, 0, 1]), (0, [5, 5]), (10, [0, 0]), (12345, [17, 3, 980, 1]),
     (10**15 + 7, [10**12 + 1, 3 * 10**12, 1])],
)
def test_shares_add_up(total, weights):
    shares = files.split_bytes(total, weights)
    assert sum(shares) == total
    assert all(s >= 0 for s in shares)


# Real index.txt files written by Chromium 156 (first party and partitioned).
FIRST_PARTY_INDEX = bytes.fromhex(
    "0a610a106c6976656f70732d63616368652d7631122433643138636635632d613237332d346661352d616462"
    "342d303261383031346562336633188004280030033a206c006900760065006f00700073002d006300610063"
    "00680065002d00760031000a5b0a0e6c6976656f70732d617373657473122432313866663132332d30303433"
    "2d343862332d613936312d61376561663733366666336218800c280030033a1c6c006900760065006f007000"
    "73002d00610073007300650074007300121e68747470733a2f2f7777772e6c6976656f70732e636f6d3a3337"
    "3830352f1a1e68747470733a2f2f7777772e6c6976656f70732e636f6d3a33373830352f20032801"
)
PARTITIONED_INDEX = bytes.fromhex(
    "0a6d0a14646f75626c65636c69636b2d63616368652d7631122438363333386134312d386631332d34653632"
    "2d383964612d376663343438646438393130188004280030033a2864006f00750062006c00650063006c0069"
    "0063006b002d00630061006300680065002d00760031000a670a12646f75626c65636c69636b2d6173736574"
    "73122439383537333166312d356238312d343639372d623166342d31636537616465653038336618800c2800"
    "30033a2464006f00750062006c00650063006c00690063006b002d0061007300730065007400730012216874"
    "7470733a2f2f61642e646f75626c65636c69636b2e6e65743a33373830352f1a3668747470733a2f2f61642e"
    "646f75626c65636c69636b2e6e65743a33373830352f5e3068747470733a2f2f6c6976656f70732e636f6d20"
    "042801"
)
# A registration (REG:https://www.liveops.com:37805/\x000) as Chromium 156 stored it.
REGISTRATION = bytes.fromhex(
    "0800122268747470733a2f2f7777772e6c6976656f70732e636f6d3a33373830352f6170702f1a2368747470"
    "733a2f2f7777772e6c6976656f70732e636f6d3a33373830352f73772e6a73200028013001389f90bfdedefe"
    "ef1740aa015a006208080012047472756568d10468aa0868b30868a10b700078008001a5a4bcdedefeef1788"
    "0100980100a80100b00102ba0106080110001801c80100d00100"
)


def test_cache_index_as_chromium_wrote_it():
    index = workers.parse_cache_index(FIRST_PARTY_INDEX)
    assert index.storage_key == "https://www.liveops.com:37805/"
    assert [(c.name, c.folder, c.size) for c in index.caches] == [
        ("liveops-cache-v1", "3d18cf5c-a273-4fa5-adb4-02a8014eb3f3", 512),
        ("liveops-assets", "218ff123-0043-48b3-a961-a7eaf736ff3b", 1536),
    ]
    index = workers.parse_cache_index(PARTITIONED_INDEX)
    assert index.storage_key == "https://ad.doubleclick.net:37805/^0https://liveops.com"
    assert [c.name for c in index.caches] == ["doubleclick-cache-v1", "doubleclick-assets"]


def cache_index(storage_key: str | None, caches: list[tuple[str, str]], *, origin: str | None = None,
                utf16: bool = True) -> bytes:
    """A CacheStorageIndex protobuf: caches as (name, folder)."""
    def field(number: int, data: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(data)) + data

    out = b""
    for name, folder in caches:
        # Chromium writes the UTF-8 name with U+FFFD for what UTF-8 cannot hold.
        utf8 = name.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode()
        body = field(1, utf8) + field(2, folder.encode()) + varint(3 << 3) + varint(100)
        if utf16:
            body += field(7, name.encode("utf-16-le", "surrogatepass"))
        out += field(1, body)
    if origin:
        out += field(2, origin.encode())
    if storage_key:
        out += field(3, storage_key.encode())
    return out


def test_cache_index_names():
    # The UTF-16 name (field 7) wins over the UTF-8 one (field 1).
    data = cache_index("https://a.example/", [("caché ☕", "d1")])
    data = data.replace("caché ☕".encode(), b"x" * len("caché ☕".encode()))
    assert workers.parse_cache_index(data).caches[0].name == "caché ☕"
    # A lone surrogate (legal in a DOMString) becomes U+FFFD.
    data = cache_index("https://a.example/", [("bad\ud800name", "d1")])
    assert workers.parse_cache_index(data).caches[0].name == "bad\ufffdname"
    # Before field 7 there was only the UTF-8 name, and before storage_key only the origin.
    data = cache_index(None, [("v1", "d1")], origin="https://a.example/", utf16=False)
    index = workers.parse_cache_index(data)
    assert (index.storage_key, index.caches[0].name) == ("https://a.example/", "v1")


@pytest.mark.parametrize("data", [b"\x0a\x05abc", b"\x0a\x02\x08", b"\x07", b"\x0a\x00"])
def test_cache_index_damaged(data):
    with pytest.raises(keys.DecodeError):
        workers.parse_cache_index(data)


def test_registration_as_chromium_wrote_it():
    reg = workers.parse_registration(REGISTRATION)
    assert reg == workers.Registration(
        0, "https://www.liveops.com:37805/app/", "https://www.liveops.com:37805/sw.js", True, 170
    )


def registration(scope: str, script: str, reg_id: int = 1, size: int = 42) -> bytes:
    def field(number: int, data: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(data)) + data

    return (
        varint(1 << 3) + varint(reg_id) + field(2, scope.encode()) + field(3, script.encode())
        + varint(4 << 3) + varint(reg_id) + varint(5 << 3) + b"\x01" + varint(6 << 3) + b"\x00"
        + varint(7 << 3) + varint(13_440_000_000_000_000) + varint(8 << 3) + varint(size)
    )


def test_registration_without_scope_is_damaged():
    with pytest.raises(keys.DecodeError):
        workers.parse_registration(varint(1 << 3) + varint(3))


# --------------------------------------------------------------------------
# Reading IndexedDB
# --------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path) -> Profile:
    """A copy of the demo profile (written by Chromium 156)."""
    path = tmp_path / "Default"
    shutil.copytree(DEMO, path)
    return profile_at(path)


def test_demo_profile(demo):
    options = ReadOptions()
    entries = idb.read_indexed_db(demo, options)
    assert options.problems == []
    found = {(e.origin, e.name, e.partition_site, e.value_note, e.store) for e in entries}
    assert found == {
        ("https://www.liveops.com", "liveops-db", None, "stores: events (3)",
         "IndexedDB/https_www.liveops.com_0.indexeddb.leveldb"),
        ("https://ad.doubleclick.net", "dc-db", "liveops.com", "stores: impressions (2)",
         "WebStorage/2/IndexedDB/indexeddb.leveldb"),
    }
    for e in entries:
        assert e.kind == "indexed_db"
        assert (e.value, e.value_state, e.persistent, e.stale) == (None, "unavailable", True, False)
        assert e.partitioned is (e.partition_site is not None)
        assert e.size == files.folder_size(demo.path / e.store)
    assert {e.site for e in entries} == {"liveops.com", "doubleclick.net"}


def test_ids_are_stable_and_distinct(demo, tmp_path):
    first = idb.read_indexed_db(demo, ReadOptions())
    copy = tmp_path / "elsewhere" / "Default"
    shutil.copytree(demo.path, copy)
    again = idb.read_indexed_db(profile_at(copy), ReadOptions())
    assert sorted(e.id for e in first) == sorted(e.id for e in again)
    assert len({e.id for e in first}) == len(first)


def test_several_databases_share_the_bytes_on_disk(tmp_path):
    profile = profile_at(tmp_path / "Default")
    folder = profile.path / "IndexedDB" / "https_shop.example_8443.indexeddb.leveldb"
    write_leveldb(folder, [idb_ops("https_shop.example_8443", {
        "big": (1, {"items": 40}), "small": (2, {"s": 1})})])
    blobs = profile.path / "IndexedDB" / "https_shop.example_8443.indexeddb.blob" / "1" / "00"
    blobs.mkdir(parents=True)
    (blobs / "2").write_bytes(b"b" * 5000)
    options = ReadOptions()
    entries = by_name(idb.read_indexed_db(profile, options))
    assert options.problems == []
    big = entries[("https://shop.example:8443", "big")]
    small = entries[("https://shop.example:8443", "small")]
    assert big.value_note == "stores: items (40)"
    assert small.value_note == "stores: s (1)"
    total = files.folder_size(folder) + 5000
    assert big.size + small.size == total
    assert big.size > 5000 + small.size  # its blob, and most of the keys


def test_deleted_records_and_databases_are_gone(tmp_path):
    profile = profile_at(tmp_path / "Default")
    ops = idb_ops("https_a.example_0", {"keep": (1, {"s": 3}), "gone": (2, {"t": 2})})
    deletions = [(k, None) for k, _ in ops if k.startswith(prefix(2)) or k == database_name_key(
        "https_a.example_0@1", "gone")]
    deletions.append((prefix(1, 1, 1) + number_key(2), None))
    write_leveldb(profile.path / "IndexedDB" / "https_a.example_0.indexeddb.leveldb", [ops, deletions])
    entries = idb.read_indexed_db(profile, ReadOptions())
    assert [(e.name, e.value_note) for e in entries] == [("keep", "stores: s (2)")]


def test_large_batches_across_log_blocks(tmp_path):
    # Two write batches of about 140 KB each: records split over 32 KiB blocks.
    profile = profile_at(tmp_path / "Default")
    ops = [
        (k, v + b"p" * 100 if k.startswith(prefix(1, 1, 1)) else v)
        for k, v in idb_ops("https_a.example_0", {"big": (1, {"s": 2000})})
    ]
    folder = profile.path / "IndexedDB" / "https_a.example_0.indexeddb.leveldb"
    write_leveldb(folder, [ops[:3000], ops[3000:]])
    assert (folder / "000003.log").stat().st_size > 4 * 32768
    entries = idb.read_indexed_db(profile, ReadOptions())
    assert [(e.name, e.value_note) for e in entries] == [("big", "stores: s (2000)")]


def test_buckets_and_partitions(tmp_path):
    profile = profile_at(tmp_path / "Default")
    web = profile.path / "WebStorage"
    make_quota(web / "QuotaManager", [
        (1, "https://www.liveops.com/", "_default"),
        (2, "https://ad.doubleclick.net:8443/^0https://liveops.com", "_default"),
        (3, "https://www.liveops.com/", "inbox"),
        (4, "https://only-local-storage.example/", "_default"),
    ])
    write_leveldb(web / "2" / "IndexedDB" / "indexeddb.leveldb",
                  [idb_ops("https_ad.doubleclick.net_8443", {"dc-db": (1, {"impressions": 2})})])
    write_leveldb(web / "3" / "IndexedDB" / "indexeddb.leveldb",
                  [idb_ops("https_www.liveops.com_0", {"mail": (1, {"m": 1})})])
    write_leveldb(profile.path / "IndexedDB" / "https_www.liveops.com_0.indexeddb.leveldb",
                  [idb_ops("https_www.liveops.com_0", {"mail": (1, {"m": 5})})])
    # What indexedDB.databases() leaves behind: empty folders.
    (web / "4" / "IndexedDB").mkdir(parents=True)
    (web / "1" / "IndexedDB").mkdir(parents=True)
    options = ReadOptions()
    entries = idb.read_indexed_db(profile, options)
    assert options.problems == []
    found = sorted((e.origin, e.name, e.partition_site, e.partitioned, e.value_note, e.store)
                   for e in entries)
    assert found == [
        ("https://ad.doubleclick.net:8443", "dc-db", "liveops.com", True, "stores: impressions (2)",
         "WebStorage/2/IndexedDB/indexeddb.leveldb"),
        ("https://www.liveops.com", "mail", None, False, "stores: m (1)",
         "WebStorage/3/IndexedDB/indexeddb.leveldb"),
        ("https://www.liveops.com", "mail", None, False, "stores: m (5)",
         "IndexedDB/https_www.liveops.com_0.indexeddb.leveldb"),
    ]
    # The "inbox" bucket's database is not the default bucket's, though both are "mail".
    assert len({e.id for e in entries}) == 3


def test_corrupt_store_is_one_problem_and_the_rest_is_listed(tmp_path):
    profile = profile_at(tmp_path / "Default")
    base = profile.path / "IndexedDB"
    for host in ("a.example", "b.example", "c.example", "d.example"):
        write_leveldb(base / f"https_{host}_0.indexeddb.leveldb",
                      [idb_ops(f"https_{host}_0", {f"{host}-db": (1, {"s": 1})}),
                       [(prefix(0) + b"\x05", b"\x00")]])
    # b: a flipped byte in the log's first record (checksum mismatch); c: no
    # MANIFEST; d: garbage CURRENT.
    log = base / "https_b.example_0.indexeddb.leveldb" / "000003.log"
    data = bytearray(log.read_bytes())
    data[40] ^= 0xFF
    log.write_bytes(bytes(data))
    (base / "https_c.example_0.indexeddb.leveldb" / "MANIFEST-000001").unlink()
    (base / "https_d.example_0.indexeddb.leveldb" / "CURRENT").write_bytes(b"\x00garbage")
    options = ReadOptions()
    entries = idb.read_indexed_db(profile, options)
    assert [e.name for e in entries] == ["a.example-db"]
    stores = [store for store, _ in options.problems]
    assert stores == [
        "IndexedDB/https_b.example_0.indexeddb.leveldb",
        "IndexedDB/https_c.example_0.indexeddb.leveldb",
        "IndexedDB/https_d.example_0.indexeddb.leveldb",
    ]
    for store, message in options.problems:
        assert message.startswith(f"{store} ")
        assert message.endswith("; its databases are not listed")
        assert "\n" not in message
    messages = [m for _, m in options.problems]
    assert "checksum mismatch" in messages[0]
    assert "MANIFEST-000001, named by CURRENT, is missing" in messages[1]
    assert "CURRENT file is malformed" in messages[2]


@pytest.mark.parametrize("damage", ["missing", "garbage", "no table"])
def test_quota_manager_missing_or_damaged(tmp_path, damage):
    profile = profile_at(tmp_path / "Default")
    web = profile.path / "WebStorage"
    write_leveldb(web / "7" / "IndexedDB" / "indexeddb.leveldb",
                  [idb_ops("https_ad.doubleclick.net_0", {"dc-db": (1, {"impressions": 2})})])
    write_leveldb(profile.path / "IndexedDB" / "https_www.liveops.com_0.indexeddb.leveldb",
                  [idb_ops("https_www.liveops.com_0", {"liveops-db": (1, {"events": 3})})])
    if damage == "garbage":
        (web / "QuotaManager").write_bytes(b"this is not an sqlite database" * 50)
    elif damage == "no table":
        sqlite3.connect(web / "QuotaManager").execute("CREATE TABLE meta(key, value)").connection.close()
    options = ReadOptions()
    entries = by_name(idb.read_indexed_db(profile, options))
    # Both databases are listed; the bucketed one by the origin in its own keys.
    assert entries[("https://www.liveops.com", "liveops-db")].value_note == "stores: events (3)"
    dc = entries[("https://ad.doubleclick.net", "dc-db")]
    assert (dc.value_note, dc.partition_site) == ("stores: impressions (2)", None)
    assert len(options.problems) == 1
    store, message = options.problems[0]
    assert store == "WebStorage/QuotaManager"
    assert "WebStorage/7/IndexedDB" in message and "partition" in message
    expected = {"missing": "does not exist", "garbage": "not an SQLite database",
                "no table": "no buckets table"}[damage]
    assert expected in message


def test_bucket_missing_from_quota_manager(tmp_path):
    profile = profile_at(tmp_path / "Default")
    web = profile.path / "WebStorage"
    make_quota(web / "QuotaManager", [(1, "https://a.example/", "_default")])
    write_leveldb(web / "9" / "IndexedDB" / "indexeddb.leveldb",
                  [idb_ops("https_b.example_0", {"b-db": (1, {"s": 1})})])
    options = ReadOptions()
    entries = idb.read_indexed_db(profile, options)
    assert [(e.origin, e.name, e.partition_site) for e in entries] == [
        ("https://b.example", "b-db", None)]
    assert [s for s, _ in options.problems] == ["WebStorage/QuotaManager"]
    assert options.problems[0][1] == (
        "WebStorage/QuotaManager has no row for 1 IndexedDB bucket folder(s) "
        "(WebStorage/9/IndexedDB), so their databases are listed by origin without their partition"
    )


def test_legacy_quota_manager_location(tmp_path):
    profile = profile_at(tmp_path / "Default")
    make_quota(profile.path / "QuotaManager",
               [(5, "https://ad.doubleclick.net/^0https://liveops.com", "_default")], with_type=True)
    write_leveldb(profile.path / "WebStorage" / "5" / "IndexedDB" / "indexeddb.leveldb",
                  [idb_ops("https_ad.doubleclick.net_0", {"dc-db": (1, {"impressions": 2})})])
    options = ReadOptions()
    (entry,) = idb.read_indexed_db(profile, options)
    assert options.problems == []
    assert (entry.origin, entry.partition_site) == ("https://ad.doubleclick.net", "liveops.com")


def test_no_indexed_db_at_all(tmp_path):
    profile = profile_at(tmp_path / "Default")
    profile.path.mkdir()
    options = ReadOptions()
    assert idb.read_indexed_db(profile, options) == []
    assert workers.read_cache_storage(profile, options) == []
    assert workers.read_service_workers(profile, options) == []
    assert options.problems == []


def test_undecodable_keys_and_no_database(tmp_path):
    profile = profile_at(tmp_path / "Default")
    write_leveldb(profile.path / "IndexedDB" / "https_a.example_0.indexeddb.leveldb",
                  [[(b"\xe0", b"x"), (b"\xe0\x01", b"y")]])
    options = ReadOptions()
    assert idb.read_indexed_db(profile, options) == []
    assert len(options.problems) == 1
    assert "2 keys this app cannot decode" in options.problems[0][1]


def test_newer_schema_version_is_read_and_said(tmp_path):
    profile = profile_at(tmp_path / "Default")
    ops = idb_ops("https_a.example_0", {"db": (1, {"s": 1})})
    ops.append((prefix(0) + b"\x00", b"\x09"))
    write_leveldb(profile.path / "IndexedDB" / "https_a.example_0.indexeddb.leveldb", [ops])
    options = ReadOptions()
    assert [e.name for e in idb.read_indexed_db(profile, options)] == ["db"]
    assert "schema version 9" in options.problems[0][1]


# --------------------------------------------------------------------------
# Chromium's SQLite IndexedDB backing store
# --------------------------------------------------------------------------


def make_sqlite_idb(path: Path, name: str, stores: dict[str, int], *, version: int = 1) -> Path:
    """A database file in the layout of Chromium's SQLite backing store (schema version 1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);"
        "CREATE TABLE indexed_db_metadata (name BLOB NOT NULL, version INTEGER NOT NULL);"
        "CREATE TABLE object_stores (id INTEGER PRIMARY KEY, name BLOB NOT NULL, key_path BLOB,"
        " auto_increment INTEGER NOT NULL, key_generator_current_number INTEGER NOT NULL);"
        "CREATE TABLE records (row_id INTEGER PRIMARY KEY, object_store_id INTEGER NOT NULL,"
        " compression_type INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL);"
    )
    conn.execute("INSERT INTO meta VALUES ('version', ?)", (str(version),))
    conn.execute("INSERT INTO indexed_db_metadata VALUES (?, 1)", (name.encode("utf-16-le"),))
    for store_id, (store, count) in enumerate(stores.items(), start=1):
        conn.execute("INSERT INTO object_stores VALUES (?, ?, NULL, 0, 1)",
                     (store_id, store.encode("utf-16-le")))
        for n in range(count):
            conn.execute("INSERT INTO records(object_store_id, compression_type, key, value) "
                         "VALUES (?, 0, ?, X'00')", (store_id, bytes([n])))
    conn.commit()
    conn.close()
    return path


def test_sqlite_backing_store(tmp_path):
    profile = profile_at(tmp_path / "Default")
    first = profile.path / "IndexedDB" / "https_www.liveops.com_0"
    make_sqlite_idb(first / idb.sqlite_database_file_name("liveops-db"), "liveops-db", {"events": 3})
    make_sqlite_idb(first / "0", "", {})
    (first / f"{idb.sqlite_database_file_name('liveops-db')}-wal").write_bytes(b"")
    bucket = profile.path / "WebStorage" / "2" / "IndexedDB"
    make_sqlite_idb(bucket / idb.sqlite_database_file_name("dc-db"), "dc-db", {"impressions": 2})
    make_quota(profile.path / "WebStorage" / "QuotaManager",
               [(2, "https://ad.doubleclick.net/^0https://liveops.com", "_default")])
    options = ReadOptions()
    entries = by_name(idb.read_indexed_db(profile, options))
    assert options.problems == []
    liveops = entries[("https://www.liveops.com", "liveops-db")]
    assert liveops.value_note == "stores: events (3); Chromium's SQLite IndexedDB format"
    assert liveops.size == (first / idb.sqlite_database_file_name("liveops-db")).stat().st_size
    assert entries[("https://www.liveops.com", "")].value_note.startswith("no object stores")
    dc = entries[("https://ad.doubleclick.net", "dc-db")]
    assert (dc.partition_site, dc.value_note) == (
        "liveops.com", "stores: impressions (2); Chromium's SQLite IndexedDB format")


def test_sqlite_backing_store_problems(tmp_path):
    profile = profile_at(tmp_path / "Default")
    first = profile.path / "IndexedDB" / "https_a.example_0"
    make_sqlite_idb(first / idb.sqlite_database_file_name("good"), "good", {"s": 1})
    make_sqlite_idb(first / idb.sqlite_database_file_name("newer"), "newer", {"s": 1}, version=2)
    (first / idb.sqlite_database_file_name("garbage")).write_bytes(b"\x01" * 4096)
    whole = make_sqlite_idb(tmp_path / "whole", "cut", {"s": 50}).read_bytes()
    (first / idb.sqlite_database_file_name("cut")).write_bytes(whole[: len(whole) // 2])
    odd = first / idb.sqlite_database_file_name("odd")
    odd.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(odd).execute("CREATE TABLE other(x)").connection.close()
    # A bucket the QuotaManager does not know: the SQLite file has no origin.
    make_sqlite_idb(profile.path / "WebStorage" / "3" / "IndexedDB" / "0", "", {})
    options = ReadOptions()
    names = sorted(e.name for e in idb.read_indexed_db(profile, options))
    assert names == ["good", "newer"]
    problems = dict(options.problems)
    garbage = f"IndexedDB/https_a.example_0/{idb.sqlite_database_file_name('garbage')}"
    assert "not an SQLite database" in problems[garbage]
    cut = f"IndexedDB/https_a.example_0/{idb.sqlite_database_file_name('cut')}"
    assert problems[cut].startswith(f"{cut} (Chromium's SQLite IndexedDB format) ")
    assert "layout this app knows" in problems[f"IndexedDB/https_a.example_0/{odd.name}"]
    assert "version 2" in problems[f"IndexedDB/https_a.example_0/{idb.sqlite_database_file_name('newer')}"]
    assert problems["WebStorage/QuotaManager"] == (
        "WebStorage/QuotaManager does not exist: the storage key of 1 IndexedDB bucket folder(s) "
        "(WebStorage/3/IndexedDB) is unknown, so their databases are listed by origin without "
        "their partition, except 1 in Chromium's SQLite IndexedDB format, which cannot be "
        "listed without it"
    )
    assert len(problems) == 5


# --------------------------------------------------------------------------
# Cache Storage
# --------------------------------------------------------------------------


def test_cache_storage(tmp_path):
    profile = profile_at(tmp_path / "Default")
    first = profile.path / "Service Worker" / "CacheStorage" / workers._origin_hash("https://www.liveops.com:8443")
    first.mkdir(parents=True)
    (first / "index.txt").write_bytes(
        cache_index("https://www.liveops.com:8443/", [("v1", "uuid-1"), ("gone", "uuid-missing")]))
    (first / "uuid-1" / "index-dir").mkdir(parents=True)
    (first / "uuid-1" / "0123456789abcdef_0").write_bytes(b"e" * 300)
    (first / "uuid-1" / "fedcba9876543210_0").write_bytes(b"e" * 200)
    (first / "uuid-1" / "index-dir" / "the-real-index").write_bytes(b"i" * 72)
    bucket = profile.path / "WebStorage" / "4" / "CacheStorage"
    bucket.mkdir(parents=True)
    (bucket / "index.txt").write_bytes(
        cache_index("https://ad.doubleclick.net/^0https://liveops.com", [("dc", "uuid-2")]))
    (bucket / "uuid-2").mkdir()
    (bucket / "uuid-2" / "0123456789abcdef_0").write_bytes(b"x" * 10)
    fetch = profile.path / "WebStorage" / "4" / "BackgroundFetch"
    fetch.mkdir(parents=True)
    (fetch / "index.txt").write_bytes(
        cache_index("https://ad.doubleclick.net/^0https://liveops.com", [("bgf", "uuid-3")]))
    options = ReadOptions()
    entries = {e.name: e for e in workers.read_cache_storage(profile, options)}
    assert options.problems == []
    assert set(entries) == {"v1", "gone", "dc", "bgf"}
    v1 = entries["v1"]
    assert (v1.kind, v1.origin, v1.partition_site, v1.size, v1.value_note) == (
        "cache_storage", "https://www.liveops.com:8443", None, 572, "2 entries")
    assert v1.store == f"Service Worker/CacheStorage/{first.name}/index.txt"
    assert entries["gone"].size == 100  # its folder is gone: the size in the index
    dc = entries["dc"]
    assert (dc.origin, dc.partition_site, dc.partitioned, dc.size, dc.value_note) == (
        "https://ad.doubleclick.net", "liveops.com", True, 10, "1 entry")
    assert entries["bgf"].value_note == "Background Fetch cache"
    assert len({e.id for e in entries.values()}) == 4


def test_cache_storage_background_fetch_first_party(tmp_path):
    profile = profile_at(tmp_path / "Default")
    root = profile.path / "Service Worker" / "CacheStorage"
    for suffix, name in (("", "api"), ("-1", "fetch")):
        folder = root / workers._origin_hash("https://a.example", suffix)
        folder.mkdir(parents=True)
        (folder / "index.txt").write_bytes(cache_index("https://a.example/", [(name, "u")]))
    entries = {e.name: e for e in workers.read_cache_storage(profile, ReadOptions())}
    assert entries["api"].value_note is None
    assert entries["fetch"].value_note == "Background Fetch cache"
    assert entries["api"].id != entries["fetch"].id


def test_damaged_cache_index_is_one_problem(tmp_path):
    profile = profile_at(tmp_path / "Default")
    root = profile.path / "Service Worker" / "CacheStorage"
    for n, data in enumerate([b"\x0a\x05abc", cache_index("https://ok.example/", [("ok", "u")]),
                              cache_index(None, [("no-origin", "u")])]):
        (root / f"{n:040x}").mkdir(parents=True)
        (root / f"{n:040x}" / "index.txt").write_bytes(data)
    (root / f"{9:040x}").mkdir()  # a folder without index.txt: nothing
    options = ReadOptions()
    entries = workers.read_cache_storage(profile, options)
    assert [e.name for e in entries] == ["ok"]
    assert [s for s, _ in options.problems] == [
        f"Service Worker/CacheStorage/{0:040x}/index.txt",
        f"Service Worker/CacheStorage/{2:040x}/index.txt",
    ]
    assert "is damaged" in options.problems[0][1]
    assert "names no origin" in options.problems[1][1]


# --------------------------------------------------------------------------
# Service workers
# --------------------------------------------------------------------------


def test_service_workers(tmp_path):
    profile = profile_at(tmp_path / "Default")
    folder = profile.path / "Service Worker" / "Database"
    write_leveldb(folder, [[
        (b"INITDATA_DB_VERSION", b"2"),
        (b"REG:https://www.liveops.com/\x000", REGISTRATION),
        (b"REG:https://ad.doubleclick.net/^0https://liveops.com\x001",
         registration("https://ad.doubleclick.net/sw/", "https://ad.doubleclick.net/sw.js", 1, 99)),
        (b"REG:https://old.example/\x002", registration("https://old.example/", "https://old.example/s.js", 2)),
        (b"REGID_TO_ORIGIN:0", b"https://www.liveops.com/"),
        (b"RES:0\x000", b"\x08\x00"),
    ], [(b"REG:https://old.example/\x002", None)]], comparator="leveldb.BytewiseComparator")
    options = ReadOptions()
    entries = {e.name: e for e in workers.read_service_workers(profile, options)}
    assert options.problems == []
    assert set(entries) == {"https://www.liveops.com:37805/app/", "https://ad.doubleclick.net/sw/"}
    first = entries["https://www.liveops.com:37805/app/"]
    # The origin is the storage key's, not the scope's.
    assert (first.kind, first.origin, first.partition_site, first.size, first.store) == (
        "service_worker", "https://www.liveops.com", None, 170, "Service Worker/Database")
    assert first.value_note == "script: https://www.liveops.com:37805/sw.js"
    third = entries["https://ad.doubleclick.net/sw/"]
    assert (third.origin, third.partition_site, third.partitioned, third.size) == (
        "https://ad.doubleclick.net", "liveops.com", True, 99)
    assert third.value is None and third.value_state == "unavailable"


def test_service_worker_damaged_registration(tmp_path):
    profile = profile_at(tmp_path / "Default")
    write_leveldb(profile.path / "Service Worker" / "Database", [[
        (b"REG:https://a.example/\x001", registration("https://a.example/", "https://a.example/sw.js")),
        (b"REG:https://b.example/\x002", b"\x12\xff"),
        (b"REG:no-separator", b""),
    ]], comparator="leveldb.BytewiseComparator")
    options = ReadOptions()
    assert [e.name for e in workers.read_service_workers(profile, options)] == ["https://a.example/"]
    assert options.problems == [
        ("Service Worker/Database",
         "Service Worker/Database: 2 service worker registration(s) could not be decoded")]


def test_service_worker_database_unreadable(tmp_path):
    profile = profile_at(tmp_path / "Default")
    folder = write_leveldb(profile.path / "Service Worker" / "Database",
                           [[(b"REG:https://a.example/\x001", b"")]])
    (folder / "MANIFEST-000001").unlink()
    with pytest.raises(ReadError, match=r"^Service Worker/Database cannot be read: "):
        workers.read_service_workers(profile, ReadOptions())
