"""Decodings of revealed values: vendor formats, JSON, URL-encoding, Base64, timestamps.

Every expected time below was computed independently (``date -u -d @<seconds>``).
"""

from __future__ import annotations

import ast
import base64
import json
import logging
import random
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from privacy_inspector.core import decode
from privacy_inspector.core.decode import Decoding, decode_value

# --- vendor formats ---------------------------------------------------------------------

VENDOR_CASES = [
    pytest.param(
        "_ga",
        "GA1.2.1234567890.1700000000",
        Decoding(
            "Google Analytics client id",
            "2023-11-14 22:13:20 UTC: when this browser was first seen\n"
            "Client id: 1234567890.1700000000 (a random number and that time; "
            "it recognises this browser)\n"
            "GA1.2: the cookie's format version and domain level",
        ),
        id="_ga",
    ),
    pytest.param(
        "_gid",
        "GA1.2.987654321.1700086400",
        Decoding(
            "Google Analytics daily id",
            "2023-11-15 22:13:20 UTC: when this id was created (it lasts 24 hours)\n"
            "Daily id: 987654321.1700086400 (a random number and that time; "
            "it groups one day's visits)\n"
            "GA1.2: the cookie's format version and domain level",
        ),
        id="_gid",
    ),
    pytest.param(
        "_ga_JT1Y3HZ65M",
        "GS1.1.1726648738.4.1.1726648840.0.0.0",
        Decoding(
            "Google Analytics 4 session",
            "2024-09-18 08:38:58 UTC: when the current visit started (also its session id)\n"
            "Visit number: 4\n"
            "Engaged visit: yes\n"
            "2024-09-18 08:40:40 UTC: the latest activity in this visit",
        ),
        id="_ga_<container> GS1",
    ),
    pytest.param(
        "_ga_LQT1T7TBSN",
        "GS2.1.s1775474987$o2$g0$t1775474989$j58$l0$h0",
        Decoding(
            "Google Analytics 4 session",
            "2026-04-06 11:29:47 UTC: when the current visit started (also its session id)\n"
            "Visit number: 2\n"
            "Engaged visit: no\n"
            "2026-04-06 11:29:49 UTC: the latest activity in this visit",
        ),
        id="_ga_<container> GS2",
    ),
    pytest.param(
        "__utma",
        "173272373.1432478923.1359285542.1359371942.1359458342.3",
        Decoding(
            "Google Analytics (Urchin) visitor",
            "2013-01-27 11:19:02 UTC: first visit\n"
            "2013-01-28 11:19:02 UTC: previous visit\n"
            "2013-01-29 11:19:02 UTC: current visit\n"
            "Number of visits: 3\n"
            "Visitor id: 1432478923.1359285542 (a random number and the first visit's time)\n"
            "Domain hash: 173272373 (stands for the site's domain)",
        ),
        id="__utma",
    ),
    pytest.param(
        "__utmb",
        "173272373.4.10.1359458342",
        Decoding(
            "Google Analytics (Urchin) visit",
            "2013-01-29 11:19:02 UTC: when this visit started\n"
            "Pages viewed in this visit: 4\n"
            "Domain hash: 173272373 (stands for the site's domain)",
        ),
        id="__utmb",
    ),
    pytest.param(
        "__utmz",
        "173272373.1359285542.2.1.utmcsr=news.example.org|utmccn=(referral)|utmcmd=referral"
        "|utmcct=/story/1",
        Decoding(
            "Google Analytics (Urchin) traffic source",
            "2013-01-27 11:19:02 UTC: when this traffic source was recorded\n"
            "Visit number then: 2\n"
            "Different traffic sources seen: 1\n"
            "Source: news.example.org\n"
            "Campaign: (referral)\n"
            "Medium: referral\n"
            "Ad content: /story/1\n"
            "Domain hash: 173272373 (stands for the site's domain)",
        ),
        id="__utmz",
    ),
    pytest.param(
        "_gcl_au",
        "1.1.1233498191.1700000000",
        Decoding(
            "Google Ads conversion linker id",
            "2023-11-14 22:13:20 UTC: when this id was created (first visit with the Google tag)\n"
            "Id: 1233498191.1700000000 (a random number and that time; it links ad clicks"
            " to later purchases or sign-ups)\n"
            "1.1: the cookie's format version and domain level",
        ),
        id="_gcl_au",
    ),
    pytest.param(
        "_gcl_aw",
        "GCL.1700000000.CjwKCAiA9ourBhAVEiwA3L5RFlOwWx_BwE",
        Decoding(
            "Google Ads click",
            "2023-11-14 22:13:20 UTC: when you arrived by clicking a Google ad\n"
            "Click id (gclid): CjwKCAiA9ourBhAVEiwA3L5RFlOwWx_BwE (names that one click to Google)",
        ),
        id="_gcl_aw",
    ),
    pytest.param(
        "_fbp",
        "fb.1.1596403881668.1116446470",
        Decoding(
            "Meta Pixel browser id",
            "2020-08-02 21:31:21 UTC: when this browser id was created "
            "(first visit with the Meta Pixel)\n"
            "Random number: 1116446470 (makes the id unique to this browser)\n"
            "Domain level: 1 (how many dots the domain it is set for has)",
        ),
        id="_fbp",
    ),
    pytest.param(
        "_fbc",
        "fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk",
        Decoding(
            "Meta ad click",
            "2019-04-08 22:49:01 UTC: when you arrived from a link on Facebook or Instagram\n"
            "Click id (fbclid): IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk"
            " (names that one click to Meta)\n"
            "Domain level: 1 (how many dots the domain it is set for has)",
        ),
        id="_fbc",
    ),
    pytest.param(
        "__hstc",
        "20629287.8a1b2c3d4e5f60718293a4b5c6d7e8f9.1700000000000.1700086400000.1700172800000.3",
        Decoding(
            "HubSpot visitor",
            "2023-11-14 22:13:20 UTC: first visit\n"
            "2023-11-15 22:13:20 UTC: previous visit\n"
            "2023-11-16 22:13:20 UTC: current visit\n"
            "Number of visits: 3\n"
            "Visitor id (hubspotutk): 8a1b2c3d4e5f60718293a4b5c6d7e8f9\n"
            "Domain hash: 20629287 (stands for the site's domain)",
        ),
        id="__hstc",
    ),
    pytest.param(
        "__hssc",
        "20629287.2.1700172800000",
        Decoding(
            "HubSpot visit",
            "2023-11-16 22:13:20 UTC: when this visit started\n"
            "Pages viewed in this visit: 2\n"
            "Domain hash: 20629287 (stands for the site's domain)",
        ),
        id="__hssc",
    ),
    pytest.param(
        "_pk_id.1.1fff",
        "6c5b4ea5f9d4e6c8.1700000000.",
        Decoding(
            "Matomo visitor id",
            "2023-11-14 22:13:20 UTC: when this visitor id was created (first visit)\n"
            "Visitor id: 6c5b4ea5f9d4e6c8 (random; it recognises this browser)",
        ),
        id="_pk_id Matomo 4",
    ),
    pytest.param(
        "_pk_id.3.a1b2",
        "6c5b4ea5f9d4e6c8.1700000000.5.1700172800.1700086400.",
        Decoding(
            "Matomo visitor id",
            "2023-11-14 22:13:20 UTC: when this visitor id was created (first visit)\n"
            "Number of visits: 5\n"
            "2023-11-16 22:13:20 UTC: current visit\n"
            "2023-11-15 22:13:20 UTC: previous visit\n"
            "Visitor id: 6c5b4ea5f9d4e6c8 (random; it recognises this browser)",
        ),
        id="_pk_id Piwik",
    ),
    pytest.param(
        "_pk_ses.1.1fff",
        "1",
        Decoding(
            "Matomo visit marker",
            "No data: while this cookie exists (until 30 minutes after the last page view),"
            " Matomo counts the page views as one visit",
        ),
        id="_pk_ses",
    ),
    pytest.param(
        "optimizelyEndUserId",
        "oeu1700000000000r0.6523906458262862",
        Decoding(
            "Optimizely visitor id",
            "2023-11-14 22:13:20 UTC: when this visitor id was created (first visit)\n"
            "Random part: 0.6523906458262862",
        ),
        id="optimizelyEndUserId",
    ),
    pytest.param(
        # A version-1 UUID built by hand for 1700000000 s (100-ns steps since 1582-10-15).
        "_uetvid",
        "04afc000833b11ee9d2f1b2b8e4c2c41",
        Decoding(
            "Microsoft Advertising visitor id",
            "2023-11-14 22:13:20 UTC: when this visitor id was created "
            "(first visit with the UET tag)\n"
            "Id: 04afc000833b11ee9d2f1b2b8e4c2c41 (a time-based id: that time and random digits)",
        ),
        id="_uetvid",
    ),
    pytest.param(
        "_uetvid",
        "9c1de890149211f08b136f67133ddd93|l8e3z6|1744128044851|3|1|bat.bing.com/p/insights/c/e",
        Decoding(
            "Microsoft Advertising visitor id",
            "2025-04-08 16:00:36 UTC: when this visitor id was created "
            "(first visit with the UET tag)\n"
            "Id: 9c1de890149211f08b136f67133ddd93 (a time-based id: that time and random digits)\n"
            "2025-04-08 16:00:44 UTC: another time stored with the id",
        ),
        id="_uetvid with insights fields",
    ),
    pytest.param(
        # A real value, set alongside _gcl_au=1.1.1233498191.1775472965 (10:56:05 UTC).
        "_uetsid",
        "3706e83031a711f1b1914521f97c6ba4",
        Decoding(
            "Microsoft Advertising session id",
            "2026-04-06 10:56:07 UTC: when this session id was created (it lasts a day)\n"
            "Id: 3706e83031a711f1b1914521f97c6ba4 (a time-based id: that time and random digits)",
        ),
        id="_uetsid",
    ),
]


