"""The command line against the contract (shared/contract/cli.md) on hand-built profiles."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from privacy_inspector.cli import main as cli
from tests.fixtures.cookie_dbs import chromium_cookies_db, firefox_cookies_db

CONTRACT_FIELDS = {
    "id", "browser", "engine", "profile", "kind", "host", "domain_cookie", "origin", "site",
    "partition_site", "container", "name", "path", "persistent", "expires", "secure",
    "http_only", "same_site", "size", "value", "value_state", "stale", "organization",
    "service", "party", "on_owner_site", "category", "tracker", "identifier_like", "purpose",
    "policy_clauses",
}
EXPIRES = 1_900_000_000


@pytest.fixture
def profiles(tmp_path):
    """A Chromium user-data folder with one profile and a Firefox profile, both with cookies."""
    root = tmp_path / "chromium"
    (root / "Default").mkdir(parents=True)
    (root / "Local State").write_text(json.dumps({"profile": {"info_cache": {"Default": {"name": "Me"}}}}))
    chromium_cookies_db(root / "Default" / "Cookies", [
        {"host": ".liveops.com", "name": "_ga", "value": "GA1.2.3.4", "expires": EXPIRES},
        {"host": "ad.doubleclick.net", "name": "IDE", "value": "x", "expires": EXPIRES,
         "partition": "https://liveops.com", "secure": True, "same_site": "none"},
    ])
    ff = tmp_path / "firefox" / "abcd.default"
    firefox_cookies_db(ff / "cookies.sqlite", [
        {"host": "www.liveops.com", "name": "pref", "value": "dark", "expires": EXPIRES},
    ])
    return root, ff


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_json_has_every_contract_field(capsys, profiles, data_dir):
    root, ff = profiles
    code, out, err = run(capsys, "scan", "--profile", str(root), "--profile", str(ff),
                         "--format", "json", "--data-dir", str(data_dir))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert set(doc) == {"profiles", "entries", "errors"}
    assert doc["errors"] == []
    assert [(p["browser"], p["engine"], p["name"], p["running"]) for p in doc["profiles"]] == [
        ("chromium", "chromium", "Me", False), ("firefox", "firefox", "abcd.default", False)]
    assert doc["profiles"][0]["path"] == str(root / "Default")
    assert len(doc["entries"]) == 3
    for entry in doc["entries"]:
        assert CONTRACT_FIELDS <= set(entry), CONTRACT_FIELDS - set(entry)
        assert entry["value"] is None
        # Classified against the bundled LiveOps policy.
        assert entry["party"] in ("first_party", "third_party", "unrelated")
        assert isinstance(entry["policy_clauses"], list)
    ide = next(e for e in doc["entries"] if e["name"] == "IDE")
    assert (ide["partition_site"], ide["same_site"], ide["secure"]) == ("liveops.com", "none", True)
    assert (ide["organization"], ide["category"], ide["party"], ide["tracker"]) == (
        "Google", "advertising", "third_party", True)
    assert "interest-based-ads" in ide["policy_clauses"]
    assert ide["profile"] == str(root / "Default")


def test_global_options_before_or_after_the_sub_command(capsys, profiles, data_dir):
    root, _ = profiles
    before = run(capsys, "--format", "jsonl", "--profile", str(root), "--data-dir", str(data_dir), "scan")
    after = run(capsys, "scan", "--format", "jsonl", "--profile", str(root), "--data-dir", str(data_dir))
    assert before == after
    assert before[0] == 0
    assert len(before[1].splitlines()) == 2


def test_values_only_with_show_values(capsys, profiles, data_dir, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    root, ff = profiles
    code, out, _ = run(capsys, "scan", "--profile", str(root), "--profile", str(ff), "--format", "jsonl",
                       "--data-dir", str(data_dir))
    assert "GA1.2.3.4" not in out and "dark" not in out
    code, out, _ = run(capsys, "scan", "--profile", str(root), "--profile", str(ff), "--format", "jsonl",
                       "--show-values", "--data-dir", str(data_dir))
    values = {json.loads(line)["name"]: json.loads(line)["value"] for line in out.splitlines()}
    assert values == {"_ga": "GA1.2.3.4", "IDE": "x", "pref": "dark"}


def test_table_masks_values(capsys, profiles, data_dir):
    root, ff = profiles
    code, out, _ = run(capsys, "scan", "--profile", str(root), "--profile", str(ff), "--data-dir", str(data_dir))
    assert code == 0
    assert "GA1.2.3.4" not in out and "dark" not in out
    assert "(encrypted)" in out
    assert out.strip().endswith("3 entries in 2 profiles")


def test_csv(capsys, profiles, data_dir):
    root, _ = profiles
    code, out, _ = run(capsys, "scan", "--profile", str(root), "--format", "csv", "--data-dir", str(data_dir))
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert set(lines[0].split(",")) >= CONTRACT_FIELDS
    import csv

    rows = list(csv.DictReader(lines))
    ga = next(r for r in rows if r["name"] == "_ga")
    assert (ga["domain_cookie"], ga["secure"], ga["partition_site"], ga["value"]) == ("true", "false", "", "")


def test_kinds_filter(capsys, profiles, data_dir):
    root, _ = profiles
    code, out, _ = run(capsys, "scan", "--kinds", "local_storage", "--profile", str(root), "--format", "json",
                       "--data-dir", str(data_dir))
    assert code == 0 and json.loads(out)["entries"] == []
    code, _, err = run(capsys, "scan", "--kinds", "crumbs", "--data-dir", str(data_dir))
    assert code == 2 and "unknown kind crumbs" in err


def test_a_missing_path_is_an_error_and_the_other_profiles_still_scan(capsys, profiles, data_dir, tmp_path):
    root, _ = profiles
    missing = tmp_path / "nowhere"
    code, out, err = run(capsys, "scan", "--profile", str(missing), "--profile", str(root),
                         "--format", "json", "--data-dir", str(data_dir))
    doc = json.loads(out)
    assert code == 1
    assert len(doc["entries"]) == 2
    assert doc["errors"] == [{"profile": str(missing), "store": None, "message": "no such file or folder"}]
    assert err == f"error: {missing}: no such file or folder\n"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(b"garbage" * 300), "Cookies is not an SQLite database (damaged or of another kind)"),
        (lambda p: p.write_bytes(p.read_bytes()[:600]), None),
    ],
)
def test_a_damaged_store_is_one_error_line_and_the_rest_still_scans(capsys, profiles, data_dir, damage, message):
    root, ff = profiles
    damage(root / "Default" / "Cookies")
    code, out, err = run(capsys, "scan", "--profile", str(root), "--profile", str(ff),
                         "--format", "json", "--data-dir", str(data_dir))
    doc = json.loads(out)
    assert code == 1
    assert [e["name"] for e in doc["entries"]] == ["pref"]
    (error,) = doc["errors"]
    assert (error["profile"], error["store"]) == (str(root / "Default"), "Cookies")
    if message:
        assert error["message"] == message
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {root / 'Default'} (Cookies): ")
    assert "Traceback" not in err


def test_not_a_profile(capsys, data_dir, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    code, out, err = run(capsys, "scan", "--profile", str(folder), "--format", "json", "--data-dir", str(data_dir))
    assert code == 1
    assert json.loads(out)["errors"][0]["message"].startswith("not a browser profile")


def test_profiles_command(capsys, profiles, data_dir):
    root, ff = profiles
    code, out, _ = run(capsys, "profiles", "--profile", str(root), "--profile", str(ff), "--format", "json",
                       "--data-dir", str(data_dir))
    assert code == 0
    docs = json.loads(out)["profiles"]
    for doc in docs:
        assert {"path", "browser", "engine", "name", "running"} <= set(doc)
    assert [d["path"] for d in docs] == [str(root / "Default"), str(ff)]


def test_the_data_folder_is_created_private(capsys, profiles, tmp_path):
    root, _ = profiles
    data_dir = tmp_path / "new" / "state"
    run(capsys, "scan", "--profile", str(root), "--data-dir", str(data_dir))
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_bad_usage_exits_2(capsys, data_dir):
    with pytest.raises(SystemExit) as info:
        cli.main(["scan", "--format", "yaml"])
    assert info.value.code == 2
    code, _, err = run(capsys, "scan", "--policy", "/no/such/policy.toml", "--data-dir", str(data_dir))
    assert code == 2 and "--policy /no/such/policy.toml cannot be used" in err


def test_a_policy_file_with_mistakes_is_refused_with_each_problem(capsys, data_dir, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('format = 1\n[owner]\nname = "X"\nsites = ["co.uk"]\n')
    code, out, err = run(capsys, "scan", "--policy", str(policy), "--data-dir", str(data_dir))
    assert (code, out) == (2, "")
    assert "owner.sites[0]: 'co.uk' is a public suffix, not a registrable domain" in err
    assert "clauses: missing" in err
    assert "Traceback" not in err


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    return env


def test_the_engine_and_cli_never_import_qt():
    """Every module outside privacy_inspector.gui imports without Qt."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import privacy_inspector\n"
        "names = [m.name for m in pkgutil.walk_packages(privacy_inspector.__path__, 'privacy_inspector.')\n"
        "         if not m.name.startswith(('privacy_inspector.gui', 'privacy_inspector.__main__'))]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'PyQt')))\n"
        "print(len(names), qt)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=_subprocess_env())
    count, qt = out.stdout.strip().split(" ", 1)
    assert int(count) > 30 and qt == "[]"


