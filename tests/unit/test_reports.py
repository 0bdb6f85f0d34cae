"""The reports: each format is read back with a parser for it, on the demo profiles."""

from __future__ import annotations

import csv
import datetime
import http.cookiejar
import io
import json
import os
import stat
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from privacy_inspector.cli.main import main
from privacy_inspector.core import demo, engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.core.records import ScanError
from privacy_inspector.reports import build_report, render, write_report
from privacy_inspector.reports.tabular import CSV_COLUMNS

HOSTILE = "<script>alert(1)</script>"
GENERATED = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def scanned(data_dir):
    profiles = demo.demo_profiles(data_dir)
    classifier = Classifier(load_policy(None))
    result = engine.scan(profiles, classifier=classifier)
    assert not result.errors
    return profiles, classifier, result.entries


@pytest.fixture
def report(scanned):
    profiles, classifier, entries = scanned
    return build_report(entries, profiles, classifier, generated=GENERATED)


def _hostile_report(scanned, name: str = HOSTILE):
    profiles, classifier, entries = scanned
    cookie = next(e for e in entries if e.kind == "cookie" and e.policy_clauses)
    bad = cookie._replace(id="ck-hostile", name=name, host="evil.liveops.com")
    return build_report([*entries, bad], profiles, classifier, generated=GENERATED)


