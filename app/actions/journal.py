"""Journals: what a deletion removed, written before it is removed, so undo can put it back.

A journal is a folder ``<data-dir>/journal/<id>/`` (0700) holding
``journal.json`` (what was done, when) and, per store, a record of its state
(``store-NNNN.record.json``) and a payload (``store-NNNN.json``), all 0600.
One file per store keeps a deletion of 5,000 origins linear: rewriting one
journal file per store change made it quadratic (benchmarks/clear.py).  A payload is what
that store's writer needs to restore its entries byte for byte: the complete
rows of a cookie database, with binary columns (encrypted values) in Base64.
Payloads hold secrets, so the folder is private, journals can be listed and
purged, and they expire after a retention period.

The order is what makes a deletion safe: the payload is written and flushed
to disk first, the store's transaction commits second, and the journal then
records the store as done.  A store whose transaction failed is recorded as
untouched.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from privacy_inspector import paths

FORMAT = "privacy-inspector-journal"
VERSION = 1
RETENTION_DAYS = 30
# Payloads up to this size live in the store's record file.
INLINE_PAYLOAD = 16 * 1024
INLINE = "inline"

# A store's state in a journal.
PENDING, DONE, UNTOUCHED, RESTORED = "pending", "done", "untouched", "restored"


class JournalError(Exception):
    """A journal that cannot be read or written; the message says which and why."""


def journal_root(data_dir: Path) -> Path:
    return data_dir / "journal"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _write_private(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Write ``data`` to ``path`` atomically, 0600, flushed to disk; ``sync_folder``
    also makes the new name itself survive a crash."""
    paths.write_private_file(path, data, durable_name=sync_folder)


