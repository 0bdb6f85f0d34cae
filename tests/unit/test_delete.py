"""Plans, deletion and undo on cookie databases built from the real browsers' schemas.

The real browsers prove the round trip in tests/real/test_real_delete.py;
these cover what they cannot show: older schemas, a store that fails midway,
the browser starting between plan and apply, re-set entries, the keep list.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from privacy_inspector.actions import delete as deleting
from privacy_inspector.actions import journal as journals
from privacy_inspector.actions.keep import KeepList
from privacy_inspector.cli import main as cli
from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.core.records import Profile
from tests.fixtures.cookie_dbs import chromium_cookies_db, firefox_cookies_db

EXPIRES = 1_900_000_000
CREATED = 1_700_000_000
COOKIES = [
    {"host": ".liveops.com", "name": "_ga", "value": "GA1.2.111.222", "expires": EXPIRES,
     "same_site": "lax", "created": CREATED},
    {"host": "www.liveops.com", "name": "sid", "value": "s3cr3t", "expires": EXPIRES,
     "secure": True, "http_only": True, "same_site": "strict", "created": CREATED},
    {"host": ".doubleclick.net", "name": "IDE", "value": "AHWqTUk", "expires": EXPIRES,
     "secure": True, "same_site": "none", "created": CREATED},
    {"host": "ad.doubleclick.net", "name": "dc_chips", "value": "chips", "expires": EXPIRES,
     "secure": True, "same_site": "none", "partition": "https://liveops.com",
     "origin_attributes": "^partitionKey=%28https%2Cliveops.com%29", "created": CREATED},
    {"host": "news.example.org", "name": "pref", "value": "dark", "expires": EXPIRES,
     "same_site": "lax", "created": CREATED},
]
TRACKERS = {"_ga", "IDE", "dc_chips"}


@pytest.fixture(params=["chromium-18", "chromium-24", "firefox-12", "firefox-17"])
def profile(request, tmp_path) -> Profile:
    engine_name, version = request.param.split("-")
    if engine_name == "chromium":
        chromium_cookies_db(tmp_path / "chromium" / "Default" / "Cookies", COOKIES, version=int(version))
        return Profile(tmp_path / "chromium" / "Default", "chromium", "chromium", "Default",
                       root=tmp_path / "chromium")
    db = firefox_cookies_db(tmp_path / "firefox" / "p.default" / "cookies.sqlite", COOKIES,
                            version=int(version))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as Firefox keeps it
    return Profile(db.parent, "firefox", "firefox", "p.default")


def _db(profile: Profile):
    return profile.path / ("Cookies" if profile.engine == "chromium" else "cookies.sqlite")


def _table(profile: Profile) -> str:
    return "cookies" if profile.engine == "chromium" else "moz_cookies"


def _rows(profile: Profile) -> list[tuple]:
    with sqlite3.connect(f"file:{_db(profile)}?mode=ro", uri=True) as conn:
        rows = conn.execute(f"SELECT * FROM {_table(profile)}").fetchall()
    return sorted(rows, key=repr)


def _schema(profile: Profile) -> list[tuple]:
    with sqlite3.connect(f"file:{_db(profile)}?mode=ro", uri=True) as conn:
        return sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)


def _names(profile: Profile) -> set[str]:
    return {r[0] for r in sqlite3.connect(_db(profile)).execute(
        f"SELECT name FROM {_table(profile)}")}


def _scan(*profiles: Profile):
    return engine.scan(list(profiles), classifier=Classifier(load_policy())).entries


def _never(profile: Profile) -> bool:
    return False


TRACKERS_ONLY = deleting.Selection(trackers=True)
NO_KEEP = KeepList()


def _plan(profiles, selection=TRACKERS_ONLY, keep=NO_KEEP, running=_never):
    return deleting.make_plan(profiles, _scan(*profiles), selection, keep, running)


def test_clear_trackers_deletes_rows_only_and_undo_restores_them_byte_for_byte(profile, data_dir):
    rows, schema = _rows(profile), _schema(profile)
    plan = _plan([profile])
    assert {e.name for e in plan.entries} == TRACKERS
    outcome = deleting.apply(plan, data_dir, "clear --trackers", running=_never)
    assert outcome.errors == [] and outcome.refused == []
    assert sorted(outcome.deleted) == sorted(e.id for e in plan.entries)
    assert _names(profile) == {"sid", "pref"}
    assert _schema(profile) == schema, "rows are deleted, the schema is never touched"
    assert not os.path.exists(f"{_db(profile)}-wal") or os.path.getsize(f"{_db(profile)}-wal") == 0

    journal = journals.Journal.load(data_dir, outcome.journal_id)
    assert stat.S_IMODE(journal.folder.stat().st_mode) == 0o700
    for path in journal.folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (record,) = journal.stores
    assert record.status == journals.DONE and sorted(record.deleted) == sorted(outcome.deleted)

    undone = deleting.undo(data_dir, lambda r: profile, running=_never)
    assert sorted(undone.restored) == sorted(outcome.deleted) and undone.skipped == []
    restored = _rows(profile)
    if profile.engine == "firefox":  # the id column may be given anew; every other byte is back
        restored, rows = [r[1:] for r in restored], [r[1:] for r in rows]
        restored.sort(key=repr)
        rows.sort(key=repr)
    assert restored == rows
    assert journals.Journal.load(data_dir, outcome.journal_id).undone is not None
    with pytest.raises(journals.JournalError, match="already undone"):
        deleting.undo(data_dir, lambda r: profile, outcome.journal_id, running=_never)


def test_undo_leaves_an_entry_that_was_set_again_alone(profile, data_dir):
    plan = _plan([profile], deleting.Selection(sites=frozenset({"doubleclick.net"})))
    outcome = deleting.apply(plan, data_dir, "delete", running=_never)
    assert {e.name for e in plan.entries} == {"IDE", "dc_chips"}
    # The site sets IDE again before the user undoes.
    again = [c for c in COOKIES if c["name"] == "IDE"][0] | {"value": "NEWVALUE"}
    with sqlite3.connect(_db(profile)) as conn:
        version = (int(conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])
                   if profile.engine == "chromium" else conn.execute("PRAGMA user_version").fetchone()[0])
    if profile.engine == "chromium":
        chromium_cookies_db(profile.path / "again", [again], version=version)
        src, table = profile.path / "again", "cookies"
    else:
        firefox_cookies_db(profile.path / "again.sqlite", [again], version=version)
        src, table = profile.path / "again.sqlite", "moz_cookies"
    with sqlite3.connect(_db(profile)) as conn:
        conn.execute(f"ATTACH '{src}' AS again")
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        shared = [c for c in columns if c != "id" and c in
                  [r[1] for r in conn.execute(f"PRAGMA again.table_info({table})")]]
        conn.execute(f"INSERT INTO main.{table} ({','.join(shared)}) "
                     f"SELECT {','.join(shared)} FROM again.{table}")
    undone = deleting.undo(data_dir, lambda r: profile, running=_never)
    ide = next(e.id for e in plan.entries if e.name == "IDE")
    assert [i for i, _ in undone.skipped] == [ide]
    assert "set again" in undone.skipped[0][1]
    assert {e.name for e in _scan(profile)} >= {"IDE", "dc_chips"}
    assert sorted(outcome.deleted) == sorted(e.id for e in plan.entries)


def test_a_running_browser_on_any_profile_means_nothing_is_written(tmp_path, data_dir):
    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    firefox_cookies_db(tmp_path / "f" / "cookies.sqlite", COOKIES)
    chrome = Profile(tmp_path / "c" / "Default", "chromium", "chromium", "Default")
    fox = Profile(tmp_path / "f", "firefox", "firefox", "f")
    plan = _plan([chrome, fox])
    # It starts between plan and apply: checked again just before writing.
    outcome = deleting.apply(plan, data_dir, "clear", running=lambda p: p is fox)
    assert outcome.deleted == [] and outcome.journal_id is None
    assert [r.profile for r in outcome.refused] == [str(fox.path)]
    assert "firefox is running on the profile f" in outcome.refused[0].reason
    assert TRACKERS <= _names(chrome) and TRACKERS <= _names(fox)


def test_a_store_changed_since_the_plan_is_refused(profile, data_dir):
    plan = _plan([profile])
    with sqlite3.connect(_db(profile)) as conn:
        conn.execute(f"DELETE FROM {_table(profile)} WHERE name = 'pref'")
    os.utime(_db(profile), ns=(1, 1))
    outcome = deleting.apply(plan, data_dir, "clear", running=_never)
    assert outcome.deleted == [] and "changed since the plan was made" in outcome.refused[0].reason
    assert TRACKERS <= _names(profile)


def test_a_store_that_fails_is_left_untouched_and_the_others_are_done(tmp_path, data_dir):
    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    firefox_cookies_db(tmp_path / "f" / "cookies.sqlite", COOKIES)
    chrome = Profile(tmp_path / "c" / "Default", "chromium", "chromium", "Default")
    fox = Profile(tmp_path / "f", "firefox", "firefox", "f")
    plan = _plan([chrome, fox])
    blocker = sqlite3.connect(tmp_path / "f" / "cookies.sqlite", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        outcome = deleting.apply(plan, data_dir, "clear", running=_never)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert _names(chrome) == {"sid", "pref"}
    assert TRACKERS <= _names(fox)
    ((profile_path, store, message),) = outcome.errors
    assert (profile_path, store) == (str(fox.path), "cookies.sqlite")
    assert "nothing was changed in cookies.sqlite" in message and "locked" in message
    states = {r.store: r.status for r in journals.Journal.load(data_dir, outcome.journal_id).stores}
    assert states == {"Cookies": journals.DONE, "cookies.sqlite": journals.UNTOUCHED}


def test_the_keep_list_protects_sites_and_entries(profile, data_dir):
    entries = _scan(profile)
    ide = next(e for e in entries if e.name == "IDE")
    keep = KeepList().with_site("liveops.com").with_entry(ide.id, "IDE")
    plan = _plan([profile], keep=keep)
    assert {e.name for e in plan.entries} == {"dc_chips"}, (
        "a tracker partitioned under a kept site is the tracker's, not the site's")
    reasons = {k.entry.name: k.reason for k in plan.kept}
    assert reasons == {"_ga": "keep list: site liveops.com", "IDE": f"keep list: entry {ide.id}"}


def test_selection_by_site_covers_both_directions_of_partitioning(profile):
    plan = _plan([profile], deleting.Selection(sites=frozenset({"liveops.com"})))
    # liveops.com's own cookies, and doubleclick's cookie partitioned under it.
    assert {e.name for e in plan.entries} == {"_ga", "sid", "dc_chips"}
    plan = _plan([profile], deleting.Selection(organizations=frozenset({"Google"}),
                                               categories=frozenset({"advertising"})))
    assert {e.name for e in plan.entries} == {"IDE", "dc_chips"}


def _cli(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_unreadable_keep_list_refuses(tmp_path, data_dir, capsys):
    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    data_dir.mkdir(mode=0o700)
    (data_dir / "keep.json").write_text("{not json", encoding="utf-8")
    code, out, err = _cli(capsys, "clear", "--trackers", "--yes", "--profile",
                          str(tmp_path / "c" / "Default"), "--data-dir", str(data_dir))
    assert code == 3
    assert "the keep list cannot be read, so nothing is deleted" in err
    assert "Traceback" not in err
    profile = Profile(tmp_path / "c" / "Default", "chromium", "chromium", "Default")
    assert TRACKERS <= _names(profile)
    assert (data_dir / "keep.json").read_text(encoding="utf-8") == "{not json"


def test_cli_without_a_terminal_or_yes_changes_nothing(tmp_path, data_dir, capsys):
    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    profile = Profile(tmp_path / "c" / "Default", "chromium", "chromium", "Default")
    code, out, err = _cli(capsys, "clear", "--trackers", "--profile", str(profile.path),
                          "--data-dir", str(data_dir))
    assert code == 2 and "add --yes" in err
    assert "Plan: delete 3 entries" in out
    code, out, _ = _cli(capsys, "delete", "--site", "doubleclick.net", "--dry-run", "--format",
                        "json", "--profile", str(profile.path), "--data-dir", str(data_dir))
    doc = json.loads(out)
    assert code == 0 and doc["deleted"] == [] and len(doc["planned"]) == 2
    assert TRACKERS <= _names(profile)


def test_cli_delete_undo_and_keep(tmp_path, data_dir, capsys):
    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    profile = Profile(tmp_path / "c" / "Default", "chromium", "chromium", "Default")
    where = ("--profile", str(profile.path), "--data-dir", str(data_dir))
    assert _cli(capsys, "keep", "add", "doubleclick.net", *where)[0] == 0
    code, out, _ = _cli(capsys, "keep", "list", "--format", "json", *where)
    assert json.loads(out)["sites"] == ["doubleclick.net"]
    code, out, _ = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json", *where)
    doc = json.loads(out)
    assert code == 0 and len(doc["deleted"]) == 1
    assert {k["reason"] for k in doc["kept"]} == {"keep list: site doubleclick.net"}
    code, out, _ = _cli(capsys, "undo", "--list", "--format", "json", *where)
    (listed,) = json.loads(out)
    assert listed["journal_id"] == doc["journal_id"] and listed["deleted"] == 1
    code, out, _ = _cli(capsys, "undo", "--yes", "--format", "json", *where)
    assert code == 0 and json.loads(out)["restored"] == doc["deleted"]
    code, _, err = _cli(capsys, "undo", "--yes", *where)
    assert code == 1 and "no deletion to undo" in err


def test_journals_past_the_retention_period_are_removed_at_the_next_deletion(tmp_path, data_dir,
                                                                              capsys):
    from privacy_inspector.core.settings import Settings

    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    where = ("--yes", "--profile", str(tmp_path / "c" / "Default"), "--data-dir", str(data_dir))
    assert _cli(capsys, "delete", "--site", "example.org", *where)[0] == 0
    (old,) = journals.list_journals(data_dir)
    doc = json.loads((old.folder / "journal.json").read_text("utf-8"))
    doc["created"] = "2020-01-01T00:00:00Z"
    (old.folder / "journal.json").write_text(json.dumps(doc), "utf-8")
    Settings.load(data_dir).set("journal_days", "7")
    assert _cli(capsys, "delete", "--site", "doubleclick.net", *where)[0] == 0
    remaining = journals.list_journals(data_dir)
    assert [j.id for j in remaining] != [old.id] and old.id not in [j.id for j in remaining]
    assert len(remaining) == 1


def test_a_profile_path_with_uri_characters_is_written_correctly(tmp_path, data_dir):
    odd = tmp_path / "we%20ird#dir?x"
    chromium_cookies_db(odd / "Default" / "Cookies", COOKIES, version=24)
    profile = Profile(odd / "Default", "chromium", "chromium", "Default")
    outcome = deleting.apply(_plan([profile]), data_dir, "clear", running=_never)
    assert outcome.errors == [] and _names(profile) == {"sid", "pref"}
    deleting.undo(data_dir, lambda r: profile, running=_never)
    assert TRACKERS <= _names(profile)


def test_a_store_left_pending_by_a_crash_is_restored_as_possibly_done(profile, data_dir):
    plan = _plan([profile])
    outcome = deleting.apply(plan, data_dir, "clear", running=_never)
    journal = journals.Journal.load(data_dir, outcome.journal_id)
    (record,) = journal.stores
    # A crash after the store's change, before its "done" state reached the disk.
    path = journal.folder / f"store-{record.index:04d}.record.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["status"] = journals.PENDING
    path.write_text(json.dumps(doc), "utf-8")
    assert journals.newest_to_undo(data_dir).id == outcome.journal_id
    undone = deleting.undo(data_dir, lambda r: profile, running=_never)
    assert sorted(undone.restored) == sorted(outcome.deleted)
    assert TRACKERS <= _names(profile)
