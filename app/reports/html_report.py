"""The report as one self-contained HTML page (and the HTML that the PDF prints).

Nothing is loaded from anywhere: the style is inline, the charts are inline
SVG (for the PDF, tables of bars, which Qt's rich text can draw), there is no
script, and a Content-Security-Policy says so to the browser as well.  The
only links are the policy's own opt-out pages and anchors within the page.

Every text that reaches the page is escaped: entry names, hosts and values
come from websites and are not to be trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlsplit

from privacy_inspector.core.classify import possessive
from privacy_inspector.core.explain import KIND_WORDS
from privacy_inspector.core.records import Entry
from privacy_inspector.reports.model import Report, ReportEntry, category_label

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# Above this many entries the policy's words are quoted once, in their own
# section, and each entry links to them instead of repeating them.
QUOTE_LIMIT = 2000
CHART_ROWS = 12
BAR_COLOUR = "#2f5f8f"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 70em; padding: 0 1em; color: #1b1b1b; background: #fff; line-height: 1.4; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #c8c8c8; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eef1f4; }
td.num { text-align: right; }
code, .value { font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.charts { display: flex; flex-wrap: wrap; gap: 2em; }
.entry { border-top: 1px solid #c8c8c8; padding-top: 0.5em; margin-top: 1em; }
.tracker { color: #8a1c1c; font-weight: bold; }
blockquote { margin: 0.4em 0 0.8em 1em; padding-left: 0.8em; border-left: 3px solid #9aa8b5; }
dt { font-weight: bold; }
dd { margin: 0 0 0.4em 1.5em; }
.muted { color: #555; }
.errors { color: #8a1c1c; }
table.bars, table.bars td { border: none; padding: 1px; }
"""


