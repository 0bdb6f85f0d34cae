"""Deleting Chromium Cache Storage, proven by starting the real Chromium again.

A small HTTPS server (``tests.harness.site.serve_pages``) serves ``/caches``: LiveOps' page opens
its own cache (first party, ``Service Worker/CacheStorage/<hash>``) and a
DoubleClick iframe in it opens two (partitioned under LiveOps, in a storage
bucket ``WebStorage/<id>/CacheStorage``).  ``delete --site doubleclick.net``
must take DoubleClick's caches out whole; a fresh start must then show the
frame no cache and LiveOps its own, and after ``undo`` DoubleClick's caches
again, with their entries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_cache_write, writers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.chromium_workers import read_cache_storage
from privacy_inspector.platform import discovery
from tests.fixtures.chromium_buckets import buckets_by_id as _buckets
from tests.harness.chromium import running_chromium
from tests.harness.cli import cli_json as _cli
from tests.harness.fixtures import pages_fixture
from tests.harness.site import (
    DOUBLECLICK,
    LIVEOPS,
    PageRequest,
    Pages,
    Reply,
    framed_page,
)

pytestmark = pytest.mark.real_browser

# host -> {cache: [paths]} each document opens (mode "write").
CACHES = {
    LIVEOPS: {"lo-pages": ["/app/"]},
    DOUBLECLICK: {"dc-creatives": ["/ads/banner-1", "/ads/banner-2"], "dc-state": ["/s"]},
}

_WORK = r"""async function work() {
  try {
    if (spec.idb) {
      const open = indexedDB.open(spec.idb, 1);
      open.onupgradeneeded = () => open.result.createObjectStore("s").put("v", 1);
      const db = await new Promise((ok, no) => { open.onsuccess = () => ok(open.result); open.onerror = () => no(open.error); });
      db.close();
    }
    if (spec.write) {
      for (const [name, paths] of Object.entries(spec.caches)) {
        const cache = await caches.open(name);
        for (const p of paths) await cache.put(p, new Response("cached " + p));
      }
    }
    const found = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      found[name] = [];
      for (const r of await cache.keys()) {
        const response = await cache.match(r);
        found[name].push([new URL(r.url).pathname, await response.text()]);
      }
    }
    H.report = {caches: found};
    if (spec.listIdb) H.report.indexedDB = (await indexedDB.databases()).map((d) => d.name).sort();
  } catch (e) { H.errors.push(String(e)); }
}
"""


def _route(req: PageRequest) -> Reply | None:
    if req.path != "/caches" or req.host not in CACHES:
        return None
    frame = None
    if req.host == LIVEOPS:
        frame = f"https://{DOUBLECLICK}:{req.port}/caches?{req.query}"
    spec = {"write": req.query.startswith("write"), "caches": CACHES[req.host],
            "idb": f"{req.host}-db" if req.query == "write-idb" and req.host == DOUBLECLICK else None,
            "listIdb": req.query.endswith("idb")}
    return Reply(framed_page(_WORK, spec, frame))


pages = pages_fixture(_route)


@pytest.fixture(autouse=True)
def _cache_writer_registered():
    """The writer serves Chromium's Cache Storage (registered in writers._factories)."""
    assert chromium_cache_write.writer_for in writers._factories()


def _seen(written, fake_site, pages: Pages, mode: str) -> dict[str, dict]:
    """host -> {cache: [[path, body]]} the page and its frame see, on a fresh start
    (modes ending in ``idb``: and ``"indexedDB"`` -> the frame's database names)."""
    with running_chromium(written.user_data_dir, [pages.url(LIVEOPS, f"/caches?{mode}")],
                          site=fake_site) as browser:
        (result,) = browser.results
    seen = {LIVEOPS: result.report["caches"], DOUBLECLICK: result.frames["ad"]["caches"]}
    if mode.endswith("idb"):
        seen["indexedDB"] = result.frames["ad"]["indexedDB"]
    return seen


