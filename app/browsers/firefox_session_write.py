"""Writers for Firefox's session files: session cookies and sessionStorage
(the browser closed; the caller checked).

The stores are ``sessionstore.jsonlz4``, ``sessionstore-backups/recovery.jsonlz4``
and ``sessionstore-backups/previous.jsonlz4`` (see ``firefox.SESSION_FILES``).
Each is one JSON document, written by Firefox with ``IOUtils.writeJSON(path,
state, {compress: true})`` (``browser/components/sessionstore/SessionWriter.sys.mjs``):
``JSON.stringify`` output (compact, UTF-8) in Mozilla's LZ4 container, which
``IOUtils`` reads back with ``readJSON(path, {decompress: true})``: the magic
``mozLz40\\0``, the decompressed size as a little-endian uint32, then one LZ4
block (``dom/system/IOUtils.cpp``, ``MozLZ4::Compress``/``Decompress``; the
same layout as the older ``toolkit/components/lz4/lz4.js``).

What a writer removes is exactly what the readers list from that file:

* session cookies (``Kind.COOKIE``): objects of the top-level ``cookies``
  array (``SessionCookies.sys.mjs``), or of a window's ``cookies`` array in
  older files (``firefox._session_cookies``);
* sessionStorage items (``Kind.SESSION_STORAGE``): keys of a tab's
  ``storage`` object, ``{origin[^suffix]: {key: value}}``, in open and closed
  tabs of open and closed windows (``firefox_storage._tab_states``).  An
  origin left without keys goes from ``storage``, and a ``storage`` left
  without origins goes from the tab, as Firefox writes a tab without
  sessionStorage.

Everything else is kept: the JSON is parsed and written again in the form
``JSON.stringify`` gives (key order, numbers and escapes as JavaScript writes
them), and a file that does not come back byte for byte from that round trip
is refused, so no byte outside the removed items can change.  The new file
replaces the old one atomically (a temporary file in the same folder,
flushed, renamed over it, the folder flushed), with the old file's mode.

Journal first: a copy of the original file goes into ``journal.files()`` and
the removed items, with where each one was, into the payload.  Restore puts
the original file back when the file is still byte for byte what the writer
wrote; otherwise (Firefox ran since and rewrote it, or another writer changed
the same file) it puts each removed item back where it was, skipping, and
saying so, an item the file holds again and one whose tab is gone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privacy_inspector import paths
from privacy_inspector.browsers import mozlz4
from privacy_inspector.browsers.firefox import (
    SESSION_FILES,
    parse_origin_attributes,
    partition_and_container,
)
from privacy_inspector.browsers.firefox_origins import split_origin
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.core.ids import IdMaker
from privacy_inspector.core.records import Engine, Entry, Kind, Profile

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer

__all__ = ["SessionCookieWriter", "SessionStorageWriter", "js_stringify", "writer_for"]

STALE = dict(SESSION_FILES)
SET_AGAIN = "set again since the deletion; left as it is now"
TAB_GONE = "the tab that held it is no longer in the session file; not restored"
FILE_GONE = ("the session file is gone since the deletion (Firefox replaced it when it "
             "ran); not restored")


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of one Firefox session file, or None if ``store`` is not one."""
    if profile.engine != Engine.FIREFOX or store not in STALE:
        return None
    if kind == Kind.COOKIE:
        return SessionCookieWriter(profile, store)
    if kind == Kind.SESSION_STORAGE:
        return SessionStorageWriter(profile, store)
    return None


# --------------------------------------------------------------------------
# JSON as JSON.stringify writes it
# --------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
_encode_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _js_number(x: float) -> str:
    """``Number.prototype.toString`` of a finite double (ECMA-262 Number::toString).

    Python's ``repr`` gives the same shortest round-trip digits; only where
    the decimal point and the exponent go differs.
    """
    if x != x or x in (float("inf"), float("-inf")):
        return "null"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + _js_number(-x)
    mantissa, _, exponent = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    trailing = len(digits) - len(digits.rstrip("0"))
    digits = digits.rstrip("0")
    k = len(digits)
    n = int(exponent or 0) - len(fraction) + trailing + k  # value = 0.digits * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * -n + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(e)}"