@pytest.mark.parametrize(("name", "value", "expected"), VENDOR_CASES)
def test_vendor_formats(name, value, expected):
    assert decode_value(name, value) == [expected]


def test_urchin_campaign_fields_are_url_decoded():
    value = (
        "173272373.1359285542.1.1.utmcsr=google|utmccn=(organic)|utmcmd=organic"
        "|utmctr=privacy%20tools"
    )
    found = decode_value("__utmz", value)
    assert [d.label for d in found] == ["Google Analytics (Urchin) traffic source", "URL-decoded"]
    assert "Search words: privacy tools\n" in found[0].text
    assert found[1].text == value.replace("%20", " ")


def test_vendor_format_is_also_read_url_decoded():
    value = "173272373.1359285542.1.1.utmcsr%3Dgoogle%7Cutmccn%3D(organic)%7Cutmcmd%3Dorganic"
    found = decode_value("__utmz", value)
    assert found[0].label == "Google Analytics (Urchin) traffic source"
    assert "Source: google\nCampaign: (organic)\nMedium: organic\n" in found[0].text
    assert found[1] == Decoding(
        "URL-decoded", "173272373.1359285542.1.1.utmcsr=google|utmccn=(organic)|utmcmd=organic"
    )


def test_a_vendor_rule_replaces_the_generic_timestamps():
    # 1234567890 (the random part) would otherwise read as 2009-02-13.
    labels = [d.label for d in decode_value("_ga", "GA1.1.1234567890.1700000000")]
    assert labels == ["Google Analytics client id"]