def _e(text: object) -> str:
    return escape("" if text is None else str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """``url`` if it is a plain http(s) link, else None (it is then shown as text)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def _link(label: str, url: str | None) -> str:
    target = safe_url(url)
    if target is None:
        return _e(label) + (f" ({_e(url)})" if url else "")
    return (f'<a href="{_e(target)}" rel="noopener noreferrer">{_e(label)}</a>'
            f' <span class="muted">({_e(target)})</span>')


def _yes_no(value: bool | None) -> str:
    if value is None:
        return "–"
    return "yes" if value else "no"


def shown_value(entry: Entry) -> str:
    """The value if the scan was given it, else what stands in its place (never a value)."""
    if entry.value is not None:
        return entry.value
    if entry.value_state == "encrypted":
        return "(encrypted; not included)"
    if entry.value_state == "unavailable":
        return f"({entry.value_note})" if entry.value_note else "(no single value)"
    return "(not included; scan with --show-values to include values)"


# -- charts -------------------------------------------------------------------

def _chart_rows(bars: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    rows = list(bars[:CHART_ROWS])
    rest = bars[CHART_ROWS:]
    if rest:
        rows.append((f"{len(rest)} others", sum(count for _, count in rest)))
    return rows


def svg_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """A horizontal bar chart: label, bar and number on each line."""
    rows = _chart_rows(bars)
    line, label_width, bar_width, number_width = 22, 170, 240, 50
    width = label_width + bar_width + number_width
    height = line * (max(len(rows), 1) + 1) + 6
    described = "; ".join(f"{label}: {count}" for label, count in rows) or "none"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}: {_e(described)}">',
        f"<title>{_e(title)}</title>",
        f'<text x="0" y="16" font-size="15" font-weight="bold" fill="#1b1b1b">{_e(title)}</text>',
    ]
    if not rows:
        parts.append(f'<text x="0" y="{line + 16}" font-size="13" fill="#1b1b1b">none</text>')
    biggest = max((count for _, count in rows), default=1) or 1
    for i, (label, count) in enumerate(rows):
        y = line * (i + 1) + 4
        shown = label if len(label) <= 28 else label[:27] + "…"
        length = max(2.0, bar_width * count / biggest - 8)
        parts.append(f'<text x="0" y="{y + 15}" font-size="13" fill="#1b1b1b">{_e(shown)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{line - 8}" '
                     f'fill="{BAR_COLOUR}"/>')
        parts.append(f'<text x="{label_width + length + 6:.1f}" y="{y + 15}" font-size="13" '
                     f'fill="#1b1b1b">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def table_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """The same chart as a table of bars, for Qt's rich text (which draws no SVG)."""
    rows = _chart_rows(bars)
    out = [f"<p><b>{_e(title)}</b></p>",
           '<table class="bars" width="90%" cellspacing="0" cellpadding="1">']
    if not rows:
        out.append("<tr><td>none</td></tr>")
    biggest = max((count for _, count in rows), default=1) or 1
    for label, count in rows:
        percent = max(1, min(99, round(100 * count / biggest)))
        out.append(
            f'<tr><td width="30%">{_e(label)}</td><td width="60%">'
            f'<table class="bars" width="100%" cellspacing="0" cellpadding="0"><tr>'
            f'<td width="{percent}%" bgcolor="{BAR_COLOUR}">&nbsp;</td>'
            f'<td width="{100 - percent}%"></td></tr></table>'
            f"</td><td width=\"10%\">&nbsp;{count}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


# -- sections -------------------------------------------------------------------

def _summary(report: Report, for_pdf: bool) -> list[str]:
    t = report.totals
    out = ["<h2 id=\"summary\">Summary</h2>", "<table>"]
    rows = (
        ("Entries", t.entries),
        ("Cookies", t.cookies),
        ("Storage entries (localStorage, sessionStorage, IndexedDB, caches, workers)", t.storage),
        ("Trackers", t.trackers),
        ("Companies behind the trackers", t.companies),
        ("Sites", t.sites),
        (f"First party ({report.policy.owner})", t.first_party),
        ("Third party", t.third_party),
        (f"Unrelated to {report.policy.owner}", t.unrelated),
        ("Not covered by the policy", t.not_covered),
        ("Stale copies the browser no longer uses", t.stale),
    )
    for label, count in rows:
        out.append(f'<tr><th scope="row">{_e(label)}</th><td class="num">{count}</td></tr>')
    out.append("</table>")
    chart = table_chart if for_pdf else svg_chart
    out.append('<div class="charts">')
    out.append(chart("Trackers by company", report.trackers_by_organization))
    out.append(chart("Trackers by category", report.trackers_by_category))
    out.append("</div>")
    for title, head, bars in (
        ("Trackers by company", "Company", report.trackers_by_organization),
        ("Trackers by category", "Category", report.trackers_by_category),
    ):
        out.append(f"<h3>{_e(title)}</h3>")
        if not bars:
            out.append("<p>No trackers.</p>")
            continue
        out.append(f'<table><tr><th scope="col">{head}</th><th scope="col">Trackers</th></tr>')
        for label, count in bars:
            out.append(f'<tr><td>{_e(label)}</td><td class="num">{count}</td></tr>')
        out.append("</table>")
    return out


def _profiles(report: Report) -> list[str]:
    out = ['<h2 id="profiles">Profiles</h2>']
    if not report.profiles:
        return out + ["<p>No profiles.</p>"]
    out.append('<table><tr><th scope="col">Browser</th><th scope="col">Profile</th>'
               '<th scope="col">Folder</th><th scope="col">Entries</th></tr>')
    for p in report.profiles:
        out.append(f"<tr><td>{_e(p.browser)}</td><td>{_e(p.name)}</td>"
                   f"<td><code>{_e(p.path)}</code></td><td class=\"num\">{p.entries}</td></tr>")
    out.append("</table>")
    return out


def _errors(report: Report) -> list[str]:
    if not report.errors:
        return []
    out = ['<h2 id="errors" class="errors">What could not be read</h2>', "<ul>"]
    for error in report.errors:
        where = error.profile + (f" ({error.store})" if error.store else "")
        out.append(f"<li><code>{_e(where)}</code>: {_e(error.message)}</li>")
    out.append("</ul>")
    return out


def _overview(report: Report) -> list[str]:
    out = ['<h2 id="entries">Entries</h2>']
    if not report.entries:
        return out + ["<p>No entries.</p>"]
    out.append('<table><tr><th scope="col">#</th><th scope="col">Name</th><th scope="col">Host</th>'
               '<th scope="col">Kind</th><th scope="col">Company</th><th scope="col">Category</th>'
               '<th scope="col">Tracker</th><th scope="col">Clauses</th></tr>')
    for number, item in enumerate(report.entries, 1):
        e = item.entry
        tracker = '<span class="tracker">yes</span>' if e.tracker else "no"
        clauses = ", ".join(_e(c) for c in e.policy_clauses) or "none"
        out.append(
            f'<tr><td><a href="#e{number}">{number}</a></td><td><code>{_e(e.name)}</code></td>'
            f"<td>{_e(e.host)}</td><td>{_e(KIND_WORDS.get(e.kind, e.kind))}</td>"
            f"<td>{_e(e.organization or '')}</td><td>{_e(category_label(e.category))}</td>"
            f"<td>{tracker}</td><td>{clauses}</td></tr>"
        )
    out.append("</table>")
    return out


def _entry_facts(e: Entry) -> list[tuple[str, str]]:
    facts = [
        ("Browser", f"{e.browser} ({e.engine})"),
        ("Profile", e.profile),
        ("Kind", KIND_WORDS.get(e.kind, e.kind)),
        ("Host", e.host),
        ("Site", e.site),
    ]
    if e.origin:
        facts.append(("Origin", e.origin))
    if e.path is not None:
        facts.append(("Path", e.path))
    if e.partition_site:
        facts.append(("Partitioned under", e.partition_site))
    if e.container is not None:
        facts.append(("Container", str(e.container)))
    facts.append(("Expires", e.expires or ("end of session" if not e.persistent else "no expiry")))
    if e.kind == "cookie":
        facts.append(("Domain cookie", _yes_no(e.domain_cookie)))
        facts.append(("Secure", _yes_no(e.secure)))
        facts.append(("HttpOnly", _yes_no(e.http_only)))
        facts.append(("SameSite", e.same_site or "–"))
    facts += [
        ("Size", f"{e.size} bytes"),
        ("Company", e.organization or "unknown"),
        ("Service", e.service or "unknown"),
        ("Party", (e.party or "unknown").replace("_", " ")),
        ("Category", category_label(e.category)),
        ("Tracker", _yes_no(e.tracker)),
        ("Stale copy", _yes_no(e.stale)),
        ("Value state", e.value_state),
        ("Store", e.store),
        ("Id", e.id),
    ]
    return facts


def _entry(number: int, item: ReportEntry, quote: bool) -> list[str]:
    e, x = item.entry, item.explanation
    out = [f'<section class="entry" id="e{number}">',
           f"<h3>{number}. <code>{_e(e.name)}</code> on {_e(e.host)}"
           + (' <span class="tracker">(tracker)</span>' if e.tracker else "") + "</h3>",
           "<table>"]
    for label, value in _entry_facts(e):
        out.append(f'<tr><th scope="row">{_e(label)}</th><td>{_e(value)}</td></tr>')
    out.append(f'<tr><th scope="row">Value</th><td class="value">{_e(shown_value(e))}</td></tr>')
    out.append("</table>")
    out.append("<dl>")
    for label, text in (("Who", x.who), ("What", x.what), ("How long", x.how_long),
                        ("Its value", x.value), ("Tracker", x.tracker), ("Why", x.why)):
        out.append(f"<dt>{_e(label)}</dt><dd>{_e(text)}</dd>")
    out.append("</dl>")
    if x.clauses:
        out.append("<p><b>What the policy says</b></p>")
        for clause_id, title, text in x.clauses:
            if quote:
                out.append(f'<p><a href="#clause-{_e(clause_id)}">{_e(title)}</a> '
                           f'<span class="muted">({_e(clause_id)})</span></p>')
                out.append(f"<blockquote>{_e(text)}</blockquote>")
            else:
                out.append(f'<p>Covered by <a href="#clause-{_e(clause_id)}">{_e(title)}</a> '
                           f'<span class="muted">({_e(clause_id)})</span></p>')
    if x.not_covered:
        out.append(f"<p><b>Not covered:</b> {_e(x.not_covered)}</p>")
    if x.choices:
        out.append("<p><b>What you can do</b></p><ul>")
        for label, url in x.choices:
            out.append(f"<li>{_link(label, url)}</li>")
        out.append("</ul>")
    out.append("</section>")
    return out


def _policy(report: Report) -> list[str]:
    p = report.policy
    out = ['<h2 id="policy">The policy\'s words</h2>',
           f"<p>{_e(p.title)}: {_link(p.url, p.url)}"
           + (f", archived {_e(p.archived)}" if p.archived else "") + "</p>"]
    if not report.clauses:
        return out + ["<p>The policy covers none of these entries.</p>"]
    for clause in report.clauses:
        out.append(f'<h3 id="clause-{_e(clause.id)}">{_e(clause.title)} '
                   f'<span class="muted">({_e(clause.id)}; covers {clause.entries} '
                   f'{"entry" if clause.entries == 1 else "entries"})</span></h3>')
        out.append(f"<blockquote>{_e(clause.text)}</blockquote>")
    return out


def render_html(report: Report, *, for_pdf: bool = False) -> str:
    """The whole page.  ``for_pdf`` draws the charts as tables, for Qt's rich text."""
    title = f"Privacy report: {report.policy.owner}, {report.generated_text}"
    profiles = ", ".join(f"{p.browser}: {p.name}" for p in report.profiles) or "none"
    quote = len(report.entries) <= QUOTE_LIMIT
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<h1>Privacy report: what the browser keeps, against {_e(possessive(report.policy.owner))} policy</h1>",
        f"<p>Generated <time datetime=\"{_e(report.generated_text)}\">{_e(report.generated_text)}"
        f"</time> for {_e(profiles)}.</p>",
        f"<p>Policy: {_e(report.policy.title)}. Values are "
        + ("included where they could be read: this file holds secrets."
           if report.has_values else "not included.") + "</p>",
    ]
    out += _profiles(report)
    out += _errors(report)
    out += _summary(report, for_pdf)
    out += _overview(report)
    for number, item in enumerate(report.entries, 1):
        out += _entry(number, item, quote)
    out += _policy(report)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
