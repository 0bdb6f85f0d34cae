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


def _time_line(when: str | None, meaning: str) -> str | None:
    return f"{when}: {meaning}" if when is not None else None


# --- vendor formats ---------------------------------------------------------------------

_GA_CLIENT = re.compile(r"(GA[0-9]+|[0-9]+)\.([0-9]+(?:-[0-9]+)?)\.([0-9]+)\.([0-9]{10})")


def _ga(value: str) -> Decoding | None:
    """``_ga``: GA1.<domain parts>.<random>.<first visit, unix seconds>."""
    match = _GA_CLIENT.fullmatch(value)
    when = _seconds(match.group(4)) if match else None
    if match is None or when is None:
        return None
    version, level, rand, ts = match.groups()
    return Decoding("Google Analytics client id", _lines(
        f"{when}: when this browser was first seen",
        f"Client id: {rand}.{ts} (a random number and that time; it recognises this browser)",
        f"{version}.{level}: the cookie's format version and domain level",
    ))


def _gid(value: str) -> Decoding | None:
    """``_gid``: like ``_ga``, but replaced every 24 hours."""
    match = _GA_CLIENT.fullmatch(value)
    when = _seconds(match.group(4)) if match else None
    if match is None or when is None:
        return None
    version, level, rand, ts = match.groups()
    return Decoding("Google Analytics daily id", _lines(
        f"{when}: when this id was created (it lasts 24 hours)",
        f"Daily id: {rand}.{ts} (a random number and that time; it groups one day's visits)",
        f"{version}.{level}: the cookie's format version and domain level",
    ))


def _ga4_session(value: str) -> Decoding | None:
    """``_ga_<id>``: GS1.1.<session start>.<visits>.<engaged>.<last hit>.… or GS2's $ fields."""
    parts = value.split(".")
    if len(parts) >= 6 and parts[0] == "GS1":
        start, count, engaged, last = parts[2], parts[3], parts[4], parts[5]
    elif len(parts) == 3 and parts[0] == "GS2":
        fields = {f[:1]: f[1:] for f in parts[2].split("$") if f}
        start, count = fields.get("s", ""), fields.get("o", "")
        engaged, last = fields.get("g", ""), fields.get("t", "")
    else:
        return None
    started = _seconds(start)
    if started is None:
        return None
    visits = _int(count)
    return Decoding("Google Analytics 4 session", _lines(
        f"{started}: when the current visit started (also its session id)",
        f"Visit number: {visits}" if visits is not None else None,
        {"1": "Engaged visit: yes", "0": "Engaged visit: no"}.get(engaged),
        _time_line(_seconds(last), "the latest activity in this visit"),
    ))


def _utma(value: str) -> Decoding | None:
    """``__utma``: domainhash.random.first.previous.current.sessioncount (unix seconds)."""
    parts = value.split(".")
    if len(parts) != 6:
        return None
    domain, rand, first, previous, current, count = parts
    first_when = _seconds(first)
    if first_when is None or _int(rand) is None:
        return None
    visits = _int(count)
    return Decoding("Google Analytics (Urchin) visitor", _lines(
        f"{first_when}: first visit",
        _time_line(_seconds(previous), "previous visit"),
        _time_line(_seconds(current), "current visit"),
        f"Number of visits: {visits}" if visits is not None else None,
        f"Visitor id: {rand}.{first} (a random number and the first visit's time)",
        f"Domain hash: {domain} (stands for the site's domain)",
    ))


def _utmb(value: str) -> Decoding | None:
    """``__utmb``: domainhash.pageviews.10.sessionstart (unix seconds)."""
    parts = value.split(".")
    if len(parts) != 4:
        return None
    domain, views, _token, start = parts
    started = _seconds(start)
    pages = _int(views)
    if started is None or pages is None:
        return None
    return Decoding("Google Analytics (Urchin) visit", _lines(
        f"{started}: when this visit started",
        f"Pages viewed in this visit: {pages}",
        f"Domain hash: {domain} (stands for the site's domain)",
    ))


_UTMZ_FIELDS = {
    "utmcsr": "Source",
    "utmccn": "Campaign",
    "utmcmd": "Medium",
    "utmctr": "Search words",
    "utmcct": "Ad content",
    "utmgclid": "Google Ads click id",
    "utmdclid": "DoubleClick click id",
}


