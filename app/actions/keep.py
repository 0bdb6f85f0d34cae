"""The keep list: sites and single entries the user never wants deleted.

Stored as ``<data_dir>/keep.json``::

    {"format": "privacy-inspector-keep", "version": 1,
     "sites": ["example.com", "mail.example.org"],
     "entries": [{"id": "ck-0123456789abcdef", "label": "SID @ .google.com"}],
     "updated": "2024-05-01T12:00:00Z"}

The list guards against data loss, so it is read in the careful direction, in
the spirit of :mod:`privacy_inspector.core.settings`: a missing file is the
only way to get an empty list.  A file that exists but cannot be read, is not
a keep list, comes from a newer version of the app or holds an item that does
not validate raises :class:`KeepListError` and is left exactly as it is; a
keep list that cannot be read means "refuse to delete", never "keep nothing".
For the same reason :meth:`KeepList.save` will not replace such a file unless
told to.  Writes are atomic (temporary file, fsync, ``os.replace``, fsync of
the folder) and the file is 0600 in the 0700 data folder.

A kept site protects its own host and every subdomain (keeping
``mail.example.com`` keeps ``a.mail.example.com`` too, but not
``www.example.com``).  It is matched against an entry's ``host``, never its
``partition_site``: a tracker's cookie partitioned under a kept site belongs
to the tracker and stays deletable.

API::

    KeepList.load(data_dir) -> KeepList          (KeepListError if unreadable)
        .save(data_dir) -> KeepList              (atomic; returns the list as saved)
        .with_site(s) / .without_site(s) / .with_sites(ss)
        .with_entry(id, label) / .without_entry(id)
        .protects(entry) -> str | None           ("keep list: site example.com")
        .sites / .entries / .updated
        .export_json(path) / KeepList.import_json(path)
        .ccleaner_line() -> "CookiesToSave=..."
    import_ccleaner(path_or_text) -> CCleanerImport(sites, skipped)
    suggest_signed_in(entries) -> list[str]
    normalize_site(text) -> str                  (InvalidItemError if not keepable)
"""

from __future__ import annotations

import codecs
import functools
import ipaddress
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from publicsuffixlist import PublicSuffixList

from privacy_inspector import paths
from privacy_inspector.core import sites as _sites
from privacy_inspector.core import times
from privacy_inspector.core.records import Entry

log = logging.getLogger(__name__)

FILE_NAME = "keep.json"
FORMAT = "privacy-inspector-keep"
VERSION = 1
# Far above any real list (200 sites are 5 kB): refuses to read a wrong, huge
# file into memory.
MAX_BYTES = 16 * 1024 * 1024
# Labels are only for people to recognise an entry; longer ones are cut.
MAX_LABEL = 300