def test_an_unknown_value_under_a_vendor_name_falls_back_to_the_generic_rules():
    assert decode_value("_ga", "not-a-client-id") == []
    assert decode_value("_fbp", "fb.1.1700000000000") == [
        Decoding("Timestamp", "2023-11-14 22:13:20 UTC: 1700000000000 read as milliseconds since 1970")
    ]


def test_vendor_names_must_match_exactly_or_by_their_prefix():
    # _ga's format under another name is only a pair of numbers.
    assert decode_value("ga", "GA1.2.1234567890.1700000000") == [
        Decoding("Timestamp", "2009-02-13 23:31:30 UTC: 1234567890 read as seconds since 1970"),
        Decoding("Timestamp", "2023-11-14 22:13:20 UTC: 1700000000 read as seconds since 1970"),
    ]


def test_times_do_not_depend_on_the_local_time_zone(monkeypatch):
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is Unix-only")
    expected = decode_value("_ga", "GA1.2.1234567890.1700000000")
    try:
        monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
        time.tzset()
        assert decode_value("_ga", "GA1.2.1234567890.1700000000") == expected
    finally:
        monkeypatch.undo()
        time.tzset()


# --- URL-encoding, JSON, Base64 ---------------------------------------------------------


def test_url_encoded_json():
    value = "%7B%22ts%22%3A1689172426315%2C%22d%22%3A%22www.example.com%22%2C%22h%22%3A%22%2F%22%7D"
    assert decode_value("_hp2_ses_props.1", value) == [
        Decoding("JSON", '{\n  "ts": 1689172426315,\n  "d": "www.example.com",\n  "h": "/"\n}'),
        Decoding("URL-decoded", '{"ts":1689172426315,"d":"www.example.com","h":"/"}'),
        Decoding("Timestamp", "2023-07-12 14:33:46 UTC: 1689172426315 read as milliseconds since 1970"),
    ]