def _caches(profile_dir: Path) -> dict[str, tuple]:
    """id -> (origin, partition site, name, store) of every cache."""
    (profile,) = discovery.resolve(profile_dir)
    options = ReadOptions()
    entries = read_cache_storage(profile, options)
    assert options.problems == []
    return {e.id: (e.origin, e.partition_site, e.name, e.store) for e in entries}


def _expected() -> dict[str, dict]:
    return {host: {name: [[p, f"cached {p}"] for p in paths] for name, paths in caches.items()}
            for host, caches in CACHES.items()}


def test_delete_site_caches_and_undo_seen_by_chromium(make_chromium_profile, fake_site, pages,
                                                      data_dir, capsys):
    written = make_chromium_profile(())
    profile_dir = written.profile_dir
    full = _expected()
    assert _seen(written, fake_site, pages, "write") == full
    caches = _caches(profile_dir)
    dc = {i for i, c in caches.items() if DOUBLECLICK in c[0]}
    assert sorted(caches[i][2] for i in dc) == ["dc-creatives", "dc-state"]
    (store,) = {caches[i][3] for i in dc}
    assert store.startswith("WebStorage/") and store.endswith("/CacheStorage/index.txt")
    bucket = profile_dir / Path(store).parents[1]
    assert sorted(p.name for p in bucket.iterdir()) == ["CacheStorage"]
    rows = _buckets(profile_dir)
    (bucket_id,) = [i for i, row in rows.items() if DOUBLECLICK in row[0]]
    assert bucket.name == str(bucket_id)

    code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes", "--format", "json",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["errors"] == [] and dc <= set(doc["deleted"]), doc
    assert not bucket.exists()
    assert _buckets(profile_dir) == {i: row for i, row in rows.items() if i != bucket_id}
    assert _caches(profile_dir) == {i: c for i, c in caches.items() if i not in dc}

    assert _seen(written, fake_site, pages, "read") == {LIVEOPS: full[LIVEOPS], DOUBLECLICK: {}}

    code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0, undone
    assert undone["errors"] == [] and undone["skipped"] == [] and dc <= set(undone["restored"])
    # Listing the caches made Chromium add a new row (a new id) for DoubleClick's
    # storage key; the caches went into that bucket.
    restored = _caches(profile_dir)
    (new_id,) = [i for i, row in _buckets(profile_dir).items() if row[0] == rows[bucket_id][0]]
    assert {restored[i][3] for i in dc} == {f"WebStorage/{new_id}/CacheStorage/index.txt"}
    assert {i: c[:3] for i, c in restored.items()} == {i: c[:3] for i, c in caches.items()}
    assert _seen(written, fake_site, pages, "read") == full
    assert {i: c[:3] for i, c in _caches(profile_dir).items()} == {
        i: c[:3] for i, c in caches.items()}


def test_undo_before_chromium_runs_again_puts_the_bucket_and_its_row_back(
        make_chromium_profile, fake_site, pages, data_dir, capsys):
    written = make_chromium_profile(())
    profile_dir = written.profile_dir
    full = _expected()
    assert _seen(written, fake_site, pages, "write") == full
    caches, rows = _caches(profile_dir), _buckets(profile_dir)
    (store,) = {c[3] for c in caches.values() if DOUBLECLICK in c[0]}
    bucket = profile_dir / Path(store).parents[1]
    files = {p.relative_to(bucket): (p.read_bytes(), p.stat().st_mtime_ns)
             for p in bucket.rglob("*") if p.is_file()}
    where = ("--format", "json", "--data-dir", str(data_dir))

    code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes",
                     "--profile", str(profile_dir), *where)
    assert code == 0 and doc["errors"] == [], doc
    assert not bucket.exists() and len(_buckets(profile_dir)) == len(rows) - 1
    code, undone = _cli(capsys, "undo", "--yes", *where)
    assert code == 0 and undone["errors"] == [] and undone["skipped"] == [], undone
    assert _buckets(profile_dir) == rows
    assert {p.relative_to(bucket): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in bucket.rglob("*") if p.is_file()} == files
    assert _caches(profile_dir) == caches
    assert _seen(written, fake_site, pages, "read") == full


