"""The writer of Chromium's service worker registrations (the browser closed; the caller checked).

``Service Worker/Database`` is a LevelDB (``components/services/storage/
service_worker/service_worker_database.cc``, schema version 2) holding, per
registration:

* ``REG:<storage key>\\x00<registration id>``: the registration
  (``ServiceWorkerRegistrationData``: id 1, scope 2, script 3, version id 4);
* ``REGID_TO_ORIGIN:<registration id>``: its storage key;
* ``RES:<version id>\\x00<resource id>``: one record per script of its
  version (``ServiceWorkerResourceRecord``: resource id 1);
* ``REG_USER_DATA:<registration id>\\x00<name>`` and
  ``REG_HAS_USER_DATA:<name>\\x00<registration id>``: data features keep
  for it;
* ``INITDATA_UNIQUE_ORIGIN:<storage key>``: present while the storage key has
  a registration.

The script bodies live in ``Service Worker/ScriptCache``, a Simple disk cache
keyed by the decimal resource id (files ``<first 8 bytes of SHA-1(key),
little-endian, hex>_0`` / ``_1`` / ``_s``).

Deleting does what ``ServiceWorkerDatabase::DeleteRegistration`` does, as one
batch appended to the database's log (:mod:`leveldb_write`): the records above
are deleted (the unique-origin record only when the storage key has no other
registration), and each resource id gets a ``PRES:<resource id>`` record, so
that Chromium deletes the script bodies itself at its next start
(``ServiceWorkerStorage`` purges the purgeable resources, then drops the
``PRES:`` records).  Before anything changes, every removed record (raw key
and value, Base64) goes into the journal, and copies of the script body files
into the journal's folder.

Restore appends the saved records again in one batch and deletes the
``PRES:`` records the deletion added, where they are still there (Chromium has
not purged the bodies yet: they are still in the script cache).  Where
Chromium has purged them, the saved copies of the body files go back into the
script cache first (also where a body file is gone while its ``PRES:`` record
is still there: a purge cut short), files only where none is there (the
Simple cache's index is then older than the folder, and Chromium rebuilds it
from the files: the real browser runs such a restored worker).  A
registration is left as it is, and reported, where a record of it exists
again with another value, or the site has registered the same scope again.

Refused (``WriteError``, nothing changed): a database of another schema
version, keys this version does not know, a registration whose records do not
agree with each other, a database in use.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy_inspector.browsers.chromium_files import Row, build_entries_from_rows
from privacy_inspector.browsers.chromium_keys import DecodeError, parse_storage_key
from privacy_inspector.browsers.chromium_workers import (
    SERVICE_WORKER_DB,
    parse_registration,
    proto_fields,
)
from privacy_inspector.browsers.leveldb_write import open_for_append
from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core.records import Engine, Entry, Kind, Profile

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

__all__ = ["ServiceWorkerWriter", "writer_for"]

FORMAT = "privacy-inspector-chromium-service-worker"
VERSION = 1

SCRIPT_CACHE = "Service Worker/ScriptCache"
SET_AGAIN = "set again since the deletion; left as it is now"
REGISTERED_AGAIN = "the site has registered this scope again since; left as it is now"
BODIES_GONE = ("Chromium has deleted its scripts since and the journal has no copy of them; "
               "not restored")

_REG = b"REG:"
_REGID = b"REGID_TO_ORIGIN:"
_RES = b"RES:"
_USER = b"REG_USER_DATA:"
_HAS_USER = b"REG_HAS_USER_DATA:"
_UNIQUE = b"INITDATA_UNIQUE_ORIGIN:"
_PRES = b"PRES:"
_URES = b"URES:"
_DB_VERSION = b"INITDATA_DB_VERSION"
_EXACT = {_DB_VERSION, b"INITDATA_NEXT_REGISTRATION_ID", b"INITDATA_NEXT_RESOURCE_ID",
          b"INITDATA_NEXT_VERSION_ID", b"INITDATA_DISKCACHE_MIGRATION_NOT_NEEDED",
          b"INITDATA_OLD_DISKCACHE_DELETION_NOT_NEEDED"}
# Longest first: REG_HAS_USER_DATA: and REG_USER_DATA: also start with REG.
_PREFIXES = (_HAS_USER, _USER, _REGID, _UNIQUE, b"INITDATA_FOREIGN_FETCH_ORIGIN:", _REG, _RES,
             _PRES, _URES)
_SUFFIXES = ("_0", "_1", "_s")


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of a Chromium profile's service worker registrations, or None."""
    if profile.engine != Engine.CHROMIUM or kind != Kind.SERVICE_WORKER:
        return None
    if store != SERVICE_WORKER_DB:
        return None
    return ServiceWorkerWriter(profile)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _number(text: bytes) -> int | None:
    """A non-negative int64 as ``base::NumberToString`` writes it, or None."""
    if not text.isdigit() or (len(text) > 1 and text[:1] == b"0") or len(text) > 19:
        return None
    return int(text)


