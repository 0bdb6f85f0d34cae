"""IndexedDB, Cache Storage and service workers in profiles that real Chromium wrote.

The fake site's pages declare their IndexedDB databases (tests/harness/site.py);
``expected_storage`` says which origin and partition each belongs to, and the
inventory must hold exactly those, with their object stores and record counts.

The fake site has no service worker script, so Cache Storage and service
workers are written by pages of a second small HTTPS server, started here with
the fake site's certificate (valid for every host of the fake web): LiveOps'
page and a DoubleClick iframe in it each register a service worker and fill
caches.  The same server serves a page that writes enough IndexedDB records for
LevelDB to move them into table files, and deletes some.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_files, chromium_idb, chromium_keys, chromium_workers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core import sites
from privacy_inspector.core.records import Profile
from privacy_inspector.platform import discovery
from tests.harness.chromium import running_chromium
from tests.harness.fixtures import pages_fixture
from tests.harness.site import (
    DEFAULT_VISIT,
    SETTLE_JS,
    PageRequest,
    Pages,
    Reply,
    expected_storage,
    framed_page,
)

pytestmark = pytest.mark.real_browser


def _profile(profile_dir: Path) -> Profile:
    (profile,) = discovery.resolve(profile_dir)
    return profile


def _expected_databases(pages, port: int) -> dict[tuple[str, str | None, str], set[str]]:
    """(origin, partition site, database name) -> {"store (n)"} from the harness's declarations."""
    out: dict[tuple[str, str | None, str], set[str]] = defaultdict(set)
    for item in expected_storage("chromium", pages):
        if item.kind != "indexedDB":
            continue
        store, count = item.value.rsplit(":", 1)
        partition = sites.site_of_origin(item.partition_site) if item.partition_site else None
        out[(item.origin(port), partition, item.key)].add(f"{store} ({count})")
    return dict(out)


def _stores(note: str) -> set[str]:
    assert note.startswith("stores: "), note
    return set(note.split("; ", 1)[0].removeprefix("stores: ").split(", "))


def _check_databases(entries, pages, port: int, *, sqlite: bool) -> None:
    expected = _expected_databases(pages, port)
    # The pages write first-party and partitioned (third-party) databases.
    assert {partition is None for _, partition, _ in expected} == {True, False}
    found = {(e.origin, e.partition_site, e.name): e for e in entries}
    assert len(found) == len(entries), "two databases share origin, partition and name"
    assert sorted(found) == sorted(expected)
    for key, stores in expected.items():
        entry = found[key]
        origin, partition, name = key
        assert _stores(entry.value_note) == stores, key
        assert entry.kind == "indexed_db"
        assert entry.partitioned is (partition is not None)
        assert (entry.value, entry.value_state, entry.persistent) == (None, "unavailable", True)
        assert entry.size > 0
        identifier = chromium_keys.origin_identifier(origin)
        if sqlite:
            assert entry.value_note.endswith("; Chromium's SQLite IndexedDB format")
            file_name = chromium_idb.sqlite_database_file_name(name)
            where = rf"IndexedDB/{re.escape(identifier)}/{file_name}"
            if partition:
                where = rf"WebStorage/\d+/IndexedDB/{file_name}"
        else:
            where = rf"IndexedDB/{re.escape(identifier)}\.indexeddb\.leveldb"
            if partition:
                where = r"WebStorage/\d+/IndexedDB/indexeddb\.leveldb"
        assert re.fullmatch(where, entry.store), (key, entry.store)


@pytest.mark.parametrize("fixture", ["chromium_profile", "chromium_profile_default_settings"])
def test_every_database_the_pages_wrote(request, fixture):
    written = request.getfixturevalue(fixture)
    profile = _profile(written.profile_dir)
    options = ReadOptions()
    entries = chromium_idb.read_indexed_db(profile, options)
    assert options.problems == []
    _check_databases(entries, written.visited, written.site.port, sqlite=False)
    # Each folder holds one database here: its size is the folder's.
    for e in entries:
        blobs = Path(str(profile.path / e.store).replace(".leveldb", ".blob"))
        assert e.size == chromium_files.folder_size(profile.path / e.store) + chromium_files.folder_size(blobs)
    # The fake site registers no service worker and opens no cache.
    assert chromium_workers.read_service_workers(profile, options) == []
    assert chromium_workers.read_cache_storage(profile, options) == []
    assert options.problems == []