def _stringify(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_encode_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_js_number(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _stringify(item, out)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _stringify(item, out)
        out.append("]")
    else:
        raise TypeError(f"not JSON: {type(value).__name__}")


def js_stringify(value: Any) -> bytes:
    """``JSON.stringify(value)`` encoded as UTF-8 (lone surrogates escaped, as
    the well-formed ``JSON.stringify`` of ECMAScript 2019 writes them)."""
    out: list[str] = []
    _stringify(value, out)
    text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", "".join(out))
    return text.encode("utf-8")


# --------------------------------------------------------------------------
# Reading and writing one session file
# --------------------------------------------------------------------------


def _decode(data: bytes, what: str, doing: str) -> Any:
    """The state of a session file's bytes; WriteError if it is not one this
    writer can change without touching anything else."""
    try:
        raw = mozlz4.decode(data)
    except mozlz4.FormatError as exc:
        raise WriteError(f"{what} is not a readable session file ({exc}); {doing}") from exc
    try:
        state = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise WriteError(f"{what} does not hold valid session data; {doing}") from exc
    if not isinstance(state, dict):
        raise WriteError(f"{what} does not hold a session; {doing}")
    try:
        same = js_stringify(state) == raw
    except RecursionError:
        same = False
    if not same:
        raise WriteError(f"{what} is not written the way Firefox writes it (written again, "
                         f"it would differ beyond the items removed); {doing}")
    return state


def _encode(state: dict[str, Any]) -> bytes:
    return mozlz4.encode(js_stringify(state))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data``: a temporary file beside it, flushed,
    renamed over it, the folder flushed; permissions ``mode``."""
    paths.write_file_atomically(path, data, mode)


def _insert_at(mapping: dict[str, Any], key: str, value: Any, position: int) -> None:
    """Put ``key`` in ``mapping`` at ``position`` (clamped), keeping the others' order."""
    items = list(mapping.items())
    items.insert(max(0, min(position, len(items))), (key, value))
    mapping.clear()
    mapping.update(items)


def _at(state: Any, path: Sequence[Any]) -> Any:
    """The value at a JSON path (keys and indexes), or None if it is not there."""
    node = state
    for step in path:
        if isinstance(step, int) and isinstance(node, list) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(step, str) and isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return None
    return node


class _SessionFileWriter:
    """What both writers share: the file, the ids, journal first, restore."""

    name = ""
    kind = Kind.COOKIE

    def __init__(self, profile: Profile, store: str) -> None:
        self.store = store
        self.path = profile.path / store
        id_store = "session-stale" if STALE[store] else "session"
        self.make_id = IdMaker(profile.key, self.kind, id_store)

    # The parts each kind fills in.

    def _remove(self, state: dict[str, Any], wanted: set[str]) -> list[dict[str, Any]]:
        """Remove the wanted items from ``state``; each one removed, with where it was."""
        raise NotImplementedError

    def _present(self, state: dict[str, Any]) -> set[str]:
        """The ids of every item the file holds."""
        raise NotImplementedError

    def _put_back(self, state: dict[str, Any], removed: list[dict[str, Any]],
                  present: set[str]) -> tuple[list[str], list[tuple[str, str]]]:
        raise NotImplementedError

    # The contract.

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        wanted = {e.id for e in entries}
        doing = "nothing was changed"
        try:
            original = self.path.read_bytes()
            mode = self.path.stat().st_mode & 0o7777
        except FileNotFoundError:
            return []
        state = _decode(original, self.store, doing)
        removed = self._remove(state, wanted)
        if not removed:
            return []
        data = _encode(state)
        ids = sorted({r["id"] for r in removed})
        copy = journal.files() / self.path.name
        _write_atomically(copy, original, 0o600)
        journal.save({
            "kind": str(self.kind),
            "store": self.store,
            "original": self.path.name,
            "original_sha256": _sha256(original),
            "written_sha256": _sha256(data),
            "ids": ids,
            "removed": removed,
        })
        if self.path.read_bytes() != original:
            raise WriteError(f"{self.store} changed while it was being changed (is Firefox "
                             f"running?); {doing}")
        try:
            _write_atomically(self.path, data, mode)
        except OSError as exc:
            raise WriteError(f"{self.store} could not be written ({exc.strerror or type(exc).__name__}); "
                             "it was left as it was") from exc
        return ids

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        payload = journal.load()
        ids: list[str] = payload["ids"]
        doing = "nothing was restored"
        try:
            current = self.path.read_bytes()
            mode = self.path.stat().st_mode & 0o7777
        except FileNotFoundError:
            return [], [(i, FILE_GONE) for i in ids]
        if _sha256(current) == payload["written_sha256"]:
            # Untouched since the deletion: the original file, byte for byte.
            copy = journal.files() / payload["original"]
            try:
                original = copy.read_bytes()
            except OSError as exc:
                raise WriteError(f"the journal's copy of {self.store} cannot be read; {doing}") from exc
            if _sha256(original) != payload["original_sha256"]:
                raise WriteError(f"the journal's copy of {self.store} is damaged; {doing}")
            _write_atomically(self.path, original, mode)
            return list(ids), []
        state = _decode(current, self.store, doing)
        restored, skipped = self._put_back(state, payload["removed"], self._present(state))
        if restored:
            _write_atomically(self.path, _encode(state), mode)
        return restored, skipped


# --------------------------------------------------------------------------
# Session cookies
# --------------------------------------------------------------------------


def _cookie_lists(state: dict[str, Any]) -> Iterator[tuple[list[Any], list[Any]]]:
    """(JSON path, list) of every cookies array the reader reads."""
    if isinstance(state.get("cookies"), list):
        yield ["cookies"], state["cookies"]
    windows = state.get("windows")
    if isinstance(windows, list):
        for w, window in enumerate(windows):
            if isinstance(window, dict) and isinstance(window.get("cookies"), list):
                yield ["windows", w, "cookies"], window["cookies"]


class SessionCookieWriter(_SessionFileWriter):
    """Session cookies in one session file (see the module docstring)."""

    name = "firefox-session-cookies"
    kind = Kind.COOKIE

    def cookie_id(self, cookie: dict[str, Any]) -> str:
        """The reader's id of a cookie object (``firefox._session_cookie_rows``)."""
        oa = cookie.get("originAttributes") or {}
        if not isinstance(oa, dict):
            oa = {}
        raw_key, _, container = partition_and_container(
            str(oa.get("partitionKey", "") or ""),
            str(oa.get("firstPartyDomain", "") or ""),
            oa.get("userContextId"),
        )
        return self.make_id(raw_key, container, str(cookie.get("host", "")).lower(),
                            str(cookie.get("name", "")), str(cookie.get("path", "/") or "/"))

    def _present(self, state: dict[str, Any]) -> set[str]:
        return {self.cookie_id(c) for _, cookies in _cookie_lists(state)
                for c in cookies if isinstance(c, dict)}

    def _remove(self, state: dict[str, Any], wanted: set[str]) -> list[dict[str, Any]]:
        removed: list[dict[str, Any]] = []
        for path, cookies in _cookie_lists(state):
            keep = []
            for index, cookie in enumerate(cookies):
                entry_id = self.cookie_id(cookie) if isinstance(cookie, dict) else ""
                if entry_id in wanted:
                    removed.append({"id": entry_id, "list": path, "index": index, "cookie": cookie})
                else:
                    keep.append(cookie)
            cookies[:] = keep
        return removed

    def _put_back(self, state: dict[str, Any], removed: list[dict[str, Any]],
                  present: set[str]) -> tuple[list[str], list[tuple[str, str]]]:
        restored: list[str] = []
        skipped: dict[str, str] = {}
        # In the order they were: each goes back at its place among the ones kept.
        for item in sorted(removed, key=lambda r: (str(r["list"]), r["index"])):
            entry_id = item["id"]
            if entry_id in present:
                skipped.setdefault(entry_id, SET_AGAIN)
                continue
            cookies = _at(state, item["list"])
            if cookies is None and item["list"] == ["cookies"]:
                cookies = state["cookies"] = []
            if not isinstance(cookies, list):
                skipped.setdefault(entry_id, "the window that held it is no longer in the "
                                             "session file; not restored")
                continue
            cookies.insert(min(item["index"], len(cookies)), item["cookie"])
            if entry_id not in restored:
                restored.append(entry_id)
        return restored, [(i, why) for i, why in skipped.items() if i not in restored]


# --------------------------------------------------------------------------
# sessionStorage
# --------------------------------------------------------------------------


def _tabs(state: dict[str, Any]) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """(JSON path, tab) of every tab the reader reads, in its order
    (``firefox_storage._tab_states``)."""
    for key in ("windows", "_closedWindows"):
        windows = state.get(key)
        if not isinstance(windows, list):
            continue
        for w, window in enumerate(windows):
            if not isinstance(window, dict):
                continue
            tabs = window.get("tabs")
            if isinstance(tabs, list):
                for t, tab in enumerate(tabs):
                    if isinstance(tab, dict):
                        yield [key, w, "tabs", t], tab
            closed = window.get("_closedTabs")
            if isinstance(closed, list):
                for t, item in enumerate(closed):
                    if isinstance(item, dict) and isinstance(item.get("state"), dict):
                        yield [key, w, "_closedTabs", t, "state"], item["state"]


def _urls(tab: dict[str, Any]) -> list[Any]:
    """What tells a tab from another across rewrites: the URLs of its history."""
    entries = tab.get("entries")
    if not isinstance(entries, list):
        return []
    return [e.get("url") for e in entries if isinstance(e, dict)]


class SessionStorageWriter(_SessionFileWriter):
    """sessionStorage items in one session file (see the module docstring)."""

    name = "firefox-session-storage"
    kind = Kind.SESSION_STORAGE

    def item_ids(self, tab: dict[str, Any], origin_key: str, keys: Sequence[str]) -> list[str]:
        """The reader's ids of keys of one origin in a tab (``firefox_storage._session_rows``)."""
        origin, suffix = split_origin(origin_key)
        partition_key, _, container = parse_origin_attributes(suffix)
        if container is None and "userContextId" not in suffix:
            container = partition_and_container("", "", tab.get("userContextId"))[2]
        return [self.make_id(partition_key, container, origin, str(k), None) for k in keys]

    def _storages(self, state: dict[str, Any]
                  ) -> Iterator[tuple[list[Any], dict[str, Any], dict[str, Any]]]:
        for path, tab in _tabs(state):
            storage = tab.get("storage")
            if isinstance(storage, dict):
                yield path, tab, storage

    def _present(self, state: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        for _, tab, storage in self._storages(state):
            for origin_key, items in storage.items():
                if isinstance(items, dict):
                    found.update(self.item_ids(tab, origin_key, list(items)))
        return found

    def _remove(self, state: dict[str, Any], wanted: set[str]) -> list[dict[str, Any]]:
        removed: list[dict[str, Any]] = []
        for path, tab, storage in list(self._storages(state)):
            storage_at = list(tab).index("storage")
            origins = list(storage.items())
            for origin_at, (origin_key, items) in enumerate(origins):
                if not isinstance(items, dict):
                    continue
                keys = list(items)
                for key_at, (key, entry_id) in enumerate(zip(keys, self.item_ids(tab, origin_key, keys),
                                                             strict=True)):
                    if entry_id in wanted:
                        removed.append({"id": entry_id, "tab": path, "urls": _urls(tab),
                                        "storage_at": storage_at, "origin": origin_key,
                                        "origin_at": origin_at, "key": key, "key_at": key_at,
                                        "value": items.pop(key)})
                if not items:
                    del storage[origin_key]
            if not storage:
                del tab["storage"]
        return removed

    def _find_tab(self, state: dict[str, Any], item: dict[str, Any]) -> dict[str, Any] | None:
        """The tab an item was in: at its place if that tab has the same history,
        else the first tab with that history."""
        tab = _at(state, item["tab"])
        if isinstance(tab, dict) and _urls(tab) == item["urls"]:
            return tab
        for _, other in _tabs(state):
            if _urls(other) == item["urls"]:
                return other
        return None

    def _put_back(self, state: dict[str, Any], removed: list[dict[str, Any]],
                  present: set[str]) -> tuple[list[str], list[tuple[str, str]]]:
        restored: list[str] = []
        skipped: dict[str, str] = {}
        # Put back in the order they were: each at its place among the ones kept.
        ordered = sorted(removed, key=lambda r: (r["origin_at"], r["key_at"]))
        for item in ordered:
            entry_id = item["id"]
            if entry_id in present:
                skipped.setdefault(entry_id, SET_AGAIN)
                continue
            tab = self._find_tab(state, item)
            if tab is None:
                skipped.setdefault(entry_id, TAB_GONE)
                continue
            storage = tab.get("storage")
            if not isinstance(storage, dict):
                storage = {}
                _insert_at(tab, "storage", storage, item["storage_at"])
            items = storage.get(item["origin"])
            if not isinstance(items, dict):
                items = {}
                _insert_at(storage, item["origin"], items, item["origin_at"])
            _insert_at(items, item["key"], item["value"], item["key_at"])
            if entry_id not in restored:
                restored.append(entry_id)
        return restored, [(i, why) for i, why in skipped.items() if i not in restored]
