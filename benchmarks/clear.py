"""Clear trackers at scale: plan and apply on 100,000 cookies, 30,000 of them trackers.

Builds, from the schemas the real browsers wrote:

- a Chromium profile with 100,000 cookies (every value v10-encrypted), of which
  30,000 belong to 300 advertising and analytics domains of the bundled
  knowledge base and 70,000 to ordinary sites;
- a Firefox profile with the same cookies in ``cookies.sqlite`` and 5,000
  localStorage origins of 20 keys (1,500 of them on tracker domains);

then times what ``clear --trackers`` does on each: the scan with
classification, the plan, and the apply (journal written and flushed first,
then one transaction per store), and, for the record, the undo.  In the same
run it times the floor of any cookie cleaner on a copy of the same files: one
SQL ``DELETE`` of the tracker domains' rows, with no journal and no check of
anything (BleachBit and CCleaner delete this way, by domain).

Run: ``python benchmarks/clear.py [--cookies N] [--origins N]``.  Target
(issue 6): plan and apply under 3 seconds per profile.  Exits 1 if missed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scan_storage import build_firefox  # noqa: E402
from privacy_inspector.actions import delete as deleting  # noqa: E402
from privacy_inspector.actions.keep import KeepList  # noqa: E402
from privacy_inspector.core import engine  # noqa: E402
from privacy_inspector.core.classify import Classifier  # noqa: E402
from privacy_inspector.core.knowledge import load_knowledge  # noqa: E402
from privacy_inspector.core.policy import load_policy  # noqa: E402
from privacy_inspector.platform import discovery  # noqa: E402
from tests.fixtures.cookie_dbs import chromium_cookies_db, firefox_cookies_db  # noqa: E402

TARGET = 3.0
TRACKER_SHARE = 0.3


def tracker_domains(count: int) -> list[str]:
    """Domains the knowledge base files under advertising or analytics."""
    knowledge = load_knowledge()
    domains = sorted(d for d, s in knowledge.domains.items()
                     if s.category in ("advertising", "analytics") and d.count(".") == 1)
    return random.Random(2016).sample(domains, count)


def make_cookies(count: int, trackers: list[str]) -> list[dict]:
    rng = random.Random(6)
    now = time.time()
    cookies = []
    for i in range(count):
        tracker = i % 10 < TRACKER_SHARE * 10
        domain = trackers[i % len(trackers)] if tracker else f"site{i % 5000}.example"
        cookies.append({
            "host": f".{domain}",
            "name": f"c{i}",
            "value": f"{rng.getrandbits(128):032x}",
            "expires": now + 86400 * 30,
            "same_site": "none" if tracker else "lax",
            "secure": True,
            "created": now - 3600,
        })
    return cookies


def floor_delete(db: Path, table: str, host_column: str, trackers: list[str]) -> float:
    """One DELETE by domain, no journal: the least any cleaner can do."""
    start = time.perf_counter()
    with sqlite3.connect(db) as conn:
        marks = ",".join("?" * len(trackers))
        conn.execute(f"DELETE FROM {table} WHERE {host_column} IN ({marks})",
                     [f".{d}" for d in trackers])
    return time.perf_counter() - start


def run(label: str, profile_dir: Path, data_dir: Path) -> dict[str, float | int]:
    (profile,) = discovery.resolve(profile_dir)
    classifier = Classifier(load_policy())
    start = time.perf_counter()
    result = engine.scan([profile], classifier=classifier)
    scanned = time.perf_counter() - start
    start = time.perf_counter()
    plan = deleting.make_plan([profile], result.entries, deleting.Selection(trackers=True),
                              KeepList(), running=lambda p: False)
    planned = time.perf_counter() - start
    start = time.perf_counter()
    outcome = deleting.apply(plan, data_dir, "clear --trackers", running=lambda p: False)
    applied = time.perf_counter() - start
    assert not outcome.errors and not outcome.refused, (outcome.errors, outcome.refused)
    start = time.perf_counter()
    undone = deleting.undo(data_dir, lambda r: profile, outcome.journal_id, running=lambda p: False)
    undo_seconds = time.perf_counter() - start
    assert not undone.errors and len(undone.restored) == len(outcome.deleted)
    kinds: dict[str, int] = {}
    for entry in plan.entries:
        kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
    return {"label": label, "entries": len(result.entries), "deleted": len(outcome.deleted),
            "kept": len(plan.kept), "scan": scanned, "plan": planned, "apply": applied,
            "undo": undo_seconds, "kinds": kinds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cookies", type=int, default=100_000)
    parser.add_argument("--origins", type=int, default=5_000)
    args = parser.parse_args()
    trackers = tracker_domains(300)
    rows = []
    floors = {}
    with tempfile.TemporaryDirectory(prefix="pi-clear-bench-") as tmp:
        tmp_path = Path(tmp)
        cookies = make_cookies(args.cookies, trackers)
        chrome_db = chromium_cookies_db(tmp_path / "chromium" / "Default" / "Cookies", cookies,
                                        version=24)
        firefox_profile = build_firefox(
            tmp_path, args.origins, 20,
            host_of=lambda i: (f"s{i}.{trackers[i % len(trackers)]}" if i % 10 < 3
                               else f"www.site{i}.example"))
        firefox_db = firefox_cookies_db(firefox_profile / "cookies.sqlite", cookies)
        del cookies
        for label, db, table, column in (("Chromium", chrome_db, "cookies", "host_key"),
                                         ("Firefox", firefox_db, "moz_cookies", "host")):
            copy = tmp_path / f"floor-{label}.sqlite"
            shutil.copy2(db, copy)
            floors[label] = floor_delete(copy, table, column, trackers)
        rows.append(run("Chromium", chrome_db.parent, tmp_path / "state-c"))
        rows.append(run("Firefox", firefox_profile, tmp_path / "state-f"))

    print(f"{args.cookies:,} cookies per profile ({TRACKER_SHARE:.0%} trackers on 300 domains); "
          f"Firefox also {args.origins:,} localStorage origins x 20 keys")
    print(f"{'profile':<10}{'entries':>9}{'deleted':>9}{'kept':>7}{'scan':>9}{'plan':>8}{'apply':>8}"
          f"{'plan+apply':>12}{'undo':>8}{'one DELETE':>12}")
    missed = []
    for row in rows:
        total = row["plan"] + row["apply"]
        print(f"{row['label']:<10}{row['entries']:>9,}{row['deleted']:>9,}{row['kept']:>7,}"
              f"{row['scan']:>8.2f}s{row['plan']:>7.2f}s{row['apply']:>7.2f}s{total:>11.2f}s"
              f"{row['undo']:>7.2f}s{floors[row['label']]:>11.2f}s")
        print(f"{'':<10}deleted by kind: {row['kinds']}")
        if total > TARGET:
            missed.append(f"{row['label']}: plan and apply took {total:.2f} s (target {TARGET} s)")
    if missed:
        print("\ntargets missed:\n  " + "\n  ".join(missed))
        return 1
    print(f"\ntarget met: plan and apply under {TARGET:.0f} s for each profile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
