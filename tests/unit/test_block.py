"""``block``, ``unblock`` and ``blocks`` through the CLI, on the demo profiles.

The demo's Chromium ``Preferences`` and Firefox profile were written by the
real browsers (tests/harness/make_demo_profiles.py); the real-browser tests
(tests/real/test_real_*_block.py) prove that the browsers obey the rules.
Here: the contract's fields and exit codes, the app's record of its own
rules, and that the user's rules are left alone or put back.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
from pathlib import Path

import pytest

from privacy_inspector.actions import block as blocking
from privacy_inspector.browsers import chromium_prefs, firefox_permissions
from privacy_inspector.cli import main as cli

TRACKER = "doubleclick.net"


@pytest.fixture
def demo(data_dir: Path, capsys) -> dict[str, Path]:
    assert cli.main(["profiles", "--demo", "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    return {"chromium": data_dir / "demo" / "chromium" / "Default",
            "firefox": data_dir / "demo" / "firefox" / "demo.default-release"}


def _cli(capsys, data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main([*args, "--demo", "--data-dir", str(data_dir)])
    out = capsys.readouterr()
    return code, out.out, out.err


def _blocks(capsys, data_dir: Path) -> list[dict]:
    code, out, err = _cli(capsys, data_dir, "blocks", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["errors"] == []
    return doc["rules"]


def _modes(rules: list[dict], domain: str = TRACKER) -> dict[tuple[str, str], str]:
    return {(r["browser"], r["pattern"]): (r["mode"], r["source"]) for r in rules
            if r["domain"] == domain}


def _perm_rows(profile: Path) -> list[tuple]:
    conn = sqlite3.connect(profile / firefox_permissions.FILE)
    try:
        return conn.execute("SELECT * FROM moz_perms ORDER BY id").fetchall()
    finally:
        conn.close()


def test_block_then_blocks_then_unblock(capsys, data_dir, demo):
    prefs = (demo["chromium"] / "Preferences").read_bytes()
    code, out, err = _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes",
                          "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"journal_id", "rules", "kept", "refused", "errors"}
    assert sorted((r["browser"], r["domain"], r["mode"]) for r in doc["rules"]) == [
        ("chromium", TRACKER, "block"), ("firefox", TRACKER, "block")]
    rules = _blocks(capsys, data_dir)
    assert set(rules[0]) == {"profile", "browser", "domain", "pattern", "mode", "source"}
    assert _modes(rules) == {
        ("chromium", "[*.]doubleclick.net,*"): ("block", "app"),
        ("firefox", "http://doubleclick.net"): ("block", "app"),
        ("firefox", "https://doubleclick.net"): ("block", "app"),
    }
    record = data_dir / blocking.RECORD
    assert stat.S_IMODE(record.stat().st_mode) == 0o600

    code, out, err = _cli(capsys, data_dir, "unblock", "--domain", TRACKER, "--yes")
    assert code == 0, err
    assert _blocks(capsys, data_dir) == []
    # Blocking and unblocking gave Chromium back its file byte for byte.
    assert (demo["chromium"] / "Preferences").read_bytes() == prefs


def test_a_rule_the_user_made_is_replaced_then_put_back(capsys, data_dir, demo):
    firefox_permissions.write_cookie_rules(demo["firefox"], {TRACKER: "allow"})
    chromium_prefs.write_cookie_rules(demo["chromium"], {TRACKER: "session"})
    prefs = (demo["chromium"] / "Preferences").read_bytes()
    perms = _perm_rows(demo["firefox"])
    assert {v for v in _modes(_blocks(capsys, data_dir)).values()} == {("allow", "user"),
                                                                       ("session", "user")}
    code, out, err = _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes")
    assert code == 0, err
    assert "replaces a rule made in the browser" in out
    assert {v for v in _modes(_blocks(capsys, data_dir)).values()} == {("block", "app")}
    # A second block of our own rule keeps what the user had before the first.
    assert _cli(capsys, data_dir, "block", "--domain", TRACKER, "--mode", "session",
                "--yes")[0] == 0
    assert _cli(capsys, data_dir, "unblock", "--domain", TRACKER, "--yes")[0] == 0
    assert (demo["chromium"] / "Preferences").read_bytes() == prefs
    assert _perm_rows(demo["firefox"]) == perms  # ids and times too
    assert {v for v in _modes(_blocks(capsys, data_dir)).values()} == {("allow", "user"),
                                                                       ("session", "user")}


def test_unblock_leaves_the_users_rules_alone(capsys, data_dir, demo):
    firefox_permissions.write_cookie_rules(demo["firefox"], {TRACKER: "block"})
    code, out, err = _cli(capsys, data_dir, "unblock", "--domain", TRACKER, "--yes",
                          "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rules"] == []
    assert [s["note"] for s in doc["skipped"]] == ["a rule made in the browser, not by the app"]
    assert {r.mode for r in firefox_permissions.read_cookie_rules(demo["firefox"])} == {"block"}


def test_a_rule_changed_in_the_browser_is_the_users(capsys, data_dir, demo):
    assert _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes")[0] == 0
    chromium_prefs.write_cookie_rules(demo["chromium"], {TRACKER: "allow"})  # the user, later
    rules = _modes(_blocks(capsys, data_dir))
    assert rules[("chromium", "[*.]doubleclick.net,*")] == ("allow", "user")
    assert rules[("firefox", "https://doubleclick.net")] == ("block", "app")
    code, out, err = _cli(capsys, data_dir, "unblock", "--domain", TRACKER, "--yes")
    assert code == 0, err
    assert "changed in the browser since the app wrote it" in out
    assert _modes(_blocks(capsys, data_dir)) == {("chromium", "[*.]doubleclick.net,*"):
                                                 ("allow", "user")}


@pytest.mark.parametrize("args, message", [
    (("--domain", "co.uk"), "is a public suffix"),
    (("--domain", "com"), "is a public suffix"),
    (("--domain", "127.0.0.1"), "not a domain name"),
    (("--organization", "No Such Company Ltd"), "no organisation"),
    ((), "needs --domain or --organization"),
])
def test_bad_targets_are_usage_errors_and_change_nothing(capsys, data_dir, demo, args, message):
    code, out, err = _cli(capsys, data_dir, "block", *args, "--yes")
    assert code == 2 and message in err and "Traceback" not in err
    assert not (data_dir / blocking.RECORD).exists()
    assert _blocks(capsys, data_dir) == []


def test_without_a_terminal_or_yes_nothing_is_written(capsys, data_dir, demo):
    code, out, err = _cli(capsys, data_dir, "block", "--domain", TRACKER)
    assert code == 2 and "add --yes" in err and "Plan: rule 'block'" in out
    assert _blocks(capsys, data_dir) == []


def test_a_running_browser_refuses_everywhere(capsys, data_dir, demo):
    lock = demo["chromium"].parent / "SingletonLock"
    os.symlink(f"{socket.gethostname()}-{os.getpid()}", lock)  # this live process
    code, out, err = _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes",
                          "--format", "json")
    assert code == 3
    (refusal,) = json.loads(out)["refused"]
    assert refusal["profile"] == str(demo["chromium"]) and "is running" in refusal["reason"]
    assert _blocks(capsys, data_dir) == []  # Firefox was not written either


def test_organization_lists_sign_in_sites_and_can_skip_them(capsys, data_dir, demo):
    code, out, err = _cli(capsys, data_dir, "block", "--organization", "Google", "--dry-run",
                          "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert {"google.com", "youtube.com"} <= set(doc["sign_in"])
    planned = {p["domain"] for p in doc["planned"]}
    assert {"doubleclick.net", "google-analytics.com", "google.com"} <= planned
    assert "appspot.com" not in planned and "appspot.com" in err  # a public suffix, said
    code, out, err = _cli(capsys, data_dir, "block", "--organization", "google", "--yes",
                          "--skip-sign-in", "--format", "json")
    assert code == 0, err
    written = {r["domain"] for r in json.loads(out)["rules"]}
    assert "doubleclick.net" in written and not written & {"google.com", "youtube.com"}
    code, _, err = _cli(capsys, data_dir, "block", "--organization", "Google", "--yes")
    assert code == 0 and "warning: blocking sites people sign in to" in err


def test_a_damaged_preferences_file_is_an_error_and_firefox_still_gets_its_rule(capsys, data_dir,
                                                                                demo):
    (demo["chromium"] / "Preferences").write_bytes(b'{"profile": {')
    code, out, err = _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes",
                          "--format", "json")
    assert code == 1
    doc = json.loads(out)
    (error,) = doc["errors"]
    assert error["profile"] == str(demo["chromium"]) and error["store"] == "Preferences"
    assert [r["browser"] for r in doc["rules"]] == ["firefox"]
    assert (demo["chromium"] / "Preferences").read_bytes() == b'{"profile": {'
    assert "Traceback" not in err


def test_a_damaged_record_refuses(capsys, data_dir, demo):
    (data_dir / blocking.RECORD).write_text("{oops", "utf-8")
    code, out, err = _cli(capsys, data_dir, "unblock", "--domain", TRACKER, "--yes")
    assert code == 3 and "is damaged" in err
    assert (data_dir / blocking.RECORD).read_text("utf-8") == "{oops"


@pytest.mark.parametrize("fmt", ["firefox-policy", "chrome-policy", "filter-list", "hosts"])
def test_export_from_the_rules_in_force(capsys, data_dir, demo, tmp_path, fmt):
    assert _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes")[0] == 0
    assert _cli(capsys, data_dir, "block", "--domain", "facebook.net", "--mode", "session",
                "--yes")[0] == 0
    target = tmp_path / "out"
    code, out, err = _cli(capsys, data_dir, "block", "--export", fmt, "--output", str(target))
    assert code == 0, err
    text = target.read_text("utf-8")
    assert TRACKER in text and "facebook.net" in text
    code, out, _ = _cli(capsys, data_dir, "block", "--export", fmt, "--output", "-")
    assert code == 0 and out == text


def test_export_needs_an_output(capsys, data_dir, demo):
    code, _, err = _cli(capsys, data_dir, "block", "--export", "hosts", "--domain", TRACKER)
    assert code == 2 and "--output" in err


def test_rule_for_host_takes_the_nearest_domain():
    from privacy_inspector.browsers.cookie_rules import CookieRule

    rules = [CookieRule("a", "example.com", "block", None),
             CookieRule("b", "news.example.com", "allow", None)]
    assert blocking.rule_for_host("www.news.example.com", rules).mode == "allow"
    assert blocking.rule_for_host("example.com", rules).mode == "block"
    assert blocking.rule_for_host("notexample.com", rules) is None


def test_block_can_wait_for_the_browser(capsys, data_dir, demo):
    import subprocess
    import sys
    import threading

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    os.symlink(f"{socket.gethostname()}-{proc.pid}", demo["chromium"].parent / "SingletonLock")
    closer = threading.Timer(1.0, proc.kill)
    closer.start()
    try:
        code, out, err = _cli(capsys, data_dir, "block", "--domain", TRACKER, "--yes", "--wait",
                              "30")
    finally:
        closer.cancel()
        proc.kill()
        proc.wait()
    assert code == 0, err
    assert "Waiting up to 30 s for chromium" in err
    assert {v for v in _modes(_blocks(capsys, data_dir)).values()} == {("block", "app")}