def script_files(resource_id: int) -> list[str]:
    """The Simple cache file names a script body of ``resource_id`` can have."""
    digest = hashlib.sha1(str(resource_id).encode()).digest()
    name = f"{struct.unpack('<Q', digest[:8])[0]:016x}"
    return [name + suffix for suffix in _SUFFIXES]


class _Layout(Exception):
    """Internal: the database is not laid out as this version knows."""


def _check_layout(records: dict[bytes, bytes]) -> None:
    version = records.get(_DB_VERSION)
    if version != b"2":
        shown = "none" if version is None else version.decode("ascii", "replace")
        raise _Layout(f"its schema version is {shown}; this version knows version 2 only")
    for key in records:
        if key in _EXACT:
            continue
        if not any(key.startswith(p) for p in _PREFIXES):
            shown = key[:40].decode("ascii", "replace")
            raise _Layout(f"it has a record this version does not know ({shown!r})")


class _Registration:
    """One registration and the keys of every record that belongs to it."""

    def __init__(self, key: bytes, records: dict[bytes, bytes]) -> None:
        storage_key, sep, reg_text = key[len(_REG):].partition(b"\x00")
        reg_id = _number(reg_text)
        if not sep or reg_id is None:
            raise _Layout("a registration key is not REG:<storage key>\\0<id>")
        values: dict[int, Any] = {}
        try:
            for number, value in proto_fields(records[key]):
                values.setdefault(number, value)
            registration = parse_registration(records[key])
        except DecodeError as exc:
            raise _Layout(f"registration {reg_id} cannot be decoded ({exc})") from None
        version_id = values.get(4)
        if registration.id != reg_id or not isinstance(version_id, int):
            raise _Layout(f"registration {reg_id}'s record does not match its key")
        if records.get(_REGID + reg_text) != storage_key:
            raise _Layout(f"registration {reg_id} has no matching {_REGID.decode()} record")
        self.key = key
        self.id = reg_id
        self.storage_key = storage_key
        self.registration = registration
        self.keys = [key, _REGID + reg_text]
        self.resources: list[int] = []
        res_prefix = _RES + str(version_id).encode() + b"\x00"
        for res_key in sorted(k for k in records if k.startswith(res_prefix)):
            resource_id = _number(res_key[len(res_prefix):])
            try:
                fields = dict(proto_fields(records[res_key]))
            except DecodeError:
                fields = {}
            if resource_id is None or fields.get(1) != resource_id:
                raise _Layout(f"a script record of registration {reg_id} does not match its key")
            self.keys.append(res_key)
            self.resources.append(resource_id)
        user_prefix = _USER + reg_text + b"\x00"
        for user_key in sorted(k for k in records if k.startswith(user_prefix)):
            self.keys.append(user_key)
            has = _HAS_USER + user_key[len(user_prefix):] + b"\x00" + reg_text
            if has in records:
                self.keys.append(has)

    def row(self) -> Row | None:
        storage_key = parse_storage_key(self.storage_key.decode("utf-8", "replace"))
        if storage_key is None:
            return None
        reg = self.registration
        note = f"script: {reg.script}" + ("" if reg.active else "; not yet active")
        return Row(SERVICE_WORKER_DB, "Service Worker", storage_key.origin, reg.scope,
                   storage_key.partition, storage_key.partition_site, reg.resources_size or 0,
                   note)


