"""Chromium's per-site cookie rules: ``<profile>/Preferences``.

Chromium keeps the exceptions of Settings > Privacy > Third-party cookies /
Site data ("Sites that can always use cookies", "Sites that can never use
cookies", "Always clear cookies when windows are closed") in the profile's
``Preferences`` file, a JSON object written on one line, at
``profile.content_settings.exceptions.cookies``.  That is an object whose keys
are ``"<primary pattern>,<secondary pattern>"`` and whose values say what the
rule does; a rule for a domain and all its subdomains has the primary pattern
``[*.]doubleclick.net`` and the secondary ``*``.  ``setting`` is 1 = allow,
2 = block, 4 = session only (the cookies are deleted when the browser closes).

Checked with Chromium 156 (its own settings page set one rule of each kind in
a new profile): each entry was exactly
``"[*.]example.com,*":{"last_modified":"13440402077588760","setting":2}``, the
time in microseconds since 1601-01-01 UTC as a decimal string, and nothing
else; other writers may add ``expiration`` (same unit, "0" = never), which
:func:`read_cookie_rules` honours.  The pref is not protected: ``Secure
Preferences`` and ``protection.macs`` held no MAC for ``content_settings``,
and Chromium 156 obeyed, kept and did not reset a rule written here (see
tests/real/test_real_chromium_block.py), which also shows that a rule for
``[*.]doubleclick.net`` governs the frame of ``ad.doubleclick.net``.

Writing never re-serialises the file.  A small scanner walks the JSON text to
the byte span of the ``cookies`` object and of each of its members
(``json.decoder.scanstring`` for keys, ``JSONDecoder.raw_decode`` to step over
values), and only the members we change are edited in the text: a value span
replaced, a member removed with its comma, or a new member inserted where
Chromium's sorted keys put it (so a rule removed and restored lands where it
was); missing objects on the way are created by inserting one member at the
deepest level that exists.  Everything else keeps its bytes (escapes
such as ``\\u003C``, key order, number spelling).  The result must parse
before it replaces the file, in one atomic rename that keeps the file's
permission bits.  The browser must be closed (the caller checks); on any
failure nothing is changed and
:class:`~privacy_inspector.browsers.sqlitewrite.WriteError` is raised.
"""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from privacy_inspector import paths
from privacy_inspector.browsers.cookie_rules import CookieRule, rule_domain
from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core.records import ReadError

__all__ = [
    "FILE", "MODES", "PATH", "pattern_for", "read_cookie_rules", "restore_cookie_rules",
    "write_cookie_rules",
]

FILE = "Preferences"
PATH = ("profile", "content_settings", "exceptions", "cookies")
MODES: dict[str, int] = {"allow": 1, "block": 2, "session": 4}
_MODE_OF = {v: k for k, v in MODES.items()}
NEW_FILE_MODE = 0o600  # what Chromium gives Preferences
_EPOCH_1601 = datetime(1601, 1, 1, tzinfo=UTC)
_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


def _profile_dir(profile: Any) -> Path:
    return Path(getattr(profile, "path", profile))


def pattern_for(domain: str) -> str:
    """The key of the rule for ``domain`` and its subdomains: ``[*.]domain,*``."""
    return f"[*.]{domain},*"


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def _host_of(pattern: str) -> str:
    rest = pattern.split("://", 1)[-1]
    if rest.startswith("[*.]"):
        rest = rest[4:]
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):  # an IPv6 literal
        return rest[: rest.find("]") + 1]
    return rest.rsplit(":", 1)[0] if ":" in rest else rest


def _domain_of(key: str) -> str:
    primary, _, secondary = key.partition(",")
    for part in (primary, secondary):
        if part and part != "*":
            return _host_of(part)
    return "*"


