"""Writers for Chromium's localStorage and sessionStorage (the browser closed; the caller checked).

Both stores are LevelDB folders of the profile (layouts in
``chromium_storage``), changed here by appending one write batch to the
database's log with ``leveldb_write``; Chromium replays it when it next
opens the folder, as it would replay a batch of its own.  Each writer reads
the folder under LevelDB's lock, finds the records behind the planned entry
ids (the same ids the reader makes), saves every record it will remove or
rewrite into the journal (raw key and value bytes, Base64), and only then
appends the batch.  What it changes besides the items themselves, and why
(Chromium's ``components/services/storage/dom_storage``):

* **localStorage** (``Local Storage/leveldb``): when every item of a storage
  key goes, its ``META:`` and ``METAACCESS:`` records go too, as
  ``LocalStorageImpl::DeleteStorage`` (``DeleteStorageKeys``) and an emptied
  area's commit (``PrepareToCommit``) delete them; otherwise Chromium would
  go on reporting the site's storage in its settings.  When only some items
  go, ``META:``'s size (field 2 of ``LocalStorageAreaWriteMetaData``: the
  sum of the raw script keys and values, as ``StorageAreaImpl`` counts
  ``storage_used_``) is lowered to what is left; the time fields are kept.
* **sessionStorage** (``Session Storage``): items are ``map-<id>-<key>``
  records, and tabs (namespaces) point at maps with
  ``namespace-<guid>-<storage key>`` records; cloned tabs can share one map.
  When every item of a tab's area goes, its namespace record goes too, and
  the map's records only when no other tab still uses the map, as
  ``SessionStorageMetadata::DeleteArea`` does.  Removing items from a map
  that other tabs share would remove them there too, so that is done only
  when the plan takes the same items in every such tab; otherwise the store
  is refused (``WriteError``), nothing deleted.

Restore appends the saved records again in one batch.  An item that is
there again now with another value is left as it is and reported, as is one
whose tab has written its sessionStorage into another map since.  Saved
bookkeeping records (``META:``, ``METAACCESS:``, namespace records) are put
back where they are missing, or where they still hold what the deletion
wrote; the restored ``META:`` gets the size of what the storage key holds
after the restore.

Chromium's SQLite-backed DOM storage (an experiment: a ``LocalStorage`` /
``SessionStorage`` SQLite file in the profile) is refused: the LevelDB would
then not be the only copy.  IndexedDB, Cache Storage and service workers
have no writer yet; the plan keeps them and says so.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from privacy_inspector.browsers import chromium_storage as cs
from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers.leveldb_write import open_for_append
from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core.ids import IdMaker
from privacy_inspector.core.records import Engine, Entry, Kind, Profile

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

FORMAT = "privacy-inspector-chromium-leveldb"
VERSION = 1

SET_AGAIN = "set again since the deletion; left as it is now"
GONE_SINCE = "removed since by another tab that shares it; left as it is now"
MOVED = "the tab has written its sessionStorage again since the deletion; left as it is now"


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of a Chromium profile's localStorage or sessionStorage folder."""
    if profile.engine != Engine.CHROMIUM:
        return None
    if kind == Kind.LOCAL_STORAGE and store == cs.LOCAL_STORAGE:
        return LocalStorageWriter(profile)
    if kind == Kind.SESSION_STORAGE and store == cs.SESSION_STORAGE:
        return SessionStorageWriter(profile)
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


class _Removal:
    """What one deletion removes and rewrites, in the order of the batch."""

    def __init__(self, records: dict[bytes, bytes]) -> None:
        self.records = records
        self.ops: list[tuple[bytes, bytes | None]] = []
        self.removed: list[tuple[bytes, bytes]] = []
        self.changed: list[tuple[bytes, bytes, bytes]] = []
        self.entries: list[dict[str, Any]] = []
        self._gone: set[bytes] = set()

    def remove(self, key: bytes) -> None:
        if key in self.records and key not in self._gone:
            self._gone.add(key)
            self.ops.append((key, None))
            self.removed.append((key, self.records[key]))

    def rewrite(self, key: bytes, value: bytes) -> None:
        if self.records.get(key) != value:
            self.ops.append((key, value))
            self.changed.append((key, self.records[key], value))

    def payload(self, store: str) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "store": store,
            "removed": [{"key": _b64(k), "value": _b64(v)} for k, v in self.removed],
            "changed": [{"key": _b64(k), "old": _b64(o), "new": _b64(n)} for k, o, n in self.changed],
            "entries": self.entries,
            "ids": sorted({e["id"] for e in self.entries}),
        }


