"""Regenerate the bundled demo profiles in ``resources/demo`` with the real browsers.

Run from the repository root (as root, so the fake site can listen on port
443 and the stored origins carry no port, as on the real web)::

    python -m tests.harness.make_demo_profiles

Debian's Chromium and Firefox ESR visit the fake LiveOps home page (which
embeds the tracker stand-ins) and an unrelated news site, then close as a user
would.  Only the files the app reads are kept, so the demo stays small; the
browsers' other files (history, caches, certificate stores, locks) are left
out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from .fixtures import new_chromium_profile, new_firefox_profile
from .site import DEFAULT_VISIT, start_site

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "resources" / "demo"

# What the app reads, relative to the profile folder.
CHROMIUM_KEEP = ("Cookies", "Cookies-journal", "Preferences", "Local Storage", "Session Storage",
                 "IndexedDB", "WebStorage", "Service Worker")
FIREFOX_KEEP = ("cookies.sqlite", "cookies.sqlite-wal", "sessionstore.jsonlz4",
                "sessionstore-backups", "storage/default", "storage/ls-archive.sqlite",
                "storage.sqlite", "webappsstore.sqlite",
                "permissions.sqlite", "containers.json", "times.json")
SKIP_NAMES = {"LOCK", "LOG", "LOG.old", "lock", ".parentlock", "SingletonLock", "SingletonCookie",
              "SingletonSocket", "ScriptCache", "CacheStorage"}
DEMO_FIREFOX_FOLDER = "demo.default-release"


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=False,
                        ignore=lambda d, names: [n for n in names if n in SKIP_NAMES])
    elif source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _copy_kept(profile: Path, target: Path, keep: tuple[str, ...]) -> None:
    for name in keep:
        _copy(profile / name, target / name)


def make(target: Path, port: int) -> None:
    with tempfile.TemporaryDirectory(prefix="pi-demo-") as tmp, start_site(Path(tmp) / "site", port) as site:
        work = Path(tmp)
        chromium = new_chromium_profile(site, work / "chromium", DEFAULT_VISIT,
                                        allow_third_party_cookies=True)
        firefox = new_firefox_profile(site, work / "firefox" / DEMO_FIREFOX_FOLDER, DEFAULT_VISIT)

        staging = target.with_name(target.name + ".new")
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "chromium").mkdir(parents=True)
        shutil.copy2(chromium.user_data_dir / "Local State", staging / "chromium" / "Local State")
        _copy_kept(chromium.profile_dir, staging / "chromium" / "Default", CHROMIUM_KEEP)

        ff_root = staging / "firefox"
        _copy_kept(firefox.profile_dir, ff_root / DEMO_FIREFOX_FOLDER, FIREFOX_KEEP)
        (ff_root / "profiles.ini").write_text(
            "[Profile0]\nName=default-release\nIsRelative=1\n"
            f"Path={DEMO_FIREFOX_FOLDER}\nDefault=1\n\n[General]\nStartWithLastProfile=1\nVersion=2\n"
        )
        # The cookie database as the browser left it, WAL folded in, so the
        # shipped files do not depend on a side file being copied with them.
        for db in ff_root.rglob("*.sqlite"):
            with sqlite3.connect(db) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            Path(f"{db}-wal").unlink(missing_ok=True)
            Path(f"{db}-shm").unlink(missing_ok=True)
        (staging / "README.md").write_text(README)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    print(f"demo profiles written to {target} ({size / 1024:.0f} KiB)")


README = """\
# Demo profiles

Written by Debian's Chromium and Firefox ESR visiting a small fake LiveOps site
(tests/harness/site.py) served on 127.0.0.1: the LiveOps home page, which sets
first-party cookies and embeds stand-ins for Google Analytics, DoubleClick and
the Facebook Like button, and an unrelated news site. Only the files the app
reads are kept. Regenerate with `python -m tests.harness.make_demo_profiles`
(as root, from the repository root).

`privacy-inspector --demo` never reads these files in place: it works on a
copy in its data folder.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=TARGET)
    parser.add_argument("--port", type=int, default=443 if os.geteuid() == 0 else 0,
                        help="port of the fake site (443 as root, so origins carry no port)")
    args = parser.parse_args()
    make(args.target, args.port)


if __name__ == "__main__":
    main()
