"""localStorage and sessionStorage of profiles that real Chromium wrote.

The harness pages (tests/harness/site.py) declare every item they store; the
inventory must hold each with the right origin (with the site's port) and
partition, with both cookie settings.  A deletion made in a later session must
be respected although the deleted value is still in the LevelDB log, and a
Local Storage large enough for Chromium to write sorted tables (snappy blocks,
several levels) must be read whole, also while Chromium is writing it.
"""

from __future__ import annotations

import gc
import http.server
import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_storage as cs
from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core import sites
from privacy_inspector.core.records import Profile
from tests.harness.site import DEFAULT_VISIT, LIVEOPS, expected_storage

pytestmark = pytest.mark.real_browser

KINDS = {"localStorage": "local_storage", "sessionStorage": "session_storage"}


def _profile(path: Path) -> Profile:
    return Profile(path=path, browser="chromium", engine="chromium", name=path.name)


def _read(profile_dir: Path, show_values: bool = True) -> tuple[list, list]:
    options = ReadOptions(show_values=show_values)
    entries = cs.read_local_storage(_profile(profile_dir), options)
    entries += cs.read_session_storage(_profile(profile_dir), options)
    return entries, options.problems


def _expected(port: int, pages) -> Counter:
    return Counter(
        (
            KINDS[s.kind],
            s.origin(port),
            sites.site_of_origin(s.partition_site) if s.partition_site else None,
            s.key,
            s.value,
        )
        for s in expected_storage("chromium", pages)
        if s.kind in KINDS
    )


@pytest.mark.parametrize("fixture", ["chromium_profile", "chromium_profile_default_settings"])
def test_every_item_the_pages_wrote_is_listed(request, fixture):
    chromium = request.getfixturevalue(fixture)
    port = chromium.site.port
    entries, problems = _read(chromium.profile_dir)
    assert problems == []
    found = Counter((e.kind, e.origin, e.partition_site, e.name, e.value) for e in entries)
    expected = _expected(port, [p for p in chromium.visited if "://" not in p])
    # Both kinds, first- and third-party, are in what the pages wrote.
    assert {k[0] for k in expected} == set(KINDS.values())
    assert {k[2] for k in expected} == {None, "liveops.com"}
    assert found == expected
    for e in entries:
        assert e.origin.endswith(f":{port}")
        assert e.host == e.origin.split("://")[1].rsplit(":", 1)[0]
        assert e.partitioned is (e.partition_site is not None)
        assert e.persistent is (e.kind == "local_storage")
        assert e.value_state == "plain"
        assert e.size == len(e.name.encode()) + len(e.value.encode())
        assert e.store == ("Local Storage/leveldb" if e.kind == "local_storage" else "Session Storage")
        if e.kind == "local_storage":
            assert e.last_accessed is not None
    assert len({e.id for e in entries}) == len(entries)
    # Values stay out unless asked for; the entries are otherwise the same.
    hidden, _ = _read(chromium.profile_dir, show_values=False)
    assert {e.value for e in hidden} == {None}
    assert [e.id for e in hidden] == [e.id for e in entries]


def test_the_live_files_of_a_running_chromium_are_read(make_chromium_profile):
    """Chromium commits storage a moment after the page writes it; read the
    folders it is still writing until every item is there."""
    chromium = make_chromium_profile(())
    expected = _expected(chromium.site.port, DEFAULT_VISIT)
    with chromium.running(DEFAULT_VISIT):
        deadline = time.monotonic() + 30
        while True:
            entries, problems = _read(chromium.profile_dir)
            found = Counter((e.kind, e.origin, e.partition_site, e.name, e.value) for e in entries)
            if found == expected or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (chromium.profile_dir.parent / "SingletonLock").is_symlink()
    assert problems == []
    assert found == expected


def test_a_deletion_in_a_later_session_is_respected(make_chromium_profile):
    """The harness pages never delete, so a later session does, in LiveOps' page:
    it removes one item and overwrites another.  The old values stay in
    Chromium's log; the inventory must show what the page sees."""
    chromium = make_chromium_profile()
    site = chromium.site
    folder = chromium.profile_dir / "Local Storage" / "leveldb"
    with chromium.running([site.probe_url(LIVEOPS)]) as browser:
        seen = json.loads(browser.evaluate(
            "localStorage.removeItem('lo_ls_theme');"
            "localStorage.setItem('lo_ls_visitor', 'changed');"
            "JSON.stringify({ls: {...localStorage}, ss: {...sessionStorage}})"
        ))
    assert seen["ls"] == {"lo_ls_visitor": "changed"}
    # The deleted and the overwritten values are still on disk.
    on_disk = b"".join(p.read_bytes() for p in folder.iterdir() if p.suffix in (".log", ".ldb"))
    assert b"\x01dark" in on_disk and b"\x01visitor-42" in on_disk
    entries, problems = _read(chromium.profile_dir)
    assert problems == []
    origin = site.origin(LIVEOPS)
    mine = {(e.kind, e.name): e.value for e in entries if e.origin == origin}
    assert {n: v for (k, n), v in mine.items() if k == "local_storage"} == seen["ls"]
    assert {n: v for (k, n), v in mine.items() if k == "session_storage"} == seen["ss"]
    # The third-party items of the first session are untouched.
    port = site.port
    expected_third_party = {
        (KINDS[s.kind], s.origin(port), s.key, s.value)
        for s in expected_storage("chromium", [p for p in chromium.visited if "://" not in p])
        if s.kind == "localStorage" and s.partition_site
    }
    assert expected_third_party
    assert expected_third_party <= {(e.kind, e.origin, e.name, e.value) for e in entries}


