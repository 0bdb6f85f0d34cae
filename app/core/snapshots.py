"""Snapshots of the inventory, and what changed between two of them.

A snapshot records every entry of the chosen profiles as it was at one moment:
where it lives, its flags, size, expiry and explanation, and a keyed hash of
its value, never the value itself.  Two snapshots, or a snapshot and a fresh
scan ("now"), are compared entry by entry (by entry id) into a :class:`Diff`
of what was added, removed and changed.  This module is Qt-free; the CLI
(``privacy_inspector.cli.snapshots``) and the GUI call the same functions.

Storage: ``<data_dir>/snapshots.db``, a SQLite database created 0600 in the
0700 data folder, ``PRAGMA user_version`` = :data:`SCHEMA_VERSION`::

    snapshots(id INTEGER PRIMARY KEY, label TEXT UNIQUE (or NULL), created TEXT
              (UTC, YYYY-MM-DDTHH:MM:SSZ), profiles TEXT (JSON list of
              {path, browser, engine, name}), errors TEXT (JSON list of scan
              errors), key_id TEXT (which hash key was used), count INTEGER)
    items(snapshot_id, entry_id, kind, browser, engine, profile, host,
          domain_cookie, origin, site, partition_site, container, name, path,
          persistent, expires, secure, http_only, same_site, size, value_state,
          stale, organization, service, category, party, on_owner_site,
          tracker, identifier_like, purpose, policy_clauses (JSON list),
          value_hash (hex, or NULL where no value could be read))

Values: the entries are scanned with their values, each value is turned into
HMAC-SHA256 under a random 32-byte key kept in ``<data_dir>/snapshot.key``
(0600, made on first use) and then dropped.  A keyed hash tells whether a
value changed, yet a short value (a consent flag, a small counter) cannot be
found again by hashing guesses without the key.  Values are never stored,
printed or logged.  Should the key file be lost, a new key is made, and
snapshots taken under different keys are compared without their values
(``Diff.values_compared`` is then False).

API (for the CLI and the GUI)::

    take(data_dir, entries, profiles, *, label=None, errors=()) -> SnapshotInfo
    take_now(data_dir, profiles, classifier, *, label=None) -> SnapshotInfo
    scan_now(data_dir, profiles, classifier) -> Snapshot      (not stored)
    list_snapshots(data_dir) -> list[SnapshotInfo]
    load(data_dir, ref) -> Snapshot                           (ref: id or label)
    delete(data_dir, ref) -> SnapshotInfo
    check_label(data_dir, label) -> str | None
    diff(old, new) -> Diff        (Snapshot or a sequence of Items, each side)
    Diff.added / .removed / .changed / .by_organization() / .summary()

Every failure is a :class:`SnapshotError` whose ``code`` says what went wrong
and whose message names the file or the snapshot (never a value).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privacy_inspector import paths
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.records import Entry, Profile, ScanError

DB_NAME = "snapshots.db"
KEY_NAME = "snapshot.key"
KEY_BYTES = 32
SCHEMA_VERSION = 1
# "PrIn" in ASCII: marks the file as ours (PRAGMA application_id).
APPLICATION_ID = 0x5072496E

# The fields of an entry that a snapshot keeps, in the items table's order
# (after snapshot_id and entry_id); value_hash stands in for the value.
ITEM_FIELDS: tuple[str, ...] = (
    "kind", "browser", "engine", "profile", "host", "domain_cookie", "origin", "site",
    "partition_site", "container", "name", "path", "persistent", "expires", "secure",
    "http_only", "same_site", "size", "value_state", "stale", "organization", "service",
    "category", "party", "on_owner_site", "tracker", "identifier_like", "purpose",
    "policy_clauses", "value_hash",
)
_BOOL_FIELDS = frozenset({"domain_cookie", "persistent", "secure", "http_only", "stale",
                          "on_owner_site", "tracker", "identifier_like"})

# What a diff compares.  The rest (where the entry lives) is part of its id, or
# is the app's explanation, which is shown from the newer side.  "value" is
# the value's hash.
COMPARED_FIELDS: tuple[str, ...] = (
    "value", "expires", "size", "persistent", "secure", "http_only", "same_site",
    "domain_cookie", "value_state", "stale",
)

_SCHEMA = f"""
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT UNIQUE,
    created TEXT NOT NULL,
    profiles TEXT NOT NULL,
    errors TEXT NOT NULL DEFAULT '[]',
    key_id TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE TABLE items (
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL, browser TEXT, engine TEXT, profile TEXT NOT NULL, host TEXT,
    domain_cookie INTEGER, origin TEXT, site TEXT, partition_site TEXT, container INTEGER,
    name TEXT, path TEXT, persistent INTEGER, expires TEXT, secure INTEGER,
    http_only INTEGER, same_site TEXT, size INTEGER, value_state TEXT, stale INTEGER,
    organization TEXT, service TEXT, category TEXT, party TEXT, on_owner_site INTEGER,
    tracker INTEGER, identifier_like INTEGER, purpose TEXT, policy_clauses TEXT NOT NULL,
    value_hash TEXT
);
CREATE INDEX items_by_snapshot ON items(snapshot_id);
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
"""


class SnapshotError(Exception):
    """A snapshot cannot be taken, found or read.

    ``code``: ``unknown`` (no such snapshot), ``bad_label`` (a label that
    cannot be used, or is taken), ``corrupt`` (damaged or not ours),
    ``newer_schema`` (written by a newer version of the app), ``unreadable``,
    ``unwritable``, ``bad_key`` (the key file is damaged).
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Item:
    """One entry as a snapshot keeps it: an :class:`Entry` without its value,
    with ``value_hash`` (hex HMAC-SHA256, or None where no value was read)."""

    id: str
    kind: str
    browser: str
    engine: str
    profile: str
    host: str
    domain_cookie: bool | None
    origin: str | None
    site: str
    partition_site: str | None
    container: int | None
    name: str
    path: str | None
    persistent: bool
    expires: str | None
    secure: bool | None
    http_only: bool | None
    same_site: str | None
    size: int
    value_state: str
    stale: bool
    organization: str | None
    service: str | None
    category: str | None
    party: str | None
    on_owner_site: bool | None
    tracker: bool | None
    identifier_like: bool | None
    purpose: str | None
    policy_clauses: tuple[str, ...]
    value_hash: str | None

    def get(self, name: str) -> Any:
        """A field, with ``value`` meaning the value's hash (as ``diff`` names it)."""
        return self.value_hash if name == "value" else getattr(self, name)

    def to_dict(self, *, with_hash: bool = False) -> dict[str, Any]:
        """The fields as JSON-ready data; the hash only when asked for."""
        data: dict[str, Any] = {"id": self.id}
        for name in ITEM_FIELDS:
            data[name] = getattr(self, name)
        data["policy_clauses"] = list(self.policy_clauses)
        if not with_hash:
            del data["value_hash"]
        data["has_value"] = self.value_hash is not None
        return data


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What is known of a snapshot without its items.  ``id`` is None for "now"."""

    id: int | None
    label: str | None
    created: str
    count: int
    profiles: tuple[dict[str, str], ...]
    errors: tuple[dict[str, Any], ...] = ()
    key_id: str = ""

    @property
    def name(self) -> str:
        """How to mention it to a person: ``snapshot 3 "before"``, or ``now``."""
        if self.id is None:
            return "now"
        return f'snapshot {self.id}' + (f' "{self.label}"' if self.label else "")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "created": self.created,
                "entries": self.count, "profiles": [dict(p) for p in self.profiles],
                "errors": [dict(e) for e in self.errors]}


@dataclass(frozen=True, slots=True)
class Snapshot:
    info: SnapshotInfo
    items: tuple[Item, ...]


# --- hashing ------------------------------------------------------------------------

def key_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().absolute() / KEY_NAME


def db_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().absolute() / DB_NAME


def _key(data_dir: Path) -> bytes:
    """The hash key, made (0600, atomically, never replacing another) on first use."""
    path = key_path(data_dir)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        paths.init(path.parent)
        tmp = path.with_name(f".{KEY_NAME}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, paths.FILE_MODE)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # fails if another process made one meanwhile
            except FileExistsError:
                pass
        except OSError as e:
            raise SnapshotError(f"{path}: the snapshot key cannot be created ({e.strerror})",
                                code="unwritable") from None
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        paths.sync_folder(path.parent)
        try:
            key = path.read_bytes()
        except OSError as e:
            raise SnapshotError(f"{path}: the snapshot key cannot be read ({e.strerror})",
                                code="unreadable") from None
    except OSError as e:
        raise SnapshotError(f"{path}: the snapshot key cannot be read ({e.strerror})",
                            code="unreadable") from None
    if len(key) != KEY_BYTES:
        raise SnapshotError(f"{path}: the snapshot key is damaged (expected {KEY_BYTES} bytes); "
                            "move it away to start a new one (older snapshots will then be "
                            "compared without their values)", code="bad_key")
    return key


def _key_id(key: bytes) -> str:
    """Names the key without revealing it: which snapshots can compare values."""
    return hmac.new(key, b"privacy-inspector snapshot key id", hashlib.sha256).hexdigest()[:16]


def value_hash(key: bytes, value: str | bytes | None) -> str | None:
    """HMAC-SHA256 of a value under ``key`` (hex), None for no value."""
    if value is None:
        return None
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def to_items(entries: Iterable[Entry], key: bytes) -> list[Item]:
    """Entries (scanned with values) as items: each value hashed, then dropped."""
    items = []
    for e in entries:
        items.append(Item(
            e.id, str(e.kind), e.browser, str(e.engine), e.profile, e.host, e.domain_cookie, e.origin,
            e.site, e.partition_site, e.container, e.name, e.path, e.persistent, e.expires,
            e.secure, e.http_only, e.same_site, e.size, str(e.value_state), e.stale,
            e.organization, e.service, e.category, e.party, e.on_owner_site, e.tracker,
            e.identifier_like, e.purpose, tuple(e.policy_clauses), value_hash(key, e.value),
        ))
    return items


# --- the database -------------------------------------------------------------------

def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _fail(path: Path, what: str, code: str, exc: BaseException | None = None) -> SnapshotError:
    detail = f" ({exc})" if exc is not None else ""
    return SnapshotError(f"{path}: {what}{detail}", code=code)


def _check(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that is damaged, not ours, or from a newer version."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise _fail(path, "the snapshot database is damaged or not a database", "corrupt", e) \
            from None
    if app_id != APPLICATION_ID or not {"snapshots", "items"} <= tables:
        raise _fail(path, "this is not a Privacy Inspector snapshot database", "corrupt")
    if version > SCHEMA_VERSION:
        raise _fail(path, f"the snapshots were written by a newer version of the app (schema "
                          f"{version}, this version reads {SCHEMA_VERSION}); they were left "
                          "untouched", "newer_schema")
    if version < 1:
        raise _fail(path, "the snapshot database has no valid schema version", "corrupt")


def _open(data_dir: Path, *, create: bool) -> sqlite3.Connection | None:
    """A checked connection; None when there is no database and ``create`` is false."""
    path = db_path(data_dir)
    try:
        fresh = not path.exists() or (path.is_file() and path.stat().st_size == 0)
    except OSError as e:
        raise _fail(path, "the snapshot database cannot be read", "unreadable", e) from None
    if fresh and not create:
        return None
    if not fresh:
        try:
            is_sqlite = paths.has_sqlite_header(path)
        except OSError as e:
            raise _fail(path, "the snapshot database cannot be read", "unreadable", e) from None
        if not is_sqlite:
            raise _fail(path, "the snapshot database is damaged or not a database", "corrupt")
    try:
        if fresh:
            paths.create_private_file(path)
        conn = sqlite3.connect(str(path), timeout=10, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        raise _fail(path, "the snapshot database cannot be opened", "unreadable", e) from None
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if fresh:
            conn.execute("BEGIN IMMEDIATE")
            # Another process may have created it since the size was looked at.
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0 and not conn.execute(
                    "SELECT 1 FROM sqlite_master").fetchone():
                # One statement at a time: executescript would commit first.
                for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                    conn.execute(statement)
            conn.execute("COMMIT")
        _check(conn, path)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise _fail(path, "the snapshot database is damaged", "corrupt", e) from None
    except SnapshotError:
        conn.close()
        raise
    return conn


def _info(row: Sequence[Any]) -> SnapshotInfo:
    sid, label, created, profiles, errors, key_id, count = row
    return SnapshotInfo(int(sid), label, created, int(count),
                        tuple(json.loads(profiles)), tuple(json.loads(errors)), key_id)


_INFO_COLUMNS = "id, label, created, profiles, errors, key_id, count"


def check_label(data_dir: Path, label: str | None) -> str | None:
    """``label`` stripped, or SnapshotError (bad_label) if it cannot name a new snapshot.

    A label must not be empty, all digits (it would read as an id) or in use.
    """
    if label is None:
        return None
    text = label.strip()
    if not text:
        raise SnapshotError("a snapshot label must not be empty", code="bad_label")
    if text.isdigit():
        raise SnapshotError(f"the label {text!r} would read as a snapshot id; use a word",
                            code="bad_label")
    if any(s.label == text for s in list_snapshots(data_dir)):
        raise SnapshotError(f"a snapshot is already labelled {text!r}", code="bad_label")
    return text


def _profile_doc(profile: Profile) -> dict[str, str]:
    return {"path": str(profile.path), "browser": str(profile.browser),
            "engine": str(profile.engine), "name": profile.name}


def take(
    data_dir: Path,
    entries: Iterable[Entry],
    profiles: Sequence[Profile],
    *,
    label: str | None = None,
    errors: Sequence[ScanError] = (),
) -> SnapshotInfo:
    """Record ``entries`` (scanned with ``show_values=True``) as a new snapshot.

    Each value is hashed and dropped here; ``errors`` (the scan's) are kept
    with the snapshot so that a partial one says so.
    """
    label = check_label(data_dir, label)
    key = _key(data_dir)
    items = to_items(entries, key)
    created = _now()
    profile_docs = [_profile_doc(p) for p in profiles]
    error_docs = [e.to_dict() for e in errors]
    conn = _open(data_dir, create=True)
    assert conn is not None
    path = db_path(data_dir)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO snapshots (label, created, profiles, errors, key_id, count) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (label, created, json.dumps(profile_docs), json.dumps(error_docs),
                 _key_id(key), len(items)))
            sid = cur.lastrowid
            marks = ", ".join("?" * (len(ITEM_FIELDS) + 2))
            conn.executemany(
                f"INSERT INTO items (snapshot_id, entry_id, {', '.join(ITEM_FIELDS)}) "
                f"VALUES ({marks})",
                (_row(sid, item) for item in items))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.IntegrityError:
        raise SnapshotError(f"a snapshot is already labelled {label!r}", code="bad_label") \
            from None
    except sqlite3.Error as e:
        raise _fail(path, "the snapshot cannot be saved", "unwritable", e) from None
    finally:
        conn.close()
    return SnapshotInfo(int(sid), label, created, len(items), tuple(profile_docs),
                        tuple(error_docs), _key_id(key))


def _row(sid: int, item: Item) -> tuple[Any, ...]:
    values: list[Any] = [sid, item.id]
    for name in ITEM_FIELDS:
        value = getattr(item, name)
        if name == "policy_clauses":
            value = json.dumps(list(value))
        values.append(value)
    return tuple(values)


def take_now(
    data_dir: Path,
    profiles: Sequence[Profile],
    classifier: Classifier | None,
    *,
    label: str | None = None,
) -> SnapshotInfo:
    """Scan ``profiles`` (with values, which are hashed and dropped) and record it."""
    from privacy_inspector.core import engine

    label = check_label(data_dir, label)
    result = engine.scan(profiles, show_values=True, classifier=classifier)
    return take(data_dir, result.entries, profiles, label=label, errors=result.errors)


def scan_now(
    data_dir: Path, profiles: Sequence[Profile], classifier: Classifier | None
) -> Snapshot:
    """A fresh scan turned into items as ``take`` would, without storing it.

    The result's ``info.id`` is None; its ``errors`` are the scan's.
    """
    from privacy_inspector.core import engine

    key = _key(data_dir)
    result = engine.scan(profiles, show_values=True, classifier=classifier)
    items = tuple(to_items(result.entries, key))
    info = SnapshotInfo(None, None, _now(), len(items),
                        tuple(_profile_doc(p) for p in profiles),
                        tuple(e.to_dict() for e in result.errors), _key_id(key))
    return Snapshot(info, items)


def list_snapshots(data_dir: Path) -> list[SnapshotInfo]:
    """Every stored snapshot, oldest first (empty when none was taken yet)."""
    conn = _open(data_dir, create=False)
    if conn is None:
        return []
    try:
        rows = conn.execute(f"SELECT {_INFO_COLUMNS} FROM snapshots ORDER BY id").fetchall()
        return [_info(r) for r in rows]
    except (sqlite3.DatabaseError, ValueError, TypeError) as e:
        raise _fail(db_path(data_dir), "the snapshot database is damaged", "corrupt", e) \
            from None
    finally:
        conn.close()


def _find(conn: sqlite3.Connection, ref: str | int, data_dir: Path) -> SnapshotInfo:
    text = str(ref).strip()
    rows = []
    if text.isdigit():
        rows = conn.execute(f"SELECT {_INFO_COLUMNS} FROM snapshots WHERE id = ?",
                            (int(text),)).fetchall()
    if not rows:
        rows = conn.execute(f"SELECT {_INFO_COLUMNS} FROM snapshots WHERE label = ?",
                            (text,)).fetchall()
    if len(rows) != 1:
        raise SnapshotError(f"no snapshot {text!r} (snapshot --list shows the ids and labels)",
                            code="unknown")
    return _info(rows[0])


def _open_existing(data_dir: Path, ref: str | int) -> sqlite3.Connection:
    conn = _open(data_dir, create=False)
    if conn is None:
        raise SnapshotError(f"no snapshot {str(ref)!r}: none has been taken yet",
                            code="unknown")
    return conn


def load(data_dir: Path, ref: str | int) -> Snapshot:
    """The snapshot with id or label ``ref``; SnapshotError(unknown) if there is none."""
    conn = _open_existing(data_dir, ref)
    try:
        info = _find(conn, ref, data_dir)
        rows = conn.execute(
            f"SELECT entry_id, {', '.join(ITEM_FIELDS)} FROM items WHERE snapshot_id = ? "
            "ORDER BY rowid", (info.id,)).fetchall()
        items = tuple(_item(r) for r in rows)
    except (sqlite3.DatabaseError, ValueError, TypeError) as e:
        raise _fail(db_path(data_dir), "the snapshot database is damaged", "corrupt", e) \
            from None
    finally:
        conn.close()
    return Snapshot(info, items)


def _item(row: Sequence[Any]) -> Item:
    values = list(row)
    for i, name in enumerate(ITEM_FIELDS, start=1):
        if name in _BOOL_FIELDS and values[i] is not None:
            values[i] = bool(values[i])
        elif name == "policy_clauses":
            clauses = json.loads(values[i])
            if not isinstance(clauses, list):
                raise ValueError("policy_clauses is not a list")
            values[i] = tuple(str(c) for c in clauses)
    return Item(*values)


def delete(data_dir: Path, ref: str | int) -> SnapshotInfo:
    """Forget one snapshot (by id or label); returns what it was."""
    conn = _open_existing(data_dir, ref)
    try:
        info = _find(conn, ref, data_dir)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM items WHERE snapshot_id = ?", (info.id,))
            conn.execute("DELETE FROM snapshots WHERE id = ?", (info.id,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as e:
        raise _fail(db_path(data_dir), "the snapshot cannot be deleted", "unwritable", e) \
            from None
    finally:
        conn.close()
    return info


# --- comparing ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Change:
    """An entry present on both sides whose ``fields`` differ (``value``: its hash)."""

    id: str
    old: Item
    new: Item
    fields: tuple[str, ...]

    @property
    def expiry_extended(self) -> bool:
        """Only the expiry changed, to a later one: the site set the entry again."""
        return (self.fields == ("expires",) and self.old.expires is not None
                and self.new.expires is not None and self.new.expires > self.old.expires)

    def describe(self) -> str:
        """The change in words, e.g. ``value changed; expires 2026-… → 2027-…``."""
        parts = []
        for name in self.fields:
            if name == "value":
                parts.append("value changed")
            else:
                parts.append(f"{name} {_shown(self.old.get(name))} → {_shown(self.new.get(name))}")
        return "; ".join(parts)


def _shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True, slots=True)
class Group:
    """The changes of one organisation (``organization`` None: an unknown one, by site)."""

    title: str
    organization: str | None
    added: tuple[Item, ...] = ()
    removed: tuple[Item, ...] = ()
    changed: tuple[Change, ...] = ()


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed from ``old`` to ``new``.  Lists are sorted by organisation, site, name."""

    added: tuple[Item, ...]
    removed: tuple[Item, ...]
    changed: tuple[Change, ...]
    unchanged: int
    # False when the two sides were hashed under different keys: values not compared.
    values_compared: bool = True
    old_info: SnapshotInfo | None = None
    new_info: SnapshotInfo | None = None

    def summary(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed),
                "changed": len(self.changed), "unchanged": self.unchanged}

    def by_organization(self) -> list[Group]:
        """The changes grouped by organisation; entries of unknown organisations
        grouped by site (title ``Unknown (site)``).  Known organisations first."""
        buckets: dict[tuple[int, str], dict[str, list]] = {}
        owners: dict[tuple[int, str], str | None] = {}

        def bucket(item: Item) -> dict[str, list]:
            if item.organization:
                k = (0, item.organization)
            else:
                k = (1, f"Unknown ({item.site or item.host})")
            owners[k] = item.organization
            return buckets.setdefault(k, {"added": [], "removed": [], "changed": []})

        for item in self.added:
            bucket(item)["added"].append(item)
        for item in self.removed:
            bucket(item)["removed"].append(item)
        for change in self.changed:
            bucket(change.new)["changed"].append(change)
        return [Group(k[1], owners[k], tuple(b["added"]), tuple(b["removed"]),
                      tuple(b["changed"]))
                for k, b in sorted(buckets.items(), key=lambda kv: (kv[0][0], kv[0][1].lower()))]


