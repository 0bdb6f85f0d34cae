"""A small read-only LevelDB reader, in pure Python (plus ``cramjam`` for snappy).

Chromium keeps localStorage, sessionStorage and IndexedDB in LevelDB folders.
This module reads one such folder the way LevelDB itself opens it, without
writing anything there (no ``LOCK`` file, no log replay into a table, no new
``MANIFEST``): ``CURRENT`` names the ``MANIFEST``, whose version edits give
the live table files (``.ldb``, or ``.sst`` from older LevelDBs) and the log
number; the live logs are the ``.log`` files numbered at or above it (or equal
to the previous log number).  Records are merged as LevelDB looks a key up:
the live logs first (replayed in order), then the level-0 tables newest first,
then each deeper level; the first record found for a key wins, and a deletion
hides every older value.  Obsolete logs and tables that the current version
does not list are never read: they hold values deleted or overwritten since.

Why our own reader: we compared it with ``plyvel`` 1.5.1 and ``chromium-reader``
0.1.1 on the demo profile and on profiles that Chromium 156 wrote, the largest
a Local Storage of 5,000 origins x 20 keys (110,001 records in six snappy
tables on levels 0 to 2, plus a log).  ``plyvel`` agrees with this reader
record for record and is as fast (0.20 s against 0.23 s there), but it has
Linux wheels only, cannot open a folder whose ``LOCK`` Chromium holds, and
opening one rewrites it (log compacted into a table, a new ``MANIFEST``).
``chromium-reader`` is pure Python, but it reads every ``.log`` and ``.ldb`` in
the folder whatever ``CURRENT`` says, checks no checksums, decodes snappy in
Python (1.7 s for that folder) and its localStorage API returns every version
of a key: after a page removed one item and changed another, it still listed
the removed one and both values of the changed one.  ``dfindexeddb`` pins
``python-snappy==0.6.1`` (no wheel for Python 3.11) and ``ccl_chromium_reader``
is not on PyPI.  LevelDB's file formats have been stable since 2011 (upstream
has since added optional zstd blocks, read here too), so this module needs
little care; it needs only ``cramjam``, which has wheels for every platform.

Checksums: every log record and table block carries a masked CRC-32C, which
the standard library cannot compute.  Snappy's framing format stores the same
masked CRC-32C for each chunk of up to 64 KiB, so ``_masked_crc32c`` takes it
from ``cramjam.snappy.compress`` (in Rust, about 2 ms per MiB) and combines
the chunks' CRCs for longer data.  Every record and block is checked.

A browser may be writing while we read.  The files are read whole into memory
(each opened read-only and closed at once, so Windows can still delete them),
and the read is repeated if ``CURRENT`` or the ``MANIFEST`` changed meanwhile
or a file vanished (a compaction ran).  A record that the writer was still
appending at the end of a log is dropped silently, as LevelDB does on open.
"""

from __future__ import annotations

import functools
import os
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cramjam

from privacy_inspector import paths

TABLE_MAGIC = 0xDB4775248B80FB57
LOG_BLOCK_SIZE = 32768
_LOG_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4
_TYPE_DELETION, _TYPE_VALUE = 0, 1
_FOOTER = 48
_BLOCK_TRAILER = 5
# Block compression bytes: none, snappy, zstd (LevelDB 1.23+).
_NO_COMPRESSION, _SNAPPY, _ZSTD = 0, 1, 2

BYTEWISE_COMPARATOR = "leveldb.BytewiseComparator"
# Chromium's IndexedDB comparator.
IDB_COMPARATOR = "idb_cmp1"

# What marks Chromium's SQLite-backed DOM storage experiment in a LevelDB folder.
EXPERIMENT_TAGS = ("exp-v1",)

_ATTEMPTS = 3
_MANIFEST_NAME = re.compile(r"MANIFEST-(\d+)")
_LOG_NAME = re.compile(r"(\d+)\.log")

_u32 = struct.Struct("<I")
_log_header = struct.Struct("<IHB")


class LevelDBError(Exception):
    """The folder cannot be read as a LevelDB database; the message is one line for a user."""


