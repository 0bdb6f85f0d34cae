"""Precision and recall of ``organization`` and ``category`` on the labelled set.

Usage: ``python tests/accuracy/score.py [labels.csv]``

Each row of ``labels.csv`` (next to this script) is one cookie or
localStorage key, labelled by hand from the vendor's own cookie documentation
(``source_url``), independently of the app's knowledge base.  The script builds
an Entry for each row the way the browser readers do, classifies them with the
bundled LiveOps policy and prints the figures and every miss.  It always exits
0: the figures are a measurement, not a pass/fail.

Definitions:

- organization: a row *has a prediction* when the classifier names an
  organization.  Precision = correct / predicted; recall = correct / rows whose
  label names an organization.  Names compare case-insensitively, ignoring
  punctuation ("X Corp." = "X Corp").  A prediction on a row labelled with no
  organization counts against precision.
- category: ``unknown`` counts as no prediction.  Precision = correct /
  predicted (category not ``unknown``); recall = correct / rows whose label is
  not ``unknown``.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

from privacy_inspector.browsers.base import CookieFactory, StorageFactory
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.core.records import Entry, Kind, Profile

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels.csv"
COLUMNS = ("kind", "name", "host", "expected_organization", "expected_category", "source_url", "note")
KINDS = (Kind.COOKIE.value, Kind.LOCAL_STORAGE.value)


def read_labels(path: Path = LABELS) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def build_entries(rows: list[dict[str, str]]) -> list[Entry]:
    """One Entry per row, in row order, as a browser reader would build it."""
    profile = Profile(path=Path("/accuracy/Default"), browser="chromium", engine="chromium", name="accuracy")
    cookies = CookieFactory(profile)
    storage = StorageFactory(profile, Kind.LOCAL_STORAGE)
    out: list[Entry] = []
    for row in rows:
        name, host = row["name"], row["host"]
        if row["kind"] == Kind.COOKIE:
            out += cookies.build(
                1, store="Cookies", id_store="cookies", host=[host], name=[name], path="/",
                partition_key=None, partition_site=None, container=None, persistent=True,
                expires=None, secure=True, http_only=False, same_site="lax", size=len(name),
                value=None, value_state="unavailable", stale=False, created=None,
                last_accessed=None, priority=None, source_scheme="secure", source_port=443,
                partitioned=False, value_note=None,
            )
        elif row["kind"] == Kind.LOCAL_STORAGE:
            out += storage.build(
                1, store="Local Storage", id_store="local_storage",
                origin=["https://" + host.lstrip(".")], name=[name], partition_key=[None],
                partition_site=None, container=None, persistent=True, size=len(name),
                value=None, value_state="unavailable", stale=False, last_accessed=None,
                value_note=None,
            )
        else:
            raise ValueError(f"unknown kind {row['kind']!r} in row {row}")
    return out


def _norm(org: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "", (org or "").lower())


def _ratio(num: int, den: int) -> str:
    return f"{100.0 * num / den:5.1f}% ({num}/{den})" if den else "  n/a (0/0)"


def score(rows: list[dict[str, str]], entries: list[Entry]) -> dict[str, object]:
    org_pred = org_exp = org_ok = 0
    cat_pred = cat_exp = cat_ok = 0
    misses: list[str] = []
    for row, e in zip(rows, entries, strict=True):
        exp_org, got_org = row["expected_organization"].strip(), (e.organization or "").strip()
        exp_cat, got_cat = row["expected_category"].strip(), (e.category or "unknown")
        org_match = _norm(exp_org) == _norm(got_org)
        if got_org:
            org_pred += 1
        if exp_org:
            org_exp += 1
        if got_org and org_match:
            org_ok += 1
        cat_match = exp_cat == got_cat
        if got_cat != "unknown":
            cat_pred += 1
        if exp_cat != "unknown":
            cat_exp += 1
        if got_cat != "unknown" and cat_match:
            cat_ok += 1
        if not org_match or not cat_match:
            what = []
            if not org_match:
                what.append(f"organization {got_org or '-'!s} (expected {exp_org or '-'})")
            if not cat_match:
                what.append(f"category {got_cat} (expected {exp_cat})")
            misses.append(f"{row['kind']} {row['name']} @ {row['host']}: " + "; ".join(what))
    return {
        "rows": len(rows),
        "organization": (org_ok, org_pred, org_exp),
        "category": (cat_ok, cat_pred, cat_exp),
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else LABELS
    rows = read_labels(path)
    entries = Classifier(load_policy()).classify(build_entries(rows))
    result = score(rows, entries)
    print(f"Accuracy set: {path.name}, {result['rows']} rows")
    by_cat = Counter(r["expected_category"] for r in rows)
    print("rows by expected category: " + ", ".join(f"{k} {v}" for k, v in sorted(by_cat.items())))
    for field in ("organization", "category"):
        ok, pred, exp = result[field]  # type: ignore[misc]
        print(f"{field:<12} precision {_ratio(ok, pred)}   recall {_ratio(ok, exp)}")
    misses = result["misses"]
    print(f"misses ({len(misses)}):")  # type: ignore[arg-type]
    for line in misses:  # type: ignore[attr-defined]
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
