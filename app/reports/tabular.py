"""The report for spreadsheets (CSV) and for programs (JSON).

CSV: one row per entry, the entry's fields (the contract's, in their order)
and then its explanation.  A text cell that a spreadsheet would take for a
formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) gets a leading apostrophe: entry names come from websites, and a
name such as ``=HYPERLINK(...)`` must stay text when the file is opened.

JSON: ``{"generated", "policy", "profiles", "summary", "entries", "errors"}``;
each entry is the contract's entry object with an ``explanation`` added.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from privacy_inspector.core.records import ENTRY_FIELD_NAMES
from privacy_inspector.reports.model import Report

EXPLANATION_COLUMNS = ("who", "what", "how_long", "value_judgement", "tracker_reason", "why",
                       "clause_titles", "not_covered")
CSV_COLUMNS = ENTRY_FIELD_NAMES + EXPLANATION_COLUMNS
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """Empty for null, booleans as ``true``/``false``, lists joined by ``;``, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render_csv(report: Report) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in report.entries:
        row = item.entry.to_dict()
        x = item.explanation
        row.update(
            who=x.who,
            what=x.what,
            how_long=x.how_long,
            value_judgement=x.value,
            tracker_reason=x.tracker,
            why=x.why,
            clause_titles=[title for _, title, _ in x.clauses],
            not_covered=x.not_covered,
        )
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
    # With a byte-order mark, spreadsheets read the file as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "generated": report.generated_text,
        "policy": report.policy.to_dict(),
        "profiles": [p.to_dict() for p in report.profiles],
        "summary": report.summary_dict(),
        "clauses": [c.to_dict() for c in report.clauses],
        "entries": [item.to_dict() for item in report.entries],
        "errors": [e.to_dict() for e in report.errors],
    }


def render_json(report: Report) -> bytes:
    return orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2) + b"\n"
