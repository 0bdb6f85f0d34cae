"""The live watch on hand-changed copies of the demo profiles.

A writer changes ``Default/Cookies`` of the demo's Chromium profile in WAL
mode, as a browser would, with a connection kept open and automatic
checkpoints off, so the committed rows live only in the ``-wal`` file.
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from privacy_inspector.cli import main as cli_main
from privacy_inspector.core import watch
from privacy_inspector.core.demo import demo_profiles
from privacy_inspector.core.records import Profile

SECRET = "s3cr3t-value-0f-the-watch-test"
OTHER_SECRET = "an0ther-s3cr3t-value-of-the-test"


@pytest.fixture
def profiles(data_dir: Path) -> list[Profile]:
    return demo_profiles(data_dir)


def _chromium(profiles: list[Profile]) -> Profile:
    return next(p for p in profiles if p.engine == "chromium")


class Writer:
    """A browser-like writer: WAL mode, one connection kept open, no checkpoints."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.conn = sqlite3.connect(db, isolation_level=None, timeout=0, check_same_thread=False)
        assert self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self.conn.row_factory = sqlite3.Row
        self.template = dict(self.conn.execute(
            "SELECT * FROM cookies WHERE host_key = '.doubleclick.net' AND name = 'IDE'").fetchone())

    def insert(self, name: str, value: str = SECRET, commit: bool = True) -> None:
        row = {**self.template, "name": name, "value": value, "encrypted_value": b"",
               "host_key": ".watch-test.example"}
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        if commit:
            self.conn.execute(f"INSERT INTO cookies ({cols}) VALUES ({marks})", list(row.values()))
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(f"INSERT INTO cookies ({cols}) VALUES ({marks})", list(row.values()))

    def execute(self, sql: str, *params) -> None:
        self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def writer(profiles):
    w = Writer(_chromium(profiles).path / "Cookies")
    yield w
    w.close()


def _cookie_watcher(profiles, **kw) -> watch.Watcher:
    watcher = watch.Watcher([_chromium(profiles)], kinds=("cookie",), **kw)
    assert watcher.baseline() == []
    return watcher


def _events(changes):
    return [(c.kind, c.entry.name) for c in changes if c.entry is not None]


def test_added_from_committed_wal_without_checkpoint(profiles, writer):
    watcher = _cookie_watcher(profiles)
    assert watcher.poll() == []
    writer.insert("wt_added")
    wal = Path(f"{writer.db}-wal")
    assert wal.stat().st_size > 0  # the row is only in the WAL
    changes = watcher.poll()
    assert _events(changes) == [("added", "wt_added")]
    added = changes[0].entry
    assert added.host == "watch-test.example" and added.kind == "cookie"
    assert added.value is None
    assert changes[0].at.endswith("Z")
    assert watcher.poll() == []  # nothing new: no event again


def test_uncommitted_rows_are_not_reported_until_committed(profiles, writer):
    watcher = _cookie_watcher(profiles)
    writer.insert("wt_pending", commit=False)
    assert watcher.poll() == []
    writer.execute("COMMIT")
    assert _events(watcher.poll()) == [("added", "wt_pending")]


def test_changed_names_the_fields_and_removed(profiles, writer):
    writer.insert("wt_change")
    watcher = _cookie_watcher(profiles)
    writer.execute("UPDATE cookies SET value = ? WHERE name = 'wt_change'", OTHER_SECRET + "x")
    changes = watcher.poll()
    assert _events(changes) == [("changed", "wt_change")]
    assert set(changes[0].fields_changed) == {"value", "size"}
    writer.execute("UPDATE cookies SET expires_utc = expires_utc + 86400000000 "
                   "WHERE name = 'wt_change'")
    changes = watcher.poll()
    assert _events(changes) == [("changed", "wt_change")]
    assert changes[0].fields_changed == ("expires",)
    # The same length, another value: only the hash can tell.
    writer.execute("UPDATE cookies SET value = ? WHERE name = 'wt_change'", OTHER_SECRET + "y")
    assert [c.fields_changed for c in watcher.poll()] == [("value",)]
    writer.execute("DELETE FROM cookies WHERE name = 'wt_change'")
    assert _events(watcher.poll()) == [("removed", "wt_change")]


