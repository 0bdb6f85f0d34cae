"""``privacy-inspector``: the command line over the same engine as the desktop app.

Exit codes (the contract): 0 done; 1 something failed (the output is still
complete, with ``errors`` saying what); 2 bad usage; 3 refused to protect data.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from privacy_inspector import __version__, paths
from privacy_inspector.cli import blocking, deleting, output
from privacy_inspector.core import demo, engine, imports
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.explain import explain as explain_entry
from privacy_inspector.core.policy import Policy, PolicyError, load_policy
from privacy_inspector.core.records import Profile, ScanError
from privacy_inspector.platform import discovery, locks
from privacy_inspector.platform.locations import BROWSERS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3

log = logging.getLogger("privacy_inspector")


class UsageError(Exception):
    pass


REPORT_FORMATS = ("html", "pdf", "csv", "json", "netscape")


def _global_options(defaults: bool, formats: Sequence[str] = output.FORMATS) -> argparse.ArgumentParser:
    """The global options, on the main parser and again on every sub-command.

    On sub-commands their default is SUPPRESS, so a value given before the
    sub-command is not overwritten by the sub-parser's default.
    """
    parser = argparse.ArgumentParser(add_help=False)

    def d(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument("--profile", action="append", type=Path, metavar="PATH", default=d([]),
                       help="a browser profile folder, a Chromium user-data folder, a Firefox "
                            "profiles folder or a Safari Cookies.binarycookies (repeatable)")
    group.add_argument("--browser", action="append", choices=BROWSERS, metavar="NAME", default=d([]),
                       help="every discovered profile of this browser (repeatable): "
                            + ", ".join(BROWSERS))
    group.add_argument("--demo", action="store_true", default=d(False),
                       help="the bundled demo profiles (a copy in the data folder)")
    group.add_argument("--demo-reset", action="store_true", default=d(False),
                       help="copy the demo profiles afresh (implies --demo)")
    group.add_argument("--data-dir", type=Path, metavar="DIR", default=d(None),
                       help="where the app keeps its own state (default: the user's data folder)")
    group.add_argument("--format", choices=formats, default=d("table"),
                       help="output format" + (" (default: table)" if "table" in formats else ""))
    group.add_argument("--policy", type=Path, metavar="FILE", default=d(None),
                       help="a privacy policy file other than the bundled LiveOps policy")
    group.add_argument("--show-values", action="store_true", default=d(False),
                       help="include entry values, decrypted where possible (off by default)")
    group.add_argument("--yes", action="store_true", default=d(False),
                       help="confirm a command that writes, without asking")
    return parser


def build_parser() -> argparse.ArgumentParser:
    common = _global_options(defaults=False)
    parser = argparse.ArgumentParser(
        prog="privacy-inspector",
        description="Shows what websites left in your browsers: cookies and HTML5 storage.",
        parents=[_global_options(defaults=True)],
        epilog="Without a sub-command it opens the desktop window. Exit codes: 0 done, "
               "1 something failed (see errors), 2 bad usage, 3 refused to protect data.",
    )
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="(window) save a picture of the window after the first scan, then quit")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan = sub.add_parser("scan", parents=[common], help="list every entry of the chosen profiles")
    scan.add_argument("--kinds", metavar="KIND,...",
                      help="only these kinds: " + ",".join(engine.ALL_KINDS))
    sub.add_parser("profiles", parents=[common], help="list the discovered browser profiles")
    explain = sub.add_parser("explain", parents=[common],
                             help="one entry: who set it, what for, how long, and the policy's words")
    explain.add_argument("entry_id", metavar="ID", help="an entry id from scan")
    knowledge = sub.add_parser(
        "knowledge", parents=[common],
        help="tracker lists you supply: import one, or list what was imported",
        description="Import a tracker list you downloaded yourself (kept in the data folder "
                    "with its source, never bundled), or list the imported ones.",
    )
    knowledge.add_argument("action", choices=("import", "sources"))
    knowledge.add_argument("file", nargs="?", type=Path, help="the list to import")
    knowledge.add_argument("--type", dest="list_type", choices=imports.FORMATS,
                           help="the list's format (import)")
    knowledge.add_argument("--entities", type=Path, metavar="FILE",
                           help="Disconnect's entities.json, if not beside services.json")
    deleting.add_parsers(sub, common)
    blocking.add_parsers(sub, common)
    snapshot = sub.add_parser("snapshot", parents=[common],
                              help="record the inventory (names, hosts, flags, sizes and hashes of "
                                   "values, never the values); prints its id")
    snapshot.add_argument("--label", metavar="L", help="a name to refer to it by")
    snapshot.add_argument("--list", action="store_true", help="list the snapshots instead")
    diff = sub.add_parser("diff", parents=[common],
                          help="what was added, removed or changed between two snapshots, or "
                               "between a snapshot and now")
    diff.add_argument("a", metavar="A", help="a snapshot id or label")
    diff.add_argument("b", metavar="B", nargs="?", help="another one (default: now)")
    watch = sub.add_parser("watch", parents=[common],
                           help="print entries as they appear, change or vanish while the "
                                "browser runs (Ctrl-C stops)")
    watch.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds")
    watch.add_argument("--count", type=int, metavar="N", help="stop after N changes")
    watch.add_argument("--interval", type=float, default=0.5, metavar="S",
                       help="how often the files are checked (default 0.5 s)")
    watch.add_argument("--kinds", metavar="KIND,...",
                       help="only these kinds: " + ",".join(engine.ALL_KINDS))
    report = sub.add_parser(
        "report", parents=[_global_options(defaults=False, formats=REPORT_FORMATS)],
        help="a report of the inventory with explanations: html, pdf, csv, json or netscape")
    report.add_argument("--output", required=True, metavar="FILE",
                        help="where to write it; '-' for stdout (not for pdf)")
    return parser


def _kinds(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in engine.ALL_KINDS]
    if unknown:
        raise UsageError(f"unknown kind {', '.join(unknown)}; choose from {', '.join(engine.ALL_KINDS)}")
    return kinds


NO_BROWSER = "No browser profiles found on this machine; showing the bundled demo profiles."


def select_profiles(
    args: argparse.Namespace, data_dir: Path, notices: list[str] | None = None
) -> tuple[list[Profile], list[ScanError]]:
    """The profiles the options name, and an error for each --profile that names none.

    With no choice at all, every discovered profile; with none found, the
    demo, said on stderr (or added to ``notices`` for the window to show).
    """
    profiles: list[Profile] = []
    errors: list[ScanError] = []
    if args.demo or args.demo_reset:
        profiles.extend(demo.demo_profiles(data_dir, reset=args.demo_reset))
    for path in args.profile:
        try:
            profiles.extend(discovery.resolve(path))
        except discovery.ProfileError as exc:
            errors.append(ScanError(str(path), None, str(exc)))
    if args.browser:
        profiles.extend(discovery.discover(browsers=args.browser))
    if not (args.demo or args.demo_reset or args.profile or args.browser):
        profiles = discovery.discover()
        if not profiles:
            if notices is None:
                print(NO_BROWSER, file=sys.stderr)
            else:
                notices.append(NO_BROWSER)
            profiles = demo.demo_profiles(data_dir)
    unique: dict[Path, Profile] = {}
    for profile in profiles:
        unique.setdefault(profile.path, profile)
    return list(unique.values()), errors


def _report_errors(errors: Sequence[ScanError]) -> None:
    for error in errors:
        where = error.profile + (f" ({error.store})" if error.store else "")
        print(f"error: {where}: {error.message}", file=sys.stderr)


def cmd_scan(args: argparse.Namespace, data_dir: Path) -> int:
    kinds = _kinds(getattr(args, "kinds", None))
    profiles, errors = select_profiles(args, data_dir)
    classifier, list_errors = _classifier(args, data_dir)
    errors += list_errors
    result = engine.scan(profiles, kinds=kinds, show_values=args.show_values, classifier=classifier)
    errors = errors + result.errors
    with_state = [(p, locks.is_running(p)) for p in profiles]
    output.write_scan(sys.stdout, args.format, with_state, result.entries, errors)
    _report_errors(errors)
    return EXIT_FAILED if errors else EXIT_OK


def cmd_profiles(args: argparse.Namespace, data_dir: Path) -> int:
    profiles, errors = select_profiles(args, data_dir)
    output.write_profiles(sys.stdout, args.format, [(p, locks.is_running(p)) for p in profiles])
    _report_errors(errors)
    return EXIT_FAILED if errors else EXIT_OK


def _policy(path: Path | None) -> Policy:
    """The bundled policy, or --policy FILE; a file with mistakes is refused
    (exit 2, every problem listed) before any work is done."""
    try:
        return load_policy(path)
    except PolicyError as exc:
        problems = "\n  ".join(exc.problems) if exc.problems else str(exc)
        raise UsageError(f"--policy {path} cannot be used:\n  {problems}") from exc


def _classifier(args: argparse.Namespace, data_dir: Path) -> tuple[Classifier, list[ScanError]]:
    """The classifier for the policy, with the lists the user imported.

    An imported-list database that cannot be read is reported as an error and
    left out (exit 1), never silently treated as empty.
    """
    try:
        imported = imports.ImportedKnowledge.load(data_dir)
    except imports.ListImportError as exc:
        error = ScanError(str(imports.db_path(data_dir)), "knowledge.db",
                          f"the imported tracker lists cannot be read: {exc}")
        return Classifier(args.loaded_policy), [error]
    return Classifier(args.loaded_policy, imported=imported), []


def cmd_knowledge(args: argparse.Namespace, data_dir: Path) -> int:
    if args.action == "sources":
        rows = imports.sources(data_dir)
        if args.format in ("json", "jsonl"):
            docs = [{"source": r.source, "format": r.format, "file": r.file, "domains": r.domains,
                     "owners": r.owners, "cookies": r.cookies, "imported_at": r.imported_at,
                     "licence": r.licence} for r in rows]
            print(json.dumps({"sources": docs}, ensure_ascii=False))
        else:
            for r in rows:
                print(f"{r.source:<28} {r.count:>7} facts  {r.imported_at}  {r.file}")
            if not rows:
                print("No tracker lists imported yet.")
        return EXIT_OK
    if args.file is None or args.list_type is None:
        raise UsageError("knowledge import needs a FILE and --type " + "|".join(imports.FORMATS))
    try:
        summary = imports.import_file(args.file, args.list_type, data_dir, entities=args.entities)
    except imports.ListImportError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"imported {summary.source}: {summary.domains} domains, {summary.owners} owners, "
          f"{summary.cookies} cookie names ({summary.skipped} entries skipped)")
    if summary.licence:
        print(f"licence: {summary.licence} (kept in your data folder only)")
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, data_dir: Path) -> int:
    profiles, errors = select_profiles(args, data_dir)
    classifier, list_errors = _classifier(args, data_dir)
    errors += list_errors
    result = engine.scan(profiles, classifier=classifier)
    errors = errors + result.errors
    entry = next((e for e in result.entries if e.id == args.entry_id), None)
    if entry is None:
        _report_errors(errors)
        print(f"privacy-inspector: error: no entry {args.entry_id} in the chosen profiles "
              "(ids come from scan, on the same profiles)", file=sys.stderr)
        return EXIT_FAILED
    output.write_explanation(sys.stdout, args.format, explain_entry(entry, classifier))
    return EXIT_OK


def cmd_window(args: argparse.Namespace, data_dir: Path) -> int:
    """No sub-command: the desktop window over the same profiles and policy.

    Where no window can open (no display, or Qt's X11 libraries missing) the
    inventory is printed as text instead, after a line saying why, so that
    the README's run command shows the user something everywhere.
    """
    from privacy_inspector.gui import app as window

    problem = window.display_problem()
    if problem and args.screenshot is None:
        print(f"privacy-inspector: no window here: {problem}. Showing the inventory as text "
              "instead.", file=sys.stderr)
        return cmd_scan(args, data_dir)
    notices: list[str] = []
    profiles, errors = select_profiles(args, data_dir, notices)
    _report_errors(errors)
    demo_shown = bool(args.demo or args.demo_reset or notices)
    if notices:
        print(notices[0], file=sys.stderr)
    return window.run(profiles, data_dir=data_dir, policy_option=args.policy, demo=demo_shown,
                      notice=notices[0] if notices else None, screenshot=args.screenshot)


def _scan_classified(args: argparse.Namespace, data_dir: Path):
    """For the writing commands: the chosen profiles, scanned and classified."""

    def scan() -> tuple[list[Profile], engine.ScanResult]:
        profiles, errors = select_profiles(args, data_dir)
        classifier, list_errors = _classifier(args, data_dir)
        result = engine.scan(profiles, classifier=classifier)
        result.errors[:0] = errors + list_errors
        return profiles, result

    return scan


def cmd_clear(args: argparse.Namespace, data_dir: Path) -> int:
    return deleting.cmd_clear(args, data_dir, _scan_classified(args, data_dir))


def cmd_delete(args: argparse.Namespace, data_dir: Path) -> int:
    return deleting.cmd_delete(args, data_dir, _scan_classified(args, data_dir))


@dataclass
class Inputs:
    """What a command works on: the chosen profiles, the errors choosing them
    (a --profile that names none), and the classifier for the policy."""

    profiles: list[Profile]
    errors: list[ScanError]
    classifier: Classifier


def _inputs(args: argparse.Namespace, data_dir: Path) -> Inputs:
    profiles, errors = select_profiles(args, data_dir)
    classifier, list_errors = _classifier(args, data_dir)
    return Inputs(profiles, errors + list_errors, classifier)


def cmd_snapshot(args: argparse.Namespace, data_dir: Path) -> int:
    from privacy_inspector.cli import snapshots

    return snapshots.cmd_snapshot(args, data_dir, lambda: _inputs(args, data_dir))


def cmd_diff(args: argparse.Namespace, data_dir: Path) -> int:
    from privacy_inspector.cli import snapshots

    return snapshots.cmd_diff(args, data_dir, lambda: _inputs(args, data_dir))


def cmd_watch(args: argparse.Namespace, data_dir: Path) -> int:
    from privacy_inspector.cli import watching

    args.kinds = _kinds(args.kinds)
    return watching.cmd_watch(args, data_dir, lambda: _inputs(args, data_dir))


def cmd_report(args: argparse.Namespace, data_dir: Path) -> int:
    from privacy_inspector.cli import reporting

    if args.format not in REPORT_FORMATS:
        raise UsageError("report needs --format " + "|".join(REPORT_FORMATS))
    return reporting.cmd_report(args, data_dir, lambda: _inputs(args, data_dir))


def _selector(args: argparse.Namespace, data_dir: Path):
    return lambda: select_profiles(args, data_dir)


def cmd_block(args: argparse.Namespace, data_dir: Path) -> int:
    return blocking.cmd_block(args, data_dir, _selector(args, data_dir))


def cmd_unblock(args: argparse.Namespace, data_dir: Path) -> int:
    return blocking.cmd_unblock(args, data_dir, _selector(args, data_dir))


def cmd_blocks(args: argparse.Namespace, data_dir: Path) -> int:
    return blocking.cmd_blocks(args, data_dir, _selector(args, data_dir))


COMMANDS = {"window": cmd_window, "scan": cmd_scan, "profiles": cmd_profiles, "explain": cmd_explain,
            "knowledge": cmd_knowledge, "clear": cmd_clear, "delete": cmd_delete,
            "undo": deleting.cmd_undo, "keep": deleting.cmd_keep, "block": cmd_block,
            "unblock": cmd_unblock, "blocks": cmd_blocks, "snapshot": cmd_snapshot,
            "diff": cmd_diff, "watch": cmd_watch, "report": cmd_report}


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("PRIVACY_INSPECTOR_LOG", "WARNING").upper(),
                        format="%(levelname)s: %(name)s: %(message)s", stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "window"
    try:
        args.loaded_policy = _policy(args.policy)
        data_dir = paths.init(args.data_dir)
        return COMMANDS[command](args, data_dir)
    except UsageError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output went away (| head); not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        print(f"privacy-inspector: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
              file=sys.stderr)
        return EXIT_FAILED
