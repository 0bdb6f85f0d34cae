"""Chromium-family localStorage and sessionStorage: the LevelDBs of a profile.

``Local Storage/leveldb`` (bytewise LevelDB, one for the whole profile):

* ``VERSION`` -> ``1``;
* ``META:<storage key>`` -> protobuf ``{1: last modified, 2: size}`` and
  ``METAACCESS:<storage key>`` -> ``{1: last accessed}``, times in µs since 1601;
* ``_<storage key>\\x00<script key>`` -> the value.  Script key and value each
  start with a format byte: 0 = UTF-16LE, 1 = Latin-1.

``Session Storage`` (bytewise LevelDB):

* ``version`` -> ``1``, ``next-map-id`` -> the next free map number;
* ``namespace-<guid>-<storage key>`` -> a map number (ASCII).  A namespace is
  one tab's session (the GUID with ``_`` for ``-``); cloned tabs share a map
  until one of them writes;
* ``map-<number>-<script key>`` -> the value, UTF-16LE (script keys UTF-8, no
  format bytes).

Storage keys are ``https://host:port`` (Local Storage) or ``https://host:port/``
(Session Storage) for a first-party origin; a partitioned (third-party) context
is ``https://embed:port/^0https://top.site``, where ``^0`` is the top-level
site, ``^1``/``^2`` a nonce (credentialless iframes, fenced frames), ``^3`` the
cross-site-ancestor bit and ``^4``/``^5``/``^6`` an opaque top-level site's
nonce and precursor (Chromium ``storage_key.cc``).

sessionStorage is listed once per namespace (per tab): two tabs can hold
different values under one key, and Chromium keeps them apart, so each gets
an entry of its own; the namespace is part of the id (``id_store``) but not of
``store``.  Maps that no namespace refers to are garbage that Chromium deletes
at its next start: they name no origin and are not listed.

Chromium's SQLite-backed DOM storage (an experiment: a ``LocalStorage`` SQLite
file in the profile, an ``exp-v1`` tag in the LevelDB folder) cannot be read
yet; the scan says so instead of listing nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers.base import ReadOptions, StorageFactory
from privacy_inspector.core import sites
from privacy_inspector.core.records import Entry, Kind, Profile, ReadError, ValueState
from privacy_inspector.core.times import WINDOWS_EPOCH_OFFSET, iso_from_unix

LOCAL_STORAGE = "Local Storage/leveldb"
SESSION_STORAGE = "Session Storage"
# The files of Chromium's SQLite-backed DOM storage experiment (crbug 377242771).
SQLITE_LOCAL_STORAGE = "LocalStorage"
SQLITE_SESSION_STORAGE = "SessionStorage"

_UTF16, _LATIN1 = 0, 1
_WINDOWS_EPOCH_MICROS = WINDOWS_EPOCH_OFFSET * 1_000_000


# --------------------------------------------------------------------------
# Storage keys
# --------------------------------------------------------------------------


def _strip_origin(origin: str) -> str:
    """``https://h:p/`` -> ``https://h:p`` (an origin has no path)."""
    scheme, sep, rest = origin.partition("://")
    if not sep:
        return origin.rstrip("/")
    return f"{scheme}://{rest.rstrip('/')}"


@functools.lru_cache(maxsize=65536)
def parse_storage_key(key: str) -> tuple[str, str | None, str | None]:
    """(origin, partition key, partition site) of a serialized Chromium StorageKey.

    ``https://ad.example:8443/^0https://news.site`` gives
    ``("https://ad.example:8443", "^0https://news.site", "news.site")``; a
    first-party key gives ``(origin, None, None)``.  The partition key is the
    raw suffix, so nonce partitions and cross-site-ancestor keys get ids of
    their own.  A nonce partition has no known top-level site.
    """
    caret = key.find("^")
    if caret < 0:
        return _strip_origin(key), None, None
    origin = _strip_origin(key[:caret])
    suffix = key[caret:]
    fields: dict[str, str] = {}
    for part in suffix.split("^")[1:]:
        if part:
            fields.setdefault(part[0], part[1:])
    site: str | None = None
    if fields.get("0"):
        site = sites.site_of_origin(fields["0"])
    elif fields.get("6"):
        # An opaque top-level site (a sandboxed or data: page) from this precursor.
        site = sites.site_of_origin(fields["6"])
    elif "3" in fields and "1" not in fields:
        # Same-site top level, with a cross-site frame in between.
        site = sites.site_of_origin(origin)
    return origin, suffix, site