def test_url_decoding_turns_plus_into_space_and_undoes_double_encoding():
    assert decode_value("q", "caf%C3%A9+au+lait") == [Decoding("URL-decoded", "café au lait")]
    assert decode_value("q", "a%2520b") == [Decoding("URL-decoded", "a b")]
    assert decode_value("q", "bad%FFbyte") == [Decoding("URL-decoded", "bad\ufffdbyte")]


def test_url_decoding_matches_urllib_on_awkward_input():
    from urllib.parse import unquote_plus

    rng = random.Random(7)
    pieces = ["%", "+", "a", "\\", "\\x41", "%C3", "%A9", "%ff", "%e2%82", "%25", "%5C", "é",
              "\ud800", "%F0%9F%98%80", " ", "9", "G", "%0"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 25)))
        assert decode._unquote_plus(text) == unquote_plus(text), repr(text)


def test_base64_json():
    payload = {"user": "élève", "consent": {"analytics": False}, "v": 2}
    value = base64.b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
    assert decode_value("prefs", value) == [
        Decoding(
            "JSON",
            '{\n  "user": "élève",\n  "consent": {\n    "analytics": false\n  },\n  "v": 2\n}',
        ),
        Decoding("Base64", '{"user": "élève", "consent": {"analytics": false}, "v": 2}'),
    ]


def test_url_safe_base64_without_padding():
    value = base64.urlsafe_b64encode(b"https://example.com/?a=1&b=~~~").decode().rstrip("=")
    assert "-" in value or "_" in value
    assert decode_value("r", value) == [Decoding("Base64", "https://example.com/?a=1&b=~~~")]


def test_url_encoded_base64():
    value = quote(base64.b64encode(b"account 42 signed in").decode(), safe="")
    assert decode_value("s", value) == [
        Decoding("URL-decoded", "YWNjb3VudCA0MiBzaWduZWQgaW4="),
        Decoding("Base64", "account 42 signed in"),
    ]


def test_a_json_string_holding_json_is_decoded_one_more_level():
    value = json.dumps(json.dumps({"a": [1, "x"]}))
    assert decode_value("k", value) == [Decoding("JSON", '{\n  "a": [\n    1,\n    "x"\n  ]\n}')]


