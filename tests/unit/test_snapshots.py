"""Snapshots and diffs on copies of the demo profiles, changed between two snapshots."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import stat
from pathlib import Path

import pytest

from privacy_inspector.cli import main as cli
from privacy_inspector.core import demo, engine
from privacy_inspector.core import snapshots as snap
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy

CHROMIUM_OFFSET = 11_644_473_600 * 1_000_000  # µs from 1601 to 1970


@pytest.fixture
def classifier() -> Classifier:
    return Classifier(load_policy(None))


@pytest.fixture
def profiles(data_dir: Path):
    return demo.demo_profiles(data_dir)


def _cookies_db(data_dir: Path) -> Path:
    return data_dir / "demo" / "chromium" / "Default" / "Cookies"


def _change_demo(data_dir: Path) -> None:
    """Delete _gid, give _ga a new value, and move lo_domain's expiry a year on."""
    conn = sqlite3.connect(_cookies_db(data_dir))
    try:
        with conn:
            assert conn.execute("DELETE FROM cookies WHERE name = '_gid'").rowcount == 1
            assert conn.execute("UPDATE cookies SET value = 'GA1.2.55555.1800000000', "
                                "encrypted_value = x'' WHERE name = '_ga'").rowcount == 1
            assert conn.execute("UPDATE cookies SET expires_utc = expires_utc + ? "
                                "WHERE name = 'lo_domain'", (365 * 86400 * 10**6,)).rowcount == 1
    finally:
        conn.close()


def _ids(data_dir: Path, classifier: Classifier, profiles) -> dict[tuple[str, str, str], str]:
    """(engine, host, name) -> entry id."""
    result = engine.scan(profiles, classifier=classifier)
    return {(e.engine, e.host, e.name): e.id for e in result.entries}


def _files_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("snapshots.db*"))


# --- the store ----------------------------------------------------------------------

def test_no_value_is_stored_only_keyed_hashes(data_dir, profiles, classifier):
    result = engine.scan(profiles, show_values=True, classifier=classifier)
    values = {e.value for e in result.entries if e.value}
    assert len(values) >= 15
    info = snap.take(data_dir, result.entries, profiles, label="demo")
    assert info.count == len(result.entries) == 44

    loaded = snap.load(data_dir, "demo")
    # Text the snapshot keeps on purpose (names, hosts, explanations): a value
    # that happens to be a word of it ("dark") cannot be told apart.
    kept_text = json.dumps([i.to_dict() for i in loaded.items])
    checked = [v for v in values if v not in kept_text]
    assert len(checked) >= 15
    stored = _files_bytes(data_dir)
    assert stored
    leaked = [v for v in checked if v.encode() in stored]
    assert leaked == []

    key = snap.key_path(data_dir).read_bytes()
    by_id = {e.id: e for e in result.entries}
    for item in loaded.items:
        value = by_id[item.id].value
        if value is None:
            assert item.value_hash is None
            continue
        assert item.value_hash == snap.value_hash(key, value)
        # Keyed: not the plain hash of the value, which guesses could find.
        assert item.value_hash != hashlib.sha256(value.encode()).hexdigest()
        assert item.value_hash.encode() in stored
    # IndexedDB databases have no single value.
    assert {i.kind for i in loaded.items if i.value_hash is None} == {"indexed_db"}


