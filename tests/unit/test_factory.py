"""Building Entries from columns: cookies from hosts, storage from origins."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_inspector.browsers.base import STORAGE_COLUMNS, StorageFactory, origin_host
from privacy_inspector.core.records import Entry, Profile

PROFILE = Profile(Path("/home/u/.config/chromium/Default"), "chromium", "chromium", "Default")


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("https://www.LiveOps.com", "www.liveops.com"),
        ("https://www.liveops.com:8443", "www.liveops.com"),
        ("http://[::1]:8080", "[::1]"),
        ("http://127.0.0.1:3000", "127.0.0.1"),
        ("chrome-extension://abcdef", "abcdef"),
    ],
)
def test_origin_host(origin, host):
    assert origin_host(origin) == host


def _storage(show_values: bool = False, **overrides):
    columns = {
        "store": "Local Storage/leveldb",
        "id_store": "Local Storage/leveldb",
        "origin": ["https://www.liveops.com", "https://ad.doubleclick.net", "https://ad.doubleclick.net"],
        "name": ["theme", "id", "id"],
        "partition_key": [None, None, "https://liveops.com"],
        "partition_site": [None, None, "liveops.com"],
        "container": None,
        "persistent": True,
        "size": [10, 4, 4],
        "value": None,
        "value_state": "plain",
        "stale": False,
        "last_accessed": None,
        "value_note": None,
    }
    columns.update(overrides)
    assert set(columns) == set(STORAGE_COLUMNS)
    return StorageFactory(PROFILE, "local_storage", show_values=show_values).build(3, **columns)


def test_storage_entries_take_host_and_site_from_the_origin():
    first, second, third = _storage()
    assert isinstance(first, Entry)
    assert (first.kind, first.origin, first.host, first.site) == (
        "local_storage", "https://www.liveops.com", "www.liveops.com", "liveops.com")
    assert (first.domain_cookie, first.path, first.expires, first.secure, first.same_site) == (
        None, None, None, None, None)
    assert (first.partitioned, third.partitioned, third.partition_site) == (False, True, "liveops.com")
    assert first.id.startswith("ls-")
    # The same key of the same origin in another partition is another entry.
    assert len({first.id, second.id, third.id}) == 3


def test_storage_ids_ignore_values_and_sizes():
    before = [e.id for e in _storage()]
    after = [e.id for e in _storage(size=[99, 99, 99], value=["a", "b", "c"])]
    assert before == after


def test_values_are_measured_and_then_dropped_unless_shown():
    values = ["dark", "9f86d081884c7d659a2feaa0c55ad015", None]
    hidden = _storage(value=values)
    assert [e.value for e in hidden] == [None, None, None]
    assert [e.identifier_like for e in hidden] == [False, True, None]
    shown = _storage(show_values=True, value=values)
    assert [e.value for e in shown] == values
    assert [e.identifier_like for e in shown] == [False, True, None]
    # Session-only storage never counts as an identifier.
    assert {e.identifier_like for e in _storage(value=values[1:2] * 3, persistent=False)} == {False}


def test_unknown_columns_are_refused():
    with pytest.raises(TypeError, match="columns differ"):
        StorageFactory(PROFILE, "local_storage").build(1, origin="https://a.example")