def _utmz(value: str) -> Decoding | None:
    """``__utmz``: domainhash.timestamp.sessions.campaigns.utmcsr=…|utmccn=…|…"""
    parts = value.split(".", 4)
    if len(parts) != 5:
        return None
    domain, ts, visit, sources, campaign = parts
    when = _seconds(ts)
    if when is None or "=" not in campaign:
        return None
    lines = [f"{when}: when this traffic source was recorded"]
    visit_number, source_count = _int(visit), _int(sources)
    if visit_number is not None:
        lines.append(f"Visit number then: {visit_number}")
    if source_count is not None:
        lines.append(f"Different traffic sources seen: {source_count}")
    for field in campaign.split("|"):
        key, _, raw = field.partition("=")
        label = _UTMZ_FIELDS.get(key)
        if label is not None and raw:
            lines.append(f"{label}: {unquote(raw)}")
    lines.append(f"Domain hash: {domain} (stands for the site's domain)")
    return Decoding("Google Analytics (Urchin) traffic source", _lines(*lines))


def _gcl_au(value: str) -> Decoding | None:
    """``_gcl_au``: 1.1.<random>.<created, unix seconds>[.…]."""
    parts = value.split(".")
    if len(parts) < 4 or _int(parts[2]) is None:
        return None
    when = _seconds(parts[3])
    if when is None:
        return None
    return Decoding("Google Ads conversion linker id", _lines(
        f"{when}: when this id was created (first visit with the Google tag)",
        f"Id: {parts[2]}.{parts[3]} (a random number and that time; it links ad clicks"
        " to later purchases or sign-ups)",
        f"{parts[0]}.{parts[1]}: the cookie's format version and domain level",
    ))


def _gcl_click(value: str) -> Decoding | None:
    """``_gcl_aw`` (and ``_gcl_dc``, ``_gcl_gb``…): GCL.<click time, unix seconds>.<click id>."""
    parts = value.split(".", 2)
    if len(parts) != 3 or parts[0] != "GCL" or not parts[2]:
        return None
    when = _seconds(parts[1])
    if when is None:
        return None
    return Decoding("Google Ads click", _lines(
        f"{when}: when you arrived by clicking a Google ad",
        f"Click id (gclid): {parts[2]} (names that one click to Google)",
    ))


def _fbp(value: str) -> Decoding | None:
    """``_fbp``: fb.<domain level>.<created, unix ms>.<random>."""
    parts = value.split(".")
    if len(parts) < 4 or parts[0] != "fb" or not parts[3]:
        return None
    when = _millis(parts[2])
    if when is None:
        return None
    return Decoding("Meta Pixel browser id", _lines(
        f"{when}: when this browser id was created (first visit with the Meta Pixel)",
        f"Random number: {'.'.join(parts[3:])} (makes the id unique to this browser)",
        f"Domain level: {parts[1]} (how many dots the domain it is set for has)",
    ))


def _fbc(value: str) -> Decoding | None:
    """``_fbc``: fb.<domain level>.<stored, unix ms>.<fbclid>."""
    parts = value.split(".", 3)
    if len(parts) != 4 or parts[0] != "fb" or not parts[3]:
        return None
    when = _millis(parts[2])
    if when is None:
        return None
    return Decoding("Meta ad click", _lines(
        f"{when}: when you arrived from a link on Facebook or Instagram",
        f"Click id (fbclid): {parts[3]} (names that one click to Meta)",
        f"Domain level: {parts[1]} (how many dots the domain it is set for has)",
    ))


def _hstc(value: str) -> Decoding | None:
    """``__hstc``: domainhash.utk.first.previous.current.sessioncount (unix ms)."""
    parts = value.split(".")
    if len(parts) != 6:
        return None
    domain, utk, first, previous, current, count = parts
    first_when = _millis(first)
    if first_when is None or not utk:
        return None
    visits = _int(count)
    return Decoding("HubSpot visitor", _lines(
        f"{first_when}: first visit",
        _time_line(_millis(previous), "previous visit"),
        _time_line(_millis(current), "current visit"),
        f"Number of visits: {visits}" if visits is not None else None,
        f"Visitor id (hubspotutk): {utk}",
        f"Domain hash: {domain} (stands for the site's domain)",
    ))


def _hssc(value: str) -> Decoding | None:
    """``__hssc``: domainhash.pageviews.sessionstart (unix ms)."""
    parts = value.split(".")
    if len(parts) != 3:
        return None
    domain, views, start = parts
    started = _millis(start)
    pages = _int(views)
    if started is None or pages is None:
        return None
    return Decoding("HubSpot visit", _lines(
        f"{started}: when this visit started",
        f"Pages viewed in this visit: {pages}",
        f"Domain hash: {domain} (stands for the site's domain)",
    ))