def _chromium_seconds(micros: int) -> int | None:
    return (micros - _WINDOWS_EPOCH_MICROS) // 1_000_000 if micros > 0 else None


def protobuf_fields(data: bytes) -> tuple[list[tuple[int, int, bytes]], bool]:
    """The fields of a small protobuf message, as (field number, wire type, raw
    bytes with the tag), and whether the whole message parsed (the fields up to
    a damaged one are still given)."""
    out: list[tuple[int, int, bytes]] = []
    pos = 0
    n = len(data)
    try:
        while pos < n:
            start = pos
            tag, pos = leveldb.decode_varint(data, pos)
            wire = tag & 7
            if wire == 0:
                _, pos = leveldb.decode_varint(data, pos)
            elif wire == 1:
                pos += 8
            elif wire == 2:
                length, pos = leveldb.decode_varint(data, pos)
                pos += length
            elif wire == 5:
                pos += 4
            else:
                return out, False
            if pos > n:
                return out, False
            out.append((tag >> 3, wire, data[start:pos]))
    except ValueError:
        return out, False
    return out, True


def _protobuf_varints(data: bytes) -> dict[int, int]:
    """The varint fields of a small protobuf message (others are skipped)."""
    out: dict[int, int] = {}
    for number, wire, raw in protobuf_fields(data)[0]:
        if wire == 0:
            _, at = leveldb.decode_varint(raw, 0)
            out[number], _ = leveldb.decode_varint(raw, at)
    return out


# --------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------


def _decode_utf16(raw: bytes) -> str:
    try:
        return raw.decode("utf-16-le")
    except UnicodeDecodeError:
        if len(raw) % 2:
            raise ValueError("it has an odd number of bytes for UTF-16") from None
        raise ValueError("it holds a lone UTF-16 surrogate, which cannot be shown") from None


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _lossy_size(raw: bytes, utf16: bool) -> int:
    """UTF-8 size of a string that cannot be decoded exactly (lone surrogates count 3 bytes)."""
    if utf16:
        text = raw[: len(raw) & ~1].decode("utf-16-le", "surrogatepass")
        return len(text.encode("utf-8", "surrogatepass"))
    return len(raw)


class _Columns:
    """The columns of one store's entries.

    Readers append each item's name, value and size, then call ``end_group``
    once per storage key with what all of that key's items share, so that the
    per-item work stays small (a Local Storage can hold 100,000 items).
    """

    __slots__ = ("show", "name", "value", "size", "bad", "origin", "partition_key",
                 "partition_site", "accessed", "id_store", "_start")

    def __init__(self, show_values: bool) -> None:
        self.show = show_values
        self.name: list[str] = []
        self.value: list[str | None] = []
        self.size: list[int] = []
        # (index, note) of the items whose value could not be decoded.
        self.bad: list[tuple[int, str]] = []
        self.origin: list[str] = []
        self.partition_key: list[str | None] = []
        self.partition_site: list[str | None] = []
        self.accessed: list[str | None] = []
        self.id_store: list[str] = []
        self._start = 0

    def add_bad(self, name: str, size: int, note: str) -> None:
        self.bad.append((len(self.name), f"the stored value cannot be decoded: {note}"))
        self.name.append(name)
        self.value.append(None)
        self.size.append(size)

    def end_group(self, parsed: tuple[str, str | None, str | None], accessed: str | None,
                  id_store: str) -> None:
        n = len(self.name) - self._start
        self._start = len(self.name)
        if n:
            self.origin += [parsed[0]] * n
            self.partition_key += [parsed[1]] * n
            self.partition_site += [parsed[2]] * n
            self.accessed += [accessed] * n
            self.id_store += [id_store] * n

    def build(self, profile: Profile, kind: str, store: str, persistent: bool) -> list[Entry]:
        count = len(self.name)
        states: Any = ValueState.PLAIN
        notes: Any = None
        if self.bad:
            states = [ValueState.PLAIN] * count
            notes = [None] * count
            for i, note in self.bad:
                states[i] = ValueState.UNAVAILABLE
                notes[i] = note
        return StorageFactory(profile, kind, show_values=self.show).build(
            count,
            store=store,
            id_store=self.id_store,
            origin=self.origin,
            name=self.name,
            partition_key=self.partition_key,
            partition_site=self.partition_site,
            container=None,
            persistent=persistent,
            size=self.size,
            value=self.value,
            value_state=states,
            stale=False,
            last_accessed=self.accessed,
            value_note=notes,
        )


