"""Deleting trackers' localStorage and IndexedDB from profiles Firefox ESR 153
wrote, proven by starting Firefox again.

The probe page (LiveOps with the DoubleClick and Facebook frames) reports
what each origin can see.  After ``clear --trackers`` the trackers' keys and
databases must be gone and LiveOps' own storage exactly as before; after
``undo`` everything is back, and Firefox reads it as its own: the probe sees
the values, a page can write again, and Firefox's own quota bookkeeping (the
``ls/usage`` files and the cache in ``storage.sqlite`` it rewrites at exit)
agrees with what the writers left.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox_storage_write as fsw
from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.platform import discovery
from tests.harness.cli import cli_json as _cli
from tests.harness.site import DOUBLECLICK, FACEBOOK, LIVEOPS, LIVEOPS_HOME

pytestmark = pytest.mark.real_browser

STORAGE_KINDS = ("local_storage", "indexed_db")
# What the pages of the fake site store in each origin (tests/harness/site.py).
OWNER_LS = {"lo_ls_theme": "dark", "lo_ls_visitor": "visitor-42"}
TRACKER_LS = {DOUBLECLICK: {"dc_ls_id": "dc-local-123"}, FACEBOOK: {"fb_ls_like": "liked"}}


def _seen(profile) -> dict[str, tuple[dict[str, str], list[str]]]:
    """host -> (its localStorage, its IndexedDB names) as the probe sees them on a fresh start."""
    site = profile.site
    (result,) = profile.visit([site.probe_url(LIVEOPS, [DOUBLECLICK, FACEBOOK])])
    reports = {LIVEOPS: result.report, **result.frames}
    return {host: (r["localStorage"], r["indexedDB"]) for host, r in reports.items()}


def _storage_entries(profile_dir: Path) -> dict[str, tuple]:
    """id -> (kind, host, name, size, tracker) of every localStorage and IndexedDB entry."""
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=STORAGE_KINDS, classifier=Classifier(load_policy()))
    assert result.errors == []
    return {e.id: (e.kind, e.host, e.name, e.size, bool(e.tracker)) for e in result.entries}


def _origin_dir(profile_dir: Path, host: str, port: int) -> Path:
    (folder,) = (profile_dir / "storage" / "default").glob(f"https+++{host}+{port}^*")
    return folder


def _usage_file(folder: Path) -> int:
    cookie, usage = struct.unpack(">Iq", (folder / "ls" / "usage").read_bytes())
    assert cookie == fsw.USAGE_COOKIE
    return usage


def _quota_cache(profile_dir: Path) -> tuple[int, dict[str, str]]:
    """(cache.valid, origin -> client usages) of Firefox's storage.sqlite."""
    uri = (profile_dir / "storage.sqlite").as_uri() + "?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        (valid,) = conn.execute("SELECT valid FROM cache").fetchone()
        usages = dict(conn.execute("SELECT origin, client_usages FROM origin"))
    conn.close()
    return valid, usages


def _clear_trackers(capsys, profile_dir: Path, data_dir: Path) -> dict:
    code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["refused"] == [] and doc["errors"] == [] and doc["journal_id"]
    return doc