class _Saved:
    """A journal payload, decoded."""

    def __init__(self, payload: dict[str, Any], store: str) -> None:
        if payload.get("format") != FORMAT or payload.get("version") != VERSION:
            raise WriteError(f"the journal's data for {store} is not in a format this version "
                             "knows; nothing was restored")
        try:
            self.removed = {_unb64(r["key"]): _unb64(r["value"]) for r in payload["removed"]}
            self.changed = {_unb64(r["key"]): (_unb64(r["old"]), _unb64(r["new"]))
                            for r in payload["changed"]}
            self.entries: list[dict[str, Any]] = list(payload["entries"])
            for entry in self.entries:
                entry["keys"] = [_unb64(k) for k in entry["keys"]]
        except (KeyError, TypeError, ValueError):
            raise WriteError(f"the journal's data for {store} is damaged; nothing was restored"
                             ) from None


class _Writer:
    """What both writers share: the folder, the journal's payload, one batch per call."""

    name = ""
    kind = ""
    store = ""
    sqlite_name = ""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.folder = profile.path / self.store

    def _check(self) -> None:
        if leveldb.is_sqlite(self.profile.path / self.sqlite_name):
            raise WriteError(f"this profile also keeps this storage in Chromium's SQLite format "
                             f"({self.sqlite_name}), which this app cannot change yet; "
                             "nothing was changed")

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        """Delete ``entries`` in one batch, journalled first; the ids deleted."""
        self._check()
        wanted = {e.id for e in entries}
        with open_for_append(self.folder) as db:
            removal = _Removal(db.records)
            self._plan(db.records, wanted, removal)
            journal.save(removal.payload(self.store))
            db.append(removal.ops)
        return sorted({e["id"] for e in removal.entries})

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        """Put the journal's records back in one batch: (ids restored, [(id, why not)])."""
        self._check()
        saved = _Saved(journal.load(), self.store)
        with open_for_append(self.folder) as db:
            now = db.records
            ops: dict[bytes, bytes] = {}
            self._restore_bookkeeping(now, saved, ops)
            restored: list[str] = []
            skipped: list[tuple[str, str]] = []
            for entry in saved.entries:
                why = self._blocked(entry, now, ops) or self._conflict(entry["keys"], now, saved)
                if why is not None:
                    skipped.append((entry["id"], why))
                    continue
                for key in entry["keys"]:
                    if key not in now and key in saved.removed:
                        ops[key] = saved.removed[key]
                restored.append(entry["id"])
            self._finish_restore(now, saved, ops)
            db.append(list(ops.items()))
        return sorted(set(restored)), skipped

    @staticmethod
    def _conflict(keys: Sequence[bytes], now: dict[bytes, bytes], saved: _Saved) -> str | None:
        """Why an entry's records cannot go back as they were, or None."""
        for key in keys:
            if key in saved.removed:
                if key in now and now[key] != saved.removed[key]:
                    return SET_AGAIN
            elif key not in now:
                # Kept in a map that other tabs share, and removed there since.
                return GONE_SINCE
        return None

    # The parts each store does its own way.

    def _plan(self, records: dict[bytes, bytes], wanted: set[str], removal: _Removal) -> None:
        raise NotImplementedError

    def _restore_bookkeeping(self, now: dict[bytes, bytes], saved: _Saved,
                             ops: dict[bytes, bytes]) -> None:
        """Put back saved bookkeeping records that are missing now (before the items)."""

    def _blocked(self, entry: dict[str, Any], now: dict[bytes, bytes],
                 ops: dict[bytes, bytes]) -> str | None:
        """Why an entry cannot go back (beyond an item set again), or None."""
        return None

    def _finish_restore(self, now: dict[bytes, bytes], saved: _Saved,
                        ops: dict[bytes, bytes]) -> None:
        """Bookkeeping that depends on which items went back."""


# --------------------------------------------------------------------------
# localStorage
# --------------------------------------------------------------------------

_META = b"META:"
_ACCESS = b"METAACCESS:"


def _local_item(key: bytes) -> tuple[bytes, bytes] | None:
    """(storage key, script key) of an item record ``_<storage key>\\x00<script key>``."""
    if key[:1] != b"_":
        return None
    sep = key.find(b"\x00", 1)
    if sep < 0:
        return None
    return key[1:sep], key[sep + 1 :]


