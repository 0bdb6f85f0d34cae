"""Readable decodings of one revealed cookie or storage value.

The desktop app shows a value only after the user clicks "Reveal", and then
"decoded where it helps": :func:`decode_value` turns that one value into a short
list of :class:`Decoding` s, most useful first:

1. a vendor's known format, each part explained in plain words (Google
   Analytics ``_ga``/``_gid``/``_ga_<id>``, Urchin ``__utma``/``__utmb``/
   ``__utmz``, Google Ads ``_gcl_au``/``_gcl_aw``, Meta ``_fbp``/``_fbc``,
   HubSpot ``__hstc``/``__hssc``, Matomo ``_pk_id.*``/``_pk_ses.*``,
   Optimizely ``optimizelyEndUserId``, Microsoft UET ``_uetvid``/``_uetsid``);
2. JSON, pretty-printed (from the value, its URL-decoded form or its Base64 text);
3. the URL-decoded value;
4. Base64 text, only where the value is plausibly Base64;
5. up to three unix timestamps (10 or 13 digits) found in the value, when no
   vendor format explained it;
6. a "Note" when only the first ``limit`` characters were decoded.

Times are always shown in UTC as ``YYYY-MM-DD HH:MM:SS UTC``.  The module never
raises, never logs a value and never puts one into an exception message: values
are cookies and storage that may identify the user.  No Qt.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

import orjson

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20_000
# Timestamps are believed only between 2000-01-01 and 2040-01-01 (UTC).
_MIN_UNIX = 946_684_800
_MAX_UNIX = 2_208_988_800
_MAX_TIMESTAMPS = 3
# Rounds of URL-decoding for values encoded twice or three times.
_URL_ROUNDS = 3
_MIN_BASE64 = 8
_MAX_JSON_DEPTH = 64
_PRINTABLE_SHARE = 0.9
# Random ids can decode to printable junk ("8^oY8K"): text that is not JSON must also be
# half letters, digits and spaces (a short one: three quarters, and plain printable ASCII).
_WORDLIKE_SHARE = 0.5
_SHORT_WORDLIKE_SHARE = 0.75
_SHORT_TEXT = 12

_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
# Whole runs of ASCII digits (a run is matched from its first digit); 10 or 13 are kept.
_DIGIT_RUN = re.compile(r"[0-9]{10,}")
_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_ID = _HEX | {"-"}
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_B64_STANDARD = _ALNUM | {"+", "/"}
_B64_URLSAFE = _ALNUM | {"-", "_"}
_WHITESPACE_OK = frozenset("\t\n\r")
# 100-ns intervals from 1582-10-15 (the UUID epoch) to 1970-01-01.
_UUID_EPOCH_OFFSET = 0x01B21DD213814000


@dataclass(frozen=True, slots=True)
class Decoding:
    label: str  # what this is, e.g. "URL-decoded", "Base64", "JSON", "Timestamp"
    text: str  # the decoded text, e.g. pretty-printed JSON or an explained time


def decode_value(name: str, value: str, *, limit: int = DEFAULT_LIMIT) -> list[Decoding]:
    """Readable decodings of one value, most useful first; [] when nothing helps."""
    try:
        return _decode(name if isinstance(name, str) else "", value, limit)
    except Exception as exc:  # a decoder's bug must never reach the user's screen
        # The type only: messages of int() or the codecs may quote the value.
        log.debug("could not decode a value: %s", type(exc).__name__)
        return []


def _decode(name: str, value: str, limit: int) -> list[Decoding]:
    if not isinstance(value, str) or not value:
        return []
    limit = max(int(limit), 0)
    truncated = len(value) > limit
    text = value[:limit] if truncated else value

    url = _url_decoded(text)
    layer = url if url is not None else text
    b64 = _base64_text(layer, truncated)

    out: list[Decoding] = []
    vendor = _vendor(name.strip(), text, url)
    if vendor is not None:
        out.append(vendor)
    for candidate in (b64, url, text):
        pretty = _pretty_json(candidate) if candidate is not None else None
        if pretty is not None:
            out.append(Decoding("JSON", pretty))
            break
    if url is not None:
        out.append(Decoding("URL-decoded", url))
    if b64 is not None:
        out.append(Decoding("Base64", b64))
    if vendor is None:
        out.extend(_timestamps((text, url, b64)))
    if truncated:
        out.append(Decoding(
            "Note",
            f"Only the first {limit:,} of the value's {len(value):,} characters were decoded.",
        ))
    return out


# --- generic layers -------------------------------------------------------------------


def _url_decoded(text: str) -> str | None:
    """The value with %xx (and + for space) decoded, or None when it has no %xx."""
    out = text
    for _ in range(_URL_ROUNDS):
        if _PERCENT.search(out) is None:
            break
        decoded = _unquote_plus(out)
        if decoded == out:
            break
        out = decoded
    return out if out != text else None


def _unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus``, several times faster on long values full of %xx.

    Like it, each run of %xx is decoded as UTF-8 with U+FFFD for invalid bytes.  An
    ASCII value whose every % starts a %xx is decoded in C: as \\xhh escapes, then
    the bytes as UTF-8 (its other characters are ASCII, so they cannot join a run).
    """
    if "+" in text:
        text = text.replace("+", " ")
    if text.isascii() and text.count("%") == len(_PERCENT.findall(text)):
        escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii")
        return escaped.decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
    return _PERCENT_RUN.sub(_percent_run, text)


