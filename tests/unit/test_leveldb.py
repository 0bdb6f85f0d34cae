"""The read-only LevelDB reader, on LevelDBs that real Chromium wrote (the demo
profile) and on hand-built damaged or unusual ones (tests/fixtures/leveldb_writer.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from pathlib import Path

import pytest

from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers.leveldb import LevelDBError, UnsupportedFormatError
from tests.fixtures import leveldb_writer as w

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "chromium" / "Default"
DEMO_LOCAL = DEMO / "Local Storage" / "leveldb"
DEMO_SESSION = DEMO / "Session Storage"
DEMO_IDB = DEMO / "IndexedDB" / "https_www.liveops.com_0.indexeddb.leveldb"

# What the demo pages wrote to localStorage (the demo site has no port).
DEMO_LOCAL_ITEMS = {
    b"_https://www.liveops.com\x00\x01lo_ls_theme": b"\x01dark",
    b"_https://www.liveops.com\x00\x01lo_ls_visitor": b"\x01visitor-42",
    b"_https://ad.doubleclick.net/^0https://liveops.com\x00\x01dc_ls_id": b"\x01dc-local-123",
    b"_https://www.facebook.com/^0https://liveops.com\x00\x01fb_ls_like": b"\x01liked",
    b"_https://www.example-news.org\x00\x01en_ls_region": b"\x01eu",
}


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def _state(folder: Path) -> dict[str, tuple[int, int, str]]:
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in folder.iterdir()
    }


def _log_record_offsets(data: bytes) -> list[int]:
    """Start offsets of the physical records of a log shorter than one block."""
    assert len(data) < leveldb.LOG_BLOCK_SIZE
    offsets, pos = [], 0
    while pos + 7 <= len(data):
        offsets.append(pos)
        pos += 7 + struct.unpack_from("<H", data, pos + 4)[0]
    assert pos == len(data)
    return offsets


# --------------------------------------------------------------------------
# CRC-32C
# --------------------------------------------------------------------------


def _reference_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_check_value():
    assert leveldb._unmask(leveldb.masked_crc32c(b"123456789")) == 0xE3069283


@pytest.mark.parametrize("size", [0, 1, 7, 4096, 65535, 65536, 65537, 140_000])
def test_masked_crc32c_matches_a_bitwise_reference(size):
    data = hashlib.shake_256(str(size).encode()).digest(size) if size else b""
    expected = leveldb._mask(_reference_crc32c(data))
    assert leveldb.masked_crc32c(data) == expected


# --------------------------------------------------------------------------
# Real files written by Chromium
# --------------------------------------------------------------------------


def test_reads_the_local_storage_chromium_wrote(tmp_path):
    db = leveldb.open_database(_copy(DEMO_LOCAL, tmp_path))
    assert db.comparator == leveldb.BYTEWISE_COMPARATOR
    assert db.logs == ("000003.log",)
    assert db.tables == ()
    for key, value in DEMO_LOCAL_ITEMS.items():
        assert db.records[key] == value
    assert db.records[b"VERSION"] == b"1"
    # One META and one METAACCESS per storage key, and nothing else.
    origins = {k.split(b"\x00")[0][1:] for k in DEMO_LOCAL_ITEMS}
    assert {k for k in db.records if k.startswith(b"META:")} == {b"META:" + o for o in origins}
    assert len(db.records) == 1 + len(DEMO_LOCAL_ITEMS) + 2 * len(origins)


def test_reads_the_session_storage_chromium_wrote(tmp_path):
    records = leveldb.read_records(_copy(DEMO_SESSION, tmp_path))
    assert records[b"version"] == b"1"
    assert records[b"map-0-lo_ss_cart"].decode("utf-16-le") == "cart-3-items"
    namespaces = [k for k in records if k.startswith(b"namespace-")]
    assert len(namespaces) == 2
    assert any(k.endswith(b"-https://www.liveops.com/") for k in namespaces)


def test_recognises_the_indexeddb_comparator(tmp_path):
    db = leveldb.open_database(_copy(DEMO_IDB, tmp_path))
    assert db.comparator == leveldb.IDB_COMPARATOR
    # The database name, as Chromium's IndexedDB stores it (UTF-16BE).
    assert any("liveops-db".encode("utf-16-be") in k for k in db.records)


def test_reading_changes_nothing_in_the_folder(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    before = _state(folder)
    leveldb.read_records(folder)
    assert _state(folder) == before  # no LOCK, no LOG, no new MANIFEST


def test_reads_a_folder_whose_files_are_read_only(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    for p in folder.iterdir():
        p.chmod(0o400)
    folder.chmod(0o500)
    try:
        assert leveldb.read_records(folder).keys() >= DEMO_LOCAL_ITEMS.keys()
    finally:
        folder.chmod(0o700)


# --------------------------------------------------------------------------
# A log cut short or damaged
# --------------------------------------------------------------------------


def test_a_log_cut_inside_its_last_record_drops_that_record_silently(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    log = folder / "000003.log"
    data = log.read_bytes()
    # Chromium wrote two batches: VERSION, then every item of the visit at once.
    first, last = _log_record_offsets(data)
    for cut in range(last + 1, len(data)):
        log.write_bytes(data[:cut])
        assert leveldb.read_records(folder) == {b"VERSION": b"1"}, cut
    log.write_bytes(data[:last])
    assert leveldb.read_records(folder) == {b"VERSION": b"1"}


def test_zeros_at_the_end_of_a_log_are_a_torn_tail(tmp_path):
    """A crash can leave the end of a log zero-filled: after the last record, or inside it."""
    folder = _copy(DEMO_LOCAL, tmp_path)
    log = folder / "000003.log"
    data = log.read_bytes()
    full = leveldb.read_records(folder)
    log.write_bytes(data + b"\x00" * 5000)
    assert leveldb.read_records(folder) == full
    for zeros in (1, 30, 300, 40_000):
        log.write_bytes(data[:-1] + b"\x00" * zeros if zeros < 300 else data[:-300] + b"\x00" * zeros)
        assert leveldb.read_records(folder) == {b"VERSION": b"1"}, zeros


def test_a_damaged_record_is_an_error(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    log = folder / "000003.log"
    data = log.read_bytes()
    first, last = _log_record_offsets(data)
    for offset in (first + 20, last + 20, len(data) - 1):
        damaged = bytearray(data)
        damaged[offset] ^= 0x40
        log.write_bytes(bytes(damaged))
        with pytest.raises(LevelDBError, match=r"000003\.log is damaged: checksum mismatch"):
            leveldb.read_records(folder)


def test_a_torn_multi_block_record_is_dropped_and_a_headless_one_is_an_error(tmp_path):
    big = w.write_batch(5, [(b"big", b"v" * 80_000)])
    small = w.write_batch(4, [(b"small", b"s")])
    log = w.log_file([small, big])
    manifest = [w.version_edit(comparator="leveldb.BytewiseComparator", log_number=3,
                               next_file=4, last_sequence=0)]
    folder = w.write_database(tmp_path / "db", manifest=manifest, logs={3: log})
    assert leveldb.read_records(folder) == {b"small": b"s", b"big": b"v" * 80_000}
    # Cut in the middle of the FIRST/MIDDLE/LAST chain: the batch is dropped.
    (folder / "000003.log").write_bytes(log[: 50_000])
    assert leveldb.read_records(folder) == {b"small": b"s"}
    # A MIDDLE fragment with no FIRST before it, followed by a valid record.
    headless = w.physical_record(w.MIDDLE, b"x" * 10) + w.log_file([small])
    (folder / "000003.log").write_bytes(headless)
    with pytest.raises(LevelDBError, match="no start"):
        leveldb.read_records(folder)


def test_a_batch_that_lies_about_its_count_is_an_error(tmp_path):
    batch = bytearray(w.write_batch(1, [(b"a", b"1")]))
    batch[8:12] = struct.pack("<I", 3)
    manifest = [w.version_edit(log_number=3, next_file=4, last_sequence=0)]
    folder = w.write_database(tmp_path / "db", manifest=manifest, logs={3: w.log_file([bytes(batch)])})
    with pytest.raises(LevelDBError, match="fewer records than its count"):
        leveldb.read_records(folder)


# --------------------------------------------------------------------------
# Which files are live, and how records are merged
# --------------------------------------------------------------------------


def _ikeys(*items: tuple[bytes, int, bytes | None]) -> list[tuple[bytes, bytes]]:
    return [
        (w.internal_key(k, seq, w.DELETION if v is None else w.VALUE), v or b"")
        for k, seq, v in items
    ]


def _layered_db(tmp_path: Path, compression: int = 0) -> Path:
    """Level 1 (oldest), two level-0 tables, an obsolete log, a stray table and a live log."""
    level1 = w.table_file(_ikeys(
        (b"a", 1, b"a-old"), (b"b", 2, b"b-old"), (b"c", 3, b"c-kept"), (b"d", 4, b"d-old"),
    ), compression=compression)
    level0_old = w.table_file(_ikeys((b"a", 5, b"a-l0-old"), (b"e", 6, b"e-l0")),
                              compression=compression)
    # Newer: overrides a, deletes b; "e" appears twice, newest first.
    level0_new = w.table_file(_ikeys(
        (b"a", 7, b"a-new"), (b"b", 8, None), (b"e", 10, b"e-new"), (b"e", 9, b"e-mid"),
    ), compression=compression)
    dropped = w.table_file(_ikeys((b"ghost-deleted", 11, b"x")), compression=compression)
    stray = w.table_file(_ikeys((b"ghost-stray", 12, b"x")), compression=compression)
    obsolete_log = w.log_file([w.write_batch(13, [(b"ghost-log", b"x"), (b"b", b"b-back")])])
    live_log = w.log_file([
        w.write_batch(20, [(b"d", None), (b"f", b"f-log")]),
        w.write_batch(22, [(b"f", b"f-newer")]),
    ])
    manifest = [
        w.version_edit(comparator="leveldb.BytewiseComparator", log_number=2, next_file=3,
                       last_sequence=0),
        w.version_edit(log_number=15, next_file=16, last_sequence=19, new_files=[
            (1, 5, len(level1), b"a", b"d"),
            (0, 7, len(level0_old), b"a", b"e"),
            (0, 9, len(level0_new), b"a", b"e"),
            (0, 11, len(dropped), b"g", b"g"),
        ]),
        w.version_edit(deleted=[(0, 11)]),
    ]
    return w.write_database(
        tmp_path / "db",
        manifest=manifest,
        tables={5: level1, 7: level0_old, 9: level0_new, 11: dropped, 12: stray},
        logs={14: obsolete_log, 15: live_log},
    )


LAYERED = {
    b"a": b"a-new",
    b"c": b"c-kept",
    b"e": b"e-new",
    b"f": b"f-newer",
}


@pytest.mark.parametrize("compression", [0, 1, 2], ids=["none", "snappy", "zstd"])
def test_newest_record_wins_and_deletions_hide_older_values(tmp_path, compression):
    folder = _layered_db(tmp_path, compression)
    db = leveldb.open_database(folder)
    assert db.records == LAYERED
    assert db.logs == ("000015.log",)
    assert sorted(db.tables) == ["000005.ldb", "000007.ldb", "000009.ldb"]


def test_obsolete_logs_and_tables_never_come_back(tmp_path):
    records = leveldb.read_records(_layered_db(tmp_path))
    assert not any(k.startswith(b"ghost") for k in records)
    assert b"b" not in records  # deleted in level 0; the obsolete log's put is not read


def test_the_previous_log_is_read_too(tmp_path):
    manifest = [w.version_edit(log_number=7, prev_log_number=5, next_file=8, last_sequence=0)]
    logs = {
        5: w.log_file([w.write_batch(1, [(b"old", b"1")])]),
        7: w.log_file([w.write_batch(2, [(b"new", b"2")])]),
        3: w.log_file([w.write_batch(0, [(b"obsolete", b"0")])]),
    }
    folder = w.write_database(tmp_path / "db", manifest=manifest, logs=logs)
    assert leveldb.read_records(folder) == {b"old": b"1", b"new": b"2"}


def test_an_sst_table_is_found_too(tmp_path):
    table = w.table_file(_ikeys((b"k", 1, b"v")))
    manifest = [w.version_edit(log_number=3, next_file=4, last_sequence=1,
                               new_files=[(0, 2, len(table), b"k", b"k")])]
    folder = w.write_database(tmp_path / "db", manifest=manifest)
    (folder / "000002.sst").write_bytes(table)
    assert leveldb.read_records(folder) == {b"k": b"v"}


# --------------------------------------------------------------------------
# Damaged or unknown tables, manifests and folders
# --------------------------------------------------------------------------


def _one_table_db(tmp_path: Path, table: bytes) -> Path:
    manifest = [w.version_edit(log_number=3, next_file=4, last_sequence=9,
                               new_files=[(0, 2, len(table), b"a", b"z")])]
    return w.write_database(tmp_path / "db", manifest=manifest, tables={2: table})


def _entries(n: int) -> list[tuple[bytes, bytes]]:
    return _ikeys(*((f"key{i:04d}".encode(), i + 1, f"value {i}".encode() * 3) for i in range(n)))


def test_a_damaged_table_block_is_an_error(tmp_path):
    table = bytearray(w.table_file(_entries(20), compression=1))
    table[10] ^= 0x01
    folder = _one_table_db(tmp_path, bytes(table))
    with pytest.raises(LevelDBError, match=r"000002\.ldb is damaged: block checksum mismatch"):
        leveldb.read_records(folder)


def test_an_unknown_block_compression_is_named(tmp_path):
    folder = _one_table_db(tmp_path, w.table_file(_entries(5), compression=7))
    with pytest.raises(UnsupportedFormatError, match=r"unknown block compression \(type 7\)"):
        leveldb.read_records(folder)


def test_snappy_data_that_does_not_decompress_is_an_error(tmp_path):
    # Uncompressed blocks labelled as snappy, with valid checksums.
    folder = _one_table_db(tmp_path, w.table_file(_entries(5), stored_type=1))
    with pytest.raises(LevelDBError, match="cannot be decompressed"):
        leveldb.read_records(folder)


@pytest.mark.parametrize("cut", [10, 47, 200])
def test_a_truncated_table_is_an_error(tmp_path, cut):
    table = w.table_file(_entries(20))
    folder = _one_table_db(tmp_path, table[:cut] if cut < 48 else table[:-cut])
    with pytest.raises(LevelDBError, match=r"000002\.ldb"):
        leveldb.read_records(folder)


def test_a_table_with_a_bad_magic_number_is_an_error(tmp_path):
    table = w.table_file(_entries(3))
    folder = _one_table_db(tmp_path, table[:-1] + b"\x00")
    with pytest.raises(LevelDBError, match="not a LevelDB table"):
        leveldb.read_records(folder)


def test_a_missing_table_is_an_error(tmp_path):
    folder = _one_table_db(tmp_path, w.table_file(_entries(3)))
    (folder / "000002.ldb").unlink()
    with pytest.raises(LevelDBError, match=r"000002\.ldb listed in MANIFEST-000001 is missing"):
        leveldb.read_records(folder)


def test_missing_current(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    (folder / "CURRENT").unlink()
    with pytest.raises(LevelDBError, match="CURRENT file is missing"):
        leveldb.read_records(folder)


def test_malformed_current(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    (folder / "CURRENT").write_bytes(b"garbage")
    with pytest.raises(LevelDBError, match="CURRENT file is malformed"):
        leveldb.read_records(folder)


def test_missing_manifest(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    (folder / "MANIFEST-000001").unlink()
    with pytest.raises(LevelDBError, match="MANIFEST-000001, named by CURRENT, is missing"):
        leveldb.read_records(folder)


def test_damaged_manifest(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    manifest = folder / "MANIFEST-000001"
    data = bytearray(manifest.read_bytes())
    data[12] ^= 0x01
    manifest.write_bytes(bytes(data))
    with pytest.raises(LevelDBError, match="MANIFEST-000001 is damaged"):
        leveldb.read_records(folder)


def test_manifest_that_describes_no_database(tmp_path):
    folder = w.write_database(tmp_path / "db", manifest=[w.version_edit(comparator="x")])
    with pytest.raises(LevelDBError, match="does not describe a database"):
        leveldb.read_records(folder)


def test_manifest_with_an_unknown_tag(tmp_path):
    edit = w.version_edit(log_number=1, next_file=2, last_sequence=0) + w.varint(42)
    folder = w.write_database(tmp_path / "db", manifest=[edit])
    with pytest.raises(LevelDBError, match="unknown version edit tag 42"):
        leveldb.read_records(folder)


def test_empty_and_missing_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not leveldb.has_database(empty)
    assert not leveldb.has_database(tmp_path / "missing")
    assert leveldb.has_database(DEMO_LOCAL)
    with pytest.raises(LevelDBError, match="not a LevelDB database"):
        leveldb.read_records(empty)
    with pytest.raises(LevelDBError, match="does not exist"):
        leveldb.read_records(tmp_path / "missing")


def test_sqlite_storage_is_named_as_unsupported(tmp_path):
    import sqlite3

    folder = tmp_path / "IndexedDB"
    folder.mkdir()
    with sqlite3.connect(folder / "0") as conn:
        conn.execute("CREATE TABLE records (k, v)")
    conn.close()
    with pytest.raises(UnsupportedFormatError, match="SQLite"):
        leveldb.read_records(folder)
    with pytest.raises(UnsupportedFormatError, match="SQLite"):
        leveldb.read_records(folder / "0")


def test_experiment_tag(tmp_path):
    folder = _copy(DEMO_LOCAL, tmp_path)
    assert leveldb.experiment_tag(folder) is None
    (folder / "exp-v1").write_bytes(b"")
    assert leveldb.experiment_tag(folder) == "exp-v1"


# --------------------------------------------------------------------------
# A browser writing while we read
# --------------------------------------------------------------------------


def test_a_compaction_during_the_read_is_retried(tmp_path, monkeypatch):
    """The table named by the first MANIFEST vanishes: the next try reads the new version."""
    folder = _one_table_db(tmp_path, w.table_file(_ikeys((b"k", 1, b"old"))))
    new_table = w.table_file(_ikeys((b"k", 5, b"new")))
    real_read = leveldb._read
    compacted = []

    def read(path: Path) -> bytes:
        if path.name == "000002.ldb" and not compacted:
            compacted.append(path)
            # What a compaction does: new table, new manifest, CURRENT renamed, old files gone.
            (folder / "000004.ldb").write_bytes(new_table)
            edit = w.version_edit(comparator="leveldb.BytewiseComparator", log_number=3,
                                  next_file=6, last_sequence=5,
                                  new_files=[(1, 4, len(new_table), b"k", b"k")])
            (folder / "MANIFEST-000005").write_bytes(w.log_file([edit]))
            (folder / "CURRENT.tmp").write_text("MANIFEST-000005\n")
            os.replace(folder / "CURRENT.tmp", folder / "CURRENT")
            (folder / "MANIFEST-000001").unlink()
            path.unlink()
        return real_read(path)

    monkeypatch.setattr(leveldb, "_read", read)
    db = leveldb.open_database(folder)
    assert compacted
    assert db.records == {b"k": b"new"}
    assert db.version.manifest == "MANIFEST-000005"


def test_a_folder_that_keeps_changing_is_an_error(tmp_path, monkeypatch):
    folder = _copy(DEMO_LOCAL, tmp_path)
    monkeypatch.setattr(leveldb.os.path, "getsize", lambda path: -1)
    with pytest.raises(LevelDBError, match="kept changing"):
        leveldb.read_records(folder)
