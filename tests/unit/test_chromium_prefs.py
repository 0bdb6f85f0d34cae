"""Reading and writing Chromium's cookie rules in ``Preferences``, byte for byte.

The sample keeps the layout Chromium 156 wrote in a new profile (compact
JSON on one line, no newline at the end, times as strings, an extension's
``content_settings`` list that is not the profile's), shortened, with
non-ASCII text and ``\\u003C``-style escapes that a re-serialisation would
change.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_prefs as cp
from privacy_inspector.browsers.cookie_rules import CookieRule
from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core.records import ReadError

KEEP = '"[*.]keep.example,*":{"last_modified":"13440402077589167","setting":1}'
SAMPLE = (
    '{"accessibility":{"captions":{"headless_caption_enabled":false}},'
    '"account_tracker_service_last_update":"13440402074403146",'
    '"extensions":{"settings":{"ahfgeienlihckogmohjhadlkjgocpleb":{"content_settings":[],'
    '"incognito_content_settings":[],"location":5,"manifest":{"name":"Web Store",'
    '"description":"D\\u00e9couvrir \\u003Cb>apps\\u003C/b> \\u2013 caf\u00e9 \u65e5\u672c"}}}},'
    '"intl":{"selected_languages":"fr-FR,fr,en-US,en"},'
    '"profile":{"avatar_index":26,"content_settings":{"enable_quiet_permission_ui_enabling_method":'
    '{"notifications":1},"exceptions":{"client_hints":{},"clipboard":{},'
    '"cookie_controls_metadata":{},'
    '"cookies":{' + KEEP + ','
    '"[*.]old.example,*":{"last_modified":"13440402077588760","setting":2}},'
    '"durable_storage":{},"geolocation":{}},"pref_version":1},'
    '"cookie_controls_mode":0,"name":"Personne 1 \u2014 caf\u00e9"},'
    '"vertical_tabs":{"collapsed_state":false,"uncollapsed_width":240.0}}'
)
assert json.loads(SAMPLE)  # the sample itself is valid JSON


def _profile(tmp_path: Path, text: str | None = SAMPLE, mode: int = 0o600) -> Path:
    folder = tmp_path / "Default"
    folder.mkdir()
    if text is not None:
        (folder / cp.FILE).write_bytes(text.encode("utf-8"))
        os.chmod(folder / cp.FILE, mode)
    return folder


def _raw(folder: Path) -> str:
    return (folder / cp.FILE).read_bytes().decode("utf-8")


def _cookies(folder: Path) -> dict:
    return json.loads(_raw(folder))["profile"]["content_settings"]["exceptions"]["cookies"]


def _rules(folder: Path) -> dict[str, str]:
    return {r.pattern: r.mode for r in cp.read_cookie_rules(folder)}


def test_pattern_for():
    assert cp.pattern_for("doubleclick.net") == "[*.]doubleclick.net,*"


def test_read_rules_of_the_sample(tmp_path):
    folder = _profile(tmp_path)
    assert cp.read_cookie_rules(folder) == [
        CookieRule("[*.]keep.example,*", "keep.example", "allow", "2026-11-29T05:01:17+00:00"),
        CookieRule("[*.]old.example,*", "old.example", "block", "2026-11-29T05:01:17+00:00"),
    ]


def test_read_accepts_a_profile_object(tmp_path):
    folder = _profile(tmp_path)

    class Profile:
        path = folder

    assert len(cp.read_cookie_rules(Profile())) == 2


def test_set_new_rule_changes_only_that_member(tmp_path):
    folder = _profile(tmp_path)
    before = cp.write_cookie_rules(folder, {"doubleclick.net": "block"})
    assert before == {"[*.]doubleclick.net,*": None}
    raw = _raw(folder)
    entry = _cookies(folder)["[*.]doubleclick.net,*"]
    assert entry["setting"] == 2 and set(entry) == {"last_modified", "setting"}
    # Where Chromium's sorted keys put it: before "[*.]keep.example,*".
    added = '"[*.]doubleclick.net,*":' + json.dumps(entry, separators=(",", ":")) + ","
    at = SAMPLE.index(KEEP)
    assert raw == SAMPLE[:at] + added + SAMPLE[at:]
    assert _rules(folder)["[*.]doubleclick.net,*"] == "block"
    assert stat.S_IMODE(os.stat(folder / cp.FILE).st_mode) == 0o600


def test_replace_and_restore_give_back_the_original_bytes(tmp_path):
    folder = _profile(tmp_path)
    before = cp.write_cookie_rules(folder, {"old.example": "session", "new.example": "allow"})
    assert before == {
        "[*.]old.example,*": '{"last_modified":"13440402077588760","setting":2}',
        "[*.]new.example,*": None,
    }
    assert _rules(folder) == {"[*.]keep.example,*": "allow", "[*.]old.example,*": "session",
                              "[*.]new.example,*": "allow"}
    assert KEEP in _raw(folder)
    cp.restore_cookie_rules(folder, before)
    assert _raw(folder) == SAMPLE


def test_remove_each_position_and_restore(tmp_path):
    folder = _profile(tmp_path)
    # The last member, then the first, then the only one left.
    for domains in (["old.example"], ["keep.example"], ["keep.example", "old.example"]):
        before = cp.write_cookie_rules(folder, dict.fromkeys(domains))
        assert set(before) == {cp.pattern_for(d) for d in domains}
        assert all(v is not None for v in before.values())
        assert not set(_cookies(folder)) & set(before)
        json.loads(_raw(folder))
        cp.restore_cookie_rules(folder, before)
        assert _raw(folder) == SAMPLE
    assert '"cookies":{}' not in SAMPLE


def test_remove_all_leaves_an_empty_object(tmp_path):
    folder = _profile(tmp_path)
    cp.write_cookie_rules(folder, {"keep.example": None, "old.example": None})
    assert '"cookie_controls_metadata":{},"cookies":{},"durable_storage"' in _raw(folder)


def test_removing_an_absent_rule_writes_nothing(tmp_path):
    folder = _profile(tmp_path, mode=0o640)
    mtime = os.stat(folder / cp.FILE).st_mtime_ns
    assert cp.write_cookie_rules(folder, {"absent.example": None}) == {
        "[*.]absent.example,*": None}
    assert _raw(folder) == SAMPLE
    assert os.stat(folder / cp.FILE).st_mtime_ns == mtime


def test_keeps_permission_bits(tmp_path):
    folder = _profile(tmp_path, mode=0o640)
    cp.write_cookie_rules(folder, {"x.example": "block"})
    assert stat.S_IMODE(os.stat(folder / cp.FILE).st_mode) == 0o640


# In the expected texts, R stands for the new member and PATH_TO for the new path.
RULE = '"[*.]doubleclick.net,*":{"last_modified":"STAMP","setting":2}'
PATH_TO = '"content_settings":{"exceptions":{"cookies":{R}}}'


@pytest.mark.parametrize(("text", "expected"), [
    ('{"profile":{"name":"A"}}', '{"profile":{' + PATH_TO + ',"name":"A"}}'),
    ('{"profile":{"avatar_index":2}}', '{"profile":{"avatar_index":2,' + PATH_TO + '}}'),
    ('{"profile":{"content_settings":{"pref_version":1}}}',
     '{"profile":{"content_settings":{"exceptions":{"cookies":{R}},"pref_version":1}}}'),
    ('{"profile":{"content_settings":{"exceptions":{"clipboard":{}}}}}',
     '{"profile":{"content_settings":{"exceptions":{"clipboard":{},"cookies":{R}}}}}'),
    ('{"intl":{},"vertical_tabs":{}}', '{"intl":{},"profile":{' + PATH_TO + '},"vertical_tabs":{}}'),
    ('{}', '{"profile":{' + PATH_TO + '}}'),
    (' {\n}\n', ' {"profile":{' + PATH_TO + '}\n}\n'),
])
def test_missing_objects_are_created(tmp_path, text, expected):
    folder = _profile(tmp_path, text)
    before = cp.write_cookie_rules(folder, {"doubleclick.net": "block"})
    assert before == {"[*.]doubleclick.net,*": None}
    stamp = _cookies(folder)["[*.]doubleclick.net,*"]["last_modified"]
    assert _raw(folder) == expected.replace("{R}", "{" + RULE.replace("STAMP", stamp) + "}")
    assert _rules(folder) == {"[*.]doubleclick.net,*": "block"}
    cp.restore_cookie_rules(folder, before)
    assert _rules(folder) == {}
    assert '"cookies":{}' in _raw(folder)


def test_missing_file_is_created_with_only_the_rule(tmp_path):
    folder = _profile(tmp_path, None)
    assert cp.read_cookie_rules(folder) == []
    cp.write_cookie_rules(folder, {"doubleclick.net": "session"})
    prefs = json.loads(_raw(folder))
    assert list(prefs) == ["profile"] and list(prefs["profile"]) == ["content_settings"]
    assert _rules(folder) == {"[*.]doubleclick.net,*": "session"}
    assert stat.S_IMODE(os.stat(folder / cp.FILE).st_mode) == 0o600


def test_missing_file_and_only_removals_creates_nothing(tmp_path):
    folder = _profile(tmp_path, None)
    cp.write_cookie_rules(folder, {"doubleclick.net": None})
    assert not (folder / cp.FILE).exists()


def test_missing_profile_folder(tmp_path):
    with pytest.raises(WriteError, match="does not exist"):
        cp.write_cookie_rules(tmp_path / "nope", {"doubleclick.net": "block"})


@pytest.mark.parametrize("text", ['{"profile":', "not json", "[1, 2]", '"text"', "\xff{}"])
def test_not_a_json_object_is_left_alone(tmp_path, text):
    folder = _profile(tmp_path, None)
    data = text.encode("latin-1") if text.startswith("\xff") else text.encode()
    (folder / cp.FILE).write_bytes(data)
    with pytest.raises(WriteError, match="nothing was changed"):
        cp.write_cookie_rules(folder, {"doubleclick.net": "block"})
    with pytest.raises(WriteError):
        cp.restore_cookie_rules(folder, {"[*.]doubleclick.net,*": None})
    assert (folder / cp.FILE).read_bytes() == data
    with pytest.raises(ReadError):
        cp.read_cookie_rules(folder)


@pytest.mark.parametrize("text", [
    '{"profile":[]}',
    '{"profile":{"content_settings":[{"exceptions":{}}]}}',
    '{"profile":{"content_settings":{"exceptions":{"cookies":[]}}}}',
    '{"profile":{"content_settings":{"exceptions":"x"}}}',
])
def test_a_path_node_that_is_not_an_object(tmp_path, text):
    folder = _profile(tmp_path, text)
    with pytest.raises(WriteError, match="is not a JSON object"):
        cp.write_cookie_rules(folder, {"doubleclick.net": "block"})
    assert _raw(folder) == text
    with pytest.raises(ReadError, match="not a JSON object"):
        cp.read_cookie_rules(folder)


@pytest.mark.parametrize("domain", [
    "", " ", ".", "a/b.com", "a.com?x", "a.com#x", "u@a.com", "a.com:443", "[::1]", "*.a.com",
    "a b.com", "a..com", ".a.com", "a,b.com", None,
])
def test_invalid_domain_writes_nothing(tmp_path, domain):
    folder = _profile(tmp_path)
    with pytest.raises(WriteError, match="not a domain name"):
        cp.write_cookie_rules(folder, {"fine.example": "block", domain: "block"})
    assert _raw(folder) == SAMPLE


def test_unknown_mode_writes_nothing(tmp_path):
    folder = _profile(tmp_path)
    with pytest.raises(WriteError, match="unknown cookie rule"):
        cp.write_cookie_rules(folder, {"fine.example": "deny"})
    assert _raw(folder) == SAMPLE


def test_domain_is_lowercased_and_punycoded(tmp_path):
    folder = _profile(tmp_path, "{}")
    before = cp.write_cookie_rules(folder, {" Caf\u00e9.Example. ": "block"})
    assert before == {"[*.]xn--caf-dma.example,*": None}
    (rule,) = cp.read_cookie_rules(folder)
    assert (rule.domain, rule.mode) == ("xn--caf-dma.example", "block")


def test_restore_rejects_bad_saved_values(tmp_path):
    folder = _profile(tmp_path)
    with pytest.raises(WriteError, match="not JSON"):
        cp.restore_cookie_rules(folder, {"[*.]a.example,*": '{"setting":'})
    assert _raw(folder) == SAMPLE


def test_pretty_printed_file_keeps_its_layout(tmp_path):
    pretty = json.dumps(json.loads(SAMPLE), indent=3, ensure_ascii=False) + "\n"
    folder = _profile(tmp_path, pretty)
    before = cp.write_cookie_rules(folder, {"old.example": None, "b.example": "allow"})
    assert before["[*.]old.example,*"] == (
        '{\n                  "last_modified": "13440402077588760",\n'
        '                  "setting": 2\n               }')
    cp.restore_cookie_rules(folder, before)
    assert json.loads(_raw(folder)) == json.loads(pretty)
    assert _raw(folder).replace("\n", "").replace(" ", "") == pretty.replace(
        "\n", "").replace(" ", "")


def _with_cookies(members: dict) -> str:
    return json.dumps({"profile": {"content_settings": {"exceptions": {"cookies": members}}}})


def test_read_skips_expired_and_unknown_settings(tmp_path):
    now = cp._now_micros()
    folder = _profile(tmp_path, _with_cookies({
        "[*.]expired.example,*": {"expiration": str(now - 10**6), "setting": 2},
        "[*.]later.example,*": {"expiration": str(now + 3600 * 10**6), "setting": 2,
                                "last_modified": "0"},
        "[*.]never.example,*": {"expiration": "0", "setting": 4},
        "[*.]ask.example,*": {"setting": 3},
        "[*.]default.example,*": {"setting": 0},
        "[*.]nosetting.example,*": {"last_modified": "13440402077588760"},
        "[*.]text.example,*": {"setting": "2"},
        "[*.]list.example,*": [2],
        "https://port.example:8443,*": {"setting": 1},
        "*,https://[*.]third.example": {"setting": 2},
    }))
    assert cp.read_cookie_rules(folder) == [
        CookieRule("*,https://[*.]third.example", "third.example", "block", None),
        CookieRule("[*.]later.example,*", "later.example", "block", None),
        CookieRule("[*.]never.example,*", "never.example", "session", None),
        CookieRule("https://port.example:8443,*", "port.example", "allow", None),
    ]


def test_read_missing_path_is_no_rules(tmp_path):
    assert cp.read_cookie_rules(_profile(tmp_path, '{"profile":{"name":"x"}}')) == []


def test_read_unreadable_file(tmp_path):
    folder = _profile(tmp_path, None)
    (folder / cp.FILE).mkdir()  # a folder where the file should be
    with pytest.raises(ReadError, match="cannot be read"):
        cp.read_cookie_rules(folder)


def test_repeated_key_uses_the_last_and_removes_all(tmp_path):
    text = ('{"profile":{"content_settings":{"exceptions":{"cookies":{'
            '"[*.]a.example,*":{"setting":1},"[*.]b.example,*":{"setting":1},'
            '"[*.]a.example,*":{"setting":2}}}}}}')
    folder = _profile(tmp_path, text)
    assert _rules(folder) == {"[*.]a.example,*": "block", "[*.]b.example,*": "allow"}
    before = cp.write_cookie_rules(folder, {"a.example": None})
    assert before == {"[*.]a.example,*": '{"setting":2}'}
    assert _raw(folder).count("a.example") == 0
    assert _rules(folder) == {"[*.]b.example,*": "allow"}


def test_write_failure_leaves_the_file(tmp_path, monkeypatch):
    folder = _profile(tmp_path)

    def fail(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cp.paths, "write_file_atomically", fail)
    with pytest.raises(WriteError, match="No space left"):
        cp.write_cookie_rules(folder, {"doubleclick.net": "block"})
    assert _raw(folder) == SAMPLE
