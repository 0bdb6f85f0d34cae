"""The LevelDB appender: framing, sequence numbers, checksums, and its refusals.

The folders are written by the real LevelDB (``plyvel``), by real Chromium (the
demo profile) or, for states the library will not produce on demand, by the
test writer (tests/fixtures/leveldb_writer.py).  After each append the folder
is read back by our reader and opened by the real LevelDB, which must agree.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import plyvel
import pytest

from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers import leveldb_write as lw
from privacy_inspector.browsers.leveldb_write import WriteError
from tests.fixtures import leveldb_writer as tw

BLOCK = leveldb.LOG_BLOCK_SIZE
DEMO_LOCAL = (Path(__file__).resolve().parents[2] / "resources" / "demo" / "chromium" / "Default"
              / "Local Storage" / "leveldb")


def _reference_masked_crc32c(data: bytes) -> int:
    """LevelDB's masked CRC-32C, bit by bit (independent of the reader's cramjam trick)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    crc ^= 0xFFFFFFFF
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _plyvel_records(folder: Path) -> dict[bytes, bytes]:
    db = plyvel.DB(str(folder))
    try:
        return dict(db)
    finally:
        db.close()


def _make(folder: Path, items: dict[bytes, bytes], **options) -> Path:
    """A LevelDB folder written by the real library, one batch per item, closed."""
    db = plyvel.DB(str(folder), create_if_missing=True, **options)
    for key, value in items.items():
        db.put(key, value)
    db.close()
    return folder


def _live_log(folder: Path) -> Path:
    with lw.open_for_append(folder) as appender:
        return appender.log


def _physical(data: bytes, start: int = 0) -> list[tuple[int, int, int]]:
    """(offset, type, length) of the physical records of a log from ``start``."""
    out, pos = [], start
    while pos < len(data):
        if BLOCK - pos % BLOCK < 7:
            pos += BLOCK - pos % BLOCK
            continue
        _, length, rtype = struct.unpack_from("<IHB", data, pos)
        out.append((pos, rtype, length))
        pos += 7 + length
    return out


# --------------------------------------------------------------------------
# Encoding and framing
# --------------------------------------------------------------------------


def test_a_write_batch_is_encoded_as_leveldb_encodes_it():
    ops = [(b"a", b"1"), (b"k" * 200, None), (b"", b"v" * 300)]
    assert lw.encode_batch(77, ops) == tw.write_batch(77, ops)
    assert lw.encode_batch(5, [])[:12] == struct.pack("<QI", 5, 0)


@pytest.mark.parametrize("sizes", [
    [0], [1, 2, 3], [BLOCK - 7], [BLOCK - 7 - 3, 10], [BLOCK - 14, 1], [BLOCK - 7 - 7, 5],
    [40_000], [100_000, 5, BLOCK * 2 - 21, 0], [BLOCK - 10, BLOCK, 1],
])
def test_records_are_framed_as_log_writer_frames_them(sizes):
    """Appending records one by one gives the log LevelDB's writer would write in one go."""
    records = [hashlib.shake_256(str(n).encode()).digest(n) if n else b"" for n in sizes]
    log = b""
    for record in records:
        log += lw.frame_record(record, len(log))
    assert log == tw.log_file(records)
    assert list(leveldb._log_records(log, "x.log")) == records


def test_a_tail_of_fewer_than_seven_bytes_is_padded_with_zeros():
    record = b"r" * 50
    framed = lw.frame_record(record, BLOCK - 3)
    assert framed[:3] == b"\x00\x00\x00"
    crc, length, rtype = struct.unpack_from("<IHB", framed, 3)
    assert (length, rtype) == (50, lw.FULL)
    assert crc == _reference_masked_crc32c(bytes([lw.FULL]) + record)
    assert len(framed) == 3 + 7 + 50


def test_exactly_seven_bytes_left_take_an_empty_first_fragment():
    framed = lw.frame_record(b"r" * 10, BLOCK - 7)
    assert struct.unpack_from("<HB", framed, 4) == (0, lw.FIRST)
    assert struct.unpack_from("<HB", framed, 7 + 4) == (10, lw.LAST)


def test_a_large_record_is_split_into_first_middle_and_last_fragments():
    record = bytes(range(256)) * 400  # 102,400 bytes: four blocks
    framed = lw.frame_record(record, 1000)
    kinds = [(t, n) for _, t, n in _physical(b"\x00" * 1000 + framed, 1000)]
    assert [t for t, _ in kinds] == [lw.FIRST, lw.MIDDLE, lw.MIDDLE, lw.LAST]
    assert kinds[0][1] == BLOCK - 1000 - 7 and kinds[1][1] == BLOCK - 7
    assert sum(n for _, n in kinds) == len(record)
    # Every fragment's checksum covers its type byte and its payload.
    data = b"\x00" * 1000 + framed
    for pos, rtype, length in _physical(data, 1000):
        crc = struct.unpack_from("<I", data, pos)[0]
        assert crc == _reference_masked_crc32c(bytes([rtype]) + data[pos + 7 : pos + 7 + length])


