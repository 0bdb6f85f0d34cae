"""Deleting a tracker's Cache Storage and service worker from a profile
Firefox ESR 153 wrote, proven by starting Firefox again.

A page served as ``ad.doubleclick.net`` (by ``tests.harness.site.serve_pages``)
registers a service worker and opens two caches.
``delete --site doubleclick.net`` must leave Firefox seeing no cache and no
registration there; ``undo`` must bring both back, as Firefox reads them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox_cache_write as fcw
from privacy_inspector.browsers import writers
from privacy_inspector.core import engine
from privacy_inspector.platform import discovery
from tests.harness.cli import cli_json as _cli
from tests.harness.site import DOUBLECLICK, Pages, page_with_worker, serve_pages

pytestmark = pytest.mark.real_browser

# ?make: register a worker and fill two caches; otherwise only report what is there.
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>cache</title></head><body><script>
(async () => {
  const H = window.__harness = {errors: [], report: {}};
  try {
    if (location.search === '?make') {
      const reg = await navigator.serviceWorker.register('/sw.js', {scope: '/app/'});
      await new Promise(r => { const w = reg.installing || reg.waiting || reg.active;
        if (!w || w.state === 'activated') return r();
        w.addEventListener('statechange', () => w.state === 'activated' && r()); });
      const cache = await caches.open('dc-cache-v1');
      await cache.put('/app/data.json', new Response('x'.repeat(5000)));
      await cache.put('/app/other', new Response('hello'));
      await caches.open('dc-empty');
    }
    H.report.caches = await caches.keys();
    const data = await caches.match('/app/other');
    H.report.other = data ? await data.text() : null;
    H.report.workers = (await navigator.serviceWorker.getRegistrations()).map(r => r.scope);
  } catch (e) { H.errors.push(String(e)); }
  document.title = H.errors.length ? 'done with errors' : 'done';
})();
</script></body></html>"""


def _tracker_site(site) -> AbstractContextManager[Pages]:
    return serve_pages(site.certs, page_with_worker(_PAGE), no_store=False)


@pytest.fixture
def with_writer(monkeypatch):
    assert fcw.writer_for in writers._factories()


def _seen(ff, url: str) -> dict:
    (result,) = ff.visit([url])
    return result.report


def _entries(profile_dir: Path) -> dict[str, tuple]:
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=("cache_storage", "service_worker"))
    assert result.errors == []
    return {e.id: (e.kind, e.origin, e.name) for e in result.entries}


def test_delete_a_trackers_caches_and_worker_and_undo_in_firefox(
        make_firefox_profile, data_dir, capsys, with_writer):
    ff = make_firefox_profile(())
    with _tracker_site(ff.site) as pages:
        port = pages.port
        origin = f"https://{DOUBLECLICK}:{port}"
        page = f"{origin}/page"
        made = _seen(ff, page + "?make")
        assert made == {"caches": ["dc-cache-v1", "dc-empty"], "other": "hello",
                        "workers": [f"{origin}/app/"]}
        entries = _entries(ff.profile_dir)
        assert sorted(entries.values()) == [
            ("cache_storage", origin, "dc-cache-v1"), ("cache_storage", origin, "dc-empty"),
            ("service_worker", origin, f"{origin}/app/")]
        cache = next(ff.profile_dir.glob(f"storage/default/https+++{DOUBLECLICK}+{port}/cache"))
        files = {str(p.relative_to(cache)): p.read_bytes() for p in cache.rglob("*") if p.is_file()}
        sw_before = (ff.profile_dir / "serviceworker.txt").read_bytes()

        code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes", "--format", "json",
                         "--profile", str(ff.profile_dir), "--data-dir", str(data_dir))
        assert code == 0, doc
        assert doc["errors"] == [] and doc["refused"] == [], doc
        assert sorted(doc["deleted"]) == sorted(entries)
        assert not cache.exists()
        assert _entries(ff.profile_dir) == {}

        # Undo before Firefox runs: everything back, byte for byte.
        code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
        assert code == 0, undone
        assert sorted(undone["restored"]) == sorted(entries) and undone["skipped"] == []
        assert {str(p.relative_to(cache)): p.read_bytes() for p in cache.rglob("*") if p.is_file()} == files
        assert (ff.profile_dir / "serviceworker.txt").read_bytes() == sw_before
        assert _seen(ff, page) == made, "Firefox reads the restored caches and worker"

        # Delete again, and Firefox sees nothing there.
        code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes", "--format", "json",
                         "--profile", str(ff.profile_dir), "--data-dir", str(data_dir))
        assert code == 0, doc
        assert doc["errors"] == [] and sorted(doc["deleted"]) == sorted(entries), doc
        assert _seen(ff, page) == {"caches": [], "other": None, "workers": []}
        # Asking caches.keys() made Firefox open an empty Cache Storage there;
        # it holds nothing the site set, so undo puts the deleted one in its place.
        assert (cache / "caches.sqlite").exists() and _entries(ff.profile_dir) == {}

        code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
        assert code == 0, undone
        assert sorted(undone["restored"]) == sorted(entries) and undone["skipped"] == []
        assert _seen(ff, page) == made, "the caches and the worker work again"
        assert _entries(ff.profile_dir) == entries


def test_caches_deleted_and_the_worker_kept(make_firefox_profile, data_dir, capsys, with_writer):
    # The worker's script cache is in the cache folder, so it goes with the
    # site's caches (once the worker runs again, Firefox fetches its script
    # anew or drops the registration; undo then leaves that new folder alone).
    # Undone before the worker runs, the caches and the worker are back.
    ff = make_firefox_profile(())
    with _tracker_site(ff.site) as pages:
        port = pages.port
        origin = f"https://{DOUBLECLICK}:{port}"
        page = f"{origin}/page"
        made = _seen(ff, page + "?make")
        entries = _entries(ff.profile_dir)
        caches = sorted(i for i, e in entries.items() if e[0] == "cache_storage")
        args = [a for i in caches for a in ("--id", i)]
        code, doc = _cli(capsys, "delete", *args, "--yes", "--format", "json",
                         "--profile", str(ff.profile_dir), "--data-dir", str(data_dir))
        assert code == 0 and sorted(doc["deleted"]) == caches and doc["errors"] == [], doc
        assert _seen(ff, page) == {"caches": [], "other": None, "workers": made["workers"]}
        assert {i for i, e in _entries(ff.profile_dir).items() if e[0] == "cache_storage"} == set()

        code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
        assert code == 0 and sorted(undone["restored"]) == caches and undone["skipped"] == [], undone
        assert _seen(ff, page) == made
        assert _entries(ff.profile_dir) == entries