def _local_name(script_key: bytes) -> str | None:
    """The item's name as the reader shows it (None where the reader lists no entry)."""
    fmt = script_key[0] if script_key else -1
    if fmt == 1:
        return script_key[1:].decode("latin-1")
    if fmt == 0:
        return script_key[1:].decode("utf-16-le", "replace")
    return None


def _with_size(meta: bytes, size: int) -> bytes | None:
    """``META:``'s value with its size (field 2) set to ``size``; None if it cannot be read."""
    fields, complete = cs.protobuf_fields(meta)
    if not complete or not any(n == 2 and w == 0 for n, w, _ in fields):
        return None
    size_field = leveldb.encode_varint(2 << 3) + leveldb.encode_varint(size)
    return b"".join(size_field if n == 2 and w == 0 else raw for n, w, raw in fields)


class LocalStorageWriter(_Writer):
    """``Local Storage/leveldb`` of a Chromium profile."""

    name = "chromium-local-storage"
    kind = Kind.LOCAL_STORAGE
    store = cs.LOCAL_STORAGE
    sqlite_name = cs.SQLITE_LOCAL_STORAGE

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self._make_id = IdMaker(profile.key, Kind.LOCAL_STORAGE, cs.LOCAL_STORAGE)

    def id_of(self, storage_key: bytes, script_key: bytes) -> str | None:
        """The reader's entry id of one item (None where the reader lists none)."""
        name = _local_name(script_key)
        if name is None:
            return None
        origin, partition, _ = cs.parse_storage_key(storage_key.decode("utf-8", "replace"))
        return self._make_id(partition, None, origin, name, None)

    def _items(self, records: Iterable[bytes]) -> dict[bytes, list[bytes]]:
        """Storage key -> the keys of its item records."""
        out: dict[bytes, list[bytes]] = {}
        for key in records:
            item = _local_item(key)
            if item is not None:
                out.setdefault(item[0], []).append(key)
        return out

    @staticmethod
    def _size(records: dict[bytes, bytes], keys: Iterable[bytes], storage_key: bytes) -> int:
        # What StorageAreaImpl counts: the script key (with its format byte) and the value.
        prefix = len(storage_key) + 2
        return sum(len(k) - prefix + len(records[k]) for k in keys)

    def _plan(self, records: dict[bytes, bytes], wanted: set[str], removal: _Removal) -> None:
        items = self._items(records)
        touched: dict[bytes, set[bytes]] = {}
        chosen: dict[str, list[bytes]] = {}
        for storage_key, keys in items.items():
            for key in keys:
                entry_id = self.id_of(storage_key, key[len(storage_key) + 2 :])
                if entry_id in wanted:
                    chosen.setdefault(entry_id, []).append(key)
                    touched.setdefault(storage_key, set()).add(key)
        for entry_id, keys in sorted(chosen.items()):
            removal.entries.append({"id": entry_id, "keys": [_b64(k) for k in sorted(keys)]})
        for storage_key in sorted(touched):
            for key in sorted(touched[storage_key]):
                removal.remove(key)
            left = [k for k in items[storage_key] if k not in touched[storage_key]]
            meta = _META + storage_key
            if not left:
                removal.remove(_ACCESS + storage_key)
                removal.remove(meta)
            elif meta in records:
                new = _with_size(records[meta], self._size(records, left, storage_key))
                if new is not None:
                    removal.rewrite(meta, new)

    def _finish_restore(self, now: dict[bytes, bytes], saved: _Saved,
                        ops: dict[bytes, bytes]) -> None:
        storage_keys = {k[len(_META) :] for k in [*saved.removed, *saved.changed]
                        if k.startswith(_META)}
        storage_keys |= {k[len(_ACCESS) :] for k in saved.removed if k.startswith(_ACCESS)}
        for storage_key in sorted(storage_keys):
            prefix = b"_" + storage_key + b"\x00"
            after = {k: v for k, v in now.items() if k.startswith(prefix)}
            after.update((k, v) for k, v in ops.items() if k.startswith(prefix))
            if not after:
                continue  # nothing went back: an empty area has no metadata
            meta, access = _META + storage_key, _ACCESS + storage_key
            old = saved.removed.get(meta) or saved.changed.get(meta, (None, None))[0]
            ours = saved.changed[meta][1] if meta in saved.changed else None
            # Where Chromium has written META: since, its own size is right.
            if old is not None and (meta not in now or now[meta] == ours):
                value = _with_size(old, self._size(after, after, storage_key)) or old
                if now.get(meta) != value:
                    ops[meta] = value
            if access in saved.removed and access not in now:
                ops[access] = saved.removed[access]


# --------------------------------------------------------------------------
# sessionStorage
# --------------------------------------------------------------------------