class KeepListError(Exception):
    """The keep list (or a file to import) cannot be read or written.

    The message is for a person: it names the file and what is wrong, and
    never quotes the file's contents.  ``code`` says what went wrong so a
    front end can word it itself; ``path`` is the file concerned, if any.
    """

    def __init__(self, message: str, *, code: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.path = path


class InvalidItemError(KeepListError, ValueError):
    """A site or entry id that cannot be kept (also a ValueError: it is bad input)."""


class SkippedItem(NamedTuple):
    """An item of an imported list that was not taken, and why."""

    text: str
    reason: str


class CCleanerImport(NamedTuple):
    """What :func:`import_ccleaner` read: sites to merge, and the items it could not use."""

    sites: tuple[str, ...]
    skipped: tuple[SkippedItem, ...]


# --- validation -------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")
_TLD = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_ENTRY_ID = re.compile(r"[a-z]{1,8}-[0-9a-f]{16}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Hosts that are not registrable but that a user may well sign in to.
_SPECIAL_HOSTS = frozenset({"localhost"})


def _ip(text: str) -> str | None:
    """``text`` as a normalised IP address (IPv6 without brackets), or None."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if ":" not in inner and not (inner and set(inner) <= set("0123456789.")):
        return None
    try:
        return str(ipaddress.ip_address(inner))
    except ValueError:
        return None


@functools.cache
def _strict_psl() -> PublicSuffixList:
    return PublicSuffixList(only_icann=False, accept_unknown=False)


def _known_suffix(label: str) -> bool:
    """Whether a single label is a real TLD (``com``) rather than a bare name (``intranet``).

    Only asked when a user gives a single label, so the second, strict copy of
    the list is built on first need rather than at import.
    """
    return _strict_psl().is_public(label)


def normalize_site(text: str) -> str:
    """``text`` as a site the keep list can hold, or InvalidItemError.

    Lower case, stripped, without a leading ``.`` or ``*.`` (both mean "and
    its subdomains", which a kept site always includes) and in punycode, so it
    compares equal to the hosts browsers store.  Any host name is allowed, not
    only registrable domains: keeping ``mail.example.com`` keeps less than
    keeping ``example.com``.  A public suffix is refused, as keeping ``co.uk``
    would silently keep every site under it; IP addresses and ``localhost``
    are allowed.
    """
    if not isinstance(text, str):
        raise InvalidItemError(f"a site must be text, not {type(text).__name__}",
                               code="wrong_type")
    shown = text.strip()
    site = shown.lower().rstrip(".")
    if site.startswith("*."):
        site = site[2:]
    site = site.lstrip(".")
    if not site:
        raise InvalidItemError("a site must not be empty", code="empty_site")
    ip = _ip(site)
    if ip is not None:
        return ip
    if site in _SPECIAL_HOSTS:
        return site
    if not site.isascii():
        try:
            site = site.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidItemError(f"{shown!r} is not a valid host name",
                                   code="invalid_host") from None
    labels = site.split(".")
    if (len(site) > 253 or not all(_LABEL.match(label) for label in labels)
            or not _TLD.match(labels[-1]) or labels[-1].isdigit()):
        raise InvalidItemError(
            f"{shown!r} is not a valid host name (write a site such as example.com)",
            code="invalid_host")
    if len(labels) < 2 and not _known_suffix(site):
        raise InvalidItemError(
            f"{shown!r} is not a full host name (write a site such as example.com)",
            code="invalid_host")
    if _sites.is_public_suffix(site):
        raise InvalidItemError(
            f"{site!r} is a public suffix: keeping it would keep every site under it "
            "(write a site such as example.com)", code="public_suffix")
    return site


def _check_entry_id(entry_id: Any) -> str:
    if not isinstance(entry_id, str) or not _ENTRY_ID.match(entry_id):
        shown = entry_id if isinstance(entry_id, str) and len(entry_id) <= 40 else "this"
        raise InvalidItemError(f"{shown!r} is not an entry id (such as ck-0123456789abcdef)",
                               code="invalid_entry")
    return entry_id


def _clean_label(label: Any) -> str:
    if not isinstance(label, str):
        raise InvalidItemError(f"an entry's label must be text, not {type(label).__name__}",
                               code="wrong_type")
    label = _CONTROL.sub(" ", label).strip()
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def label_for(entry: Entry) -> str:
    """The label the keep list stores for ``entry``: ``name @ host``."""
    return f"{entry.name} @ {entry.host}"


# --- files ------------------------------------------------------------------------

def keep_path(data_dir: Path | str) -> Path:
    return Path(data_dir).expanduser().absolute() / FILE_NAME


def _fail(path: Path | None, what: str, code: str, exc: OSError | None = None) -> KeepListError:
    # Only the OS's reason (e.g. "Permission denied"), never the file's text.
    detail = f" ({exc.strerror or type(exc).__name__})" if exc is not None else ""
    where = f"{path}: " if path is not None else ""
    return KeepListError(f"{where}{what}{detail}", code=code, path=path)


def _read_bytes(path: Path, what: str) -> bytes:
    """The bytes of ``path`` (FileNotFoundError passes through), or KeepListError."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise _fail(path, f"the {what} cannot be read", "unreadable", e) from None
    if len(data) > MAX_BYTES:
        raise _fail(path, f"the file is too large to be a {what}", "too_large")
    return data


def _write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` atomically and privately (``paths.write_private_file``)."""
    try:
        paths.write_private_file(path, text.encode("utf-8"))
    except OSError as e:
        raise _fail(path, "the keep list cannot be written; the previous file was left as it "
                          "was", "unwritable", e) from None


def _now() -> str:
    return times.iso_from_unix(time.time()) or ""


# --- the list ---------------------------------------------------------------------

_UNSEEN: Any = object()


class KeepList:
    """An immutable set of kept sites and entries; changes return a new list.

    ``protects`` runs once per entry of a scan (100,000 of them, from a few
    thousand hosts), so each host's answer is cached; a new host whose last two
    labels are no kept site's is settled by one set lookup, and only the
    others walk their dot-suffixes.
    """

    __slots__ = ("_sites", "_entries", "_updated", "_by_id", "_reasons", "_tails", "_singles",
                 "_by_host")

    def __init__(self, sites: Iterable[str] = (),
                 entries: Mapping[str, str] | Iterable[tuple[str, str]] = (),
                 updated: str | None = None) -> None:
        """Sites are normalised and entry ids checked: InvalidItemError if one is not valid."""
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        self._init(frozenset(normalize_site(s) for s in sites),
                   {_check_entry_id(i): _clean_label(label) for i, label in pairs}, updated)

    def _init(self, sites: frozenset[str], entries: dict[str, str], updated: str | None) -> None:
        self._sites = sites
        self._entries: Mapping[str, str] = MappingProxyType(dict(sorted(entries.items())))
        self._updated = updated
        # What ``protects`` looks up: each kept entry's and site's answer, the
        # last two labels of every dotted site, the sites without a dot
        # (localhost, IPv6), and the answers for the hosts seen so far.
        self._by_id = {i: f"keep list: entry {i}" for i in entries}
        self._reasons = {site: f"keep list: site {site}" for site in sites}
        self._tails = frozenset(s[s.rfind(".", 0, s.rfind(".")) + 1:] for s in sites if "." in s)
        self._singles = frozenset(s for s in sites if "." not in s)
        self._by_host: dict[str, str | None] = {}

    @classmethod
    def _make(cls, sites: frozenset[str], entries: Mapping[str, str],
              updated: str | None) -> KeepList:
        """A list from already validated parts (no second normalisation)."""
        new = cls.__new__(cls)
        new._init(sites, dict(entries), updated)
        return new

    # --- reading ---------------------------------------------------------------

    @property
    def sites(self) -> tuple[str, ...]:
        """The kept sites, sorted."""
        return tuple(sorted(self._sites))

    @property
    def entries(self) -> Mapping[str, str]:
        """The kept entries: id -> label, sorted by id (read-only)."""
        return self._entries

    @property
    def updated(self) -> str | None:
        """When the list was last saved (ISO UTC), None if never."""
        return self._updated

    def __len__(self) -> int:
        return len(self._sites) + len(self._entries)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeepList):
            return NotImplemented
        return self._sites == other._sites and dict(self._entries) == dict(other._entries)

    def __hash__(self) -> int:
        return hash((self._sites, frozenset(self._entries.items())))

    def __repr__(self) -> str:
        return f"<KeepList {len(self._sites)} sites, {len(self._entries)} entries>"

    def protects(self, entry: Entry) -> str | None:
        """Why ``entry`` must not be deleted (``"keep list: site example.com"``), or None."""
        if self._by_id and entry.id in self._by_id:
            return self._by_id[entry.id]
        host = entry.host
        reason = self._by_host.get(host, _UNSEEN)
        if reason is _UNSEEN:
            reason = self._site_reason(host or "")
            if len(self._by_host) >= 65_536:
                self._by_host.clear()
            self._by_host[host] = reason
        return reason

    def _site_reason(self, host: str) -> str | None:
        """Why ``host`` is kept: the kept site it equals or lies under, longest suffix first."""
        if not self._reasons:
            return None
        h = host.lower().strip(".")
        if h.startswith("[") or ":" in h:
            return self._reasons.get(_ip(h) or "")
        last = h.rfind(".")
        if last >= 0 and h[h.rfind(".", 0, last) + 1:] not in self._tails and not self._singles:
            # Every host under a kept site ends in that site's last two labels:
            # one set lookup settles most hosts without walking.
            return None
        reasons = self._reasons
        while True:
            reason = reasons.get(h)
            if reason is not None:
                return reason
            dot = h.find(".")
            if dot < 0:
                return None
            h = h[dot + 1:]

    # --- changing --------------------------------------------------------------

    def with_site(self, site: str) -> KeepList:
        """This list and ``site`` (with its subdomains); InvalidItemError if not keepable."""
        return self.with_sites([site])

    def with_sites(self, sites: Iterable[str]) -> KeepList:
        """This list and all of ``sites`` (for merging an import); all or none."""
        new = frozenset(normalize_site(s) for s in sites)
        if new <= self._sites:
            return self
        return self._make(self._sites | new, self._entries, self._updated)

    def without_site(self, site: str) -> KeepList:
        """This list without ``site`` (unchanged if it was not kept)."""
        try:
            key = normalize_site(site)
        except InvalidItemError:
            key = site.strip().lower() if isinstance(site, str) else ""
        if key not in self._sites:
            return self
        return self._make(self._sites - {key}, self._entries, self._updated)

    def with_entry(self, entry_id: str, label: str) -> KeepList:
        """This list and the entry ``entry_id``; ``label`` (``name @ host``) is for people."""
        entries = dict(self._entries)
        entries[_check_entry_id(entry_id)] = _clean_label(label)
        return self._make(self._sites, entries, self._updated)

    def without_entry(self, entry_id: str) -> KeepList:
        """This list without the entry ``entry_id`` (unchanged if it was not kept)."""
        if entry_id not in self._entries:
            return self
        entries = {k: v for k, v in self._entries.items() if k != entry_id}
        return self._make(self._sites, entries, self._updated)

    # --- storing ---------------------------------------------------------------

    def to_dict(self, updated: str | None = None) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "sites": list(self.sites),
            "entries": [{"id": i, "label": label} for i, label in self._entries.items()],
            "updated": updated if updated is not None else self._updated,
        }

    def _dumps(self, updated: str) -> str:
        return json.dumps(self.to_dict(updated), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, data_dir: Path | str) -> KeepList:
        """The stored keep list; empty only if there is no file.  KeepListError if unreadable."""
        path = keep_path(data_dir)
        try:
            data = _read_bytes(path, "keep list")
        except FileNotFoundError:
            if path.is_symlink():
                raise _fail(path, "the keep list is a link to a file that does not exist",
                            "unreadable") from None
            return cls()
        return _parse(data, path, "keep list")

    def save(self, data_dir: Path | str, *, replace_unreadable: bool = False) -> KeepList:
        """Write the list atomically as ``<data_dir>/keep.json``; returns it with ``updated`` set.

        A keep.json that exists but cannot be read is not replaced (KeepListError,
        code ``unreadable_existing``) unless ``replace_unreadable``: it may hold
        sites the user still wants kept, and the user should decide.
        """
        path = keep_path(data_dir)
        try:
            paths.init(path.parent)
        except OSError as e:
            raise _fail(path.parent, "the data folder cannot be created", "unwritable", e) \
                from None
        if not replace_unreadable and os.path.lexists(path):
            try:
                KeepList.load(path.parent)
            except KeepListError as e:
                raise KeepListError(
                    f"{e}; it was not replaced. Move it aside to start a new keep list.",
                    code="unreadable_existing", path=path) from None
        stamp = _now()
        _write_atomic(path, self._dumps(stamp))
        log.info("keep list saved: %d sites, %d entries", len(self._sites), len(self._entries))
        return self._make(self._sites, self._entries, stamp)

    def export_json(self, path: Path | str) -> None:
        """Write the list in its own format to ``path`` (atomically, 0600)."""
        _write_atomic(Path(path).expanduser().absolute(), self._dumps(_now()))

    @classmethod
    def import_json(cls, path: Path | str) -> KeepList:
        """A list exported by :meth:`export_json`, validated as strictly as ``load``."""
        path = Path(path).expanduser().absolute()
        try:
            data = _read_bytes(path, "keep list")
        except FileNotFoundError:
            raise _fail(path, "the file does not exist", "missing") from None
        return _parse(data, path, "keep list")

    def ccleaner_line(self) -> str:
        """The sites as CCleaner's ``CookiesToSave=`` line of ``ccleaner.ini``.

        CCleaner matches ``*.example.com`` for the subdomains and ``example.com``
        for the host itself, so both are written for each site (IP addresses and
        ``localhost`` have no subdomains).  Single entries cannot be expressed.
        """
        items: list[str] = []
        for site in self.sites:
            if site in _SPECIAL_HOSTS or _ip(site) is not None:
                items.append(site)
            else:
                items += (f"*.{site}", site)
        return "CookiesToSave=" + "|".join(items)


import_json = KeepList.import_json


def _parse(data: bytes, path: Path, what: str) -> KeepList:
    """The keep list in ``data``, or KeepListError naming ``path`` and what is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(path, f"the {what} is not UTF-8 text", "not_text") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        where = f" (line {e.lineno}, column {e.colno})" if isinstance(e, json.JSONDecodeError) \
            else ""
        raise _fail(path, f"the {what} is not valid JSON{where}", "not_json") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _fail(path, "this is not a Privacy Inspector keep list", "wrong_format")
    version = doc.get("version")
    if type(version) is not int or version < 1:
        raise _fail(path, f"the {what} has no valid version number", "wrong_format")
    if version > VERSION:
        raise _fail(path, f"the {what} was written by a newer version of the app (version "
                          f"{version}, this version reads {VERSION}); it was left untouched",
                    "newer_version")
    raw_sites, raw_entries, updated = doc.get("sites"), doc.get("entries"), doc.get("updated")
    if not isinstance(raw_sites, list):
        raise _fail(path, f"the {what} has no list of sites", "wrong_type")
    if not isinstance(raw_entries, list):
        raise _fail(path, f"the {what} has no list of entries", "wrong_type")
    if updated is not None and not isinstance(updated, str):
        raise _fail(path, f"the {what}'s \"updated\" time is not text", "wrong_type")
    sites: set[str] = set()
    for n, item in enumerate(raw_sites, 1):
        try:
            sites.add(normalize_site(item))
        except InvalidItemError as e:
            raise _fail(path, f"site {n} of the {what} is not valid: {e}", "invalid_item") \
                from None
    entries: dict[str, str] = {}
    for n, item in enumerate(raw_entries, 1):
        if not isinstance(item, dict):
            raise _fail(path, f"entry {n} of the {what} is not an object", "wrong_type")
        try:
            entries[_check_entry_id(item.get("id"))] = _clean_label(item.get("label", ""))
        except InvalidItemError as e:
            raise _fail(path, f"entry {n} of the {what} is not valid: {e}", "invalid_item") \
                from None
    return KeepList._make(frozenset(sites), entries, updated)


# --- CCleaner ---------------------------------------------------------------------

# The key may be quoted; any section (it lives in [Options]); case-insensitive.
_COOKIES_LINE = re.compile(r"""^[ \t]*["']?cookiestosave["']?[ \t]*=(.*)$""",
                           re.IGNORECASE | re.MULTILINE)
_INI_LINE = re.compile(r"^[ \t]*(\[[^\]\n]*\]|[^=\n;#]+=)", re.MULTILINE)
# Host names cannot hold these, so any of them separates items: lenient about
# the ``|`` CCleaner writes, ``\|`` some exports write, and hand-made lists.
_SEPARATORS = re.compile(r"(?:\\?\||[,;\s])+")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _decode_text(data: bytes, where: Path | None) -> str:
    """Text in whatever encoding a Windows tool wrote it (BOM, UTF-16, UTF-8, ANSI)."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace")
    if b"\x00" in data:
        # UTF-16 without a BOM has a NUL in every other byte of ASCII text.
        if data[1::2].count(0) > len(data) // 4:
            return data.decode("utf-16-le", errors="replace")
        if data[0::2].count(0) > len(data) // 4:
            return data.decode("utf-16-be", errors="replace")
        raise _fail(where, "this is not a text file", "not_text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Host names are ASCII; only other keys' values (paths) can be ANSI.
        return data.decode("latin-1")


def _ccleaner_items(value: str) -> list[str]:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return [t for t in _SEPARATORS.split(value) if t]


def _ccleaner_host(item: str) -> str:
    """An item as a host: quotes, a scheme, a path, ``user@`` (old IE) and a port dropped."""
    host = item.strip("\"'\\")
    host = _SCHEME.sub("", host).split("/", 1)[0]
    host = host.rsplit("@", 1)[-1]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host


def import_ccleaner(source: str | os.PathLike[str]) -> CCleanerImport:
    """The sites of a CCleaner cookie list: a ``ccleaner.ini`` file or its text.

    A path-like ``source`` is read as a file; a ``str`` is the text itself.
    The ``CookiesToSave=`` line(s) are read wherever they are; a text without
    any ``key=value`` or ``[section]`` line is read as a bare list (one per
    line or ``|``-separated).  Items that are not keepable sites (public
    suffixes, garbage) are returned in ``skipped`` rather than failing the
    whole import.  KeepListError if the file cannot be read or holds no
    cookie list at all; nothing is changed either way (the caller merges
    ``sites`` with :meth:`KeepList.with_sites`).
    """
    if isinstance(source, str):
        where: Path | None = None
        text = source
    else:
        where = Path(os.fspath(source)).expanduser().absolute()
        try:
            data = _read_bytes(where, "CCleaner settings file")
        except FileNotFoundError:
            raise _fail(where, "the file does not exist", "missing") from None
        text = _decode_text(data, where)
    text = text.lstrip("\ufeff")
    values = _COOKIES_LINE.findall(text)
    if not values:
        if _INI_LINE.search(text):
            raise _fail(where, "there is no CookiesToSave= line (CCleaner's list of cookies to "
                               "keep) in this file; nothing was imported", "no_cookie_list")
        values = [line for line in text.splitlines() if not line.lstrip().startswith((";", "#"))]
    sites: set[str] = set()
    skipped: list[SkippedItem] = []
    for value in values:
        for item in _ccleaner_items(value):
            try:
                sites.add(normalize_site(_ccleaner_host(item)))
            except InvalidItemError as e:
                skipped.append(SkippedItem(item[:100], str(e)))
    if skipped:
        log.info("CCleaner import: %d items skipped", len(skipped))
    return CCleanerImport(tuple(sorted(sites)), tuple(skipped))


# --- suggestions ------------------------------------------------------------------

# Words in the names of session and login cookies.  Deliberately broad: the
# HttpOnly + Secure + persistent requirement does most of the filtering.
_LOGIN_WORDS = re.compile(r"sess|sid|auth|token|login|user")
# Well-known login cookies whose names have none of those words (or that are
# worth listing anyway), lower case, without a ``__Secure-``/``__Host-`` prefix.
LOGIN_COOKIE_NAMES = frozenset({
    "sid", "1psid", "3psid", "c_user", "xs", "li_at", "auth_token", "sessionid",
    "_session", "jsessionid", "phpsessid", "connect.sid", "remember_token",
    "logged_in", "dotcom_user", "twid", "ct0", "reddit_session", "_gh_sess",
})


def looks_like_login_cookie(name: str) -> bool:
    n = name.lower()
    for prefix in ("__secure-", "__host-"):
        if n.startswith(prefix):
            n = n[len(prefix):]
    return n in LOGIN_COOKIE_NAMES or _LOGIN_WORDS.search(n) is not None


def suggest_signed_in(entries: Iterable[Entry]) -> list[str]:
    """Sites the user is probably signed in to, most login-like cookies first.

    A heuristic to suggest what to keep, never applied by itself: a site
    counts when it has a persistent, HttpOnly and Secure cookie (what sites
    use for "remember me") whose name looks like a session or login cookie.
    Entries classified as trackers, and cookies partitioned under another
    site (someone else's embed), are ignored.  Ties are sorted by name.
    """
    counts: Counter[str] = Counter()
    for e in entries:
        if (e.kind != "cookie" or not e.persistent or e.http_only is not True
                or e.secure is not True or e.tracker is True):
            continue
        if e.partition_site is not None and e.partition_site != e.site:
            continue
        if looks_like_login_cookie(e.name):
            counts[e.site] += 1
    out: list[tuple[int, str]] = []
    for site, count in counts.items():
        try:
            out.append((-count, normalize_site(site)))
        except InvalidItemError:
            continue
    return [site for _, site in sorted(out)]