def _pk_id(value: str) -> Decoding | None:
    """``_pk_id.*``: visitorid.createTs[.visits.currentTs.lastVisitTs.lastOrderTs] (seconds)."""
    parts = value.split(".")
    if len(parts) < 2 or not parts[0]:
        return None
    created = _seconds(parts[1])
    if created is None:
        return None
    rest = parts[2:] + [""] * 4
    visits = _int(rest[0])
    return Decoding("Matomo visitor id", _lines(
        f"{created}: when this visitor id was created (first visit)",
        f"Number of visits: {visits}" if visits is not None else None,
        _time_line(_seconds(rest[1]), "current visit"),
        _time_line(_seconds(rest[2]), "previous visit"),
        _time_line(_seconds(rest[3]), "last order in the site's shop"),
        f"Visitor id: {parts[0]} (random; it recognises this browser)",
    ))


def _pk_ses(value: str) -> Decoding | None:
    """``_pk_ses.*``: holds only "1" or "*"; it marks a visit in progress."""
    if value not in ("1", "*"):
        return None
    return Decoding(
        "Matomo visit marker",
        "No data: while this cookie exists (until 30 minutes after the last page view),"
        " Matomo counts the page views as one visit",
    )


_OPTIMIZELY = re.compile(r"oeu([0-9]{13})r(.*)", re.DOTALL)


def _optimizely(value: str) -> Decoding | None:
    """``optimizelyEndUserId``: oeu<created, unix ms>r<random>."""
    match = _OPTIMIZELY.fullmatch(value)
    when = _millis(match.group(1)) if match else None
    if match is None or when is None:
        return None
    return Decoding("Optimizely visitor id", _lines(
        f"{when}: when this visitor id was created (first visit)",
        f"Random part: {match.group(2)}" if match.group(2) else None,
    ))


def _uet(label: str, meaning: str) -> Callable[[str], Decoding | None]:
    """``_uetvid``/``_uetsid``: a time-based UUID (version 1) as 32 hex digits[|…]."""

    def parse(value: str) -> Decoding | None:
        head, _, tail = value.partition("|")
        if len(head) != 32 or not frozenset(head) <= _HEX:
            return None
        uid = uuid.UUID(hex=head)
        if uid.version != 1:
            return None
        when = _utc((uid.time - _UUID_EPOCH_OFFSET) // 10_000_000)
        if when is None:
            return None
        extra = [_millis(field) for field in tail.split("|")] if tail else []
        return Decoding(label, _lines(
            f"{when}: {meaning}",
            f"Id: {head} (a time-based id: that time and random digits)",
            *(_time_line(e, "another time stored with the id") for e in extra),
        ))

    return parse


_EXACT: dict[str, Callable[[str], Decoding | None]] = {
    "_ga": _ga,
    "_gid": _gid,
    "__utma": _utma,
    "__utmb": _utmb,
    "__utmz": _utmz,
    "_gcl_au": _gcl_au,
    "_fbp": _fbp,
    "_fbc": _fbc,
    "__hstc": _hstc,
    "__hssc": _hssc,
    "optimizelyEndUserId": _optimizely,
    "_uetvid": _uet("Microsoft Advertising visitor id",
                    "when this visitor id was created (first visit with the UET tag)"),
    "_uetsid": _uet("Microsoft Advertising session id",
                    "when this session id was created (it lasts a day)"),
}
_PREFIXES: tuple[tuple[str, Callable[[str], Decoding | None]], ...] = (
    ("_ga_", _ga4_session),
    ("_gcl_", _gcl_click),
    ("_pk_id.", _pk_id),
    ("_pk_ses.", _pk_ses),
)


def _vendor(name: str, text: str, url: str | None) -> Decoding | None:
    """A vendor's format explained, tried on the value and then on its URL-decoded form."""
    parse = _EXACT.get(name)
    if parse is None:
        parse = next((p for prefix, p in _PREFIXES if name.startswith(prefix)), None)
    if parse is None:
        return None
    for candidate in (text, url):
        if candidate is not None:
            stripped = candidate.strip()
            if stripped and len(stripped) <= 4096:
                found = parse(stripped)
                if found is not None:
                    return found
    return None