class PageParser(HTMLParser):
    """Collects the tags with their attributes, the text, and what is inside <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.style: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        (self.style if self._in_style else self.text).append(data)

    @property
    def joined_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def _parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def _words(text: str) -> str:
    return " ".join(text.split())


# -- the report's data --------------------------------------------------------

def test_build_report_counts_and_explains_every_entry(report, scanned):
    profiles, classifier, entries = scanned
    assert len(report.entries) == len(entries) == 44
    assert {item.entry.id for item in report.entries} == {e.id for e in entries}
    assert report.totals.trackers == sum(1 for e in entries if e.tracker) > 0
    assert sum(count for _, count in report.trackers_by_organization) == report.totals.trackers
    assert sum(count for _, count in report.trackers_by_category) == report.totals.trackers
    assert dict(report.trackers_by_organization)["Google"] > 0
    assert [p.path for p in report.profiles] == [str(p.path) for p in profiles]
    assert sum(p.entries for p in report.profiles) == 44
    assert report.generated_text == "2026-03-04T05:06:07Z"
    for item in report.entries:
        assert item.explanation.entry == item.entry
        assert [c[0] for c in item.explanation.clauses] == list(item.entry.policy_clauses)
    assert not report.has_values


# -- HTML ---------------------------------------------------------------------

def test_html_is_self_contained_and_complete(report):
    page = render(report, "html").decode("utf-8")
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags
    assert not {"link", "img", "iframe", "object", "embed", "base"} & set(tags)
    assert "url(" not in page.lower()
    for tag, attrs in parsed.tags:
        assert "src" not in attrs, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "xlink:href"):
                assert tag == "a" and (value.startswith("#") or value.startswith("https://")
                                       or value.startswith("http://")), (tag, value)
    metas = {attrs.get("http-equiv") or attrs.get("name"): attrs.get("content")
             for tag, attrs in parsed.tags if tag == "meta"}
    assert metas["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert metas["referrer"] == "no-referrer"
    assert tags.count("svg") == 2 and "style" in tags
    text = parsed.joined_text
    for item in report.entries:
        assert item.entry.name in text
        for _, title, words in item.explanation.clauses:
            assert _words(words) in text
            assert title in text
        assert _words(item.explanation.who) in text
    assert "Trackers by company" in text and "Trackers by category" in text
    assert "2026-03-04T05:06:07Z" in text
    for profile in report.profiles:
        assert profile.path in text and profile.name in text
    # The chart says its numbers in text, not by colour alone.
    google = dict(report.trackers_by_organization)["Google"]
    svg_text = page[page.index("<svg"):page.index("</svg>")]
    assert ">Google<" in svg_text and f">{google}<" in svg_text


def test_html_links_the_policys_opt_out_pages(report):
    parsed = _parse(render(report, "html").decode("utf-8"))
    links = {attrs["href"] for tag, attrs in parsed.tags if tag == "a" and not attrs["href"].startswith("#")}
    wanted = {url for item in report.entries for _, url in item.explanation.choices if url}
    assert wanted and wanted <= links


def test_html_escapes_hostile_names(scanned):
    report = _hostile_report(scanned)
    page = render(report, "html").decode("utf-8")
    parsed = _parse(page)
    assert "script" not in [tag for tag, _ in parsed.tags]
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE in parsed.joined_text


def test_html_values_only_when_scanned_with_values(scanned, data_dir):
    profiles, classifier, _ = scanned
    entries = engine.scan(profiles, classifier=classifier, show_values=True).entries
    with_values = build_report(entries, profiles, classifier)
    assert with_values.has_values
    value = next(e.value for e in entries if e.value and len(e.value) > 8 and e.kind == "cookie")
    assert value in _parse(render(with_values, "html").decode()).joined_text
    without = build_report([e._replace(value=None) for e in entries], profiles, classifier)
    assert value not in render(without, "html").decode()


def test_html_lists_read_errors(scanned):
    profiles, classifier, entries = scanned
    error = ScanError("/somewhere/Profile 9", "Cookies", "the cookie database is damaged")
    report = build_report(entries, profiles, classifier, [error])
    text = _parse(render(report, "html").decode()).joined_text
    assert "the cookie database is damaged" in text and "/somewhere/Profile 9 (Cookies)" in text


# -- CSV and JSON -------------------------------------------------------------

def test_csv_has_one_row_per_entry(report):
    data = render(report, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data, newline="")))
    assert len(rows) == len(report.entries)
    assert list(rows[0]) == list(CSV_COLUMNS)
    for field in ("id", "name", "host", "kind", "organization", "category", "tracker", "purpose",
                  "policy_clauses", "value", "who", "why"):
        assert field in rows[0]
    by_id = {row["id"]: row for row in rows}
    for item in report.entries:
        row = by_id[item.entry.id]
        assert row["name"] == item.entry.name
        assert row["policy_clauses"] == ";".join(item.entry.policy_clauses)
        assert row["tracker"] == ("true" if item.entry.tracker else "false")
        assert row["value"] == ""


def test_csv_defuses_formulas(scanned):
    report = _hostile_report(scanned, name="=HYPERLINK(\"http://x\",\"y\")")
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode("utf-8-sig"), newline="")))
    row = next(r for r in rows if r["id"] == "ck-hostile")
    assert row["name"] == "'=HYPERLINK(\"http://x\",\"y\")"


def test_json_report(report):
    data = json.loads(render(report, "json"))
    assert set(data) >= {"generated", "profiles", "summary", "entries", "errors"}
    assert data["generated"] == "2026-03-04T05:06:07Z"
    assert len(data["entries"]) == 44 and data["errors"] == []
    assert data["summary"]["totals"]["trackers"] == report.totals.trackers
    first = data["entries"][0]
    assert first["id"] == report.entries[0].entry.id
    assert first["value"] is None
    assert first["explanation"]["policy_clauses"][0]["text"] == report.entries[0].explanation.clauses[0][2]
    assert {p["path"] for p in data["profiles"]} == {p.path for p in report.profiles}


# -- Netscape cookies.txt ------------------------------------------------------

def _load_jar(path: Path) -> http.cookiejar.MozillaCookieJar:
    jar = http.cookiejar.MozillaCookieJar(str(path))
    jar.load(ignore_discard=True, ignore_expires=True)
    return jar


def test_netscape_is_read_by_mozilla_cookie_jar(report, tmp_path):
    path = tmp_path / "cookies.txt"
    write_report(report, "netscape", path)
    jar = _load_jar(path)
    cookies = [item.entry for item in report.entries if item.entry.kind == "cookie"]
    got = {(c.domain, c.path, c.name) for c in jar}
    wanted = {(("." if e.domain_cookie else "") + e.host, e.path, e.name) for e in cookies}
    assert got == wanted
    assert all(c.value == "" for c in jar)
    session = next(c for c in jar if c.name == "lo_session")
    # A session cookie's expiry is 0, as curl writes it.
    assert not session.expires
    ga = next(c for c in jar if c.name == "_ga")
    assert ga.domain_specified and ga.expires > 1_700_000_000
    assert path.read_text().startswith("# Netscape HTTP Cookie File\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("# ")]
    assert all(len(line.split("\t")) == 7 for line in lines)
    assert any(line.startswith("#HttpOnly_") for line in lines)


def test_netscape_leaves_out_stale_copies(scanned, tmp_path):
    profiles, classifier, entries = scanned
    cookie = next(e for e in entries if e.kind == "cookie")
    stale = cookie._replace(id="ck-stale", name="stale_copy", stale=True)
    report = build_report([*entries, stale], profiles, classifier)
    path = tmp_path / "cookies.txt"
    write_report(report, "netscape", path)
    assert "stale_copy" not in {c.name for c in _load_jar(path)}


def test_report_netscape_warns_without_values(capsys, data_dir, tmp_path):
    out_file = tmp_path / "cookies.txt"
    code, _, err = run(capsys, "report", "--demo", "--data-dir", str(data_dir), "--format", "netscape",
                       "--output", str(out_file))
    assert code == 0
    assert "warning:" in err and "--show-values" in err and "no cookie values" in err
    assert all(c.value == "" for c in _load_jar(out_file))


def test_report_netscape_with_values(capsys, data_dir, tmp_path):
    out_file = tmp_path / "cookies.txt"
    code, _, err = run(capsys, "report", "--demo", "--data-dir", str(data_dir), "--format", "netscape",
                       "--show-values", "--output", str(out_file))
    assert code == 0
    assert "secret" in err and "0600" in err
    jar = _load_jar(out_file)
    values = [c.value for c in jar if c.value]
    assert values, "no cookie carries its value"
    # The values are in the file but never in what was printed.
    assert not any(v in err for v in values if len(v) > 6)
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600


# -- the command line -----------------------------------------------------------

@pytest.mark.parametrize("fmt", ["html", "csv", "json", "netscape"])
def test_report_files_are_private(capsys, data_dir, tmp_path, fmt):
    out_file = tmp_path / f"report.{fmt}"
    code, out, _ = run(capsys, "report", "--demo", "--data-dir", str(data_dir), "--format", fmt,
                       "--output", str(out_file))
    assert code == 0 and out == ""
    assert out_file.stat().st_size > 0
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600


def test_report_html_to_stdout(capsys, data_dir):
    code, out, _ = run(capsys, "report", "--demo", "--data-dir", str(data_dir), "--format", "html",
                       "--output", "-")
    assert code == 0
    assert out.startswith("<!DOCTYPE html>")
    text = _parse(out).joined_text
    assert "lo_session" in text and "Trackers by company" in text


def test_report_pdf_to_stdout_is_refused(capsys, data_dir):
    code, out, err = run(capsys, "report", "--demo", "--data-dir", str(data_dir), "--format", "pdf",
                         "--output", "-")
    assert code == 2 and out == ""
    assert "error:" in err


def test_report_with_a_read_error_still_writes_and_exits_1(capsys, data_dir, tmp_path):
    out_file = tmp_path / "report.json"
    missing = tmp_path / "no-such-profile"
    code, _, err = run(capsys, "report", "--demo", "--profile", str(missing), "--data-dir", str(data_dir),
                       "--format", "json", "--output", str(out_file))
    assert code == 1
    assert "error:" in err and str(missing) in err
    data = json.loads(out_file.read_text())
    assert len(data["entries"]) == 44
    assert [e["profile"] for e in data["errors"]] == [str(missing)]


# -- PDF ------------------------------------------------------------------------

@pytest.mark.gui
def test_pdf_report_has_the_summary_and_entries(qapp, capsys, data_dir, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out_file = tmp_path / "report.pdf"
    code, out, _ = run(capsys, "report", "--demo", "--data-dir", str(data_dir), "--format", "pdf",
                       "--output", str(out_file))
    assert code == 0 and out == ""
    assert out_file.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    reader = pypdf.PdfReader(str(out_file))
    assert len(reader.pages) > 1
    text = _words(unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in reader.pages)))
    for words in ("Trackers by company", "Trackers by category", "Google", "Meta", "Demo default-release",
                  "lo_session", "_ga", "dc_chips", "What the policy says"):
        assert words in text, words
