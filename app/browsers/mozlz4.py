"""Mozilla's ``mozlz4`` container: ``mozLz40\\0``, then an LZ4 block with its size."""

from __future__ import annotations

from pathlib import Path

import lz4.block

MAGIC = b"mozLz40\0"


class FormatError(Exception):
    """The bytes are not a mozlz4 file; the message says why, for a user."""


def decode(data: bytes) -> bytes:
    if not data.startswith(MAGIC):
        raise FormatError("it does not start with the mozLz40 header")
    if len(data) < len(MAGIC) + 4:
        raise FormatError("it is truncated")
    try:
        return lz4.block.decompress(data[len(MAGIC) :])
    except (lz4.block.LZ4BlockError, ValueError) as exc:
        raise FormatError("its compressed data is damaged or truncated") from exc


def encode(data: bytes) -> bytes:
    return MAGIC + lz4.block.compress(data)


def read(path: Path) -> bytes:
    return decode(path.read_bytes())
