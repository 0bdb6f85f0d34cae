"""The HTML5 storage inventory of profiles that real Firefox ESR 153 wrote.

The pages of the fake site (tests/harness/site.py) declare every
localStorage, sessionStorage and IndexedDB item they write, in first-party
pages and in third-party frames; ``expected_storage("firefox", ...)`` says
where Firefox keeps each.  The readers must find every one of them, with the
origin (port included), the partition and the container right, and nothing
else.  Cache Storage and service workers come from a second local HTTPS server
started here, since the fake site's pages use neither.
"""

from __future__ import annotations

import shutil
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox_idb as fi
from privacy_inspector.browsers import firefox_storage as fs
from privacy_inspector.browsers.base import ReadOptions, object_stores_note
from privacy_inspector.core import sites
from privacy_inspector.platform import discovery
from tests.harness.site import (
    EXAMPLE_NEWS,
    ExpectedStorage,
    Pages,
    expected_storage,
    page_with_worker,
    serve_pages,
)

pytestmark = pytest.mark.real_browser

READERS = (
    fs.read_local_storage,
    fs.read_session_storage,
    fi.read_indexed_db,
    fi.read_cache_storage,
    fi.read_service_workers,
)
KINDS = {"localStorage": "local_storage", "sessionStorage": "session_storage", "indexedDB": "indexed_db"}


def _read_all(profile, show_values: bool = True):
    options = ReadOptions(show_values=show_values)
    entries = [e for reader in READERS for e in reader(profile, options)]
    return entries, options


def _partition(item: ExpectedStorage) -> str | None:
    return sites.site_of_origin(item.partition_site) if item.partition_site else None


def _key(kind: str, origin: str, partition: str | None, name: str) -> tuple:
    return (kind, origin, partition, name)


def _expected(items: tuple[ExpectedStorage, ...], port: int) -> dict[tuple, object]:
    """What the inventory should hold: values for storage, {store: count} for IndexedDB."""
    out: dict[tuple, object] = {}
    for item in items:
        key = _key(KINDS[item.kind], item.origin(port), _partition(item), item.key)
        if item.kind == "indexedDB":
            store, count = item.value.rsplit(":", 1)
            out.setdefault(key, {})[store] = int(count)
        else:
            out[key] = item.value
    return out


def _check(entries, items: tuple[ExpectedStorage, ...], port: int, session_store: str) -> None:
    live = [e for e in entries if not e.stale and e.kind in KINDS.values()]
    found = {_key(e.kind, e.origin, e.partition_site, e.name): e for e in live}
    assert len(found) == len(live), "two entries share kind, origin, partition and name"
    expected = _expected(items, port)
    assert sorted(found) == sorted(expected)
    by_origin_dir = {
        (item.origin(port), _partition(item)): item.firefox_origin_dir(port) for item in items
    }
    for key, want in expected.items():
        entry = found[key]
        kind, origin, partition, name = key
        folder = by_origin_dir[(origin, partition)]
        assert entry.container is None, key
        assert entry.site == sites.registrable_domain(entry.host), key
        if kind == "indexed_db":
            assert (entry.value, entry.value_state) == (None, "unavailable"), key
            assert entry.value_note == object_stores_note(want.items()), key
            assert entry.store.startswith(f"storage/default/{folder}/idb/"), key
            assert entry.size > 0, key
            continue
        assert (entry.value, entry.value_state, entry.value_note) == (want, "plain", None), key
        assert entry.size == len(name.encode()) + len(str(want).encode()), key
        if kind == "local_storage":
            assert entry.store == f"storage/default/{folder}/ls/data.sqlite", key
            assert entry.persistent is True, key
        else:
            assert entry.store == session_store, key
            assert entry.persistent is False, key


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() or p.is_symlink()
    }


def test_every_item_the_pages_wrote_with_origin_and_partition(firefox_profile):
    (profile,) = discovery.resolve(firefox_profile.profile_dir)
    port = firefox_profile.site.port
    items = expected_storage("firefox", firefox_profile.visited)
    assert {i.kind for i in items} == set(KINDS)
    assert any(i.partition_site for i in items)
    before = _snapshot(firefox_profile.profile_dir)
    entries, options = _read_all(profile)
    assert options.problems == []
    _check(entries, items, port, "sessionstore.jsonlz4")
    # A fresh profile: its legacy localStorage files exist but are empty, and
    # the pages used neither caches nor service workers.
    assert (firefox_profile.profile_dir / "webappsstore.sqlite").exists()
    assert [e for e in entries if e.stale] == []
    assert {e.kind for e in entries} == set(KINDS.values())
    # Third parties are partitioned under LiveOps (Total Cookie Protection).
    partitioned = {(e.kind, e.host) for e in entries if e.partition_site == "liveops.com"}
    assert partitioned == {
        ("local_storage", "ad.doubleclick.net"),
        ("local_storage", "www.facebook.com"),
        ("session_storage", "ad.doubleclick.net"),
        ("indexed_db", "ad.doubleclick.net"),
    }
    # Reading changed nothing and left nothing behind (no -shm, no journal).
    assert _snapshot(firefox_profile.profile_dir) == before


