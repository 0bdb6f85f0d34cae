"""``watch``: print entries as they appear, change or vanish, one line each.

The notices about browsers' write delays go to stderr once at the start;
each event is one line on stdout, flushed at once.  Ctrl-C, ``--timeout S``
and ``--count N`` stop it.  Values are never printed (the watcher drops them
after hashing), whatever ``--show-values`` says.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import orjson

from privacy_inspector.core.records import ENTRY_FIELD_NAMES, Entry, ScanError
from privacy_inspector.core.watch import ERROR, Change, Watcher, notices

EXIT_OK = 0
EXIT_FAILED = 1


def _where(entry: Entry) -> str:
    if entry.kind == "cookie":
        return ("." if entry.domain_cookie else "") + entry.host
    return entry.origin or entry.host


def _local_time(at: str) -> str:
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    return moment.astimezone().strftime("%H:%M:%S")


def table_line(change: Change) -> str:
    """``12:03:04  added    cookie   IDE @ .doubleclick.net  (Google, advertising)``"""
    when = _local_time(change.at)
    if change.kind == ERROR or change.entry is None:
        error = change.error
        where = f"{error.profile}: {error.store}" if error and error.store else (
            error.profile if error else "")
        return f"{when}  error    {where}: {error.message if error else ''}"
    entry = change.entry
    who = ", ".join(x for x in (entry.organization or entry.service, entry.category) if x)
    line = f"{when}  {change.kind:<8} {entry.kind:<8} {entry.name} @ {_where(entry)}"
    if entry.partition_site:
        line += f" [under {entry.partition_site}]"
    if who:
        line += f"  ({who})"
    if change.fields_changed:
        line += "  changed: " + ", ".join(change.fields_changed)
    return line


def _json_line(change: Change) -> str:
    data = change.to_dict()
    if "entry" in data:
        data["entry"]["value"] = None  # never a value, whatever happened upstream
    return orjson.dumps(data).decode()


def _csv_row(change: Change) -> list[Any]:
    entry = change.entry.to_dict() if change.entry is not None else {}
    entry["value"] = None
    if "policy_clauses" in entry:
        entry["policy_clauses"] = ";".join(entry["policy_clauses"])
    message = change.error.message if change.error is not None else ""
    cells = [change.kind, change.at, ";".join(change.fields_changed), message]
    for name in ENTRY_FIELD_NAMES:
        value = entry.get(name)
        cells.append("" if value is None else ("true" if value is True else
                                               "false" if value is False else value))
    return cells


class _Printer:
    def __init__(self, out: TextIO, fmt: str) -> None:
        self.out = out
        self.fmt = fmt
        if fmt == "csv":
            self._write_csv(["event", "at", "fields", "message", *ENTRY_FIELD_NAMES])

    def _write_csv(self, row: list[Any]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row)
        self.out.write(buffer.getvalue())
        self.out.flush()

    def __call__(self, change: Change) -> None:
        if self.fmt == "csv":
            self._write_csv(_csv_row(change))
            return
        if self.fmt in ("json", "jsonl"):
            text = _json_line(change)
        elif change.kind == ERROR:
            # In a table, errors go beside the notices, on stderr.
            print(table_line(change), file=sys.stderr, flush=True)
            return
        else:
            text = table_line(change)
        self.out.write(text + "\n")
        self.out.flush()


def cmd_watch(args: argparse.Namespace, data_dir: Path, inputs: Callable[[], Any]) -> int:
    chosen = inputs()
    profiles = chosen.profiles
    fmt = getattr(args, "format", "table") or "table"
    out = sys.stdout
    printer = _Printer(out, fmt)
    failed = False
    for error in chosen.errors:
        printer(Change(ERROR, None, (), error=ScanError(error.profile, error.store, error.message)))
        failed = failed or error.store is None
    watcher = Watcher(profiles, kinds=getattr(args, "kinds", None), classifier=chosen.classifier,
                      interval=max(float(getattr(args, "interval", 0.5) or 0.5), 0.05))
    for text in notices(profiles):
        print(f"note: {text}", file=sys.stderr, flush=True)
    try:
        for error in watcher.baseline():
            printer(Change(ERROR, None, (), error=error))
        unreadable = watcher.unreadable()
        failed = failed or bool(unreadable)
        if len(unreadable) == len(profiles):
            if not profiles:
                print("privacy-inspector: no profile to watch", file=sys.stderr, flush=True)
            return EXIT_FAILED
        print(f"watching {len(profiles) - len(unreadable)} profile(s); Ctrl-C stops",
              file=sys.stderr, flush=True)
        watcher.run(printer, timeout=args.timeout, count=args.count)
    except KeyboardInterrupt:
        pass
    return EXIT_FAILED if failed else EXIT_OK