def test_json_keeps_key_order_large_integers_and_non_finite_numbers():
    assert decode_value("k", '{"b": 1, "a": 100000000000000000000000000001}') == [
        Decoding("JSON", '{\n  "b": 1,\n  "a": 100000000000000000000000000001\n}')
    ]
    assert decode_value("k", "[NaN, 1e400, 0.5]") == [
        Decoding("JSON", "[\n  NaN,\n  Infinity,\n  0.5\n]")
    ]


@pytest.mark.parametrize(
    "value",
    [
        "9f86d081884c7d659a2feaa0c55ad015",  # a hex hash
        "dc50fd3f-b058-11ef-8b77-cb4199e49f14",  # a UUID
        "d25fd280",  # hex that would decode to printable "wn_wo4"
        "darkmode",
        "username",
        "enpjdjlf",  # a lower-case "word" that would decode to printable "zzcv9_"
        "true",
        "false",
        "null",
        "12",
        "3.14",
        "",
        "   ",
        '"just text"',
        "[]",
        "{}",
        "{not json",
        "9999999999",  # 2286: outside 2000-2040
        "12345678901",  # 11 digits: neither seconds nor milliseconds
        "1700000000123456",  # 16 digits
    ],
)
def test_values_nothing_helps_with(value):
    assert decode_value("pref", value) == []


# --- generic timestamps -----------------------------------------------------------------


def test_unix_seconds_and_milliseconds():
    assert decode_value("last_seen", "1700000000") == [
        Decoding("Timestamp", "2023-11-14 22:13:20 UTC: 1700000000 read as seconds since 1970")
    ]
    assert decode_value("ts", "v2|1710000000000|x") == [
        Decoding("Timestamp", "2024-03-09 16:00:00 UTC: 1710000000000 read as milliseconds since 1970")
    ]


def test_at_most_three_timestamps_each_once():
    value = "1700000000.1700000000.1700086400.1700172800.1710000000"
    assert decode_value("t", value) == [
        Decoding("Timestamp", "2023-11-14 22:13:20 UTC: 1700000000 read as seconds since 1970"),
        Decoding("Timestamp", "2023-11-15 22:13:20 UTC: 1700086400 read as seconds since 1970"),
        Decoding("Timestamp", "2023-11-16 22:13:20 UTC: 1700172800 read as seconds since 1970"),
    ]


def test_timestamp_range_ends():
    assert decode_value("t", "946684799") == []  # 9 digits anyway
    assert decode_value("t", "0946684800")[0].text.startswith("2000-01-01 00:00:00 UTC")
    assert decode_value("t", "2208988799")[0].text.startswith("2039-12-31 23:59:59 UTC")
    assert decode_value("t", "2208988800") == []


# --- long values ------------------------------------------------------------------------


def test_a_long_value_gets_a_note():
    assert decode_value("blob", "a" * 25_000) == [
        Decoding("Note", "Only the first 20,000 of the value's 25,000 characters were decoded.")
    ]


def test_only_the_first_limit_characters_are_decoded():
    found = decode_value("blob", "%41" * 10, limit=9)
    assert found == [
        Decoding("URL-decoded", "AAA"),
        Decoding("Note", "Only the first 9 of the value's 30 characters were decoded."),
    ]


def test_truncated_base64_still_decodes():
    value = base64.b64encode(b"a long sentence of plain words " * 10).decode()
    found = decode_value("b", value, limit=101)
    assert found[0].label == "Base64"
    # 101 characters: the 100 of whole 4-character groups give 75 bytes.
    assert found[0].text == "a long sentence of plain words " * 2 + "a long senten"
    assert found[1] == Decoding(
        "Note", f"Only the first 101 of the value's {len(value)} characters were decoded."
    )


# --- robustness -------------------------------------------------------------------------

_NAMES = ["x", "", "_ga", "_gid", "_ga_ABC123", "__utma", "__utmb", "__utmz", "_gcl_au",
          "_gcl_aw", "_fbp", "_fbc", "__hstc", "__hssc", "_pk_id.1.1fff", "_pk_ses.1.1fff",
          "optimizelyEndUserId", "_uetvid", "_uetsid"]