_NAMESPACE = b"namespace-"
_MAP = b"map-"
_GUID_LENGTH = 36


def _area(key: bytes) -> tuple[bytes, bytes] | None:
    """(namespace guid, storage key) of a ``namespace-<guid>-<storage key>`` record."""
    if not key.startswith(_NAMESPACE):
        return None
    start = len(_NAMESPACE)
    if key[start + _GUID_LENGTH : start + _GUID_LENGTH + 1] != b"-":
        return None
    return key[start : start + _GUID_LENGTH], key[start + _GUID_LENGTH + 1 :]


def _map_item(key: bytes) -> tuple[bytes, bytes] | None:
    """(map id, script key) of a ``map-<id>-<script key>`` record."""
    if not key.startswith(_MAP):
        return None
    dash = key.find(b"-", len(_MAP))
    if dash < 0:
        return None
    return key[len(_MAP) : dash], key[dash + 1 :]


class SessionStorageWriter(_Writer):
    """``Session Storage`` of a Chromium profile (every tab's sessionStorage)."""

    name = "chromium-session-storage"
    kind = Kind.SESSION_STORAGE
    store = cs.SESSION_STORAGE
    sqlite_name = cs.SQLITE_SESSION_STORAGE

    def __init__(self, profile: Profile) -> None:
        super().__init__(profile)
        self._makers: dict[bytes, IdMaker] = {}

    def id_of(self, guid: bytes, storage_key: bytes, script_key: bytes) -> str:
        """The reader's entry id of one item of one tab."""
        make = self._makers.get(guid)
        if make is None:
            id_store = f"{cs.SESSION_STORAGE}/{guid.decode('ascii', 'replace')}"
            make = self._makers[guid] = IdMaker(self.profile.key, Kind.SESSION_STORAGE, id_store)
        origin, partition, _ = cs.parse_storage_key(storage_key.decode("utf-8", "replace"))
        return make(partition, None, origin, script_key.decode("utf-8", "replace"), None)

    def _plan(self, records: dict[bytes, bytes], wanted: set[str], removal: _Removal) -> None:
        maps: dict[bytes, list[bytes]] = {}
        for key in records:
            item = _map_item(key)
            if item is not None:
                maps.setdefault(item[0], []).append(key)
        # map id -> the namespace records (tabs) that use it
        users: dict[bytes, list[bytes]] = {}
        for key, value in records.items():
            if _area(key) is not None:
                users.setdefault(value.strip(), []).append(key)
        for map_id in sorted(users):
            areas = sorted(users[map_id])
            keys = set(maps.get(map_id, ()))
            prefix = len(_MAP) + len(map_id) + 1
            selected: dict[bytes, set[bytes]] = {}
            ids: dict[tuple[bytes, bytes], str] = {}
            for area in areas:
                parsed = _area(area)
                assert parsed is not None  # users holds namespace records only
                guid, storage_key = parsed
                for key in keys:
                    entry_id = self.id_of(guid, storage_key, key[prefix:])
                    if entry_id in wanted:
                        selected.setdefault(area, set()).add(key)
                        ids[(area, key)] = entry_id
            if not selected:
                continue
            whole = [a for a in areas if selected.get(a) == keys]
            rest = [a for a in areas if a not in whole]
            if rest:
                shared = {frozenset(selected.get(a, ())) for a in rest}
                if len(shared) > 1:
                    raise WriteError(
                        f"{self.store}: tabs share a sessionStorage map and the selection "
                        "takes an item in only some of them (removing it would remove it "
                        "from all); select it in every tab.  Nothing was changed"
                    )
                doomed = set(shared.pop())
            else:
                doomed = keys
            for (area, key), entry_id in sorted(ids.items()):
                removal.entries.append({"id": entry_id, "keys": [_b64(key)], "area": _b64(area),
                                        "map": _b64(map_id)})
            for key in sorted(doomed):
                removal.remove(key)
            for area in whole:
                removal.remove(area)

    def _restore_bookkeeping(self, now: dict[bytes, bytes], saved: _Saved,
                             ops: dict[bytes, bytes]) -> None:
        for key, value in saved.removed.items():
            if _area(key) is not None and key not in now:
                ops[key] = value

    def _blocked(self, entry: dict[str, Any], now: dict[bytes, bytes],
                 ops: dict[bytes, bytes]) -> str | None:
        area = _unb64(entry["area"])
        current = ops.get(area, now.get(area))
        if current is None or current.strip() != _unb64(entry["map"]):
            return MOVED
        return None
