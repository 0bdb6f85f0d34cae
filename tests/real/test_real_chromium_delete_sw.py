"""Deleting Chromium service worker registrations, proven by starting the real Chromium again.

A small HTTPS server (``tests.harness.site.serve_pages``) serves ``/sw-page``: LiveOps' page
registers a service worker (scope ``/app/``) and a DoubleClick iframe in it
registers one (scope ``/ads/``, partitioned under LiveOps).  In mode ``read``
the documents only list their registrations.  ``delete --site doubleclick.net``
must take DoubleClick's registration out of ``Service Worker/Database``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_sw_write, leveldb, writers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.chromium_workers import read_service_workers
from privacy_inspector.platform import discovery
from tests.harness.chromium import running_chromium
from tests.harness.cli import cli_json as _cli
from tests.harness.fixtures import pages_fixture
from tests.harness.site import (
    DOUBLECLICK,
    LIVEOPS,
    SETTLE_JS,
    PageRequest,
    Pages,
    Reply,
    framed_page,
)

pytestmark = pytest.mark.real_browser

SCOPES = {LIVEOPS: "/app/", DOUBLECLICK: "/ads/"}

SERVICE_WORKER = b"""
self.addEventListener('install', (e) => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(clients.claim()));
self.addEventListener('fetch', (e) => {});
self.addEventListener('message', (e) => e.source.postMessage('pong ' + e.data));
"""

_WORK = SETTLE_JS + r"""async function work() {
  try {
    if (spec.write || spec.other) {
      const scope = spec.write ? spec.scope : "/other/";
      const reg = await navigator.serviceWorker.register("/sw.js", {scope});
      await settle(reg.installing || reg.waiting || reg.active);
    }
    const regs = await navigator.serviceWorker.getRegistrations();
    H.report = {registrations: regs.map((r) => [new URL(r.scope).pathname,
                                                r.active ? new URL(r.active.scriptURL).pathname : null])};
    if (!spec.write && !spec.other) {
      // Each active worker must start (its script read from the script cache) and answer.
      H.report.answers = [];
      for (const r of regs) {
        if (!r.active) continue;
        const answer = new Promise((resolve) => { navigator.serviceWorker.onmessage = (ev) => resolve(ev.data); });
        r.active.postMessage("ping");
        H.report.answers.push(await answer);
      }
    }
  } catch (e) { H.errors.push(String(e)); }
}
"""


def _route(req: PageRequest) -> Reply | None:
    if req.host not in SCOPES:
        return None
    if req.path == "/sw.js":
        return Reply(SERVICE_WORKER, "text/javascript")
    if req.path != "/sw-page":
        return None
    frame = None
    if req.host == LIVEOPS:
        frame = f"https://{DOUBLECLICK}:{req.port}/sw-page?{req.query}"
    # "other": LiveOps registers a second scope (a change to the service
    # worker storage, which makes Chromium purge what is purgeable first).
    spec = {"write": req.query == "write", "scope": SCOPES[req.host],
            "other": req.query == "other" and req.host == LIVEOPS}
    return Reply(framed_page(_WORK, spec, frame))


pages = pages_fixture(_route)


@pytest.fixture(autouse=True)
def _sw_writer_registered():
    """The writer serves Chromium's service workers (registered in writers._factories)."""
    assert chromium_sw_write.writer_for in writers._factories()


def _seen(written, fake_site, pages: Pages, mode: str) -> dict[str, list]:
    """host -> [[scope path, active script path]] the page and its frame list, on a fresh start."""
    with running_chromium(written.user_data_dir, [pages.url(LIVEOPS, f"/sw-page?{mode}")],
                          site=fake_site) as browser:
        (result,) = browser.results
    assert result.errors == ()
    return {LIVEOPS: result.report["registrations"],
            DOUBLECLICK: result.frames["ad"]["registrations"]}


def _workers(profile_dir: Path) -> dict[str, tuple]:
    (profile,) = discovery.resolve(profile_dir)
    options = ReadOptions()
    entries = read_service_workers(profile, options)
    assert options.problems == []
    return {e.id: (e.origin, e.partition_site, e.name) for e in entries}


def _records(profile_dir: Path) -> dict[bytes, bytes]:
    return leveldb.read_records(profile_dir / "Service Worker" / "Database")


FULL = {LIVEOPS: [["/app/", "/sw.js"]], DOUBLECLICK: [["/ads/", "/sw.js"]]}


def _written(make_chromium_profile, fake_site, pages):
    written = make_chromium_profile(())
    assert _seen(written, fake_site, pages, "write") == FULL
    workers = _workers(written.profile_dir)
    dc = {i for i, w in workers.items() if DOUBLECLICK in w[0]}
    assert len(dc) == 1 and len(workers) == 2
    return written, workers, dc