_PIECES = ["%", "%7B", "%22", "%7D", "%ff", "%C3%A9", "+", "=", "==", ".", "|", "$", "{", "}",
           "[", "]", '"', ":", ",", "\\", "\\u", "\ud800", "\udfff", "\x00", "\n", " ", "é",
           "日本", "GA1", "GS1", "GS2", "fb", "GCL", "oeu", "s", "o", "t", "1", "0", "9",
           "1700000000", "1700000000000", "99999999999999999999", "eyJ", "fQ", "AAAA", "-", "_",
           "/", "r", "a", "Z"]


def _check(found: object) -> None:
    assert isinstance(found, list)
    for item in found:
        assert isinstance(item, Decoding)
        assert isinstance(item.label, str) and item.label
        assert isinstance(item.text, str)


def test_random_values_never_raise():
    rng = random.Random(20_000)
    for _ in range(4000):
        value = "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 40)))
        _check(decode_value(rng.choice(_NAMES), value))
    for _ in range(1000):
        value = "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 30)))
        _check(decode_value(rng.choice(_NAMES), value, limit=rng.randint(-5, 40)))


@pytest.mark.parametrize(
    "value",
    [
        "[" * 20_000,
        "[" * 10_000 + "]" * 10_000,
        "[" * 200 + "]" * 200,
        "%" * 19_997 + "%41",
        "%41" * 6_666,
        "\ud800\udfff%ff" * 4_000,
        "1" * 20_000,
        "1700000000 " * 1_818,
        "A" * 20_000,
        "eyJ" * 6_666,
        json.dumps({f"k{i}": [i, 1.5, "x" * 5] for i in range(600)}),
        quote(json.dumps({f"k{i}": i for i in range(1_000)})),
        base64.b64encode(json.dumps(list(range(2_500))).encode()).decode(),
    ],
    ids=lambda value: f"{value[:12]!r}x{len(value)}",
)
def test_large_values_are_quick(value):
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        _check(decode_value("blob", value))
        best = min(best, time.perf_counter() - start)
    # A few milliseconds on a desktop; the bound leaves room for slow CI machines.
    assert best < 0.05


def test_non_strings_give_nothing():
    assert decode_value("x", None) == []  # type: ignore[arg-type]
    assert decode_value(None, "1700000000")[0].label == "Timestamp"  # type: ignore[arg-type]


def test_a_failing_decoder_gives_nothing_and_never_logs_the_value(monkeypatch, caplog):
    secret = "GA1.2.1234567890.1700000000-secret"

    def broken(*args: object) -> None:
        raise ValueError(f"cannot parse {args!r}")

    monkeypatch.setattr(decode, "_vendor", broken)
    with caplog.at_level(logging.DEBUG, logger="privacy_inspector"):
        assert decode_value("_ga", secret) == []
    assert caplog.records
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert all(record.exc_info is None for record in caplog.records)


def test_decoding_is_immutable():
    item = Decoding("JSON", "{}")
    with pytest.raises(AttributeError):
        item.text = "changed"  # type: ignore[misc]


def test_core_module_imports_no_qt():
    tree = ast.parse(Path(decode.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert not any(name.split(".")[0] == "PySide6" for name in imported)
    assert not any(name.startswith("privacy_inspector.gui") for name in imported)


def test_a_vendor_format_is_one_row_of_the_table(monkeypatch):
    names = [f.name for f in decode._FORMATS]
    assert len(names) == len(set(names))
    row = decode._Format("_new_id", "New vendor id", decode._dots("id+", "ts"), "ts", "s",
                         "when this id was created", ("Id: {id}", "Visits: {id:n}"))
    monkeypatch.setitem(decode._EXACT, "_new_id", row)
    assert decode_value("_new_id", "abc.1700000000") == [Decoding(
        "New vendor id", "2023-11-14 22:13:20 UTC: when this id was created\nId: abc")]
    assert decode_value("_new_id", "abc.1") == []  # no time, no match (and 1 is no timestamp)
