"""``block``, ``unblock`` and ``blocks``: cookie rules in the browsers' own settings.

As the contract says: on a terminal ``block`` and ``unblock`` ask first;
without a terminal and without ``--yes`` they print the plan, change nothing
and exit 2; if a browser runs on any profile they would write, nothing is
written anywhere and they exit 3.  A public suffix (``co.uk``) is bad usage
(exit 2).  ``block --export FMT --output FILE`` writes a policy or list file
instead of touching a profile.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privacy_inspector.actions import block as blocking
from privacy_inspector.actions import block_export
from privacy_inspector.cli import waiting
from privacy_inspector.core import engine
from privacy_inspector.core.records import Profile

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3

SelectProfiles = Callable[[], tuple[list[Profile], list[Any]]]


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    def targets(p: argparse.ArgumentParser) -> None:
        p.add_argument("--domain", dest="domains", action="append", default=[], metavar="D",
                       help="a domain; the rule covers its subdomains (repeatable)")
        p.add_argument("--organization", dest="organizations", action="append", default=[],
                       metavar="ORG", help="every domain the knowledge base gives this company "
                                           "(as scan names it: Google, Meta, ...) (repeatable)")
        p.add_argument("--port", type=int, metavar="N",
                       help="for a site served on a non-default port, such as a local test "
                            "server (Firefox's rules name the port; Chromium's cover all ports)")
        p.add_argument("--dry-run", action="store_true", help="print the plan only")
        waiting.add_options(p)

    block = sub.add_parser(
        "block", parents=[common], help="write cookie rules into the browsers' own settings",
        description="Write a cookie rule for a domain (with its subdomains) or for every domain "
                    "of an organisation into each chosen profile: block (no cookies or storage), "
                    "session (kept until the browser closes) or allow (an exemption). The rules "
                    "are the browser's own, marked in the app's data folder as the app's.")
    targets(block)
    block.add_argument("--mode", choices=blocking.MODES, default="block",
                       help="block (default), session or allow")
    block.add_argument("--skip-sign-in", action="store_true",
                       help="leave out the domains people sign in to (google.com, youtube.com, ...)")
    block.add_argument("--export", choices=block_export.FORMATS, metavar="FMT",
                       help="write the rules as " + ", ".join(block_export.FORMATS)
                            + " to --output instead of touching a profile; without --domain or "
                              "--organization, the rules in force in the chosen profiles")
    block.add_argument("--output", metavar="FILE", help="where --export writes ('-' for stdout)")
    unblock = sub.add_parser(
        "unblock", parents=[common], help="remove cookie rules the app wrote",
        description="Remove the rules the app wrote for a domain or an organisation, and put "
                    "back any rule of the user's that block replaced. Rules made in the browser "
                    "are left alone.")
    targets(unblock)
    sub.add_parser("blocks", parents=[common],
                   help="the cookie rules in force, and whether the app or the user made each")


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2)


def _domains(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """The domains asked for, and the organisations' domains left out as public suffixes.
    BlockError for a bad domain or an unknown organisation."""
    domains: dict[str, None] = {}
    shared: list[str] = []
    for text in args.domains:
        domains[blocking.check_domain(text)] = None
    for org in args.organizations:
        found, left_out = blocking.domains_of_organization(org)
        domains.update(dict.fromkeys(found))
        shared += left_out
    return list(domains), shared


def _sign_in(domains: Sequence[str], profiles: list[Profile], data_dir: Path) -> list[str]:
    result = engine.scan(profiles, kinds=("cookie",))
    return blocking.sign_in_domains(domains, blocking.sign_in_sites(data_dir, result.entries))


def _plan_doc(plan: blocking.RulePlan, outcome: blocking.Outcome | None,
              sign_in: Sequence[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "journal_id": None,
        "rules": outcome.rules if outcome else [],
        "kept": [],
        "refused": [{"profile": r.profile, "reason": r.reason}
                    for r in (outcome.refused if outcome else plan.refused)],
        "errors": [{"profile": p, "store": s, "message": m}
                   for p, s, m in plan.errors + (outcome.errors if outcome else [])],
    }
    if outcome is None:
        doc["planned"] = [_change_doc(c) for c in plan.changes]
    doc["skipped"] = [_change_doc(c) for c in plan.skipped]
    doc["unsupported"] = [{"profile": r.profile, "reason": r.reason} for r in plan.unsupported]
    if sign_in:
        doc["sign_in"] = list(sign_in)
    return doc


def _change_doc(change: blocking.Change) -> dict[str, Any]:
    return {"profile": str(change.profile.path), "browser": change.profile.browser,
            "domain": change.domain, "mode": change.then, "was": change.now,
            "note": change.note}


def _mode_text(mode: str | None) -> str:
    return mode or "no rule"


def _print_plan(plan: blocking.RulePlan, sign_in: Sequence[str]) -> None:
    what = "remove the app's rules" if plan.action == blocking.UNBLOCK else f"rule '{plan.action}'"
    print(f"Plan: {what} for {len(plan.domains)} domain(s)")
    for profile in plan.writes:
        changes = [c for c in plan.changes if c.profile.path == profile.path]
        print(f"  {profile.browser} {profile.name} ({profile.path}): {len(changes)} domain(s)")
        plain = [c.domain for c in changes if c.now is None and not c.note]
        if plain:
            print(textwrap.fill(", ".join(plain), width=100, initial_indent="    ",
                                subsequent_indent="    "))
        for change in changes:
            if change.now is not None or change.note:
                note = f"  ({change.note})" if change.note else ""
                print(f"    {change.domain}: {_mode_text(change.now)} -> "
                      f"{_mode_text(change.then)}{note}")
    for change in plan.skipped:
        print(f"  unchanged: {change.profile.browser} {change.profile.name}: {change.domain}: "
              f"{change.note}")
    for item in plan.unsupported:
        print(f"  not written: {item.profile}: {item.reason}")
    for refusal in plan.refused:
        print(f"Refused: {refusal.reason}")
    if sign_in and plan.action == "block":
        print("These are sites people sign in to; blocking them signs you out and keeps you out: "
              + ", ".join(sign_in))


def _confirm(args: argparse.Namespace, plan: blocking.RulePlan,
             sign_in: Sequence[str]) -> tuple[int | None, bool]:
    """(None to go on, or the exit code; whether to leave out the sign-in domains)."""
    if args.yes:
        if sign_in and plan.action == "block":
            print("warning: blocking sites people sign in to: " + ", ".join(sign_in),
                  file=sys.stderr)
        return None, False
    if not sys.stdin.isatty():
        print("Nothing was changed: run it on a terminal to confirm, or add --yes.", file=sys.stderr)
        return EXIT_USAGE, False
    if sign_in and plan.action == "block":
        answer = input("Block them too? [y]es, [s]kip the sign-in sites, [N]o: ").strip().lower()
        if answer in ("s", "skip"):
            return None, True
        return (None, False) if answer in ("y", "yes") else (EXIT_OK, False)
    answer = input(f"Write {len(plan.changes)} rule change(s)? [y/N] ").strip().lower()
    return (None, False) if answer in ("y", "yes") else (EXIT_OK, False)


def _export(args: argparse.Namespace, data_dir: Path, select: SelectProfiles) -> int:
    if not args.output:
        print("privacy-inspector: error: --export needs --output FILE ('-' for stdout)",
              file=sys.stderr)
        return EXIT_USAGE
    if args.domains or args.organizations:
        domains, _ = _domains(args)
        rules = [(d, args.mode) for d in domains]
    else:
        profiles, errors = select()
        rows, read_errors = blocking.rules_in_force(profiles, data_dir)
        for profile, store, message in read_errors:
            print(f"error: {profile} ({store}): {message}", file=sys.stderr)
        rules = blocking.exportable(rows)
    if args.output == "-":
        sys.stdout.write(block_export.export(rules, args.export))
    else:
        target = block_export.write_export(rules, args.export, Path(args.output))
        print(f"Wrote {len(rules)} rule(s) as {args.export} to {target}", file=sys.stderr)
    return EXIT_OK


def _run(args: argparse.Namespace, data_dir: Path, select: SelectProfiles, action: str) -> int:
    if not (args.domains or args.organizations):
        print(f"privacy-inspector: error: {action} needs --domain or --organization",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        domains, shared = _domains(args)
    except blocking.BlockError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for domain in shared:
        print(f"note: {domain} is left out: it is a public suffix, and a rule would govern every "
              "site under it", file=sys.stderr)
    profiles, select_errors = select()
    for error in select_errors:
        print(f"error: {error.profile}: {error.message}", file=sys.stderr)
    sign_in: list[str] = []
    if action == "block" and args.mode == "block" and args.organizations:
        sign_in = _sign_in(domains, profiles, data_dir)
        if args.skip_sign_in:
            domains = [d for d in domains if d not in sign_in]
            sign_in = []
    def make_plan() -> blocking.RulePlan:
        if action == "block":
            return blocking.plan_block(profiles, domains, args.mode, data_dir, port=args.port)
        return blocking.plan_unblock(profiles, domains, data_dir, port=args.port)

    try:
        plan = make_plan()
        if plan.refused and not args.dry_run and waiting.wanted(args):
            refused = {r.profile for r in plan.refused}
            if waiting.until_closed(args, [p for p in plan.writes if str(p.path) in refused]):
                plan = make_plan()  # afresh: the browser rewrote its settings while closing
    except blocking.BlockError as exc:
        print(f"privacy-inspector: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    as_json = args.format in ("json", "jsonl")
    failed = bool(select_errors or plan.errors)
    if args.dry_run or plan.refused or not plan.changes:
        print(_dump(_plan_doc(plan, None, sign_in))) if as_json else _print_plan(plan, sign_in)
        if plan.refused:
            return EXIT_REFUSED
        return EXIT_FAILED if failed else EXIT_OK
    if not as_json:
        _print_plan(plan, sign_in)
    code, skip = _confirm(args, plan, sign_in)
    if code is not None:
        if as_json:
            print(_dump(_plan_doc(plan, None, sign_in)))
        return code
    if skip:
        kept = [d for d in domains if d not in sign_in]
        plan = blocking.plan_block(profiles, kept, args.mode, data_dir, port=args.port)
        sign_in = []
    outcome = blocking.apply(plan, data_dir)
    if as_json:
        print(_dump(_plan_doc(plan, outcome, sign_in)))
    else:
        for refusal in outcome.refused:
            print(f"Refused, nothing was changed: {refusal.reason}")
        if not outcome.refused:
            print(f"Wrote {len(outcome.rules)} rule change(s)." if outcome.rules
                  else "Nothing was changed.")
    for profile, store, message in plan.errors + outcome.errors:
        print(f"error: {profile} ({store}): {message}", file=sys.stderr)
    if outcome.refused:
        return EXIT_REFUSED
    return EXIT_FAILED if (failed or outcome.errors) else EXIT_OK


def cmd_block(args: argparse.Namespace, data_dir: Path, select: SelectProfiles) -> int:
    try:
        if args.export:
            return _export(args, data_dir, select)
    except blocking.BlockError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.output:
        print("privacy-inspector: error: --output goes with --export", file=sys.stderr)
        return EXIT_USAGE
    return _run(args, data_dir, select, "block")


def cmd_unblock(args: argparse.Namespace, data_dir: Path, select: SelectProfiles) -> int:
    return _run(args, data_dir, select, "unblock")


def cmd_blocks(args: argparse.Namespace, data_dir: Path, select: SelectProfiles) -> int:
    profiles, select_errors = select()
    try:
        rows, errors = blocking.rules_in_force(profiles, data_dir)
    except blocking.BlockError as exc:
        print(f"privacy-inspector: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    docs = [r.to_dict() for r in rows]
    error_docs = ([{"profile": e.profile, "store": e.store, "message": e.message}
                   for e in select_errors]
                  + [{"profile": p, "store": s, "message": m} for p, s, m in errors])
    if args.format == "json":
        print(_dump({"rules": docs, "errors": error_docs}))
    elif args.format == "jsonl":
        for doc in docs:
            print(json.dumps(doc, ensure_ascii=False))
        for doc in error_docs:
            print(json.dumps({"error": doc}, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        fields = ["profile", "browser", "domain", "pattern", "mode", "source"]
        writer.writerow(fields)
        for doc in docs:
            writer.writerow([doc[f] for f in fields])
    else:
        for doc in docs:
            print(f"{doc['mode']:<8} {doc['source']:<5} {doc['domain']:<32} {doc['browser']:<9} "
                  f"{doc['pattern']}  ({doc['profile']})")
        if not docs:
            print("No cookie rules in the chosen profiles.")
    if args.format not in ("json",):
        for doc in error_docs:
            print(f"error: {doc['profile']} ({doc['store']}): {doc['message']}", file=sys.stderr)
    return EXIT_FAILED if error_docs else EXIT_OK
