"""The declared settings and their store (privacy_inspector.core.settings).

Covers the promises the rest of the app relies on: values survive a reload,
invalid values never reach the file, the file is private, a file the app
cannot use is refused and left exactly as it was, and every key the code asks
for is declared (house style 5.7).
"""

from __future__ import annotations

import json
import re
import sqlite3
import stat
from pathlib import Path

import pytest

from privacy_inspector.core import settings as settings_mod
from privacy_inspector.core.settings import (
    OPTIONS,
    Settings,
    SettingsError,
    apply_owner_sites,
    normalize_site,
)

APP = Path(__file__).resolve().parents[2] / "app"


def _stored(data_dir: Path) -> dict[str, str]:
    conn = sqlite3.connect(data_dir / "settings.db")
    try:
        return dict(conn.execute("select key, value from settings"))
    finally:
        conn.close()


def _put(data_dir: Path, key: str, raw: str) -> None:
    conn = sqlite3.connect(data_dir / "settings.db")
    with conn:
        conn.execute("insert or replace into settings (key, value) values (?, ?)", (key, raw))
    conn.close()


# --- declarations -------------------------------------------------------------------

def test_the_declared_options():
    by_key = {o.key: o for o in OPTIONS}
    assert list(by_key) == ["policy_file", "owner_sites", "theme", "include_stale", "confirm_reveal",
                            "journal_days"]
    assert (by_key["journal_days"].kind, by_key["journal_days"].default) == ("choice", "30")
    assert (by_key["policy_file"].kind, by_key["policy_file"].default) == ("path", "")
    assert by_key["policy_file"].label == "Privacy policy file"
    assert (by_key["owner_sites"].kind, by_key["owner_sites"].default) == ("sites", ())
    assert by_key["theme"].choices == ("system", "light", "dark")
    assert by_key["theme"].default == "system"
    assert (by_key["include_stale"].kind, by_key["include_stale"].default) == ("bool", True)
    assert by_key["confirm_reveal"].default is False
    for option in OPTIONS:
        assert option.kind in settings_mod.KINDS
        assert option.label and option.help
        assert settings_mod.validate(option, option.default) == option.default


# --- round trip ---------------------------------------------------------------------

def test_a_fresh_folder_has_the_defaults_and_a_private_file(data_dir):
    s = Settings.load(data_dir)
    assert s.values() == {o.key: o.default for o in OPTIONS}
    assert s.problems == []
    mode = stat.S_IMODE((data_dir / "settings.db").stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    conn = sqlite3.connect(data_dir / "settings.db")
    assert conn.execute("select value from meta where key = 'schema_version'").fetchone() == (1,)
    conn.close()


def test_values_survive_a_reload(data_dir):
    s = Settings.load(data_dir)
    s.set("theme", "dark")
    s.set("include_stale", False)
    s.set("confirm_reveal", True)
    s.set("policy_file", "  /tmp/policy.toml ")
    s.set("owner_sites", [" Example.ORG ", "liveops.co.uk", "example.org"])
    assert s.get("owner_sites") == ("example.org", "liveops.co.uk")
    again = Settings.load(data_dir)
    assert again.values() == {
        "policy_file": "/tmp/policy.toml",
        "owner_sites": ("example.org", "liveops.co.uk"),
        "theme": "dark",
        "include_stale": False,
        "confirm_reveal": True,
        "journal_days": "30",
    }
    assert json.loads(_stored(data_dir)["owner_sites"]) == ["example.org", "liveops.co.uk"]
    assert stat.S_IMODE((data_dir / "settings.db").stat().st_mode) == 0o600


def test_reset_goes_back_to_the_default(data_dir):
    s = Settings.load(data_dir)
    s.set("theme", "light")
    s.reset("theme")
    assert s.get("theme") == "system"
    assert "theme" not in _stored(data_dir)
    assert Settings.load(data_dir).get("theme") == "system"


def test_undeclared_keys_are_a_key_error(data_dir):
    s = Settings.load(data_dir)
    with pytest.raises(KeyError):
        s.get("colour")
    with pytest.raises(KeyError):
        s.set("colour", "red")
    with pytest.raises(KeyError):
        s.reset("colour")


# --- validation ---------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "code"), [
    ("include_stale", 1, "wrong_type"),
    ("include_stale", "true", "wrong_type"),
    ("theme", "blue", "invalid_value"),
    ("theme", None, "invalid_value"),
    ("policy_file", Path("/tmp/p.toml"), "wrong_type"),
    ("owner_sites", "example.com", "wrong_type"),
    ("owner_sites", ["co.uk"], "public_suffix"),
    ("owner_sites", ["com"], "invalid_host"),
    ("owner_sites", ["www.example.com"], "not_registrable"),
    ("owner_sites", ["https://example.com/"], "invalid_host"),
    ("owner_sites", ["exa mple.com"], "invalid_host"),
    ("owner_sites", ["-bad-.com"], "invalid_host"),
    ("owner_sites", ["192.168.1.1"], "invalid_host"),
    ("owner_sites", [""], "empty_site"),
    ("owner_sites", [3], "wrong_type"),
])
def test_invalid_values_are_refused_and_not_stored(data_dir, key, value, code):
    s = Settings.load(data_dir)
    with pytest.raises(SettingsError) as err:
        s.set(key, value)
    assert err.value.code == code
    assert err.value.key == key
    assert s.get(key) == settings_mod.OPTIONS_BY_KEY[key].default
    assert key not in _stored(data_dir)