def _micros(value: Any) -> int | None:
    """A Chromium time (µs since 1601, usually as a string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int):
        return value
    return None


def _iso(micros: int | None) -> str | None:
    if not micros or micros <= 0:
        return None
    try:
        return (_EPOCH_1601 + timedelta(microseconds=micros)).isoformat(timespec="seconds")
    except OverflowError:
        return None


def _now_micros() -> int:
    return int(time.time() * 1_000_000) + 11_644_473_600_000_000


def read_cookie_rules(profile: Any) -> list[CookieRule]:
    """The cookie rules of a Chromium profile (a Profile or its folder), by pattern.

    No ``Preferences`` means no rules.  Rules whose expiration has passed, and
    settings other than allow, block and session, are left out.  ReadError
    when the file cannot be read or is not a JSON object.
    """
    path = _profile_dir(profile) / FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ReadError(f"{path} cannot be read ({exc.strerror or exc})") from exc
    try:
        prefs = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"{path} is not a Chromium Preferences file (not JSON: {exc})") from exc
    node: Any = prefs
    for i, key in enumerate(PATH):
        if not isinstance(node, dict):
            where = ".".join(PATH[:i]) or "the file"
            raise ReadError(f"{path} is not a Chromium Preferences file "
                            f"({where} is not a JSON object)")
        if key not in node:
            return []
        node = node[key]
    if not isinstance(node, dict):
        raise ReadError(f"{path}: {'.'.join(PATH)} is not a JSON object")
    now = _now_micros()
    rules = []
    for key, value in sorted(node.items()):
        if not isinstance(value, dict):
            continue
        setting = value.get("setting")
        mode = _MODE_OF.get(setting) if isinstance(setting, int) and not isinstance(
            setting, bool) else None
        if mode is None:
            continue
        expiration = _micros(value.get("expiration"))
        if expiration and 0 < expiration <= now:
            continue
        rules.append(CookieRule(key, _domain_of(key), mode,
                                _iso(_micros(value.get("last_modified")))))
    return rules


# --------------------------------------------------------------------------
# Finding spans in the JSON text
# --------------------------------------------------------------------------


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


class _Object:
    """The members of one JSON object in ``text``: spans, not values."""

    def __init__(self, text: str, start: int):
        # start: the index of "{"
        self.start = start
        self.members: list[tuple[str, int, int, int]] = []  # key, key start, value start, end
        i = _skip_ws(text, start + 1)
        if text[i] == "}":
            self.end = i + 1
            return
        while True:
            if text[i] != '"':
                raise ValueError(f"a key was expected at {i}")
            key, after = scanstring(text, i + 1)
            colon = _skip_ws(text, after)
            if text[colon] != ":":
                raise ValueError(f"':' was expected at {colon}")
            vstart = _skip_ws(text, colon + 1)
            _, vend = _DECODER.raw_decode(text, vstart)
            self.members.append((key, i, vstart, vend))
            i = _skip_ws(text, vend)
            if text[i] == "}":
                self.end = i + 1
                return
            if text[i] != ",":
                raise ValueError(f"',' or '}}' was expected at {i}")
            i = _skip_ws(text, i + 1)

    def find(self, key: str) -> int | None:
        """The index in members of ``key`` (the last, as json.loads takes it)."""
        found = None
        for n, member in enumerate(self.members):
            if member[0] == key:
                found = n
        return found


def _member(key: str, raw_value: str) -> str:
    return json.dumps(key, ensure_ascii=False) + ":" + raw_value


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _cookies_object(text: str, where: str) -> tuple[_Object | None, _Object, int]:
    """The ``cookies`` object, or None with the deepest object on the path and its depth."""
    i = _skip_ws(text, 0)
    if i >= len(text) or text[i] != "{":
        raise WriteError(f"{where} is not a JSON object; nothing was changed")
    obj = _Object(text, i)
    for depth, key in enumerate(PATH):
        n = obj.find(key)
        if n is None:
            return None, obj, depth
        vstart = obj.members[n][2]
        if text[vstart] != "{":
            raise WriteError(f"{where}: {'.'.join(PATH[:depth + 1])} is not a JSON object; "
                             "nothing was changed")
        obj = _Object(text, vstart)
    return obj, obj, len(PATH)


def _set_member(text: str, key: str, raw_value: str | None, where: str) -> tuple[str, str | None]:
    """``text`` with the cookie member ``key`` set to ``raw_value`` (None: removed),
    and the raw text of its value before."""
    cookies, deepest, depth = _cookies_object(text, where)
    if cookies is None:
        if raw_value is None:
            return text, None
        inner = _member(key, raw_value)
        for name in reversed(PATH[depth + 1:]):
            inner = _member(name, "{" + inner + "}")
        return _insert(text, deepest, PATH[depth], _member(PATH[depth], "{" + inner + "}")), None
    n = cookies.find(key)
    if n is None:
        if raw_value is None:
            return text, None
        return _insert(text, cookies, key, _member(key, raw_value)), None
    _, kstart, vstart, vend = cookies.members[n]
    before = text[vstart:vend]
    if raw_value is not None:
        return text[:vstart] + raw_value + text[vend:], before
    # Removed with one comma: the one after it, else the one before it.
    members = cookies.members
    if n + 1 < len(members):
        cut = (kstart, members[n + 1][1])
    elif n > 0:
        cut = (members[n - 1][3], vend)
    else:
        cut = (kstart, vend)
    text = text[:cut[0]] + text[cut[1]:]
    if any(m[0] == key for m in members[:n]):  # a repeated key: remove every copy
        return _set_member(text, key, None, where)[0], before
    return text, before


def _insert(text: str, obj: _Object, key: str, member: str) -> str:
    """``text`` with ``member`` added to ``obj`` where Chromium would have it.

    Chromium writes every object's keys sorted, so the member goes before the
    first key that sorts after it (else last): a rule removed and put back
    lands where it was, and the file reads as Chromium would write it.
    """
    later = next((m[1] for m in obj.members if m[0] > key), None)
    if later is not None:
        return text[:later] + member + "," + text[later:]
    if obj.members:
        at = obj.members[-1][3]
        return text[:at] + "," + member + text[at:]
    at = obj.start + 1
    return text[:at] + member + text[at:]


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def _load(folder: Path) -> tuple[Path, str | None, int]:
    """The path of Preferences, its text (None when missing) and its permission bits."""
    if not folder.is_dir():
        raise WriteError(f"the Chromium profile {folder} does not exist")
    path = folder / FILE
    try:
        data = path.read_bytes()
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return path, None, NEW_FILE_MODE
    except OSError as exc:
        raise WriteError(f"{path} cannot be read ({exc.strerror or exc}); "
                         "nothing was changed") from exc
    try:
        text = data.decode("utf-8")
        prefs = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WriteError(f"{path} is not valid JSON; nothing was changed") from exc
    if not isinstance(prefs, dict):
        raise WriteError(f"{path} is not a JSON object; nothing was changed")
    return path, text, mode


def _apply(path: Path, text: str | None, mode: int,
           values: Mapping[str, str | None]) -> dict[str, str | None]:
    """Set each cookie member (key -> raw value text, None = remove); the values before."""
    original = text
    current = "{}" if text is None else text
    before: dict[str, str | None] = {}
    try:
        for key, raw in values.items():
            current, old = _set_member(current, key, raw, str(path))
            before.setdefault(key, old)
    except (ValueError, IndexError) as exc:  # the scanner met text json.loads accepted
        raise WriteError(f"{path} could not be parsed for editing ({exc}); "
                         "nothing was changed") from exc
    if current == (original if original is not None else "{}"):
        return before  # nothing to change (and no file to create)
    try:
        result = json.loads(current)
    except json.JSONDecodeError as exc:
        raise WriteError(f"{path} would not be valid JSON after the change; "
                         "nothing was changed") from exc
    node = result
    for key in PATH:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):  # cannot happen: the edit keeps the path
        raise WriteError(f"{path} would lose its cookie rules; nothing was changed")
    try:
        paths.write_file_atomically(path, current.encode("utf-8"), mode)
    except OSError as exc:
        raise WriteError(f"{path} could not be written ({exc.strerror or exc}); "
                         "it was left as it was") from exc
    return before


def write_cookie_rules(profile: Any, changes: Mapping[str, str | None]) -> dict[str, str | None]:
    """Set the cookie rule of each domain (and its subdomains) in a closed Chromium profile.

    ``changes`` maps a domain to "allow", "block" or "session", or to None to
    remove the rule of :func:`pattern_for` that domain.  Returns, per pattern
    key touched, the raw JSON text its value had (None: it had none), which
    :func:`restore_cookie_rules` puts back.  A missing Preferences is created
    with only the rules.  WriteError, with nothing changed, on any failure.
    """
    values: dict[str, str | None] = {}
    stamp = str(_now_micros())
    for domain, mode in changes.items():
        if mode is not None and mode not in MODES:
            raise WriteError(f"unknown cookie rule {mode!r}: use one of {', '.join(MODES)}")
        key = pattern_for(rule_domain(domain))
        values[key] = None if mode is None else _compact(
            {"last_modified": stamp, "setting": MODES[mode]})
    path, text, file_mode = _load(_profile_dir(profile))
    return _apply(path, text, file_mode, values)


def restore_cookie_rules(profile: Any, before: Mapping[str, str | None]) -> None:
    """Put back what :func:`write_cookie_rules` returned, byte for byte.

    ``before`` maps a pattern key to the raw JSON text of its value, or None
    to remove the key.  WriteError, with nothing changed, on any failure.
    """
    values: dict[str, str | None] = {}
    for key, raw in before.items():
        if not isinstance(key, str) or not key:
            raise WriteError(f"{key!r} is not a cookie rule pattern")
        if raw is not None:
            try:
                json.loads(raw)
            except (TypeError, json.JSONDecodeError) as exc:
                raise WriteError(f"the saved rule for {key} is not JSON; nothing was changed"
                                 ) from exc
        values[key] = raw
    path, text, file_mode = _load(_profile_dir(profile))
    _apply(path, text, file_mode, values)
