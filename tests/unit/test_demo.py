"""The bundled demo profiles: used through a private copy, never modified in place."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat

from privacy_inspector import bundled
from privacy_inspector.cli import main as cli
from privacy_inspector.core import demo


def _digest_tree() -> dict[str, str]:
    root = bundled.path("demo")
    digests = {}

    def walk(node, prefix=""):
        for child in node.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, name + "/")
            else:
                digests[name] = hashlib.sha256(child.read_bytes()).hexdigest()

    walk(root)
    return digests


def test_the_demo_was_written_by_real_browsers():
    root = bundled.path("demo")
    with sqlite3.connect(f"file:{root / 'chromium/Default/Cookies'}?mode=ro", uri=True) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='version'").fetchone() == ("24",)
    with sqlite3.connect(f"file:{root / 'firefox/demo.default-release/cookies.sqlite'}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (17,)
    total = 0

    def walk(node):
        nonlocal total
        for child in node.iterdir():
            if child.is_dir():
                walk(child)
            else:
                total += len(child.read_bytes())

    walk(root)
    assert total < 2 * 1024 * 1024


def test_scan_demo_uses_a_private_copy_and_keeps_ids_across_runs(capsys, data_dir):
    shipped = _digest_tree()
    assert cli.main(["scan", "--demo", "--format", "json", "--data-dir", str(data_dir)]) == 0
    first = json.loads(capsys.readouterr().out)
    copy = data_dir / "demo"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o700
    assert stat.S_IMODE((copy / "chromium" / "Default" / "Cookies").stat().st_mode) == 0o600
    assert {p["browser"] for p in first["profiles"]} == {"chromium", "firefox"}
    assert all(p["path"].startswith(str(copy)) for p in first["profiles"])
    names = {(e["browser"], e["name"]) for e in first["entries"]}
    assert {("chromium", "_ga"), ("firefox", "_ga"), ("chromium", "dc_chips"), ("firefox", "lo_session")} <= names
    assert first["errors"] == []
    # The copy is reused: a change to it is seen by the next run ...
    (copy / "firefox" / "demo.default-release" / "sessionstore.jsonlz4").unlink()
    assert cli.main(["scan", "--demo", "--format", "json", "--data-dir", str(data_dir)]) == 0
    second = json.loads(capsys.readouterr().out)
    assert ("firefox", "lo_session") not in {(e["browser"], e["name"]) for e in second["entries"]}
    # ... until --demo-reset copies the demo afresh, with the same ids.
    assert cli.main(["scan", "--demo-reset", "--format", "json", "--data-dir", str(data_dir)]) == 0
    third = json.loads(capsys.readouterr().out)
    assert sorted(e["id"] for e in third["entries"]) == sorted(e["id"] for e in first["entries"])
    assert _digest_tree() == shipped


def test_demo_profiles_are_named_as_demo(data_dir):
    profiles = demo.demo_profiles(data_dir)
    assert sorted((p.browser, p.engine) for p in profiles) == [("chromium", "chromium"), ("firefox", "firefox")]
    assert all(p.name.startswith("Demo ") for p in profiles)