# --------------------------------------------------------------------------
# Opening the stores
# --------------------------------------------------------------------------


def _sqlite_file(profile: Profile, name: str) -> Path | None:
    path = profile.path / name
    if leveldb.is_sqlite(path):
        return path
    return None


def _open(profile: Profile, options: ReadOptions, store: str, sqlite_name: str,
          what: str) -> leveldb.Database | None:
    """The store's LevelDB, or None where the profile has none; ReadError if unreadable."""
    folder = profile.path / store
    sqlite = _sqlite_file(profile, sqlite_name)
    if not leveldb.has_database(folder):
        if sqlite is not None:
            raise ReadError(
                f"this profile keeps its {what} in Chromium's new SQLite format "
                f"({sqlite_name}), which this app cannot read yet"
            )
        return None
    try:
        db = leveldb.open_database(folder)
    except leveldb.LevelDBError as exc:
        raise ReadError(f"{store} cannot be read: {exc}") from None
    if sqlite is not None:
        options.note_problem(
            sqlite_name,
            f"this profile also keeps {what} in Chromium's new SQLite format ({sqlite_name}), "
            f"which this app cannot read yet: only the {what} in {store} is listed",
        )
    tag = leveldb.experiment_tag(folder)
    if tag is not None:
        options.note_problem(
            store,
            f"{store} is tagged ({tag}) for Chromium's SQLite storage experiment, whose "
            f"format this app cannot read yet: {what} kept in that format is not listed",
        )
    return db


# --------------------------------------------------------------------------
# localStorage
# --------------------------------------------------------------------------