@pytest.mark.parametrize("mode", ["read", "other"])
def test_delete_restart_undo_restart(make_chromium_profile, fake_site, pages, data_dir, capsys,
                                     mode):
    written, workers, dc = _written(make_chromium_profile, fake_site, pages)
    profile_dir = written.profile_dir
    before = _records(profile_dir)
    (dc_id,) = dc
    reg_key = next(k for k in before if k.startswith(b"REG:https://ad.doubleclick.net"))
    reg_id = int(reg_key.rsplit(b"\x00", 1)[1])
    res_keys = [k for k in before if k.startswith(b"RES:") and b"doubleclick" in before[k]]
    (res_key,) = res_keys
    resource_id = int(res_key.rsplit(b"\x00", 1)[1])
    body = profile_dir / "Service Worker" / "ScriptCache" / chromium_sw_write.script_files(
        resource_id)[0]
    assert body.is_file()
    where = ("--format", "json", "--data-dir", str(data_dir))

    code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes",
                     "--profile", str(profile_dir), *where)
    assert code == 0 and doc["errors"] == [] and dc <= set(doc["deleted"]), doc
    after = _records(profile_dir)
    pres = f"PRES:{resource_id}".encode()
    gone = {reg_key, res_key, f"REGID_TO_ORIGIN:{reg_id}".encode(),
            *(k for k in before if k.startswith(b"INITDATA_UNIQUE_ORIGIN:https://ad.double"))}
    assert after == {**{k: v for k, v in before.items() if k not in gone}, pres: b""}
    assert _workers(profile_dir) == {i: w for i, w in workers.items() if i != dc_id}

    seen = _seen(written, fake_site, pages, mode)
    lo = [["/app/", "/sw.js"]] + ([["/other/", "/sw.js"]] if mode == "other" else [])
    assert seen == {LIVEOPS: lo, DOUBLECLICK: []}
    # Chromium purges the script body (then drops the PRES: record) before its first
    # change to the service worker storage in a session; a session that only
    # reads leaves both.
    purged = mode == "other"
    assert (pres not in _records(profile_dir)) is purged
    assert body.exists() is not purged

    code, undone = _cli(capsys, "undo", "--yes", *where)
    assert code == 0 and undone["errors"] == [] and undone["skipped"] == [], undone
    assert dc <= set(undone["restored"])
    # Every record as it was (Chromium's id counters moved on where it registered since).
    counters = b"INITDATA_NEXT_"
    assert {k: v for k, v in _records(profile_dir).items()
            if k in before and not k.startswith(counters)} == {
        k: v for k, v in before.items() if not k.startswith(counters)}
    assert pres not in _records(profile_dir)
    assert body.is_file()  # put back from the journal's copy where Chromium purged it
    assert {i: w for i, w in _workers(profile_dir).items() if w[2].endswith("/ads/")} == {
        dc_id: workers[dc_id]}
    # The restored worker starts (its script read from the script cache) and answers.
    assert _seen_answers(written, fake_site, pages) == {
        LIVEOPS: (lo, ["pong ping"] * len(lo)), DOUBLECLICK: (FULL[DOUBLECLICK], ["pong ping"])}


def test_undo_before_chromium_runs_again(make_chromium_profile, fake_site, pages, data_dir,
                                         capsys):
    written, workers, dc = _written(make_chromium_profile, fake_site, pages)
    profile_dir = written.profile_dir
    before = _records(profile_dir)
    where = ("--format", "json", "--data-dir", str(data_dir))
    code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes",
                     "--profile", str(profile_dir), *where)
    assert code == 0 and doc["errors"] == [] and dc <= set(doc["deleted"]), doc
    assert _records(profile_dir) != before
    code, undone = _cli(capsys, "undo", "--yes", *where)
    assert code == 0 and undone["errors"] == [] and undone["skipped"] == [], undone
    assert _records(profile_dir) == before  # byte-exact, the PRES: record gone again
    assert _seen_answers(written, fake_site, pages) == {
        LIVEOPS: (FULL[LIVEOPS], ["pong ping"]), DOUBLECLICK: (FULL[DOUBLECLICK], ["pong ping"])}


def _seen_answers(written, fake_site, pages: Pages) -> dict[str, tuple]:
    with running_chromium(written.user_data_dir, [pages.url(LIVEOPS, "/sw-page?read")],
                          site=fake_site) as browser:
        (result,) = browser.results
    return {LIVEOPS: (result.report["registrations"], result.report["answers"]),
            DOUBLECLICK: (result.frames["ad"]["registrations"], result.frames["ad"]["answers"])}
