"""Every report format on a profile that real Chromium and Firefox wrote."""

from __future__ import annotations

import csv
import http.cookiejar
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from privacy_inspector.cli import main as cli
from tests.harness.site import LIVEOPS_HOME

pytestmark = pytest.mark.real_browser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


def _report(capsys, profile_dir: Path, data_dir: Path, fmt: str, *extra: str) -> str:
    code = cli.main(["report", "--format", fmt, "--output", "-", "--profile", str(profile_dir),
                     "--data-dir", str(data_dir), *extra])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


@pytest.fixture(params=["chromium", "firefox"])
def profile_dir(request, make_chromium_profile, make_firefox_profile) -> Path:
    if request.param == "chromium":
        return make_chromium_profile([LIVEOPS_HOME], allow_third_party_cookies=True).profile_dir
    return make_firefox_profile([LIVEOPS_HOME]).profile_dir


def test_every_format_on_a_real_profile(capsys, profile_dir, data_dir):
    doc = json.loads(_report(capsys, profile_dir, data_dir, "json"))
    names = {e["name"] for e in doc["entries"]}
    assert {"lo_domain", "IDE", "_ga"} <= names
    google = next(e for e in doc["entries"] if e["name"] == "IDE")
    assert google["organization"] == "Google" and google["explanation"]["policy_clauses"]
    assert all(e["value"] is None for e in doc["entries"])

    page = _Text()
    page.feed(_report(capsys, profile_dir, data_dir, "html"))
    text = " ".join(page.text)
    assert "script" not in page.tags and {"IDE", "lo_domain"} <= set(text.split())
    assert "Google" in text and "LiveOps" in text

    rows = list(csv.DictReader(io.StringIO(_report(capsys, profile_dir, data_dir, "csv")
                                           .lstrip("\ufeff"))))
    assert len(rows) == len(doc["entries"]) and {r["name"] for r in rows} == names

    jar_file = data_dir / "cookies.txt"
    code = cli.main(["report", "--format", "netscape", "--output", str(jar_file), "--show-values",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir)])
    assert code == 0
    capsys.readouterr()
    jar = http.cookiejar.MozillaCookieJar()
    jar.load(str(jar_file), ignore_discard=True, ignore_expires=True)
    by_name = {c.name: c for c in jar}
    assert {"lo_domain", "IDE"} <= set(by_name)
    assert by_name["IDE"].value  # decrypted from the real profile
    assert by_name["IDE"].domain.lstrip(".").endswith("doubleclick.net")
