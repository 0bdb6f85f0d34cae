"""``snapshot`` and ``diff``: record the inventory, and say what changed since.

``snapshot [--label L]`` scans the chosen profiles and records the inventory
(hashes of values, never the values; see ``privacy_inspector.core.snapshots``)
and prints its id; ``snapshot --list`` lists the recorded ones.
``diff A [B]`` compares two snapshots (by id or label), or snapshot A with a
fresh scan ("now").  Without ``--profile``, ``--browser`` or ``--demo``,
``diff A`` scans the profiles that A recorded, so that like is compared
with like.

Exit codes: 0 done; 1 a profile or store could not be read (the output is
still complete, with ``errors``), an unknown snapshot, or a snapshot database
that cannot be read; 2 bad usage (a label that is empty, all digits or taken).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privacy_inspector.core import engine
from privacy_inspector.core import snapshots as core
from privacy_inspector.core.records import ScanError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def _error_docs(errors: Sequence[ScanError]) -> list[dict[str, Any]]:
    return [e.to_dict() for e in errors]


def _report_errors(errors: Sequence[ScanError]) -> None:
    for error in errors:
        where = error.profile + (f" ({error.store})" if error.store else "")
        print(f"error: {where}: {error.message}", file=sys.stderr)


def _refuse(exc: core.SnapshotError) -> int:
    print(f"privacy-inspector: error: {exc}", file=sys.stderr)
    return EXIT_USAGE if exc.code == "bad_label" else EXIT_FAILED


# --- snapshot -------------------------------------------------------------------------

def cmd_snapshot(args: argparse.Namespace, data_dir: Path, inputs: Callable[[], Any]) -> int:
    if getattr(args, "list", False):
        if args.label is not None:
            print("privacy-inspector: error: snapshot --list takes no --label", file=sys.stderr)
            return EXIT_USAGE
        return _list(args, data_dir)
    try:
        label = core.check_label(data_dir, args.label)
    except core.SnapshotError as exc:
        return _refuse(exc)
    chosen = inputs()
    result = engine.scan(chosen.profiles, show_values=True, classifier=chosen.classifier)
    errors = list(chosen.errors) + list(result.errors)
    try:
        info = core.take(data_dir, result.entries, chosen.profiles, label=label, errors=errors)
    except core.SnapshotError as exc:
        _report_errors(errors)
        return _refuse(exc)
    finally:
        del result  # the values go with it
    if args.format in ("json", "jsonl"):
        doc = {"id": info.id, "label": info.label, "created": info.created,
               "entries": info.count, "profiles": [p["path"] for p in info.profiles],
               "errors": _error_docs(errors)}
        print(json.dumps(doc, ensure_ascii=False) if args.format == "jsonl" else _dump(doc))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["id", "label", "created", "entries", "profiles"])
        writer.writerow([info.id, info.label or "", info.created, info.count,
                         len(info.profiles)])
    else:
        named = f' "{info.label}"' if info.label else ""
        print(f"Snapshot {info.id}{named} recorded: {info.count} entries in "
              f"{len(info.profiles)} profiles")
    _report_errors(errors)
    return EXIT_FAILED if errors else EXIT_OK


def _list(args: argparse.Namespace, data_dir: Path) -> int:
    try:
        infos = core.list_snapshots(data_dir)
    except core.SnapshotError as exc:
        return _refuse(exc)
    docs = [_info_doc(i) for i in infos]
    if args.format == "json":
        print(_dump({"snapshots": docs}))
    elif args.format == "jsonl":
        for doc in docs:
            print(json.dumps(doc, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["id", "label", "created", "entries", "profiles"])
        for i in infos:
            writer.writerow([i.id, i.label or "", i.created, i.count, len(i.profiles)])
    else:
        if not infos:
            print("No snapshots yet: 'snapshot --label NAME' records one.")
        for i in infos:
            partial = "  (partial: some stores could not be read)" if i.errors else ""
            print(f"{i.id:>4}  {i.label or '-':<20} {i.created}  {i.count:>6} entries  "
                  f"{len(i.profiles)} profiles{partial}")
    return EXIT_OK


def _info_doc(info: core.SnapshotInfo) -> dict[str, Any]:
    return {"id": info.id, "label": info.label, "created": info.created, "entries": info.count,
            "profiles": [p.get("path") for p in info.profiles], "errors": list(info.errors)}


# --- diff -----------------------------------------------------------------------------

def cmd_diff(args: argparse.Namespace, data_dir: Path, inputs: Callable[[], Any]) -> int:
    try:
        old = core.load(data_dir, args.a)
        new = core.load(data_dir, args.b) if args.b is not None else None
    except core.SnapshotError as exc:
        return _refuse(exc)
    errors: list[ScanError] = []
    if new is None:
        if not (args.profile or args.browser or args.demo or args.demo_reset):
            # Compare like with like: the profiles that A recorded.
            args.profile = [Path(p["path"]) for p in old.info.profiles if p.get("path")]
        chosen = inputs()
        errors = list(chosen.errors)
        try:
            new = core.scan_now(data_dir, chosen.profiles, chosen.classifier)
        except core.SnapshotError as exc:
            _report_errors(errors)
            return _refuse(exc)
        errors += [ScanError(e["profile"], e["store"], e["message"]) for e in new.info.errors]
    result = core.diff(old, new)
    now = new.info.id is None
    if args.format in ("json", "jsonl", "csv"):
        _write_machine(args.format, result, old.info, None if now else new.info, errors)
    else:
        _write_table(result, old.info, new.info)
    _report_errors(errors)
    return EXIT_FAILED if errors else EXIT_OK


def _change_doc(change: core.Change) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": change.id, "fields": list(change.fields)}
    shown = [f for f in change.fields if f != "value"]
    doc["before"] = {f: change.old.get(f) for f in shown}
    doc["after"] = {f: change.new.get(f) for f in shown}
    doc["expiry_extended"] = change.expiry_extended
    for name, value in change.new.to_dict().items():
        doc.setdefault(name, value)
    return doc


def diff_doc(result: core.Diff, a: core.SnapshotInfo, b: core.SnapshotInfo | None,
             errors: Sequence[ScanError] = ()) -> dict[str, Any]:
    """The JSON of ``diff``: ``b`` None means "now"."""
    return {
        "a": _info_doc(a),
        "b": _info_doc(b) if b is not None else "now",
        "added": [i.to_dict() for i in result.added],
        "removed": [i.to_dict() for i in result.removed],
        "changed": [_change_doc(c) for c in result.changed],
        "by_organization": [
            {"organization": g.organization, "title": g.title,
             "added": [i.id for i in g.added], "removed": [i.id for i in g.removed],
             "changed": [c.id for c in g.changed]}
            for g in result.by_organization()
        ],
        "summary": {**result.summary(), "values_compared": result.values_compared},
        "errors": _error_docs(errors),
    }


def _write_machine(fmt: str, result: core.Diff, a: core.SnapshotInfo,
                   b: core.SnapshotInfo | None, errors: Sequence[ScanError]) -> None:
    if fmt == "json":
        print(_dump(diff_doc(result, a, b, errors)))
        return
    rows: list[tuple[str, dict[str, Any]]] = [("added", i.to_dict()) for i in result.added]
    rows += [("removed", i.to_dict()) for i in result.removed]
    rows += [("changed", _change_doc(c)) for c in result.changed]
    if fmt == "jsonl":
        for change, doc in rows:
            print(json.dumps({"change": change, **doc}, ensure_ascii=False))
        for error in errors:
            print(json.dumps({"error": error.to_dict()}, ensure_ascii=False))
        return
    writer = csv.writer(sys.stdout, lineterminator="\n")
    columns = ("id", "kind", "browser", "profile", "host", "name", "organization", "category",
               "purpose")
    writer.writerow(("change", *columns, "fields"))
    for change, doc in rows:
        writer.writerow((change, *("" if doc.get(c) is None else doc[c] for c in columns),
                         ";".join(doc.get("fields", ()))))


def _what(item: core.Item) -> str:
    under = f" (under {item.partition_site})" if item.partition_site else ""
    return f"{item.kind:<15} {item.name} @ {item.host}{under}"


def _write_table(result: core.Diff, a: core.SnapshotInfo, b: core.SnapshotInfo) -> None:
    def described(info: core.SnapshotInfo) -> str:
        return f"{info.name} ({info.created}, {info.count} entries)"

    out = sys.stdout
    out.write(f"Comparing {described(a)} with {described(b)}\n")
    if not result.values_compared:
        out.write("The two were recorded with different keys, so values were not compared.\n")
    for group in result.by_organization():
        out.write(f"\n{group.title}\n")
        for item in group.added:
            out.write(f"  + {_what(item)} \u2014 {item.purpose or 'purpose unknown'}\n")
        for item in group.removed:
            out.write(f"  - {_what(item)} \u2014 {item.purpose or 'purpose unknown'}\n")
        for change in group.changed:
            note = "set again, expires later" if change.expiry_extended else change.describe()
            out.write(f"  ~ {_what(change.new)}: {note} \u2014 "
                      f"{change.new.purpose or 'purpose unknown'}\n")
    s = result.summary()
    out.write(f"\n{s['added']} added, {s['removed']} removed, {s['changed']} changed, "
              f"{s['unchanged']} unchanged\n")