def test_a_non_registrable_site_suggests_its_domain():
    with pytest.raises(SettingsError, match="did you mean 'example.com'"):
        normalize_site("www.example.com")


def test_an_international_site_is_stored_as_punycode():
    assert normalize_site("Bücher.de") == "xn--bcher-kva.de"


# --- files the app cannot use -------------------------------------------------------

def test_a_corrupt_file_is_refused_and_left_byte_for_byte(data_dir):
    data_dir.mkdir(mode=0o700)
    path = data_dir / "settings.db"
    junk = b"this is not a database\x00" * 100
    path.write_bytes(junk)
    with pytest.raises(SettingsError) as err:
        Settings.load(data_dir)
    assert err.value.code == "corrupt"
    assert path.read_bytes() == junk
    assert sorted(p.name for p in data_dir.iterdir()) == ["settings.db"]


def test_a_damaged_database_is_refused_and_left_byte_for_byte(data_dir):
    Settings.load(data_dir).set("theme", "dark")
    path = data_dir / "settings.db"
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # keep the header, wreck the pages
    path.write_bytes(bytes(data))
    with pytest.raises(SettingsError):
        Settings.load(data_dir)
    assert path.read_bytes() == bytes(data)


def test_another_database_is_not_taken_for_settings(data_dir):
    data_dir.mkdir(mode=0o700)
    path = data_dir / "settings.db"
    conn = sqlite3.connect(path)
    conn.execute("create table other (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SettingsError, match="not a Privacy Inspector settings database"):
        Settings.load(data_dir)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused_and_left_alone(data_dir):
    Settings.load(data_dir).set("theme", "dark")
    path = data_dir / "settings.db"
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("update meta set value = 2 where key = 'schema_version'")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SettingsError) as err:
        Settings.load(data_dir)
    assert err.value.code == "newer_schema"
    assert "newer version" in str(err.value)
    assert path.read_bytes() == before


def test_an_unreadable_file_is_refused(data_dir):
    """A settings.db the app cannot open (here a folder, which even root cannot read as a file)."""
    (data_dir / "settings.db").mkdir(parents=True)
    with pytest.raises(SettingsError) as err:
        Settings.load(data_dir)
    assert err.value.code == "unreadable"
    assert list((data_dir / "settings.db").iterdir()) == []


