"""Safari cookies: ``Cookies.binarycookies``, read-only.

The file is Apple's CFNetwork cookie jar.  Its layout, as the public parsers
describe it and as far as this reader relies on it:

* File: ``cook``; the page count (big-endian uint32); one big-endian uint32
  size per page; the pages back to back; then a footer that this reader does
  not need (a big-endian checksum, the constant ``07 17 20 05 00 00 00 4b``
  and a binary plist holding ``NSHTTPCookieAcceptPolicy``).
* Page: ``00 00 01 00``; the cookie count (little-endian uint32); one
  little-endian uint32 offset per cookie, from the start of the page; four zero
  bytes; the cookie records.
* Record (all little-endian): size, version, flags, has-port, then the offsets
  of the domain, name, path, value, comment and comment URL strings (from the
  start of the record; 0 for an absent comment), then the expiry and creation
  times as doubles in seconds since 2001-01-01 UTC: 56 bytes.  A two-byte port
  may follow; the NUL-terminated UTF-8 strings come after, found by offset.
* Flags: 1 Secure, 2 session-only, 4 HttpOnly, 8 SameSite given (Lax),
  8 and 16 together SameSite=Strict.  Without bit 8 the file does not say
  whether the site sent ``SameSite=None`` or nothing: ``unspecified``.

CFNetwork normally keeps session cookies in memory only, so nearly every
cookie here has an expiry; one with the session flag or an expiry of 0 is
reported as a session cookie.  Safari records no last-access time, partition, priority or source
scheme here, so those fields stay null.

The whole file is checked and converted before any entry is handed out, so a
damaged file gives one ReadError and never half a list.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

from privacy_inspector.browsers.base import CookieFactory, ReadOptions
from privacy_inspector.core.records import Entry, Profile, ReadError, ValueState
from privacy_inspector.core.times import iso_from_mac

STORE = "Cookies.binarycookies"

FILE_MAGIC = b"cook"
PAGE_MAGIC = b"\x00\x00\x01\x00"

FLAG_SECURE = 0x1
FLAG_SESSION = 0x2
FLAG_HTTP_ONLY = 0x4
FLAG_SAME_SITE = 0x8
FLAG_SAME_SITE_STRICT = 0x10

# size, version, flags, has_port, domain, name, path, value, comment,
# comment_url (uint32 each), expiry, creation (doubles).
_RECORD = struct.Struct("<10I2d")
RECORD_HEADER_SIZE = _RECORD.size  # 56
_BE_UINT = struct.Struct(">I")
_LE_UINT = struct.Struct("<I")

_PLAIN = str(ValueState.PLAIN)

FULL_DISK_ACCESS_MESSAGE = (
    "Privacy Inspector needs Full Disk Access to read Safari's cookies: allow it in "
    "System Settings > Privacy & Security > Full Disk Access, then scan again"
)


def read_cookies(profile: Profile, options: ReadOptions) -> list[Entry]:
    """The cookies of Safari's ``Cookies.binarycookies`` (``profile.path`` is the file).

    Raises ReadError, with one line for the user, when the file is missing,
    unreadable or damaged.
    """
    path = profile.path
    data = _read_file(path)
    return parse(data, path.name, CookieFactory(profile, show_values=options.show_values))


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file") from None
    except PermissionError:
        raise ReadError(FULL_DISK_ACCESS_MESSAGE) from None
    except IsADirectoryError:
        raise ReadError(f"{path.name} is a folder, not Safari's cookie file") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ReadError(f"{path.name} cannot be read: {reason}") from None


def parse(data: bytes, name: str, make: CookieFactory) -> list[Entry]:
    """Every cookie of a ``Cookies.binarycookies`` image, in file order.

    ``name`` is the file's name for the messages.  Raises ReadError on anything
    that does not fit the layout.
    """
    total = len(data)
    if total == 0:
        raise ReadError(f"{name} is empty")
    if not FILE_MAGIC.startswith(data[:4]):
        raise ReadError(f"{name} is not a Safari cookie file: it does not start with 'cook'")
    if total < 8:
        raise ReadError(f"{name} is truncated: the header ends at byte 8 of {total}")
    (page_count,) = _BE_UINT.unpack_from(data, 4)
    pos = 8 + 4 * page_count
    if pos > total:
        raise ReadError(
            f"{name} is truncated: the table of {page_count} page sizes "
            f"ends at byte {pos} of {total}"
        )
    page_sizes = struct.unpack_from(f">{page_count}I", data, 8)

    rows: list[tuple[Any, ...]] = []
    for page_no, page_size in enumerate(page_sizes, 1):
        end = pos + page_size
        if end > total:
            raise ReadError(f"{name} is truncated: page {page_no} ends at byte {end} of {total}")
        _parse_page(data, pos, page_size, page_no, name, rows)
        pos = end
    # What follows the pages (checksum, footer, plist) carries no cookie.
    return make.rows(rows)


def _parse_page(
    data: bytes,
    start: int,
    size: int,
    page_no: int,
    name: str,
    out: list[tuple[Any, ...]],
) -> None:
    if size < 8:
        raise ReadError(
            f"{name} is damaged: page {page_no} is {size} bytes, too short for a page header"
        )
    if data[start : start + 4] != PAGE_MAGIC:
        raise ReadError(f"{name} is damaged: page {page_no} does not start with 00 00 01 00")
    (count,) = _LE_UINT.unpack_from(data, start + 4)
    table_end = 8 + 4 * count
    if table_end > size:
        raise ReadError(
            f"{name} is damaged: page {page_no} lists {count} cookies, "
            f"more than its {size} bytes can hold"
        )
    offsets = struct.unpack_from(f"<{count}I", data, start + 8)

    record_unpack = _RECORD.unpack_from
    find = data.find
    isfinite = math.isfinite
    iso = iso_from_mac
    plain = _PLAIN
    header = RECORD_HEADER_SIZE
    for cookie_no, offset in enumerate(offsets, 1):
        if offset < table_end or offset + header > size:
            raise ReadError(
                f"{name} is damaged: cookie {cookie_no} of page {page_no} starts at byte "
                f"{offset}, outside the page's {size} bytes"
            )
        rec = start + offset
        (
            rec_size,
            _version,
            flags,
            _has_port,
            domain_at,
            name_at,
            path_at,
            value_at,
            _comment_at,
            _comment_url_at,
            expiry,
            creation,
        ) = record_unpack(data, rec)
        if rec_size < header:
            raise ReadError(
                f"{name} is damaged: cookie {cookie_no} of page {page_no} claims {rec_size} "
                f"bytes, less than its {header}-byte header"
            )
        if offset + rec_size > size:
            raise ReadError(
                f"{name} is damaged: cookie {cookie_no} of page {page_no} runs past its page: "
                f"it ends at byte {offset + rec_size} of {size}"
            )

        # The four strings must start after the header, inside the record, and
        # end in a NUL inside it.  The checks are written out for speed; the
        # message names the first string at fault.
        rec_end = rec + rec_size
        if not (
            header <= domain_at < rec_size
            and header <= name_at < rec_size
            and header <= path_at < rec_size
            and header <= value_at < rec_size
        ):
            raise _string_fault(data, rec, rec_size, name, page_no, cookie_no)
        domain_start = rec + domain_at
        name_start = rec + name_at
        path_start = rec + path_at
        value_start = rec + value_at
        domain_end = find(b"\x00", domain_start, rec_end)
        name_end = find(b"\x00", name_start, rec_end)
        path_end = find(b"\x00", path_start, rec_end)
        value_end = find(b"\x00", value_start, rec_end)
        if domain_end < 0 or name_end < 0 or path_end < 0 or value_end < 0:
            raise _string_fault(data, rec, rec_size, name, page_no, cookie_no)
        try:
            host = data[domain_start:domain_end].decode()
            cookie_name = data[name_start:name_end].decode()
            cookie_path = data[path_start:path_end].decode()
            value = data[value_start:value_end].decode()
        except UnicodeDecodeError:
            raise _string_fault(data, rec, rec_size, name, page_no, cookie_no) from None

        if not isfinite(expiry):
            raise ReadError(
                f"{name} is damaged: cookie {cookie_no} of page {page_no} has an invalid "
                "expiry time"
            )
        if not isfinite(creation):
            raise ReadError(
                f"{name} is damaged: cookie {cookie_no} of page {page_no} has an invalid "
                "creation time"
            )
        persistent = not (flags & FLAG_SESSION) and expiry != 0.0
        if flags & FLAG_SAME_SITE:
            same_site = "strict" if flags & FLAG_SAME_SITE_STRICT else "lax"
        else:
            same_site = "unspecified"

        out.append(
            (
                STORE,
                STORE,
                host,
                cookie_name,
                cookie_path,
                None,
                None,
                None,
                persistent,
                iso(expiry) if persistent else None,
                flags & FLAG_SECURE != 0,
                flags & FLAG_HTTP_ONLY != 0,
                same_site,
                (name_end - name_start) + (value_end - value_start),
                value,
                plain,
                False,
                iso(creation) if creation != 0.0 else None,
                None,
                None,
                None,
                None,
                None,
                None,
            )
        )


_STRING_FIELDS = (("domain", 16), ("name", 20), ("path", 24), ("value", 28))


def _string_fault(
    data: bytes, rec: int, rec_size: int, name: str, page_no: int, cookie_no: int
) -> ReadError:
    """The error for the first of a record's strings that is out of place or unreadable."""
    rec_end = rec + rec_size
    for what, field in _STRING_FIELDS:
        (at,) = _LE_UINT.unpack_from(data, rec + field)
        if not RECORD_HEADER_SIZE <= at < rec_size:
            problem = "points outside the record"
        else:
            end = data.find(b"\x00", rec + at, rec_end)
            if end < 0:
                problem = "has no terminating NUL byte"
            else:
                try:
                    data[rec + at : end].decode()
                except UnicodeDecodeError:
                    problem = "is not valid UTF-8"
                else:
                    continue
        return ReadError(
            f"{name} is damaged: the {what} of cookie {cookie_no} of page {page_no} {problem}"
        )
    return ReadError(f"{name} is damaged: cookie {cookie_no} of page {page_no} is unreadable")