class ServiceWorkerWriter:
    """``Service Worker/Database`` of a Chromium profile (and its script bodies)."""

    name = "chromium-service-worker"

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.folder = profile.path / SERVICE_WORKER_DB
        self.script_cache = profile.path / SCRIPT_CACHE

    def _registrations(self, records: dict[bytes, bytes]) -> dict[str, _Registration]:
        """Entry id (as the reader makes it) -> registration."""
        try:
            _check_layout(records)
            found = []
            for key in sorted(k for k in records if k.startswith(_REG)
                              and not k.startswith((_REGID, _USER, _HAS_USER))):
                registration = _Registration(key, records)
                row = registration.row()
                if row is not None:
                    found.append((registration, row))
        except _Layout as exc:
            raise WriteError(f"{SERVICE_WORKER_DB}: {exc}; nothing was changed") from None
        entries = build_entries_from_rows(self.profile, Kind.SERVICE_WORKER,
                                          [row for _, row in found])
        if len(entries) != len(found):
            raise WriteError(f"{SERVICE_WORKER_DB}: its registrations do not map one to one to "
                             "entries; nothing was changed")
        return {entry.id: registration for entry, (registration, _) in zip(entries, found, strict=True)}

    # ---- deleting ----------------------------------------------------------

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        if not self.folder.is_dir():
            return []
        with open_for_append(self.folder) as db:
            records = db.records
            registrations = self._registrations(records)
            chosen = {i: r for i, r in sorted(registrations.items()) if i in wanted}
            if not chosen:
                return []
            removed: dict[bytes, bytes] = {}
            added: list[bytes] = []
            saved_entries = []
            for entry_id, registration in chosen.items():
                for key in registration.keys:
                    removed[key] = records[key]
                for resource_id in registration.resources:
                    pres = _PRES + str(resource_id).encode()
                    if pres not in records and pres not in added:
                        added.append(pres)
                saved_entries.append({"id": entry_id, "keys": [_b64(k) for k in registration.keys],
                                      "scope": registration.registration.scope,
                                      "storage_key": _b64(registration.storage_key),
                                      "resources": registration.resources})
            gone = {r.id for r in chosen.values()}
            for storage_key in sorted({r.storage_key for r in chosen.values()}):
                others = [r for r in registrations.values()
                          if r.storage_key == storage_key and r.id not in gone]
                unique = _UNIQUE + storage_key
                if not others and unique in records:
                    removed[unique] = records[unique]
            copies = self._copy_scripts(chosen.values(), journal)
            journal.save({"format": FORMAT, "version": VERSION, "store": SERVICE_WORKER_DB,
                          "removed": [{"key": _b64(k), "value": _b64(v)}
                                      for k, v in removed.items()],
                          "added": [_b64(k) for k in added], "scripts": copies,
                          "entries": saved_entries, "ids": sorted(chosen)})
            ops: list[tuple[bytes, bytes | None]] = [(k, None) for k in removed]
            ops += [(k, b"") for k in added]
            db.append(ops)
        return sorted(chosen)

    def _copy_scripts(self, registrations: Any, journal: StoreJournal) -> list[str]:
        """Copy the body files of the registrations' scripts into the journal's folder."""
        names = []
        for registration in registrations:
            for resource_id in registration.resources:
                names += [n for n in script_files(resource_id)
                          if (self.script_cache / n).is_file()]
        if not names:
            return []
        target = journal.files() / "ScriptCache"
        target.mkdir(mode=0o700, exist_ok=True)
        for name in names:
            try:
                shutil.copy2(self.script_cache / name, target / name)
            except OSError as exc:
                raise WriteError(f"{SCRIPT_CACHE}/{name} could not be copied into the journal "
                                 f"({exc.strerror}); nothing was changed") from None
        return names

    # ---- restoring ---------------------------------------------------------

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        if payload.get("format") != FORMAT or payload.get("version") != VERSION:
            raise WriteError(f"the journal's data for {SERVICE_WORKER_DB} is not in a format "
                             "this version knows; nothing was restored")
        try:
            removed = {_unb64(r["key"]): _unb64(r["value"]) for r in payload["removed"]}
            added = [_unb64(k) for k in payload["added"]]
            scripts = [str(n) for n in payload["scripts"]]
            entries = [(str(e["id"]), [_unb64(k) for k in e["keys"]], str(e["scope"]),
                        _unb64(e["storage_key"]), [int(r) for r in e["resources"]])
                       for e in payload["entries"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise WriteError(f"the journal's data for {SERVICE_WORKER_DB} is damaged "
                             f"({type(exc).__name__}); nothing was restored") from None
        if any(os.sep in n or "/" in n or n.startswith(".") for n in scripts):
            raise WriteError(f"the journal's data for {SERVICE_WORKER_DB} is damaged; "
                             "nothing was restored")
        if not self.folder.is_dir():
            why = f"{SERVICE_WORKER_DB} is gone since; not restored"
            return [], [(e[0], why) for e in entries]
        copies = journal.files() / "ScriptCache"
        with open_for_append(self.folder) as db:
            now = db.records
            try:
                _check_layout(now)
            except _Layout as exc:
                raise WriteError(f"{SERVICE_WORKER_DB}: {exc}; nothing was restored") from None
            scopes_now = set()
            for key, value in now.items():
                if key.startswith(_REG) and not key.startswith((_REGID, _USER, _HAS_USER)):
                    with contextlib.suppress(DecodeError):
                        scopes_now.add((key[len(_REG):].partition(b"\x00")[0],
                                        parse_registration(value).scope))
            ops: dict[bytes, bytes | None] = {}
            restored: list[str] = []
            skipped: list[tuple[str, str]] = []
            put_back: list[str] = []
            for entry_id, keys, scope, storage_key, resources in entries:
                if any(k in now and now[k] != removed.get(k) for k in keys):
                    skipped.append((entry_id, SET_AGAIN))
                    continue
                if keys[0] not in now and (storage_key, scope) in scopes_now:
                    skipped.append((entry_id, REGISTERED_AGAIN))
                    continue
                # Bodies Chromium has purged since (its PRES: record gone), or
                # began to purge (a file gone): their copies must go back.
                purged = [r for r in resources if _PRES + str(r).encode() in added
                          and _PRES + str(r).encode() not in now]
                saved = [n for r in resources for n in script_files(r) if n in scripts]
                missing = [n for n in saved if not (self.script_cache / n).exists()]
                if any(not (copies / n).is_file() for n in missing) or any(
                        not any(n in scripts for n in script_files(r)) for r in purged):
                    skipped.append((entry_id, BODIES_GONE))
                    continue
                put_back += missing
                for key in keys:
                    if key not in now:
                        ops[key] = removed[key]
                for resource_id in resources:
                    pres = _PRES + str(resource_id).encode()
                    if pres in added and pres in now:
                        ops[pres] = None
                unique = _UNIQUE + storage_key
                if unique not in now and unique in removed:
                    ops[unique] = removed[unique]
                restored.append(entry_id)
            self._put_scripts(copies, put_back)
            try:
                db.append(list(ops.items()))
            except WriteError:
                for name in put_back:
                    with contextlib.suppress(OSError):
                        (self.script_cache / name).unlink()
                raise
        return sorted(restored), skipped

    def _put_scripts(self, copies: Path, names: list[str]) -> None:
        """Copy saved body files back into the script cache (none is there now)."""
        if not names:
            return
        self.script_cache.mkdir(mode=0o700, parents=True, exist_ok=True)
        done: list[str] = []
        try:
            for name in names:
                shutil.copy2(copies / name, self.script_cache / name)
                done.append(name)
        except OSError as exc:
            for name in done:
                with contextlib.suppress(OSError):
                    (self.script_cache / name).unlink()
            raise WriteError(f"{SCRIPT_CACHE}/{name} could not be put back ({exc.strerror}); "
                             "nothing was restored") from None