def test_delete_first_party_caches_and_undo_seen_by_chromium(make_chromium_profile, fake_site,
                                                             pages, data_dir, capsys):
    # LiveOps' own cache lives in Service Worker/CacheStorage/<hash>; its bucket row stays.
    written = make_chromium_profile(())
    profile_dir = written.profile_dir
    full = _expected()
    assert _seen(written, fake_site, pages, "write") == full
    caches, rows = _caches(profile_dir), _buckets(profile_dir)
    (lo_id,) = lo = {i for i, c in caches.items() if LIVEOPS in c[0]}
    store = caches[lo_id][3]
    assert store.startswith("Service Worker/CacheStorage/")
    where = ("--format", "json", "--data-dir", str(data_dir))

    code, doc = _cli(capsys, "delete", "--id", lo_id, "--yes",
                     "--profile", str(profile_dir), *where)
    assert code == 0 and doc["errors"] == [] and set(doc["deleted"]) == lo, doc
    assert not (profile_dir / store).parent.exists() and _buckets(profile_dir) == rows
    assert _seen(written, fake_site, pages, "read") == {LIVEOPS: {}, DOUBLECLICK: full[DOUBLECLICK]}

    code, undone = _cli(capsys, "undo", "--yes", *where)
    assert code == 0 and undone["errors"] == [] and undone["skipped"] == [], undone
    assert set(undone["restored"]) == lo
    assert _seen(written, fake_site, pages, "read") == full
    assert {i: c[:3] for i, c in _caches(profile_dir).items()} == {
        i: c[:3] for i, c in caches.items()}


def test_caches_and_indexed_db_of_one_bucket_deleted_and_undone_seen_by_chromium(
        make_chromium_profile, fake_site, pages, data_dir, capsys):
    # DoubleClick's frame keeps caches and a database in one bucket: both writers
    # take their part; undo (in deletion order) brings both back.
    written = make_chromium_profile(())
    profile_dir = written.profile_dir
    full = {**_expected(), "indexedDB": [f"{DOUBLECLICK}-db"]}
    assert _seen(written, fake_site, pages, "write-idb") == full
    caches, rows = _caches(profile_dir), _buckets(profile_dir)
    dc = {i for i, c in caches.items() if DOUBLECLICK in c[0]}
    (store,) = {caches[i][3] for i in dc}
    bucket = profile_dir / Path(store).parents[1]
    assert sorted(p.name for p in bucket.iterdir()) == ["CacheStorage", "IndexedDB"]
    where = ("--format", "json", "--data-dir", str(data_dir))

    code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes",
                     "--profile", str(profile_dir), *where)
    assert code == 0 and doc["errors"] == [] and dc <= set(doc["deleted"]), doc
    assert not (bucket / "CacheStorage").exists()
    assert not (bucket / "IndexedDB" / "indexeddb.leveldb").exists()
    assert _seen(written, fake_site, pages, "read-idb") == {
        LIVEOPS: full[LIVEOPS], DOUBLECLICK: {}, "indexedDB": []}

    code, undone = _cli(capsys, "undo", "--yes", *where)
    assert code == 0 and undone["errors"] == [] and undone["skipped"] == [], undone
    assert dc <= set(undone["restored"])
    assert _seen(written, fake_site, pages, "read-idb") == full
    assert {i: c[:3] for i, c in _caches(profile_dir).items()} == {
        i: c[:3] for i, c in caches.items()}
    assert {row[0] for row in _buckets(profile_dir).values()} == {
        row[0] for row in rows.values()}