# --------------------------------------------------------------------------
# Many origins: Chromium writes sorted tables
# --------------------------------------------------------------------------

# 1,500 origins take about 40 s and give level-0 and level-1 tables; set
# PI_TEST_STORAGE_ORIGINS=5000 for the full 5,000 x 20 of the benchmark.
ORIGINS = int(os.environ.get("PI_TEST_STORAGE_ORIGINS", "1500"))
KEYS = 20
BATCH = 50

_TOP_PAGE = """<!doctype html><title>bulk</title><body><script>
const N = %d, B = %d;
let next = 0, live = 0, done = 0;
window.addEventListener("message", (ev) => { if (ev.data === "ok") { done++; live--; pump(); } });
function pump() {
  while (live < B && next < N) {
    const f = document.createElement("iframe");
    f.src = "http://o" + next + ".bulk.test:" + location.port + "/w";
    f.onload = () => setTimeout(() => f.remove(), 0);
    document.body.appendChild(f);
    next++; live++;
  }
  if (done === N) document.title = "done";
}
pump();
</script></body>"""
# Same-site frames of the top page: first-party storage, one origin each.
_FRAME_PAGE = """<!doctype html><script>
for (let i = 0; i < %d; i++) localStorage.setItem("key_" + i, "value-" + location.hostname + "-" + i);
parent.postMessage("ok", "*");
</script>"""


class _BulkHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):  # noqa: N802
        if self.path == "/":
            body = _TOP_PAGE % (ORIGINS, BATCH)
        elif self.path == "/w":
            body = _FRAME_PAGE % KEYS
        else:
            body = ""
        data = body.encode()
        self.send_response(200 if data else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)


@pytest.mark.timeout(max(300, ORIGINS // 10 + 240))
def test_many_origins_written_into_tables_are_read_whole_and_while_chromium_writes(
    make_chromium_profile,
):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BulkHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    chromium = make_chromium_profile(())
    folder = chromium.profile_dir / "Local Storage" / "leveldb"
    live = {"reads": 0, "most": 0, "tables": 0, "errors": []}
    stop = threading.Event()

    def read_while_writing() -> None:
        while not stop.is_set():
            if leveldb.has_database(folder):
                try:
                    db = leveldb.open_database(folder)
                except leveldb.LevelDBError as exc:
                    live["errors"].append(str(exc))
                else:
                    live["reads"] += 1
                    live["most"] = max(live["most"], len(db.records))
                    live["tables"] = max(live["tables"], len(db.tables))
            stop.wait(0.05)

    reader = threading.Thread(target=read_while_writing, daemon=True)
    try:
        with chromium.running() as browser:
            reader.start()
            browser.visit(f"http://bulk.test:{server.server_address[1]}/", timeout=ORIGINS / 5 + 60)
            # Chromium batches Local Storage commits, and writes made just
            # before it shuts down may never reach the disk.  So wait, with
            # the browser running, until every item the page wrote has been
            # committed and read back; a reader that dropped records would
            # never get there and the test fails below.
            profile = _profile(chromium.profile_dir)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                if len(cs.read_local_storage(profile, ReadOptions())) >= ORIGINS * KEYS:
                    break
                time.sleep(1)
    finally:
        stop.set()
        reader.join(30)
        server.shutdown()
        server.server_close()
    assert live["errors"] == []
    assert live["reads"] > 10 and live["tables"] >= 1
    db = leveldb.open_database(folder)
    assert db.tables, "Chromium wrote no table: the test needs more origins"
    # The engine pauses the cyclic garbage collector while it reads a store.
    gc.disable()
    try:
        start = time.perf_counter()
        entries = cs.read_local_storage(_profile(chromium.profile_dir), ReadOptions(show_values=True))
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
    port = server.server_address[1]
    got = {(e.origin, e.name): e.value for e in entries}
    want = {
        (f"http://o{o}.bulk.test:{port}", f"key_{k}"): f"value-o{o}.bulk.test-{k}"
        for o in range(ORIGINS)
        for k in range(KEYS)
    }
    assert got == want
    levels = sorted({level for level, _ in db.version.files})
    print(
        f"\n{ORIGINS} origins x {KEYS} keys: {len(db.tables)} tables on levels {levels}, "
        f"{len(db.logs)} log(s); read in {seconds:.2f} s; {live['reads']} reads while writing"
    )
    # Speed is measured by benchmarks/scan_storage.py, not asserted here.
