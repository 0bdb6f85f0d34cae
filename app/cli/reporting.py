"""``report``: the inventory with its explanations as html, pdf, csv, json or netscape.

The report is written to ``--output FILE`` (0600, atomically) or, with
``--output -``, to stdout; a PDF is never written to stdout.  Read errors
are listed in the report and on stderr, and make the exit code 1; the
report is written all the same.  Values appear only with ``--show-values``
and are never logged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privacy_inspector import reports
from privacy_inspector.core import engine
from privacy_inspector.core.records import ScanError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
STDOUT = "-"


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _report_errors(errors: Sequence[ScanError]) -> None:
    for error in errors:
        where = error.profile + (f" ({error.store})" if error.store else "")
        _error(f"{where}: {error.message}")


def _netscape_warnings(report: reports.Report, output: str) -> None:
    from privacy_inspector.reports.netscape import cookies, missing_values

    count = len(cookies(report))
    missing = missing_values(report)
    where = "the output" if output == STDOUT else output
    if not report.has_values:
        _warn(f"{where} has no cookie values ({count} cookies, every value left empty), so curl "
              "or yt-dlp cannot log in with it; add --show-values to include them")
        return
    kept = "" if output == STDOUT else " it is written readable only by you (0600);"
    _warn(f"{where} holds your cookies' values, secrets that can log anyone in as you:{kept} "
          "do not share it, and delete it when done")
    if missing:
        _warn(f"{missing} of the {count} cookies could not be decrypted; their values are empty")


def cmd_report(args: argparse.Namespace, data_dir: Path, inputs: Callable[[], Any]) -> int:
    """Scan the chosen profiles, build the report and write it; the exit code."""
    fmt = args.format
    output = str(args.output)
    if fmt == "pdf" and output == STDOUT:
        _error("a PDF is not written to stdout; name a file with --output FILE")
        return EXIT_USAGE
    chosen = inputs()
    result = engine.scan(chosen.profiles, show_values=args.show_values, classifier=chosen.classifier)
    errors = list(chosen.errors) + list(result.errors)
    report = reports.build_report(result.entries, chosen.profiles, chosen.classifier, errors)
    data = reports.render(report, fmt)
    if output == STDOUT:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        reports.write_report_bytes(data, Path(output))
    if fmt == "netscape":
        _netscape_warnings(report, output)
    elif output != STDOUT:
        print(f"{fmt} report of {report.totals.entries} entries written to {output}", file=sys.stderr)
    _report_errors(errors)
    return EXIT_FAILED if errors else EXIT_OK