def test_values_are_masked_unless_asked_for(firefox_profile):
    (profile,) = discovery.resolve(firefox_profile.profile_dir)
    shown, _ = _read_all(profile, show_values=True)
    hidden, options = _read_all(profile, show_values=False)
    assert options.problems == []
    assert [e.id for e in hidden] == [e.id for e in shown]
    assert {e.value for e in hidden} == {None}
    assert [e.size for e in hidden] == [e.size for e in shown]


def test_ids_are_the_same_on_a_copy_of_the_profile(firefox_profile, tmp_path):
    (profile,) = discovery.resolve(firefox_profile.profile_dir)
    first = sorted(e.id for e in _read_all(profile)[0])
    copy = tmp_path / firefox_profile.profile_dir.name
    shutil.copytree(
        firefox_profile.profile_dir, copy, symlinks=True, ignore=shutil.ignore_patterns("lock", ".parentlock")
    )
    (copied,) = discovery.resolve(copy)
    assert sorted(e.id for e in _read_all(copied)[0]) == first


def test_reading_while_firefox_runs(make_firefox_profile):
    # While Firefox runs, sessionStorage lives in recovery.jsonlz4 (the clean-exit
    # file moved to previous.jsonlz4 when it started), and the localStorage
    # databases of the origins a tab has open are locked by Firefox: those are
    # read from a copy, the others in place.
    ff = make_firefox_profile()
    (profile,) = discovery.resolve(ff.profile_dir)
    port = ff.site.port
    items = expected_storage("firefox", ff.visited)
    # The probe reads LiveOps' and DoubleClick's storage, which opens their
    # databases in Firefox, and writes nothing.
    probe = ff.site.probe_url("www.liveops.com", ["ad.doubleclick.net"])
    with ff.running([probe], prefs={"browser.sessionstore.interval": 500}) as browser:
        assert browser.results[0].report["localStorage"] == {"lo_ls_theme": "dark", "lo_ls_visitor": "visitor-42"}
        recovery = ff.profile_dir / "sessionstore-backups" / "recovery.jsonlz4"
        deadline = time.monotonic() + 30
        while not recovery.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert recovery.exists()
        assert (ff.profile_dir / "sessionstore-backups" / "previous.jsonlz4").exists()
        entries, options = _read_all(profile)
        assert options.problems == []
        _check(entries, items, port, "sessionstore-backups/recovery.jsonlz4")
        # The same items in previous.jsonlz4 are shown once, from the live file.
        assert [e for e in entries if e.stale] == []
    after, options = _read_all(profile)
    assert options.problems == []
    _check(after, items, port, "sessionstore.jsonlz4")
    assert sorted(e.id for e in after) == sorted(e.id for e in entries)


# --------------------------------------------------------------------------
# Cache Storage and service workers, from a second local server
# --------------------------------------------------------------------------

_SW_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>sw</title></head><body><script>
(async () => {
  const H = window.__harness = {errors: [], report: {}};
  try {
    await navigator.serviceWorker.register('/sw.js', {scope: '/app/'});
    const cache = await caches.open('pi-cache-v1');
    await cache.put('/app/data.json', new Response('x'.repeat(5000)));
    await cache.put('/app/other', new Response('hello'));
    await caches.open('pi-empty');
    H.report.caches = await caches.keys();
  } catch (e) { H.errors.push(String(e)); }
  document.title = H.errors.length ? 'done with errors' : 'done';
})();
</script></body></html>"""


def _service_worker_site(site) -> AbstractContextManager[Pages]:
    """An HTTPS server with the fake site's certificate, serving the page above."""
    return serve_pages(site.certs, page_with_worker(_SW_PAGE), no_store=False)


def test_cache_storage_and_service_workers(make_firefox_profile):
    ff = make_firefox_profile(())
    with _service_worker_site(ff.site) as pages:
        port = pages.port
        origin = f"https://{EXAMPLE_NEWS}:{port}"
        with ff.running([f"{origin}/page"]) as browser:
            assert browser.results[0].report["caches"] == ["pi-cache-v1", "pi-empty"]
    (profile,) = discovery.resolve(ff.profile_dir)
    entries, options = _read_all(profile)
    assert options.problems == []
    caches = {e.name: e for e in entries if e.kind == "cache_storage"}
    # The worker's script cache (the browser's own namespace) is not listed.
    assert sorted(caches) == ["pi-cache-v1", "pi-empty"]
    folder = f"storage/default/https+++{EXAMPLE_NEWS}+{port}"
    morgue = sum(p.stat().st_size for p in (ff.profile_dir / folder / "cache" / "morgue").rglob("*.final"))
    cache = caches["pi-cache-v1"]
    assert (cache.origin, cache.partition_site, cache.container, cache.value, cache.value_state) == (
        origin, None, None, None, "unavailable")
    assert cache.store == f"{folder}/cache/caches.sqlite"
    assert cache.value_note == "a cache of 2 responses"
    # Its bodies, as stored (compressed): less than the 5,005 bytes put, more than nothing,
    # and part of what the morgue holds (the rest is the worker's script).
    assert 0 < cache.size < morgue
    assert caches["pi-empty"].size == 0
    (worker,) = [e for e in entries if e.kind == "service_worker"]
    assert (worker.origin, worker.name, worker.value, worker.partition_site, worker.container) == (
        origin, f"{origin}/app/", f"{origin}/sw.js", None, None)
    assert worker.store == "serviceworker.txt"
    assert worker.last_accessed is not None