def test_sqlite_backing_store(make_chromium_profile):
    """Chromium's experimental SQLite IndexedDB, switched on: read, and said so."""
    written = make_chromium_profile(
        DEFAULT_VISIT, extra_args=["--enable-features=IdbSqliteBackingStore"]
    )
    profile = _profile(written.profile_dir)
    assert not list((profile.path / "IndexedDB").glob("*.indexeddb.leveldb"))
    options = ReadOptions()
    entries = chromium_idb.read_indexed_db(profile, options)
    assert options.problems == []
    _check_databases(entries, written.visited, written.site.port, sqlite=True)


# --------------------------------------------------------------------------
# A second server: service workers, caches, many records
# --------------------------------------------------------------------------

SERVICE_WORKER = b"""
self.addEventListener('install', (e) => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(clients.claim()));
self.addEventListener('fetch', (e) => {});
"""

# What each host's document does: (service worker scope, {cache: [paths]}).
WORKERS = {
    "www.liveops.com": ("/app/", {"lo-pages": ["/app/", "/app/help"], "lo-assets": ["/logo.svg"]}),
    "ad.doubleclick.net": ("/ads/", {"dc-creatives": ["/ads/banner-1"]}),
}

_WORKER_WORK = SETTLE_JS + r"""async function work() {
  try {
    const reg = await navigator.serviceWorker.register("/sw.js", {scope: spec.scope});
    for (const [name, paths] of Object.entries(spec.caches)) {
      const cache = await caches.open(name);
      for (const p of paths) await cache.put(p, new Response("cached " + p));
    }
    await settle(reg.installing || reg.waiting || reg.active);
    H.report = {caches: await caches.keys()};
  } catch (e) { H.errors.push(String(e)); }
}
"""

# Enough records (3,000 x 2 KB) for LevelDB to write table files; then 500
# deleted, and a whole database created and deleted.
_BULK_PAGE = r"""<!doctype html><meta charset="utf-8"><title>working</title><script>
const H = window.__harness = {errors: [], report: {}, frames: {}};
const req = (r) => new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
const done = (t) => new Promise((ok, no) => { t.oncomplete = ok; t.onerror = () => no(t.error); t.onabort = () => no(t.error); });
(async () => {
  try {
    const open = indexedDB.open("bulk", 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("rows");
      open.result.createObjectStore("other", {autoIncrement: true});
    };
    const db = await req(open);
    const pad = "x".repeat(2000);
    for (let batch = 0; batch < 30; batch++) {
      const t = db.transaction("rows", "readwrite");
      for (let i = 0; i < 100; i++) t.objectStore("rows").put({pad: pad + i}, batch * 100 + i);
      await done(t);
    }
    const t = db.transaction(["rows", "other"], "readwrite");
    t.objectStore("rows").delete(IDBKeyRange.bound(0, 499));
    t.objectStore("other").add("a");
    t.objectStore("other").add("b");
    await done(t);
    db.close();
    const gone = indexedDB.open("gone", 1);
    gone.onupgradeneeded = () => gone.result.createObjectStore("s").put(1, 1);
    (await req(gone)).close();
    await req(indexedDB.deleteDatabase("gone"));
  } catch (e) { H.errors.push(String(e)); }
  document.title = H.errors.length ? "done with errors" : "done";
})();
</script>
"""


# The Storage Buckets API: a database "mail" in the default bucket and another
# "mail" in the bucket "inbox" (WebStorage/<id>/IndexedDB, named in QuotaManager).
_BUCKETS_PAGE = r"""<!doctype html><meta charset="utf-8"><title>working</title><script>
const H = window.__harness = {errors: [], report: {}, frames: {}};
const req = (r) => new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
async function mail(factory, records) {
  const open = factory.open("mail", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("messages");
  const db = await req(open);
  const t = db.transaction("messages", "readwrite");
  for (let i = 0; i < records; i++) t.objectStore("messages").put("m" + i, i);
  await new Promise((ok, no) => { t.oncomplete = ok; t.onerror = () => no(t.error); });
  db.close();
}
(async () => {
  try {
    await mail(indexedDB, 2);
    const inbox = await navigator.storageBuckets.open("inbox");
    await mail(inbox.indexedDB, 5);
    H.report = {buckets: await navigator.storageBuckets.keys()};
  } catch (e) { H.errors.push(String(e)); }
  document.title = H.errors.length ? "done with errors" : "done";
})();
</script>
"""


def _route(req: PageRequest) -> Reply | None:
    if req.query:  # these pages take none
        return None
    if req.path == "/sw.js" and req.host in WORKERS:
        return Reply(SERVICE_WORKER, "text/javascript")
    if req.path == "/workers" and req.host in WORKERS:
        frame = None
        if req.host == "www.liveops.com":
            frame = f"https://ad.doubleclick.net:{req.port}/workers"
        scope, caches = WORKERS[req.host]
        return Reply(framed_page(_WORKER_WORK, {"scope": scope, "caches": caches}, frame))
    if req.path == "/bulk":
        return Reply(_BULK_PAGE)
    if req.path == "/buckets":
        return Reply(_BUCKETS_PAGE)
    return None