def read_local_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Every localStorage item of a Chromium profile (``Local Storage/leveldb``)."""
    db = _open(profile, options, LOCAL_STORAGE, SQLITE_LOCAL_STORAGE, "localStorage")
    if db is None:
        return []
    # Per storage key: its items, and the newer of last access and last
    # modification (µs since 1601).
    groups: dict[bytes, list[tuple[bytes, bytes]]] = {}
    times: dict[bytes, int] = {}
    skipped = 0
    for key, raw in db.records.items():
        if key[:1] == b"_":
            sep = key.find(b"\x00", 1)
            if sep < 0:
                skipped += 1
                continue
            sk = key[1:sep]
            items = groups.get(sk)
            if items is None:
                items = groups[sk] = []
            items.append((key[sep + 1 :], raw))
        elif key.startswith(b"META:") or key.startswith(b"METAACCESS:"):
            sk = key[key.index(b":") + 1 :]
            micros = _protobuf_varints(raw).get(1, 0)
            if micros > times.get(sk, 0):
                times[sk] = micros
    cols = _Columns(options.show_values)
    names, values, sizes = cols.name, cols.value, cols.size
    for sk in sorted(groups):
        items = groups[sk]
        items.sort()
        for script_key, raw in items:
            fmt = script_key[0] if script_key else -1
            if fmt == _LATIN1:
                name = script_key[1:].decode("latin-1")
            elif fmt == _UTF16:
                name = script_key[1:].decode("utf-16-le", "replace")
            else:
                skipped += 1
                continue
            fmt = raw[0] if raw else -1
            try:
                if fmt == _LATIN1:
                    value = raw[1:].decode("latin-1")
                elif fmt == _UTF16:
                    value = _decode_utf16(raw[1:])
                else:
                    raise ValueError(
                        "it has no format byte" if fmt < 0 else f"its format byte {fmt} is unknown"
                    )
            except ValueError as exc:
                cols.add_bad(name, _utf8_size(name) + _lossy_size(raw[1:], fmt == _UTF16), str(exc))
                continue
            names.append(name)
            values.append(value)
            sizes.append(
                (len(name) if name.isascii() else _utf8_size(name))
                + (len(value) if value.isascii() else _utf8_size(value))
            )
        cols.end_group(
            parse_storage_key(sk.decode("utf-8", "replace")),
            iso_from_unix(_chromium_seconds(times.get(sk, 0))),
            LOCAL_STORAGE,
        )
    if skipped:
        options.note_problem(
            LOCAL_STORAGE,
            f"{skipped} localStorage record(s) in {LOCAL_STORAGE} have a key this app does "
            "not understand and are not listed",
        )
    return cols.build(profile, Kind.LOCAL_STORAGE, LOCAL_STORAGE, persistent=True)


# --------------------------------------------------------------------------
# sessionStorage
# --------------------------------------------------------------------------

_NAMESPACE_PREFIX = b"namespace-"
_MAP_PREFIX = b"map-"
_GUID_LENGTH = 36


def read_session_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Every sessionStorage item of a Chromium profile, once per tab (``Session Storage``)."""
    db = _open(profile, options, SESSION_STORAGE, SQLITE_SESSION_STORAGE, "sessionStorage")
    if db is None:
        return []
    records = db.records
    # map number -> [(namespace, storage key)]
    users: dict[bytes, list[tuple[str, bytes]]] = {}
    # map number -> [(script key, value)]
    maps: dict[bytes, list[tuple[bytes, bytes]]] = {}
    skipped = 0
    for key, raw in records.items():
        if key.startswith(_MAP_PREFIX):
            dash = key.find(b"-", len(_MAP_PREFIX))
            if dash < 0:
                skipped += 1
                continue
            maps.setdefault(key[len(_MAP_PREFIX) : dash], []).append((key[dash + 1 :], raw))
        elif key.startswith(_NAMESPACE_PREFIX):
            start = len(_NAMESPACE_PREFIX)
            guid = key[start : start + _GUID_LENGTH]
            if key[start + _GUID_LENGTH : start + _GUID_LENGTH + 1] != b"-":
                skipped += 1
                continue
            sk = key[start + _GUID_LENGTH + 1 :]
            users.setdefault(raw.strip(), []).append((guid.decode("ascii", "replace"), sk))
    rows: list[tuple[str, bytes, bytes, bytes]] = []
    for map_id, namespaces in users.items():
        for namespace, sk in namespaces:
            for script_key, raw in maps.get(map_id, ()):
                rows.append((namespace, sk, script_key, raw))
    rows.sort()
    cols = _Columns(options.show_values)
    group: tuple[str, bytes] | None = None
    for namespace, sk, script_key, raw in rows:
        if (namespace, sk) != group:
            if group is not None:
                cols.end_group(parse_storage_key(group[1].decode("utf-8", "replace")), None,
                               f"{SESSION_STORAGE}/{group[0]}")
            group = (namespace, sk)
        name = script_key.decode("utf-8", "replace")
        try:
            value = _decode_utf16(raw)
        except ValueError as exc:
            cols.add_bad(name, _utf8_size(name) + _lossy_size(raw, True), str(exc))
            continue
        cols.name.append(name)
        cols.value.append(value)
        cols.size.append(_utf8_size(name) + _utf8_size(value))
    if group is not None:
        cols.end_group(parse_storage_key(group[1].decode("utf-8", "replace")), None,
                       f"{SESSION_STORAGE}/{group[0]}")
    if skipped:
        options.note_problem(
            SESSION_STORAGE,
            f"{skipped} record(s) in {SESSION_STORAGE} have a key this app does not "
            "understand and are not listed",
        )
    return cols.build(profile, Kind.SESSION_STORAGE, SESSION_STORAGE, persistent=False)


def read_storage(profile: Profile, options: ReadOptions) -> list[Entry]:
    """localStorage and sessionStorage together (for callers that want one reader)."""
    return read_local_storage(profile, options) + read_session_storage(profile, options)