def _percent_run(match: re.Match[str]) -> str:
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8", "replace")


def _pretty_json(text: str) -> str | None:
    """A JSON object or array pretty-printed; a JSON string holding one, too."""
    stripped = text.strip()
    if not stripped or stripped[0] not in '{["':
        return None
    obj, finite = _loads(stripped)
    if isinstance(obj, str):
        inner = obj.strip()
        if not inner or inner[0] not in "{[":
            return None
        obj, finite = _loads(inner)
    if not isinstance(obj, dict | list) or not obj:
        return None
    if finite:  # orjson would print NaN and Infinity as null
        try:
            # Prints as json.dumps(indent=2, ensure_ascii=False) does, about 50x faster.
            return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode("utf-8")
        except orjson.JSONEncodeError:
            pass  # integers beyond 64 bits, lone surrogates, or nesting deeper than 254
    if _depth(obj) > _MAX_JSON_DEPTH:
        return None  # the indentation alone would grow with the square of the depth
    try:
        return json.dumps(obj, indent=2, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return None


def _depth(obj: object) -> int:
    """How deeply lists and objects nest in a parsed JSON value (without recursion)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > _MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


class _NotFinite(ValueError):
    pass


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _NotFinite
    return number


def _no_constant(_text: str) -> float:
    raise _NotFinite


def _loads(text: str) -> tuple[object, bool]:
    """The parsed JSON (None if it is not JSON), and whether all its numbers are finite."""
    try:
        return json.loads(text, parse_float=_finite_float, parse_constant=_no_constant), True
    except _NotFinite:
        pass
    except (ValueError, RecursionError):
        return None, True
    try:
        return json.loads(text), False
    except (ValueError, RecursionError):
        return None, False


def _base64_text(text: str, truncated: bool) -> str | None:
    """The text a plausible Base64 value encodes, or None.

    Plausible: at least 8 characters of one Base64 alphabet (padding optional),
    not a hex string or a lower-case word, decoding to UTF-8 that is at least
    90% printable and either JSON or at least half letters, digits and spaces.
    """
    stripped = text.strip()
    if len(stripped) < _MIN_BASE64:
        return None
    body = stripped.rstrip("=")
    if len(stripped) - len(body) > 2:
        return None
    chars = frozenset(body)
    if chars <= _HEX_ID or chars <= _LOWER:
        return None
    if chars <= _B64_STANDARD:
        decode: Callable[[str], bytes] = _b64_standard
    elif chars <= _B64_URLSAFE:
        decode = base64.urlsafe_b64decode
    else:
        return None
    if truncated:
        body = body[: len(body) - len(body) % 4]
    if len(body) % 4 == 1 or len(body) < _MIN_BASE64 - 2:
        return None
    try:
        decoded = decode(body + "=" * (-len(body) % 4)).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not decoded.strip():
        return None
    if _pretty_json(decoded) is not None:
        return decoded
    if len(decoded) < _SHORT_TEXT and not (decoded.isascii() and decoded.isprintable()):
        return None
    printable = sum(1 for ch in decoded if ch.isprintable() or ch in _WHITESPACE_OK)
    wordlike = sum(1 for ch in decoded if ch.isalnum() or ch == " ")
    share = _WORDLIKE_SHARE if len(decoded) >= _SHORT_TEXT else _SHORT_WORDLIKE_SHARE
    if printable < _PRINTABLE_SHARE * len(decoded) or wordlike < share * len(decoded):
        return None
    return decoded


def _b64_standard(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _timestamps(texts: tuple[str | None, ...]) -> list[Decoding]:
    out: list[Decoding] = []
    seen: set[str] = set()
    for text in texts:
        if text is None:
            continue
        for match in _DIGIT_RUN.finditer(text):
            digits = match.group()
            if len(digits) not in (10, 13) or digits in seen:
                continue
            seen.add(digits)
            millis = len(digits) == 13
            when = _utc(int(digits) // 1000 if millis else int(digits))
            if when is None:
                continue
            unit = "milliseconds" if millis else "seconds"
            out.append(Decoding("Timestamp", f"{when}: {digits} read as {unit} since 1970"))
            if len(out) == _MAX_TIMESTAMPS:
                return out
    return out


# --- small helpers ----------------------------------------------------------------------


def _utc(seconds: int | None) -> str | None:
    """``YYYY-MM-DD HH:MM:SS UTC``, or None outside 2000-2040."""
    if seconds is None or not _MIN_UNIX <= seconds < _MAX_UNIX:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _int(text: str) -> int | None:
    """A plain decimal number (ASCII digits only, at most 19 of them), or None."""
    if 0 < len(text) <= 19 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _seconds(text: str) -> str | None:
    return _utc(_int(text))


def _millis(text: str) -> str | None:
    ms = _int(text)
    return None if ms is None else _utc(ms // 1000)


def _lines(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line)


# --- vendor formats ---------------------------------------------------------------------
#
# One row of _FORMATS per format.  A row names the cookie (or a name prefix ending in
# "*"), how to split the value into named parts (a regex over the whole value, or a
# function), which part is its time and in what unit, and the lines that explain it.
# A line is a template: "{part}" is the part as it is, "{part:conv}" the part converted
# by one of _CONVERTERS; a line whose part converts to None is left out, and one whose
# part converts to a list is repeated for each item.


@dataclass(frozen=True, slots=True)
class _Format:
    name: str  # the cookie's name, or a prefix ending in "*" ("_pk_id.*")
    label: str  # the Decoding's label
    split: re.Pattern[str] | Callable[[str], dict[str, str] | None]  # value -> parts
    stamp: str | None  # the part holding the time; the row matches only if it is one
    unit: str  # that time's converter: "s", "ms" or "uuid1"
    meaning: str  # what that time is (the first line)
    lines: tuple[str, ...]  # the lines after it


def _dots(*parts: str | tuple[str, str], more: bool = False) -> re.Pattern[str]:
    """A regex for a value of dot-separated parts, each one of: ``name`` (any part, even
    empty), ``name#`` (a plain number), ``name+`` (not empty), ``-`` (any part, not
    kept), ``=TEXT`` (exactly TEXT), or ``(name, regex)``.  ``more`` allows further
    parts (not kept)."""
    out = []
    for part in parts:
        if isinstance(part, tuple):
            out.append(f"(?P<{part[0]}>{part[1]})")
        elif part == "-":
            out.append(r"[^.]*")
        elif part.startswith("="):
            out.append(re.escape(part[1:]))
        elif part.endswith("#"):
            out.append(rf"(?P<{part[:-1]}>[0-9]{{1,19}})")  # what _int accepts
        elif part.endswith("+"):
            out.append(rf"(?P<{part[:-1]}>[^.]+)")
        else:
            out.append(rf"(?P<{part}>[^.]*)")
    return re.compile(r"\.".join(out) + (r"(?:\..*)?" if more else ""), re.DOTALL)


_GS1 = _dots("=GS1", "-", "start", "count", "engaged", "last", more=True)
_GS2 = _dots("=GS2", "-", "fields")
_GS2_PARTS = {"s": "start", "o": "count", "g": "engaged", "t": "last"}


def _ga4_parts(value: str) -> dict[str, str] | None:
    """GS1.1.<start>.<visits>.<engaged>.<last hit>.… or GS2.1.s<start>$o<visits>$g…$t…$…"""
    match = _GS1.fullmatch(value)
    if match is not None:
        return match.groupdict()
    match = _GS2.fullmatch(value)
    if match is None:
        return None
    fields = {f[:1]: f[1:] for f in match["fields"].split("$") if f}
    return {part: fields.get(key, "") for key, part in _GS2_PARTS.items()}


def _uuid1_time(text: str) -> str | None:
    """The time of a version-1 UUID given as 32 hex digits."""
    if len(text) != 32 or not frozenset(text) <= _HEX:
        return None
    uid = uuid.UUID(hex=text)
    if uid.version != 1:
        return None
    return _utc((uid.time - _UUID_EPOCH_OFFSET) // 10_000_000)


_UTMZ_FIELDS = {
    "utmcsr": "Source",
    "utmccn": "Campaign",
    "utmcmd": "Medium",
    "utmctr": "Search words",
    "utmcct": "Ad content",
    "utmgclid": "Google Ads click id",
    "utmdclid": "DoubleClick click id",
}


def _utmz_fields(text: str) -> list[str]:
    """utmcsr=…|utmccn=…|… as "Source: …" lines (the values URL-decoded)."""
    out = []
    for field in text.split("|"):
        key, _, raw = field.partition("=")
        label = _UTMZ_FIELDS.get(key)
        if label is not None and raw:
            out.append(f"{label}: {unquote(raw)}")
    return out


_CONVERTERS: dict[str, Callable[[str], object]] = {
    "s": _seconds,  # unix seconds
    "ms": _millis,  # unix milliseconds
    "uuid1": _uuid1_time,  # a version-1 UUID's time
    "n": _int,  # a plain number
    "some": lambda text: text or None,  # the part, if not empty
    "yesno": {"1": "yes", "0": "no"}.get,
    "ms|": lambda text: [_millis(f) for f in text.split("|")] if text else [],
    "utmz": _utmz_fields,
}
_FORMATTER = string.Formatter()

_VERSION_LINE = "{version}.{level}: the cookie's format version and domain level"
_DOMAIN_HASH = "Domain hash: {domain} (stands for the site's domain)"
_DOMAIN_LEVEL = "Domain level: {level} (how many dots the domain it is set for has)"
_GA_CLIENT = _dots(("version", "GA[0-9]+|[0-9]+"), ("level", "[0-9]+(?:-[0-9]+)?"),
                   ("rand", "[0-9]+"), ("ts", "[0-9]{10}"))


def _visits(unit: str) -> tuple[str, ...]:
    return (f"{{previous:{unit}}}: previous visit", f"{{current:{unit}}}: current visit",
            "Number of visits: {count:n}")


# 32 hex digits, then "|"-separated fields (Microsoft's insights keep times in them).
_UET = re.compile(r"(?P<id>[0-9a-fA-F]{32})(?:\|(?P<extra>.*))?", re.DOTALL)
_UET_LINES = (
    "Id: {id} (a time-based id: that time and random digits)",
    "{extra:ms|}: another time stored with the id",
)

_FORMATS: tuple[_Format, ...] = (
    _Format("_ga", "Google Analytics client id", _GA_CLIENT, "ts", "s",
            "when this browser was first seen",
            ("Client id: {rand}.{ts} (a random number and that time; it recognises this browser)",
             _VERSION_LINE)),
    _Format("_gid", "Google Analytics daily id", _GA_CLIENT, "ts", "s",
            "when this id was created (it lasts 24 hours)",
            ("Daily id: {rand}.{ts} (a random number and that time; it groups one day's visits)",
             _VERSION_LINE)),
    _Format("_ga_*", "Google Analytics 4 session", _ga4_parts, "start", "s",
            "when the current visit started (also its session id)",
            ("Visit number: {count:n}",
             "Engaged visit: {engaged:yesno}",
             "{last:s}: the latest activity in this visit")),
    _Format("__utma", "Google Analytics (Urchin) visitor",
            _dots("domain", "rand#", "first", "previous", "current", "count"), "first", "s",
            "first visit",
            (*_visits("s"),
             "Visitor id: {rand}.{first} (a random number and the first visit's time)",
             _DOMAIN_HASH)),
    _Format("__utmb", "Google Analytics (Urchin) visit",
            _dots("domain", "views#", "-", "start"), "start", "s", "when this visit started",
            ("Pages viewed in this visit: {views:n}", _DOMAIN_HASH)),
    _Format("__utmz", "Google Analytics (Urchin) traffic source",
            _dots("domain", "ts", "visit", "sources", ("campaign", ".*=.*")), "ts", "s",
            "when this traffic source was recorded",
            ("Visit number then: {visit:n}",
             "Different traffic sources seen: {sources:n}",
             "{campaign:utmz}",
             _DOMAIN_HASH)),
    _Format("_gcl_au", "Google Ads conversion linker id",
            _dots("version", "level", "rand#", "ts", more=True), "ts", "s",
            "when this id was created (first visit with the Google tag)",
            ("Id: {rand}.{ts} (a random number and that time; it links ad clicks"
             " to later purchases or sign-ups)",
             _VERSION_LINE)),
    _Format("_gcl_*", "Google Ads click", _dots("=GCL", "ts", ("click", ".+")), "ts", "s",
            "when you arrived by clicking a Google ad",
            ("Click id (gclid): {click} (names that one click to Google)",)),
    _Format("_fbp", "Meta Pixel browser id", _dots("=fb", "level", "ts", ("rand", "[^.].*")),
            "ts", "ms", "when this browser id was created (first visit with the Meta Pixel)",
            ("Random number: {rand} (makes the id unique to this browser)", _DOMAIN_LEVEL)),
    _Format("_fbc", "Meta ad click", _dots("=fb", "level", "ts", ("click", ".+")), "ts", "ms",
            "when you arrived from a link on Facebook or Instagram",
            ("Click id (fbclid): {click} (names that one click to Meta)", _DOMAIN_LEVEL)),
    _Format("__hstc", "HubSpot visitor",
            _dots("domain", "utk+", "first", "previous", "current", "count"), "first", "ms",
            "first visit",
            (*_visits("ms"),
             "Visitor id (hubspotutk): {utk}",
             _DOMAIN_HASH)),
    _Format("__hssc", "HubSpot visit", _dots("domain", "views#", "start"), "start", "ms",
            "when this visit started",
            ("Pages viewed in this visit: {views:n}", _DOMAIN_HASH)),
    _Format("_pk_id.*", "Matomo visitor id",
            re.compile(r"(?P<id>[^.]+)\.(?P<created>[^.]*)(?:\.(?P<count>[^.]*)(?:\.(?P<current>"
                       r"[^.]*)(?:\.(?P<previous>[^.]*)(?:\.(?P<order>[^.]*))?)?)?)?(?:\..*)?",
                       re.DOTALL),
            "created", "s", "when this visitor id was created (first visit)",
            ("Number of visits: {count:n}",
             "{current:s}: current visit",
             "{previous:s}: previous visit",
             "{order:s}: last order in the site's shop",
             "Visitor id: {id} (random; it recognises this browser)")),
    _Format("_pk_ses.*", "Matomo visit marker", re.compile(r"[1*]"), None, "", "",
            ("No data: while this cookie exists (until 30 minutes after the last page view),"
             " Matomo counts the page views as one visit",)),
    _Format("optimizelyEndUserId", "Optimizely visitor id",
            re.compile(r"oeu(?P<ts>[0-9]{13})r(?P<rand>.*)", re.DOTALL), "ts", "ms",
            "when this visitor id was created (first visit)",
            ("Random part: {rand:some}",)),
    _Format("_uetvid", "Microsoft Advertising visitor id", _UET,
            "id", "uuid1", "when this visitor id was created (first visit with the UET tag)",
            _UET_LINES),
    _Format("_uetsid", "Microsoft Advertising session id", _UET,
            "id", "uuid1", "when this session id was created (it lasts a day)", _UET_LINES),
)
_EXACT = {f.name: f for f in _FORMATS if not f.name.endswith("*")}
_PREFIXES = tuple((f.name[:-1], f) for f in _FORMATS if f.name.endswith("*"))


def _render(template: str, parts: dict[str, str | None]) -> list[str]:
    """A line template filled in from the parts: no line where a part converts to
    None, one line per item where a part converts to a list."""
    lines = [""]
    for literal, field, conv, _ in _FORMATTER.parse(template):
        lines = [line + literal for line in lines]
        if field is None:
            continue
        raw = parts.get(field) or ""
        value = _CONVERTERS[conv](raw) if conv else raw
        if value is None:
            return []
        items = [i for i in value if i is not None] if isinstance(value, list) else [value]
        lines = [line + str(item) for line in lines for item in items]
    return lines


def _explain(fmt: _Format, value: str) -> Decoding | None:
    """The value explained by one format, or None when it does not fit."""
    if isinstance(fmt.split, re.Pattern):
        match = fmt.split.fullmatch(value)
        parts = match.groupdict() if match is not None else None
    else:
        parts = fmt.split(value)
    if parts is None:
        return None
    lines: list[str] = []
    if fmt.stamp is not None:
        when = _CONVERTERS[fmt.unit](parts.get(fmt.stamp) or "")
        if when is None:
            return None
        lines.append(f"{when}: {fmt.meaning}")
    for template in fmt.lines:
        lines += _render(template, parts)
    return Decoding(fmt.label, _lines(*lines))


def _vendor(name: str, text: str, url: str | None) -> Decoding | None:
    """A vendor's format explained, tried on the value and then on its URL-decoded form."""
    fmt = _EXACT.get(name)
    if fmt is None:
        fmt = next((f for prefix, f in _PREFIXES if name.startswith(prefix)), None)
    if fmt is None:
        return None
    for candidate in (text, url):
        if candidate is not None:
            stripped = candidate.strip()
            if stripped and len(stripped) <= 4096:
                found = _explain(fmt, stripped)
                if found is not None:
                    return found
    return None
