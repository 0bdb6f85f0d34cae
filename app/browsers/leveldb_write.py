"""Changing a closed LevelDB database the way LevelDB itself does: one write batch, appended to its log.

Chromium keeps localStorage and sessionStorage in LevelDB folders, and the app
has no LevelDB library to write them with (``plyvel`` has Linux wheels only,
and opening a folder with it rewrites the folder).  LevelDB's own write path
is small, though, and its formats have been stable since 2011: every change
is a *write batch* (``db/write_batch.cc``: a 64-bit sequence number, a 32-bit
count, then put and delete records) appended as one logical record to the
current log file (``doc/log_format.md``, ``db/log_writer.cc``), and on open
LevelDB replays the live logs into its memory table (``db/db_impl.cc``
``Recover`` / ``RecoverLogFile``).  So appending one correctly framed batch,
with a sequence number above every one already used, is a change LevelDB
(and Chromium, which reuses the last log: ``reuse_logs``) takes in at its next
open exactly as if it had written the batch itself.  The MANIFEST, the tables
and every byte already in the log stay as they are.

What the append relies on, and checks first (``WriteError``, nothing written,
when it does not hold):

* the folder is a LevelDB database: ``CURRENT`` names a MANIFEST that parses,
  and our reader (``leveldb.open_database``) reads every live file with its
  checksums;
* no one else has it open: LevelDB (``util/env_posix.cc`` ``LockFile``) and
  Chromium (``base::File::Lock``) hold an ``fcntl`` write lock on ``LOCK``
  while the database is open (``LockFileEx`` on Windows).  The writer takes
  that lock itself, for the whole read-check-write, so the browser cannot
  open the folder halfway;
* the log written to is the one LevelDB replays last and would reuse: the
  newest ``.log`` whose number is at least the MANIFEST's log number (or its
  previous log number, for old databases), as ``DBImpl::Recover`` collects
  them;
* that log ends exactly at a record boundary: every physical record in it
  complete with a good checksum, every fragmented record finished, nothing
  after the last record but block-trailer padding.  A torn tail (a crash
  while writing) or zeros from preallocation would make LevelDB's reader
  drop or misread whatever is appended after it, so such a log is refused;
* the sequence number: LevelDB sets its last sequence to the highest of the
  MANIFEST's ``last_sequence`` and every replayed batch's ``sequence + count
  - 1``; the new batch starts one above that, so it is newer than every
  record in the logs and tables and wins over them.

The batch is framed as ``log::Writer`` frames it, continuing from the log's
current length: 32 KiB blocks, 7-byte headers (masked CRC-32C of the type
byte and the payload, length, type), FULL or FIRST/MIDDLE/LAST fragments, and
a block trailer of fewer than 7 bytes filled with zeros.  It is written with
one ``write`` and ``fsync``ed.  Before the lock is released the folder is read
back; if our reader does not see exactly the change, the log is cut back to
its old length and the write is refused.  A crash during the append leaves a
torn last record, which LevelDB drops on open: the database is then as before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers.sqlitewrite import WriteError

__all__ = ["Appender", "WriteError", "append_batch", "encode_batch", "frame_record",
           "open_for_append"]

# (key, value) puts a value; (key, None) deletes the key.
Op = tuple[bytes, "bytes | None"]

BLOCK_SIZE = leveldb.LOG_BLOCK_SIZE
HEADER_SIZE = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_TYPE_DELETION, _TYPE_VALUE = 0, 1
# Sequence numbers share 64 bits with the 8-bit value type (db/dbformat.h).
MAX_SEQUENCE = (1 << 56) - 1

_LOG_NAME = re.compile(r"(\d+)\.log")
_header = struct.Struct("<IHB")
_batch_header = struct.Struct("<QI")


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def encode_batch(sequence: int, ops: Sequence[Op]) -> bytes:
    """A WriteBatch (``db/write_batch.cc``): sequence, count, then the puts and deletions in order."""
    out = bytearray(_batch_header.pack(sequence, len(ops)))
    for key, value in ops:
        if value is None:
            out += bytes([_TYPE_DELETION]) + leveldb.encode_varint(len(key)) + key
        else:
            out += bytes([_TYPE_VALUE]) + leveldb.encode_varint(len(key)) + key + leveldb.encode_varint(len(value)) + value
    return bytes(out)


def frame_record(record: bytes, offset: int) -> bytes:
    """``record`` as ``log::Writer::AddRecord`` writes it to a log that is ``offset`` bytes long."""
    out = bytearray()
    block_offset = offset % BLOCK_SIZE
    left = memoryview(record)
    begin = True
    while True:
        leftover = BLOCK_SIZE - block_offset
        if leftover < HEADER_SIZE:
            out += b"\x00" * leftover
            block_offset = 0
        avail = BLOCK_SIZE - block_offset - HEADER_SIZE
        fragment, left = left[:avail], left[avail:]
        end = not len(left)
        rtype = FULL if begin and end else FIRST if begin else LAST if end else MIDDLE
        typed = bytes([rtype]) + bytes(fragment)
        out += _header.pack(leveldb.masked_crc32c(typed), len(fragment), rtype) + typed[1:]
        block_offset += HEADER_SIZE + len(fragment)
        begin = False
        if end:
            return bytes(out)


# --------------------------------------------------------------------------
# Reading the logs as LevelDB replays them
# --------------------------------------------------------------------------


class _Unexpected(Exception):
    """Internal: the folder is not in a state the writer may append to (message: no values)."""


def _records(data: bytes, name: str, *, strict: bool) -> Iterator[bytes]:
    """The logical records of a log, as ``log::Reader`` returns them.

    Not ``strict`` (a log replayed before the last one, already checked by
    our reader): a damaged or torn end is where LevelDB stops reading, so it
    is where this stops too.  ``strict`` (the log to append to): the log
    must end exactly after a complete record, with nothing but zero padding
    in block trailers; anything else raises ``_Unexpected``.
    """
    size = len(data)
    view = memoryview(data)
    pending: list[bytes] | None = None
    pos = 0

    def stop(why: str) -> None:
        if strict:
            raise _Unexpected(f"{name} {why} (offset {pos})")

    while pos < size:
        room = BLOCK_SIZE - pos % BLOCK_SIZE
        if room < HEADER_SIZE:
            if data[pos : pos + room].strip(b"\x00"):
                stop("has data in a block trailer")
            pos += room
            continue
        if size - pos < HEADER_SIZE:
            stop("ends inside a record header: a torn write")
            return
        crc, length, rtype = _header.unpack_from(data, pos)
        end = pos + HEADER_SIZE + length
        if rtype == 0 and length == 0:
            # Preallocated space: LevelDB skips the rest of the block, so a
            # record appended after it would never be read.
            stop("has zero-filled space")
            pos += room
            continue
        if end > min(pos + room, size):
            stop("ends inside a record: a torn write" if end > size
                 else "has a record longer than its block")
            return
        if leveldb.masked_crc32c(bytes(view[pos + 6 : end])) != crc:
            stop("has a checksum mismatch")
            return
        fragment = bytes(view[pos + HEADER_SIZE : end])
        if rtype == FULL or rtype == FIRST:
            if pending:
                stop("has a record without its end")
                return
            if rtype == FULL:
                pending = None
                yield fragment
            else:
                pending = [fragment]
        elif rtype == MIDDLE or rtype == LAST:
            if pending is None:
                stop("has a record without its start")
                return
            pending.append(fragment)
            if rtype == LAST:
                yield b"".join(pending)
                pending = None
        else:
            stop(f"has a record of unknown type {rtype}")
            return
        pos = end
    if pending is not None:
        stop("ends inside a fragmented record: a torn write")


def _last_sequence(record: bytes, name: str) -> int:
    """``sequence + count - 1`` of one write batch, as ``RecoverLogFile`` computes it."""
    if len(record) < _batch_header.size:
        raise _Unexpected(f"{name} holds a write batch that is too short")
    sequence, count = _batch_header.unpack_from(record)
    return sequence + count - 1


# --------------------------------------------------------------------------
# The lock
# --------------------------------------------------------------------------


def _lock(folder: Path) -> tuple[int, bool]:
    """Take LevelDB's lock on ``folder/LOCK``: (fd, whether the file was created).

    An ``fcntl`` lock belongs to a process, so one this process already holds
    would not be seen; the app itself never opens a LevelDB any other way.
    """
    path = folder / "LOCK"
    created = not path.exists()
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError:
        # On Windows, an open database's LOCK cannot be opened for writing.
        raise WriteError(f"{folder.name} is in use by another program (is the browser "
                         "running?); nothing was changed") from None
    except OSError as exc:
        raise WriteError(f"{folder.name}/LOCK cannot be opened ({exc.strerror})") from None
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if created:
            path.unlink(missing_ok=True)
        if exc.errno in (errno.EACCES, errno.EAGAIN, errno.EDEADLK) or sys.platform == "win32":
            raise WriteError(f"{folder.name} is in use by another program (is the browser "
                             "running?); nothing was changed") from None
        raise WriteError(f"{folder.name}/LOCK cannot be locked ({exc.strerror})") from None
    return fd, created


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.lockf(fd, fcntl.LOCK_UN)
    os.close(fd)


# --------------------------------------------------------------------------
# Appending
# --------------------------------------------------------------------------


@dataclass
class Appender:
    """A LevelDB folder, locked and checked, ready for one appended batch.

    ``records`` are the live keys and values now (what the batch will
    change); ``sequence`` is the first sequence number the batch gets.
    """

    folder: Path
    records: dict[bytes, bytes]
    log: Path
    log_size: int
    sequence: int
    appended: bool = field(default=False, init=False)

    def append(self, ops: Sequence[Op]) -> int:
        """Append ``ops`` as one batch; its first sequence number (0 when there is nothing to do)."""
        if self.appended:
            raise RuntimeError("one batch per opening: open the folder again")
        if not ops:
            return 0
        if self.sequence + len(ops) - 1 > MAX_SEQUENCE:
            raise WriteError(f"{self.folder.name}: LevelDB's sequence numbers are used up; "
                             "nothing was changed")
        data = frame_record(encode_batch(self.sequence, ops), self.log_size)
        name = f"{self.folder.name}/{self.log.name}"
        try:
            fd = os.open(self.log, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            raise WriteError(f"{name} cannot be opened for writing ({exc.strerror}); "
                             "nothing was changed") from None
        try:
            if os.fstat(fd).st_size != self.log_size:
                raise WriteError(f"{name} changed while it was being checked; nothing was changed")
            try:
                os.lseek(fd, self.log_size, os.SEEK_SET)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as exc:
                _cut_back(fd, self.log_size)
                raise WriteError(f"{name} could not be written ({exc.strerror}); "
                                 "it was left as it was") from None
            if not self._took_effect(ops):
                _cut_back(fd, self.log_size)
                raise WriteError(f"{name}: the change did not read back as written; "
                                 "it was undone and the database left as it was")
            self.appended = True
        finally:
            os.close(fd)
        return self.sequence

    def _took_effect(self, ops: Sequence[Op]) -> bool:
        """Whether our reader sees the folder as it was, changed by exactly ``ops``."""
        expected = dict(self.records)
        for key, value in ops:
            if value is None:
                expected.pop(key, None)
            else:
                expected[key] = value
        try:
            return leveldb.open_database(self.folder).records == expected
        except leveldb.LevelDBError:
            return False


def _cut_back(fd: int, size: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, size)
        os.fsync(fd)


def _prepare(folder: Path) -> Appender:
    if not (folder / "CURRENT").is_file():
        raise _Unexpected(f"{folder.name} has no CURRENT file: it is not a LevelDB database, "
                          "or a damaged one")
    try:
        db = leveldb.open_database(folder)
    except leveldb.LevelDBError as exc:
        raise _Unexpected(f"{folder.name} cannot be read: {exc}") from None
    version = db.version
    numbers = []
    for name in os.listdir(folder):
        m = _LOG_NAME.fullmatch(name)
        if m:
            number = int(m.group(1))
            if number >= version.log_number or number == version.prev_log_number:
                numbers.append((number, name))
    if not numbers:
        raise _Unexpected(f"{folder.name} has no live log file to append to")
    numbers.sort()
    highest = version.last_sequence
    for i, (_, name) in enumerate(numbers):
        last = i == len(numbers) - 1
        with open(folder / name, "rb") as f:
            data = f.read()
        for record in _records(data, name, strict=last):
            highest = max(highest, _last_sequence(record, name))
        if last:
            log, size = folder / name, len(data)
    return Appender(folder, db.records, log, size, highest + 1)


@contextlib.contextmanager
def open_for_append(folder: Path) -> Iterator[Appender]:
    """Lock ``folder`` (a closed LevelDB database) and check it; WriteError if it may not be written.

    Everything read and decided inside the block (and saved to a journal)
    holds when ``append`` writes: nothing else can open the folder meanwhile.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise WriteError(f"{folder.name} is not a folder; nothing was changed")
    fd, created = _lock(folder)
    appended = False
    try:
        try:
            appender = _prepare(folder)
        except _Unexpected as exc:
            raise WriteError(f"{exc}; nothing was changed") from None
        except OSError as exc:
            raise WriteError(f"{folder.name} cannot be read ({exc.strerror}); "
                             "nothing was changed") from None
        yield appender
        appended = appender.appended
    finally:
        _unlock(fd)
        if created and not appended:
            (folder / "LOCK").unlink(missing_ok=True)


def append_batch(folder: Path, ops: Sequence[Op]) -> int:
    """Append ``ops`` to the LevelDB in ``folder`` as one batch; its first sequence number."""
    with open_for_append(folder) as appender:
        return appender.append(ops)
