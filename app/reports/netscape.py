"""Cookies as a Netscape ``cookies.txt`` (curl's ``-b``, yt-dlp's ``--cookies``, wget).

One line per cookie, seven fields separated by tabs: domain,
include-subdomains (``TRUE``/``FALSE``), path, secure (``TRUE``/``FALSE``),
expiry in Unix seconds (``0`` for a session cookie), name, value.  An
HttpOnly cookie's line starts with ``#HttpOnly_`` as curl writes it.  Only
cookies, and no stale copies; storage entries have no place in this format.

Values are written only where the scan was given them (``--show-values``);
otherwise the value field is empty.  A cookie whose name, value, domain or
path holds a tab or a line break cannot be written and is left out, said
in a comment.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator

from privacy_inspector.core.records import Entry
from privacy_inspector.reports.model import Report

HEADER = "# Netscape HTTP Cookie File"


def cookies(report: Report) -> list[Entry]:
    """The cookies the file holds: every cookie of the report that is not a stale copy."""
    return [item.entry for item in report.entries if item.entry.kind == "cookie" and not item.entry.stale]


def _expiry(entry: Entry) -> int:
    if not entry.persistent or not entry.expires:
        return 0
    try:
        return calendar.timegm(time.strptime(entry.expires, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:
        return 0


def _flag(value: bool | None) -> str:
    return "TRUE" if value else "FALSE"


def _line(entry: Entry) -> str | None:
    domain = ("." + entry.host) if entry.domain_cookie else entry.host
    fields = [domain, _flag(entry.domain_cookie), entry.path or "/", _flag(entry.secure),
              str(_expiry(entry)), entry.name, entry.value or ""]
    if any(ch in field for field in fields for ch in "\t\r\n"):
        return None
    prefix = "#HttpOnly_" if entry.http_only else ""
    return prefix + "\t".join(fields)


def lines(report: Report) -> Iterator[str]:
    yield HEADER
    yield "# Written by Privacy Inspector; https://curl.se/docs/http-cookies.html explains the format."
    yield f"# Generated {report.generated_text}."
    if report.has_values:
        yield "# This file holds cookie values: they can log anyone in as you. Keep it private."
    else:
        yield "# Values are left empty: the scan was made without --show-values."
    yield ""
    by_profile: dict[str, list[Entry]] = {}
    for entry in cookies(report):
        by_profile.setdefault(entry.profile, []).append(entry)
    for profile, entries in by_profile.items():
        yield f"# {entries[0].browser}: {profile}".replace("\n", " ").replace("\r", " ")
        for entry in entries:
            line = _line(entry)
            if line is None:
                yield "# (a cookie of this host is left out: a tab or line break in it) " + \
                    entry.host.replace("\n", " ").replace("\r", " ")
            else:
                yield line
        yield ""


def render_netscape(report: Report) -> bytes:
    return ("\n".join(lines(report)) + "\n").encode("utf-8")


def missing_values(report: Report) -> int:
    """How many of the file's cookies have no value in it."""
    return sum(1 for entry in cookies(report) if entry.value is None)
