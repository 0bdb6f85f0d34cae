"""Safari's Cookies.binarycookies reader, on files built by tests/fixtures/binarycookies.py."""

from __future__ import annotations

import importlib.util
import itertools
import struct
import sys
from pathlib import Path

import pytest

from privacy_inspector.browsers import safari
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core.records import Profile, ReadError


def _load_fixture_module():
    path = Path(__file__).resolve().parents[1] / "fixtures" / "binarycookies.py"
    spec = importlib.util.spec_from_file_location("_binarycookies_fixture", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bc = _load_fixture_module()

NAME = "Cookies.binarycookies"
# 2026-01-01T00:00:00Z and 2023-11-14T22:13:20Z as Unix seconds.
JAN_2026 = 1_767_225_600
NOV_2023 = 1_700_000_000


def _profile(path: Path) -> Profile:
    return Profile(path=path, browser="safari", engine="safari", name="Safari")


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / NAME
    path.write_bytes(data)
    return path


def _read(tmp_path: Path, data: bytes, show_values: bool = False):
    path = _write(tmp_path, data)
    return list(safari.read_cookies(_profile(path), ReadOptions(show_values=show_values)))


def _error(tmp_path: Path, data: bytes) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(ReadError) as info:
        list(safari.read_cookies(_profile(path), ReadOptions()))
    message = str(info.value)
    assert "\n" not in message
    return message


def _cookie(**kw):
    base = {
        "name": "sid",
        "value": "v1",
        "domain": ".example.com",
        "path": "/",
        "expires": JAN_2026,
        "created": NOV_2023,
    }
    base.update(kw)
    return base


# -- round trip ----------------------------------------------------------------


FLAG_COMBOS = list(itertools.product((False, True), (False, True), (None, "lax", "strict")))


def test_every_flag_combination_round_trips_across_two_pages(tmp_path):
    cookies = [
        _cookie(
            name=f"c{i}",
            value=f"value-{i}",
            domain=f".site{i}.example",
            path=f"/p{i}",
            secure=secure,
            http_only=http_only,
            same_site=same_site,
            expires=JAN_2026 + i * 86_400,
            created=NOV_2023 + i,
        )
        for i, (secure, http_only, same_site) in enumerate(FLAG_COMBOS)
    ]
    data = bc.build(cookies, per_page=6)
    assert len(bc.page_sizes(data)) == 2

    entries = _read(tmp_path, data, show_values=True)

    assert [e.name for e in entries] == [f"c{i}" for i in range(12)]
    for i, (entry, (secure, http_only, same_site)) in enumerate(zip(entries, FLAG_COMBOS, strict=True)):
        assert entry.secure is secure
        assert entry.http_only is http_only
        assert entry.same_site == (same_site or "unspecified")
        assert entry.value == f"value-{i}"
        assert entry.host == f"site{i}.example"
        assert entry.domain_cookie is True
        assert entry.path == f"/p{i}"
        assert entry.persistent is True
        assert entry.expires == f"2026-01-{1 + i:02d}T00:00:00Z"
        assert entry.created == f"2023-11-14T22:13:{20 + i:02d}Z"
        assert entry.browser == "safari"
        assert entry.engine == "safari"
        assert entry.kind == "cookie"
        assert entry.store == NAME
        assert entry.partition_site is None
        assert entry.container is None
        assert entry.origin is None
        assert entry.value_state == "plain"
        assert entry.stale is False
        assert entry.last_accessed is None
        assert entry.priority is None
        assert entry.source_scheme is None
        assert entry.source_port is None
        assert entry.partitioned is None
        assert entry.value_note is None
    assert len({e.id for e in entries}) == 12


def test_hand_packed_file_matches_the_documented_layout(tmp_path):
    # Built here with struct alone, so the fixture writer and the reader cannot
    # share a mistake: one page, one cookie, flags Secure|HttpOnly|SameSite.
    strings = b"www.example.org\x00token\x00/app\x00abc\x00"
    record_size = 56 + len(strings)
    record = (
        struct.pack(
            "<10I2d",
            record_size,
            0,
            0x1 | 0x4 | 0x8,
            0,
            56,
            56 + 16,
            56 + 22,
            56 + 27,
            0,
            0,
            788_918_400.0,  # 2026-01-01T00:00:00Z
            721_692_800.5,  # 2023-11-14T22:13:20.5Z
        )
        + strings
    )
    page = b"\x00\x00\x01\x00" + struct.pack("<I", 1) + struct.pack("<I", 16) + b"\x00" * 4 + record
    data = b"cook" + struct.pack(">I", 1) + struct.pack(">I", len(page)) + page
    data += struct.pack(">I", sum(page[0::4])) + bytes.fromhex("071720050000004b")

    [entry] = _read(tmp_path, data, show_values=True)

    assert (entry.host, entry.domain_cookie, entry.name, entry.path, entry.value) == (
        "www.example.org",
        False,
        "token",
        "/app",
        "abc",
    )
    assert (entry.secure, entry.http_only, entry.same_site) == (True, True, "lax")
    assert entry.expires == "2026-01-01T00:00:00Z"
    assert entry.created == "2023-11-14T22:13:20Z"
    assert entry.persistent is True
    assert entry.size == 8
    assert entry.site == "example.org"


def test_fixture_writes_the_footer_real_files_have():
    data = bc.build([_cookie(), _cookie(name="b")], per_page=1)
    sizes = bc.page_sizes(data)
    end = bc.page_start(data, len(sizes))
    pages = [data[bc.page_start(data, i) : bc.page_start(data, i) + s] for i, s in enumerate(sizes)]
    (stored,) = struct.unpack_from(">I", data, end)
    assert stored == sum(sum(p[0::4]) for p in pages)
    assert data[end + 4 : end + 12] == bytes.fromhex("071720050000004b")
    assert data[end + 12 : end + 20] == b"bplist00"


# -- hosts, times, values ------------------------------------------------------


def test_domain_cookie_versus_host_only(tmp_path):
    entries = _read(
        tmp_path,
        bc.build(
            [
                _cookie(name="a", domain=".news.example.co.uk"),
                _cookie(name="b", domain="news.example.co.uk"),
                _cookie(name="c", domain="LOCALHOST"),
            ]
        ),
    )
    a, b, c = entries
    assert (a.host, a.domain_cookie, a.site) == ("news.example.co.uk", True, "example.co.uk")
    assert (b.host, b.domain_cookie, b.site) == ("news.example.co.uk", False, "example.co.uk")
    assert (c.host, c.domain_cookie, c.site) == ("localhost", False, "localhost")
    # A domain cookie and a host-only cookie of the same name are different cookies.
    assert a.id != _read(tmp_path, bc.build([_cookie(name="a", domain="news.example.co.uk")]))[0].id


def test_times_are_converted_from_the_2001_epoch(tmp_path):
    entries = _read(
        tmp_path,
        bc.build(
            [
                _cookie(name="x", expires=978_307_200, created=978_307_200.999),
                _cookie(name="y", expires=4_102_444_799.9, created=1_000_000_000),
                _cookie(name="z", expires=JAN_2026, created=None),
                _cookie(name="far", expires=1e15, created=NOV_2023),
            ]
        ),
    )
    x, y, z, far = entries
    # Mac time 0.0 as the expiry means "no expiry" in this format.
    assert (x.persistent, x.expires, x.created) == (False, None, "2001-01-01T00:00:00Z")
    assert (y.persistent, y.expires) == (True, "2099-12-31T23:59:59Z")
    assert y.created == "2001-09-09T01:46:40Z"
    assert (z.expires, z.created) == ("2026-01-01T00:00:00Z", None)
    assert far.expires == "9999-12-31T23:59:59Z"


def test_session_flag_makes_a_session_cookie(tmp_path):
    entries = _read(
        tmp_path,
        bc.build(
            [
                _cookie(name="both", session=True),
                # The flag alone, with an expiry still stored: CFNetwork ignores the expiry.
                _cookie(name="flag", extra_flags=bc.SESSION, expires=JAN_2026),
            ]
        ),
    )
    for entry in entries:
        assert entry.persistent is False
        assert entry.expires is None
        assert entry.created == "2023-11-14T22:13:20Z"


def test_values_are_left_out_unless_asked_for(tmp_path):
    data = bc.build([_cookie(name="sid", value="s3cr3t")])
    [hidden] = _read(tmp_path, data)
    [shown] = _read(tmp_path, data, show_values=True)
    assert hidden.value is None
    assert hidden.value_state == "plain"
    assert hidden.size == 9
    assert shown.value == "s3cr3t"
    assert shown.value_state == "plain"
    assert shown.size == 9
    assert hidden.id == shown.id


def test_empty_value_unicode_name_comment_and_port(tmp_path):
    entries = _read(
        tmp_path,
        bc.build(
            [
                _cookie(name="empty", value=""),
                _cookie(name="naïve-ключ", value="€5", same_site="strict"),
                _cookie(name="commented", comment="kept for you", port=8443, extra_flags=0x20),
            ]
        ),
        show_values=True,
    )
    empty, uni, commented = entries
    assert (empty.value, empty.size) == ("", 5)
    assert uni.name == "naïve-ключ"
    assert uni.value == "€5"
    assert uni.size == len("naïve-ключ".encode()) + len("€5".encode()) == 19
    assert uni.same_site == "strict"
    assert (commented.name, commented.value, commented.host) == ("commented", "v1", "example.com")
    assert commented.same_site == "unspecified"


def test_no_pages_and_no_footer_read_as_empty_or_fine(tmp_path):
    assert _read(tmp_path, bc.build([])) == []
    data = bc.build([_cookie()])
    end = bc.page_start(data, 1)
    [entry] = _read(tmp_path, data[:end])
    assert entry.name == "sid"


# -- damaged files -------------------------------------------------------------


def _two_pages() -> bytes:
    return bc.build([_cookie(name=f"n{i}") for i in range(4)], per_page=2)


def test_wrong_magic(tmp_path):
    data = b"SQLite format 3\x00" + b"\x00" * 100
    assert _error(tmp_path, data) == (
        "Cookies.binarycookies is not a Safari cookie file: it does not start with 'cook'"
    )


def test_empty_file(tmp_path):
    assert _error(tmp_path, b"") == "Cookies.binarycookies is empty"


def test_truncated_header(tmp_path):
    assert _error(tmp_path, b"coo") == (
        "Cookies.binarycookies is truncated: the header ends at byte 8 of 3"
    )
    assert _error(tmp_path, b"cook\x00\x00") == (
        "Cookies.binarycookies is truncated: the header ends at byte 8 of 6"
    )


def test_truncated_page_table(tmp_path):
    data = b"cook" + struct.pack(">I", 1000) + b"\x00" * 20
    assert _error(tmp_path, data) == (
        "Cookies.binarycookies is truncated: the table of 1000 page sizes ends at byte 4008 of 28"
    )


def test_truncated_page(tmp_path):
    data = _two_pages()
    sizes = bc.page_sizes(data)
    cut = bc.page_start(data, 1) + 10
    end = bc.page_start(data, 1) + sizes[1]
    assert _error(tmp_path, data[:cut]) == (
        f"Cookies.binarycookies is truncated: page 2 ends at byte {end} of {cut}"
    )


def test_page_without_its_signature(tmp_path):
    data = bytearray(_two_pages())
    data[bc.page_start(bytes(data), 1) + 2] = 0x02
    assert _error(tmp_path, bytes(data)) == (
        "Cookies.binarycookies is damaged: page 2 does not start with 00 00 01 00"
    )


def test_page_too_short_for_its_header(tmp_path):
    data = b"cook" + struct.pack(">II", 1, 4) + b"\x00\x00\x01\x00"
    assert _error(tmp_path, data) == (
        "Cookies.binarycookies is damaged: page 1 is 4 bytes, too short for a page header"
    )


def test_page_claiming_more_cookies_than_fit(tmp_path):
    data = bytearray(_two_pages())
    start = bc.page_start(bytes(data), 0)
    struct.pack_into("<I", data, start + 4, 10_000)
    size = bc.page_sizes(bytes(data))[0]
    assert _error(tmp_path, bytes(data)) == (
        "Cookies.binarycookies is damaged: page 1 lists 10000 cookies, "
        f"more than its {size} bytes can hold"
    )


def test_cookie_offset_out_of_range(tmp_path):
    data = bytearray(_two_pages())
    start = bc.page_start(bytes(data), 1)
    size = bc.page_sizes(bytes(data))[1]
    struct.pack_into("<I", data, start + 12, size - 10)
    assert _error(tmp_path, bytes(data)) == (
        f"Cookies.binarycookies is damaged: cookie 2 of page 2 starts at byte {size - 10}, "
        f"outside the page's {size} bytes"
    )


def test_cookie_offset_into_the_page_header(tmp_path):
    data = bytearray(_two_pages())
    start = bc.page_start(bytes(data), 0)
    struct.pack_into("<I", data, start + 8, 4)
    size = bc.page_sizes(bytes(data))[0]
    assert _error(tmp_path, bytes(data)) == (
        f"Cookies.binarycookies is damaged: cookie 1 of page 1 starts at byte 4, "
        f"outside the page's {size} bytes"
    )


def test_cookie_record_running_past_its_page(tmp_path):
    data = bytearray(_two_pages())
    start = bc.page_start(bytes(data), 0)
    size = bc.page_sizes(bytes(data))[0]
    (second,) = struct.unpack_from("<I", data, start + 12)
    struct.pack_into("<I", data, start + second, 5000)
    assert _error(tmp_path, bytes(data)) == (
        f"Cookies.binarycookies is damaged: cookie 2 of page 1 runs past its page: "
        f"it ends at byte {second + 5000} of {size}"
    )


def test_cookie_record_shorter_than_its_header(tmp_path):
    data = bytearray(_two_pages())
    start = bc.page_start(bytes(data), 0)
    (first,) = struct.unpack_from("<I", data, start + 8)
    struct.pack_into("<I", data, start + first, 20)
    assert _error(tmp_path, bytes(data)) == (
        "Cookies.binarycookies is damaged: cookie 1 of page 1 claims 20 bytes, "
        "less than its 56-byte header"
    )


def _first_record(data: bytearray) -> int:
    start = bc.page_start(bytes(data), 0)
    (first,) = struct.unpack_from("<I", data, start + 8)
    return start + first


@pytest.mark.parametrize(
    ("field_offset", "what"), [(16, "domain"), (20, "name"), (24, "path"), (28, "value")]
)
def test_string_offset_outside_the_record(tmp_path, field_offset, what):
    data = bytearray(_two_pages())
    struct.pack_into("<I", data, _first_record(data) + field_offset, 9999)
    assert _error(tmp_path, bytes(data)) == (
        f"Cookies.binarycookies is damaged: the {what} of cookie 1 of page 1 "
        "points outside the record"
    )


def test_string_offset_inside_the_header(tmp_path):
    data = bytearray(_two_pages())
    struct.pack_into("<I", data, _first_record(data) + 20, 8)
    assert _error(tmp_path, bytes(data)) == (
        "Cookies.binarycookies is damaged: the name of cookie 1 of page 1 points outside the record"
    )


def test_unterminated_string(tmp_path):
    data = bytearray(_two_pages())
    rec = _first_record(data)
    (size,) = struct.unpack_from("<I", data, rec)
    data[rec + size - 1] = ord("x")  # the value's NUL, the record's last byte
    assert _error(tmp_path, bytes(data)) == (
        "Cookies.binarycookies is damaged: the value of cookie 1 of page 1 "
        "has no terminating NUL byte"
    )


@pytest.mark.parametrize("field", ["domain", "name", "path", "value"])
def test_invalid_utf8(tmp_path, field):
    cookie = _cookie(**{field: b"ab\xff\xfe"})
    data = bc.build([_cookie(name="ok"), cookie])
    assert _error(tmp_path, data) == (
        f"Cookies.binarycookies is damaged: the {field} of cookie 2 of page 1 is not valid UTF-8"
    )


@pytest.mark.parametrize(("field_offset", "what"), [(40, "expiry"), (48, "creation")])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_invalid_times(tmp_path, field_offset, what, bad):
    data = bytearray(_two_pages())
    struct.pack_into("<d", data, _first_record(data) + field_offset, bad)
    assert _error(tmp_path, bytes(data)) == (
        f"Cookies.binarycookies is damaged: cookie 1 of page 1 has an invalid {what} time"
    )


def test_damage_on_a_later_page_gives_no_partial_list(tmp_path):
    data = bytearray(_two_pages())
    data[bc.page_start(bytes(data), 1)] = 0xFF
    path = _write(tmp_path, bytes(data))
    with pytest.raises(ReadError):
        safari.read_cookies(_profile(path), ReadOptions())


# -- the file itself -----------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(ReadError) as info:
        safari.read_cookies(_profile(tmp_path / NAME), ReadOptions())
    assert str(info.value) == "no such file"


def test_permission_denied_asks_for_full_disk_access(tmp_path, monkeypatch):
    path = _write(tmp_path, bc.build([_cookie()]))

    def denied(self):
        raise PermissionError(1, "Operation not permitted", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ReadError) as info:
        safari.read_cookies(_profile(path), ReadOptions())
    assert str(info.value) == (
        "Privacy Inspector needs Full Disk Access to read Safari's cookies: allow it in "
        "System Settings > Privacy & Security > Full Disk Access, then scan again"
    )


def test_a_folder_instead_of_the_file(tmp_path):
    folder = tmp_path / NAME
    folder.mkdir()
    with pytest.raises(ReadError) as info:
        safari.read_cookies(_profile(folder), ReadOptions())
    assert str(info.value) == "Cookies.binarycookies is a folder, not Safari's cookie file"


def test_other_os_errors(tmp_path, monkeypatch):
    path = _write(tmp_path, bc.build([_cookie()]))

    def broken(self):
        raise OSError(5, "Input/output error", str(self))

    monkeypatch.setattr(Path, "read_bytes", broken)
    with pytest.raises(ReadError) as info:
        safari.read_cookies(_profile(path), ReadOptions())
    assert str(info.value) == "Cookies.binarycookies cannot be read: Input/output error"