def test_clear_trackers_storage_and_undo_in_firefox(make_firefox_profile, data_dir, capsys):
    ff = make_firefox_profile()
    profile_dir, port = ff.profile_dir, ff.site.port
    before = _seen(ff)
    assert before[LIVEOPS] == (OWNER_LS, ["liveops-db"])
    assert before[DOUBLECLICK] == (TRACKER_LS[DOUBLECLICK], ["dc-db"])
    assert before[FACEBOOK] == (TRACKER_LS[FACEBOOK], [])
    entries = _storage_entries(profile_dir)
    trackers = {i for i, e in entries.items() if e[4]}
    assert {entries[i][:3] for i in trackers} == {
        ("local_storage", DOUBLECLICK, "dc_ls_id"),
        ("local_storage", FACEBOOK, "fb_ls_like"),
        ("indexed_db", DOUBLECLICK, "dc-db"),
    }
    doubleclick = _origin_dir(profile_dir, DOUBLECLICK, port)
    facebook = _origin_dir(profile_dir, FACEBOOK, port)
    # What Firefox itself counted: key + value in UTF-16 code units.
    assert (_usage_file(doubleclick), _usage_file(facebook)) == (8 + 12, 10 + 5)
    dc_idb = sorted(p.name for p in (doubleclick / "idb").iterdir())

    doc = _clear_trackers(capsys, profile_dir, data_dir)
    assert trackers <= set(doc["deleted"])
    assert not trackers & {k["id"] for k in doc["kept"]}
    # Every key of these origins went, so their ls folders went whole (into the journal).
    assert not (doubleclick / "ls").exists() and not (facebook / "ls").exists()
    assert (doubleclick / ".metadata-v2").exists()
    assert list((doubleclick / "idb").iterdir()) == []
    assert _quota_cache(profile_dir)[0] == 0, "Firefox is told to recount at its next start"
    after_delete = _storage_entries(profile_dir)
    assert after_delete == {i: e for i, e in entries.items() if i not in trackers}

    seen = _seen(ff)
    assert seen[LIVEOPS] == before[LIVEOPS], "the owner's storage is exactly as before"
    assert seen[DOUBLECLICK] == ({}, []) and seen[FACEBOOK] == ({}, [])
    # Firefox recounted from the files at start and saved its cache again at
    # exit: the trackers' localStorage counts nothing, their IndexedDB is gone.
    valid, usages = _quota_cache(profile_dir)
    dc_usages = usages[f"https://{DOUBLECLICK}:{port}^partitionKey=%28https%2Cliveops.com%29"]
    assert valid == 1 and "I" not in dc_usages and "L20" not in dc_usages, usages
    if (doubleclick / "ls").exists():  # made again when the frame opened its storage
        assert _usage_file(doubleclick) == 0, "Firefox counts nothing there"

    code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0, undone
    assert sorted(undone["restored"]) == sorted(doc["deleted"]) and undone["skipped"] == []
    assert sorted(p.name for p in (doubleclick / "idb").iterdir()) == dc_idb
    assert (_usage_file(doubleclick), _usage_file(facebook)) == (20, 15)
    assert _storage_entries(profile_dir) == entries
    assert _seen(ff) == before, "the trackers' storage works again"
    valid, usages = _quota_cache(profile_dir)
    assert valid == 1 and "L20" in usages[f"https://{DOUBLECLICK}:{port}^partitionKey=%28https%2Cliveops.com%29"]


def test_a_site_that_stores_again_after_the_deletion_keeps_what_it_stored(
        make_firefox_profile, data_dir, capsys):
    # The trackers' storage is usable right after the deletion (Firefox does
    # not see it as damaged), and undo leaves what they stored since alone.
    ff = make_firefox_profile()
    entries = _storage_entries(ff.profile_dir)
    trackers = {i for i, e in entries.items() if e[4]}
    doc = _clear_trackers(capsys, ff.profile_dir, data_dir)
    assert trackers <= set(doc["deleted"])

    ff.visit([LIVEOPS_HOME])  # the page and its frames write everything again, without errors
    assert _storage_entries(ff.profile_dir).keys() == entries.keys()

    code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0, undone
    skipped = {s["id"] for s in undone["skipped"]}
    assert trackers <= skipped
    assert {s["reason"] for s in undone["skipped"] if s["id"] in trackers} == {
        "set again since the deletion; left as it is now",
        "a database of the same name was created since; left as it is now",
    }
    assert _storage_entries(ff.profile_dir) == entries
    seen = _seen(ff)
    assert seen[DOUBLECLICK] == (TRACKER_LS[DOUBLECLICK], ["dc-db"])
    assert seen[FACEBOOK] == (TRACKER_LS[FACEBOOK], [])
    assert seen[LIVEOPS] == (OWNER_LS, ["liveops-db"])
