"""Rendering scan results: table (for a terminal), json, jsonl and csv.

Values appear only when the scan was asked for them; the table masks every
value it was not given.
"""

from __future__ import annotations

import csv
import json
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO, TextIO

import orjson

from privacy_inspector.core.explain import Explanation
from privacy_inspector.core.records import ENTRY_FIELD_NAMES, Entry, Profile, ScanError

FORMATS = ("table", "json", "jsonl", "csv")
MASK = "••••••"


def _dump(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _entry_lines(entries: Sequence[Entry]) -> Iterator[bytes]:
    """One compact JSON object per entry, as UTF-8.

    orjson encodes 100,000 entries in a quarter of a second; the stdlib's
    encoder took 1.4 s (and 7 s with ``indent``).  An Entry's tuple of
    clauses becomes a JSON list as it is.
    """
    fields = ENTRY_FIELD_NAMES
    dumps = orjson.dumps
    for entry in entries:
        yield dumps(dict(zip(fields, entry, strict=True)))


def _binary(out: TextIO) -> BinaryIO:
    """The byte stream under ``out`` (after flushing what was written as text)."""
    out.flush()
    return out.buffer


def write_scan(
    out: TextIO,
    fmt: str,
    profiles: Sequence[tuple[Profile, bool]],
    entries: Sequence[Entry],
    errors: Sequence[ScanError],
) -> None:
    if fmt == "json":
        # One object, with one entry per line so that large inventories stay
        # quick to write and easy to diff.
        raw = _binary(out)
        raw.write(b'{"profiles": ')
        raw.write(orjson.dumps([p.to_dict(running) for p, running in profiles]))
        raw.write(b',\n"entries": [')
        separator = b"\n"
        for line in _entry_lines(entries):
            raw.write(separator)
            raw.write(line)
            separator = b",\n"
        raw.write(b'\n],\n"errors": ')
        raw.write(orjson.dumps([e.to_dict() for e in errors]))
        raw.write(b"}\n")
        raw.flush()
    elif fmt == "jsonl":
        raw = _binary(out)
        for line in _entry_lines(entries):
            raw.write(line)
            raw.write(b"\n")
        for error in errors:
            raw.write(orjson.dumps({"error": error.to_dict()}))
            raw.write(b"\n")
        raw.flush()
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ENTRY_FIELD_NAMES)
        for entry in entries:
            row = entry.to_dict()
            row["policy_clauses"] = ";".join(row["policy_clauses"])
            writer.writerow([_csv_cell(row[f]) for f in ENTRY_FIELD_NAMES])
    else:
        write_table(out, entries)
        if entries or not errors:
            out.write(f"\n{len(entries)} entries in {len(profiles)} profiles\n")


def _csv_cell(value: Any) -> Any:
    """Empty for null, and booleans as JSON spells them (``true``/``false``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _flags(entry: Entry) -> str:
    """Secure, HttpOnly, partitioned and stale, as short words (blank for storage)."""
    flags = []
    if entry.secure:
        flags.append("secure")
    if entry.http_only:
        flags.append("httponly")
    if entry.stale:
        flags.append("stale")
    return ",".join(flags)


def _shown_value(entry: Entry) -> str:
    if entry.value is not None:
        return entry.value if len(entry.value) <= 40 else entry.value[:39] + "…"
    if entry.value_state == "encrypted":
        return f"{MASK} (encrypted)"
    if entry.value_state == "unavailable":
        if entry.kind == "cookie":
            return "(cannot decrypt)"
        # Databases, caches and workers have no single value: show what they hold.
        return f"({entry.value_note})" if entry.value_note else ""
    return MASK


def write_table(out: TextIO, entries: Sequence[Entry]) -> None:
    headers = ("ID", "BROWSER", "KIND", "HOST", "NAME", "PARTITION", "EXPIRES", "SAMESITE", "FLAGS",
               "SIZE", "VALUE")
    rows = [
        (
            e.id,
            e.browser,
            e.kind,
            e.host,
            e.name,
            e.partition_site or "",
            e.expires or "session" if not e.persistent else (e.expires or ""),
            e.same_site or "",
            _flags(e),
            str(e.size),
            _shown_value(e),
        )
        for e in entries
    ]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = min(max(widths[i], len(cell)), 40)
    line = "  ".join(f"{{:{w}.{w}}}" for w in widths[:-1]) + "  {}"
    out.write(line.format(*headers).rstrip() + "\n")
    for row in rows:
        out.write(line.format(*row).rstrip() + "\n")


def write_profiles(out: TextIO, fmt: str, profiles: Sequence[tuple[Profile, bool]]) -> None:
    docs = [p.to_dict(running) for p, running in profiles]
    if fmt == "json":
        out.write(json.dumps({"profiles": docs}, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        for doc in docs:
            out.write(_dump(doc) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        fields = list(docs[0]) if docs else ["path", "browser", "engine", "name", "running"]
        writer.writerow(fields)
        for doc in docs:
            writer.writerow([_csv_cell(doc[f]) for f in fields])
    else:
        for doc in docs:
            state = "running" if doc["running"] else ("unreadable" if doc["problem"] else "")
            default = "*" if doc["default"] else " "
            out.write(f"{default} {doc['browser']:<9} {doc['name']:<24} {state:<10} {doc['path']}\n")
            if doc["problem"]:
                out.write(f"    {doc['problem']}\n")


def write_explanation(out: TextIO, fmt: str, explanation: Explanation) -> None:
    """``explain`` as text (table format) or as one JSON object (json, jsonl)."""
    if fmt in ("json", "jsonl"):
        doc = {"entry": explanation.entry.to_dict(), "explanation": explanation.to_dict()}
        out.write(orjson.dumps(doc).decode() + "\n")
        return
    e = explanation.entry
    where = f"{e.browser} profile {e.profile}"
    out.write(f"{e.name}  ({e.kind} of {e.origin or e.host}, {where})\n")
    out.write(f"  id:        {e.id}\n")
    for label, text in (
        ("Who", explanation.who),
        ("What", explanation.what),
        ("How long", explanation.how_long),
        ("Value", explanation.value),
        ("Tracker", explanation.tracker),
        ("Why", explanation.why),
    ):
        out.write(f"  {label + ':':<10} {text}\n")
    if explanation.clauses:
        ids = ", ".join(cid for cid, _, _ in explanation.clauses)
        out.write(f"\nThe privacy policy covers it in: {ids}\n")
        if explanation.source:
            title, url, archived = explanation.source
            out.write(f"  (quoted from {title}, {url}"
                      + (f", archived {archived})\n" if archived else ")\n"))
        for cid, title, text in explanation.clauses:
            out.write(f"\n  [{cid}] {title}\n")
            for line in textwrap.wrap(f"\u201c{text}\u201d", width=76):
                out.write(f"    {line}\n")
    else:
        out.write(f"\n{explanation.not_covered}\n")
    out.write("\nWhat you can do:\n")
    for label, url in explanation.choices:
        out.write(f"  - {label}" + (f": {url}" if url else "") + "\n")
