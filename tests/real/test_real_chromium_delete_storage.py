"""Deleting Chromium localStorage and sessionStorage, proven by starting the real Chromium again.

``clear --trackers`` appends one LevelDB write batch to each folder's log;
Chromium must replay it at its next start as one of its own.  For
localStorage the probe page (LiveOps, with the DoubleClick and Facebook
frames) shows what each origin sees after a fresh start: the trackers' keys
gone, LiveOps' exactly as before, and after ``undo`` everything back.  Had
Chromium found the database damaged it would have deleted and recreated the
folder (``LocalStorageImpl::DeleteAndRecreateDatabase``), taking LiveOps'
keys with it and writing "Creating DB" into the folder's ``LOG``.

sessionStorage belongs to tabs: a plain restart drops every namespace (the
whole folder is recreated), so Chromium is started with
``--restore-last-session``, which reopens the folder, replays the log and
keeps the restored tabs' namespaces as they are on disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_inspector.browsers import leveldb
from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.platform import discovery
from tests.harness.cli import cli_json as _cli
from tests.harness.site import DOUBLECLICK, FACEBOOK, LIVEOPS

pytestmark = pytest.mark.real_browser

KINDS = ("local_storage", "session_storage")
LOCAL = Path("Local Storage") / "leveldb"
SESSION = Path("Session Storage")


def _local_storage_seen(profile, **kw) -> dict[str, dict[str, str]]:
    """host -> the localStorage the page or frame of that host sees, on a fresh start."""
    site = profile.site
    (result,) = profile.visit([site.probe_url(LIVEOPS, [DOUBLECLICK, FACEBOOK])], **kw)
    seen = {LIVEOPS: result.report["localStorage"]}
    seen.update({host: report["localStorage"] for host, report in result.frames.items()})
    return seen


def _storage(profile_dir: Path) -> dict[str, tuple]:
    """id -> (kind, origin, partition site, name, value, tracker) of every storage item."""
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=KINDS, show_values=True,
                         classifier=Classifier(load_policy()))
    return {e.id: (e.kind, e.origin, e.partition_site, e.name, e.value, e.tracker)
            for e in result.entries}


def _clear(capsys, profile_dir: Path, data_dir: Path) -> dict:
    code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["refused"] == [] and doc["errors"] == [] and doc["journal_id"]
    return doc


def _undo(capsys, data_dir: Path) -> dict:
    code, doc = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["errors"] == [] and doc["skipped"] == []
    return doc


def _restart_restoring_tabs(profile) -> None:
    """Start Chromium again with the last session's tabs, and read sessionStorage in a new one.

    The probe reads sessionStorage, which makes Chromium open the folder;
    the harness drives a tab of its own, as the restored ones load by themselves.
    """
    with profile.running(extra_args=["--restore-last-session"]) as browser:
        browser.new_tab()
        browser.visit(profile.site.probe_url(LIVEOPS))


def _replayed_not_recreated(folder: Path) -> None:
    """Chromium's last open of ``folder`` replayed its whole log and did not start afresh.

    Chromium opens DOM storage without LevelDB's paranoid checks: a record it
    cannot read is dropped with "dropping N bytes; Corruption: ..." in the
    folder's LOG, and the database is used without it.
    """
    log = (folder / "LOG").read_text("utf-8", "replace")
    assert "Recovering log" in log, log
    assert "Creating DB" not in log, log
    assert "Corruption" not in log and "dropping" not in log, log


def test_clear_trackers_local_storage_and_undo_seen_by_chromium(
    make_chromium_profile, data_dir, capsys
):
    profile = make_chromium_profile()
    profile_dir = profile.profile_dir
    before = _local_storage_seen(profile)
    assert before[DOUBLECLICK] == {"dc_ls_id": "dc-local-123"}
    assert before[FACEBOOK] == {"fb_ls_like": "liked"}
    assert before[LIVEOPS] == {"lo_ls_theme": "dark", "lo_ls_visitor": "visitor-42"}
    items = _storage(profile_dir)
    trackers = {i for i, item in items.items() if item[0] == "local_storage" and item[5]}
    assert {items[i][3] for i in trackers} == {"dc_ls_id", "fb_ls_like"}
    records = leveldb.read_records(profile_dir / LOCAL)

    doc = _clear(capsys, profile_dir, data_dir)
    assert trackers <= set(doc["deleted"])
    now = _storage(profile_dir)
    assert {i for i, item in now.items() if item[5]} == set()
    assert {i: item for i, item in items.items() if item[0] == "local_storage" and not item[5]} == {
        i: item for i, item in now.items() if item[0] == "local_storage"}
    # The trackers' items and their META/METAACCESS records are gone, nothing else.
    left = leveldb.read_records(profile_dir / LOCAL)
    gone = set(records) - set(left)
    assert gone and all(b"doubleclick" in k or b"facebook" in k for k in gone)
    assert {k: v for k, v in records.items() if k not in gone} == left

    after = _local_storage_seen(profile)
    _replayed_not_recreated(profile_dir / LOCAL)
    assert after == {LIVEOPS: before[LIVEOPS], DOUBLECLICK: {}, FACEBOOK: {}}

    undone = _undo(capsys, data_dir)
    assert trackers <= set(undone["restored"])
    assert _storage(profile_dir) == items
    assert _local_storage_seen(profile) == before
    _replayed_not_recreated(profile_dir / LOCAL)
    # Chromium took the restored records in and kept them as it writes on.
    assert _storage(profile_dir) == items


def test_clear_trackers_session_storage_and_undo_kept_by_chromium(
    make_chromium_profile, data_dir, capsys
):
    profile = make_chromium_profile()
    profile_dir = profile.profile_dir
    folder = profile_dir / SESSION
    items = _storage(profile_dir)
    session = {i: item for i, item in items.items() if item[0] == "session_storage"}
    trackers = {i for i, item in session.items() if item[5]}
    assert {session[i][3:5] for i in trackers} == {("dc_ss_seen", "dc-session-1")}
    assert {item[3:5] for item in session.values() if not item[5]} == {
        ("lo_ss_cart", "cart-3-items")}
    records = leveldb.read_records(folder)

    doc = _clear(capsys, profile_dir, data_dir)
    assert trackers <= set(doc["deleted"])
    cleared = leveldb.read_records(folder)
    # The tracker's item, and its tab's namespace record (its only item went).
    gone = set(records) - set(cleared)
    assert gone == {k for k in records if b"dc_ss_seen" in k or b"doubleclick" in k}
    assert set(cleared) < set(records)
    assert {i: item for i, item in _storage(profile_dir).items()
            if item[0] == "session_storage"} == {
        i: item for i, item in session.items() if i not in trackers}

    # Chromium reopens the folder, replays the deletion and keeps it.
    _restart_restoring_tabs(profile)
    _replayed_not_recreated(folder)
    assert leveldb.read_records(folder) == cleared

    undone = _undo(capsys, data_dir)
    assert trackers <= set(undone["restored"])
    assert leveldb.read_records(folder) == records
    _restart_restoring_tabs(profile)
    _replayed_not_recreated(folder)
    assert leveldb.read_records(folder) == records
    assert {i: item for i, item in _storage(profile_dir).items()
            if item[0] == "session_storage"} == session