# --------------------------------------------------------------------------
# Appending to databases the real LevelDB wrote
# --------------------------------------------------------------------------


def test_deletions_and_puts_appended_to_a_plyvel_database_are_seen_by_both_readers(tmp_path):
    folder = _make(tmp_path / "db", {b"k%03d" % i: b"v%03d" % i for i in range(50)})
    log = _live_log(folder)
    original = log.read_bytes()
    with lw.open_for_append(folder) as appender:
        assert appender.records == {b"k%03d" % i: b"v%03d" % i for i in range(50)}
        first = appender.append([(b"k001", None), (b"k002", None), (b"new", b"value"),
                                 (b"k003", b"changed")])
    expected = {b"k%03d" % i: b"v%03d" % i for i in range(50) if i not in (1, 2)}
    expected |= {b"new": b"value", b"k003": b"changed"}
    assert leveldb.read_records(folder) == expected
    # The log grew by one record, after what it held.
    assert log.read_bytes().startswith(original)
    assert len(list(leveldb._log_records(log.read_bytes(), log.name))) == 51
    assert _plyvel_records(folder) == expected
    assert first > 0


def test_nothing_but_the_log_changes(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1", b"b": b"2"})
    before = _files(folder)
    log = _live_log(folder)
    lw.append_batch(folder, [(b"a", None)])
    after = _files(folder)
    assert set(after) == set(before)
    for name, data in before.items():
        if name == log.name:
            assert after[name].startswith(data) and len(after[name]) > len(data)
        else:
            assert after[name] == data, name


def test_the_sequence_number_follows_every_one_used(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1", b"b": b"2", b"c": b"3"})
    # plyvel gave its three batches the sequence numbers 1 to 3 (in the log).
    with lw.open_for_append(folder) as appender:
        assert appender.sequence == 4
        assert appender.append([(b"a", None), (b"d", b"4")]) == 4
    with lw.open_for_append(folder) as appender:
        assert appender.sequence == 6
    # Reopened by LevelDB, the log goes into a table and the MANIFEST records
    # the last sequence; the next batch follows that.
    _plyvel_records(folder)
    version = leveldb.open_database(folder).version
    assert version.last_sequence >= 5
    with lw.open_for_append(folder) as appender:
        assert appender.sequence == version.last_sequence + 1


def test_a_deletion_hides_a_value_kept_in_a_table(tmp_path):
    """The value lives in a sorted table (older sequence); the appended
    deletion must be newer than it, or LevelDB's merge would keep the value."""
    folder = _make(tmp_path / "db", {b"key%04d" % i: b"x" * 100 for i in range(2000)},
                   write_buffer_size=64 * 1024)
    db = plyvel.DB(str(folder))
    db.compact_range()
    db.close()
    assert leveldb.open_database(folder).tables
    stale = tmp_path / "stale"
    shutil.copytree(folder, stale)

    lw.append_batch(folder, [(b"key0007", None)])
    assert b"key0007" not in _plyvel_records(folder)
    assert b"key0007" not in leveldb.read_records(folder)

    # The same deletion with a sequence number that is not newer: LevelDB keeps the value.
    log = _live_log(stale)
    data = lw.frame_record(lw.encode_batch(1, [(b"key0007", None)]), log.stat().st_size)
    with open(log, "ab") as f:
        f.write(data)
    assert b"key0007" in _plyvel_records(stale)


def test_a_batch_larger_than_a_block_is_replayed_whole(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1"})
    big = {b"big%d" % i: hashlib.shake_256(b"%d" % i).digest(30_000) for i in range(4)}
    lw.append_batch(folder, [(b"a", None), *big.items()])
    data = _live_log(folder).read_bytes()
    assert {t for _, t, _ in _physical(data)} >= {lw.FIRST, lw.MIDDLE, lw.LAST}
    assert leveldb.read_records(folder) == big
    assert _plyvel_records(folder) == big


def test_a_log_ending_fewer_than_seven_bytes_before_a_block_end(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1"})
    log = _live_log(folder)
    # One put sized so that the log then ends 3 bytes before the block's end.
    size = log.stat().st_size
    length = BLOCK - 3 - size
    while size + len(lw.frame_record(lw.encode_batch(2, [(b"pad", b"f" * length)]), size)) > BLOCK - 3:
        length -= 1
    filler = b"f" * length
    lw.append_batch(folder, [(b"pad", filler)])
    assert log.stat().st_size == BLOCK - 3
    lw.append_batch(folder, [(b"a", None), (b"b", b"2")])
    data = log.read_bytes()
    assert data[BLOCK - 3 : BLOCK] == b"\x00\x00\x00"
    assert struct.unpack_from("<HB", data, BLOCK + 4)[1] == lw.FULL
    assert leveldb.read_records(folder) == {b"pad": filler, b"b": b"2"}
    assert _plyvel_records(folder) == {b"pad": filler, b"b": b"2"}


def test_appends_to_the_log_chromium_wrote(tmp_path):
    folder = tmp_path / "leveldb"
    shutil.copytree(DEMO_LOCAL, folder)
    before = leveldb.read_records(folder)
    doomed = [k for k in before if b"doubleclick" in k]
    assert doomed
    lw.append_batch(folder, [(k, None) for k in doomed])
    expected = {k: v for k, v in before.items() if k not in doomed}
    assert leveldb.read_records(folder) == expected
    assert _plyvel_records(folder) == expected


def test_a_missing_lock_file_is_created_as_leveldb_creates_it(tmp_path):
    folder = tw.write_database(
        tmp_path / "db",
        manifest=[tw.version_edit(comparator="leveldb.BytewiseComparator", log_number=3,
                                  next_file=4, last_sequence=9)],
        logs={3: tw.log_file([tw.write_batch(10, [(b"a", b"1")])])},
    )
    with lw.open_for_append(folder) as appender:
        assert appender.sequence == 11
        appender.append([(b"b", b"2")])
    assert (folder / "LOCK").exists()
    assert _plyvel_records(folder) == {b"a": b"1", b"b": b"2"}


def test_the_newest_live_log_is_the_one_appended_to(tmp_path):
    folder = tw.write_database(
        tmp_path / "db",
        manifest=[tw.version_edit(comparator="leveldb.BytewiseComparator", log_number=5,
                                  next_file=9, last_sequence=3)],
        logs={
            4: tw.log_file([tw.write_batch(90, [(b"old", b"x")])]),  # obsolete: not replayed
            5: tw.log_file([tw.write_batch(4, [(b"a", b"1")])]),
            7: tw.log_file([tw.write_batch(20, [(b"b", b"2"), (b"c", b"3")])]),
        },
    )
    (folder / "LOCK").touch()
    obsolete = (folder / "000004.log").read_bytes()
    older = (folder / "000005.log").read_bytes()
    with lw.open_for_append(folder) as appender:
        assert appender.log.name == "000007.log"
        assert appender.sequence == 22
        appender.append([(b"a", None)])
    assert (folder / "000004.log").read_bytes() == obsolete
    assert (folder / "000005.log").read_bytes() == older
    assert _plyvel_records(folder) == {b"b": b"2", b"c": b"3"}


# --------------------------------------------------------------------------
# Refusals: nothing written
# --------------------------------------------------------------------------


def _refused(folder: Path, match: str) -> None:
    before = _files(folder) if folder.is_dir() else None
    with pytest.raises(WriteError, match=match) as info:
        lw.append_batch(folder, [(b"a", None)])
    assert "nothing was changed" in str(info.value)
    if before is not None:
        assert _files(folder) == before


def test_refuses_a_folder_without_current(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1"})
    (folder / "CURRENT").unlink()
    _refused(folder, "no CURRENT")
    _refused(tmp_path / "missing", "not a folder")


def test_refuses_while_another_process_holds_the_lock(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1"})
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import plyvel, sys; db = plyvel.DB(sys.argv[1]); print('open', flush=True); "
         "sys.stdin.read(); db.close()", str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        _refused(folder, "in use by another program")
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    lw.append_batch(folder, [(b"a", None)])  # free again
    assert _plyvel_records(folder) == {}


@pytest.mark.parametrize("damage", ["flipped byte", "torn tail", "torn header", "zero tail",
                                    "unfinished record"])
def test_refuses_a_log_that_does_not_end_at_a_record_boundary(tmp_path, damage):
    folder = _make(tmp_path / "db", {b"a": b"1", b"b": b"x" * 40_000})
    log = _live_log(folder)
    data = bytearray(log.read_bytes())
    if damage == "flipped byte":
        data[-5] ^= 0x40
    elif damage == "torn tail":
        del data[-3:]
    elif damage == "torn header":
        data += lw.frame_record(b"x" * 20, len(data))[:5]
    elif damage == "zero tail":
        data += b"\x00" * 100
    else:
        # A FIRST fragment whose LAST never came (the writer crashed in between).
        framed = lw.frame_record(lw.encode_batch(9, [(b"c", b"y" * 40_000)]), len(data))
        data += framed[: len(framed) - 1000]
        data = data[: len(data) - len(data) % BLOCK]  # cut at the block boundary
    log.write_bytes(bytes(data))
    _refused(folder, f"{log.name}|cannot be read")


def test_a_change_that_does_not_read_back_is_cut_off(tmp_path, monkeypatch):
    folder = _make(tmp_path / "db", {b"a": b"1"})
    before = _files(folder)
    monkeypatch.setattr(lw.Appender, "_took_effect", lambda self, ops: False)
    with pytest.raises(WriteError, match="did not read back"):
        lw.append_batch(folder, [(b"a", None)])
    assert _files(folder) == before


def test_one_batch_per_opening(tmp_path):
    folder = _make(tmp_path / "db", {b"a": b"1"})
    with lw.open_for_append(folder) as appender:
        assert appender.append([]) == 0
        appender.append([(b"a", None)])
        with pytest.raises(RuntimeError):
            appender.append([(b"b", b"2")])
    assert _plyvel_records(folder) == {}
