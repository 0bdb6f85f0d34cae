"""Chromium localStorage and sessionStorage readers, on the demo profile that real
Chromium wrote, and on hand-built bad input (tests/fixtures/leveldb_writer.py)."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_storage as cs
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core.records import Entry, Profile, ReadError
from tests.fixtures import leveldb_writer as w

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "chromium" / "Default"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")

# (origin, key, partition_site, value) of what the demo pages wrote.
DEMO_LOCAL = {
    ("https://www.liveops.com", "lo_ls_theme", None, "dark"),
    ("https://www.liveops.com", "lo_ls_visitor", None, "visitor-42"),
    ("https://ad.doubleclick.net", "dc_ls_id", "liveops.com", "dc-local-123"),
    ("https://www.facebook.com", "fb_ls_like", "liveops.com", "liked"),
    ("https://www.example-news.org", "en_ls_region", None, "eu"),
}
DEMO_SESSION = {
    ("https://www.liveops.com", "lo_ss_cart", None, "cart-3-items"),
    ("https://ad.doubleclick.net", "dc_ss_seen", "liveops.com", "dc-session-1"),
}


@pytest.fixture
def demo(tmp_path) -> Profile:
    """A copy of the demo Chromium profile."""
    path = tmp_path / "Default"
    shutil.copytree(DEMO, path)
    return Profile(path=path, browser="chromium", engine="chromium", name="Default")


def _profile(path: Path) -> Profile:
    path.mkdir(parents=True, exist_ok=True)
    return Profile(path=path, browser="chromium", engine="chromium", name="Default")


def _items(entries: list[Entry]) -> set[tuple]:
    return {(e.origin, e.name, e.partition_site, e.value) for e in entries}


def _local_storage(folder: Path, ops: list[tuple[bytes, bytes | None]]) -> Path:
    """A Local Storage LevelDB holding ``ops`` in one log."""
    manifest = [w.version_edit(comparator="leveldb.BytewiseComparator", log_number=3,
                               next_file=4, last_sequence=0)]
    log = w.log_file([w.write_batch(1, [(b"VERSION", b"1"), *ops])])
    return w.write_database(folder, manifest=manifest, logs={3: log})


def _latin1(text: str) -> bytes:
    return b"\x01" + text.encode("latin-1")


def _utf16(text: str) -> bytes:
    return b"\x00" + text.encode("utf-16-le")


# --------------------------------------------------------------------------
# The demo profile (written by real Chromium)
# --------------------------------------------------------------------------


def test_local_storage_of_the_demo_profile(demo):
    entries = cs.read_local_storage(demo, ReadOptions(show_values=True))
    assert _items(entries) == DEMO_LOCAL
    for e in entries:
        assert e.kind == "local_storage"
        assert e.engine == e.browser == "chromium"
        assert e.store == "Local Storage/leveldb"
        assert e.persistent is True
        assert e.value_state == "plain" and e.value_note is None
        assert e.size == len(e.name.encode()) + len(e.value.encode())
        assert e.partitioned is (e.partition_site is not None)
        assert e.host == e.origin.split("://")[1]
        assert e.domain_cookie is None and e.path is None and e.secure is None
        assert e.stale is False and e.container is None
        assert ISO.fullmatch(e.last_accessed)
        assert e.id.startswith("ls-")
    assert len({e.id for e in entries}) == len(entries)
    assert {e.site for e in entries} == {"liveops.com", "doubleclick.net", "facebook.com",
                                          "example-news.org"}


def test_values_are_left_out_unless_asked_for(demo):
    shown = cs.read_local_storage(demo, ReadOptions(show_values=True))
    hidden = cs.read_local_storage(demo, ReadOptions())
    assert {e.value for e in hidden} == {None}
    assert {e.value_state for e in hidden} == {"plain"}
    # Same ids and sizes either way.
    assert [(e.id, e.size) for e in hidden] == [(e.id, e.size) for e in shown]


def test_session_storage_of_the_demo_profile(demo):
    options = ReadOptions(show_values=True)
    entries = cs.read_session_storage(demo, options)
    assert _items(entries) == DEMO_SESSION
    assert options.problems == []
    for e in entries:
        assert e.kind == "session_storage"
        assert e.store == "Session Storage"
        assert e.persistent is False
        assert e.last_accessed is None
        assert e.size == len(e.name.encode()) + len(e.value.encode())
        assert e.id.startswith("ss-")
    assert cs.read_storage(demo, ReadOptions())[0].kind == "local_storage"


def test_ids_do_not_depend_on_where_the_profile_lies(demo, tmp_path):
    moved = tmp_path / "elsewhere" / "Default"
    shutil.copytree(demo.path, moved)
    a = cs.read_local_storage(demo, ReadOptions()) + cs.read_session_storage(demo, ReadOptions())
    b = cs.read_local_storage(_profile(moved), ReadOptions())
    b += cs.read_session_storage(_profile(moved), ReadOptions())
    assert [e.id for e in a] == [e.id for e in b]


def test_a_profile_without_storage_has_no_entries(tmp_path):
    profile = _profile(tmp_path / "Default")
    assert cs.read_local_storage(profile, ReadOptions()) == []
    assert cs.read_session_storage(profile, ReadOptions()) == []
    (profile.path / "Local Storage" / "leveldb").mkdir(parents=True)
    (profile.path / "Local Storage" / "leveldb" / "LOCK").write_bytes(b"")
    assert cs.read_local_storage(profile, ReadOptions()) == []


# --------------------------------------------------------------------------
# Storage keys
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("https://www.liveops.com", ("https://www.liveops.com", None, None)),
        ("https://www.liveops.com:8443/", ("https://www.liveops.com:8443", None, None)),
        ("http://127.0.0.1:8080", ("http://127.0.0.1:8080", None, None)),
        (
            "https://ad.doubleclick.net:8443/^0https://liveops.com",
            ("https://ad.doubleclick.net:8443", "^0https://liveops.com", "liveops.com"),
        ),
        (
            "https://embed.example/^0https://shop.co.uk",
            ("https://embed.example", "^0https://shop.co.uk", "shop.co.uk"),
        ),
        (
            "https://w.example-shop.test/^0https://example-shop.test",
            ("https://w.example-shop.test", "^0https://example-shop.test", "example-shop.test"),
        ),
        # A nonce partition (credentialless iframe, fenced frame): no known top-level site.
        (
            "https://ads.example/^112345^267890",
            ("https://ads.example", "^112345^267890", None),
        ),
        # Same-site top level with a cross-site frame in between.
        ("https://a.liveops.com/^31", ("https://a.liveops.com", "^31", "liveops.com")),
        # An opaque top-level site, with its precursor.
        (
            "https://ads.example/^411^522^6https://news.example.org",
            ("https://ads.example", "^411^522^6https://news.example.org", "example.org"),
        ),
    ],
)
def test_parse_storage_key(key, expected):
    assert cs.parse_storage_key(key) == expected


# --------------------------------------------------------------------------
# Values, times and keys from hand-built Local Storage LevelDBs
# --------------------------------------------------------------------------


def test_utf16_latin1_and_undecodable_values(tmp_path):
    profile = _profile(tmp_path / "Default")
    sk = b"https://site.example"
    _local_storage(profile.path / "Local Storage" / "leveldb", [
        (b"_" + sk + b"\x00" + _latin1("latin"), _latin1("caf\xe9")),
        (b"_" + sk + b"\x00" + _utf16("utf16 \u20ac"), _utf16("\u2603 \U0001f600")),
        (b"_" + sk + b"\x00" + _latin1("odd"), b"\x00abc"),
        (b"_" + sk + b"\x00" + _latin1("surrogate"), b"\x00" + b"\x00\xd8a\x00"),
        (b"_" + sk + b"\x00" + _latin1("format"), b"\x07xyz"),
        (b"_" + sk + b"\x00" + _latin1("empty"), b""),
    ])
    options = ReadOptions(show_values=True)
    entries = {e.name: e for e in cs.read_local_storage(profile, options)}
    assert options.problems == []
    assert entries["latin"].value == "caf\xe9"
    assert entries["latin"].size == len("latin") + len("caf\xe9".encode())
    assert entries["utf16 \u20ac"].value == "\u2603 \U0001f600"
    assert entries["utf16 \u20ac"].size == len("utf16 \u20ac".encode()) + len("\u2603 \U0001f600".encode())
    notes = {
        "odd": "odd number of bytes",
        "surrogate": "lone UTF-16 surrogate",
        "format": "format byte 7 is unknown",
        "empty": "no format byte",
    }
    for name, why in notes.items():
        e = entries[name]
        assert (e.value, e.value_state) == (None, "unavailable"), name
        assert why in e.value_note, name
        assert e.value_note.startswith("the stored value cannot be decoded"), name
    # A lone surrogate counts as three UTF-8 bytes; an unknown format, its bytes.
    assert entries["surrogate"].size == len("surrogate") + 3 + 1
    assert entries["format"].size == len("format") + 3
    # Without --show-values the states and notes are the same.
    hidden = {e.name: e for e in cs.read_local_storage(profile, ReadOptions())}
    assert hidden["odd"].value_state == "unavailable"
    assert hidden["latin"].value is None and hidden["latin"].value_state == "plain"


def test_keys_that_cannot_be_understood_are_counted(tmp_path):
    profile = _profile(tmp_path / "Default")
    _local_storage(profile.path / "Local Storage" / "leveldb", [
        (b"_https://ok.example\x00" + _latin1("k"), _latin1("v")),
        (b"_https://no-separator.example", _latin1("v")),
        (b"_https://bad-format.example\x00\x05k", _latin1("v")),
    ])
    options = ReadOptions()
    entries = cs.read_local_storage(profile, options)
    assert [(e.origin, e.name) for e in entries] == [("https://ok.example", "k")]
    assert options.problems == [(
        "Local Storage/leveldb",
        "2 localStorage record(s) in Local Storage/leveldb have a key this app does not "
        "understand and are not listed",
    )]


def _meta(field: int, micros: int, size: int | None = None) -> bytes:
    out = w.varint(field << 3) + w.varint(micros)
    if size is not None:
        out += w.varint(2 << 3) + w.varint(size)
    return out


def test_last_accessed_is_the_newer_of_meta_and_metaaccess(tmp_path):
    profile = _profile(tmp_path / "Default")
    epoch = 11_644_473_600 * 1_000_000
    modified = epoch + 1_700_000_000 * 1_000_000
    accessed = modified + 3_600 * 1_000_000
    _local_storage(profile.path / "Local Storage" / "leveldb", [
        (b"_https://a.example\x00" + _latin1("k"), _latin1("v")),
        (b"META:https://a.example", _meta(1, modified, 10)),
        (b"METAACCESS:https://a.example", _meta(1, accessed)),
        (b"_https://b.example\x00" + _latin1("k"), _latin1("v")),
        (b"META:https://b.example", _meta(1, modified, 10)),
        (b"_https://c.example\x00" + _latin1("k"), _latin1("v")),
    ])
    times = {e.origin: e.last_accessed for e in cs.read_local_storage(profile, ReadOptions())}
    assert times == {
        "https://a.example": "2023-11-14T23:13:20Z",
        "https://b.example": "2023-11-14T22:13:20Z",
        "https://c.example": None,
    }


# --------------------------------------------------------------------------
# sessionStorage namespaces
# --------------------------------------------------------------------------

GUID_A = b"2807f768_1d00_4167_82b0_d11807fbb3a0"
GUID_B = b"5f0c3a51_9e2b_4b8e_a0c1_03d9e0a7b6f2"


def _session_storage(folder: Path, ops: list[tuple[bytes, bytes]]) -> Path:
    manifest = [w.version_edit(comparator="leveldb.BytewiseComparator", log_number=3,
                               next_file=4, last_sequence=0)]
    log = w.log_file([w.write_batch(1, [(b"version", b"1"), *ops])])
    return w.write_database(folder, manifest=manifest, logs={3: log})


def test_session_storage_is_listed_once_per_tab(tmp_path):
    profile = _profile(tmp_path / "Default")
    v = "x".encode("utf-16-le")
    _session_storage(profile.path / "Session Storage", [
        (b"next-map-id", b"3"),
        # Two tabs share map 0 (a cloned tab that has not written yet).
        (b"namespace-" + GUID_A + b"-https://www.liveops.com/", b"0"),
        (b"namespace-" + GUID_B + b"-https://www.liveops.com/", b"0"),
        (b"map-0-cart", v),
        (b"namespace-" + GUID_B + b"-https://ad.doubleclick.net/^0https://liveops.com", b"1"),
        (b"map-1-seen", "\u20ac".encode("utf-16-le")),
        # A map no namespace refers to: garbage Chromium deletes at its next start.
        (b"map-2-orphan", v),
        (b"namespace-short-https://x.example/", b"1"),
        (b"map-1-bad", b"abc"),
    ])
    options = ReadOptions(show_values=True)
    entries = cs.read_session_storage(profile, options)
    got = sorted((e.origin, e.name, e.partition_site, e.value, e.value_state) for e in entries)
    assert got == [
        ("https://ad.doubleclick.net", "bad", "liveops.com", None, "unavailable"),
        ("https://ad.doubleclick.net", "seen", "liveops.com", "\u20ac", "plain"),
        ("https://www.liveops.com", "cart", None, "x", "plain"),
        ("https://www.liveops.com", "cart", None, "x", "plain"),
    ]
    carts = [e for e in entries if e.name == "cart"]
    assert carts[0].id != carts[1].id  # one entry per tab, each with its own id
    assert {e.store for e in entries} == {"Session Storage"}
    assert options.problems == [(
        "Session Storage",
        "1 record(s) in Session Storage have a key this app does not understand and are "
        "not listed",
    )]


# --------------------------------------------------------------------------
# Damaged stores and Chromium's SQLite experiment
# --------------------------------------------------------------------------


def test_a_damaged_store_is_one_clear_error(demo):
    log = demo.path / "Local Storage" / "leveldb" / "000003.log"
    data = bytearray(log.read_bytes())
    data[40] ^= 0xFF
    log.write_bytes(bytes(data))
    with pytest.raises(ReadError) as info:
        cs.read_local_storage(demo, ReadOptions())
    message = str(info.value)
    assert message.startswith("Local Storage/leveldb cannot be read: 000003.log is damaged")
    assert "\n" not in message
    # The other store is still read.
    assert _items(cs.read_session_storage(demo, ReadOptions(show_values=True))) == DEMO_SESSION


def test_a_missing_manifest_is_one_clear_error(demo):
    (demo.path / "Session Storage" / "MANIFEST-000001").unlink()
    with pytest.raises(ReadError, match=r"^Session Storage cannot be read: MANIFEST-000001"):
        cs.read_session_storage(demo, ReadOptions())


def _sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE maps (row_id INTEGER PRIMARY KEY, storage_key BLOB)")
    conn.close()


def test_sqlite_local_storage_alone_is_an_error_that_says_so(tmp_path):
    profile = _profile(tmp_path / "Default")
    _sqlite(profile.path / "LocalStorage")
    with pytest.raises(ReadError, match=r"new SQLite format \(LocalStorage\).*cannot read yet"):
        cs.read_local_storage(profile, ReadOptions())
    _sqlite(profile.path / "SessionStorage")
    with pytest.raises(ReadError, match="SQLite"):
        cs.read_session_storage(profile, ReadOptions())


def test_sqlite_local_storage_next_to_leveldb_is_noted(demo):
    _sqlite(demo.path / "LocalStorage")
    options = ReadOptions(show_values=True)
    assert _items(cs.read_local_storage(demo, options)) == DEMO_LOCAL
    assert len(options.problems) == 1
    store, message = options.problems[0]
    assert store == "LocalStorage"
    assert "SQLite" in message and "cannot read yet" in message


def test_an_experiment_tag_is_noted(demo):
    (demo.path / "Local Storage" / "leveldb" / "exp-v1").write_bytes(b"")
    options = ReadOptions(show_values=True)
    assert _items(cs.read_local_storage(demo, options)) == DEMO_LOCAL
    assert options.problems and options.problems[0][0] == "Local Storage/leveldb"
    assert "exp-v1" in options.problems[0][1] and "SQLite" in options.problems[0][1]


# --------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------


def test_five_thousand_origins_of_twenty_keys_are_read_quickly(tmp_path):
    """Shaped like what Chromium wrote for 5,000 origins x 20 keys (see
    tests/real/test_real_chromium_storage.py, which has Chromium write it):
    snappy tables on three levels plus a log, a META and METAACCESS per origin."""
    profile = _profile(tmp_path / "Default")
    epoch = (11_644_473_600 + 1_700_000_000) * 1_000_000
    records: list[tuple[bytes, bytes]] = [(b"VERSION", b"1")]
    for o in range(5000):
        sk = f"https://o{o}.bench.example:8443".encode()
        records.append((b"META:" + sk, _meta(1, epoch + o, 900)))
        records.append((b"METAACCESS:" + sk, _meta(1, epoch + o)))
        for k in range(20):
            value = f"value-o{o}.bench.example-{k}-{o * 7919 % 100003:x}"
            records.append((b"_" + sk + b"\x00" + _latin1(f"key_{k}"), _latin1(value)))
    records.sort()
    seq = iter(range(1, 10**7))
    tables = {}
    files = []
    # Three levels of tables over the key space, and the newest 2,000 records in a log.
    for number, (level, part) in enumerate([(2, slice(0, 60_000)), (1, slice(60_000, 90_000)),
                                            (0, slice(90_000, -2000))], start=5):
        chunk = [(w.internal_key(k, next(seq)), v) for k, v in records[part]]
        tables[number] = w.table_file(chunk, compression=1, entries_per_block=60)
        files.append((level, number, len(tables[number]), chunk[0][0], chunk[-1][0]))
    log = w.log_file([w.write_batch(next(seq), records[-2000:])])
    manifest = [w.version_edit(comparator="leveldb.BytewiseComparator", log_number=9,
                               next_file=10, last_sequence=10**6, new_files=files)]
    w.write_database(profile.path / "Local Storage" / "leveldb", manifest=manifest,
                     tables=tables, logs={9: log})
    entries = cs.read_local_storage(profile, ReadOptions())
    assert len(entries) == 100_000
    assert len({e.origin for e in entries}) == 5000
    # Its speed is measured by benchmarks/scan_storage.py, not asserted here.