def _order(item: Item) -> tuple:
    return (item.organization is None, (item.organization or "").lower(), item.site, item.host,
            item.kind, item.name, item.id)


def _keyed(items: Iterable[Item]) -> dict[str, Item]:
    """Items by entry id.  Two profiles whose ids coincide (two user-data folders'
    ``Default``) keep both: the repeated id is qualified by the profile path."""
    out: dict[str, Item] = {}
    seen: dict[str, int] = {}
    items = list(items)
    for item in items:
        seen[item.id] = seen.get(item.id, 0) + 1
    for item in items:
        key = item.id if seen[item.id] == 1 else f"{item.id}@{item.profile}"
        out.setdefault(key, item)
    return out


def diff(old: Snapshot | Iterable[Item], new: Snapshot | Iterable[Item]) -> Diff:
    """Compare two snapshots (or lists of items): added, removed, changed, by entry id.

    An entry counts as changed when one of :data:`COMPARED_FIELDS` differs;
    a cookie the site set again with a later expiry is a change of ``expires``.
    The explanation shown for a changed entry is the newer one.
    """
    old_info = old.info if isinstance(old, Snapshot) else None
    new_info = new.info if isinstance(new, Snapshot) else None
    values_compared = not (old_info and new_info and old_info.key_id and new_info.key_id
                           and old_info.key_id != new_info.key_id)
    compared = COMPARED_FIELDS if values_compared else COMPARED_FIELDS[1:]
    a = _keyed(old.items if isinstance(old, Snapshot) else old)
    b = _keyed(new.items if isinstance(new, Snapshot) else new)
    added = sorted((b[k] for k in b.keys() - a.keys()), key=_order)
    removed = sorted((a[k] for k in a.keys() - b.keys()), key=_order)
    changed = []
    unchanged = 0
    for k in a.keys() & b.keys():
        before, after = a[k], b[k]
        fields = tuple(f for f in compared if before.get(f) != after.get(f))
        if fields:
            changed.append(Change(after.id, before, after, fields))
        else:
            unchanged += 1
    changed.sort(key=lambda c: _order(c.new))
    return Diff(tuple(added), tuple(removed), tuple(changed), unchanged, values_compared,
                old_info, new_info)


__all__ = [
    "COMPARED_FIELDS", "Change", "Diff", "Group", "Item", "SCHEMA_VERSION", "Snapshot",
    "SnapshotError", "SnapshotInfo", "check_label", "delete", "diff", "list_snapshots",
    "load", "scan_now", "take", "take_now", "to_items", "value_hash",
]