def test_files_are_private_and_the_key_is_kept(data_dir, profiles, classifier):
    snap.take_now(data_dir, profiles, classifier)
    key = snap.key_path(data_dir).read_bytes()
    assert len(key) == 32
    for path in (snap.db_path(data_dir), snap.key_path(data_dir)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    snap.take_now(data_dir, profiles, classifier)
    assert snap.key_path(data_dir).read_bytes() == key
    conn = sqlite3.connect(snap.db_path(data_dir))
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == snap.SCHEMA_VERSION == 1
    finally:
        conn.close()


def test_hash_changes_with_the_value_only(data_dir, profiles, classifier):
    ids = _ids(data_dir, classifier, profiles)
    before = snap.take_now(data_dir, profiles, classifier, label="before")
    _change_demo(data_dir)
    after = snap.take_now(data_dir, profiles, classifier, label="after")
    a, b = snap.load(data_dir, before.id), snap.load(data_dir, "after")
    assert b.info.id == after.id
    assert (a.info.count, b.info.count) == (44, 43)

    ga = ids[("chromium", "liveops.com", "_ga")]
    gid = ids[("chromium", "liveops.com", "_gid")]
    lo_domain = ids[("chromium", "liveops.com", "lo_domain")]
    old = {i.id: i for i in a.items}
    new = {i.id: i for i in b.items}
    assert gid in old and gid not in new
    assert old[ga].value_hash != new[ga].value_hash
    same = [i for i in new if i != ga]
    assert all(old[i].value_hash == new[i].value_hash for i in same)

    d = snap.diff(a, b)
    assert [i.id for i in d.added] == []
    assert [i.id for i in d.removed] == [gid]
    changed = {c.id: c for c in d.changed}
    assert set(changed) == {ga, lo_domain}
    assert "value" in changed[ga].fields
    assert changed[lo_domain].fields == ("expires",)
    assert changed[lo_domain].expiry_extended
    assert not changed[ga].expiry_extended
    assert d.summary() == {"added": 0, "removed": 1, "changed": 2, "unchanged": 41}
    assert d.values_compared

    # Backwards: what was removed is added; the expiry moved back.
    back = snap.diff(b, a)
    assert [i.id for i in back.added] == [gid] and back.removed == ()
    assert {c.id: c.expiry_extended for c in back.changed} == {ga: False, lo_domain: False}

    groups = {g.title: g for g in d.by_organization()}
    assert set(groups) == {"Google", "LiveOps"}
    assert [i.name for i in groups["Google"].removed] == ["_gid"]
    assert [c.new.name for c in groups["Google"].changed] == ["_ga"]
    assert [c.new.name for c in groups["LiveOps"].changed] == ["lo_domain"]


def test_now_is_not_stored_and_equals_a_fresh_snapshot(data_dir, profiles, classifier):
    a = snap.take_now(data_dir, profiles, classifier, label="a")
    _change_demo(data_dir)
    now = snap.scan_now(data_dir, profiles, classifier)
    assert now.info.id is None and now.info.name == "now"
    assert [s.id for s in snap.list_snapshots(data_dir)] == [a.id]
    b = snap.take_now(data_dir, profiles, classifier, label="b")
    old = snap.load(data_dir, "a")
    assert snap.diff(old, now).summary() == snap.diff(old, snap.load(data_dir, b.id)).summary()
    assert sorted(now.items, key=lambda i: i.id) == sorted(snap.load(data_dir, "b").items,
                                                           key=lambda i: i.id)


def test_a_new_key_compares_without_values(data_dir, profiles, classifier):
    snap.take_now(data_dir, profiles, classifier, label="a")
    snap.key_path(data_dir).unlink()
    snap.take_now(data_dir, profiles, classifier, label="b")
    d = snap.diff(snap.load(data_dir, "a"), snap.load(data_dir, "b"))
    assert not d.values_compared
    assert d.changed == () and d.summary()["unchanged"] == 44
    # Compared as plain item lists, every value hash differs.
    a_items, b_items = snap.load(data_dir, "a").items, snap.load(data_dir, "b").items
    plain = snap.diff(a_items, b_items)
    assert len(plain.changed) == 40 and all(c.fields == ("value",) for c in plain.changed)


def test_labels_and_refs(data_dir, profiles, classifier):
    first = snap.take_now(data_dir, profiles, classifier, label=" before ")
    assert first.label == "before"
    second = snap.take_now(data_dir, profiles, classifier)
    assert second.label is None and second.id == first.id + 1
    for bad in ("before", "", "  ", "42"):
        with pytest.raises(snap.SnapshotError) as err:
            snap.take_now(data_dir, profiles, classifier, label=bad)
        assert err.value.code == "bad_label"
    assert [(s.id, s.label, s.count) for s in snap.list_snapshots(data_dir)] == [
        (first.id, "before", 44), (second.id, None, 44)]
    assert snap.load(data_dir, "before").info.id == first.id
    assert snap.load(data_dir, str(second.id)).info.id == second.id
    assert snap.load(data_dir, second.id).info.label is None
    for unknown in ("after", "99"):
        with pytest.raises(snap.SnapshotError, match="no snapshot") as err:
            snap.load(data_dir, unknown)
        assert err.value.code == "unknown"
    assert snap.delete(data_dir, "before").id == first.id
    assert [s.id for s in snap.list_snapshots(data_dir)] == [second.id]
    assert len(snap.load(data_dir, second.id).items) == 44
    with pytest.raises(snap.SnapshotError):
        snap.load(data_dir, "before")


def test_nothing_taken_yet(data_dir):
    assert snap.list_snapshots(data_dir) == []
    assert not snap.db_path(data_dir).exists()
    with pytest.raises(snap.SnapshotError) as err:
        snap.load(data_dir, "1")
    assert err.value.code == "unknown"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "newer"])