NO_NETWORK = """
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args[:1])
    raise OSError("network access attempted")
for name in ("connect", "connect_ex", "sendto", "bind"):
    setattr(socket.socket, name, refuse)
socket.getaddrinfo = refuse
socket.create_connection = refuse
import atexit
atexit.register(lambda: attempts and sys.stderr.write(f"NETWORK ATTEMPTS: {attempts}\\n"))
# Qt's own networking would not go through Python's sockets: it must never be loaded.
atexit.register(lambda: "PySide6.QtNetwork" in sys.modules and sys.stderr.write("QT NETWORK\\n"))
from privacy_inspector.cli.main import main
code = main(sys.argv[1:])
sys.exit(code)
"""


def test_a_scan_makes_no_network_access(profiles, tmp_path, monkeypatch):
    """Every socket call fails loudly in the child; the scan must not need one."""
    root, ff = profiles
    env = _subprocess_env()
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "scan", "--profile", str(root), "--profile", str(ff),
         "--show-values", "--format", "json", "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert "NETWORK ATTEMPTS" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["entries"]) == 3


def test_the_window_makes_no_network_access(tmp_path):
    """The desktop window on the demo, rendered and closed, with every socket refused."""
    env = _subprocess_env()
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    shot = tmp_path / "window.png"
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, "--demo", "--screenshot", str(shot),
         "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert "NETWORK ATTEMPTS" not in result.stderr and "QT NETWORK" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert shot.stat().st_size > 10_000
