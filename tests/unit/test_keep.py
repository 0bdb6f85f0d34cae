"""The keep list: storage that refuses rather than forgets, matching, CCleaner lists."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from privacy_inspector.actions import keep
from privacy_inspector.actions.keep import (
    InvalidItemError,
    KeepList,
    KeepListError,
    import_ccleaner,
    normalize_site,
    suggest_signed_in,
)
from privacy_inspector.core import sites
from privacy_inspector.core.records import Entry

ID_A = "ck-0123456789abcdef"
ID_B = "ls-fedcba9876543210"


def entry(host: str, name: str = "c", *, id: str = "ck-1111111111111111",
          partition_site: str | None = None, kind: str = "cookie", persistent: bool = True,
          secure: bool | None = True, http_only: bool | None = True,
          tracker: bool | None = None) -> Entry:
    bare = host.lstrip(".")
    return Entry(
        id=id, browser="chromium", engine="chromium", profile="Default", kind=kind,
        host=bare, domain_cookie=host.startswith("."), origin=None,
        site=sites.registrable_domain(bare), partition_site=partition_site, container=None,
        name=name, path="/", persistent=persistent, expires=None, secure=secure,
        http_only=http_only, same_site=None, size=10, value=None, value_state="plain",
        stale=False, store="Cookies", tracker=tracker,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _sample() -> KeepList:
    return (KeepList().with_site("LiveOps.com").with_site("*.mail.example.org")
            .with_entry(ID_A, "SID @ google.com"))


# --- storage -----------------------------------------------------------------------

def test_a_missing_file_is_an_empty_list(data_dir):
    kept = KeepList.load(data_dir)
    assert kept == KeepList() and len(kept) == 0 and kept.sites == () and kept.updated is None


def test_round_trip(data_dir):
    saved = _sample().save(data_dir)
    assert saved.updated and saved.updated.endswith("Z")
    loaded = KeepList.load(data_dir)
    assert loaded == saved == _sample()
    assert loaded.sites == ("liveops.com", "mail.example.org")
    assert dict(loaded.entries) == {ID_A: "SID @ google.com"}
    assert loaded.updated == saved.updated
    doc = json.loads((data_dir / "keep.json").read_text("utf-8"))
    assert doc == {"format": "privacy-inspector-keep", "version": 1,
                   "sites": ["liveops.com", "mail.example.org"],
                   "entries": [{"id": ID_A, "label": "SID @ google.com"}],
                   "updated": saved.updated}


def test_the_file_is_private_and_no_temporary_file_is_left(data_dir):
    _sample().save(data_dir)
    assert stat.S_IMODE(os.stat(data_dir / "keep.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    KeepList().with_site("a.com").save(data_dir)
    assert os.listdir(data_dir) == ["keep.json"]


def test_a_failed_write_leaves_the_old_file_intact(data_dir, monkeypatch):
    _sample().save(data_dir)
    before = (data_dir / "keep.json").read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keep.os, "replace", broken_replace)
    with pytest.raises(KeepListError) as info:
        KeepList().with_site("other.com").save(data_dir)
    assert info.value.code == "unwritable"
    assert "keep.json" in str(info.value) and "No space left" in str(info.value)
    assert (data_dir / "keep.json").read_bytes() == before
    assert os.listdir(data_dir) == ["keep.json"]


UNREADABLE = {
    "not_utf8": b"\xff\xfe\x00garbage",
    "not_json": b'{"format": "privacy-inspector-keep", ',
    "empty": b"",
    "not_an_object": b"[]",
    "wrong_format": json.dumps({"format": "something-else", "version": 1, "sites": [],
                                "entries": []}).encode(),
    "no_format": json.dumps({"version": 1, "sites": [], "entries": []}).encode(),
    "newer_version": json.dumps({"format": "privacy-inspector-keep", "version": 2,
                                 "sites": [], "entries": []}).encode(),
    "version_text": json.dumps({"format": "privacy-inspector-keep", "version": "1",
                                "sites": [], "entries": []}).encode(),
    "sites_not_list": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                                  "sites": "liveops.com", "entries": []}).encode(),
    "site_not_text": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                                 "sites": [42], "entries": []}).encode(),
    "public_suffix": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                                 "sites": ["liveops.com", "co.uk"], "entries": []}).encode(),
    "bad_host": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                            "sites": ["not a host"], "entries": []}).encode(),
    "entries_missing": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                                   "sites": []}).encode(),
    "entry_not_object": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                                    "sites": [], "entries": [ID_A]}).encode(),
    "entry_bad_id": json.dumps({"format": "privacy-inspector-keep", "version": 1, "sites": [],
                                "entries": [{"id": "nope", "label": "x"}]}).encode(),
    "updated_not_text": json.dumps({"format": "privacy-inspector-keep", "version": 1,
                                    "sites": [], "entries": [], "updated": 5}).encode(),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_an_unreadable_file_is_refused_and_left_unchanged(data_dir, case):
    data_dir.mkdir(mode=0o700)
    path = data_dir / "keep.json"
    path.write_bytes(UNREADABLE[case])
    with pytest.raises(KeepListError) as info:
        KeepList.load(data_dir)
    assert str(path) in str(info.value)
    # Saving over it is refused too: it may hold sites the user still wants kept.
    with pytest.raises(KeepListError) as info:
        KeepList().with_site("a.com").save(data_dir)
    assert info.value.code == "unreadable_existing"
    assert path.read_bytes() == UNREADABLE[case]
    # Unless the user says so.
    KeepList().with_site("a.com").save(data_dir, replace_unreadable=True)
    assert KeepList.load(data_dir).sites == ("a.com",)


def test_the_error_never_quotes_the_file(data_dir):
    data_dir.mkdir(mode=0o700)
    (data_dir / "keep.json").write_text('{"format": "privacy-inspector-keep", "secret-token-xyz')
    with pytest.raises(KeepListError) as info:
        KeepList.load(data_dir)
    assert "secret-token-xyz" not in str(info.value)
    assert info.value.code == "not_json"


def test_a_newer_version_says_so(data_dir):
    data_dir.mkdir(mode=0o700)
    (data_dir / "keep.json").write_bytes(UNREADABLE["newer_version"])
    with pytest.raises(KeepListError, match="newer version") as info:
        KeepList.load(data_dir)
    assert info.value.code == "newer_version"


def test_a_dangling_link_is_not_a_missing_file(data_dir):
    data_dir.mkdir(mode=0o700)
    (data_dir / "keep.json").symlink_to(data_dir / "gone.json")
    with pytest.raises(KeepListError):
        KeepList.load(data_dir)


# --- sites -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "site"), [
    ("LiveOps.com", "liveops.com"),
    ("  .liveops.com. ", "liveops.com"),
    ("*.liveops.com", "liveops.com"),
    ("mail.example.com", "mail.example.com"),
    ("example.co.uk", "example.co.uk"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("127.0.0.1", "127.0.0.1"),
    ("[::1]", "::1"),
    ("localhost", "localhost"),
])
def test_sites_are_normalised(text, site):
    assert normalize_site(text) == site


@pytest.mark.parametrize("text", ["co.uk", "com", "*.co.uk", ".com", "github.io"])
def test_a_public_suffix_is_refused(text):
    with pytest.raises(InvalidItemError, match="public suffix") as info:
        KeepList().with_site(text)
    assert info.value.code == "public_suffix"
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeepListError)


@pytest.mark.parametrize("text", ["", "   ", "*.", "not a host", "exa_mple.c_m", "-a.com",
                                  "intranet", "a..com", "x" * 64 + ".com", "1.2.3"])
def test_an_invalid_host_is_refused(text):
    with pytest.raises(InvalidItemError):
        normalize_site(text)


def test_changes_return_new_lists():
    empty = KeepList()
    one = empty.with_site("liveops.com")
    assert empty.sites == () and one.sites == ("liveops.com",)
    assert one.with_site("LIVEOPS.com") is one
    assert one.without_site("*.liveops.com").sites == ()
    assert one.without_site("other.com") is one
    assert one.without_site("co.uk") is one
    two = one.with_entry(ID_A, "SID @ google.com").with_entry(ID_B, "theme @ a.com")
    assert list(two.entries) == [ID_A, ID_B]
    assert list(two.without_entry(ID_A).entries) == [ID_B]
    assert two.without_entry("ck-9999999999999999") is two
    with pytest.raises(InvalidItemError):
        one.with_entry("not-an-id", "x")
    with pytest.raises(TypeError):
        two.entries[ID_A] = "changed"  # type: ignore[index]


def test_with_sites_is_all_or_nothing():
    one = KeepList().with_site("liveops.com")
    with pytest.raises(InvalidItemError):
        one.with_sites(["a.com", "com"])
    assert one.with_sites(["a.com", "b.org"]).sites == ("a.com", "b.org", "liveops.com")


# --- matching ----------------------------------------------------------------------

def test_a_site_protects_its_host_and_subdomains_only():
    kept = KeepList().with_site("liveops.com")
    assert kept.protects(entry("liveops.com")) == "keep list: site liveops.com"
    assert kept.protects(entry(".liveops.com")) == "keep list: site liveops.com"
    assert kept.protects(entry("www.liveops.com")) == "keep list: site liveops.com"
    assert kept.protects(entry("a.b.LiveOps.com")) == "keep list: site liveops.com"
    assert kept.protects(entry("notliveops.com")) is None
    assert kept.protects(entry("liveops.com.evil.net")) is None
    assert kept.protects(entry("com")) is None
    # A tracker's cookie partitioned under the kept site belongs to the tracker.
    dc = entry(".doubleclick.net", "IDE", partition_site="liveops.com", tracker=True)
    assert kept.protects(dc) is None
    # Asking twice (the cached answer) gives the same.
    assert kept.protects(entry("www.liveops.com")) == "keep list: site liveops.com"
    assert kept.protects(dc) is None


def test_storage_entries_are_matched_by_host():
    kept = KeepList().with_site("liveops.com")
    assert kept.protects(entry("www.liveops.com", kind="local_storage", id=ID_B))
    assert kept.protects(entry("ad.doubleclick.net", kind="local_storage",
                               partition_site="liveops.com", id=ID_B)) is None


def test_a_kept_subdomain_keeps_its_own_subdomains_only():
    kept = KeepList().with_site("mail.example.com")
    assert kept.protects(entry("mail.example.com"))
    assert kept.protects(entry("x.mail.example.com")) == "keep list: site mail.example.com"
    assert kept.protects(entry("www.example.com")) is None
    assert kept.protects(entry(".example.com")) is None


def test_ip_hosts():
    kept = KeepList().with_sites(["127.0.0.1", "::1"])
    assert kept.protects(entry("127.0.0.1"))
    assert kept.protects(entry("[::1]", kind="local_storage"))
    assert kept.protects(entry("10.0.0.1")) is None


def test_an_entry_is_protected_by_its_id():
    kept = KeepList().with_entry(ID_A, "SID @ google.com")
    assert kept.protects(entry("google.com", id=ID_A)) == f"keep list: entry {ID_A}"
    assert kept.protects(entry("google.com", id="ck-2222222222222222")) is None
    assert KeepList().protects(entry("google.com", id=ID_A)) is None


# --- import and export -------------------------------------------------------------

def test_json_export_and_import(tmp_path):
    path = tmp_path / "exported.json"
    _sample().export_json(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert KeepList.import_json(path) == _sample()
    assert keep.import_json(path) == _sample()


def test_a_bad_json_import_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(UNREADABLE["public_suffix"])
    with pytest.raises(KeepListError, match="site 2") as info:
        KeepList.import_json(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == UNREADABLE["public_suffix"]
    with pytest.raises(KeepListError, match="does not exist"):
        KeepList.import_json(tmp_path / "missing.json")


CCLEANER_INI = """\
[Options]
Language=1033
UpdateKey=01/04/2020 07:30:57 PM
WipeFreeSpaceDrives=
CookiesToSave=*.avast.com|*.LiveOps.com|accounts.google.com|facebook.com|\
login.live.com|mail.google.com|*.co.uk|twitter.com|www.google.com|http://www.example.org/path
RunICS=0
Include1=PATH|C:\\Temp\\|*.*|RECURSE|0|0|24
(App)Cookies=True
WINDOW_WIDTH=1024

