"""Deleting Chromium IndexedDB, proven by starting the real Chromium again.

The harness profile holds LiveOps' own database (``liveops-db``, in the
legacy ``IndexedDB/https_www.liveops.com_<port>.indexeddb.leveldb``) and
DoubleClick's (``dc-db``), partitioned under LiveOps, in storage bucket 2
(``WebStorage/2/IndexedDB/indexeddb.leveldb``, with its row in
``WebStorage/QuotaManager``).  ``clear --trackers`` takes DoubleClick's
bucket out whole (folder and row, as Chromium deletes a bucket); the probe
page, on a fresh start, must then show DoubleClick's frame no database and
LiveOps its own, and after ``undo`` DoubleClick's database again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_idb_write, writers
from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.platform import discovery
from tests.fixtures.chromium_buckets import buckets_by_id as _buckets
from tests.harness.cli import cli_json as _cli
from tests.harness.site import DOUBLECLICK, FACEBOOK, LIVEOPS

pytestmark = pytest.mark.real_browser

QUOTA = Path("WebStorage") / "QuotaManager"


@pytest.fixture(autouse=True)
def _idb_writer_registered():
    """The writer serves Chromium's IndexedDB (registered in writers._factories)."""
    assert chromium_idb_write.writer_for in writers._factories()


def _idb_seen(profile) -> dict[str, list[str]]:
    """host -> the IndexedDB databases the page or frame of that host lists, on a fresh start."""
    (result,) = profile.visit([profile.site.probe_url(LIVEOPS, [DOUBLECLICK, FACEBOOK])])
    seen = {LIVEOPS: sorted(result.report["indexedDB"])}
    seen.update({host: sorted(report["indexedDB"]) for host, report in result.frames.items()})
    return seen


def _databases(profile_dir: Path) -> dict[str, tuple]:
    """id -> (origin, partition site, name, tracker, store) of every IndexedDB database."""
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=("indexed_db",), classifier=Classifier(load_policy()))
    return {e.id: (e.origin, e.partition_site, e.name, e.tracker, e.store)
            for e in result.entries}


def test_clear_trackers_indexed_db_and_undo_seen_by_chromium(make_chromium_profile, data_dir,
                                                             capsys):
    profile = make_chromium_profile()
    profile_dir = profile.profile_dir
    before = _idb_seen(profile)
    assert before == {LIVEOPS: ["liveops-db"], DOUBLECLICK: ["dc-db"], FACEBOOK: []}
    databases = _databases(profile_dir)
    trackers = {i for i, db in databases.items() if db[3]}
    assert {databases[i][2] for i in trackers} == {"dc-db"}
    (store,) = {databases[i][4] for i in trackers}
    bucket = profile_dir / Path(store).parents[1]
    assert store.startswith("WebStorage/") and bucket.is_dir()
    rows = _buckets(profile_dir)
    (bucket_id,) = [i for i, row in rows.items() if row[0].startswith(
        f"{profile.site.origin(DOUBLECLICK)}/^0")]
    assert bucket.name == str(bucket_id)

    code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["refused"] == [] and doc["errors"] == [] and trackers <= set(doc["deleted"])
    assert not bucket.exists()
    assert _buckets(profile_dir) == {i: row for i, row in rows.items() if i != bucket_id}
    assert _databases(profile_dir) == {i: db for i, db in databases.items() if i not in trackers}

    after = _idb_seen(profile)
    assert after == {LIVEOPS: ["liveops-db"], DOUBLECLICK: [], FACEBOOK: []}

    code, undone = _cli(capsys, "undo", "--yes", "--format", "json",
                        "--data-dir", str(data_dir))
    assert code == 0, undone
    assert undone["errors"] == [] and undone["skipped"] == []
    assert trackers <= set(undone["restored"])
    # The frame's listing made Chromium create a new, empty bucket for DoubleClick's
    # storage key; the database went back into that bucket, under the same id.
    restored = _databases(profile_dir)
    assert _without_store(restored) == _without_store(databases)
    (new_id,) = [i for i, row in _buckets(profile_dir).items() if row[0] == rows[bucket_id][0]]
    assert {restored[i][4] for i in trackers} == {f"WebStorage/{new_id}/IndexedDB/indexeddb.leveldb"}
    assert _idb_seen(profile) == before
    # Chromium took the restored database in and keeps it.
    assert _databases(profile_dir) == restored


def _without_store(databases: dict[str, tuple]) -> dict[str, tuple]:
    return {i: db[:4] for i, db in databases.items()}


def test_undo_before_chromium_runs_again_puts_the_bucket_and_its_row_back(
    make_chromium_profile, data_dir, capsys
):
    profile = make_chromium_profile()
    profile_dir = profile.profile_dir
    databases = _databases(profile_dir)
    trackers = {i for i, db in databases.items() if db[3]}
    (store,) = {databases[i][4] for i in trackers}
    bucket = profile_dir / Path(store).parents[1]
    files = {p.relative_to(bucket): (p.read_bytes(), p.stat().st_mtime_ns)
             for p in bucket.rglob("*") if p.is_file()}
    rows = _buckets(profile_dir)
    where = ("--format", "json", "--data-dir", str(data_dir))

    code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--profile", str(profile_dir), *where)
    assert code == 0 and doc["errors"] == [] and trackers <= set(doc["deleted"]), doc
    assert not bucket.exists() and len(_buckets(profile_dir)) == len(rows) - 1
    code, undone = _cli(capsys, "undo", "--yes", *where)
    assert code == 0 and undone["errors"] == [] and undone["skipped"] == [], undone
    assert _buckets(profile_dir) == rows
    assert {p.relative_to(bucket): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in bucket.rglob("*") if p.is_file()} == files

    # Chromium takes the bucket back as its own: the frame lists its database again.
    assert _idb_seen(profile) == {LIVEOPS: ["liveops-db"], DOUBLECLICK: ["dc-db"], FACEBOOK: []}
    assert _databases(profile_dir) == databases
    assert [row[0] for i, row in _buckets(profile_dir).items() if i in rows] == [
        row[0] for row in rows.values()]