def test_an_untouched_file_is_not_read_again(profiles, writer, monkeypatch):
    watcher = _cookie_watcher(profiles)
    reads = []
    original = watch.engine.scan_profile
    monkeypatch.setattr(watch.engine, "scan_profile",
                        lambda *a, **k: reads.append(a[1]) or original(*a, **k))
    for _ in range(3):
        assert watcher.poll() == []
    assert reads == []
    writer.insert("wt_read")
    watcher.poll()
    assert reads == [["cookie"]]


def test_only_the_changed_kind_is_read(profiles, monkeypatch):
    watcher = watch.Watcher(profiles)
    watcher.baseline()
    reads = []
    original = watch.engine.scan_profile
    monkeypatch.setattr(watch.engine, "scan_profile",
                        lambda *a, **k: reads.append((a[0].engine, tuple(a[1])))
                        or original(*a, **k))
    writer = Writer(_chromium(profiles).path / "Cookies")
    try:
        writer.insert("wt_kind")
    finally:
        writer.close()
    assert _events(watcher.poll()) == [("added", "wt_kind")]
    assert reads == [("chromium", ("cookie",))]


def test_no_value_is_kept_or_shown(profiles, writer):
    watcher = _cookie_watcher(profiles)
    writer.insert("wt_secret", SECRET)
    changes = watcher.poll()
    assert _events(changes) == [("added", "wt_secret")]
    assert all(e.value is None for e in watcher.entries())
    assert SECRET not in repr(watcher.__dict__)
    assert SECRET not in json.dumps([c.to_dict() for c in changes])


def test_the_watcher_never_blocks_a_writer(profiles, writer):
    watcher = _cookie_watcher(profiles)
    stop = threading.Event()
    polled = []

    def poll_forever():
        while not stop.is_set():
            polled.extend(watcher.poll())

    thread = threading.Thread(target=poll_forever)
    thread.start()
    try:
        for i in range(40):
            # timeout=0: any lock the watcher held would fail this at once.
            writer.execute("BEGIN IMMEDIATE")
            writer.insert(f"wt_lock_{i}")
            writer.execute("COMMIT")
            time.sleep(0.005)
    finally:
        stop.set()
        thread.join()
    polled.extend(watcher.poll())
    assert sorted(n for k, n in _events(polled) if k == "added") == sorted(
        f"wt_lock_{i}" for i in range(40))


def test_run_stops_after_count(profiles, writer):
    watcher = _cookie_watcher(profiles, interval=0.05)
    timer = threading.Timer(0.3, lambda: (writer.insert("wt_c1"), writer.insert("wt_c2")))
    seen = []
    timer.start()
    t0 = time.monotonic()
    try:
        n = watcher.run(seen.append, timeout=20, count=1)
    finally:
        timer.join()
    assert n == 1 and len(seen) == 1
    assert time.monotonic() - t0 < 10


def test_run_stops_on_timeout_and_on_request(profiles):
    watcher = _cookie_watcher(profiles, interval=0.05)
    t0 = time.monotonic()
    assert watcher.run(lambda c: None, timeout=0.4) == 0
    assert 0.35 <= time.monotonic() - t0 < 3
    calls = []
    t0 = time.monotonic()
    watcher.run(lambda c: None, should_stop=lambda: len(calls) > 3 or calls.append(1) and False)
    assert time.monotonic() - t0 < 3 and len(calls) == 4


def test_a_broken_store_is_an_error_not_a_removal(profiles, writer):
    chromium = _chromium(profiles)
    firefox = next(p for p in profiles if p.engine == "firefox")
    watcher = watch.Watcher([chromium, firefox], kinds=("cookie",))
    assert watcher.baseline() == []
    writer.close()
    db = chromium.path / "Cookies"
    Path(f"{db}-wal").unlink(missing_ok=True)
    good = db.read_bytes()
    db.write_bytes(b"not a database at all" * 100)
    changes = watcher.poll()
    assert [c.kind for c in changes] == ["error"]
    assert changes[0].error.store == "Cookies"
    # The Firefox profile is still followed.
    conn = sqlite3.connect(firefox.path / "cookies.sqlite")
    with conn:
        conn.execute("DELETE FROM moz_cookies WHERE rowid = (SELECT min(rowid) FROM moz_cookies)")
    conn.close()
    assert [c.kind for c in watcher.poll()] == ["removed"]
    # Back in order: nothing was lost in between, so no event.
    db.write_bytes(good)
    assert watcher.poll() == []