def test_damaged_or_unknown_database_is_refused(data_dir, profiles, classifier, damage, capsys):
    snap.take_now(data_dir, profiles, classifier, label="a")
    path = snap.db_path(data_dir)
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1500])
    elif damage == "foreign":
        path.unlink()
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE snapshots (x)")
        conn.commit()
        conn.close()
    else:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA user_version = 99")
        conn.commit()
        conn.close()
    original = path.read_bytes()
    expected = "newer_schema" if damage == "newer" else "corrupt"
    for call in (lambda: snap.list_snapshots(data_dir), lambda: snap.load(data_dir, "a"),
                 lambda: snap.take_now(data_dir, profiles, classifier)):
        with pytest.raises(snap.SnapshotError) as err:
            call()
        assert err.value.code == expected
        assert str(path) in str(err.value)
    assert path.read_bytes() == original  # left as it was

    capsys.readouterr()
    for argv in (["snapshot", "--list"], ["snapshot", "--demo"], ["diff", "a"]):
        assert cli.main([*argv, "--data-dir", str(data_dir)]) == 1
        err_text = capsys.readouterr().err
        assert "error:" in err_text and "Traceback" not in err_text
        assert ("newer version" if damage == "newer" else "snapshot database") in err_text


def test_values_never_logged(data_dir, profiles, classifier, caplog):
    values = {e.value for e in engine.scan(profiles, show_values=True).entries if e.value}
    with caplog.at_level(logging.DEBUG):
        snap.take_now(data_dir, profiles, classifier, label="a")
        snap.diff(snap.load(data_dir, "a"), snap.scan_now(data_dir, profiles, classifier))
    logged = caplog.text
    assert not [v for v in values if len(v) > 5 and v in logged]


# --- the command line ---------------------------------------------------------------