def test_wrong_values_in_the_file_fall_back_per_key_and_unknown_keys_are_kept(data_dir):
    s = Settings.load(data_dir)
    s.set("confirm_reveal", True)
    _put(data_dir, "theme", json.dumps("purple"))
    _put(data_dir, "include_stale", json.dumps("yes"))
    _put(data_dir, "owner_sites", "[not json")
    _put(data_dir, "future_option", json.dumps({"from": "a newer version"}))
    again = Settings.load(data_dir)
    assert again.get("theme") == "system"
    assert again.get("include_stale") is True
    assert again.get("owner_sites") == ()
    assert again.get("confirm_reveal") is True
    assert {(p.key, p.code) for p in again.problems} == {
        ("theme", "invalid_value"), ("include_stale", "wrong_type"), ("owner_sites", "not_json")}
    assert all("purple" not in str(p) for p in again.problems)
    assert "future_option" not in again.values()
    again.set("theme", "light")
    assert {p.key for p in again.problems} == {"include_stale", "owner_sites"}
    stored = _stored(data_dir)
    assert json.loads(stored["future_option"]) == {"from": "a newer version"}
    assert stored["include_stale"] == json.dumps("yes")  # not rewritten behind the user's back


# --- the policy ---------------------------------------------------------------------

def _cookie(host: str):
    from privacy_inspector.browsers.base import COOKIE_COLUMNS, CookieFactory
    from privacy_inspector.core.records import Profile

    profile = Profile(Path("/p/Default"), "chromium", "chromium", "Default")
    columns = dict.fromkeys(COOKIE_COLUMNS)
    columns.update(store="Cookies", id_store="Cookies", host=[host], name=["cart"],
                   path="/", persistent=True, secure=True, http_only=True, same_site="lax",
                   size=[10], value_state="encrypted", stale=False)
    (entry,) = CookieFactory(profile).build(1, **columns)
    return entry


def test_apply_owner_sites_makes_an_extra_site_first_party():
    from privacy_inspector.core.classify import Classifier
    from privacy_inspector.core.policy import load_policy

    policy = load_policy()
    entry = _cookie("shop.example.org")
    (before,) = Classifier(policy).classify([entry])
    assert (before.party, before.on_owner_site) == ("unrelated", False)

    extended = apply_owner_sites(policy, [" Example.org", "liveops.com"])
    assert extended.owner.sites == (*policy.owner.sites, "example.org")
    assert policy.owner.sites == ("liveops.com",)  # the loaded policy is unchanged
    (after,) = Classifier(extended).classify([entry])
    assert (after.party, after.on_owner_site, after.organization) == ("first_party", True, "LiveOps")


def test_apply_owner_sites_without_new_sites_returns_the_policy():
    from privacy_inspector.core.policy import load_policy

    policy = load_policy()
    assert apply_owner_sites(policy, ()) is policy
    assert apply_owner_sites(policy, ["LIVEOPS.com"]) is policy
    with pytest.raises(SettingsError):
        apply_owner_sites(policy, ["co.uk"])


# --- every key used is declared (house style 5.7) -----------------------------------

_KEY_USES = re.compile(
    r"""(?:\w*settings\s*\.\s*(?:get|set|reset)\s*\(\s*     # settings.get("k"), self._settings.set("k", …)
         |\.\s*get_option\s*\(\s*                          # anything.get_option("k")
         |\w*settings\s*\[\s*                              # settings["k"]
        )(?P<q>["'])(?P<key>[^"'\\]+)(?P=q)""",
    re.VERBOSE | re.IGNORECASE,
)


def _keys_used(text: str) -> set[str]:
    return {m["key"] for m in _KEY_USES.finditer(text)}


def test_the_key_scanner_finds_each_style_of_use():
    sample = """
        settings.get("theme"); self._settings.set('include_stale', False)
        app.get_option("policy_file"); settings["owner_sites"]; SETTINGS.reset("x")
        other.get("not_a_setting"); os.environ.get("HOME")
    """
    assert _keys_used(sample) == {"theme", "include_stale", "policy_file", "owner_sites", "x"}


def test_every_settings_key_used_in_the_code_is_declared():
    declared = {o.key for o in OPTIONS}
    files = sorted(APP.rglob("*.py"))
    assert APP / "core" / "settings.py" in files
    undeclared = {
        f"{path.relative_to(APP)}: {key}"
        for path in files
        for key in _keys_used(path.read_text(encoding="utf-8"))
        if key not in declared
    }
    assert not undeclared, f"settings keys used but not declared in OPTIONS: {sorted(undeclared)}"


def test_settings_is_qt_free():
    text = (APP / "core" / "settings.py").read_text(encoding="utf-8")
    assert "PySide6" not in text and "privacy_inspector.gui" not in text
