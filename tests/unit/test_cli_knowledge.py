"""`knowledge import` / `knowledge sources`, and scans that use the imported lists."""

from __future__ import annotations

import json
from pathlib import Path

from privacy_inspector.cli import main as cli
from tests.fixtures.cookie_dbs import chromium_cookies_db

LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "lists"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _profile(tmp_path):
    profile = tmp_path / "chromium" / "Default"
    chromium_cookies_db(profile / "Cookies", [
        # A consent cookie the bundled knowledge does not name (Cookiebot).
        {"host": "www.liveops.com", "name": "CookieConsent", "value": "{stamp:'-1'}",
         "expires": 1_900_000_000},
    ])
    return profile


def test_an_imported_cookie_list_classifies_what_the_bundled_one_does_not(capsys, tmp_path, data_dir):
    profile = _profile(tmp_path)
    code, out, _ = run(capsys, "scan", "--profile", str(profile), "--format", "json", "--data-dir", str(data_dir))
    (before,) = json.loads(out)["entries"]
    assert (before["party"], before["organization"], before["category"]) == ("first_party", "LiveOps", "unknown")

    code, out, err = run(capsys, "knowledge", "import", str(LISTS / "open-cookie-database.csv"),
                         "--type", "ocd", "--data-dir", str(data_dir))
    assert (code, err) == (0, "")
    assert out.startswith("imported open-cookie-database: 0 domains, 0 owners, ")

    code, out, _ = run(capsys, "scan", "--profile", str(profile), "--format", "json", "--data-dir", str(data_dir))
    (after,) = json.loads(out)["entries"]
    assert after["category"] == "consent"
    assert after["party"] == "third_party"
    assert after["id"] == before["id"]

    code, out, _ = run(capsys, "explain", after["id"], "--profile", str(profile), "--data-dir", str(data_dir))
    assert code == 0
    assert "is listed by open-cookie-database (imported from " in out

    code, out, _ = run(capsys, "knowledge", "sources", "--format", "json", "--data-dir", str(data_dir))
    (source,) = json.loads(out)["sources"]
    assert (source["source"], source["cookies"]) == ("open-cookie-database", 10)


def test_a_bad_list_is_refused_and_writes_nothing(capsys, tmp_path, data_dir):
    bad = tmp_path / "list.csv"
    bad.write_text("just,some,columns\n1,2,3\n")
    code, out, err = run(capsys, "knowledge", "import", str(bad), "--type", "ocd", "--data-dir", str(data_dir))
    assert code == 1 and out == ""
    assert err.startswith(f"privacy-inspector: error: {bad}: ") and "missing columns" in err
    assert not (data_dir / "knowledge.db").exists()
    assert run(capsys, "knowledge", "import", "--data-dir", str(data_dir))[0] == 2


def test_an_unreadable_list_database_is_an_error_never_an_empty_list(capsys, tmp_path, data_dir):
    profile = _profile(tmp_path)
    data_dir.mkdir(parents=True)
    (data_dir / "knowledge.db").write_bytes(b"this is not sqlite" * 100)
    code, out, err = run(capsys, "scan", "--profile", str(profile), "--format", "json", "--data-dir", str(data_dir))
    doc = json.loads(out)
    assert code == 1
    assert len(doc["entries"]) == 1
    (error,) = doc["errors"]
    assert error["store"] == "knowledge.db"
    assert error["message"].startswith("the imported tracker lists cannot be read: ")