def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_snapshot_and_diff_json(data_dir, capsys):
    dd = ("--data-dir", str(data_dir))
    code, out, err = _run(capsys, "snapshot", "--demo", "--label", "before", *dd)
    assert code == 0, err
    assert out.strip() == 'Snapshot 1 "before" recorded: 44 entries in 2 profiles'

    _change_demo(data_dir)
    code, out, err = _run(capsys, "snapshot", "--demo", *dd, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"id", "label", "created", "entries", "errors"}
    assert (doc["id"], doc["label"], doc["entries"], doc["errors"]) == (2, None, 43, [])
    assert doc["created"].endswith("Z")

    code, out, err = _run(capsys, "snapshot", "--list", *dd, "--format", "json")
    assert code == 0
    assert [(s["id"], s["label"], s["entries"]) for s in json.loads(out)["snapshots"]] == [
        (1, "before", 44), (2, None, 43)]

    code, out, err = _run(capsys, "diff", "before", "2", *dd, "--format", "json")
    assert code == 0, err
    ab = json.loads(out)
    assert set(ab) >= {"a", "b", "added", "removed", "changed", "summary"}
    assert (ab["a"]["id"], ab["a"]["label"], ab["b"]["id"]) == (1, "before", 2)
    assert ab["summary"] == {"added": 0, "removed": 1, "changed": 2, "unchanged": 41,
                             "values_compared": True}
    assert [r["name"] for r in ab["removed"]] == ["_gid"]
    assert ab["removed"][0]["organization"] == "Google"
    assert ab["removed"][0]["purpose"]
    changed = {c["name"]: c for c in ab["changed"]}
    assert set(changed) == {"_ga", "lo_domain"}
    assert changed["lo_domain"]["fields"] == ["expires"]
    assert changed["lo_domain"]["expiry_extended"] is True
    assert "value" in changed["_ga"]["fields"]
    assert all("value_hash" not in r and "value" not in r for r in ab["removed"])
    assert "value" not in changed["_ga"]["before"]
    groups = {g["organization"]: g for g in ab["by_organization"]}
    assert groups["Google"]["removed"] == [ab["removed"][0]["id"]]

    # Against now: without --demo, the profiles snapshot "before" recorded.
    code, out, err = _run(capsys, "diff", "before", *dd, "--format", "json")
    assert code == 0, err
    now = json.loads(out)
    assert now["b"] == "now"
    for field in ("added", "removed", "changed", "summary", "by_organization"):
        assert now[field] == ab[field], field

    code, out, err = _run(capsys, "diff", "1", "before", *dd)
    assert code == 0
    assert "0 added, 0 removed, 0 changed, 44 unchanged" in out

    code, out, err = _run(capsys, "diff", "before", *dd)
    assert code == 0
    assert "\nGoogle\n" in out and "\nLiveOps\n" in out
    assert "  - cookie          _gid @ liveops.com \u2014 " in out
    assert "lo_domain @ liveops.com: set again, expires later" in out
    assert "0 added, 1 removed, 2 changed, 41 unchanged" in out


def test_cli_exit_codes(data_dir, tmp_path, capsys):
    dd = ("--data-dir", str(data_dir))
    assert _run(capsys, "snapshot", "--list", *dd)[0] == 0
    code, out, err = _run(capsys, "diff", "nothing", *dd)
    assert code == 1 and "no snapshot 'nothing'" in err
    assert _run(capsys, "snapshot", "--demo", "--label", "a", *dd)[0] == 0
    code, out, err = _run(capsys, "snapshot", "--demo", "--label", "a", *dd)
    assert code == 2 and "already labelled 'a'" in err
    assert _run(capsys, "snapshot", "--demo", "--label", "7", *dd)[0] == 2
    assert _run(capsys, "diff", "a", "b", *dd)[0] == 1
    with pytest.raises(SystemExit) as exit_:
        cli.main(["diff", *dd])
    assert exit_.value.code == 2
    capsys.readouterr()

    # A profile that cannot be read: recorded anyway, said on stderr and in JSON, exit 1.
    missing = tmp_path / "no-such-profile"
    code, out, err = _run(capsys, "snapshot", "--demo", "--profile", str(missing), *dd,
                          "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["entries"] == 44
    assert [e["profile"] for e in doc["errors"]] == [str(missing)]
    assert f"error: {missing}" in err
    code, out, err = _run(capsys, "diff", "a", "--demo", "--profile", str(missing), *dd,
                          "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["summary"]["unchanged"] == 44 and doc["added"] == doc["removed"] == []
    assert [e["profile"] for e in doc["errors"]] == [str(missing)]
    assert f"error: {missing}" in err