def test_unreadable_profile(tmp_path, profiles):
    broken = Profile(tmp_path / "nowhere", "chromium", "chromium", "x", problem="cannot read it")
    watcher = watch.Watcher([broken, _chromium(profiles)], kinds=("cookie",))
    errors = watcher.baseline()
    assert [e.message for e in errors] == ["cannot read it"]
    assert watcher.unreadable() == [broken]


def test_notices_per_engine(profiles):
    texts = watch.notices(profiles)
    assert len(texts) == 2
    assert "30 seconds" in texts[0] and "Chromium" in texts[0]
    assert "5 seconds" in texts[1] and "Firefox" in texts[1]
    assert watch.notices([_chromium(profiles)]) == texts[:1]


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli_main.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("fmt", ["jsonl", "table", "csv"])
def test_cli_prints_one_line_per_change(data_dir, profiles, fmt):
    db = _chromium(profiles).path / "Cookies"

    def change():
        w = Writer(db)
        w.insert("wt_cli", SECRET)
        w.execute("UPDATE cookies SET value = ?, encrypted_value = x'' WHERE name = 'IDE'",
                  OTHER_SECRET)
        w.close()

    timer = threading.Timer(1.0, change)
    timer.start()
    try:
        code, out, err = _run_cli(["watch", "--demo", "--data-dir", str(data_dir), "--format", fmt,
                                   "--timeout", "30", "--count", "2", "--interval", "0.1"])
    finally:
        timer.join()
    assert code == 0
    assert SECRET not in out + err and OTHER_SECRET not in out + err
    assert "Chromium keeps new cookies in memory" in err
    lines = out.splitlines()
    if fmt == "jsonl":
        events = [json.loads(line) for line in lines]
        assert {(e["event"], e["entry"]["name"]) for e in events} == {("added", "wt_cli"),
                                                                      ("changed", "IDE")}
        ide = next(e for e in events if e["event"] == "changed")
        assert "value" in ide["fields"] and ide["entry"]["value"] is None
        assert ide["entry"]["organization"] == "Google" and ide["at"].endswith("Z")
    elif fmt == "table":
        assert len(lines) == 2
        assert any(" added    cookie   wt_cli @ .watch-test.example" in line for line in lines)
        ide = next(line for line in lines if " IDE @ " in line)
        assert "changed  cookie   IDE @ .doubleclick.net  (Google, advertising)" in ide
    else:
        assert lines[0].startswith("event,at,fields,message,id,")
        assert len(lines) == 3


def test_cli_exits_1_when_the_profile_cannot_be_read(data_dir, tmp_path):
    code, out, err = _run_cli(["watch", "--profile", str(tmp_path / "missing"),
                               "--data-dir", str(data_dir), "--format", "jsonl", "--timeout", "5"])
    assert code == 1
    (line,) = out.splitlines()
    assert json.loads(line)["event"] == "error"


def test_cli_ctrl_c_exits_0(data_dir, profiles, monkeypatch):
    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(watch.Watcher, "run", interrupted)
    code, out, err = _run_cli(["watch", "--demo", "--data-dir", str(data_dir)])
    assert code == 0 and "Traceback" not in err


def test_a_read_during_a_write_is_done_again(profiles, writer, monkeypatch):
    watcher = _cookie_watcher(profiles)
    original = watch.engine.scan_profile
    writes = iter(["wt_during_1", "wt_during_2"])

    def scan_while_writing(*a, **k):
        result = original(*a, **k)
        name = next(writes, None)
        if name:
            writer.insert(name)  # the browser wrote while the watcher read
        return result

    monkeypatch.setattr(watch.engine, "scan_profile", scan_while_writing)
    writer.insert("wt_before")
    assert watcher.poll() == []  # read, but set aside: the file changed meanwhile
    assert watcher.poll() == []
    # Not forever: the third read in a row is reported even though it changed again.
    writes = iter(["wt_during_3"])
    assert sorted(_events(watcher.poll())) == [("added", "wt_before"), ("added", "wt_during_1"),
                                               ("added", "wt_during_2")]
    assert _events(watcher.poll()) == [("added", "wt_during_3")]


def test_cli_sigint_exits_0_without_traceback(data_dir):
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "privacy_inspector", "watch", "--demo", "--data-dir", str(data_dir),
         "--timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        end = time.monotonic() + 30
        line = ""
        while "watching" not in line and time.monotonic() < end:
            line = proc.stderr.readline()
        assert "watching 2 profile(s)" in line
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err and out == ""