[Disabled]
Foo=Bar
"""


def test_ccleaner_import_of_a_real_ini(tmp_path):
    path = tmp_path / "ccleaner.ini"
    path.write_text(CCLEANER_INI.replace("\n", "\r\n"), encoding="utf-8")
    result = import_ccleaner(path)
    assert result.sites == (
        "accounts.google.com", "avast.com", "facebook.com", "liveops.com", "login.live.com",
        "mail.google.com", "twitter.com", "www.example.org", "www.google.com",
    )
    assert [s.text for s in result.skipped] == ["*.co.uk"]
    assert "public suffix" in result.skipped[0].reason
    merged = KeepList().with_site("other.net").with_sites(result.sites)
    assert "other.net" in merged.sites and "liveops.com" in merged.sites


def test_ccleaner_import_is_lenient():
    text = 'CookiesToSave="*.example.com\\|site.org\\|*.google.com"\n'
    assert import_ccleaner(text).sites == ("example.com", "google.com", "site.org")
    assert import_ccleaner("example.com\n; a comment\n*.b.org|c.net\n").sites == (
        "b.org", "c.net", "example.com")
    assert import_ccleaner("[Options]\nCookiesToSave=\n") == keep.CCleanerImport((), ())


def test_ccleaner_import_reads_utf16(tmp_path):
    path = tmp_path / "ccleaner.ini"
    path.write_bytes(CCLEANER_INI.encode("utf-16"))
    assert "liveops.com" in import_ccleaner(path).sites


def test_ccleaner_import_refuses_what_it_cannot_read(tmp_path):
    with pytest.raises(KeepListError, match="CookiesToSave"):
        import_ccleaner("[Options]\nLanguage=1033\n")
    with pytest.raises(KeepListError, match="does not exist"):
        import_ccleaner(tmp_path / "missing.ini")
    binary = tmp_path / "binary.ini"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x10")
    with pytest.raises(KeepListError, match="not a text file"):
        import_ccleaner(binary)


def test_ccleaner_export_round_trips():
    kept = KeepList().with_sites(["liveops.com", "mail.example.org", "127.0.0.1"])
    line = kept.ccleaner_line()
    assert line == ("CookiesToSave=127.0.0.1|*.liveops.com|liveops.com|"
                    "*.mail.example.org|mail.example.org")
    assert import_ccleaner(line).sites == kept.sites
    assert KeepList().ccleaner_line() == "CookiesToSave="


# --- suggestions -------------------------------------------------------------------

def test_suggest_signed_in():
    entries = [
        entry(".github.com", "user_session"),
        entry("github.com", "_gh_sess"),
        entry(".google.com", "__Secure-1PSID"),
        entry(".linkedin.com", "li_at"),
        entry(".facebook.com", "c_user"),
        entry(".facebook.com", "xs"),
        entry(".facebook.com", "fr", tracker=True),
        # Not signed in: session-only, not HttpOnly, not Secure, a tracker, partitioned.
        entry(".example.com", "sessionid", persistent=False),
        entry(".example.net", "sessionid", http_only=False),
        entry(".example.org", "auth_token", secure=False),
        entry(".doubleclick.net", "IDE_sid", tracker=True),
        entry("chat.vendor.com", "session", partition_site="liveops.com"),
        entry(".theme.com", "theme"),
        entry("www.shop.com", "cart", kind="local_storage"),
    ]
    assert suggest_signed_in(entries) == [
        "facebook.com", "github.com", "google.com", "linkedin.com"]


def test_a_folder_in_place_of_the_file_is_refused(data_dir):
    (data_dir / "keep.json").mkdir(parents=True)
    with pytest.raises(KeepListError) as info:
        KeepList.load(data_dir)
    assert info.value.code == "unreadable"
    with pytest.raises(KeepListError):
        KeepList().with_site("a.com").save(data_dir)