class UnsupportedFormatError(LevelDBError):
    """The folder holds a format this reader does not know (such as Chromium's SQLite storage)."""


@dataclass(frozen=True, slots=True)
class Version:
    """What the MANIFEST says about the database's current state."""

    manifest: str
    comparator: str | None
    log_number: int
    prev_log_number: int
    next_file: int
    last_sequence: int
    # The live table files as (level, file number).
    files: frozenset[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Database:
    """The live contents of a LevelDB folder at one moment."""

    folder: Path
    version: Version
    records: dict[bytes, bytes]
    tables: tuple[str, ...]
    logs: tuple[str, ...]

    @property
    def comparator(self) -> str | None:
        return self.version.comparator


# --------------------------------------------------------------------------
# CRC-32C (Castagnoli), masked as LevelDB stores it
# --------------------------------------------------------------------------

_CRC_POLY = 0x82F63B78  # reflected
_MASK_DELTA = 0xA282EAD8
_FRAME_CHUNK = 65536


def _unmask(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def _mask(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _gf2_times(matrix: tuple[int, ...], vector: int) -> int:
    total = 0
    i = 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _gf2_square(matrix: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_gf2_times(matrix, row) for row in matrix)


@functools.lru_cache(maxsize=64)
def _zeros_operator(nbytes: int) -> tuple[int, ...]:
    """The GF(2) matrix that advances a CRC-32C register over ``nbytes`` zero bytes."""
    # One zero bit, then squared up to one zero byte.
    op = (_CRC_POLY, *(1 << n for n in range(31)))
    for _ in range(3):
        op = _gf2_square(op)
    result: tuple[int, ...] | None = None
    while nbytes:
        if nbytes & 1:
            result = op if result is None else tuple(_gf2_times(op, row) for row in result)
        nbytes >>= 1
        if nbytes:
            op = _gf2_square(op)
    return result or tuple(1 << n for n in range(32))


def _crc32c_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32C of A+B from CRC(A), CRC(B) and len(B) (as zlib's crc32_combine)."""
    return _gf2_times(_zeros_operator(len2), crc1) ^ crc2


def _masked_crc32c(data: bytes | memoryview) -> int:
    """LevelDB's masked CRC-32C of ``data``, read from snappy's framing format."""
    if not len(data):
        return _mask(0)
    framed = memoryview(cramjam.snappy.compress(data))
    if len(data) <= _FRAME_CHUNK:
        return _u32.unpack_from(framed, 14)[0]
    # One chunk per 64 KiB: unmask each chunk's CRC and combine them.
    crc = None
    pos = 10
    remaining = len(data)
    while pos < len(framed):
        length = int.from_bytes(framed[pos + 1 : pos + 4], "little")
        chunk_crc = _unmask(_u32.unpack_from(framed, pos + 4)[0])
        chunk_len = min(remaining, _FRAME_CHUNK)
        crc = chunk_crc if crc is None else _crc32c_combine(crc, chunk_crc, chunk_len)
        remaining -= chunk_len
        pos += 4 + length
    return _mask(crc if crc is not None else 0)


def masked_crc32c(data: bytes) -> int:
    """The masked CRC-32C that LevelDB stores for ``data`` (public for test writers)."""
    return _masked_crc32c(data)


# --------------------------------------------------------------------------
# Small decoders
# --------------------------------------------------------------------------


class _Corrupt(ValueError):
    """Internal: a structure is damaged; turned into LevelDBError with the file name."""


def encode_varint(n: int) -> bytes:
    """``n`` as a LevelDB (and protobuf) varint: 7 bits a byte, low first."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end or shift > 63:
            raise _Corrupt("bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def decode_varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, next position) of the little-endian base-128 varint at ``pos`` (ValueError if bad)."""
    return _varint(buf, pos)


def _length_prefixed(buf: bytes | memoryview, pos: int) -> tuple[bytes, int]:
    n, pos = _varint(buf, pos)
    end = pos + n
    if end > len(buf):
        raise _Corrupt("truncated string")
    return bytes(buf[pos:end]), end


# --------------------------------------------------------------------------
# Log files (also the MANIFEST's container format)
# --------------------------------------------------------------------------


def _only_zeros(data: bytes, start: int) -> bool:
    return not data[start:].strip(b"\x00")


def _log_records(data: bytes, name: str) -> Iterator[bytes]:
    """The logical records of a log file, in order.

    A record that was being written at the end of the file (a torn tail: cut
    short, or zero-filled up to the end of the file) is dropped silently, as
    LevelDB does.  Any other damage raises LevelDBError.
    """
    size = len(data)
    view = memoryview(data)
    pending: list[bytes] | None = None
    block_start = 0
    while block_start < size:
        block_end = min(block_start + LOG_BLOCK_SIZE, size)
        pos = block_start
        while block_end - pos >= _LOG_HEADER:
            crc, length, rtype = _log_header.unpack_from(data, pos)
            if rtype == 0 and length == 0:
                # Preallocated, never written: the rest of the block is padding.
                break
            end = pos + _LOG_HEADER + length
            if end > block_end:
                if block_end == size:
                    return  # torn tail: the writer stopped mid-record
                raise LevelDBError(f"{name} is damaged: bad record length at offset {pos}")
            if _masked_crc32c(view[pos + 6 : end]) != crc:
                # A crash can leave the end of a file zero-filled (the size was
                # extended before the data landed): a last record that ends in
                # zeros, followed by nothing but zeros, is a torn tail.
                if data[end - 1] == 0 and _only_zeros(data, end):
                    return
                raise LevelDBError(f"{name} is damaged: checksum mismatch at offset {pos}")
            fragment = bytes(view[pos + _LOG_HEADER : end])
            start, pos = pos, end
            if rtype == _FULL:
                if pending is not None:
                    raise LevelDBError(f"{name} is damaged: a record has no end (offset {start})")
                yield fragment
            elif rtype == _FIRST:
                if pending is not None:
                    raise LevelDBError(f"{name} is damaged: a record has no end (offset {start})")
                pending = [fragment]
            elif rtype == _MIDDLE or rtype == _LAST:
                if pending is None:
                    raise LevelDBError(f"{name} is damaged: a record has no start (offset {start})")
                pending.append(fragment)
                if rtype == _LAST:
                    yield b"".join(pending)
                    pending = None
            else:
                raise LevelDBError(f"{name} is damaged: unknown record type {rtype} (offset {start})")
        block_start += LOG_BLOCK_SIZE
    # A record begun but never finished: torn tail, dropped (pending).


def _apply_batch(batch: bytes, name: str, state: dict[bytes, bytes | None]) -> None:
    """Apply one WriteBatch (sequence, count, then put/delete records) to ``state``.

    Batches are applied in log order, so a later record replaces an earlier
    one; a deletion is kept as None so that it hides older values in tables.
    """
    if len(batch) < 12:
        raise LevelDBError(f"{name} is damaged: a write batch is too short")
    count = _u32.unpack_from(batch, 8)[0]
    pos = 12
    n = len(batch)
    try:
        for _ in range(count):
            if pos >= n:
                raise _Corrupt("a write batch has fewer records than its count")
            tag = batch[pos]
            # Key length: one byte in the usual case.
            klen = batch[pos + 1]
            if klen < 0x80:
                pos += 2
            else:
                klen, pos = _varint(batch, pos + 1)
            kend = pos + klen
            if kend > n:
                raise _Corrupt("a write batch is truncated")
            key = batch[pos:kend]
            if tag == _TYPE_VALUE:
                vlen, pos = _varint(batch, kend)
                vend = pos + vlen
                if vend > n:
                    raise _Corrupt("a write batch is truncated")
                state[key] = batch[pos:vend]
                pos = vend
            elif tag == _TYPE_DELETION:
                state[key] = None
                pos = kend
            else:
                raise _Corrupt(f"unknown write batch record type {tag}")
    except IndexError:
        raise LevelDBError(f"{name} is damaged: a write batch is truncated") from None
    except _Corrupt as exc:
        raise LevelDBError(f"{name} is damaged: {exc}") from None
    if pos != n:
        raise LevelDBError(f"{name} is damaged: a write batch has trailing bytes")


# --------------------------------------------------------------------------
# The MANIFEST
# --------------------------------------------------------------------------


def parse_manifest(data: bytes, name: str = "MANIFEST") -> Version:
    """The current version from a MANIFEST's version edits."""
    comparator = None
    log_number = prev_log_number = next_file = last_sequence = None
    files: set[tuple[int, int]] = set()
    try:
        for edit in _log_records(data, name):
            pos = 0
            n = len(edit)
            while pos < n:
                tag, pos = _varint(edit, pos)
                if tag == 1:  # comparator
                    raw, pos = _length_prefixed(edit, pos)
                    comparator = raw.decode("utf-8", "replace")
                elif tag == 2:
                    log_number, pos = _varint(edit, pos)
                elif tag == 3:
                    next_file, pos = _varint(edit, pos)
                elif tag == 4:
                    last_sequence, pos = _varint(edit, pos)
                elif tag == 5:  # compact pointer: level, internal key
                    _, pos = _varint(edit, pos)
                    _, pos = _length_prefixed(edit, pos)
                elif tag == 6:  # deleted file: level, number
                    level, pos = _varint(edit, pos)
                    number, pos = _varint(edit, pos)
                    files.discard((level, number))
                elif tag == 7:  # new file: level, number, size, smallest, largest
                    level, pos = _varint(edit, pos)
                    number, pos = _varint(edit, pos)
                    _, pos = _varint(edit, pos)
                    _, pos = _length_prefixed(edit, pos)
                    _, pos = _length_prefixed(edit, pos)
                    files.add((level, number))
                elif tag == 9:
                    prev_log_number, pos = _varint(edit, pos)
                else:
                    raise _Corrupt(f"unknown version edit tag {tag}")
    except _Corrupt as exc:
        raise LevelDBError(f"{name} is damaged: {exc}") from None
    if log_number is None or next_file is None or last_sequence is None:
        raise LevelDBError(f"{name} is damaged or incomplete: it does not describe a database")
    return Version(
        manifest=name,
        comparator=comparator,
        log_number=log_number,
        prev_log_number=prev_log_number or 0,
        next_file=next_file,
        last_sequence=last_sequence,
        files=frozenset(files),
    )


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def _block(data: bytes, offset: int, size: int, name: str) -> bytes:
    """The contents of the block at ``offset``: checksum checked, decompressed."""
    end = offset + size
    if offset < 0 or end + _BLOCK_TRAILER > len(data):
        raise LevelDBError(f"{name} is damaged: a block lies outside the file")
    view = memoryview(data)
    ctype = data[end]
    if _masked_crc32c(view[offset : end + 1]) != _u32.unpack_from(data, end + 1)[0]:
        raise LevelDBError(f"{name} is damaged: block checksum mismatch at offset {offset}")
    raw = view[offset:end]
    if ctype == _NO_COMPRESSION:
        return bytes(raw)
    try:
        if ctype == _SNAPPY:
            return bytes(cramjam.snappy.decompress_raw(raw))
        if ctype == _ZSTD:
            return bytes(cramjam.zstd.decompress(raw))
    except cramjam.DecompressionError:
        raise LevelDBError(
            f"{name} is damaged: a compressed block cannot be decompressed (offset {offset})"
        ) from None
    raise UnsupportedFormatError(
        f"{name} uses an unknown block compression (type {ctype}); this app reads "
        "uncompressed, snappy and zstd blocks"
    )


def _block_entries(block: bytes, name: str) -> Iterator[tuple[bytes, bytes]]:
    """The (key, value) entries of a block: prefix-compressed keys, restart array at the end."""
    n = len(block)
    if n < 4:
        raise LevelDBError(f"{name} is damaged: a block is too short")
    restarts = _u32.unpack_from(block, n - 4)[0]
    limit = n - 4 - 4 * restarts
    if limit < 0:
        raise LevelDBError(f"{name} is damaged: a block's restart array is too long")
    pos = 0
    key = b""
    try:
        while pos < limit:
            shared = block[pos]
            unshared = block[pos + 1]
            vlen = block[pos + 2]
            if (shared | unshared | vlen) < 0x80:
                pos += 3
            else:
                shared, pos = _varint(block, pos)
                unshared, pos = _varint(block, pos)
                vlen, pos = _varint(block, pos)
            kend = pos + unshared
            vend = kend + vlen
            if vend > limit or shared > len(key):
                raise _Corrupt("bad entry")
            key = key[:shared] + block[pos:kend] if shared else block[pos:kend]
            yield key, block[kend:vend]
            pos = vend
    except (_Corrupt, IndexError):
        raise LevelDBError(f"{name} is damaged: a block entry is malformed") from None


def _block_handle(buf: bytes | memoryview, pos: int) -> tuple[int, int, int]:
    offset, pos = _varint(buf, pos)
    size, pos = _varint(buf, pos)
    return offset, size, pos


def _apply_table(data: bytes, name: str, state: dict[bytes, bytes | None]) -> None:
    """Add the entries of one table to ``state`` where it has no newer record of the key.

    Tables are applied newest first, and within a table a key's records come
    newest first (internal keys sort by user key, then by falling sequence
    number), so the first record seen of a key is its newest one.
    """
    if len(data) < _FOOTER:
        raise LevelDBError(f"{name} is damaged: it is too short to be a table")
    if int.from_bytes(data[-8:], "little") != TABLE_MAGIC:
        raise LevelDBError(f"{name} is not a LevelDB table (bad magic number)")
    try:
        _, _, pos = _block_handle(data, len(data) - _FOOTER)  # metaindex (filters): unused
        index_offset, index_size, _ = _block_handle(data, pos)
    except _Corrupt:
        raise LevelDBError(f"{name} is damaged: bad table footer") from None
    index = _block(data, index_offset, index_size, name)
    for _, handle in _block_entries(index, name):
        try:
            offset, size, _ = _block_handle(handle, 0)
        except _Corrupt:
            raise LevelDBError(f"{name} is damaged: bad index entry") from None
        for key, value in _block_entries(_block(data, offset, size, name), name):
            user_key = key[:-8]
            if user_key in state:
                continue
            kind = key[-8] if len(key) >= 8 else -1
            if kind == _TYPE_VALUE:
                state[user_key] = value
            elif kind == _TYPE_DELETION:
                state[user_key] = None
            else:
                raise LevelDBError(f"{name} is damaged: a block entry is malformed")


# --------------------------------------------------------------------------
# The folder
# --------------------------------------------------------------------------


def _read(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` is an SQLite database (False when it cannot be read)."""
    try:
        return paths.has_sqlite_header(path)
    except OSError:
        return False


def experiment_tag(folder: Path) -> str | None:
    """The file that marks ``folder`` as part of Chromium's SQLite storage experiment, if any."""
    for tag in EXPERIMENT_TAGS:
        if (folder / tag).exists():
            return tag
    return None


_DB_FILE = re.compile(r"CURRENT|MANIFEST-\d+|\d+\.(?:log|ldb|sst)")


def has_database(folder: Path) -> bool:
    """Whether ``folder`` holds any LevelDB file (an empty or missing folder holds no data)."""
    try:
        return any(_DB_FILE.fullmatch(name) for name in os.listdir(folder))
    except OSError:
        return False


def _no_current(folder: Path) -> LevelDBError:
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return LevelDBError("the folder does not exist")
    except NotADirectoryError:
        if is_sqlite(folder):
            return UnsupportedFormatError(
                "it is an SQLite database (Chromium's SQLite-backed storage), "
                "which this app cannot read yet"
            )
        return LevelDBError("it is a file, not a LevelDB folder")
    except OSError as exc:
        return LevelDBError(f"the folder cannot be read ({exc.strerror})")
    if any(is_sqlite(folder / n) for n in names if not _DB_FILE.fullmatch(n)):
        return UnsupportedFormatError(
            "it holds SQLite databases (Chromium's SQLite-backed storage), "
            "which this app cannot read yet"
        )
    if any(_DB_FILE.fullmatch(n) for n in names):
        return LevelDBError("its CURRENT file is missing (the database is damaged)")
    return LevelDBError("it is not a LevelDB database (it has no CURRENT file)")


def _table_path(folder: Path, number: int) -> Path:
    path = folder / f"{number:06d}.ldb"
    if path.exists():
        return path
    sst = folder / f"{number:06d}.sst"
    return sst if sst.exists() else path


def _changed(folder: Path, current: bytes, manifest_name: str, manifest_size: int) -> bool:
    """Whether the database moved on since ``CURRENT`` and its MANIFEST were read."""
    try:
        return (
            _read(folder / "CURRENT") != current
            or os.path.getsize(folder / manifest_name) != manifest_size
        )
    except OSError:
        return True


def _snapshot(folder: Path) -> tuple[Version, list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """The version, table files and live logs, read at one moment (retried if they changed)."""
    for attempt in range(_ATTEMPTS):
        last = attempt == _ATTEMPTS - 1
        try:
            current = _read(folder / "CURRENT")
        except (FileNotFoundError, NotADirectoryError):
            raise _no_current(folder) from None
        text = current.decode("ascii", "replace")
        if not text.endswith("\n") or not _MANIFEST_NAME.fullmatch(text[:-1]):
            if not last:
                continue  # CURRENT is replaced by a rename; a torn read is retried
            raise LevelDBError("its CURRENT file is malformed (the database is damaged)")
        manifest_name = text[:-1]
        try:
            manifest = _read(folder / manifest_name)
        except FileNotFoundError:
            if not last:
                continue
            raise LevelDBError(
                f"{manifest_name}, named by CURRENT, is missing (the database is damaged)"
            ) from None
        version = parse_manifest(manifest, manifest_name)
        try:
            # Newest first: level 0 by falling file number, then each deeper level.
            order = sorted(version.files, key=lambda f: (f[0], -f[1] if f[0] == 0 else f[1]))
            tables = [(p.name, _read(p)) for p in (_table_path(folder, n) for _, n in order)]
        except FileNotFoundError as exc:
            if not last and _changed(folder, current, manifest_name, len(manifest)):
                continue
            raise LevelDBError(
                f"the table {Path(exc.filename).name} listed in {manifest_name} is missing "
                "(the database is damaged)"
            ) from None
        log_numbers = []
        for entry in os.listdir(folder):
            m = _LOG_NAME.fullmatch(entry)
            if m:
                num = int(m.group(1))
                if num >= version.log_number or num == version.prev_log_number:
                    log_numbers.append(num)
        logs = []
        vanished = False
        for num in sorted(log_numbers):
            try:
                logs.append((f"{num:06d}.log", _read(folder / f"{num:06d}.log")))
            except FileNotFoundError:
                vanished = True
        if vanished or _changed(folder, current, manifest_name, len(manifest)):
            if not last:
                continue
            raise LevelDBError("it kept changing while it was being read; scan again")
        return version, tables, logs
    raise AssertionError("unreachable")  # pragma: no cover


def open_database(folder: Path) -> Database:
    """Read the live contents of the LevelDB in ``folder`` (LevelDBError if it cannot)."""
    folder = Path(folder)
    try:
        version, tables, logs = _snapshot(folder)
    except PermissionError as exc:
        raise LevelDBError(
            f"{Path(exc.filename or folder).name} cannot be read: permission denied"
        ) from None
    except IsADirectoryError as exc:
        raise LevelDBError(f"{Path(exc.filename).name} is a folder, not a file") from None
    # As LevelDB looks a key up: the logs (newest), then the tables newest first.
    state: dict[bytes, bytes | None] = {}
    for name, data in logs:
        for batch in _log_records(data, name):
            _apply_batch(batch, name, state)
    for name, data in tables:
        _apply_table(data, name, state)
    records = {k: v for k, v in state.items() if v is not None}
    return Database(
        folder=folder,
        version=version,
        records=records,
        tables=tuple(n for n, _ in tables),
        logs=tuple(n for n, _ in logs),
    )


def read_records(folder: Path) -> dict[bytes, bytes]:
    """The live keys of the LevelDB in ``folder`` and their values (LevelDBError if unreadable)."""
    return open_database(folder).records