@dataclass
class StoreRecord:
    """One store of one profile in a journal."""

    profile: str
    browser: str
    engine: str
    profile_name: str
    kind: str
    store: str
    writer: str
    status: str = PENDING
    payload: str | None = None
    deleted: list[str] = field(default_factory=list)
    message: str | None = None
    restored: list[str] = field(default_factory=list)
    # (entry id, why it was not restored)
    skipped: list[list[str]] = field(default_factory=list)
    # Its number in the journal (file names); set by Journal.add_store.
    index: int = -1
    # A small payload, kept in the record (``payload`` is then INLINE).
    inline: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Journal:
    """A deletion's record; ``save`` after every change of state."""

    folder: Path
    id: str
    created: str
    command: str
    stores: list[StoreRecord] = field(default_factory=list)
    undone: str | None = None

    @classmethod
    def create(cls, data_dir: Path, command: str) -> Journal:
        root = paths.ensure_private_dir(journal_root(data_dir))
        journal_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
        folder = root / journal_id
        folder.mkdir(mode=paths.DIR_MODE)
        os.chmod(folder, paths.DIR_MODE)
        journal = cls(folder=folder, id=journal_id, created=_now(), command=command)
        journal.save()
        return journal

    @classmethod
    def load(cls, data_dir: Path, journal_id: str) -> Journal:
        folder = journal_root(data_dir) / journal_id
        if "/" in journal_id or journal_id.startswith(".") or not folder.is_dir():
            raise JournalError(f"no journal {journal_id} in {journal_root(data_dir)}")
        try:
            doc = json.loads((folder / "journal.json").read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise JournalError(f"journal {journal_id} cannot be read ({type(exc).__name__})") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise JournalError(f"journal {journal_id} is not a Privacy Inspector journal")
        if doc.get("version") != VERSION:
            raise JournalError(f"journal {journal_id} has version {doc.get('version')}, "
                               f"which this app does not know ({VERSION})")
        try:
            stores = [StoreRecord(**json.loads(p.read_text("utf-8")))
                      for p in sorted(folder.glob("store-*.record.json"))]
            return cls(folder=folder, id=doc["id"], created=doc["created"], command=doc["command"],
                       stores=stores, undone=doc.get("undone"))
        except (KeyError, TypeError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise JournalError(f"journal {journal_id} is damaged ({type(exc).__name__})") from exc

    def save(self) -> None:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "created": self.created,
            "command": self.command,
            "undone": self.undone,
        }
        _write_private(self.folder / "journal.json", json.dumps(doc, indent=1).encode("utf-8"))

    def add_store(self, record: StoreRecord) -> None:
        """A store about to be changed; on disk with its payload (``write_payload``)."""
        record.index = len(self.stores)
        self.stores.append(record)

    def save_store(self, record: StoreRecord, *, durable: bool = False) -> None:
        """One store's state, on disk.

        Only the record written with the payload must survive a crash; a
        later state lost in a crash leaves that record "pending" with its
        payload, which undo treats as possibly done (restoring skips what is
        still there), so those writes need not flush the folder.
        """
        data = json.dumps(record.to_dict(), indent=1).encode("utf-8")
        # Always flushed before the rename: a record must never be lost half-written.
        _write_private(self.folder / f"store-{record.index:04d}.record.json", data,
                       sync_folder=durable)

    def for_store(self, record: StoreRecord) -> StoreJournal:
        return StoreJournal(self, record)

    def write_payload(self, record: StoreRecord, payload: dict[str, Any]) -> None:
        """The store's payload, on disk before the store is changed."""
        data = json.dumps(payload).encode("utf-8")
        if len(data) <= INLINE_PAYLOAD:
            # Small (a folder moved, a few keys): kept in the record itself, one file less.
            record.payload = INLINE
            record.inline = json.loads(data)  # a copy: the writer may go on using its dict
        else:
            name = f"store-{record.index:04d}.json"
            _write_private(self.folder / name, data, sync_folder=False)
            record.payload = name
        self.save_store(record, durable=True)  # flushes the folder: both names are kept

    def read_payload(self, record: StoreRecord) -> dict[str, Any]:
        if record.payload is None:
            raise JournalError(f"journal {self.id} has no saved data for {record.store}")
        if record.payload == INLINE:
            if not isinstance(record.inline, dict):
                raise JournalError(f"journal {self.id}: the saved data of {record.store} is damaged")
            return copy.deepcopy(record.inline)  # the writer may change what it is given
        try:
            return json.loads((self.folder / record.payload).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise JournalError(f"journal {self.id}: {record.payload} cannot be read "
                               f"({type(exc).__name__})") from exc

    @property
    def deleted(self) -> list[str]:
        return [i for s in self.stores if s.status in (DONE, RESTORED) for i in s.deleted]

    def restorable(self) -> list[StoreRecord]:
        """Stores to restore: those done, and those left "pending" with a payload by a
        crash (their change may have committed; restoring skips what is still there)."""
        return [s for s in self.stores
                if s.status == DONE or (s.status == PENDING and s.payload is not None)]

    @property
    def summary(self) -> dict[str, Any]:
        return {
            "journal_id": self.id,
            "created": self.created,
            "command": self.command,
            "deleted": len(self.deleted),
            "stores": len([s for s in self.stores if s.status in (DONE, RESTORED)]),
            "undone": self.undone,
        }


class StoreJournal:
    """One store's part of a journal, as a writer sees it (browsers.writers.StoreJournal)."""

    def __init__(self, journal: Journal, record: StoreRecord) -> None:
        self._journal = journal
        self._record = record

    def save(self, payload: dict[str, Any]) -> None:
        self._journal.write_payload(self._record, payload)

    def load(self) -> dict[str, Any]:
        return self._journal.read_payload(self._record)

    def files(self) -> Path:
        folder = self._journal.folder / f"store-{self._record.index:04d}.files"
        if not folder.exists():
            folder.mkdir(mode=paths.DIR_MODE)
            os.chmod(folder, paths.DIR_MODE)
        return folder


def list_journals(data_dir: Path) -> list[Journal]:
    """Every readable journal, newest first (an unreadable one is skipped, not deleted)."""
    root = journal_root(data_dir)
    if not root.is_dir():
        return []
    journals = []
    for folder in sorted(root.iterdir(), reverse=True):
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                journals.append(Journal.load(data_dir, folder.name))
            except JournalError:
                continue
    return journals


def newest_to_undo(data_dir: Path) -> Journal | None:
    for journal in list_journals(data_dir):
        if journal.undone is None and journal.restorable():
            return journal
    return None


def purge(data_dir: Path, older_than_days: float = RETENTION_DAYS, now: float | None = None) -> list[str]:
    """Remove journals older than the retention period; the ids removed."""
    now = time.time() if now is None else now
    removed = []
    for journal in list_journals(data_dir):
        created = time.mktime(time.strptime(journal.created, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        if now - created > older_than_days * 86400:
            shutil.rmtree(journal.folder)
            removed.append(journal.id)
    return removed
