"""The Firefox cookie reader on hand-built files of older schemas and damaged input.

Files that Firefox ESR 153 writes itself are covered in tests/real.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox, mozlz4
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core.records import Profile, ReadError
from tests.fixtures.cookie_dbs import firefox_cookies_db

EXPIRES = 1_900_000_000  # 2030-03-17T17:46:40Z
CREATED = 1_700_000_000

COOKIES = [
    {"host": ".liveops.com", "name": "_ga", "value": "GA1.2.111.222", "expires": EXPIRES,
     "same_site": "lax", "created": CREATED, "accessed": CREATED},
    {"host": "www.liveops.com", "name": "pref", "value": "dark", "expires": EXPIRES,
     "secure": True, "http_only": True, "same_site": "strict", "path": "/account", "created": CREATED},
    {"host": "ad.doubleclick.net", "name": "IDE", "value": "AHWqTUk", "expires": EXPIRES,
     "secure": True, "same_site": "none", "created": CREATED, "partitioned": True,
     "origin_attributes": "^partitionKey=%28https%2Cliveops.com%29"},
    {"host": ".facebook.com", "name": "fr", "value": "0xyz", "expires": EXPIRES,
     "same_site": "unspecified", "created": CREATED,
     "origin_attributes": "^userContextId=2&partitionKey=%28https%2Cexample-news.org%2C8443%29"},
]


def _profile(path: Path) -> Profile:
    path.mkdir(parents=True, exist_ok=True)
    return Profile(path, "firefox", "firefox", "default-release")


def _read(reader, profile: Profile, show_values: bool = False):
    options = ReadOptions(show_values=show_values)
    entries = list(reader(profile, options))
    return {e.name: e for e in entries}, options


@pytest.mark.parametrize("version", [12, 13, 14, 15, 16, 17])
def test_every_attribute_of_every_supported_schema(tmp_path, version):
    profile = _profile(tmp_path / "p")
    firefox_cookies_db(profile.path / "cookies.sqlite", COOKIES, version=version)
    by_name, options = _read(firefox.read_cookie_database, profile)
    assert options.problems == []
    assert sorted(by_name) == ["IDE", "_ga", "fr", "pref"]

    ga = by_name["_ga"]
    assert (ga.host, ga.domain_cookie, ga.site, ga.path, ga.persistent) == (
        "liveops.com", True, "liveops.com", "/", True)
    # Seconds before schema 16, milliseconds from it: the same instant either way.
    assert ga.expires == "2030-03-17T17:46:40Z"
    assert ga.created == "2023-11-14T22:13:20Z"
    assert (ga.same_site, ga.secure, ga.http_only) == ("lax", False, False)
    assert (ga.value, ga.value_state, ga.size) == (None, "plain", len("_ga") + len("GA1.2.111.222"))
    assert (ga.partition_site, ga.container, ga.store) == (None, None, "cookies.sqlite")

    pref = by_name["pref"]
    assert (pref.host, pref.domain_cookie, pref.path) == ("www.liveops.com", False, "/account")
    assert (pref.secure, pref.http_only, pref.same_site) == (True, True, "strict")

    ide = by_name["IDE"]
    assert (ide.partition_site, ide.container) == ("liveops.com", None)
    assert ide.same_site == "none"
    if version >= 13:
        assert ide.partitioned is True

    fr = by_name["fr"]
    assert (fr.partition_site, fr.container) == ("example-news.org", 2)
    assert fr.same_site == "unspecified"


def test_show_values(tmp_path):
    profile = _profile(tmp_path / "p")
    firefox_cookies_db(profile.path / "cookies.sqlite", COOKIES)
    by_name, _ = _read(firefox.read_cookie_database, profile, show_values=True)
    assert by_name["_ga"].value == "GA1.2.111.222"
    assert by_name["IDE"].value == "AHWqTUk"


def test_ids_differ_by_partition_and_container(tmp_path):
    profile = _profile(tmp_path / "p")
    base = {"host": ".doubleclick.net", "name": "IDE", "value": "v", "expires": EXPIRES}
    firefox_cookies_db(profile.path / "cookies.sqlite", [
        base,
        {**base, "origin_attributes": "^partitionKey=%28https%2Cliveops.com%29"},
        {**base, "origin_attributes": "^userContextId=1"},
        {**base, "origin_attributes": "^userContextId=1&partitionKey=%28https%2Cliveops.com%29"},
    ])
    entries = list(firefox.read_cookie_database(profile, ReadOptions()))
    assert len({e.id for e in entries}) == 4


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("", (None, None, None)),
        ("^userContextId=3", (None, None, 3)),
        ("^partitionKey=%28https%2Cliveops.com%29", ("(https,liveops.com)", "liveops.com", None)),
        ("^partitionKey=%28http%2Clocalhost%2C8080%29", ("(http,localhost,8080)", "localhost", None)),
        ("^firstPartyDomain=www.liveops.com", ("firstPartyDomain=www.liveops.com", "liveops.com", None)),
        ("^privateBrowsingId=1", (None, None, None)),
        ("^userContextId=0", (None, None, None)),
    ],
)
def test_origin_attributes(suffix, expected):
    assert firefox.parse_origin_attributes(suffix) == expected


def test_a_newer_schema_is_read_and_reported(tmp_path):
    profile = _profile(tmp_path / "p")
    path = firefox_cookies_db(profile.path / "cookies.sqlite", COOKIES)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 19")
    by_name, options = _read(firefox.read_cookie_database, profile)
    assert by_name["_ga"].expires == "2030-03-17T17:46:40Z"
    assert options.problems == [(
        "cookies.sqlite",
        "cookies.sqlite has schema version 19, newer than this app knows (17); "
        "its cookies were read with the known columns",
    )]


def test_a_database_that_is_not_firefox_s(tmp_path):
    profile = _profile(tmp_path / "p")
    with sqlite3.connect(profile.path / "cookies.sqlite") as conn:
        conn.execute("CREATE TABLE other(x)")
    with pytest.raises(ReadError, match="has no moz_cookies table"):
        _read(firefox.read_cookie_database, profile)


def test_garbage(tmp_path):
    profile = _profile(tmp_path / "p")
    (profile.path / "cookies.sqlite").write_bytes(b"\x00garbage" * 512)
    with pytest.raises(ReadError, match="^cookies.sqlite is not an SQLite database"):
        _read(firefox.read_cookie_database, profile)


# Session files.  The layout (a top-level "cookies" list whose items carry
# host, name, value, path, secure, httponly, sameSite, schemeMap and an
# originAttributes object) is what Firefox ESR 153 wrote in tests/real.

def _session_cookie(name, host=".liveops.com", **extra):
    cookie = {"host": host, "value": f"value-of-{name}", "path": "/", "name": name,
              "secure": True, "httponly": True, "sameSite": 1, "schemeMap": 2,
              "originAttributes": {"firstPartyDomain": "", "geckoViewSessionContextId": "",
                                   "inIsolatedMozBrowser": False, "partitionKey": "",
                                   "privateBrowsingId": 0, "userContextId": 0}}
    cookie.update(extra)
    return cookie


def _write_session(path: Path, cookies, windows_cookies=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"version": ["sessionrestore", 1], "windows": [], "cookies": cookies}
    if windows_cookies is not None:
        state["windows"] = [{"tabs": [], "cookies": windows_cookies}]
    path.write_bytes(mozlz4.encode(json.dumps(state).encode()))


def test_session_cookies_from_the_live_file_and_stale_ones_from_previous(tmp_path):
    profile = _profile(tmp_path / "p")
    partitioned = _session_cookie("tp", host="ad.doubleclick.net")
    partitioned["originAttributes"]["partitionKey"] = "(https,liveops.com)"
    _write_session(profile.path / "sessionstore.jsonlz4", [_session_cookie("sid"), partitioned])
    _write_session(profile.path / "sessionstore-backups" / "previous.jsonlz4",
                   [_session_cookie("sid"), _session_cookie("old")])
    by_name, _ = _read(firefox.read_session_cookies, profile, show_values=True)
    assert sorted(by_name) == ["old", "sid", "tp"]
    sid = by_name["sid"]
    assert (sid.persistent, sid.expires, sid.stale, sid.store) == (False, None, False, "sessionstore.jsonlz4")
    assert (sid.secure, sid.http_only, sid.same_site, sid.value) == (True, True, "lax", "value-of-sid")
    assert by_name["tp"].partition_site == "liveops.com"
    old = by_name["old"]
    assert (old.stale, old.store) == (True, "sessionstore-backups/previous.jsonlz4")


def test_the_newer_of_sessionstore_and_recovery_is_the_live_one(tmp_path):
    import os

    profile = _profile(tmp_path / "p")
    _write_session(profile.path / "sessionstore.jsonlz4", [_session_cookie("from_clean_exit")])
    recovery = profile.path / "sessionstore-backups" / "recovery.jsonlz4"
    _write_session(recovery, [_session_cookie("from_running_session")])
    os.utime(recovery, ns=(2_000_000_000 * 10**9, 2_000_000_000 * 10**9))
    by_name, _ = _read(firefox.read_session_cookies, profile)
    assert list(by_name) == ["from_running_session"]
    assert by_name["from_running_session"].store == "sessionstore-backups/recovery.jsonlz4"


def test_session_ids_survive_the_move_from_recovery_to_sessionstore(tmp_path):
    profile = _profile(tmp_path / "p")
    recovery = profile.path / "sessionstore-backups" / "recovery.jsonlz4"
    _write_session(recovery, [_session_cookie("sid")])
    (before,) = firefox.read_session_cookies(profile, ReadOptions())
    recovery.unlink()
    _write_session(profile.path / "sessionstore.jsonlz4", [_session_cookie("sid")])
    (after,) = firefox.read_session_cookies(profile, ReadOptions())
    assert before.id == after.id


def test_older_session_files_kept_cookies_per_window(tmp_path):
    profile = _profile(tmp_path / "p")
    _write_session(profile.path / "sessionstore.jsonlz4", [], windows_cookies=[_session_cookie("w")])
    by_name, _ = _read(firefox.read_session_cookies, profile)
    assert list(by_name) == ["w"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not mozlz4 at all", "sessionstore.jsonlz4 is not a readable session file: it does not start with the mozLz40 header"),
        (mozlz4.MAGIC + b"\x01", "sessionstore.jsonlz4 is not a readable session file: it is truncated"),
        (mozlz4.MAGIC + b"\xff\xff\x00\x00garbage", "sessionstore.jsonlz4 is not a readable session file: its compressed data is damaged or truncated"),
        (mozlz4.encode(b"{not json"), "sessionstore.jsonlz4 does not hold valid session data"),
    ],
)
def test_damaged_live_session_file(tmp_path, content, message):
    profile = _profile(tmp_path / "p")
    (profile.path / "sessionstore.jsonlz4").write_bytes(content)
    with pytest.raises(ReadError) as info:
        _read(firefox.read_session_cookies, profile)
    assert str(info.value) == message


def test_a_damaged_stale_file_is_reported_but_the_live_one_still_read(tmp_path):
    profile = _profile(tmp_path / "p")
    _write_session(profile.path / "sessionstore.jsonlz4", [_session_cookie("sid")])
    previous = profile.path / "sessionstore-backups" / "previous.jsonlz4"
    previous.parent.mkdir()
    previous.write_bytes(b"garbage")
    by_name, options = _read(firefox.read_session_cookies, profile)
    assert list(by_name) == ["sid"]
    assert options.problems == [(
        "sessionstore-backups/previous.jsonlz4",
        "previous.jsonlz4 is not a readable session file: it does not start with the mozLz40 header",
    )]