pages = pages_fixture(_route)


def _check_workers_and_caches(profile: Profile, pages: Pages) -> None:
    options = ReadOptions()
    workers = {e.name: e for e in chromium_workers.read_service_workers(profile, options)}
    caches = {(e.origin, e.name): e for e in chromium_workers.read_cache_storage(profile, options)}
    assert options.problems == []
    partition = {"www.liveops.com": None, "ad.doubleclick.net": "liveops.com"}
    assert sorted(workers) == sorted(pages.url(h, scope) for h, (scope, _) in WORKERS.items())
    for host, (scope, _) in WORKERS.items():
        worker = workers[pages.url(host, scope)]
        assert worker.kind == "service_worker"
        assert (worker.origin, worker.partition_site) == (pages.origin(host), partition[host])
        assert worker.partitioned is (partition[host] is not None)
        assert worker.value_note.startswith(f"script: {pages.url(host, '/sw.js')}")
        assert worker.size == len(SERVICE_WORKER)
    expected = {
        (pages.origin(host), name): len(paths)
        for host, (_, specs) in WORKERS.items()
        for name, paths in specs.items()
    }
    assert sorted(caches) == sorted(expected)
    for (origin, name), count in expected.items():
        cache = caches[(origin, name)]
        host = origin.split("://", 1)[1].rsplit(":", 1)[0]
        assert cache.kind == "cache_storage"
        assert cache.partition_site == partition[host]
        assert cache.value_note == f"{count} entr{'y' if count == 1 else 'ies'}"
        assert cache.size > 0
        if partition[host]:
            assert re.fullmatch(r"WebStorage/\d+/CacheStorage/index\.txt", cache.store)
        else:
            folder = chromium_workers._origin_hash(origin)
            assert cache.store == f"Service Worker/CacheStorage/{folder}/index.txt"


def test_service_workers_and_caches(make_chromium_profile, fake_site, pages):
    written = make_chromium_profile(())
    with running_chromium(
        written.user_data_dir, [pages.url("www.liveops.com", "/workers")], site=fake_site
    ) as browser:
        (result,) = browser.results
        assert sorted(result.report["caches"]) == ["lo-assets", "lo-pages"]
        assert result.frames["ad"]["caches"] == ["dc-creatives"]
    # After a clean shutdown.
    _check_workers_and_caches(_profile(written.profile_dir), pages)


def test_many_records_in_table_files(make_chromium_profile, fake_site, pages):
    written = make_chromium_profile(())
    with running_chromium(
        written.user_data_dir, [pages.url("www.liveops.com", "/bulk")], site=fake_site
    ):
        # While Chromium runs and holds the LevelDB's LOCK.
        profile = _profile(written.profile_dir)
        options = ReadOptions()
        running = chromium_idb.read_indexed_db(profile, options)
        assert options.problems == []
        assert [(e.name, e.value_note) for e in running] == [
            ("bulk", "stores: rows (2500), other (2)")]
    folder = profile.path / "IndexedDB" / f"https_www.liveops.com_{pages.port}.indexeddb.leveldb"
    assert list(folder.glob("*.ldb")), "LevelDB wrote no table file"
    options = ReadOptions()
    (entry,) = chromium_idb.read_indexed_db(profile, options)
    assert options.problems == []
    assert (entry.origin, entry.name, entry.value_note) == (
        pages.origin("www.liveops.com"), "bulk", "stores: rows (2500), other (2)")
    assert entry.size == chromium_files.folder_size(folder)


def test_storage_buckets(make_chromium_profile, fake_site, pages):
    written = make_chromium_profile(())
    with running_chromium(
        written.user_data_dir, [pages.url("www.liveops.com", "/buckets")], site=fake_site
    ) as browser:
        assert browser.results[0].report["buckets"] == ["inbox"]
    options = ReadOptions()
    entries = chromium_idb.read_indexed_db(_profile(written.profile_dir), options)
    assert options.problems == []
    found = sorted((e.origin, e.name, e.partition_site, e.value_note, e.store) for e in entries)
    origin = pages.origin("www.liveops.com")
    assert found[0] == (
        origin, "mail", None, "stores: messages (2)",
        f"IndexedDB/https_www.liveops.com_{pages.port}.indexeddb.leveldb",
    )
    assert found[1][:4] == (origin, "mail", None, "stores: messages (5)")
    assert re.fullmatch(r"WebStorage/\d+/IndexedDB/indexeddb\.leveldb", found[1][4])
    assert len({e.id for e in entries}) == 2
