"""The writing commands: ``clear --trackers``, ``delete``, ``undo`` and ``keep``.

As the contract says: on a terminal they ask first; without a terminal and
without ``--yes`` they print the plan, change nothing and exit 2; if the
browser runs on any profile they would write, nothing is written anywhere
and they exit 3.  A keep list that cannot be read also means exit 3: it is
never taken as "keep nothing".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from privacy_inspector.actions import delete as deleting
from privacy_inspector.actions import journal as journals
from privacy_inspector.actions.keep import KeepList, KeepListError, import_ccleaner
from privacy_inspector.cli import waiting
from privacy_inspector.core.records import Profile
from privacy_inspector.core.settings import Settings, SettingsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    clear = sub.add_parser("clear", parents=[common],
                           help="delete every tracker entry the keep list does not protect")
    clear.add_argument("--trackers", action="store_true", required=True,
                       help="every tracker entry, all kinds, all partitions")
    clear.add_argument("--dry-run", action="store_true", help="print the plan only")
    waiting.add_options(clear)
    delete = sub.add_parser("delete", parents=[common], help="delete chosen entries")
    delete.add_argument("--id", dest="ids", action="append", default=[], metavar="ID")
    delete.add_argument("--site", dest="sites", action="append", default=[], metavar="SITE",
                        help="a site's entries, also those partitioned under other sites, and "
                             "other sites' entries partitioned under it")
    delete.add_argument("--organization", dest="organizations", action="append", default=[],
                        metavar="ORG")
    delete.add_argument("--category", dest="categories", action="append", default=[], metavar="CAT")
    delete.add_argument("--dry-run", action="store_true", help="print the plan only")
    waiting.add_options(delete)
    undo = sub.add_parser("undo", parents=[common],
                          help="restore what a deletion removed (the newest by default)")
    undo.add_argument("journal_id", nargs="?", metavar="JOURNAL_ID")
    undo.add_argument("--list", action="store_true", help="list the journals")
    undo.add_argument("--purge", type=float, metavar="DAYS",
                      help="delete journals older than DAYS (they hold the deleted values)")
    waiting.add_options(undo)
    keep = sub.add_parser("keep", parents=[common],
                          help="the keep list: sites or entries that are never deleted")
    keep.add_argument("action", choices=("add", "remove", "list", "import", "export"))
    keep.add_argument("items", nargs="*", metavar="SITE|ID|FILE",
                      help="sites (with their subdomains) or entry ids; a file for import/export")


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def _load_keep(data_dir: Path) -> KeepList | None:
    try:
        return KeepList.load(data_dir)
    except KeepListError as exc:
        print(f"privacy-inspector: refused: the keep list cannot be read, so nothing is deleted "
              f"(it is never taken as empty): {exc}", file=sys.stderr)
        return None


def _expire_journals(data_dir: Path) -> None:
    """Journals hold deleted values: remove those past the retention period (default 30 days).

    Settings that cannot be read mean the default; nothing else is at stake.
    """
    try:
        days = float(Settings.load(data_dir).get("journal_days"))
    except SettingsError:
        days = journals.RETENTION_DAYS
    journals.purge(data_dir, days)


def _plan_doc(plan: deleting.Plan, outcome: deleting.Outcome | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "journal_id": outcome.journal_id if outcome else None,
        "deleted": outcome.deleted if outcome else [],
        "kept": [{"id": i, "reason": r} for i, r in (outcome.kept if outcome else
                                                      [(k.entry.id, k.reason) for k in plan.kept])],
        "refused": [{"profile": r.profile, "reason": r.reason}
                    for r in (outcome.refused if outcome else plan.refused)],
        "errors": [{"profile": p, "store": s, "message": m} for p, s, m in (outcome.errors if outcome else [])],
    }
    if outcome is None:
        doc["planned"] = [e.id for e in plan.entries]
    if outcome is not None and outcome.skipped:
        doc["skipped"] = [{"id": i, "reason": r} for i, r in outcome.skipped]
    return doc


def _print_plan(plan: deleting.Plan) -> None:
    entries = plan.entries
    print(f"Plan: delete {len(entries)} entries ({plan.selection.describe()})")
    for store in plan.stores:
        kinds = Counter(e.kind for e in store.entries)
        print(f"  {store.profile.browser} {store.profile.name}: {store.store}: "
              + ", ".join(f"{n} {k}" for k, n in kinds.items()))
        for entry in store.entries[:20]:
            who = entry.organization or entry.site or entry.host
            print(f"    {entry.id}  {entry.name} @ {entry.host}  ({who}, {entry.category or 'unknown'})")
        if len(store.entries) > 20:
            print(f"    ... and {len(store.entries) - 20} more")
    if plan.kept:
        print(f"Kept: {len(plan.kept)}")
        for reason, count in Counter(k.reason for k in plan.kept).most_common():
            print(f"  {count} \u2014 {reason}")
    for refusal in plan.refused:
        print(f"Refused: {refusal.reason}")
    if entries and any(e.kind == "cookie" for e in entries):
        print("Removing cookies can sign you out of sites.")


def _confirm(args: argparse.Namespace, plan: deleting.Plan) -> int | None:
    """None to go on; else the exit code."""
    if args.yes:
        return None
    if not sys.stdin.isatty():
        print("Nothing was changed: run it on a terminal to confirm, or add --yes.", file=sys.stderr)
        return EXIT_USAGE
    answer = input(f"Delete {len(plan.entries)} entries? [y/N] ").strip().lower()
    return None if answer in ("y", "yes") else EXIT_OK


def _run_plan(args: argparse.Namespace, data_dir: Path, selection: deleting.Selection,
              command: str, scan: Callable[[], tuple[list[Profile], Any]]) -> int:
    keep = _load_keep(data_dir)
    if keep is None:
        return EXIT_REFUSED
    profiles, result = scan()
    plan = deleting.make_plan(profiles, result.entries, selection, keep)
    if plan.refused and not args.dry_run and waiting.wanted(args):
        refused = {r.profile for r in plan.refused}
        if waiting.until_closed(args, [p for p in plan.profiles if str(p.path) in refused]):
            profiles, result = scan()  # afresh: the browser may have written while closing
            plan = deleting.make_plan(profiles, result.entries, selection, keep)
    for error in result.errors:
        print(f"error: {error.profile} ({error.store}): {error.message}", file=sys.stderr)
    as_json = args.format in ("json", "jsonl")
    if args.dry_run or plan.refused or not plan.entries:
        if as_json:
            print(_dump(_plan_doc(plan, None)))
        else:
            _print_plan(plan)
        if plan.refused:
            return EXIT_REFUSED
        return EXIT_OK
    if not as_json:
        _print_plan(plan)
    code = _confirm(args, plan)
    if code is not None:
        if as_json:
            print(_dump(_plan_doc(plan, None)))
        return code
    _expire_journals(data_dir)
    outcome = deleting.apply(plan, data_dir, command)
    if as_json:
        print(_dump(_plan_doc(plan, outcome)))
    else:
        if outcome.refused:
            for refusal in outcome.refused:
                print(f"Refused, nothing was changed: {refusal.reason}")
        else:
            print(f"Deleted {len(outcome.deleted)} entries; undo with: privacy-inspector undo "
                  f"{outcome.journal_id}" if outcome.journal_id else "Nothing to delete.")
        for _, _, message in outcome.errors:
            print(f"error: {message}", file=sys.stderr)
    if outcome.refused:
        return EXIT_REFUSED
    return EXIT_FAILED if outcome.errors else EXIT_OK


def cmd_clear(args: argparse.Namespace, data_dir: Path, scan: Callable[[], Any]) -> int:
    return _run_plan(args, data_dir, deleting.Selection(trackers=True), "clear --trackers", scan)


def cmd_delete(args: argparse.Namespace, data_dir: Path, scan: Callable[[], Any]) -> int:
    selection = deleting.Selection(
        ids=frozenset(args.ids), sites=frozenset(s.lower().lstrip(".") for s in args.sites),
        organizations=frozenset(args.organizations), categories=frozenset(args.categories))
    if selection.empty():
        print("privacy-inspector: error: delete needs --id, --site, --organization or --category",
              file=sys.stderr)
        return EXIT_USAGE
    return _run_plan(args, data_dir, selection, "delete " + selection.describe(), scan)


def _profile_of(record: journals.StoreRecord) -> Profile:
    return Profile(Path(record.profile), record.browser, record.engine, record.profile_name)


def cmd_undo(args: argparse.Namespace, data_dir: Path) -> int:
    as_json = args.format in ("json", "jsonl")
    if args.purge is not None:
        removed = journals.purge(data_dir, args.purge)
        print(_dump({"purged": removed}) if as_json else f"Purged {len(removed)} journals.")
        return EXIT_OK
    if args.list:
        rows = [j.summary for j in journals.list_journals(data_dir)]
        if as_json:
            print(_dump(rows))
        else:
            for row in rows:
                state = f"undone {row['undone']}" if row["undone"] else "can be undone"
                print(f"{row['journal_id']}  {row['created']}  {row['deleted']} entries  "
                      f"{row['command']}  ({state})")
        return EXIT_OK
    if not args.yes and not sys.stdin.isatty():
        print("Nothing was changed: run it on a terminal to confirm, or add --yes.", file=sys.stderr)
        return EXIT_USAGE
    try:
        outcome = deleting.undo(data_dir, _profile_of, args.journal_id)
        if outcome.refused and waiting.wanted(args):
            refused = {r.profile for r in outcome.refused}
            journal = (journals.Journal.load(data_dir, args.journal_id) if args.journal_id
                       else journals.newest_to_undo(data_dir))
            profiles = [_profile_of(r) for r in journal.restorable()] if journal else []
            if waiting.until_closed(args, [p for p in profiles if str(p.path) in refused]):
                outcome = deleting.undo(data_dir, _profile_of, args.journal_id)
    except journals.JournalError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    doc = {
        "journal_id": outcome.journal_id,
        "restored": outcome.restored,
        "skipped": [{"id": i, "reason": r} for i, r in outcome.skipped],
        "refused": [{"profile": r.profile, "reason": r.reason} for r in outcome.refused],
        "errors": [{"profile": p, "store": s, "message": m} for p, s, m in outcome.errors],
    }
    if as_json:
        print(_dump(doc))
    else:
        for refusal in outcome.refused:
            print(f"Refused, nothing was changed: {refusal.reason}")
        if not outcome.refused:
            print(f"Restored {len(outcome.restored)} entries from {outcome.journal_id}.")
        for entry_id, reason in outcome.skipped:
            print(f"  not restored: {entry_id}: {reason}")
        for _, store, message in outcome.errors:
            print(f"error: {store}: {message}", file=sys.stderr)
    if outcome.refused:
        return EXIT_REFUSED
    return EXIT_FAILED if outcome.errors else EXIT_OK


def cmd_keep(args: argparse.Namespace, data_dir: Path) -> int:
    keep = _load_keep(data_dir)
    if keep is None:
        return EXIT_REFUSED
    as_json = args.format in ("json", "jsonl")
    try:
        if args.action == "list":
            doc = {"sites": list(keep.sites),
                   "entries": [{"id": i, "label": label} for i, label in keep.entries.items()]}
            if as_json:
                print(_dump(doc))
            else:
                for site in keep.sites:
                    print(f"site   {site}")
                for entry in doc["entries"]:
                    print(f"entry  {entry['id']}  {entry.get('label') or ''}")
            return EXIT_OK
        if args.action == "export":
            if len(args.items) != 1:
                raise ValueError("keep export needs one FILE")
            target = Path(args.items[0])
            if target.suffix.lower() == ".ini":
                target.write_text(keep.ccleaner_line() + "\n", encoding="utf-8")
            else:
                keep.export_json(target)
            print(f"Exported {len(keep.sites)} sites to {target}")
            return EXIT_OK
        if args.action == "import":
            if len(args.items) != 1:
                raise ValueError("keep import needs one FILE")
            source = Path(args.items[0])
            if source.suffix.lower() == ".ini" or "CookiesToSave" in source.read_text("utf-8", "replace"):
                found = import_ccleaner(source)
                new = keep.with_sites(found.sites)
                for item in found.skipped:
                    print(f"warning: skipped {item.text!r}: {item.reason}", file=sys.stderr)
            else:
                imported = KeepList.import_json(source)
                new = keep.with_sites(imported.sites)
                for entry_id, label in imported.entries.items():
                    new = new.with_entry(entry_id, label)
        else:
            if not args.items:
                raise ValueError(f"keep {args.action} needs sites or entry ids")
            new = keep
            for item in args.items:
                is_id = "-" in item and item.split("-", 1)[0] in ("ck", "ls", "ss", "idb", "cs", "sw")
                if args.action == "add":
                    new = new.with_entry(item, "") if is_id else new.with_site(item)
                else:
                    new = new.without_entry(item) if is_id else new.without_site(item)
    except (KeepListError, ValueError, OSError) as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILED
    new.save(data_dir)
    print(f"The keep list has {len(new.sites)} sites and {len(new.entries)} entries.")
    return EXIT_OK


