"""``scan --format json`` on real profiles lists every storage item the pages wrote.

The readers' own tests check each store in detail; this checks the contract end
to end, through the command line, for both browsers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from privacy_inspector.core import sites
from tests.harness.site import expected_storage

pytestmark = pytest.mark.real_browser

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"localStorage": "local_storage", "sessionStorage": "session_storage", "indexedDB": "indexed_db"}


def _scan(profile_path: Path, data_dir: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "privacy_inspector", "scan", "--profile", str(profile_path),
         "--format", "json", "--data-dir", str(data_dir)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _expected(browser: str, visited, port: int) -> set[tuple]:
    return {
        (KINDS[item.kind], item.origin(port),
         sites.site_of_origin(item.partition_site) if item.partition_site else None, item.key)
        for item in expected_storage(browser, [p for p in visited if "://" not in p])
    }


def _found(doc: dict) -> set[tuple]:
    return {
        (e["kind"], e["origin"], e["partition_site"], e["name"])
        for e in doc["entries"]
        if e["kind"] in KINDS.values() and not e["stale"]
    }


@pytest.mark.parametrize("fixture", ["chromium_profile", "firefox_profile"])
def test_every_storage_item_the_pages_wrote_is_listed(fixture, request, data_dir):
    profile = request.getfixturevalue(fixture)
    browser = "chromium" if fixture.startswith("chromium") else "firefox"
    doc = _scan(profile.profile_dir, data_dir)
    assert doc["errors"] == []
    expected = _expected(browser, profile.visited, profile.site.port)
    assert {k for k, *_ in expected} == {"local_storage", "session_storage", "indexed_db"}
    assert _found(doc) == expected
    for entry in doc["entries"]:
        assert entry["value"] is None
        if entry["kind"] != "cookie":
            assert entry["host"] == entry["origin"].split("://", 1)[1].rsplit(":", 1)[0]
            assert entry["persistent"] is (entry["kind"] != "session_storage")
