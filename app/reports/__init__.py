"""Reports of the inventory with explanations: HTML, PDF, CSV, JSON and Netscape cookies.txt.

The command line's ``report`` and the window's export both call::

    report = build_report(entries, profiles, classifier, errors)
    write_report(report, "html", Path("report.html"))   # or render(report, fmt) -> bytes

Only the PDF writer needs Qt, and imports it when it is called.
"""

from __future__ import annotations

from pathlib import Path

from privacy_inspector import paths
from privacy_inspector.reports.model import (
    Report,
    ReportClause,
    ReportEntry,
    ReportPolicy,
    ReportProfile,
    Totals,
    build_report,
)

FORMATS = ("html", "pdf", "csv", "json", "netscape")
# What a save dialog offers: format -> (description, file suffix).
FILE_TYPES = {
    "html": ("HTML page", ".html"),
    "pdf": ("PDF document", ".pdf"),
    "csv": ("CSV spreadsheet", ".csv"),
    "json": ("JSON", ".json"),
    "netscape": ("Netscape cookies.txt", ".txt"),
}


def render(report: Report, fmt: str) -> bytes:
    """The report in ``fmt`` (one of :data:`FORMATS`) as bytes."""
    if fmt == "html":
        from privacy_inspector.reports.html_report import render_html

        return render_html(report).encode("utf-8")
    if fmt == "csv":
        from privacy_inspector.reports.tabular import render_csv

        return render_csv(report)
    if fmt == "json":
        from privacy_inspector.reports.tabular import render_json

        return render_json(report)
    if fmt == "netscape":
        from privacy_inspector.reports.netscape import render_netscape

        return render_netscape(report)
    if fmt == "pdf":
        from privacy_inspector.reports.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(f"unknown report format {fmt!r}; choose from {', '.join(FORMATS)}")


def write_report(report: Report, fmt: str, output: Path) -> None:
    """Write the report to ``output``: atomically and readable only by the user (0600)."""
    write_report_bytes(render(report, fmt), Path(output))


def write_report_bytes(data: bytes, output: Path) -> None:
    """Write rendered report bytes to ``output``, atomically and 0600."""
    paths.write_private_file(Path(output), data)


__all__ = [
    "FILE_TYPES",
    "FORMATS",
    "Report",
    "ReportClause",
    "ReportEntry",
    "ReportPolicy",
    "ReportProfile",
    "Totals",
    "build_report",
    "render",
    "write_report",
    "write_report_bytes",
]
